//! The MRZ stage of an Analyze, after decoding: a phone capture of a TD1 card back (its zone found,
//! read and validated) and of a card without a zone (the small look at the document and the frame
//! only), each about 2 MP; and the whole frame of a 12 MP capture without a zone. One core.
//!
//! `cargo bench --features eval --bench mrz` (the zone is drawn in Debian's fonts-ocr-b)
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::analysis::decode::planes::working_planes;
use idforensics::analysis::decode::{DecodeLimits, decode};
use idforensics::analysis::fingerprint::document::DocumentLocation;
use idforensics::analysis::mrz::assess_mrz;
use idforensics::analysis::mrz::text::MrzFormat;
use idforensics::engine::Models;
use idforensics::eval::synthetic::capture::{CaptureSettings, Device, capture};
use idforensics::eval::synthetic::cards::Template;
use idforensics::eval::synthetic::mrz_documents::{random_zone, td1_card};
use idforensics::eval::synthetic::ocr_b::OcrB;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn phone_capture(card: &image::RgbImage, long_side: u32, rng: &mut StdRng) -> Vec<u8> {
    let mut settings = CaptureSettings::draw(Device::Phone, rng);
    settings.frame_long_side = long_side;
    capture(card, &settings, rng).jpeg
}

fn mrz(c: &mut Criterion) {
    let font = OcrB::system().expect("the MRZ bench draws its zone in Debian's fonts-ocr-b");
    let models = Models::embedded();
    let mut rng = StdRng::seed_from_u64(0x004D_52BE);
    let template = Template::new(7);
    let zone = random_zone(MrzFormat::Td1, &mut rng);
    let with_zone = phone_capture(&td1_card(&font, &template, &zone, &mut rng), 1632, &mut rng);
    let without = phone_capture(&template.render(&template.holder(&mut rng)), 1632, &mut rng);
    let large = phone_capture(&template.render(&template.holder(&mut rng)), 4000, &mut rng);
    let mut group = c.benchmark_group("mrz");
    group.sample_size(20);
    for (name, jpeg) in [("td1_card/2MP", with_zone), ("no_zone/2MP", without), ("no_zone/12MP", large)] {
        let document = decode(&jpeg, &DecodeLimits::default()).unwrap();
        let planes = working_planes(&document.rgb, models.quality.working_long_side);
        let location = DocumentLocation::find(&planes, &models.reuse.layout);
        let report = assess_mrz(&document.rgb, &planes, location.outline(), &models.mrz);
        assert_eq!(report.reading.is_some(), name.starts_with("td1"), "{name}: {report:?}");
        group.bench_function(name, |b| {
            b.iter(|| assess_mrz(black_box(&document.rgb), &planes, location.outline(), &models.mrz))
        });
    }
    group.finish();
}

criterion_group!(benches, mrz);
criterion_main!(benches);
