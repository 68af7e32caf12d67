//! `analyze`: image files analysed offline, one result per file, as text or JSON lines.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::args::AnalyzeArgs;
use crate::{engine_on_store, load_models, open_store, overrides};
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::domain::policy::Decision;
use idforensics::domain::report::Report;
use idforensics::engine::{AnalyzeError, AnalyzeRequest, Engine};
use idforensics::frontends::input::{InputError, read_bounded};
use idforensics::frontends::settings::Settings;

/// `analyze`, resolved and validated before any file is read.
pub(crate) struct AnalyzePlan {
    engine: Engine,
    files: Vec<(PathBuf, DocumentId)>,
    account: Option<AccountId>,
    register: bool,
    json: bool,
    evidence_dir: Option<PathBuf>,
    max_bytes: u64,
}

impl AnalyzePlan {
    pub(crate) fn resolve(config: Option<&Path>, args: AnalyzeArgs) -> anyhow::Result<Self> {
        let settings = Settings::resolve(config, overrides(args.common))?;
        let account = args.account.map(AccountId::new).transpose()?;
        if args.register && account.is_none() {
            anyhow::bail!("--register needs --account");
        }
        if args.register && settings.store().is_none() {
            anyhow::bail!("--register needs --data-dir or --postgres (or IDF_DATA_DIR, IDF_POSTGRES_URL)");
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
        let engine = match open_store(&settings)? {
            Some(store) => engine_on_store(&settings, models, store)?,
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

    pub(crate) fn execute(self) -> anyhow::Result<ExitCode> {
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
