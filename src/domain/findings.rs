//! The vocabulary every analyser speaks: reason codes, findings and the evidence behind them.
//!
//! A finding is an observation, not a verdict: the policy (`crate::domain::policy`) rates it and turns the
//! findings of one upload into a decision.

use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// A stable, machine-readable reason code such as `reuse.same_image`.
///
/// Codes are part of the API contract: they never change meaning and are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    /// Too few pixels across the document.
    QualityLowResolution,
    /// Out of focus or motion blur.
    QualityBlur,
    /// Under-exposed.
    QualityDark,
    /// Over-exposed, large areas clipped to white.
    QualityOverexposed,
    /// Specular reflections on the document.
    QualityGlare,
    /// Too little contrast.
    QualityLowContrast,
    /// A black-and-white copy where a colour image is expected.
    QualityGrayscaleCopy,
    /// JPEG compression heavy enough to destroy detail.
    QualityHeavyCompression,
    /// A screen capture rather than a photo.
    QualityScreenshot,
    /// Part of the document lies outside the frame.
    QualityDocumentCutOff,
    /// A photo of a screen showing the document.
    QualityScreenRecapture,
    /// The metadata names image-editing (or re-saving) software.
    TamperEditingSoftware,
    /// The metadata records an editing history.
    TamperEditHistory,
    /// The metadata contradicts itself (dates, dimensions).
    TamperMetadataInconsistent,
    /// A JPEG without camera metadata (context only).
    TamperMetadataStripped,
    /// The embedded EXIF thumbnail shows a different picture than the image.
    TamperThumbnailMismatch,
    /// The JPEG was last saved by an editor's encoder (its quantization tables).
    TamperRequantized,
    /// The pixels were quantized twice under standard tables: decoded and saved again once (an app,
    /// a messaging service, an editor). Context: an innocent re-save is common.
    TamperResaved,
    /// A region's error level differs from the rest of the image.
    TamperErrorLevelAnomaly,
    /// A region's compression history (double quantization, block grid) differs from the rest.
    TamperDoubleCompressionLocal,
    /// A region's noise differs from the rest of the image.
    TamperNoiseInconsistency,
    /// A region's edges are sharper than the rest of the image's: typed or pasted after capture.
    TamperSharpnessInconsistency,
    /// A region of the image is repeated elsewhere in it (clone stamp, copy-move).
    TamperCopyMove,
    /// A local-manipulation region lies on the document's portrait (photo substitution).
    TamperPortraitAnomaly,
    /// The file's metadata states that a generative model made the picture.
    TamperAiGenerated,
    /// The file's metadata states that a generative model made part of the picture (a composite or
    /// a generative edit).
    TamperAiEdited,
    /// A check digit of the machine-readable zone disagrees with the field it guards.
    TamperMrzCheckDigit,
    /// The file's Content Credentials (C2PA) no longer hold: changed after signing.
    TamperC2paMismatch,
    /// The same file bytes are registered on another account.
    ReuseSameFile,
    /// The same decoded pixels (another encoding of one image) are registered on another account.
    ReuseSameImage,
    /// Another capture of the same card (both portrait and personal-data zones match).
    ReuseSameDocument,
    /// The same portrait with different personal data.
    ReuseSamePortrait,
    /// The same personal data with a different portrait.
    ReuseSamePersonalData,
    /// The same issuing state and document number, read from a machine-readable zone whose check
    /// digits all pass, whatever the images.
    ReuseSameDocumentNumber,
}

impl ReasonCode {
    /// Every code, in documentation order.
    pub const ALL: &'static [ReasonCode] = &[
        ReasonCode::QualityLowResolution,
        ReasonCode::QualityBlur,
        ReasonCode::QualityDark,
        ReasonCode::QualityOverexposed,
        ReasonCode::QualityGlare,
        ReasonCode::QualityLowContrast,
        ReasonCode::QualityGrayscaleCopy,
        ReasonCode::QualityHeavyCompression,
        ReasonCode::QualityScreenshot,
        ReasonCode::QualityDocumentCutOff,
        ReasonCode::QualityScreenRecapture,
        ReasonCode::TamperEditingSoftware,
        ReasonCode::TamperEditHistory,
        ReasonCode::TamperMetadataInconsistent,
        ReasonCode::TamperMetadataStripped,
        ReasonCode::TamperThumbnailMismatch,
        ReasonCode::TamperRequantized,
        ReasonCode::TamperResaved,
        ReasonCode::TamperErrorLevelAnomaly,
        ReasonCode::TamperDoubleCompressionLocal,
        ReasonCode::TamperNoiseInconsistency,
        ReasonCode::TamperSharpnessInconsistency,
        ReasonCode::TamperCopyMove,
        ReasonCode::TamperPortraitAnomaly,
        ReasonCode::TamperAiGenerated,
        ReasonCode::TamperAiEdited,
        ReasonCode::TamperMrzCheckDigit,
        ReasonCode::TamperC2paMismatch,
        ReasonCode::ReuseSameFile,
        ReasonCode::ReuseSameImage,
        ReasonCode::ReuseSameDocument,
        ReasonCode::ReuseSamePortrait,
        ReasonCode::ReuseSamePersonalData,
        ReasonCode::ReuseSameDocumentNumber,
    ];

    /// The code as it appears on the wire and in `models/policy.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::QualityLowResolution => "quality.low_resolution",
            ReasonCode::QualityBlur => "quality.blur",
            ReasonCode::QualityDark => "quality.dark",
            ReasonCode::QualityOverexposed => "quality.overexposed",
            ReasonCode::QualityGlare => "quality.glare",
            ReasonCode::QualityLowContrast => "quality.low_contrast",
            ReasonCode::QualityGrayscaleCopy => "quality.grayscale_copy",
            ReasonCode::QualityHeavyCompression => "quality.heavy_compression",
            ReasonCode::QualityScreenshot => "quality.screenshot",
            ReasonCode::QualityDocumentCutOff => "quality.document_cut_off",
            ReasonCode::QualityScreenRecapture => "quality.screen_recapture",
            ReasonCode::TamperEditingSoftware => "tamper.editing_software",
            ReasonCode::TamperEditHistory => "tamper.edit_history",
            ReasonCode::TamperMetadataInconsistent => "tamper.metadata_inconsistent",
            ReasonCode::TamperMetadataStripped => "tamper.metadata_stripped",
            ReasonCode::TamperThumbnailMismatch => "tamper.thumbnail_mismatch",
            ReasonCode::TamperRequantized => "tamper.requantized",
            ReasonCode::TamperResaved => "tamper.resaved",
            ReasonCode::TamperErrorLevelAnomaly => "tamper.error_level_anomaly",
            ReasonCode::TamperDoubleCompressionLocal => "tamper.double_compression_local",
            ReasonCode::TamperNoiseInconsistency => "tamper.noise_inconsistency",
            ReasonCode::TamperSharpnessInconsistency => "tamper.sharpness_inconsistency",
            ReasonCode::TamperCopyMove => "tamper.copy_move",
            ReasonCode::TamperPortraitAnomaly => "tamper.portrait_anomaly",
            ReasonCode::TamperAiGenerated => "tamper.ai_generated",
            ReasonCode::TamperAiEdited => "tamper.ai_edited",
            ReasonCode::TamperMrzCheckDigit => "tamper.mrz_check_digit",
            ReasonCode::TamperC2paMismatch => "tamper.c2pa_mismatch",
            ReasonCode::ReuseSameFile => "reuse.same_file",
            ReasonCode::ReuseSameImage => "reuse.same_image",
            ReasonCode::ReuseSameDocument => "reuse.same_document",
            ReasonCode::ReuseSamePortrait => "reuse.same_portrait",
            ReasonCode::ReuseSamePersonalData => "reuse.same_personal_data",
            ReasonCode::ReuseSameDocumentNumber => "reuse.same_document_number",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReasonCode {
    type Err = UnknownReasonCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReasonCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownReasonCode(s.to_owned()))
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A string that names no reason code.
#[derive(Debug, thiserror::Error)]
#[error("unknown reason code {0:?}")]
pub struct UnknownReasonCode(pub String);

/// How much a finding matters, assigned by the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context only; never a reason on its own.
    Info,
    /// Worth recording.
    Low,
    /// Worth a look.
    Medium,
    /// Strong evidence.
    High,
}

/// A named value behind a finding: a measurement, a threshold or a fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Stable name, e.g. `laplacian_variance` or `threshold`.
    pub name: String,
    /// The value.
    pub value: EvidenceValue,
}

/// The value of one piece of evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EvidenceValue {
    /// A measurement or threshold.
    Number(f64),
    /// A fact such as a software name or a hash.
    Text(String),
    /// A yes/no fact.
    Flag(bool),
}

impl Evidence {
    /// A numeric piece of evidence.
    pub fn number(name: impl Into<String>, value: f64) -> Self {
        Evidence { name: name.into(), value: EvidenceValue::Number(value) }
    }

    /// A textual piece of evidence.
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        Evidence { name: name.into(), value: EvidenceValue::Text(value.into()) }
    }

    /// A yes/no piece of evidence.
    pub fn flag(name: impl Into<String>, value: bool) -> Self {
        Evidence { name: name.into(), value: EvidenceValue::Flag(value) }
    }
}

/// Serialises evidence as one JSON object (`{"name": value, ...}`) in its stable order.
pub fn serialize_evidence<S: Serializer>(evidence: &[Evidence], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(evidence.len()))?;
    for item in evidence {
        map.serialize_entry(&item.name, &item.value)?;
    }
    map.end()
}

/// An axis-aligned box in pixels of the orientation-corrected image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// What the region is (`glare`, `portrait`, ...).
    pub label: String,
}

/// One observation of an analyser, before the policy rates it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What was observed.
    pub code: ReasonCode,
    /// Strength of the signal, 0..1.
    pub score: f64,
    /// The values that produced it.
    #[serde(serialize_with = "serialize_evidence")]
    pub evidence: Vec<Evidence>,
    /// Where it applies, when it applies somewhere.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Region>,
    /// One sentence for a reviewer.
    pub message: String,
    /// For the end user: how to retake the picture, when retrying can help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Whether a new upload can clear the finding.
    pub retryable: bool,
    /// Read on the whole frame of a scene in which no document was found, so the scene (a
    /// blown-out sky, a soft background) may explain it rather than a document.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub scene_may_explain: bool,
}

impl Finding {
    /// A finding with no regions, hint or retry.
    pub fn new(code: ReasonCode, score: f64, message: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Finding {
            code,
            score: score.clamp(0.0, 1.0),
            evidence,
            regions: Vec::new(),
            message: message.into(),
            hint: None,
            retryable: false,
            scene_may_explain: false,
        }
    }
}

/// An analysis method that ran but could not decide on this image, and why: reported instead of a
/// clean result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inconclusive {
    /// The method (`error_level`, `double_compression`, `noise`, ...).
    pub method: String,
    /// Why it cannot decide on this image.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_string() {
        for &code in ReasonCode::ALL {
            assert_eq!(code.as_str().parse::<ReasonCode>().unwrap(), code);
        }
        assert!("reuse.nonsense".parse::<ReasonCode>().is_err());
    }

    #[test]
    fn evidence_serialises_as_an_ordered_object() {
        let finding = Finding::new(
            ReasonCode::ReuseSameImage,
            2.0,
            "seen before",
            vec![Evidence::number("other_accounts", 2.0), Evidence::text("kind", "pixels")],
        );
        let json = serde_json::to_string(&finding).unwrap();
        assert!(json.contains(r#""evidence":{"other_accounts":2.0,"kind":"pixels"}"#), "{json}");
        assert!(json.contains(r#""score":1.0"#), "score is clamped to 0..1: {json}");
    }
}
