//! The conformance suite: what "implements [`Store`]" means, as code.
//!
//! The repository engine relies on every store keeping the contract in
//! [`hokan_repo::store`]: put once, atomic puts, exact listings, `NotFound`
//! where it says so. A store that quietly overwrote, or listed a half-written
//! pack, would corrupt backups only in the rare case that exercised it. So
//! every store in this crate — and every store added later (removable disk,
//! S3, vault) — runs [`check_store`] in its tests.
//!
//! Each check gets a fresh store from the factory, already `create`d, and
//! panics with a message naming the check, the store and what was wrong.
//! The checks are also listed in [`CHECKS`], so a store's tests can run one at
//! a time while debugging.
//!
//! ```
//! use hokan_store::{conformance, MemStore};
//! conformance::check_store(&|| Box::new(MemStore::new()));
//! ```

use std::fmt::Display;
use std::panic::{self, AssertUnwindSafe};

use hokan_repo::store::{ObjectInfo, ObjectKind, Store, StoreError};

/// One conformance check: gets a created, empty store and panics on a
/// violation.
pub type Check = fn(&dyn Store);

/// Every check, with its name, in the order [`check_store`] runs them.
pub const CHECKS: &[(&str, Check)] = &[
    ("fresh store is empty", fresh_store_is_empty),
    (
        "create refuses an existing config",
        create_refuses_existing_config,
    ),
    ("round trip of every kind", round_trip_every_kind),
    ("get_range inside, across and past the end", get_range),
    ("put once: a second put is refused", put_once),
    ("put once under a race of 8 threads", put_once_under_race),
    ("list shows exactly the objects put", list_exact),
    ("delete, then not found", delete_then_not_found),
    ("missing objects are not found", missing_is_not_found),
    ("concurrent puts from 8 threads", concurrent_puts),
    ("empty object", empty_object),
    ("20 MiB object", large_object),
    ("invalid names are refused", invalid_names_refused),
    ("protection answers for every object", protection_answers),
];

/// Run every check in [`CHECKS`], each on a fresh store from `make`.
///
/// Panics at the first violation; the message names the check and the store.
pub fn check_store(make: &dyn Fn() -> Box<dyn Store>) {
    for (name, check) in CHECKS {
        run_check(make, name, *check);
    }
}

/// Run one check on a fresh store from `make`.
pub fn run_check(make: &dyn Fn() -> Box<dyn Store>, name: &str, check: Check) {
    let store = make();
    let describe = store.describe();
    if let Err(e) = store.create() {
        panic!("conformance check {name:?} on {describe}: create() failed: {e}");
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| check(&*store)));
    if let Err(cause) = outcome {
        eprintln!("conformance check {name:?} FAILED on {describe}");
        panic::resume_unwind(cause);
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so a failing check can be
/// replayed and different seeds give different contents.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A 64-hex-digit name like the engine's content ids, derived from `seed`.
pub fn id(seed: u64) -> String {
    pattern(seed ^ 0x1d, 32)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A valid name of `kind` (the config is always `config`).
fn name_for(kind: ObjectKind, seed: u64) -> String {
    match kind {
        ObjectKind::Config => "config".to_string(),
        ObjectKind::Lock => format!("host-{seed}"),
        _ => id(seed),
    }
}

fn fail(store: &dyn Store, what: impl Display) -> ! {
    panic!("[{}] {what}", store.describe())
}

fn ok<T>(store: &dyn Store, what: impl Display, result: Result<T, StoreError>) -> T {
    result.unwrap_or_else(|e| fail(store, format!("{what} failed: {e}")))
}

fn put(store: &dyn Store, kind: ObjectKind, name: &str, data: &[u8]) {
    ok(
        store,
        format!("put {kind} {name} ({} bytes)", data.len()),
        store.put(kind, name, data),
    )
}

fn get_eq(store: &dyn Store, kind: ObjectKind, name: &str, want: &[u8]) {
    let got = ok(store, format!("get {kind} {name}"), store.get(kind, name));
    if got != want {
        fail(
            store,
            format!(
                "get {kind} {name} returned {} bytes that differ from the {} bytes put",
                got.len(),
                want.len()
            ),
        );
    }
}

fn sorted_list(store: &dyn Store, kind: ObjectKind) -> Vec<ObjectInfo> {
    let mut list = ok(store, format!("list {kind}"), store.list(kind));
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

/// Panic unless `result` is `NotFound` naming this object and this store.
fn expect_not_found<T>(
    store: &dyn Store,
    what: &str,
    kind: ObjectKind,
    name: &str,
    result: Result<T, StoreError>,
) {
    match result {
        Err(StoreError::NotFound {
            kind: k,
            name: n,
            store: s,
        }) if k == kind && n == name && s == store.describe() => {}
        Err(e) => fail(
            store,
            format!("{what} of missing {kind} {name}: want NotFound naming it, got {e:?}"),
        ),
        Ok(_) => fail(
            store,
            format!("{what} of missing {kind} {name} succeeded; want NotFound"),
        ),
    }
}

/// Panic unless `result` is `AlreadyExists` naming this object and store.
fn expect_already_exists(
    store: &dyn Store,
    kind: ObjectKind,
    name: &str,
    result: Result<(), StoreError>,
) {
    match result {
        Err(StoreError::AlreadyExists {
            kind: k,
            name: n,
            store: s,
        }) if k == kind && n == name && s == store.describe() => {}
        Err(e) => fail(
            store,
            format!("second put of {kind} {name}: want AlreadyExists naming it, got {e:?}"),
        ),
        Ok(()) => fail(
            store,
            format!("second put of {kind} {name} succeeded; objects must never be replaced"),
        ),
    }
}

fn fresh_store_is_empty(store: &dyn Store) {
    for kind in ObjectKind::ALL {
        let list = sorted_list(store, kind);
        if !list.is_empty() {
            fail(store, format!("fresh store lists {kind} objects: {list:?}"));
        }
    }
}

fn create_refuses_existing_config(store: &dyn Store) {
    ok(
        store,
        "create() again before any config exists",
        store.create(),
    );
    put(store, ObjectKind::Config, "config", b"{}");
    match store.create() {
        Err(StoreError::AlreadyExists {
            kind: ObjectKind::Config,
            ..
        }) => {}
        other => fail(
            store,
            format!("create() over an existing config: want AlreadyExists(config), got {other:?}"),
        ),
    }
    get_eq(store, ObjectKind::Config, "config", b"{}");
}

fn round_trip_every_kind(store: &dyn Store) {
    for (i, kind) in ObjectKind::ALL.into_iter().enumerate() {
        let name = name_for(kind, i as u64);
        let data = pattern(i as u64, 1000 + i * 77);
        put(store, kind, &name, &data);
        get_eq(store, kind, &name, &data);
        let list = sorted_list(store, kind);
        let want = vec![ObjectInfo {
            name: name.clone(),
            size: data.len() as u64,
        }];
        if list != want {
            fail(
                store,
                format!("list {kind} after one put: want {want:?}, got {list:?}"),
            );
        }
    }
}

fn get_range(store: &dyn Store) {
    let kind = ObjectKind::Pack;
    let name = id(7);
    let data = pattern(7, 1000);
    put(store, kind, &name, &data);
    let cases: [(u64, u64, &[u8]); 9] = [
        (0, 1000, &data[..]),
        (100, 200, &data[100..300]),
        (0, 1, &data[..1]),
        (999, 1, &data[999..]),
        (900, 200, &data[900..]),
        (0, u64::MAX, &data[..]),
        (500, 0, &[]),
        (1000, 10, &[]),
        (2000, 10, &[]),
    ];
    for (offset, len, want) in cases {
        let got = ok(
            store,
            format!("get_range({offset}, {len})"),
            store.get_range(kind, &name, offset, len),
        );
        if got != want {
            fail(
                store,
                format!(
                    "get_range({offset}, {len}) of a 1000-byte object: want {} bytes, got {} \
                     (or the bytes differ)",
                    want.len(),
                    got.len()
                ),
            );
        }
    }
    // A far offset must not overflow or allocate.
    let got = ok(
        store,
        "get_range(u64::MAX - 1, u64::MAX)",
        store.get_range(kind, &name, u64::MAX - 1, u64::MAX),
    );
    if !got.is_empty() {
        fail(store, "get_range far past the end returned bytes");
    }
}

fn put_once(store: &dyn Store) {
    for (i, kind) in [ObjectKind::Snapshot, ObjectKind::Pack, ObjectKind::Config]
        .into_iter()
        .enumerate()
    {
        let name = name_for(kind, i as u64);
        let first = pattern(100 + i as u64, 4096);
        let second = pattern(200 + i as u64, 100);
        put(store, kind, &name, &first);
        expect_already_exists(store, kind, &name, store.put(kind, &name, &second));
        get_eq(store, kind, &name, &first);
        let list = sorted_list(store, kind);
        if list.len() != 1 || list[0].size != first.len() as u64 {
            fail(
                store,
                format!("after a refused second put, list {kind} shows {list:?}"),
            );
        }
    }
}

fn put_once_under_race(store: &dyn Store) {
    let kind = ObjectKind::Index;
    let name = id(42);
    let contents: Vec<Vec<u8>> = (0..8).map(|i| pattern(300 + i, 64 * 1024)).collect();
    let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = contents
            .iter()
            .map(|data| scope.spawn(|| store.put(kind, &name, data)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("put thread panicked"))
            .collect()
    });
    let winners: Vec<usize> = (0..8).filter(|&i| results[i].is_ok()).collect();
    if winners.len() != 1 {
        fail(
            store,
            format!(
                "8 racing puts of one name: want exactly one Ok, got {winners:?} ({results:?})"
            ),
        );
    }
    for (i, result) in results.into_iter().enumerate() {
        if i != winners[0] {
            expect_already_exists(store, kind, &name, result);
        }
    }
    get_eq(store, kind, &name, &contents[winners[0]]);
}

fn list_exact(store: &dyn Store) {
    use ObjectKind::*;
    let mut want: Vec<(ObjectKind, String, Vec<u8>)> = Vec::new();
    want.push((Config, "config".into(), pattern(1, 300)));
    for i in 0..3 {
        want.push((Key, id(10 + i), pattern(10 + i, 500)));
    }
    for i in 0..4 {
        want.push((Snapshot, id(20 + i), pattern(20 + i, 200 + i as usize)));
    }
    for i in 0..2 {
        want.push((Index, id(30 + i), pattern(30 + i, 1000 * i as usize)));
    }
    for i in 0..2 {
        want.push((Lock, format!("host-{i}"), pattern(40 + i, 50)));
    }
    // Packs: random prefixes, both ends of the range, and two sharing one
    // sub-folder.
    for i in 0..16 {
        want.push((Pack, id(50 + i), pattern(50 + i, 37 * i as usize)));
    }
    for prefix in ["00", "ff", "ab", "ab"] {
        let n = want.len() as u64;
        let name = format!("{prefix}{}", &id(n)[2..]);
        want.push((Pack, name, pattern(n, 10)));
    }
    for (kind, name, data) in &want {
        put(store, *kind, name, data);
    }
    for kind in ObjectKind::ALL {
        let mut expected: Vec<ObjectInfo> = want
            .iter()
            .filter(|(k, _, _)| *k == kind)
            .map(|(_, name, data)| ObjectInfo {
                name: name.clone(),
                size: data.len() as u64,
            })
            .collect();
        expected.sort_by(|a, b| a.name.cmp(&b.name));
        let got = sorted_list(store, kind);
        if got != expected {
            fail(
                store,
                format!("list {kind}: want {expected:?}, got {got:?}"),
            );
        }
    }
}

fn delete_then_not_found(store: &dyn Store) {
    for (i, kind) in [ObjectKind::Lock, ObjectKind::Pack].into_iter().enumerate() {
        let name = name_for(kind, 60 + i as u64);
        let keep = name_for(kind, 70 + i as u64);
        put(store, kind, &name, b"going away");
        put(store, kind, &keep, b"staying");
        ok(
            store,
            format!("delete {kind} {name}"),
            store.delete(kind, &name),
        );
        expect_not_found(store, "get", kind, &name, store.get(kind, &name));
        expect_not_found(
            store,
            "get_range",
            kind,
            &name,
            store.get_range(kind, &name, 0, 4),
        );
        expect_not_found(store, "delete", kind, &name, store.delete(kind, &name));
        expect_not_found(
            store,
            "protection",
            kind,
            &name,
            store.protection(kind, &name),
        );
        let names: Vec<String> = sorted_list(store, kind)
            .into_iter()
            .map(|o| o.name)
            .collect();
        if names != [keep.clone()] {
            fail(
                store,
                format!("list {kind} after delete: want [{keep}], got {names:?}"),
            );
        }
        get_eq(store, kind, &keep, b"staying");
        // A deleted name is free again (locks rely on this).
        put(store, kind, &name, b"back again");
        get_eq(store, kind, &name, b"back again");
    }
}

fn missing_is_not_found(store: &dyn Store) {
    for (i, kind) in ObjectKind::ALL.into_iter().enumerate() {
        let name = name_for(kind, 80 + i as u64);
        expect_not_found(store, "get", kind, &name, store.get(kind, &name));
        expect_not_found(
            store,
            "get_range",
            kind,
            &name,
            store.get_range(kind, &name, 0, 10),
        );
        expect_not_found(store, "delete", kind, &name, store.delete(kind, &name));
        expect_not_found(
            store,
            "protection",
            kind,
            &name,
            store.protection(kind, &name),
        );
    }
}

fn concurrent_puts(store: &dyn Store) {
    const THREADS: u64 = 8;
    const EACH: u64 = 16;
    let kinds = [ObjectKind::Pack, ObjectKind::Index];
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            scope.spawn(move || {
                for j in 0..EACH {
                    let seed = 1000 + t * EACH + j;
                    let kind = kinds[(seed % 2) as usize];
                    put(store, kind, &id(seed), &pattern(seed, 1000 + seed as usize));
                }
            });
        }
    });
    let mut listed = 0;
    for kind in kinds {
        listed += sorted_list(store, kind).len() as u64;
    }
    if listed != THREADS * EACH {
        fail(
            store,
            format!(
                "after {} concurrent puts, {listed} objects are listed",
                THREADS * EACH
            ),
        );
    }
    for seed in 1000..1000 + THREADS * EACH {
        let kind = kinds[(seed % 2) as usize];
        get_eq(store, kind, &id(seed), &pattern(seed, 1000 + seed as usize));
    }
}

fn empty_object(store: &dyn Store) {
    let (kind, name) = (ObjectKind::Index, id(90));
    put(store, kind, &name, &[]);
    get_eq(store, kind, &name, &[]);
    let got = ok(
        store,
        "get_range of an empty object",
        store.get_range(kind, &name, 0, 10),
    );
    if !got.is_empty() {
        fail(store, "get_range of an empty object returned bytes");
    }
    let list = sorted_list(store, kind);
    if list
        != [ObjectInfo {
            name: name.clone(),
            size: 0,
        }]
    {
        fail(
            store,
            format!("list after putting an empty object: {list:?}"),
        );
    }
    expect_already_exists(store, kind, &name, store.put(kind, &name, b"x"));
}

fn large_object(store: &dyn Store) {
    const SIZE: usize = 20 * 1024 * 1024;
    let (kind, name) = (ObjectKind::Pack, id(91));
    let data = pattern(91, SIZE);
    put(store, kind, &name, &data);
    get_eq(store, kind, &name, &data);
    let list = sorted_list(store, kind);
    if list
        != [ObjectInfo {
            name: name.clone(),
            size: SIZE as u64,
        }]
    {
        fail(store, format!("list after a 20 MiB put: {list:?}"));
    }
    let mid = ok(
        store,
        "get_range in the middle of 20 MiB",
        store.get_range(kind, &name, 10 << 20, 1 << 20),
    );
    if mid != data[10 << 20..11 << 20] {
        fail(store, "get_range(10 MiB, 1 MiB) returned the wrong bytes");
    }
    let tail = ok(
        store,
        "get_range across the end of 20 MiB",
        store.get_range(kind, &name, SIZE as u64 - 10, 100),
    );
    if tail != data[SIZE - 10..] {
        fail(
            store,
            "get_range across the end of 20 MiB returned the wrong bytes",
        );
    }
}

fn invalid_names_refused(store: &dyn Store) {
    put(store, ObjectKind::Config, "config", b"secret config");
    let bad = [
        "",
        ".",
        "..",
        "../config",
        "a/b",
        "/etc/passwd",
        "x.tmp",
        ".hidden",
        "Upper",
        "a b",
        "a\0b",
        "日本語",
    ];
    for kind in [ObjectKind::Key, ObjectKind::Pack, ObjectKind::Lock] {
        for name in bad {
            if store.put(kind, name, b"x").is_ok() {
                fail(
                    store,
                    format!("put of {kind} named {name:?} succeeded; want refused"),
                );
            }
            if let Ok(data) = store.get(kind, name) {
                fail(
                    store,
                    format!("get of {kind} named {name:?} returned {} bytes", data.len()),
                );
            }
            if store.delete(kind, name).is_ok() {
                fail(store, format!("delete of {kind} named {name:?} succeeded"));
            }
        }
    }
    if store.put(ObjectKind::Pack, "a", b"x").is_ok() {
        fail(store, "a one-character pack name was accepted");
    }
    if store.put(ObjectKind::Config, "other", b"x").is_ok() {
        fail(store, "a config not named \"config\" was accepted");
    }
    for kind in ObjectKind::ALL {
        let list = sorted_list(store, kind);
        let want = usize::from(kind == ObjectKind::Config);
        if list.len() != want {
            fail(
                store,
                format!("after refused puts, list {kind} shows {list:?}"),
            );
        }
    }
    get_eq(store, ObjectKind::Config, "config", b"secret config");
}

fn protection_answers(store: &dyn Store) {
    for (i, kind) in ObjectKind::ALL.into_iter().enumerate() {
        let name = name_for(kind, 95 + i as u64);
        put(store, kind, &name, b"protected?");
        ok(
            store,
            format!("protection of {kind} {name}"),
            store.protection(kind, &name),
        );
    }
}
