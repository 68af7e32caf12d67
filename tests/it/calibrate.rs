//! `idforensics calibrate` end to end: a deployment's genuine captures in, a `tamper.toml` out, and
//! the service loading it sends about the target share of a second sample of genuine captures to
//! review on their tamper findings.
//!
//! The deployment: phone captures and flatbed scans of generated cards at 900–1200 px (one in four
//! then re-sent through a messaging app), seeds 4401 (calibration) and 4402 (the second sample),
//! not used for any threshold.

use std::path::Path;
use std::process::Command;

use idforensics::analysis::decode::DecodeLimits;
use idforensics::domain::policy::Decision;
use idforensics::engine::{AnalyzeRequest, Engine, Models};
use idforensics::eval::synthetic::capture::{CaptureSettings, Device, capture, messaging_app_resave};
use idforensics::eval::synthetic::cards::Template;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SAMPLE: usize = 300;
const TARGET: f64 = 0.05;

/// `count` genuine uploads of the deployment, written to `dir` as JPEG files.
fn write_genuine_captures(dir: &Path, count: usize, seed: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    for index in 0..count {
        let template = Template::new(index as u64 % 4);
        let card = template.render(&template.holder(&mut rng));
        let device = if index % 3 == 2 { Device::Scanner } else { Device::Phone };
        let settings = CaptureSettings {
            frame_long_side: rng.random_range(900..=1200),
            ..CaptureSettings::draw(device, &mut rng)
        };
        let shot = capture(&card, &settings, &mut rng);
        let bytes = if index % 4 == 3 { messaging_app_resave(&shot.jpeg, &mut rng) } else { shot.jpeg };
        std::fs::write(dir.join(format!("upload-{index:03}.jpg")), bytes).unwrap();
    }
}

/// Does the service loading `models` send this upload to review on its tamper findings?
fn tamper_review(engine: &Engine, models: &Models, bytes: &[u8]) -> bool {
    let request = AnalyzeRequest {
        image: bytes,
        account_id: None,
        document_id: None,
        register: false,
        include_evidence_images: false,
    };
    let report = engine.analyze(request).expect("a generated capture analyses");
    let tamper = report
        .findings
        .into_iter()
        .map(|rated| rated.finding)
        .filter(|finding| finding.code.as_str().starts_with("tamper."))
        .collect();
    models.policy.assess(tamper).decision >= Decision::Review
}

#[test]
fn calibrated_thresholds_hold_the_target_review_rate_on_a_second_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (genuine, second, out) =
        (dir.path().join("genuine"), dir.path().join("second"), dir.path().join("models"));
    write_genuine_captures(&genuine, SAMPLE, 4401);
    write_genuine_captures(&second, SAMPLE, 4402);

    let output = Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(["calibrate", "--json", "--target-review-rate", &TARGET.to_string()])
        .arg("--genuine")
        .arg(&genuine)
        .arg("--out")
        .arg(&out)
        .env_remove("IDF_MODELS_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let in_sample = report["review_after"]["count"].as_f64().unwrap() / SAMPLE as f64;
    assert!(in_sample <= TARGET, "{report}");

    let models = Models::load(&out).unwrap();
    assert_eq!(models.tamper.thresholds.version, report["version"].as_str().unwrap());
    assert_ne!(
        models.tamper.thresholds.local.anomaly_scores,
        Models::embedded().tamper.thresholds.local.anomaly_scores
    );
    let engine = Engine::new(DecodeLimits::default(), models.clone());
    let mut reviewed = 0;
    for entry in std::fs::read_dir(&second).unwrap() {
        reviewed +=
            usize::from(tamper_review(&engine, &models, &std::fs::read(entry.unwrap().path()).unwrap()));
    }
    let rate = reviewed as f64 / SAMPLE as f64;
    eprintln!(
        "calibrated on {SAMPLE}: in-sample {in_sample}, second sample {rate} ({reviewed} of {SAMPLE}); {report}"
    );
    assert!(
        (rate - TARGET).abs() <= 0.02,
        "second sample: {reviewed} of {SAMPLE} to review, target {TARGET}"
    );
}

#[test]
fn a_target_the_sample_cannot_resolve_is_refused_before_any_analysis_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    write_genuine_captures(&dir.path().join("genuine"), 3, 4403);
    let output = Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(["calibrate", "--target-review-rate", "0.05", "--genuine"])
        .arg(dir.path().join("genuine"))
        .arg("--out")
        .arg(dir.path().join("models"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs at least 100 genuine uploads"), "{stderr}");
    assert!(!dir.path().join("models").exists(), "nothing written");
}
