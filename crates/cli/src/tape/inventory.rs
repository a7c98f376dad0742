//! What a library's inventory means for the catalog: in
//! [`hokan_jobs::tape::inventory`] (pure, tested on changer states).

pub use hokan_jobs::tape::inventory::*;
