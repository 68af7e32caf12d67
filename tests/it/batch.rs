//! `idforensics batch` end to end: planted reuse rings, a kill part-way, a resume, a re-run.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{jpeg, png, textured_image};

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

fn batch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_idforensics")).arg("batch").args(args).output().unwrap()
}

#[test]
fn batch_reports_every_planted_ring_once_and_resumes_after_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut manifest = String::from("account_id,document_id,path\n");
    let mut add = |account: &str, document: &str, bytes: &[u8], extension: &str| {
        let name = format!("{account}-{document}.{extension}");
        std::fs::write(images.join(&name), bytes).unwrap();
        manifest += &format!("{account},{document},images/{name}\n");
    };
    // 250 accounts with a document of their own.
    for i in 0..250u32 {
        add(&format!("user-{i:03}"), "id", &jpeg(&textured_image(160, 120, 1000 + i), 85), "jpg");
    }
    // Ring 1: one licence image behind three accounts.
    let licence = jpeg(&textured_image(160, 120, 7), 85);
    for account in ["ring1-a", "ring1-b", "ring1-c"] {
        add(account, "licence", &licence, "jpg");
    }
    // Ring 2: a reviewer and the account it reviews, one ID (re-encoded losslessly).
    let shared = textured_image(160, 120, 8);
    add("reviewer", "id", &jpeg(&shared, 100), "jpg");
    let reencoded =
        idforensics::analysis::decode::decode(&jpeg(&shared, 100), &Default::default()).unwrap().rgb;
    add("reviewee", "id", &png(&reencoded), "png");
    // Ring 3: a chain, x-y share one document and y-z another.
    let (first, second) = (jpeg(&textured_image(160, 120, 9), 85), jpeg(&textured_image(160, 120, 10), 85));
    add("chain-x", "a", &first, "jpg");
    add("chain-y", "a", &first, "jpg");
    add("chain-y", "b", &second, "jpg");
    add("chain-z", "b", &second, "jpg");
    let manifest_path = dir.path().join("manifest.csv");
    std::fs::File::create(&manifest_path).unwrap().write_all(manifest.as_bytes()).unwrap();
    let total = manifest.lines().count() - 1;

    let data = dir.path().join("data");
    let out = dir.path().join("out");
    let results = out.join("results.jsonl");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];

    // Start, and kill -9 part-way.
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .arg("batch")
        .args(args)
        .args(["--jobs", "1"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines(&results).len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before_resume = lines(&results).len();
    eprintln!("killed after {before_resume} of {total} documents");

    // Resume: finishes what is left, each document exactly once.
    let resumed = batch(&args);
    assert_eq!(resumed.status.code(), Some(0), "{}", String::from_utf8_lossy(&resumed.stderr));
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(stderr.contains("already done"), "{stderr}");
    let done = lines(&results);
    assert_eq!(done.len(), total, "killed after {before_resume} lines");
    let keys: BTreeSet<(String, String)> = done
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            (
                value["account_id"].as_str().unwrap().to_owned(),
                value["document_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys.len(), total, "no document twice");

    // The report: exactly the planted rings, nobody else.
    let clusters: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("links.json")).unwrap()).unwrap();
    let accounts: Vec<Vec<&str>> = clusters
        .iter()
        .map(|c| c["account_ids"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect())
        .collect();
    assert_eq!(
        accounts,
        [
            vec!["chain-x", "chain-y", "chain-z"],
            vec!["ring1-a", "ring1-b", "ring1-c"],
            vec!["reviewee", "reviewer"]
        ]
    );
    let table = std::fs::read_to_string(out.join("links.txt")).unwrap();
    assert!(table.starts_with("3 linked-account clusters") && table.contains("reuse.same_image"), "{table}");
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), total + 1);

    // The same run against a real server gives the same clusters.
    let (mut server, address) = crate::support::start_server(&dir.path().join("server-data"));
    let remote_out = dir.path().join("remote-out");
    let url = format!("http://{address}");
    let remote = batch(&[
        "--server",
        &url,
        "--manifest",
        manifest_path.to_str().unwrap(),
        "--out",
        remote_out.to_str().unwrap(),
    ]);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(remote.status.code(), Some(0), "{}", String::from_utf8_lossy(&remote.stderr));
    assert_eq!(lines(&remote_out.join("results.jsonl")).len(), total);
    let remote_clusters: Value =
        serde_json::from_str(&std::fs::read_to_string(remote_out.join("links.json")).unwrap()).unwrap();
    assert_eq!(remote_clusters, Value::Array(clusters.clone()), "same clusters through the server");

    // Running again changes nothing.
    let again = batch(&args);
    assert!(String::from_utf8_lossy(&again.stderr).contains(&format!("{total} already done, 0 analysed")));
    assert_eq!(lines(&results).len(), total);
}

/// Python's `csv` module, when there is a Python: the reader most spreadsheets' users script with.
fn python_csv_rows(path: &std::path::Path) -> Option<Vec<Vec<String>>> {
    let script = "import csv, json, sys\nwith open(sys.argv[1], newline='', encoding='utf-8') as f:\n    print(json.dumps(list(csv.reader(f))))";
    let output = Command::new("python3").arg("-c").arg(script).arg(path).output().ok()?;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

#[test]
fn a_spreadsheet_manifest_with_quoted_ids_and_a_bom_reads_back_the_same_ids() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("images")).unwrap();
    let ids = [("acme, inc", "doc1"), ("o\"brien", "passport \"front\""), ("plain", "scan 2, back; \"b\"")];
    // As a spreadsheet exports it: a byte-order mark, CRLF line ends, RFC 4180 quoting.
    let mut manifest = String::from("\u{feff}account_id,document_id,path\r\n");
    for (i, (account, document)) in ids.iter().enumerate() {
        let name = format!("image-{i}.jpg");
        std::fs::write(
            dir.path().join("images").join(&name),
            jpeg(&textured_image(160, 120, 40 + i as u32), 85),
        )
        .unwrap();
        let quote = |cell: &str| format!("\"{}\"", cell.replace('"', "\"\""));
        manifest += &format!("{},{},images/{name}\r\n", quote(account), quote(document));
    }
    let manifest_path = dir.path().join("manifest.csv");
    std::fs::write(&manifest_path, manifest).unwrap();
    let (data, out) = (dir.path().join("data"), dir.path().join("out"));
    let output = batch(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--manifest",
        manifest_path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let results: Vec<Value> =
        lines(&out.join("results.jsonl")).iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(results.len(), ids.len());
    assert!(results.iter().all(|line| line.get("error").is_none()), "every row analysed: {results:?}");

    let expected: BTreeSet<(String, String)> =
        ids.iter().map(|(a, d)| (a.to_string(), d.to_string())).collect();
    let Some(rows) = python_csv_rows(&out.join("summary.csv")) else {
        eprintln!("skipped the Python read-back: no python3 on this machine");
        return;
    };
    assert_eq!(rows[0][..3], ["account_id", "document_id", "decision"]);
    assert!(rows[1..].iter().all(|row| row.len() == rows[0].len()), "no shifted columns: {rows:?}");
    let read_back: BTreeSet<(String, String)> =
        rows[1..].iter().map(|row| (row[0].clone(), row[1].clone())).collect();
    assert_eq!(read_back, expected);
    assert!(rows[1..].iter().all(|row| row[2] != "ERROR"));
}
