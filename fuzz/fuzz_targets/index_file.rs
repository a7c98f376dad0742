//! Index files: never panic, never allocate beyond what the input can hold,
//! and what decodes re-encodes to the same bytes.
#![no_main]
use hokan_format::IndexFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = IndexFile::decode(data) {
        let again = f.encode();
        assert_eq!(again, data, "decode/encode must round-trip");
        assert_eq!(IndexFile::decode(&again).unwrap(), f);
    }
});
