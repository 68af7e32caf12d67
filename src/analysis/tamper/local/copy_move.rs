//! Copy-move (clone-stamp) detection: part of the image repeated elsewhere in the same image.
//!
//! Candidate shifts come from two searches:
//! - block matching of the picture: every overlapping 16×16 block of a reduced, lightly blurred luma
//!   is described by its 4×4 grid of cell means; blocks whose coarsely quantized descriptions agree
//!   are paired (under two quantizations half a step apart, so a pair split by one bin edge is still
//!   found), checked on the unquantized means, and each pair votes for its shift (after Fridrich,
//!   Soukal and Lukáš, "Detection of Copy-Move Forgery in Digital Images", 2003); a clone is many
//!   neighbouring pairs with one shift;
//! - the noise: the autocorrelation of the noise residual peaks at a clone's shift even where the
//!   picture is flat ([`super::residual_shifts`]).
//!
//! Identity documents repeat themselves by design, and that must not read as a clone:
//! - a clone copies the camera's noise with the picture, a printed repeat does not: every candidate
//!   is verified at full resolution, where the detail of the flatter half of both copies must be
//!   correlated. The detail is taken at a scale of a few pixels (3×3 mean minus 9×9 mean), where
//!   noise survives a re-save at quality 75;
//! - guilloche, microprint, tiles and gradients repeat along their period: their detail also
//!   correlates at twice or minus the shift, and, being smooth, a few pixels off the shift; noise
//!   correlates at one shift only;
//! - flat areas are left out of block matching (too little texture to tell places apart);
//! - a repeated letter or word is a thin strip: a copied region must be wide and tall;
//! - a description shared by many blocks is a repeated motif, not evidence, and is skipped.
//!
//! Hand-written: no Rust crate does copy-move forgery detection.

use super::copy_move_thresholds::CopyMoveThresholds;
use super::maps::{CellMap, largest_component};
use super::residual_shifts;

/// Block side in working pixels.
const BLOCK: usize = 16;
/// Cell side: a block is 4×4 cells.
const CELL: usize = 4;
/// Distinct shifts verified, strongest support first.
const MAX_CANDIDATES: usize = 8;
/// Descriptions shared by more blocks than this are a repeated motif.
const MAX_GROUP: usize = 12;

type Description = [f32; 16];

/// A region found twice in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyMove {
    /// From one copy to the other, in image pixels.
    pub shift: (i64, i64),
    /// How the shift was found: `block_matching` or `noise_autocorrelation`.
    pub found_by: &'static str,
    /// Its region's size: matched 16×16 block positions, or correlated 8×8 cells of the residual.
    pub support: usize,
    /// The size the method needs at least (`min_blocks` or `residual_min_cells`).
    pub min_support: usize,
    /// Both copies' bounds in image pixels: x, y, width, height.
    pub regions: [(u32, u32, u32, u32); 2],
    /// Fraction of the blocks that also match at twice or minus the shift.
    pub periodic_fraction: f64,
    /// Correlation of the two copies' fine detail at full resolution.
    pub detail_correlation: f64,
    /// `blocks` over the threshold's `min_blocks` (1 = just enough).
    pub score: f64,
    /// Both copies marked on cells of the image, for the heatmap.
    pub map: CellMap,
}

/// The reduced, blurred luma's cell means, from which every block's description is read.
struct Plane {
    factor: usize,
    width: usize,
    height: usize,
    /// Block positions across and down.
    across: usize,
    down: usize,
    /// The mean of the `CELL` × `CELL` square at every position, rows of `width - CELL + 1`.
    cells: Vec<f32>,
}

impl Plane {
    fn new(luma: &[u8], width: usize, height: usize, working_side: usize) -> Option<Self> {
        let factor = width.max(height).div_ceil(working_side.max(BLOCK)).max(1);
        let (w, h) = (width / factor, height / factor);
        if w < 2 * BLOCK || h < 2 * BLOCK {
            return None;
        }
        let blurred = blur_121(&box_reduce(luma, width, factor, w, h), w, h);
        // Summed-area table, one row and column of zeros in front.
        let mut sums = vec![0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0f64;
            for x in 0..w {
                row += f64::from(blurred[y * w + x]);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        let at = |x: usize, y: usize| sums[y * (w + 1) + x];
        let area = (CELL * CELL) as f64;
        let cells = (0..=h - CELL)
            .flat_map(|y| (0..=w - CELL).map(move |x| (x, y)))
            .map(|(x, y)| {
                ((at(x + CELL, y + CELL) - at(x, y + CELL) - at(x + CELL, y) + at(x, y)) / area) as f32
            })
            .collect();
        Some(Plane { factor, width: w, height: h, across: w - BLOCK + 1, down: h - BLOCK + 1, cells })
    }

    /// The block's 4×4 cell means.
    fn description(&self, index: usize) -> Description {
        let (x, y) = (index % self.across, index / self.across);
        let stride = self.width - CELL + 1;
        std::array::from_fn(|i| self.cells[(y + CELL * (i / 4)) * stride + x + CELL * (i % 4)])
    }

    fn position(&self, index: usize) -> (i64, i64) {
        ((index % self.across) as i64, (index / self.across) as i64)
    }

    fn index(&self, x: i64, y: i64) -> Option<usize> {
        ((0..self.across as i64).contains(&x) && (0..self.down as i64).contains(&y))
            .then(|| y as usize * self.across + x as usize)
    }
}

/// Mean of each `factor` × `factor` square (row by row, no division per pixel).
fn box_reduce(luma: &[u8], width: usize, factor: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; w * h];
    let mut sums = vec![0u32; w];
    let area = (factor * factor) as f32;
    for (y, row_out) in out.chunks_exact_mut(w).enumerate() {
        sums.fill(0);
        for row in luma[y * factor * width..].chunks(width).take(factor) {
            for (sum, square) in sums.iter_mut().zip(row.chunks_exact(factor)) {
                *sum += square.iter().map(|&v| u32::from(v)).sum::<u32>();
            }
        }
        for (value, &sum) in row_out.iter_mut().zip(&sums) {
            *value = sum as f32 / area;
        }
    }
    out
}

/// A [1 2 1] / 4 blur along both axes: a fraction of a pixel of misalignment between the two copies
/// then changes the cell means little.
fn blur_121(plane: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut across = plane.to_vec();
    for (row, out) in plane.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
        for x in 1..w - 1 {
            out[x] = (row[x - 1] + 2.0 * row[x] + row[x + 1]) / 4.0;
        }
    }
    let mut down = across.clone();
    for y in 1..h - 1 {
        for x in 0..w {
            down[y * w + x] =
                (across[(y - 1) * w + x] + 2.0 * across[y * w + x] + across[(y + 1) * w + x]) / 4.0;
        }
    }
    down
}

fn spread(description: &Description) -> f32 {
    let mean = description.iter().sum::<f32>() / 16.0;
    (description.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 16.0).sqrt()
}

fn difference(a: &Description, b: &Description) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The description's bins under a quantization offset by `offset` steps, hashed to 32 bits (a
/// chance collision only costs one comparison of the unquantized means).
fn key(description: &Description, step: f32, offset: f32) -> u32 {
    let per_step = step.recip();
    let hash = description.iter().fold(0xCBF2_9CE4_8422_2325u64, |hash, &v| {
        // Means are grey levels (≥ 0): truncation is the floor.
        let bin = (v * per_step + offset) as i64 as u64;
        (hash ^ bin).wrapping_mul(0x100_0000_01B3).rotate_left(17)
    });
    (hash >> 32) as u32
}

/// The strongest copy-move region of the luma (`width` × `height`, row-major), if any passes.
pub fn detect(luma: &[u8], width: usize, height: usize, thresholds: &CopyMoveThresholds) -> Option<CopyMove> {
    let plane = Plane::new(luma, width, height, thresholds.working_side)?;
    let full = Full { luma, width, height };
    block_matched(&plane, thresholds)
        .into_iter()
        .map(|found| (found, plane.factor))
        .chain(noise_correlated(luma, width, height, thresholds))
        .filter_map(|(found, factor)| verified(found, full, factor, thresholds))
        // The strongest; on a tie, the first found.
        .reduce(|best, found| if found.score > best.score { found } else { best })
}

/// Regions that block matching pairs up, for the `MAX_CANDIDATES` best-supported distinct shifts.
fn block_matched(plane: &Plane, thresholds: &CopyMoveThresholds) -> Vec<CopyMove> {
    let pairs = paired_blocks(plane, thresholds);
    let mut votes: Vec<((i64, i64), usize)> = Vec::new();
    let mut sorted: Vec<(i64, i64)> = pairs.iter().map(|&(_, shift)| shift).collect();
    sorted.sort_unstable();
    for group in sorted.chunk_by(|a, b| a == b) {
        votes.push((group[0], group.len()));
    }
    // A shift's support counts its neighbours too: copies off the working grid split their votes.
    let support = |shift: (i64, i64)| -> usize {
        (-1..=1)
            .flat_map(|dy| (-1..=1).map(move |dx| (shift.0 + dx, shift.1 + dy)))
            .filter_map(|s| votes.binary_search_by(|v| v.0.cmp(&s)).ok().map(|i| votes[i].1))
            .sum()
    };
    let mut shifts: Vec<((i64, i64), usize)> = votes
        .iter()
        .map(|&(shift, _)| (shift, support(shift)))
        .filter(|&(_, n)| n >= thresholds.min_blocks)
        .collect();
    shifts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut tried: Vec<(i64, i64)> = Vec::new();
    let mut found = Vec::new();
    for (shift, _) in shifts {
        if tried.len() == MAX_CANDIDATES
            || tried.iter().any(|t| (t.0 - shift.0).abs() <= 2 && (t.1 - shift.1).abs() <= 2)
        {
            continue;
        }
        tried.push(shift);
        found.extend(region_of(plane, &pairs, shift, thresholds));
    }
    found
}

/// Regions the noise residual's autocorrelation finds, each with its plane's reduction factor.
fn noise_correlated(
    luma: &[u8],
    width: usize,
    height: usize,
    thresholds: &CopyMoveThresholds,
) -> impl Iterator<Item = (CopyMove, usize)> {
    residual_shifts::shift_candidates(luma, width, height, thresholds).into_iter().map(|candidate| {
        let found = CopyMove {
            shift: candidate.shift,
            found_by: "noise_autocorrelation",
            support: candidate.cells,
            min_support: thresholds.residual_min_cells,
            regions: [candidate.bounds, candidate.bounds],
            periodic_fraction: candidate.periodic_fraction,
            detail_correlation: 0.0,
            score: candidate.cells as f64 / thresholds.residual_min_cells as f64,
            map: candidate.map,
        };
        (found, candidate.factor)
    })
}

/// Pairs of matching textured blocks: (first block's index, shift to the second), shifts turned to
/// point right (or down), each pair once.
fn paired_blocks(plane: &Plane, thresholds: &CopyMoveThresholds) -> Vec<(usize, (i64, i64))> {
    let textured: Vec<usize> = (0..plane.across * plane.down)
        .filter(|&i| spread(&plane.description(i)) >= thresholds.min_texture)
        .collect();
    let mut pairs = Vec::new();
    for offset in [0.0, 0.5] {
        // Key in the high half, block index in the low: one sort of plain integers.
        let mut keyed: Vec<u64> = textured
            .iter()
            .map(|&i| {
                u64::from(key(&plane.description(i), thresholds.quantization_step, offset)) << 32 | i as u64
            })
            .collect();
        keyed.sort_unstable();
        for group in keyed.chunk_by(|a, b| a >> 32 == b >> 32).filter(|g| (2..=MAX_GROUP).contains(&g.len()))
        {
            for (n, &a) in group.iter().enumerate() {
                for &b in &group[n + 1..] {
                    let (a, b) = ((a & 0xFFFF_FFFF) as usize, (b & 0xFFFF_FFFF) as usize);
                    let ((ax, ay), (bx, by)) = (plane.position(a), plane.position(b));
                    let (mut from, mut shift) = (a, (bx - ax, by - ay));
                    if shift.0 < 0 || (shift.0 == 0 && shift.1 < 0) {
                        (from, shift) = (b, (-shift.0, -shift.1));
                    }
                    let far =
                        shift.0.unsigned_abs().max(shift.1.unsigned_abs()) as usize >= thresholds.min_shift;
                    if far
                        && difference(&plane.description(a), &plane.description(b))
                            <= thresholds.max_difference
                    {
                        pairs.push((from, shift));
                    }
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The largest connected group of pairs voting for `shift` (± 1), if it passes as a copied region.
fn region_of(
    plane: &Plane,
    pairs: &[(usize, (i64, i64))],
    shift: (i64, i64),
    thresholds: &CopyMoveThresholds,
) -> Option<CopyMove> {
    let mut sources = vec![false; plane.across * plane.down];
    for &(from, s) in pairs {
        if (s.0 - shift.0).abs() <= 1 && (s.1 - shift.1).abs() <= 1 {
            sources[from] = true;
        }
    }
    let component: Vec<(i64, i64)> =
        largest_component(&mut sources, plane.across).into_iter().map(|i| plane.position(i)).collect();
    if component.len() < thresholds.min_blocks {
        return None;
    }
    let (x0, y0) = (component.iter().map(|p| p.0).min()?, component.iter().map(|p| p.1).min()?);
    let (x1, y1) = (
        component.iter().map(|p| p.0).max()? + BLOCK as i64,
        component.iter().map(|p| p.1).max()? + BLOCK as i64,
    );
    if ((x1 - x0).min(y1 - y0) as usize) < thresholds.min_side {
        return None;
    }
    let periodic_fraction = periodic_fraction(plane, &component, shift, thresholds.max_difference);
    if periodic_fraction > thresholds.max_periodic_fraction {
        return None;
    }
    let f = plane.factor as i64;
    let bounds = |dx: i64, dy: i64| {
        (((x0 + dx) * f) as u32, ((y0 + dy) * f) as u32, ((x1 - x0) * f) as u32, ((y1 - y0) * f) as u32)
    };
    Some(CopyMove {
        shift: (shift.0 * f, shift.1 * f),
        found_by: "block_matching",
        support: component.len(),
        min_support: thresholds.min_blocks,
        regions: [bounds(0, 0), bounds(shift.0, shift.1)],
        periodic_fraction,
        detail_correlation: 0.0,
        score: component.len() as f64 / thresholds.min_blocks as f64,
        map: copies_map(plane, &component, shift),
    })
}

/// The full-resolution luma.
#[derive(Clone, Copy)]
struct Full<'a> {
    luma: &'a [u8],
    width: usize,
    height: usize,
}

impl Full<'_> {
    fn at(&self, x: i64, y: i64) -> f64 {
        f64::from(self.luma[y as usize * self.width + x as usize])
    }

    /// The columns and rows whose detail and range can be measured (their squares lie inside).
    fn interior(&self) -> (std::ops::Range<i64>, std::ops::Range<i64>) {
        (DETAIL_RADIUS..self.width as i64 - DETAIL_RADIUS, DETAIL_RADIUS..self.height as i64 - DETAIL_RADIUS)
    }

    /// Mean of the square of side `2·radius + 1` around the pixel.
    fn box_mean(&self, x: i64, y: i64, radius: i64) -> f64 {
        let mut sum = 0u32;
        for row in y - radius..=y + radius {
            let start = row as usize * self.width;
            sum += self.luma[start + (x - radius) as usize..=start + (x + radius) as usize]
                .iter()
                .map(|&v| u32::from(v))
                .sum::<u32>();
        }
        f64::from(sum) / ((2 * radius + 1) * (2 * radius + 1)) as f64
    }

    /// Largest minus smallest value of the square of side `2·DETAIL_RADIUS + 1` (high at edges).
    fn range(&self, x: i64, y: i64) -> f64 {
        let (mut low, mut high) = (u8::MAX, u8::MIN);
        for row in y - DETAIL_RADIUS..=y + DETAIL_RADIUS {
            let start = row as usize * self.width;
            for &v in &self.luma[start + (x - DETAIL_RADIUS) as usize..=start + (x + DETAIL_RADIUS) as usize]
            {
                (low, high) = (low.min(v), high.max(v));
            }
        }
        f64::from(high - low)
    }

    /// Mid-frequency detail: the 3×3 mean minus the mean of the square of side `2·DETAIL_RADIUS + 1`.
    /// A camera's noise at this scale survives a re-save at quality 75, where the pixel-scale noise
    /// is quantized away and what is left at that scale is the last save's own error.
    fn detail(&self, x: i64, y: i64) -> f64 {
        self.box_mean(x, y, 1) - self.box_mean(x, y, DETAIL_RADIUS)
    }
}

/// Half the side of the square the detail and the flatness are measured on.
const DETAIL_RADIUS: i64 = 4;

/// Samples per side of the grid the correlation is measured on.
const SAMPLES: i64 = 96;
/// Every third of them (per side) is enough to find the shift where an exact copy differs least.
const SEARCH_STEP: usize = 3;

/// The candidate refined to the full-resolution shift (within a working pixel of the coarse one)
/// where the copies differ least, kept when their fine detail is correlated there.
fn verified(
    mut found: CopyMove,
    full: Full<'_>,
    factor: usize,
    thresholds: &CopyMoveThresholds,
) -> Option<CopyMove> {
    let (x, y, w, h) = found.regions[0];
    let (x, y, w, h) = (i64::from(x), i64::from(y), i64::from(w), i64::from(h));
    let reach = factor as i64 + 1;
    // Grid points inside the first copy whose shifted points (and their neighbours) stay inside.
    let (across, down) = full.interior();
    let inside = |px: i64, py: i64, s: (i64, i64)| {
        across.contains(&px)
            && down.contains(&py)
            && across.contains(&(px + s.0))
            && down.contains(&(py + s.1))
    };
    let grid: Vec<(i64, i64)> = (0..SAMPLES)
        .flat_map(|j| (0..SAMPLES).map(move |i| (x + i * w / SAMPLES, y + j * h / SAMPLES)))
        .collect();
    let search: Vec<(i64, i64)> = grid
        .chunks(SAMPLES as usize)
        .step_by(SEARCH_STEP)
        .flat_map(|row| row.iter().step_by(SEARCH_STEP).copied())
        .collect();
    let mut best: Option<(f64, (i64, i64))> = None;
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let shift = (found.shift.0 + dx, found.shift.1 + dy);
            let (mut sum, mut n) = (0.0, 0usize);
            for &(px, py) in search.iter().filter(|&&(px, py)| inside(px, py, shift)) {
                sum += (full.at(px, py) - full.at(px + shift.0, py + shift.1)).abs();
                n += 1;
            }
            if n * 2 >= search.len() && best.is_none_or(|(b, _)| sum / (n as f64) < b) {
                best = Some((sum / n as f64, shift));
            }
        }
    }
    let (_, shift) = best?;
    let (across, down) = full.interior();
    let points_of = |grid: &[(i64, i64)]| -> Vec<Point> {
        grid.iter()
            .filter(|(px, py)| across.contains(px) && down.contains(py))
            .map(|&(px, py)| Point { at: (px, py), range: full.range(px, py), detail: full.detail(px, py) })
            .collect()
    };
    // The sparse search grid first: most candidates are rejected there at a ninth of the cost.
    let (rough, _) = flat_detail_correlation(full, &points_of(&search), search.len(), shift)?;
    if rough < thresholds.min_detail_correlation / 2.0 {
        return None;
    }
    let points = points_of(&grid);
    let (correlation, flat_range) = flat_detail_correlation(full, &points, grid.len(), shift)?;
    if correlation < thresholds.min_detail_correlation || flat_range > thresholds.max_flat_range {
        return None;
    }
    // A texture (tiles, bricks, guilloche) also correlates one period further on or back, and a
    // smooth pattern a few pixels off; a copy of the noise does neither.
    let step = DETAIL_RADIUS - 1;
    let repeat = [
        (-shift.0, -shift.1),
        (2 * shift.0, 2 * shift.1),
        (shift.0 + step, shift.1),
        (shift.0 - step, shift.1),
        (shift.0, shift.1 + step),
        (shift.0, shift.1 - step),
    ]
    .into_iter()
    .filter_map(|other| flat_detail_correlation(full, &points, grid.len(), other))
    .map(|(repeat, _)| repeat)
    .fold(0.0, f64::max);
    if repeat > thresholds.max_repeat_ratio * correlation {
        return None;
    }
    // The second copy is where the refined shift puts the first.
    let first = found.regions[0];
    found.regions[1] = (
        (i64::from(first.0) + shift.0).max(0) as u32,
        (i64::from(first.1) + shift.1).max(0) as u32,
        first.2,
        first.3,
    );
    found.shift = shift;
    found.detail_correlation = correlation;
    Some(found)
}

/// A sample point of the first copy, with the range and detail around it.
struct Point {
    at: (i64, i64),
    range: f64,
    detail: f64,
}

/// The correlation of the detail at `points` with the detail `offset` further on, over the flatter
/// half of the points (the range around them in both places), and the largest range in that half.
/// There the detail is the camera's noise, which a clone copies and a printed repeat does not; at
/// edges and lines any repeat correlates. `None` when fewer than half of the `sampled` points have
/// a partner inside the image.
fn flat_detail_correlation(
    full: Full<'_>,
    points: &[Point],
    sampled: usize,
    offset: (i64, i64),
) -> Option<(f64, f64)> {
    let (across, down) = full.interior();
    let mut samples: Vec<(f64, f64, f64)> = points
        .iter()
        .filter(|point| across.contains(&(point.at.0 + offset.0)) && down.contains(&(point.at.1 + offset.1)))
        .map(|point| {
            let (qx, qy) = (point.at.0 + offset.0, point.at.1 + offset.1);
            (point.range.max(full.range(qx, qy)), point.detail, full.detail(qx, qy))
        })
        .collect();
    if samples.is_empty() || samples.len() * 2 < sampled {
        return None;
    }
    let half = samples.len() / 2;
    samples.select_nth_unstable_by(half, |p, q| p.0.total_cmp(&q.0));
    let flatter = &samples[..half];
    let (mut ab, mut aa, mut bb, mut widest) = (0.0, 0.0, 0.0, 0f64);
    for &(range, a, b) in flatter {
        (ab, aa, bb, widest) = (ab + a * b, aa + a * a, bb + b * b, widest.max(range));
    }
    let correlation = if aa > 0.0 && bb > 0.0 { ab / (aa * bb).sqrt() } else { 0.0 };
    Some((correlation, widest))
}

/// Fraction of the region's blocks that also match the block at twice or minus the shift.
fn periodic_fraction(plane: &Plane, component: &[(i64, i64)], shift: (i64, i64), tolerance: f32) -> f64 {
    let (mut tested, mut periodic) = (0usize, 0usize);
    for &(x, y) in component {
        let Some(here) = plane.index(x, y) else { continue };
        let others = [plane.index(x + 2 * shift.0, y + 2 * shift.1), plane.index(x - shift.0, y - shift.1)];
        if others.iter().all(Option::is_none) {
            continue;
        }
        tested += 1;
        let repeats = others
            .iter()
            .flatten()
            .any(|&other| difference(&plane.description(here), &plane.description(other)) <= tolerance);
        periodic += usize::from(repeats);
    }
    if tested == 0 { 0.0 } else { periodic as f64 / tested as f64 }
}

/// Both copies marked on cells of `CELL` working pixels (full scale where a copy is).
fn copies_map(plane: &Plane, component: &[(i64, i64)], shift: (i64, i64)) -> CellMap {
    let (cols, rows) = (plane.width / CELL, plane.height / CELL);
    let mut values = vec![0f32; cols * rows];
    // Cells a block starting at `start` covers along one axis of `count` cells. A source's partner
    // can lie a pixel outside the plane (shifts are grouped within ±1), hence the clamping.
    let covered = |start: i64, count: usize| {
        let first = (start.max(0) as usize / CELL).min(count);
        let end = ((start + BLOCK as i64).max(0) as usize).div_ceil(CELL).min(count);
        first..end.max(first)
    };
    for &(x, y) in component {
        for (dx, dy) in [(0, 0), shift] {
            for cy in covered(y + dy, rows) {
                for cx in covered(x + dx, cols) {
                    values[cy * cols + cx] = f32::MAX;
                }
            }
        }
    }
    CellMap { cols, rows, cell: CELL * plane.factor, origin: (0, 0), values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::synthetic::cards::Template;
    use rand::SeedableRng;

    fn thresholds() -> CopyMoveThresholds {
        crate::analysis::tamper::TamperModels::embedded().thresholds.local.copy_move
    }

    fn luma(image: &image::RgbImage) -> Vec<u8> {
        image.pixels().map(|p| crate::analysis::decode::planes::luma_of(p[0], p[1], p[2])).collect()
    }

    #[test]
    fn a_cloned_patch_is_found_with_its_shift_and_a_card_alone_is_clean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let template = Template::new(2);
        let mut card = template.render(&template.holder(&mut rng));
        crate::eval::synthetic::capture::add_noise(&mut card, 3.0, &mut rng);
        let (w, h) = (card.width() as usize, card.height() as usize);
        assert!(detect(&luma(&card), w, h, &thresholds()).is_none(), "guilloche and labels are no clone");

        let mut cloned = card.clone();
        let (from, to, size) =
            ((w as u32 / 10, h as u32 / 3), (w as u32 / 2, h as u32 / 2), (w as u32 / 5, h as u32 / 5));
        for y in 0..size.1 {
            for x in 0..size.0 {
                cloned.put_pixel(to.0 + x, to.1 + y, *card.get_pixel(from.0 + x, from.1 + y));
            }
        }
        let found = detect(&luma(&cloned), w, h, &thresholds()).expect("the clone is found");
        let expected = (i64::from(to.0) - i64::from(from.0), i64::from(to.1) - i64::from(from.1));
        let tolerance = 2 * (w.div_ceil(thresholds().working_side)) as i64;
        assert!(
            (found.shift.0 - expected.0).abs() <= tolerance
                && (found.shift.1 - expected.1).abs() <= tolerance,
            "shift {:?}, expected {expected:?}",
            found.shift
        );
        assert!(found.periodic_fraction <= thresholds().max_periodic_fraction);
    }

    #[test]
    fn a_periodic_pattern_is_not_a_clone() {
        let (w, h) = (600usize, 400usize);
        let luma: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let mut z = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                let noise = ((z ^ (z >> 29)) >> 61) as f32 - 3.5;
                (128.0 + 60.0 * (x / 7.0).sin() * (y / 11.0).cos() + 40.0 * ((x + y) / 23.0).sin() + noise)
                    as u8
            })
            .collect();
        let found = detect(&luma, w, h, &thresholds());
        assert!(
            found.is_none(),
            "{:?}",
            found.map(|f| (f.shift, f.found_by, f.detail_correlation, f.regions))
        );
    }
}
