//! Where the gate measures: on the document, not the frame. A white scanner bed is not
//! over-exposure and a dark desk is not a dark document, so exposure, contrast, glare, focus and
//! resolution are read inside the document's outline; and an outline that runs out of the frame is a
//! document cut off.

use serde::Deserialize;

use super::border::{ForeignRuns, FrameBorderThresholds, FrameSide};
use super::measures::{FOCUS_TILE, LaplacianStats};

/// Four corners, clockwise from the top left, in working-plane pixels.
type Quad = [(f32, f32); 4];

/// What the quality measures were taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasuredOn {
    /// The outline the document locator found.
    DocumentOutline,
    /// No outline was found: the box around the frame's print (text, portrait, lines), widened by
    /// a margin.
    PrintArea,
    /// Neither told the document from its surroundings: the whole frame.
    Frame,
}

impl MeasuredOn {
    /// The name used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            MeasuredOn::DocumentOutline => "document_outline",
            MeasuredOn::PrintArea => "print_area",
            MeasuredOn::Frame => "frame",
        }
    }
}

/// How the area is found without an outline and when it counts as cut off; see
/// `models/quality.toml`, `[document]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentThresholds {
    /// A tile holds print when its Laplacian variance reaches this share of the 99th percentile
    /// over the frame's tiles...
    pub print_tile_share: f64,
    /// ... and this multiple of the background's (the tiles' `background_percentile`: plain
    /// surroundings, or the document's blank parts when it fills the frame).
    pub print_tile_over_background: f64,
    /// Percentile of the tiles' variances taken as the background's texture and noise.
    pub background_percentile: f64,
    /// The variance of a surface's grain below which tiles count as alike (sensor noise).
    pub min_surface_variance: f64,
    /// Surroundings are plain when the tiles 20 points above the background percentile are at
    /// most this multiple of it (plus `min_surface_variance`).
    pub max_background_spread: f64,
    /// A tile with this multiple of the background's variance is the document's surface
    /// (guilloche, tint), not background: the print box grows over rows and columns mostly of such
    /// tiles.
    pub content_tile_over_background: f64,
    /// Most busy tiles around the print box, as a share, for the box to be a document on a surface.
    pub max_busy_outside: f64,
    /// The print box is widened by this share of its size on every side (a card's blank margin).
    pub print_margin: f64,
    /// A print box spanning at least this share of both axes is the frame.
    pub frame_share: f64,
    /// An outline corner this close to an edge (share of the frame's long side), or beyond it, is
    /// out of the frame.
    pub edge_tolerance: f64,
    /// Print touching one edge is a cut-off only when the box stays at least this share of the
    /// frame away from the opposite edge (background is visible there: a card that fills the frame
    /// is not cut off).
    pub min_opposite_margin: f64,
    /// User hint; `{sides}` is replaced by the sides cut off.
    pub cut_off_hint: String,
}

/// The document's area on the working plane: a convex quadrilateral.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentArea {
    /// What it was found from.
    pub measured_on: MeasuredOn,
    /// Corners in working-plane pixels (clockwise from the top left).
    pub corners: [(f32, f32); 4],
    /// Frame sides the document runs past.
    pub cut_off: Vec<FrameSide>,
    /// Of those, the longest run of the document's colours along the frame's border (0 when the
    /// border did not show the cut).
    pub border_run: f64,
    /// Pixels inside.
    pub pixels: u64,
    /// No outline, and no document on a plain surface: the frame is a scene (sand, a street, a
    /// room), busy all round.
    scene: bool,
    /// Per row, the pixels inside (`x0..x1`).
    spans: Vec<Option<(u32, u32)>>,
    /// Tiles (of the Laplacian grid) holding print.
    print_tiles: Vec<bool>,
    tiles_x: u32,
    width: u32,
    height: u32,
}

impl DocumentArea {
    /// The area from the locator's `outline` (working-plane corners) when there is one, otherwise
    /// from where the frame's print lies, otherwise the frame. It is cut off where its corners reach
    /// an edge, or where it comes near an edge along which the border shows foreign colours
    /// (`border` reads them, only then: see [`super::border`]; around a print box, only where they
    /// end in a card's edge).
    pub fn find(
        outline: Option<&[(f32, f32); 4]>,
        tiles: &LaplacianStats,
        border: (&dyn Fn() -> ForeignRuns, &FrameBorderThresholds),
        settings: &DocumentThresholds,
    ) -> Self {
        let (width, height) = (tiles.width, tiles.height);
        let mut variances = tiles.variances.clone();
        variances.sort_by(f64::total_cmp);
        let rank =
            |q: f64| variances.get(((variances.len().max(1) - 1) as f64 * q).round() as usize).copied();
        let background = rank(settings.background_percentile).unwrap_or(0.0);
        // A document lies on a plain surface: the blankest tiles are alike. In a scene (sand,
        // grass, a street) they are not, and the print box would be some busy object in it.
        let plain_surroundings = rank(settings.background_percentile + 0.2).unwrap_or(0.0)
            <= settings.max_background_spread * background + settings.min_surface_variance;
        let floor = background.max(settings.min_surface_variance);
        let threshold = (settings.print_tile_over_background * floor)
            .max(settings.print_tile_share * rank(0.99).unwrap_or(0.0));
        let print_tiles = print_tiles(tiles, threshold);
        let content = settings.content_tile_over_background * floor;
        let frame = [(0.0, 0.0), (width as f32, 0.0), (width as f32, height as f32), (0.0, height as f32)];
        let (measured_on, corners, cut_off, scene) = match outline {
            Some(quad) => {
                (MeasuredOn::DocumentOutline, *quad, outline_cut_off(quad, width, height, settings), false)
            }
            None if !plain_surroundings => (MeasuredOn::Frame, frame, Vec::new(), true),
            None => match print_box(&print_tiles, tiles, content, settings) {
                PrintBox::Found(corners, cut_off) => (MeasuredOn::PrintArea, corners, cut_off, false),
                PrintBox::Scene => (MeasuredOn::Frame, frame, Vec::new(), true),
                PrintBox::None => (MeasuredOn::Frame, frame, Vec::new(), false),
            },
        };
        let mut area = DocumentArea {
            measured_on,
            corners,
            cut_off,
            border_run: 0.0,
            pixels: 0,
            scene,
            spans: Vec::new(),
            print_tiles,
            tiles_x: tiles.tiles_x,
            width,
            height,
        };
        area.spans = (0..height).map(|y| area.span_at(y)).collect();
        area.pixels = area.spans.iter().flatten().map(|(x0, x1)| u64::from(x1 - x0)).sum();
        if area.pixels == 0 {
            // A degenerate outline: measure on the frame rather than on nothing.
            area.measured_on = MeasuredOn::Frame;
            area.corners = frame;
            area.spans = vec![Some((0, width)); height as usize];
            area.pixels = u64::from(width) * u64::from(height);
        }
        // Around a print box the document may fill the frame (a tight crop, the portrait too plain
        // to count as print), its tint changing across it so that one border differs from the
        // others; a card cut off by the frame meets it in an edge, a colour step where the run ends.
        if area.measured_on != MeasuredOn::Frame {
            let needs_edge = area.measured_on == MeasuredOn::PrintArea;
            area.add_cut_off_at_border(&border.0(), border.1, settings.min_opposite_margin, needs_edge);
        }
        area
    }

    /// Adds the sides the area comes near while foreign colours run along the border there and at
    /// least `min_opposite_margin` of the frame is clear on the opposite side (a document filling
    /// the frame, as in a tight scan, is not cut off); with `needs_edge`, only where the run ends in
    /// a card's edge.
    fn add_cut_off_at_border(
        &mut self,
        runs: &ForeignRuns,
        settings: &FrameBorderThresholds,
        min_opposite_margin: f64,
        needs_edge: bool,
    ) {
        let (x0, y0, x1, y1) = self.bounds();
        let (width, height) = (f64::from(self.width), f64::from(self.height));
        let gaps = [
            (FrameSide::Left, f64::from(x0) / width),
            (FrameSide::Top, f64::from(y0) / height),
            (FrameSide::Right, (width - f64::from(x1)) / width),
            (FrameSide::Bottom, (height - f64::from(y1)) / height),
        ];
        for (index, (side, gap)) in gaps.into_iter().enumerate() {
            let run = runs.along(side);
            let opposite_gap = gaps[(index + 2) % 4].1;
            if needs_edge && runs.edge_step(side) < settings.min_edge_step {
                continue;
            }
            if gap <= settings.max_area_gap
                && opposite_gap >= min_opposite_margin
                && run >= settings.min_foreign_run
            {
                self.border_run = self.border_run.max(run);
                if !self.cut_off.contains(&side) {
                    self.cut_off.push(side);
                }
            }
        }
        self.cut_off.sort();
    }

    /// The pixels of row `y` inside the area, as `x0..x1`.
    pub fn row_span(&self, y: u32) -> Option<(u32, u32)> {
        self.spans.get(y as usize).copied().flatten()
    }

    /// Where row `y` crosses the corners' quadrilateral.
    fn span_at(&self, y: u32) -> Option<(u32, u32)> {
        let centre = y as f32 + 0.5;
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        for index in 0..4 {
            let (a, b) = (self.corners[index], self.corners[(index + 1) % 4]);
            if (a.1 <= centre && centre <= b.1) || (b.1 <= centre && centre <= a.1) {
                let x = if (b.1 - a.1).abs() < f32::EPSILON {
                    low = low.min(a.0.min(b.0));
                    a.0.max(b.0)
                } else {
                    a.0 + (centre - a.1) / (b.1 - a.1) * (b.0 - a.0)
                };
                low = low.min(x);
                high = high.max(x);
            }
        }
        let x0 = low.max(0.0).round() as u32;
        let x1 = (high.min(self.width as f32).round() as u32).min(self.width);
        (low.is_finite() && x1 > x0).then_some((x0, x1))
    }

    /// Measured on the whole frame of a scene: no document was found in it, and what the measures
    /// see may be the scene's rather than a document's.
    pub fn is_scene(&self) -> bool {
        self.scene
    }

    /// Whether the pixel box `x0..x1` × `y0..y1` lies wholly inside (the area is convex, so its top
    /// and bottom rows decide).
    pub fn contains_box(&self, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> bool {
        [y0, y1.saturating_sub(1)]
            .into_iter()
            .all(|y| self.row_span(y).is_some_and(|(left, right)| left <= x0 && x1 <= right))
    }

    /// Whether the point lies inside.
    pub fn contains_point(&self, x: u32, y: u32) -> bool {
        self.row_span(y).is_some_and(|(left, right)| (left..right).contains(&x))
    }

    /// Whether the tile of pixel (`x`, `y`) or one next to it holds print.
    pub fn print_near(&self, x: u32, y: u32) -> bool {
        let tiles_y = self.print_tiles.len() as u32 / self.tiles_x.max(1);
        if tiles_y == 0 {
            return false;
        }
        let i = (x.saturating_sub(1) / FOCUS_TILE).min(self.tiles_x - 1);
        let j = (y.saturating_sub(1) / FOCUS_TILE).min(tiles_y - 1);
        (j.saturating_sub(1)..(j + 2).min(tiles_y)).any(|nj| {
            (i.saturating_sub(1)..(i + 2).min(self.tiles_x))
                .any(|ni| self.print_tiles[(nj * self.tiles_x + ni) as usize])
        })
    }

    /// The longest side of the area, in working-plane pixels.
    pub fn long_side(&self) -> f64 {
        (0..4)
            .map(|index| {
                let (a, b) = (self.corners[index], self.corners[(index + 1) % 4]);
                f64::from(a.0 - b.0).hypot(f64::from(a.1 - b.1))
            })
            .fold(0.0, f64::max)
    }

    /// The area's bounding box, clipped to the plane: x0, y0, x1, y1.
    pub fn bounds(&self) -> (u32, u32, u32, u32) {
        let clip = |v: f32, limit: u32| (v.max(0.0).round() as u32).min(limit);
        let xs = self.corners.map(|c| c.0);
        let ys = self.corners.map(|c| c.1);
        let fold_min = |v: [f32; 4]| v.into_iter().fold(f32::INFINITY, f32::min);
        let fold_max = |v: [f32; 4]| v.into_iter().fold(f32::NEG_INFINITY, f32::max);
        (
            clip(fold_min(xs), self.width),
            clip(fold_min(ys), self.height),
            clip(fold_max(xs), self.width),
            clip(fold_max(ys), self.height),
        )
    }
}

/// Tiles whose Laplacian variance reaches `threshold` and that have such a neighbour (a lone busy
/// tile is dust or a background detail, not the document's print).
fn print_tiles(tiles: &LaplacianStats, threshold: f64) -> Vec<bool> {
    let (tx, ty) = (tiles.tiles_x, tiles.tiles_y);
    let busy = |i: u32, j: u32| threshold > 0.0 && tiles.variances[(j * tx + i) as usize] >= threshold;
    (0..ty)
        .flat_map(|j| (0..tx).map(move |i| (i, j)))
        .map(|(i, j)| {
            busy(i, j)
                && (j.saturating_sub(1)..(j + 2).min(ty)).any(|nj| {
                    (i.saturating_sub(1)..(i + 2).min(tx)).any(|ni| (ni, nj) != (i, j) && busy(ni, nj))
                })
        })
        .collect()
}

/// Where the frame's print lies.
enum PrintBox {
    /// A document on a plain surface: its box, and the sides where it runs into the frame.
    Found(Quad, Vec<FrameSide>),
    /// More than `max_busy_outside` of the tiles around the box are busy, or print reaches three
    /// edges: a scene, not a document on a surface.
    Scene,
    /// No print, or a box that is the frame (a flat scan).
    None,
}

/// The box around the print tiles, grown over the rows and columns next to it that are mostly
/// surface tiles (at least `content` each: a card's tint and guilloche, paler than its print), then
/// widened by the margin; and the sides where that box runs into the frame while background shows on
/// the opposite side.
fn print_box(
    print_tiles: &[bool],
    tiles: &LaplacianStats,
    content: f64,
    settings: &DocumentThresholds,
) -> PrintBox {
    let (tx, ty) = (tiles.tiles_x, tiles.tiles_y);
    let (mut i0, mut j0, mut i1, mut j1) = (u32::MAX, u32::MAX, 0, 0);
    for (index, _) in print_tiles.iter().enumerate().filter(|(_, print)| **print) {
        let (i, j) = (index as u32 % tx, index as u32 / tx);
        (i0, j0, i1, j1) = (i0.min(i), j0.min(j), i1.max(i), j1.max(j));
    }
    if i0 == u32::MAX {
        return PrintBox::None;
    }
    let surface = |i: u32, j: u32| content > 0.0 && tiles.variances[(j * tx + i) as usize] >= content;
    let mostly = |cells: &mut dyn Iterator<Item = (u32, u32)>| {
        let (mut hits, mut count) = (0, 0);
        for (i, j) in cells {
            hits += u32::from(surface(i, j));
            count += 1;
        }
        count > 0 && 2 * hits >= count
    };
    loop {
        let grown = (i0, j0, i1, j1);
        if i0 > 0 && mostly(&mut (j0..=j1).map(|j| (i0 - 1, j))) {
            i0 -= 1;
        }
        if i1 + 1 < tx && mostly(&mut (j0..=j1).map(|j| (i1 + 1, j))) {
            i1 += 1;
        }
        if j0 > 0 && mostly(&mut (i0..=i1).map(|i| (i, j0 - 1))) {
            j0 -= 1;
        }
        if j1 + 1 < ty && mostly(&mut (i0..=i1).map(|i| (i, j1 + 1))) {
            j1 += 1;
        }
        if grown == (i0, j0, i1, j1) {
            break;
        }
    }
    // A document lies on plain surroundings; busy tiles all around are a scene, not a background.
    let outside = (0..ty)
        .flat_map(|j| (0..tx).map(move |i| (i, j)))
        .filter(|&(i, j)| !(i0..=i1).contains(&i) || !(j0..=j1).contains(&j));
    let (busy, count) =
        outside.fold((0u32, 0u32), |(busy, count), (i, j)| (busy + u32::from(surface(i, j)), count + 1));
    if count > 0 && f64::from(busy) > settings.max_busy_outside * f64::from(count) {
        return PrintBox::Scene;
    }
    let reaches = [i0 == 0, j0 == 0, i1 + 1 == tx, j1 + 1 == ty];
    // Print reaching three or four edges is the scene itself, not a document in it.
    if reaches.iter().filter(|reached| **reached).count() >= 3 {
        return PrintBox::Scene;
    }
    let (x0, y0, _, _) = tiles.tile_bounds(i0, j0);
    let (_, _, x1, y1) = tiles.tile_bounds(i1, j1);
    let (width, height) = (f64::from(tiles.width), f64::from(tiles.height));
    let (x0, y0, x1, y1) = (f64::from(x0), f64::from(y0), f64::from(x1), f64::from(y1));
    let (margin_x, margin_y) = (settings.print_margin * (x1 - x0), settings.print_margin * (y1 - y0));
    let (x0, y0) = ((x0 - margin_x).max(0.0), (y0 - margin_y).max(0.0));
    let (x1, y1) = ((x1 + margin_x).min(width), (y1 + margin_y).min(height));
    if x1 - x0 >= settings.frame_share * width && y1 - y0 >= settings.frame_share * height {
        return PrintBox::None;
    }
    let opposite = settings.min_opposite_margin;
    let cut_off = [
        (FrameSide::Left, reaches[0] && width - x1 >= opposite * width),
        (FrameSide::Top, reaches[1] && height - y1 >= opposite * height),
        (FrameSide::Right, reaches[2] && x0 >= opposite * width),
        (FrameSide::Bottom, reaches[3] && y0 >= opposite * height),
    ]
    .into_iter()
    .filter_map(|(side, cut)| cut.then_some(side))
    .collect();
    let (x0, y0, x1, y1) = (x0 as f32, y0 as f32, x1 as f32, y1 as f32);
    PrintBox::Found([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], cut_off)
}

/// The frame sides an outline reaches or crosses (a corner within the tolerance of an edge).
fn outline_cut_off(
    quad: &[(f32, f32); 4],
    width: u32,
    height: u32,
    settings: &DocumentThresholds,
) -> Vec<FrameSide> {
    let tolerance = (settings.edge_tolerance * f64::from(width.max(height))) as f32;
    let (width, height) = (width as f32, height as f32);
    let reaches = |side: FrameSide| {
        quad.iter().any(|&(x, y)| match side {
            FrameSide::Left => x <= tolerance,
            FrameSide::Top => y <= tolerance,
            FrameSide::Right => x >= width - tolerance,
            FrameSide::Bottom => y >= height - tolerance,
        })
    };
    [FrameSide::Left, FrameSide::Top, FrameSide::Right, FrameSide::Bottom]
        .into_iter()
        .filter(|&side| reaches(side))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::quality::measures::laplacian_stats;
    use image::{GrayImage, Luma};

    fn settings() -> DocumentThresholds {
        DocumentThresholds {
            print_tile_share: 0.1,
            print_tile_over_background: 6.0,
            background_percentile: 0.1,
            min_surface_variance: 20.0,
            max_background_spread: 1.5,
            content_tile_over_background: 3.0,
            max_busy_outside: 0.2,
            print_margin: 0.05,
            frame_share: 0.9,
            edge_tolerance: 0.005,
            min_opposite_margin: 0.1,
            cut_off_hint: String::new(),
        }
    }

    /// A border showing nothing but the surface.
    fn no_border() -> (&'static dyn Fn() -> ForeignRuns, &'static FrameBorderThresholds) {
        fn surface_only() -> ForeignRuns {
            ForeignRuns::default()
        }
        static SETTINGS: std::sync::LazyLock<FrameBorderThresholds> =
            std::sync::LazyLock::new(crate::analysis::quality::border::tests::settings);
        (&surface_only, &SETTINGS)
    }

    /// A plain plane with "print" (a checkerboard) in the given box.
    fn plane_with_print(x0: u32, y0: u32, x1: u32, y1: u32) -> GrayImage {
        GrayImage::from_fn(640, 480, |x, y| {
            let print = (x0..x1).contains(&x) && (y0..y1).contains(&y) && (x / 3 + y / 3) % 2 == 0;
            Luma([if print { 30 } else { 200 }])
        })
    }

    #[test]
    fn an_outline_inside_the_frame_is_measured_on_and_not_cut_off() {
        let tiles = laplacian_stats(&plane_with_print(100, 100, 500, 350));
        let quad = [(90.0, 90.0), (510.0, 95.0), (505.0, 360.0), (95.0, 355.0)];
        let area = DocumentArea::find(Some(&quad), &tiles, no_border(), &settings());
        assert_eq!((area.measured_on, area.cut_off.clone()), (MeasuredOn::DocumentOutline, vec![]));
        assert!(area.contains_point(300, 200) && !area.contains_point(20, 20));
        assert!((area.pixels as f64 - 415.0 * 265.0).abs() < 415.0 * 265.0 * 0.03, "{}", area.pixels);
    }

    #[test]
    fn an_outline_past_an_edge_is_cut_off_there() {
        let tiles = laplacian_stats(&plane_with_print(0, 100, 400, 350));
        let quad = [(-40.0, 90.0), (410.0, 95.0), (405.0, 360.0), (-45.0, 355.0)];
        let area = DocumentArea::find(Some(&quad), &tiles, no_border(), &settings());
        assert_eq!(area.cut_off, vec![FrameSide::Left]);
    }

    #[test]
    fn an_outline_stopping_short_of_an_edge_the_border_shows_the_card_at_is_cut_off_there() {
        let tiles = laplacian_stats(&plane_with_print(0, 100, 400, 350));
        let quad = [(6.0, 90.0), (410.0, 95.0), (405.0, 360.0), (7.0, 355.0)];
        assert_eq!(DocumentArea::find(Some(&quad), &tiles, no_border(), &settings()).cut_off, vec![]);
        let (_, border) = no_border();
        let left = || runs([0.5, 0.0, 0.0, 0.0], [0.0; 4]);
        let area = DocumentArea::find(Some(&quad), &tiles, (&left, border), &settings());
        assert_eq!((area.cut_off, area.border_run), (vec![FrameSide::Left], 0.5));
        // The same run on the far side, which the outline does not come near, is something else.
        let right = || runs([0.0, 0.0, 0.5, 0.0], [0.0; 4]);
        assert_eq!(DocumentArea::find(Some(&quad), &tiles, (&right, border), &settings()).cut_off, vec![]);
    }

    /// A border reading: foreign runs and the surface's disagreement, per side.
    fn runs(runs: [f64; 4], edge_step: [f64; 4]) -> ForeignRuns {
        ForeignRuns { runs, edge_step }
    }

    #[test]
    fn around_a_print_box_the_border_counts_where_the_card_meets_it_in_an_edge() {
        // Print stopping 80 px short of the right edge, the card's colours along it, ending in a
        // step: the card's edges against the surface.
        let tiles = laplacian_stats(&plane_with_print(250, 120, 560, 360));
        let (_, border) = no_border();
        let on_a_table = || runs([0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 60.0, 0.0]);
        let area = DocumentArea::find(None, &tiles, (&on_a_table, border), &settings());
        assert_eq!((area.measured_on, area.cut_off), (MeasuredOn::PrintArea, vec![FrameSide::Right]));
        // The run fading out: a document filling the frame, its tint changing across it.
        let filling_the_frame = || runs([0.0, 0.0, 0.5, 0.0], [0.0, 0.0, 5.0, 0.0]);
        let area = DocumentArea::find(None, &tiles, (&filling_the_frame, border), &settings());
        assert_eq!((area.measured_on, area.cut_off), (MeasuredOn::PrintArea, vec![]));
    }

    #[test]
    fn without_an_outline_print_running_into_one_edge_is_cut_off_and_centred_print_is_not() {
        let centred = DocumentArea::find(
            None,
            &laplacian_stats(&plane_with_print(150, 120, 500, 360)),
            no_border(),
            &settings(),
        );
        assert_eq!((centred.measured_on, centred.cut_off.clone()), (MeasuredOn::PrintArea, vec![]));
        assert!(!centred.contains_point(30, 30) && centred.contains_point(300, 200));
        let cut = DocumentArea::find(
            None,
            &laplacian_stats(&plane_with_print(250, 120, 640, 360)),
            no_border(),
            &settings(),
        );
        assert_eq!(cut.cut_off, vec![FrameSide::Right]);
        // Print over the whole frame: the frame is the document, and nothing is cut off.
        let full = DocumentArea::find(
            None,
            &laplacian_stats(&plane_with_print(0, 0, 640, 480)),
            no_border(),
            &settings(),
        );
        assert_eq!((full.measured_on, full.cut_off), (MeasuredOn::Frame, vec![]));
    }
}
