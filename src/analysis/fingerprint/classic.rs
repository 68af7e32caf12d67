//! pHash and dHash, 64 bits each, through `image_hasher` (the maintained fork of `img_hash`), so a
//! platform can compare them with hashes it already stores. They are reported, never matched on:
//! one global hash confuses different people's cards of one template (DESIGN.md).
//!
//! Conventions, chosen to follow Python's ImageHash where `image_hasher` allows it:
//! - grey levels as Pillow's `convert("L")` computes them (ITU-R 601-2 luma, rounded);
//! - resampling with Lanczos-3 (Pillow's `LANCZOS`, which ImageHash uses), from the image
//!   box-averaged to at most `CLASSIC_LONG_SIDE` px (Lanczos over a larger plane costs ~10 ms);
//! - dHash: a 9×8 reduction, a bit set where a pixel is brighter than its left neighbour, rows top
//!   to bottom, first bit the most significant: ImageHash's `dhash` bit for bit;
//! - pHash: `image_hasher`'s DCT hash: the 8×8 lowest frequencies of the DCT of a 16×16 reduction,
//!   a bit set where a coefficient reaches their median, first bit the most significant. ImageHash's
//!   `phash` takes the DCT of a 32×32 reduction and sets bits strictly above the median, which
//!   `image_hasher` cannot be configured to do: the two are different hashes of the same image.

use image::{GrayImage, RgbImage};
use image_hasher::{BitOrder, FilterType, HashAlg, Hasher, HasherConfig};

/// The two 64-bit hashes of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassicHashes {
    /// DCT hash (see the module documentation for its convention).
    pub phash: [u8; 8],
    /// Difference hash, ImageHash's `dhash` convention.
    pub dhash: [u8; 8],
}

/// Grey levels as Pillow's `convert("L")`: `(19595 R + 38470 G + 7471 B + 0x8000) >> 16`.
fn pillow_luma(rgb: &RgbImage) -> GrayImage {
    let luma = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|pixel| {
            let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(u32::from);
            ((19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16) as u8
        })
        .collect();
    GrayImage::from_raw(rgb.width(), rgb.height(), luma).expect("one luma value per pixel")
}

fn hasher(algorithm: HashAlg, dct: bool) -> Hasher {
    let config = HasherConfig::new()
        .hash_alg(algorithm)
        .hash_size(8, 8)
        .resize_filter(FilterType::Lanczos3)
        .bit_order(BitOrder::MsbFirst);
    if dct { config.preproc_dct() } else { config }.to_hasher()
}

fn first_eight(bytes: &[u8]) -> [u8; 8] {
    let mut hash = [0u8; 8];
    hash.copy_from_slice(&bytes[..8]);
    hash
}

/// pHash and dHash of `rgb` (the caller passes the image box-averaged to a bounded size: both
/// hashes reduce it to 16 px or less, and Lanczos over a 12 MP image would cost tens of ms).
pub fn classic_hashes(rgb: &RgbImage) -> ClassicHashes {
    let luma = pillow_luma(rgb);
    ClassicHashes {
        phash: first_eight(hasher(HashAlg::Median, true).hash_image(&luma).as_bytes()),
        dhash: first_eight(hasher(HashAlg::Gradient, false).hash_image(&luma).as_bytes()),
    }
}
