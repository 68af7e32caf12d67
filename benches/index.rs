//! The perceptual index: a radius-31 search for a query and 7 more variants (as for PDQ's eight
//! dihedral hashes) over 1M and 10M stored hashes, against a brute-force scan of the same index.
//!
//! Stored hashes are clustered the way real ones are: 30 % lie in 20,000 clusters (one template or
//! one much-reused image: 4..40 bits from the cluster's centre), the rest are spread uniformly. Every
//! query has one true match 0..24 bits away. The index is measured as loaded at start-up, and at
//! 10M also with 1M of it registered since (the recent layer at close to its largest), with the
//! time a merge of the two layers takes to build in the background and the pauses it causes.
//!
//! `cargo bench --bench index` (1M and 10M; under `cargo test` a 100k index checks the bench runs).
//! Memory per document is printed before the measurements. `memory_floor` measures what scattered
//! reads alone cost on the machine, the floor under any layout that reads once per probe.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::fingerprint::pdq::Pdq;
use idforensics::analysis::reuse::hamming_index::HammingIndex;

const RADIUS: u32 = 31;
const VARIANTS: usize = 8;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn hash(&mut self) -> Pdq {
        let words: [u64; 4] = [self.next(), self.next(), self.next(), self.next()];
        Pdq(std::array::from_fn(|i| (words[i / 4] >> (16 * (i % 4))) as u16))
    }

    fn flip(&mut self, hash: &Pdq, bits: u64) -> Pdq {
        let mut out = *hash;
        for _ in 0..bits {
            let bit = self.next() % 256;
            out.0[(bit / 16) as usize] ^= 1 << (bit % 16);
        }
        out
    }
}

/// `size` stored hashes: loaded in bulk (start-up from the store), the last `recent` of them then
/// registered one by one (they stay in the index's recent layer).
fn build(size: usize, recent: usize, rng: &mut Rng) -> (HammingIndex<u32>, Vec<Pdq>) {
    let centres: Vec<Pdq> = (0..20_000).map(|_| rng.hash()).collect();
    let stored: Vec<Pdq> = (0..size)
        .map(|_| {
            if rng.next() % 10 < 3 {
                let centre = centres[(rng.next() % centres.len() as u64) as usize];
                let bits = 4 + rng.next() % 37;
                rng.flip(&centre, bits)
            } else {
                rng.hash()
            }
        })
        .collect();
    let mut index = HammingIndex::new();
    index.extend(stored[..size - recent].iter().copied().zip(0..));
    for (number, hash) in stored.iter().enumerate().skip(size - recent) {
        index.insert(hash, number as u32);
    }
    (index, stored)
}

/// Query sets: the first hash is 0..24 bits from a stored one, the other seven are fresh.
fn queries(stored: &[Pdq], rng: &mut Rng) -> Vec<[Pdq; VARIANTS]> {
    (0..64)
        .map(|_| {
            let target = stored[(rng.next() % stored.len() as u64) as usize];
            let bits = rng.next() % 25;
            let near = rng.flip(&target, bits);
            std::array::from_fn(|variant| if variant == 0 { near } else { rng.hash() })
        })
        .collect()
}

fn index_search(c: &mut Criterion) {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    // (name, documents, of which registered since the last merge of the index's layers)
    let sizes: &[(&str, usize, usize)] = if benchmarking {
        &[("1M", 1_000_000, 0), ("10M", 10_000_000, 0), ("10M_with_1M_recent", 10_000_000, 1_000_000)]
    } else {
        &[("100k", 100_000, 0), ("100k_with_10k_recent", 100_000, 10_000)]
    };
    let mut group = c.benchmark_group("index_radius31_x8_variants");
    group.sample_size(10);
    for &(name, size, recent) in sizes {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut index, stored) = build(size, recent, &mut rng);
        let query_sets = queries(&stored, &mut rng);
        eprintln!(
            "index {name}: {} documents, {:.0} bytes per document (hashes, table entries, values)",
            index.len(),
            index.heap_bytes() as f64 / index.len() as f64
        );
        for set in &query_sets {
            assert!(!index.search(&set[0], RADIUS).is_empty(), "every query has a true match");
        }
        let mut next = 0;
        group.bench_function(format!("multi_index/{name}"), |b| {
            b.iter(|| {
                let set = &query_sets[next % query_sets.len()];
                next += 1;
                set.iter().map(|query| index.search(black_box(query), RADIUS).len()).sum::<usize>()
            })
        });
        if recent > 0 {
            // What registrations wait for when the recent layer is due to merge: starting the
            // background build (listing the live slots, a fresh recent layer) and swapping its
            // result in; once, from this state, as it is the state a merge starts from.
            let started = Instant::now();
            index.start_merge();
            let start_pause = started.elapsed();
            while !index.merge_built() {
                std::thread::sleep(Duration::from_millis(5));
            }
            let built = started.elapsed();
            let swapped = Instant::now();
            index.wait_for_merge();
            eprintln!(
                "index {name}: merge of the layers: registrations paused {:.1} ms to start it and \
                 {:.1} ms to swap it in; built in the background in {:.2} s",
                start_pause.as_secs_f64() * 1e3,
                swapped.elapsed().as_secs_f64() * 1e3,
                built.as_secs_f64()
            );
            // The background build itself: a rebuild of the frozen layer over every hash.
            group.bench_function(format!("merge_build/{name}"), |b| b.iter(|| index.compact()));
            continue;
        }
        group.bench_function(format!("brute_force/{name}"), |b| {
            b.iter(|| {
                let set = &query_sets[next % query_sets.len()];
                next += 1;
                set.iter().map(|query| index.scan(black_box(query), RADIUS).len()).sum::<usize>()
            })
        });
    }
    group.finish();
}

/// The memory floor under a 10M search: as many scattered cache-line reads as eight radius-31
/// searches at 10M make probes (16,384), from an array as large as that index's tables (4 GiB;
/// 64 MiB under `cargo test`), each read independent of the others, so the processor overlaps as
/// many as it can. Read sets rotate over 64 MiB of lines, more than the last-level cache holds.
fn scattered_reads(c: &mut Criterion) {
    const READS: usize = 16_384;
    const SETS: usize = 64;
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let lines: usize = if benchmarking { 1 << 26 } else { 1 << 20 };
    // Ones, not zeros: a zeroed allocation maps every page to the one zero page until written.
    let memory = vec![[1u64; 8]; lines];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let sets: Vec<Vec<usize>> =
        (0..SETS).map(|_| (0..READS).map(|_| (rng.next() % lines as u64) as usize).collect()).collect();
    let mut next = 0;
    let mut group = c.benchmark_group("memory_floor");
    group.sample_size(10);
    group.bench_function(format!("scattered_reads_16k/{}_MiB", (lines * 64) >> 20), |b| {
        b.iter(|| {
            let set = &sets[next % SETS];
            next += 1;
            set.iter().map(|&line| black_box(&memory)[line][0]).sum::<u64>()
        })
    });
    group.finish();
}

criterion_group!(benches, index_search, scattered_reads);
criterion_main!(benches);
