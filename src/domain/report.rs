//! The result of analysing one upload: decision, findings, matches, fingerprints and timings.
//!
//! This is the one definition of the report's shape: `analyze --json` and a batch's `results.jsonl`
//! are its serde serialisation (the README's JSON contract, pinned by a test), and the gRPC service
//! converts it to and from `AnalyzeResponse` (the one other mapping). It holds plain values only;
//! the analysers fill it in through the engine.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::domain::findings::{Evidence, Inconclusive, ReasonCode, serialize_evidence};
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::policy::{Decision, RatedFinding};

/// Hash or digest bytes, serialised as lower-case hex.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct HashBytes(pub Vec<u8>);

impl HashBytes {
    /// Lower-case hex, two digits a byte.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl fmt::Debug for HashBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for HashBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for HashBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

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
    pub format: String,
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

/// How long one stage took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageTiming {
    /// `decode`, `fingerprint`, `match`, `policy`, `store`.
    pub stage: String,
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

/// The exact fingerprints: SHA-256 of the file and of the decoded pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExactDigests {
    /// SHA-256 of the file as uploaded.
    pub file_sha256: HashBytes,
    /// SHA-256 of width, height and the orientation-corrected RGB pixels.
    pub pixel_sha256: HashBytes,
}

/// The rectified document's zone hashes (PDQ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneDigests {
    /// PDQ of the whole rectified card.
    pub card: HashBytes,
    /// PDQ of the portrait zone.
    pub portrait: HashBytes,
    /// PDQ of the personal-data zone.
    pub data: HashBytes,
    /// PDQ quality of the portrait zone (0..=100).
    pub portrait_quality: u32,
    /// PDQ quality of the personal-data zone.
    pub data_quality: u32,
}

/// Every fingerprint of one upload, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedFingerprints {
    /// SHA-256 digests of the file and the pixels.
    #[serde(flatten)]
    pub exact: ExactDigests,
    /// PDQ of the whole image.
    pub pdq: HashBytes,
    /// PDQ's quality metric, 0..=100.
    pub pdq_quality: u32,
    /// The located, rectified document's zone hashes.
    pub zones: ZoneDigests,
    /// 64-bit pHash of the whole image, in Python ImageHash's convention (`phash`).
    pub phash: HashBytes,
    /// 64-bit dHash of the whole image, in Python ImageHash's convention (`dhash`).
    pub dhash: HashBytes,
}

/// A PNG that shows where a finding lies (a heatmap), for reviewers.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceImage {
    /// `heatmap.noise`, `heatmap.error_level`, ...
    pub name: String,
    /// The finding it explains.
    pub finding_code: ReasonCode,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Every measurement of one analyser, fired or not.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Measurements {
    /// Name and value of each measurement.
    #[serde(serialize_with = "serialize_evidence")]
    pub metrics: Vec<Evidence>,
}

/// The tamper analysers' measurements, and the methods that could not decide.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TamperMeasurements {
    /// Name and value of each measurement.
    #[serde(serialize_with = "serialize_evidence")]
    pub metrics: Vec<Evidence>,
    /// Local methods that could not decide on this image, and why.
    pub inconclusive: Vec<Inconclusive>,
}

/// The document's outline in the orientation-corrected image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentOutline {
    /// A card outline was found (otherwise the whole frame was the document).
    pub located: bool,
    /// Corners clockwise from the landscape top-left, in image pixels.
    pub corners: [(f32, f32); 4],
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
    pub fingerprints: ReportedFingerprints,
    /// Where the document is in the image.
    pub document: DocumentOutline,
    /// Image facts.
    pub image: ImageInfo,
    /// Every quality measurement.
    pub quality: Measurements,
    /// Every tamper measurement.
    pub tamper: TamperMeasurements,
    /// Heatmaps, when asked for (binary: not part of the JSON).
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
    /// The query's exact fingerprints.
    pub fingerprints: ExactDigests,
}
