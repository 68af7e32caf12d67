//! The gate's thresholds, loaded from `models/quality.toml` (compiled in) or a tuned copy.

use std::path::Path;

use serde::Deserialize;

pub use super::border::FrameBorderThresholds;
pub use super::document::DocumentThresholds;

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
    /// Where the document lies and when it is cut off.
    #[serde(default = "shipped::document")]
    pub document: DocumentThresholds,
    /// Where the document's colours run into the frame's border.
    #[serde(default = "shipped::frame_border")]
    pub frame_border: FrameBorderThresholds,
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
    /// Photo-of-a-screen detector.
    #[serde(default = "shipped::screen_recapture")]
    pub screen_recapture: ScreenRecaptureThresholds,
}

/// See `models/quality.toml`, `[screen_recapture]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenRecaptureThresholds {
    /// Least median spectral peak (see [`screen::ScreenPattern::peak`]).
    pub min_peak: f64,
    /// User hint.
    pub hint: String,
}

/// See `models/quality.toml`, `[resolution]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionThresholds {
    /// Fewest pixels along the document's long side.
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
    /// Lowest acceptable sharpness in the least sharp direction (see
    /// [`motion::DirectionalSharpness::sharpness`]).
    #[serde(default = "shipped::min_directional_sharpness")]
    pub min_directional_sharpness: f64,
    /// ... when the least sharp direction is at most this share as sharp as the sharpest.
    #[serde(default = "shipped::max_streak_anisotropy")]
    pub max_streak_anisotropy: f64,
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
    /// On bright surroundings, the drop asked for is at most this share of the headroom above them.
    #[serde(default = "shipped::halo_headroom_share")]
    pub halo_headroom_share: f64,
    /// Luma of a clipped pixel.
    #[serde(default = "shipped::core_luma")]
    pub core_luma: u8,
    /// Least share of a blob's pixels that are clipped.
    #[serde(default = "shipped::min_core_share")]
    pub min_core_share: f64,
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
    pub(super) fn halo_headroom_share() -> f64 {
        QualityThresholds::embedded().glare.halo_headroom_share
    }
    pub(super) fn core_luma() -> u8 {
        QualityThresholds::embedded().glare.core_luma
    }
    pub(super) fn min_core_share() -> f64 {
        QualityThresholds::embedded().glare.min_core_share
    }
    pub(super) fn min_directional_sharpness() -> f64 {
        QualityThresholds::embedded().blur.min_directional_sharpness
    }
    pub(super) fn max_streak_anisotropy() -> f64 {
        QualityThresholds::embedded().blur.max_streak_anisotropy
    }
    pub(super) fn document() -> super::DocumentThresholds {
        QualityThresholds::embedded().document
    }
    pub(super) fn frame_border() -> super::FrameBorderThresholds {
        QualityThresholds::embedded().frame_border
    }
    pub(super) fn screen_recapture() -> super::ScreenRecaptureThresholds {
        QualityThresholds::embedded().screen_recapture
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
