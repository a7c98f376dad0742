//! Key-level requests shared by the store, the bucket check and the probe,
//! and the conversions between SDK and hokan types.
//!
//! Every request takes one permit of the store's semaphore for as long as
//! it is in flight, so the number of requests on the uplink never exceeds
//! [`crate::S3Config::concurrency`].

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode,
};
use base64::Engine as _;
use md5::{Digest, Md5};
use time::OffsetDateTime;

use crate::error::{from_sdk, S3Error};
use crate::{LockMode, ObjectLockState, S3Store};

impl S3Store {
    pub(crate) async fn head_key(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<HeadObjectOutput, S3Error> {
        let _permit = self.permit().await;
        self.client
            .head_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.err("HeadObject", key, SdkErr::from(e)))
    }

    pub(crate) async fn lock_of_key(
        &self,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectLockState, S3Error> {
        let head = self.head_key(key, version_id).await?;
        Ok(lock_state(&head))
    }

    /// PutObject of a whole body. With `lock`, sets the retention; with
    /// `if_none_match`, refuses to replace (412 → `PreconditionFailed` code).
    /// Returns the new version id.
    pub(crate) async fn put_key(
        &self,
        key: &str,
        data: bytes::Bytes,
        lock: Option<(LockMode, OffsetDateTime)>,
        if_none_match: bool,
    ) -> Result<Option<String>, S3Error> {
        let _permit = self.permit().await;
        let out = self
            .client
            .put_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .content_length(data.len() as i64)
            .content_md5(content_md5(&data))
            .set_if_none_match(if_none_match.then(|| "*".to_string()))
            .set_object_lock_mode(lock.map(|(m, _)| object_lock_mode(m)))
            .set_object_lock_retain_until_date(lock.map(|(_, t)| to_smithy(t)))
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| self.err("PutObject", key, SdkErr::from(e)))?;
        Ok(out.version_id().map(str::to_string))
    }

    pub(crate) async fn put_retention(
        &self,
        key: &str,
        version_id: Option<&str>,
        mode: LockMode,
        until: OffsetDateTime,
    ) -> Result<(), S3Error> {
        let _permit = self.permit().await;
        let retention = ObjectLockRetention::builder()
            .mode(match mode {
                LockMode::Compliance => ObjectLockRetentionMode::Compliance,
                LockMode::Governance => ObjectLockRetentionMode::Governance,
            })
            .retain_until_date(to_smithy(until))
            .build();
        self.client
            .put_object_retention()
            .bucket(&self.cfg.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .retention(retention)
            .send()
            .await
            .map_err(|e| self.err("PutObjectRetention", key, SdkErr::from(e)))?;
        Ok(())
    }

    pub(crate) async fn delete_key_version(
        &self,
        key: &str,
        version_id: &str,
        bypass_governance: bool,
    ) -> Result<(), S3Error> {
        let _permit = self.permit().await;
        self.client
            .delete_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .version_id(version_id)
            .set_bypass_governance_retention(bypass_governance.then_some(true))
            .send()
            .await
            .map_err(|e| self.err("DeleteObject", key, SdkErr::from(e)))?;
        Ok(())
    }

    /// Every version (not delete markers) of the keys under `prefix`:
    /// (key, version id, last modified, size). ListObjectVersions pages by
    /// key and version markers.
    pub(crate) async fn versions_under(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, aws_smithy_types::DateTime, u64)>, S3Error> {
        let mut out = Vec::new();
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = {
                let _permit = self.permit().await;
                self.client
                    .list_object_versions()
                    .bucket(&self.cfg.bucket)
                    .prefix(prefix)
                    .set_key_marker(key_marker.take())
                    .set_version_id_marker(version_marker.take())
                    .send()
                    .await
                    .map_err(|e| self.err("ListObjectVersions", prefix, SdkErr::from(e)))?
            };
            for v in page.versions() {
                if let (Some(k), Some(id), Some(at)) = (v.key(), v.version_id(), v.last_modified())
                {
                    out.push((
                        k.to_string(),
                        id.to_string(),
                        *at,
                        v.size().unwrap_or(0).max(0) as u64,
                    ));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The first version of `key` (the oldest that is not a delete
    /// marker): `NotFound` when there is none.
    pub(crate) async fn first_version(&self, key: &str) -> Result<String, S3Error> {
        let mut first: Option<(aws_smithy_types::DateTime, String)> = None;
        for (k, id, at, _) in self.versions_under(key).await? {
            // Listed newest first: on a tie (one-second resolution) the
            // later one listed is the older.
            if k == key && first.as_ref().is_none_or(|(f, _)| at <= *f) {
                first = Some((at, id));
            }
        }
        first.map(|(_, id)| id).ok_or_else(|| S3Error::NotFound {
            bucket: self.cfg.bucket.clone(),
            key: key.to_string(),
        })
    }

    pub(crate) async fn get_key(
        &self,
        key: &str,
        range: Option<String>,
    ) -> Result<GetResult, S3Error> {
        let version = if self.cfg.original_versions {
            Some(self.first_version(key).await?)
        } else {
            None
        };
        let _permit = self.permit().await;
        let out = match self
            .client
            .get_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .set_version_id(version)
            .set_range(range)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = SdkErr::from(e);
                if e.status == Some(416) {
                    return Ok(GetResult {
                        data: Vec::new(),
                        ranged: true,
                    });
                }
                return Err(self.err("GetObject", key, e));
            }
        };
        let ranged = out.content_range().is_some();
        let data = out.body.collect().await.map_err(|e| S3Error::Request {
            op: "GetObject",
            bucket: self.cfg.bucket.clone(),
            key: key.to_string(),
            detail: format!("the connection broke while reading ({e})"),
            code: None,
            transient: true,
            source: Box::new(e),
        })?;
        Ok(GetResult {
            data: data.into_bytes().to_vec(),
            ranged,
        })
    }

    /// DeleteObject without a version: on an unversioned bucket it deletes,
    /// on a versioned one it adds a delete marker.
    pub(crate) async fn delete_marker(&self, key: &str) -> Result<(), S3Error> {
        let _permit = self.permit().await;
        self.client
            .delete_object()
            .bucket(&self.cfg.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| self.err("DeleteObject", key, SdkErr::from(e)))?;
        Ok(())
    }
}

pub(crate) struct GetResult {
    pub(crate) data: Vec<u8>,
    /// Whether the server answered the Range (206); if not, the body is the
    /// whole object.
    pub(crate) ranged: bool,
}

/// Builds the [`S3Error`] for an operation, bucket and key.
type Convert = Box<dyn FnOnce(&'static str, &str, &str) -> S3Error + Send>;

/// An SDK error with its operation type erased, and its HTTP status kept.
pub(crate) struct SdkErr {
    pub(crate) status: Option<u16>,
    /// Whether the request ran out of time (an attempt or the whole
    /// operation), rather than being answered or refused.
    pub(crate) timed_out: bool,
    convert: Convert,
}

impl SdkErr {
    pub(crate) fn into_s3(self, op: &'static str, bucket: &str, key: &str) -> S3Error {
        (self.convert)(op, bucket, key)
    }
}

impl<E> From<SdkError<E, aws_sdk_s3::config::http::HttpResponse>> for SdkErr
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Self {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let timed_out = match &e {
            SdkError::TimeoutError(_) => true,
            SdkError::DispatchFailure(d) => d.is_timeout(),
            _ => false,
        };
        SdkErr {
            status,
            timed_out,
            convert: Box::new(move |op, bucket, key| from_sdk(op, bucket, key, e)),
        }
    }
}

pub(crate) fn lock_state(head: &HeadObjectOutput) -> ObjectLockState {
    ObjectLockState {
        mode: head.object_lock_mode().and_then(|m| match m {
            ObjectLockMode::Compliance => Some(LockMode::Compliance),
            ObjectLockMode::Governance => Some(LockMode::Governance),
            _ => None,
        }),
        retain_until: head.object_lock_retain_until_date().map(from_smithy),
        legal_hold: head.object_lock_legal_hold_status() == Some(&ObjectLockLegalHoldStatus::On),
        version_id: head.version_id().map(str::to_string),
    }
}

pub(crate) fn object_lock_mode(mode: LockMode) -> ObjectLockMode {
    match mode {
        LockMode::Compliance => ObjectLockMode::Compliance,
        LockMode::Governance => ObjectLockMode::Governance,
    }
}

/// Base64 of the MD5 of `data`, for `Content-MD5`.
pub(crate) fn content_md5(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(data))
}

/// Round up to a whole second (S3 and moto parse retain-until dates without
/// fractions most reliably).
pub(crate) fn ceil_secs(t: OffsetDateTime) -> OffsetDateTime {
    let secs = t.unix_timestamp() + i64::from(t.nanosecond() > 0);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(t)
}

pub(crate) fn to_smithy(t: OffsetDateTime) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.unix_timestamp())
}

pub(crate) fn from_smithy(t: &aws_smithy_types::DateTime) -> OffsetDateTime {
    let secs = t.secs() + i64::from(t.subsec_nanos() > 0);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-05-01T00:00:00Z`.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
