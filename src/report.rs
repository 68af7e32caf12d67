//! The result of analysing one upload: decision, findings, matches, fingerprints and timings.
//!
//! The CLI prints it as JSON; the gRPC service converts it to `AnalyzeResponse`.

use serde::Serialize;

use crate::decode::DecodedDocument;
use crate::findings::{Evidence, ReasonCode, serialize_evidence};
use crate::fingerprint::document::DocumentPrint;
use crate::fingerprint::{ExactFingerprints, Fingerprints};
use crate::ids::{AccountId, DocumentId};
use crate::policy::{Decision, RatedFinding};
use crate::quality::QualityReport;
use crate::tamper::{EvidenceImage, TamperReport};

/// Another account's registered document that matches the upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    /// The other account.
    pub account_id: AccountId,
    /// Its document id.
    pub document_id: DocumentId,
    /// The reuse reason code.
    pub kind: ReasonCode,
    /// Hamming distance of the deciding fingerprint, for perceptual matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
    /// Confidence, 0..1.
    pub score: f64,
    /// The values that decided the match.
    #[serde(serialize_with = "serialize_evidence")]
    pub evidence: Vec<Evidence>,
    /// When the other document was registered (Unix ms).
    pub registered_at_unix_ms: i64,
}

/// Facts about the decoded image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageInfo {
    /// `jpeg`, `png`, `webp` or `tiff`.
    pub format: &'static str,
    /// Width after EXIF orientation.
    pub width: u32,
    /// Height after EXIF orientation.
    pub height: u32,
    /// The EXIF orientation tag as found.
    pub exif_orientation: u8,
    /// File size.
    pub byte_size: u64,
    /// An EXIF block was read.
    pub has_exif: bool,
    /// An XMP packet is present.
    pub has_xmp: bool,
    /// An ICC profile is present.
    pub has_icc_profile: bool,
    /// An EXIF thumbnail is present.
    pub has_exif_thumbnail: bool,
    /// Metadata present but unreadable (`block: detail`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metadata_warnings: Vec<String>,
}

impl ImageInfo {
    /// Describes a decoded upload.
    pub fn of(document: &DecodedDocument) -> Self {
        let container = &document.container;
        ImageInfo {
            format: document.format.as_str(),
            width: document.rgb.width(),
            height: document.rgb.height(),
            exif_orientation: document.exif_orientation,
            byte_size: document.byte_size,
            has_exif: container.exif.is_some(),
            has_xmp: container.xmp.is_some(),
            has_icc_profile: container.icc.is_some(),
            has_exif_thumbnail: container.exif_thumbnail.is_some(),
            metadata_warnings: container
                .warnings
                .iter()
                .map(|warning| format!("{}: {}", warning.block, warning.detail))
                .collect(),
        }
    }
}

/// How long one stage took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageTiming {
    /// `decode`, `fingerprint`, `match`, `policy`, `store`.
    pub stage: &'static str,
    /// Microseconds.
    pub micros: u64,
}

/// What happened to a registration request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// An earlier identical request had already registered it.
    pub replayed: bool,
    /// When it was registered (Unix ms).
    pub registered_at_unix_ms: i64,
}

/// The full result for one upload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The caller's document id, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<DocumentId>,
    /// ACCEPT, REVIEW or REJECT.
    pub decision: Decision,
    /// 0..1.
    pub risk_score: f64,
    /// Rated findings, most severe first.
    pub findings: Vec<RatedFinding>,
    /// Other accounts' matching documents.
    pub matches: Vec<Match>,
    /// Exact and perceptual fingerprints.
    pub fingerprints: Fingerprints,
    /// Where the document is in the image.
    pub document: DocumentOutline,
    /// Image facts.
    pub image: ImageInfo,
    /// Every quality measurement.
    pub quality: QualityReport,
    /// Every tamper measurement.
    pub tamper: TamperReport,
    /// Heatmaps, when asked for.
    #[serde(skip)]
    pub evidence_images: Vec<EvidenceImage>,
    /// Present when registration was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// Stage timings.
    pub timings: Vec<StageTiming>,
    /// The policy version that decided.
    pub policy_version: String,
}

/// What a search without registration returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchReport {
    /// Other accounts' matching documents.
    pub matches: Vec<Match>,
    /// The query's fingerprints.
    pub fingerprints: ExactFingerprints,
}

/// The document's outline in the orientation-corrected image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentOutline {
    /// A card outline was found (otherwise the whole frame was the document).
    pub located: bool,
    /// Corners clockwise from the landscape top-left, in image pixels.
    pub corners: [(f32, f32); 4],
}

impl DocumentOutline {
    /// The outline of `print`, located on a working plane `factor` times smaller than the image.
    pub fn of(print: &DocumentPrint, factor: u32) -> Self {
        let scale = factor as f32;
        DocumentOutline {
            located: print.located,
            corners: print.corners.map(|(x, y)| (x * scale, y * scale)),
        }
    }
}
