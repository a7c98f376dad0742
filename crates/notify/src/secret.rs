//! Secrets (an SMTP password, a webhook's signing key): read from a file
//! when a message is sent, held in a type that never shows them.
//!
//! [`Secret`]'s `Debug` prints `***`, it has no `Display`, and errors about
//! a secret file name the file, never its content. Nothing secret is ever
//! put in an outbox event either: events hold the notice and the reason a
//! delivery failed, and those reasons come from our errors.

use std::fmt;
use std::path::Path;

use crate::SendError;

/// A secret string. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The first line of `path` (without its line ending). An empty first
    /// line is refused: an empty password or key is a mistake.
    pub fn from_file(path: &Path) -> Result<Secret, SendError> {
        let bytes = std::fs::read(path).map_err(|source| SendError::SecretFile {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| SendError::SecretNotText {
            path: path.to_owned(),
        })?;
        let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if first.is_empty() {
            return Err(SendError::SecretEmpty {
                path: path.to_owned(),
            });
        }
        Ok(Secret(first.to_owned()))
    }

    /// The secret itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}
