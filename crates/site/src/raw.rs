//! `hokan.toml` exactly as written: the serde layer.
//!
//! Every table denies unknown keys, and every value keeps its byte span so a
//! problem found later can name its line. Serde reports only what it must:
//! TOML syntax, unknown keys and values of the wrong type, one at a time.
//! Everything else (missing keys, bad durations and choices, relative paths,
//! duplicate names, the generation floor) is left loose here on purpose and
//! checked in `check.rs`, which collects all of it in one pass: a person
//! fixing the file sees every mistake at once, not one per run.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// What a duration must look like; also matched by `problem.rs` to translate
/// serde's "expected …" into Japanese.
pub(crate) const EXPECT_SPAN: &str = "a length of time such as \"7d\"";
/// What a command must look like (see [`EXPECT_SPAN`]).
pub(crate) const EXPECT_COMMAND: &str =
    "a command: a list of strings, or one string run with sh -c";

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub site: Option<Spanned<RawSite>>,
    pub repository: Option<Spanned<RawRepository>>,
    #[serde(default)]
    pub source: Vec<Spanned<RawSource>>,
    pub policy: Option<Spanned<RawPolicy>>,
    #[serde(default)]
    pub tape_pool: Vec<Spanned<RawTapePool>>,
    #[serde(default)]
    pub disk_pool: Vec<Spanned<RawDiskPool>>,
    #[serde(default)]
    pub s3: Vec<Spanned<RawS3>>,
    #[serde(default)]
    pub vault: Vec<Spanned<RawVault>>,
    pub serve: Option<Spanned<RawServe>>,
    #[serde(default)]
    pub notify: Vec<Spanned<RawNotify>>,
    pub roles: Option<Spanned<RawRoles>>,
}

pub(crate) type Str = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSite {
    pub name: Option<Str>,
    pub timezone: Option<Str>,
    pub catalog: Option<Str>,
    pub schedule: Option<Str>,
    pub expect_done_by: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRepository {
    pub path: Option<Str>,
    pub s3: Option<Spanned<RawS3Connection>>,
    pub passphrase_file: Option<Str>,
}

/// Where and how to reach a bucket: `[repository] s3 = { … }`, and the
/// same keys of an `[[s3]]` target ([`RawS3::connection`]).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawS3Connection {
    pub endpoint: Option<Str>,
    pub region: Option<Str>,
    pub bucket: Option<Str>,
    pub prefix: Option<Str>,
    pub path_style: Option<bool>,
    pub access_key_id: Option<Str>,
    pub secret_access_key_file: Option<Str>,
    pub concurrency: Option<Spanned<i64>>,
    pub connect_timeout_secs: Option<Spanned<i64>>,
    pub read_timeout_secs: Option<Spanned<i64>>,
    pub attempt_timeout_secs: Option<Spanned<i64>>,
    pub operation_timeout_secs: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub name: Option<Str>,
    pub paths: Option<Spanned<Vec<Str>>>,
    pub pre_backup: Option<Spanned<RawPreBackup>>,
    pub policy: Option<Spanned<RawSourcePolicy>>,
    pub rto: Option<Spanned<RawSpan>>,
    pub drill: Option<Spanned<RawDrill>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDrill {
    pub check: Option<Spanned<RawCommand>>,
    pub timeout: Option<Spanned<RawSpan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPreBackup {
    pub command: Option<Spanned<RawCommand>>,
    pub timeout: Option<Spanned<RawSpan>>,
    pub on_failure: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSourcePolicy {
    pub min_offline_generations: Option<Spanned<i64>>,
    pub max_newest_age: Option<Spanned<RawSpan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub min_offline_generations: Option<Spanned<i64>>,
    pub max_newest_age: Option<Spanned<RawSpan>>,
    pub warning_horizon: Option<Spanned<RawSpan>>,
    pub max_person_location_age: Option<Spanned<RawSpan>>,
    pub drill_every: Option<Spanned<RawSpan>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTapePool {
    pub name: Option<Str>,
    pub mode: Option<Str>,
    pub after_job: Option<Str>,
    pub retention: Option<Spanned<RawSpan>>,
    pub allocation: Option<Str>,
    pub device: Option<Str>,
    pub changer: Option<Str>,
    pub drive: Option<Spanned<i64>>,
    pub virtual_library: Option<Str>,
    pub schedule: Option<Str>,
    pub drill_schedule: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDiskPool {
    pub name: Option<Str>,
    pub mode: Option<Str>,
    pub retention: Option<Spanned<RawSpan>>,
    pub mount_point: Option<Str>,
    pub rotation: Option<Str>,
    pub cartridges: Option<Spanned<Vec<String>>>,
    pub after_job: Option<Str>,
    pub device: Option<Str>,
    pub slots: Option<Spanned<Vec<String>>>,
    pub mount_command: Option<Spanned<Vec<String>>>,
    pub unmount_command: Option<Spanned<Vec<String>>>,
    pub eject_command: Option<Spanned<Vec<String>>>,
    pub activate_command: Option<Spanned<Vec<String>>>,
    pub deactivate_command: Option<Spanned<Vec<String>>>,
    pub export_command: Option<Spanned<Vec<String>>>,
    pub virtual_device: Option<Str>,
    pub schedule: Option<Str>,
    pub drill_schedule: Option<Str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawS3 {
    pub name: Option<Str>,
    pub endpoint: Option<Str>,
    pub region: Option<Str>,
    pub bucket: Option<Str>,
    pub prefix: Option<Str>,
    pub path_style: Option<bool>,
    pub lock_mode: Option<Str>,
    pub retention: Option<Spanned<RawSpan>>,
    pub allow_unlocked: Option<bool>,
    pub access_key_id: Option<Str>,
    pub secret_access_key_file: Option<Str>,
    pub concurrency: Option<Spanned<i64>>,
    pub connect_timeout_secs: Option<Spanned<i64>>,
    pub read_timeout_secs: Option<Spanned<i64>>,
    pub attempt_timeout_secs: Option<Spanned<i64>>,
    pub operation_timeout_secs: Option<Spanned<i64>>,
    pub schedule: Option<Str>,
    pub drill_schedule: Option<Str>,
}

impl RawS3 {
    /// The keys saying where and how to reach the bucket. (Serde cannot
    /// flatten them into this table and still refuse unknown keys.)
    pub fn connection(&self) -> RawS3Connection {
        RawS3Connection {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
            path_style: self.path_style,
            access_key_id: self.access_key_id.clone(),
            secret_access_key_file: self.secret_access_key_file.clone(),
            concurrency: self.concurrency.clone(),
            connect_timeout_secs: self.connect_timeout_secs.clone(),
            read_timeout_secs: self.read_timeout_secs.clone(),
            attempt_timeout_secs: self.attempt_timeout_secs.clone(),
            operation_timeout_secs: self.operation_timeout_secs.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVault {
    pub name: Option<Str>,
    pub address: Option<Str>,
    pub retention: Option<Spanned<RawSpan>>,
    pub schedule: Option<Str>,
    pub public_key: Option<Str>,
    pub token_blake3: Option<Str>,
    pub fresh_for: Option<Spanned<RawSpan>>,
}

/// `[serve]`: the primary's read-only export for vaults (`hokan serve`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServe {
    pub listen: Option<Str>,
    pub cert: Option<Str>,
    pub key: Option<Str>,
    pub inbox: Option<Str>,
}

/// A notification target. One flat table for every `type`: which keys
/// apply to which type is checked in `check/notify.rs`, so a key of
/// another type is reported with the type's allowed keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    pub name: Option<Str>,
    #[serde(rename = "type")]
    pub kind: Option<Str>,
    pub lang: Option<Str>,
    pub events: Option<Spanned<Vec<Str>>>,
    pub host: Option<Str>,
    pub port: Option<Spanned<i64>>,
    pub tls: Option<Str>,
    pub from: Option<Str>,
    pub to: Option<Spanned<Vec<Str>>>,
    pub username: Option<Str>,
    pub password_file: Option<Str>,
    pub address: Option<Str>,
    pub socket: Option<Str>,
    pub url: Option<Str>,
    pub secret_file: Option<Str>,
    pub command: Option<Spanned<Vec<Str>>>,
    pub timeout: Option<Spanned<RawSpan>>,
}

/// A duration as written: a string for `hokan_offline::span::parse`, or a
/// bare number of seconds. Parsed in `check.rs` so that every bad duration
/// in the file is reported together.
pub(crate) enum RawSpan {
    Text(String),
    Seconds(i64),
}

impl<'de> Deserialize<'de> for RawSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawSpan, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawSpan;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECT_SPAN)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSpan, E> {
                Ok(RawSpan::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSpan, E> {
                Ok(RawSpan::Seconds(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSpan, E> {
                Ok(RawSpan::Seconds(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A pre-backup command: an argument vector, or one string for `sh -c`.
pub(crate) enum RawCommand {
    Argv(Vec<String>),
    Shell(String),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawCommand, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawCommand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECT_COMMAND)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Shell(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(RawCommand::Argv(argv))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[roles]`: who is responsible for the backups, as the rulebook annex
/// names them. Each list also takes a single string.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoles {
    pub responsible: Option<Str>,
    pub operator: Option<Spanned<RawNames>>,
    pub key_custodian: Option<Spanned<RawNames>>,
    pub vault_console: Option<Spanned<RawNames>>,
}

/// People as written: one string, or a list of strings. The names carry
/// no span of their own; a problem points at the whole value.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a name such as \"情報システム課 佐藤\", or a list of names"
)]
pub(crate) enum RawNames {
    One(String),
    Many(Vec<String>),
}

impl RawNames {
    /// The names, one or many.
    pub fn names(&self) -> Vec<&str> {
        match self {
            RawNames::One(s) => vec![s.as_str()],
            RawNames::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}
