//! Decode + exact fingerprints of generated 2 MP and 12 MP JPEGs (quality 90, fixed seed).
//!
//! `cargo bench --bench decode_fingerprint`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idforensics::decode::{DecodeLimits, decode};
use idforensics::fingerprint::ExactFingerprints;
use image::{Rgb, RgbImage};

/// A photo-like test image: smooth gradients with fixed-seed noise, so the JPEG has realistic entropy.
fn photo_like(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_F491u32;
    let image = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state & 0x1F) as u8;
        Rgb([(x * 255 / width) as u8 ^ noise, (y * 255 / height) as u8 ^ noise, ((x + y) / 16) as u8 ^ noise])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image).unwrap();
    out
}

fn decode_and_fingerprint(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("decode_fingerprint");
    group.sample_size(20);
    for (name, width, height) in [("2MP_1632x1224", 1632, 1224), ("12MP_4000x3000", 4000, 3000)] {
        let jpeg = photo_like(width, height);
        group.bench_function(name, |b| {
            b.iter(|| {
                let document = decode(black_box(&jpeg), &limits).unwrap();
                black_box(ExactFingerprints::compute(&jpeg, &document))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode_and_fingerprint);
criterion_main!(benches);
