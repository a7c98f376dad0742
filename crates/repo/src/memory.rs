//! The process's allocator, set for the engine's buffer sizes.
//!
//! Backup and restore move data in buffers of one to 32 MiB (segments,
//! chunks, sealed blobs, packs), allocated and freed on many threads. glibc
//! serves a large allocation with its own mapping, returned to the system on
//! free, but raises that threshold to the size of each such block freed: after
//! the first few segments every buffer comes from a thread's heap, and each
//! reader's and sealer's heap keeps its freed buffers. On 2 GiB of PACS images
//! that doubled the peak memory (255 MiB against 130 MiB with a fixed
//! threshold, same time; `bench/pacs.sh`).

/// Buffers this large or larger get their own mapping, returned on free.
pub const MMAP_THRESHOLD: usize = 1024 * 1024;

/// Fix glibc's mapping threshold at [`MMAP_THRESHOLD`] for this process.
///
/// Call once, first thing in `main`. Does nothing when the operator set
/// `MALLOC_MMAP_THRESHOLD_` (glibc's own variable wins) or on a C library
/// other than glibc.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only changes allocator parameters; it is called
        // before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
        }
    }
}
