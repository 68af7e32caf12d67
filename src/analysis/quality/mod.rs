//! The quality gate: is the image good enough to verify a document from?
//!
//! Every measure is taken once on a working plane (see [`crate::analysis::decode::planes`]) and reported as a metric, fired or
//! not; findings carry the measured value, the threshold and a hint for the user. Thresholds and
//! their calibration notes live in `models/quality.toml`.

pub mod compression;
pub mod measures;

use std::path::Path;

use serde::Deserialize;

use crate::analysis::decode::planes::WorkingPlanes;
use crate::analysis::decode::{DecodedDocument, ImageFormat};
use crate::domain::findings::{Evidence, Finding, ReasonCode, Region};
use measures::{GlareCriteria, Histogram, chroma, glare_blobs, laplacian_stats};

/// The thresholds shipped in `models/quality.toml`.
const EMBEDDED_THRESHOLDS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/quality.toml"));

/// Quality thresholds, from `models/quality.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityThresholds {
    /// Version of the thresholds file.
    pub version: String,
    /// Long side of the working plane.
    pub working_long_side: u32,
    /// Resolution gate.
    pub resolution: ResolutionThresholds,
    /// Focus gate.
    pub blur: BlurThresholds,
    /// Exposure gates.
    pub exposure: ExposureThresholds,
    /// Glare gate.
    pub glare: GlareThresholds,
    /// Contrast gate.
    pub contrast: ContrastThresholds,
    /// Grayscale-copy gate.
    pub grayscale: GrayscaleThresholds,
    /// Compression gate.
    pub compression: CompressionThresholds,
    /// Screenshot detector.
    pub screenshot: ScreenshotThresholds,
}

/// See `models/quality.toml`, `[resolution]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionThresholds {
    /// Fewest pixels along the long side.
    pub min_long_side: u32,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[blur]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlurThresholds {
    /// Lowest acceptable focus measure.
    pub min_focus: f64,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[exposure]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureThresholds {
    /// 95th-percentile luma at or below which the image is dark: even its brightest parts are dim.
    pub dark_max_p95: f64,
    /// Median luma at or below which the image is dark whatever its highlights (a night scene
    /// with a few lamps).
    pub dark_max_median: f64,
    /// Clipped-bright share at or above which the image is over-exposed.
    pub overexposed_min_clipped: f64,
    /// User hint for dark images.
    pub dark_hint: String,
    /// User hint for over-exposed images.
    pub overexposed_hint: String,
}

/// See `models/quality.toml`, `[glare]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlareThresholds {
    /// Luma of a highlight pixel.
    pub min_luma: u8,
    /// Largest chroma of a highlight pixel.
    pub max_chroma: u8,
    /// Smallest blob, as a share of the image.
    pub min_blob_share: f64,
    /// Largest blob, as a share of the image.
    pub max_blob_share: f64,
    /// Least luma drop from the ring just outside a blob to a ring further out.
    pub min_halo_falloff: f64,
    /// Total blob share that makes a finding.
    pub min_share: f64,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[contrast]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContrastThresholds {
    /// Smallest 5–95 percentile luma spread.
    pub min_spread: f64,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[grayscale]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrayscaleThresholds {
    /// Mean chroma at or below which the image is colourless.
    pub max_mean_chroma: f64,
    /// 99th-percentile chroma at or below which the image is colourless.
    pub max_p99_chroma: f64,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[compression]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressionThresholds {
    /// Lowest acceptable estimated JPEG quality.
    pub min_jpeg_quality: u8,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[screenshot]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenshotThresholds {
    /// Smallest share of perfectly flat pixels.
    pub min_flat_share: f64,
    /// Common screen resolutions (width, height), matched in either orientation.
    pub screen_sizes: Vec<(u32, u32)>,
    /// User hint.
    pub hint: String,
}

/// A thresholds file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum QualityConfigError {
    /// Unreadable file.
    #[error("cannot read quality thresholds {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid TOML or shape.
    #[error("invalid quality thresholds: {0}")]
    Parse(#[from] toml::de::Error),
}

impl QualityThresholds {
    /// The thresholds shipped in `models/quality.toml`.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_THRESHOLDS).expect("models/quality.toml is validated by the test suite")
    }

    /// Parses thresholds text.
    pub fn parse(text: &str) -> Result<Self, QualityConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Loads a tuned copy of `models/quality.toml`.
    pub fn load(path: &Path) -> Result<Self, QualityConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| QualityConfigError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }
}

/// Every quality measurement and the findings they produced.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// All measurements, fired or not.
    pub metrics: Vec<Evidence>,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// The luma spread focus is normalised to.
const NOMINAL_SPREAD: f64 = 128.0;
/// Below this spread the image is flat and normalising would only amplify noise.
const MIN_NORMALISING_SPREAD: f64 = 16.0;

/// How far past a threshold a value lies, as a finding score in 0.5..=1: 0.5 just past it, 1 at
/// `span` beyond.
fn score_past(value: f64, threshold: f64, span: f64) -> f64 {
    0.5 + 0.5 * ((value - threshold).abs() / span.max(f64::EPSILON)).min(1.0)
}

fn quality_finding(
    code: ReasonCode,
    score: f64,
    message: &str,
    hint: &str,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = Finding::new(code, score, message, evidence);
    finding.hint = Some(hint.to_owned());
    finding.retryable = true;
    finding
}

/// Runs every quality check on a decoded upload and its working planes (made with
/// `thresholds.working_long_side`).
pub fn assess_quality(
    document: &DecodedDocument,
    planes: &WorkingPlanes,
    thresholds: &QualityThresholds,
) -> QualityReport {
    let (width, height) = document.rgb.dimensions();
    let long_side = width.max(height);
    let laplacian = laplacian_stats(&planes.luma);
    let luma = Histogram::of(planes.luma.pixels().map(|p| p[0]));
    let spread = luma.percentile(0.95) - luma.percentile(0.05);
    // The Laplacian's variance grows with the square of contrast; normalised to a nominal 5-95 %
    // spread of 128 levels, focus says how sharp the image is, not how contrasty.
    let focus = laplacian.focus * (NOMINAL_SPREAD / spread.max(MIN_NORMALISING_SPREAD)).powi(2);
    let chromas = Histogram::of(planes.rgb.pixels().map(chroma));
    let working_area = f64::from(planes.luma.width()) * f64::from(planes.luma.height());

    let median = luma.percentile(0.5);
    let clipped_bright = luma.share_at_least(250);
    let (mean_chroma, p99_chroma) = (chromas.mean(), chromas.percentile(0.99));
    let p95 = luma.percentile(0.95);
    let glare = &thresholds.glare;
    let criteria = GlareCriteria {
        min_luma: glare.min_luma,
        max_chroma: glare.max_chroma,
        min_area: (glare.min_blob_share * working_area).ceil().max(1.0) as u32,
        max_area: (glare.max_blob_share * working_area) as u32,
        min_halo_falloff: glare.min_halo_falloff,
    };
    let blobs = glare_blobs(&planes.rgb, &planes.luma, &criteria);
    let glare_share = blobs.iter().map(|blob| f64::from(blob.area)).sum::<f64>() / working_area;
    let jpeg_quality = document
        .container
        .jpeg
        .as_ref()
        .and_then(|jpeg| compression::estimate_jpeg_quality(&jpeg.quant_tables));
    let camera_make = document
        .container
        .exif
        .as_ref()
        .and_then(|exif| exif.get_field(exif::Tag::Make, exif::In::PRIMARY))
        .map(|field| field.display_value().to_string().trim_matches('"').trim().to_owned())
        .filter(|make| !make.is_empty());

    let mut metrics = vec![
        Evidence::number("long_side_px", f64::from(long_side)),
        Evidence::number("working_factor", f64::from(planes.factor)),
        Evidence::number("focus", focus),
        Evidence::number("luma_median", median),
        Evidence::number("luma_p95", p95),
        Evidence::number("luma_spread_p5_p95", spread),
        Evidence::number("clipped_bright_share", clipped_bright),
        Evidence::number("glare_share", glare_share),
        Evidence::number("chroma_mean", mean_chroma),
        Evidence::number("chroma_p99", p99_chroma),
        Evidence::number("flat_share", laplacian.flat_share),
    ];
    if let Some(estimate) = jpeg_quality {
        metrics.push(Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)));
        metrics.push(Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg));
    }

    let mut findings = Vec::new();
    let min_long = thresholds.resolution.min_long_side;
    if long_side < min_long {
        findings.push(quality_finding(
            ReasonCode::QualityLowResolution,
            score_past(f64::from(long_side), f64::from(min_long), f64::from(min_long) / 2.0),
            "too few pixels across the document to read it",
            &thresholds.resolution.hint,
            vec![
                Evidence::number("long_side_px", f64::from(long_side)),
                Evidence::number("threshold", f64::from(min_long)),
            ],
        ));
    }
    let exposure = &thresholds.exposure;
    let dark = p95 <= exposure.dark_max_p95 || median <= exposure.dark_max_median;
    let overexposed = clipped_bright >= exposure.overexposed_min_clipped;
    if dark {
        findings.push(quality_finding(
            ReasonCode::QualityDark,
            score_past(p95, exposure.dark_max_p95, exposure.dark_max_p95),
            "the image is too dark: even its brightest parts are dim",
            &exposure.dark_hint,
            vec![
                Evidence::number("luma_p95", p95),
                Evidence::number("threshold_p95", exposure.dark_max_p95),
                Evidence::number("luma_median", median),
                Evidence::number("threshold_median", exposure.dark_max_median),
            ],
        ));
    }
    if overexposed {
        findings.push(quality_finding(
            ReasonCode::QualityOverexposed,
            score_past(
                clipped_bright,
                exposure.overexposed_min_clipped,
                1.0 - exposure.overexposed_min_clipped,
            ),
            "large parts of the image are blown out to white",
            &exposure.overexposed_hint,
            vec![
                Evidence::number("clipped_bright_share", clipped_bright),
                Evidence::number("threshold", exposure.overexposed_min_clipped),
            ],
        ));
    }
    // Focus and contrast are unreliable on a badly exposed image; its exposure finding says why.
    let exposure_ok = !dark && !overexposed;
    if exposure_ok && focus < thresholds.blur.min_focus {
        findings.push(quality_finding(
            ReasonCode::QualityBlur,
            score_past(focus, thresholds.blur.min_focus, thresholds.blur.min_focus),
            "the image is out of focus or motion-blurred",
            &thresholds.blur.hint,
            vec![
                Evidence::number("focus", focus),
                Evidence::number("threshold", thresholds.blur.min_focus),
                Evidence::number("working_factor", f64::from(planes.factor)),
            ],
        ));
    }
    if exposure_ok && spread < thresholds.contrast.min_spread {
        findings.push(quality_finding(
            ReasonCode::QualityLowContrast,
            score_past(spread, thresholds.contrast.min_spread, thresholds.contrast.min_spread),
            "the image has too little contrast to read",
            &thresholds.contrast.hint,
            vec![
                Evidence::number("luma_spread_p5_p95", spread),
                Evidence::number("threshold", thresholds.contrast.min_spread),
            ],
        ));
    }
    if !overexposed && glare_share >= glare.min_share {
        let mut finding = quality_finding(
            ReasonCode::QualityGlare,
            score_past(glare_share, glare.min_share, 10.0 * glare.min_share),
            "light reflections cover part of the document",
            &glare.hint,
            vec![
                Evidence::number("glare_share", glare_share),
                Evidence::number("threshold", glare.min_share),
                Evidence::number("blobs", blobs.len() as f64),
            ],
        );
        let factor = planes.factor;
        finding.regions = blobs
            .iter()
            .map(|blob| {
                let (x, y, w, h) = blob.bounds;
                Region {
                    x: x * factor,
                    y: y * factor,
                    width: w * factor,
                    height: h * factor,
                    label: "glare".into(),
                }
            })
            .collect();
        findings.push(finding);
    }
    let gray = &thresholds.grayscale;
    if mean_chroma <= gray.max_mean_chroma && p99_chroma <= gray.max_p99_chroma {
        findings.push(quality_finding(
            ReasonCode::QualityGrayscaleCopy,
            score_past(mean_chroma, gray.max_mean_chroma, gray.max_mean_chroma),
            "a black-and-white copy, where a colour photo of the document is expected",
            &gray.hint,
            vec![
                Evidence::number("chroma_mean", mean_chroma),
                Evidence::number("chroma_p99", p99_chroma),
                Evidence::number("threshold_mean", gray.max_mean_chroma),
                Evidence::number("threshold_p99", gray.max_p99_chroma),
            ],
        ));
    }
    if let Some(estimate) = jpeg_quality {
        let min_quality = thresholds.compression.min_jpeg_quality;
        if estimate.quality < min_quality {
            findings.push(quality_finding(
                ReasonCode::QualityHeavyCompression,
                score_past(f64::from(estimate.quality), f64::from(min_quality), f64::from(min_quality)),
                "the JPEG is so compressed that detail and forensic traces are lost",
                &thresholds.compression.hint,
                vec![
                    Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)),
                    Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg),
                    Evidence::number("threshold", f64::from(min_quality)),
                ],
            ));
        }
    }
    let screen = &thresholds.screenshot;
    let screen_sized =
        screen.screen_sizes.iter().any(|&(w, h)| (w, h) == (width, height) || (h, w) == (width, height));
    if camera_make.is_none() && screen_sized && laplacian.flat_share >= screen.min_flat_share {
        let mut finding = quality_finding(
            ReasonCode::QualityScreenshot,
            score_past(laplacian.flat_share, screen.min_flat_share, 1.0 - screen.min_flat_share),
            "a screen capture rather than a photo of the document",
            &screen.hint,
            vec![
                Evidence::flag("camera_metadata", false),
                Evidence::text("dimensions", format!("{width}x{height}")),
                Evidence::flag("screen_sized", true),
                Evidence::number("flat_share", laplacian.flat_share),
                Evidence::number("threshold", screen.min_flat_share),
                Evidence::flag(
                    "lossless_format",
                    matches!(document.format, ImageFormat::Png | ImageFormat::Tiff),
                ),
            ],
        );
        finding.retryable = true;
        findings.push(finding);
    }
    QualityReport { metrics, findings }
}

#[cfg(test)]
mod tests;
