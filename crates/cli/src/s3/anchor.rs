//! Catalog anchors in S3 buckets ([`hokan_jobs::s3::anchor`]), as `status`
//! and `catalog verify` check the catalog against them: each anchor read
//! named, and each bucket or anchor that could not be read a note.

use hokan_catalog::anchor::Expected;
use hokan_jobs::s3::anchor::BucketAnchors;
use hokan_offline::Text;

use crate::ctx::SiteCtx;

/// The heads anchored in every configured `[[s3]]` bucket, to check the
/// catalog against (`Catalog::evidence`), and a note for each bucket (or
/// anchor) that could not be read: rollback detection is then incomplete.
/// Prints nothing.
pub fn bucket_anchors(ctx: &SiteCtx<'_>) -> (Vec<Expected>, Vec<Text>) {
    let Some(site) = &ctx.conf.loaded else {
        return (Vec::new(), Vec::new());
    };
    let found = hokan_jobs::s3::anchor::bucket_anchors(site, &ctx.conf.name);
    (
        hokan_jobs::site::judge::bucket_heads(&found, &anchor_name),
        notes(ctx, &found),
    )
}

pub use hokan_jobs::s3::anchor::name as anchor_name;

/// A note for each bucket (or anchor) of `found` that could not be read
/// or was ignored ([`hokan_jobs::s3::anchor::notes`]).
pub fn notes(ctx: &SiteCtx<'_>, found: &[BucketAnchors]) -> Vec<Text> {
    hokan_jobs::s3::anchor::notes(found, &ctx.conf.name, &|e| super::fail(ctx.lang, e).message)
}

#[cfg(test)]
mod tests {
    //! The anchor read back from a moto bucket catches a catalog rolled
    //! back to before the copy (the commands run in-process).
    use std::fs;
    use std::path::Path;

    use clap::Parser;
    use hokan_s3::testing::{MotoServer, TEST_ACCESS_KEY, TEST_SECRET};

    use super::*;
    use crate::exit;
    use crate::i18n::Lang;

    fn cli(dir: &Path, args: &[&str]) -> crate::Cli {
        let config = dir.join("hokan.toml");
        let mut all = vec![
            "hokan",
            "--config",
            config.to_str().unwrap(),
            "--lang",
            "en",
            "--quiet",
        ];
        all.extend_from_slice(args);
        crate::Cli::try_parse_from(all).unwrap()
    }

    fn run(dir: &Path, args: &[&str]) -> i32 {
        crate::commands::run(cli(dir, args), Lang::En)
            .unwrap_or_else(|f| panic!("hokan {args:?}: {}", f.message))
    }

    /// Copy the catalog's files (database, head, WAL if any) from `from`
    /// to `to`, removing those `from` lacks.
    fn copy_catalog(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for name in [
            "catalog.db",
            "catalog.db.head",
            "catalog.db-wal",
            "catalog.db-shm",
        ] {
            let (src, dst) = (from.join(name), to.join(name));
            if src.exists() {
                fs::copy(&src, &dst).unwrap();
            } else if dst.exists() {
                fs::remove_file(&dst).unwrap();
            }
        }
    }

    #[test]
    fn a_catalog_rolled_back_past_a_bucket_anchor_is_caught() {
        let m = MotoServer::start().unwrap_or_else(|e| panic!("moto is needed: {e}"));
        m.create_locked_bucket("hospital").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let data = dir.join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("record.txt"), "patient record\n").unwrap();
        fs::write(dir.join("pw.txt"), "correct horse battery staple\n").unwrap();
        // Private, as a site's passphrase file must be (else hokan warns).
        std::fs::set_permissions(
            dir.join("pw.txt"),
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
        )
        .unwrap();
        fs::write(dir.join("s3-secret"), format!("{TEST_SECRET}\n")).unwrap();
        fs::write(
            dir.join("hokan.toml"),
            format!(
                r#"[site]
name = "アンカー病院"
catalog = "{d}/catalog.db"

[repository]
path = "{d}/repo"
passphrase_file = "{d}/pw.txt"

[[source]]
name = "emr"
paths = ["{data}"]

[[s3]]
name = "cloud"
endpoint = "{endpoint}"
region = "us-east-1"
bucket = "hospital"
prefix = "hokan"
path_style = true
retention = "1d"
access_key_id = "{TEST_ACCESS_KEY}"
secret_access_key_file = "{d}/s3-secret"
"#,
                d = dir.display(),
                data = data.display(),
                endpoint = m.endpoint(),
            ),
        )
        .unwrap();
        assert_eq!(run(dir, &["init", "--insecure-fast-kdf"]), 0);
        assert_eq!(run(dir, &["backup", "--source", "emr"]), 0);
        let before = dir.join("before-copy");
        copy_catalog(dir, &before);
        // Events after the saved state, then the copy and its anchor, then
        // more events.
        assert_eq!(run(dir, &["catalog", "sync"]), 0);
        run(dir, &["s3", "check", "cloud"]);
        assert_eq!(run(dir, &["copy", "--to", "s3:cloud"]), 0);
        run(dir, &["s3", "check", "cloud"]);

        let g = cli(dir, &["status"]).global;
        let ctx = SiteCtx::new(&g, Lang::En).unwrap();
        let (expected, notes) = bucket_anchors(&ctx);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(expected.len(), 1, "{expected:?}");
        assert!(expected[0].from.en.contains("hospital"), "{expected:?}");
        let catalog = dir.join("catalog.db");
        let now = hokan_catalog::Catalog::open(&catalog)
            .unwrap()
            .verify_against(&expected)
            .unwrap();
        assert!(now.report.ok(), "{:?}", now.report.problems);
        assert!(now.facts.is_some());

        // Root on the server puts the old catalog back.
        copy_catalog(dir, &dir.join("after-copy"));
        copy_catalog(&before, dir);
        let rolled = hokan_catalog::Catalog::open(&catalog)
            .unwrap()
            .verify_against(&expected)
            .unwrap();
        assert!(!rolled.report.ok(), "the rollback went unnoticed");
        assert!(rolled.facts.is_none());
        let said = format!("{:?}", rolled.report.problems);
        assert!(said.contains("anchors/"), "{said}");
        // The commands judge the same: status and report refuse to judge
        // (exit 12), catalog verify finds it (exit 4).
        assert_eq!(run(dir, &["status", "--no-observe"]), exit::UNTRUSTED);
        assert_eq!(
            run(
                dir,
                &[
                    "report",
                    "--format",
                    "json",
                    "--output",
                    dir.join("r.json").to_str().unwrap()
                ]
            ),
            exit::UNTRUSTED
        );
        assert_eq!(run(dir, &["catalog", "verify"]), exit::DAMAGE);
        // A write after the rollback (database and head file agree) does
        // not cover it: the bucket's anchor is still not on the chain.
        assert_eq!(run(dir, &["catalog", "sync"]), 0);
        assert_eq!(run(dir, &["status", "--no-observe"]), exit::UNTRUSTED);
        // Back to the real catalog: judged again.
        copy_catalog(&dir.join("after-copy"), dir);
        assert_ne!(run(dir, &["status", "--no-observe"]), exit::UNTRUSTED);

        // A bucket that does not answer is a note, not silence.
        drop(m);
        let (expected, notes) = bucket_anchors(&ctx);
        assert!(expected.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].en.contains("rollback detection incomplete")
                && notes[0].en.contains("hospital"),
            "{notes:?}"
        );
    }
}
