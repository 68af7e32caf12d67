//! `serve`: the gRPC service on its embedded store or on PostgreSQL, with logging and graceful
//! shutdown.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::args::{LogFormatArg, ServeArgs};
use crate::{engine_on_store, load_models, open_store, overrides};
use idforensics::frontends::settings::{DEFAULT_DATA_DIR, LogFormat, Overrides, Settings};

pub(crate) fn serve(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = Settings::resolve(
        config,
        Overrides {
            listen: args.listen,
            http: args.http,
            max_message_bytes: args.max_message_bytes,
            max_concurrent_analyses: args.max_concurrent_analyses,
            log_format: args.log_format.map(|format| match format {
                LogFormatArg::Text => LogFormat::Text,
                LogFormatArg::Json => LogFormat::Json,
            }),
            shutdown_grace_seconds: args.shutdown_grace_seconds,
            tokens_file: args.tokens_file,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
            insecure: args.insecure,
            ..overrides(args.common)
        },
    )?;
    init_logging(settings.log_format);
    if settings.store().is_none() {
        settings.data_dir = Some(DEFAULT_DATA_DIR.into());
    }
    let store = open_store(&settings)?.context("a store is configured")?;
    let location = settings.store().map(|location| location.to_string()).unwrap_or_default();
    let models = load_models(&settings)?;
    let documents = store.document_count()?;
    let (policy_version, quality_version, reuse_version) =
        (models.policy.version().to_owned(), models.quality.version.clone(), models.reuse.version.clone());
    let started = std::time::Instant::now();
    let engine = Arc::new(engine_on_store(&settings, models, store)?);
    tracing::info!(
        store = location,
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
        let http = match settings.http.0 {
            Some(address) => {
                let http = tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding the HTTP listener {address}"))?;
                tracing::info!(address = %http.local_addr()?, "http listening");
                Some(http)
            }
            None => None,
        };
        tracing::info!(
            address = %listener.local_addr()?,
            tls = settings.tls(),
            tokens = settings.tokens.len(),
            "idforensics listening"
        );
        // A clone: the engine is dropped when this function returns, after the runtime, because
        // PostgreSQL's blocking clients cannot be dropped inside a runtime.
        idforensics::frontends::service::server::serve(
            listener,
            http,
            Arc::clone(&engine),
            &settings,
            shutdown_signal(),
        )
        .await?;
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
