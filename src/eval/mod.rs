//! `idforensics eval`: runs the engine over a labelled folder and measures it.
//!
//! Each label either expects a reason code (`low-quality-blur` → `quality.blur`), expects a clean
//! pass (`good`, `pristine`, `reference-hq`, `id-document`), or is only counted. Per label it reports
//! how often the expected code fired and the decisions; per code, precision and recall; for the clean
//! labels, how many were rejected.

pub mod capture_set;
mod manifest;
pub mod mrz;
pub mod quality_set;
pub mod reuse;
pub mod synthetic;
pub mod tamper;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::domain::findings::ReasonCode;
use crate::domain::policy::Decision;
use crate::engine::{AnalyzeRequest, Engine};
pub use manifest::{LabelledFile, ManifestError, read_labelled, read_manifest};

/// What a label says the analysis should find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// This code should fire.
    Code(ReasonCode),
    /// A good image: nothing should reject it.
    Clean,
    /// Counted only.
    Unscored,
}

/// Labels that expect a code, with it: the codes the evaluation scores.
const EXPECTED_CODES: &[(&str, ReasonCode)] = &[
    ("low-quality-blur", ReasonCode::QualityBlur),
    ("low-quality-lowres", ReasonCode::QualityLowResolution),
    ("low-quality-dark", ReasonCode::QualityDark),
    ("low-quality-overexposed", ReasonCode::QualityOverexposed),
    ("low-quality-glare", ReasonCode::QualityGlare),
    ("low-quality-contrast", ReasonCode::QualityLowContrast),
    ("low-quality-grayscale", ReasonCode::QualityGrayscaleCopy),
    ("low-quality-compression", ReasonCode::QualityHeavyCompression),
    ("screenshot", ReasonCode::QualityScreenshot),
    ("low-quality-cutoff", ReasonCode::QualityDocumentCutOff),
    ("low-quality-screen", ReasonCode::QualityScreenRecapture),
];

/// The expectation of a corpus or generated-set label.
pub fn expectation(label: &str) -> Expectation {
    if let Some(&(_, code)) = EXPECTED_CODES.iter().find(|(expected, _)| *expected == label) {
        return Expectation::Code(code);
    }
    match label {
        "good" | "pristine" | "reference-hq" | "id-document" => Expectation::Clean,
        _ => Expectation::Unscored,
    }
}

/// Whether the evaluation scores a code (some label expects it); others, such as tamper findings
/// on a quality set, are counted per label but not as false positives.
fn scored(code: ReasonCode) -> bool {
    EXPECTED_CODES.iter().any(|&(_, expected)| expected == code)
}

/// Results for one label.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LabelResult {
    /// Files with the label.
    pub files: usize,
    /// Files that could not be analysed (decode errors).
    pub errors: usize,
    /// Files where the expected code fired.
    pub expected_fired: usize,
    /// Decisions, by name.
    pub decisions: BTreeMap<&'static str, usize>,
    /// Codes that fired, with counts.
    pub codes: BTreeMap<&'static str, usize>,
}

/// Counts for one reason code over the scored files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CodeResult {
    /// Fired where expected.
    pub true_positives: usize,
    /// Fired where another code or a clean pass was expected.
    pub false_positives: usize,
    /// Expected and did not fire.
    pub false_negatives: usize,
}

impl CodeResult {
    /// TP / (TP + FP).
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }

    /// TP / (TP + FN).
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 { f64::NAN } else { numerator as f64 / denominator as f64 }
}

/// The evaluation of one folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluation {
    /// Per label.
    pub labels: BTreeMap<String, LabelResult>,
    /// Per reason code.
    pub codes: BTreeMap<&'static str, CodeResult>,
}

/// An evaluation that could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The manifest is unusable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A listed file is unreadable.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Evaluates every file of `dir`'s manifest with `engine` (which should have no store, so files
/// do not match each other).
pub fn evaluate(dir: &Path, engine: &Engine) -> Result<Evaluation, EvalError> {
    let mut evaluation = Evaluation::default();
    for LabelledFile { file, label } in read_manifest(dir)? {
        let bytes = std::fs::read(dir.join(&file))
            .map_err(|source| EvalError::Read { file: file.clone(), source })?;
        let outcome = engine.analyze(AnalyzeRequest {
            image: &bytes,
            account_id: None,
            document_id: None,
            register: false,
            include_evidence_images: false,
        });
        let expected = expectation(&label);
        let result = evaluation.labels.entry(label).or_default();
        result.files += 1;
        let Ok(report) = outcome else {
            result.errors += 1;
            continue;
        };
        *result.decisions.entry(report.decision.as_str()).or_default() += 1;
        let fired: Vec<ReasonCode> = report.findings.iter().map(|f| f.finding.code).collect();
        for code in &fired {
            *result.codes.entry(code.as_str()).or_default() += 1;
        }
        if expected == Expectation::Unscored {
            continue;
        }
        if let Expectation::Code(code) = expected {
            let counts = evaluation.codes.entry(code.as_str()).or_default();
            if fired.contains(&code) {
                result.expected_fired += 1;
                counts.true_positives += 1;
            } else {
                counts.false_negatives += 1;
            }
        }
        for code in fired.into_iter().filter(|&code| scored(code) && expected != Expectation::Code(code)) {
            evaluation.codes.entry(code.as_str()).or_default().false_positives += 1;
        }
    }
    Ok(evaluation)
}

impl Evaluation {
    /// The evaluation as Markdown tables (the README's format).
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "| label | files | errors | expected reason fired | ACCEPT | REVIEW | REJECT |\n|---|---|---|---|---|---|---|\n",
        );
        for (label, result) in &self.labels {
            let fired = match expectation(label) {
                Expectation::Code(code) => format!(
                    "{} {}/{} ({:.1} %)",
                    code,
                    result.expected_fired,
                    result.files - result.errors,
                    100.0 * ratio(result.expected_fired, result.files - result.errors)
                ),
                Expectation::Clean => "(none expected)".into(),
                Expectation::Unscored => "(not scored)".into(),
            };
            let decision = |d: Decision| result.decisions.get(d.as_str()).copied().unwrap_or(0);
            out += &format!(
                "| {label} | {} | {} | {fired} | {} | {} | {} |\n",
                result.files,
                result.errors,
                decision(Decision::Accept),
                decision(Decision::Review),
                decision(Decision::Reject)
            );
        }
        let (clean, rejected) = self
            .labels
            .iter()
            .filter(|(label, _)| expectation(label) == Expectation::Clean)
            .fold((0, 0), |(n, r), (_, result)| {
                (n + result.files - result.errors, r + result.decisions.get("REJECT").copied().unwrap_or(0))
            });
        out += &format!(
            "\nGood images rejected: {rejected}/{clean} ({:.1} %)\n\n| reason code | TP | FP | FN | precision | recall |\n|---|---|---|---|---|---|\n",
            100.0 * ratio(rejected, clean)
        );
        for (code, counts) in &self.codes {
            out += &format!(
                "| {code} | {} | {} | {} | {:.3} | {:.3} |\n",
                counts.true_positives,
                counts.false_positives,
                counts.false_negatives,
                counts.precision(),
                counts.recall()
            );
        }
        out
    }
}
