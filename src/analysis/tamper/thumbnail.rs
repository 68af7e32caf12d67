//! The EXIF thumbnail against the image: a camera writes both from one exposure, and many editors
//! re-save the full image but carry the old thumbnail over, so a thumbnail that shows something
//! else (a different portrait, a crop, a changed field) is a trace of editing.

use image::imageops::{FilterType, resize};
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage};

use crate::analysis::decode::planes::luma_of;
use crate::analysis::decode::{DecodeLimits, DecodedDocument, decode};

/// The thumbnail compared with the image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThumbnailComparison {
    /// Mean absolute difference of contrast-normalised luma (in standard deviations) between the
    /// thumbnail's picture area and the image scaled to it.
    pub difference: f64,
    /// Relative difference of the aspect ratios (thumbnail picture area against image).
    pub aspect_difference: f64,
    /// Thumbnail picture area (letterbox bars removed), pixels.
    pub width: u32,
    /// Its height.
    pub height: u32,
}

/// Thumbnails are at most a few hundred pixels; anything larger is not treated as one.
const THUMBNAIL_LIMITS: DecodeLimits =
    DecodeLimits { max_bytes: 256 * 1024, max_dimension: 1024, max_pixels: 1024 * 1024 };

/// Compares the EXIF thumbnail with the image, read from its working luma plane (a thumbnail is
/// smaller than any working plane, so nothing is lost and the full image is not scanned again);
/// `None` when there is no usable thumbnail.
pub fn compare_thumbnail(document: &DecodedDocument, luma: &GrayImage) -> Option<ThumbnailComparison> {
    let bytes = document.container.exif_thumbnail.as_deref()?;
    let thumbnail = decode(bytes, &THUMBNAIL_LIMITS).ok()?;
    // The thumbnail is stored as the sensor saw it; turn it as the image was turned.
    let mut oriented = DynamicImage::ImageRgb8(thumbnail.rgb);
    if let Some(orientation) = Orientation::from_exif(document.exif_orientation) {
        oriented.apply_orientation(orientation);
    }
    let thumbnail = to_luma(&oriented.into_rgb8());
    let (left, top, width, height) = picture_area(&thumbnail)?;
    let picture = image::imageops::crop_imm(&thumbnail, left, top, width, height).to_image();
    let (image_width, image_height) = document.rgb.dimensions();
    let image_aspect = f64::from(image_width) / f64::from(image_height);
    let thumbnail_aspect = f64::from(width) / f64::from(height);
    let scaled = resize(luma, width, height, FilterType::Triangle);
    Some(ThumbnailComparison {
        difference: normalised_difference(&picture, &scaled),
        aspect_difference: (thumbnail_aspect / image_aspect - 1.0).abs(),
        width,
        height,
    })
}

fn to_luma(rgb: &image::RgbImage) -> GrayImage {
    GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        image::Luma([luma_of(r, g, b)])
    })
}

/// The thumbnail without black letterbox bars (cameras pad 3:2 and 16:9 pictures into a 160×120
/// thumbnail): `(left, top, width, height)`, or `None` when too little picture remains.
fn picture_area(thumbnail: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    const BAR_LUMA: f64 = 12.0;
    let (width, height) = thumbnail.dimensions();
    let row_mean = |y: u32| {
        (0..width).map(|x| f64::from(thumbnail.get_pixel(x, y).0[0])).sum::<f64>() / f64::from(width)
    };
    let column_mean = |x: u32| {
        (0..height).map(|y| f64::from(thumbnail.get_pixel(x, y).0[0])).sum::<f64>() / f64::from(height)
    };
    let top = (0..height).find(|&y| row_mean(y) > BAR_LUMA)?;
    let bottom = (0..height).rev().find(|&y| row_mean(y) > BAR_LUMA)?;
    let left = (0..width).find(|&x| column_mean(x) > BAR_LUMA)?;
    let right = (0..width).rev().find(|&x| column_mean(x) > BAR_LUMA)?;
    let (area_width, area_height) = (right + 1 - left, bottom + 1 - top);
    (area_width >= 16 && area_height >= 16).then_some((left, top, area_width, area_height))
}

/// Mean absolute difference after normalising each plane to zero mean and unit deviation, on a
/// slightly blurred copy: exposure and tone-curve differences between the camera's thumbnail and
/// its full image cancel, different content does not.
fn normalised_difference(a: &GrayImage, b: &GrayImage) -> f64 {
    let normalise = |plane: &GrayImage| {
        let blurred = imageproc::filter::gaussian_blur_f32(plane, 1.0);
        let values: Vec<f64> = blurred.pixels().map(|p| f64::from(p.0[0])).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let deviation = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        values.into_iter().map(|v| (v - mean) / deviation.max(4.0)).collect::<Vec<f64>>()
    };
    let (a, b) = (normalise(a), normalise(b));
    a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::planes::working_planes;
    use crate::eval::synthetic::fixtures::jpeg;
    use image::Rgb;
    use imageproc::drawing::draw_filled_rect_mut;
    use imageproc::rect::Rect;

    const CAMERA: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/camera-sony-cybershot.jpg"));

    /// The camera file's APP1 (EXIF, with its thumbnail) placed after the SOI of `jpeg`: what an
    /// editor that keeps the original metadata writes.
    fn with_camera_exif(jpeg: &[u8]) -> Vec<u8> {
        assert_eq!(&CAMERA[..4], &[0xFF, 0xD8, 0xFF, 0xE1], "APP1 directly after SOI");
        let length = usize::from(u16::from_be_bytes([CAMERA[4], CAMERA[5]]));
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&CAMERA[2..4 + length]);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    fn camera_pixels() -> image::RgbImage {
        decode(CAMERA, &DecodeLimits::default()).unwrap().rgb
    }

    fn compare(bytes: &[u8]) -> ThumbnailComparison {
        let document = decode(bytes, &DecodeLimits::default()).unwrap();
        compare_thumbnail(&document, &working_planes(&document.rgb, 1000).luma).expect("a thumbnail")
    }

    #[test]
    fn a_camera_thumbnail_matches_its_image_even_after_a_plain_resave() {
        let thresholds = crate::analysis::tamper::TamperModels::embedded().thresholds;
        for bytes in [CAMERA.to_vec(), with_camera_exif(&jpeg(&camera_pixels(), 80))] {
            let comparison = compare(&bytes);
            assert!(comparison.difference < thresholds.thumbnail_max_difference, "{comparison:?}");
            assert!(comparison.aspect_difference < thresholds.thumbnail_max_aspect_difference);
        }
    }

    #[test]
    fn an_edit_or_a_crop_under_the_old_thumbnail_is_seen() {
        let thresholds = crate::analysis::tamper::TamperModels::embedded().thresholds;
        let mut edited = camera_pixels();
        let (width, height) = edited.dimensions();
        draw_filled_rect_mut(&mut edited, Rect::at(0, 0).of_size(width / 2, height), Rgb([240, 240, 235]));
        let comparison = compare(&with_camera_exif(&jpeg(&edited, 90)));
        assert!(comparison.difference >= thresholds.thumbnail_max_difference, "{comparison:?}");

        let cropped = image::imageops::crop_imm(&camera_pixels(), 0, 0, width * 3 / 4, height).to_image();
        let comparison = compare(&with_camera_exif(&jpeg(&cropped, 90)));
        assert!(comparison.aspect_difference >= thresholds.thumbnail_max_aspect_difference, "{comparison:?}");

        let document = decode(&with_camera_exif(&jpeg(&edited, 90)), &DecodeLimits::default()).unwrap();
        let planes = working_planes(&document.rgb, 1000);
        let report = crate::analysis::tamper::assess_tamper(
            &document,
            &planes,
            &crate::analysis::tamper::TamperModels::embedded(),
        );
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.code == crate::domain::findings::ReasonCode::TamperThumbnailMismatch)
        );
    }
}
