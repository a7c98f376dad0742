//! Command-line arguments of `hokan s3`.

use std::path::PathBuf;

use clap::Subcommand;

/// `hokan s3`.
#[derive(Subcommand, Debug)]
pub enum S3Cmd {
    /// Check the bucket: versioning, object lock, default retention, the
    /// credentials' rights, clock skew, and a probe that lock is enforced.
    Check {
        /// The target (an `[[s3]]` of hokan.toml).
        name: String,
    },
    /// Extend the locks of every object a snapshot in the bucket still
    /// needs, to the pool's retention from now.
    ExtendLocks {
        /// The target.
        name: String,
    },
    /// Restore a snapshot from the bucket alone.
    Restore {
        /// The target.
        name: String,
        /// The snapshot (id prefix or `latest`).
        snapshot: String,
        /// Where to restore.
        #[arg(long)]
        target: PathBuf,
        /// With `latest`: if a snapshot manifest is damaged (so the newest
        /// cannot be known), take the newest undamaged snapshot and say which
        /// damaged ones were skipped. Without it, such a restore stops (exit 4).
        #[arg(long)]
        latest_undamaged: bool,
    },
    /// Delete objects no snapshot in the bucket needs whose lock has run
    /// out; list the others with the date they may go.
    Prune {
        /// The target.
        name: String,
    },
}
