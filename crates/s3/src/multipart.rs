//! Multipart upload of large objects.
//!
//! Parts go up in parallel, each holding one permit of the store's semaphore,
//! each with its own `Content-MD5`. CompleteMultipartUpload carries
//! `If-None-Match: *`, so put-once holds for large objects too. On any
//! failure the upload is aborted (best effort: with the uplink down the abort
//! fails too, and the parts stay invisible to listings until a lifecycle rule
//! `AbortIncompleteMultipartUpload` removes them).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use base64::Engine as _;
use md5::{Digest, Md5};
use time::OffsetDateTime;

use crate::error::S3Error;
use crate::requests::{object_lock_mode, to_smithy, SdkErr};
use crate::{LockMode, S3Store};

impl S3Store {
    /// Upload `data` to `key` in parts, with `lock` set on the upload.
    pub(crate) async fn put_multipart(
        &self,
        key: &str,
        data: bytes::Bytes,
        lock: Option<(LockMode, OffsetDateTime)>,
    ) -> Result<Option<String>, S3Error> {
        let bucket = &self.cfg.bucket;
        let created = {
            let _permit = self.permit().await;
            self.client
                .create_multipart_upload()
                .bucket(bucket)
                .key(key)
                .set_object_lock_mode(lock.map(|(m, _)| object_lock_mode(m)))
                .set_object_lock_retain_until_date(lock.map(|(_, t)| to_smithy(t)))
                .send()
                .await
                .map_err(|e| self.err("CreateMultipartUpload", key, SdkErr::from(e)))?
        };
        let Some(upload_id) = created.upload_id().map(str::to_string) else {
            return Err(S3Error::Request {
                op: "CreateMultipartUpload",
                bucket: bucket.clone(),
                key: key.to_string(),
                detail: "the answer held no upload id".into(),
                code: None,
                transient: false,
                source: "no upload id".into(),
            });
        };
        let mut result = self.upload_parts(key, &upload_id, data).await;
        if let (Ok(version), Some((mode, until))) = (&result, lock) {
            let version = version.clone();
            result = self
                .ensure_lock(key, version.as_deref(), mode, until)
                .await
                .map(|()| version);
        }
        if result.is_err() {
            // Best effort: if the network is down the abort fails too, and
            // the parts stay invisible until a lifecycle rule removes them.
            let abort = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
            if let Err(e) = abort {
                tracing::warn!(
                    key = %key,
                    error = %crate::error::chain(&e),
                    "could not abort a failed multipart upload; its parts stay invisible until a lifecycle rule removes them"
                );
            }
        }
        result
    }

    /// Make sure a just-completed multipart object (`version`, the one this
    /// upload made; `None`: the current one) carries its lock: Ceph RGW 16
    /// and moto 5.2 silently drop the lock headers of
    /// CreateMultipartUpload. If the retention is missing, in another mode
    /// or shorter than asked, it is set with PutObjectRetention and read
    /// back. The object is then unlocked for the moment between completing
    /// and this PutObjectRetention (unless the bucket has a default
    /// retention); AWS S3 locks it at creation.
    async fn ensure_lock(
        &self,
        key: &str,
        version: Option<&str>,
        mode: LockMode,
        until: OffsetDateTime,
    ) -> Result<(), S3Error> {
        let enough = |s: &crate::ObjectLockState| {
            s.mode
                .is_some_and(|m| m == mode || m == LockMode::Compliance)
                && s.retain_until.is_some_and(|u| u >= until)
        };
        let state = self.lock_of_key(key, version).await?;
        if enough(&state) {
            return Ok(());
        }
        tracing::debug!(key = %key, "the server dropped the lock of a multipart upload; setting it now");
        let version = version.or(state.version_id.as_deref());
        self.put_retention(key, version, mode, until).await?;
        let state = self.lock_of_key(key, version).await?;
        if enough(&state) {
            return Ok(());
        }
        Err(S3Error::Request {
            op: "PutObjectRetention",
            bucket: self.cfg.bucket.clone(),
            key: key.to_string(),
            detail: format!(
                "the object was written without its lock and setting it did not hold: {}",
                state.describe()
            ),
            code: None,
            transient: false,
            source: "lock not set".into(),
        })
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        data: bytes::Bytes,
    ) -> Result<Option<String>, S3Error> {
        let part_size = self.cfg.part_size as usize;
        let mut tasks = tokio::task::JoinSet::new();
        for (i, start) in (0..data.len()).step_by(part_size).enumerate() {
            let part = data.slice(start..(start + part_size).min(data.len()));
            let number = i as i32 + 1;
            let client = self.client.clone();
            let permits = self.permits.clone();
            let bucket = self.cfg.bucket.clone();
            let (key, upload_id) = (key.to_string(), upload_id.to_string());
            tasks.spawn(async move {
                let _permit = permits
                    .acquire_owned()
                    .await
                    .expect("semaphore never closed");
                let digest: [u8; 16] = Md5::digest(&part).into();
                let out = client
                    .upload_part()
                    .bucket(&bucket)
                    .key(&key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .content_length(part.len() as i64)
                    .content_md5(base64::engine::general_purpose::STANDARD.encode(digest))
                    .body(ByteStream::from(part))
                    .send()
                    .await
                    .map_err(|e| SdkErr::from(e).into_s3("UploadPart", &bucket, &key))?;
                let done = CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build();
                Ok::<_, S3Error>((done, digest))
            });
        }
        let mut parts = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(part)) => parts.push(part),
                Ok(Err(e)) => return Err(e), // dropping `tasks` aborts the rest
                Err(join) => {
                    return Err(S3Error::Request {
                        op: "UploadPart",
                        bucket: self.cfg.bucket.clone(),
                        key: key.to_string(),
                        detail: format!("upload task failed: {join}"),
                        code: None,
                        transient: false,
                        source: Box::new(join),
                    })
                }
            }
        }
        parts.sort_by_key(|(p, _)| p.part_number());
        // S3's ETag of a multipart object: MD5 of the parts' MD5s, "-", count.
        let mut all = Md5::new();
        for (_, digest) in &parts {
            all.update(digest);
        }
        let expected_etag = format!("{}-{}", hex(&all.finalize()), parts.len());
        let parts = parts.into_iter().map(|(p, _)| p).collect();
        let _permit = self.permit().await;
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.cfg.bucket)
            .key(key)
            .upload_id(upload_id)
            .if_none_match("*")
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        match completed {
            Ok(out) => Ok(out.version_id().map(str::to_string)),
            // 200 with a body the SDK cannot parse: moto 5.2 answers with a
            // `CompleteMultipartUploadResponse` root, recent SDKs insist on
            // `...Result`. The status says it worked; the ETag proves it.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 200) => {
                let head = self.head_key(key, None).await?;
                let etag = head.e_tag().unwrap_or_default().trim_matches('"');
                if etag == expected_etag {
                    tracing::debug!(key = %key, "multipart upload verified by its ETag");
                    Ok(head.version_id().map(str::to_string))
                } else {
                    Err(self.err("CompleteMultipartUpload", key, SdkErr::from(e)))
                }
            }
            Err(e) => Err(self.err("CompleteMultipartUpload", key, SdkErr::from(e))),
        }
    }
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
