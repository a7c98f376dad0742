//! Pack header plaintext and the pack tail: never panic; what decodes
//! re-encodes to the same bytes; bounds checks never panic either.
#![no_main]
use hokan_format::binary::decode_pack_tail;
use hokan_format::PackHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_pack_tail(data);
    if let Ok(h) = PackHeader::decode(data) {
        assert_eq!(h.encode(), data, "decode/encode must round-trip");
        let body_end = data.len() as u64 * 3;
        let _ = h.check_bounds(body_end);
    }
});
