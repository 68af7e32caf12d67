//! Aligned double quantization (A-DJPG): a JPEG saved twice on the same grid, first with step `q1`
//! then with `q2 < q1`, keeps only the values `round(m·q1/q2)` of each coefficient: its histogram
//! has empty bins with a period. Pixels pasted in before the second save were quantized once and
//! fill those bins, so each block gets a log-likelihood ratio of "quantized once" against "twice"
//! (after Lin, He, Tang and Tang, "Fast, automatic and fine-grained tampered JPEG image detection
//! via DCT coefficient analysis", Pattern Recognition 42, 2009).

use super::blocks::{BlockFeatures, FREQUENCIES};
use crate::analysis::quality::compression::{ANNEX_K_LUMINANCE, ijg_table};

/// Histogram bins kept on each side of zero.
const RANGE: i32 = 30;

/// One frequency whose histogram shows double quantization.
#[derive(Debug, Clone)]
pub struct DoubleQuantized {
    /// Zig-zag position (1-based AC index).
    pub zigzag: usize,
    /// The last quantization step (from the file's table).
    pub last_step: u16,
    /// The estimated first step.
    pub primary_step: u16,
    /// How empty the unreachable bins are (1 = perfectly empty).
    pub emptiness: f64,
    /// Log-likelihood ratio "quantized once" : "twice" for each bin −RANGE..=RANGE.
    llr: Vec<f32>,
}

/// Image-level verdict and the per-frequency models.
#[derive(Debug, Clone, Default)]
pub struct DoubleQuantization {
    /// Frequencies with the double-quantization pattern.
    pub frequencies: Vec<DoubleQuantized>,
}

fn bin(k: i32) -> usize {
    (k + RANGE) as usize
}

impl DoubleQuantization {
    /// Looks for the pattern in each of the first AC frequencies. `last_table` is the file's
    /// luminance table in zig-zag order. A frequency counts when at least `min_emptiness` of the mass
    /// its neighbours predict is missing from the unreachable bins.
    pub fn detect(features: &[BlockFeatures], last_table: &[u16; 64], min_emptiness: f64) -> Self {
        let steps: [u16; FREQUENCIES] = std::array::from_fn(|index| last_table[index + 1].max(1));
        let divisors = steps.map(f32::from);
        // One pass over the blocks fills every frequency's histogram (the blocks outgrow the cache);
        // the divisions come apart from the scattered counting, so that they vectorise.
        let mut histograms = [[0u32; 2 * RANGE as usize + 1]; FREQUENCIES];
        for block in features {
            let levels: [i32; FREQUENCIES] =
                std::array::from_fn(|index| (block.coefficients[index] / divisors[index]).round() as i32);
            for (histogram, k) in histograms.iter_mut().zip(levels) {
                if k != 0 && k.abs() <= RANGE {
                    histogram[bin(k)] += 1;
                }
            }
        }
        let frequencies = histograms
            .iter()
            .zip(steps)
            .enumerate()
            .filter_map(|(index, (histogram, step))| {
                let histogram = histogram.map(f64::from);
                let found = best_primary(&histogram, step, min_emptiness)?;
                Some(DoubleQuantized { zigzag: index + 1, ..found })
            })
            .collect();
        DoubleQuantization { frequencies }
    }

    /// Enough frequencies agree that the image was quantized twice.
    pub fn present(&self, min_frequencies: usize) -> bool {
        self.frequencies.len() >= min_frequencies
    }

    /// The IJG quality whose table is nearest the estimated first steps (a "primary quality").
    pub fn primary_quality(&self) -> Option<u8> {
        (1..=100u8)
            .min_by_key(|&quality| {
                let table = ijg_table(&ANNEX_K_LUMINANCE, quality);
                self.frequencies
                    .iter()
                    .map(|f| u32::from(table[f.zigzag].abs_diff(f.primary_step)))
                    .sum::<u32>()
            })
            .filter(|_| !self.frequencies.is_empty())
    }

    /// Evidence that `block` was quantized once while the image around it was quantized twice.
    pub fn block_llr(&self, block: &BlockFeatures) -> f32 {
        self.frequencies
            .iter()
            .map(|f| {
                let k = (block.coefficients[f.zigzag - 1] / f32::from(f.last_step)).round() as i32;
                if k == 0 || k.abs() > RANGE { 0.0 } else { f.llr[bin(k)] }
            })
            .sum()
    }
}

/// The most specific first step (the most unreachable bins) whose unreachable bins are empty.
fn best_primary(histogram: &[f64], last: u16, min_emptiness: f64) -> Option<DoubleQuantized> {
    let mut best: Option<(usize, DoubleQuantized)> = None;
    for primary in last + 1..=(last * 4).min(255) {
        let mut reachable = vec![false; histogram.len()];
        let ratio = f64::from(primary) / f64::from(last);
        for m in -(RANGE * 2)..=(RANGE * 2) {
            let k = (f64::from(m) * ratio).round() as i32;
            if k.abs() <= RANGE {
                reachable[bin(k)] = true;
            }
        }
        let (mut observed, mut predicted, mut unreachable) = (0f64, 0f64, 0usize);
        for k in -RANGE + 1..RANGE {
            if k == 0 || reachable[bin(k)] {
                continue;
            }
            unreachable += 1;
            observed += histogram[bin(k)];
            // A coefficient histogram decays about exponentially: the geometric mean of the
            // neighbours predicts a bin without the bias a convex decay gives the arithmetic one.
            predicted += (histogram[bin(k - 1)] * histogram[bin(k + 1)]).sqrt();
        }
        // Too few samples where the gaps should be: no decision from this frequency.
        if unreachable == 0 || predicted < 50.0 {
            continue;
        }
        let emptiness = 1.0 - observed / predicted;
        if emptiness >= min_emptiness && best.as_ref().is_none_or(|(count, _)| unreachable > *count) {
            let half = (ratio.ceil() as i32 / 2).max(1);
            let llr = (-RANGE..=RANGE)
                .map(|k| {
                    let window = (k - half).max(-RANGE)..=(k + half).min(RANGE);
                    let width = window.clone().count() as f64;
                    let uniform = window.map(|j| histogram[bin(j)]).sum::<f64>() / width;
                    ((uniform + 1.0) / (histogram[bin(k)] + 1.0)).ln() as f32
                })
                .collect();
            best = Some((
                unreachable,
                DoubleQuantized { zigzag: 0, last_step: last, primary_step: primary, emptiness, llr },
            ));
        }
    }
    best.map(|(_, found)| found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_with(index: usize, value: f32) -> BlockFeatures {
        let mut coefficients = [0f32; FREQUENCIES];
        coefficients[index] = value;
        BlockFeatures { coefficients, residual: 0.0, mean: 128.0, edge: (0.0, 0.0) }
    }

    #[test]
    fn twice_quantized_values_leave_periodic_gaps() {
        // A Laplacian-like spread of values quantized with step 9, then with step 4.
        let mut table = [1u16; 64];
        table[1] = 4;
        let values = (0..4000).map(|i| ((i % 97) as f32 - 48.0) * 1.7 + ((i * 7919) % 13) as f32 * 0.3);
        let twice: Vec<BlockFeatures> =
            values.clone().map(|v| block_with(0, ((v / 9.0).round() * 9.0 / 4.0).round() * 4.0)).collect();
        let found = DoubleQuantization::detect(&twice, &table, 0.8);
        assert_eq!(found.frequencies.len(), 1);
        assert_eq!((found.frequencies[0].primary_step, found.frequencies[0].last_step), (9, 4));
        // A once-quantized value in a gap is evidence of a paste; a value on the lattice is not.
        assert!(
            found.block_llr(&block_with(0, 4.0 * 3.0)) > 1.0,
            "3·4 = 12 is not reachable from steps of 9"
        );
        assert!(found.block_llr(&block_with(0, 4.0 * 2.0)) < 0.0, "2·4 = 8 ≈ 9 is reachable");

        let once: Vec<BlockFeatures> = values.map(|v| block_with(0, (v / 4.0).round() * 4.0)).collect();
        assert!(DoubleQuantization::detect(&once, &table, 0.8).frequencies.is_empty());
    }
}
