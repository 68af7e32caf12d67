//! OCR-B text drawn with Debian's `fonts-ocr-b` (the typeface every MRZ is printed in): the zones of
//! the MRZ evaluation's cards and passport pages, and the glyph templates the reader ships in
//! `models/mrz_glyphs.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use image::{Rgb, RgbImage};

use crate::analysis::mrz::glyphs::{GlyphFile, MRZ_CHARACTERS, encode_hex};

/// Where Debian's `fonts-ocr-b` installs the font.
pub const SYSTEM_FONT: &str = "/usr/share/fonts/opentype/ocr-b/OCRB.otf";

/// Template width in samples, and the share of the cap height kept above and below the band.
const TEMPLATE_WIDTH: usize = 16;
const TEMPLATE_MARGIN: f32 = 0.15;

/// The OCR-B font, loaded.
pub struct OcrB {
    font: FontVec,
    /// Cap height ('H') per pixel of em.
    cap_per_em: f32,
}

impl OcrB {
    /// The font at `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes =
            std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let font = FontVec::try_from_vec(bytes).map_err(|error| format!("{}: {error}", path.display()))?;
        let probe = PxScale::from(1000.0);
        let cap = font
            .outline_glyph(font.glyph_id('H').with_scale_and_position(probe, point(0.0, 0.0)))
            .map(|outlined| outlined.px_bounds().height())
            .ok_or_else(|| format!("{}: no glyph for 'H'", path.display()))?;
        Ok(OcrB { font, cap_per_em: cap / 1000.0 })
    }

    /// Debian's font ([`SYSTEM_FONT`]), or the one `IDF_OCRB_FONT` names.
    pub fn system() -> Result<Self, String> {
        let path =
            std::env::var_os("IDF_OCRB_FONT").map_or_else(|| SYSTEM_FONT.into(), std::path::PathBuf::from);
        Self::load(&path).map_err(|error| format!("{error} (install Debian's fonts-ocr-b)"))
    }

    fn scale(&self, cap_height: f32) -> PxScale {
        PxScale::from(cap_height / self.cap_per_em)
    }

    /// The character pitch at cap height `cap_height`.
    pub fn advance(&self, cap_height: f32) -> f32 {
        self.font.as_scaled(self.scale(cap_height)).h_advance(self.font.glyph_id('0'))
    }

    /// Draws `text` in `ink` with its baseline at `baseline` and its first cell at `left`.
    pub fn draw(
        &self,
        image: &mut RgbImage,
        text: &str,
        left: f32,
        baseline: f32,
        cap_height: f32,
        ink: Rgb<u8>,
    ) {
        let scale = self.scale(cap_height);
        let advance = self.advance(cap_height);
        for (index, character) in text.chars().enumerate() {
            let glyph = self
                .font
                .glyph_id(character)
                .with_scale_and_position(scale, point(left + index as f32 * advance, baseline));
            let Some(outlined) = self.font.outline_glyph(glyph) else { continue };
            let bounds = outlined.px_bounds();
            outlined.draw(|x, y, coverage| {
                let (px, py) = (bounds.min.x as i64 + i64::from(x), bounds.min.y as i64 + i64::from(y));
                if px < 0 || py < 0 || px >= i64::from(image.width()) || py >= i64::from(image.height()) {
                    return;
                }
                let pixel = image.get_pixel_mut(px as u32, py as u32);
                let c = coverage.clamp(0.0, 1.0);
                for (channel, &ink) in pixel.0.iter_mut().zip(&ink.0) {
                    *channel = (f32::from(*channel) * (1.0 - c) + f32::from(ink) * c).round() as u8;
                }
            });
        }
    }

    /// The glyph templates the reader matches against, as `models/mrz_glyphs.toml` keeps them:
    /// each character rendered large, its ink centred in one advance, the cap height and a margin
    /// above and below, area-averaged down to the template size.
    pub fn glyph_file(&self, version: &str, font_name: &str) -> GlyphFile {
        const CAP: f32 = 240.0;
        let advance = self.advance(CAP);
        let margin = TEMPLATE_MARGIN * CAP;
        let (cell_w, cell_h) = (advance, CAP + 2.0 * margin);
        let height = (TEMPLATE_WIDTH as f32 * cell_h / cell_w).round() as usize;
        let scale = self.scale(CAP);
        let mut glyphs = BTreeMap::new();
        let mut ink_widths = Vec::new();
        for character in MRZ_CHARACTERS.chars() {
            let probe = self.font.glyph_id(character).with_scale_and_position(scale, point(0.0, 0.0));
            let outlined = self.font.outline_glyph(probe).expect("every MRZ character has a glyph in OCR-B");
            let bounds = outlined.px_bounds();
            ink_widths.push(bounds.width() / advance);
            // Ink centred in the cell; the baseline `margin` above the cell's bottom.
            let (dx, dy) = (advance / 2.0 - (bounds.min.x + bounds.max.x) / 2.0, CAP + margin);
            let mut sums = vec![0f32; TEMPLATE_WIDTH * height];
            let (sx, sy) = (TEMPLATE_WIDTH as f32 / cell_w, height as f32 / cell_h);
            outlined.draw(|x, y, coverage| {
                let cx = bounds.min.x + x as f32 + 0.5 + dx;
                let cy = bounds.min.y + y as f32 + 0.5 + dy;
                let (tx, ty) = ((cx * sx).floor(), (cy * sy).floor());
                if tx >= 0.0 && ty >= 0.0 && (tx as usize) < TEMPLATE_WIDTH && (ty as usize) < height {
                    sums[ty as usize * TEMPLATE_WIDTH + tx as usize] += coverage;
                }
            });
            let per_sample = 1.0 / (sx * sy);
            let coverage: Vec<u8> =
                sums.iter().map(|s| (s / per_sample * 255.0).round().clamp(0.0, 255.0) as u8).collect();
            glyphs.insert(character.to_string(), encode_hex(&coverage));
        }
        ink_widths.sort_by(f32::total_cmp);
        GlyphFile {
            version: version.to_owned(),
            font: font_name.to_owned(),
            width: TEMPLATE_WIDTH,
            height,
            margin: TEMPLATE_MARGIN,
            advance_per_cap_height: (advance / CAP * 10_000.0).round() / 10_000.0,
            ink_per_advance: (ink_widths[ink_widths.len() / 2] * 1000.0).round() / 1000.0,
            glyphs,
        }
    }
}

/// `models/mrz_glyphs.toml` as the font gives it: a header naming its source, then the file.
pub fn glyph_file_text(font: &OcrB, version: &str, font_name: &str) -> Result<String, toml::ser::Error> {
    let header = format!(
        "# OCR-B glyph templates of the MRZ reader (src/analysis/mrz/glyphs.rs). Rendered from {font_name} of\n\
         # Debian's fonts-ocr-b (Matthew Skala after Norbert Schwarz; public domain and a permissive\n\
         # licence) by `idforensics make-mrz-glyphs --version {version} --out models/mrz_glyphs.toml`.\n\
         # Each glyph: its ink centred in one advance, the cap height and a margin above and below,\n\
         # area-averaged to width × height coverages (hex, row by row).\n"
    );
    Ok(header + &toml::to_string(&font.glyph_file(version, font_name))?)
}

/// The font for a test, or `None` (with a message) where Debian's fonts-ocr-b is not installed.
/// Panics instead when `IDF_REQUIRE_OCRB` is set, as CI sets it: there the font must be present.
#[cfg(test)]
pub(crate) fn font_for_tests() -> Option<OcrB> {
    match OcrB::system() {
        Ok(font) => Some(font),
        Err(error) => {
            assert!(std::env::var_os("IDF_REQUIRE_OCRB").is_none(), "IDF_REQUIRE_OCRB is set: {error}");
            eprintln!("skipped: {error}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_glyph_templates_are_what_the_font_gives() {
        let Some(font) = font_for_tests() else { return };
        let shipped = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/mrz_glyphs.toml"));
        let version = toml::from_str::<GlyphFile>(shipped).unwrap().version;
        assert_eq!(
            glyph_file_text(&font, &version, "OCRB.otf").unwrap(),
            shipped,
            "models/mrz_glyphs.toml is stale: run `idforensics make-mrz-glyphs --version ... --out models/mrz_glyphs.toml`"
        );
    }
}
