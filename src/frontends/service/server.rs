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
}

/// Serves gRPC on `listener` (and `/metrics`, `/healthz`, `/readyz` on `http` when given) until
/// `shutdown` resolves; then reports NOT_SERVING and drains in-flight calls for up to
/// `settings.shutdown_grace_seconds`.
pub async fn serve(
    listener: TcpListener,
    http: Option<TcpListener>,
    engine: Arc<Engine>,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let metrics = Arc::new(Metrics::new());
    let service = pb::id_forensics_server::IdForensicsServer::new(IdForensicsService::new(
        Arc::clone(&engine),
        settings.max_concurrent_analyses,
        Arc::clone(&metrics),
    ))
    .max_decoding_message_size(settings.max_message_bytes)
    .max_encoding_message_size(settings.max_message_bytes);

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(health_reporter);
    health.set(true).await;
    let (stop_http, http_stopping) = tokio::sync::oneshot::channel::<()>();
    let http = http.map(|listener| {
        let routes = http::router(Arc::clone(&engine), metrics, health.readiness());
        tokio::spawn(async move {
            axum::serve(listener, routes)
                .with_graceful_shutdown(async {
                    let _ = http_stopping.await;
                })
                .await
        })
    });
    let follower = Follower::start(engine, health.clone(), tokio::runtime::Handle::current());

    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let (drain, draining) = tokio::sync::oneshot::channel::<()>();
    let server = Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(service)
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
    let _ = stop_http.send(());
    if let Some(http) = http {
        // A panicked HTTP task has nothing left to report; its I/O error does.
        if let Ok(result) = http.await {
            result?;
        }
    }
    Ok(served?)
}
