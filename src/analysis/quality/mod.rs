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
use compression::QualityEstimate;
use measures::{GlareBlob, GlareCriteria, Histogram, chroma, glare_blobs, laplacian_stats};

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
    /// The 5–95 % luma spread focus is normalised to.
    #[serde(default = "shipped::nominal_spread")]
    pub nominal_spread: f64,
    /// Below this spread the image is flat and normalising would only amplify noise.
    #[serde(default = "shipped::min_normalising_spread")]
    pub min_normalising_spread: f64,
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
    /// Luma at or above which a pixel counts as clipped bright.
    #[serde(default = "shipped::clipped_luma")]
    pub clipped_luma: u8,
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
    /// Blob share at which the finding's score reaches 1.
    #[serde(default = "shipped::score_full_share")]
    pub score_full_share: f64,
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

/// The shipped values of settings added after tuned copies of `models/quality.toml` may have been
/// made: such a copy takes them.
mod shipped {
    use super::QualityThresholds;

    pub(super) fn nominal_spread() -> f64 {
        QualityThresholds::embedded().blur.nominal_spread
    }
    pub(super) fn min_normalising_spread() -> f64 {
        QualityThresholds::embedded().blur.min_normalising_spread
    }
    pub(super) fn clipped_luma() -> u8 {
        QualityThresholds::embedded().exposure.clipped_luma
    }
    pub(super) fn score_full_share() -> f64 {
        QualityThresholds::embedded().glare.score_full_share
    }
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

/// Everything the checks read, measured once per upload.
struct Measures {
    width: u32,
    height: u32,
    /// Box-averaging factor of the working plane.
    factor: u32,
    /// Laplacian focus normalised to a nominal contrast.
    focus: f64,
    /// Share of perfectly flat working-plane pixels.
    flat_share: f64,
    luma_median: f64,
    luma_p95: f64,
    /// 5–95 percentile luma spread.
    spread: f64,
    clipped_bright: f64,
    glare_blobs: Vec<GlareBlob>,
    glare_share: f64,
    chroma_mean: f64,
    chroma_p99: f64,
    jpeg_quality: Option<QualityEstimate>,
    camera_make: Option<String>,
    lossless: bool,
}

impl Measures {
    fn take(document: &DecodedDocument, planes: &WorkingPlanes, thresholds: &QualityThresholds) -> Self {
        let (width, height) = document.rgb.dimensions();
        let laplacian = laplacian_stats(&planes.luma);
        let luma = Histogram::of(planes.luma.pixels().map(|p| p[0]));
        let spread = luma.percentile(0.95) - luma.percentile(0.05);
        // The Laplacian's variance grows with the square of contrast; normalised to a nominal 5-95 %
        // spread, focus says how sharp the image is, not how contrasty.
        let blur = &thresholds.blur;
        let focus = laplacian.focus * (blur.nominal_spread / spread.max(blur.min_normalising_spread)).powi(2);
        let chromas = Histogram::of(planes.rgb.pixels().map(chroma));
        let working_area = f64::from(planes.luma.width()) * f64::from(planes.luma.height());
        let glare = &thresholds.glare;
        let criteria = GlareCriteria {
            min_luma: glare.min_luma,
            max_chroma: glare.max_chroma,
            min_area: (glare.min_blob_share * working_area).ceil().max(1.0) as u32,
            max_area: (glare.max_blob_share * working_area) as u32,
            min_halo_falloff: glare.min_halo_falloff,
        };
        let glare_blobs = glare_blobs(&planes.rgb, &planes.luma, &criteria);
        let glare_share = glare_blobs.iter().map(|blob| f64::from(blob.area)).sum::<f64>() / working_area;
        Measures {
            width,
            height,
            factor: planes.factor,
            focus,
            flat_share: laplacian.flat_share,
            luma_median: luma.percentile(0.5),
            luma_p95: luma.percentile(0.95),
            spread,
            clipped_bright: luma.share_at_least(thresholds.exposure.clipped_luma),
            glare_blobs,
            glare_share,
            chroma_mean: chromas.mean(),
            chroma_p99: chromas.percentile(0.99),
            jpeg_quality: document
                .container
                .jpeg
                .as_ref()
                .and_then(|jpeg| compression::estimate_jpeg_quality(&jpeg.quant_tables)),
            camera_make: document
                .container
                .exif
                .as_ref()
                .and_then(|exif| exif.get_field(exif::Tag::Make, exif::In::PRIMARY))
                .map(|field| field.display_value().to_string().trim_matches('"').trim().to_owned())
                .filter(|make| !make.is_empty()),
            lossless: matches!(document.format, ImageFormat::Png | ImageFormat::Tiff),
        }
    }

    /// Every measurement, reported whether or not a check fires.
    fn metrics(&self) -> Vec<Evidence> {
        let mut metrics = vec![
            Evidence::number("long_side_px", f64::from(self.long_side())),
            Evidence::number("working_factor", f64::from(self.factor)),
            Evidence::number("focus", self.focus),
            Evidence::number("luma_median", self.luma_median),
            Evidence::number("luma_p95", self.luma_p95),
            Evidence::number("luma_spread_p5_p95", self.spread),
            Evidence::number("clipped_bright_share", self.clipped_bright),
            Evidence::number("glare_share", self.glare_share),
            Evidence::number("chroma_mean", self.chroma_mean),
            Evidence::number("chroma_p99", self.chroma_p99),
            Evidence::number("flat_share", self.flat_share),
        ];
        if let Some(estimate) = self.jpeg_quality {
            metrics.push(Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)));
            metrics.push(Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg));
        }
        metrics
    }

    fn long_side(&self) -> u32 {
        self.width.max(self.height)
    }

    fn dark(&self, exposure: &ExposureThresholds) -> bool {
        self.luma_p95 <= exposure.dark_max_p95 || self.luma_median <= exposure.dark_max_median
    }

    fn overexposed(&self, exposure: &ExposureThresholds) -> bool {
        self.clipped_bright >= exposure.overexposed_min_clipped
    }

    /// Focus and contrast are unreliable on a badly exposed image; its exposure finding says why.
    fn well_exposed(&self, exposure: &ExposureThresholds) -> bool {
        !self.dark(exposure) && !self.overexposed(exposure)
    }
}

/// One check of the gate: the measures and thresholds in, a finding out when it fires.
type Check = fn(&Measures, &QualityThresholds) -> Option<Finding>;

/// The checks, in the order their findings are reported.
const CHECKS: [Check; 9] = [
    low_resolution,
    dark,
    overexposed,
    blur,
    low_contrast,
    glare,
    grayscale_copy,
    heavy_compression,
    screenshot,
];

fn low_resolution(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let min_long = t.resolution.min_long_side;
    (m.long_side() < min_long).then(|| {
        quality_finding(
            ReasonCode::QualityLowResolution,
            score_past(f64::from(m.long_side()), f64::from(min_long), f64::from(min_long) / 2.0),
            "too few pixels across the document to read it",
            &t.resolution.hint,
            vec![
                Evidence::number("long_side_px", f64::from(m.long_side())),
                Evidence::number("threshold", f64::from(min_long)),
            ],
        )
    })
}

fn dark(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let exposure = &t.exposure;
    m.dark(exposure).then(|| {
        quality_finding(
            ReasonCode::QualityDark,
            score_past(m.luma_p95, exposure.dark_max_p95, exposure.dark_max_p95),
            "the image is too dark: even its brightest parts are dim",
            &exposure.dark_hint,
            vec![
                Evidence::number("luma_p95", m.luma_p95),
                Evidence::number("threshold_p95", exposure.dark_max_p95),
                Evidence::number("luma_median", m.luma_median),
                Evidence::number("threshold_median", exposure.dark_max_median),
            ],
        )
    })
}

fn overexposed(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let exposure = &t.exposure;
    m.overexposed(exposure).then(|| {
        quality_finding(
            ReasonCode::QualityOverexposed,
            score_past(
                m.clipped_bright,
                exposure.overexposed_min_clipped,
                1.0 - exposure.overexposed_min_clipped,
            ),
            "large parts of the image are blown out to white",
            &exposure.overexposed_hint,
            vec![
                Evidence::number("clipped_bright_share", m.clipped_bright),
                Evidence::number("threshold", exposure.overexposed_min_clipped),
            ],
        )
    })
}

fn blur(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let min_focus = t.blur.min_focus;
    (m.well_exposed(&t.exposure) && m.focus < min_focus).then(|| {
        quality_finding(
            ReasonCode::QualityBlur,
            score_past(m.focus, min_focus, min_focus),
            "the image is out of focus or motion-blurred",
            &t.blur.hint,
            vec![
                Evidence::number("focus", m.focus),
                Evidence::number("threshold", min_focus),
                Evidence::number("working_factor", f64::from(m.factor)),
            ],
        )
    })
}

fn low_contrast(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let min_spread = t.contrast.min_spread;
    (m.well_exposed(&t.exposure) && m.spread < min_spread).then(|| {
        quality_finding(
            ReasonCode::QualityLowContrast,
            score_past(m.spread, min_spread, min_spread),
            "the image has too little contrast to read",
            &t.contrast.hint,
            vec![Evidence::number("luma_spread_p5_p95", m.spread), Evidence::number("threshold", min_spread)],
        )
    })
}

fn glare(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let glare = &t.glare;
    if m.overexposed(&t.exposure) || m.glare_share < glare.min_share {
        return None;
    }
    let mut finding = quality_finding(
        ReasonCode::QualityGlare,
        score_past(m.glare_share, glare.min_share, glare.score_full_share),
        "light reflections cover part of the document",
        &glare.hint,
        vec![
            Evidence::number("glare_share", m.glare_share),
            Evidence::number("threshold", glare.min_share),
            Evidence::number("blobs", m.glare_blobs.len() as f64),
        ],
    );
    let factor = m.factor;
    finding.regions = m
        .glare_blobs
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
    Some(finding)
}

fn grayscale_copy(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let gray = &t.grayscale;
    (m.chroma_mean <= gray.max_mean_chroma && m.chroma_p99 <= gray.max_p99_chroma).then(|| {
        quality_finding(
            ReasonCode::QualityGrayscaleCopy,
            score_past(m.chroma_mean, gray.max_mean_chroma, gray.max_mean_chroma),
            "a black-and-white copy, where a colour photo of the document is expected",
            &gray.hint,
            vec![
                Evidence::number("chroma_mean", m.chroma_mean),
                Evidence::number("chroma_p99", m.chroma_p99),
                Evidence::number("threshold_mean", gray.max_mean_chroma),
                Evidence::number("threshold_p99", gray.max_p99_chroma),
            ],
        )
    })
}

fn heavy_compression(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let estimate = m.jpeg_quality?;
    let min_quality = t.compression.min_jpeg_quality;
    (estimate.quality < min_quality).then(|| {
        quality_finding(
            ReasonCode::QualityHeavyCompression,
            score_past(f64::from(estimate.quality), f64::from(min_quality), f64::from(min_quality)),
            "the JPEG is so compressed that detail and forensic traces are lost",
            &t.compression.hint,
            vec![
                Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)),
                Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg),
                Evidence::number("threshold", f64::from(min_quality)),
            ],
        )
    })
}

fn screenshot(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let screen = &t.screenshot;
    let (width, height) = (m.width, m.height);
    let screen_sized =
        screen.screen_sizes.iter().any(|&(w, h)| (w, h) == (width, height) || (h, w) == (width, height));
    (m.camera_make.is_none() && screen_sized && m.flat_share >= screen.min_flat_share).then(|| {
        quality_finding(
            ReasonCode::QualityScreenshot,
            score_past(m.flat_share, screen.min_flat_share, 1.0 - screen.min_flat_share),
            "a screen capture rather than a photo of the document",
            &screen.hint,
            vec![
                Evidence::flag("camera_metadata", false),
                Evidence::text("dimensions", format!("{width}x{height}")),
                Evidence::flag("screen_sized", true),
                Evidence::number("flat_share", m.flat_share),
                Evidence::number("threshold", screen.min_flat_share),
                Evidence::flag("lossless_format", m.lossless),
            ],
        )
    })
}

/// Runs every quality check on a decoded upload and its working planes (made with
/// `thresholds.working_long_side`).
pub fn assess_quality(
    document: &DecodedDocument,
    planes: &WorkingPlanes,
    thresholds: &QualityThresholds,
) -> QualityReport {
    let measures = Measures::take(document, planes, thresholds);
    QualityReport {
        metrics: measures.metrics(),
        findings: CHECKS.iter().filter_map(|check| check(&measures, thresholds)).collect(),
    }
}

#[cfg(test)]
mod tests;
