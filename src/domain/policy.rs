//! The decision policy: rates each finding and turns an upload's findings into a decision and a
//! risk score. Its rules live in `models/policy.toml`, versioned, never in code.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::findings::{Finding, ReasonCode, Severity};

/// The policy shipped in `models/`, compiled in so the binary works from any directory.
const EMBEDDED_POLICY: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/policy.toml"));

/// The outcome for one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Decision {
    /// Nothing stands in the way of verification.
    Accept,
    /// A person should look first.
    Review,
    /// The upload cannot be used.
    Reject,
}

impl Decision {
    /// The decision as on the wire and in the CLI's JSON (`ACCEPT`, `REVIEW`, `REJECT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accept => "ACCEPT",
            Decision::Review => "REVIEW",
            Decision::Reject => "REJECT",
        }
    }
}

/// What the policy does with one reason code.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Reported with the finding.
    pub severity: Severity,
    /// The least decision the finding forces.
    pub action: Action,
    /// The least decision it forces when the scene may explain it (read on the frame of a scene in
    /// which no document was found); `action` when not given.
    #[serde(default)]
    pub action_if_scene: Option<Action>,
    /// Contribution to the risk score, 0..1.
    pub weight: f64,
}

/// The least decision a finding forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// No decision of its own: only the risk score counts.
    Accept,
    /// At least REVIEW.
    Review,
    /// REJECT.
    Reject,
}

impl From<Action> for Decision {
    fn from(action: Action) -> Self {
        match action {
            Action::Accept => Decision::Accept,
            Action::Review => Decision::Review,
            Action::Reject => Decision::Reject,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: String,
    decision: RiskThresholds,
    codes: HashMap<String, Rule>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskThresholds {
    review_risk: f64,
    reject_risk: f64,
}

/// A loaded, validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    version: String,
    thresholds: RiskThresholds,
    rules: HashMap<ReasonCode, Rule>,
}

/// A finding with the severity the policy gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatedFinding {
    /// The analyser's observation.
    #[serde(flatten)]
    pub finding: Finding,
    /// From the policy's rule for the code.
    pub severity: Severity,
}

/// The policy's verdict on one upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The decision.
    pub decision: Decision,
    /// 0..1.
    pub risk_score: f64,
    /// The findings, rated, most severe first.
    pub findings: Vec<RatedFinding>,
}

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid policy: {0}")]
    Parse(#[from] toml::de::Error),
    /// The file names a code that does not exist (a typo would otherwise silently disable a rule).
    #[error("policy names an unknown reason code {0:?}")]
    UnknownCode(String),
    /// A code has no rule.
    #[error("policy has no rule for reason code {0}")]
    MissingCode(ReasonCode),
    /// A number is outside its range.
    #[error("policy value out of range: {0}")]
    OutOfRange(String),
}

impl Policy {
    /// The policy shipped in `models/policy.toml`.
    pub fn embedded() -> Self {
        Policy::parse(EMBEDDED_POLICY).expect("models/policy.toml is validated by the test suite")
    }

    /// Loads a policy file, e.g. a tuned copy of `models/policy.toml`.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Read { path: path.display().to_string(), source })?;
        Policy::parse(&text)
    }

    /// Parses and validates policy text.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        let RiskThresholds { review_risk, reject_risk } = file.decision;
        if !(0.0..=1.0).contains(&review_risk) || !(review_risk..=1.0).contains(&reject_risk) {
            return Err(PolicyError::OutOfRange(format!(
                "need 0 <= review_risk ({review_risk}) <= reject_risk ({reject_risk}) <= 1"
            )));
        }
        let mut rules = HashMap::new();
        for (name, rule) in file.codes {
            let code: ReasonCode = name.parse().map_err(|_| PolicyError::UnknownCode(name.clone()))?;
            if !(0.0..=1.0).contains(&rule.weight) {
                return Err(PolicyError::OutOfRange(format!("{name}.weight = {}", rule.weight)));
            }
            rules.insert(code, rule);
        }
        if let Some(&missing) = ReasonCode::ALL.iter().find(|code| !rules.contains_key(code)) {
            return Err(PolicyError::MissingCode(missing));
        }
        Ok(Policy { version: file.version, thresholds: file.decision, rules })
    }

    /// The version string of the policy file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Rates the findings and decides.
    pub fn assess(&self, findings: Vec<Finding>) -> Assessment {
        let mut decision = Decision::Accept;
        let mut no_risk = 1.0;
        let mut rated: Vec<RatedFinding> = findings
            .into_iter()
            .map(|finding| {
                let rule = self.rules[&finding.code];
                let action = match rule.action_if_scene {
                    Some(action) if finding.scene_may_explain => action,
                    _ => rule.action,
                };
                decision = decision.max(action.into());
                no_risk *= 1.0 - rule.weight * finding.score;
                RatedFinding { severity: rule.severity, finding }
            })
            .collect();
        let risk_score = (1.0 - no_risk).clamp(0.0, 1.0);
        if risk_score >= self.thresholds.reject_risk {
            decision = Decision::Reject;
        } else if risk_score >= self.thresholds.review_risk {
            decision = decision.max(Decision::Review);
        }
        rated.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.finding.score.total_cmp(&a.finding.score)));
        Assessment { decision, risk_score, findings: rated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: ReasonCode, score: f64) -> Finding {
        Finding::new(code, score, "test", Vec::new())
    }

    #[test]
    fn embedded_policy_is_valid() {
        let policy = Policy::parse(EMBEDDED_POLICY).unwrap();
        assert!(!policy.version().is_empty());
    }

    #[test]
    fn no_findings_is_accept_with_zero_risk() {
        let assessment = Policy::embedded().assess(Vec::new());
        assert_eq!(assessment.decision, Decision::Accept);
        assert_eq!(assessment.risk_score, 0.0);
    }

    #[test]
    fn a_finding_forces_its_action_and_raises_risk() {
        let assessment = Policy::embedded().assess(vec![finding(ReasonCode::ReuseSameImage, 1.0)]);
        assert_eq!(assessment.decision, Decision::Review);
        assert!((assessment.risk_score - 0.9).abs() < 1e-9);
        assert_eq!(assessment.findings[0].severity, Severity::High);
    }

    #[test]
    fn a_finding_the_scene_may_explain_forces_the_softer_action() {
        let policy = Policy::embedded();
        let mut overexposed = finding(ReasonCode::QualityOverexposed, 1.0);
        assert_eq!(policy.assess(vec![overexposed.clone()]).decision, Decision::Reject);
        overexposed.scene_may_explain = true;
        assert_eq!(policy.assess(vec![overexposed]).decision, Decision::Review);
        // Without `action_if_scene`, the action stands.
        let mut dark = finding(ReasonCode::QualityDark, 1.0);
        dark.scene_may_explain = true;
        assert_eq!(policy.assess(vec![dark]).decision, Decision::Reject);
    }

    #[test]
    fn risk_threshold_can_reject() {
        let text = EMBEDDED_POLICY.replace("reject_risk = 0.95", "reject_risk = 0.97");
        let policy = Policy::parse(&text).unwrap();
        let two = vec![finding(ReasonCode::ReuseSameFile, 1.0), finding(ReasonCode::ReuseSameImage, 1.0)];
        // 1 - 0.1 * 0.1 = 0.99 >= 0.97
        assert_eq!(policy.assess(two).decision, Decision::Reject);
    }

    #[test]
    fn unknown_or_missing_codes_are_refused() {
        let typo = EMBEDDED_POLICY.replace("reuse.same_file", "reuse.same_flie");
        assert!(matches!(Policy::parse(&typo), Err(PolicyError::UnknownCode(_))));
        let block = "[codes.\"reuse.same_image\"]\nseverity = \"high\"\naction = \"review\"\nweight = 0.9\n";
        assert!(EMBEDDED_POLICY.contains(block));
        let cut = EMBEDDED_POLICY.replace(block, "");
        assert!(matches!(Policy::parse(&cut), Err(PolicyError::MissingCode(ReasonCode::ReuseSameImage))));
    }
}
