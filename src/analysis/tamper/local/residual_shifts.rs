//! Copy-move candidates from the noise: a clone stamp copies the camera's noise with the picture, so
//! the autocorrelation of the image's noise residual peaks at the clone's shift, whatever the copied
//! content is (paper, guilloche, skin). Block matching of the picture ([`super::copy_move`]) needs
//! texture to tell places apart; this needs only noise, and finds clones of flat areas.
//!
//! The residual (each pixel minus the mean of its 8 neighbours, clipped to a few noise deviations so
//! edges and print do not dominate) is autocorrelated with FFTs on a plane reduced to at most
//! `residual_working_pixels`. Its strongest peaks are candidate shifts; for each, the copied region
//! is where the residual correlates with itself at that shift, cell by cell. A shift that also
//! correlates at minus or twice itself is a period of the pattern, not a copy.
//!
//! Hand-written on top of `realfft`/`rustfft`: no crate computes a 2-D autocorrelation or this
//! region test.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::copy_move_thresholds::CopyMoveThresholds;
use super::maps::{CellMap, largest_component};

/// A shift at which part of the image correlates with itself, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftCandidate {
    /// From the first copy to the second, in image pixels.
    pub shift: (i64, i64),
    /// The first copy's bounds in image pixels: x, y, width, height.
    pub bounds: (u32, u32, u32, u32),
    /// Correlated cells in the region.
    pub cells: usize,
    /// Fraction of the region's cells that also correlate at minus or twice the shift.
    pub periodic_fraction: f64,
    /// Both copies marked on cells, for the heatmap.
    pub map: CellMap,
    /// Whole-pixel reduction factor of the working plane.
    pub factor: usize,
}

/// The clipped noise residual of the luma, reduced by a whole factor.
struct Residual {
    factor: usize,
    width: usize,
    height: usize,
    values: Vec<f32>,
}

impl Residual {
    fn new(luma: &[u8], width: usize, height: usize, max_pixels: usize) -> Option<Self> {
        let factor = ((width * height) as f64 / max_pixels.max(1) as f64).sqrt().ceil().max(1.0) as usize;
        let (w, h) = (width / factor, height / factor);
        if w < 32 || h < 32 {
            return None;
        }
        let area = (factor * factor) as f32;
        let mut plane = vec![0f32; w * h];
        for (y, out) in plane.chunks_exact_mut(w).enumerate() {
            for row in luma[y * factor * width..].chunks(width).take(factor) {
                for (value, square) in out.iter_mut().zip(row.chunks_exact(factor)) {
                    *value += square.iter().map(|&v| f32::from(v)).sum::<f32>() / area;
                }
            }
        }
        // 3×3 sums, separably: across each row, then down.
        let mut across = vec![0f32; w * h];
        for (row, out) in plane.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
            for x in 1..w - 1 {
                out[x] = row[x - 1] + row[x] + row[x + 1];
            }
        }
        let mut values = vec![0f32; w * h];
        for y in 1..h - 1 {
            let (up, here, down) =
                (&across[(y - 1) * w..y * w], &across[y * w..(y + 1) * w], &across[(y + 1) * w..(y + 2) * w]);
            let centre = &plane[y * w..(y + 1) * w];
            for x in 1..w - 1 {
                values[y * w + x] = centre[x] * 9.0 / 8.0 - (up[x] + here[x] + down[x]) / 8.0;
            }
        }
        // Clip at a few robust deviations (of every 7th value, plenty for a median): the noise
        // stays, edges and print saturate.
        let mut magnitudes: Vec<f32> = values.iter().step_by(7).map(|v| v.abs()).collect();
        let middle = magnitudes.len() / 2;
        let deviation = 1.4826 * *magnitudes.select_nth_unstable_by(middle, f32::total_cmp).1;
        if deviation <= 1e-3 {
            return None;
        }
        let limit = 2.5 * deviation;
        for value in &mut values {
            *value = value.clamp(-limit, limit);
        }
        Some(Residual { factor, width: w, height: h, values })
    }

    /// The circular autocorrelation on a `padded` plane, row-major (`padded.0` per row).
    fn autocorrelation(&self, padded: (usize, usize)) -> Vec<f32> {
        let (pw, ph) = padded;
        let half = pw / 2 + 1;
        let mut planner = RealFftPlanner::<f32>::new();
        let (forward, inverse) = (planner.plan_fft_forward(pw), planner.plan_fft_inverse(pw));
        let mut spectrum = vec![Complex::new(0f32, 0f32); half * ph];
        let mut row = forward.make_input_vec();
        for (y, out) in spectrum.chunks_exact_mut(half).take(self.height).enumerate() {
            row.fill(0.0);
            row[..self.width].copy_from_slice(&self.values[y * self.width..(y + 1) * self.width]);
            forward.process(&mut row, out).expect("buffer sizes come from the plan");
        }
        // Down each column: forward, the power spectrum, back.
        let mut column_planner = FftPlanner::<f32>::new();
        let (down, up) = (column_planner.plan_fft_forward(ph), column_planner.plan_fft_inverse(ph));
        let mut column = vec![Complex::new(0f32, 0f32); ph];
        for x in 0..half {
            for (y, value) in column.iter_mut().enumerate() {
                *value = spectrum[y * half + x];
            }
            down.process(&mut column);
            for value in &mut column {
                *value = Complex::new(value.norm_sqr(), 0.0);
            }
            up.process(&mut column);
            for (y, value) in column.iter().enumerate() {
                spectrum[y * half + x] = *value;
            }
        }
        let mut out = vec![0f32; pw * ph];
        for (line, result) in spectrum.chunks_exact_mut(half).zip(out.chunks_exact_mut(pw)) {
            // The inverse real transform needs a real DC and Nyquist bin; they are, up to rounding.
            line[0].im = 0.0;
            if pw % 2 == 0 {
                line[half - 1].im = 0.0;
            }
            inverse.process(line, result).expect("buffer sizes come from the plan");
        }
        out
    }

    /// Mean product of the residual with itself at `shift` over every fourth row of the overlap.
    fn mean_product(&self, shift: (i64, i64)) -> f32 {
        let (w, h) = (self.width as i64, self.height as i64);
        let (xs, ys) = (0.max(-shift.0)..w.min(w - shift.0), 0.max(-shift.1)..h.min(h - shift.1));
        if xs.is_empty() || ys.is_empty() {
            return 0.0;
        }
        let (mut sum, mut count) = (0f32, 0usize);
        let (x0, x1) = (xs.start as usize, xs.end as usize);
        for y in ys.step_by(4) {
            let here = &self.values[y as usize * self.width..][..self.width];
            let there = &self.values[(y + shift.1) as usize * self.width..][..self.width];
            let partner = (xs.start + shift.0) as usize;
            sum += products(&here[x0..x1], &there[partner..partner + x1 - x0]).0;
            count += x1 - x0;
        }
        if count == 0 { 0.0 } else { sum / count as f32 }
    }

    /// Correlation of the residual with itself at `shift`, per cell of `cell` pixels, over the
    /// cells `within` (bounds in cells: x0, y0, x1, y1, end excluded; NaN elsewhere, and where a cell
    /// has too few pixels whose partner is inside the plane, or no residual).
    fn cell_correlation(
        &self,
        shift: (i64, i64),
        cell: usize,
        within: (usize, usize, usize, usize),
    ) -> (usize, usize, Vec<f32>) {
        let (cols, rows) = (self.width / cell, self.height / cell);
        let mut sums = vec![[0f32; 4]; cols * rows];
        let (w, h) = (self.width as i64, self.height as i64);
        let (x0, y0) = ((within.0 * cell) as i64, (within.1 * cell) as i64);
        let (x1, y1) = ((within.2.min(cols) * cell) as i64, (within.3.min(rows) * cell) as i64);
        let ys = y0.max(-shift.1)..(h - shift.1).min(y1);
        let xs = x0.max(-shift.0) as usize..(w - shift.0).min(x1).max(0) as usize;
        for y in ys {
            let here = &self.values[y as usize * self.width..][..self.width];
            let there = &self.values[(y + shift.1) as usize * self.width..][..self.width];
            let row = (y as usize / cell) * cols;
            // One cell's stretch of the row at a time, as plain slices.
            let mut x = xs.start;
            while x < xs.end {
                let end = ((x / cell + 1) * cell).min(xs.end);
                let partner = (x as i64 + shift.0) as usize;
                let sum = &mut sums[row + x / cell];
                for (&a, &b) in here[x..end].iter().zip(&there[partner..partner + end - x]) {
                    sum[0] += a * b;
                    sum[1] += a * a;
                    sum[2] += b * b;
                }
                sum[3] += (end - x) as f32;
                x = end;
            }
        }
        let enough = (cell * cell / 2) as f32;
        let values = sums
            .iter()
            .map(
                |&[ab, aa, bb, n]| {
                    if n >= enough && aa > 0.0 && bb > 0.0 { ab / (aa * bb).sqrt() } else { f32::NAN }
                },
            )
            .collect();
        (cols, rows, values)
    }
}

/// Σab, Σa², Σb² over two equal-length slices, in eight lanes the compiler vectorises.
fn products(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
    let (mut ab, mut aa, mut bb) = ([0f32; 8], [0f32; 8], [0f32; 8]);
    let (chunks_a, chunks_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: (f32, f32, f32) = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .fold((0.0, 0.0, 0.0), |(ab, aa, bb), (&x, &y)| (ab + x * y, aa + x * x, bb + y * y));
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..8 {
            ab[lane] += x[lane] * y[lane];
            aa[lane] += x[lane] * x[lane];
            bb[lane] += y[lane] * y[lane];
        }
    }
    (ab.iter().sum::<f32>() + tail.0, aa.iter().sum::<f32>() + tail.1, bb.iter().sum::<f32>() + tail.2)
}

/// The smallest size ≥ `n` with no prime factor above 5 (a fast FFT length).
fn smooth_size(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut rest = m;
            for p in [2, 3, 5] {
                while rest % p == 0 {
                    rest /= p;
                }
            }
            rest == 1
        })
        .expect("5-smooth numbers are unbounded")
}

/// Candidate shifts from the strongest autocorrelation peaks, as (dx, dy) working pixels pointing
/// right (or down), strongest first. Shifts shorter than `min_shift` both ways are the residual's
/// own spread, not copies.
fn peak_shifts(residual: &Residual, thresholds: &CopyMoveThresholds) -> Vec<(i64, i64)> {
    let padded = (smooth_size(residual.width), smooth_size(residual.height));
    let correlation = residual.autocorrelation(padded);
    let (columns, rows) = padded;
    let min_shift = thresholds.residual_min_shift as i64;
    // A straight edge correlates with itself at every shift along it: a ridge along a row (or a
    // column) of lags. A peak counts by how far it stands above its row's and its column's mean.
    let row_means: Vec<f32> =
        correlation.chunks_exact(columns).map(|row| row.iter().sum::<f32>() / columns as f32).collect();
    let mut column_means = vec![0f32; columns];
    for row in correlation.chunks_exact(columns) {
        for (sum, &value) in column_means.iter_mut().zip(row) {
            *sum += value;
        }
    }
    for mean in &mut column_means {
        *mean /= rows as f32;
    }
    let mut peaks: Vec<(f32, (i64, i64))> = Vec::new();
    for (y, &row_mean) in row_means.iter().enumerate().take(rows / 2 + 1) {
        let lines =
            [(y + rows - 1) % rows, y, (y + 1) % rows].map(|line| &correlation[line * columns..][..columns]);
        for column in 0..columns {
            // Lags as signed shifts: columns past the middle are negative.
            let x =
                if column >= columns.div_ceil(2) { column as i64 - columns as i64 } else { column as i64 };
            if (y == 0 && x <= 0) || (x.abs() < min_shift && (y as i64) < min_shift) {
                continue;
            }
            let value = lines[1][column];
            let left = if column == 0 { columns - 1 } else { column - 1 };
            let right = if column + 1 == columns { 0 } else { column + 1 };
            let is_peak = lines.iter().enumerate().all(|(i, line)| {
                line[left] < value && line[right] < value && (i == 1 || line[column] < value)
            });
            if is_peak {
                peaks.push((value - row_mean.max(column_means[column]), (x, y as i64)));
            }
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (w, h) = (residual.width as i64, residual.height as i64);
    peaks
        .into_iter()
        .take(thresholds.residual_peaks)
        .filter_map(|(_, (x, y))| {
            // A circular lag stands for itself or itself minus a period: the one whose overlapping
            // pixels correlate most is the shift.
            let (pw, ph) = (columns as i64, rows as i64);
            [y, y - ph]
                .into_iter()
                .flat_map(|dy| [x, x - pw, x + pw].map(|dx| (dx, dy)))
                .filter(|&(dx, dy)| dx.abs() < w && dy.abs() < h && (dx, dy) != (0, 0))
                .map(|shift| (residual.mean_product(shift), shift))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, (dx, dy))| if dy < 0 || (dy == 0 && dx < 0) { (-dx, -dy) } else { (dx, dy) })
        })
        .collect()
}

/// Regions that correlate with themselves at one of the strongest autocorrelation peaks.
pub fn shift_candidates(
    luma: &[u8],
    width: usize,
    height: usize,
    thresholds: &CopyMoveThresholds,
) -> Vec<ShiftCandidate> {
    let Some(residual) = Residual::new(luma, width, height, thresholds.residual_working_pixels) else {
        return Vec::new();
    };
    let cell = thresholds.residual_cell;
    let min = thresholds.residual_min_cell_correlation;
    let f = residual.factor;
    peak_shifts(&residual, thresholds)
        .into_iter()
        .filter_map(|shift| {
            let (cols, rows, values) = residual.cell_correlation(shift, cell, (0, 0, usize::MAX, usize::MAX));
            let mut marked: Vec<bool> = values.iter().map(|&v| v >= min).collect();
            let component: Vec<(usize, usize)> =
                largest_component(&mut marked, cols).into_iter().map(|i| (i % cols, i / cols)).collect();
            let (x0, y0) = (component.iter().map(|c| c.0).min()?, component.iter().map(|c| c.1).min()?);
            let (x1, y1) =
                (component.iter().map(|c| c.0).max()? + 1, component.iter().map(|c| c.1).max()? + 1);
            if component.len() < thresholds.residual_min_cells
                || (x1 - x0).min(y1 - y0) < thresholds.residual_min_side_cells
            {
                return None;
            }
            let repeats = [(-shift.0, -shift.1), (2 * shift.0, 2 * shift.1)]
                .map(|s| residual.cell_correlation(s, cell, (x0, y0, x1, y1)).2);
            let (mut tested, mut periodic) = (0usize, 0usize);
            for &(cx, cy) in &component {
                let at = cy * cols + cx;
                let others: Vec<f32> = repeats.iter().map(|r| r[at]).filter(|v| v.is_finite()).collect();
                if !others.is_empty() {
                    tested += 1;
                    periodic += usize::from(others.iter().any(|&v| v >= min));
                }
            }
            let periodic_fraction = if tested == 0 { 0.0 } else { periodic as f64 / tested as f64 };
            if periodic_fraction > thresholds.max_periodic_fraction {
                return None;
            }
            let mut map = vec![0f32; cols * rows];
            for &(cx, cy) in &component {
                map[cy * cols + cx] = f32::MAX;
                let (sx, sy) = (cx as i64 + (shift.0 / cell as i64), cy as i64 + (shift.1 / cell as i64));
                if (0..cols as i64).contains(&sx) && (0..rows as i64).contains(&sy) {
                    map[sy as usize * cols + sx as usize] = f32::MAX;
                }
            }
            let px = |cells: usize| (cells * cell * f) as u32;
            Some(ShiftCandidate {
                shift: (shift.0 * f as i64, shift.1 * f as i64),
                bounds: (px(x0), px(y0), px(x1 - x0), px(y1 - y0)),
                cells: component.len(),
                periodic_fraction,
                map: CellMap { cols, rows, cell: cell * f, origin: (0, 0), values: map },
                factor: f,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::{DecodeLimits, decode};
    use crate::eval::synthetic::capture::encode_jpeg;
    use rand::{Rng, SeedableRng};

    fn thresholds() -> CopyMoveThresholds {
        crate::analysis::tamper::TamperModels::embedded().thresholds.local.copy_move
    }

    #[test]
    fn fast_lengths_have_only_small_prime_factors() {
        assert_eq!([1, 7, 11, 97, 638, 1012].map(smooth_size), [1, 8, 12, 100, 640, 1024]);
    }

    #[test]
    fn the_autocorrelation_is_the_direct_sum_at_every_lag() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let (width, height) = (40, 34);
        let values: Vec<f32> = (0..width * height).map(|_| rng.random_range(-1.0..1.0)).collect();
        let residual = Residual { factor: 1, width, height, values };
        let padded = (smooth_size(width), smooth_size(height));
        let fast = residual.autocorrelation(padded);
        for (dx, dy) in [(0i64, 0i64), (3, 0), (0, 5), (7, 11), (-6, 2), (13, -9)] {
            let mut direct = 0f32;
            for y in 0..height as i64 {
                for x in 0..width as i64 {
                    // Circular on the padded plane, whose padding is zero.
                    let (sx, sy) =
                        ((x + dx).rem_euclid(padded.0 as i64), (y + dy).rem_euclid(padded.1 as i64));
                    if (sx as usize) < width && (sy as usize) < height {
                        direct += residual.values[y as usize * width + x as usize]
                            * residual.values[sy as usize * width + sx as usize];
                    }
                }
            }
            let at = (dy.rem_euclid(padded.1 as i64) as usize) * padded.0
                + dx.rem_euclid(padded.0 as i64) as usize;
            // realfft's inverse is unnormalised: the plane's size times the sum.
            let scaled = fast[at] / (padded.0 * padded.1) as f32;
            assert!(
                (scaled - direct).abs() < 1e-2 * direct.abs().max(1.0),
                "lag ({dx}, {dy}): {scaled} vs {direct}"
            );
        }
    }

    #[test]
    fn a_cloned_patch_of_plain_paper_is_found_by_its_noise_after_a_resave() {
        // Paper with a camera's noise: nothing in the picture tells one place from another.
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut paper = image::RgbImage::from_pixel(640, 400, image::Rgb([200, 190, 180]));
        crate::eval::synthetic::capture::add_noise(&mut paper, 3.0, &mut rng);
        let paper = decode(&encode_jpeg(&paper, 92), &DecodeLimits::default()).unwrap().rgb;
        let luma = |image: &image::RgbImage| -> Vec<u8> {
            image.pixels().map(|p| crate::analysis::decode::planes::luma_of(p[0], p[1], p[2])).collect()
        };
        let resaved = decode(&encode_jpeg(&paper, 85), &DecodeLimits::default()).unwrap().rgb;
        assert!(
            shift_candidates(&luma(&resaved), 640, 400, &thresholds()).is_empty(),
            "noise alone has no copy"
        );

        let mut cloned = paper.clone();
        let (from, to, size) = ((60u32, 50u32), (350u32, 180u32), (150u32, 120u32));
        for y in 0..size.1 {
            for x in 0..size.0 {
                cloned.put_pixel(to.0 + x, to.1 + y, *paper.get_pixel(from.0 + x, from.1 + y));
            }
        }
        let edited = decode(&encode_jpeg(&cloned, 85), &DecodeLimits::default()).unwrap().rgb;
        let found = shift_candidates(&luma(&edited), 640, 400, &thresholds());
        let best = found.iter().max_by_key(|c| c.cells).expect("the clone's shift is a candidate");
        assert_eq!(best.shift, (290, 130));
        let (x, y, w, h) = best.bounds;
        assert!(x.abs_diff(from.0) <= 8 && y.abs_diff(from.1) <= 8, "{:?}", best.bounds);
        assert!(w.abs_diff(size.0) <= 16 && h.abs_diff(size.1) <= 16, "{:?}", best.bounds);

        let copy =
            super::super::copy_move::detect(&luma(&edited), 640, 400, &thresholds()).expect("verified");
        assert_eq!((copy.found_by, copy.shift), ("noise_autocorrelation", (290, 130)));
    }
}
