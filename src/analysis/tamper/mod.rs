//! Tamper evidence from the file's metadata: which software wrote it, what edit history it declares,
//! whether its metadata contradicts itself, whether it was stripped.
//!
//! Metadata says what a file claims about itself: a trace of an editor is strong evidence, its
//! absence proves nothing (metadata is easy to strip), so a stripped file is context, never a
//! reason on its own. Signatures live in `models/editors.toml`, thresholds in `models/tamper.toml`;
//! statements of generation by a model (`generative`) in `models/generators.toml`.

pub mod content_credentials;
pub mod generative;
pub mod local;
pub mod metadata;
pub mod portrait;
pub mod provenance;
pub mod thumbnail;

use std::path::Path;

use serde::Deserialize;

use crate::analysis::decode::planes::WorkingPlanes;
use crate::analysis::decode::{DecodedDocument, ImageFormat};
use crate::domain::findings::{Evidence, Finding, ReasonCode};
use crate::domain::report::EvidenceImage;
use generative::{GeneratorSignatures, generative_findings};
use metadata::{MetadataFacts, read_metadata_facts};
use provenance::{EncoderKind, EncoderMatch, EncoderSignatures};

const EMBEDDED_EDITORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/editors.toml"));
const EMBEDDED_GENERATORS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/generators.toml"));
const EMBEDDED_THRESHOLDS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/tamper.toml"));
const EMBEDDED_SIGNATURES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/jpeg_signatures.toml"));

/// What a software signature names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SoftwareKind {
    /// A program made to change pictures.
    Editor,
    /// Software that re-saved the file without being an editor.
    Converter,
}

impl SoftwareKind {
    fn as_str(self) -> &'static str {
        match self {
            SoftwareKind::Editor => "editor",
            SoftwareKind::Converter => "converter",
        }
    }
}

/// One software signature from `models/editors.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareSignature {
    /// Display name.
    pub name: String,
    /// Editor or converter.
    pub kind: SoftwareKind,
    /// Lower-case substrings that identify it.
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditorsFile {
    version: String,
    software: Vec<SoftwareSignature>,
}

/// Thresholds from `models/tamper.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TamperThresholds {
    /// Version of the thresholds file.
    pub version: String,
    /// Largest gap, in seconds, between EXIF DateTime and DateTimeOriginal that is not an edit.
    pub modify_date_window_seconds: i64,
    /// Score of a converter's trace relative to an editor's (which is 1).
    pub converter_score: f64,
    /// Smallest normalised luma difference between the EXIF thumbnail and the image that is a
    /// mismatch.
    pub thumbnail_max_difference: f64,
    /// Smallest relative aspect-ratio difference between thumbnail picture and image that is a
    /// mismatch (the image was cropped after the thumbnail was written).
    pub thumbnail_max_aspect_difference: f64,
    /// The local analyses' thresholds.
    pub local: local::LocalThresholds,
}

/// The tamper analyser's models.
#[derive(Debug, Clone, PartialEq)]
pub struct TamperModels {
    /// Version of `models/editors.toml`.
    pub editors_version: String,
    /// Software signatures.
    pub software: Vec<SoftwareSignature>,
    /// Thresholds.
    pub thresholds: TamperThresholds,
    /// Quantization-table signatures of encoder families.
    pub signatures: EncoderSignatures,
    /// The text `thresholds` was read from (calibration rewrites a copy of it, comments kept).
    pub thresholds_toml: String,
    /// Generative-model signatures (`models/generators.toml`).
    pub generators: GeneratorSignatures,
}

/// Tamper models that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TamperConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid TOML or shape.
    #[error("invalid tamper model: {0}")]
    Parse(#[from] toml::de::Error),
    /// Well-formed but unusable values.
    #[error("invalid tamper model: {0}")]
    Invalid(String),
}

impl TamperModels {
    /// The models shipped in `models/`.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_EDITORS, EMBEDDED_THRESHOLDS, EMBEDDED_SIGNATURES, EMBEDDED_GENERATORS)
            .expect("models/*.toml are validated by the test suite")
    }

    /// Parses `editors.toml`, `tamper.toml`, `jpeg_signatures.toml` and `generators.toml` text.
    pub fn parse(
        editors: &str,
        thresholds: &str,
        signatures: &str,
        generators: &str,
    ) -> Result<Self, TamperConfigError> {
        let mut generators: GeneratorSignatures = toml::from_str(generators)?;
        for generator in &mut generators.software {
            generator.patterns.iter_mut().for_each(|pattern| *pattern = pattern.to_lowercase());
        }
        let signatures: EncoderSignatures = toml::from_str(signatures)?;
        signatures.validate().map_err(TamperConfigError::Invalid)?;
        let editors: EditorsFile = toml::from_str(editors)?;
        let mut software = editors.software;
        for signature in &mut software {
            signature.patterns.iter_mut().for_each(|pattern| *pattern = pattern.to_lowercase());
        }
        let parsed: TamperThresholds = toml::from_str(thresholds)?;
        parsed.local.validate().map_err(TamperConfigError::Invalid)?;
        Ok(TamperModels {
            editors_version: editors.version,
            software,
            thresholds: parsed,
            signatures,
            thresholds_toml: thresholds.to_owned(),
            generators,
        })
    }

    /// Loads tuned copies from `dir`; a file absent there is the shipped one.
    pub fn load(dir: &Path) -> Result<Self, TamperConfigError> {
        let read = |name: &str, embedded: &'static str| -> Result<String, TamperConfigError> {
            let path = dir.join(name);
            if path.is_file() {
                std::fs::read_to_string(&path)
                    .map_err(|source| TamperConfigError::Read { path: path.display().to_string(), source })
            } else {
                Ok(embedded.to_owned())
            }
        };
        Self::parse(
            &read("editors.toml", EMBEDDED_EDITORS)?,
            &read("tamper.toml", EMBEDDED_THRESHOLDS)?,
            &read("jpeg_signatures.toml", EMBEDDED_SIGNATURES)?,
            &read("generators.toml", EMBEDDED_GENERATORS)?,
        )
    }

    /// The signature a software name matches, if any.
    pub fn identify(&self, value: &str) -> Option<&SoftwareSignature> {
        let value = value.to_lowercase();
        self.software
            .iter()
            .find(|signature| signature.patterns.iter().any(|pattern| value.contains(pattern)))
    }
}

/// Tamper measurements and findings.
#[derive(Debug, Clone, PartialEq)]
pub struct TamperReport {
    /// Every measurement, fired or not.
    pub metrics: Vec<Evidence>,
    /// The findings.
    pub findings: Vec<Finding>,
    /// Local methods that could not decide on this image, and why.
    pub inconclusive: Vec<crate::domain::findings::Inconclusive>,
    /// The local anomaly maps, for heatmaps.
    pub maps: Vec<local::AnomalyMap>,
    /// The local-manipulation score unrounded (its metric is rounded), for ranking.
    pub local_score: f64,
    /// The maps' thresholds: a heatmap draws a cell fully red at twice its map's.
    pub anomaly_scores: local::AnomalyScores,
}

impl TamperReport {
    /// The score drawn fully red in map `name`'s heatmap: twice the map's threshold (the copy-move
    /// map marks the copies at the largest score, so any scale draws them red).
    fn full_scale(&self, name: &str) -> f32 {
        if local::AnomalyScores::NAMES.contains(&name) { 2.0 * self.anomaly_scores.of(name) } else { 1.0 }
    }

    /// A PNG heatmap per local anomaly map, over the image reduced to `max_side` pixels.
    pub fn heatmaps(&self, luma: &image::GrayImage, factor: u32, max_side: u32) -> Vec<EvidenceImage> {
        let reduce = luma.width().max(luma.height()).div_ceil(max_side.max(1)).max(1);
        let base = image::imageops::resize(
            luma,
            (luma.width() / reduce).max(1),
            (luma.height() / reduce).max(1),
            image::imageops::FilterType::Triangle,
        );
        let scale = (factor * reduce) as f32;
        self.maps
            .iter()
            .map(|map| EvidenceImage {
                name: format!("heatmap.{}", map.name),
                finding_code: map.code,
                png: map.scores.heatmap_png(&base, scale, self.full_scale(map.name)),
                width: base.width(),
                height: base.height(),
            })
            .collect()
    }
}

/// Parses EXIF `YYYY:MM:DD HH:MM:SS` into seconds since an arbitrary epoch (for differences only).
fn exif_seconds(text: &str) -> Option<i64> {
    let digits: Vec<i64> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [year, month, day, hour, minute, second, ..] = digits[..] else { return None };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1900 {
        return None;
    }
    // Days from a civil date (H. Hinnant's algorithm), enough for differences between two dates.
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Runs the metadata checks on a decoded upload.
pub fn assess_tamper(
    document: &DecodedDocument,
    planes: &WorkingPlanes,
    models: &TamperModels,
) -> TamperReport {
    let facts = read_metadata_facts(&document.container);
    let mut metrics = vec![
        Evidence::number("software_traces", facts.traces.len() as f64),
        Evidence::number("xmp_history_events", facts.history_events as f64),
        Evidence::number("photoshop_resources", facts.photoshop_resources.len() as f64),
        Evidence::flag("exif_present", document.container.exif.is_some()),
        Evidence::flag("xmp_present", document.container.xmp.is_some()),
    ];
    let mut findings = Vec::new();
    if let Some(finding) = software_finding(&facts, models) {
        findings.push(finding);
    }
    findings.extend(generative_findings(&document.container, &facts, &models.generators));
    if facts.history_events > 0
        || facts.derived_from
        || facts.document_ancestors > 0
        || facts.photoshop_history_entries > 0
    {
        findings.push(Finding::new(
            ReasonCode::TamperEditHistory,
            1.0,
            "the file records an editing history",
            vec![
                Evidence::number("xmp_history_events", facts.history_events as f64),
                Evidence::flag("derived_from", facts.derived_from),
                Evidence::number("document_ancestors", facts.document_ancestors as f64),
                Evidence::number("photoshop_history_entries", facts.photoshop_history_entries as f64),
            ],
        ));
    }
    let dates = facts
        .date_time_original
        .as_deref()
        .and_then(exif_seconds)
        .zip(facts.date_time.as_deref().and_then(exif_seconds));
    let mut inconsistencies = Vec::new();
    if let Some((original, modified)) = dates {
        let gap = modified - original;
        metrics.push(Evidence::number("modify_date_gap_seconds", gap as f64));
        if gap > models.thresholds.modify_date_window_seconds {
            inconsistencies.push(Evidence::number("modify_date_gap_seconds", gap as f64));
            inconsistencies.push(Evidence::number(
                "threshold_seconds",
                models.thresholds.modify_date_window_seconds as f64,
            ));
            inconsistencies.push(Evidence::text(
                "date_time_original",
                facts.date_time_original.clone().unwrap_or_default(),
            ));
            inconsistencies.push(Evidence::text("date_time", facts.date_time.clone().unwrap_or_default()));
        }
    }
    if let (Some((exif_width, exif_height)), Some(frame)) =
        (facts.exif_dimensions, document.container.jpeg.as_ref().and_then(|jpeg| jpeg.frame.as_ref()))
    {
        let stored = (u32::from(frame.width), u32::from(frame.height));
        // Some writers record the rotated size, and some cameras the size padded to whole 16-pixel
        // blocks: either orientation within one block agrees.
        let near = |(a, b): (u32, u32)| a.abs_diff(stored.0) < 16 && b.abs_diff(stored.1) < 16;
        if !near((exif_width, exif_height)) && !near((exif_height, exif_width)) {
            inconsistencies.push(Evidence::text("exif_dimensions", format!("{exif_width}x{exif_height}")));
            inconsistencies.push(Evidence::text("image_dimensions", format!("{}x{}", stored.0, stored.1)));
        }
    }
    let encoder =
        document.container.jpeg.as_ref().and_then(|jpeg| models.signatures.identify(&jpeg.quant_tables));
    if let Some(encoder) = &encoder {
        metrics.push(Evidence::text("jpeg_encoder_family", encoder.family.clone()));
        metrics.push(Evidence::text("jpeg_encoder_setting", encoder.setting.clone()));
        if encoder.kind == EncoderKind::Editor {
            findings.push(requantized_finding(encoder));
            if let Some(make) = &facts.camera_make {
                // The file claims a camera, but an editor wrote its pixels.
                inconsistencies.push(Evidence::text("camera_make", make.clone()));
                inconsistencies.push(Evidence::text("quantization_tables_of", encoder_label(encoder)));
            }
        }
    }
    if !inconsistencies.is_empty() {
        findings.push(Finding::new(
            ReasonCode::TamperMetadataInconsistent,
            1.0,
            "the metadata contradicts itself: the file was changed after it was taken",
            inconsistencies,
        ));
    }
    if let Some(comparison) = thumbnail::compare_thumbnail(document, &planes.luma) {
        let thresholds = &models.thresholds;
        metrics.push(Evidence::number("thumbnail_difference", round3(comparison.difference)));
        metrics.push(Evidence::number("thumbnail_aspect_difference", round3(comparison.aspect_difference)));
        let content = comparison.difference >= thresholds.thumbnail_max_difference;
        let aspect = comparison.aspect_difference >= thresholds.thumbnail_max_aspect_difference;
        if content || aspect {
            let excess = (comparison.difference / thresholds.thumbnail_max_difference)
                .max(comparison.aspect_difference / thresholds.thumbnail_max_aspect_difference);
            findings.push(Finding::new(
                ReasonCode::TamperThumbnailMismatch,
                (0.5 + 0.25 * (excess - 1.0)).clamp(0.5, 1.0),
                "the embedded EXIF thumbnail shows a different picture: the image was changed after the thumbnail was written",
                vec![
                    Evidence::number("thumbnail_difference", round3(comparison.difference)),
                    Evidence::number("threshold", thresholds.thumbnail_max_difference),
                    Evidence::number("thumbnail_aspect_difference", round3(comparison.aspect_difference)),
                    Evidence::number("aspect_threshold", thresholds.thumbnail_max_aspect_difference),
                    Evidence::text("thumbnail_picture", format!("{}x{}", comparison.width, comparison.height)),
                ],
            ));
        }
    }
    let local = local::analyze_local(document, &models.thresholds.local);
    metrics.extend(local.metrics);
    metrics.push(Evidence::number("local_manipulation_score", round3(local.score)));
    findings.extend(local.findings);
    if let Some(double) = local.double_quantization {
        metrics.extend(double.iter().cloned());
        match findings.iter_mut().find(|f| f.code == ReasonCode::TamperRequantized) {
            Some(finding) => finding.evidence.extend(double),
            // Standard tables: a re-save, which apps and messaging services make of honest uploads too.
            None => findings.push(Finding::new(
                ReasonCode::TamperResaved,
                0.8,
                "the pixels were quantized twice: the JPEG was decoded and saved again",
                double,
            )),
        }
    }
    let stripped = document.format == ImageFormat::Jpeg
        && document.container.exif.is_none()
        && document.container.xmp.is_none();
    if stripped {
        findings.push(Finding::new(
            ReasonCode::TamperMetadataStripped,
            1.0,
            "a JPEG without EXIF or XMP: camera metadata was removed or never written (context only)",
            vec![Evidence::flag("exif_present", false), Evidence::flag("xmp_present", false)],
        ));
    }
    TamperReport {
        metrics,
        findings,
        inconclusive: local.inconclusive,
        maps: local.maps,
        local_score: local.score,
        anomaly_scores: models.thresholds.local.anomaly_scores.clone(),
    }
}

fn encoder_label(encoder: &EncoderMatch) -> String {
    if encoder.setting.is_empty() {
        encoder.family.clone()
    } else {
        format!("{} {}", encoder.family, encoder.setting)
    }
}

/// The tables are an editor's own: whatever the metadata says, an editor wrote these pixels last.
fn requantized_finding(encoder: &EncoderMatch) -> Finding {
    Finding::new(
        ReasonCode::TamperRequantized,
        1.0,
        format!("the JPEG was last saved by {} (its quantization tables)", encoder_label(encoder)),
        vec![
            Evidence::text("encoder_family", encoder.family.clone()),
            Evidence::text("encoder_kind", encoder.kind.as_str()),
            Evidence::text("encoder_setting", encoder.setting.clone()),
        ],
    )
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// One finding naming every editor or converter the metadata mentions (editors first).
fn software_finding(facts: &MetadataFacts, models: &TamperModels) -> Option<Finding> {
    let mut identified: Vec<(&SoftwareSignature, &metadata::SoftwareTrace)> = facts
        .traces
        .iter()
        // A generator naming itself is a statement of generation (`generative`), not an editor.
        .filter(|trace| models.generators.generator(&trace.value).is_none())
        .filter_map(|trace| {
            // Photoshop's own save-quality record names Photoshop whatever else the file says.
            let signature = if trace.source == "photoshop.SaveQuality" {
                models.identify("photoshop")
            } else {
                models.identify(&trace.value)
            };
            signature.map(|signature| (signature, trace))
        })
        .collect();
    identified.sort_by_key(|(signature, _)| signature.kind != SoftwareKind::Editor);
    let &(strongest, _) = identified.first()?;
    let score = match strongest.kind {
        SoftwareKind::Editor => 1.0,
        SoftwareKind::Converter => models.thresholds.converter_score,
    };
    let mut evidence = vec![
        Evidence::text("software", strongest.name.clone()),
        Evidence::text("kind", strongest.kind.as_str()),
    ];
    // One entry per source (evidence names are keys), its distinct values joined.
    let mut by_source: Vec<(&'static str, Vec<&str>)> = Vec::new();
    for (_, trace) in &identified {
        match by_source.iter_mut().find(|(source, _)| *source == trace.source) {
            Some((_, values)) if !values.contains(&trace.value.as_str()) => values.push(&trace.value),
            Some(_) => {}
            None => by_source.push((trace.source, vec![&trace.value])),
        }
    }
    for (source, values) in by_source {
        evidence.push(Evidence::text(source, values.join(" | ")));
    }
    let message = format!("the file was written by {} ({})", strongest.name, strongest.kind.as_str());
    Some(Finding::new(ReasonCode::TamperEditingSoftware, score, message, evidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::planes::working_planes;

    #[test]
    fn embedded_models_parse_and_identify() {
        let models = TamperModels::embedded();
        assert_eq!(models.identify("Adobe Photoshop CS6 (Windows)").unwrap().name, "Adobe Photoshop");
        assert_eq!(models.identify("GIMP 2.4.5").unwrap().kind, SoftwareKind::Editor);
        assert_eq!(models.identify("QuickTime 6.0.2").unwrap().kind, SoftwareKind::Converter);
        for firmware in ["Ver 1.12", "HDR+ 1.0.621982163zd", "E5000v1.6", "Digital Camera DX-10 Ver1.00"] {
            assert!(models.identify(firmware).is_none(), "{firmware}");
        }
    }

    #[test]
    fn a_negative_local_score_weight_is_refused() {
        let parse = |thresholds: &str| {
            TamperModels::parse(EMBEDDED_EDITORS, thresholds, EMBEDDED_SIGNATURES, EMBEDDED_GENERATORS)
        };
        assert!(parse(EMBEDDED_THRESHOLDS).is_ok());
        for (shipped, changed) in [
            ("sharpness = 1.63", "sharpness = -1.63"),
            ("copy_move_score_weight = 0.23", "copy_move_score_weight = -1"),
        ] {
            assert!(EMBEDDED_THRESHOLDS.contains(shipped), "{shipped}");
            let refused = parse(&EMBEDDED_THRESHOLDS.replace(shipped, changed));
            assert!(matches!(refused, Err(TamperConfigError::Invalid(_))), "{changed}");
        }
    }

    /// A real JPEG of `width`×`height` with an EXIF block holding `fields`.
    pub(super) fn jpeg_with_exif(width: u32, height: u32, fields: &[exif::Field]) -> Vec<u8> {
        let image =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
        crate::eval::tamper::with_exif(&crate::eval::synthetic::capture::encode_jpeg(&image, 90), fields)
    }

    pub(super) fn ascii(tag: exif::Tag, value: &str) -> exif::Field {
        exif::Field {
            tag,
            ifd_num: exif::In::PRIMARY,
            value: exif::Value::Ascii(vec![value.as_bytes().to_vec()]),
        }
    }

    /// `jpeg` with an XMP packet in an APP1 segment right after SOI.
    pub(super) fn with_xmp(jpeg: &[u8], xmp: &str) -> Vec<u8> {
        let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        payload.extend_from_slice(xmp.as_bytes());
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn adobe_bridge_as_the_writer_and_a_photoshop_history_log_are_editor_traces() {
        let capture = [ascii(exif::Tag::DateTimeOriginal, "2025:05:01 10:00:00")];
        let bridge = with_xmp(
            &jpeg_with_exif(64, 48, &capture),
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmp:CreatorTool="Adobe Bridge 2024"/></rdf:RDF></x:xmpmeta>"#,
        );
        assert_eq!(codes_of(&bridge), [ReasonCode::TamperEditingSoftware]);
        let logged = with_xmp(
            &jpeg_with_exif(64, 48, &capture),
            "<x:xmpmeta><rdf:RDF><rdf:Description><photoshop:History>2025-05-02T09:00:00+09:00&#x9;File id.jpg opened&#xA;2025-05-02T09:03:12+09:00&#x9;File id.jpg saved&#xA;</photoshop:History></rdf:Description></rdf:RDF></x:xmpmeta>",
        );
        let codes = codes_of(&logged);
        assert!(codes.contains(&ReasonCode::TamperEditingSoftware), "{codes:?}");
        assert!(codes.contains(&ReasonCode::TamperEditHistory), "{codes:?}");
    }

    /// The tamper findings' codes of an upload.
    pub(super) fn codes_of(bytes: &[u8]) -> Vec<ReasonCode> {
        let document =
            crate::analysis::decode::decode(bytes, &crate::analysis::decode::DecodeLimits::default())
                .unwrap();
        assess_tamper(&document, &working_planes(&document.rgb, 1000), &TamperModels::embedded())
            .findings
            .iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn software_dates_and_dimensions_from_a_real_exif_block() {
        let capture = ascii(exif::Tag::DateTimeOriginal, "2025:05:01 10:00:00");
        let camera = [capture.clone(), ascii(exif::Tag::DateTime, "2025:05:01 10:00:00")];
        assert!(codes_of(&jpeg_with_exif(64, 48, &camera)).is_empty(), "a consistent camera file");

        let edited = [
            capture,
            ascii(exif::Tag::DateTime, "2025:06:12 18:30:00"),
            ascii(exif::Tag::Software, "Adobe Photoshop 25.0 (Windows)"),
            exif::Field {
                tag: exif::Tag::PixelXDimension,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Long(vec![4000]),
            },
            exif::Field {
                tag: exif::Tag::PixelYDimension,
                ifd_num: exif::In::PRIMARY,
                value: exif::Value::Long(vec![3000]),
            },
        ];
        let bytes = jpeg_with_exif(64, 48, &edited);
        assert_eq!(
            codes_of(&bytes),
            [ReasonCode::TamperEditingSoftware, ReasonCode::TamperMetadataInconsistent]
        );
        let document =
            crate::analysis::decode::decode(&bytes, &crate::analysis::decode::DecodeLimits::default())
                .unwrap();
        let report =
            assess_tamper(&document, &working_planes(&document.rgb, 1000), &TamperModels::embedded());
        let evidence = &report.findings[1].evidence;
        assert!(
            evidence.contains(&Evidence::number("modify_date_gap_seconds", (42.0 * 86_400.0) + 8.5 * 3600.0))
        );
        assert!(evidence.contains(&Evidence::text("exif_dimensions", "4000x3000")));
    }

    #[test]
    fn a_jpeg_without_metadata_is_context_only() {
        let jpeg = crate::eval::synthetic::fixtures::jpeg(
            &image::RgbImage::from_pixel(32, 32, image::Rgb([10, 20, 30])),
            90,
        );
        assert_eq!(codes_of(&jpeg), [ReasonCode::TamperMetadataStripped]);
        let policy = crate::domain::policy::Policy::embedded();
        let document =
            crate::analysis::decode::decode(&jpeg, &crate::analysis::decode::DecodeLimits::default())
                .unwrap();
        let assessment = policy.assess(
            assess_tamper(&document, &working_planes(&document.rgb, 1000), &TamperModels::embedded())
                .findings,
        );
        assert_eq!(assessment.decision, crate::domain::policy::Decision::Accept, "never a reason on its own");
    }

    /// `jpeg` with its luminance and chrominance tables overwritten (8-bit DQT entries).
    fn with_tables(mut jpeg: Vec<u8>, luminance: &[u16], chrominance: &[u16]) -> Vec<u8> {
        let mut at = 2;
        while at + 4 <= jpeg.len() && jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
            let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            if jpeg[at + 1] == 0xDB {
                let mut table = at + 4;
                while table < at + 2 + length {
                    let source = if jpeg[table] & 0x0F == 0 { luminance } else { chrominance };
                    for (slot, &value) in jpeg[table + 1..table + 65].iter_mut().zip(source) {
                        *slot = value as u8;
                    }
                    table += 65;
                }
            }
            at += 2 + length;
        }
        jpeg
    }

    #[test]
    fn an_editors_tables_are_requantized_even_without_metadata() {
        let models = TamperModels::embedded();
        let photoshop =
            models.signatures.table_sets.iter().find(|set| set.setting == "Save As quality 8").unwrap();
        let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
        let plain = crate::eval::synthetic::fixtures::jpeg(&image, 90);
        assert_eq!(codes_of(&plain), [ReasonCode::TamperMetadataStripped], "IJG tables say nothing");
        let saved_by_photoshop = with_tables(plain, &photoshop.luminance, &photoshop.chrominance);
        assert_eq!(
            codes_of(&saved_by_photoshop),
            [ReasonCode::TamperRequantized, ReasonCode::TamperMetadataStripped]
        );
        let document = crate::analysis::decode::decode(
            &saved_by_photoshop,
            &crate::analysis::decode::DecodeLimits::default(),
        )
        .unwrap();
        let report = assess_tamper(&document, &working_planes(&document.rgb, 1000), &models);
        assert!(
            report.findings[0].evidence.contains(&Evidence::text("encoder_setting", "Save As quality 8"))
        );

        let camera = [ascii(exif::Tag::Make, "SONY")];
        let claims_a_camera =
            with_tables(jpeg_with_exif(64, 48, &camera), &photoshop.luminance, &photoshop.chrominance);
        assert_eq!(
            codes_of(&claims_a_camera),
            [ReasonCode::TamperRequantized, ReasonCode::TamperMetadataInconsistent],
            "a camera's Make over an editor's tables"
        );
    }

    #[test]
    fn one_innocent_re_save_is_resaved_and_never_a_review_on_its_own() {
        // A camera original (its own tables), re-saved once at quality 85 with IJG tables, as an app
        // would.
        let first = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/camera-sony-cybershot.jpg"))
            .unwrap();
        let limits = crate::analysis::decode::DecodeLimits::default();
        let decoded = crate::analysis::decode::decode(&first, &limits).unwrap();
        let resaved = crate::eval::synthetic::fixtures::jpeg(&decoded.rgb, 85);
        assert_eq!(codes_of(&resaved), [ReasonCode::TamperResaved, ReasonCode::TamperMetadataStripped]);
        let document = crate::analysis::decode::decode(&resaved, &limits).unwrap();
        let findings =
            assess_tamper(&document, &working_planes(&document.rgb, 1000), &TamperModels::embedded())
                .findings;
        let assessment = crate::domain::policy::Policy::embedded().assess(findings);
        assert_eq!(assessment.decision, crate::domain::policy::Decision::Accept);
    }

    #[test]
    fn exif_dates_subtract() {
        let a = exif_seconds("2024:02:28 23:59:50").unwrap();
        let b = exif_seconds("2024:03:01 00:00:10").unwrap();
        assert_eq!(b - a, 86_400 + 20, "2024 is a leap year");
        assert_eq!(exif_seconds("0000:00:00 00:00:00"), None);
        assert_eq!(exif_seconds("garbage"), None);
    }
}
