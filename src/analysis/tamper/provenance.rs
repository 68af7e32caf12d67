//! Re-save provenance: which encoder family wrote a JPEG's quantization tables, at what quality.
//!
//! A table match names a *family*, never one program: IJG-derived encoders (libjpeg, libjpeg-turbo,
//! GIMP, ImageMagick, Pillow, browsers) share the Annex K formula, and Photoshop's "Save As 8" tables
//! are also written by other Adobe products. The IJG family is recognised by formula; the others by
//! the tables in `models/jpeg_signatures.toml`, collected from labelled corpus files
//! (`scripts/collect_quant_tables.py`).

use serde::Deserialize;

use crate::analysis::decode::QuantTable;
use crate::analysis::quality::compression::{ANNEX_K_CHROMINANCE, ANNEX_K_LUMINANCE, ijg_table};

/// What kind of encoder a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncoderKind {
    /// An image editor's own encoder: the file was saved by an editor.
    Editor,
    /// A camera's firmware.
    Camera,
    /// A general-purpose library (IJG and its descendants): any program may have used it.
    Library,
}

impl EncoderKind {
    /// The kind as reported in evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            EncoderKind::Editor => "editor",
            EncoderKind::Camera => "camera",
            EncoderKind::Library => "library",
        }
    }
}

/// One known pair of tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSet {
    /// The encoder family.
    pub family: String,
    /// Editor or camera.
    pub kind: EncoderKind,
    /// The setting that produces these tables, when known ("Save As quality 8").
    #[serde(default)]
    pub setting: String,
    /// Corpus files the tables were collected from.
    pub seen_in: Vec<String>,
    /// Luminance table, zig-zag order.
    pub luminance: Vec<u16>,
    /// Chrominance table, zig-zag order.
    pub chrominance: Vec<u16>,
}

/// The signature file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderSignatures {
    /// Version of `models/jpeg_signatures.toml`.
    pub version: String,
    /// Known table pairs.
    #[serde(rename = "table_set")]
    pub table_sets: Vec<TableSet>,
}

/// The encoder family a file's tables name.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderMatch {
    /// Family name ("Adobe Photoshop", "IJG libjpeg", ...).
    pub family: String,
    /// Its kind.
    pub kind: EncoderKind,
    /// The setting, or the IJG quality for the IJG family.
    pub setting: String,
}

/// Name of the formula-recognised family.
pub const IJG_FAMILY: &str = "IJG libjpeg (and encoders built on it)";

impl EncoderSignatures {
    /// Checks that every table has 64 entries.
    pub fn validate(&self) -> Result<(), String> {
        for set in &self.table_sets {
            if set.luminance.len() != 64 || set.chrominance.len() != 64 {
                return Err(format!("{} {}: a table without 64 entries", set.family, set.setting));
            }
        }
        Ok(())
    }

    /// The family whose tables equal the tables in use (the last luminance and chrominance
    /// definitions), if any: a listed set first, then the IJG formula at every quality.
    pub fn identify(&self, tables: &[QuantTable]) -> Option<EncoderMatch> {
        let last = |id| tables.iter().rev().find(|table| table.id == id);
        let luminance = last(0)?;
        let chrominance = last(1)?;
        if let Some(set) = self.table_sets.iter().find(|set| {
            set.luminance[..] == luminance.values[..] && set.chrominance[..] == chrominance.values[..]
        }) {
            return Some(EncoderMatch {
                family: set.family.clone(),
                kind: set.kind,
                setting: set.setting.clone(),
            });
        }
        (1..=100u8).rev().find_map(|quality| {
            let same = ijg_table(&ANNEX_K_LUMINANCE, quality) == luminance.values
                && ijg_table(&ANNEX_K_CHROMINANCE, quality) == chrominance.values;
            same.then(|| EncoderMatch {
                family: IJG_FAMILY.to_owned(),
                kind: EncoderKind::Library,
                setting: format!("quality {quality}"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(luminance: &[u16], chrominance: &[u16]) -> Vec<QuantTable> {
        let table =
            |id, values: &[u16]| QuantTable { id, sixteen_bit: false, values: values.try_into().unwrap() };
        vec![table(0, luminance), table(1, chrominance)]
    }

    #[test]
    fn photoshop_cameras_and_ijg_are_told_apart() {
        let signatures = crate::analysis::tamper::TamperModels::embedded().signatures;
        signatures.validate().unwrap();
        let photoshop = signatures.table_sets.iter().find(|set| set.setting == "Save As quality 8").unwrap();
        let found = signatures.identify(&tables(&photoshop.luminance, &photoshop.chrominance)).unwrap();
        assert_eq!((found.family.as_str(), found.kind), ("Adobe Photoshop", EncoderKind::Editor));

        let ijg = tables(&ijg_table(&ANNEX_K_LUMINANCE, 83), &ijg_table(&ANNEX_K_CHROMINANCE, 83));
        let found = signatures.identify(&ijg).unwrap();
        assert_eq!((found.kind, found.setting.as_str()), (EncoderKind::Library, "quality 83"));

        let mut odd = ijg_table(&ANNEX_K_LUMINANCE, 83);
        odd[63] += 1;
        assert_eq!(signatures.identify(&tables(&odd, &ijg_table(&ANNEX_K_CHROMINANCE, 83))), None);
        assert_eq!(signatures.identify(&ijg[..1]), None, "no chrominance table, no family");
    }

    #[test]
    fn no_listed_set_is_an_ijg_table() {
        let signatures = crate::analysis::tamper::TamperModels::embedded().signatures;
        for set in &signatures.table_sets {
            let as_listed = tables(&set.luminance, &set.chrominance);
            let formula = EncoderSignatures { version: String::new(), table_sets: Vec::new() };
            assert_eq!(formula.identify(&as_listed), None, "{} {:?}", set.family, set.seen_in);
        }
    }
}
