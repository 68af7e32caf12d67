//! A replica's follower: wakes when another process writes to the shared store (or every
//! [`FOLLOW_POLL`] as the safety net) and brings the engine's index up to date, and reports the
//! store's reachability as the health status: NOT_SERVING while the store fails, SERVING once it
//! answers again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::engine::Engine;
use crate::frontends::service::IdForensicsService;
use crate::frontends::service::pb::id_forensics_server::IdForensicsServer;

/// Longest wait for a wake-up before catching up anyway.
pub(super) const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// The health status of the server as a whole ("") and of the idforensics service, and the same as
/// a flag for the HTTP listener's `/readyz`.
#[derive(Clone)]
pub(super) struct Health {
    reporter: HealthReporter,
    ready: Arc<AtomicBool>,
}

impl Health {
    pub(super) fn new(reporter: HealthReporter) -> Self {
        Health { reporter, ready: Arc::default() }
    }

    /// The flag `set` keeps.
    pub(super) fn readiness(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.ready)
    }

    /// Reports both statuses.
    pub(super) async fn set(&self, serving: bool) {
        self.ready.store(serving, Ordering::Relaxed);
        let status = if serving { ServingStatus::Serving } else { ServingStatus::NotServing };
        self.reporter.set_service_status("", status).await;
        self.reporter.set_service_status(service_name(), status).await;
    }
}

fn service_name() -> &'static str {
    <IdForensicsServer<IdForensicsService> as tonic::server::NamedService>::NAME
}

/// The running follower; [`Follower::halt`] then [`Follower::join`] end it.
pub(super) struct Follower {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Follower {
    /// Starts following on a thread of its own (it blocks on the store), reporting through `health`
    /// on `runtime`.
    pub(super) fn start(engine: Arc<Engine>, health: Health, runtime: tokio::runtime::Handle) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut serving = true;
            while !stopping.load(Ordering::Relaxed) {
                let followed = engine.follow(FOLLOW_POLL);
                if followed.is_ok() != serving && !stopping.load(Ordering::Relaxed) {
                    serving = followed.is_ok();
                    match &followed {
                        Ok(()) => tracing::info!("the store answers again: SERVING"),
                        Err(error) => tracing::warn!(%error, "the store is unavailable: NOT_SERVING"),
                    }
                    runtime.block_on(health.set(serving));
                }
                if followed.is_err() {
                    std::thread::sleep(FOLLOW_POLL);
                }
            }
        });
        Follower { stop, thread }
    }

    /// Stops following and changing the health status (the thread ends within [`FOLLOW_POLL`] and
    /// one store timeout).
    pub(super) fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for the halted follower's thread to end.
    pub(super) async fn join(self) {
        self.halt();
        let thread = self.thread;
        if !matches!(tokio::task::spawn_blocking(move || thread.join()).await, Ok(Ok(()))) {
            tracing::error!("the follower panicked");
        }
    }
}
