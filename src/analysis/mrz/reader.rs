//! Finding a zone's lines on the rectified bottom of a document and reading them glyph by glyph.
//!
//! Hand-written: the zone is a fixed grid of one typeface (two or three lines of 30, 36 or 44 cells
//! at one pitch), so projection profiles find it and template matching reads it; a general OCR
//! engine (tesseract) would be a C dependency and a trained-data download for 37 characters.

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, rotate_about_center};
use imageproc::region_labelling::{Connectivity, connected_components};

use super::MrzThresholds;
use super::glyphs::{GlyphMatch, Glyphs};
use super::text::{MrzFormat, MrzText};

/// Most groups of lines read as a zone on one region (each format tried counts).
const MAX_READ_ATTEMPTS: usize = 4;

/// A line of text found on the region: rows `top..bottom`, ink from `left` to `right`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TextLine {
    top: u32,
    bottom: u32,
    left: u32,
    right: u32,
}

impl TextLine {
    fn height(&self) -> f32 {
        (self.bottom - self.top) as f32
    }
}

/// A zone read from the region.
#[derive(Debug, Clone)]
pub(super) struct ZoneRead {
    /// The text, in the format its shape fits.
    pub text: MrzText,
    /// Each character's match, line after line.
    pub matches: Vec<GlyphMatch>,
    /// Mean score of the matches.
    pub zone_score: f32,
    /// The zone's box, left, top, right, bottom, on the region as levelled ...
    pub bounds: (f32, f32, f32, f32),
    /// ... and the projection from the levelled region back to the region.
    pub to_region: Projection,
}

/// Reads the lowest zone-shaped group of lines on `region` in the formats its shape allows, best
/// pitch first: the first reading that scores as a zone, else the best-scoring one, or `None` when
/// no group of lines has a zone's shape. The region is first turned level when its print is still
/// skewed.
pub(super) fn read_zone(region: &GrayImage, glyphs: &Glyphs, thresholds: &MrzThresholds) -> Option<ZoneRead> {
    let (width, height) = (region.width() as usize, region.height() as usize);
    let mut ink = glyph_mask(&ink_mask(region), width, height);
    let skew = skew_radians(&ink, width, height);
    let levelled;
    let (region, to_region) = if skew.abs() >= 0.2f32.to_radians() {
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let turn =
            Projection::translate(cx, cy) * Projection::rotate(-skew) * Projection::translate(-cx, -cy);
        levelled = rotate_about_center(region, -skew, Interpolation::Bilinear, Border::Replicate);
        ink = glyph_mask(&ink_mask(&levelled), width, height);
        (&levelled, turn.invert())
    } else {
        (region, Projection::scale(1.0, 1.0))
    };
    let lines = text_lines(&ink, width, height, thresholds);
    // Lowest first: a zone is the last print of a card or page. A page of evenly set text has many
    // zone-shaped groups: only the lowest few are read, so no upload costs more than a few zones.
    let mut attempts = 0;
    for end in (0..lines.len()).rev() {
        // The formats this group's line count and shape allow, the one whose pitch fits the line
        // best read first: the first reading that scores as a zone is kept, so a TD1 zone's last
        // two lines are not also read as TD2.
        let mut formats: Vec<(MrzFormat, f32)> = MrzFormat::ALL
            .into_iter()
            .filter_map(|format| {
                let count = format.shape().0;
                let group = lines.get((end + 1).checked_sub(count)?..=end)?;
                zone_shaped(group)
                    .then(|| (format, pitch_over_expected(&lines[end], format, glyphs).ln().abs()))
            })
            .collect();
        formats.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut best: Option<ZoneRead> = None;
        for (format, _) in formats {
            attempts += 1;
            if attempts > MAX_READ_ATTEMPTS {
                return best;
            }
            let group = &lines[end + 1 - format.shape().0..=end];
            if let Some(read) = read_lines(region, group, format, glyphs, to_region)
                && best.as_ref().is_none_or(|b| read.zone_score > b.zone_score)
            {
                let confident = read.zone_score >= thresholds.min_zone_score;
                best = Some(read);
                if confident {
                    break;
                }
            }
        }
        if best.is_some() {
            return best;
        }
    }
    None
}

/// A line's character pitch if it holds `format`'s count of characters.
fn pitch(line: &TextLine, format: MrzFormat, glyphs: &Glyphs) -> f32 {
    let count = format.shape().1 as f32;
    (line.right - line.left) as f32 / (count - 1.0 + glyphs.file.ink_per_advance)
}

/// That pitch over the pitch OCR-B has at the line's height: about 1 for the format it holds.
fn pitch_over_expected(line: &TextLine, format: MrzFormat, glyphs: &Glyphs) -> f32 {
    pitch(line, format, glyphs) / (glyphs.file.advance_per_cap_height * line.height())
}

/// Where zone-shaped groups of lines lie on a whole document rectified small, as shares of its
/// height: `bottom` is the highest top edge of a group near the bottom edge (the document upright),
/// `top` the lowest bottom edge of one near the top edge (turned 180°); `None` on a side without
/// one; and the print's skew, which widens each group by the rise across half the document. A
/// cheap look that spares the full-resolution read on documents without a zone, and most of the
/// rows of documents with one.
pub(super) fn zone_rows(document: &GrayImage, thresholds: &MrzThresholds) -> ZoneRows {
    let (width, height) = (document.width() as usize, document.height() as usize);
    let ink = glyph_mask(&ink_mask(document), width, height);
    let skew = skew_radians(&ink, width, height);
    let ink = sheared_level(&ink, width, height, skew);
    let lines = text_lines(&ink, width, height, thresholds);
    let rise = width as f32 / 2.0 * skew.tan().abs();
    let mut rows = ZoneRows { skew, ..ZoneRows::default() };
    for count in [2, 3] {
        for group in lines.windows(count).filter(|group| zone_shaped(group)) {
            let (top, bottom) = (group[0].top as f32, group[count - 1].bottom as f32);
            let centre = (top + bottom) / 2.0 / height as f32;
            if centre >= thresholds.search_from {
                let share = (top - rise) / height as f32;
                rows.bottom = Some(rows.bottom.map_or(share, |b: f32| b.min(share)));
            }
            if centre <= 1.0 - thresholds.search_from {
                let share = (bottom + rise) / height as f32;
                rows.top = Some(rows.top.map_or(share, |t: f32| t.max(share)));
            }
        }
    }
    rows
}

/// What [`zone_rows`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ZoneRows {
    /// Upright: the zone starts this share of the height down.
    pub bottom: Option<f32>,
    /// Turned: the zone ends this share of the height down.
    pub top: Option<f32>,
    /// The print's skew, radians (positive: lines fall to the right); the same either way up.
    pub skew: f32,
}

/// The mask with each column shifted so that print skewed by `skew` runs level: enough to find
/// lines, without resampling the image.
fn sheared_level(ink: &[bool], width: usize, height: usize, skew: f32) -> Vec<bool> {
    let slope = skew.tan();
    let mut level = vec![false; ink.len()];
    for y in 0..height {
        for x in (0..width).filter(|&x| ink[y * width + x]) {
            let shifted = (y as f32 - (x as f32 - width as f32 / 2.0) * slope).round();
            if shifted >= 0.0 && (shifted as usize) < height {
                level[shifted as usize * width + x] = true;
            }
        }
    }
    level
}

/// The skew of the print on the region, radians (positive: lines fall to the right), within ±8°:
/// the angle whose row profile of ink is sharpest.
fn skew_radians(ink: &[bool], width: usize, height: usize) -> f32 {
    let points: Vec<(f32, f32)> = (0..height)
        .flat_map(|y| (0..width).step_by(2).map(move |x| (x, y)))
        .filter(|&(x, y)| ink[y * width + x])
        .map(|(x, y)| (x as f32 - width as f32 / 2.0, y as f32))
        .collect();
    if points.len() < 64 {
        return 0.0;
    }
    let pad = width as f32 * 0.15;
    let bins = height + 2 * pad as usize + 1;
    let mut histogram = vec![0u32; bins];
    let mut sharpness = |degrees: f32| {
        let slope = degrees.to_radians().tan();
        histogram.iter_mut().for_each(|h| *h = 0);
        for &(x, y) in &points {
            let bin = (y - x * slope + pad).round();
            if bin >= 0.0 && (bin as usize) < bins {
                histogram[bin as usize] += 1;
            }
        }
        histogram.iter().map(|&h| f64::from(h) * f64::from(h)).sum::<f64>()
    };
    // Whole degrees, then quarters about the best.
    let sharpest = |candidates: &mut dyn Iterator<Item = f32>, sharpness: &mut dyn FnMut(f32) -> f64| {
        candidates
            .map(|d| (d, sharpness(d)))
            .fold((0.0, f64::MIN), |best, next| if next.1 > best.1 { next } else { best })
            .0
    };
    let coarse = sharpest(&mut (-8..=8).map(|d| d as f32), &mut sharpness);
    sharpest(&mut (-4..=4).map(|q| coarse + q as f32 * 0.25), &mut sharpness).to_radians()
}

/// Dark-on-light ink: darker than the local mean by a margin (a window about a character tall).
fn ink_mask(region: &GrayImage) -> Vec<bool> {
    let (width, height) = (region.width() as usize, region.height() as usize);
    let mut integral = vec![0u64; (width + 1) * (height + 1)];
    for y in 0..height {
        let mut row = 0u64;
        for x in 0..width {
            row += u64::from(region.as_raw()[y * width + x]);
            integral[(y + 1) * (width + 1) + x + 1] = integral[y * (width + 1) + x + 1] + row;
        }
    }
    let radius = (width / 60).max(4);
    let mut ink = vec![false; width * height];
    for y in 0..height {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(height));
        for x in 0..width {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(width));
            let sum = integral[y1 * (width + 1) + x1] + integral[y0 * (width + 1) + x0]
                - integral[y0 * (width + 1) + x1]
                - integral[y1 * (width + 1) + x0];
            let mean = sum as f32 / ((x1 - x0) * (y1 - y0)) as f32;
            let value = f32::from(region.as_raw()[y * width + x]);
            ink[y * width + x] = mean - value > (0.12 * mean).max(12.0);
        }
    }
    ink
}

/// The ink of glyph-sized connected components only: a striped cloth, a wood grain, a card's
/// edge against a dark desk or a guilloche line would otherwise cross every row like text.
fn glyph_mask(ink: &[bool], width: usize, height: usize) -> Vec<bool> {
    let mask = GrayImage::from_fn(width as u32, height as u32, |x, y| {
        Luma([if ink[y as usize * width + x as usize] { 255 } else { 0 }])
    });
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    let mut boxes: Vec<(u32, u32, u32, u32)> = Vec::new();
    for (x, y, label) in labels.enumerate_pixels() {
        let label = label.0[0] as usize;
        if label == 0 {
            continue;
        }
        if boxes.len() < label {
            boxes.resize(label, (u32::MAX, u32::MAX, 0, 0));
        }
        let b = &mut boxes[label - 1];
        *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    let tallest = (height as u32 / 3).max(8);
    let glyph_sized: Vec<bool> = boxes
        .iter()
        .map(|&(x0, y0, x1, y1)| {
            let (w, h) = (x1 + 1 - x0, y1 + 1 - y0);
            (5..=tallest).contains(&h) && w <= h * 3 / 2 + 4 && h <= 6 * w
        })
        .collect();
    labels.as_raw().iter().map(|&label| label != 0 && glyph_sized[label as usize - 1]).collect()
}

/// The lines of text in an ink mask: runs of rows crossed by many strokes, each with the span of
/// its widest cluster of inked columns.
fn text_lines(ink: &[bool], width: usize, height: usize, thresholds: &MrzThresholds) -> Vec<TextLine> {
    let starts: Vec<u32> = (0..height)
        .map(|y| {
            let row = &ink[y * width..(y + 1) * width];
            row.windows(2).filter(|pair| pair[1] && !pair[0]).count() as u32
        })
        .collect();
    let texty = |y: usize| starts[y] >= thresholds.min_row_strokes;
    let mut lines = Vec::new();
    let mut y = 0;
    while y < height {
        if !texty(y) {
            y += 1;
            continue;
        }
        let mut end = y + 1;
        while end < height && (texty(end) || (end + 2 < height && (texty(end + 1) || texty(end + 2)))) {
            end += 1;
        }
        let peak = starts[y..end].iter().copied().max().unwrap_or(0);
        let faint = (peak / 4).max(2);
        let (mut top, mut bottom) = (y, end);
        while top > 0 && starts[top - 1] >= faint {
            top -= 1;
        }
        while bottom < height && starts[bottom] >= faint {
            bottom += 1;
        }
        y = bottom.max(end);
        if bottom - top < 6 {
            continue;
        }
        if let Some((left, right)) = ink_span(ink, width, top, bottom)
            && (right - left) as usize >= width * 2 / 5
        {
            lines.push(TextLine { top: top as u32, bottom: bottom as u32, left, right });
        }
    }
    lines
}

/// The widest cluster of inked columns in rows `top..bottom`: columns apart by less than the
/// band's height belong to one cluster (an MRZ has no word gaps: fillers print `<`).
fn ink_span(ink: &[bool], width: usize, top: usize, bottom: usize) -> Option<(u32, u32)> {
    let inked: Vec<usize> =
        (0..width).filter(|&x| (top..bottom).filter(|&y| ink[y * width + x]).count() >= 2).collect();
    let gap = bottom - top;
    let mut best: Option<(usize, usize)> = None;
    let mut start = *inked.first()?;
    for pair in inked.windows(2).chain(std::iter::once(&[inked[inked.len() - 1], usize::MAX][..])) {
        if pair[1] == usize::MAX || pair[1] - pair[0] > gap {
            if best.is_none_or(|(l, r)| pair[0] - start > r - l) {
                best = Some((start, pair[0]));
            }
            if pair[1] != usize::MAX {
                start = pair[1];
            }
        }
    }
    best.map(|(l, r)| (l as u32, r as u32 + 1))
}

/// Whether consecutive lines have a zone's shape: equal heights, aligned ends, regular spacing.
fn zone_shaped(lines: &[TextLine]) -> bool {
    let heights: Vec<f32> = lines.iter().map(TextLine::height).collect();
    let (low, high) = heights.iter().fold((f32::MAX, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
    if high > low * 1.5 {
        return false;
    }
    lines.windows(2).all(|pair| {
        let (a, b) = (pair[0], pair[1]);
        let spacing = (b.top - a.top) as f32;
        (a.left as f32 - b.left as f32).abs() <= high
            && (a.right as f32 - b.right as f32).abs() <= 1.5 * high
            && (1.2 * low..=3.2 * high).contains(&spacing)
    })
}

/// Reads `lines` as a zone of `format`; `None` when the line length does not fit the format's
/// character count at the typeface's pitch.
fn read_lines(
    region: &GrayImage,
    lines: &[TextLine],
    format: MrzFormat,
    glyphs: &Glyphs,
    to_region: Projection,
) -> Option<ZoneRead> {
    let (_, count) = format.shape();
    let alphabet = format.alphabet();
    let file = &glyphs.file;
    let mut text = Vec::new();
    let mut matches = Vec::new();
    for (line_index, line) in lines.iter().enumerate() {
        if !(0.7..=1.45).contains(&pitch_over_expected(line, format, glyphs)) {
            return None;
        }
        let pitch = pitch(line, format, glyphs);
        let kinds = &alphabet[line_index * count..(line_index + 1) * count];
        let centre = (line.top + line.bottom) as f32 / 2.0;
        // The band's rows with the templates' margin, `stretch` times as tall: blur widens a band
        // by a pixel or two each way, which the templates' proportions do not.
        let rows = |stretch: f32| {
            let half = line.height() * stretch * (0.5 + file.margin);
            (centre - half, centre + half)
        };
        let read = |origin: f32, step: f32, stretch: f32, reach: f32| -> Vec<(f32, GlyphMatch)> {
            (0..count)
                .map(|i| {
                    best_near(region, glyphs, origin + i as f32 * step, step, rows(stretch), kinds[i], reach)
                })
                .collect()
        };
        let mean =
            |cells: &[(f32, GlyphMatch)]| cells.iter().map(|(_, m)| m.score).sum::<f32>() / count as f32;
        // First pass: the cells tracked from one end of the line, each searched about where the
        // last confident one puts it (a line's ends may be misjudged: a mark beside it, a faint
        // filler), from either end, the better kept; then the grid fitted to its confident cells,
        // the band's height chosen on that grid, each cell searched a little.
        let first = line.left as f32 + file.ink_per_advance * pitch / 2.0;
        let last = line.right as f32 - file.ink_per_advance * pitch / 2.0;
        let track = |order: &mut dyn Iterator<Item = usize>, start: (usize, f32)| {
            let mut cells = vec![(0.0, GlyphMatch::NONE); count];
            let mut anchor = start;
            for i in order {
                let predicted = anchor.1 + (i as f32 - anchor.0 as f32) * pitch;
                cells[i] = best_near(region, glyphs, predicted, pitch, rows(1.0), kinds[i], 0.3);
                if cells[i].1.score >= 0.6 {
                    anchor = (i, cells[i].0);
                }
            }
            cells
        };
        let from_left = track(&mut (0..count), (0, first));
        let tracked = if mean(&from_left) >= 0.8 {
            from_left
        } else {
            let from_right = track(&mut (0..count).rev(), (count - 1, last));
            if mean(&from_left) >= mean(&from_right) { from_left } else { from_right }
        };
        let (origin, step) = fit_grid(&tracked, first, pitch);
        // The grid must span the line: a 44-character line read as 36 characters at the right
        // pitch covers only part of it.
        if (origin - first).abs() > 1.5 * step
            || (origin + (count - 1) as f32 * step - last).abs() > 1.5 * step
        {
            return None;
        }
        let stretch = [0.88, 0.94, 1.0]
            .into_iter()
            .map(|stretch| (stretch, mean(&read(origin, step, stretch, 0.0))))
            .fold((1.0, f32::MIN), |best, next| if next.1 > best.1 { next } else { best })
            .0;
        for (_, found) in read(origin, step, stretch, 0.1) {
            text.push(found.character);
            matches.push(found);
        }
        text.push('\n');
    }
    let text = MrzText::parse(&text.into_iter().collect::<String>()).ok()?;
    let zone_score = matches.iter().map(|m| m.score).sum::<f32>() / matches.len() as f32;
    let bounds = (
        lines.iter().map(|l| l.left).min().unwrap_or(0) as f32,
        lines[0].top as f32,
        lines.iter().map(|l| l.right).max().unwrap_or(0) as f32,
        lines[lines.len() - 1].bottom as f32,
    );
    Some(ZoneRead { text, matches, zone_score, bounds, to_region })
}

/// The best match for a cell centred near `centre` (searched `±reach` pitches), and the centre.
fn best_near(
    region: &GrayImage,
    glyphs: &Glyphs,
    centre: f32,
    pitch: f32,
    rows: (f32, f32),
    kind: super::text::Alphabet,
    reach: f32,
) -> (f32, GlyphMatch) {
    const STEPS: i32 = 3;
    let steps = if reach > 0.0 { STEPS } else { 0 };
    (-steps..=steps)
        .map(|step| centre + step as f32 * reach * pitch / STEPS as f32)
        .filter_map(|x| {
            let sample = cell_sample(region, x, pitch, rows, glyphs.file.width, glyphs.file.height);
            glyphs.best(&sample, kind).map(|found| (x, found))
        })
        .fold((centre, GlyphMatch::NONE), |best, next| if next.1.score > best.1.score { next } else { best })
}

/// The least-squares grid (first centre, pitch) through the cells read with a score of 0.5 or
/// more; the even grid when fewer than half were.
fn fit_grid(cells: &[(f32, GlyphMatch)], first: f32, pitch: f32) -> (f32, f32) {
    let points: Vec<(f32, f32)> = cells
        .iter()
        .enumerate()
        .filter(|(_, (_, found))| found.score >= 0.5)
        .map(|(i, (x, _))| (i as f32, *x))
        .collect();
    if points.len() * 2 < cells.len() {
        return (first, pitch);
    }
    let n = points.len() as f32;
    let (mean_i, mean_x) = points.iter().fold((0.0, 0.0), |(a, b), (i, x)| (a + i / n, b + x / n));
    let (cov, var) = points.iter().fold((0.0, 0.0), |(c, v), (i, x)| {
        (c + (i - mean_i) * (x - mean_x), v + (i - mean_i) * (i - mean_i))
    });
    let step = cov / var;
    (mean_x - step * mean_i, step)
}

/// A cell's ink (255 - grey) sampled to `width × height`: one pitch wide about `centre`, `rows`
/// tall; each sample the mean of four bilinear reads.
fn cell_sample(
    region: &GrayImage,
    centre: f32,
    pitch: f32,
    rows: (f32, f32),
    width: usize,
    height: usize,
) -> Vec<f32> {
    let (sx, sy) = (pitch / width as f32, (rows.1 - rows.0) / height as f32);
    let left = centre - pitch / 2.0;
    let mut sample = Vec::with_capacity(width * height);
    for ty in 0..height {
        for tx in 0..width {
            let mut sum = 0.0;
            for (ox, oy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                sum += bilinear(region, left + (tx as f32 + ox) * sx, rows.0 + (ty as f32 + oy) * sy);
            }
            sample.push(255.0 - sum / 4.0);
        }
    }
    sample
}

/// Bilinear grey at (x, y) in pixel-centre coordinates, edges replicated.
fn bilinear(image: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = (fx - x0, fy - y0);
    let at = |xi: i64, yi: i64| {
        let (xc, yc) = (xi.clamp(0, w - 1), yi.clamp(0, h - 1));
        f32::from(image.as_raw()[(yc * w + xc) as usize])
    };
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = at(x0, y0) * (1.0 - ax) + at(x0 + 1, y0) * ax;
    let bottom = at(x0, y0 + 1) * (1.0 - ax) + at(x0 + 1, y0 + 1) * ax;
    top * (1.0 - ay) + bottom * ay
}
