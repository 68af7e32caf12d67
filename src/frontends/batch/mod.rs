//! Batch re-verification: analyse and register a platform's existing documents, cross-match them
//! through the store, and report the linked-account clusters, in process or against a server.
//!
//! Resumable by construction: every result is appended to `results.jsonl` as soon as it is made,
//! a restarted run skips the documents already there (a line cut short by a kill is dropped), and
//! registration is idempotent, so running twice changes nothing.

mod manifest;
mod summary;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::AccountCluster;
use crate::engine::{AnalyzeRequest, Engine};
use crate::frontends::input::read_bounded;
use crate::frontends::service::pb;
use crate::frontends::service::{ClientError, RemoteClient, report_from_response};
pub use manifest::{read_folder, read_manifest};
use summary::write_summary;

/// Where a batch's documents are analysed and registered: in process on the embedded store, or by
/// a running server. Both give the same result lines and the same clusters.
pub trait BatchBackend: Sync {
    /// Analyses and registers one document; its result as `analyze --json` prints it (without
    /// `file` and `document_id`).
    fn analyze(&self, item: &BatchItem, image: Vec<u8>) -> Result<serde_json::Value, ErrorLine>;
    /// Every cluster of linked accounts.
    fn clusters(&self) -> Result<Vec<AccountCluster>, BatchError>;
}

impl BatchBackend for Engine {
    fn analyze(&self, item: &BatchItem, image: Vec<u8>) -> Result<serde_json::Value, ErrorLine> {
        let request = AnalyzeRequest {
            image: &image,
            account_id: Some(&item.account_id),
            document_id: Some(&item.document_id),
            register: true,
            include_evidence_images: false,
        };
        let mut report = Engine::analyze(self, request)
            .map_err(|error| ErrorLine { reason: error.reason().to_owned(), message: error.to_string() })?;
        report.document_id = None; // the line names it once
        serde_json::to_value(report)
            .map_err(|e| ErrorLine { reason: "batch.serialize".into(), message: e.to_string() })
    }

    fn clusters(&self) -> Result<Vec<AccountCluster>, BatchError> {
        Ok(self.account_links(None)?)
    }
}

impl BatchBackend for RemoteClient {
    fn analyze(&self, item: &BatchItem, image: Vec<u8>) -> Result<serde_json::Value, ErrorLine> {
        let request = pb::AnalyzeRequest {
            image,
            account_id: item.account_id.as_str().to_owned(),
            document_id: item.document_id.as_str().to_owned(),
            register: true,
            ..Default::default()
        };
        match RemoteClient::analyze(self, request) {
            Ok(response) => {
                let mut report = report_from_response(response).map_err(|error| ErrorLine {
                    reason: "server.response".into(),
                    message: error.to_string(),
                })?;
                report.document_id = None; // the line names it once
                serde_json::to_value(report)
                    .map_err(|e| ErrorLine { reason: "batch.serialize".into(), message: e.to_string() })
            }
            Err(ClientError::Status { reason, message }) => Err(ErrorLine { reason, message }),
            Err(other) => Err(ErrorLine { reason: "server.unreachable".into(), message: other.to_string() }),
        }
    }

    fn clusters(&self) -> Result<Vec<AccountCluster>, BatchError> {
        Ok(self.account_links()?)
    }
}

/// One document to re-verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// The account that uploaded it.
    pub account_id: AccountId,
    /// Its document id.
    pub document_id: DocumentId,
    /// Where the image is.
    pub path: PathBuf,
}

/// Why a batch could not run.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Reading the input or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The manifest is not usable.
    #[error("{path}, line {line}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The store failed while building the links report.
    #[error(transparent)]
    Links(#[from] crate::engine::AnalyzeError),
    /// The server failed while building the links report.
    #[error(transparent)]
    Remote(#[from] ClientError),
    /// Serialising a result failed.
    #[error("writing results: {0}")]
    Serialize(#[from] serde_json::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::Io { path: path.to_owned(), source }
}

/// One line of `results.jsonl`.
#[derive(Debug, Serialize)]
struct ResultLine<'a> {
    account_id: &'a AccountId,
    document_id: &'a DocumentId,
    file: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    report: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorLine>,
}

/// Why one document could not be analysed.
#[derive(Debug, Serialize)]
pub struct ErrorLine {
    /// Machine-readable reason.
    pub reason: String,
    /// Message.
    pub message: String,
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// Documents listed.
    pub listed: usize,
    /// Skipped: already in `results.jsonl` from an earlier run.
    pub skipped: usize,
    /// Analysed in this run.
    pub analysed: usize,
    /// Of those, not analysable (unreadable or undecodable).
    pub errors: usize,
    /// Clusters of two or more linked accounts in the store.
    pub clusters: usize,
}

/// Progress, reported to the caller after every document (the caller decides how often to show it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Done in this run.
    pub done: usize,
    /// To do in this run.
    pub total: usize,
    /// Documents per second so far.
    pub rate: f64,
    /// Estimated time left.
    pub eta: Duration,
}

/// Runs a batch: analyses and registers every item not yet in `out/results.jsonl` with `jobs`
/// threads, then writes `out/summary.csv`, `out/links.json` and `out/links.txt`.
pub fn run_batch(
    backend: &dyn BatchBackend,
    items: Vec<BatchItem>,
    out: &Path,
    jobs: usize,
    max_bytes: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<BatchSummary, BatchError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let results_path = out.join("results.jsonl");
    let done = completed(&results_path)?;
    let listed = items.len();
    let todo: Vec<BatchItem> = items
        .into_iter()
        .filter(|item| {
            !done.contains(&(item.account_id.as_str().to_owned(), item.document_id.as_str().to_owned()))
        })
        .collect();
    let skipped = listed - todo.len();
    let total = todo.len();
    let mut results =
        OpenOptions::new().create(true).append(true).open(&results_path).map_err(io(&results_path))?;

    let queue = Mutex::new(todo.into_iter());
    // Bounded: workers wait when the writer falls behind, so memory does not grow with the batch.
    let (sender, receiver) = mpsc::sync_channel::<String>(jobs * 2);
    let started = Instant::now();
    let (mut analysed, mut errors) = (0, 0);
    std::thread::scope(|scope| -> Result<(), BatchError> {
        for _ in 0..jobs.max(1) {
            let sender = sender.clone();
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    let Some(item) = queue.lock().unwrap_or_else(|p| p.into_inner()).next() else { break };
                    let line = analyse_item(backend, &item, max_bytes);
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for line in receiver {
            if line.contains("\"error\":{") {
                errors += 1;
            }
            results.write_all(line.as_bytes()).map_err(io(&results_path))?;
            analysed += 1;
            let rate = analysed as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let eta = Duration::from_secs_f64((total - analysed) as f64 / rate.max(1e-9));
            progress(Progress { done: analysed, total, rate, eta });
        }
        Ok(())
    })?;
    results.flush().map_err(io(&results_path))?;

    write_summary(&results_path, &out.join("summary.csv"))?;
    let clusters = backend.clusters()?;
    std::fs::write(out.join("links.json"), serde_json::to_vec_pretty(&clusters)?).map_err(io(out))?;
    std::fs::write(out.join("links.txt"), links_table(&clusters)).map_err(io(out))?;
    Ok(BatchSummary { listed, skipped, analysed, errors, clusters: clusters.len() })
}

fn analyse_item(backend: &dyn BatchBackend, item: &BatchItem, max_bytes: u64) -> String {
    let outcome = read_bounded(&item.path, max_bytes)
        .map_err(|error| ErrorLine { reason: error.reason().to_owned(), message: error.to_string() })
        .and_then(|bytes| backend.analyze(item, bytes));
    let (report, error) = match outcome {
        Ok(report) => (Some(report), None),
        Err(error) => (None, Some(error)),
    };
    let line = ResultLine {
        account_id: &item.account_id,
        document_id: &item.document_id,
        file: item.path.display().to_string(),
        report,
        error,
    };
    let mut text = serde_json::to_string(&line).unwrap_or_else(|error| {
        format!(
            r#"{{"document_id":{:?},"error":{{"reason":"batch.serialize","message":{:?}}}}}"#,
            item.document_id.as_str(),
            error.to_string()
        )
    });
    text.push('\n');
    text
}

/// The (account, document) pairs already in `results.jsonl`. A last line cut short by a kill is
/// removed so the file stays valid JSON Lines.
fn completed(path: &Path) -> Result<HashSet<(String, String)>, BatchError> {
    let mut done = HashSet::new();
    let Ok(file) = File::open(path) else { return Ok(done) };
    let mut valid_length = 0u64;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(io(path))?;
        match serde_json::from_slice::<serde_json::Value>(&line) {
            Ok(value) => {
                let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
                done.insert((field("account_id"), field("document_id")));
                valid_length += line.len() as u64 + 1;
            }
            Err(_) => break,
        }
    }
    let file = OpenOptions::new().write(true).open(path).map_err(io(path))?;
    file.set_len(valid_length).map_err(io(path))?;
    Ok(done)
}

/// The clusters as a table for people.
pub fn links_table(clusters: &[AccountCluster]) -> String {
    let mut out = format!("{} linked-account clusters, largest first\n", clusters.len());
    for (index, cluster) in clusters.iter().enumerate() {
        let accounts: Vec<&str> = cluster.account_ids.iter().map(AccountId::as_str).collect();
        out += &format!("\n#{} {} accounts: {}\n", index + 1, accounts.len(), accounts.join(", "));
        for link in &cluster.links {
            out += &format!(
                "  {}/{} <-> {}/{}  {} distance {}\n",
                link.account_a,
                link.document_a,
                link.account_b,
                link.document_b,
                link.kind,
                link.distance.map_or("-".to_owned(), |d| d.to_string())
            );
        }
    }
    out
}
