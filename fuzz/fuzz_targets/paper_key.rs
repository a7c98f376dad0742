//! Paper key text typed back by a person: never panic; a decoded key
//! re-encodes to lines that decode to the same key.
#![no_main]
use hokan_format::paper;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(secret) = paper::decode(text) {
            let lines = paper::encode_lines(&secret).join("\n");
            assert_eq!(paper::decode(&lines).unwrap(), secret);
        }
    }
});
