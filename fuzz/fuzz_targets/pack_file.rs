//! Whole pack files. Builds a valid pack from the input (blobs cut from it),
//! then damages it as the input says (flip, truncate, or keep), and parses:
//! parsing must never panic, and whatever it accepts must lie within the pack.
//! Arbitrary bytes are parsed as a pack too.
#![no_main]
use hokan_format::{BlobKind, Id};
use hokan_repo::crypto::{object_name, MasterKey};
use hokan_repo::pack::{parse_pack, PackBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_secret([7u8; 32]);
    let _ = parse_pack(&key, &object_name(data), data);
    if data.len() < 4 {
        return;
    }
    let (ctl, rest) = data.split_at(4);
    let mut b = PackBuilder::with_capacity(rest.len() + 64);
    for (i, chunk) in rest.chunks(1 + ctl[0] as usize % 64).enumerate() {
        let kind = if i % 3 == 0 {
            BlobKind::Tree
        } else {
            BlobKind::Data
        };
        let id = key.blob_id(chunk);
        let sealed = key.seal_compressed(chunk, 1, &hokan_repo::crypto::blob_aad(kind, &id));
        b.add(kind, id, &sealed, chunk.len());
    }
    let (name, mut bytes, entries) = b.finish(&key);
    assert_eq!(
        parse_pack(&key, &name, &bytes).unwrap(),
        entries,
        "a valid pack parses to what was written"
    );
    match ctl[1] % 3 {
        0 => {
            let at = u16::from_le_bytes([ctl[2], ctl[3]]) as usize % bytes.len();
            bytes[at] ^= 1 | ctl[2];
        }
        1 => {
            let keep = u16::from_le_bytes([ctl[2], ctl[3]]) as usize % bytes.len();
            bytes.truncate(keep);
        }
        _ => {}
    }
    if let Ok(found) = parse_pack(&key, &Id::default(), &bytes) {
        for e in found {
            assert!((e.offset as usize + e.length as usize) <= bytes.len());
        }
    }
});
