//! The HTTP listener beside gRPC (`serve --http ADDR`): `GET /metrics` (Prometheus text format),
//! `GET /healthz` (the process answers) and `GET /readyz` (ready to serve: what the gRPC health
//! service reports, NOT_SERVING while the store fails or the server drains).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;

use crate::engine::Engine;
use crate::frontends::service::metrics::Metrics;

/// The routes, over the engine (for the index's size), the metrics and the readiness flag.
pub(super) fn router(engine: Arc<Engine>, metrics: Arc<Metrics>, ready: Arc<AtomicBool>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || async move {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render(&engine))
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || async move {
                if ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, "ready\n")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                }
            }),
        )
}
