//! The offline policy: how many offline generations, how fresh, how much warning.
//!
//! [`PolicyOptions`] is what a person writes (every field optional, read from
//! the `[offline]` section of `hokan.toml`); [`Policy`] is the checked result
//! the evaluator takes. A policy can only be built through [`Policy::new`], so
//! a policy below the definitions' floor never reaches the evaluator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::id::{PoolName, SourceName};
use crate::limits::{MAX_GENERATIONS, MAX_SPAN};
use crate::{span, OfflineError};

/// The definitions' premise is that *several* generations rotate
/// (複数世代のバックアップがローテートされる), so fewer than two offline
/// generations can never be compliant, whatever a site configures.
pub const DEFINITION_FLOOR: u32 = 2;

/// Offline generations required per source unless configured: three, so that
/// one can be lost or found already infected and two remain.
pub const DEFAULT_MIN_OFFLINE_GENERATIONS: u32 = 3;

/// Oldest the newest offline generation may be unless configured: a week, the
/// usual rotation period of hospital tape and RDX schedules.
pub const DEFAULT_MAX_NEWEST_AGE: Duration = Duration::days(7);

/// How long before a lock, an attestation or a location record runs out the
/// evaluator starts warning, unless configured: two weeks, enough for a
/// one-person IT department to get a renewal signed.
pub const DEFAULT_WARNING_HORIZON: Duration = Duration::days(14);

/// How long a *person's* record of where a medium is counts before the
/// location becomes unknown, unless configured: about a quarter, the common
/// inventory (棚卸し) cycle. See the crate documentation for why device
/// reports do not age.
pub const DEFAULT_MAX_PERSON_LOCATION_AGE: Duration = Duration::days(92);

/// How often each kind of offline medium in use must pass a restore drill
/// unless configured: a year, the floor 診療録管理体制加算1 sets.
pub const DEFAULT_DRILL_EVERY: Duration = Duration::days(365);

/// How long a tape or RDX cartridge that a library or autoloader reported
/// *exported* counts as ①-2-2 / ②-2-2 before someone records where it
/// went (`hokan media move … --to shelf:…|offsite:…`): three days, a long
/// weekend. After that the changer's report alone no longer counts: the
/// cartridge left every device hokan can ask, and the catalog is meant to
/// know where every copy physically is.
pub const EXPORT_RECORD_GRACE: Duration = Duration::days(3);

/// How old a vault's newest signed receipt may be before its copies turn
/// unknown, unless configured (`[[vault]] fresh_for`): a day and a half, so
/// one missed nightly pull is tolerated and two are not.
pub const DEFAULT_VAULT_FRESH_FOR: Duration = Duration::hours(36);

/// How far ahead of the primary's clock a vault's receipt may be issued
/// and still be believed: ten minutes of clock difference between two
/// machines. A receipt further ahead is refused when it arrives.
pub const RECEIPT_CLOCK_SKEW: Duration = Duration::minutes(10);

/// The policy as written; every field may be left out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyOptions {
    /// Offline generations each source needs (default 3, at least 2).
    pub min_offline_generations: Option<u32>,
    /// Oldest the newest offline generation may be (default `7d`).
    #[serde(with = "span::option")]
    pub max_newest_age: Option<Duration>,
    /// Warning time before expiry (default `14d`; `0s` turns warnings off).
    #[serde(with = "span::option")]
    pub warning_horizon: Option<Duration>,
    /// How long a person's location record counts (default `92d`).
    #[serde(with = "span::option")]
    pub max_person_location_age: Option<Duration>,
    /// How often each kind of medium in use must pass a drill (default `365d`).
    #[serde(with = "span::option")]
    pub drill_every: Option<Duration>,
    /// How long each pool keeps a copy before its medium may be reused.
    #[serde(with = "span::map")]
    pub pool_retention: BTreeMap<PoolName, Duration>,
    /// How old each vault's newest receipt may be (default 36h).
    #[serde(with = "span::map")]
    pub vault_fresh_for: BTreeMap<PoolName, Duration>,
    /// Per-source overrides.
    pub sources: BTreeMap<SourceName, SourcePolicyOptions>,
}

/// Overrides for one source, e.g. more generations for the EMR database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcePolicyOptions {
    /// Offline generations this source needs (at least 2).
    pub min_offline_generations: Option<u32>,
    /// Oldest this source's newest offline generation may be.
    #[serde(with = "span::option")]
    pub max_newest_age: Option<Duration>,
}

/// A checked policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policy {
    min_offline_generations: u32,
    #[serde(with = "span")]
    max_newest_age: Duration,
    #[serde(with = "span")]
    warning_horizon: Duration,
    #[serde(with = "span")]
    max_person_location_age: Duration,
    #[serde(with = "span")]
    drill_every: Duration,
    #[serde(with = "span::map")]
    pool_retention: BTreeMap<PoolName, Duration>,
    #[serde(with = "span::map")]
    vault_fresh_for: BTreeMap<PoolName, Duration>,
    sources: BTreeMap<SourceName, SourcePolicy>,
}

/// The checked overrides of one source.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct SourcePolicy {
    min_offline_generations: Option<u32>,
    #[serde(with = "span::option")]
    max_newest_age: Option<Duration>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::new(&PolicyOptions::default()).expect("the defaults are valid")
    }
}

impl TryFrom<PolicyOptions> for Policy {
    type Error = OfflineError;

    fn try_from(options: PolicyOptions) -> Result<Policy, OfflineError> {
        Policy::new(&options)
    }
}

fn check_count(source: Option<&SourceName>, asked: u32) -> Result<u32, OfflineError> {
    if asked < DEFINITION_FLOOR {
        return Err(OfflineError::BelowFloor {
            for_source: source.cloned(),
            asked,
            floor: DEFINITION_FLOOR,
        });
    }
    if asked > MAX_GENERATIONS {
        return Err(OfflineError::BadSetting {
            setting: match source {
                Some(s) => format!("sources.{s}.min_offline_generations"),
                None => "min_offline_generations".into(),
            },
            value: asked.to_string(),
            need: "at most 1000",
        });
    }
    Ok(asked)
}

/// A length must not be longer than [`MAX_SPAN`]: the evaluator adds it to
/// instants.
fn check_at_most(setting: String, d: Duration) -> Result<Duration, OfflineError> {
    if d > MAX_SPAN {
        return Err(OfflineError::BadSetting {
            setting,
            value: span::format(d),
            need: "at most 100 years (36525d)",
        });
    }
    Ok(d)
}

fn check_positive(setting: String, d: Duration) -> Result<Duration, OfflineError> {
    let d = check_at_most(setting.clone(), d)?;
    if d <= Duration::ZERO {
        return Err(OfflineError::BadSetting {
            setting,
            value: span::format(d),
            need: "longer than zero",
        });
    }
    Ok(d)
}

impl Policy {
    /// Check a written policy. Refuses fewer than [`DEFINITION_FLOOR`] or
    /// more than [`MAX_GENERATIONS`] generations (globally or for any
    /// source), zero or negative ages, and any length longer than
    /// [`MAX_SPAN`] (see [`crate::limits`]).
    pub fn new(options: &PolicyOptions) -> Result<Policy, OfflineError> {
        let min_offline_generations = check_count(
            None,
            options
                .min_offline_generations
                .unwrap_or(DEFAULT_MIN_OFFLINE_GENERATIONS),
        )?;
        let max_newest_age = check_positive(
            "max_newest_age".into(),
            options.max_newest_age.unwrap_or(DEFAULT_MAX_NEWEST_AGE),
        )?;
        let warning_horizon = options.warning_horizon.unwrap_or(DEFAULT_WARNING_HORIZON);
        if warning_horizon < Duration::ZERO {
            return Err(OfflineError::BadSetting {
                setting: "warning_horizon".into(),
                value: span::format(warning_horizon),
                need: "zero or longer",
            });
        }
        let warning_horizon = check_at_most("warning_horizon".into(), warning_horizon)?;
        let max_person_location_age = check_positive(
            "max_person_location_age".into(),
            options
                .max_person_location_age
                .unwrap_or(DEFAULT_MAX_PERSON_LOCATION_AGE),
        )?;
        let drill_every = check_positive(
            "drill_every".into(),
            options.drill_every.unwrap_or(DEFAULT_DRILL_EVERY),
        )?;
        let mut pool_retention = BTreeMap::new();
        for (pool, d) in &options.pool_retention {
            let d = check_positive(format!("pool_retention.{pool}"), *d)?;
            pool_retention.insert(pool.clone(), d);
        }
        let mut vault_fresh_for = BTreeMap::new();
        for (pool, d) in &options.vault_fresh_for {
            let d = check_positive(format!("vault_fresh_for.{pool}"), *d)?;
            vault_fresh_for.insert(pool.clone(), d);
        }
        let mut sources = BTreeMap::new();
        for (source, o) in &options.sources {
            let min = o
                .min_offline_generations
                .map(|n| check_count(Some(source), n))
                .transpose()?;
            let age = o
                .max_newest_age
                .map(|d| check_positive(format!("sources.{source}.max_newest_age"), d))
                .transpose()?;
            sources.insert(
                source.clone(),
                SourcePolicy {
                    min_offline_generations: min,
                    max_newest_age: age,
                },
            );
        }
        Ok(Policy {
            min_offline_generations,
            max_newest_age,
            warning_horizon,
            max_person_location_age,
            drill_every,
            pool_retention,
            vault_fresh_for,
            sources,
        })
    }

    /// Offline generations `source` needs.
    pub fn min_offline_generations(&self, source: &SourceName) -> u32 {
        self.sources
            .get(source)
            .and_then(|s| s.min_offline_generations)
            .unwrap_or(self.min_offline_generations)
    }

    /// Oldest `source`'s newest offline generation may be.
    pub fn max_newest_age(&self, source: &SourceName) -> Duration {
        self.sources
            .get(source)
            .and_then(|s| s.max_newest_age)
            .unwrap_or(self.max_newest_age)
    }

    /// How long before an expiry the evaluator warns.
    pub fn warning_horizon(&self) -> Duration {
        self.warning_horizon
    }

    /// How long a person's location record counts.
    pub fn max_person_location_age(&self) -> Duration {
        self.max_person_location_age
    }

    /// How often each kind of offline medium in use must pass a restore drill.
    pub fn drill_every(&self) -> Duration {
        self.drill_every
    }

    /// How long `pool` keeps copies, if configured.
    pub fn pool_retention(&self, pool: &PoolName) -> Option<Duration> {
        self.pool_retention.get(pool).copied()
    }

    /// How old vault `pool`'s newest receipt may be before its copies turn
    /// unknown ([`DEFAULT_VAULT_FRESH_FOR`] unless configured).
    pub fn vault_fresh_for(&self, pool: &PoolName) -> Duration {
        self.vault_fresh_for
            .get(pool)
            .copied()
            .unwrap_or(DEFAULT_VAULT_FRESH_FOR)
    }
}
