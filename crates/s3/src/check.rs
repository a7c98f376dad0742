//! [`bucket_check`]: is the bucket set up so its copies can count as offline?
//!
//! The check reads the bucket's settings and then *tries* what it cannot
//! read, because IAM policies are too varied to evaluate from outside:
//! - **bypassing governance**: it writes a GOVERNANCE-locked canary (1 day)
//!   and deletes that version with `x-amz-bypass-governance-retention: true`.
//!   Success means these credentials can destroy governance-locked data; the
//!   canary is then gone, otherwise it stays locked until it expires.
//! - **changing lock settings**: it sends PutObjectLockConfiguration with the
//!   bucket's *current* configuration, unchanged. Success means these
//!   credentials could equally have shortened the default retention.
//! - **conditional writes**: it writes the canary a second time with
//!   `If-None-Match: *`; a server that accepts it ignores the header, so
//!   [`crate::S3Store`]'s put-once has a small race there.
//! - **reading lock state**: whether HeadObject shows the canary's lock (AWS
//!   hides it from credentials without `s3:GetObjectRetention`).
//!
//! Canaries are named `<prefix>/hokan-probe/check-<time>`; on a bucket with
//! object lock they are always written locked. On a bucket without it, the
//! canary is written unlocked and deleted again at once.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::types::{BucketVersioningStatus, ObjectLockEnabled, ObjectLockRetentionMode};
use aws_smithy_types::date_time::Format;
use time::OffsetDateTime;

use crate::error::{unparsed_ok_body, xml_text, S3Error};
use crate::probe::{canary_key, PROBE_RETENTION};
use crate::requests::{ceil_secs, SdkErr};
use crate::{LockMode, S3Store};

/// The clock skew above which the check warns (seconds). Retention dates are
/// computed from the local clock, so a clock behind by an hour locks every
/// object an hour short; AWS refuses requests beyond 15 minutes of skew.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// The bucket's versioning state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Versioning {
    /// Every overwrite and delete keeps the old version (object lock needs this).
    Enabled,
    /// Was enabled, now suspended: new writes replace the null version.
    Suspended,
    /// Never enabled.
    Off,
}

/// The bucket's default retention (applies to objects written without one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DefaultRetention {
    /// The mode, if the service reported one.
    pub mode: Option<LockMode>,
    /// The period in days, if given in days.
    pub days: Option<i32>,
    /// The period in years, if given in years.
    pub years: Option<i32>,
}

/// What [`bucket_check`] found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BucketReport {
    /// The bucket.
    pub bucket: String,
    /// Versioning.
    pub versioning: Versioning,
    /// Whether object lock is enabled on the bucket.
    pub object_lock_enabled: bool,
    /// The default retention, if the bucket has one.
    pub default_retention: Option<DefaultRetention>,
    /// Whether these credentials can delete GOVERNANCE-locked versions
    /// (`None`: could not tell, e.g. no object lock on the bucket).
    pub can_bypass_governance: Option<bool>,
    /// Whether these credentials can change the bucket's object lock
    /// configuration (`None`: could not tell).
    pub can_change_lock_config: Option<bool>,
    /// Server clock minus local clock, in seconds (`None`: no `Date` header).
    pub clock_skew_secs: Option<i64>,
    /// Whether the server refuses a second write with `If-None-Match: *`.
    pub conditional_put: Option<bool>,
    /// Whether HeadObject shows a locked canary's lock to these credentials.
    pub lock_visible: Option<bool>,
    /// What is wrong and what to do, a sentence or two each.
    pub warnings: Vec<Warning>,
}

/// One finding of the bucket check, in English and Japanese.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    /// In English.
    pub en: String,
    /// In Japanese.
    pub ja: String,
}

impl Warning {
    fn new(en: String, ja: String) -> Warning {
        Warning { en, ja }
    }
}

/// Check the store's bucket. Fails only if the bucket cannot be reached at
/// all; everything else ends up in the report.
pub fn bucket_check(store: &S3Store) -> Result<BucketReport, S3Error> {
    store.block_on(check(store))
}

async fn check(store: &S3Store) -> Result<BucketReport, S3Error> {
    let bucket = store.bucket().to_string();
    let client = store.client();
    let mut warnings = Vec::new();

    // Versioning, and the server's clock from the same answer.
    let date = ServerDate::default();
    let before = OffsetDateTime::now_utc();
    let answer = client
        .get_bucket_versioning()
        .bucket(&bucket)
        .customize()
        .interceptor(date.clone())
        .send()
        .await;
    let after = OffsetDateTime::now_utc();
    let status = match &answer {
        Ok(out) => out.status().map(|s| s.as_str().to_string()),
        Err(e) => match unparsed_ok_body(e) {
            // moto's root element differs from AWS's; the content is the same.
            Some(body) => xml_text(&body, "Status").map(str::to_string),
            None => {
                return Err(store.err("GetBucketVersioning", "", SdkErr::from(answer.unwrap_err())))
            }
        },
    };
    let versioning = match status.map(|s| BucketVersioningStatus::from(s.as_str())) {
        Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
        Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
        _ => Versioning::Off,
    };
    let clock_skew_secs = date.get().map(|server| {
        let local_mid: OffsetDateTime = before + (after - before) / 2;
        let skew: time::Duration = server - local_mid;
        skew.whole_seconds()
    });

    // Object lock configuration.
    let lock_config = match client
        .get_object_lock_configuration()
        .bucket(&bucket)
        .send()
        .await
    {
        Ok(out) => out.object_lock_configuration,
        Err(e) => {
            let e = store.err("GetObjectLockConfiguration", "", SdkErr::from(e));
            match e.code() {
                Some("ObjectLockConfigurationNotFoundError") => None,
                _ if e.is_access_denied() => {
                    warnings.push(Warning::new(
                        format!(
                            "Cannot read the object lock configuration of bucket {bucket} (access denied): give the credentials s3:GetBucketObjectLockConfiguration so hokan can verify the lock."
                        ),
                        format!(
                            "バケット {bucket} のオブジェクトロック設定を読めません（アクセス拒否）。hokan がロックを確認できるよう、認証情報に s3:GetBucketObjectLockConfiguration を与えてください。"
                        ),
                    ));
                    None
                }
                _ => return Err(e),
            }
        }
    };
    let object_lock_enabled = lock_config
        .as_ref()
        .is_some_and(|c| c.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled));
    let default_retention = lock_config
        .as_ref()
        .and_then(|c| c.rule())
        .and_then(|r| r.default_retention())
        .map(|d| DefaultRetention {
            mode: d.mode().and_then(|m| match m {
                ObjectLockRetentionMode::Compliance => Some(LockMode::Compliance),
                ObjectLockRetentionMode::Governance => Some(LockMode::Governance),
                _ => None,
            }),
            // moto reports the unused unit as 0.
            days: d.days().filter(|n| *n > 0),
            years: d.years().filter(|n| *n > 0),
        });

    // Can these credentials change the lock settings? Re-send the current
    // configuration, unchanged.
    let mut can_change_lock_config = None;
    if let Some(current) = lock_config.clone().filter(|_| object_lock_enabled) {
        match client
            .put_object_lock_configuration()
            .bucket(&bucket)
            .object_lock_configuration(current)
            .send()
            .await
        {
            Ok(_) => can_change_lock_config = Some(true),
            Err(e) => {
                let e = store.err("PutObjectLockConfiguration", "", SdkErr::from(e));
                if e.is_access_denied() {
                    can_change_lock_config = Some(false);
                } else if e.is_transient() {
                    return Err(e);
                } else {
                    warnings.push(Warning::new(
                        format!(
                            "Could not tell whether the credentials can change the object lock configuration of bucket {bucket}: re-sending the current configuration failed with {}. Check the bucket policy by hand: nobody who holds hokan's credentials should have s3:PutBucketObjectLockConfiguration.",
                        e.code().unwrap_or("an error")
                        ),
                        format!(
                            "バケット {bucket} のオブジェクトロック設定を認証情報で変更できるか判定できませんでした（現在の設定の再送信が {} で失敗）。バケットポリシーを手で確認してください。hokan の認証情報の持ち主が s3:PutBucketObjectLockConfiguration を持ってはいけません。",
                        e.code().unwrap_or("an error")
                        ),
                    ));
                }
            }
        }
    }

    // The canary: lock visibility, conditional writes, governance bypass.
    let key = canary_key(store, "check");
    let lock = object_lock_enabled.then(|| {
        (
            LockMode::Governance,
            ceil_secs(OffsetDateTime::now_utc() + PROBE_RETENTION),
        )
    });
    let canary = bytes::Bytes::from_static(b"hokan bucket check canary\n");
    let mut lock_visible = None;
    let mut conditional_put = None;
    let mut can_bypass_governance = None;
    let first = store.put_key(&key, canary.clone(), lock, true).await?;
    let mut versions: Vec<String> = first.into_iter().collect();
    if object_lock_enabled {
        let state = store.lock_of_key(&key, None).await?;
        lock_visible = Some(state.mode.is_some() && state.retain_until.is_some());
    }
    match store.put_key(&key, canary.clone(), lock, true).await {
        Ok(second) => {
            conditional_put = Some(false);
            versions.extend(second);
        }
        Err(e) if e.code() == Some("PreconditionFailed") => conditional_put = Some(true),
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => warnings.push(Warning::new(
            format!(
                "Could not tell whether bucket {bucket} honours If-None-Match: the second canary write failed with {}.",
            e.code().unwrap_or("an error")
            ),
            format!(
                "バケット {bucket} が If-None-Match を守るか判定できませんでした（2 回目のカナリア書き込みが {} で失敗）。",
            e.code().unwrap_or("an error")
            ),
        )),
    }
    if object_lock_enabled {
        for version in &versions {
            match store.delete_key_version(&key, version, true).await {
                Ok(()) => can_bypass_governance = Some(true),
                Err(e) if e.is_access_denied() => {
                    can_bypass_governance.get_or_insert(false);
                }
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => warnings.push(Warning::new(
                    format!(
                        "Could not tell whether the credentials can bypass governance retention in bucket {bucket}: deleting the canary failed with {}.",
                    e.code().unwrap_or("an error")
                    ),
                    format!(
                        "バケット {bucket} で認証情報が governance 保持を回避できるか判定できませんでした（カナリアの削除が {} で失敗）。",
                    e.code().unwrap_or("an error")
                    ),
                )),
            }
        }
    } else if versions.is_empty() {
        store.delete_marker(&key).await?;
    } else {
        for version in &versions {
            store.delete_key_version(&key, version, false).await?;
        }
    }

    // What it all means.
    if versioning != Versioning::Enabled {
        warnings.push(Warning::new(
            format!(
                "Versioning is {} on bucket {bucket}: without it an overwrite or delete destroys data and object lock cannot work. Enable versioning (a bucket created with object lock has it on).",
            match versioning {
                Versioning::Suspended => "suspended",
                _ => "off",
            }
            ),
            format!(
                "バケット {bucket} のバージョニングが{}です。これがないと上書きや削除でデータが失われ、オブジェクトロックも働きません。バージョニングを有効にしてください（オブジェクトロック付きで作成したバケットでは有効になっています）。",
            match versioning {
                Versioning::Suspended => "一時停止中",
                _ => "無効",
            }
            ),
        ));
    }
    if !object_lock_enabled {
        warnings.push(Warning::new(
            format!(
                "Object lock is not enabled on bucket {bucket}: anyone holding the credentials can delete or overwrite the backups, so copies here do not count as offline (③-1). Create a bucket with object lock enabled and use it as the target."
            ),
            format!(
                "バケット {bucket} でオブジェクトロックが有効ではありません。認証情報を持つ誰もがバックアップを削除・上書きできるため、ここのコピーはオフライン（③-1）として数えません。オブジェクトロックを有効にしたバケットを作成し、保管先にしてください。"
            ),
        ));
    } else {
        match store.config().lock {
            None => warnings.push(Warning::new(
                format!(
                    "Bucket {bucket} has object lock, but hokan is configured to write without a retention: set lock mode \"compliance\" on the target so every object is locked."
                ),
                format!(
                    "バケット {bucket} にはオブジェクトロックがありますが、hokan は保持期間なしで書き込む設定です。すべてのオブジェクトがロックされるよう、保管先のロックモードを \"compliance\" にしてください。"
                ),
            )),
            Some(spec) if spec.mode == LockMode::Governance => warnings.push(Warning::new(
                format!(
                    "hokan writes to bucket {bucket} in GOVERNANCE mode: credentials with s3:BypassGovernanceRetention can delete the backups, so these copies count as offline only in a weaker sense. Use COMPLIANCE mode for full strength."
                ),
                format!(
                    "hokan はバケット {bucket} に GOVERNANCE モードで書き込みます。s3:BypassGovernanceRetention を持つ認証情報でバックアップを削除できるため、これらのコピーは弱い意味でのみオフラインとして数えます。完全な強度には COMPLIANCE モードを使ってください。"
                ),
            )),
            Some(_) => {}
        }
    }
    if let Some(d) = default_retention {
        warnings.push(Warning::new(
            format!(
                "Bucket {bucket} has a default retention ({} {}): S3 applies it to hokan's lock objects too, which then cannot be removed when an operation ends. hokan sets a retention on every backup object itself, so remove the bucket's default retention.",
            d.days.map(|n| format!("{n} days")).or(d.years.map(|n| format!("{n} years"))).unwrap_or_default(),
            d.mode.map(LockMode::as_str).unwrap_or("")
            ),
            format!(
                "バケット {bucket} に既定の保持期間（{} {}）があります。S3 はこれを hokan のロック用オブジェクトにも適用するため、操作の終了時に削除できなくなります。hokan は各バックアップオブジェクトに自ら保持期間を設定するので、バケットの既定の保持期間を削除してください。",
            d.days.map(|n| format!("{n} 日")).or(d.years.map(|n| format!("{n} 年"))).unwrap_or_default(),
            d.mode.map(LockMode::as_str).unwrap_or("")
            ),
        ));
    }
    if can_bypass_governance == Some(true) {
        warnings.push(Warning::new(
            format!(
                "DANGER: these credentials can bypass GOVERNANCE retention in bucket {bucket} (the canary was deleted with x-amz-bypass-governance-retention). Whoever steals them can delete governance-locked objects. Remove s3:BypassGovernanceRetention from hokan's credentials and write in COMPLIANCE mode."
            ),
            format!(
                "危険: この認証情報でバケット {bucket} の GOVERNANCE 保持を回避できます（x-amz-bypass-governance-retention でカナリアを削除できました）。盗んだ者は governance でロックされたオブジェクトを削除できます。hokan の認証情報から s3:BypassGovernanceRetention を外し、COMPLIANCE モードで書き込んでください。"
            ),
        ));
    }
    if can_change_lock_config == Some(true) {
        warnings.push(Warning::new(
            format!(
                "DANGER: these credentials can change the object lock configuration of bucket {bucket} (PutObjectLockConfiguration was accepted). Whoever steals them can shorten the default retention. Remove s3:PutBucketObjectLockConfiguration from hokan's credentials."
            ),
            format!(
                "危険: この認証情報でバケット {bucket} のオブジェクトロック設定を変更できます（PutObjectLockConfiguration が受け付けられました）。盗んだ者は既定の保持期間を短くできます。hokan の認証情報から s3:PutBucketObjectLockConfiguration を外してください。"
            ),
        ));
    }
    if lock_visible == Some(false) {
        warnings.push(Warning::new(
            format!(
                "HeadObject does not show the lock of a locked canary in bucket {bucket}: hokan cannot verify or extend retentions. Give the credentials s3:GetObjectRetention (and s3:PutObjectRetention)."
            ),
            format!(
                "バケット {bucket} で、ロックしたカナリアのロックが HeadObject に表示されません。hokan は保持期間を確認も延長もできません。認証情報に s3:GetObjectRetention（と s3:PutObjectRetention）を与えてください。"
            ),
        ));
    }
    // On a versioned bucket hokan settles such a race itself: after each
    // write the first version wins and the others get AlreadyExists (Ceph
    // RGW ignores If-None-Match there). Only an unversioned bucket, where
    // the second write replaces the first, is left with the race.
    if conditional_put == Some(false) && versioning != Versioning::Enabled {
        warnings.push(Warning::new(
            format!(
                "Bucket {bucket} ignores If-None-Match on writes: two hokan processes writing the same object at the same moment could both succeed (no data is lost on a versioned bucket). Run one writer per repository, or use a service that supports conditional writes."
            ),
            format!(
                "バケット {bucket} は書き込み時の If-None-Match を無視します。2 つの hokan プロセスが同時に同じオブジェクトを書くと両方成功しうります（バージョニングされたバケットではデータは失われません）。リポジトリごとに書き込みは 1 つにするか、条件付き書き込みに対応したサービスを使ってください。"
            ),
        ));
    }
    if let Some(skew) = clock_skew_secs.filter(|s| s.abs() > MAX_CLOCK_SKEW_SECS) {
        warnings.push(Warning::new(
            format!(
                "This machine's clock differs from the server of bucket {bucket} by {skew} seconds: retention dates are computed from the local clock and would be off by as much. Synchronise the clock (NTP)."
            ),
            format!(
                "このマシンの時計がバケット {bucket} のサーバと {skew} 秒ずれています。保持期間の日時はローカルの時計で計算されるため、同じだけずれます。時計を同期してください（NTP）。"
            ),
        ));
    }

    Ok(BucketReport {
        bucket,
        versioning,
        object_lock_enabled,
        default_retention,
        can_bypass_governance,
        can_change_lock_config,
        clock_skew_secs,
        conditional_put,
        lock_visible,
        warnings,
    })
}

/// Records the `Date` header of a response.
#[derive(Clone, Debug, Default)]
struct ServerDate(Arc<Mutex<Option<OffsetDateTime>>>);

impl ServerDate {
    fn get(&self) -> Option<OffsetDateTime> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Intercept for ServerDate {
    fn name(&self) -> &'static str {
        "hokan-s3 server date"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let parsed = context
            .response()
            .headers()
            .get("date")
            .and_then(|d| aws_smithy_types::DateTime::from_str(d, Format::HttpDate).ok())
            .and_then(|d| OffsetDateTime::from_unix_timestamp(d.secs()).ok());
        if parsed.is_some() {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = parsed;
        }
        Ok(())
    }
}
