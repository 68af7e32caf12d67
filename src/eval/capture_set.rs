//! `idforensics make-capture-set`: a quality evaluation set made the way uploads arrive. Generated
//! ID cards are captured through the capture chain ([`super::synthetic::capture`]) by a phone (on
//! white paper, a dark desk, wood or cloth) or a scanner, once as a good capture and once with each
//! degradation the gate must catch: motion blur, the card cut off by the frame, a specular spot,
//! low light, a photo of a screen, a photocopy, heavy recompression, too few pixels.
//!
//! `idforensics eval DIR` then reports the right-reason recall per degradation and how many good
//! captures were rejected. Deterministic: the same seed gives the same set.

use std::fmt::Write as _;
use std::path::Path;

use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::quality_set::QualitySetError;
use super::synthetic::capture::{
    Background, CaptureSettings, Device, capture, encode_jpeg, print_recapture, screen_recapture,
};
use super::synthetic::cards::Template;

/// What a run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSetSummary {
    /// Cards generated.
    pub cards: usize,
    /// Files written.
    pub files: usize,
}

/// One capture of a card: its label, what was done, and the upload.
struct Upload {
    label: &'static str,
    transform: String,
    jpeg: Vec<u8>,
}

/// The good capture and every degradation of one card.
fn uploads(card: &RgbImage, base: &CaptureSettings, rng: &mut StdRng) -> Vec<Upload> {
    let mut out = Vec::new();
    let shot = |label, transform: String, settings: &CaptureSettings, rng: &mut StdRng| Upload {
        label,
        transform,
        jpeg: capture(card, settings, rng).jpeg,
    };
    out.push(shot("good", "good".into(), base, rng));

    let length = rng.random_range(13.0..=21.0f32);
    let blurred = CaptureSettings {
        motion_blur: length,
        motion_angle_degrees: rng.random_range(0.0..180.0),
        ..base.clone()
    };
    out.push(shot("low-quality-blur", format!("motion_blur_{length:.0}px"), &blurred, rng));

    // A share `outside` of the card's width past the frame's left or right edge.
    let outside = rng.random_range(0.15..=0.35f32);
    let width = base.card_width_share;
    let shift = (0.5 + outside * width - width / 2.0) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let cut = CaptureSettings { centre_shift: (shift, 0.0), ..base.clone() };
    out.push(shot("low-quality-cutoff", format!("cut_off_{:.0}pct", outside * 100.0), &cut, rng));

    let spot =
        ((rng.random_range(0.2..0.8f32), rng.random_range(0.25..0.75f32)), rng.random_range(0.12..0.2f32));
    let glare = CaptureSettings { glare: Some(spot), ..base.clone() };
    out.push(shot("low-quality-glare", "glare_spot".into(), &glare, rng));

    let stops = rng.random_range(-3.5..=-2.5f32);
    let dark = CaptureSettings { exposure_stops: stops, noise: base.noise * 2.0, ..base.clone() };
    out.push(shot("low-quality-dark", format!("exposure_{stops:.1}ev"), &dark, rng));

    let lowres = CaptureSettings { frame_long_side: rng.random_range(420..=560), ..base.clone() };
    out.push(shot("low-quality-lowres", format!("frame_{}px", lowres.frame_long_side), &lowres, rng));

    let quality = rng.random_range(8..=15u8);
    let decoded =
        image::load_from_memory(&capture(card, base, rng).jpeg).expect("a capture decodes").to_rgb8();
    out.push(Upload {
        label: "low-quality-compression",
        transform: format!("resaved_q{quality}"),
        jpeg: encode_jpeg(&decoded, quality),
    });

    out.push(Upload {
        label: "low-quality-screen",
        transform: "screen_recapture".into(),
        jpeg: screen_recapture(card, rng).jpeg,
    });

    // A black-and-white photocopy, scanned: grey levels with the copier's contrast, then printed.
    let copy = RgbImage::from_fn(card.width(), card.height(), |x, y| {
        let [r, g, b] = card.get_pixel(x, y).0.map(f32::from);
        let grey = ((0.299 * r + 0.587 * g + 0.114 * b - 128.0) * 1.3 + 140.0).clamp(0.0, 255.0) as u8;
        Rgb([grey; 3])
    });
    out.push(Upload {
        label: "low-quality-grayscale",
        transform: "photocopy".into(),
        jpeg: print_recapture(&copy, rng).jpeg,
    });
    out
}

/// Writes `cards` generated cards' captures and `MANIFEST.tsv` (`file`, `label`, `device`,
/// `background`, `transform`) into `out` (created).
pub fn make_capture_set(out: &Path, cards: usize, seed: u64) -> Result<CaptureSetSummary, QualitySetError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| QualitySetError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut manifest = String::from("file\tlabel\tdevice\tbackground\ttransform\n");
    let mut files = 0;
    for number in 0..cards {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x9A11 ^ (number as u64) << 16);
        let template = Template::new(number as u64 % 4);
        let card = template.render(&template.holder(&mut rng));
        // Two phone captures for every scan; the phone's surfaces in turn.
        let device = if number % 3 == 2 { Device::Scanner } else { Device::Phone };
        let mut base = CaptureSettings::draw(device, &mut rng);
        if device == Device::Phone {
            let phone_number = number - number / 3;
            base.background = Background::ALL[phone_number % Background::ALL.len()];
        }
        for upload in uploads(&card, &base, &mut rng) {
            let name = format!("card{number:04}_{}.jpg", upload.transform);
            std::fs::write(out.join(&name), &upload.jpeg).map_err(io(&out.join(&name)))?;
            let _ = writeln!(
                manifest,
                "{name}\t{}\t{:?}\t{:?}\t{}",
                upload.label, base.device, base.background, upload.transform
            );
            files += 1;
        }
    }
    let manifest_path = out.join("MANIFEST.tsv");
    std::fs::write(&manifest_path, manifest).map_err(io(&manifest_path))?;
    Ok(CaptureSetSummary { cards, files })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::read_manifest;

    #[test]
    fn every_card_gets_a_good_capture_and_each_degradation() {
        let dir = tempfile::tempdir().unwrap();
        let summary = make_capture_set(dir.path(), 2, 7).unwrap();
        assert_eq!(summary, CaptureSetSummary { cards: 2, files: 18 });
        let listed = read_manifest(dir.path()).unwrap();
        let good = listed.iter().filter(|file| file.label == "good").count();
        assert_eq!((listed.len(), good), (18, 2));
        for file in &listed {
            let bytes = std::fs::read(dir.path().join(&file.file)).unwrap();
            assert!(image::load_from_memory(&bytes).is_ok(), "{}", file.file);
        }
    }
}
