//! The analysis pipeline every front end shares: decode once, fingerprint, match, decide, register.
//!
//! Synchronous and free of any RPC type: the gRPC service runs it on the blocking pool, the CLI calls
//! it directly.

pub mod calibration;
mod follow;
mod matching;

use std::sync::RwLock;
use std::time::Instant;

use crate::analysis::decode::planes::{WorkingPlanes, working_planes};
use crate::analysis::decode::{DecodeError, DecodeLimits, DecodedDocument, decode};
use crate::analysis::fingerprint::document::{DocumentLocation, DocumentPrint};
use crate::analysis::fingerprint::{ExactFingerprints, Fingerprints};
use crate::analysis::mrz::{MrzModels, assess_mrz};
use crate::analysis::quality::{QualityThresholds, assess_quality};
use crate::analysis::reuse;
use crate::analysis::reuse::document_number::{DocumentNumberKey, DocumentNumberSecret};
use crate::analysis::reuse::perceptual::ReuseModel;
use crate::analysis::reuse::verify::keypoints_to_verify;
use crate::analysis::tamper::content_credentials::{
    CredentialModels, assess_content_credentials, merge_findings,
};
use crate::analysis::tamper::{TamperModels, TamperReport, assess_tamper};
use crate::domain::audit::AuditEntry;
use crate::domain::findings::Finding;
use crate::domain::ids::{AccountId, DocumentId, IdError};
use crate::domain::links::{self, AccountCluster, AccountDocument};
use crate::domain::policy::Policy;
use crate::domain::report::{
    DocumentOutline, MatchReport, Measurements, Registration, Report, StageTiming, TamperMeasurements,
};
use crate::storage::{NewRegistration, Store, StoreError};
use follow::{CATCH_UP_PAGE, FollowedIndex};

/// Most matches returned for one upload; the findings still count every account.
pub const MAX_MATCHES: usize = 100;

/// Long side of evidence images: enough to see where, small enough for a default gRPC client.
pub const EVIDENCE_IMAGE_SIDE: u32 = 640;

/// One upload to analyse.
#[derive(Debug, Clone, Copy)]
pub struct AnalyzeRequest<'a> {
    /// The file as uploaded.
    pub image: &'a [u8],
    /// The uploading account: its own documents are not matches. Required to register.
    pub account_id: Option<&'a AccountId>,
    /// The caller's document id. Required to register.
    pub document_id: Option<&'a DocumentId>,
    /// Store the fingerprints so later uploads can match them.
    pub register: bool,
    /// Render the local anomaly maps as PNG heatmaps for a reviewer.
    pub include_evidence_images: bool,
}

impl<'a> AnalyzeRequest<'a> {
    /// An upload analysed and matched, not registered, without evidence images.
    pub fn unregistered(image: &'a [u8]) -> Self {
        AnalyzeRequest {
            image,
            account_id: None,
            document_id: None,
            register: false,
            include_evidence_images: false,
        }
    }

    /// An upload registered for `account_id` as `document_id`, without evidence images.
    pub fn registering(image: &'a [u8], account_id: &'a AccountId, document_id: &'a DocumentId) -> Self {
        AnalyzeRequest {
            image,
            account_id: Some(account_id),
            document_id: Some(document_id),
            register: true,
            include_evidence_images: false,
        }
    }
}

/// Why an upload could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The request itself is incomplete.
    #[error(transparent)]
    Request(#[from] IdError),
    /// Registration asked of an engine without a store (CLI without `--data-dir`).
    #[error("registration needs a data directory")]
    NoStore,
    /// The image could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AnalyzeError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AnalyzeError::Request(error) => error.reason(),
            AnalyzeError::NoStore => "request.no_store",
            AnalyzeError::Decode(error) => error.reason(),
            AnalyzeError::Store(error) => error.reason(),
        }
    }
}

/// The analysis engine: limits, analyser models, policy and (optionally) the store.
#[derive(Debug)]
pub struct Engine {
    limits: DecodeLimits,
    models: Models,
    store: Option<Box<dyn Store>>,
    index: RwLock<FollowedIndex>,
    /// What keys document numbers; without it they are neither stored nor matched.
    document_number_secret: Option<DocumentNumberSecret>,
}

/// What the analysers and the policy load from `models/`.
#[derive(Debug, Clone)]
pub struct Models {
    /// Decision policy.
    pub policy: Policy,
    /// Quality-gate thresholds.
    pub quality: QualityThresholds,
    /// Tamper signatures and thresholds.
    pub tamper: TamperModels,
    /// Zone layout and match thresholds for perceptual reuse.
    pub reuse: ReuseModel,
    /// The machine-readable zone's reader: OCR-B templates and thresholds.
    pub mrz: MrzModels,
    /// Which Content Credentials results and actions are evidence.
    pub credentials: CredentialModels,
}

/// A models folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// The policy file is invalid.
    #[error(transparent)]
    Policy(#[from] crate::domain::policy::PolicyError),
    /// The quality thresholds are invalid.
    #[error(transparent)]
    Quality(#[from] crate::analysis::quality::QualityConfigError),
    /// The tamper models are invalid.
    #[error(transparent)]
    Tamper(#[from] crate::analysis::tamper::TamperConfigError),
    /// The reuse model is invalid.
    #[error(transparent)]
    Reuse(#[from] crate::analysis::reuse::perceptual::ReuseModelError),
    /// The MRZ models are invalid.
    #[error(transparent)]
    Mrz(#[from] crate::analysis::mrz::MrzConfigError),
    /// The Content Credentials model is invalid.
    #[error(transparent)]
    Credentials(#[from] crate::analysis::tamper::content_credentials::CredentialModelsError),
}

impl Models {
    /// The models shipped in `models/` (compiled in).
    pub fn embedded() -> Self {
        Models {
            policy: Policy::embedded(),
            quality: QualityThresholds::embedded(),
            tamper: TamperModels::embedded(),
            reuse: ReuseModel::embedded(),
            mrz: MrzModels::embedded(),
            credentials: CredentialModels::embedded(),
        }
    }

    /// The tamper analysis of a decoded upload on its own, and the outline of the document located
    /// as the fingerprints locate it (what the portrait check reads): for calibration and the
    /// evaluation, which need no other analyser.
    pub fn tamper_and_outline(&self, document: &DecodedDocument) -> (TamperReport, DocumentOutline) {
        let planes = working_planes(&document.rgb, self.quality.working_long_side);
        let report = assess_tamper(document, &planes, &self.tamper);
        (report, DocumentLocation::find(&planes, &self.reuse.layout).image_outline(planes.factor))
    }

    /// `tamper.portrait_anomaly` when one of the local `findings` lies on the portrait zone of
    /// `outline` (the document located by the fingerprints).
    pub fn portrait_finding(&self, findings: &[Finding], outline: &DocumentOutline) -> Option<Finding> {
        crate::analysis::tamper::portrait::portrait_finding(
            findings,
            outline,
            self.reuse.layout.portrait,
            self.tamper.thresholds.local.portrait_min_overlap,
        )
    }

    /// Tuned copies from `dir` (`policy.toml`, `quality.toml`, `editors.toml`, `tamper.toml`,
    /// `reuse.toml`, `mrz.toml`, `mrz_glyphs.toml`, `content_credentials.toml`); a file absent there
    /// is the shipped one.
    pub fn load(dir: &std::path::Path) -> Result<Self, ModelsError> {
        let mut models = Models::embedded();
        let policy = dir.join("policy.toml");
        if policy.is_file() {
            models.policy = Policy::load(&policy)?;
        }
        let quality = dir.join("quality.toml");
        if quality.is_file() {
            models.quality = QualityThresholds::load(&quality)?;
        }
        models.tamper = TamperModels::load(dir)?;
        models.mrz = MrzModels::load(dir)?;
        models.credentials = CredentialModels::load(dir)?;
        let reuse = dir.join("reuse.toml");
        if reuse.is_file() {
            models.reuse = ReuseModel::load(&reuse)?;
        }
        Ok(models)
    }
}

/// Collects stage timings.
struct Stopwatch {
    started: Instant,
    timings: Vec<StageTiming>,
}

impl Stopwatch {
    fn new() -> Self {
        Stopwatch { started: Instant::now(), timings: Vec::new() }
    }

    /// Records `elapsed` under `stage`, a span across laps.
    fn record(&mut self, stage: &'static str, elapsed: std::time::Duration) {
        self.timings.push(StageTiming { stage: stage.to_owned(), micros: elapsed.as_micros() as u64 });
    }

    /// Records the time since the previous lap under `stage`.
    fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.timings
            .push(StageTiming { stage: stage.to_owned(), micros: (now - self.started).as_micros() as u64 });
        self.started = now;
    }
}

impl Engine {
    /// An engine without a store: it analyses but neither matches nor registers.
    pub fn new(limits: DecodeLimits, models: Models) -> Self {
        Engine {
            limits,
            models,
            store: None,
            index: RwLock::new(FollowedIndex::default()),
            document_number_secret: None,
        }
    }

    /// An engine on a store, its perceptual index loaded from the stored zone hashes.
    pub fn with_store(
        limits: DecodeLimits,
        models: Models,
        store: Box<dyn Store>,
    ) -> Result<Self, StoreError> {
        let index = FollowedIndex::load(store.as_ref())?;
        Ok(Engine {
            limits,
            models,
            store: Some(store),
            index: RwLock::new(index),
            document_number_secret: None,
        })
    }

    /// The engine keying document numbers with `secret` (stored and matched as
    /// `reuse.same_document_number`), or with none. The store records which secret keyed its numbers
    /// and refuses another, or none once one is recorded ([`StoreError::SecretMismatch`]).
    pub fn with_document_number_secret(
        mut self,
        secret: Option<DocumentNumberSecret>,
    ) -> Result<Self, StoreError> {
        if let Some(store) = self.store.as_deref() {
            store.claim_document_number_secret(secret.as_ref().map(DocumentNumberSecret::id))?;
        }
        self.document_number_secret = secret;
        Ok(self)
    }

    /// Documents in the perceptual index.
    pub fn indexed_documents(&self) -> usize {
        self.read_index().index.len()
    }

    /// Bytes the perceptual index holds (hash tables and document table; not the id strings).
    pub fn index_heap_bytes(&self) -> usize {
        self.read_index().index.heap_bytes()
    }

    /// How far the index has followed the store's change sequence: the last change applied, and how
    /// long after its registration the last registration from catching up was applied.
    pub fn follow_position(&self) -> (i64, std::time::Duration) {
        let followed = self.read_index();
        (followed.applied, std::time::Duration::from_millis(followed.last_lag_ms as u64))
    }

    /// Applies the changes the store has committed since the index last caught up (registrations
    /// and erasures of other replicas, or of this one). Every search catches up first; a replica's
    /// follower calls it when woken, so searches find little to apply.
    pub fn catch_up(&self) -> Result<(), StoreError> {
        let Some(store) = self.store.as_deref() else {
            return Ok(());
        };
        loop {
            let after = self.read_index().applied;
            let page = store.changes_since(after, CATCH_UP_PAGE)?;
            if page.erasures_dropped {
                // Behind the erasures still on record: only a fresh load forgets what they erased.
                let loaded = FollowedIndex::load(store)?;
                let mut followed = self.write_index();
                if followed.applied < loaded.applied {
                    *followed = loaded;
                }
                return Ok(());
            }
            let full = page.changes.len() == CATCH_UP_PAGE;
            if !page.changes.is_empty() {
                self.write_index().apply(page.changes);
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Waits up to `timeout` for another process's write, then catches up: what a replica's follower
    /// runs in a loop.
    pub fn follow(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        if let Some(store) = &self.store {
            store.wait_for_changes(timeout)?;
        }
        self.catch_up()
    }

    /// Catches up after this engine's own write, which is committed whatever happens here: a
    /// failure is logged and the next search catches up instead.
    fn catch_up_after_write(&self) {
        if let Err(error) = self.catch_up() {
            tracing::warn!(%error, "catching up after a write failed; the next search will");
        }
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, FollowedIndex> {
        // Index updates do not panic half-way (insert and remove only push and swap), so a poisoned
        // lock still guards a consistent index.
        self.index.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, FollowedIndex> {
        self.index.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Analyses one upload and registers it when asked.
    pub fn analyze(&self, request: AnalyzeRequest<'_>) -> Result<Report, AnalyzeError> {
        let registration_target = if request.register {
            let account = request.account_id.ok_or(IdError::Missing { field: "account_id" })?;
            let document = request.document_id.ok_or(IdError::Missing { field: "document_id" })?;
            Some((self.store.as_deref().ok_or(AnalyzeError::NoStore)?, account, document))
        } else {
            None
        };

        let mut stopwatch = Stopwatch::new();
        let document = decode(request.image, &self.limits)?;
        stopwatch.lap("decode");
        let planes = working_planes(&document.rgb, self.models.quality.working_long_side);
        stopwatch.lap("planes");
        let location = DocumentLocation::find(&planes, &self.models.reuse.layout);
        stopwatch.lap("locate");
        let quality = assess_quality(&document, &planes, location.outline(), &self.models.quality);
        stopwatch.lap("quality");
        let mut tamper = assess_tamper(&document, &planes, &self.models.tamper);
        let credentials = assess_content_credentials(
            request.image,
            &document,
            &self.models.credentials,
            &self.models.tamper.generators,
        );
        tamper.metrics.extend(credentials.metrics);
        merge_findings(&mut tamper.findings, credentials.findings);
        tamper.inconclusive.extend(credentials.inconclusive);
        stopwatch.lap("tamper");
        let mrz = assess_mrz(&document.rgb, &planes, location.outline(), &self.models.mrz);
        let document_number = mrz
            .reading
            .as_ref()
            .zip(self.document_number_secret.as_ref())
            .and_then(|(reading, secret)| DocumentNumberKey::of(reading, secret));
        // The zone's evidence is tamper evidence: its metrics, findings and doubts join the tamper
        // analysis's.
        tamper.metrics.extend(mrz.metrics);
        tamper.findings.extend(mrz.findings);
        tamper.inconclusive.extend(mrz.inconclusive);
        stopwatch.lap("mrz");
        let evidence_images = if request.include_evidence_images {
            let images = tamper.heatmaps(&planes.luma, planes.factor, EVIDENCE_IMAGE_SIDE);
            stopwatch.lap("evidence_images");
            images
        } else {
            Vec::new()
        };
        let fingerprints = Fingerprints::compute(
            request.image,
            &document,
            &planes,
            &self.reuse_location(&planes, location),
            &self.models.reuse.layout,
        );
        stopwatch.lap("fingerprint");
        let outline = fingerprints.document.outline(planes.factor);
        tamper.findings.extend(self.models.portrait_finding(&tamper.findings, &outline));
        let found = self.find(
            &fingerprints.exact,
            document_number.as_ref(),
            &fingerprints.document,
            request.account_id,
        )?;
        let crop_print = registration_target.is_some().then(|| {
            let reused = found.reuses_the_document();
            self.read_index().index.crop_print_to_store(&fingerprints.document, &self.models.reuse, reused)
        });
        stopwatch.lap("match");
        // Analyses and their matching run in parallel; a registration's look at what was written
        // meanwhile and its insert run one at a time (on every replica of a shared store).
        let (matches, slot) = match registration_target {
            Some((store, ..)) => {
                let slot = store.begin_registration()?;
                stopwatch.lap("wait_for_registration_slot");
                let serialised_from = Instant::now();
                let found = self.refresh(
                    found,
                    &fingerprints.exact,
                    document_number.as_ref(),
                    &fingerprints.document,
                    request.account_id,
                )?;
                stopwatch.lap("match_since");
                (found.into_matches(), Some((slot, serialised_from)))
            }
            None => (found.into_matches(), None),
        };

        let mut findings = quality.findings;
        findings.extend(tamper.findings);
        findings.extend(reuse::reuse_findings(&matches));
        let assessment = self.models.policy.assess(findings);
        stopwatch.lap("policy");

        let registration = match registration_target.zip(slot) {
            Some(((_, account_id, document_id), (slot, serialised_from))) => {
                let outcome = slot.register(&NewRegistration {
                    account_id,
                    document_id,
                    fingerprints: &fingerprints.exact,
                    document_number: document_number.as_ref(),
                    decision: assessment.decision,
                    risk_score: assessment.risk_score,
                    reason_codes: assessment.findings.iter().map(|f| f.finding.code.as_str()).collect(),
                    policy_version: self.models.policy.version(),
                    zone_hashes: Some(&fingerprints.document.upright),
                    crop_print: crop_print.as_ref(),
                    verification_keypoints: Some(&keypoints_to_verify(
                        &fingerprints.document,
                        &self.models.reuse.layout,
                        &self.models.reuse.verification,
                    )),
                    links: matches
                        .iter()
                        .filter(|m| reuse::is_perceptual(m.kind))
                        .map(|m| (&m.account_id, &m.document_id, m.kind, m.distance.unwrap_or(0)))
                        .collect(),
                })?;
                let serialised = serialised_from.elapsed();
                stopwatch.lap("store");
                stopwatch.record("serialised", serialised);
                if !outcome.replayed {
                    self.catch_up_after_write();
                }
                Some(Registration {
                    replayed: outcome.replayed,
                    registered_at_unix_ms: outcome.registered_at_ms,
                })
            }
            None => None,
        };

        Ok(Report {
            document_id: request.document_id.cloned(),
            decision: assessment.decision,
            risk_score: assessment.risk_score,
            findings: assessment.findings,
            matches,
            document: outline,
            fingerprints: fingerprints.reported(),
            image: document.info(),
            quality: Measurements { metrics: quality.metrics },
            tamper: TamperMeasurements { metrics: tamper.metrics, inconclusive: tamper.inconclusive },
            evidence_images,
            registration,
            timings: stopwatch.timings,
            policy_version: self.models.policy.version().to_owned(),
        })
    }

    /// Searches for other accounts' documents matching an image, without registering it.
    pub fn find_matches(
        &self,
        image: &[u8],
        account_id: Option<&AccountId>,
    ) -> Result<MatchReport, AnalyzeError> {
        let document = decode(image, &self.limits)?;
        let planes = working_planes(&document.rgb, self.models.quality.working_long_side);
        // Only what matching reads: the global PDQ is reported by Analyze, never matched on.
        let exact = ExactFingerprints::compute(image, &document);
        let location = DocumentLocation::find(&planes, &self.models.reuse.layout);
        let print =
            DocumentPrint::at(&planes, &self.reuse_location(&planes, location), &self.models.reuse.layout);
        // Matched on the image only: reading the machine-readable zone for a document number would
        // cost an analysis.
        let matches = self.find(&exact, None, &print, account_id)?.into_matches();
        Ok(MatchReport { matches, fingerprints: exact.digests() })
    }

    /// Erases an account's registrations and links; returns how many registrations were erased.
    pub fn forget_account(&self, account_id: &AccountId) -> Result<u64, AnalyzeError> {
        let store = self.store.as_deref().ok_or(AnalyzeError::NoStore)?;
        let erased = store.forget_account(account_id)?;
        self.catch_up_after_write();
        Ok(erased)
    }

    /// The models it analyses with.
    pub fn models(&self) -> &Models {
        &self.models
    }

    /// An account's registered documents, oldest first.
    pub fn account_documents(&self, account_id: &AccountId) -> Result<Vec<AccountDocument>, AnalyzeError> {
        let store = self.store.as_deref().ok_or(AnalyzeError::NoStore)?;
        Ok(store.account_documents(account_id)?)
    }

    /// Appends an entry to the store's audit log (nothing when there is no store).
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), AnalyzeError> {
        match self.store.as_deref() {
            Some(store) => Ok(store.append_audit(entry)?),
            None => Ok(()),
        }
    }

    /// Audit entries after position `after`, oldest first, at most `limit`.
    pub fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<(i64, AuditEntry)>, AnalyzeError> {
        let store = self.store.as_deref().ok_or(AnalyzeError::NoStore)?;
        Ok(store.audit_entries(after, limit)?)
    }

    /// Clusters of accounts linked through shared documents: every cluster of two or more accounts,
    /// or only the one containing `account_id` (none if it shares nothing).
    pub fn account_links(&self, account_id: Option<&AccountId>) -> Result<Vec<AccountCluster>, AnalyzeError> {
        let store = self.store.as_ref().ok_or(AnalyzeError::NoStore)?;
        let mut all_links = reuse::exact_links(store.exact_links()?);
        all_links.extend(reuse::perceptual_links(store.perceptual_links()?));
        let all = links::clusters(all_links);
        Ok(match account_id {
            Some(account) => {
                all.into_iter().filter(|cluster| cluster.account_ids.contains(account)).collect()
            }
            None => all,
        })
    }

    /// Where reuse reads the document: as located, or when no outline was found, on a known
    /// layout's card fitted from keypoints (`reuse::layout_fit`).
    fn reuse_location(&self, planes: &WorkingPlanes, location: DocumentLocation) -> DocumentLocation {
        self.read_index()
            .index
            .refit_on_known_layout(planes, &location, &self.models.reuse)
            .unwrap_or(location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::findings::ReasonCode;
    use crate::domain::ids::{AccountId, DocumentId};
    use crate::storage::sqlite::SqliteStore;

    /// Six accounts register one file at the same moment: each registration must see every one
    /// stored before it, so the match counts are 0, 1, …, 5 and the accounts form one ring. Without
    /// the registration lock two of them can search before either is stored and both miss.
    #[test]
    fn concurrent_registrations_of_one_file_each_see_the_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Box::new(SqliteStore::open(dir.path()).unwrap());
        let engine = Engine::with_store(DecodeLimits::default(), Models::embedded(), store).unwrap();
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/camera-sony-cybershot.jpg"))
            .unwrap();
        let barrier = std::sync::Barrier::new(6);
        let mut counts: Vec<usize> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|n| {
                    let (engine, bytes, barrier) = (&engine, &bytes, &barrier);
                    scope.spawn(move || {
                        let account = AccountId::new(format!("account-{n}")).unwrap();
                        let document = DocumentId::new("licence").unwrap();
                        barrier.wait();
                        let request = AnalyzeRequest::registering(bytes, &account, &document);
                        engine.analyze(request).unwrap().matches.len()
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        counts.sort_unstable();
        assert_eq!(counts, vec![0, 1, 2, 3, 4, 5]);
    }

    /// An unregistered query's matches (account, kind), the first one's `framing` evidence, and
    /// whether the document was located.
    fn matches_of(engine: &Engine, image: &[u8]) -> (Vec<(String, ReasonCode)>, Option<String>, bool) {
        let request = AnalyzeRequest::unregistered(image);
        let report = engine.analyze(request).unwrap();
        let framing =
            report.matches.first().and_then(|m| m.evidence.iter().find(|e| e.name == "framing")).map(|e| {
                match &e.value {
                    crate::domain::findings::EvidenceValue::Text(text) => text.clone(),
                    other => format!("{other:?}"),
                }
            });
        let found = report.matches.iter().map(|m| (m.account_id.as_str().to_owned(), m.kind)).collect();
        (found, framing, report.document.located)
    }

    /// A crop of a registered card (here 9 % off the left and top, 4 % off the right and bottom) is
    /// found through the keypoints stored for its layout, also after the index is rebuilt from the
    /// store; another holder's card of the same template is not.
    #[test]
    fn a_cropped_capture_is_found_after_a_restart() {
        use crate::eval::synthetic::capture::encode_jpeg;
        use crate::eval::synthetic::cards::{CARD_HEIGHT, CARD_WIDTH, Template};
        use rand::SeedableRng;

        let template = Template::new(0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let (holder, stranger) = (template.holder(&mut rng), template.holder(&mut rng));
        let card = template.render(&holder);
        let dir = tempfile::tempdir().unwrap();
        let register = |engine: &Engine, account: &str, image: &[u8]| {
            let account = AccountId::new(account).unwrap();
            let document = DocumentId::new("licence").unwrap();
            let request = AnalyzeRequest::registering(image, &account, &document);
            engine.analyze(request).unwrap();
        };
        {
            let engine = Engine::with_store(
                DecodeLimits::default(),
                Models::embedded(),
                Box::new(SqliteStore::open(dir.path()).unwrap()),
            )
            .unwrap();
            register(&engine, "first-holder", &encode_jpeg(&card, 92));
            register(&engine, "second-holder", &encode_jpeg(&template.render(&stranger), 92));
        }
        let engine = Engine::with_store(
            DecodeLimits::default(),
            Models::embedded(),
            Box::new(SqliteStore::open(dir.path()).unwrap()),
        )
        .unwrap();
        let (left, top) = (CARD_WIDTH * 9 / 100, CARD_HEIGHT * 9 / 100);
        let (width, height) = (CARD_WIDTH * 87 / 100, CARD_HEIGHT * 87 / 100);
        let cropped = image::imageops::crop_imm(&card, left, top, width, height).to_image();
        let (found, framing, _) = matches_of(&engine, &encode_jpeg(&cropped, 90));
        assert_eq!(found, [("first-holder".to_owned(), ReasonCode::ReuseSameDocument)]);
        assert_eq!(framing.as_deref(), Some("crop_fitted_from_keypoints"));
    }

    #[test]
    fn a_scan_the_locator_cannot_outline_is_framed_on_its_known_layout_and_found() {
        use crate::eval::synthetic::capture::{CaptureSettings, Device, capture, encode_jpeg};
        use crate::eval::synthetic::cards::Template;
        use rand::SeedableRng;

        let template = Template::new(1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(916);
        let cards: Vec<_> = (0..3).map(|_| template.render(&template.holder(&mut rng))).collect();
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::with_store(
            DecodeLimits::default(),
            Models::embedded(),
            Box::new(SqliteStore::open(dir.path()).unwrap()),
        )
        .unwrap();
        for (number, card) in cards.iter().enumerate() {
            let (account, document) =
                (AccountId::new(format!("holder-{number}")).unwrap(), DocumentId::new("licence").unwrap());
            let request = AnalyzeRequest {
                image: &encode_jpeg(card, 92),
                account_id: Some(&account),
                document_id: Some(&document),
                register: true,
                include_evidence_images: false,
            };
            engine.analyze(request).unwrap();
        }
        // The last holder's card scanned on a white bed: pale on pale, no outline to find.
        let scanned = capture(&cards[2], &CaptureSettings::draw(Device::Scanner, &mut rng), &mut rng);
        let (found, framing, located) = matches_of(&engine, &scanned.jpeg);
        assert_eq!(found, [("holder-2".to_owned(), ReasonCode::ReuseSameDocument)]);
        assert_eq!(framing.as_deref(), Some("layout_fitted_from_keypoints"));
        assert!(located, "the fitted outline is the document's");
        // Without the fit, the scan read as its frame finds no one.
        drop(engine);
        let mut models = Models::embedded();
        models.reuse.layout_fit = None;
        let unfitted = Engine::with_store(
            DecodeLimits::default(),
            models,
            Box::new(SqliteStore::open(dir.path()).unwrap()),
        )
        .unwrap();
        assert_eq!(matches_of(&unfitted, &scanned.jpeg).0, []);
    }

    #[test]
    fn a_card_whose_portrait_was_swapped_goes_to_review_where_it_lies_and_its_original_does_not() {
        use crate::domain::policy::Decision;
        use crate::eval::synthetic::capture::add_noise;
        use crate::eval::synthetic::capture::encode_jpeg;
        use rand::SeedableRng;

        let (captured, edited, mask) = crate::eval::synthetic::fixtures::captured_card_and_portrait_swap();
        // The card as scanned, and photographed on a noisy grey table 150 px in and 100 px down.
        let mut table = image::RgbImage::from_pixel(
            edited.width() + 300,
            edited.height() + 200,
            image::Rgb([70, 74, 80]),
        );
        add_noise(&mut table, 3.0, &mut rand::rngs::StdRng::seed_from_u64(8));
        let on_table = |card: &image::RgbImage| {
            let mut photo = table.clone();
            image::imageops::replace(&mut photo, card, 150, 100);
            photo
        };
        // At the thresholds of a deployment whose uploads are as clean as this digital fixture: on
        // captures (the shipped thresholds) a noise level this far from the card's is common.
        let mut models = Models::embedded();
        models.tamper.thresholds.local.anomaly_scores =
            crate::eval::synthetic::fixtures::render_evaluation_scores();
        let engine = Engine::new(DecodeLimits::default(), models);
        let analyse = |image: &image::RgbImage| {
            let bytes = encode_jpeg(image, 90);
            let request = AnalyzeRequest::unregistered(&bytes);
            engine.analyze(request).unwrap()
        };
        for (offset, edited, original) in
            [((0, 0), edited.clone(), captured.clone()), ((150, 100), on_table(&edited), on_table(&captured))]
        {
            let report = analyse(&edited);
            assert_eq!(report.document.located, offset != (0, 0), "on the table, the card is located");
            let finding =
                report.findings.iter().find(|f| f.finding.code == ReasonCode::TamperPortraitAnomaly);
            let finding = &finding.expect("a quiet region on the portrait").finding;
            assert!(report.decision >= Decision::Review, "{:?}", report.decision);
            let zone = &finding.regions[1];
            let (centre_x, centre_y) = (zone.x + zone.width / 2, zone.y + zone.height / 2);
            let inside = |at: u32, from: u32, length: u32| (from..from + length).contains(&at);
            assert!(
                inside(centre_x, mask.0 + offset.0, mask.2) && inside(centre_y, mask.1 + offset.1, mask.3),
                "zone {zone:?} against the portrait at {mask:?} + {offset:?} (document {:?})",
                report.document
            );
            let clean = analyse(&original);
            assert!(clean.findings.iter().all(|f| f.finding.code != ReasonCode::TamperPortraitAnomaly));
        }
    }
}
