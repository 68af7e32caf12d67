//! The OCR-B glyphs the reader matches a zone's characters against (`models/mrz_glyphs.toml`).
//!
//! Every MRZ is printed in one typeface (OCR-B, ISO 1073-2) at one pitch, so normalised
//! cross-correlation against one template per character reads it: no learned model, no OCR engine
//! to install. The templates are rendered from Debian's `fonts-ocr-b` by `idforensics
//! make-mrz-glyphs` (the `eval` build), and a test checks that the committed file is what the font
//! gives.

use serde::{Deserialize, Serialize};

use super::text::Alphabet;

/// The characters of the MRZ alphabet, in the order the templates are kept.
pub const MRZ_CHARACTERS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

/// `models/mrz_glyphs.toml` as written.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlyphFile {
    /// Version of the file.
    pub version: String,
    /// The font the templates were rendered from.
    pub font: String,
    /// Template width in samples: one character's advance.
    pub width: usize,
    /// Template height in samples: the cap height and `margin` above and below.
    pub height: usize,
    /// Share of the cap height added above and below the line's band.
    pub margin: f32,
    /// The advance (the character pitch) over the cap height.
    pub advance_per_cap_height: f32,
    /// The typical ink width of a glyph over the advance.
    pub ink_per_advance: f32,
    /// Each character's template: `width × height` ink coverages (0–255), row by row, in hex.
    pub glyphs: std::collections::BTreeMap<String, String>,
}

/// The templates ready to match: zero mean, unit norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyphs {
    /// The file they were read from.
    pub file: GlyphFile,
    normalised: Vec<(char, Vec<f32>)>,
}

/// One character's best reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlyphMatch {
    /// The character.
    pub character: char,
    /// Its normalised cross-correlation with the sample, -1..1.
    pub score: f32,
    /// How far ahead of the best other admitted character it is.
    pub margin: f32,
    /// That other character.
    pub runner_up: char,
}

impl GlyphMatch {
    /// No reading: a cell not matched yet, scoring nothing.
    pub const NONE: GlyphMatch = GlyphMatch { character: '<', score: 0.0, margin: 0.0, runner_up: '<' };
}

impl Glyphs {
    /// Validates and normalises a glyph file.
    pub fn from_file(file: GlyphFile) -> Result<Self, String> {
        let samples = file.width * file.height;
        if samples == 0 || !(0.0..0.5).contains(&file.margin) || file.advance_per_cap_height <= 0.0 {
            return Err(
                "mrz_glyphs.toml: width, height, margin or advance_per_cap_height out of range".into()
            );
        }
        let mut normalised = Vec::with_capacity(MRZ_CHARACTERS.len());
        for character in MRZ_CHARACTERS.chars() {
            let hex = file
                .glyphs
                .get(&character.to_string())
                .ok_or_else(|| format!("mrz_glyphs.toml: no template for {character:?}"))?;
            let coverage = decode_hex(hex).filter(|values| values.len() == samples).ok_or_else(|| {
                format!("mrz_glyphs.toml: template {character:?} is not {samples} hex bytes")
            })?;
            let values: Vec<f32> = coverage.into_iter().map(f32::from).collect();
            normalised.push((
                character,
                normalise(values)
                    .ok_or_else(|| format!("mrz_glyphs.toml: template {character:?} is blank"))?,
            ));
        }
        Ok(Glyphs { file, normalised })
    }

    /// The best admitted character for `sample` (ink as high values, `width × height`), or `None`
    /// for a flat sample.
    pub fn best(&self, sample: &[f32], alphabet: Alphabet) -> Option<GlyphMatch> {
        let sample = normalise(sample.to_vec())?;
        let (mut best, mut second) = ((' ', f32::MIN), (' ', f32::MIN));
        for (character, template) in &self.normalised {
            if !alphabet.admits(*character) {
                continue;
            }
            let score = dot(template, &sample);
            if score > best.1 {
                second = best;
                best = (*character, score);
            } else if score > second.1 {
                second = (*character, score);
            }
        }
        Some(GlyphMatch { character: best.0, score: best.1, margin: best.1 - second.1, runner_up: second.0 })
    }
}

/// The dot product of two equally long vectors, summed in eight lanes so that it vectorises (a
/// single running sum must keep its order, which stops the compiler): most of a zone's read is
/// these products, 37 templates for every position tried.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for ((lane, x), y) in lanes.iter_mut().zip(x).zip(y) {
            *lane += x * y;
        }
    }
    let rest = a.len() - a.len() % 8;
    let tail: f32 = a[rest..].iter().zip(&b[rest..]).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

/// `values` less their mean, scaled to unit length; `None` when they are all equal.
fn normalise(mut values: Vec<f32>) -> Option<Vec<f32>> {
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    values.iter_mut().for_each(|v| *v -= mean);
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    (norm > 1e-3).then(|| values.into_iter().map(|v| v / norm).collect())
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    hex.len()
        .is_multiple_of(2)
        .then(|| (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect())
        .flatten()
}

/// Hex of `coverage`, as the glyph file keeps it.
pub fn encode_hex(coverage: &[u8]) -> String {
    coverage.iter().map(|v| format!("{v:02x}")).collect()
}
