//! Content Credentials (C2PA manifests): what the file's signed provenance says, and whether it still
//! holds.
//!
//! Cameras, editors and image generators increasingly sign what they made or did into the file. The
//! manifest is read and validated by the `c2pa` crate (reading only; no HTTP client is compiled in,
//! so nothing is fetched). A manifest whose hard binding no longer matches the bytes, or whose
//! signature fails, is `tamper.c2pa_mismatch`: the file was changed after it was signed. A valid
//! manifest that lists editing actions is an editing history (`tamper.edit_history`), and an action
//! whose digital source type names a model is `tamper.ai_generated` or `tamper.ai_edited`. The
//! summary (claim generator, signer, actions, ingredients, validation) is reported as metrics.
//! Which codes and actions count lives in `models/content_credentials.toml`.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use serde::Deserialize;

use crate::analysis::decode::{DecodedDocument, ImageFormat};
use crate::analysis::tamper::generative::{GeneratorSignatures, Verdict};
use crate::domain::findings::{Evidence, Finding, Inconclusive, ReasonCode};

const EMBEDDED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/content_credentials.toml"));

/// Longest list quoted in one evidence value.
const LISTED: usize = 12;

/// `models/content_credentials.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialModels {
    /// The file's version.
    pub version: String,
    /// Validation codes meaning the manifest no longer binds the bytes.
    pub binding_failures: Vec<String>,
    /// Validation codes meaning the manifest itself was altered.
    pub manifest_failures: Vec<String>,
    /// Actions that change what the picture shows.
    pub editing_actions: Vec<String>,
}

/// A content-credentials model that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialModelsError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid TOML or shape.
    #[error("invalid content credentials model: {0}")]
    Parse(#[from] toml::de::Error),
}

impl CredentialModels {
    /// The shipped `models/content_credentials.toml`.
    pub fn embedded() -> Self {
        toml::from_str(EMBEDDED).expect("models/content_credentials.toml is validated by the test suite")
    }

    /// A tuned copy from `dir`, or the shipped one when it has none.
    pub fn load(dir: &Path) -> Result<Self, CredentialModelsError> {
        let path = dir.join("content_credentials.toml");
        if !path.is_file() {
            return Ok(Self::embedded());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| CredentialModelsError::Read { path: path.display().to_string(), source })?;
        Ok(toml::from_str(&text)?)
    }
}

/// What the manifest analysis found on one upload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CredentialsReport {
    /// The summary, reported for every upload (`c2pa_manifest` at least).
    pub metrics: Vec<Evidence>,
    /// `tamper.c2pa_mismatch`, `tamper.edit_history`, `tamper.ai_generated`, `tamper.ai_edited`.
    pub findings: Vec<Finding>,
    /// A manifest that is there but could not be read.
    pub inconclusive: Vec<Inconclusive>,
}

/// The active manifest as read.
#[derive(Debug, Default)]
struct Summary {
    claim_generator: String,
    signer: String,
    signed_at: String,
    /// (action, digital source type) in manifest order.
    actions: Vec<(String, Option<String>)>,
    ingredients: usize,
    /// Failure codes of the active manifest's validation.
    failures: Vec<String>,
}

/// Reads and judges the file's C2PA manifest, if it carries one. `bytes` is the upload as received.
pub fn assess_content_credentials(
    bytes: &[u8],
    document: &DecodedDocument,
    models: &CredentialModels,
    generators: &GeneratorSignatures,
) -> CredentialsReport {
    let mut report = CredentialsReport::default();
    if !carries_manifest(bytes, document) {
        report.metrics.push(Evidence::flag("c2pa_manifest", false));
        return report;
    }
    // The crate is written not to panic, but a hostile manifest must never take the service down.
    let read = catch_unwind(AssertUnwindSafe(|| read_manifest(bytes, document.format)))
        .unwrap_or_else(|_| Err("the manifest reader failed".into()));
    let summary = match read {
        Ok(Some(summary)) => summary,
        Ok(None) => {
            report.metrics.push(Evidence::flag("c2pa_manifest", false));
            return report;
        }
        Err(reason) => {
            report.metrics.push(Evidence::flag("c2pa_manifest", true));
            report.inconclusive.push(Inconclusive { method: "c2pa".into(), reason });
            return report;
        }
    };
    let actions: Vec<&str> = summary.actions.iter().map(|(action, _)| action.as_str()).collect();
    let context = [
        Evidence::text("c2pa.claim_generator", summary.claim_generator.clone()),
        Evidence::text("c2pa.signer", summary.signer.clone()),
    ];
    report.metrics.extend([
        Evidence::flag("c2pa_manifest", true),
        Evidence::text("c2pa_claim_generator", summary.claim_generator.clone()),
        Evidence::text("c2pa_signer", summary.signer.clone()),
        Evidence::text("c2pa_signed_at", summary.signed_at.clone()),
        Evidence::text("c2pa_actions", listed(&actions)),
        Evidence::number("c2pa_ingredients", summary.ingredients as f64),
        Evidence::text("c2pa_validation_failures", listed(&summary.failures)),
    ]);

    let broken: Vec<&str> = summary
        .failures
        .iter()
        .filter(|code| models.binding_failures.contains(code) || models.manifest_failures.contains(code))
        .map(String::as_str)
        .collect();
    if !broken.is_empty() {
        let binding = broken.iter().any(|code| models.binding_failures.iter().any(|known| known == code));
        let message = if binding {
            "the file was changed after its Content Credentials were signed: their hash of it no longer matches"
        } else {
            "the file's Content Credentials were altered after signing: their signature no longer holds"
        };
        let mut evidence = vec![Evidence::text("c2pa.failures", listed(&broken))];
        evidence.extend(context.iter().cloned());
        evidence.push(Evidence::text("model_version", models.version.clone()));
        report.findings.push(Finding::new(ReasonCode::TamperC2paMismatch, 1.0, message, evidence));
        // What a broken manifest says of itself is not evidence of anything else.
        return report;
    }

    let edits: Vec<&str> =
        actions.iter().copied().filter(|action| models.editing_actions.iter().any(|e| e == action)).collect();
    if !edits.is_empty() {
        let mut evidence = vec![Evidence::text("c2pa.actions", listed(&edits))];
        evidence.extend(context.iter().cloned());
        report.findings.push(Finding::new(
            ReasonCode::TamperEditHistory,
            1.0,
            "the file's Content Credentials record editing actions",
            evidence,
        ));
    }
    for (verdict, code) in
        [(Verdict::Generated, ReasonCode::TamperAiGenerated), (Verdict::Edited, ReasonCode::TamperAiEdited)]
    {
        let stated = summary.actions.iter().find_map(|(action, source_type)| {
            let source_type = source_type.as_deref()?;
            let term = source_type.rsplit('/').next().unwrap_or(source_type);
            let signature = generators.source_types.iter().find(|s| s.term.eq_ignore_ascii_case(term))?;
            (signature.verdict == verdict).then(|| (action, source_type, signature.term.clone()))
        });
        if let Some((action, source_type, term)) = stated {
            let message = match verdict {
                Verdict::Generated => {
                    format!("the file's Content Credentials state a model generated it ({term})")
                }
                Verdict::Edited => {
                    format!("the file's Content Credentials state a model made part of it ({term})")
                }
            };
            let mut evidence = vec![
                Evidence::text("stated_by", term),
                Evidence::text("c2pa.action", action.clone()),
                Evidence::text("c2pa.digitalSourceType", source_type),
            ];
            evidence.extend(context.iter().cloned());
            report.findings.push(Finding::new(code, 1.0, message, evidence));
        }
    }
    report
}

/// Adds `more` to `findings`: a finding of a code already there lends it the evidence it lacks (one
/// finding per code, as the policy expects).
pub fn merge_findings(findings: &mut Vec<Finding>, more: Vec<Finding>) {
    for finding in more {
        match findings.iter_mut().find(|existing| existing.code == finding.code) {
            Some(existing) => {
                for evidence in finding.evidence {
                    if !existing.evidence.iter().any(|e| e.name == evidence.name) {
                        existing.evidence.push(evidence);
                    }
                }
            }
            None => findings.push(finding),
        }
    }
}

/// Whether the file may hold a manifest store: a JUMBF APP11 segment in a JPEG; elsewhere (PNG's
/// `caBX`, WebP's `C2PA` chunk, TIFF's tag) the store's `c2pa` label anywhere in the file, which at
/// worst sends a file without one to a reader that finds nothing.
fn carries_manifest(bytes: &[u8], document: &DecodedDocument) -> bool {
    match &document.container.jpeg {
        Some(jpeg) => {
            jpeg.segments.iter().any(|segment| segment.marker == 0xEB && segment.data.starts_with(b"JP"))
        }
        None => memchr::memmem::find(bytes, b"c2pa").is_some(),
    }
}

/// The active manifest, validated; `None` when the file holds none after all.
fn read_manifest(bytes: &[u8], format: ImageFormat) -> Result<Option<Summary>, String> {
    // No trust list can be fetched, and with trust checked but none configured the crate reports
    // every signature as failing: trust is not checked, so a valid signature means only that the
    // manifest is as its signer, whoever that is, made it.
    let context = c2pa::Context::new()
        .with_settings(r#"{"verify": {"verify_trust": false}}"#)
        .map_err(|error| format!("reader settings: {error}"))?;
    let reader = match c2pa::Reader::from_context(context).with_stream(format.as_str(), Cursor::new(bytes)) {
        Ok(reader) => reader,
        Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing) => return Ok(None),
        Err(error) => return Err(format!("unreadable manifest: {error}")),
    };
    let Some(manifest) = reader.active_manifest() else {
        return Ok(None);
    };
    let claim_generator = manifest
        .claim_generator_info
        .iter()
        .flatten()
        .map(|info| match &info.version {
            Some(version) => format!("{} {version}", info.name),
            None => info.name.clone(),
        })
        .next()
        .or_else(|| manifest.claim_generator().map(str::to_owned))
        .unwrap_or_default();
    let signature = manifest.signature_info();
    let signer = signature
        .and_then(|info| info.common_name.clone().or_else(|| info.issuer.clone()))
        .unwrap_or_default();
    let signed_at = signature.and_then(|info| info.time.clone()).unwrap_or_default();
    let mut actions = Vec::new();
    for assertion in manifest.assertions().iter().filter(|a| a.label().starts_with("c2pa.actions")) {
        let Ok(value) = assertion.value() else { continue };
        for action in value.get("actions").and_then(|list| list.as_array()).into_iter().flatten() {
            let Some(name) = action.get("action").and_then(|name| name.as_str()) else { continue };
            let source_type = action.get("digitalSourceType").and_then(|t| t.as_str()).map(str::to_owned);
            actions.push((name.to_owned(), source_type));
        }
    }
    let failures = reader
        .validation_results()
        .and_then(|results| results.active_manifest())
        .map(|codes| codes.failure().iter().map(|status| status.code().to_owned()).collect())
        .unwrap_or_default();
    Ok(Some(Summary {
        claim_generator,
        signer,
        signed_at,
        actions,
        ingredients: manifest.ingredients().len(),
        failures,
    }))
}

/// A comma-separated list, at most [`LISTED`] items, duplicates after the first dropped.
fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for item in items {
        if !kept.contains(&item.as_ref()) && kept.len() < LISTED {
            kept.push(item.as_ref());
        }
    }
    kept.join(",")
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::{ImageEncoder, Rgb, RgbImage};
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    use super::*;
    use crate::analysis::decode::{DecodeLimits, decode};
    use crate::analysis::tamper::TamperModels;

    /// A certificate chain (signer, then its CA) and the signer's key, as C2PA's certificate profile
    /// wants them: an end-entity certificate with the e-mail protection EKU, digital signature key
    /// usage, an authority key id and an organisation, issued by a CA (self-signed signers are
    /// refused).
    fn signing_credentials() -> (String, String) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        ca.distinguished_name.push(rcgen::DnType::CommonName, "idforensics test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut signer = CertificateParams::new(Vec::new()).unwrap();
        signer.distinguished_name.push(rcgen::DnType::CommonName, "idforensics test signer");
        // The reader names a signer by its organisation and refuses a certificate without one.
        signer.distinguished_name.push(rcgen::DnType::OrganizationName, "idforensics tests");
        signer.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        signer.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        signer.use_authority_key_identifier_extension = true;
        let signer_cert = signer.signed_by(&key, &issuer).unwrap();
        (format!("{}{}", signer_cert.pem(), ca_cert.pem()), key.serialize_pem())
    }

    fn card_pixels(shade: u8) -> RgbImage {
        RgbImage::from_fn(96, 64, |x, y| Rgb([(x * 2) as u8, (y * 3) as u8, shade]))
    }

    fn encoded(pixels: &RgbImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        let (width, height) = pixels.dimensions();
        match format {
            image::ImageFormat::Png => image::codecs::png::PngEncoder::new(&mut out)
                .write_image(pixels, width, height, image::ExtendedColorType::Rgb8)
                .unwrap(),
            _ => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
                .write_image(pixels, width, height, image::ExtendedColorType::Rgb8)
                .unwrap(),
        }
        out
    }

    /// `asset` signed through the crate's public signer API, with these actions.
    fn signed(asset: &[u8], mime: &str, actions: serde_json::Value) -> Vec<u8> {
        let (chain, key) = signing_credentials();
        let definition = serde_json::json!({
            "claim_generator_info": [{"name": "idforensics-test-camera", "version": "1.0"}],
            "title": "card",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
        });
        // Verified as it is signed, so that a credential the reader would refuse fails here.
        let settings = r#"{"verify": {"verify_after_sign": true, "verify_trust": false}}"#;
        let context = c2pa::Context::new().with_settings(settings).unwrap();
        let mut builder =
            c2pa::Builder::from_context(context).with_definition(definition.to_string().as_str()).unwrap();
        let signer =
            c2pa::create_signer::from_keys(chain.as_bytes(), key.as_bytes(), c2pa::SigningAlg::Es256, None)
                .unwrap();
        let mut dest = Cursor::new(Vec::new());
        builder.sign(signer.as_ref(), mime, &mut Cursor::new(asset), &mut dest).unwrap();
        dest.into_inner()
    }

    fn assessed(bytes: &[u8]) -> CredentialsReport {
        let document = decode(bytes, &DecodeLimits::default()).unwrap();
        let generators = TamperModels::embedded().generators;
        assess_content_credentials(bytes, &document, &CredentialModels::embedded(), &generators)
    }

    fn codes(report: &CredentialsReport) -> Vec<&'static str> {
        report.findings.iter().map(|finding| finding.code.as_str()).collect()
    }

    fn metric<'a>(report: &'a CredentialsReport, name: &str) -> &'a Evidence {
        report.metrics.iter().find(|metric| metric.name == name).unwrap_or_else(|| panic!("no {name}"))
    }

    const CAPTURED: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

    /// JPEG's APP11 segments (the manifest store) of `signed`, put into `other` after its SOI: what
    /// a tool that keeps metadata writes when it saves edited pixels.
    fn with_manifest_of(signed: &[u8], other: &[u8]) -> Vec<u8> {
        let mut segments = Vec::new();
        let mut pos = 2;
        while pos + 4 <= signed.len() && signed[pos] == 0xFF && signed[pos + 1] != 0xDA {
            let length = usize::from(u16::from_be_bytes([signed[pos + 2], signed[pos + 3]]));
            if signed[pos + 1] == 0xEB {
                segments.extend_from_slice(&signed[pos..pos + 2 + length]);
            }
            pos += 2 + length;
        }
        assert!(!segments.is_empty(), "the signed file has a manifest store");
        [&other[..2], &segments, &other[2..]].concat()
    }

    #[test]
    fn a_signed_capture_is_summarised_and_holds() {
        let actions = serde_json::json!([{"action": "c2pa.created", "digitalSourceType": CAPTURED}]);
        let jpeg =
            signed(&encoded(&card_pixels(40), image::ImageFormat::Jpeg), "image/jpeg", actions.clone());
        let report = assessed(&jpeg);
        assert_eq!(codes(&report), Vec::<&str>::new(), "{:?}", report.metrics);
        assert_eq!(metric(&report, "c2pa_manifest"), &Evidence::flag("c2pa_manifest", true));
        assert_eq!(
            metric(&report, "c2pa_claim_generator"),
            &Evidence::text("c2pa_claim_generator", "idforensics-test-camera 1.0")
        );
        assert_eq!(metric(&report, "c2pa_actions"), &Evidence::text("c2pa_actions", "c2pa.created"));
        assert_eq!(metric(&report, "c2pa_signer"), &Evidence::text("c2pa_signer", "idforensics test signer"));
        let failures = metric(&report, "c2pa_validation_failures");
        assert_eq!(failures, &Evidence::text("c2pa_validation_failures", ""));

        let png = signed(&encoded(&card_pixels(41), image::ImageFormat::Png), "image/png", actions);
        let report = assessed(&png);
        assert_eq!(metric(&report, "c2pa_manifest"), &Evidence::flag("c2pa_manifest", true));
        assert!(codes(&report).is_empty());
    }

    #[test]
    fn pixels_edited_after_signing_break_the_binding() {
        let actions = serde_json::json!([{"action": "c2pa.created", "digitalSourceType": CAPTURED}]);
        let original = card_pixels(40);
        let jpeg = signed(&encoded(&original, image::ImageFormat::Jpeg), "image/jpeg", actions);
        let mut edited = original;
        for x in 10..40 {
            edited.put_pixel(x, 20, Rgb([255, 255, 255]));
        }
        let forged = with_manifest_of(&jpeg, &encoded(&edited, image::ImageFormat::Jpeg));
        let report = assessed(&forged);
        assert_eq!(codes(&report), ["tamper.c2pa_mismatch"]);
        let failures = &report.findings[0].evidence[0];
        assert_eq!(failures.name, "c2pa.failures");
        assert!(format!("{:?}", failures.value).contains("assertion.dataHash.mismatch"), "{failures:?}");
    }

    #[test]
    fn edits_and_generation_the_manifest_states_are_evidence() {
        let actions = serde_json::json!([
            {"action": "c2pa.created", "digitalSourceType": CAPTURED},
            {"action": "c2pa.edited", "digitalSourceType":
                "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"},
        ]);
        let jpeg = signed(&encoded(&card_pixels(40), image::ImageFormat::Jpeg), "image/jpeg", actions);
        let report = assessed(&jpeg);
        assert_eq!(codes(&report), ["tamper.edit_history", "tamper.ai_edited"]);
        let generated = serde_json::json!([{"action": "c2pa.created", "digitalSourceType":
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]);
        let jpeg = signed(&encoded(&card_pixels(40), image::ImageFormat::Jpeg), "image/jpeg", generated);
        let report = assessed(&jpeg);
        assert_eq!(codes(&report), ["tamper.ai_generated"]);
        assert_eq!(report.findings[0].evidence[0], Evidence::text("stated_by", "trainedAlgorithmicMedia"));
    }

    #[test]
    fn a_file_without_a_manifest_or_with_a_stray_jumbf_segment_has_none() {
        let plain = encoded(&card_pixels(40), image::ImageFormat::Jpeg);
        assert_eq!(assessed(&plain).metrics, [Evidence::flag("c2pa_manifest", false)]);
        // An APP11 JUMBF segment that holds no manifest store.
        let payload = b"JP\x00\x01\x00\x00\x00\x01\x00\x00\x00\x10jumbgarbage!";
        let length = ((payload.len() + 2) as u16).to_be_bytes();
        let stray = [&plain[..2], &[0xFF, 0xEB], &length, payload, &plain[2..]].concat();
        let report = assessed(&stray);
        assert_eq!(
            (report.metrics, report.findings, report.inconclusive),
            (vec![Evidence::flag("c2pa_manifest", false)], vec![], vec![])
        );
    }

    #[test]
    fn a_manifest_altered_after_signing_fails_its_signature() {
        let actions = serde_json::json!([{"action": "c2pa.created", "digitalSourceType": CAPTURED}]);
        let mut jpeg = signed(&encoded(&card_pixels(40), image::ImageFormat::Jpeg), "image/jpeg", actions);
        let name = b"idforensics-test-camera";
        let at = memchr::memmem::find(&jpeg, name).expect("the claim names its generator");
        jpeg[at] = b'I';
        let report = assessed(&jpeg);
        assert_eq!(codes(&report), ["tamper.c2pa_mismatch"], "{report:?}");
        assert_eq!(
            report.findings[0].evidence[0],
            Evidence::text("c2pa.failures", "claimSignature.mismatch")
        );
    }

    /// Through the engine, as every upload goes: the broken binding sends the upload to review with
    /// its evidence, and the summary is among the tamper metrics.
    #[test]
    fn an_upload_edited_after_signing_goes_to_review() {
        use crate::engine::{AnalyzeRequest, Engine, Models};
        let actions = serde_json::json!([{"action": "c2pa.created", "digitalSourceType": CAPTURED}]);
        let camera =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/camera-sony-cybershot.jpg"));
        let jpeg = signed(&camera.unwrap(), "image/jpeg", actions);
        let mut edited = decode(&jpeg, &DecodeLimits::default()).unwrap().rgb;
        for x in 100..220 {
            edited.put_pixel(x, 120, Rgb([20, 20, 20]));
        }
        let forged = with_manifest_of(&jpeg, &encoded(&edited, image::ImageFormat::Jpeg));
        let engine = Engine::new(DecodeLimits::default(), Models::embedded());
        let report = engine.analyze(AnalyzeRequest::unregistered(&forged)).unwrap();
        let mismatch = report.findings.iter().find(|f| f.finding.code == ReasonCode::TamperC2paMismatch);
        assert!(mismatch.is_some(), "{:?}", report.findings);
        assert_eq!(report.decision.as_str(), "REVIEW", "{:?}", report.findings);
        let summary = report.tamper.metrics.iter().find(|m| m.name == "c2pa_claim_generator");
        assert_eq!(summary, Some(&Evidence::text("c2pa_claim_generator", "idforensics-test-camera 1.0")));
        let untouched = engine.analyze(AnalyzeRequest::unregistered(&jpeg)).unwrap();
        assert!(untouched.findings.iter().all(|f| f.finding.code != ReasonCode::TamperC2paMismatch));
        assert_eq!(untouched.decision.as_str(), "ACCEPT", "{:?}", untouched.findings);
    }

    #[test]
    fn merged_findings_keep_one_per_code() {
        let mut findings = vec![Finding::new(
            ReasonCode::TamperEditHistory,
            1.0,
            "xmp",
            vec![Evidence::number("xmp_history_events", 2.0)],
        )];
        let more = vec![Finding::new(
            ReasonCode::TamperEditHistory,
            1.0,
            "c2pa",
            vec![Evidence::text("c2pa.actions", "c2pa.edited")],
        )];
        merge_findings(&mut findings, more);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence.len(), 2);
    }

    #[test]
    fn the_shipped_model_parses() {
        assert!(!CredentialModels::embedded().binding_failures.is_empty());
    }
}
