//! Shared helpers: generated images, test data, a server on an ephemeral port.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use idforensics::engine::{Engine, Models};
use idforensics::frontends::service::pb::id_forensics_client::IdForensicsClient;

use idforensics::analysis::reuse::document_number::DocumentNumberSecret;
use idforensics::frontends::settings::{DOCUMENT_NUMBER_SECRET_FILE, Settings};
use idforensics::storage::sqlite::SqliteStore;
use image::{ImageEncoder, Rgb, RgbImage};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// Starts `idforensics serve` on an ephemeral port with its store in `data_dir`; returns the child
/// and the address it logged.
pub(crate) fn start_server(data_dir: &std::path::Path) -> (Child, SocketAddr) {
    start_server_on(&["--data-dir".as_ref(), data_dir.as_os_str()])
}

/// Starts `idforensics serve` on an ephemeral port with `store` (`--data-dir DIR` or `--postgres
/// URL`); returns the child and the address it logged.
pub(crate) fn start_server_on(store: &[&std::ffi::OsStr]) -> (Child, SocketAddr) {
    let (child, address, _) = start_server_with_http(store);
    (child, address)
}

/// As [`start_server_on`], also returning the HTTP listener's address.
pub(crate) fn start_server_with_http(store: &[&std::ffi::OsStr]) -> (Child, SocketAddr, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforensics"))
        .args(["serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-format", "json"])
        .args(store)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let message = &entry["fields"]["message"];
            if message == "http listening" || message == "idforensics listening" {
                let address = entry["fields"]["address"].as_str().unwrap().parse::<SocketAddr>().unwrap();
                let _ = sender.send(address);
            }
        }
    });
    // The HTTP listener is bound and logged first.
    let logged =
        || receiver.recv_timeout(Duration::from_secs(30)).expect("server did not report its address");
    let http = logged();
    (child, logged(), http)
}

/// `GET path` over HTTP/1.1: the status code and the body.
pub(crate) async fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    http_exchange(stream, "GET", path, &[], &[]).await
}

/// One HTTP/1.1 request over `stream` (plain or TLS) with extra `headers`: the status and the body.
pub(crate) async fn http_exchange(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    // A TLS peer may close without close_notify after the response; what arrived is enough.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().unwrap();
    (status, response.split_once("\r\n\r\n").unwrap().1.to_owned())
}

/// A file from `testdata/`.
pub(crate) fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(name)).unwrap()
}

/// The team's shared corpus, when it is checked out beside the project.
pub(crate) fn shared_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    dir.join("MANIFEST.tsv").is_file().then_some(dir)
}

/// A deterministic textured image (xorshift noise over a gradient), so JPEG sizes are realistic.
pub(crate) fn textured_image(width: u32, height: u32, seed: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state & 0x3F) as u8;
        Rgb([(x / 4) as u8 ^ noise, (y / 4) as u8 ^ noise, ((x + y) / 8) as u8 ^ noise])
    })
}

/// JPEG encoding at `quality`.
pub(crate) fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(image).unwrap();
    out
}

/// Lossless PNG encoding.
pub(crate) fn png(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image, image.width(), image.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// CRC-32 (ISO-HDLC, as PNG uses), bitwise: only for building hostile test files.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG chunk with a correct CRC.
pub(crate) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    out
}

/// The machine-readable reason in a status's ErrorInfo detail.
pub(crate) fn reason(status: &tonic::Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

/// The real server on an ephemeral loopback port, with its own data directory.
pub(crate) struct TestServer {
    pub(crate) address: SocketAddr,
    /// The HTTP listener (`/metrics`, `/healthz`, `/readyz`).
    pub(crate) http_address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    data_dir: tempfile::TempDir,
}

impl TestServer {
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::default();
        configure(&mut settings);
        let store = Box::new(SqliteStore::open(data_dir.path()).unwrap());
        let secret = DocumentNumberSecret::read_or_create(&data_dir.path().join(DOCUMENT_NUMBER_SECRET_FILE));
        let engine = Engine::with_store(settings.limits, Models::embedded(), store).unwrap();
        let engine = Arc::new(engine.with_document_number_secret(Some(secret.unwrap())).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http_address = http.local_addr().unwrap();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            idforensics::frontends::service::server::serve(listener, Some(http), engine, &settings, async {
                let _ = stop.await;
            })
            .await
            .unwrap();
        });
        TestServer { address, http_address, shutdown: Some(shutdown), task: Some(task), data_dir }
    }

    /// The embedded store's data directory.
    pub(crate) fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    pub(crate) async fn client(&self) -> IdForensicsClient<Channel> {
        IdForensicsClient::connect(self.endpoint()).await.unwrap().max_decoding_message_size(64 << 20)
    }

    /// Graceful shutdown; waits until the server has stopped.
    pub(crate) async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
    }
}
