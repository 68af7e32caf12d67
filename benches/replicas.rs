//! Replicas on one PostgreSQL, on this machine (a throwaway cluster, `tests/it/pg_cluster.rs`):
//!
//! 1. start-up: an engine loading its index from N stored documents (rows written by SQL, each with
//!    zone hashes as real registrations store them): time, the index's bytes and resident memory
//!    grown;
//! 2. registrations: generated cards registered through one replica, then through two at once (each
//!    with two threads, as a 2-core replica would run): registrations per second, the `Analyze`
//!    p50/p99, and how long each registration held the database's write lock (`serialised`) and
//!    what it did meanwhile;
//! 3. catch-up lag: one replica registers, the other's follower (`Engine::follow`, woken by
//!    `NOTIFY`) applies it: time from the registration's answer to the document in the other index.
//!
//! `cargo bench --features eval --bench replicas` measures 1,000,000 documents and 200
//! registrations per configuration (about 5 minutes). Run without `--bench` (as `cargo test
//! --all-targets` does) it runs the same steps on a few documents, as a check that they work.
#![allow(missing_docs)]

#[path = "../tests/it/pg_cluster.rs"]
#[allow(dead_code)]
mod pg_cluster;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idforensics::analysis::decode::DecodeLimits;
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::engine::{AnalyzeRequest, Engine, Models};
use idforensics::eval::synthetic::capture::encode_jpeg;
use idforensics::eval::synthetic::cards::Template;
use idforensics::storage::postgresql::{PostgresOptions, PostgresStore};
use rand::SeedableRng;

fn main() {
    let full = std::env::args().any(|argument| argument == "--bench");
    let Some(cluster) = pg_cluster::Cluster::start() else { return };
    let (documents, registrations, lag_samples) = if full { (1_000_000, 200, 100) } else { (2_000, 8, 5) };
    start_up(&cluster, documents);
    let uploads = cards(registrations);
    for replicas in [1, 2] {
        register_through(&cluster, replicas, &uploads);
    }
    catch_up_lag(&cluster, &uploads[..lag_samples]);
}

fn connect(url: &str) -> Engine {
    let store = PostgresStore::connect(url, PostgresOptions::default()).unwrap();
    Engine::with_store(DecodeLimits::default(), Models::embedded(), Box::new(store)).unwrap()
}

fn start_up(cluster: &pg_cluster::Cluster, documents: usize) {
    let url = cluster.create_database("start_up");
    drop(connect(&url)); // creates the schema
    let written = Instant::now();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO documents (account_id, document_id, file_sha256, pixel_sha256, decision,
                 risk_score, reason_codes, policy_version, registered_at_ms, zone_hashes, sequence)
             SELECT 'account-' || i, 'licence', sha256(('f' || i)::bytea), sha256(('p' || i)::bytea),
                 'ACCEPT', 0, '', 'bench', 0,
                 substring(sha256(('c' || i)::bytea) || sha256(('p' || i)::bytea)
                           || sha256(('d' || i)::bytea) || sha256(('q' || i)::bytea) from 1 for 98),
                 nextval('changes_sequence')
             FROM generate_series(1, $1::bigint) AS i",
            &[&(documents as i64)],
        )
        .unwrap();
    eprintln!("start-up: {documents} documents written in {:.1} s", written.elapsed().as_secs_f64());
    let before = resident_bytes();
    let started = Instant::now();
    let engine = connect(&url);
    let seconds = started.elapsed().as_secs_f64();
    let grown = resident_bytes().saturating_sub(before);
    assert_eq!(engine.indexed_documents(), documents);
    println!(
        "start-up load of {documents} documents: {seconds:.2} s ({:.0} documents/s); the index holds {:.0} \
         bytes/document (without id strings); resident memory grew {:.0} MiB ({:.0} bytes/document, the \
         load's peak included)",
        documents as f64 / seconds,
        engine.index_heap_bytes() as f64 / documents as f64,
        grown as f64 / (1 << 20) as f64,
        grown as f64 / documents as f64
    );
}

/// `count` different holders' cards of three templates, JPEG q92.
fn cards(count: usize) -> Vec<Vec<u8>> {
    let templates: Vec<Template> = (0..3).map(Template::new).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    (0..count)
        .map(|number| {
            let template = &templates[number % 3];
            encode_jpeg(&template.render(&template.holder(&mut rng)), 92)
        })
        .collect()
}

/// Registers `image` for `account`: the call's duration and how long it held the write lock.
fn register(engine: &Engine, account: &str, image: &[u8]) -> (Duration, Duration) {
    register_timed(engine, account, image).0
}

/// As [`register`], with the report's stage timings.
fn register_timed(
    engine: &Engine,
    account: &str,
    image: &[u8],
) -> ((Duration, Duration), Vec<idforensics::domain::report::StageTiming>) {
    let (account, document) = (AccountId::new(account).unwrap(), DocumentId::new("licence").unwrap());
    let request = AnalyzeRequest::registering(image, &account, &document);
    let started = Instant::now();
    let report = engine.analyze(request).unwrap();
    let took = started.elapsed();
    let serialised = report.timings.iter().find(|timing| timing.stage == "serialised").unwrap().micros;
    ((took, Duration::from_micros(serialised)), report.timings)
}

fn register_through(cluster: &pg_cluster::Cluster, replicas: usize, uploads: &[Vec<u8>]) {
    let url = cluster.create_database(&format!("replicas_{replicas}"));
    let engines: Vec<Engine> = (0..replicas).map(|_| connect(&url)).collect();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let timed: Vec<((Duration, Duration), Vec<idforensics::domain::report::StageTiming>)> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = engines
                .iter()
                .flat_map(|engine| [engine, engine])
                .map(|engine| {
                    let next = &next;
                    scope.spawn(move || {
                        let mut timings = Vec::new();
                        loop {
                            let number = next.fetch_add(1, Ordering::Relaxed);
                            let Some(image) = uploads.get(number) else { break };
                            timings.push(register_timed(engine, &format!("account-{number}"), image));
                        }
                        timings
                    })
                })
                .collect();
            workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
        });
    let seconds = started.elapsed().as_secs_f64();
    let stage = |name: &str| {
        let mut spent: Vec<Duration> = timed
            .iter()
            .flat_map(|(_, stages)| stages.iter().filter(|timing| timing.stage == name))
            .map(|timing| Duration::from_micros(timing.micros))
            .collect();
        spent.sort();
        percentile(&spent, 0.50).as_secs_f64() * 1e3
    };
    let mut timings: Vec<(Duration, Duration)> = timed.iter().map(|(timing, _)| *timing).collect();
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let disk: i64 = client.query_one("SELECT pg_total_relation_size('documents')", &[]).unwrap().get(0);
    let mut calls: Vec<Duration> = timings.iter().map(|(call, _)| *call).collect();
    timings.sort_by_key(|(_, serialised)| *serialised);
    calls.sort();
    let serialised: Vec<Duration> = timings.iter().map(|(_, serialised)| *serialised).collect();
    println!(
        "{replicas} replica(s), {} threads, {} registrations: {:.1} registrations/s; Analyze p50 {:.0} ms, \
         p99 {:.0} ms; match before the lock p50 {:.2} ms, wait for it {:.2} ms; write lock held p50 {:.2} ms, \
         p99 {:.2} ms (inside it, p50s: matching what was written meanwhile {:.2} ms, policy {:.2} ms, \
         insert and commit {:.2} ms); documents table {:.0} bytes/document",
        2 * replicas,
        uploads.len(),
        uploads.len() as f64 / seconds,
        percentile(&calls, 0.50).as_secs_f64() * 1e3,
        percentile(&calls, 0.99).as_secs_f64() * 1e3,
        stage("match"),
        stage("wait_for_registration_slot"),
        percentile(&serialised, 0.50).as_secs_f64() * 1e3,
        percentile(&serialised, 0.99).as_secs_f64() * 1e3,
        stage("match_since"),
        stage("policy"),
        stage("store"),
        disk as f64 / uploads.len() as f64,
    );
}

fn catch_up_lag(cluster: &pg_cluster::Cluster, uploads: &[Vec<u8>]) {
    let url = cluster.create_database("catch_up");
    let (writer, follower) = (connect(&url), connect(&url));
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut lags: Vec<Duration> = std::thread::scope(|scope| {
        let following = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                follower.follow(Duration::from_millis(200)).unwrap();
            }
        });
        let lags = uploads
            .iter()
            .enumerate()
            .map(|(number, image)| {
                register(&writer, &format!("account-{number}"), image);
                let answered = Instant::now();
                while follower.indexed_documents() <= number {
                    std::hint::spin_loop();
                }
                answered.elapsed()
            })
            .collect();
        done.store(true, Ordering::Relaxed);
        following.join().unwrap();
        lags
    });
    lags.sort();
    println!(
        "catch-up lag over {} registrations: p50 {:.2} ms, p99 {:.2} ms (follower woken by NOTIFY)",
        lags.len(),
        percentile(&lags, 0.50).as_secs_f64() * 1e3,
        percentile(&lags, 0.99).as_secs_f64() * 1e3
    );
}

/// The `q` quantile of sorted `values` (nearest rank).
fn percentile(values: &[Duration], q: f64) -> Duration {
    values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1]
}

/// This process's resident memory (Linux `/proc/self/statm`, 4 KiB pages).
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}
