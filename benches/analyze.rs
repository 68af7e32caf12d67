//! One whole `Analyze` of a 2 MP phone-style photo of a card (decode, quality, tamper, fingerprints,
//! matching with verification against a store holding other captures of the same card, policy), not
//! registered. The reuse issue's speed budget is against this bench's median at commit 518a13a:
//! `scripts/compare_analyze.sh` builds both and runs them alternately.
//!
//! Then a 2 MP scan of the card on a white bed, which the locator does not outline, against a store
//! holding the card's flat image: with the known layout fitted from keypoints (`reuse::layout_fit`)
//! and without (the model's `[layout_fit]` table removed), run in turn in one process.
//!
//! `cargo bench --bench analyze`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::DecodeLimits;
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::engine::{AnalyzeRequest, Engine, Models};
use idforensics::storage::sqlite::SqliteStore;
use image::imageops::{FilterType, overlay, resize};
use image::{Rgb, RgbImage};

/// The project's specimen card (a public specimen, `testdata/MANIFEST.tsv`).
const SPECIMEN: &[u8] = include_bytes!("../testdata/specimen-id-si.jpg");

/// A 1632 x 1224 photo of the specimen card `card_width` px wide at `at` on a grey, grainy table,
/// JPEG q90 (fixed seed: the same input on every commit).
fn card_photo(card_width: u32, at: (i64, i64)) -> Vec<u8> {
    let card = image::load_from_memory(SPECIMEN).expect("the specimen decodes").to_rgb8();
    let height = card.height() * card_width / card.width();
    let card = resize(&card, card_width, height, FilterType::CatmullRom);
    let mut state = 0x9E37_79B9u32;
    let mut photo = RgbImage::from_fn(1632, 1224, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let grain = (state & 0x0F) as u8;
        let shade = 96 + ((x + y) / 64) as u8 % 24;
        Rgb([shade + grain, shade + grain, shade + 6 + grain])
    });
    overlay(&mut photo, &card, at.0, at.1);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&photo).unwrap();
    out
}

/// A 1632 x 1224 flatbed scan: the specimen card 1500 px wide on a white bed with a little sensor
/// noise, JPEG q90.
fn white_bed_scan() -> Vec<u8> {
    let card = image::load_from_memory(SPECIMEN).expect("the specimen decodes").to_rgb8();
    let height = card.height() * 1500 / card.width();
    let card = resize(&card, 1500, height, FilterType::CatmullRom);
    let mut state = 0x2545_F491u32;
    let mut scan = RgbImage::from_fn(1632, 1224, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Rgb([238 + (state & 0x07) as u8; 3])
    });
    overlay(&mut scan, &card, 66, i64::from((1224 - height) / 2));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&scan).unwrap();
    out
}

fn analyze_unlocated_scan(c: &mut Criterion) {
    let query = white_bed_scan();
    let account = AccountId::new("applicant").unwrap();
    let mut group = c.benchmark_group("analyze");
    group.sample_size(20);
    let mut without_fit = Models::embedded();
    without_fit.reuse.layout_fit = None;
    for (name, models) in [
        ("2MP_scan_on_white_bed", Models::embedded()),
        ("2MP_scan_on_white_bed_without_layout_fit", without_fit),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::with_store(
            DecodeLimits::default(),
            models,
            Box::new(SqliteStore::open(dir.path()).unwrap()),
        )
        .unwrap();
        engine
            .analyze(AnalyzeRequest {
                image: SPECIMEN,
                account_id: Some(&AccountId::new("other").unwrap()),
                document_id: Some(&DocumentId::new("front").unwrap()),
                register: true,
                include_evidence_images: false,
            })
            .unwrap();
        let request = AnalyzeRequest {
            image: &query,
            account_id: Some(&account),
            document_id: None,
            register: false,
            include_evidence_images: false,
        };
        let framings: Vec<String> = engine
            .analyze(request)
            .unwrap()
            .matches
            .iter()
            .flat_map(|m| m.evidence.iter().filter(|e| e.name == "framing").map(|e| format!("{:?}", e.value)))
            .collect();
        eprintln!("{name}: the scan matches the flat card in framings {framings:?}");
        group.bench_function(name, |b| b.iter(|| engine.analyze(black_box(request)).unwrap()));
    }
    group.finish();
}

fn analyze(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Box::new(SqliteStore::open(dir.path()).unwrap());
    let engine = Engine::with_store(DecodeLimits::default(), Models::embedded(), store).unwrap();
    // Other accounts' captures of the same card, framed a little differently: the query finds them
    // as candidates, so matching does its full work.
    for (number, (width, at)) in
        [(1100, (260, 300)), (1060, (300, 330)), (1140, (240, 280))].into_iter().enumerate()
    {
        let account = AccountId::new(format!("other-{number}")).unwrap();
        let document = DocumentId::new("front").unwrap();
        engine
            .analyze(AnalyzeRequest {
                image: &card_photo(width, at),
                account_id: Some(&account),
                document_id: Some(&document),
                register: true,
                include_evidence_images: false,
            })
            .unwrap();
    }
    let query = card_photo(1080, (280, 310));
    let account = AccountId::new("applicant").unwrap();
    let mut group = c.benchmark_group("analyze");
    group.sample_size(20);
    group.bench_function("2MP_card_photo", |b| {
        b.iter(|| {
            engine
                .analyze(AnalyzeRequest {
                    image: black_box(&query),
                    account_id: Some(&account),
                    document_id: None,
                    register: false,
                    include_evidence_images: false,
                })
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, analyze, analyze_unlocated_scan);
criterion_main!(benches);
