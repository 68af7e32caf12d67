//! The perceptual index proposing candidates for a cropped capture (verification, which follows on
//! the candidates only, is in `benches/analyze.rs`): 300 generated cards of one template
//! registered (the first stores the layout's keypoints), then a 10 % crop of one of them searched
//! (zone indexes, keypoint matching, frame fitting and refinement, inner zones read and searched),
//! and an unrelated card of another template searched (no layout fits: the crop path's cost for a
//! new document).
//!
//! `cargo bench --bench crop_search`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::planes::working_planes;
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::fingerprint::Fingerprints;
use idforensics::analysis::fingerprint::document::{DocumentLocation, DocumentPrint};
use idforensics::analysis::reuse::perceptual::{IndexedDocument, PerceptualIndex};
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::engine::Models;
use idforensics::eval::synthetic::capture::encode_jpeg;
use idforensics::eval::synthetic::cards::{CARD_HEIGHT, CARD_WIDTH, Template};
use rand::SeedableRng;
use rand::rngs::StdRng;

const CARDS: usize = 300;

fn print_of(image: &image::RgbImage, models: &Models) -> DocumentPrint {
    let bytes = encode_jpeg(image, 90);
    let decoded = decode(&bytes, &DecodeLimits::default()).expect("a generated card decodes");
    let planes = working_planes(&decoded.rgb, models.quality.working_long_side);
    let location = DocumentLocation::find(&planes, &models.reuse.layout);
    Fingerprints::compute(&bytes, &decoded, &planes, &location, &models.reuse.layout).document
}

fn crop_search(c: &mut Criterion) {
    let models = Models::embedded();
    let template = Template::new(0);
    let mut rng = StdRng::seed_from_u64(3);
    let mut index = PerceptualIndex::new();
    let mut first = None;
    for card in 0..CARDS {
        let image = template.render(&template.holder(&mut rng));
        let print = print_of(&image, &models);
        let crop = index.crop_print_to_store(&print, &models.reuse, false);
        index.insert(IndexedDocument {
            account_id: AccountId::new(format!("holder-{card}")).expect("valid id"),
            document_id: DocumentId::new("licence").expect("valid id"),
            registered_at_ms: card as i64,
            sequence: 0,
            hashes: print.upright,
            crop: Some(crop),
        });
        first.get_or_insert(image);
    }
    let original = first.expect("cards registered");
    let cropped = image::imageops::crop_imm(
        &original,
        CARD_WIDTH * 6 / 100,
        CARD_HEIGHT * 4 / 100,
        CARD_WIDTH * 90 / 100,
        CARD_HEIGHT * 90 / 100,
    )
    .to_image();
    let crop_query = print_of(&cropped, &models);
    let proposals = index.propose(&crop_query, None, &models.reuse);
    assert!(proposals.iter().any(|proposal| proposal.judged), "the crop is proposed");
    let stranger = Template::new(1).render(&Template::new(1).holder(&mut rng));
    let new_query = print_of(&stranger, &models);

    let mut group = c.benchmark_group("crop_search");
    group.bench_function(format!("crop_of_a_stored_card/{CARDS}_cards"), |b| {
        b.iter(|| index.propose(black_box(&crop_query), None, &models.reuse))
    });
    group.bench_function(format!("card_of_an_unknown_layout/{CARDS}_cards"), |b| {
        b.iter(|| index.propose(black_box(&new_query), None, &models.reuse))
    });
    group.finish();
}

criterion_group!(benches, crop_search);
criterion_main!(benches);
