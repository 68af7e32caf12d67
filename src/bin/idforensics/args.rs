//! The command line's arguments, as clap parses them; `main.rs` dispatches them to the commands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use idforensics::frontends::access::Role;
use idforensics::frontends::settings::HttpListen;

const EXIT_CODES: &str = "\
Exit codes (analyze):
  0  every file was analysed and accepted
  1  every file was analysed and at least one was flagged (REVIEW or REJECT)
  2  an error: bad arguments, an unreadable or undecodable file, a store failure";

/// Identity-document image forensics for KYC: quality gate, document reuse, tamper evidence.
#[derive(Debug, Parser)]
#[command(name = "idforensics", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// TOML config file (keys as in README.md, "Configuration").
    #[arg(long, env = "IDF_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the gRPC service on its embedded store (or on PostgreSQL with --postgres).
    Serve(ServeArgs),
    /// Analyse image files offline and print one result per file.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// Evaluate the analysers on a labelled folder (MANIFEST.tsv with `file` and `label` columns):
    /// per-label and per-finding counts, precision and recall, as Markdown tables.
    #[cfg(feature = "eval")]
    Eval(EvalArgs),
    /// Build the quality evaluation set by degrading the good originals of labelled folders.
    #[cfg(feature = "eval")]
    MakeQualitySet(MakeQualitySetArgs),
    /// Build a quality evaluation set of generated cards captured the way uploads arrive (phone or
    /// scanner, backgrounds, the device's JPEG), good and degraded; measure it with `eval`.
    #[cfg(feature = "eval")]
    MakeCaptureSet(MakeCaptureSetArgs),
    /// Evaluate reuse detection on generated ID cards (and optionally real photos) against plain
    /// PDQ: false matches between distinct cards, recall per capture transform, portrait and data
    /// swaps, and the distance quantiles the thresholds were set from.
    #[cfg(feature = "eval")]
    EvalReuse(EvalReuseArgs),
    /// Evaluate the local tamper analyses on known edits (splices, clone-stamps, replaced text fields,
    /// swapped portraits) of camera originals and generated ID cards: AUC against unedited re-saves,
    /// detection rates and the IoU of the reported regions.
    #[cfg(feature = "eval")]
    EvalTamper(EvalTamperArgs),
    /// Evaluate the MRZ reader on captured TD1 cards and TD3 passport pages, valid or with one digit
    /// altered: read rate, validated zones, altered zones flagged, false flags. Needs Debian's
    /// fonts-ocr-b.
    #[cfg(feature = "eval")]
    EvalMrz(EvalMrzArgs),
    /// Render the OCR-B glyph templates of the MRZ reader (models/mrz_glyphs.toml) from the font.
    #[cfg(feature = "eval")]
    MakeMrzGlyphs(MakeMrzGlyphsArgs),
    /// Re-verify existing accounts' documents: analyse and register each, cross-match them, and
    /// report linked-account clusters. Resumable: run it again to finish an interrupted run.
    #[command(after_help = BATCH_HELP)]
    Batch(BatchArgs),
    /// Set the local tamper thresholds from this deployment's own genuine uploads and write them as
    /// tamper.toml into --out, for `serve --models-dir`. Prints the thresholds, the expected
    /// false-review rate and, with --forged, the detection rate. Exit code 2 when the sample cannot
    /// resolve the target (fewer than about 5 / target uploads) or cannot reach it.
    Calibrate(CalibrateArgs),
    /// Make a bearer token: appends its hash, name and role to --tokens-file (created when missing)
    /// and prints the token, once. Give it to the caller; the server keeps only the hash.
    TokenNew(TokenNewArgs),
    /// Print the audit log (who registered, looked up or erased what) as JSON lines, oldest first.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TokenNewArgs {
    /// Who holds the token (written in the audit log), e.g. onboarding or reviewer-ana.
    #[arg(long)]
    pub(crate) name: String,
    /// What it may do: analyze (Analyze, AnalyzeStream, FindMatches), review (also GetAccountLinks
    /// and the console), admin (also ForgetAccount).
    #[arg(long)]
    pub(crate) role: Role,
    /// The tokens file the server reads (`serve --tokens-file`).
    #[arg(long)]
    pub(crate) tokens_file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Print entries after this position (the `position` of the last line printed before).
    #[arg(long, default_value_t = 0)]
    pub(crate) after: i64,
    /// Most entries printed.
    #[arg(long, default_value_t = 1000)]
    pub(crate) limit: usize,
}

#[derive(Debug, Args)]
pub(crate) struct CalibrateArgs {
    /// A folder of genuine uploads of this deployment (.jpg, .jpeg, .png, searched recursively).
    #[arg(long)]
    pub(crate) genuine: PathBuf,
    /// A folder of known forgeries: their detection rate is reported before and after.
    #[arg(long)]
    pub(crate) forged: Option<PathBuf>,
    /// Share of genuine uploads the tamper analysis may send to review, e.g. 0.03.
    #[arg(long)]
    pub(crate) target_review_rate: f64,
    /// Folder the calibrated tamper.toml is written into (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// The models to calibrate from [default: the shipped models].
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub(crate) json: bool,
}

const BATCH_HELP: &str = "\
Where: --data-dir analyses in this process on the embedded store (--postgres on a shared
PostgreSQL instead); --server URL sends every
document to a running server (unary Analyze calls from --jobs threads, retried while it reports
overload), so the same run can re-verify against production.
Input: --manifest, a CSV or TSV with account_id, document_id and path columns (paths relative to the
manifest), or --folder, one subfolder per account holding its images.
Output folder: results.jsonl (one line per document, the fields of `analyze --json` plus account_id),
summary.csv, links.json and links.txt (the linked-account clusters, largest first).
Exit codes: 0 the batch completed (documents that could not be analysed are in results.jsonl with
their error), 2 the batch could not run.";

#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    /// Data directory of the embedded store the documents are registered in (in-process runs).
    #[arg(long, env = "IDF_DATA_DIR", required_unless_present_any = ["server", "postgres"])]
    pub(crate) data_dir: Option<PathBuf>,
    /// PostgreSQL the documents are registered in instead (in-process runs beside replicas).
    #[arg(long, env = "IDF_POSTGRES_URL", value_name = "URL", conflicts_with = "data_dir")]
    pub(crate) postgres: Option<String>,
    /// Send the documents to a running server instead (e.g. http://127.0.0.1:50051, or https://…).
    #[arg(long, conflicts_with_all = ["data_dir", "postgres"])]
    pub(crate) server: Option<String>,
    /// Bearer token for --server (a token of role analyze or above; review to read the clusters).
    #[arg(long, env = "IDF_TOKEN", requires = "server", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// PEM certificate of the CA that signed an https --server's certificate [default: the public
    /// roots].
    #[arg(long, requires = "server")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// Manifest of the documents.
    #[arg(long, conflicts_with = "folder", required_unless_present = "folder")]
    pub(crate) manifest: Option<PathBuf>,
    /// Folder of per-account subfolders.
    #[arg(long)]
    pub(crate) folder: Option<PathBuf>,
    /// Output folder (created; reused to resume).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Worker threads [default: the number of cores; with --server, twice that].
    #[arg(long)]
    pub(crate) jobs: Option<usize>,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// The secret that keys document numbers (as for serve) [default: document-number.secret in
    /// the data directory].
    #[arg(long, env = "IDF_DOCUMENT_NUMBER_SECRET_FILE", value_name = "FILE", conflicts_with = "server")]
    pub(crate) document_number_secret_file: Option<PathBuf>,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// A folder with MANIFEST.tsv.
    pub(crate) dir: PathBuf,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct EvalTamperArgs {
    /// The labelled corpus whose camera originals (a_camera_exif, pristine) are sources.
    #[arg(long, default_value = "../shared/corpus")]
    pub(crate) corpus: PathBuf,
    /// Generated ID cards used as sources.
    #[arg(long, default_value_t = 60)]
    pub(crate) cards: usize,
    /// Capture the cards through the capture chain (phone or scanner, one in four then through a
    /// messaging app) and edit them in the captured frame, exported at quality 80-98: the forger's
    /// workflow. Without it, cards are digital renders with sensor noise.
    #[arg(long)]
    pub(crate) captured: bool,
    /// Write every case's JPEG here: unedited ones under genuine/, edits under forged/ (the folders
    /// `calibrate --genuine --forged` reads).
    #[arg(long)]
    pub(crate) save_cases: Option<PathBuf>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct EvalReuseArgs {
    /// Card templates.
    #[arg(long, default_value_t = 4)]
    pub(crate) templates: u64,
    /// Distinct cards per template.
    #[arg(long, default_value_t = 2000)]
    pub(crate) cards_per_template: usize,
    /// Portrait swaps and data swaps per template (each).
    #[arg(long, default_value_t = 250)]
    pub(crate) swaps_per_template: usize,
    /// Add each template printed in other colours as a template of its own.
    #[arg(long)]
    pub(crate) recoloured: bool,
    /// Every this many cards has a low-detail portrait (blurred, dim or washed out); 0 for none.
    #[arg(long, default_value_t = 0)]
    pub(crate) low_detail_every: usize,
    /// Cards per template captured again (the first ones; default all).
    #[arg(long)]
    pub(crate) captured_per_template: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// A folder of real photos (searched recursively for .jpg/.jpeg/.png) to register and capture again.
    #[arg(long)]
    pub(crate) photos: Option<PathBuf>,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub(crate) json: bool,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct MakeCaptureSetArgs {
    /// Generated cards (each gives a good capture and eight degraded ones).
    #[arg(long, default_value_t = 40)]
    pub(crate) cards: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Output folder (created).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct MakeQualitySetArgs {
    /// Labelled source folders (e.g. ../shared/corpus and testdata).
    #[arg(long = "from", required = true)]
    pub(crate) sources: Vec<PathBuf>,
    /// Labels given to source files after looking at them (testdata/quality-review.tsv).
    #[arg(long)]
    pub(crate) review: Option<PathBuf>,
    /// Keep one half of the originals, split by file: tune on one, report on the other.
    #[arg(long, value_enum)]
    pub(crate) half: Option<idforensics::eval::quality_set::Half>,
    /// Output folder (created).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:50051].
    #[arg(long, env = "IDF_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,
    /// Address of the HTTP listener (/metrics, /healthz, /readyz), or `off` [default: 127.0.0.1:8080].
    #[arg(long, env = "IDF_HTTP", value_name = "ADDR|off")]
    pub(crate) http: Option<HttpListen>,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Largest gRPC message in bytes [default: 26214400].
    #[arg(long, env = "IDF_MAX_MESSAGE_BYTES")]
    pub(crate) max_message_bytes: Option<usize>,
    /// Analyses run at once; more are refused with RESOURCE_EXHAUSTED [default: 2 x cores].
    #[arg(long, env = "IDF_MAX_CONCURRENT_ANALYSES")]
    pub(crate) max_concurrent_analyses: Option<usize>,
    /// Log format.
    #[arg(long, env = "IDF_LOG_FORMAT", value_enum)]
    pub(crate) log_format: Option<LogFormatArg>,
    /// On SIGTERM, report NOT_SERVING and let in-flight calls finish for up to this long [default: 10].
    #[arg(long, env = "IDF_SHUTDOWN_GRACE_SECONDS")]
    pub(crate) shutdown_grace_seconds: Option<u64>,
    /// A TOML file of `[[tokens]]` (name, role, sha256), made with `token-new`. With tokens, every
    /// call needs one; without, the server listens on loopback only.
    #[arg(long, env = "IDF_TOKENS_FILE")]
    pub(crate) tokens_file: Option<PathBuf>,
    /// PEM certificate chain: both listeners speak TLS (with --tls-key).
    #[arg(long, env = "IDF_TLS_CERT", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "IDF_TLS_KEY", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Listen beyond loopback without TLS and tokens (behind a proxy that provides both).
    #[arg(long)]
    pub(crate) insecure: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// Data directory of the embedded store [serve default: ./idforensics-data; analyze: none, so no
    /// matching or registration].
    #[arg(long, env = "IDF_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// PostgreSQL shared by replicas as the store instead of a data directory, e.g.
    /// postgresql://idforensics@db.internal:5432/idforensics (docs/replicas.md).
    #[arg(long, env = "IDF_POSTGRES_URL", value_name = "URL", conflicts_with = "data_dir")]
    pub(crate) postgres: Option<String>,
    /// A folder with tuned copies of models/*.toml (policy.toml, quality.toml) [default: the
    /// shipped models, compiled in].
    #[arg(long, env = "IDF_MODELS_DIR")]
    pub(crate) models_dir: Option<PathBuf>,
    /// The secret that keys document numbers, a file of at least 32 bytes, the same for every
    /// replica [default: document-number.secret in the data directory, made on first start; none
    /// with --postgres, which then neither stores nor matches document numbers].
    #[arg(long, env = "IDF_DOCUMENT_NUMBER_SECRET_FILE", value_name = "FILE")]
    pub(crate) document_number_secret_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// The uploading account: its own documents are not matches. Required with --register.
    #[arg(long)]
    pub(crate) account: Option<String>,
    /// The document id (one FILE only) [default: the file path as given].
    #[arg(long)]
    pub(crate) document_id: Option<String>,
    /// Register the documents for --account in the store (needs --data-dir or --postgres).
    #[arg(long)]
    pub(crate) register: bool,
    /// Print one JSON object per file, one per line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Write the tamper heatmaps (PNG) here, as <file name>.heatmap.<method>.png.
    #[arg(long, value_name = "DIR")]
    pub(crate) evidence_dir: Option<PathBuf>,
    /// Image files (JPEG, PNG, WebP, TIFF).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormatArg {
    Text,
    Json,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct MakeMrzGlyphsArgs {
    /// The OCR-B font (Debian's fonts-ocr-b).
    #[arg(long, default_value = "/usr/share/fonts/opentype/ocr-b/OCRB.otf")]
    pub(crate) font: PathBuf,
    /// Version written into the file.
    #[arg(long)]
    pub(crate) version: String,
    /// Output file (models/mrz_glyphs.toml).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[cfg(feature = "eval")]
#[derive(Debug, Args)]
pub(crate) struct EvalMrzArgs {
    /// Documents per format (TD1 card, TD3 page) and device (phone, scanner); half carry one
    /// altered digit. As many cards without a zone again.
    #[arg(long, default_value_t = 50)]
    pub(crate) documents: usize,
    /// Random seed.
    #[arg(long, default_value_t = 2)]
    pub(crate) seed: u64,
    /// Models folder (defaults to the shipped models).
    #[arg(long)]
    pub(crate) models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub(crate) json: bool,
}
