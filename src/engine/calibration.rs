//! Per-deployment calibration of the local tamper thresholds (`idforensics calibrate`).
//!
//! Fixed thresholds transfer badly between sources: a deployment's cameras, scanners and upload
//! apps set how much its genuine uploads' anomaly maps peak. Calibration analyses a sample of the
//! deployment's own genuine uploads once, keeps each one's anomaly maps, and re-applies candidate
//! thresholds to those maps through the same region rule, portrait check and policy the service
//! runs. Each map's threshold sits just above one of the sample's peaks on that map, so each map is
//! set on its own spread; the thresholds come down one map and one peak at a time, the step that
//! sends the fewest more uploads to review first, while the sample's review rate stays within the
//! target.
//!
//! The review rate counted here is the tamper analysis's alone: the uploads whose tamper findings
//! the policy sends to review or rejects. The quality gate and reuse answer other questions.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Models;
use crate::analysis::decode::{DecodeError, DecodeLimits, decode};
use crate::analysis::tamper::local::{AnomalyMap, AnomalyScores, LocalThresholds, MAP_CODES, map_findings};
use crate::domain::findings::Finding;
use crate::domain::policy::Decision;
use crate::domain::report::DocumentOutline;

/// Fewest flagged uploads a sample must be able to hold at the target rate: below about five, a
/// rate cannot be told from chance.
pub const MIN_FLAGGED_AT_TARGET: f64 = 5.0;

/// Most steps a map's threshold is lowered in (a large sample is searched in coarser steps).
const MAX_STEPS_PER_MAP: usize = 50;

/// One upload analysed once: what the local thresholds cannot change, and the maps they apply to.
#[derive(Debug, Clone)]
pub struct CalibrationSample {
    /// Tamper findings that do not come from anomaly-map regions (metadata, re-save, copy-move).
    fixed: Vec<Finding>,
    /// The maps whose regions become findings at a threshold.
    maps: Vec<AnomalyMap>,
    /// Where the document lies, for the portrait check.
    outline: DocumentOutline,
    /// SHA-256 of the file, so that a calibrated model names the sample it came from.
    digest: [u8; 32],
}

impl CalibrationSample {
    /// Decodes and analyses one upload as the service would.
    pub fn analyse(bytes: &[u8], limits: &DecodeLimits, models: &Models) -> Result<Self, DecodeError> {
        let (report, outline) = models.tamper_and_outline(&decode(bytes, limits)?);
        Ok(CalibrationSample {
            fixed: report.findings.into_iter().filter(|f| !MAP_CODES.contains(&f.code)).collect(),
            maps: report.maps.into_iter().filter(|m| MAP_CODES.contains(&m.code)).collect(),
            outline,
            digest: Sha256::digest(bytes).into(),
        })
    }

    fn peak(&self, name: &str) -> Option<f32> {
        self.maps.iter().find(|m| m.name == name).map(|m| m.scores.peak())
    }

    /// Would the service send this upload to review on its tamper findings under `local`?
    fn flagged(&self, models: &Models, local: &LocalThresholds) -> bool {
        let mut findings = self.fixed.clone();
        findings.extend(map_findings(&self.maps, local));
        // Calibration sets the anomaly scores only: the portrait check's overlap is the models'.
        findings.extend(models.portrait_finding(&findings, &self.outline));
        models.policy.assess(findings).decision >= Decision::Review
    }
}

/// A count out of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// Uploads counted.
    pub count: usize,
    /// Uploads in the sample.
    pub of: usize,
}

impl Rate {
    /// The share, 0 for an empty sample.
    pub fn share(self) -> f64 {
        if self.of == 0 { 0.0 } else { self.count as f64 / self.of as f64 }
    }

    fn of_samples(samples: &[&CalibrationSample], models: &Models, local: &LocalThresholds) -> Rate {
        Rate { count: samples.iter().filter(|s| s.flagged(models, local)).count(), of: samples.len() }
    }
}

/// One map's threshold before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapThreshold {
    /// The map.
    pub map: &'static str,
    /// The threshold calibrated from.
    pub before: f32,
    /// The calibrated threshold.
    pub after: f32,
    /// Share of the genuine images with this map that peak above the calibrated threshold.
    pub exceedance: f64,
}

/// What calibration chose and what it expects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// The version written into the calibrated `tamper.toml`.
    pub version: String,
    /// The review rate asked for.
    pub target_review_rate: f64,
    /// The thresholds.
    pub thresholds: Vec<MapThreshold>,
    /// Genuine uploads sent to review by findings calibration does not set (the rate it cannot go
    /// below).
    pub floor: Rate,
    /// Genuine uploads sent to review with the thresholds calibrated from.
    pub review_before: Rate,
    /// Genuine uploads sent to review with the calibrated thresholds (in-sample: optimistic).
    pub review_after: Rate,
    /// A cautious estimate of the false-review rate on new uploads: calibrated on each half of the
    /// sample and counted on the other, averaged (thresholds set on half the sample are noisier
    /// than on all of it, so this errs high).
    pub cross_checked_review_rate: f64,
    /// With forged uploads: detected with the thresholds calibrated from, and with the calibrated.
    pub detection: Option<(Rate, Rate)>,
}

/// Why calibration cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// The target is not a rate.
    #[error("--target-review-rate must be between 0 and 1 (exclusive), not {0}")]
    Target(f64),
    /// The sample is too small for the target.
    #[error(
        "a target review rate of {target} cannot be resolved with {genuine} genuine uploads: at least {needed} are needed (about {MIN_FLAGGED_AT_TARGET} flagged at the target), or a target of at least {lowest:.4}"
    )]
    TooFewSamples {
        /// The target asked for.
        target: f64,
        /// Genuine uploads given.
        genuine: usize,
        /// Uploads the target needs.
        needed: usize,
        /// The lowest target this sample resolves.
        lowest: f64,
    },
    /// Findings the local thresholds do not set already flag more than the target.
    #[error(
        "{} of {} genuine uploads ({:.1} %) go to review on findings calibration does not set ({codes}): no local thresholds reach a target of {target}",
        floor.count, floor.of, 100.0 * floor.share()
    )]
    Unreachable {
        /// The target asked for.
        target: f64,
        /// Those uploads.
        floor: Rate,
        /// Their codes, most frequent first.
        codes: String,
    },
    /// The calibrated file could not be written from the models' text.
    #[error("cannot write the calibrated tamper.toml: {0}")]
    Write(String),
}

/// Calibrated thresholds and the `tamper.toml` text that carries them.
#[derive(Debug, Clone)]
pub struct Calibrated {
    /// The report.
    pub calibration: Calibration,
    /// The calibrated `tamper.toml`, comments of the original kept.
    pub tamper_toml: String,
}

/// The fewest genuine uploads that resolve `target`, or why `target` is not a rate (a caller can
/// check this before analysing anything).
pub fn needed_samples(target: f64) -> Result<usize, CalibrationError> {
    if target > 0.0 && target < 1.0 {
        Ok((MIN_FLAGGED_AT_TARGET / target).ceil() as usize)
    } else {
        Err(CalibrationError::Target(target))
    }
}

/// Sets the local thresholds of `models` so that about `target` of `genuine` go to review on their
/// tamper findings; `forged`, when given, are counted as detected or not at both thresholds.
pub fn calibrate(
    genuine: &[CalibrationSample],
    forged: &[CalibrationSample],
    target: f64,
    models: &Models,
) -> Result<Calibrated, CalibrationError> {
    let needed = needed_samples(target)?;
    if genuine.len() < needed {
        return Err(CalibrationError::TooFewSamples {
            target,
            genuine: genuine.len(),
            needed,
            lowest: MIN_FLAGGED_AT_TARGET / genuine.len().max(1) as f64,
        });
    }
    let before = &models.tamper.thresholds.local;
    let (all, forged): (Vec<_>, Vec<_>) = (genuine.iter().collect(), forged.iter().collect());
    let (chosen, floor) = search(&all, target, models);
    if floor.share() > target {
        return Err(CalibrationError::Unreachable { target, floor, codes: floor_codes(genuine, models) });
    }
    let even: Vec<_> = genuine.iter().step_by(2).collect();
    let odd: Vec<_> = genuine.iter().skip(1).step_by(2).collect();
    let crossed = |fit: &[&CalibrationSample], count: &[&CalibrationSample]| {
        Rate::of_samples(count, models, &search(fit, target, models).0).share()
    };
    let cross_checked_review_rate = (crossed(&even, &odd) + crossed(&odd, &even)) / 2.0;
    let version = calibrated_version(&models.tamper.thresholds.version, genuine, target);
    let calibration = Calibration {
        version: version.clone(),
        target_review_rate: target,
        thresholds: AnomalyScores::NAMES
            .iter()
            .map(|&map| {
                let after = chosen.anomaly_scores.of(map);
                let with_map: Vec<f32> = genuine.iter().filter_map(|s| s.peak(map)).collect();
                let exceeding = with_map.iter().filter(|&&peak| peak >= after).count();
                MapThreshold {
                    map,
                    before: before.anomaly_scores.of(map),
                    after,
                    exceedance: Rate { count: exceeding, of: with_map.len() }.share(),
                }
            })
            .collect(),
        floor,
        review_before: Rate::of_samples(&all, models, before),
        review_after: Rate::of_samples(&all, models, &chosen),
        cross_checked_review_rate,
        detection: (!forged.is_empty())
            .then(|| (Rate::of_samples(&forged, models, before), Rate::of_samples(&forged, models, &chosen))),
    };
    let tamper_toml = rewrite_tamper_toml(&models.tamper.thresholds_toml, &calibration)?;
    Ok(Calibrated { calibration, tamper_toml })
}

/// Thresholds for `samples` at `target`, and the rate with every map above every peak (the floor).
///
/// From every map's threshold just above its highest peak, the maps take turns: each in its turn
/// is lowered past its next peak unless that would send more than `target` of the sample to
/// review, until no map can step. Turns in a fixed order rather than always the cheapest step: a
/// choice among candidates by their in-sample cost overfits the sample (seed 4402 of
/// tests/it/calibrate.rs: 4.5 % in the sample, 7.0 % on the next 200). No map is lowered below the
/// peak that `target` of the images exceed on it alone.
fn search(samples: &[&CalibrationSample], target: f64, models: &Models) -> (LocalThresholds, Rate) {
    let peaks: Vec<(&str, Vec<f32>)> = AnomalyScores::NAMES
        .iter()
        .map(|&name| {
            let mut peaks: Vec<f32> = samples.iter().filter_map(|s| s.peak(name)).collect();
            peaks.sort_by(|a, b| b.total_cmp(a));
            (name, peaks)
        })
        .collect();
    // How many images each map may let above its threshold, and how many more per step.
    let limits: Vec<usize> = peaks.iter().map(|(_, p)| (target * p.len() as f64).floor() as usize).collect();
    let steps: Vec<usize> = limits.iter().map(|&limit| (limit / MAX_STEPS_PER_MAP).max(1)).collect();
    let at = |above: &[usize]| {
        let mut local = models.tamper.thresholds.local.clone();
        for ((name, peaks), &count) in peaks.iter().zip(above) {
            // A map no image has keeps its threshold.
            if let Some(&peak) = peaks.get(count.min(peaks.len().saturating_sub(1))) {
                local.anomaly_scores = local.anomaly_scores.with(name, peak + 1e-3);
            }
        }
        local
    };
    let mut above = vec![0; peaks.len()];
    let floor = Rate::of_samples(samples, models, &at(&above));
    loop {
        let mut stepped = false;
        for map in 0..peaks.len() {
            if above[map] + steps[map] > limits[map] {
                continue;
            }
            let mut trial = above.clone();
            trial[map] += steps[map];
            if Rate::of_samples(samples, models, &at(&trial)).share() <= target {
                above = trial;
                stepped = true;
            }
        }
        if !stepped {
            break;
        }
    }
    (at(&above), floor)
}

/// The codes of the findings that flag genuine uploads whatever the local thresholds, most frequent
/// first.
fn floor_codes(samples: &[CalibrationSample], models: &Models) -> String {
    let mut counts = std::collections::BTreeMap::<&'static str, usize>::new();
    for sample in samples {
        let assessment = models.policy.assess(sample.fixed.clone());
        if assessment.decision >= Decision::Review {
            for rated in &assessment.findings {
                *counts.entry(rated.finding.code.as_str()).or_default() += 1;
            }
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    counts.iter().map(|(code, count)| format!("{code} {count}")).collect::<Vec<_>>().join(", ")
}

/// `base` with a suffix naming the sample and the target, so that two calibrations never share a
/// version and the same sample always gives the same one.
fn calibrated_version(base: &str, samples: &[CalibrationSample], target: f64) -> String {
    let mut digests: Vec<[u8; 32]> = samples.iter().map(|s| s.digest).collect();
    digests.sort_unstable();
    let mut hasher = Sha256::new();
    digests.iter().for_each(|digest| hasher.update(digest));
    hasher.update(target.to_le_bytes());
    let hash = hasher.finalize();
    let short: String = hash[..4].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{base}+calibrated.{short}")
}

/// `text` (a `tamper.toml`) with the calibration's version and anomaly thresholds, each line
/// replaced in place so the file's comments stay; a header says where the values came from.
fn rewrite_tamper_toml(text: &str, calibration: &Calibration) -> Result<String, CalibrationError> {
    let mut table = String::new();
    let mut replaced = 0;
    let mut out = format!(
        "# Calibrated by `idforensics calibrate`: {} genuine uploads, target review rate {}, cross-checked {:.3} \
         (in-sample {} of {}; each half calibrated and counted on the other). Edit only by re-calibrating.\n",
        calibration.review_after.of,
        calibration.target_review_rate,
        calibration.cross_checked_review_rate,
        calibration.review_after.count,
        calibration.review_after.of,
    );
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            table = trimmed.trim_end().to_owned();
        }
        let key = trimmed.split('=').next().unwrap_or("").trim();
        let threshold = calibration.thresholds.iter().find(|t| t.map == key);
        if table.is_empty() && key == "version" {
            out.push_str(&format!("version = \"{}\"\n", calibration.version));
            replaced += 1;
        } else if let (Some(threshold), "[local.anomaly_scores]") = (threshold, table.as_str()) {
            out.push_str(&format!("{key} = {:.3} # calibrated; was {}\n", threshold.after, threshold.before));
            replaced += 1;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if replaced != 1 + calibration.thresholds.len() {
        return Err(CalibrationError::Write(format!(
            "expected a top-level version and {} keys in [local.anomaly_scores], replaced {replaced} lines",
            calibration.thresholds.len()
        )));
    }
    // The written text must read back as the thresholds chosen.
    let parsed: crate::analysis::tamper::TamperThresholds =
        toml::from_str(&out).map_err(|error| CalibrationError::Write(error.to_string()))?;
    let agrees =
        calibration.thresholds.iter().all(|t| (parsed.local.anomaly_scores.of(t.map) - t.after).abs() < 1e-3);
    if !agrees || parsed.version != calibration.version {
        return Err(CalibrationError::Write("the written file does not read back as calibrated".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calibration(thresholds: Vec<MapThreshold>) -> Calibration {
        let rate = Rate { count: 3, of: 100 };
        Calibration {
            version: "2026-12-02.4+calibrated.0badcafe".into(),
            target_review_rate: 0.05,
            thresholds,
            floor: rate,
            review_before: rate,
            review_after: rate,
            cross_checked_review_rate: 0.04,
            detection: None,
        }
    }

    #[test]
    fn the_rewritten_model_keeps_its_comments_and_reads_back_as_calibrated() {
        let models = Models::embedded();
        let shipped = &models.tamper.thresholds.local.anomaly_scores;
        let thresholds: Vec<MapThreshold> = AnomalyScores::NAMES
            .iter()
            .enumerate()
            .map(|(i, &map)| MapThreshold {
                map,
                before: shipped.of(map),
                after: 2.5 + i as f32,
                exceedance: 0.01,
            })
            .collect();
        let text = rewrite_tamper_toml(&models.tamper.thresholds_toml, &calibration(thresholds)).unwrap();
        let reloaded = crate::analysis::tamper::TamperModels::parse(
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/editors.toml")),
            &text,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/jpeg_signatures.toml")),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/generators.toml")),
        )
        .unwrap();
        assert_eq!(reloaded.thresholds.version, "2026-12-02.4+calibrated.0badcafe");
        assert_eq!(reloaded.thresholds.local.anomaly_scores.noise, 3.5);
        assert_eq!(reloaded.thresholds.local.anomaly_scores.foreign_grid, 5.5);
        // Everything else is as shipped.
        let mut expected = models.tamper.thresholds.clone();
        expected.version = reloaded.thresholds.version.clone();
        expected.local.anomaly_scores = reloaded.thresholds.local.anomaly_scores.clone();
        assert_eq!(reloaded.thresholds, expected);
        assert!(text.contains("# Local analyses (src/tamper/local)"), "comments kept");
        assert!(text.contains(&format!("noise = 3.500 # calibrated; was {}", shipped.noise)), "{text}");
    }

    #[test]
    fn a_model_without_the_keys_is_refused_rather_than_written_half() {
        let thresholds = vec![MapThreshold { map: "noise", before: 4.0, after: 3.0, exceedance: 0.01 }];
        let error = rewrite_tamper_toml("version = \"1\"\n[local]\nnoise = 4.0\n", &calibration(thresholds));
        assert!(matches!(error, Err(CalibrationError::Write(_))), "{error:?}");
    }

    #[test]
    fn a_target_the_sample_cannot_resolve_is_refused_with_the_lowest_it_can() {
        let models = Models::embedded();
        let error = calibrate(&[], &[], 0.05, &models).unwrap_err();
        assert!(matches!(error, CalibrationError::TooFewSamples { needed: 100, .. }), "{error}");
        assert!(matches!(calibrate(&[], &[], 1.5, &models), Err(CalibrationError::Target(_))));
    }
}
