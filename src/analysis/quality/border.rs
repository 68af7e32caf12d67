//! Where something other than the surface runs into the frame's border. A card cut off by the frame
//! leaves its own colours along that edge of the photo, where a whole card leaves the table's or
//! paper's. The locator's outline of a cut card can stop a few pixels short of the edge (the frame
//! cuts the card's shape, so the outline is taken from a part of it), so the border is read directly
//! (the document area decides when: around a print box, only where the foreign run ends in a
//! colour step, the card's edge meeting the frame's).
//!
//! Hand-written: it is a colour-occupancy test over four thin strips, which no image crate offers.

use image::RgbImage;
use serde::Deserialize;

/// A side of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FrameSide {
    /// The left edge.
    Left,
    /// The top edge.
    Top,
    /// The right edge.
    Right,
    /// The bottom edge.
    Bottom,
}

impl FrameSide {
    /// The name used in evidence and hints.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameSide::Left => "left",
            FrameSide::Top => "top",
            FrameSide::Right => "right",
            FrameSide::Bottom => "bottom",
        }
    }
}

/// See `models/quality.toml`, `[frame_border]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameBorderThresholds {
    /// Depth of the strip read along each edge, working-plane pixels (the outermost row is skipped:
    /// resampling and JPEG blocks smear it).
    pub strip_depth_px: u32,
    /// Colour quantisation step, luma levels per bin on each channel.
    pub colour_step: u8,
    /// A strip pixel is the surface's when a surface colour lies within this many bins on every
    /// channel (noise, shading, a table's grain).
    pub colour_tolerance_bins: u8,
    /// Each side is read in this many equal segments.
    pub segments: u32,
    /// A segment is foreign when at least this share of its pixels has no surface colour near it.
    pub foreign_pixel_share: f64,
    /// The document runs into a side when foreign segments in a row cover at least this share of it.
    pub min_foreign_run: f64,
    /// ... and the document's area comes within this share of the frame's width or height of it.
    pub max_area_gap: f64,
    /// Around a print box (no outline), the run must end inside the side in a colour step of at
    /// least this many levels (on one channel, over a few pixels): the card's edge.
    pub min_edge_step: f64,
}

/// Per frame side (left, top, right, bottom), what its border strip shows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ForeignRuns {
    /// The longest run of foreign segments, as a share of the side.
    pub runs: [f64; 4],
    /// The colour step where the longest run ends inside the side (a card's edge meeting the
    /// frame's), the weaker of its two ends; 0 when the run reaches both corners.
    pub edge_step: [f64; 4],
}

impl ForeignRuns {
    /// The run along `side`.
    pub fn along(&self, side: FrameSide) -> f64 {
        self.runs[side as usize]
    }

    /// The colour step at the ends of the run along `side`.
    pub fn edge_step(&self, side: FrameSide) -> f64 {
        self.edge_step[side as usize]
    }
}

/// The sides in the order of their discriminants.
const SIDES: [FrameSide; 4] = [FrameSide::Left, FrameSide::Top, FrameSide::Right, FrameSide::Bottom];

/// Reads the four border strips of the working plane. The surface's colours for one side are those
/// of the other three strips, less the half of the two adjacent strips nearest the side tested (a
/// card cut off at a corner colours both of its edges there).
pub fn foreign_runs(rgb: &RgbImage, settings: &FrameBorderThresholds) -> ForeignRuns {
    let (width, height) = rgb.dimensions();
    let depth = settings.strip_depth_px.max(1);
    let segments = settings.segments.max(1);
    if width < 2 * (depth + 1) || height < 2 * (depth + 1) || width < segments || height < segments {
        return ForeignRuns::default();
    }
    let strips = SIDES.map(|side| strip(rgb, side, depth));
    let bins = usize::from(u8::MAX / settings.colour_step.max(1)) + 1;
    let mut reading = ForeignRuns::default();
    for (tested, tested_strip) in strips.iter().enumerate() {
        let mut palette = Palette::new(bins, settings);
        for (other, pixels) in strips.iter().enumerate().filter(|(other, _)| *other != tested) {
            let adjacent = other % 2 != tested % 2;
            let far_half = if !adjacent {
                &pixels[..]
            } else if tested < 2 {
                // Left or top: the adjacent strips' far half is their second half.
                &pixels[pixels.len() / 2..]
            } else {
                &pixels[..pixels.len() / 2]
            };
            far_half.iter().flatten().for_each(|&colour| palette.add(colour));
        }
        palette.close();
        let foreign: Vec<bool> = tested_strip
            .iter()
            .map(|across| {
                let strange = across.iter().filter(|&&colour| !palette.holds(colour)).count();
                strange as f64 >= settings.foreign_pixel_share * across.len() as f64
            })
            .collect();
        let run = longest_run(&foreign, segments, settings.foreign_pixel_share);
        reading.runs[tested] = run.share;
        reading.edge_step[tested] = edge_step(tested_strip, &run, segments);
    }
    reading
}

/// The strip along `side`: for each position along it (top to bottom, left to right), the pixels
/// across its depth.
fn strip(rgb: &RgbImage, side: FrameSide, depth: u32) -> Vec<Vec<[u8; 3]>> {
    let (width, height) = rgb.dimensions();
    let at = |x: u32, y: u32| rgb.get_pixel(x, y).0;
    let across = 1..=depth;
    match side {
        FrameSide::Left => (0..height).map(|y| across.clone().map(|x| at(x, y)).collect()).collect(),
        FrameSide::Right => {
            (0..height).map(|y| across.clone().map(|d| at(width - 1 - d, y)).collect()).collect()
        }
        FrameSide::Top => (0..width).map(|x| across.clone().map(|y| at(x, y)).collect()).collect(),
        FrameSide::Bottom => {
            (0..width).map(|x| across.clone().map(|d| at(x, height - 1 - d)).collect()).collect()
        }
    }
}

/// The longest run of foreign segments along a side.
struct Run {
    /// Its length as a share of the side.
    share: f64,
    /// Its first segment and the one after its last.
    segments: (usize, usize),
}

/// The longest run of foreign segments: a segment is foreign when at least `share` of its
/// positions are.
fn longest_run(foreign: &[bool], segments: u32, share: f64) -> Run {
    let n = foreign.len();
    let segments = segments as usize;
    let (mut run, mut best) = (0usize, (0usize, 0usize));
    for index in 0..segments {
        let part = &foreign[index * n / segments..(index + 1) * n / segments];
        let hits = part.iter().filter(|&&f| f).count();
        run = if !part.is_empty() && hits as f64 >= share * part.len() as f64 { run + 1 } else { 0 };
        if run > best.1 - best.0 {
            best = (index + 1 - run, index + 1);
        }
    }
    Run { share: (best.1 - best.0) as f64 / segments as f64, segments: best }
}

/// Positions apart over which a colour step is read.
const STEP_SPAN: usize = 3;

/// The weaker colour step at the run's ends inside the strip: near each end, the largest change
/// (greatest on any channel) between positions `STEP_SPAN` apart, the strip's depth averaged. A
/// card's edge meets the frame as a step; a document's tint drifting across a frame it fills does
/// not. 0 without a run, or when it spans the side.
fn edge_step(strip: &[Vec<[u8; 3]>], run: &Run, segments: u32) -> f64 {
    let (n, segments) = (strip.len(), segments as usize);
    let (first, after) = run.segments;
    if first == after || (first == 0 && after == segments) {
        return 0.0;
    }
    let mean = |position: usize| -> [f64; 3] {
        let across = &strip[position];
        let mut sum = [0.0; 3];
        for colour in across {
            (0..3).for_each(|c| sum[c] += f64::from(colour[c]));
        }
        sum.map(|total| total / across.len().max(1) as f64)
    };
    // The edge lies in the segment on either side of the boundary between run and surface.
    let step_near = |boundary: usize| -> f64 {
        let from = (boundary.saturating_sub(1) * n / segments).min(n);
        let to = ((boundary + 1).min(segments) * n / segments).min(n);
        (from..to.saturating_sub(STEP_SPAN))
            .map(|k| {
                let (a, b) = (mean(k), mean(k + STEP_SPAN));
                (0..3).map(|c| (a[c] - b[c]).abs()).fold(0.0, f64::max)
            })
            .fold(0.0, f64::max)
    };
    [(first > 0).then(|| step_near(first)), (after < segments).then(|| step_near(after))]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min)
}

/// The surface's colours: a coarse RGB occupancy grid, widened by the tolerance.
struct Palette {
    bins: usize,
    step: u8,
    tolerance: usize,
    counts: Vec<u16>,
    /// Bins seen twice, in the order first seen so.
    seen: Vec<usize>,
    occupied: Vec<bool>,
}

impl Palette {
    fn new(bins: usize, settings: &FrameBorderThresholds) -> Self {
        Palette {
            bins,
            step: settings.colour_step.max(1),
            tolerance: usize::from(settings.colour_tolerance_bins),
            counts: vec![0; bins * bins * bins],
            seen: Vec::new(),
            occupied: vec![false; bins * bins * bins],
        }
    }

    fn bin(&self, [r, g, b]: [u8; 3]) -> [usize; 3] {
        [r, g, b].map(|c| usize::from(c / self.step))
    }

    fn index(&self, [r, g, b]: [usize; 3]) -> usize {
        (r * self.bins + g) * self.bins + b
    }

    fn add(&mut self, colour: [u8; 3]) {
        let index = self.index(self.bin(colour));
        self.counts[index] = self.counts[index].saturating_add(1);
        if self.counts[index] == 2 {
            self.seen.push(index);
        }
    }

    /// Marks every bin within the tolerance of a colour seen at least twice (a lone pixel is noise).
    fn close(&mut self) {
        let (bins, tolerance) = (self.bins, self.tolerance);
        let around = |c: usize| c.saturating_sub(tolerance)..(c + tolerance + 1).min(bins);
        for &index in &self.seen {
            let (r, g, b) = (index / (bins * bins), index / bins % bins, index % bins);
            for nr in around(r) {
                for ng in around(g) {
                    for nb in around(b) {
                        self.occupied[(nr * bins + ng) * bins + nb] = true;
                    }
                }
            }
        }
    }

    fn holds(&self, colour: [u8; 3]) -> bool {
        self.occupied[self.index(self.bin(colour))]
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use image::Rgb;

    /// The shipped settings as literals, so that a tuned model does not move these tests.
    pub(in crate::analysis::quality) fn settings() -> FrameBorderThresholds {
        FrameBorderThresholds {
            strip_depth_px: 4,
            colour_step: 8,
            colour_tolerance_bins: 2,
            segments: 16,
            foreign_pixel_share: 0.5,
            min_foreign_run: 0.25,
            max_area_gap: 0.1,
            min_edge_step: 20.0,
        }
    }

    /// Wood-like vertical stripes with a pale card at `x0..x1`, `y0..y1`.
    fn striped_table_with_card(x0: u32, y0: u32, x1: u32, y1: u32) -> RgbImage {
        RgbImage::from_fn(400, 300, |x, y| {
            if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                Rgb([235, 215, 225])
            } else if (x / 12) % 2 == 0 {
                Rgb([120, 80, 40])
            } else {
                Rgb([160, 110, 60])
            }
        })
    }

    #[test]
    fn a_card_inside_the_frame_leaves_the_border_to_the_table() {
        let runs = foreign_runs(&striped_table_with_card(60, 50, 340, 250), &settings());
        assert_eq!(runs.runs, [0.0; 4]);
    }

    #[test]
    fn a_card_cut_off_on_the_right_colours_the_right_border_only() {
        let runs = foreign_runs(&striped_table_with_card(150, 60, 400, 240), &settings());
        assert!(runs.along(FrameSide::Right) >= 0.5, "{runs:?}");
        for side in [FrameSide::Left, FrameSide::Top, FrameSide::Bottom] {
            assert_eq!(runs.along(side), 0.0, "{side:?} {runs:?}");
        }
    }

    #[test]
    fn a_cut_card_meets_the_border_in_a_step_and_a_drifting_tint_does_not() {
        let cut = foreign_runs(&striped_table_with_card(150, 60, 400, 240), &settings());
        assert!(cut.edge_step(FrameSide::Right) >= 40.0, "{cut:?}");
        // A document filling the frame, its tint drifting towards the bottom right: the bottom's
        // right part differs from the other sides, but fades into them.
        let tint = RgbImage::from_fn(400, 300, |x, y| Rgb([200, 150 + (x * y / 1200) as u8, 215]));
        let drift = foreign_runs(&tint, &settings());
        assert!(drift.along(FrameSide::Bottom) >= 0.25, "{drift:?}");
        assert!(drift.edge_step(FrameSide::Bottom) < 10.0, "{drift:?}");
    }

    #[test]
    fn a_frame_too_small_to_read_has_no_runs() {
        assert_eq!(foreign_runs(&RgbImage::new(8, 8), &settings()), ForeignRuns::default());
    }
}
