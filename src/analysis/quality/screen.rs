//! A photo of a screen: the display's pixel grid, resampled by the camera, leaves isolated peaks in
//! the image's spectrum (the grid's frequency and its moiré aliases) over the whole document. Print
//! and photographs spread their energy; a peak stands out from its spectral neighbours only where
//! something repeats at one exact period across the patch.
//!
//! The spectrum of Hann-windowed 128 × 128 patches of the full-resolution luma over the document's
//! middle is searched, away from the lowest frequencies, for the bin that most exceeds the mean of
//! the ring of bins around it; the frequencies of a JPEG's 8 × 8 block grid are left out (heavy
//! compression makes its own peaks there). The median over patches is the measure: a screen's grid
//! covers every patch. Hand-written on `rustfft`: no crate offers a spectral-peak measure.

use image::RgbImage;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::analysis::decode::planes::luma_of;

/// Side of the spectral patches, full-resolution pixels.
const PATCH: usize = 128;
/// Most patches read per image.
const MAX_PATCHES: usize = 16;
/// The ring around a bin reaches this many bins out (bins 2..=RING away count).
const RING: usize = 4;
/// A patch whose luma varies less than this (standard deviation, levels) is blank (a blown-out sky,
/// a white margin): its spectrum is rounding noise, and no grid shows on it.
const MIN_PATCH_DEVIATION: f32 = 2.0;
/// Frequencies below this share of the patch (cycles per patch over its side) are the content's.
const LOWEST_FREQUENCY: f64 = 0.12;

/// The spectral-peak measure of a screen's pixel grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScreenPattern {
    /// Median over patches of the strongest isolated peak: ln(bin power / mean power of the ring of
    /// bins 2–4 bins away). About 2.2 on print and photos.
    pub peak: f64,
    /// Patches read.
    pub patches: usize,
}

/// The screen-grid measure over the middle of `bounds` (x0, y0, x1, y1 in `rgb`'s pixels).
pub fn screen_pattern(rgb: &RgbImage, bounds: (u32, u32, u32, u32)) -> ScreenPattern {
    let (x0, y0, x1, y1) = bounds;
    // The middle 60 % of the document: its edges and the background stay out.
    let inset = |from: u32, to: u32| (from + (to - from) / 5, to - (to - from) / 5);
    let ((mx0, mx1), (my0, my1)) = (inset(x0, x1.max(x0)), inset(y0, y1.max(y0)));
    let fit = |from: u32, to: u32| (to.saturating_sub(from) as usize) / PATCH;
    let (across, down) = (fit(mx0, mx1), fit(my0, my1));
    if across == 0 || down == 0 {
        return ScreenPattern { peak: 0.0, patches: 0 };
    }
    let stride = ((across * down) as f64 / MAX_PATCHES as f64).sqrt().ceil().max(1.0) as usize;
    let mut planner = FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(PATCH);
    let window: Vec<f32> = (0..PATCH)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / PATCH as f32).cos())
        .collect();
    let mut peaks = Vec::new();
    for j in (0..down).step_by(stride) {
        for i in (0..across).step_by(stride) {
            // Patch origins on the 8-pixel grid, so a JPEG's block frequencies land on known bins.
            let (px, py) = ((mx0 as usize + i * PATCH) & !7, (my0 as usize + j * PATCH) & !7);
            peaks.extend(patch_peak(rgb, px, py, &window, &*fft));
        }
    }
    if peaks.is_empty() {
        return ScreenPattern { peak: 0.0, patches: 0 };
    }
    peaks.sort_by(f64::total_cmp);
    ScreenPattern { peak: peaks[peaks.len() / 2], patches: peaks.len() }
}

/// The strongest isolated spectral peak of one patch; `None` for a blank patch.
fn patch_peak(
    rgb: &RgbImage,
    px: usize,
    py: usize,
    window: &[f32],
    fft: &dyn rustfft::Fft<f32>,
) -> Option<f64> {
    let (width, raw) = (rgb.width() as usize, rgb.as_raw());
    let mut values: Vec<Complex<f32>> = Vec::with_capacity(PATCH * PATCH);
    for y in py..py + PATCH {
        let row = &raw[3 * (y * width + px)..3 * (y * width + px + PATCH)];
        values.extend(row.chunks_exact(3).map(|p| Complex::new(f32::from(luma_of(p[0], p[1], p[2])), 0.0)));
    }
    let mean = values.iter().map(|v| v.re).sum::<f32>() / values.len() as f32;
    let variance = values.iter().map(|v| (v.re - mean).powi(2)).sum::<f32>() / values.len() as f32;
    if variance < MIN_PATCH_DEVIATION.powi(2) {
        return None;
    }
    for (index, value) in values.iter_mut().enumerate() {
        value.re = (value.re - mean) * window[index % PATCH] * window[index / PATCH];
    }
    for row in values.chunks_exact_mut(PATCH) {
        fft.process(row);
    }
    let mut column = vec![Complex::new(0.0f32, 0.0); PATCH];
    for x in 0..PATCH {
        for y in 0..PATCH {
            column[y] = values[y * PATCH + x];
        }
        fft.process(&mut column);
        for y in 0..PATCH {
            values[y * PATCH + x] = column[y];
        }
    }
    let power: Vec<f64> = values.iter().map(|v| f64::from(v.norm_sqr()) + 1e-9).collect();
    // Box sums of the power over wrapped neighbourhoods from a summed-area table of the spectrum
    // padded by RING bins on every side.
    let side = PATCH + 2 * RING;
    let mut table = vec![0.0f64; (side + 1) * (side + 1)];
    for y in 0..side {
        let v = (y + PATCH - RING) % PATCH;
        let mut row = 0.0;
        for x in 0..side {
            let u = (x + PATCH - RING) % PATCH;
            row += power[v * PATCH + u];
            table[(y + 1) * (side + 1) + x + 1] = table[y * (side + 1) + x + 1] + row;
        }
    }
    // Sum over bins u - reach..=u + reach, v - reach..=v + reach (u, v in 0..PATCH).
    let box_sum = |u: usize, v: usize, reach: usize| {
        let (x0, y0) = (u + RING - reach, v + RING - reach);
        let (x1, y1) = (u + RING + reach + 1, v + RING + reach + 1);
        let at = |x: usize, y: usize| table[y * (side + 1) + x];
        at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0)
    };
    let ring_bins = ((2 * RING + 1) * (2 * RING + 1) - 9) as f64;
    let block = (PATCH / 8) as i64;
    let on_block_grid = |u: i64, v: i64| {
        let near = |f: i64| (f.rem_euclid(block)).min(block - f.rem_euclid(block)) <= 1;
        near(u) && near(v)
    };
    let lowest = (LOWEST_FREQUENCY * PATCH as f64).powi(2);
    let highest = (PATCH as f64 / 2.0).powi(2);
    let floor = power.iter().sum::<f64>() / power.len() as f64 * 1e-6;
    let mut best = 1.0f64;
    // Half the plane: the spectrum of a real patch is symmetric.
    for v in 0..=PATCH / 2 {
        for k in 0..PATCH {
            let u = if k > PATCH / 2 { k as i64 - PATCH as i64 } else { k as i64 };
            let radius_squared = (u * u + (v * v) as i64) as f64;
            if radius_squared < lowest || radius_squared >= highest || on_block_grid(u, v as i64) {
                continue;
            }
            // The summed-area table's rounding is of the order of the largest power times 1e-16:
            // a ring below the floor is that rounding, not the spectrum.
            let ring = ((box_sum(k, v, RING) - box_sum(k, v, 1)) / ring_bins).max(floor);
            best = best.max(power[v * PATCH + k] / ring);
        }
    }
    Some(best.ln())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// Blobs and bars without a period.
    fn print(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let hash = (x / 3).wrapping_mul(73_856_093) ^ (y / 3).wrapping_mul(19_349_663);
            Rgb(if hash % 97 < 30 { [30, 40, 60] } else { [220, 215, 200] })
        })
    }

    #[test]
    fn a_pixel_grid_over_the_document_peaks_and_plain_print_does_not() {
        let plain = print(800, 600);
        let mut screen = plain.clone();
        for (x, y, pixel) in screen.enumerate_pixels_mut() {
            // Dark lines between rows of display pixels, 2.6 camera pixels apart: moiré.
            let phase = (y as f64 / 2.6).fract();
            if phase < 0.3 || x % 5 == 0 {
                pixel.0 = pixel.0.map(|c| c / 3);
            }
        }
        let bounds = (0, 0, 800, 600);
        let plain_peak = screen_pattern(&plain, bounds);
        let screen_peak = screen_pattern(&screen, bounds);
        assert!(plain_peak.patches >= 4, "{plain_peak:?}");
        assert!(plain_peak.peak < 3.5 && screen_peak.peak > 4.5, "{plain_peak:?} {screen_peak:?}");
        assert_eq!(screen_pattern(&plain, (0, 0, 100, 100)).patches, 0);
    }

    #[test]
    fn blank_patches_are_not_read() {
        // A blown-out upper half fading into haze: its patches hold a few levels of gradient, whose
        // spectrum is the summed-area table's rounding (once an infinite peak). They are not read.
        let mut half_blank = print(800, 600);
        for (_, y, pixel) in half_blank.enumerate_pixels_mut() {
            if y < 330 {
                pixel.0 = [254 - (y % 128 / 40) as u8; 3];
            }
        }
        let pattern = screen_pattern(&half_blank, (0, 0, 800, 600));
        let all = screen_pattern(&print(800, 600), (0, 0, 800, 600));
        assert!(pattern.patches < all.patches && pattern.peak < 3.5, "{pattern:?} {all:?}");
        assert_eq!(
            screen_pattern(&RgbImage::from_pixel(800, 600, Rgb([255; 3])), (0, 0, 800, 600)).patches,
            0
        );
    }
}
