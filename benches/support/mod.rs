//! Inputs shared by the benchmarks: photo-like JPEGs generated with a fixed seed.

use image::{Rgb, RgbImage};

/// The sizes every bench runs at: name, width, height.
pub(crate) const SIZES: [(&str, u32, u32); 2] =
    [("2MP_1632x1224", 1632, 1224), ("12MP_4000x3000", 4000, 3000)];

/// A photo-like test image encoded as JPEG q90: smooth gradients with fixed-seed noise, so the JPEG
/// has realistic entropy.
pub(crate) fn photo_like_jpeg(width: u32, height: u32) -> Vec<u8> {
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
