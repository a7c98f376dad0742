//! `hokan-testdata`: make the synthetic hospital data set, or age it by a
//! night. See the library for what it contains.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage: hokan-testdata create DIR [--scale GIB] [--seed N]
       hokan-testdata night DIR [--nights K]
       hokan-testdata pacs DIR [--files N] [--mib M] [--seed N]
       hokan-testdata messages DIR [--files N] [--seed N]

  create   fill the empty folder DIR with a synthetic hospital data set of
           about GIB GiB (default 1; 0.03 is about 31 MiB) made from seed N
           (default 1): a database dump, images, scanned documents, HL7
           messages and logs. The same seed always gives the same bytes.
  night    age the data set in DIR by K nights (default 1): rows of the dump
           rewritten and inserted, ~1 % new images, documents and messages,
           lines appended to the logs. The seed is read from DIR/.night.
  pacs     fill the empty folder DIR with N (default 40) DICOM-like images of
           M MiB in all (default 2048): a small header, then pixel data
           already compressed (incompressible), as a PACS archive holds.
  messages fill the empty folder DIR with N (default 300000) small HL7 lab
           messages, 1000 to a folder: the many-small-files set.

exit status: 0 done, 1 could not read or write the data set, 2 usage error";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("hokan-testdata: {m}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Io(m)) => {
            eprintln!("hokan-testdata: error: {m}");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Io(String),
}

fn run(args: &[String]) -> Result<(), Failure> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let (cmd, rest) = args.split_first().ok_or_else(|| {
        Failure::Usage("missing command (create, night, pacs or messages)".into())
    })?;
    let mut dir: Option<PathBuf> = None;
    let (mut scale, mut seed, mut nights) = (1.0f64, 1u64, 1u32);
    let (mut files, mut mib) = (None::<u64>, 2048u64);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if a.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
        };
        match (cmd.as_str(), name) {
            ("create", "--scale") => scale = number(name, &value()?)?,
            ("create", "--seed") => seed = number(name, &value()?)?,
            ("night", "--nights") => nights = number(name, &value()?)?,
            ("pacs", "--files") => files = Some(number(name, &value()?)?),
            ("pacs", "--mib") => mib = number(name, &value()?)?,
            ("pacs", "--seed") => seed = number(name, &value()?)?,
            ("messages", "--files") => files = Some(number(name, &value()?)?),
            ("messages", "--seed") => seed = number(name, &value()?)?,
            (_, n) if n.starts_with('-') => {
                return Err(Failure::Usage(format!("unknown option {n} for {cmd}")))
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => return Err(Failure::Usage(format!("unexpected argument {a}"))),
        }
    }
    let dir = dir.ok_or_else(|| Failure::Usage(format!("{cmd} needs a folder DIR")))?;
    let t = Instant::now();
    match cmd.as_str() {
        "create" => {
            if !(scale.is_finite() && scale > 0.0) {
                return Err(Failure::Usage(format!(
                    "--scale must be a positive number of GiB, got {scale}"
                )));
            }
            let w = hokan_testdata::create(&dir, scale, seed).map_err(io)?;
            println!(
                "created {}: scale {scale}, seed {seed}, night 0: {} files, {} bytes in {:.1} s",
                dir.display(),
                w.files,
                w.bytes,
                t.elapsed().as_secs_f64()
            );
        }
        "night" => {
            for _ in 0..nights {
                let (st, w) = hokan_testdata::night(&dir).map_err(io)?;
                println!(
                    "{}: night {}: {} files written ({} bytes)",
                    dir.display(),
                    st.night,
                    w.files,
                    w.bytes
                );
            }
        }
        "pacs" => {
            let w =
                hokan_testdata::create_pacs(&dir, files.unwrap_or(40), mib, seed).map_err(io)?;
            println!(
                "created {}: PACS-like, seed {seed}: {} files, {} bytes in {:.1} s",
                dir.display(),
                w.files,
                w.bytes,
                t.elapsed().as_secs_f64()
            );
        }
        "messages" => {
            let n = files.unwrap_or(300_000);
            let w = hokan_testdata::create_messages(&dir, n, seed).map_err(io)?;
            println!(
                "created {}: {} small messages, seed {seed}: {} bytes in {:.1} s",
                dir.display(),
                w.files,
                w.bytes,
                t.elapsed().as_secs_f64()
            );
        }
        other => {
            return Err(Failure::Usage(format!(
                "unknown command {other} (choose create, night, pacs or messages)"
            )))
        }
    }
    Ok(())
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, Failure> {
    v.parse()
        .map_err(|_| Failure::Usage(format!("{name} needs a number, got '{v}'")))
}

fn io(e: std::io::Error) -> Failure {
    Failure::Io(e.to_string())
}
