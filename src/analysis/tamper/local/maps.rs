//! Cell maps: one value per square of the image, turned into robust anomaly scores (how far a cell
//! is from the rest of the same image), connected suspicious regions, and a PNG heatmap.

use image::{GrayImage, Rgb, RgbImage};

/// One value per cell (NaN where a method has nothing to say), cells laid from `origin`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellMap {
    /// Cells across.
    pub cols: usize,
    /// Cells down.
    pub rows: usize,
    /// Cell side in image pixels.
    pub cell: usize,
    /// Image pixel of the first cell's corner.
    pub origin: (usize, usize),
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Which deviations from the image's typical cell are anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Values above the rest.
    Higher,
    /// Values below the rest.
    Lower,
}

/// A connected group of anomalous cells.
#[derive(Debug, Clone, PartialEq)]
pub struct CellRegion {
    /// Cells in the region.
    pub cells: usize,
    /// Mean anomaly score over them.
    pub mean_score: f32,
    /// Bounding box in image pixels: x, y, width, height.
    pub bounds: (u32, u32, u32, u32),
}

/// The largest 8-connected set of marked cells of a grid `cols` wide, as indices (marks are
/// consumed); the first found among equals.
pub fn largest_component(marked: &mut [bool], cols: usize) -> Vec<usize> {
    connected_sets(marked, cols, &SIDES_AND_CORNERS)
        .into_iter()
        .fold(Vec::new(), |largest, set| if set.len() > largest.len() { set } else { largest })
}

/// A cell's four side neighbours (4-connected sets), as (dx, dy).
const SIDES: [(i64, i64); 4] = [(-1, 0), (1, 0), (0, -1), (0, 1)];
/// Its eight side and corner neighbours (8-connected sets).
const SIDES_AND_CORNERS: [(i64, i64); 8] =
    [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)];

/// The sets of marked cells of a grid `cols` wide joined through `neighbours`, as indices, each
/// starting with its first cell in row-major order (marks are consumed).
fn connected_sets(marked: &mut [bool], cols: usize, neighbours: &[(i64, i64)]) -> Vec<Vec<usize>> {
    let rows = marked.len() / cols.max(1);
    let mut sets = Vec::new();
    for start in 0..marked.len() {
        if !std::mem::take(&mut marked[start]) {
            continue;
        }
        let (mut set, mut stack) = (Vec::new(), vec![start]);
        while let Some(at) = stack.pop() {
            set.push(at);
            let (x, y) = ((at % cols) as i64, (at / cols) as i64);
            for (dx, dy) in neighbours {
                let (nx, ny) = (x + dx, y + dy);
                if (0..cols as i64).contains(&nx) && (0..rows as i64).contains(&ny) {
                    let next = ny as usize * cols + nx as usize;
                    if std::mem::take(&mut marked[next]) {
                        stack.push(next);
                    }
                }
            }
        }
        sets.push(set);
    }
    sets
}

fn median(values: &mut [f32]) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

impl CellMap {
    /// Cells with a value.
    pub fn valid(&self) -> usize {
        self.values.iter().filter(|v| v.is_finite()).count()
    }

    /// Robust z-scores against the image's own cells: (v − median) / (1.4826 · MAD), with the MAD
    /// floored at `min_spread` so a uniform image does not turn rounding into anomalies. Only
    /// deviations in `direction` count.
    pub fn anomaly(&self, direction: Direction, min_spread: f32) -> CellMap {
        let mut finite: Vec<f32> = self.values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return CellMap { values: vec![f32::NAN; self.values.len()], ..self.clone() };
        }
        let center = median(&mut finite);
        let mut deviations: Vec<f32> = finite.iter().map(|v| (v - center).abs()).collect();
        let spread = (1.4826 * median(&mut deviations)).max(min_spread);
        let values = self
            .values
            .iter()
            .map(|&v| {
                let z = (v - center) / spread;
                match direction {
                    Direction::Higher => z.max(0.0),
                    Direction::Lower => (-z).max(0.0),
                }
            })
            .collect();
        CellMap { values, ..self.clone() }
    }

    /// Each cell replaced by the mean of the valid cells in its 3×3 neighbourhood: an edit covers
    /// neighbouring cells, a chance outlier does not.
    pub fn smoothed(&self) -> CellMap {
        let mut values = vec![f32::NAN; self.values.len()];
        for y in 0..self.rows {
            for x in 0..self.cols {
                if !self.values[y * self.cols + x].is_finite() {
                    continue;
                }
                let (mut sum, mut count) = (0f32, 0f32);
                for ny in y.saturating_sub(1)..(y + 2).min(self.rows) {
                    for nx in x.saturating_sub(1)..(x + 2).min(self.cols) {
                        let v = self.values[ny * self.cols + nx];
                        if v.is_finite() {
                            sum += v;
                            count += 1.0;
                        }
                    }
                }
                values[y * self.cols + x] = sum / count;
            }
        }
        CellMap { values, ..self.clone() }
    }

    /// The largest value (0 when none).
    pub fn peak(&self) -> f32 {
        self.values.iter().copied().filter(|v| v.is_finite()).fold(0.0, f32::max)
    }

    /// 4-connected groups of cells scoring at least `threshold`, with at least `min_cells` cells and
    /// at most `max_fraction` of the valid cells (an "anomaly" covering most of the image is the
    /// image), strongest first. Each group's bounds are grown through the neighbouring cells scoring
    /// at least `grow_to` (hysteresis, as in Canny's edges: an edit's weaker cells join the region
    /// its strong cells found), unless growing would pass `max_fraction`; groups that grow into one
    /// region are reported once, by the strongest.
    pub fn regions(
        &self,
        threshold: f32,
        grow_to: f32,
        min_cells: usize,
        max_fraction: f64,
    ) -> Vec<CellRegion> {
        let limit = (self.valid() as f64 * max_fraction).max(1.0) as usize;
        let strong = self.components(threshold);
        let grown = self.components(grow_to.min(threshold));
        let mut grown_of = vec![usize::MAX; self.values.len()];
        for (id, component) in grown.iter().enumerate() {
            for &at in component {
                grown_of[at] = id;
            }
        }
        // Each strong group with the grown region it is reported by (None: its own cells).
        let mut regions: Vec<(Option<usize>, CellRegion)> = strong
            .iter()
            .filter(|component| (min_cells..=limit).contains(&component.len()))
            .map(|component| {
                let sum: f32 = component.iter().map(|&at| self.values[at]).sum();
                let id = Some(grown_of[component[0]]).filter(|&id| grown[id].len() <= limit);
                let region = CellRegion {
                    cells: component.len(),
                    mean_score: sum / component.len() as f32,
                    bounds: self.bounds(id.map_or(component, |id| &grown[id])),
                };
                (id, region)
            })
            .collect();
        regions.sort_by(|a, b| b.1.mean_score.total_cmp(&a.1.mean_score));
        let mut reported = vec![false; grown.len()];
        regions
            .into_iter()
            .filter(|(id, _)| id.is_none_or(|id| !std::mem::replace(&mut reported[id], true)))
            .map(|(_, region)| region)
            .collect()
    }

    /// The 4-connected groups of cells scoring at least `threshold`, as cell indices.
    fn components(&self, threshold: f32) -> Vec<Vec<usize>> {
        let mut marked: Vec<bool> = self.values.iter().map(|&value| value >= threshold).collect();
        connected_sets(&mut marked, self.cols, &SIDES)
    }

    /// Bounding box of `cells` in image pixels: x, y, width, height.
    fn bounds(&self, cells: &[usize]) -> (u32, u32, u32, u32) {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for &at in cells {
            let (x, y) = (at % self.cols, at / self.cols);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        let px = |cell: usize, origin: usize| (origin + cell * self.cell) as u32;
        (
            px(x0, self.origin.0),
            px(y0, self.origin.1),
            ((x1 - x0 + 1) * self.cell) as u32,
            ((y1 - y0 + 1) * self.cell) as u32,
        )
    }

    /// A reviewer's picture: the image in grey, each cell tinted from transparent (score 0) through
    /// yellow to red (score ≥ `full_scale`). `base` is a reduced luma, `factor` original pixels per
    /// base pixel.
    pub fn heatmap_png(&self, base: &GrayImage, factor: f32, full_scale: f32) -> Vec<u8> {
        let picture = RgbImage::from_fn(base.width(), base.height(), |x, y| {
            let grey = f32::from(base.get_pixel(x, y)[0]) * 0.6;
            let (ox, oy) = ((x as f32 * factor) as usize, (y as f32 * factor) as usize);
            let cell = (ox >= self.origin.0 && oy >= self.origin.1)
                .then(|| ((ox - self.origin.0) / self.cell, (oy - self.origin.1) / self.cell))
                .filter(|&(cx, cy)| cx < self.cols && cy < self.rows);
            let score = cell.map_or(0.0, |(cx, cy)| self.values[cy * self.cols + cx]);
            let t = if score.is_finite() { (score / full_scale).clamp(0.0, 1.0) } else { 0.0 };
            // Yellow at half scale, red at full; the tint's opacity grows with the score.
            let tint = [255.0, 255.0 * (1.0 - ((t - 0.5).max(0.0) * 2.0)), 0.0];
            let alpha = t * 0.75;
            Rgb(tint.map(|c| (grey * (1.0 - alpha) + c * alpha).round() as u8))
        });
        let mut png = Vec::new();
        picture
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .expect("encoding a PNG into memory cannot fail");
        png
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(cols: usize, rows: usize, values: Vec<f32>) -> CellMap {
        CellMap { cols, rows, cell: 10, origin: (3, 0), values }
    }

    #[test]
    fn an_outlying_block_of_cells_is_one_region() {
        let mut values: Vec<f32> = (0..100).map(|i| 1.0 + (i % 7) as f32 * 0.01).collect();
        for (x, y) in [(5, 5), (6, 5), (5, 6), (6, 6)] {
            values[y * 10 + x] = 3.0;
        }
        values[0] = f32::NAN;
        let z = map(10, 10, values).anomaly(Direction::Higher, 0.01);
        let regions = z.regions(6.0, 6.0, 3, 0.3);
        assert_eq!(regions.len(), 1);
        assert_eq!((regions[0].cells, regions[0].bounds), (4, (53, 50, 20, 20)));
        assert!(z.smoothed().peak() > 6.0);
        assert!(z.regions(6.0, 6.0, 5, 0.3).is_empty(), "too small");
    }

    #[test]
    fn a_region_grows_over_its_weaker_neighbours_but_not_over_the_image() {
        // Strong cells at (2..4, 2..4), weaker ones down to row 6 and a second strong pair at (2..4, 6).
        let mut values = vec![0.0f32; 100];
        for (x, y, v) in [(2, 2, 8.0), (3, 2, 8.0), (2, 3, 8.0), (3, 3, 8.0), (2, 4, 4.0), (3, 5, 4.0)] {
            values[y * 10 + x] = v;
        }
        values[5 * 10 + 2] = 4.0;
        values[6 * 10 + 2] = 7.0;
        values[6 * 10 + 3] = 7.0;
        let z = map(10, 10, values);
        let strong_only = z.regions(6.0, 6.0, 2, 0.3);
        assert_eq!(
            strong_only.iter().map(|r| r.bounds).collect::<Vec<_>>(),
            [(23, 20, 20, 20), (23, 60, 20, 10)]
        );
        let grown = z.regions(6.0, 3.0, 2, 0.3);
        assert_eq!(grown.len(), 1, "both strong groups grow into one region, reported once");
        assert_eq!((grown[0].cells, grown[0].mean_score, grown[0].bounds), (4, 8.0, (23, 20, 20, 50)));
        let everywhere: Vec<_> = z.regions(6.0, -1.0, 2, 0.3).iter().map(|r| r.bounds).collect();
        assert_eq!(everywhere, [(23, 20, 20, 20), (23, 60, 20, 10)], "grown over the map: the strong cells");
    }

    #[test]
    fn the_heatmap_is_a_png_of_the_base_size() {
        let z = map(2, 2, vec![0.0, 1.0, f32::NAN, 4.0]);
        let png = z.heatmap_png(&GrayImage::from_pixel(12, 9, image::Luma([200])), 2.0, 4.0);
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (12, 9));
        assert_eq!(decoded.get_pixel(0, 0)[1], decoded.get_pixel(0, 0)[0], "no cell: grey");
        let red = decoded.get_pixel(11, 8);
        assert!(red[0] > 200 && red[1] < 120, "{red:?}");
    }
}
