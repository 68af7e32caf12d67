//! Wires the gRPC server: the idforensics service, standard health checking (kept by the replica's
//! follower), server reflection (v1 and v1alpha), message-size limits and graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

use crate::engine::Engine;
use crate::frontends::service::IdForensicsService;
use crate::frontends::service::follower::{Follower, Health};
use crate::frontends::service::http;
use crate::frontends::service::metrics::Metrics;
use crate::frontends::service::pb;
use crate::frontends::service::tls::{TlsError, TlsIdentity};
use crate::frontends::settings::Settings;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection descriptor set could not be loaded (a build problem).
    #[error("reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The HTTP listener failed.
    #[error("http listener: {0}")]
    Http(#[from] std::io::Error),
    /// The TLS certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Serves gRPC on `listener` (and the console, `/metrics`, `/healthz`, `/readyz` on `http` when
/// given), over TLS when configured and admitting callers by the configured tokens, until
/// `shutdown` resolves; then reports NOT_SERVING and drains in-flight calls for up to
/// `settings.shutdown_grace_seconds`.
pub async fn serve(
    listener: TcpListener,
    http: Option<TcpListener>,
    engine: Arc<Engine>,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(certificate), Some(key)) => Some(TlsIdentity::read(certificate, key)?),
        _ => None,
    };
    let metrics = Arc::new(Metrics::new());
    let service = IdForensicsService::new(
        Arc::clone(&engine),
        settings.max_concurrent_analyses,
        metrics,
        Arc::new(settings.access()),
    );
    let grpc_service = pb::id_forensics_server::IdForensicsServer::new(service.clone())
        .max_decoding_message_size(settings.max_message_bytes)
        .max_encoding_message_size(settings.max_message_bytes);

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(health_reporter);
    health.set(true).await;
    let http_handle = axum_server::Handle::new();
    let http = match http {
        Some(listener) => {
            let max_upload = usize::try_from(settings.limits.max_bytes).unwrap_or(usize::MAX);
            let routes = http::router(service, health.readiness(), max_upload).into_make_service();
            let listener = listener.into_std()?;
            let handle = http_handle.clone();
            Some(match &tls {
                Some(tls) => {
                    let config = axum_server::tls_rustls::RustlsConfig::from_config(tls.http_config());
                    let server = axum_server::from_tcp_rustls(listener, config).handle(handle);
                    tokio::spawn(server.serve(routes))
                }
                None => tokio::spawn(axum_server::from_tcp(listener).handle(handle).serve(routes)),
            })
        }
        None => None,
    };
    let follower = Follower::start(engine, health.clone(), tokio::runtime::Handle::current());

    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let (drain, draining) = tokio::sync::oneshot::channel::<()>();
    let mut builder = Server::builder();
    if let Some(tls) = &tls {
        builder = builder.tls_config(tls.grpc_config())?;
    }
    let server = builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(grpc_service)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
            let _ = draining.await;
        });
    tokio::pin!(server);
    let served = tokio::select! {
        served = &mut server => served,
        () = shutdown => {
            follower.halt();
            health.set(false).await;
            let grace = std::time::Duration::from_secs(settings.shutdown_grace_seconds);
            tracing::info!(grace_seconds = grace.as_secs(), "shutting down: NOT_SERVING, draining in-flight calls");
            let _ = drain.send(());
            tokio::time::timeout(grace, &mut server).await.unwrap_or_else(|_| {
                tracing::warn!("the grace period ended with calls in flight");
                Ok(())
            })
        }
    };
    follower.join().await;
    http_handle.graceful_shutdown(Some(std::time::Duration::from_secs(settings.shutdown_grace_seconds)));
    if let Some(http) = http {
        // A panicked HTTP task has nothing left to report; its I/O error does.
        if let Ok(result) = http.await {
            result?;
        }
    }
    Ok(served?)
}
