//! The vault's folder: its configuration, keys and ledger, and `repo/`, a
//! repository folder in hokan's layout (`docs/repository-format.md` §1)
//! that `hokan vault restore` reads with the passphrase.
//!
//! ```text
//! <folder>/vault.toml      configuration
//! <folder>/vault.key       Ed25519 signing key (0600)
//! <folder>/token           access token for the primary's export (0600)
//! <folder>/primary.crt     the primary's pinned certificate
//! <folder>/ledger.sqlite   the hash-chained ledger
//! <folder>/lock            one vault command at a time (flock)
//! <folder>/tmp/            downloads in flight, never part of the copy
//! <folder>/receipts/       the receipts made, newest last
//! <folder>/repo/           the objects, each immutable
//! ```
//!
//! Objects arrive through [`Folder::put`]: streamed into `tmp/` while
//! hashed, refused unless the bytes match the name and declared size,
//! fsynced, linked into place *without replacing* anything, and then made
//! immutable. A reader sees an object whole or not at all.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::immutable;
use crate::wire::{rel_path, Kind};

/// A vault's folder.
#[derive(Clone, Debug)]
pub struct Folder {
    root: PathBuf,
}

/// Why an object was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The bytes are not the ones the name stands for.
    #[error("the bytes served as {name} hash to {got}: not the object of that name")]
    Mismatch {
        /// The name.
        name: String,
        /// BLAKE3 of what arrived.
        got: String,
    },
    /// More or fewer bytes than declared.
    #[error("{name} was declared as {declared} bytes but {got} arrived")]
    Size {
        /// The name.
        name: String,
        /// Declared size.
        declared: u64,
        /// What arrived (at most declared + 1).
        got: u64,
    },
    /// Reading the body failed (the network, a timeout).
    #[error("receiving {name}: {source}")]
    Transfer {
        /// The name.
        name: String,
        /// What failed.
        source: io::Error,
    },
    /// Writing in the vault's folder failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: io::Error,
    },
}

/// What [`Folder::put`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Put {
    /// Stored now.
    Stored,
    /// An object of that name was already there and was kept.
    Kept,
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> PutError + '_ {
    move |source| PutError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Folder {
    /// The folder at `root` (not created).
    pub fn new(root: &Path) -> Folder {
        Folder {
            root: root.to_path_buf(),
        }
    }

    /// Its path.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `vault.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("vault.toml")
    }
    /// `vault.key`.
    pub fn key_path(&self) -> PathBuf {
        self.root.join("vault.key")
    }
    /// `token`.
    pub fn token_path(&self) -> PathBuf {
        self.root.join("token")
    }
    /// `ledger.sqlite`.
    pub fn ledger_path(&self) -> PathBuf {
        self.root.join("ledger.sqlite")
    }
    /// `repo/`: a repository folder hokan can restore from.
    pub fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }
    /// `receipts/`.
    pub fn receipts(&self) -> PathBuf {
        self.root.join("receipts")
    }
    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where an object lives.
    pub fn object_path(&self, kind: Kind, name: &str) -> PathBuf {
        self.repo().join(rel_path(kind, name))
    }

    /// Create the folder's skeleton (idempotent).
    pub fn create_dirs(&self) -> io::Result<()> {
        for d in [
            "tmp",
            "receipts",
            "repo/keys",
            "repo/data",
            "repo/index",
            "repo/snapshots",
        ] {
            std::fs::create_dir_all(self.root.join(d))?;
        }
        Ok(())
    }

    /// Take the folder's lock (one vault command at a time); held until
    /// the file is dropped.
    pub fn lock(&self) -> io::Result<File> {
        let p = self.root.join("lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)?;
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "another hokan vault command is running on {} (it holds {})",
                    self.root.display(),
                    p.display()
                ),
            ));
        }
        Ok(f)
    }

    /// Size of an object the vault holds, if it holds it.
    pub fn held(&self, kind: Kind, name: &str) -> Option<u64> {
        std::fs::symlink_metadata(self.object_path(kind, name))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    /// Held, and carrying the immutable flag: an object the vault stored
    /// (anything else in its folders may have been put there by someone
    /// without CAP_LINUX_IMMUTABLE).
    pub fn held_sealed(&self, kind: Kind, name: &str) -> bool {
        self.held(kind, name).is_some()
            && immutable::is_immutable(&self.object_path(kind, name)).unwrap_or(false)
    }

    /// Make sure that what is at an object's path is the vault's: nothing,
    /// or the object itself with the immutable flag. An unsealed file whose
    /// bytes are the object's is sealed (a download killed between link
    /// and flag); anything else there (other bytes, a symlink) is removed
    /// and its path returned.
    pub fn sealed_or_clear(&self, kind: Kind, name: &str) -> io::Result<Option<PathBuf>> {
        let p = self.object_path(kind, name);
        let m = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if m.is_file() {
            if immutable::is_immutable(&p)? {
                return Ok(None);
            }
            if self.is_own(&p)? {
                immutable::set_immutable(&p, true)?;
                return Ok(None);
            }
        }
        std::fs::remove_file(&p)?;
        Ok(Some(p))
    }

    /// Remove leftovers of a killed download.
    pub fn clean_tmp(&self) -> io::Result<u64> {
        let mut n = 0;
        for e in std::fs::read_dir(self.tmp())? {
            let e = e?;
            if e.file_type()?.is_file() {
                std::fs::remove_file(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Every object file under `repo/`, with its size.
    pub fn objects(&self) -> io::Result<Vec<(PathBuf, u64)>> {
        let mut out = Vec::new();
        let repo = self.repo();
        let config = repo.join("config");
        if let Ok(m) = std::fs::symlink_metadata(&config) {
            out.push((config, m.len()));
        }
        let mut stack = vec![
            repo.join("keys"),
            repo.join("data"),
            repo.join("index"),
            repo.join("snapshots"),
        ];
        while let Some(d) = stack.pop() {
            let rd = match std::fs::read_dir(&d) {
                Ok(rd) => rd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for e in rd {
                let e = e?;
                let t = e.file_type()?;
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    out.push((e.path(), e.metadata()?.len()));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Set the immutable flag on every object lacking it (a download killed
    /// between link and flag). An object without the flag was not
    /// necessarily put there by the vault (the folders are writable by
    /// root without CAP_LINUX_IMMUTABLE): one whose bytes do not hash to its
    /// name is removed, not sealed. Returns how many were sealed, and the
    /// files removed.
    pub fn seal_all(&self) -> io::Result<(u64, Vec<PathBuf>)> {
        let mut n = 0;
        let mut removed = Vec::new();
        for (p, _) in self.objects()? {
            let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", p.display()));
            if !immutable::is_immutable(&p).map_err(named)? {
                if !self.is_own(&p).map_err(named)? {
                    std::fs::remove_file(&p).map_err(named)?;
                    removed.push(p);
                    continue;
                }
                immutable::set_immutable(&p, true).map_err(named)?;
                n += 1;
            }
        }
        Ok((n, removed))
    }

    /// Do the bytes at `p` hash to its file name? (The config, which has
    /// no hash name, counts as its own.)
    fn is_own(&self, p: &Path) -> io::Result<bool> {
        if p == self.repo().join("config") {
            return Ok(true);
        }
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            return Ok(false);
        };
        let mut h = blake3::Hasher::new();
        io::copy(&mut File::open(p)?, &mut h)?;
        Ok(h.finalize().to_hex().as_str() == name)
    }

    /// Store one object from `body`, which must yield exactly `size`
    /// bytes hashing (BLAKE3) to `name` (the config, which has no hash
    /// name, is only size-checked). Never replaces an object.
    pub fn put(
        &self,
        kind: Kind,
        name: &str,
        size: u64,
        body: &mut dyn Read,
    ) -> Result<Put, PutError> {
        if self.held_sealed(kind, name) {
            return Ok(Put::Kept);
        }
        let tmp = self.tmp().join(format!(
            "{}-{}.tmp",
            std::process::id(),
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let r = self.receive(&tmp, kind, name, size, body);
        let r = r.and_then(|()| self.place(&tmp, kind, name));
        let _ = std::fs::remove_file(&tmp);
        r
    }

    fn receive(
        &self,
        tmp: &Path,
        kind: Kind,
        name: &str,
        size: u64,
        body: &mut dyn Read,
    ) -> Result<(), PutError> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .open(tmp)
            .map_err(io_err(tmp))?;
        let mut hasher = blake3::Hasher::new();
        let mut got = 0u64;
        let mut buf = vec![0u8; 256 << 10];
        // Read one byte past the declared size at most: a body that goes on
        // is refused without being stored.
        let mut limited = body.take(size + 1);
        loop {
            let n = match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(PutError::Transfer {
                        name: name.into(),
                        source,
                    })
                }
            };
            got += n as u64;
            if got > size {
                return Err(PutError::Size {
                    name: name.into(),
                    declared: size,
                    got,
                });
            }
            hasher.update(&buf[..n]);
            f.write_all(&buf[..n]).map_err(io_err(tmp))?;
        }
        if got != size {
            return Err(PutError::Size {
                name: name.into(),
                declared: size,
                got,
            });
        }
        if kind != Kind::Config {
            let h = hasher.finalize().to_hex().to_string();
            if h != name {
                return Err(PutError::Mismatch {
                    name: name.into(),
                    got: h,
                });
            }
        }
        f.sync_all().map_err(io_err(tmp))?;
        Ok(())
    }

    fn place(&self, tmp: &Path, kind: Kind, name: &str) -> Result<Put, PutError> {
        let dest = self.object_path(kind, name);
        let dir = dest.parent().expect("objects live in a folder");
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        match std::fs::hard_link(tmp, &dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // The vault's own object, or something planted there since
                // the pull looked: then it goes, and the checked bytes in.
                match self.sealed_or_clear(kind, name).map_err(io_err(&dest))? {
                    None => return Ok(Put::Kept),
                    Some(p) => {
                        tracing::warn!("{}: not the object of that name; replaced", p.display());
                        std::fs::hard_link(tmp, &dest).map_err(io_err(&dest))?;
                    }
                }
            }
            Err(e) => return Err(io_err(&dest)(e)),
        }
        // The temporary name goes before the flag: an immutable inode can
        // no longer lose a link.
        std::fs::remove_file(tmp).map_err(io_err(tmp))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
        immutable::set_immutable(&dest, true).map_err(io_err(&dest))?;
        Ok(Put::Stored)
    }

    /// Remove an object (only [`crate::expire`] calls this): clear the flag,
    /// unlink. A missing object is not an error.
    pub fn remove(&self, kind: Kind, name: &str) -> io::Result<bool> {
        let p = self.object_path(kind, name);
        if std::fs::symlink_metadata(&p).is_err() {
            return Ok(false);
        }
        immutable::set_immutable(&p, false)?;
        std::fs::remove_file(&p)?;
        Ok(true)
    }

    /// Bytes the objects take, and free bytes on the file system.
    pub fn usage(&self) -> io::Result<(u64, u64)> {
        let used = self.objects()?.iter().map(|(_, s)| s).sum();
        let c = std::ffi::CString::new(self.root.as_os_str().as_encoded_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: statvfs fills the struct we pass.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((used, st.f_bavail as u64 * st.f_frsize as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_stored_only_whole_and_under_its_own_name() {
        let d = tempfile::tempdir().unwrap();
        let f = Folder::new(d.path());
        f.create_dirs().unwrap();
        let bytes = b"pack bytes".to_vec();
        let name = blake3::hash(&bytes).to_hex().to_string();
        let other = blake3::hash(b"other").to_hex().to_string();

        let e = f.put(Kind::Pack, &other, 10, &mut &bytes[..]).unwrap_err();
        assert!(matches!(e, PutError::Mismatch { .. }), "{e}");
        let e = f.put(Kind::Pack, &name, 5, &mut &bytes[..]).unwrap_err();
        assert!(
            matches!(e, PutError::Size { got: 6, .. }),
            "a longer body stops one byte past: {e}"
        );
        let e = f.put(Kind::Pack, &name, 20, &mut &bytes[..]).unwrap_err();
        assert!(matches!(e, PutError::Size { got: 10, .. }), "{e}");
        assert!(f.held(Kind::Pack, &name).is_none());
        assert!(f.objects().unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(d.path().join("tmp")).unwrap().count(),
            0,
            "no partial file left"
        );

        if immutable::probe(d.path()).is_err() {
            eprintln!("SKIPPED (LOUD): no CAP_LINUX_IMMUTABLE here; the store step needs it");
            return;
        }
        assert_eq!(
            f.put(Kind::Pack, &name, 10, &mut &bytes[..]).unwrap(),
            Put::Stored
        );
        assert_eq!(
            f.put(Kind::Pack, &name, 10, &mut &b"xxxxxxxxxx"[..])
                .unwrap(),
            Put::Kept
        );
        let p = f.object_path(Kind::Pack, &name);
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
        assert!(immutable::is_immutable(&p).unwrap());
        assert!(f.remove(Kind::Pack, &name).unwrap());
        assert!(f.held(Kind::Pack, &name).is_none());
    }
}
