//! Keys, sealing and hashing.
//!
//! One random 32-byte **master secret** per repository. Three working keys are
//! derived from it with BLAKE3's key derivation mode, each under its own
//! context string, so that no key is ever used for two purposes:
//! - the data key (AES-256-GCM) seals every blob and object;
//! - the id key (keyed BLAKE3) names blobs: ids reveal nothing about content to
//!   someone without the key, so a stolen repository cannot be probed with
//!   "is this known file in there?";
//! - the chunker seed keys the FastCDC gear table, so chunk boundaries (visible
//!   as blob sizes) do not fingerprint known files either.
//!
//! A **sealed** object is `nonce (12) | AES-256-GCM ciphertext | tag (16)` over
//! the plaintext `compression byte | payload`, with associated data that binds
//! it to its role (a blob to its id and kind). The nonce is random; see
//! `docs/repository-format.md` for why 96 random bits are enough here.
//!
//! Key slots wrap the master secret with a key derived from a passphrase by
//! Argon2id. Secrets are zeroized on drop and never logged.
//!
//! From repository format version 2 a fourth key, the metadata key,
//! authenticates the plaintext config and key slots (keyed BLAKE3 over their
//! canonical bytes), so a changed chunker parameter, repository id or slot
//! label is damage, not a silently different repository.

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hokan_format::{BlobKind, Id, KdfParams, KeySlot};
use rand::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::error::RepoError;

/// Length of the random nonce in front of every sealed object.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag at the end of every sealed object.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed object adds to its plaintext (nonce, tag, compression byte).
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN + 1;

const CTX_DATA: &str = "hokan 2026-11-22 data encryption key v1";
const CTX_ID: &str = "hokan 2026-11-22 blob id key v1";
const CTX_CHUNKER: &str = "hokan 2026-11-22 chunker seed v1";
const CTX_META: &str = "hokan 2026-11-22 metadata authentication key v2";

/// Associated data of the objects that are not blobs.
pub mod aad {
    /// A pack's sealed header.
    pub const PACK_HEADER: &[u8] = b"hokan pack header v1";
    /// An index file.
    pub const INDEX: &[u8] = b"hokan index v1";
    /// A snapshot manifest.
    pub const SNAPSHOT: &[u8] = b"hokan snapshot v1";
    /// The wrapped master secret in a version-1 key slot.
    pub const KEY_SLOT: &[u8] = b"hokan key slot v1";
    /// The wrapped master secret in a version-2 key slot. Different from
    /// version 1, so a version-2 slot relabelled as version 1 does not open.
    pub const KEY_SLOT_V2: &[u8] = b"hokan key slot v2";
}

/// Compression of a sealed payload (the first plaintext byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Stored as is.
    None = 0,
    /// zstd frame.
    Zstd = 1,
}

/// The repository's master secret and the keys derived from it.
pub struct MasterKey {
    secret: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
    id_key: Zeroizing<[u8; 32]>,
    meta_key: Zeroizing<[u8; 32]>,
    chunker_seed: u64,
}

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> MasterKey {
        let mut s = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut s);
        let k = MasterKey::from_secret(s);
        s.zeroize();
        k
    }

    /// Rebuild from the 32-byte secret (from a key slot or a paper key).
    pub fn from_secret(secret: [u8; 32]) -> MasterKey {
        let mut data_key = blake3::derive_key(CTX_DATA, &secret);
        let cipher = Aes256Gcm::new_from_slice(&data_key).expect("32-byte key");
        data_key.zeroize();
        let id_key = Zeroizing::new(blake3::derive_key(CTX_ID, &secret));
        let seed = blake3::derive_key(CTX_CHUNKER, &secret);
        let chunker_seed = u64::from_le_bytes(seed[..8].try_into().expect("8 bytes"));
        let meta_key = Zeroizing::new(blake3::derive_key(CTX_META, &secret));
        MasterKey {
            secret: Zeroizing::new(secret),
            cipher,
            id_key,
            meta_key,
            chunker_seed,
        }
    }

    /// The MAC of version-2 metadata (config, key slot): keyed BLAKE3 of its
    /// canonical bytes under the metadata key.
    pub fn metadata_mac(&self, canonical: &[u8]) -> Id {
        Id(*blake3::keyed_hash(&self.meta_key, canonical).as_bytes())
    }

    /// Whether `mac` is the MAC of `canonical` (constant time).
    pub fn metadata_mac_ok(&self, canonical: &[u8], mac: &Id) -> bool {
        blake3::keyed_hash(&self.meta_key, canonical) == blake3::Hash::from(mac.0)
    }

    /// The raw secret, for key slots and the paper key only.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }

    /// The seed XOR-ed into the FastCDC gear table.
    pub fn chunker_seed(&self) -> u64 {
        self.chunker_seed
    }

    /// The id of a blob: keyed BLAKE3 of its plaintext.
    pub fn blob_id(&self, plaintext: &[u8]) -> Id {
        Id(*blake3::keyed_hash(&self.id_key, plaintext).as_bytes())
    }

    /// Seal `payload` (already compressed as `comp` says). One allocation:
    /// the output is built in place and encrypted in place.
    pub fn seal(&self, comp: Compression, payload: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + 1 + payload.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.push(comp as u8);
        out.extend_from_slice(payload);
        let tag = self
            .cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, &mut out[NONCE_LEN..])
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        out.extend_from_slice(&tag);
        out
    }

    /// Compress (if it saves at least 1/32) and seal; `level` [`STORE_RAW`]
    /// seals without trying (data a probe found incompressible). Each thread keeps its
    /// zstd contexts and scratch buffer: creating a context per blob cost more
    /// than 4% of a backup's CPU time.
    pub fn seal_compressed(&self, plaintext: &[u8], level: i32, aad: &[u8]) -> Vec<u8> {
        if level != STORE_RAW && plaintext.len() >= 64 {
            // Room only for a useful result: if it does not fit, it did not compress.
            let limit = plaintext.len() - plaintext.len() / 32;
            let sealed = with_compressed(plaintext, level, limit, |c| {
                self.seal(Compression::Zstd, c, aad)
            });
            if let Some(s) = sealed {
                return s;
            }
        }
        self.seal(Compression::None, plaintext, aad)
    }

    /// Authenticate, decrypt and decompress a sealed object. `raw_len_hint`
    /// bounds decompression (pass the expected plaintext length when known).
    pub fn open(
        &self,
        sealed: &[u8],
        aad: &[u8],
        raw_len_hint: Option<usize>,
    ) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN + TAG_LEN + 1 {
            return Err(OpenError::TooShort);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut plain = ct.to_vec();
        self.cipher
            .decrypt_in_place_detached(Nonce::from_slice(nonce), aad, &mut plain, tag.into())
            .map_err(|_| OpenError::Authentication)?;
        match plain[0] {
            0 => {
                plain.remove(0);
                Ok(plain)
            }
            1 => {
                let limit = match raw_len_hint {
                    Some(n) => n,
                    None => frame_size(&plain[1..])?,
                };
                UNZSTD.with(|d| {
                    let mut d = d.borrow_mut();
                    if d.is_none() {
                        *d = zstd::bulk::Decompressor::new().ok();
                    }
                    match d.as_mut() {
                        Some(d) => d
                            .decompress(&plain[1..], limit)
                            .map_err(|_| OpenError::Decompress),
                        None => zstd::bulk::decompress(&plain[1..], limit)
                            .map_err(|_| OpenError::Decompress),
                    }
                })
            }
            _ => Err(OpenError::UnknownCompression(plain[0])),
        }
    }
}

/// Largest plaintext an object without a known length may declare.
const MAX_UNHINTED: u64 = 1 << 30;

/// The plaintext length a zstd frame declares, which sizes the output
/// buffer exactly. Asking for [`MAX_UNHINTED`] instead reserved a GiB of
/// address space for every snapshot or index file read (two GiB with two
/// threads), which a server with strict overcommit refuses. hokan always
/// writes the size; a frame without one, or claiming more than the limit,
/// is refused, and one that lies about it fails to decompress.
fn frame_size(frame: &[u8]) -> Result<usize, OpenError> {
    match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_UNHINTED => Ok(n as usize),
        _ => Err(OpenError::Decompress),
    }
}

/// A thread's zstd contexts (one per level used) and output buffer.
#[derive(Default)]
struct ZstdState {
    contexts: Vec<(i32, zstd::bulk::Compressor<'static>)>,
    scratch: Vec<u8>,
}

thread_local! {
    static ZSTD: std::cell::RefCell<ZstdState> = std::cell::RefCell::new(ZstdState::default());
    static UNZSTD: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
}

/// Compress with this thread's context for `level`, into at most `limit`
/// bytes, and hand the result to `f`. `None` if it does not fit.
fn with_compressed<T>(
    plain: &[u8],
    level: i32,
    limit: usize,
    f: impl FnOnce(&[u8]) -> T,
) -> Option<T> {
    ZSTD.with(|z| {
        let mut z = z.borrow_mut();
        let ZstdState { contexts, scratch } = &mut *z;
        let pos = match contexts.iter().position(|(l, _)| *l == level) {
            Some(p) => p,
            None => {
                contexts.push((level, zstd::bulk::Compressor::new(level).ok()?));
                contexts.len() - 1
            }
        };
        scratch.clear();
        scratch.reserve_exact(limit);
        let n = contexts[pos]
            .1
            .compress_to_buffer(plain, &mut scratch.as_mut_slice_spare(limit))
            .ok()?;
        Some(f(&scratch[..n]))
    })
}

/// Whether `sample` saves the 1/32 that compressing must save, at zstd's
/// fastest useful level: a cheap look at each chunk of a file found
/// incompressible, so that a part that compresses is compressed.
pub fn compresses(sample: &[u8]) -> bool {
    sample.len() >= 64
        && with_compressed(sample, 1, sample.len() - sample.len() / 32, |_| ()).is_some()
}

/// The "level" that seals without compressing: [`MasterKey::seal_compressed`]
/// does not even try.
pub const STORE_RAW: i32 = i32::MIN;

/// Which of `levels` compresses `sample` smallest (the first on a tie), or
/// [`STORE_RAW`] when none saves the 1/32 that compressing must save to be
/// kept (already-compressed images: JPEG 2000, JPEG-LS, video, archives).
/// Backup asks this of large files, on the first chunk of each segment:
/// text dumps often compress better at zstd's fast levels than at the
/// default, images not at all, and trying to compress what does not
/// compress costs as much as compressing.
pub fn best_level(sample: &[u8], levels: &[i32]) -> i32 {
    let mut best = (usize::MAX, levels.first().copied().unwrap_or(3));
    for &l in levels {
        let n = with_compressed(sample, l, sample.len() + sample.len() / 8 + 1024, |c| {
            c.len()
        })
        .unwrap_or(usize::MAX);
        if n < best.0 {
            best = (n, l);
        }
    }
    if best.0 > sample.len() - sample.len() / 32 {
        return STORE_RAW;
    }
    best.1
}

/// A `zstd` output buffer over a Vec's spare capacity, at most `limit` bytes.
trait SpareSlice {
    fn as_mut_slice_spare(&mut self, limit: usize) -> SpareBuf<'_>;
}
impl SpareSlice for Vec<u8> {
    fn as_mut_slice_spare(&mut self, limit: usize) -> SpareBuf<'_> {
        SpareBuf { v: self, limit }
    }
}
struct SpareBuf<'a> {
    v: &'a mut Vec<u8>,
    limit: usize,
}
// SAFETY: zstd writes at most `capacity()` bytes from `as_mut_ptr()` and then
// reports how many it wrote; `limit` never exceeds the Vec's capacity.
unsafe impl zstd::zstd_safe::WriteBuf for SpareBuf<'_> {
    fn as_slice(&self) -> &[u8] {
        &self.v[..]
    }
    fn capacity(&self) -> usize {
        self.limit.min(self.v.capacity())
    }
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.v.as_mut_ptr()
    }
    unsafe fn filled_until(&mut self, n: usize) {
        self.v.set_len(n)
    }
}

/// Why a sealed object could not be opened. All of these mean the bytes are
/// damaged or were not written with this key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Shorter than nonce and tag.
    #[error("too short to be a sealed object")]
    TooShort,
    /// The tag does not match: damaged, tampered, or another key.
    #[error("authentication failed (damaged or tampered)")]
    Authentication,
    /// The payload does not decompress.
    #[error("payload does not decompress")]
    Decompress,
    /// An unknown compression byte.
    #[error("unknown compression {0}")]
    UnknownCompression(u8),
}

/// The associated data that binds a sealed blob to its kind and id.
pub fn blob_aad(kind: BlobKind, id: &Id) -> [u8; 33] {
    let mut a = [0u8; 33];
    a[0] = match kind {
        BlobKind::Data => 0,
        BlobKind::Tree => 1,
    };
    a[1..].copy_from_slice(&id.0);
    a
}

/// The name of a stored object: BLAKE3 of its bytes. Lets anyone check an
/// object's integrity without the key.
pub fn object_name(bytes: &[u8]) -> Id {
    Id(*blake3::hash(bytes).as_bytes())
}

/// How much work Argon2id does for a new key slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KdfStrength {
    /// 64 MiB, 3 passes, 2 lanes: about half a second on a small server.
    Standard,
    /// 8 MiB, 1 pass: for tests only; weak against guessing.
    TestOnly,
}

impl KdfStrength {
    fn params(self) -> (u32, u32, u32) {
        match self {
            KdfStrength::Standard => (64 * 1024, 3, 2),
            KdfStrength::TestOnly => (8 * 1024, 1, 1),
        }
    }
}

fn derive_kek(passphrase: &[u8], kdf: &KdfParams) -> Result<Zeroizing<[u8; 32]>, RepoError> {
    let params =
        argon2::Params::new(kdf.m_cost, kdf.t_cost, kdf.p_cost, Some(32)).map_err(|e| {
            RepoError::Corrupt {
                what: "key slot".into(),
                detail: format!("invalid Argon2 parameters: {e}"),
            }
        })?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    a.hash_password_into(passphrase, &kdf.salt, &mut *out)
        .map_err(|e| RepoError::Corrupt {
            what: "key slot".into(),
            detail: format!("Argon2 failed: {e}"),
        })?;
    Ok(out)
}

/// Wrap the master secret under a passphrase into a new key slot of
/// `slot_version` (1 for version-1 repositories, 2 with a MAC from 2 on).
#[allow(clippy::too_many_arguments)] // the fields of a key slot
pub fn wrap_key(
    key: &MasterKey,
    slot_version: u32,
    passphrase: &[u8],
    strength: KdfStrength,
    label: &str,
    hostname: &str,
    username: &str,
    created: &str,
) -> Result<KeySlot, RepoError> {
    let (m, t, p) = strength.params();
    let mut salt = vec![0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let kdf = KdfParams {
        algorithm: "argon2id".into(),
        m_cost: m,
        t_cost: t,
        p_cost: p,
        salt,
    };
    let kek = derive_kek(passphrase, &kdf)?;
    let cipher = Aes256Gcm::new_from_slice(&*kek).expect("32-byte key");
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &key.secret()[..],
                aad: slot_aad(slot_version),
            },
        )
        .expect("in-memory encryption");
    let mut wrapped = nonce.to_vec();
    wrapped.extend_from_slice(&ct);
    let mut slot = KeySlot {
        version: slot_version,
        created: created.into(),
        hostname: hostname.into(),
        username: username.into(),
        label: label.into(),
        kdf,
        wrapped,
        mac: None,
    };
    if slot_version >= 2 {
        slot.mac = Some(key.metadata_mac(&slot.authenticated_bytes()));
    }
    Ok(slot)
}

fn slot_aad(version: u32) -> &'static [u8] {
    if version >= 2 {
        aad::KEY_SLOT_V2
    } else {
        aad::KEY_SLOT
    }
}

/// What a passphrase did to one key slot.
pub enum Unwrapped {
    /// The passphrase does not open this slot.
    No,
    /// It opens, as the slot's version says.
    Key(Box<MasterKey>),
    /// The slot says version 1 but was wrapped as version 2: its version was
    /// changed (a downgrade). The key is not returned.
    Downgraded,
}

/// Try to unwrap a key slot with a passphrase. `Ok(None)` means the
/// passphrase does not open this slot (or the slot was relabelled from
/// version 2 to 1: see [`unwrap_key_checked`]).
pub fn unwrap_key(slot: &KeySlot, passphrase: &[u8]) -> Result<Option<MasterKey>, RepoError> {
    Ok(match unwrap_key_checked(slot, passphrase)? {
        Unwrapped::Key(k) => Some(*k),
        _ => None,
    })
}

/// Try to unwrap a key slot with a passphrase, telling a version-2 slot
/// relabelled as version 1 apart from a passphrase that does not fit.
pub fn unwrap_key_checked(slot: &KeySlot, passphrase: &[u8]) -> Result<Unwrapped, RepoError> {
    let kek = derive_kek(passphrase, &slot.kdf)?;
    if slot.wrapped.len() != NONCE_LEN + 32 + TAG_LEN {
        return Err(RepoError::Corrupt {
            what: "key slot".into(),
            detail: "wrapped key has the wrong length".into(),
        });
    }
    let cipher = Aes256Gcm::new_from_slice(&*kek).expect("32-byte key");
    let (nonce, ct) = slot.wrapped.split_at(NONCE_LEN);
    let open = |aad: &[u8]| cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad });
    match open(slot_aad(slot.version)) {
        Ok(mut secret) => {
            let mut s = [0u8; 32];
            s.copy_from_slice(&secret);
            secret.zeroize();
            let k = MasterKey::from_secret(s);
            s.zeroize();
            Ok(Unwrapped::Key(Box::new(k)))
        }
        Err(_) if slot.version < 2 && open(aad::KEY_SLOT_V2).is_ok() => Ok(Unwrapped::Downgraded),
        Err(_) => Ok(Unwrapped::No),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = MasterKey::generate();
        let data = b"patient record ".repeat(100);
        let s = k.seal_compressed(&data, 3, b"ctx");
        assert!(s.len() < data.len(), "compressible data is compressed");
        assert_eq!(k.open(&s, b"ctx", Some(data.len())).unwrap(), data);
        assert_eq!(k.open(&s, b"other", None), Err(OpenError::Authentication));
        let mut t = s.clone();
        t[20] ^= 1;
        assert_eq!(k.open(&t, b"ctx", None), Err(OpenError::Authentication));
        let other = MasterKey::generate();
        assert_eq!(other.open(&s, b"ctx", None), Err(OpenError::Authentication));
    }

    /// An object read without a known length is sized from its frame;
    /// a frame that declares no size, or more than the limit, or a wrong
    /// size, is refused rather than trusted.
    #[test]
    fn an_object_without_a_known_length_is_sized_by_its_frame_and_lies_are_refused() {
        let k = MasterKey::generate();
        let data = b"snapshot tree entry ".repeat(5000);
        let s = k.seal_compressed(&data, 3, b"ctx");
        assert_eq!(k.open(&s, b"ctx", None).unwrap(), data);
        // A streamed frame declares no size.
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        std::io::Write::write_all(&mut enc, &data).unwrap();
        let unsized_frame = enc.finish().unwrap();
        let s = k.seal(Compression::Zstd, &unsized_frame, b"ctx");
        assert_eq!(k.open(&s, b"ctx", None), Err(OpenError::Decompress));
        assert_eq!(k.open(&s, b"ctx", Some(data.len())).unwrap(), data);
        // The real frame with its declared size rewritten: more than it
        // holds, less, and more than the limit.
        let frame = zstd::bulk::compress(&data, 3).unwrap();
        let fhd = frame[4];
        assert_eq!(fhd >> 6, 2, "a 4-byte content size");
        let at = 5 + usize::from(fhd & 0x20 == 0) + [0, 1, 2, 4][usize::from(fhd & 3)];
        assert_eq!(frame[at..at + 4], (data.len() as u32).to_le_bytes());
        for claim in [data.len() + 1, data.len() - 1, (1 << 30) + 1] {
            let mut lying = frame.clone();
            lying[at..at + 4].copy_from_slice(&(claim as u32).to_le_bytes());
            let s = k.seal(Compression::Zstd, &lying, b"ctx");
            assert_eq!(
                k.open(&s, b"ctx", None),
                Err(OpenError::Decompress),
                "{claim}"
            );
        }
    }

    #[test]
    fn a_probe_of_incompressible_data_stores_it_raw_and_text_compressed() {
        let mut noise = vec![0u8; 1 << 20];
        rand::thread_rng().fill_bytes(&mut noise);
        assert_eq!(best_level(&noise, &[3, 1]), STORE_RAW);
        let text = b"2026-11-01 patient 0001 blood pressure 120/80 ok\n".repeat(20_000);
        let level = best_level(&text, &[3, 1]);
        assert!(level == 3 || level == 1, "{level}");
        // A sample that is mostly noise with a small compressible header
        // (a DICOM file's header before its JPEG 2000 pixels): raw.
        let mut dicom = b"DICM".repeat(1024);
        dicom.extend_from_slice(&noise);
        assert_eq!(best_level(&dicom, &[3, 1]), STORE_RAW);
        // Sealed raw without trying, and opened as any other object.
        let k = MasterKey::generate();
        let s = k.seal_compressed(&text, STORE_RAW, b"ctx");
        assert_eq!(
            s.len(),
            text.len() + NONCE_LEN + 1 + TAG_LEN,
            "not compressed"
        );
        assert_eq!(k.open(&s, b"ctx", Some(text.len())).unwrap(), text);
    }

    #[test]
    fn blob_ids_are_keyed() {
        let a = MasterKey::generate();
        let b = MasterKey::generate();
        assert_ne!(a.blob_id(b"x"), b.blob_id(b"x"));
        assert_eq!(a.blob_id(b"x"), a.blob_id(b"x"));
        assert_ne!(a.blob_id(b"x").0, *blake3::hash(b"x").as_bytes());
    }

    #[test]
    fn key_slot_wrap_unwrap() {
        let k = MasterKey::generate();
        for v in [1, 2] {
            let slot = wrap_key(&k, v, b"pw", KdfStrength::TestOnly, "", "h", "u", "t").unwrap();
            let back = unwrap_key(&slot, b"pw").unwrap().unwrap();
            assert_eq!(back.secret(), k.secret());
            assert!(unwrap_key(&slot, b"wrong").unwrap().is_none());
            assert_eq!(slot.mac.is_some(), v == 2);
        }
        // A version-2 slot relabelled as version 1 is recognised, not opened.
        let mut slot = wrap_key(&k, 2, b"pw", KdfStrength::TestOnly, "", "h", "u", "t").unwrap();
        assert!(k.metadata_mac_ok(&slot.authenticated_bytes(), &slot.mac.unwrap()));
        slot.version = 1;
        slot.mac = None;
        assert!(matches!(
            unwrap_key_checked(&slot, b"pw").unwrap(),
            Unwrapped::Downgraded
        ));
    }
}
