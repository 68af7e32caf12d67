//! Access control and TLS on the real server: bearer tokens by role on gRPC and HTTP, the audit
//! log they write, TLS on both listeners with a certificate made here, and the refusal to listen
//! beyond loopback without them.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;

use idforensics::domain::audit::AuditAction;
use idforensics::frontends::access::{Role, TokenEntry};
use idforensics::frontends::service::pb;
use idforensics::frontends::service::{ClientError, RemoteClient, ServerAddress};
use idforensics::storage::Store;
use idforensics::storage::sqlite::SqliteStore;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic_types::StatusExt;

use crate::support::{TestServer, http_exchange, testdata};

struct Tokens {
    analyze: String,
    review: String,
    admin: String,
}

/// A server with one token per role.
async fn server_with_tokens() -> (TestServer, Tokens) {
    let (analyze_entry, analyze) = TokenEntry::generate("onboarding", Role::Analyze);
    let (review_entry, review) = TokenEntry::generate("reviewer-ana", Role::Review);
    let (admin_entry, admin) = TokenEntry::generate("ops", Role::Admin);
    let server = TestServer::start_with(|settings| {
        settings.tokens = vec![analyze_entry, review_entry, admin_entry];
    })
    .await;
    (server, Tokens { analyze, review, admin })
}

fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    request
}

fn reason(status: &tonic::Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

fn registration(account: &str) -> pb::AnalyzeRequest {
    pb::AnalyzeRequest {
        image: testdata("camera-sony-cybershot.jpg"),
        account_id: account.into(),
        document_id: "licence".into(),
        register: true,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_admit_each_role_to_its_calls_on_grpc_and_http_and_every_call_is_audited() {
    let (server, tokens) = server_with_tokens().await;
    let mut client = server.client().await;

    // No token, or an unknown one: UNAUTHENTICATED, with the reason.
    let refused = client.analyze(with_token(registration("acct-a"), None)).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::Unauthenticated, "auth.missing_token"));
    let refused = client.analyze(with_token(registration("acct-a"), Some("idf_guess"))).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::Unauthenticated, "auth.unknown_token"));

    // `analyze` registers, but may neither read links nor forget.
    let registered = client.analyze(with_token(registration("acct-a"), Some(&tokens.analyze))).await.unwrap();
    assert!(registered.into_inner().registration.is_some());
    let links = pb::GetAccountLinksRequest { account_id: "acct-a".into() };
    let refused =
        client.get_account_links(with_token(links.clone(), Some(&tokens.analyze))).await.unwrap_err();
    assert_eq!((refused.code(), reason(&refused).as_str()), (Code::PermissionDenied, "auth.forbidden"));
    let forget = pb::ForgetAccountRequest { account_id: "acct-a".into() };
    let refused = client.forget_account(with_token(forget.clone(), Some(&tokens.analyze))).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // `review` reads links but may not forget; `admin` forgets.
    client.get_account_links(with_token(links, Some(&tokens.review))).await.unwrap();
    let refused = client.forget_account(with_token(forget.clone(), Some(&tokens.review))).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let erased = client.forget_account(with_token(forget, Some(&tokens.admin))).await.unwrap().into_inner();
    assert_eq!(erased.documents_erased, 1);

    // Health needs no token.
    let channel = tonic::transport::Channel::from_shared(server.endpoint()).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    health.check(tonic_health::pb::HealthCheckRequest::default()).await.unwrap();

    // HTTP: the console's API by the same rules, health and metrics open.
    let http = |method: &'static str, path: &'static str, token: Option<String>| {
        let address = server.http_address;
        async move {
            let stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let authorization = token.map(|token| format!("Bearer {token}"));
            let headers: Vec<(&str, &str)> =
                authorization.iter().map(|value| ("Authorization", value.as_str())).collect();
            http_exchange(stream, method, path, &headers, &[]).await
        }
    };
    let (status, body) = http("GET", "/api/session", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("auth.missing_token"), "{body}");
    assert_eq!(http("GET", "/api/session", Some(tokens.analyze.clone())).await.0, 403);
    let (status, body) = http("GET", "/api/session", Some(tokens.review.clone())).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"name\":\"reviewer-ana\"") && body.contains("\"may_forget\":false"), "{body}");
    assert_eq!(http("POST", "/api/accounts/acct-b/forget", Some(tokens.review.clone())).await.0, 403);
    assert_eq!(http("POST", "/api/accounts/acct-b/forget", Some(tokens.admin.clone())).await.0, 200);
    // Another site's page in an admin's browser cannot forget an account (cross-site request forgery).
    let stream = tokio::net::TcpStream::connect(server.http_address).await.unwrap();
    let bearer = format!("Bearer {}", tokens.admin);
    let forged = [("Authorization", bearer.as_str()), ("Origin", "https://evil.example")];
    let (status, body) = http_exchange(stream, "POST", "/api/accounts/acct-b/forget", &forged, &[]).await;
    assert_eq!(status, 403);
    assert!(body.contains("auth.cross_origin"), "{body}");
    assert_eq!(http("GET", "/healthz", None).await.0, 200);
    assert_eq!(http("GET", "/metrics", None).await.0, 200);

    // The audit log names who did what, refused calls not included.
    let store = SqliteStore::open(server.data_dir()).unwrap();
    let audited: Vec<_> = store
        .audit_entries(0, 100)
        .unwrap()
        .into_iter()
        .map(|(_, entry)| (entry.actor, entry.action, entry.account_id, entry.outcome))
        .collect();
    let account = |id: &str| Some(id.to_owned());
    assert_eq!(
        audited,
        [
            (
                "onboarding".into(),
                AuditAction::Register,
                account("acct-a"),
                "decision=ACCEPT matches=0".into()
            ),
            ("reviewer-ana".into(), AuditAction::AccountLinks, account("acct-a"), "clusters=0".into()),
            ("ops".into(), AuditAction::ForgetAccount, account("acct-a"), "documents_erased=1".into()),
            ("ops".into(), AuditAction::ForgetAccount, account("acct-b"), "documents_erased=0".into()),
        ]
    );
    server.stop().await;
}

/// A self-signed certificate for `localhost` and its key, written to `dir`.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (certificate, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&certificate, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (certificate, key, made.cert.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_both_listeners_with_a_generated_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (certificate, key, certificate_pem) = certificate(dir.path());
    let (entry, token) = TokenEntry::generate("batch", Role::Review);
    let server = TestServer::start_with(|settings| {
        settings.tls_cert = Some(certificate);
        settings.tls_key = Some(key);
        settings.tokens = vec![entry];
    })
    .await;

    // gRPC over TLS through the CLI's own client (`batch --server https://… --ca-cert --token`).
    let url = format!("https://localhost:{}", server.address.port());
    let address = ServerAddress {
        url: url.clone(),
        token: Some(token.clone()),
        ca_certificate_pem: Some(certificate_pem.clone().into_bytes()),
    };
    let remote = tokio::task::spawn_blocking(move || {
        let remote = RemoteClient::connect(&address, 64 << 20).unwrap();
        let answer = remote.analyze(registration("acct-tls")).unwrap();
        let clusters = remote.account_links().unwrap();
        (answer.registration.is_some(), clusters.len())
    })
    .await
    .unwrap();
    assert_eq!(remote, (true, 0));

    // A client that does not trust the certificate fails the handshake; plaintext gets no answer.
    let untrusting = ServerAddress { url, token: Some(token.clone()), ca_certificate_pem: None };
    let refused = tokio::task::spawn_blocking(move || {
        RemoteClient::connect(&untrusting, 1 << 20).and_then(|client| client.account_links()).unwrap_err()
    })
    .await
    .unwrap();
    assert!(matches!(refused, ClientError::Connect { .. } | ClientError::Status { .. }), "{refused}");
    let mut plaintext = server.client().await;
    assert!(plaintext.analyze(with_token(registration("acct-x"), Some(&token))).await.is_err());

    // HTTPS on the HTTP listener with the same certificate.
    let mut roots = rustls::RootCertStore::empty();
    let der = rustls::pki_types::CertificateDer::from_pem_slice(certificate_pem.as_bytes()).unwrap();
    roots.add(der).unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.http_address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let bearer = format!("Bearer {token}");
    let (status, body) = http_exchange(tls, "GET", "/api/session", &[("Authorization", &bearer)], &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"batch\""), "{body}");
    server.stop().await;
}

#[test]
fn the_server_refuses_to_listen_beyond_loopback_without_tls_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(["token-new", "--name", "ops", "--role", "admin", "--tokens-file"])
        .arg(&tokens)
        .output()
        .unwrap();
    assert!(made.status.success());
    let token = String::from_utf8(made.stdout).unwrap();
    assert!(token.trim().starts_with("idf_"), "{token}");
    assert!(std::fs::read_to_string(&tokens).unwrap().contains("role = \"admin\""));

    for extra in [&[][..], &["--tokens-file", tokens.to_str().unwrap()][..]] {
        let refused = std::process::Command::new(env!("CARGO_BIN_EXE_idforensics"))
            .args(["serve", "--listen", "0.0.0.0:0", "--http", "off", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2));
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(message.contains("refusing to listen on 0.0.0.0:0 without"), "{message}");
    }
}
