//! Retention against whoever moves the vault's clock (a forged NTP answer,
//! `date -s` as root): expiry with injected clock readings. And retention
//! doing its own job: shared packs stay while a generation needs them, and
//! a run killed half-way is finished by the next.

mod common;

use common::*;
use hokan_format::Id;
use hokan_vault::clock::Tick;
use hokan_vault::expire::{self, Expired};
use hokan_vault::ledger::{Event, Ledger};
use hokan_vault::wire::Kind;
use time::{Duration, OffsetDateTime};

/// A clock the test moves: the wall and the boot-time clock separately.
#[derive(Clone)]
struct Clock {
    wall: OffsetDateTime,
    boot_id: String,
    boot_ns: u64,
}

impl Clock {
    /// From the real clocks now (the ledger's last tick is a real one).
    fn now() -> Clock {
        let t = Tick::now();
        Clock {
            wall: t.wall,
            boot_id: t.boot_id,
            boot_ns: t.boottime_ns,
        }
    }
    /// Both clocks advance by the same time.
    fn pass(&mut self, d: Duration) -> Tick {
        self.shift(d, d)
    }
    /// The wall clock moves by `wall`, the boot-time clock by `boot`.
    fn shift(&mut self, wall: Duration, boot: Duration) -> Tick {
        self.wall += wall;
        self.boot_ns += boot.whole_nanoseconds() as u64;
        self.tick()
    }
    /// A reboot: a new boot id, the boot-time clock from a minute, and the
    /// wall clock `gap` later.
    fn reboot(&mut self, gap: Duration) -> Tick {
        self.boot_id = format!("reboot-{}", hex::encode(rand::random::<[u8; 8]>()));
        self.boot_ns = 60_000_000_000;
        self.wall += gap;
        self.tick()
    }
    fn tick(&self) -> Tick {
        Tick {
            wall: self.wall,
            boot_id: self.boot_id.clone(),
            boottime_ns: self.boot_ns,
        }
    }
}

const MIN: Duration = Duration::minutes(1);
const HOUR: Duration = Duration::hours(1);
const DAY: Duration = Duration::days(1);

struct Setup {
    p: Primary,
    v: TestVault,
    server: hokan_vault::export::Running,
}

impl Setup {
    fn new() -> Setup {
        Setup::keeping(1)
    }
    /// A vault keeping each generation `days` days.
    fn keeping(days: u32) -> Setup {
        let p = Primary::new();
        let v = TestVault::new(&p, "https://127.0.0.1:1", |c| c.keep_days = days);
        let server = p.serve(&v.setup.token_blake3);
        v.point_at(&url(&server));
        Setup { p, v, server }
    }
    /// Serve again (a fresh export sees new backups).
    fn reserve(&mut self) {
        let s = self.p.serve(&self.v.setup.token_blake3);
        self.v.point_at(&url(&s));
        self.server = s;
    }
    fn pull(&self, tick: Tick) -> Vec<String> {
        let n = self.v.open().pull(tick, unchecked()).unwrap();
        assert_eq!(n.outcome.error, None, "{:?}", n.outcome);
        n.outcome.added
    }
    fn expire(&self, tick: &Tick) -> Expired {
        let vault = self.v.open();
        expire::run(&vault.folder, &vault.config, tick).unwrap()
    }
    fn holds_snapshot(&self, g: &Id) -> bool {
        self.v.open().holds(Kind::Snapshot, &g.to_hex())
    }
    fn findings(&self, kind: &str) -> usize {
        ledger(&self.v)
            .1
            .findings
            .iter()
            .filter(|(_, _, f)| f.kind == kind)
            .count()
    }
}

fn files(night: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut big = vec![0u8; 150_000];
    blake3::Hasher::new()
        .update(b"big")
        .finalize_xof()
        .fill(&mut big);
    vec![("a.txt", night.as_bytes().to_vec()), ("big.bin", big)]
}

fn assert_restores(v: &TestVault, g: &Id, want: &[(&str, Vec<u8>)]) {
    let t = restore_from(&v.root().join("repo"), &g.to_hex());
    let got = fingerprint(t.path());
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (n, c) in want {
        let h = blake3::hash(c).to_hex().to_string();
        assert!(
            got.iter().any(|(p, g)| p.ends_with(n) && *g == h),
            "{n} not restored byte-identically: {got:?}"
        );
    }
}

// (a) The wall clock 30 days ahead within one boot.
#[test]
fn a_wall_clock_jump_within_one_boot_freezes_expiry_until_accepted() {
    let s = Setup::new();
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);

    let jumped = c.shift(Duration::days(30), Duration::minutes(5));
    let e = s.expire(&jumped);
    assert!(e.frozen, "{e:?}");
    assert!(e.generations.is_empty());
    assert!(e.now.unwrap() < jumped.wall - Duration::days(29), "{e:?}");
    assert!(s.holds_snapshot(&g));
    assert_eq!(s.findings("clock-jump"), 1);
    // Still frozen later, and the jump is reported once.
    let e = s.expire(&c.pass(HOUR));
    assert!(e.frozen && e.generations.is_empty());
    let n = s.v.open().pull(c.pass(HOUR), unchecked()).unwrap();
    assert!(n.expired.frozen && n.expired.generations.is_empty());
    assert_eq!(n.receipt.clock.state, "frozen");
    assert!(s.holds_snapshot(&g));
    assert_eq!(s.findings("clock-jump"), 1);

    // An operator at the console accepts the time: expiry proceeds.
    assert!(s.v.open().accept_clock(&c.pass(MIN), "test").unwrap());
    let e = s.expire(&c.pass(MIN));
    assert!(!e.frozen);
    assert_eq!(e.generations, vec![g.to_hex()]);
    assert!(!s.holds_snapshot(&g));
}

// (b) The wall clock set back.
#[test]
fn a_wall_clock_set_back_never_takes_the_compliance_time_back() {
    let s = Setup::new();
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);
    let stored = ledger(&s.v).1.last_time.unwrap();
    let retain_until =
        hokan_vault::ledger::parse(&ledger(&s.v).1.generations[&g.to_hex()].retain_until).unwrap();

    // Back 30 days, then time passes normally on both clocks for 23 hours.
    let back = c.shift(-Duration::days(30), MIN);
    let mut last = s.expire(&back).now.unwrap();
    assert!(last >= stored, "{last} < {stored}");
    let r = s.v.open().receipt(&back, None, unchecked()).unwrap();
    assert_eq!(r.clock.state, "behind");
    for _ in 0..23 {
        let e = s.expire(&c.pass(HOUR));
        let now = e.now.unwrap();
        assert!(now >= last, "the compliance time went back: {now} < {last}");
        assert!(now < retain_until);
        assert!(e.generations.is_empty());
        last = now;
    }
    assert!(s.holds_snapshot(&g));
    // The wall clock comes back, two days on, in a minute of boot time: that
    // is a jump from the last reading, not time that passed. Frozen.
    let e = s.expire(&c.shift(Duration::days(32), MIN));
    assert!(e.frozen && e.generations.is_empty(), "{e:?}");
    assert!(s.holds_snapshot(&g));
}

// (c) A reboot: three days off is believed, thirty is not.
#[test]
fn a_reboot_gap_of_three_days_is_believed_and_of_thirty_is_frozen() {
    let s = Setup::new();
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let v2 = TestVault::new(&s.p, "https://127.0.0.1:1", |c| c.keep_days = 1);
    let server2 = s.p.serve(&v2.setup.token_blake3);
    v2.point_at(&url(&server2));

    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);
    let n = v2.open().pull(c.pass(MIN), unchecked()).unwrap();
    assert_eq!(n.outcome.added, vec![g.to_hex()]);

    let mut c3 = c.clone();
    let e = s.expire(&c3.reboot(Duration::days(3)));
    assert!(!e.frozen, "{e:?}");
    assert_eq!(e.generations, vec![g.to_hex()]);
    assert!(!s.holds_snapshot(&g));

    let t30 = c.reboot(Duration::days(30));
    let vault2 = v2.open();
    let e = expire::run(&vault2.folder, &vault2.config, &t30).unwrap();
    assert!(e.frozen && e.generations.is_empty(), "{e:?}");
    assert!(vault2.holds(Kind::Snapshot, &g.to_hex()));
    assert!(ledger(&v2)
        .1
        .findings
        .iter()
        .any(|(_, _, f)| f.kind == "clock-jump"));
}

// Drift that adds up: the time source steps the wall clock 9 minutes ahead
// before every hourly reading, never more than the 10-minute tolerance at
// once. Measured from the boot's anchor, the lead passes tolerance + 100 ppm
// at the second reading; a retention due only through the drift never ends.
#[test]
fn nine_minutes_gained_before_every_hourly_reading_freeze_expiry() {
    let s = Setup::keeping(2);
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);
    let stored = ledger(&s.v).1.last_time.unwrap();
    // 16 honest hours, then 30 readings an hour apart, each 9 min ahead:
    // 46 h really passed (retention is 48 h), 50.5 h on the wall clock.
    let e = s.expire(&c.pass(16 * HOUR));
    assert!(!e.frozen && e.generations.is_empty(), "{e:?}");
    let policy = s.v.open().config.clock();
    let mut lead = Duration::ZERO;
    let mut boot = Duration::ZERO;
    for k in 1..=30 {
        lead += 9 * MIN;
        boot += HOUR;
        let e = s.expire(&c.shift(HOUR + 9 * MIN, HOUR));
        let allowed =
            policy.allowance_secs((Duration::hours(16) + boot).whole_nanoseconds() as u64);
        // The anchor is the init tick, a moment before the test's clock.
        let past = lead.whole_seconds() > allowed + 5;
        if past {
            assert!(e.frozen, "reading {k}: a {lead} lead is not frozen: {e:?}");
        } else if lead.whole_seconds() < allowed - 5 {
            assert!(!e.frozen, "reading {k}: {e:?}");
        }
        assert!(
            e.generations.is_empty(),
            "reading {k}: expired by drift: {e:?}"
        );
        assert!(
            e.now.unwrap() < stored + 2 * DAY,
            "reading {k}: {:?}",
            e.now
        );
    }
    assert!(s.holds_snapshot(&g));
    assert_eq!(s.findings("clock-jump"), 1);
    let st = ledger(&s.v).1;
    assert!(st.frozen.is_some());
}

// Drift across reboots: a 6-day step at every reboot (each under the 7-day
// gap) adds up. One 6-day gap is believed; the second within 30 days freezes.
#[test]
fn a_six_day_gap_at_every_reboot_freezes_at_the_second() {
    let s = Setup::keeping(30);
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);
    for n in 1..=5 {
        let e = s.expire(&c.reboot(6 * DAY));
        assert_eq!(e.frozen, n >= 2, "reboot {n}: {e:?}");
        assert!(e.generations.is_empty(), "reboot {n}: {e:?}");
        for _ in 0..3 {
            let e = s.expire(&c.pass(HOUR));
            assert_eq!(e.frozen, n >= 2, "reboot {n}: {e:?}");
        }
    }
    // 30 days and 16 hours on the wall clock, 16 hours really: kept.
    assert!(s.holds_snapshot(&g));
    assert_eq!(s.findings("clock-jump"), 1);
    assert_eq!(ledger(&s.v).1.clock.gaps.len(), 1);
}

// After an accept, the anchor is the accepted tick: honest readings measured
// from it (with NTP's ±30 s) go on without freezing, and expiry resumes.
#[test]
fn accepting_the_clock_starts_a_new_anchor_and_honest_readings_go_on() {
    let s = Setup::keeping(3);
    let g = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let mut c = Clock::now();
    assert_eq!(s.pull(c.pass(MIN)), vec![g.to_hex()]);
    for _ in 0..2 {
        s.expire(&c.shift(HOUR + 9 * MIN, HOUR));
    }
    assert!(s.expire(&c.pass(HOUR)).frozen);
    let st = ledger(&s.v).1;
    let old_anchor = st.clock.anchor.clone().unwrap();

    let accepted = c.pass(MIN);
    assert!(s.v.open().accept_clock(&accepted, "test").unwrap());
    let st = ledger(&s.v).1;
    assert_eq!(st.frozen, None);
    assert_eq!(st.clock.anchor.as_ref(), Some(&accepted));
    assert_ne!(st.clock.anchor.as_ref(), Some(&old_anchor));

    let mut expired = Vec::new();
    for k in 0..80 {
        let jitter = Duration::seconds(rand::random::<i64>().rem_euclid(61) - 30);
        let t = c.shift(HOUR + jitter, HOUR);
        c.wall -= jitter;
        let e = s.expire(&t);
        assert!(!e.frozen, "reading {k}: {e:?}");
        expired.extend(e.generations);
    }
    // Three days of retention, reached honestly after the accept.
    assert_eq!(expired, vec![g.to_hex()]);
    assert_eq!(s.findings("clock-jump"), 1);
}

// (d) Two generations sharing packs; the older expires.
#[test]
fn the_older_of_two_generations_sharing_packs_expires_and_the_other_still_restores() {
    let mut s = Setup::new();
    let mut c = Clock::now();
    let g1 = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    assert_eq!(s.pull(c.pass(MIN)), vec![g1.to_hex()]);
    let g2 = s.p.backup("emr", "2026-12-02T02:00:00Z", &files("two"));
    s.reserve();
    assert_eq!(s.pull(c.pass(12 * HOUR)), vec![g2.to_hex()]);

    let (l, _) = ledger(&s.v);
    let o1 = l.objects(&g1.to_hex()).unwrap();
    let o2 = l.objects(&g2.to_hex()).unwrap();
    drop(l);
    let shared: Vec<_> = o2
        .iter()
        .filter(|o| o.kind == Kind::Pack && o1.iter().any(|x| x.name == o.name))
        .collect();
    assert!(!shared.is_empty(), "the generations share no pack");
    let only1: Vec<_> = o1
        .iter()
        .filter(|o| !matches!(o.kind, Kind::Config | Kind::Key))
        .filter(|o| !o2.iter().any(|x| x.kind == o.kind && x.name == o.name))
        .collect();
    assert!(only1.iter().any(|o| o.kind == Kind::Snapshot));

    // A day and an hour after the first pull: g1 is due, g2 is not.
    let e = s.expire(&c.pass(13 * HOUR));
    assert_eq!(e.generations, vec![g1.to_hex()], "{e:?}");
    let vault = s.v.open();
    for o in &only1 {
        assert!(
            !vault.holds(o.kind, &o.name),
            "{o:?} of the expired generation is left"
        );
    }
    for o in &o2 {
        assert!(
            vault.holds(o.kind, &o.name),
            "{o:?} of the kept generation is gone"
        );
    }
    assert_restores(&s.v, &g2, &files("two"));
    let st = ledger(&s.v).1;
    assert!(st.expired.contains(&g1.to_hex()));
    assert_eq!(
        st.generations.keys().collect::<Vec<_>>(),
        vec![&g2.to_hex()]
    );
    // An expired generation is not pulled again while the primary still offers it.
    assert!(s.pull(c.pass(MIN)).is_empty());
    assert!(!s.holds_snapshot(&g1));
}

// Two due generations in one run: their shared packs go too.
#[test]
fn two_generations_due_in_the_same_run_leave_no_pack_behind() {
    let s = Setup::new();
    let mut c = Clock::now();
    let g1 = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    let g2 = s.p.backup("emr", "2026-12-02T02:00:00Z", &files("two"));
    assert_eq!(s.pull(c.pass(MIN)).len(), 2);
    let e = s.expire(&c.pass(2 * DAY));
    assert_eq!(e.generations.len(), 2, "{e:?}");
    let left: Vec<_> =
        s.v.open()
            .folder
            .objects()
            .unwrap()
            .into_iter()
            .map(|(p, _)| p.strip_prefix(s.v.root()).unwrap().display().to_string())
            .filter(|p| !p.starts_with("repo/keys/") && p != "repo/config")
            .collect();
    assert!(
        left.is_empty(),
        "objects no generation needs any more are left behind: {left:?}"
    );
    assert!(!s.holds_snapshot(&g1) && !s.holds_snapshot(&g2));
}

// (e) A retention run killed half-way is finished by the next.
#[test]
fn a_killed_expiry_run_is_finished_by_the_next() {
    if !can_set_immutable() {
        eprintln!("SKIPPED: removing objects by hand needs CAP_LINUX_IMMUTABLE");
        return;
    }
    let s = Setup::new();
    let mut c = Clock::now();
    let g1 = s.p.backup("emr", "2026-12-01T02:00:00Z", &files("one"));
    assert_eq!(s.pull(c.pass(MIN)), vec![g1.to_hex()]);
    let g2 = s.p.backup("emr", "2026-12-02T02:00:00Z", &files("two"));
    let mut s = s;
    s.reserve();
    assert_eq!(s.pull(c.pass(12 * HOUR)), vec![g2.to_hex()]);

    // The run that was killed: `expiring` recorded, the snapshot and one
    // object only g1 needed removed, then nothing.
    let (mut l, st) = Ledger::open(&s.v.root().join("ledger.sqlite")).unwrap();
    let o1 = l.objects(&g1.to_hex()).unwrap();
    let o2 = l.objects(&g2.to_hex()).unwrap();
    let now = st.last_time.unwrap();
    l.append(
        now,
        &Event::Expiring {
            snapshot: g1.to_hex(),
        },
    )
    .unwrap();
    drop(l);
    let vault = s.v.open();
    assert!(vault.folder.remove(Kind::Snapshot, &g1.to_hex()).unwrap());
    let st = ledger(&s.v).1;
    assert_eq!(st.expiring.as_deref(), Some(g1.to_hex().as_str()));
    assert!(st.generations.contains_key(&g1.to_hex()));

    // The next run (not yet due by time) finishes what was started.
    let e = s.expire(&c.pass(MIN));
    assert_eq!(e.generations, vec![g1.to_hex()], "{e:?}");
    let st = ledger(&s.v).1;
    assert_eq!(st.expiring, None);
    assert!(st.expired.contains(&g1.to_hex()));
    assert!(!st.generations.contains_key(&g1.to_hex()));
    for o in o1
        .iter()
        .filter(|o| !matches!(o.kind, Kind::Config | Kind::Key))
    {
        let needed = o2.iter().any(|x| x.kind == o.kind && x.name == o.name);
        assert_eq!(vault.holds(o.kind, &o.name), needed, "{o:?}");
    }
    assert_restores(&s.v, &g2, &files("two"));
    // And a run after that has nothing left to do.
    let e = s.expire(&c.pass(MIN));
    assert!(e.generations.is_empty(), "{e:?}");
}
