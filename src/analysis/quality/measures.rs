//! Pure image measures behind the quality findings, each over a working plane.

use image::{GrayImage, Luma, RgbImage};
use imageproc::distance_transform::{Norm, distance_transform};
use imageproc::region_labelling::{Connectivity, connected_components};

/// Side of the square tiles the focus measure is taken over.
pub(super) const FOCUS_TILE: u32 = 32;

/// The 4-neighbour Laplacian's variance per square tile of a plane, and the plane's flatness.
#[derive(Debug, Clone, PartialEq)]
pub struct LaplacianStats {
    /// Tiles across.
    pub tiles_x: u32,
    /// Tiles down.
    pub tiles_y: u32,
    /// Plane width.
    pub width: u32,
    /// Plane height.
    pub height: u32,
    /// The Laplacian's variance per tile, row by row.
    pub variances: Vec<f64>,
    /// Share of interior pixels equal to all four neighbours (flat fills, as in user interfaces).
    pub flat_share: f64,
}

impl LaplacianStats {
    /// Pixel bounds of tile (`i`, `j`): x0, y0, x1, y1 (exclusive). The last tile of a row or
    /// column takes the remainder.
    pub fn tile_bounds(&self, i: u32, j: u32) -> (u32, u32, u32, u32) {
        let x1 = if i + 1 == self.tiles_x { self.width - 1 } else { 1 + (i + 1) * FOCUS_TILE };
        let y1 = if j + 1 == self.tiles_y { self.height - 1 } else { 1 + (j + 1) * FOCUS_TILE };
        (1 + i * FOCUS_TILE, 1 + j * FOCUS_TILE, x1, y1)
    }

    /// Focus over the tiles `keep` selects: the 90th percentile of their Laplacian variance, the
    /// focus of the sharpest content, so blank areas do not pull it down (after Pech-Pacheco et
    /// al., "Diatom autofocusing in brightfield microscopy", ICPR 2000, taken per tile).
    pub fn focus(&self, keep: impl Fn(u32, u32) -> bool) -> f64 {
        let mut variances: Vec<f64> = (0..self.tiles_y)
            .flat_map(|j| (0..self.tiles_x).map(move |i| (i, j)))
            .filter(|&(i, j)| keep(i, j))
            .map(|(i, j)| self.variances[(j * self.tiles_x + i) as usize])
            .collect();
        variances.sort_by(f64::total_cmp);
        percentile_sorted(&variances, 0.90)
    }
}

/// Laplacian statistics of a luma plane.
pub fn laplacian_stats(luma: &GrayImage) -> LaplacianStats {
    let (width, height) = luma.dimensions();
    if width < 3 || height < 3 {
        return LaplacianStats {
            tiles_x: 0,
            tiles_y: 0,
            width,
            height,
            variances: Vec::new(),
            flat_share: 0.0,
        };
    }
    let tiles_x = ((width - 2) / FOCUS_TILE).max(1);
    let tiles_y = ((height - 2) / FOCUS_TILE).max(1);
    let mut sums = vec![(0i64, 0i64, 0u32); (tiles_x * tiles_y) as usize];
    let mut flat = 0u64;
    let raw = luma.as_raw();
    let w = width as usize;
    for y in 1..height as usize - 1 {
        let tile_y = (((y - 1) as u32) / FOCUS_TILE).min(tiles_y - 1);
        let (above, row, below) =
            (&raw[(y - 1) * w..y * w], &raw[y * w..(y + 1) * w], &raw[(y + 1) * w..(y + 2) * w]);
        for x in 1..w - 1 {
            let centre = i32::from(row[x]);
            let (n, s, west, east) =
                (i32::from(above[x]), i32::from(below[x]), i32::from(row[x - 1]), i32::from(row[x + 1]));
            let laplacian = i64::from(4 * centre - n - s - west - east);
            if n == centre && s == centre && west == centre && east == centre {
                flat += 1;
            }
            let tile_x = (((x - 1) as u32) / FOCUS_TILE).min(tiles_x - 1);
            let tile = &mut sums[(tile_y * tiles_x + tile_x) as usize];
            tile.0 += laplacian;
            tile.1 += laplacian * laplacian;
            tile.2 += 1;
        }
    }
    let variances = sums
        .iter()
        .map(|&(sum, sum_sq, n)| {
            if n == 0 {
                return 0.0;
            }
            let n = f64::from(n);
            let mean = sum as f64 / n;
            sum_sq as f64 / n - mean * mean
        })
        .collect();
    let interior = ((width - 2) as u64 * (height - 2) as u64) as f64;
    LaplacianStats { tiles_x, tiles_y, width, height, variances, flat_share: flat as f64 / interior }
}

fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// A 256-bin histogram of 8-bit values, with the statistics the gate needs.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: [u64; 256],
    total: u64,
}

impl Histogram {
    /// Histogram of an iterator of values.
    pub fn of(values: impl Iterator<Item = u8>) -> Self {
        let mut counts = [0u64; 256];
        for value in values {
            counts[usize::from(value)] += 1;
        }
        Histogram { total: counts.iter().sum(), counts }
    }

    /// The smallest value with at least `q` of the mass at or below it.
    pub fn percentile(&self, q: f64) -> f64 {
        let target = (q * self.total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (value, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= target {
                return value as f64;
            }
        }
        255.0
    }

    /// Mean value.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let sum: u64 = self.counts.iter().enumerate().map(|(value, &count)| value as u64 * count).sum();
        sum as f64 / self.total as f64
    }

    /// Share of values at or above `threshold`.
    pub fn share_at_least(&self, threshold: u8) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.counts[usize::from(threshold)..].iter().sum::<u64>() as f64 / self.total as f64
    }
}

/// Chroma of a pixel: the spread between its strongest and weakest channel.
pub fn chroma(pixel: &image::Rgb<u8>) -> u8 {
    let [r, g, b] = pixel.0;
    r.max(g).max(b) - r.min(g).min(b)
}

/// A blob of specular highlight on the working plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlareBlob {
    /// Bounding box on the working plane: x, y, width, height.
    pub bounds: (u32, u32, u32, u32),
    /// Pixels in the blob.
    pub area: u32,
}

/// What makes a bright blob a specular highlight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlareCriteria {
    /// Luma of a highlight pixel.
    pub min_luma: u8,
    /// Largest chroma of a highlight pixel.
    pub max_chroma: u8,
    /// Smallest blob, in working pixels.
    pub min_area: u32,
    /// Largest blob, in working pixels: bigger bright areas are paper or sky, not reflections.
    pub max_area: u32,
    /// Least drop in mean luma from the ring just outside the blob to a ring further out: a
    /// reflection fades into its surroundings, a white printed field or label stops at an edge.
    /// On bright surroundings the drop asked for is at most `halo_headroom_share` of the headroom
    /// left above them.
    pub min_halo_falloff: f64,
    /// See `min_halo_falloff`.
    pub halo_headroom_share: f64,
    /// Luma of a clipped pixel: a reflection's core is clipped...
    pub core_luma: u8,
    /// ... over at least this share of the blob (bright paper with sensor noise has only a few
    /// clipped pixels).
    pub min_core_share: f64,
}

/// Mean luma of the pixels at a chessboard distance in `from..=to` from a blob's own pixels
/// (`label` in `labels`), over a crop around its bounding box.
fn ring_mean(
    luma: &GrayImage,
    labels: &Labels,
    label: u32,
    bounds: (u32, u32, u32, u32),
    from: u8,
    to: u8,
) -> Option<f64> {
    let (width, height) = luma.dimensions();
    let (x, y, w, h) = bounds;
    let margin = u32::from(to) + 1;
    let (x0, y0) = (x.saturating_sub(margin), y.saturating_sub(margin));
    let (x1, y1) = ((x + w + margin).min(width), (y + h + margin).min(height));
    let mask = GrayImage::from_fn(x1 - x0, y1 - y0, |cx, cy| {
        Luma([if labels.at(x0 + cx, y0 + cy) == label { 255 } else { 0 }])
    });
    let distances = distance_transform(&mask, Norm::LInf);
    let (mut sum, mut count) = (0u64, 0u64);
    for (cx, cy, distance) in distances.enumerate_pixels() {
        if (from..=to).contains(&distance[0]) {
            sum += u64::from(luma.get_pixel(x0 + cx, y0 + cy)[0]);
            count += 1;
        }
    }
    (count > 0).then(|| sum as f64 / count as f64)
}

/// Connected-component labels over the box that holds every candidate pixel; 0 (background)
/// outside it. Labelling only that box keeps an upload without bright spots from paying for a
/// labelling of the whole plane.
struct Labels {
    image: image::ImageBuffer<Luma<u32>, Vec<u32>>,
    /// Where the box's top-left pixel lies on the plane (one pixel up and left of the first
    /// candidate: see `glare_blobs`).
    origin: (i64, i64),
}

impl Labels {
    fn at(&self, x: u32, y: u32) -> u32 {
        let (x, y) = (i64::from(x) - self.origin.0, i64::from(y) - self.origin.1);
        let inside = (0..i64::from(self.image.width())).contains(&x)
            && (0..i64::from(self.image.height())).contains(&y);
        if inside { self.image.get_pixel(x as u32, y as u32)[0] } else { 0 }
    }
}

/// Connected blobs of near-saturated, colourless pixels `inside` the document (so a spot does not
/// merge with a white background) that do not touch the border, within the size bounds, and fade
/// into their surroundings (see [`GlareCriteria`]).
pub fn glare_blobs(
    rgb: &RgbImage,
    luma: &GrayImage,
    criteria: &GlareCriteria,
    inside: impl Fn(u32, u32) -> bool,
) -> Vec<GlareBlob> {
    let GlareCriteria {
        min_luma,
        max_chroma,
        min_area,
        max_area,
        min_halo_falloff,
        halo_headroom_share,
        core_luma,
        min_core_share,
    } = *criteria;
    let (width, height) = luma.dimensions();
    let mask = GrayImage::from_fn(width, height, |x, y| {
        let bright = luma.get_pixel(x, y)[0] >= min_luma && inside(x, y);
        Luma([if bright && chroma(rgb.get_pixel(x, y)) <= max_chroma { 255 } else { 0 }])
    });
    let set = mask.enumerate_pixels().filter(|(.., value)| value[0] > 0);
    let Some((left, top, right, bottom)) = set.fold(None, |bounds, (x, y, _)| match bounds {
        None => Some((x, y, x, y)),
        Some((x0, y0, x1, y1)) => Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y))),
    }) else {
        return Vec::new();
    };
    // The box with a blank pixel all round: imageproc's labelling sizes its forest by the pixel
    // count and fails when every pixel is a component of its own (a single candidate pixel).
    let mut candidates = GrayImage::new(right - left + 3, bottom - top + 3);
    image::imageops::replace(
        &mut candidates,
        &*image::imageops::crop_imm(&mask, left, top, right - left + 1, bottom - top + 1),
        1,
        1,
    );
    let labels = Labels {
        image: connected_components(&candidates, Connectivity::Eight, Luma([0])),
        origin: (i64::from(left) - 1, i64::from(top) - 1),
    };
    // Per label: min x, min y, max x, max y, area, touches border, clipped pixels.
    let mut blobs: Vec<(u32, u32, u32, u32, u32, bool, u32)> = Vec::new();
    for (cx, cy, label) in labels.image.enumerate_pixels() {
        let label = label[0] as usize;
        if label == 0 {
            continue;
        }
        // Candidates lie one pixel in from the box's edges, at or right of `left` and below `top`.
        let (x, y) = (left + cx - 1, top + cy - 1);
        if blobs.len() < label {
            blobs.resize(label, (u32::MAX, u32::MAX, 0, 0, 0, false, 0));
        }
        let blob = &mut blobs[label - 1];
        blob.0 = blob.0.min(x);
        blob.1 = blob.1.min(y);
        blob.2 = blob.2.max(x);
        blob.3 = blob.3.max(y);
        blob.4 += 1;
        blob.5 |= x == 0 || y == 0 || x + 1 == width || y + 1 == height;
        blob.6 += u32::from(luma.get_pixel(x, y)[0] >= core_luma);
    }
    blobs
        .into_iter()
        .enumerate()
        .filter(|&(_, (.., area, touches_border, clipped))| {
            (min_area..=max_area).contains(&area)
                && !touches_border
                && f64::from(clipped) >= min_core_share * f64::from(area)
        })
        .map(|(index, (x0, y0, x1, y1, area, ..))| {
            (index as u32 + 1, GlareBlob { bounds: (x0, y0, x1 - x0 + 1, y1 - y0 + 1), area })
        })
        .filter(|(label, blob)| {
            // Rings scaled to the blob: about a third of an equivalent disc's radius.
            let step = ((f64::from(blob.area).sqrt() / 5.0).round() as u8).clamp(2, 60);
            let near = ring_mean(luma, &labels, *label, blob.bounds, 1, step);
            let far = ring_mean(luma, &labels, *label, blob.bounds, 2 * step, 3 * step);
            match (near, far) {
                (Some(near_mean), Some(far_mean)) => {
                    near_mean - far_mean >= min_halo_falloff.min(halo_headroom_share * (255.0 - far_mean))
                }
                _ => false,
            }
        })
        .map(|(_, blob)| blob)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn focus_is_high_for_edges_and_zero_for_flat() {
        let flat = GrayImage::from_pixel(100, 100, Luma([128]));
        let stats = laplacian_stats(&flat);
        assert_eq!(stats.focus(|_, _| true), 0.0);
        assert_eq!(stats.flat_share, 1.0);
        let stripes = GrayImage::from_fn(100, 100, |x, _| Luma([if x % 4 < 2 { 0 } else { 255 }]));
        assert!(laplacian_stats(&stripes).focus(|_, _| true) > 1000.0);
        assert_eq!(laplacian_stats(&stripes).focus(|_, _| false), 0.0);
    }

    #[test]
    fn histogram_percentiles() {
        let histogram = Histogram::of((0..=100u8).chain(std::iter::repeat_n(255, 10)));
        assert_eq!(histogram.percentile(0.5), 55.0);
        assert!((histogram.share_at_least(250) - 10.0 / 111.0).abs() < 1e-12);
    }

    #[test]
    fn glare_blobs_need_a_halo_and_ignore_the_border_and_colour() {
        let mut rgb = RgbImage::from_pixel(60, 60, Rgb([90, 60, 40]));
        // A reflection: a saturated core fading out.
        for y in 10..40 {
            for x in 10..40 {
                let d = (f64::from(x) - 24.5).abs().max((f64::from(y) - 24.5).abs());
                let v = if d < 5.0 { 255.0 } else { (255.0 - (d - 5.0) * 14.0).max(60.0) };
                rgb.put_pixel(x, y, Rgb([v as u8, v as u8, v as u8]));
            }
        }
        // A white printed field with a hard edge: no halo.
        for y in 50..56 {
            for x in 8..30 {
                rgb.put_pixel(x, y, Rgb([255, 255, 255]));
            }
        }
        for y in 0..5 {
            for x in 0..60 {
                rgb.put_pixel(x, y, Rgb([255, 255, 255])); // a white margin along the top
            }
        }
        for y in 40..50 {
            for x in 40..50 {
                rgb.put_pixel(x, y, Rgb([255, 255, 0])); // saturated but coloured
            }
        }
        let luma = GrayImage::from_fn(60, 60, |x, y| {
            let [r, g, b] = rgb.get_pixel(x, y).0;
            Luma([crate::analysis::decode::planes::luma_of(r, g, b)])
        });
        let blobs = glare_blobs(&rgb, &luma, &criteria(), |_, _| true);
        assert_eq!(blobs, vec![GlareBlob { bounds: (20, 20, 10, 10), area: 100 }]);
    }

    fn criteria() -> GlareCriteria {
        GlareCriteria {
            min_luma: 250,
            max_chroma: 30,
            min_area: 10,
            max_area: 1000,
            min_halo_falloff: 20.0,
            halo_headroom_share: 0.5,
            core_luma: 253,
            min_core_share: 0.3,
        }
    }

    #[test]
    fn no_candidate_or_a_single_one_is_no_blob() {
        let rgb = RgbImage::from_pixel(40, 30, Rgb([90, 60, 40]));
        let luma_of_rgb = |rgb: &RgbImage| {
            GrayImage::from_fn(40, 30, |x, y| {
                let [r, g, b] = rgb.get_pixel(x, y).0;
                Luma([crate::analysis::decode::planes::luma_of(r, g, b)])
            })
        };
        assert_eq!(glare_blobs(&rgb, &luma_of_rgb(&rgb), &criteria(), |_, _| true), vec![]);
        // One pixel, at a corner or inside (small enough to be a blob here): labelled and rejected
        // (no halo), where labelling it alone once panicked.
        let one_pixel = GlareCriteria { min_area: 1, ..criteria() };
        for (x, y) in [(0, 0), (39, 29), (17, 11)] {
            let mut one = rgb.clone();
            one.put_pixel(x, y, Rgb([255, 255, 255]));
            assert_eq!(glare_blobs(&one, &luma_of_rgb(&one), &one_pixel, |_, _| true), vec![]);
        }
    }
}
