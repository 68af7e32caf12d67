//! The `idforensics` binary: a thin shell over the library. Raw arguments ([`args`]) are resolved
//! into a plan before any I/O; each command is a module; the analysis itself is the library's engine.

mod access;
mod analyze;
mod args;
mod batch;
mod calibrate;
#[cfg(feature = "eval")]
mod eval;
mod progress;
mod serve;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use args::{Cli, Command, CommonArgs};
use idforensics::engine::{Engine, Models};
use idforensics::frontends::settings::{Overrides, Settings};
use idforensics::storage::Store;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    let result = match cli.command {
        Command::Serve(args) => serve::serve(config, args).map(|()| ExitCode::SUCCESS),
        Command::Analyze(args) => analyze::AnalyzePlan::resolve(config, args).and_then(|plan| plan.execute()),
        #[cfg(feature = "eval")]
        Command::Eval(args) => eval::eval(config, args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::MakeQualitySet(args) => eval::make_quality_set(args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::MakeCaptureSet(args) => eval::make_capture_set(args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::EvalReuse(args) => eval::eval_reuse(config, args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::EvalTamper(args) => eval::eval_tamper(config, args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::EvalMrz(args) => eval::eval_mrz(config, args).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "eval")]
        Command::MakeMrzGlyphs(args) => eval::make_mrz_glyphs(args).map(|()| ExitCode::SUCCESS),
        Command::Calibrate(args) => calibrate::run(config, args).map(|()| ExitCode::SUCCESS),
        Command::Batch(args) => batch::batch(config, args).map(|()| ExitCode::SUCCESS),
        Command::TokenNew(args) => access::token_new(args).map(|()| ExitCode::SUCCESS),
        Command::Audit(args) => access::audit(config, args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

pub(crate) fn overrides(common: CommonArgs) -> Overrides {
    Overrides {
        data_dir: common.data_dir,
        postgres_url: common.postgres,
        models_dir: common.models_dir,
        document_number_secret_file: common.document_number_secret_file,
        ..Overrides::default()
    }
}

/// The configured store, opened (or `None` when none is configured).
pub(crate) fn open_store(settings: &Settings) -> anyhow::Result<Option<Box<dyn Store>>> {
    settings
        .store()
        .map(|location| {
            location
                .open(settings.postgres_connections())
                .with_context(|| format!("opening the store ({location})"))
        })
        .transpose()
}

/// The engine on the configured store, keying document numbers with the configured secret.
pub(crate) fn engine_on_store(
    settings: &Settings,
    models: Models,
    store: Box<dyn Store>,
) -> anyhow::Result<Engine> {
    let secret = settings.document_number_secret()?;
    if secret.is_none() {
        tracing::warn!(
            "no document-number secret (--document-number-secret-file): document numbers are neither \
             stored nor matched"
        );
    }
    let engine = Engine::with_store(settings.limits, models, store)?;
    Ok(engine.with_document_number_secret(secret)?)
}

pub(crate) fn load_models(settings: &Settings) -> anyhow::Result<Models> {
    match &settings.models_dir {
        Some(dir) => Models::load(dir).with_context(|| format!("models in {}", dir.display())),
        None => Ok(Models::embedded()),
    }
}
