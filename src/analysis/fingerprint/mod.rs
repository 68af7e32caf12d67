//! Fingerprints: exact (SHA-256 of the file bytes and of the decoded pixels) and perceptual
//! ([`pdq`], with pHash and dHash in [`classic`] for interoperability).
//!
//! The pixel digest covers the orientation-corrected 8-bit RGB planes and the dimensions, so a
//! lossless re-encoding (JPEG decoded and saved as PNG, EXIF orientation baked in, metadata stripped)
//! has the same pixel digest while its file digest differs.

pub mod classic;
pub mod document;
mod fast_ops;
pub mod keypoints;
pub mod pdq;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::analysis::decode::DecodedDocument;
use crate::analysis::decode::planes::{WorkingPlanes, box_averaged};
use crate::domain::report::{ExactDigests, HashBytes, ReportedFingerprints, ZoneDigests};
use classic::{ClassicHashes, classic_hashes};
use document::{DocumentLayout, DocumentLocation, DocumentPrint};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The exact fingerprints of one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactFingerprints {
    /// SHA-256 of the file as uploaded.
    pub file_sha256: Sha256Digest,
    /// SHA-256 of width, height and the orientation-corrected RGB pixels.
    pub pixel_sha256: Sha256Digest,
}

impl ExactFingerprints {
    /// Fingerprints of an upload and its decoded form.
    pub fn compute(file: &[u8], document: &DecodedDocument) -> Self {
        let mut pixels = Sha256::new();
        pixels.update(document.rgb.width().to_le_bytes());
        pixels.update(document.rgb.height().to_le_bytes());
        pixels.update(document.rgb.as_raw());
        ExactFingerprints {
            file_sha256: Sha256Digest::of(file),
            pixel_sha256: Sha256Digest(pixels.finalize().into()),
        }
    }

    /// The digests as reported.
    pub fn digests(&self) -> ExactDigests {
        ExactDigests {
            file_sha256: HashBytes(self.file_sha256.0.to_vec()),
            pixel_sha256: HashBytes(self.pixel_sha256.0.to_vec()),
        }
    }
}

/// Long side of the plane PDQ is computed on. Box-averaging to at most 2048 px leaves images up to
/// about 3 MP at full resolution and keeps 12 MP photos within Meta's 10-bit conformance rule (a
/// 1000 px plane drifted to 12 bits on two reference images), at a quarter of the full cost.
pub const PDQ_LONG_SIDE: u32 = 2048;

/// Long side of the plane pHash and dHash reduce with Lanczos, box-averaged from the working plane:
/// both end at 16 px or less, and `image`'s Lanczos over a 400 px plane costs about 15 ms against
/// 1.6 ms from 128 px, for a bit or two more agreement with Python ImageHash (docs/fingerprints.md).
pub const CLASSIC_LONG_SIDE: u32 = 128;

/// Every fingerprint of one upload: exact digests, the global perceptual hashes and the document's
/// zone hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprints {
    /// SHA-256 digests of the file and the pixels.
    pub exact: ExactFingerprints,
    /// PDQ of the image box-averaged to at most [`PDQ_LONG_SIDE`] px.
    pub pdq: pdq::Pdq,
    /// PDQ's quality metric, 0..=100.
    pub pdq_quality: u32,
    /// pHash and dHash of the same plane.
    pub classic: ClassicHashes,
    /// The located, rectified document and its zone hashes.
    pub document: DocumentPrint,
}

impl Fingerprints {
    /// Fingerprints of an upload from its bytes, decoded form, working planes and the document's
    /// location in them.
    pub fn compute(
        file: &[u8],
        document: &DecodedDocument,
        planes: &WorkingPlanes,
        location: &DocumentLocation,
        layout: &DocumentLayout,
    ) -> Self {
        let (plane, _) = box_averaged(&document.rgb, PDQ_LONG_SIDE);
        let (width, height) = plane.dimensions();
        let hashes = pdq::pdq_from_rgb(plane.as_raw(), width as usize, height as usize);
        Fingerprints {
            exact: ExactFingerprints::compute(file, document),
            pdq: hashes.original(),
            pdq_quality: hashes.quality,
            classic: classic_hashes(&box_averaged(&planes.rgb, CLASSIC_LONG_SIDE).0),
            document: DocumentPrint::at(planes, location, layout),
        }
    }

    /// The fingerprints as reported: the upright reading's zone hashes, without their colours.
    pub fn reported(&self) -> ReportedFingerprints {
        let zones = &self.document.upright;
        let bytes = |hash: &pdq::Pdq| HashBytes(hash.to_bytes().to_vec());
        ReportedFingerprints {
            exact: self.exact.digests(),
            pdq: bytes(&self.pdq),
            pdq_quality: self.pdq_quality,
            zones: ZoneDigests {
                card: bytes(&zones.card),
                portrait: bytes(&zones.portrait),
                data: bytes(&zones.data),
                portrait_quality: zones.portrait_quality,
                data_quality: zones.data_quality,
            },
            phash: HashBytes(self.classic.phash.to_vec()),
            dhash: HashBytes(self.classic.dhash.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        assert_eq!(
            Sha256Digest::of(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
