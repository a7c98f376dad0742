//! [`S3Error`]: what went wrong talking to the bucket, and what to do.
//!
//! Rules: every message names the bucket and key (`s3://bucket/key`) and ends
//! with what to do next; the SDK's error is kept as the `#[source]`, never
//! flattened away; whatever a caller branches on is a variant
//! ([`S3Error::NotFound`], [`S3Error::AccessDenied`],
//! [`S3Error::LockNotEnabled`]); [`S3Error::is_transient`] says whether a
//! retry later may help (network failures and 5xx answers, after the SDK's own
//! retries have run out).

use std::error::Error as StdError;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

/// A boxed error cause.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// An error from the S3 store, the bucket check or the probe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// The configuration cannot work; nothing was sent.
    #[error("invalid S3 configuration for bucket {bucket}: {what}; fix the [[s3]] settings")]
    Config {
        /// The bucket.
        bucket: String,
        /// What is wrong.
        what: String,
    },
    /// The client's runtime could not be started.
    #[error("cannot start the S3 client for bucket {bucket}: {source}; the system may be out of threads or memory")]
    Runtime {
        /// The bucket.
        bucket: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The object (or object version) does not exist.
    #[error("s3://{bucket}/{key} does not exist")]
    NotFound {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The service refused the request for lack of permission, or because an
    /// object lock forbids it.
    #[error("{op} s3://{bucket}/{key} was refused with access denied ({detail}); {}", access_hint(.op, .code.as_deref()))]
    AccessDenied {
        /// What was being done (`PutObject`, `DeleteObject`, …).
        op: &'static str,
        /// The bucket.
        bucket: String,
        /// The key (empty for bucket requests).
        key: String,
        /// The service's code and message.
        detail: String,
        /// The service's error code.
        code: Option<String>,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
    /// The bucket has no object lock configuration, so locked writes are
    /// impossible.
    #[error("bucket {bucket} does not have object lock enabled ({detail}); create a bucket with object lock enabled (or enable it on this bucket) and point the [[s3]] target at it, or write without lock and accept that these copies do not count as offline")]
    LockNotEnabled {
        /// The bucket.
        bucket: String,
        /// The service's answer.
        detail: String,
    },
    /// The server did not answer in time: every attempt of the request, or
    /// the request as a whole, ran out of time (a stalled server, a dead
    /// uplink, a firewall dropping packets).
    #[error("the S3 server {endpoint} did not answer {op} s3://{bucket}/{key} within {}s (attempts and retries included); check that the server is running and reachable from this machine (network, proxy, firewall), or raise operation_timeout_secs of the [[s3]] target if the uplink is merely slow, then run the command again", .limit.as_secs())]
    Timeout {
        /// What was being done.
        op: &'static str,
        /// The endpoint (URL) that did not answer.
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// The key (empty for bucket requests).
        key: String,
        /// The configured limit of a whole request.
        limit: std::time::Duration,
        /// The error as the SDK reported it.
        #[source]
        source: Box<S3Error>,
    },
    /// Any other failure of a request.
    #[error("{op} s3://{bucket}/{key} failed: {detail}; {}", if *.transient {
        "the network or the service failed even after retries: check the uplink and the endpoint, then run the command again"
    } else {
        "check the endpoint, region, bucket name and credentials of the [[s3]] target"
    })]
    Request {
        /// What was being done.
        op: &'static str,
        /// The bucket.
        bucket: String,
        /// The key (empty for bucket requests).
        key: String,
        /// The service's code, message and HTTP status, or the failure class.
        detail: String,
        /// The service's error code, if it answered with one.
        code: Option<String>,
        /// Whether a retry later may succeed.
        transient: bool,
        /// The SDK's error.
        #[source]
        source: BoxError,
    },
}

impl S3Error {
    /// Whether the operation may succeed if retried later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            S3Error::Request {
                transient: true,
                ..
            } | S3Error::Timeout { .. }
        )
    }

    /// Whether this is [`S3Error::Timeout`]: the server did not answer.
    pub fn is_timeout(&self) -> bool {
        matches!(self, S3Error::Timeout { .. })
    }

    /// Whether this is [`S3Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, S3Error::NotFound { .. })
    }

    /// Whether this is [`S3Error::AccessDenied`].
    pub fn is_access_denied(&self) -> bool {
        matches!(self, S3Error::AccessDenied { .. })
    }

    /// The service's error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            S3Error::AccessDenied { code, .. } | S3Error::Request { code, .. } => code.as_deref(),
            S3Error::Timeout { source, .. } => source.code(),
            _ => None,
        }
    }
}

/// What an SDK error is, in the terms callers branch on.
pub(crate) struct Classified {
    /// The service's error code (`NoSuchKey`, `AccessDenied`, …), if any.
    pub code: Option<String>,
    /// The HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// `code: message (HTTP status)` or the failure class.
    pub detail: String,
    /// Whether a retry may help.
    pub transient: bool,
}

/// Classify an SDK error without consuming it.
pub(crate) fn classify<E>(err: &SdkError<E, HttpResponse>) -> Classified
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().map(str::to_string);
            let status = Some(service.raw().status().as_u16());
            let mut detail = code.clone().unwrap_or_else(|| "no error code".into());
            if let Some(message) = e.message() {
                detail.push_str(": ");
                detail.push_str(message);
            }
            if let Some(status) = status {
                detail.push_str(&format!(" (HTTP {status})"));
            }
            let transient = status.is_some_and(|s| s >= 500 || s == 429)
                || matches!(
                    code.as_deref(),
                    Some(
                        "SlowDown"
                            | "RequestTimeout"
                            | "Throttling"
                            | "ThrottlingException"
                            | "InternalError"
                            | "ServiceUnavailable"
                            | "RequestTimeTooSkewed"
                    )
                );
            Classified {
                code,
                status,
                detail,
                transient,
            }
        }
        SdkError::TimeoutError(_) => Classified {
            code: None,
            status: None,
            detail: format!("timed out ({})", chain(err)),
            transient: true,
        },
        SdkError::DispatchFailure(d) => Classified {
            code: None,
            status: None,
            detail: format!("could not reach the service ({})", chain(err)),
            // A user error (bad endpoint URL, no credentials) does not heal.
            transient: !d.is_user(),
        },
        SdkError::ResponseError(_) => Classified {
            code: None,
            status: None,
            detail: format!("broken response ({})", chain(err)),
            transient: true,
        },
        _ => Classified {
            code: None,
            status: None,
            detail: format!("request not sent ({})", chain(err)),
            transient: false,
        },
    }
}

/// The error and its causes, joined with `: ` (the SDK's top-level messages
/// alone are terse, e.g. "dispatch failure").
pub(crate) fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// Turn an SDK error into an [`S3Error`] for `op` on `bucket`/`key`.
pub(crate) fn from_sdk<E>(
    op: &'static str,
    bucket: &str,
    key: &str,
    err: SdkError<E, HttpResponse>,
) -> S3Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let c = classify(&err);
    // HeadObject's 404 has no body, so no code; other 404s name what is
    // missing (NoSuchBucket, ObjectLockConfigurationNotFoundError, …).
    let not_found = match c.code.as_deref() {
        None | Some("NotFound") => c.status == Some(404),
        Some(code) => matches!(code, "NoSuchKey" | "NoSuchVersion"),
    };
    if not_found {
        return S3Error::NotFound {
            bucket: bucket.to_string(),
            key: key.to_string(),
        };
    }
    let lock_missing = c.detail.contains("Object Lock") || c.detail.contains("ObjectLock");
    if c.code.as_deref() == Some("InvalidRequest") && lock_missing {
        return S3Error::LockNotEnabled {
            bucket: bucket.to_string(),
            detail: c.detail,
        };
    }
    if c.status == Some(403) || c.code.as_deref() == Some("AccessDenied") {
        return S3Error::AccessDenied {
            op,
            bucket: bucket.to_string(),
            key: key.to_string(),
            detail: c.detail,
            code: c.code,
            source: Box::new(err),
        };
    }
    S3Error::Request {
        op,
        bucket: bucket.to_string(),
        key: key.to_string(),
        detail: c.detail,
        code: c.code,
        transient: c.transient,
        source: Box::new(err),
    }
}

/// The body of a 200 answer the SDK could not parse, for the few answers
/// where moto 5.2 names the XML root differently from AWS
/// (`GetBucketVersioningResponse` instead of `VersioningConfiguration`).
pub(crate) fn unparsed_ok_body<E>(err: &SdkError<E, HttpResponse>) -> Option<String> {
    let raw = err.raw_response()?;
    if raw.status().as_u16() != 200 {
        return None;
    }
    raw.body()
        .bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The text of the first `<tag>…</tag>` in `xml` (enough for the flat
/// answers [`unparsed_ok_body`] is used for).
pub(crate) fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

/// What to do about an access denied: credentials the server does not know
/// or whose signature does not match are a configuration mistake, not a
/// missing permission.
fn access_hint(op: &str, code: Option<&str>) -> String {
    match code {
        Some("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "InvalidToken" | "ExpiredToken") => {
            "the server does not accept these credentials: check access_key_id and the secret in secret_access_key_file (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), and that they belong to this endpoint, then run the command again".to_string()
        }
        _ => format!("if this is not an object lock at work, give the credentials the permission for {op} in the bucket or IAM policy"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_bucket_and_what_to_do() {
        let e = S3Error::LockNotEnabled {
            bucket: "backup".into(),
            detail: "InvalidRequest: Bucket is missing Object Lock Configuration (HTTP 400)".into(),
        };
        assert_eq!(
            e.to_string(),
            "bucket backup does not have object lock enabled (InvalidRequest: Bucket is missing Object Lock Configuration (HTTP 400)); create a bucket with object lock enabled (or enable it on this bucket) and point the [[s3]] target at it, or write without lock and accept that these copies do not count as offline"
        );
        let e = S3Error::Request {
            op: "PutObject",
            bucket: "backup".into(),
            key: "data/ab/ab01".into(),
            detail: "timed out".into(),
            code: None,
            transient: true,
            source: "x".into(),
        };
        assert_eq!(
            e.to_string(),
            "PutObject s3://backup/data/ab/ab01 failed: timed out; the network or the service failed even after retries: check the uplink and the endpoint, then run the command again"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn a_timeout_names_the_server_and_is_transient() {
        let e = S3Error::Timeout {
            op: "HeadObject",
            endpoint: "https://s3.example.jp".into(),
            bucket: "backup".into(),
            key: "config".into(),
            limit: std::time::Duration::from_secs(6),
            source: Box::new(S3Error::NotFound {
                bucket: "backup".into(),
                key: "config".into(),
            }),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("the S3 server https://s3.example.jp did not answer HeadObject s3://backup/config within 6s"),
            "{text}"
        );
        assert!(text.contains("operation_timeout_secs"), "{text}");
        assert!(e.is_transient() && e.is_timeout());
    }

    #[test]
    fn xml_text_reads_flat_answers() {
        let body = "<?xml version=\"1.0\"?><GetBucketVersioningResponse><Status>Enabled</Status></GetBucketVersioningResponse>";
        assert_eq!(xml_text(body, "Status"), Some("Enabled"));
        assert_eq!(xml_text("<GetBucketVersioningResponse/>", "Status"), None);
    }
}
