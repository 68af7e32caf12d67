//! Protobuf responses as the JSON the CLI prints: the same shape `Report` serialises to, so a
//! batch run against a server writes the same lines as one in process.

use serde_json::{Map, Value, json};

use crate::pb;

fn evidence_object(evidence: &[pb::Evidence]) -> Value {
    let mut map = Map::new();
    for item in evidence {
        let value = match &item.value {
            Some(pb::evidence::Value::Number(number)) => json!(number),
            Some(pb::evidence::Value::Text(text)) => json!(text),
            Some(pb::evidence::Value::Flag(flag)) => json!(flag),
            None => Value::Null,
        };
        map.insert(item.name.clone(), value);
    }
    Value::Object(map)
}

fn decision_name(decision: pb::Decision) -> &'static str {
    match decision {
        pb::Decision::Accept => "ACCEPT",
        pb::Decision::Review => "REVIEW",
        pb::Decision::Reject => "REJECT",
        pb::Decision::Unspecified => "UNSPECIFIED",
    }
}

fn severity_name(severity: pb::Severity) -> &'static str {
    match severity {
        pb::Severity::Info => "info",
        pb::Severity::Low => "low",
        pb::Severity::Medium => "medium",
        pb::Severity::High => "high",
        pb::Severity::Unspecified => "unspecified",
    }
}

fn finding(finding: &pb::Finding) -> Value {
    let mut object = json!({
        "code": finding.code,
        "score": finding.score,
        "evidence": evidence_object(&finding.evidence),
        "message": finding.message,
        "retryable": finding.retryable,
        "severity": severity_name(finding.severity()),
    });
    if !finding.regions.is_empty() {
        object["regions"] = finding
            .regions
            .iter()
            .map(|r| json!({"x": r.x, "y": r.y, "width": r.width, "height": r.height, "label": r.label}))
            .collect();
    }
    if !finding.hint.is_empty() {
        object["hint"] = json!(finding.hint);
    }
    object
}

fn match_object(found: &pb::Match) -> Value {
    let mut object = json!({
        "account_id": found.account_id,
        "document_id": found.document_id,
        "kind": found.kind,
        "score": found.score,
        "evidence": evidence_object(&found.evidence),
        "registered_at_unix_ms": found.registered_at_unix_ms,
    });
    if let Some(distance) = found.distance {
        object["distance"] = json!(distance);
    }
    object
}

/// An `AnalyzeResponse` in the shape of a serialised `Report` (without `document_id`).
pub fn analyze_response_json(response: &pb::AnalyzeResponse) -> Value {
    let fingerprints = response.fingerprints.clone().unwrap_or_default();
    let named = |name: &str| fingerprints.perceptual.iter().find(|hash| hash.name == name);
    let hex = |hash: Option<&pb::PerceptualHash>| {
        hash.map(|hash| hash.bits.iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let pdq = named("pdq");
    let outline = response.document.clone().unwrap_or_default();
    let image = response.image.clone().unwrap_or_default();
    let mut image_object = json!({
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "exif_orientation": image.exif_orientation,
        "byte_size": image.byte_size,
        "has_exif": image.has_exif,
        "has_xmp": image.has_xmp,
        "has_icc_profile": image.has_icc_profile,
        "has_exif_thumbnail": image.has_exif_thumbnail,
    });
    if !image.metadata_warnings.is_empty() {
        image_object["metadata_warnings"] = json!(image.metadata_warnings);
    }
    let tamper = response.tamper.clone().unwrap_or_default();
    let mut object = json!({
        "decision": decision_name(response.decision()),
        "risk_score": response.risk_score,
        "findings": response.findings.iter().map(finding).collect::<Vec<_>>(),
        "matches": response.matches.iter().map(match_object).collect::<Vec<_>>(),
        "fingerprints": {
            "file_sha256": fingerprints.file_sha256,
            "pixel_sha256": fingerprints.pixel_sha256,
            "pdq": hex(pdq),
            "pdq_quality": pdq.map(|hash| hash.quality),
            "zones": {
                "card": hex(named("pdq.card")),
                "portrait": hex(named("pdq.portrait")),
                "data": hex(named("pdq.data")),
                "portrait_quality": named("pdq.portrait").map(|hash| hash.quality),
                "data_quality": named("pdq.data").map(|hash| hash.quality),
            },
        },
        "document": {
            "located": outline.located,
            "corners": outline.corners.iter().map(|p| json!([p.x, p.y])).collect::<Vec<_>>(),
        },
        "image": image_object,
        "quality": {"metrics": evidence_object(&response.quality.clone().unwrap_or_default().metrics)},
        "tamper": {
            "metrics": evidence_object(&tamper.metrics),
            "inconclusive": tamper.inconclusive.iter().map(|i| json!({"method": i.method, "reason": i.reason})).collect::<Vec<_>>(),
        },
        "timings": response.timings.iter().map(|t| json!({"stage": t.stage, "micros": t.micros})).collect::<Vec<_>>(),
        "policy_version": response.policy_version,
    });
    if !response.evidence_images.is_empty() {
        object["evidence_images"] = response
            .evidence_images
            .iter()
            .map(|i| json!({"name": i.name, "finding_code": i.finding_code, "width": i.width, "height": i.height}))
            .collect();
    }
    if let Some(registration) = &response.registration {
        object["registration"] = json!({"replayed": registration.replayed, "registered_at_unix_ms": registration.registered_at_unix_ms});
    }
    object
}
