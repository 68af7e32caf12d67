//! Every quality check on a decoded 2 MP and 12 MP photo-like JPEG (decoding excluded: it is shared
//! by all analysers and measured in `decode_fingerprint`).
//!
//! `cargo bench --bench quality`
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::decode::{DecodeLimits, decode};
use idforensics::quality::{QualityThresholds, assess_quality};

fn quality(c: &mut Criterion) {
    let thresholds = QualityThresholds::embedded();
    let mut group = c.benchmark_group("quality");
    group.sample_size(30);
    for (name, width, height) in support::SIZES {
        let document = decode(&support::photo_like_jpeg(width, height), &DecodeLimits::default()).unwrap();
        group.bench_function(name, |b| b.iter(|| assess_quality(black_box(&document), &thresholds)));
    }
    group.finish();
}

criterion_group!(benches, quality);
criterion_main!(benches);
