//! The HTTP listener beside gRPC (`serve --http ADDR`): the reviewer console and its JSON API
//! ([`super::console`]), `GET /metrics` (Prometheus text format), `GET /healthz` (the process
//! answers) and `GET /readyz` (ready to serve: what the gRPC health service reports, NOT_SERVING
//! while the store fails or the server drains). The console's API needs a token of role `review`
//! (forgetting: `admin`) when tokens are configured; metrics and health need none.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};

use crate::frontends::service::IdForensicsService;
use crate::frontends::service::console;

/// The routes, over the service (the console's analyses share its limits, metrics and audit log)
/// and the readiness flag; uploads above `max_upload_bytes` are refused with 413.
pub(super) fn router(service: IdForensicsService, ready: Arc<AtomicBool>, max_upload_bytes: usize) -> Router {
    let metrics = Arc::clone(&service.metrics);
    let engine = Arc::clone(&service.engine);
    Router::new()
        .route("/", get(console::page))
        .route("/console.js", get(console::script))
        .route("/console.css", get(console::style))
        .route("/api/session", get(console::session))
        .route("/api/analyze", post(console::analyze))
        .route("/api/accounts/{account_id}", get(console::account))
        .route("/api/accounts/{account_id}/forget", post(console::forget))
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .with_state(service)
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
