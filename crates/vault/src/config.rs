//! The vault's own configuration (`vault.toml` in its folder), written by
//! `hokan vault init` and read by every other vault command. The vault
//! needs nothing from the primary's hokan.toml and no passphrase.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::ClockPolicy;
use crate::wire::Limits;

/// `vault.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// The vault's name, as registered in the primary's `[[vault]]`.
    pub name: String,
    /// The primary's export, `https://host:port`.
    pub primary: String,
    /// The primary's TLS certificate (PEM), pinned: the vault trusts no
    /// other. Relative to the vault's folder.
    #[serde(default = "default_cert")]
    pub primary_cert: PathBuf,
    /// Days each generation is kept, whatever anybody asks (default 90).
    #[serde(default = "default_keep")]
    pub keep_days: u32,
    /// Most bytes the vault's objects may take (default: no limit but the
    /// free-space reserve).
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Free space never used, in MiB (default 1024).
    #[serde(default = "default_reserve")]
    pub reserve_mib: u64,
    /// Largest object accepted, MiB (default 512).
    #[serde(default = "default_max_object")]
    pub max_object_mib: u64,
    /// Longest one request may take, seconds (default 600).
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// How far the wall clock may lead the boot-time clock since the boot's
    /// anchor, seconds (default 600), besides 100 ppm of the boot time
    /// elapsed (see [`crate::clock`]).
    #[serde(default = "default_tolerance")]
    pub clock_tolerance_secs: u64,
    /// Longest clock step believed across a reboot, and the most the
    /// steps of the reboots in the last 30 days may add up to, days
    /// (default 7).
    #[serde(default = "default_gap")]
    pub clock_max_gap_days: u64,
    /// How often `hokan vault daemon` pulls, minutes (default 60). A pull
    /// that finds nothing new costs one listing request.
    #[serde(default = "default_every")]
    pub pull_every_minutes: u64,
    /// The firewall's outbound allowances besides the primary.
    #[serde(default)]
    pub firewall: FirewallConfig,
    /// The application checks of `hokan vault drill`, one per source
    /// (`[[drill]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drill: Vec<DrillConfig>,
}

/// `[[drill]]` in vault.toml: what checks a source's restored files after
/// a drill on the vault, like `[source.drill]` in the primary's hokan.toml.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillConfig {
    /// The source.
    pub source: String,
    /// The command: an argument vector run directly, or a string run with
    /// `sh -c`; `{target}` is replaced by the scratch folder.
    pub check: DrillCommand,
    /// How long it may run (`"10m"`, `"2h"`; default 10 minutes).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// A `[[drill]] check`, the way it was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DrillCommand {
    /// `["pg_restore", "--list", "{target}/db/emr.dump"]`.
    Argv(Vec<String>),
    /// `"pg_restore --list {target}/db/emr.dump"` (through `sh -c`).
    Shell(String),
}

/// `[firewall]` in vault.toml.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallConfig {
    /// Whether `hokan vault check` is expected to find hokan's ruleset
    /// (default true; false reports ⑤-1 as not met).
    #[serde(default = "yes")]
    pub enforce: bool,
    /// NTP servers (IP addresses).
    #[serde(default)]
    pub ntp: Vec<String>,
    /// DNS servers (IP addresses), if the vault must resolve names.
    #[serde(default)]
    pub dns: Vec<String>,
    /// Notification targets, `ip:port` (SMTP relay, webhook).
    #[serde(default)]
    pub notify: Vec<String>,
}

fn yes() -> bool {
    true
}
fn default_cert() -> PathBuf {
    "primary.crt".into()
}
fn default_keep() -> u32 {
    90
}
fn default_reserve() -> u64 {
    1024
}
fn default_max_object() -> u64 {
    512
}
fn default_timeout() -> u64 {
    600
}
fn default_tolerance() -> u64 {
    600
}
fn default_gap() -> u64 {
    7
}
fn default_every() -> u64 {
    60
}

/// A vault.toml that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading it.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// Its content.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and what to write instead.
        message: String,
    },
}

impl VaultConfig {
    /// A configuration with the defaults.
    pub fn new(name: &str, primary: &str) -> VaultConfig {
        VaultConfig {
            name: name.into(),
            primary: primary.trim_end_matches('/').into(),
            primary_cert: default_cert(),
            keep_days: default_keep(),
            max_bytes: None,
            reserve_mib: default_reserve(),
            max_object_mib: default_max_object(),
            request_timeout_secs: default_timeout(),
            clock_tolerance_secs: default_tolerance(),
            clock_max_gap_days: default_gap(),
            pull_every_minutes: default_every(),
            firewall: FirewallConfig {
                enforce: true,
                ..FirewallConfig::default()
            },
            drill: Vec::new(),
        }
    }

    /// Read and check `vault.toml`.
    pub fn load(path: &Path) -> Result<VaultConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let c: VaultConfig = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if !c.primary.starts_with("https://") {
            return Err(invalid(format!(
                "primary = {:?} must be the primary's export as https://host:port (the vault talks TLS only)",
                c.primary
            )));
        }
        if c.keep_days == 0 {
            return Err(invalid("keep_days must be at least 1".into()));
        }
        if c.pull_every_minutes == 0 {
            return Err(invalid("pull_every_minutes must be at least 1".into()));
        }
        for d in &c.drill {
            let empty = match &d.check {
                DrillCommand::Argv(v) => v.first().is_none_or(|p| p.trim().is_empty()),
                DrillCommand::Shell(s) => s.trim().is_empty(),
            };
            if empty {
                return Err(invalid(format!(
                    "[[drill]] source = {:?}: check is empty; name the program first, e.g. check = [\"pg_restore\", \"--list\", \"{{target}}/db/emr.dump\"]",
                    d.source
                )));
            }
        }
        Ok(c)
    }

    /// The limits for what the primary sends.
    pub fn limits(&self) -> Limits {
        Limits {
            max_object: self.max_object_mib << 20,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            ..Limits::default()
        }
    }

    /// The clock policy.
    pub fn clock(&self) -> ClockPolicy {
        ClockPolicy {
            tolerance: Duration::from_secs(self.clock_tolerance_secs),
            max_gap: Duration::from_secs(self.clock_max_gap_days * 86400),
            ..ClockPolicy::default()
        }
    }

    /// The retention of each generation.
    pub fn keep(&self) -> time::Duration {
        time::Duration::days(self.keep_days as i64)
    }

    /// The text of vault.toml.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config serialises")
    }
}
