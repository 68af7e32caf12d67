//! PDQ, Meta's 256-bit perceptual image hash, with its quality metric and the eight dihedral
//! variants (Meta, "The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity Algorithm",
//! 2019; reference implementation facebook/ThreatExchange `pdq/cpp/hashing/pdqhashing.cpp`).
//!
//! Hand-written because no crate fits: `pdqhash` pins image 0.23 (a second, outdated decoder
//! stack) and has no dihedral variants, `pdq` brings a PDF renderer, `pdq-rs` builds the C++.
//! The arithmetic follows the reference in `f32`, step for step, so the hash of given pixels is
//! bit-exact (tested against golden vectors made with the reference core).

use std::fmt;

/// Side of the decimated luma plane the DCT reads.
const PLANE: usize = 64;
/// Side of the DCT coefficient block that becomes the hash.
const BLOCK: usize = 16;

/// A PDQ hash: bit k is coefficient (row k / 16, column k % 16) above the median.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pdq(pub [u16; 16]);

impl Pdq {
    /// Number of differing bits.
    pub fn hamming_distance(&self, other: &Pdq) -> u32 {
        self.0.iter().zip(other.0.iter()).map(|(a, b)| (a ^ b).count_ones()).sum()
    }

    /// The reference's hex form: word 15 first, each word as four hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().rev().map(|word| format!("{word:04x}")).collect()
    }

    /// Parses the reference's hex form.
    pub fn from_hex(hex: &str) -> Option<Pdq> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut words = [0u16; 16];
        for (index, word) in words.iter_mut().rev().enumerate() {
            *word = u16::from_str_radix(&hex[index * 4..index * 4 + 4], 16).ok()?;
        }
        Some(Pdq(words))
    }

    /// The hash as 32 bytes (word 15 first, big-endian), as it is stored.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (index, word) in self.0.iter().rev().enumerate() {
            bytes[2 * index..2 * index + 2].copy_from_slice(&word.to_be_bytes());
        }
        bytes
    }

    /// Parses the form [`Pdq::to_bytes`] writes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Pdq {
        let mut words = [0u16; 16];
        for (index, word) in words.iter_mut().rev().enumerate() {
            *word = u16::from_be_bytes([bytes[2 * index], bytes[2 * index + 1]]);
        }
        Pdq(words)
    }
}

impl serde::Serialize for Pdq {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl fmt::Debug for Pdq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pdq({})", self.to_hex())
    }
}

/// A PDQ hash of an image, with its quality and the hashes of its seven other orientations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqHashes {
    /// Reference quality metric, 0..=100 (below about 50 the hash is unreliable).
    pub quality: u32,
    /// The eight dihedral hashes in the reference's order: original, rotate 90, rotate 180,
    /// rotate 270, flip x, flip y, flip along the main diagonal, flip along the anti-diagonal.
    pub dihedral: [Pdq; 8],
}

impl PdqHashes {
    /// The hash of the image as given.
    pub fn original(&self) -> Pdq {
        self.dihedral[0]
    }
}

/// PDQ of an RGB image given as rows of `width` RGB triples.
pub fn pdq_from_rgb(rgb: &[u8], width: usize, height: usize) -> PdqHashes {
    let luma: Vec<f32> = rgb
        .chunks_exact(3)
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect();
    pdq_from_luma(luma, width, height)
}

/// PDQ of a luma plane (`width` × `height`, row-major, 0..255 scale).
pub fn pdq_from_luma(mut luma: Vec<f32>, width: usize, height: usize) -> PdqHashes {
    let window_along_rows = jarosz_window(width);
    let window_along_cols = jarosz_window(height);
    let samples = |length: usize| -> [usize; PLANE] {
        std::array::from_fn(|i| (((i as f64 + 0.5) * length as f64) / PLANE as f64) as usize)
    };
    let (sample_rows, sample_cols) = (samples(height), samples(width));
    // The Jarosz filter: two passes of a box filter in each direction approximate a tent. Only its
    // 64 × 64 samples are read, so the second pass down the columns runs on the sampled columns.
    let mut scratch = vec![0f32; luma.len()];
    box_rows(&luma, &mut scratch, width, height, window_along_rows);
    box_columns(&scratch, &mut luma, width, height, window_along_cols);
    box_rows(&luma, &mut scratch, width, height, window_along_rows);
    let sampled: Vec<f32> =
        (0..height).flat_map(|row| sample_cols.map(|column| scratch[row * width + column])).collect();
    let mut filtered = vec![0f32; height * PLANE];
    box_columns(&sampled, &mut filtered, PLANE, height, window_along_cols);
    let plane: [[f32; PLANE]; PLANE] =
        std::array::from_fn(|i| std::array::from_fn(|j| filtered[sample_rows[i] * PLANE + j]));
    let quality = quality_metric(&plane);
    let coefficients = dct_64_to_16(&plane);
    let dihedral = dihedral_blocks(&coefficients).map(|block| threshold_at_median(&block));
    PdqHashes { quality, dihedral }
}

/// The reference's box-filter window for reducing `dimension` to 64 (`computeJaroszFilterWindowSize`).
fn jarosz_window(dimension: usize) -> usize {
    dimension.div_ceil(2 * PLANE)
}

/// The reference's one-dimensional box filter (`box1DFloat`) along every row, [`ROW_LANES`] rows at a
/// time: their running sums are independent, so the processor adds them in parallel instead of
/// waiting on one sum. Each value sees the reference's sequence of additions, so the result is
/// bit-identical. The last group is clamped to the last row (a row filtered twice is written twice
/// with the same values).
fn box_rows(input: &[f32], output: &mut [f32], width: usize, height: usize, window: usize) {
    let half = (window + 2) / 2;
    for first_row in (0..height).step_by(ROW_LANES) {
        let starts: [usize; ROW_LANES] =
            std::array::from_fn(|lane| (first_row + lane).min(height - 1) * width);
        let mut sums = [0f32; ROW_LANES];
        let mut count = 0f32;
        let add = |sums: &mut [f32; ROW_LANES], column: usize| {
            for (sum, start) in sums.iter_mut().zip(starts) {
                *sum += input[start + column];
            }
        };
        let subtract = |sums: &mut [f32; ROW_LANES], column: usize| {
            for (sum, start) in sums.iter_mut().zip(starts) {
                *sum -= input[start + column];
            }
        };
        let mut write = |sums: &[f32; ROW_LANES], count: f32, column: usize| {
            let values = sums.map(|sum| sum / count);
            for (value, start) in values.into_iter().zip(starts) {
                output[start + column] = value;
            }
        };
        let (mut left, mut right, mut out) = (0, 0, 0);
        for _ in 0..half - 1 {
            add(&mut sums, right);
            count += 1.0;
            right += 1;
        }
        for _ in 0..(window + 1).saturating_sub(half) {
            add(&mut sums, right);
            count += 1.0;
            write(&sums, count, out);
            right += 1;
            out += 1;
        }
        for _ in 0..width.saturating_sub(window) {
            add(&mut sums, right);
            subtract(&mut sums, left);
            write(&sums, count, out);
            left += 1;
            right += 1;
            out += 1;
        }
        for _ in 0..half - 1 {
            subtract(&mut sums, left);
            count -= 1.0;
            write(&sums, count, out);
            left += 1;
            out += 1;
        }
    }
}

/// Rows [`box_rows`] filters together.
const ROW_LANES: usize = 8;

/// The reference's one-dimensional box filter (`box1DFloat`) down every column at once: row by row,
/// with a running sum per column, so memory is read in order. Each column sees the reference's
/// sequence of additions, so the result is bit-identical.
fn box_columns(input: &[f32], output: &mut [f32], width: usize, height: usize, window: usize) {
    let half = (window + 2) / 2;
    let row = |index: usize| &input[index * width..(index + 1) * width];
    let mut sums = vec![0f32; width];
    let (mut left, mut right, mut out) = (0, 0, 0);
    let mut count = 0f32;
    let mut write = |out: usize, sums: &[f32], count: f32| {
        for (target, sum) in output[out * width..(out + 1) * width].iter_mut().zip(sums) {
            *target = sum / count;
        }
    };
    for _ in 0..half - 1 {
        sums.iter_mut().zip(row(right)).for_each(|(sum, value)| *sum += value);
        count += 1.0;
        right += 1;
    }
    for _ in 0..(window + 1).saturating_sub(half) {
        sums.iter_mut().zip(row(right)).for_each(|(sum, value)| *sum += value);
        count += 1.0;
        write(out, &sums, count);
        right += 1;
        out += 1;
    }
    for _ in 0..height.saturating_sub(window) {
        sums.iter_mut().zip(row(right)).zip(row(left)).for_each(|((sum, add), sub)| *sum = *sum + add - sub);
        write(out, &sums, count);
        left += 1;
        right += 1;
        out += 1;
    }
    for _ in 0..half - 1 {
        sums.iter_mut().zip(row(left)).for_each(|(sum, value)| *sum -= value);
        count -= 1.0;
        write(out, &sums, count);
        left += 1;
        out += 1;
    }
}

/// The reference's image-domain quality: summed absolute neighbour differences, scaled.
#[allow(clippy::needless_range_loop)] // index arithmetic kept as in the reference, for auditability
fn quality_metric(plane: &[[f32; PLANE]; PLANE]) -> u32 {
    let mut gradient_sum = 0i64;
    for i in 0..PLANE - 1 {
        for j in 0..PLANE {
            gradient_sum += i64::from(((plane[i][j] - plane[i + 1][j]) * 100.0 / 255.0) as i32).abs();
        }
    }
    for i in 0..PLANE {
        for j in 0..PLANE - 1 {
            gradient_sum += i64::from(((plane[i][j] - plane[i][j + 1]) * 100.0 / 255.0) as i32).abs();
        }
    }
    (gradient_sum / 90).min(100) as u32
}

/// The 16×16 low-frequency block (DC excluded) of the 64×64 DCT-II: D · A · Dᵀ, summed in the
/// reference's order (f32 addition is not associative; the order is part of bit-exactness).
#[allow(clippy::needless_range_loop)] // index arithmetic kept as in the reference, for auditability
fn dct_64_to_16(plane: &[[f32; PLANE]; PLANE]) -> [[f32; BLOCK]; BLOCK] {
    let mut matrix = [[0f32; PLANE]; BLOCK];
    for (i, row) in matrix.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            let angle =
                (std::f64::consts::PI / 2.0 / PLANE as f64) * (i as f64 + 1.0) * (2.0 * j as f64 + 1.0);
            *value = ((2.0 / PLANE as f64).sqrt() * angle.cos()) as f32;
        }
    }
    let mut left = [[0f32; PLANE]; BLOCK];
    for i in 0..BLOCK {
        for j in 0..PLANE {
            let mut sum = 0f32;
            for k in 0..PLANE {
                sum += matrix[i][k] * plane[k][j];
            }
            left[i][j] = sum;
        }
    }
    let mut block = [[0f32; BLOCK]; BLOCK];
    for i in 0..BLOCK {
        for j in 0..BLOCK {
            let mut sum = 0f32;
            for k in 0..PLANE {
                sum += left[i][k] * matrix[j][k];
            }
            block[i][j] = sum;
        }
    }
    block
}

/// The coefficient blocks of the image's eight orientations, derived from one DCT: a horizontal
/// flip negates the odd horizontal frequencies, a vertical flip the odd vertical ones, a transpose
/// swaps the axes (the basis starts at frequency 1, so index i holds frequency i + 1).
fn dihedral_blocks(block: &[[f32; BLOCK]; BLOCK]) -> [[[f32; BLOCK]; BLOCK]; 8] {
    let sign = |index: usize| if index.is_multiple_of(2) { -1.0 } else { 1.0 };
    let make = |f: &dyn Fn(usize, usize) -> f32| -> [[f32; BLOCK]; BLOCK] {
        std::array::from_fn(|i| std::array::from_fn(|j| f(i, j)))
    };
    [
        make(&|i, j| block[i][j]),
        make(&|i, j| sign(i) * block[j][i]),
        make(&|i, j| sign(i) * sign(j) * block[i][j]),
        make(&|i, j| sign(j) * block[j][i]),
        make(&|i, j| sign(i) * block[i][j]),
        make(&|i, j| sign(j) * block[i][j]),
        make(&|i, j| block[j][i]),
        make(&|i, j| sign(i) * sign(j) * block[j][i]),
    ]
}

/// Bit k set where coefficient k exceeds the median (the 128th smallest, as the reference's
/// Torben median returns).
fn threshold_at_median(block: &[[f32; BLOCK]; BLOCK]) -> Pdq {
    let flat: Vec<f32> = block.iter().flatten().copied().collect();
    let mut sorted = flat.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[flat.len().div_ceil(2) - 1];
    let mut words = [0u16; 16];
    for (k, &value) in flat.iter().enumerate() {
        if value > median {
            words[k >> 4] |= 1 << (k & 15);
        }
    }
    Pdq(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_distance_counts_bits() {
        let hex = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22";
        let pdq = Pdq::from_hex(hex).unwrap();
        assert_eq!(pdq.to_hex(), hex);
        assert_eq!(pdq.hamming_distance(&pdq), 0);
        let mut flipped = pdq;
        flipped.0[3] ^= 0b1011;
        assert_eq!(pdq.hamming_distance(&flipped), 3);
        assert_eq!(Pdq::from_hex("zz"), None);
        assert_eq!(&pdq.to_bytes()[..2], &[0xf8, 0xf8]);
    }

    /// The reference's `box1DFloat` transliterated: a box filter over `length` values from `start`,
    /// with windows that shrink at the ends.
    fn box_1d(input: &[f32], output: &mut [f32], start: usize, length: usize, window: usize) {
        let half = (window + 2) / 2;
        let (mut left, mut right, mut out) = (start, start, start);
        let mut sum = 0f32;
        let mut count = 0f32;
        for _ in 0..half - 1 {
            sum += input[right];
            count += 1.0;
            right += 1;
        }
        for _ in 0..(window + 1).saturating_sub(half) {
            sum += input[right];
            count += 1.0;
            output[out] = sum / count;
            right += 1;
            out += 1;
        }
        for _ in 0..length.saturating_sub(window) {
            sum += input[right];
            sum -= input[left];
            output[out] = sum / count;
            left += 1;
            right += 1;
            out += 1;
        }
        for _ in 0..half - 1 {
            sum -= input[left];
            count -= 1.0;
            output[out] = sum / count;
            left += 1;
            out += 1;
        }
    }

    #[test]
    fn row_and_column_filters_are_bit_identical_to_the_reference() {
        // 37 rows: four full groups of box_rows and a partial one.
        let (width, height) = (53, 37);
        let image: Vec<f32> = (0..width * height).map(|i| ((i * 7919) % 256) as f32 * 0.731).collect();
        let transposed: Vec<f32> =
            (0..width * height).map(|i| image[(i % height) * width + i / height]).collect();
        for window in [1, 2, 3, 7] {
            let mut reference_rows = vec![0f32; image.len()];
            for row in 0..height {
                box_1d(&image, &mut reference_rows, row * width, width, window);
            }
            let mut by_rows = vec![0f32; image.len()];
            box_rows(&image, &mut by_rows, width, height, window);
            let mut reference_columns = vec![0f32; image.len()];
            for column in 0..width {
                box_1d(&transposed, &mut reference_columns, column * height, height, window);
            }
            let mut by_columns = vec![0f32; image.len()];
            box_columns(&image, &mut by_columns, width, height, window);
            for (i, (&row_value, &column_value)) in by_rows.iter().zip(&by_columns).enumerate() {
                let (row, column) = (i / width, i % width);
                assert_eq!(row_value.to_bits(), reference_rows[i].to_bits(), "rows, window {window}");
                let expected = reference_columns[column * height + row];
                assert_eq!(column_value.to_bits(), expected.to_bits(), "columns, window {window}");
            }
        }
    }

    #[test]
    fn about_half_the_bits_are_set() {
        let luma: Vec<f32> = (0..100 * 80).map(|i| ((i * 37) % 251) as f32).collect();
        let hashes = pdq_from_luma(luma, 100, 80);
        let ones: u32 = hashes.original().0.iter().map(|w| w.count_ones()).sum();
        assert!((120..=128).contains(&ones), "{ones}");
    }
}
