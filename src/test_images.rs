//! Test-only helpers: encode generated images the way uploads arrive.

use image::{ImageEncoder, RgbImage};

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
