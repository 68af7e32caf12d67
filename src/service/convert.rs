//! Conversions from domain types to protobuf messages: the only place that knows both.

use crate::findings::{Evidence, EvidenceValue, Region, Severity};
use crate::fingerprint::{ExactFingerprints, Fingerprints};
use crate::links::AccountCluster;
use crate::pb;
use crate::policy::{Decision, RatedFinding};
use crate::report::{ImageInfo, Match, MatchReport, Report, StageTiming};

/// The global PDQ, then the rectified document's card, portrait-zone and data-zone PDQ.
fn perceptual_hashes(fingerprints: &Fingerprints) -> Vec<pb::PerceptualHash> {
    let zones = &fingerprints.document.upright;
    [
        ("pdq", &fingerprints.pdq, fingerprints.pdq_quality),
        ("pdq.card", &zones.card, 0),
        ("pdq.portrait", &zones.portrait, zones.portrait_quality),
        ("pdq.data", &zones.data, zones.data_quality),
    ]
    .into_iter()
    .map(|(name, hash, quality)| pb::PerceptualHash {
        name: name.into(),
        bits: hash.to_bytes().to_vec(),
        quality,
    })
    .collect()
}

pub(super) fn analyze_response(report: Report) -> pb::AnalyzeResponse {
    pb::AnalyzeResponse {
        document_id: report.document_id.map(|id| id.as_str().to_owned()).unwrap_or_default(),
        decision: decision(report.decision) as i32,
        risk_score: report.risk_score,
        findings: report.findings.into_iter().map(finding).collect(),
        matches: report.matches.into_iter().map(match_message).collect(),
        fingerprints: Some(pb::Fingerprints {
            perceptual: perceptual_hashes(&report.fingerprints),
            ..fingerprints(&report.fingerprints.exact)
        }),
        document: Some(pb::DocumentOutline {
            located: report.document.located,
            corners: report.document.corners.iter().map(|&(x, y)| pb::Point { x, y }).collect(),
        }),
        image: Some(image_info(report.image)),
        quality: Some(pb::QualityReport {
            metrics: report.quality.metrics.into_iter().map(evidence).collect(),
        }),
        tamper: Some(pb::TamperReport {
            metrics: report.tamper.metrics.into_iter().map(evidence).collect(),
            inconclusive: report
                .tamper
                .inconclusive
                .into_iter()
                .map(|item| pb::Inconclusive { method: item.method.to_owned(), reason: item.reason })
                .collect(),
        }),
        evidence_images: report
            .evidence_images
            .into_iter()
            .map(|image| pb::EvidenceImage {
                name: image.name,
                finding_code: image.finding_code.as_str().to_owned(),
                media_type: "image/png".into(),
                data: image.png,
                width: image.width,
                height: image.height,
            })
            .collect(),
        timings: report.timings.into_iter().map(timing).collect(),
        policy_version: report.policy_version,
        registration: report.registration.map(|registration| pb::Registration {
            registered: true,
            replayed: registration.replayed,
            registered_at_unix_ms: registration.registered_at_unix_ms,
        }),
    }
}

pub(super) fn find_matches_response(report: MatchReport) -> pb::FindMatchesResponse {
    pb::FindMatchesResponse {
        matches: report.matches.into_iter().map(match_message).collect(),
        fingerprints: Some(fingerprints(&report.fingerprints)),
    }
}

pub(super) fn account_links_response(clusters: Vec<AccountCluster>) -> pb::GetAccountLinksResponse {
    pb::GetAccountLinksResponse {
        clusters: clusters
            .into_iter()
            .map(|cluster| pb::AccountCluster {
                account_ids: cluster.account_ids.iter().map(|id| id.as_str().to_owned()).collect(),
                links: cluster
                    .links
                    .into_iter()
                    .map(|link| pb::AccountLink {
                        account_a: link.account_a.as_str().to_owned(),
                        document_a: link.document_a.as_str().to_owned(),
                        account_b: link.account_b.as_str().to_owned(),
                        document_b: link.document_b.as_str().to_owned(),
                        kind: link.kind.as_str().to_owned(),
                        distance: link.distance,
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn decision(decision: Decision) -> pb::Decision {
    match decision {
        Decision::Accept => pb::Decision::Accept,
        Decision::Review => pb::Decision::Review,
        Decision::Reject => pb::Decision::Reject,
    }
}

fn severity(severity: Severity) -> pb::Severity {
    match severity {
        Severity::Info => pb::Severity::Info,
        Severity::Low => pb::Severity::Low,
        Severity::Medium => pb::Severity::Medium,
        Severity::High => pb::Severity::High,
    }
}

fn finding(rated: RatedFinding) -> pb::Finding {
    let finding = rated.finding;
    pb::Finding {
        code: finding.code.as_str().to_owned(),
        severity: severity(rated.severity) as i32,
        score: finding.score,
        evidence: finding.evidence.into_iter().map(evidence).collect(),
        regions: finding.regions.into_iter().map(region).collect(),
        message: finding.message,
        hint: finding.hint.unwrap_or_default(),
        retryable: finding.retryable,
    }
}

fn evidence(evidence: Evidence) -> pb::Evidence {
    use pb::evidence::Value;
    let value = match evidence.value {
        EvidenceValue::Number(number) => Value::Number(number),
        EvidenceValue::Text(text) => Value::Text(text),
        EvidenceValue::Flag(flag) => Value::Flag(flag),
    };
    pb::Evidence { name: evidence.name, value: Some(value) }
}

fn region(region: Region) -> pb::Region {
    pb::Region { x: region.x, y: region.y, width: region.width, height: region.height, label: region.label }
}

fn match_message(found: Match) -> pb::Match {
    pb::Match {
        account_id: found.account_id.as_str().to_owned(),
        document_id: found.document_id.as_str().to_owned(),
        kind: found.kind.as_str().to_owned(),
        distance: found.distance,
        score: found.score,
        evidence: found.evidence.into_iter().map(evidence).collect(),
        registered_at_unix_ms: found.registered_at_unix_ms,
    }
}

fn fingerprints(fingerprints: &ExactFingerprints) -> pb::Fingerprints {
    pb::Fingerprints {
        file_sha256: fingerprints.file_sha256.to_hex(),
        pixel_sha256: fingerprints.pixel_sha256.to_hex(),
        perceptual: Vec::new(),
    }
}

fn image_info(info: ImageInfo) -> pb::ImageInfo {
    pb::ImageInfo {
        format: info.format.to_owned(),
        width: info.width,
        height: info.height,
        exif_orientation: u32::from(info.exif_orientation),
        byte_size: info.byte_size,
        has_exif: info.has_exif,
        has_xmp: info.has_xmp,
        has_icc_profile: info.has_icc_profile,
        has_exif_thumbnail: info.has_exif_thumbnail,
        metadata_warnings: info.metadata_warnings,
    }
}

fn timing(timing: StageTiming) -> pb::StageTiming {
    pb::StageTiming { stage: timing.stage.to_owned(), micros: timing.micros }
}
