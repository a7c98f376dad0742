//! Tree documents: never panic, and a tree that decodes never yields a name
//! that could lead a restore out of its target (empty, `.`, `..`, with `/`
//! or NUL, in `name` or in `name_raw`) nor the same name twice.
#![no_main]
use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use hokan_format::Tree;
use libfuzzer_sys::fuzz_target;

/// Restated here rather than taken from the crate, so a mistake there is
/// caught rather than copied.
fn hostile(name: &[u8]) -> bool {
    name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(t) = Tree::decode(data) else { return };
    let mut seen = HashSet::new();
    for n in &t.nodes {
        let raw = n.name_bytes().expect("a decoded tree's name_raw is hex");
        assert!(!hostile(&raw), "hostile name_raw {raw:?} decoded");
        assert!(!hostile(n.name.as_bytes()), "hostile name {:?} decoded", n.name);
        // What restore and verify use is exactly these bytes.
        assert_eq!(hokan_repo::meta::node_name(n), raw);
        // Joined under a target it stays one plain component below it.
        let p = Path::new("target").join(OsStr::from_bytes(&raw));
        let comps: Vec<Component> = p.components().collect();
        assert_eq!(comps.len(), 2, "{p:?}");
        assert!(matches!(comps[1], Component::Normal(c) if c.as_bytes() == raw.as_slice()));
        assert!(seen.insert(raw), "a name twice in one tree decoded");
    }
    // A tree that parses must survive its own encoding.
    assert_eq!(Tree::decode(&t.encode()).unwrap(), t);
});
