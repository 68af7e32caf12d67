//! What the service counts, for Prometheus (`GET /metrics` on the HTTP listener). Every name starts
//! with `idforensics_`; labels carry method names, status codes, decisions, reason codes and stage
//! names, never ids, hashes or image data.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::domain::report::Report;
use crate::engine::Engine;

/// The service's metrics and the registry that renders them.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    decisions: IntCounterVec,
    findings: IntCounterVec,
    stages: HistogramVec,
    in_flight: IntGauge,
    refused: IntCounter,
    store_errors: IntCounter,
    indexed_documents: IntGauge,
    index_bytes: IntGauge,
    applied_sequence: IntGauge,
    catch_up_lag: Gauge,
}

impl Metrics {
    /// A fresh set, registered.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
            registry.register(Box::new(metric.clone())).expect("a new name");
            metric
        };
        let gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("a valid metric");
            registry.register(Box::new(metric.clone())).expect("a new name");
            metric
        };
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("a valid metric");
            registry.register(Box::new(metric.clone())).expect("a new name");
            metric
        };
        let stages = HistogramVec::new(
            HistogramOpts::new("idforensics_stage_duration_seconds", "Time spent in each analysis stage")
                .buckets(vec![
                    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ]),
            &["stage"],
        )
        .expect("a valid metric");
        registry.register(Box::new(stages.clone())).expect("a new name");
        let catch_up_lag = Gauge::new(
            "idforensics_replica_catch_up_lag_seconds",
            "How long after its registration (on any replica) the last registration was applied to this \
             replica's index",
        )
        .expect("a valid metric");
        registry.register(Box::new(catch_up_lag.clone())).expect("a new name");
        Metrics {
            requests: counter_vec(
                "idforensics_requests_total",
                "Calls by method and gRPC status code",
                &["method", "code"],
            ),
            decisions: counter_vec("idforensics_decisions_total", "Analyses by decision", &["decision"]),
            findings: counter_vec("idforensics_findings_total", "Findings by reason code", &["code"]),
            stages,
            in_flight: gauge("idforensics_analyses_in_flight", "Analyses running now"),
            refused: counter(
                "idforensics_analyses_refused_total",
                "Calls refused with RESOURCE_EXHAUSTED because every analysis slot was busy",
            ),
            store_errors: counter("idforensics_store_errors_total", "Calls that failed on the store"),
            indexed_documents: gauge("idforensics_indexed_documents", "Documents in the in-memory index"),
            index_bytes: gauge(
                "idforensics_index_bytes",
                "Bytes the in-memory index holds (hash tables and document table)",
            ),
            applied_sequence: gauge(
                "idforensics_replica_applied_sequence",
                "The store's last change (registration or erasure) applied to this replica's index",
            ),
            catch_up_lag,
            registry,
        }
    }

    /// One finished call of `method` with status `code` (tonic's names: `Ok`, `InvalidArgument`…).
    pub fn observe_call(&self, method: &str, code: tonic::Code, store_failed: bool) {
        self.requests.with_label_values(&[method, &format!("{code:?}")]).inc();
        if code == tonic::Code::ResourceExhausted {
            self.refused.inc();
        }
        if store_failed {
            self.store_errors.inc();
        }
    }

    /// One analysis: its decision, findings and stage timings.
    pub fn observe_report(&self, report: &Report) {
        self.decisions.with_label_values(&[report.decision.as_str()]).inc();
        for finding in &report.findings {
            self.findings.with_label_values(&[finding.finding.code.as_str()]).inc();
        }
        for timing in &report.timings {
            self.stages.with_label_values(&[timing.stage.as_str()]).observe(timing.micros as f64 / 1e6);
        }
    }

    /// Counts an analysis as running until the returned guard is dropped.
    pub fn running(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The Prometheus text exposition, with the index's size read from `engine` now.
    pub fn render(&self, engine: &Engine) -> String {
        self.indexed_documents.set(engine.indexed_documents() as i64);
        self.index_bytes.set(engine.index_heap_bytes() as i64);
        let (applied, lag) = engine.follow_position();
        self.applied_sequence.set(applied);
        self.catch_up_lag.set(lag.as_secs_f64());
        let mut out = Vec::new();
        // Encoding into a Vec fails only on a metric family without metrics, which the registry
        // never gathers.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// An analysis counted as running; dropping it ends the count.
#[derive(Debug)]
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
