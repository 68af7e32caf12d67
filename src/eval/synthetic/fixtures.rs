//! Test-only helpers: encode generated images the way uploads arrive, and remake the reuse
//! evaluation's cards and captures.

use image::{ImageEncoder, RgbImage};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::analysis::decode::planes::working_planes;
use crate::analysis::decode::{DecodeLimits, decode};
use crate::analysis::fingerprint::document::DocumentPrint;
use crate::eval::synthetic::cards::{Holder, Template};
use crate::eval::synthetic::{capture::encode_jpeg, transforms::Capture};

/// A generated card captured with sensor noise (σ 3) and saved at quality 92, decoded; the same
/// capture with its portrait replaced by a clean render; and the replaced area (x, y, width, height).
pub(crate) fn captured_card_and_portrait_swap() -> (RgbImage, RgbImage, (u32, u32, u32, u32)) {
    let mut rng = StdRng::seed_from_u64(7);
    let template = Template::new(1);
    let holder = template.holder(&mut rng);
    let mut captured = template.render(&holder);
    crate::eval::synthetic::capture::add_noise(&mut captured, 3.0, &mut rng);
    let captured = decode(&encode_jpeg(&captured, 92), &DecodeLimits::default()).expect("own JPEG").rgb;
    let mut swapped = holder.clone();
    swapped.portrait_seed ^= 1;
    let (edited, mask) = crate::eval::tamper::paste_difference(&captured, &template, &holder, &swapped)
        .expect("another portrait renders differently");
    (captured, edited, mask)
}

/// The local anomaly thresholds set on the render-based `eval-tamper` (digital cards with sensor
/// noise, like [`captured_card_and_portrait_swap`]'s) before the shipped ones were calibrated on
/// captures: what a deployment whose uploads are this clean would calibrate near.
pub(crate) fn render_evaluation_scores() -> crate::analysis::tamper::local::AnomalyScores {
    let shipped = crate::analysis::tamper::TamperModels::embedded().thresholds.local.anomaly_scores;
    crate::analysis::tamper::local::AnomalyScores {
        error_level: 5.5,
        noise: 4.0,
        double_quantization: 3.0,
        foreign_grid: 22.0,
        ..shipped
    }
}

/// Lossless PNG.
pub(crate) fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image, image.width(), image.height(), image::ExtendedColorType::Rgb8)
        .expect("encoding to memory");
    out
}

/// Baseline JPEG at `quality` (libjpeg-compatible tables).
pub(crate) fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encoding to memory");
    out
}

/// Card `number` of the reuse evaluation (seed 1, 2,000 cards per template): its template and
/// holder, from the seeds `eval-reuse` derives from its seed, the template and the card's number.
fn evaluation_card(number: u64) -> (Template, Holder) {
    let (template, card) = (number / 2000, number % 2000);
    let template_of_card = Template::new(template);
    let holder = template_of_card.holder(&mut StdRng::seed_from_u64(1 ^ (template << 32) ^ card));
    (template_of_card, holder)
}

/// A rendered card as `eval-reuse` registers it (JPEG at quality 92).
fn as_registered(rendered: &RgbImage) -> Vec<u8> {
    encode_jpeg(rendered, 92)
}

/// Card `number` of the reuse evaluation: the upload it was registered with.
pub(crate) fn evaluation_upload(number: u64) -> Vec<u8> {
    let (template, holder) = evaluation_card(number);
    as_registered(&template.render(&holder))
}

/// Card `number` of the reuse evaluation: the upload it was registered with and its "photo on a
/// table" capture, as `eval-reuse` makes them.
pub(crate) fn evaluation_card_on_a_table(number: u64) -> (Vec<u8>, Vec<u8>) {
    let (template, holder) = evaluation_card(number);
    let rendered = template.render(&holder);
    let mut rng = StdRng::seed_from_u64(1 ^ 0xCA97 ^ (number << 8));
    (as_registered(&rendered), Capture::OnBackground.apply(&rendered, &mut rng))
}

/// Card `number` of the reuse evaluation: the upload it was registered with and its "same data,
/// new portrait" swap, as `eval-reuse` makes them.
pub(crate) fn evaluation_card_with_another_portrait(number: u64) -> (Vec<u8>, Vec<u8>) {
    let (template, holder) = evaluation_card(number);
    let fresh = template.holder(&mut StdRng::seed_from_u64(1 ^ 0x5A ^ (number << 12)));
    let swapped = Holder { fields: holder.fields.clone(), ..fresh };
    (as_registered(&template.render(&holder)), encode_jpeg(&template.render(&swapped), 90))
}

/// The document print of an upload as the service computes it (working plane, shipped layout).
pub(crate) fn document_print(upload: &[u8]) -> DocumentPrint {
    let decoded = decode(upload, &DecodeLimits::default()).expect("a decodable upload");
    let working_long_side = crate::analysis::quality::QualityThresholds::embedded().working_long_side;
    let layout = crate::analysis::reuse::perceptual::ReuseModel::embedded().layout;
    DocumentPrint::compute(&working_planes(&decoded.rgb, working_long_side), &layout)
}
