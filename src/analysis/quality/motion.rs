//! Directional sharpness: how sharp the print is in its least sharp direction, and how long a
//! motion streak is.
//!
//! Motion blur smears edges along one direction only; the Laplacian adds up every direction, so
//! the edges across the streak keep it high and a streaked, unreadable card passes a Laplacian focus
//! gate. Here the squared luma difference between pixels one step apart is compared with that
//! between pixels four steps apart, along each of four directions: a sharp edge is almost as
//! different over one step as over four (ratio near its ceiling), a smeared one changes a little per
//! step (ratio near 1/16). The least sharp direction's ratio is the measure, so sharp edges in one
//! direction cannot hide a blur in another. Hand-written: no crate offers a directional blur
//! measure; the arithmetic is a few loops over the print tiles.

use image::GrayImage;

/// The four directions, as pixel steps: 0°, 45°, 90°, 135° (image y down).
const DIRECTIONS: [(i32, i32); 4] = [(1, 0), (1, 1), (0, 1), (-1, 1)];

/// A direction is read on a tile only where the tile's four-step difference along it reaches this
/// share of its strongest direction's.
const MIN_STRUCTURE_SHARE: f64 = 0.25;

/// Most tiles the streak's length is read on.
const PROFILE_TILES: usize = 12;

/// The longest streak measured, in steps along a direction.
const MAX_STREAK_STEPS: u32 = 16;

/// Directional sharpness of the print.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DirectionalSharpness {
    /// Over the tiles, the median ratio of one-step to four-step squared differences in the least
    /// sharp direction: about 1/16 for a long smear, higher for sharp print.
    pub sharpness: f64,
    /// The least sharp direction's ratio over the sharpest direction's (1: the same every way, as
    /// in defocus; low: a streak).
    pub anisotropy: f64,
    /// The least sharp direction, degrees (0: horizontal, 90: vertical).
    pub direction_degrees: f64,
    /// Estimated streak length along that direction, working-plane pixels: the step at which the
    /// squared difference reaches 90 % of its largest (at most `MAX_STREAK_STEPS` steps).
    pub streak_length: f64,
}

/// Mean squared difference between pixels `step` steps apart along `direction`, over the box.
fn mean_squared_difference(
    luma: &GrayImage,
    bounds: (u32, u32, u32, u32),
    direction: (i32, i32),
    step: u32,
) -> f64 {
    let (width, height) = (luma.width() as i32, luma.height() as i32);
    let (x0, y0, x1, y1) = bounds;
    let (dx, dy) = (direction.0 * step as i32, direction.1 * step as i32);
    let raw = luma.as_raw();
    let (mut sum, mut count) = (0u64, 0u64);
    for y in y0 as i32..y1 as i32 {
        let ny = y + dy;
        if !(0..height).contains(&ny) {
            continue;
        }
        for x in x0 as i32..x1 as i32 {
            let nx = x + dx;
            if !(0..width).contains(&nx) {
                continue;
            }
            let difference =
                i64::from(raw[(y * width + x) as usize]) - i64::from(raw[(ny * width + nx) as usize]);
            sum += (difference * difference) as u64;
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum as f64 / count as f64 }
}

/// The median, or NaN (no reading) for no values.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Directional sharpness over the tiles `boxes` (x0, y0, x1, y1 on the luma plane), which should
/// hold print; `None` without tiles.
pub fn directional_sharpness(
    luma: &GrayImage,
    boxes: &[(u32, u32, u32, u32)],
) -> Option<DirectionalSharpness> {
    if boxes.is_empty() {
        return None;
    }
    // Per direction, the median over tiles of the one-step / four-step ratio, over the tiles with
    // structure in that direction: long strokes (a barcode, a bar) change little along their length
    // at any step, which says nothing about blur.
    let per_tile: Vec<[(f64, f64); 4]> = boxes
        .iter()
        .map(|&bounds| {
            DIRECTIONS.map(|direction| {
                (
                    mean_squared_difference(luma, bounds, direction, 1),
                    mean_squared_difference(luma, bounds, direction, 4),
                )
            })
        })
        .collect();
    let ratios: Vec<f64> = (0..DIRECTIONS.len())
        .map(|d| {
            median(
                per_tile
                    .iter()
                    .filter(|tile| {
                        let strongest = tile.iter().map(|&(_, far)| far).fold(0.0, f64::max);
                        tile[d].1 > 0.0 && tile[d].1 >= MIN_STRUCTURE_SHARE * strongest
                    })
                    .map(|tile| tile[d].0 / tile[d].1)
                    .collect(),
            )
        })
        .collect();
    let (weakest, &sharpness) =
        ratios.iter().enumerate().filter(|(_, ratio)| ratio.is_finite()).min_by(|a, b| a.1.total_cmp(b.1))?;
    let sharpest = ratios.iter().copied().filter(|ratio| ratio.is_finite()).fold(0.0, f64::max);
    let direction = DIRECTIONS[weakest];
    // The streak's length is read on at most PROFILE_TILES of the tiles, spread over them.
    let stride = boxes.len().div_ceil(PROFILE_TILES);
    let profile: Vec<f64> = (1..=MAX_STREAK_STEPS)
        .map(|step| {
            boxes
                .iter()
                .step_by(stride)
                .map(|&bounds| mean_squared_difference(luma, bounds, direction, step))
                .sum()
        })
        .collect();
    let largest = profile.iter().copied().fold(0.0, f64::max);
    let steps =
        profile.iter().position(|&value| value >= 0.9 * largest).map_or(MAX_STREAK_STEPS, |at| at as u32 + 1);
    let step_length = f64::from(direction.0).hypot(f64::from(direction.1));
    Some(DirectionalSharpness {
        sharpness,
        anisotropy: if sharpest > 0.0 { sharpness / sharpest } else { 1.0 },
        direction_degrees: [0.0, 45.0, 90.0, 135.0][weakest],
        streak_length: f64::from(steps) * step_length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// Random 2 × 2 dots: print with edges in every direction.
    fn print() -> GrayImage {
        GrayImage::from_fn(128, 128, |x, y| {
            let mut hash = (x / 2).wrapping_mul(0x9E37_79B9) ^ (y / 2).wrapping_mul(0x85EB_CA6B);
            hash ^= hash >> 15;
            hash = hash.wrapping_mul(0x2C1B_3C6D);
            hash ^= hash >> 12;
            Luma([if hash % 3 == 0 { 20 } else { 220 }])
        })
    }

    /// A horizontal streak of `length` pixels.
    fn streaked(image: &GrayImage, length: u32) -> GrayImage {
        GrayImage::from_fn(image.width(), image.height(), |x, y| {
            let sum: u32 =
                (0..length).map(|k| u32::from(image.get_pixel((x + k).min(image.width() - 1), y)[0])).sum();
            Luma([(sum / length) as u8])
        })
    }

    #[test]
    fn a_horizontal_streak_is_found_with_its_direction_and_length() {
        let tiles = [(16, 16, 48, 48), (64, 64, 96, 96), (16, 64, 48, 96)];
        let sharp = directional_sharpness(&print(), &tiles).unwrap();
        let smeared = directional_sharpness(&streaked(&print(), 8), &tiles).unwrap();
        assert!(sharp.sharpness > 0.25, "{sharp:?}");
        assert!(smeared.sharpness < 0.15, "{smeared:?}");
        assert_eq!(smeared.direction_degrees, 0.0);
        assert!((6.0..=10.0).contains(&smeared.streak_length), "{smeared:?}");
        assert!(smeared.anisotropy < 0.35 && sharp.anisotropy > 0.5, "{sharp:?} {smeared:?}");
        assert_eq!(directional_sharpness(&print(), &[]), None);
    }
}
