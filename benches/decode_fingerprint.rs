//! Decoding (and, for comparison, a 1/8 DCT-scaled decode) and fingerprints (SHA-256 of file and pixels,
//! PDQ, the document locator and zone hashes) of generated 2 MP and 12 MP JPEGs (quality 90, fixed
//! seed), and the document print of a generated ID card photographed on a table.
//!
//! `cargo bench --bench decode_fingerprint`
#![allow(missing_docs)] // criterion_group! generates undocumented items

mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::planes::working_planes;
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::fingerprint::document::{DocumentLocation, DocumentPrint};
use idforensics::analysis::fingerprint::{ExactFingerprints, Fingerprints};
use idforensics::engine::Models;
use idforensics::eval::synthetic::cards::Template;
use idforensics::eval::synthetic::transforms::Capture;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn decode_and_fingerprint(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("decode_fingerprint");
    group.sample_size(20);
    for (name, width, height) in support::SIZES {
        let jpeg = support::photo_like_jpeg(width, height);
        group.bench_function(format!("decode/{name}"), |b| {
            b.iter(|| decode(black_box(&jpeg), &limits).unwrap())
        });
        // A reduced-scale decode for comparison (jpeg-decoder's; zune-jpeg cannot scale): at 1/8 the
        // inverse DCT keeps only each block's DC term, but every coefficient is still Huffman-decoded.
        let eighth = ((width / 8) as u16, (height / 8) as u16);
        group.bench_function(format!("decode_eighth_scale/{name}"), |b| {
            b.iter(|| {
                let mut decoder = jpeg_decoder::Decoder::new(black_box(&jpeg[..]));
                assert_eq!(decoder.scale(eighth.0, eighth.1).unwrap(), eighth);
                decoder.decode().unwrap()
            })
        });
        let document = decode(&jpeg, &limits).unwrap();
        group.bench_function(format!("exact_fingerprints/{name}"), |b| {
            b.iter(|| ExactFingerprints::compute(black_box(&jpeg), &document))
        });
        let models = Models::embedded();
        group.bench_function(format!("planes_and_all_fingerprints/{name}"), |b| {
            b.iter(|| {
                let planes = working_planes(&document.rgb, models.quality.working_long_side);
                let location = DocumentLocation::find(&planes, &models.reuse.layout);
                Fingerprints::compute(black_box(&jpeg), &document, &planes, &location, &models.reuse.layout)
            })
        });
        let planes = working_planes(&document.rgb, models.quality.working_long_side);
        let print = DocumentPrint::compute(&planes, &models.reuse.layout);
        eprintln!("{name}: located {}, {} framings", print.located, 1 + print.alternatives.len());
        group.bench_function(format!("document_print/{name}"), |b| {
            b.iter(|| DocumentPrint::compute(black_box(&planes), &models.reuse.layout))
        });
    }
    // A generated ID card photographed on a grained table: the locator's whole path (outline,
    // sharpening, and the whole frame as a second framing).
    let mut rng = StdRng::seed_from_u64(1);
    let template = Template::new(0);
    let card = template.render(&template.holder(&mut rng));
    let photo = decode(&Capture::OnBackground.apply(&card, &mut rng), &limits).unwrap();
    let models = Models::embedded();
    let planes = working_planes(&photo.rgb, models.quality.working_long_side);
    let print = DocumentPrint::compute(&planes, &models.reuse.layout);
    assert!(print.located, "the bench card is located on its table");
    eprintln!("card on a table: {} framings", 1 + print.alternatives.len());
    group.bench_function("document_print/card_on_table", |b| {
        b.iter(|| DocumentPrint::compute(black_box(&planes), &models.reuse.layout))
    });
    group.finish();
}

criterion_group!(benches, decode_and_fingerprint);
criterion_main!(benches);
