//! Opening sealed objects with a fixed key: arbitrary bytes never panic and
//! never authenticate; a sealed object with one byte changed never opens.
#![no_main]
use hokan_repo::crypto::MasterKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_secret([7u8; 32]);
    assert!(
        key.open(data, b"hokan index v1", Some(1 << 20)).is_err(),
        "random bytes must not authenticate"
    );
    if data.len() > 1 {
        let (flip, payload) = data.split_at(1);
        let mut sealed = key.seal_compressed(payload, 3, b"aad");
        assert_eq!(
            key.open(&sealed, b"aad", Some(payload.len())).unwrap(),
            payload
        );
        let at = flip[0] as usize % sealed.len();
        sealed[at] ^= 0x5a;
        assert!(
            key.open(&sealed, b"aad", Some(payload.len())).is_err(),
            "a changed byte must be detected"
        );
    }
});
