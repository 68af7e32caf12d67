//! Working planes: the decoded image box-averaged to a bounded size, once per upload, for every
//! analyser that does not need full resolution (the quality gate, the perceptual hash).
//!
//! Measures at a fixed working scale are comparable across resolutions (a 640 px scan and a 12 MP
//! photo get one threshold) and cost the same whatever the upload's size.

use std::borrow::Cow;

use image::{GrayImage, RgbImage};

/// The downscaled planes.
#[derive(Debug, Clone)]
pub struct WorkingPlanes {
    /// BT.601 luma.
    pub luma: GrayImage,
    /// Colour, for chroma-based measures.
    pub rgb: RgbImage,
    /// Original pixels per working pixel along each axis.
    pub factor: u32,
}

/// BT.601 luma in 8.8 fixed point.
pub fn luma_of(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

/// Box-averages `image` by the smallest whole factor that brings its long side to at most
/// `max_long_side`. A single pass over the source pixels.
pub fn working_planes(image: &RgbImage, max_long_side: u32) -> WorkingPlanes {
    let (rgb, factor) = box_averaged(image, max_long_side);
    let luma = rgb.as_raw().chunks_exact(3).map(|pixel| luma_of(pixel[0], pixel[1], pixel[2])).collect();
    let luma = GrayImage::from_raw(rgb.width(), rgb.height(), luma).expect("one luma value per pixel");
    WorkingPlanes { luma, rgb: rgb.into_owned(), factor }
}

/// `image` box-averaged (each channel rounded) by the smallest whole factor that brings its long side
/// to at most `max_long_side`, with that factor; borrowed when it is already that small. Pixels
/// beyond the last whole block are left out.
pub fn box_averaged(image: &RgbImage, max_long_side: u32) -> (Cow<'_, RgbImage>, u32) {
    let (width, height) = image.dimensions();
    let factor = width.max(height).div_ceil(max_long_side.max(1)).max(1);
    if factor == 1 {
        return (Cow::Borrowed(image), 1);
    }
    let (out_width, out_height) = ((width / factor).max(1) as usize, (height / factor).max(1) as usize);
    let (factor_px, stride) = (factor as usize, width as usize * 3);
    let count = factor.min(width) * factor.min(height);
    // Rounded means without an integer division per value: the product's relative error (about
    // 2⁻⁵²) is far below the smallest relative gap between a non-integer quotient (at most 256) and
    // the next integer, 1 / (256 · count), so truncation gives `(sum + count / 2) / count` exactly.
    let inverse = 1.0 / f64::from(count);
    let mut averaged = vec![0u8; out_width * out_height * 3];
    // Rows are summed column by column first (a loop the compiler vectorises), then each block's
    // columns.
    let mut column_sums = vec![0u32; stride];
    for (out_row, rows) in
        averaged.chunks_exact_mut(out_width * 3).zip(image.as_raw().chunks(stride * factor_px))
    {
        column_sums.fill(0);
        for row in rows.chunks_exact(stride) {
            for (sum, &value) in column_sums.iter_mut().zip(row) {
                *sum += u32::from(value);
            }
        }
        for (out_pixel, block) in out_row.chunks_exact_mut(3).zip(column_sums.chunks(3 * factor_px)) {
            let mut sum = [count / 2; 3];
            for pixel in block.chunks_exact(3) {
                for (channel, value) in sum.iter_mut().zip(pixel) {
                    *channel += value;
                }
            }
            for (out, channel) in out_pixel.iter_mut().zip(sum) {
                *out = (f64::from(channel) * inverse) as u8;
            }
        }
    }
    let averaged = RgbImage::from_raw(out_width as u32, out_height as u32, averaged);
    (Cow::Owned(averaged.expect("three channels per averaged pixel")), factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn small_images_are_kept_and_large_ones_averaged() {
        let small = RgbImage::from_pixel(10, 8, Rgb([10, 20, 30]));
        let planes = working_planes(&small, 1000);
        assert_eq!((planes.factor, planes.rgb.dimensions()), (1, (10, 8)));
        assert_eq!(planes.rgb.get_pixel(3, 3), &Rgb([10, 20, 30]));

        let checker =
            RgbImage::from_fn(2500, 1000, |x, y| if (x + y) % 2 == 0 { Rgb([0; 3]) } else { Rgb([200; 3]) });
        let planes = working_planes(&checker, 1000);
        assert_eq!(planes.factor, 3);
        assert_eq!(planes.luma.dimensions(), (833, 333));
        let value = planes.luma.get_pixel(10, 10)[0];
        assert!((88..=112).contains(&value), "3x3 average of a checkerboard, got {value}");
    }

    #[test]
    fn box_averages_are_rounded_block_means_even_of_a_side_shorter_than_the_factor() {
        for (width, height, max_long_side) in [(2500, 1003, 1000), (7, 3000, 1000), (9, 9, 4)] {
            let image =
                RgbImage::from_fn(width, height, |x, y| Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, 255]));
            let (averaged, factor) = box_averaged(&image, max_long_side);
            for (x, y, pixel) in averaged.enumerate_pixels() {
                let block: Vec<&Rgb<u8>> = (y * factor..((y + 1) * factor).min(height))
                    .flat_map(|sy| (x * factor..((x + 1) * factor).min(width)).map(move |sx| (sx, sy)))
                    .map(|(sx, sy)| image.get_pixel(sx, sy))
                    .collect();
                let count = block.len() as u32;
                let mean = |channel: usize| {
                    ((block.iter().map(|p| u32::from(p[channel])).sum::<u32>() + count / 2) / count) as u8
                };
                assert_eq!(pixel.0, [mean(0), mean(1), mean(2)], "{width}x{height} at {x},{y}");
            }
        }
    }

    #[test]
    fn luma_weights_sum_to_one() {
        assert_eq!(luma_of(255, 255, 255), 255);
        assert_eq!(luma_of(0, 0, 0), 0);
    }
}
