//! The real `idforensics` binary: `analyze --json`, registration, exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::pg_cluster::Cluster;
use crate::support::{jpeg, textured_image};

fn idforensics(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(args)
        .env_remove("IDF_DATA_DIR")
        .env_remove("IDF_POSTGRES_URL")
        .env_remove("IDF_DOCUMENT_NUMBER_SECRET_FILE")
        .output()
        .unwrap()
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name).display().to_string()
}

#[test]
fn analyze_json_reports_each_file_and_exit_codes_follow_the_worst() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().unwrap();
    let camera = testdata("camera-sony-cybershot.jpg");

    let accepted = idforensics(&["analyze", "--json", &camera]);
    assert_eq!(accepted.status.code(), Some(0), "{}", String::from_utf8_lossy(&accepted.stderr));
    let line = &json_lines(&accepted)[0];
    assert_eq!(line["file"], camera.as_str());
    assert_eq!(line["document_id"], camera.as_str());
    assert_eq!(line["decision"], "ACCEPT");
    assert_eq!(line["risk_score"], 0.0);
    assert_eq!(line["findings"], Value::Array(Vec::new()));
    assert_eq!(line["fingerprints"]["file_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(line["image"]["width"], 640);

    let registered = idforensics(&[
        "analyze",
        "--json",
        "--data-dir",
        data_dir,
        "--account",
        "acct-A",
        "--document-id",
        "a-1",
        "--register",
        &camera,
    ]);
    assert_eq!(registered.status.code(), Some(0), "{}", String::from_utf8_lossy(&registered.stderr));
    assert_eq!(json_lines(&registered)[0]["registration"]["replayed"], false);

    let truncated = dir.path().join("truncated.jpg");
    let bytes = jpeg(&textured_image(200, 150, 7), 90);
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let truncated = truncated.to_str().unwrap();

    let flagged = idforensics(&["analyze", "--json", "--data-dir", data_dir, "--account", "acct-B", &camera]);
    assert_eq!(flagged.status.code(), Some(1), "REVIEW exits 1");
    let line = &json_lines(&flagged)[0];
    assert_eq!(line["decision"], "REVIEW");
    assert_eq!(line["findings"][0]["code"], "reuse.same_file");
    assert_eq!(line["findings"][0]["severity"], "high");
    assert_eq!(line["findings"][0]["evidence"]["other_accounts"], 1.0);
    assert_eq!(line["matches"][0]["account_id"], "acct-A");
    assert_eq!(line["matches"][0]["document_id"], "a-1");
    assert_eq!(line["matches"][0]["kind"], "reuse.same_file");
    assert_eq!(line["matches"][0]["distance"], 0);

    let with_error = idforensics(&[
        "analyze",
        "--json",
        "--data-dir",
        data_dir,
        "--account",
        "acct-B",
        &camera,
        truncated,
    ]);
    assert_eq!(with_error.status.code(), Some(2), "an error exits 2");
    let lines = json_lines(&with_error);
    assert_eq!(lines.len(), 2, "every file gets a line");
    assert_eq!(lines[1]["error"]["reason"], "image.truncated");
    assert!(lines[1]["error"]["message"].as_str().unwrap().contains("truncated"));
}

#[test]
fn analyze_registers_on_postgresql_and_an_unreachable_one_exits_2() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.url();
    let camera = testdata("camera-sony-cybershot.jpg");
    let register = |account: &str| {
        let args = ["analyze", "--json", "--postgres", &url, "--account", account, "--register", &camera];
        idforensics(&args)
    };
    assert_eq!(register("acct-A").status.code(), Some(0));
    let flagged = register("acct-B");
    assert_eq!(flagged.status.code(), Some(1), "{}", String::from_utf8_lossy(&flagged.stderr));
    assert_eq!(json_lines(&flagged)[0]["matches"][0]["account_id"], "acct-A");

    let both = idforensics(&["analyze", "--postgres", &url, "--data-dir", "/tmp/never", &camera]);
    assert_eq!(both.status.code(), Some(2), "one store per process");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("postgresql://postgres@127.0.0.1:{closed_port}/postgres");
    let refused = idforensics(&["analyze", "--postgres", &unreachable, &camera]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("opening the store (postgresql 127.0.0.1:"));
}

/// The embedded store makes its document-number secret on first use, keeps using it, and refuses
/// another secret (whose keys would never match its own) or one too short.
#[test]
fn the_document_number_secret_is_made_once_and_another_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let camera = testdata("camera-sony-cybershot.jpg");
    let analyze = |secret: Option<&Path>| {
        let mut args = vec!["analyze", "--data-dir", &data];
        let secret = secret.map(|path| path.display().to_string());
        if let Some(path) = &secret {
            args.extend(["--document-number-secret-file", path]);
        }
        args.push(&camera);
        idforensics(&args)
    };
    assert_eq!(analyze(None).status.code(), Some(0));
    let made = Path::new(&data).join("document-number.secret");
    assert_eq!(std::fs::read_to_string(&made).unwrap().trim().len(), 64);
    assert_eq!(analyze(Some(&made)).status.code(), Some(0), "the same secret, given");

    let other = dir.path().join("other.secret");
    std::fs::write(&other, "an-other-deployment-s-secret-of-40-bytes").unwrap();
    let refused = analyze(Some(&other));
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("keyed with another secret"));
    std::fs::write(&other, "short\n").unwrap();
    let short = analyze(Some(&other));
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 32"));
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let camera = testdata("camera-sony-cybershot.jpg");
    let no_account =
        idforensics(&["analyze", "--register", "--data-dir", "/nonexistent-never-used", &camera]);
    assert_eq!(no_account.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_account.stderr).contains("--register needs --account"));
    let two_files = idforensics(&["analyze", "--document-id", "x", &camera, &camera]);
    assert_eq!(two_files.status.code(), Some(2));
    let missing = idforensics(&["analyze", "--json", "/nonexistent/file.jpg"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(json_lines(&missing)[0]["error"]["reason"], "file.unreadable");
}

#[test]
fn help_documents_exit_codes() {
    let help = idforensics(&["analyze", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("Exit codes") && text.contains("flagged"), "{text}");
}

#[test]
fn quality_set_and_eval_reproduce_from_testdata() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let set = set.to_str().unwrap();
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let made = idforensics(&["make-quality-set", "--from", testdata.to_str().unwrap(), "--out", set]);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));

    let eval = idforensics(&["eval", "--json", set]);
    assert_eq!(eval.status.code(), Some(0), "{}", String::from_utf8_lossy(&eval.stderr));
    let report: Value = serde_json::from_slice(&eval.stdout).unwrap();
    let labels = report["labels"].as_object().unwrap();
    // The camera original passes; every degradation of it earns its own reason.
    assert_eq!(labels["good"]["files"], 1);
    assert_eq!(labels["good"]["decisions"]["ACCEPT"], 1);
    for (label, result) in labels {
        if label.starts_with("low-quality-") {
            assert_eq!(result["expected_fired"], result["files"], "{label}: {result}");
        }
    }
    assert!(labels.contains_key("low-quality-glare") && labels.contains_key("low-quality-compression"));

    let markdown = idforensics(&["eval", set]);
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(text.contains("| quality.blur |") && text.contains("Good images rejected: 0/1"), "{text}");
}

#[test]
fn analyze_writes_heatmaps_to_the_evidence_folder() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    let camera = testdata("camera-sony-cybershot.jpg");
    let output = idforensics(&["analyze", "--evidence-dir", evidence.to_str().unwrap(), &camera]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut written: Vec<String> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert!(written.contains(&"camera-sony-cybershot.jpg.heatmap.noise.png".to_owned()), "{written:?}");
    for name in &written {
        let image = image::open(evidence.join(name)).unwrap();
        assert_eq!(image.width(), 640, "{name}: the 640×480 upload at its own size");
    }
}

/// The names of an object's fields (JSON objects are unordered: compared as sets).
fn keys(value: &Value) -> std::collections::BTreeSet<&str> {
    value.as_object().map(|object| object.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> std::collections::BTreeSet<&'a str> {
    names.into_iter().collect()
}

#[test]
fn analyze_json_keeps_its_contract_and_pins_the_classic_hashes() {
    // (file, pHash, dHash): computed with image_hasher; docs/fingerprints.md compares them with
    // Python ImageHash's on the same files.
    let expected = [
        ("camera-sony-cybershot.jpg", "868c5b4b6c671b47", "6676666666e2ee6e"),
        ("edited-photoshop-cs6.jpg", "c1d9be963e2619c1", "ad929264c0c0e440"),
        ("specimen-id-si.jpg", "af05c868e333dc1d", "517164cd4f255951"),
    ];
    for (name, phash, dhash) in expected {
        let output = idforensics(&["analyze", "--json", &testdata(name)]);
        let line = &json_lines(&output)[0];
        // The README's contract: these fields, in this order, snake_case.
        let mut top =
            vec!["file", "document_id", "decision", "risk_score", "findings", "matches", "fingerprints"];
        top.extend(["document", "image", "quality", "tamper", "timings", "policy_version"]);
        assert_eq!(keys(line), set(top), "{name}");
        let fingerprints = &line["fingerprints"];
        assert_eq!(
            keys(fingerprints),
            set(["file_sha256", "pixel_sha256", "pdq", "pdq_quality", "zones", "phash", "dhash"])
        );
        assert_eq!(
            keys(&fingerprints["zones"]),
            set(["card", "portrait", "data", "portrait_quality", "data_quality"])
        );
        assert_eq!(keys(&line["document"]), set(["located", "corners"]));
        assert_eq!(keys(&line["quality"]), set(["metrics"]));
        assert_eq!(keys(&line["tamper"]), set(["metrics", "inconclusive"]));
        assert_eq!(keys(&line["timings"][0]), set(["stage", "micros"]));
        for finding in line["findings"].as_array().unwrap() {
            let finding_keys = keys(finding);
            for required in ["code", "score", "evidence", "message", "retryable", "severity"] {
                assert!(finding_keys.contains(required), "{name}: {finding_keys:?}");
            }
        }
        assert_eq!(
            (fingerprints["phash"].as_str(), fingerprints["dhash"].as_str()),
            (Some(phash), Some(dhash))
        );
    }
}
