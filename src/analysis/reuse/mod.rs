//! Reuse: has this document been seen on another account?
//!
//! Exact reuse compares SHA-256 digests of the file and of the decoded pixels: the same file
//! re-uploaded, or the same image re-encoded losslessly (metadata stripped, PNG re-save, orientation
//! baked in). Perceptual reuse ([`perceptual`]) compares the zone hashes of the rectified document:
//! another capture of the same card, or one zone of it (portrait or personal data) reused; a
//! cropped capture is read in a frame fitted from keypoints ([`crops`]). The indexes only propose:
//! a proposal is a match once the two cards' keypoints agree under one homography ([`confirm`],
//! [`verify`]). The same document number in two machine-readable zones is found whatever the images,
//! through a keyed hash of it ([`document_number`]).

pub mod confirm;
pub mod crops;
pub mod document_number;
pub mod hamming_index;
pub mod layout_fit;
pub mod perceptual;
pub mod verify;

use std::collections::BTreeSet;

use crate::domain::findings::{Evidence, Finding, ReasonCode};
use crate::domain::links::AccountLink;
use crate::domain::links::{ExactHit, ExactLink, StoredLink};
use crate::domain::report::Match;
use perceptual::{PerceptualHit, ReuseModel};

/// The kinds found through the perceptual index (stored as links when registered).
pub fn is_perceptual(kind: ReasonCode) -> bool {
    matches!(
        kind,
        ReasonCode::ReuseSameDocument | ReasonCode::ReuseSamePortrait | ReasonCode::ReuseSamePersonalData
    )
}

/// A perceptual hit as a match: the deciding distance (both zones for the same document, the
/// reused zone otherwise), a score falling from 1 at distance 0 to 0 past the search radius, and
/// every distance as evidence.
pub fn perceptual_match(hit: &PerceptualHit<'_>, model: &ReuseModel) -> Match {
    let verdict = &hit.verdict;
    let distance = match verdict.kind {
        ReasonCode::ReuseSamePortrait => verdict.portrait_distance,
        ReasonCode::ReuseSamePersonalData => verdict.data_distance,
        _ => verdict.portrait_distance.max(verdict.data_distance),
    };
    let radius = f64::from(model.matching.search_radius + 1);
    Match {
        account_id: hit.document.account_id.clone(),
        document_id: hit.document.document_id.clone(),
        kind: verdict.kind,
        distance: Some(distance),
        score: (1.0 - f64::from(distance) / radius).clamp(0.0, 1.0),
        evidence: [
            Evidence::number("portrait_distance", f64::from(verdict.portrait_distance)),
            Evidence::number("data_distance", f64::from(verdict.data_distance)),
            Evidence::number("card_distance", f64::from(verdict.card_distance)),
        ]
        .into_iter()
        .chain(
            verdict.colour_distance.map(|distance| Evidence::number("colour_distance", f64::from(distance))),
        )
        .chain([
            Evidence::number("verification_inliers", hit.verification.card.inliers as f64),
            Evidence::number("verification_inlier_ratio", round3(hit.verification.card.inlier_ratio())),
            Evidence::number("verification_residual_px", round3(hit.verification.card.residual_px)),
            Evidence::number("portrait_inliers", hit.verification.portrait.inliers as f64),
            Evidence::number("data_inliers", hit.verification.data.inliers as f64),
            Evidence::text("verified_zones", hit.verification.verified_zones(&model.verification)),
            Evidence::text("verification_read", hit.verification.reading.as_str()),
            Evidence::text("orientation", if verdict.turned { "turned_180" } else { "as_registered" }),
            Evidence::text("framing", verdict.framing.as_str()),
            Evidence::text("model_version", model.version.clone()),
        ])
        .collect(),
        registered_at_unix_ms: hit.document.registered_at_ms,
    }
}

fn round3(value: f32) -> f64 {
    (f64::from(value) * 1000.0).round() / 1000.0
}

/// Stored perceptual links as account links.
pub fn perceptual_links(links: Vec<StoredLink>) -> Vec<AccountLink> {
    links
        .into_iter()
        .map(|link| AccountLink {
            kind: link.kind,
            distance: Some(link.distance),
            account_a: link.account_id,
            document_a: link.document_id,
            account_b: link.other_account_id,
            document_b: link.other_document_id,
        })
        .collect()
}

/// Turns exact hits into matches, oldest registration first.
pub fn exact_matches(hits: Vec<ExactHit>) -> Vec<Match> {
    hits.into_iter()
        .map(|hit| {
            let fingerprint = match hit.kind {
                ReasonCode::ReuseSameFile => "file_sha256",
                ReasonCode::ReuseSameImage => "pixel_sha256",
                _ => "document_number_key",
            };
            Match {
                account_id: hit.account_id,
                document_id: hit.document_id,
                kind: hit.kind,
                distance: Some(0),
                score: 1.0,
                evidence: vec![Evidence::text("fingerprint", fingerprint)],
                registered_at_unix_ms: hit.registered_at_ms,
            }
        })
        .collect()
}

/// Turns stored exact links into account links.
pub fn exact_links(links: Vec<ExactLink>) -> Vec<AccountLink> {
    links
        .into_iter()
        .map(|link| AccountLink {
            kind: link.kind,
            distance: Some(0),
            account_a: link.account_a,
            document_a: link.document_a,
            account_b: link.account_b,
            document_b: link.document_b,
        })
        .collect()
}

/// One finding per kind of reuse seen, with how many other accounts and documents share it.
pub fn reuse_findings(matches: &[Match]) -> Vec<Finding> {
    [
        ReasonCode::ReuseSameFile,
        ReasonCode::ReuseSameImage,
        ReasonCode::ReuseSameDocument,
        ReasonCode::ReuseSamePortrait,
        ReasonCode::ReuseSamePersonalData,
        ReasonCode::ReuseSameDocumentNumber,
    ]
    .into_iter()
    .filter_map(|kind| {
        let of_kind: Vec<&Match> = matches.iter().filter(|m| m.kind == kind).collect();
        if of_kind.is_empty() {
            return None;
        }
        let accounts: BTreeSet<_> = of_kind.iter().map(|m| &m.account_id).collect();
        let message = match kind {
            ReasonCode::ReuseSameFile => "the identical file is registered on another account",
            ReasonCode::ReuseSameImage => "the same image, re-encoded, is registered on another account",
            ReasonCode::ReuseSameDocument => {
                "another capture of this document is registered on another account"
            }
            ReasonCode::ReuseSamePortrait => {
                "this portrait is registered on another account with different personal data"
            }
            ReasonCode::ReuseSamePersonalData => {
                "these personal data are registered on another account with a different portrait"
            }
            _ => {
                "this document's number, read from a machine-readable zone whose check digits all pass, \
                  is registered on another account"
            }
        };
        let best = of_kind.iter().map(|m| m.score).fold(0.0, f64::max);
        let mut evidence = vec![
            Evidence::number("other_accounts", accounts.len() as f64),
            Evidence::number("other_documents", of_kind.len() as f64),
        ];
        if let Some(closest) = of_kind.iter().filter_map(|m| m.distance).min().filter(|_| is_perceptual(kind))
        {
            evidence.push(Evidence::number("closest_distance", f64::from(closest)));
        }
        Some(Finding::new(kind, best, message, evidence))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AccountId, DocumentId};

    fn hit(account: &str, document: &str, kind: ReasonCode) -> ExactHit {
        ExactHit {
            account_id: AccountId::new(account).unwrap(),
            document_id: DocumentId::new(document).unwrap(),
            kind,
            registered_at_ms: 1,
        }
    }

    #[test]
    fn groups_hits_by_kind_and_counts_accounts() {
        let matches = exact_matches(vec![
            hit("b", "1", ReasonCode::ReuseSameFile),
            hit("b", "2", ReasonCode::ReuseSameFile),
            hit("c", "3", ReasonCode::ReuseSameImage),
            hit("d", "4", ReasonCode::ReuseSameDocumentNumber),
        ]);
        assert_eq!(matches[3].evidence, [Evidence::text("fingerprint", "document_number_key")]);
        let findings = reuse_findings(&matches);
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0].code, ReasonCode::ReuseSameFile);
        assert_eq!(findings[0].evidence[0], Evidence::number("other_accounts", 1.0));
        assert_eq!(findings[0].evidence[1], Evidence::number("other_documents", 2.0));
        assert_eq!(findings[1].code, ReasonCode::ReuseSameImage);
        assert_eq!(findings[2].code, ReasonCode::ReuseSameDocumentNumber);
    }

    #[test]
    fn no_hits_no_findings() {
        assert!(reuse_findings(&exact_matches(Vec::new())).is_empty());
    }
}
