//! Every quality check on a decoded 2 MP and 12 MP photo-like JPEG (decoding and the document's
//! location excluded: they are shared by all analysers and measured in `decode_fingerprint`).
//!
//! `cargo bench --bench quality`
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::planes::working_planes;
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::fingerprint::document::DocumentLocation;
use idforensics::analysis::quality::{QualityThresholds, assess_quality};
use idforensics::analysis::reuse::perceptual::ReuseModel;

fn quality(c: &mut Criterion) {
    let thresholds = QualityThresholds::embedded();
    let layout = ReuseModel::embedded().layout;
    let mut group = c.benchmark_group("quality");
    group.sample_size(30);
    for (name, width, height) in support::SIZES {
        let document = decode(&support::photo_like_jpeg(width, height), &DecodeLimits::default()).unwrap();
        // The location is shared with the fingerprints and measured with them.
        let location =
            DocumentLocation::find(&working_planes(&document.rgb, thresholds.working_long_side), &layout);
        // The working planes are made once per upload and shared with the perceptual hash; the
        // quality gate's cost includes making them.
        group.bench_function(name, |b| {
            b.iter(|| {
                let planes = working_planes(black_box(&document.rgb), thresholds.working_long_side);
                assess_quality(&document, &planes, location.outline(), &thresholds)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, quality);
criterion_main!(benches);
