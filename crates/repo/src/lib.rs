//! hokan's repository engine.
#![deny(missing_docs)]

pub mod store;
