//! Conversions between domain types and protobuf messages: the only place that knows both. A
//! report goes out as `AnalyzeResponse`, and a response read by a client (`batch --server`) comes
//! back as the same `Report`, so its JSON is the one serde shape the CLI prints.

use crate::domain::findings::{Evidence, EvidenceValue, Finding, Inconclusive, ReasonCode, Region, Severity};
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::AccountCluster;
use crate::domain::policy::{Decision, RatedFinding};
use crate::domain::report::{
    DocumentOutline, EvidenceImage, ExactDigests, HashBytes, ImageInfo, Match, MatchReport, Measurements,
    Registration, Report, ReportedFingerprints, StageTiming, TamperMeasurements, ZoneDigests,
};
use crate::frontends::service::pb;

/// The global PDQ, the rectified document's card, portrait-zone and data-zone PDQ, then pHash and
/// dHash, each under its name.
fn perceptual_hashes(fingerprints: &ReportedFingerprints) -> Vec<pb::PerceptualHash> {
    let zones = &fingerprints.zones;
    [
        ("pdq", &fingerprints.pdq, fingerprints.pdq_quality),
        ("pdq.card", &zones.card, 0),
        ("pdq.portrait", &zones.portrait, zones.portrait_quality),
        ("pdq.data", &zones.data, zones.data_quality),
        ("phash", &fingerprints.phash, 0),
        ("dhash", &fingerprints.dhash, 0),
    ]
    .into_iter()
    .map(|(name, hash, quality)| pb::PerceptualHash { name: name.into(), bits: hash.0.clone(), quality })
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
                .map(|item| pb::Inconclusive { method: item.method, reason: item.reason })
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
        scene_may_explain: finding.scene_may_explain,
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

fn fingerprints(fingerprints: &ExactDigests) -> pb::Fingerprints {
    pb::Fingerprints {
        file_sha256: fingerprints.file_sha256.to_hex(),
        pixel_sha256: fingerprints.pixel_sha256.to_hex(),
        perceptual: Vec::new(),
    }
}

fn image_info(info: ImageInfo) -> pb::ImageInfo {
    pb::ImageInfo {
        format: info.format,
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
    pb::StageTiming { stage: timing.stage, micros: timing.micros }
}

/// A response that does not read back as a report: a field the domain cannot hold (a newer
/// server's reason code, an invalid id, a hash that is not hex).
#[derive(Debug, thiserror::Error)]
#[error("the response's {field} cannot be read: {detail}")]
pub struct ResponseError {
    /// Which field.
    pub field: &'static str,
    /// What is wrong with it.
    pub detail: String,
}

fn response_error(field: &'static str) -> impl Fn(String) -> ResponseError {
    move |detail| ResponseError { field, detail }
}

/// The report an `AnalyzeResponse` carries: the inverse of [`analyze_response`].
pub fn report_from_response(response: pb::AnalyzeResponse) -> Result<Report, ResponseError> {
    let decision = match response.decision() {
        pb::Decision::Accept => Decision::Accept,
        pb::Decision::Review => Decision::Review,
        pb::Decision::Reject => Decision::Reject,
        pb::Decision::Unspecified => {
            return Err(ResponseError { field: "decision", detail: "unspecified".into() });
        }
    };
    let fingerprints = response.fingerprints.unwrap_or_default();
    let hex = |text: &str| -> Result<HashBytes, ResponseError> {
        let digits = |i: usize| u8::from_str_radix(text.get(i..i + 2).unwrap_or("-"), 16);
        (0..text.len() / 2)
            .map(|i| digits(2 * i))
            .collect::<Result<Vec<u8>, _>>()
            .map(HashBytes)
            .map_err(|error| ResponseError { field: "fingerprints", detail: error.to_string() })
    };
    let named = |name: &str| fingerprints.perceptual.iter().find(|hash| hash.name == name);
    let bits = |name: &str| named(name).map(|hash| HashBytes(hash.bits.clone())).unwrap_or_default();
    let quality = |name: &str| named(name).map_or(0, |hash| hash.quality);
    let outline = response.document.unwrap_or_default();
    let corner = |i: usize| outline.corners.get(i).map_or((0.0, 0.0), |p| (p.x, p.y));
    let image = response.image.unwrap_or_default();
    let tamper = response.tamper.unwrap_or_default();
    Ok(Report {
        document_id: (!response.document_id.is_empty())
            .then(|| DocumentId::new(response.document_id))
            .transpose()
            .map_err(|error| response_error("document_id")(error.to_string()))?,
        decision,
        risk_score: response.risk_score,
        findings: response.findings.into_iter().map(rated_finding).collect::<Result<_, _>>()?,
        matches: response.matches.into_iter().map(match_from_message).collect::<Result<_, _>>()?,
        fingerprints: ReportedFingerprints {
            exact: ExactDigests {
                file_sha256: hex(&fingerprints.file_sha256)?,
                pixel_sha256: hex(&fingerprints.pixel_sha256)?,
            },
            pdq: bits("pdq"),
            pdq_quality: quality("pdq"),
            zones: ZoneDigests {
                card: bits("pdq.card"),
                portrait: bits("pdq.portrait"),
                data: bits("pdq.data"),
                portrait_quality: quality("pdq.portrait"),
                data_quality: quality("pdq.data"),
            },
            phash: bits("phash"),
            dhash: bits("dhash"),
        },
        document: DocumentOutline { located: outline.located, corners: [0, 1, 2, 3].map(corner) },
        image: ImageInfo {
            format: image.format,
            width: image.width,
            height: image.height,
            exif_orientation: u8::try_from(image.exif_orientation).unwrap_or(0),
            byte_size: image.byte_size,
            has_exif: image.has_exif,
            has_xmp: image.has_xmp,
            has_icc_profile: image.has_icc_profile,
            has_exif_thumbnail: image.has_exif_thumbnail,
            metadata_warnings: image.metadata_warnings,
        },
        quality: Measurements {
            metrics: response
                .quality
                .unwrap_or_default()
                .metrics
                .into_iter()
                .map(evidence_from_message)
                .collect(),
        },
        tamper: TamperMeasurements {
            metrics: tamper.metrics.into_iter().map(evidence_from_message).collect(),
            inconclusive: tamper
                .inconclusive
                .into_iter()
                .map(|item| Inconclusive { method: item.method, reason: item.reason })
                .collect(),
        },
        evidence_images: response
            .evidence_images
            .into_iter()
            .map(|image| {
                Ok(EvidenceImage {
                    name: image.name,
                    finding_code: reason_code(&image.finding_code)?,
                    png: image.data,
                    width: image.width,
                    height: image.height,
                })
            })
            .collect::<Result<_, ResponseError>>()?,
        registration: response.registration.filter(|r| r.registered).map(|registration| Registration {
            replayed: registration.replayed,
            registered_at_unix_ms: registration.registered_at_unix_ms,
        }),
        timings: response
            .timings
            .into_iter()
            .map(|timing| StageTiming { stage: timing.stage, micros: timing.micros })
            .collect(),
        policy_version: response.policy_version,
    })
}

fn reason_code(code: &str) -> Result<ReasonCode, ResponseError> {
    code.parse().map_err(|error: crate::domain::findings::UnknownReasonCode| {
        response_error("code")(error.to_string())
    })
}

fn evidence_from_message(evidence: pb::Evidence) -> Evidence {
    use pb::evidence::Value;
    let value = match evidence.value {
        Some(Value::Number(number)) => EvidenceValue::Number(number),
        Some(Value::Text(text)) => EvidenceValue::Text(text),
        Some(Value::Flag(flag)) => EvidenceValue::Flag(flag),
        None => EvidenceValue::Text(String::new()),
    };
    Evidence { name: evidence.name, value }
}

fn rated_finding(message: pb::Finding) -> Result<RatedFinding, ResponseError> {
    let severity = match message.severity() {
        pb::Severity::Info => Severity::Info,
        pb::Severity::Low => Severity::Low,
        pb::Severity::Medium => Severity::Medium,
        pb::Severity::High => Severity::High,
        pb::Severity::Unspecified => {
            return Err(ResponseError { field: "severity", detail: "unspecified".into() });
        }
    };
    let finding = Finding {
        code: reason_code(&message.code)?,
        score: message.score,
        evidence: message.evidence.into_iter().map(evidence_from_message).collect(),
        regions: message
            .regions
            .into_iter()
            .map(|r| Region { x: r.x, y: r.y, width: r.width, height: r.height, label: r.label })
            .collect(),
        message: message.message,
        hint: (!message.hint.is_empty()).then_some(message.hint),
        retryable: message.retryable,
        scene_may_explain: message.scene_may_explain,
    };
    Ok(RatedFinding { finding, severity })
}

fn match_from_message(message: pb::Match) -> Result<Match, ResponseError> {
    Ok(Match {
        account_id: AccountId::new(message.account_id)
            .map_err(|e| response_error("account_id")(e.to_string()))?,
        document_id: DocumentId::new(message.document_id)
            .map_err(|e| response_error("document_id")(e.to_string()))?,
        kind: reason_code(&message.kind)?,
        distance: message.distance,
        score: message.score,
        evidence: message.evidence.into_iter().map(evidence_from_message).collect(),
        registered_at_unix_ms: message.registered_at_unix_ms,
    })
}
