//! Command-line front end: `serve` and `analyze`. Raw arguments are resolved into a plan before any
//! I/O; the analysis itself is the library's [`Engine`].

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use idforensics::engine::{AnalyzeError, AnalyzeRequest, Engine, Models};
use idforensics::ids::{AccountId, DocumentId};
use idforensics::input::{InputError, read_bounded};
use idforensics::policy::Decision;
use idforensics::report::Report;
use idforensics::settings::{DEFAULT_DATA_DIR, LogFormat, Overrides, Settings};
use idforensics::store::Store;

const EXIT_CODES: &str = "\
Exit codes (analyze):
  0  every file was analysed and accepted
  1  every file was analysed and at least one was flagged (REVIEW or REJECT)
  2  an error: bad arguments, an unreadable or undecodable file, a store failure";

/// Identity-document image forensics for KYC: quality gate, document reuse, tamper evidence.
#[derive(Debug, Parser)]
#[command(name = "idforensics", version, after_help = EXIT_CODES)]
struct Cli {
    /// TOML config file (keys as in README.md, "Configuration").
    #[arg(long, env = "IDF_CONFIG", global = true)]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gRPC service on its embedded store.
    Serve(ServeArgs),
    /// Analyse image files offline and print one result per file.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// Evaluate the analysers on a labelled folder (MANIFEST.tsv with `file` and `label` columns):
    /// per-label and per-finding counts, precision and recall, as Markdown tables.
    Eval(EvalArgs),
    /// Build the quality evaluation set by degrading the good originals of labelled folders.
    MakeQualitySet(MakeQualitySetArgs),
    /// Evaluate reuse detection on generated ID cards (and optionally real photos) against plain
    /// PDQ: false matches between distinct cards, recall per capture transform, portrait and data
    /// swaps, and the distance quantiles the thresholds were set from.
    EvalReuse(EvalReuseArgs),
    /// Evaluate the local tamper analyses on known edits (splices, clone-stamps, replaced text fields,
    /// swapped portraits) of camera originals and generated ID cards: AUC against unedited re-saves,
    /// detection rates and the IoU of the reported regions.
    EvalTamper(EvalTamperArgs),
    /// Re-verify existing accounts' documents: analyse and register each, cross-match them, and
    /// report linked-account clusters. Resumable: run it again to finish an interrupted run.
    #[command(after_help = BATCH_HELP)]
    Batch(BatchArgs),
}

const BATCH_HELP: &str = "\
Where: --data-dir analyses in this process on the embedded store; --server URL sends every
document to a running server (unary Analyze calls from --jobs threads, retried while it reports
overload), so the same run can re-verify against production.
Input: --manifest, a CSV or TSV with account_id, document_id and path columns (paths relative to the
manifest), or --folder, one subfolder per account holding its images.
Output folder: results.jsonl (one line per document, the fields of `analyze --json` plus account_id),
summary.csv, links.json and links.txt (the linked-account clusters, largest first).
Exit codes: 0 the batch completed (documents that could not be analysed are in results.jsonl with
their error), 2 the batch could not run.";

#[derive(Debug, Args)]
struct BatchArgs {
    /// Data directory of the embedded store the documents are registered in (in-process runs).
    #[arg(long, env = "IDF_DATA_DIR", required_unless_present = "server")]
    data_dir: Option<PathBuf>,
    /// Send the documents to a running server instead (e.g. http://127.0.0.1:50051).
    #[arg(long, conflicts_with = "data_dir")]
    server: Option<String>,
    /// Manifest of the documents.
    #[arg(long, conflicts_with = "folder", required_unless_present = "folder")]
    manifest: Option<PathBuf>,
    /// Folder of per-account subfolders.
    #[arg(long)]
    folder: Option<PathBuf>,
    /// Output folder (created; reused to resume).
    #[arg(long)]
    out: PathBuf,
    /// Worker threads [default: the number of cores; with --server, twice that].
    #[arg(long)]
    jobs: Option<usize>,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    models_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// A folder with MANIFEST.tsv.
    dir: PathBuf,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EvalTamperArgs {
    /// The labelled corpus whose camera originals (a_camera_exif, pristine) are sources.
    #[arg(long, default_value = "../shared/corpus")]
    corpus: PathBuf,
    /// Generated ID cards used as sources.
    #[arg(long, default_value_t = 60)]
    cards: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct EvalReuseArgs {
    /// Card templates.
    #[arg(long, default_value_t = 4)]
    templates: u64,
    /// Distinct cards per template.
    #[arg(long, default_value_t = 2000)]
    cards_per_template: usize,
    /// Portrait swaps and data swaps per template (each).
    #[arg(long, default_value_t = 250)]
    swaps_per_template: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A folder of real photos (searched recursively for .jpg/.jpeg/.png) to register and capture again.
    #[arg(long)]
    photos: Option<PathBuf>,
    /// A folder with tuned copies of models/*.toml.
    #[arg(long, env = "IDF_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct MakeQualitySetArgs {
    /// Labelled source folders (e.g. ../shared/corpus and testdata).
    #[arg(long = "from", required = true)]
    sources: Vec<PathBuf>,
    /// Labels given to source files after looking at them (testdata/quality-review.tsv).
    #[arg(long)]
    review: Option<PathBuf>,
    /// Output folder (created).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:50051].
    #[arg(long, env = "IDF_LISTEN")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    common: CommonArgs,
    /// Largest gRPC message in bytes [default: 26214400].
    #[arg(long, env = "IDF_MAX_MESSAGE_BYTES")]
    max_message_bytes: Option<usize>,
    /// Analyses run at once; more are refused with RESOURCE_EXHAUSTED [default: 2 x cores].
    #[arg(long, env = "IDF_MAX_CONCURRENT_ANALYSES")]
    max_concurrent_analyses: Option<usize>,
    /// Log format.
    #[arg(long, env = "IDF_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Data directory of the embedded store [serve default: ./idforensics-data; analyze: none, so no
    /// matching or registration].
    #[arg(long, env = "IDF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A folder with tuned copies of models/*.toml (policy.toml, quality.toml) [default: the
    /// shipped models, compiled in].
    #[arg(long, env = "IDF_MODELS_DIR")]
    models_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The uploading account: its own documents are not matches. Required with --register.
    #[arg(long)]
    account: Option<String>,
    /// The document id (one FILE only) [default: the file path as given].
    #[arg(long)]
    document_id: Option<String>,
    /// Register the documents for --account in the store (needs --data-dir).
    #[arg(long)]
    register: bool,
    /// Print one JSON object per file, one per line.
    #[arg(long)]
    json: bool,
    /// Write the tamper heatmaps (PNG) here, as <file name>.heatmap.<method>.png.
    #[arg(long, value_name = "DIR")]
    evidence_dir: Option<PathBuf>,
    /// Image files (JPEG, PNG, WebP, TIFF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

/// Runs the command line; returns the process exit code.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(cli.config.as_deref(), args).map(|()| ExitCode::SUCCESS),
        Command::Analyze(args) => {
            AnalyzePlan::resolve(cli.config.as_deref(), args).and_then(|plan| plan.execute())
        }
        Command::Eval(args) => eval(cli.config.as_deref(), args).map(|()| ExitCode::SUCCESS),
        Command::MakeQualitySet(args) => make_quality_set(args).map(|()| ExitCode::SUCCESS),
        Command::EvalReuse(args) => eval_reuse(cli.config.as_deref(), args).map(|()| ExitCode::SUCCESS),
        Command::EvalTamper(args) => eval_tamper(cli.config.as_deref(), args).map(|()| ExitCode::SUCCESS),
        Command::Batch(args) => batch(cli.config.as_deref(), args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

fn overrides(common: CommonArgs) -> Overrides {
    Overrides { data_dir: common.data_dir, models_dir: common.models_dir, ..Overrides::default() }
}

fn load_models(settings: &Settings) -> anyhow::Result<Models> {
    match &settings.models_dir {
        Some(dir) => Models::load(dir).with_context(|| format!("models in {}", dir.display())),
        None => Ok(Models::embedded()),
    }
}

fn eval(config: Option<&Path>, args: EvalArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    // No store: files of the set must not match each other.
    let engine = Engine::new(settings.limits, load_models(&settings)?);
    let evaluation = idforensics::eval::evaluate(&args.dir, &engine)?;
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

/// Prints an evaluation as pretty JSON or as its Markdown report.
fn print_evaluation(json: bool, evaluation: &impl serde::Serialize, markdown: String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(evaluation)?);
    } else {
        print!("{markdown}");
    }
    Ok(())
}

fn eval_tamper(config: Option<&Path>, args: EvalTamperArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let corpus = args.corpus.is_dir().then_some(args.corpus.clone());
    if corpus.is_none() {
        eprintln!("eval-tamper: {} not found: generated cards only", args.corpus.display());
    }
    let config = idforensics::eval::tamper::TamperEvalConfig { corpus, cards: args.cards, seed: args.seed };
    let models = load_models(&settings)?;
    let evaluation = idforensics::eval::tamper::evaluate_tamper(&config, &models);
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

fn eval_reuse(config: Option<&Path>, args: EvalReuseArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let photos = match &args.photos {
        Some(dir) => image_files(dir).with_context(|| format!("listing {}", dir.display()))?,
        None => Vec::new(),
    };
    let config = idforensics::eval::reuse::ReuseEvalConfig {
        templates: args.templates,
        cards_per_template: args.cards_per_template,
        swaps_per_template: args.swaps_per_template,
        seed: args.seed,
        photos,
        photos_root: args.photos.clone(),
    };
    let evaluation = idforensics::eval::reuse::evaluate_reuse(&config, &load_models(&settings)?);
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

/// JPEG and PNG files under `dir`, recursively, sorted.
fn image_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if path.is_dir() {
                pending.push(path);
            } else if matches!(extension.as_deref(), Some("jpg" | "jpeg" | "png")) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn batch(config: Option<&Path>, args: BatchArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(
        config,
        Overrides { data_dir: args.data_dir.clone(), models_dir: args.models_dir, ..Overrides::default() },
    )?;
    let items = match (&args.manifest, &args.folder) {
        (Some(manifest), _) => idforensics::batch::read_manifest(manifest)?,
        (None, Some(folder)) => idforensics::batch::read_folder(folder)?,
        (None, None) => anyhow::bail!("give --manifest or --folder"),
    };
    let backend: Box<dyn idforensics::batch::BatchBackend> = match (&args.server, &settings.data_dir) {
        (Some(url), _) => {
            Box::new(idforensics::service::RemoteClient::connect(url, settings.max_message_bytes)?)
        }
        (None, Some(data_dir)) => {
            let store = Store::open(data_dir)
                .with_context(|| format!("opening the store in {}", data_dir.display()))?;
            Box::new(Engine::with_store(settings.limits, load_models(&settings)?, store)?)
        }
        (None, None) => anyhow::bail!("give --data-dir or --server"),
    };
    // Against a server, twice as many requests as cores keep it busy while files are read and
    // answers travel (measured: 89 % of in-process throughput with 2x, 66 % with 1x); that is also
    // the server's default concurrency limit, so nothing is refused.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.unwrap_or(if args.server.is_some() { 2 * cores } else { cores }).max(1);
    // On a terminal, one line redrawn as a bar; otherwise (logs, CI) a plain line every 2 s.
    let terminal = std::io::stderr().is_terminal();
    let interval = std::time::Duration::from_millis(if terminal { 200 } else { 2000 });
    let mut last_shown: Option<std::time::Instant> = None;
    let mut report_progress = |p: idforensics::batch::Progress| {
        let finished = p.done == p.total;
        if !finished && last_shown.is_some_and(|shown| shown.elapsed() < interval) {
            return;
        }
        last_shown = Some(std::time::Instant::now());
        let status = format!("{}/{} documents, {:.1}/s, ETA {} s", p.done, p.total, p.rate, p.eta.as_secs());
        if terminal {
            let filled = (30 * p.done).checked_div(p.total).unwrap_or(30);
            eprint!(
                "\r[{}{}] {status}{}",
                "#".repeat(filled),
                "-".repeat(30 - filled),
                if finished { "\n" } else { "" }
            );
        } else {
            eprintln!("batch: {status}");
        }
    };
    let summary = idforensics::batch::run_batch(
        backend.as_ref(),
        items,
        &args.out,
        jobs,
        settings.limits.max_bytes,
        &mut report_progress,
    )?;
    eprintln!(
        "batch: {} listed, {} already done, {} analysed ({} could not be), {} linked-account clusters; see {}",
        summary.listed,
        summary.skipped,
        summary.analysed,
        summary.errors,
        summary.clusters,
        args.out.join("links.txt").display()
    );
    Ok(())
}

fn make_quality_set(args: MakeQualitySetArgs) -> anyhow::Result<()> {
    let summary =
        idforensics::eval::quality_set::make_quality_set(&args.sources, args.review.as_deref(), &args.out)?;
    eprintln!(
        "wrote {} files ({} good originals and their degradations) to {}",
        summary.files,
        summary.originals,
        args.out.display()
    );
    Ok(())
}

fn serve(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(
        config,
        Overrides {
            listen: args.listen,
            max_message_bytes: args.max_message_bytes,
            max_concurrent_analyses: args.max_concurrent_analyses,
            log_format: args.log_format.map(|format| match format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
            ..overrides(args.common)
        },
    )?;
    init_logging(settings.log_format);
    let data_dir = settings.data_dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let store =
        Store::open(&data_dir).with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let models = load_models(&settings)?;
    let documents = store.document_count()?;
    let (policy_version, quality_version, reuse_version) =
        (models.policy.version().to_owned(), models.quality.version.clone(), models.reuse.version.clone());
    let started = std::time::Instant::now();
    let engine = Arc::new(Engine::with_store(settings.limits, models, store)?);
    tracing::info!(
        data_dir = %data_dir.display(),
        documents,
        indexed = engine.indexed_documents(),
        index_rebuild_ms = started.elapsed().as_millis() as u64,
        policy_version,
        quality_version,
        reuse_version,
        "store opened"
    );

    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("binding {}", settings.listen))?;
        tracing::info!(address = %listener.local_addr()?, "idforensics listening");
        idforensics::server::serve(listener, engine, &settings, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight calls");
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// `analyze`, resolved and validated before any file is read.
struct AnalyzePlan {
    engine: Engine,
    files: Vec<(PathBuf, DocumentId)>,
    account: Option<AccountId>,
    register: bool,
    json: bool,
    evidence_dir: Option<PathBuf>,
    max_bytes: u64,
}

impl AnalyzePlan {
    fn resolve(config: Option<&Path>, args: AnalyzeArgs) -> anyhow::Result<Self> {
        let settings = Settings::resolve(config, overrides(args.common))?;
        let account = args.account.map(AccountId::new).transpose()?;
        if args.register && account.is_none() {
            anyhow::bail!("--register needs --account");
        }
        if args.register && settings.data_dir.is_none() {
            anyhow::bail!("--register needs --data-dir (or IDF_DATA_DIR)");
        }
        if let Some(dir) = &args.evidence_dir {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if args.document_id.is_some() && args.files.len() != 1 {
            anyhow::bail!("--document-id names one document: give exactly one FILE");
        }
        let files = args
            .files
            .into_iter()
            .map(|path| {
                let id = args.document_id.clone().unwrap_or_else(|| path.display().to_string());
                Ok((path, DocumentId::new(id)?))
            })
            .collect::<anyhow::Result<_>>()?;
        let models = load_models(&settings)?;
        let engine = match &settings.data_dir {
            Some(dir) => Engine::with_store(
                settings.limits,
                models,
                Store::open(dir).with_context(|| format!("opening the store in {}", dir.display()))?,
            )?,
            None => Engine::new(settings.limits, models),
        };
        Ok(AnalyzePlan {
            engine,
            files,
            account,
            register: args.register,
            json: args.json,
            evidence_dir: args.evidence_dir,
            max_bytes: settings.limits.max_bytes,
        })
    }

    fn execute(self) -> anyhow::Result<ExitCode> {
        let mut worst = ExitCode::SUCCESS;
        let mut flagged = false;
        let mut errored = false;
        let stdout = std::io::stdout();
        for (path, document_id) in &self.files {
            let outcome = read_bounded(path, self.max_bytes).map_err(FileError::from).and_then(|bytes| {
                self.engine
                    .analyze(AnalyzeRequest {
                        image: &bytes,
                        account_id: self.account.as_ref(),
                        document_id: Some(document_id),
                        register: self.register,
                        include_evidence_images: self.evidence_dir.is_some(),
                    })
                    .map_err(FileError::from)
            });
            match &outcome {
                Ok(report) => flagged |= report.decision != Decision::Accept,
                Err(_) => errored = true,
            }
            if let (Some(dir), Ok(report)) = (&self.evidence_dir, &outcome) {
                let stem = path.file_name().map_or_else(|| "image".into(), |name| name.to_string_lossy());
                for image in &report.evidence_images {
                    let target = dir.join(format!("{stem}.{}.png", image.name));
                    std::fs::write(&target, &image.png)
                        .with_context(|| format!("writing {}", target.display()))?;
                }
            }
            let mut out = stdout.lock();
            if self.json {
                serde_json::to_writer(&mut out, &FileResult::new(path, document_id, outcome))?;
                writeln!(out)?;
            } else {
                write_text(&mut out, path, &outcome)?;
            }
        }
        if errored {
            worst = ExitCode::from(2);
        } else if flagged {
            worst = ExitCode::from(1);
        }
        Ok(worst)
    }
}

/// Why one file could not be analysed.
#[derive(Debug, thiserror::Error)]
enum FileError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
}

impl FileError {
    fn reason(&self) -> &'static str {
        match self {
            FileError::Input(error) => error.reason(),
            FileError::Analyze(error) => error.reason(),
        }
    }
}

/// One line of `analyze --json`.
#[derive(Serialize)]
struct FileResult<'a> {
    file: String,
    document_id: &'a DocumentId,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    report: Option<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorJson>,
}

#[derive(Serialize)]
struct ErrorJson {
    reason: &'static str,
    message: String,
}

impl<'a> FileResult<'a> {
    fn new(path: &Path, document_id: &'a DocumentId, outcome: Result<Report, FileError>) -> Self {
        let file = path.display().to_string();
        match outcome {
            Ok(mut report) => {
                report.document_id = None; // printed once, above
                FileResult { file, document_id, report: Some(report), error: None }
            }
            Err(error) => FileResult {
                file,
                document_id,
                report: None,
                error: Some(ErrorJson { reason: error.reason(), message: error.to_string() }),
            },
        }
    }
}

fn write_text(out: &mut impl Write, path: &Path, outcome: &Result<Report, FileError>) -> std::io::Result<()> {
    match outcome {
        Err(error) => writeln!(out, "{}: ERROR {} ({error})", path.display(), error.reason()),
        Ok(report) => {
            writeln!(
                out,
                "{}: {} risk={:.2} {}x{} {}",
                path.display(),
                report.decision.as_str(),
                report.risk_score,
                report.image.width,
                report.image.height,
                report.image.format
            )?;
            for rated in &report.findings {
                writeln!(out, "  {} [{:?}] {}", rated.finding.code, rated.severity, rated.finding.message)?;
            }
            for found in &report.matches {
                writeln!(
                    out,
                    "  match {} account={} document={}",
                    found.kind, found.account_id, found.document_id
                )?;
            }
            Ok(())
        }
    }
}
