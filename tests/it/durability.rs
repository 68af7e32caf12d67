//! Acknowledged registrations survive kill -9 of the real server process.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use idforensics::pb;
use idforensics::pb::id_forensics_client::IdForensicsClient;

use crate::support::{jpeg, textured_image};

/// A registration the server acknowledged: its document id and image.
type Acknowledged = (String, Vec<u8>);

/// Starts `idforensics serve` on an ephemeral port; returns the child and the address it logged.
fn start_server(data_dir: &std::path::Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(data_dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if entry["fields"]["message"] == "idforensics listening" {
                let address = entry["fields"]["address"].as_str().unwrap().parse::<SocketAddr>().unwrap();
                let _ = sender.send(address);
            }
        }
    });
    let address = receiver.recv_timeout(Duration::from_secs(30)).expect("server did not report its address");
    (child, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_registrations_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address) = start_server(dir.path());
    let endpoint = format!("http://{address}");
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();

    // Four writers register distinct documents as fast as the server acknowledges them.
    let mut writers = Vec::new();
    for writer in 0..4u32 {
        let endpoint = endpoint.clone();
        let acknowledged = Arc::clone(&acknowledged);
        writers.push(tokio::spawn(async move {
            let mut client = IdForensicsClient::connect(endpoint).await.unwrap();
            for i in 0..10_000u32 {
                let document_id = format!("w{writer}-d{i}");
                let image = jpeg(&textured_image(24, 24, writer * 100_000 + i), 90);
                let request = pb::AnalyzeRequest {
                    image: image.clone(),
                    account_id: format!("acct-{writer}"),
                    document_id: document_id.clone(),
                    register: true,
                    ..Default::default()
                };
                match client.analyze(request).await {
                    Ok(_) => acknowledged.lock().unwrap().push((document_id, image)),
                    Err(_) => return, // the server was killed mid-request
                }
            }
        }));
    }
    // Kill once a good number of registrations are acknowledged and more are in flight.
    while acknowledged.lock().unwrap().len() < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (mut restarted, address) = start_server(dir.path());
    let mut client = IdForensicsClient::connect(format!("http://{address}")).await.unwrap();
    for (document_id, image) in &acknowledged {
        let matches = client
            .find_matches(pb::FindMatchesRequest { image: image.clone(), account_id: String::new() })
            .await
            .unwrap()
            .into_inner()
            .matches;
        assert!(
            matches.iter().any(|m| &m.document_id == document_id && m.kind == "reuse.same_file"),
            "acknowledged {document_id} lost after kill -9 ({} acknowledged)",
            acknowledged.len()
        );
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}
