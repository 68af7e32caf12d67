//! Acknowledged registrations survive kill -9 of the real server process, whether they came as unary
//! calls or as items of an AnalyzeStream, on the embedded store and on PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use idforensics::frontends::service::pb;
use idforensics::frontends::service::pb::id_forensics_client::IdForensicsClient;

use crate::pg_cluster::Cluster;
use crate::support::{jpeg, start_server_on, textured_image};

/// A registration the server acknowledged: its document id and image.
type Acknowledged = (String, Vec<u8>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_registrations_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    survive_sigkill(&["--data-dir".as_ref(), dir.path().as_os_str()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_registrations_survive_sigkill_of_a_postgresql_replica() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.url();
    survive_sigkill(&["--postgres".as_ref(), url.as_ref()]).await;
}

/// Registers under load, kills the server with SIGKILL, restarts it on the same `store` and finds
/// every acknowledged registration.
async fn survive_sigkill(store: &[&std::ffi::OsStr]) {
    let (mut child, address) = start_server_on(store);
    let endpoint = format!("http://{address}");
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();

    // Four unary writers register distinct documents as fast as the server acknowledges them.
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
    // A fifth client streams its registrations over AnalyzeStream; an item counts as acknowledged
    // when its response (registration included) has arrived.
    {
        let endpoint = endpoint.clone();
        let acknowledged = Arc::clone(&acknowledged);
        writers.push(tokio::spawn(async move {
            let mut client = IdForensicsClient::connect(endpoint).await.unwrap();
            let images: Vec<(String, Vec<u8>)> = (0..10_000u32)
                .map(|i| (format!("s-d{i}"), jpeg(&textured_image(24, 24, 900_000 + i), 90)))
                .collect();
            let sent = images.clone();
            let requests =
                tokio_stream::iter(sent.into_iter().map(|(document_id, image)| pb::AnalyzeRequest {
                    image,
                    account_id: "acct-stream".into(),
                    document_id,
                    register: true,
                    ..Default::default()
                }));
            let Ok(response) = client.analyze_stream(requests).await else { return };
            let mut responses = response.into_inner();
            while let Ok(Some(item)) = responses.message().await {
                let registered = matches!(
                    &item.result,
                    Some(pb::analyze_stream_response::Result::Response(r)) if r.registration.is_some()
                );
                if registered {
                    acknowledged.lock().unwrap().push(images[item.sequence as usize].clone());
                }
            }
        }));
    }
    // Kill once a good number of registrations are acknowledged and more are in flight.
    while acknowledged.lock().unwrap().iter().filter(|(id, _)| id.starts_with("s-")).count() < 20
        || acknowledged.lock().unwrap().len() < 60
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (mut restarted, address) = start_server_on(store);
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
