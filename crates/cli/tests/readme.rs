//! Every `hokan …` command in README.md's code blocks runs against the demo
//! site (`hokan demo`: simulated tape library and RDX drive), so README and
//! program cannot drift apart. A command clap does not know fails the test;
//! so does a command that fails unless it is listed in [`EXPECTED`] with
//! the reason it cannot succeed on the demo site (hardware, cloud, a
//! placeholder). Those are reported loudly, never silently skipped.
//! Absolute paths in README commands are moved under the test's folder.

use std::path::Path;
use std::process::Command;

mod common;

/// Commands (by their README text, as a prefix) that are expected not to
/// succeed on the demo site, with why. They must still parse.
const EXPECTED: &[(&str, &str)] = &[
    (
        "hokan s3 ",
        "needs a live S3 bucket (the demo's moto server is stopped after the demo)",
    ),
    ("hokan copy --to s3:", "needs a live S3 bucket"),
    (
        "hokan run",
        "the night's S3 copy needs a live bucket, and the demo's tapes are all retained (the other steps are done)",
    ),
    (
        "hokan notify test",
        "the demo site has no [[notify]] targets (exit 10, a configuration error)",
    ),
    (
        "hokan backup --source emr /var/lib/emr/dump",
        "placeholder paths that do not exist",
    ),
    (
        "hokan disk format --pool rdx RDX-MON",
        "the README's cartridge names differ from the demo's",
    ),
    (
        "hokan disk backup",
        "no cartridge due in the simulated drive after the demo",
    ),
    (
        "hokan disk eject",
        "no cartridge in the simulated drive after the demo",
    ),
    (
        "hokan disk restore",
        "no cartridge in the simulated drive after the demo",
    ),
    (
        "hokan tape sim create",
        "the demo already made the simulated library",
    ),
    (
        "hokan tape label --pool weekday HKN001L9",
        "refused while retained (as README says)",
    ),
    (
        "hokan tape restore",
        "the cartridges holding the set are out of the simulated library",
    ),
    (
        "hokan tape backup",
        "the demo's cartridges are all retained",
    ),
    (
        "hokan vault ",
        "runs on the vault machine, with its folder and the primary's export; \
         crates/cli/tests/vault.rs runs these against a real export in two network namespaces",
    ),
    (
        "hokan serve --init",
        "the demo made the export's certificate already (it is never replaced)",
    ),
    (
        "hokan media add HKN001L9",
        "already in the demo's inventory",
    ),
    (
        "hokan web serve --listen 10.0.5.20:8443",
        "the example's management address is not on this machine (it would serve until stopped); \
         crates/cli/tests/web.rs and browser.rs serve the dashboard on loopback",
    ),
];

/// Shell words of one command line (quotes, no expansion).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true
            }
            (None, ' ' | '\t') => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `hokan …` commands of README's ```sh blocks: comments removed,
/// `a && b` split, `> file` dropped.
fn readme_commands() -> Vec<String> {
    let readme = include_str!("../../../README.md");
    let mut cmds = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && t == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        // Cut a comment: ` #` outside quotes.
        let mut q: Option<char> = None;
        let mut end = t.len();
        for (i, c) in t.char_indices() {
            match (q, c) {
                (Some(x), c) if c == x => q = None,
                (None, '"' | '\'') => q = Some(c),
                (None, '#') if i == 0 || t[..i].ends_with(' ') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        for part in t[..end].split("&&") {
            let part = part.trim();
            let part = part.split(" > ").next().unwrap().trim();
            if part.starts_with("hokan ") {
                cmds.push(part.to_owned());
            }
        }
    }
    cmds
}

#[test]
fn readme_has_commands() {
    let c = readme_commands();
    assert!(
        c.len() >= 30,
        "only {} hokan commands found: {c:?}",
        c.len()
    );
    assert!(c.iter().any(|c| c == "hokan status --no-observe"), "{c:?}");
}

#[test]
fn every_readme_command_runs_on_the_demo_site() {
    let tmp = common::demo::scratch();
    let dir = tmp.path().join("demo");
    let bin = env!("CARGO_BIN_EXE_hokan");
    let demo = Command::new(bin)
        .args(["demo", "--lang", "en"])
        .arg(&dir)
        .env("LANG", "C")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // The demo's moto server is stopped once the demo ends: let the S3
    // commands give up on the dead endpoint in seconds, not minutes of
    // retries (the defaults suit a real uplink).
    let conf = dir.join("hokan.toml");
    let toml = std::fs::read_to_string(&conf).unwrap();
    if toml.contains("[[s3]]\n") {
        let toml = toml.replacen(
            "[[s3]]\n",
            "[[s3]]\nconnect_timeout_secs = 1\nattempt_timeout_secs = 2\noperation_timeout_secs = 3\n",
            1,
        );
        std::fs::write(&conf, toml).unwrap();
    }
    let sandbox = tmp.path().join("root");
    std::fs::create_dir_all(&sandbox).unwrap();
    let pw = std::fs::read_to_string(dir.join("password.txt")).unwrap();
    let mut failures = Vec::new();
    let mut expected = Vec::new();
    for line in readme_commands() {
        let mut args: Vec<String> = words(&line)[1..].to_vec();
        // `hokan init` wants an empty folder: a new one in the sandbox.
        if args.first().map(String::as_str) == Some("init") {
            args.insert(0, sandbox.join("new-repo").display().to_string());
            args.insert(0, "--repo".into());
        }
        // Absolute paths of the README go under the sandbox.
        let args: Vec<String> = args
            .into_iter()
            .map(|a| match a.strip_prefix('/') {
                Some(rest) => sandbox.join(rest).display().to_string(),
                None => a,
            })
            .collect();
        let o = Command::new(bin)
            .current_dir(&dir)
            .args(&args)
            .env("LANG", "C")
            .env("HOKAN_PASSPHRASE", pw.trim_end())
            .env("HOKAN_OBSERVE_TIMEOUT", "5s")
            // `hokan web user add` reads the new password from here.
            .env("HOKAN_WEB_PASSWORD", "readme example password")
            .env_remove("HOKAN_REPO")
            .env_remove("HOKAN_CONFIG")
            .output()
            .unwrap();
        let code = o.status.code().unwrap_or(-1);
        let err = String::from_utf8_lossy(&o.stderr);
        let clap = code == 2
            && [
                "error: unexpected argument",
                "unrecognized subcommand",
                "error: invalid value",
                "required arguments were not provided",
                "error: a value is required",
            ]
            .iter()
            .any(|m| err.contains(m));
        if clap {
            failures.push(format!("{line}\n    unknown to clap: {err}"));
            continue;
        }
        let why = EXPECTED
            .iter()
            .find(|(p, _)| line.starts_with(p))
            .map(|(_, w)| *w);
        match (code, why) {
            (0, _) => {}
            (_, Some(w)) => expected.push(format!("{line}  (exit {code}: {w})")),
            (_, None) => failures.push(format!(
                "{line}\n    exit {code}: {}",
                err.lines().last().unwrap_or("")
            )),
        }
    }
    // Loud: every command that did not run to success on the demo site.
    eprintln!(
        "README commands NOT run to success on the demo site (parsed by clap only):\n  {}",
        expected.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "README commands that fail:\n{}",
        failures.join("\n")
    );
    assert!(Path::new(&dir).join("hokan.toml").exists());
}
