//! Working planes: the decoded image box-averaged to a bounded size, once per upload, for every
//! analyser that does not need full resolution (the quality gate, the perceptual hash).
//!
//! Measures at a fixed working scale are comparable across resolutions (a 640 px scan and a 12 MP
//! photo get one threshold) and cost the same whatever the upload's size.

use image::{GrayImage, Luma, Rgb, RgbImage};

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
    let (width, height) = image.dimensions();
    let factor = width.max(height).div_ceil(max_long_side.max(1)).max(1);
    if factor == 1 {
        let luma = GrayImage::from_fn(width, height, |x, y| {
            let [r, g, b] = image.get_pixel(x, y).0;
            Luma([luma_of(r, g, b)])
        });
        return WorkingPlanes { luma, rgb: image.clone(), factor };
    }
    let out_width = (width / factor).max(1);
    let out_height = (height / factor).max(1);
    let mut rgb = RgbImage::new(out_width, out_height);
    let mut luma = GrayImage::new(out_width, out_height);
    let raw = image.as_raw();
    let stride = width as usize * 3;
    let mut sums = vec![[0u32; 3]; out_width as usize];
    let mut counts = vec![0u32; out_width as usize];
    for out_y in 0..out_height {
        sums.fill([0; 3]);
        counts.fill(0);
        let rows = (out_y * factor)..((out_y + 1) * factor).min(height);
        for y in rows {
            let row = &raw[y as usize * stride..(y as usize + 1) * stride];
            for (out_x, (sum, count)) in sums.iter_mut().zip(counts.iter_mut()).enumerate() {
                let start = out_x as u32 * factor;
                let end = (start + factor).min(width);
                for x in start..end {
                    let pixel = &row[x as usize * 3..x as usize * 3 + 3];
                    sum[0] += u32::from(pixel[0]);
                    sum[1] += u32::from(pixel[1]);
                    sum[2] += u32::from(pixel[2]);
                }
                *count += end.saturating_sub(start);
            }
        }
        for (out_x, (sum, &count)) in sums.iter().zip(&counts).enumerate() {
            let count = count.max(1);
            let [r, g, b] = sum.map(|channel| ((channel + count / 2) / count) as u8);
            rgb.put_pixel(out_x as u32, out_y, Rgb([r, g, b]));
            luma.put_pixel(out_x as u32, out_y, Luma([luma_of(r, g, b)]));
        }
    }
    WorkingPlanes { luma, rgb, factor }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn luma_weights_sum_to_one() {
        assert_eq!(luma_of(255, 255, 255), 255);
        assert_eq!(luma_of(0, 0, 0), 0);
    }
}
