//! The document locator's pixel operations: Canny edges (with their Gaussian blur), Sobel gradient
//! magnitudes and triangle (bilinear) downsampling, equal pixel for pixel to imageproc's `canny`,
//! `gaussian_blur_f32` and `sobel_gradients` and to image's `resize` with `FilterType::Triangle`
//! (tests compare them).
//!
//! Hand-written for speed, each where the crate's general form was most of the locator's time:
//! - imageproc 0.27 runs every Sobel through its generic kernel loop, with a clamped read per tap, and
//!   bins every gradient's direction with `atan2` (40 % of the time). Here the taps are read from three
//!   row slices and the bins come from integer comparisons.
//! - image 0.25 resamples through generic four-channel `f32` pixels, and its horizontal pass walks
//!   down each output column across every row (20 %). Here three channels are accumulated a whole
//!   row at a time, each value in the same order as image's, so every sum is the same.
//! - imageproc's Gaussian blur reads every tap through a generic pixel accessor (15 % of what was
//!   left). Here it runs tap by tap over whole rows.
//!
//! The perspective warp stays imageproc's: a copy reading the raw plane was no faster, as each pixel
//! still maps through `Projection`'s public multiplication.

use image::{GrayImage, ImageBuffer, Luma, RgbImage};

/// Blur of Canny's first step (imageproc's).
const CANNY_SIGMA: f32 = 1.4;

/// Canny edges (255) of `image` with hysteresis thresholds on the gradient magnitude, as
/// `imageproc::edges::canny`.
pub(crate) fn canny(image: &GrayImage, low_threshold: f32, high_threshold: f32) -> GrayImage {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let blurred = gaussian_blur(image, CANNY_SIGMA);
    let (gx, gy) = sobel(&blurred);
    let magnitude: Vec<f32> = gx.iter().zip(&gy).map(|(&h, &v)| f32::from(h).hypot(f32::from(v))).collect();
    let thinned = non_maximum_suppression(&magnitude, &gx, &gy, width, height);
    hysteresis(&thinned, width, height, low_threshold, high_threshold)
}

/// `image` blurred by a Gaussian of standard deviation `sigma`, as
/// `imageproc::filter::gaussian_blur_f32`: its kernel (radius ⌈2σ⌉, normalised), rows first, each
/// pass rounded down to 8 bits, borders replicated. Each output value sums its taps in imageproc's
/// order; the passes run tap by tap over whole rows, which the compiler vectorises.
fn gaussian_blur(image: &GrayImage, sigma: f32) -> GrayImage {
    let radius = (2.0 * sigma).ceil() as usize;
    let density = |x: f32| {
        (sigma * (2.0 * std::f32::consts::PI).sqrt()).recip() * (-x.powi(2) / (2.0 * sigma.powi(2))).exp()
    };
    let mut kernel: Vec<f32> = (0..=2 * radius).map(|i| density(i.abs_diff(radius) as f32)).collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|weight| *weight /= total);
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut across = Vec::with_capacity(width * height);
    let mut padded = vec![0f32; width + 2 * radius];
    let mut sums = vec![0f32; width];
    for row in image.as_raw().chunks_exact(width.max(1)).take(height) {
        for (i, value) in padded.iter_mut().enumerate() {
            *value = f32::from(row[i.saturating_sub(radius).min(width - 1)]);
        }
        sums.fill(0.0);
        for (tap, &weight) in kernel.iter().enumerate() {
            for (sum, &value) in sums.iter_mut().zip(&padded[tap..]) {
                *sum += value * weight;
            }
        }
        across.extend(sums.iter().map(|&sum| clamp_to_u8(sum)));
    }
    let mut blurred = Vec::with_capacity(width * height);
    for y in 0..height {
        sums.fill(0.0);
        for (tap, &weight) in kernel.iter().enumerate() {
            let source = (y + tap).saturating_sub(radius).min(height - 1);
            for (sum, &value) in sums.iter_mut().zip(&across[source * width..(source + 1) * width]) {
                *sum += f32::from(value) * weight;
            }
        }
        blurred.extend(sums.iter().map(|&sum| clamp_to_u8(sum)));
    }
    GrayImage::from_raw(width as u32, height as u32, blurred).expect("one blurred value per pixel")
}

/// imageproc's conversion of a filtered value to 8 bits: clamped, then truncated.
fn clamp_to_u8(value: f32) -> u8 {
    if value < 255.0 { if value > 0.0 { value as u8 } else { 0 } } else { 255 }
}

/// Sobel gradient magnitudes, `sqrt(gx² + gy²)` truncated, as `imageproc::gradients::sobel_gradients`.
pub(crate) fn sobel_magnitudes(image: &GrayImage) -> ImageBuffer<Luma<u16>, Vec<u16>> {
    let (gx, gy) = sobel(image);
    let magnitudes = gx
        .iter()
        .zip(&gy)
        .map(|(&h, &v)| (f32::from(h).powi(2) + f32::from(v).powi(2)).sqrt() as u16)
        .collect();
    ImageBuffer::from_raw(image.width(), image.height(), magnitudes).expect("one magnitude per pixel")
}

/// `image` resampled to `width` × `height` with a triangle filter, as
/// `image::imageops::resize(image, width, height, FilterType::Triangle)`: columns first into `f32`,
/// then rows, rounded.
pub(crate) fn resize_triangle(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let raw = resize_channels::<3>(image.as_raw(), image.dimensions(), (width, height));
    RgbImage::from_raw(width, height, raw).expect("three channels per resampled pixel")
}

/// [`resize_triangle`] for a grey image.
pub(crate) fn resize_triangle_gray(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    let raw = resize_channels::<1>(image.as_raw(), image.dimensions(), (width, height));
    GrayImage::from_raw(width, height, raw).expect("one value per resampled pixel")
}

/// Triangle-filter resampling of `C`-channel pixels from `source` to `target` size.
fn resize_channels<const C: usize>(raw: &[u8], source: (u32, u32), target: (u32, u32)) -> Vec<u8> {
    let ((source_width, source_height), (width, height)) = (source, target);
    if source_width == 0 || source_height == 0 {
        return vec![0; width as usize * height as usize * C];
    }
    if target == source {
        return raw.to_vec();
    }
    let row_length = source_width as usize * C;
    let mut columns_done = Vec::with_capacity(row_length * height as usize);
    let mut sums = vec![0f32; row_length];
    for (top, weights) in triangle_weights(source_height, height) {
        sums.fill(0.0);
        for (row, &weight) in raw.chunks_exact(row_length).skip(top as usize).zip(&weights) {
            for (sum, &value) in sums.iter_mut().zip(row) {
                *sum += f32::from(value) * weight;
            }
        }
        columns_done.extend_from_slice(&sums);
    }
    let horizontal = triangle_weights(source_width, width);
    let mut out = Vec::with_capacity(width as usize * height as usize * C);
    for row in columns_done.chunks_exact(row_length) {
        for (left, weights) in &horizontal {
            let mut sum = [0f32; C];
            for (pixel, &weight) in row[*left as usize * C..].chunks_exact(C).zip(weights) {
                for (channel, &value) in sum.iter_mut().zip(pixel) {
                    *channel += value * weight;
                }
            }
            out.extend(sum.map(|channel| channel.clamp(0.0, 255.0).round() as u8));
        }
    }
    out
}

/// For each of `target` output positions along an axis of `source` pixels: the first source pixel
/// read and the normalised triangle weights from there, as image computes them.
fn triangle_weights(source: u32, target: u32) -> Vec<(u32, Vec<f32>)> {
    let ratio = source as f32 / target as f32;
    let support = ratio.max(1.0);
    (0..target)
        .map(|position| {
            let centre = (position as f32 + 0.5) * ratio;
            let first = ((centre - support).floor() as i64).clamp(0, i64::from(source) - 1);
            let end = ((centre + support).ceil() as i64).clamp(first + 1, i64::from(source));
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (first..end)
                .map(|i| {
                    let distance = ((i as f32 - centre) / support).abs();
                    if distance < 1.0 { 1.0 - distance } else { 0.0 }
                })
                .collect();
            let total = weights.iter().fold(0.0, |total, weight| total + weight);
            weights.iter_mut().for_each(|weight| *weight /= total);
            (first as u32, weights)
        })
        .collect()
}

/// Horizontal and vertical 3×3 Sobel responses, row-major, with the border replicated. Per row, the
/// vertical smoothing `above + 2·here + below` and difference `below − above` of each column come
/// first (border columns repeated), then the horizontal difference of the first and smoothing of
/// the second: two passes the compiler vectorises.
fn sobel(image: &GrayImage) -> (Vec<i16>, Vec<i16>) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let row = |y: usize| &image.as_raw()[y * width..(y + 1) * width];
    let (mut gx, mut gy) = (Vec::with_capacity(width * height), Vec::with_capacity(width * height));
    let (mut smoothed, mut difference) = (vec![0i16; width + 2], vec![0i16; width + 2]);
    for y in 0..height {
        let (above, here, below) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(height - 1)));
        for (x, ((&a, &h), &b)) in above.iter().zip(here).zip(below).enumerate() {
            let (a, h, b) = (i16::from(a), i16::from(h), i16::from(b));
            smoothed[x + 1] = a + 2 * h + b;
            difference[x + 1] = b - a;
        }
        for column in [&mut smoothed, &mut difference] {
            column[0] = column[1];
            column[width + 1] = column[width];
        }
        gx.extend(smoothed.windows(3).map(|w| w[2] - w[0]));
        gy.extend(difference.windows(3).map(|w| w[0] + 2 * w[1] + w[2]));
    }
    (gx, gy)
}

/// The gradient's direction modulo 180°, binned to the nearest of 0°, 45°, 90° and 135° as imageproc
/// bins it: [`angle_bin`]. The bin follows from exact integer comparisons with tan 22.5° = √2 − 1 and
/// tan 67.5° = √2 + 1, except within 0.01 % of a boundary, where imageproc's rounding decides and
/// its formula is used (an exhaustive test checks every pair of Sobel responses).
fn direction_bin(gx: i16, gy: i16) -> u8 {
    let (x, y) = if gy < 0 { (-i64::from(gx), -i64::from(gy)) } else { (i64::from(gx), i64::from(gy)) };
    if y == 0 {
        return 0;
    }
    let across = x.abs();
    let twice_squared = 2 * across * across;
    // Positive below 22.5° (y < (√2 − 1)·|x|), and above 67.5° (y > (√2 + 1)·|x|).
    let below_22 = twice_squared - (y + across).pow(2);
    let above_67 = if y >= across { (y - across).pow(2) - twice_squared } else { -twice_squared };
    let near = |difference: i64| difference.abs() * 10_000 <= twice_squared;
    if near(below_22) || near(above_67) {
        angle_bin(gx, gy)
    } else if below_22 > 0 {
        0
    } else if above_67 > 0 {
        90
    } else if x > 0 {
        45
    } else {
        135
    }
}

/// imageproc's binning: `atan2(gy, gx)` in degrees, plus 180 when negative, to the nearest 45°.
fn angle_bin(gx: i16, gy: i16) -> u8 {
    let mut angle = f32::from(gy).atan2(f32::from(gx)) * (180f32 / std::f32::consts::PI);
    if angle < 0.0 {
        angle += 180.0;
    }
    match angle {
        a if !(22.5..157.5).contains(&a) => 0,
        a if a < 67.5 => 45,
        a if a < 112.5 => 90,
        _ => 135,
    }
}

/// Magnitudes that are not the largest of their two neighbours across the edge become 0 (the border
/// too).
fn non_maximum_suppression(
    magnitude: &[f32],
    gx: &[i16],
    gy: &[i16],
    width: usize,
    height: usize,
) -> Vec<f32> {
    let mut thinned = vec![0f32; width * height];
    for y in 1..height.saturating_sub(1) {
        for x in 1..width.saturating_sub(1) {
            let at = y * width + x;
            let (before, after) = match direction_bin(gx[at], gy[at]) {
                0 => (at - 1, at + 1),
                45 => (at + width + 1, at - width - 1),
                90 => (at - width, at + width),
                _ => (at + width - 1, at - width + 1),
            };
            let value = magnitude[at];
            if value >= magnitude[before] && value >= magnitude[after] {
                thinned[at] = value;
            }
        }
    }
    thinned
}

/// Pixels at or above `high`, and those connected to them at or above `low`, traced depth first over
/// the same six neighbours, in the same order, as imageproc.
fn hysteresis(thinned: &[f32], width: usize, height: usize, low: f32, high: f32) -> GrayImage {
    let mut edges = vec![0u8; width * height];
    let mut stack = Vec::new();
    for y in 1..height.saturating_sub(1) {
        for x in 1..width.saturating_sub(1) {
            let at = y * width + x;
            if thinned[at] < high || edges[at] != 0 {
                continue;
            }
            edges[at] = 255;
            stack.push(at);
            while let Some(at) = stack.pop() {
                let neighbours = [at + 1, at + width + 1, at + width, at - width - 1, at - 1, at + width - 1];
                for neighbour in neighbours {
                    if thinned[neighbour] >= low && edges[neighbour] == 0 {
                        edges[neighbour] = 255;
                        stack.push(neighbour);
                    }
                }
            }
        }
    }
    GrayImage::from_raw(width as u32, height as u32, edges).expect("one edge value per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut};
    use imageproc::rect::Rect;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Noise under shapes and a ramp: edges in every direction, weak and strong.
    fn test_image(width: u32, height: u32, seed: u64) -> GrayImage {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut image = GrayImage::from_fn(width, height, |x, y| {
            Luma([((x * 3 + y) % 160) as u8 + rng.random_range(0..40u8)])
        });
        draw_filled_rect_mut(&mut image, Rect::at(5, 7).of_size(width / 3, height / 2), Luma([240]));
        draw_filled_circle_mut(
            &mut image,
            (width as i32 * 2 / 3, height as i32 / 2),
            height as i32 / 4,
            Luma([10]),
        );
        image
    }

    #[test]
    fn equal_to_imageprocs_canny_and_sobel() {
        for (width, height, seed) in [(97, 61, 1), (256, 192, 2), (3, 3, 3), (40, 2, 4)] {
            let image = test_image(width, height, seed);
            for (low, high) in [(20.0, 50.0), (5.0, 300.0)] {
                assert_eq!(
                    canny(&image, low, high),
                    imageproc::edges::canny(&image, low, high),
                    "{width}x{height}"
                );
            }
            assert_eq!(
                sobel_magnitudes(&image),
                imageproc::gradients::sobel_gradients(&image),
                "{width}x{height}"
            );
        }
    }

    #[test]
    fn equal_to_imageprocs_gaussian_blur() {
        for (width, height, seed) in [(97, 61, 6), (6, 40, 7), (3, 3, 8)] {
            let image = test_image(width, height, seed);
            for sigma in [CANNY_SIGMA, 0.7, 3.0] {
                let expected = imageproc::filter::gaussian_blur_f32(&image, sigma);
                assert_eq!(gaussian_blur(&image, sigma), expected, "{width}x{height} sigma {sigma}");
            }
        }
    }

    #[test]
    fn equal_to_images_triangle_resize() {
        let image = test_image(203, 151, 5);
        let rgb = RgbImage::from_fn(203, 151, |x, y| {
            let value = image.get_pixel(x, y).0[0];
            image::Rgb([value, value.wrapping_mul(3), 255 - value])
        });
        for (width, height) in [(128, 95), (101, 75), (203, 151), (250, 160), (1, 1), (202, 30)] {
            let expected =
                image::imageops::resize(&rgb, width, height, image::imageops::FilterType::Triangle);
            assert_eq!(resize_triangle(&rgb, width, height), expected, "{width}x{height}");
        }
    }

    #[test]
    fn direction_bins_agree_with_atan2_for_every_sobel_response() {
        // Sobel responses of 8-bit images lie within ±4 · 255.
        for gx in -1020..=1020i16 {
            for gy in -1020..=1020i16 {
                assert_eq!(direction_bin(gx, gy), angle_bin(gx, gy), "gx {gx} gy {gy}");
            }
        }
    }
}
