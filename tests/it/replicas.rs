//! Several replicas on one real PostgreSQL: registrations made at the same moment on two replicas
//! see each other exactly once, an erasure on one replica is honoured by the other at once, a
//! database restart is ridden out (UNAVAILABLE while it is down, NOT_SERVING, then back by itself),
//! and SIGTERM turns readiness off, lets a call in flight finish and exits 0.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use idforensics::analysis::decode::DecodeLimits;
use idforensics::domain::findings::ReasonCode;
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::engine::{AnalyzeRequest, Engine, Models};
use idforensics::eval::synthetic::capture::encode_jpeg;
use idforensics::eval::synthetic::cards::Template;
use idforensics::frontends::service::pb;
use idforensics::frontends::service::pb::id_forensics_client::IdForensicsClient;
use idforensics::storage::postgresql::{PostgresOptions, PostgresStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::pg_cluster::Cluster;
use crate::support::{http_get, jpeg, reason, start_server_on, start_server_with_http, textured_image};

/// A replica in this process: an engine on its own connections to the cluster.
fn replica(cluster: &Cluster) -> Engine {
    let store = PostgresStore::connect(&cluster.url(), PostgresOptions::default()).unwrap();
    Engine::with_store(DecodeLimits::default(), Models::embedded(), Box::new(store)).unwrap()
}

/// Registers `image` for `account` and returns the accounts it matched.
fn register(engine: &Engine, account: &str, image: &[u8]) -> Vec<String> {
    let (account, document) = (AccountId::new(account).unwrap(), DocumentId::new("licence").unwrap());
    let request = AnalyzeRequest::registering(image, &account, &document);
    let report = engine.analyze(request).unwrap();
    report.matches.iter().map(|m| m.account_id.as_str().to_owned()).collect()
}

/// A registration to make: account, image and, for planted pairs, the pair's number.
type Upload = (String, Vec<u8>, Option<usize>);

/// 200 documents on two replicas: 160 different holders' cards registered alternately, and 20
/// cards each registered by two accounts on the two replicas at the same moment (half the same
/// file, half recompressed, which only the replicas' perceptual indexes can link). Each planted
/// pair must be reported exactly once, by whichever registration came second, and nothing else.
#[test]
fn two_replicas_report_each_pair_registered_at_once_exactly_once_and_no_stranger() {
    let Some(cluster) = Cluster::start() else { return };
    let replicas = [replica(&cluster), replica(&cluster)];
    let mut rng = StdRng::seed_from_u64(26);
    let templates: Vec<Template> = (0..3).map(Template::new).collect();
    let mut work: [Vec<Upload>; 2] = [Vec::new(), Vec::new()];
    for number in 0..180 {
        let template = &templates[number % 3];
        let card = template.render(&template.holder(&mut rng));
        let original = encode_jpeg(&card, 92);
        if number < 20 {
            let copy = if number % 2 == 0 { original.clone() } else { encode_jpeg(&card, 80) };
            work[0].push((format!("pair-{number}-a"), original, Some(number)));
            work[1].push((format!("pair-{number}-b"), copy, Some(number)));
        } else {
            work[number % 2].push((format!("holder-{number}"), original, None));
        }
    }
    // Pairs are interleaved with the others so that some registrations on each side catch up on
    // the other replica's writes first.
    for list in &mut work {
        let (pairs, others): (Vec<_>, Vec<_>) = list.drain(..).partition(|(_, _, pair)| pair.is_some());
        let mut others = others.into_iter();
        for pair in pairs {
            list.extend(others.by_ref().take(4));
            list.push(pair);
        }
        list.extend(others);
    }
    let at_once = Barrier::new(2);
    let reports: Vec<Vec<(String, Vec<String>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = replicas
            .iter()
            .zip(&work)
            .map(|(engine, list)| {
                let at_once = &at_once;
                scope.spawn(move || {
                    list.iter()
                        .map(|(account, image, pair)| {
                            if pair.is_some() {
                                at_once.wait();
                            }
                            (account.clone(), register(engine, account, image))
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let mut reported: Vec<(String, String)> = reports
        .into_iter()
        .flatten()
        .flat_map(|(account, matched)| matched.into_iter().map(move |other| (account.clone(), other)))
        .collect();
    reported.sort();
    let pair_of = |account: &str| account.rsplit_once('-').map(|(pair, _)| pair.to_owned());
    for (account, other) in &reported {
        assert!(account.starts_with("pair-") && pair_of(account) == pair_of(other), "{account} -> {other}");
    }
    let mut pairs: Vec<String> = reported.iter().filter_map(|(account, _)| pair_of(account)).collect();
    pairs.dedup();
    assert_eq!((reported.len(), pairs.len()), (20, 20), "each pair once: {reported:?}");
    for engine in &replicas {
        engine.catch_up().unwrap();
        assert_eq!(engine.indexed_documents(), 200);
    }
}

/// An account erased on one replica is no longer found by the other, at once (every search catches
/// up first) and in its index once it follows.
#[test]
fn an_account_forgotten_on_one_replica_is_not_reported_by_the_other() {
    let Some(cluster) = Cluster::start() else { return };
    let (first, second) = (replica(&cluster), replica(&cluster));
    let template = Template::new(1);
    let card = template.render(&template.holder(&mut StdRng::seed_from_u64(261)));
    register(&first, "holder", &encode_jpeg(&card, 92));
    let recompressed = encode_jpeg(&card, 75);
    let find = |engine: &Engine| -> Vec<(String, ReasonCode)> {
        let report = engine.find_matches(&recompressed, None).unwrap();
        report.matches.iter().map(|m| (m.account_id.as_str().to_owned(), m.kind)).collect()
    };
    assert_eq!(find(&second), [("holder".to_owned(), ReasonCode::ReuseSameDocument)]);
    assert_eq!(first.forget_account(&AccountId::new("holder").unwrap()).unwrap(), 1);
    assert_eq!(find(&second), []);
    second.follow(Duration::from_millis(10)).unwrap();
    assert_eq!(second.indexed_documents(), 0);
}

async fn health(address: std::net::SocketAddr) -> Option<ServingStatus> {
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{address}")).ok()?.connect().await.ok()?;
    let mut client = HealthClient::new(channel);
    let request = tonic_health::pb::HealthCheckRequest { service: String::new() };
    let response = client.check(request).await.ok()?.into_inner();
    ServingStatus::try_from(response.status).ok()
}

/// Waits up to 30 s for the health status to become `wanted`.
async fn wait_for_health(address: std::net::SocketAddr, wanted: ServingStatus) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while health(address).await != Some(wanted) {
        assert!(Instant::now() < deadline, "health never became {wanted:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn registration(image: Vec<u8>, account: &str) -> pb::AnalyzeRequest {
    pb::AnalyzeRequest {
        image,
        account_id: account.into(),
        document_id: "licence".into(),
        register: true,
        ..Default::default()
    }
}

/// The server process, killed (SIGKILL) when dropped, also when an assertion fails.
struct Replica(std::process::Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_ridden_out_without_restarting_the_replica() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.url();
    let (child, address) = start_server_on(&["--postgres".as_ref(), url.as_ref()]);
    let _replica = Replica(child);
    let mut client = IdForensicsClient::connect(format!("http://{address}")).await.unwrap();
    let image = |seed| jpeg(&textured_image(64, 64, seed), 90);
    client.analyze(registration(image(1), "before")).await.unwrap();
    wait_for_health(address, ServingStatus::Serving).await;

    cluster.stop();
    let started = Instant::now();
    let refused = client.analyze(registration(image(2), "during")).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (tonic::Code::Unavailable, "store.unavailable"));
    assert!(started.elapsed() < Duration::from_secs(10), "failed fast: {:?}", started.elapsed());
    wait_for_health(address, ServingStatus::NotServing).await;

    cluster.pg_ctl_start();
    wait_for_health(address, ServingStatus::Serving).await;
    let after = client.analyze(registration(image(1), "after")).await.unwrap().into_inner();
    assert_eq!(after.matches.iter().map(|m| m.account_id.as_str()).collect::<Vec<_>>(), ["before"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_reports_not_ready_lets_the_call_in_flight_finish_and_exits_0() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.url();
    let (child, address, http) = start_server_with_http(&["--postgres".as_ref(), url.as_ref()]);
    let mut replica = Replica(child);
    assert_eq!(http_get(http, "/readyz").await.0, 200);
    let mut client = IdForensicsClient::connect(format!("http://{address}")).await.unwrap();
    // A large upload keeps the server busy for a while after SIGTERM arrives.
    let large = jpeg(&textured_image(4000, 3000, 7), 92);
    let call = tokio::spawn(async move { client.analyze(registration(large, "in-flight")).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.is_finished(), "the call is still in flight when SIGTERM is sent");
    let pid = replica.0.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // NOT_SERVING first: while the call drains, readiness is refused.
    let deadline = Instant::now() + Duration::from_secs(5);
    while http_get(http, "/readyz").await.0 != 503 {
        assert!(Instant::now() < deadline && !call.is_finished(), "readiness refused while draining");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let response = call.await.unwrap().expect("the call in flight completes");
    assert!(response.into_inner().registration.is_some());
    let status = replica.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
