//! What the audit log costs a call: one `append_audit` on the embedded store (an INSERT committed
//! with `synchronous = FULL`, so one WAL fsync) on this machine's disk, against the same INSERT on
//! a store that already holds 100,000 entries.
//!
//! `cargo bench --bench audit`; compare with the `analyze` bench's medians.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::domain::audit::{AuditAction, AuditEntry};
use idforensics::storage::Store;
use idforensics::storage::sqlite::SqliteStore;

fn entry(n: usize) -> AuditEntry {
    let outcome = "decision=REVIEW matches=1".to_owned();
    AuditEntry::now("onboarding", AuditAction::Register, Some(&format!("acct-{n}")), Some("licence"), outcome)
}

fn append(criterion: &mut Criterion) {
    // Under the target directory, on the disk the tests use (a tmpfs would hide the fsync).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut n = 0;
    criterion.bench_function("audit/append_empty_log", |bench| {
        bench.iter(|| {
            n += 1;
            store.append_audit(&entry(n)).unwrap();
        })
    });
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs each bench once without it.
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let filled = if benchmarking { 100_000 } else { 100 };
    while n < filled {
        n += 1;
        store.append_audit(&entry(n)).unwrap();
    }
    criterion.bench_function("audit/append_after_100k", |bench| {
        bench.iter(|| {
            n += 1;
            store.append_audit(&entry(n)).unwrap();
        })
    });
}

criterion_group!(benches, append);
criterion_main!(benches);
