//! Full tamper analysis (metadata, quantization-table provenance, thumbnail, and the local maps:
//! error level, noise, double quantization, second grid, copy-move) of generated 2 MP and 12 MP JPEGs
//! (quality 90, fixed seed), after decoding; the local analyses alone; copy-move alone; the Content
//! Credentials look on those JPEGs (no manifest) and the C2PA read of a signed one (the fuzz seed
//! `fuzz/corpus/content_credentials/signed.jpg`, made by the unit tests' signer). One core.
//!
//! `cargo bench --bench tamper`
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::planes::{luma_of, working_planes};
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::tamper::assess_tamper;
use idforensics::analysis::tamper::content_credentials::{CredentialModels, assess_content_credentials};
use idforensics::analysis::tamper::local::{analyze_local, copy_move};
use idforensics::engine::Models;

fn tamper(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let models = Models::embedded();
    let credentials = CredentialModels::embedded();
    let mut group = c.benchmark_group("tamper");
    group.sample_size(20);
    let signed =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/content_credentials/signed.jpg"))
            .unwrap();
    let signed_document = decode(&signed, &limits).unwrap();
    group.bench_function("content_credentials/signed_jpeg_15kb", |b| {
        b.iter(|| {
            assess_content_credentials(
                black_box(&signed),
                &signed_document,
                &credentials,
                &models.tamper.generators,
            )
        })
    });
    for (name, width, height) in support::SIZES {
        let jpeg = support::photo_like_jpeg(width, height);
        let document = decode(&jpeg, &limits).unwrap();
        let planes = working_planes(&document.rgb, models.quality.working_long_side);
        group.bench_function(format!("assess_tamper/{name}"), |b| {
            b.iter(|| assess_tamper(black_box(&document), &planes, &models.tamper))
        });
        group.bench_function(format!("local_maps/{name}"), |b| {
            b.iter(|| analyze_local(black_box(&document), &models.tamper.thresholds.local))
        });
        group.bench_function(format!("content_credentials/none/{name}"), |b| {
            b.iter(|| {
                assess_content_credentials(
                    black_box(&jpeg),
                    &document,
                    &credentials,
                    &models.tamper.generators,
                )
            })
        });
        let luma: Vec<u8> = document.rgb.pixels().map(|p| luma_of(p[0], p[1], p[2])).collect();
        let thresholds = &models.tamper.thresholds.local.copy_move;
        group.bench_function(format!("copy_move/{name}"), |b| {
            b.iter(|| copy_move::detect(black_box(&luma), width as usize, height as usize, thresholds))
        });
        let report = assess_tamper(&document, &planes, &models.tamper);
        group.bench_function(format!("heatmaps_png/{name}"), |b| {
            b.iter(|| report.heatmaps(black_box(&planes.luma), planes.factor, 640))
        });
    }
    group.finish();
}

criterion_group!(benches, tamper);
criterion_main!(benches);
