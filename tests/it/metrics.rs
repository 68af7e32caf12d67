//! The HTTP listener beside gRPC: `/metrics` moves with the calls, `/healthz` and `/readyz` answer.

use idforensics::frontends::service::pb;

use crate::support::{TestServer, http_get as get, testdata};

/// The value of the sample of `name` whose labels include every one of `labels`; 0 when absent.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            series_name == name
                && labels.iter().all(|(label, value)| series_labels.contains(&format!("{label}=\"{value}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

#[tokio::test]
async fn metrics_count_calls_decisions_findings_and_stages() {
    let server = TestServer::start().await;
    assert_eq!(get(server.http_address, "/healthz").await, (200, "ok\n".to_owned()));
    assert_eq!(get(server.http_address, "/readyz").await, (200, "ready\n".to_owned()));

    let mut client = server.client().await;
    let camera = testdata("camera-sony-cybershot.jpg");
    let analyze = |account: &str| pb::AnalyzeRequest {
        image: camera.clone(),
        account_id: account.into(),
        document_id: "licence".into(),
        register: true,
        ..Default::default()
    };
    client.analyze(analyze("acct-A")).await.unwrap();
    client.analyze(analyze("acct-B")).await.unwrap();
    let empty = pb::AnalyzeRequest::default();
    assert_eq!(client.analyze(empty).await.unwrap_err().code(), tonic::Code::InvalidArgument);
    let lookup = pb::FindMatchesRequest { image: camera.clone(), account_id: String::new() };
    client.find_matches(lookup).await.unwrap();

    let (status, metrics) = get(server.http_address, "/metrics").await;
    assert_eq!(status, 200);
    let requests = "idforensics_requests_total";
    assert_eq!(sample(&metrics, requests, &[("method", "Analyze"), ("code", "Ok")]), 2.0);
    assert_eq!(sample(&metrics, requests, &[("method", "Analyze"), ("code", "InvalidArgument")]), 1.0);
    assert_eq!(sample(&metrics, requests, &[("method", "FindMatches"), ("code", "Ok")]), 1.0);
    assert_eq!(sample(&metrics, "idforensics_decisions_total", &[("decision", "ACCEPT")]), 1.0);
    assert_eq!(sample(&metrics, "idforensics_decisions_total", &[("decision", "REVIEW")]), 1.0);
    assert_eq!(sample(&metrics, "idforensics_findings_total", &[("code", "reuse.same_file")]), 1.0);
    let stage_count = "idforensics_stage_duration_seconds_count";
    assert_eq!(sample(&metrics, stage_count, &[("stage", "decode")]), 2.0);
    assert_eq!(sample(&metrics, stage_count, &[("stage", "serialised")]), 2.0);
    assert!(sample(&metrics, "idforensics_stage_duration_seconds_sum", &[("stage", "tamper")]) > 0.0);
    assert_eq!(sample(&metrics, "idforensics_indexed_documents", &[]), 2.0);
    assert!(sample(&metrics, "idforensics_index_bytes", &[]) > 0.0);
    assert_eq!(sample(&metrics, "idforensics_analyses_in_flight", &[]), 0.0);
    // Two registrations: changes 1 and 2 of the store's sequence, applied right after each was written.
    assert_eq!(sample(&metrics, "idforensics_replica_applied_sequence", &[]), 2.0);
    let lag = sample(&metrics, "idforensics_replica_catch_up_lag_seconds", &[]);
    assert!((0.0..5.0).contains(&lag), "{lag}");
    for name in ["idforensics_analyses_refused_total", "idforensics_store_errors_total"] {
        assert!(metrics.contains(&format!("\n{name} 0")), "{name} is exported");
    }
    for line in metrics.lines().filter(|line| !line.starts_with('#')) {
        assert!(line.starts_with("idforensics_"), "{line}");
    }
    server.stop().await;
}
