//! The thresholds copy-move detection reads, shared by block matching ([`super::copy_move`]) and
//! the noise autocorrelation ([`super::residual_shifts`]).

use serde::Deserialize;

/// Thresholds of copy-move detection (`[local.copy_move]` in `models/tamper.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyMoveThresholds {
    /// Longest side of the working plane, in pixels (the image is reduced by a whole factor).
    pub working_side: usize,
    /// Smallest standard deviation of a block's cell means, in grey levels, for it to be matched.
    pub min_texture: f32,
    /// Quantization step of the cell means when pairing, in grey levels.
    pub quantization_step: f32,
    /// Largest difference of any cell mean between paired blocks, in grey levels.
    pub max_difference: f32,
    /// Smallest shift between paired blocks, in working pixels.
    pub min_shift: usize,
    /// Smallest copied region: matched block positions.
    pub min_blocks: usize,
    /// Smallest copied region: its shorter side, in working pixels.
    pub min_side: usize,
    /// A shift whose blocks also match at twice or minus the shift in more than this fraction of
    /// them is a period of the pattern.
    pub max_periodic_fraction: f64,
    /// Smallest correlation of the two copies' fine detail at full resolution.
    pub min_detail_correlation: f64,
    /// Largest grey-level range around a sample of the flatter half: a region with less flat area
    /// is all print or texture, where a repeat cannot be told from a copy.
    pub max_flat_range: f64,
    /// A shift whose detail also correlates at minus or twice itself, or a few pixels off itself, by
    /// more than this fraction of its own correlation, is a texture's period or a smooth pattern.
    pub max_repeat_ratio: f64,
    /// Largest plane (in pixels) the noise residual is autocorrelated on; larger images are reduced
    /// by a whole factor.
    pub residual_working_pixels: usize,
    /// Autocorrelation peaks tried as shifts.
    pub residual_peaks: usize,
    /// Smallest shift tried, both ways, in working pixels.
    pub residual_min_shift: usize,
    /// Cell side of the residual's self-correlation, in working pixels.
    pub residual_cell: usize,
    /// Smallest correlation of a cell with its shifted partner to count as copied.
    pub residual_min_cell_correlation: f32,
    /// Smallest copied region: correlated cells.
    pub residual_min_cells: usize,
    /// Smallest copied region: its shorter side, in cells.
    pub residual_min_side_cells: usize,
}
