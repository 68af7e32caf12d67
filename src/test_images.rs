//! Test-only helpers: encode generated images the way uploads arrive.

use image::{ImageEncoder, RgbImage};

use crate::decode::planes::working_planes;
use crate::decode::{DecodeLimits, decode};
use crate::fingerprint::document::DocumentPrint;

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

/// Card `number` of the reuse evaluation (seed 1, 2,000 cards per template): the upload it was
/// registered with and its "photo on a table" capture, as `eval-reuse` makes them.
pub(crate) fn evaluation_card_on_a_table(number: u64) -> (Vec<u8>, Vec<u8>) {
    use crate::eval::captures::{Capture, encode_jpeg};
    use crate::eval::cards::Template;
    use rand::SeedableRng;
    // The seeds `eval-reuse` derives from its seed (1), the template and the card's number.
    let (template, card) = (number / 2000, number % 2000);
    let holder_seed = 1 ^ (template << 32) ^ card;
    let capture_seed = 1 ^ 0xCA97 ^ (number << 8);
    let template = Template::new(template);
    let rendered = template.render(&template.holder(&mut rand::rngs::StdRng::seed_from_u64(holder_seed)));
    let mut rng = rand::rngs::StdRng::seed_from_u64(capture_seed);
    (encode_jpeg(&rendered, 92), Capture::OnBackground.apply(&rendered, &mut rng))
}

/// Card `number` of the reuse evaluation (seed 1): the upload it was registered with and its
/// "same data, new portrait" swap, as `eval-reuse` makes them.
pub(crate) fn evaluation_card_with_another_portrait(number: u64) -> (Vec<u8>, Vec<u8>) {
    use crate::eval::captures::encode_jpeg;
    use crate::eval::cards::{Holder, Template};
    use rand::SeedableRng;
    let (template, card) = (number / 2000, number % 2000);
    let holder_seed = 1 ^ (template << 32) ^ card;
    let swap_seed = 1 ^ 0x5A ^ (number << 12);
    let template = Template::new(template);
    let holder = template.holder(&mut rand::rngs::StdRng::seed_from_u64(holder_seed));
    let fresh = template.holder(&mut rand::rngs::StdRng::seed_from_u64(swap_seed));
    let swapped = Holder { portrait_seed: fresh.portrait_seed, fields: holder.fields.clone() };
    (encode_jpeg(&template.render(&holder), 92), encode_jpeg(&template.render(&swapped), 90))
}

/// The document print of an upload as the service computes it (working plane, shipped layout).
pub(crate) fn document_print(upload: &[u8]) -> DocumentPrint {
    let decoded = decode(upload, &DecodeLimits::default()).expect("a decodable upload");
    let working_long_side = crate::quality::QualityThresholds::embedded().working_long_side;
    let layout = crate::reuse::perceptual::ReuseModel::embedded().layout;
    DocumentPrint::compute(&working_planes(&decoded.rgb, working_long_side), &layout)
}
