//! JPEG quality estimated from the quantization tables.
//!
//! libjpeg (IJG) and the many encoders built on it scale the example tables of ITU-T T.81 Annex K by
//! `scale = q < 50 ? 5000 / q : 200 - 2q` (jcparam.c, `jpeg_quality_scaling`). Matching a file's
//! tables against that family gives its quality exactly for IJG-family encoders and the nearest
//! equivalent for others (camera firmware, Photoshop), which is what a compression gate needs.

use crate::analysis::decode::QuantTable;

/// T.81 Annex K, Table K.1: luminance quantization table, in natural (row-major) order.
pub const ANNEX_K_LUMINANCE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17,
    22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78,
    87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// T.81 Annex K, Table K.2: chrominance quantization table, in natural order.
pub const ANNEX_K_CHROMINANCE: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Natural-order index of each zig-zag position (T.81 Figure A.6); DQT stores tables in zig-zag order.
pub const ZIGZAG_TO_NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
    14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39,
    46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The IJG-scaled table for `quality` (1..=100), in zig-zag order as a DQT segment stores it, with
/// baseline clamping to 1..=255.
pub fn ijg_table(base: &[u16; 64], quality: u8) -> [u16; 64] {
    let quality = u32::from(quality.clamp(1, 100));
    let scale = if quality < 50 { 5000 / quality } else { 200 - 2 * quality };
    std::array::from_fn(|zigzag| {
        let value = (u32::from(base[ZIGZAG_TO_NATURAL[zigzag]]) * scale + 50) / 100;
        value.clamp(1, 255) as u16
    })
}

/// The estimated quality of a JPEG.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityEstimate {
    /// The IJG quality (1..=100) whose tables are nearest.
    pub quality: u8,
    /// The tables are exactly IJG's at that quality.
    pub exact_ijg: bool,
    /// Mean absolute difference per entry from the nearest IJG tables.
    pub mean_abs_error: f64,
}

/// Estimates quality from the tables in use (the last definition of ids 0 and 1).
pub fn estimate_jpeg_quality(tables: &[QuantTable]) -> Option<QualityEstimate> {
    let last = |id| tables.iter().rev().find(|table| table.id == id);
    let luminance = last(0)?;
    let chrominance = last(1);
    let mut best: Option<(u64, u8)> = None;
    for quality in (1..=100u8).rev() {
        let error = |table: &QuantTable, base| -> u64 {
            let expected = ijg_table(base, quality);
            table.values.iter().zip(expected).map(|(&a, b)| u64::from(a.abs_diff(b))).sum()
        };
        let total = error(luminance, &ANNEX_K_LUMINANCE)
            + chrominance.map_or(0, |table| error(table, &ANNEX_K_CHROMINANCE));
        if best.is_none_or(|(best_error, _)| total < best_error) {
            best = Some((total, quality));
        }
    }
    let (error, quality) = best?;
    let entries = if chrominance.is_some() { 128.0 } else { 64.0 };
    Some(QualityEstimate { quality, exact_ijg: error == 0, mean_abs_error: error as f64 / entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(id: u8, values: [u16; 64]) -> QuantTable {
        QuantTable { id, sixteen_bit: false, values }
    }

    #[test]
    fn quality_50_is_annex_k_itself() {
        let at_50 = ijg_table(&ANNEX_K_LUMINANCE, 50);
        assert_eq!(at_50[0], 16);
        assert_eq!(at_50[1], 11, "zig-zag position 1 is natural index 1");
        assert_eq!(at_50[2], 12, "zig-zag position 2 is natural index 8");
    }

    #[test]
    fn recovers_every_ijg_quality_exactly() {
        for quality in [5u8, 10, 15, 40, 50, 75, 90, 95, 100] {
            let tables = [
                table(0, ijg_table(&ANNEX_K_LUMINANCE, quality)),
                table(1, ijg_table(&ANNEX_K_CHROMINANCE, quality)),
            ];
            let estimate = estimate_jpeg_quality(&tables).unwrap();
            assert!(estimate.exact_ijg, "q{quality}");
            // Near q100 several qualities clamp to identical tables; any of them is exact.
            assert_eq!(ijg_table(&ANNEX_K_LUMINANCE, estimate.quality), tables[0].values, "q{quality}");
        }
    }

    #[test]
    fn no_luminance_table_no_estimate() {
        assert_eq!(estimate_jpeg_quality(&[]), None);
    }
}
