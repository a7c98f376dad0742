//! The site as a whole, before it is shown to a person: every device asked
//! where its media are ([`observe`]), the site judged on its catalog as
//! evidence ([`mod@judge`]), attestations recorded ([`attest`]), a
//! person's records about a medium checked
//! against its device ([`media`]), and what the inspection report and the
//! rulebook annex show ([`report`]).
//!
//! `hokan status`, `hokan report`, `hokan media` and the disk commands call
//! these; the dashboard or a daemon can call them the same way. The words
//! (what a note says, in ja or en) are the caller's.

pub mod attest;
pub mod judge;
pub mod media;
pub mod observe;
pub mod report;

pub use judge::{judge, Judge, Judged};
pub use observe::{observe_devices, observe_pool, DeviceNote, Observe, Outcome};

#[cfg(test)]
mod tests;
