//! The gRPC service `idforensics.v1.IdForensics`: validate, convert, run the engine on the blocking
//! pool under a concurrency limit, convert back. No analysis logic lives here.

mod client;
mod console;
mod convert;
mod follower;
pub mod http;
pub mod metrics;
pub mod pb;
pub mod server;
mod status;
pub mod tls;

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Request, Response, Status, Streaming};

pub use client::{ClientError, RemoteClient, ServerAddress};
pub use convert::{ResponseError, report_from_response};
pub use status::{ERROR_DOMAIN, ServiceError};

use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::AccountCluster;
use crate::domain::report::Report;
use crate::engine::{self, AnalyzeError, Engine};
use crate::frontends::access::{Access, Caller, Role};
use metrics::Metrics;

/// The service implementation, cheap to clone.
#[derive(Debug, Clone)]
pub struct IdForensicsService {
    engine: Arc<Engine>,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
    metrics: Arc<Metrics>,
    access: Arc<Access>,
}

impl IdForensicsService {
    /// A service running at most `max_in_flight` analyses at once; calls beyond that are refused
    /// with `RESOURCE_EXHAUSTED` rather than queued, so callers see overload at once and back off.
    /// It counts what it does in `metrics` and admits callers by `access`.
    pub fn new(
        engine: Arc<Engine>,
        max_in_flight: usize,
        metrics: Arc<Metrics>,
        access: Arc<Access>,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(max_in_flight));
        IdForensicsService { engine, slots, max_in_flight, metrics, access }
    }

    /// The caller of `request`, if its bearer token's role may act as `needed`.
    fn caller<T>(&self, request: &Request<T>, needed: Role) -> Result<Caller, ServiceError> {
        let authorization = request.metadata().get("authorization").map(|value| value.as_bytes());
        Ok(self.access.authorize(authorization, needed)?)
    }

    /// Counts a finished call (or stream item) of `method`.
    fn count<T>(&self, method: &str, result: &Result<T, ServiceError>) {
        let (code, reason) = match result {
            Ok(_) => (tonic::Code::Ok, ""),
            Err(error) => error.code_and_reason(),
        };
        self.metrics.observe_call(method, code, reason.starts_with("store."));
    }

    /// Counts a finished call of `method` and turns its error into a status.
    fn observed<T>(&self, method: &str, result: Result<T, ServiceError>) -> Result<T, Status> {
        self.count(method, &result);
        result.map_err(Status::from)
    }

    fn slot(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ServiceError::Overloaded { in_flight: self.max_in_flight })
    }

    /// Runs CPU-bound engine work on the blocking pool, holding an analysis slot until it is done
    /// (even if the caller's deadline passes first, so the limit bounds real work). Unary calls
    /// fail at once when every slot is busy; stream items wait for one.
    async fn run<T, F>(&self, slot_wait: SlotWait, work: F) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, AnalyzeError> + Send + 'static,
    {
        let slot = match slot_wait {
            SlotWait::FailFast => self.slot()?,
            SlotWait::Queue => {
                Arc::clone(&self.slots).acquire_owned().await.map_err(|_| ServiceError::Internal)?
            }
        };
        let engine = Arc::clone(&self.engine);
        let running = self.metrics.running();
        tokio::task::spawn_blocking(move || {
            let result = work(&engine);
            drop((slot, running));
            result
        })
        .await
        .map_err(|_| ServiceError::Internal)?
        .map_err(ServiceError::from)
    }

    /// Validates, analyses and logs one request.
    async fn analyze_one(
        &self,
        request: pb::AnalyzeRequest,
        caller: &Caller,
        slot_wait: SlotWait,
    ) -> Result<Report, ServiceError> {
        let account_id = AccountId::optional(request.account_id)?;
        let document_id = DocumentId::optional(request.document_id)?;
        let image = request.image;
        let register = request.register;
        let include_evidence_images = request.include_evidence_images;
        let actor = caller.name.clone();
        let report = self
            .run(slot_wait, move |engine| {
                let report = engine.analyze(engine::AnalyzeRequest {
                    image: &image,
                    account_id: account_id.as_ref(),
                    document_id: document_id.as_ref(),
                    register,
                    include_evidence_images,
                })?;
                let action = if register { AuditAction::Register } else { AuditAction::Analyze };
                let outcome =
                    format!("decision={} matches={}", report.decision.as_str(), report.matches.len());
                engine.audit(&AuditEntry::now(
                    &actor,
                    action,
                    account_id.as_ref().map(AccountId::as_str),
                    document_id.as_ref().map(DocumentId::as_str),
                    outcome,
                ))?;
                Ok(report)
            })
            .await?;
        self.metrics.observe_report(&report);
        tracing::info!(
            document_id = report.document_id.as_ref().map(DocumentId::as_str),
            file_sha256 = %report.fingerprints.exact.file_sha256,
            decision = report.decision.as_str(),
            risk_score = report.risk_score,
            matches = report.matches.len(),
            registered = report.registration.is_some(),
            "analyzed"
        );
        Ok(report)
    }

    /// Erases an account for `caller` (an admin), audited.
    async fn forget_account_as(&self, caller: &Caller, account_id: String) -> Result<u64, ServiceError> {
        let account_id = AccountId::new(account_id)?;
        let actor = caller.name.clone();
        self.run(SlotWait::FailFast, move |engine| {
            let erased = engine.forget_account(&account_id)?;
            let outcome = format!("documents_erased={erased}");
            let account = Some(account_id.as_str());
            engine.audit(&AuditEntry::now(&actor, AuditAction::ForgetAccount, account, None, outcome))?;
            Ok(erased)
        })
        .await
    }

    /// Linked-account clusters (all, or `account_id`'s) for `caller`, audited.
    async fn account_links_as(
        &self,
        caller: &Caller,
        account_id: Option<AccountId>,
    ) -> Result<Vec<AccountCluster>, ServiceError> {
        let actor = caller.name.clone();
        self.run(SlotWait::FailFast, move |engine| {
            let clusters = engine.account_links(account_id.as_ref())?;
            let account = account_id.as_ref().map(AccountId::as_str);
            let outcome = format!("clusters={}", clusters.len());
            engine.audit(&AuditEntry::now(&actor, AuditAction::AccountLinks, account, None, outcome))?;
            Ok(clusters)
        })
        .await
    }
}

/// What a call does when every analysis slot is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotWait {
    /// Fail with `RESOURCE_EXHAUSTED` (unary calls: the caller backs off).
    FailFast,
    /// Wait for a slot (stream items: a batch queues).
    Queue,
}

#[tonic::async_trait]
impl pb::id_forensics_server::IdForensics for IdForensicsService {
    async fn analyze(
        &self,
        request: Request<pb::AnalyzeRequest>,
    ) -> Result<Response<pb::AnalyzeResponse>, Status> {
        let report = match self.caller(&request, Role::Analyze) {
            Ok(caller) => self.analyze_one(request.into_inner(), &caller, SlotWait::FailFast).await,
            Err(refused) => Err(refused),
        };
        let report = self.observed("Analyze", report)?;
        Ok(Response::new(convert::analyze_response(report)))
    }

    type AnalyzeStreamStream =
        std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::AnalyzeStreamResponse, Status>> + Send>>;

    /// One response per request, in request order. At most as many items of a stream as there are
    /// cores are read and analysed at once: a slow reader or a busy server stops the reading of
    /// further requests (HTTP/2 flow control does the rest), so memory stays bounded. An item that
    /// fails carries its error; a broken transport ends the stream.
    async fn analyze_stream(
        &self,
        request: Request<Streaming<pb::AnalyzeRequest>>,
    ) -> Result<Response<Self::AnalyzeStreamStream>, Status> {
        use futures_util::StreamExt as _;
        let caller = self.caller(&request, Role::Analyze);
        let caller = Arc::new(self.observed("AnalyzeStream", caller)?);
        let service = self.clone();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let parallelism = self.max_in_flight.min(cores).max(1);
        let responses = request
            .into_inner()
            .enumerate()
            .map(move |(sequence, item)| {
                let service = service.clone();
                let caller = Arc::clone(&caller);
                async move {
                    let item = item?;
                    let document_id = item.document_id.clone();
                    let analysed = service.analyze_one(item, &caller, SlotWait::Queue).await;
                    service.count("AnalyzeStream", &analysed);
                    let result = match analysed {
                        Ok(report) => {
                            pb::analyze_stream_response::Result::Response(convert::analyze_response(report))
                        }
                        Err(error) => pb::analyze_stream_response::Result::Error(pb::ItemError {
                            reason: error.reason().to_owned(),
                            message: error.to_string(),
                        }),
                    };
                    Ok(pb::AnalyzeStreamResponse {
                        sequence: sequence as u64,
                        document_id,
                        result: Some(result),
                    })
                }
            })
            .buffered(parallelism);
        Ok(Response::new(Box::pin(responses)))
    }

    async fn find_matches(
        &self,
        request: Request<pb::FindMatchesRequest>,
    ) -> Result<Response<pb::FindMatchesResponse>, Status> {
        let found = async {
            let actor = self.caller(&request, Role::Analyze)?.name;
            let request = request.into_inner();
            let account_id = AccountId::optional(request.account_id)?;
            let image = request.image;
            self.run(SlotWait::FailFast, move |engine| {
                let report = engine.find_matches(&image, account_id.as_ref())?;
                let account = account_id.as_ref().map(AccountId::as_str);
                let outcome = format!("matches={}", report.matches.len());
                engine.audit(&AuditEntry::now(&actor, AuditAction::FindMatches, account, None, outcome))?;
                Ok(report)
            })
            .await
        };
        let report = self.observed("FindMatches", found.await)?;
        Ok(Response::new(convert::find_matches_response(report)))
    }

    async fn forget_account(
        &self,
        request: Request<pb::ForgetAccountRequest>,
    ) -> Result<Response<pb::ForgetAccountResponse>, Status> {
        let forgotten = async {
            let caller = self.caller(&request, Role::Admin)?;
            self.forget_account_as(&caller, request.into_inner().account_id).await
        };
        let erased = self.observed("ForgetAccount", forgotten.await)?;
        tracing::info!(documents_erased = erased, "account forgotten");
        Ok(Response::new(pb::ForgetAccountResponse { documents_erased: erased }))
    }

    async fn get_account_links(
        &self,
        request: Request<pb::GetAccountLinksRequest>,
    ) -> Result<Response<pb::GetAccountLinksResponse>, Status> {
        let linked = async {
            let caller = self.caller(&request, Role::Review)?;
            let account_id = AccountId::optional(request.into_inner().account_id)?;
            self.account_links_as(&caller, account_id).await
        };
        let clusters = self.observed("GetAccountLinks", linked.await)?;
        Ok(Response::new(convert::account_links_response(clusters)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::DecodeLimits;
    use crate::engine::Models;

    #[test]
    fn calls_beyond_the_limit_are_refused_not_queued() {
        let engine = Arc::new(Engine::new(DecodeLimits::default(), Models::embedded()));
        let service = IdForensicsService::new(engine, 1, Arc::default(), Arc::default());
        let held = service.slot().unwrap();
        let refused = service.slot().unwrap_err();
        assert_eq!(refused.code_and_reason(), (tonic::Code::ResourceExhausted, "server.overloaded"));
        drop(held);
        assert!(service.slot().is_ok(), "a released slot is reusable");
    }
}
