//! Single capture transforms for the reuse evaluation: what happens to one document image between
//! two uploads (re-compression, resizing, cropping, turning, tilting, perspective, exposure, blur,
//! noise, screenshots, a fresh photo of the card on a table), one at a time, built on the capture
//! chain's primitives ([`super::capture`]).

use std::io::Cursor;

use image::imageops::{FilterType, crop_imm, resize};
use image::{ImageFormat, Rgb, RgbImage};
use imageproc::filter::gaussian_blur_f32;
use imageproc::geometric_transformations::{Border, Interpolation, rotate_about_center_no_crop};
use rand::Rng;
use rand::rngs::StdRng;

use super::capture::{encode_jpeg, gaussian, place, plain, textured};

/// One kind of capture transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capture {
    /// JPEG re-compression at quality 40..=95.
    Jpeg,
    /// Resizing by 0.3..2×.
    Resize,
    /// Cropping up to 15 % of the width and height.
    Crop,
    /// A quarter, half or three-quarter turn.
    Turn,
    /// A tilt of 2..10° either way on a plain surround.
    Tilt,
    /// A perspective view (corners moved by up to 8 %).
    Perspective,
    /// Brightness, contrast and gamma changes.
    Tone,
    /// Gaussian blur, sigma 0.8..2.
    Blur,
    /// Gaussian noise, sigma 3..10.
    Noise,
    /// A downscaled PNG screenshot.
    Screenshot,
    /// The card photographed on a textured background, scaled, slightly tilted and in perspective.
    OnBackground,
}

impl Capture {
    /// Every transform, in report order.
    pub const ALL: [Capture; 11] = [
        Capture::Jpeg,
        Capture::Resize,
        Capture::Crop,
        Capture::Turn,
        Capture::Tilt,
        Capture::Perspective,
        Capture::Tone,
        Capture::Blur,
        Capture::Noise,
        Capture::Screenshot,
        Capture::OnBackground,
    ];

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Capture::Jpeg => "jpeg_q40_95",
            Capture::Resize => "resize_0.3_2x",
            Capture::Crop => "crop_le_15pct",
            Capture::Turn => "turn_90_180_270",
            Capture::Tilt => "tilt_2_10deg",
            Capture::Perspective => "perspective",
            Capture::Tone => "brightness_contrast_gamma",
            Capture::Blur => "blur",
            Capture::Noise => "noise",
            Capture::Screenshot => "png_screenshot",
            Capture::OnBackground => "photo_on_background",
        }
    }

    /// Applies the transform with parameters drawn from `rng`; returns the encoded upload.
    pub fn apply(self, image: &RgbImage, rng: &mut StdRng) -> Vec<u8> {
        let (width, height) = image.dimensions();
        let transformed = match self {
            Capture::Jpeg => return encode_jpeg(image, rng.random_range(40..=95)),
            Capture::Resize => {
                let factor = rng.random_range(0.3..2.0f32);
                let size = |v: u32| ((v as f32 * factor).round() as u32).max(8);
                resize(image, size(width), size(height), FilterType::Triangle)
            }
            Capture::Crop => {
                let cut = |v: u32, rng: &mut StdRng| {
                    let total = (v as f32 * rng.random_range(0.03..0.15f32)) as u32;
                    let first = rng.random_range(0..=total);
                    (first, v - total)
                };
                let (left, kept_width) = cut(width, rng);
                let (top, kept_height) = cut(height, rng);
                crop_imm(image, left, top, kept_width, kept_height).to_image()
            }
            Capture::Turn => match rng.random_range(0..3) {
                0 => image::imageops::rotate90(image),
                1 => image::imageops::rotate180(image),
                _ => image::imageops::rotate270(image),
            },
            Capture::Tilt => {
                let degrees = rng.random_range(2.0..10.0f32) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                let surround: Rgb<u8> =
                    Rgb([rng.random_range(0..255), rng.random_range(0..255), rng.random_range(0..255)]);
                rotate_about_center_no_crop(
                    image,
                    degrees.to_radians(),
                    Interpolation::Bilinear,
                    Border::Constant(surround),
                )
            }
            Capture::Perspective => {
                let surround =
                    Rgb([rng.random_range(0..80), rng.random_range(0..80), rng.random_range(0..80)]);
                place(image, width + width / 5, height + height / 5, 1.0, 0.0, 0.08, &plain(surround), rng)
                    .image
            }
            Capture::Tone => {
                let gain = rng.random_range(0.6..1.4f32);
                let offset = rng.random_range(-40.0..40.0f32);
                let gamma = rng.random_range(0.6..1.6f32);
                let mut out = image.clone();
                for pixel in out.pixels_mut() {
                    pixel.0 = pixel.0.map(|c| {
                        let toned = (f32::from(c) / 255.0).powf(gamma) * 255.0 * gain + offset;
                        toned.clamp(0.0, 255.0) as u8
                    });
                }
                out
            }
            Capture::Blur => gaussian_blur_f32(image, rng.random_range(0.8..2.0)),
            Capture::Noise => {
                let sigma = rng.random_range(3.0..10.0f32);
                let mut out = image.clone();
                for pixel in out.pixels_mut() {
                    let noise = gaussian(rng) * sigma;
                    pixel.0 = pixel.0.map(|c| (f32::from(c) + noise).clamp(0.0, 255.0) as u8);
                }
                out
            }
            Capture::Screenshot => {
                let factor = rng.random_range(0.5..0.9f32);
                let size = |v: u32| ((v as f32 * factor).round() as u32).max(8);
                let shot = resize(image, size(width), size(height), FilterType::CatmullRom);
                let mut bytes = Vec::new();
                shot.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
                    .expect("PNG encoding to memory");
                return bytes;
            }
            Capture::OnBackground => {
                let canvas_width = width * 3 / 2;
                let canvas_height = height * 3 / 2;
                let scale = rng.random_range(0.6..0.9f32);
                let tilt = rng.random_range(-5.0..5.0f32).to_radians();
                let background = textured(rng);
                place(image, canvas_width, canvas_height, scale, tilt, 0.04, &background, rng).image
            }
        };
        encode_jpeg(&transformed, 90)
    }
}
