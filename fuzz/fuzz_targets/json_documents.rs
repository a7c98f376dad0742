//! The JSON documents (config, key slot, snapshot, tree) and ids: never panic.
#![no_main]
use hokan_format::{Id, KeySlot, RepoConfig, Snapshot, Tree};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = RepoConfig::decode(data);
    let _ = KeySlot::decode(data);
    let _ = Snapshot::decode(data);
    if let Ok(t) = Tree::decode(data) {
        // A tree that parses must survive its own encoding.
        assert_eq!(Tree::decode(&t.encode()).unwrap(), t);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Id::from_hex(s);
    }
});
