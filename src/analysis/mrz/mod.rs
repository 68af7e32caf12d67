//! The machine-readable zone: found on the located document, read glyph by glyph, its check digits
//! validated (ICAO 9303).
//!
//! A forger who retypes a name or a date in the visual zone often leaves the MRZ, or its check
//! digits, inconsistent: a check digit that disagrees with the field it guards is
//! `tamper.mrz_check_digit`. A zone that cannot be read with confidence is inconclusive, never a
//! forgery claim. Thresholds live in `models/mrz.toml`, the OCR-B templates in
//! `models/mrz_glyphs.toml`.

pub mod glyphs;
mod reader;
pub mod text;

use std::path::Path;

use image::{GrayImage, RgbImage};
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use serde::Deserialize;

use crate::analysis::decode::planes::{WorkingPlanes, luma_of};
use crate::domain::findings::{Evidence, Finding, Inconclusive, ReasonCode, Region};
use glyphs::{GlyphFile, Glyphs};
use text::{CheckedField, MrzText};

const EMBEDDED_THRESHOLDS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/mrz.toml"));
const EMBEDDED_GLYPHS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/mrz_glyphs.toml"));

/// Thresholds from `models/mrz.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MrzThresholds {
    /// Version of the file.
    pub version: String,
    /// Smallest width, in pixels, the document is rectified to before the zone is searched (its
    /// own width when larger, up to twice this).
    pub rectified_width: u32,
    /// Where the search starts, as a share of the document's height from its top edge.
    pub search_from: f32,
    /// Rows read above the zone the small look found, as a share of the document's height.
    pub zone_margin: f32,
    /// Strokes a pixel row must cross to be part of a line of text.
    pub min_row_strokes: u32,
    /// Smallest mean glyph score of a group of lines read as a zone.
    pub min_zone_score: f32,
    /// Smallest glyph score of every character of a field whose check digit is judged.
    pub min_char_score: f32,
    /// Smallest lead of each such character over the next admitted one.
    pub min_char_margin: f32,
    /// Check digits that must pass before any failing one is believed (a misread zone fails most).
    pub min_passing_fields: usize,
}

/// The MRZ reader's models.
#[derive(Debug, Clone, PartialEq)]
pub struct MrzModels {
    /// Thresholds.
    pub thresholds: MrzThresholds,
    /// OCR-B templates.
    pub glyphs: Glyphs,
}

/// MRZ models that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MrzConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid TOML or shape.
    #[error("invalid MRZ model: {0}")]
    Parse(#[from] toml::de::Error),
    /// Well-formed but unusable values.
    #[error("invalid MRZ model: {0}")]
    Invalid(String),
}

impl MrzModels {
    /// The models shipped in `models/`.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_THRESHOLDS, EMBEDDED_GLYPHS)
            .expect("models/mrz*.toml are validated by the test suite")
    }

    /// Parses `mrz.toml` and `mrz_glyphs.toml` text.
    pub fn parse(thresholds: &str, glyphs: &str) -> Result<Self, MrzConfigError> {
        let thresholds: MrzThresholds = toml::from_str(thresholds)?;
        if thresholds.rectified_width < 300
            || !(0.0..1.0).contains(&thresholds.search_from)
            || !(0.0..0.5).contains(&thresholds.zone_margin)
        {
            return Err(MrzConfigError::Invalid(
                "rectified_width, search_from or zone_margin out of range".into(),
            ));
        }
        let glyphs =
            Glyphs::from_file(toml::from_str::<GlyphFile>(glyphs)?).map_err(MrzConfigError::Invalid)?;
        Ok(MrzModels { thresholds, glyphs })
    }

    /// Tuned copies from `dir`; a file absent there is the shipped one.
    pub fn load(dir: &Path) -> Result<Self, MrzConfigError> {
        let read = |name: &str, embedded: &'static str| -> Result<String, MrzConfigError> {
            let path = dir.join(name);
            if path.is_file() {
                std::fs::read_to_string(&path)
                    .map_err(|source| MrzConfigError::Read { path: path.display().to_string(), source })
            } else {
                Ok(embedded.to_owned())
            }
        };
        Self::parse(&read("mrz.toml", EMBEDDED_THRESHOLDS)?, &read("mrz_glyphs.toml", EMBEDDED_GLYPHS)?)
    }
}

/// A zone read with confidence: its text and which check digits could be judged.
#[derive(Debug, Clone, PartialEq)]
pub struct MrzReading {
    /// The text read.
    pub text: MrzText,
    /// Every check digit, with whether each guarded character was read clearly enough to judge it.
    pub fields: Vec<(CheckedField, bool)>,
    /// Mean glyph score of the zone.
    pub zone_score: f32,
}

impl MrzReading {
    /// Whether every check digit was judged and passes: the reading can be trusted as text (what a
    /// document-number match needs).
    pub fn fully_valid(&self) -> bool {
        self.fields.iter().all(|(field, judged)| *judged && field.passes())
    }
}

/// What the MRZ analysis found on one upload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MrzReport {
    /// Measurements, fired or not.
    pub metrics: Vec<Evidence>,
    /// `tamper.mrz_check_digit`, at most one.
    pub findings: Vec<Finding>,
    /// Why a zone found could not be judged.
    pub inconclusive: Vec<Inconclusive>,
    /// The zone as read, when it was read with confidence.
    pub reading: Option<MrzReading>,
}

/// Searches the document for a zone and judges its check digits. `outline` is the located card in
/// the working planes; the whole frame is searched after it, and each both ways up. The zone is
/// read on `rgb`, the full-resolution upload.
pub fn assess_mrz(
    rgb: &RgbImage,
    planes: &WorkingPlanes,
    outline: Option<&[(f32, f32); 4]>,
    models: &MrzModels,
) -> MrzReport {
    let (w, h) = (planes.luma.width() as f32, planes.luma.height() as f32);
    let frame = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let factor = planes.factor as f32;
    let found = outline
        .copied()
        .into_iter()
        .chain([frame])
        .flat_map(|quad| {
            // A look at the whole document rectified small from the working planes, then the
            // full-resolution read of the edge a zone-shaped group lies near.
            let rows = glimpse(&planes.luma, &quad, models.thresholds.rectified_width / 2)
                .map(|document| reader::zone_rows(&document, &models.thresholds))
                .unwrap_or_default();
            let quad = quad.map(|(x, y)| (x * factor, y * factor));
            // From a little above the zone, never above where the search starts.
            let thresholds = &models.thresholds;
            let from = |share: f32| (share - thresholds.zone_margin).max(thresholds.search_from);
            [
                rows.bottom.map(|top| (quad, from(top), rows.skew)),
                rows.top.map(|bottom| ([quad[2], quad[3], quad[0], quad[1]], from(1.0 - bottom), rows.skew)),
            ]
            .into_iter()
            .flatten()
        })
        .find_map(|(quad, from, skew)| {
            let (region, to_image) = rectified_bottom(rgb, &quad, from, skew, &models.thresholds)?;
            reader::read_zone(&region, &models.glyphs, &models.thresholds).map(|read| (read, to_image))
        });
    let mut report = MrzReport::default();
    let Some((read, to_image)) = found else {
        report.metrics.push(Evidence::flag("mrz_found", false));
        return report;
    };
    report.metrics.push(Evidence::flag("mrz_found", true));
    report.metrics.push(Evidence::text("mrz_format", read.text.format.as_str()));
    report.metrics.push(Evidence::number("mrz_zone_score", round3(read.zone_score)));
    let thresholds = &models.thresholds;
    if read.zone_score < thresholds.min_zone_score {
        report.inconclusive.push(Inconclusive {
            method: "mrz".into(),
            reason: format!(
                "a zone-shaped group of lines was found but its glyphs score {:.2} on average, below {:.2}",
                read.zone_score, thresholds.min_zone_score
            ),
        });
        return report;
    }
    let mut read = read;
    let fields = judge(&mut read, thresholds);
    let passing = fields.iter().filter(|(field, judged)| *judged && field.passes()).count();
    let failing: Vec<&CheckedField> =
        fields.iter().filter(|(field, judged)| *judged && !field.passes()).map(|(field, _)| field).collect();
    let unjudged: Vec<&str> =
        fields.iter().filter(|(_, judged)| !judged).map(|(field, _)| field.field).collect();
    report.metrics.push(Evidence::number("mrz_check_digits_passing", passing as f64));
    if !unjudged.is_empty() {
        report.inconclusive.push(Inconclusive {
            method: "mrz".into(),
            reason: format!(
                "characters guarded by these check digits were not read clearly: {}",
                unjudged.join(", ")
            ),
        });
    }
    if passing < thresholds.min_passing_fields {
        if !failing.is_empty() {
            report.inconclusive.push(Inconclusive {
                method: "mrz".into(),
                reason: format!(
                    "only {passing} check digits pass (at least {} must before a failing one is believed)",
                    thresholds.min_passing_fields
                ),
            });
        }
        return report;
    }
    if !failing.is_empty() {
        let to_image = read.to_region.and_then(to_image);
        report.findings.push(check_digit_finding(&read, &failing, zone_region(read.bounds, &to_image, rgb)));
    }
    report.reading = Some(MrzReading { text: read.text, fields, zone_score: read.zone_score });
    report
}

/// OCR-B characters that differ by a stroke or a corner: the only ones a check digit may decide
/// between.
const LOOKALIKES: [(char, char); 7] =
    [('0', 'O'), ('0', 'D'), ('O', 'D'), ('1', 'I'), ('2', 'Z'), ('5', 'S'), ('8', 'B')];

/// Every check digit of `read`, with whether it can be judged: each character it guards (and the
/// digit) read with a score and a lead over its runner-up above the thresholds. A character whose
/// lead is short but whose runner-up is its lookalike (`0`/`O`, `1`/`I`, ...) is decided by the check
/// digit: the reading that passes is kept (at most four such characters per field). A field's
/// digit never decides between two digits, so a retyped date cannot be read back into agreement.
fn judge(read: &mut reader::ZoneRead, thresholds: &MrzThresholds) -> Vec<(CheckedField, bool)> {
    let (_, width) = read.text.format.shape();
    let alphabet = read.text.format.alphabet();
    let clear = |m: &glyphs::GlyphMatch| {
        m.score >= thresholds.min_char_score && m.margin >= thresholds.min_char_margin
    };
    let mut decided = std::collections::HashSet::new();
    for index in 0..read.text.checked_fields().len() {
        let field = read.text.checked_fields().swap_remove(index);
        let lookalike: Vec<(usize, usize)> = field
            .positions
            .iter()
            .copied()
            .filter(|&(line, column)| {
                let found = read.matches[line * width + column];
                !clear(&found)
                    && found.score >= thresholds.min_char_score
                    && alphabet[line * width + column].admits(found.runner_up)
                    && LOOKALIKES.iter().any(|&(a, b)| {
                        (a, b) == (found.character, found.runner_up)
                            || (b, a) == (found.character, found.runner_up)
                    })
            })
            .collect();
        if lookalike.is_empty() || lookalike.len() > 4 {
            continue;
        }
        let original = read.text.lines.clone();
        let passing = (0..1u32 << lookalike.len()).find(|mask| {
            read.text.lines = original.clone();
            for (bit, &(line, column)) in lookalike.iter().enumerate() {
                if mask >> bit & 1 == 1 {
                    let runner_up = read.matches[line * width + column].runner_up;
                    read.text.lines[line].replace_range(column..column + 1, &runner_up.to_string());
                }
            }
            read.text.checked_fields()[index].passes()
        });
        match passing {
            Some(_) => decided.extend(lookalike),
            None => read.text.lines = original,
        }
    }
    read.text
        .checked_fields()
        .into_iter()
        .map(|field| {
            let judged = field.positions.iter().all(|&(line, column)| {
                decided.contains(&(line, column)) || clear(&read.matches[line * width + column])
            });
            (field, judged)
        })
        .collect()
}

/// `tamper.mrz_check_digit` for the failing fields, with each field's printed and computed digit.
fn check_digit_finding(read: &reader::ZoneRead, failing: &[&CheckedField], region: Region) -> Finding {
    let names: Vec<&str> = failing.iter().map(|field| field.field).collect();
    let mut evidence = vec![
        Evidence::text("fields", names.join(",")),
        Evidence::text("mrz_format", read.text.format.as_str()),
        Evidence::number("mrz_zone_score", round3(read.zone_score)),
    ];
    for field in failing {
        evidence.push(Evidence::text(format!("{}.printed", field.field), field.printed.to_string()));
        evidence.push(Evidence::number(format!("{}.computed", field.field), f64::from(field.computed)));
    }
    let mut finding = Finding::new(
        ReasonCode::TamperMrzCheckDigit,
        1.0,
        format!("MRZ check digit disagrees with the field it guards: {}", names.join(", ")),
        evidence,
    );
    finding.regions.push(region);
    finding
}

/// The zone's box on the region, mapped to an axis-aligned box of the image.
fn zone_region(bounds: (f32, f32, f32, f32), to_image: &Projection, rgb: &RgbImage) -> Region {
    let corners = [(bounds.0, bounds.1), (bounds.2, bounds.1), (bounds.2, bounds.3), (bounds.0, bounds.3)]
        .map(|point| *to_image * point);
    let clamp = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
    let left = clamp(corners.iter().map(|c| c.0).fold(f32::MAX, f32::min), rgb.width());
    let top = clamp(corners.iter().map(|c| c.1).fold(f32::MAX, f32::min), rgb.height());
    let right = clamp(corners.iter().map(|c| c.0).fold(f32::MIN, f32::max), rgb.width());
    let bottom = clamp(corners.iter().map(|c| c.1).fold(f32::MIN, f32::max), rgb.height());
    Region { x: left, y: top, width: right - left, height: bottom - top, label: "mrz".into() }
}

/// The document whose corners (top-left, top-right, bottom-right, bottom-left) are `quad` on the
/// working plane `luma`, rectified to `width` pixels at the quad's own proportions.
fn glimpse(luma: &GrayImage, quad: &[(f32, f32); 4], width: u32) -> Option<GrayImage> {
    let (across, down) = quad_sides(quad)?;
    let height = ((width as f32 * down / across).round() as u32).max(1);
    let to_quad = Projection::from_control_points([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], *quad)?;
    let to_plane = Projection::scale(1.0 / width as f32, 1.0 / height as f32).and_then(to_quad);
    let mut document = GrayImage::new(width, height);
    warp_into(luma, to_plane.invert(), Interpolation::Bilinear, Border::Replicate, &mut document);
    Some(document)
}

/// The mean lengths of a quad's horizontal and vertical sides; `None` when either is under a pixel
/// or the quad is no document's shape (taller than twice its width, or wider than five times its
/// height), which would also make the rectified region unboundedly tall.
fn quad_sides(quad: &[(f32, f32); 4]) -> Option<(f32, f32)> {
    let distance = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let across = (distance(quad[0], quad[1]) + distance(quad[3], quad[2])) / 2.0;
    let down = (distance(quad[0], quad[3]) + distance(quad[1], quad[2])) / 2.0;
    (across >= 1.0 && down >= 1.0 && (0.2..=2.0).contains(&(down / across))).then_some((across, down))
}

/// The bottom of the document whose corners (top-left, top-right, bottom-right, bottom-left, in
/// image pixels) are `quad`, rectified to at least `rectified_width` at the quad's own proportions
/// (an ID-1 card or an ID-3 page alike), from the share `from` of its height down, turned about
/// its centre so that print skewed by `skew` runs level (the reader levels what is left); and the
/// projection from the region back to the image. `None` for a degenerate quad.
fn rectified_bottom(
    rgb: &RgbImage,
    quad: &[(f32, f32); 4],
    from: f32,
    skew: f32,
    thresholds: &MrzThresholds,
) -> Option<(GrayImage, Projection)> {
    let (across, down) = quad_sides(quad)?;
    // At least the configured width, more (up to twice) when the document spans more pixels: a
    // zone seen in a whole frame keeps its resolution.
    let width = (across.round() as u32).clamp(thresholds.rectified_width, 2 * thresholds.rectified_width);
    let full_height = width as f32 * down / across;
    let from = from * full_height;
    let height = (full_height - from).round().max(1.0) as u32;
    let to_quad = Projection::from_control_points([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], *quad)?;
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let level = Projection::translate(-cx, -cy)
        .and_then(Projection::rotate(skew))
        .and_then(Projection::translate(cx, cy));
    let to_image = level
        .and_then(Projection::translate(0.0, from))
        .and_then(Projection::scale(1.0 / width as f32, 1.0 / full_height))
        .and_then(to_quad);
    let mut region = GrayImage::new(width, height);
    let (iw, ih) = (rgb.width() as i64, rgb.height() as i64);
    for (x, y, pixel) in region.enumerate_pixels_mut() {
        let (sx, sy) = to_image * (x as f32 + 0.5, y as f32 + 0.5);
        let (fx, fy) = (sx - 0.5, sy - 0.5);
        let (x0, y0) = (fx.floor(), fy.floor());
        let (ax, ay) = (fx - x0, fy - y0);
        let luma = |xi: i64, yi: i64| {
            let p = rgb.get_pixel(xi.clamp(0, iw - 1) as u32, yi.clamp(0, ih - 1) as u32);
            f32::from(luma_of(p[0], p[1], p[2]))
        };
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = luma(x0, y0) * (1.0 - ax) + luma(x0 + 1, y0) * ax;
        let bottom = luma(x0, y0 + 1) * (1.0 - ax) + luma(x0 + 1, y0 + 1) * ax;
        pixel.0[0] = (top * (1.0 - ay) + bottom * ay).round() as u8;
    }
    Some((region, to_image))
}

fn round3(value: f32) -> f64 {
    (f64::from(value) * 1000.0).round() / 1000.0
}
