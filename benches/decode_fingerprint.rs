//! Decoding and fingerprints (SHA-256 of file and pixels, PDQ, the document locator and zone hashes)
//! of generated 2 MP and 12 MP JPEGs (quality 90, fixed seed).
//!
//! `cargo bench --bench decode_fingerprint`
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::decode::planes::working_planes;
use idforensics::decode::{DecodeLimits, decode};
use idforensics::engine::Models;
use idforensics::fingerprint::document::DocumentPrint;
use idforensics::fingerprint::{ExactFingerprints, Fingerprints};

fn decode_and_fingerprint(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("decode_fingerprint");
    group.sample_size(20);
    for (name, width, height) in support::SIZES {
        let jpeg = support::photo_like_jpeg(width, height);
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode(black_box(&jpeg), &limits).unwrap())
        });
        let document = decode(&jpeg, &limits).unwrap();
        group.bench_function(format!("exact_fingerprints/{name}"), |b| {
            b.iter(|| ExactFingerprints::compute(black_box(&jpeg), &document))
        });
        let models = Models::embedded();
        group.bench_function(format!("planes_and_all_fingerprints/{name}"), |b| {
            b.iter(|| {
                let planes = working_planes(&document.rgb, models.quality.working_long_side);
                Fingerprints::compute(black_box(&jpeg), &document, &planes, &models.reuse.layout)
            })
        });
        let planes = working_planes(&document.rgb, models.quality.working_long_side);
        group.bench_function(format!("document_print/{name}"), |b| {
            b.iter(|| DocumentPrint::compute(black_box(&planes), &models.reuse.layout))
        });
    }
    group.finish();
}

criterion_group!(benches, decode_and_fingerprint);
criterion_main!(benches);
