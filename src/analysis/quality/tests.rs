//! One generated image per finding that triggers it, and the clean original that does not.

use image::{Rgb, RgbImage};

use super::*;
use crate::analysis::decode::planes::{luma_of, working_planes};
use crate::analysis::decode::{DecodeLimits, decode};
use crate::analysis::fingerprint::document::DocumentLocation;
use crate::analysis::reuse::perceptual::ReuseModel;
use crate::eval::synthetic::fixtures::{jpeg, png};

/// A synthetic ID-like card: tinted gradient background with fine noise, rows of glyph-like strokes,
/// a portrait block.
fn document_like(width: u32, height: u32) -> RgbImage {
    let mut state = 0x1234_5678u32;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 9) as i32 - 4;
        let (u, v) = (x * 1000 / width, y * 1000 / height);
        let in_portrait = (60..300).contains(&u) && (200..850).contains(&v);
        // Print keeps a blank margin from the card's edge, as on a real card (print running into
        // the frame's edge is a cut-off).
        let in_text_line = (360..950).contains(&u) && (v % 120) < 45 && (180..900).contains(&v);
        // Glyphs: short strokes in both directions (4 x 4 blocks, scattered without a period).
        let scatter = ((u / 4).wrapping_mul(0x9E37_79B9) ^ (v / 6).wrapping_mul(0x85EB_CA6B)) >> 7;
        let glyph = in_text_line && (u / 9) % 3 != 0 && scatter % 5 < 2;
        let base = if in_portrait {
            [150 + (v / 8) as i32 % 40, 110, 90]
        } else if glyph {
            [30, 35, 60]
        } else {
            [170 + (u / 20) as i32, 190 + (v / 25) as i32, 215]
        };
        Rgb(base.map(|c| (c + noise).clamp(0, 255) as u8))
    })
}

fn assess(bytes: &[u8]) -> QualityReport {
    let document = decode(bytes, &DecodeLimits::default()).unwrap();
    let thresholds = QualityThresholds::embedded();
    let planes = working_planes(&document.rgb, thresholds.working_long_side);
    let location = DocumentLocation::find(&planes, &ReuseModel::embedded().layout);
    assess_quality(&document, &planes, location.outline(), &thresholds)
}

fn codes_of(bytes: &[u8]) -> Vec<ReasonCode> {
    assess(bytes).findings.iter().map(|f| f.code).collect()
}

fn map_pixels(image: &RgbImage, f: impl Fn(f64) -> f64) -> RgbImage {
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        *pixel = Rgb(pixel.0.map(|c| (f(f64::from(c) / 255.0) * 255.0).round().clamp(0.0, 255.0) as u8));
    }
    out
}

#[test]
fn a_clean_card_passes_every_check() {
    assert_eq!(codes_of(&png(&document_like(1000, 630))), Vec::<ReasonCode>::new());
    assert_eq!(codes_of(&jpeg(&document_like(1000, 630), 90)), Vec::<ReasonCode>::new());
}

#[test]
fn low_resolution() {
    assert_eq!(codes_of(&png(&document_like(420, 265))), [ReasonCode::QualityLowResolution]);
    assert!(!codes_of(&png(&document_like(640, 403))).contains(&ReasonCode::QualityLowResolution));
}

#[test]
fn blur() {
    let card = document_like(1000, 630);
    assert_eq!(codes_of(&png(&imageproc::filter::gaussian_blur_f32(&card, 4.0))), [ReasonCode::QualityBlur]);
    let slight = assess(&png(&imageproc::filter::gaussian_blur_f32(&card, 0.6)));
    assert!(!slight.findings.iter().any(|f| f.code == ReasonCode::QualityBlur), "{:?}", slight.findings);
}

#[test]
fn dark_and_overexposed() {
    let card = document_like(1000, 630);
    assert_eq!(codes_of(&png(&map_pixels(&card, |v| v * 0.2))), [ReasonCode::QualityDark]);
    assert!(codes_of(&png(&map_pixels(&card, |v| v.powf(1.3)))).is_empty());
    assert_eq!(codes_of(&png(&map_pixels(&card, |v| v * 2.5))), [ReasonCode::QualityOverexposed]);
    assert!(codes_of(&png(&map_pixels(&card, |v| v * 1.1))).is_empty());
}

#[test]
fn glare_reports_where_it_is() {
    let mut card = document_like(1000, 630);
    for (x, y, pixel) in card.enumerate_pixels_mut() {
        let d2 = (f64::from(x) - 600.0).powi(2) / 90.0f64.powi(2)
            + (f64::from(y) - 300.0).powi(2) / 50.0f64.powi(2);
        let light = (1.6 * (-d2 * 0.7).exp()).min(1.0);
        *pixel = Rgb(pixel.0.map(|c| (f64::from(c) + (255.0 - f64::from(c)) * light * 1.2).min(255.0) as u8));
    }
    let report = assess(&png(&card));
    let glare = report.findings.iter().find(|f| f.code == ReasonCode::QualityGlare).expect("glare");
    let region = &glare.regions[0];
    assert!(
        region.x < 600 && region.x + region.width > 600 && region.y < 300 && region.y + region.height > 300
    );
    // A white margin around a scan touches the border: not glare.
    let mut scan = RgbImage::from_pixel(1100, 730, Rgb([255, 255, 255]));
    image::imageops::overlay(&mut scan, &document_like(1000, 630), 50, 50);
    assert!(!codes_of(&png(&scan)).contains(&ReasonCode::QualityGlare));
}

#[test]
fn low_contrast() {
    let card = document_like(1000, 630);
    // Squashed this far, the colours are nearly grey too (chroma x 0.15): a grayscale finding may
    // come with it.
    let codes = codes_of(&png(&map_pixels(&card, |v| 0.5 + (v - 0.7) * 0.15)));
    assert_eq!(codes[0], ReasonCode::QualityLowContrast, "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|code| matches!(code, ReasonCode::QualityLowContrast | ReasonCode::QualityGrayscaleCopy))
    );
    assert!(codes_of(&png(&map_pixels(&card, |v| 0.1 + v * 0.8))).is_empty());
}

#[test]
fn grayscale_copy() {
    let card = document_like(1000, 630);
    let gray = RgbImage::from_fn(1000, 630, |x, y| {
        let [r, g, b] = card.get_pixel(x, y).0;
        let l = luma_of(r, g, b);
        Rgb([l, l, l])
    });
    assert_eq!(codes_of(&jpeg(&gray, 90)), [ReasonCode::QualityGrayscaleCopy]);
}

#[test]
fn heavy_compression_and_the_estimate_for_every_jpeg() {
    let card = document_like(1000, 630);
    assert!(codes_of(&jpeg(&card, 10)).contains(&ReasonCode::QualityHeavyCompression));
    let report = assess(&jpeg(&card, 75));
    assert!(report.findings.is_empty());
    assert!(report.metrics.contains(&Evidence::number("jpeg_quality_estimate", 75.0)));
    assert!(report.metrics.contains(&Evidence::flag("jpeg_tables_ijg_exact", true)));
}

#[test]
fn screenshot() {
    // A flat user interface at a phone's screen size, with a photo of a card inside it.
    let mut screen = RgbImage::from_pixel(1170, 2532, Rgb([242, 242, 247]));
    for (x, y, pixel) in screen.enumerate_pixels_mut() {
        if y < 140 {
            *pixel = Rgb([30, 30, 35]);
        } else if (x / 390 + y / 300) % 5 == 0 && y > 1800 {
            *pixel = Rgb([0, 122, 255]);
        }
    }
    image::imageops::overlay(&mut screen, &document_like(1000, 630), 85, 700);
    assert_eq!(codes_of(&png(&screen)), [ReasonCode::QualityScreenshot]);
    // The same pixels at a size no screen has.
    let cropped = image::imageops::crop_imm(&screen, 0, 0, 1150, 2500).to_image();
    assert!(codes_of(&png(&cropped)).is_empty());
}

#[test]
fn embedded_thresholds_parse() {
    let thresholds = QualityThresholds::embedded();
    assert!(!thresholds.version.is_empty());
    assert!(thresholds.screenshot.screen_sizes.contains(&(1920, 1080)));
}
