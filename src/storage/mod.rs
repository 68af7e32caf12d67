//! The system of record: registrations, their fingerprints and decisions, stored durably. Images are
//! never stored.
//!
//! Two stores with one contract ([`Store`]): the embedded SQLite file (the zero-setup default, one
//! process) and PostgreSQL (several replicas sharing it). Every write gets the next number of one
//! change sequence, and writes are serialised, so the sequence orders them as they committed: a
//! replica keeps its in-memory index in step by applying the changes after the last one it applied
//! ([`Store::changes_since`]). Beside them, an audit log of who registered, looked up or erased what.

pub mod postgresql;
pub mod sqlite;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::analysis::fingerprint::ExactFingerprints;
use crate::analysis::fingerprint::document::{CropPrint, ZoneHashes};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::reuse::document_number::DocumentNumberKey;
use crate::analysis::reuse::perceptual::IndexedDocument;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::{AccountDocument, ExactHit, ExactLink, StoredLink};
use crate::domain::policy::Decision;

/// How long the record of an erasure is kept for replicas to apply it. A replica that has not caught
/// up for longer rebuilds its index from the store; after it, nothing of the account is left.
pub const ERASURE_RECORD_RETENTION: Duration = Duration::from_secs(3600);

/// Where the registrations live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite store in this data directory.
    Embedded(PathBuf),
    /// A PostgreSQL database (URL or key-value connection string).
    Postgres(String),
}

impl StoreLocation {
    /// Opens the store, migrating its schema; PostgreSQL with at most `connections` connections.
    pub fn open(&self, connections: u32) -> Result<Box<dyn Store>, StoreError> {
        Ok(match self {
            StoreLocation::Embedded(dir) => Box::new(sqlite::SqliteStore::open(dir)?),
            StoreLocation::Postgres(url) => {
                let options = postgresql::PostgresOptions { pool_size: connections, ..Default::default() };
                Box::new(postgresql::PostgresStore::connect(url, options)?)
            }
        })
    }
}

impl std::fmt::Display for StoreLocation {
    /// The data directory, or PostgreSQL's hosts and database without user or password.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Embedded(dir) => write!(formatter, "data directory {}", dir.display()),
            StoreLocation::Postgres(url) => match url.parse::<postgres::Config>() {
                Ok(config) => {
                    let hosts: Vec<String> = config
                        .get_hosts()
                        .iter()
                        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
                        .map(|(host, port)| match host {
                            postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                            postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
                        })
                        .collect();
                    write!(formatter, "postgresql {}/{}", hosts.join(","), config.get_dbname().unwrap_or(""))
                }
                Err(_) => write!(formatter, "postgresql (an invalid connection string)"),
            },
        }
    }
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database was written by a newer version of idforensics.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Version in the database.
        found: usize,
        /// Newest this build knows.
        supported: usize,
    },
    /// The account already registered another file under this document id.
    #[error("document_id {document_id} is already registered for this account with different content")]
    Conflict {
        /// The document id that was reused.
        document_id: DocumentId,
    },
    /// The store's document-number keys were made with another secret than this process's (or this
    /// process has none): they would never match.
    #[error(
        "the store's document numbers are keyed with another secret: give every process the same \
         document-number secret file"
    )]
    SecretMismatch,
    /// A stored value this build cannot read back.
    #[error("damaged store: {0}")]
    Damaged(&'static str),
    /// SQLite failed (disk full, I/O error, corrupt file).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed or could not be reached.
    #[error("postgresql: {0}")]
    Postgres(#[from] postgres::Error),
    /// No PostgreSQL connection could be had in time (the server is down or every connection busy).
    #[error("postgresql connection: {0}")]
    Connection(#[from] r2d2::Error),
}

impl StoreError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::Conflict { .. } => "registration.conflict",
            StoreError::Damaged(_) => "store.damaged",
            StoreError::SecretMismatch => "store.secret_mismatch",
            StoreError::CreateDir { .. }
            | StoreError::SchemaTooNew { .. }
            | StoreError::Sqlite(_)
            | StoreError::Postgres(_)
            | StoreError::Connection(_) => "store.unavailable",
        }
    }
}

/// What to register.
#[derive(Debug, Clone)]
pub struct NewRegistration<'a> {
    /// The account.
    pub account_id: &'a AccountId,
    /// The caller's document id.
    pub document_id: &'a DocumentId,
    /// Its fingerprints.
    pub fingerprints: &'a ExactFingerprints,
    /// The decision made on it.
    pub decision: Decision,
    /// The risk score given.
    pub risk_score: f64,
    /// The reason codes of its findings.
    pub reason_codes: Vec<&'static str>,
    /// The policy that decided.
    pub policy_version: &'a str,
    /// Zone hashes for perceptual matching.
    pub zone_hashes: Option<&'a ZoneHashes>,
    /// Inner-zone hashes and keypoints for finding crops.
    pub crop_print: Option<&'a CropPrint>,
    /// Keypoints that verify candidate matches against it.
    pub verification_keypoints: Option<&'a [Keypoint]>,
    /// The keyed hash of its document number, when its machine-readable zone was read and valid.
    pub document_number: Option<&'a DocumentNumberKey>,
    /// Perceptual reuse of earlier registrations found for it: (account, document, kind, distance).
    pub links: Vec<(&'a AccountId, &'a DocumentId, ReasonCode, u32)>,
}

/// How a registration went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterOutcome {
    /// An identical earlier request had already registered it; nothing was written.
    pub replayed: bool,
    /// When it was (first) registered, Unix ms.
    pub registered_at_ms: i64,
}

/// One write, as replicas apply it to their index.
// Pages of changes are transient and nearly all registrations: boxing them would only add an
// allocation per document loaded.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A document with zone hashes was registered.
    Registered(IndexedDocument),
    /// Every document of an account was erased.
    Erased(AccountId),
}

/// Changes in the order they committed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangePage {
    /// (sequence number, change), ascending.
    pub changes: Vec<(i64, Change)>,
    /// Records of erasures after the position asked for were already dropped
    /// ([`ERASURE_RECORD_RETENTION`]): an index at that position must be rebuilt from the start.
    pub erasures_dropped: bool,
}

/// The one serialised step of a registration, held from before its matches are searched until it is
/// stored: two uploads of one document registered at the same moment (on one replica or two) must
/// see each other, the second finding the first. Dropping it without registering releases it.
pub trait RegistrationSlot {
    /// Registers the document, durably, and releases the slot. Idempotent: the same account,
    /// document id and file again is a replay; the same ids with a different file is a
    /// [`StoreError::Conflict`].
    fn register(self: Box<Self>, registration: &NewRegistration<'_>) -> Result<RegisterOutcome, StoreError>;
}

/// The system of record, as the engine uses it.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Waits for the registration slot (see [`RegistrationSlot`]).
    fn begin_registration(&self) -> Result<Box<dyn RegistrationSlot + '_>, StoreError>;

    /// Records the id of the secret this process keys document numbers with
    /// ([`DocumentNumberSecret::id`](crate::analysis::reuse::document_number::DocumentNumberSecret::id)),
    /// or checks it against the one recorded: [`StoreError::SecretMismatch`] when they differ, or when
    /// one is recorded and the process has none.
    fn claim_document_number_secret(&self, secret_id: Option<[u8; 8]>) -> Result<(), StoreError>;

    /// Registered documents with the same file, the same pixels or the same document number, other
    /// than `exclude_account`'s, oldest first, at most `limit`.
    fn find_exact(
        &self,
        fingerprints: &ExactFingerprints,
        document_number: Option<&DocumentNumberKey>,
        exclude_account: Option<&AccountId>,
        limit: usize,
    ) -> Result<Vec<ExactHit>, StoreError>;

    /// Erases every registration of an account and every link to it, recording the erasure for
    /// replicas; returns how many registrations were erased.
    fn forget_account(&self, account_id: &AccountId) -> Result<u64, StoreError>;

    /// At most `limit` changes after sequence number `after`, in order.
    fn changes_since(&self, after: i64, limit: usize) -> Result<ChangePage, StoreError>;

    /// Returns when another process may have written (at once where none can), or after `timeout`.
    fn wait_for_changes(&self, timeout: Duration) -> Result<(), StoreError>;

    /// The verification keypoints stored with a document; `None` when it has none (registered
    /// before verification) or is no longer stored.
    fn verification_keypoints(
        &self,
        account_id: &AccountId,
        document_id: &DocumentId,
    ) -> Result<Option<Vec<Keypoint>>, StoreError>;

    /// Every stored perceptual link, in key order.
    fn perceptual_links(&self) -> Result<Vec<StoredLink>, StoreError>;

    /// Pairs of registrations on different accounts with the same pixels (so also every pair with
    /// the same file) or else the same document number, each pair once with the smaller account id
    /// first.
    fn exact_links(&self) -> Result<Vec<ExactLink>, StoreError>;

    /// How many documents are registered.
    fn document_count(&self) -> Result<u64, StoreError>;

    /// An account's registered documents, oldest first.
    fn account_documents(&self, account_id: &AccountId) -> Result<Vec<AccountDocument>, StoreError>;

    /// Appends an entry to the audit log, durably. Erasing an account keeps its entries: they are
    /// the record of who looked it up and who erased it.
    fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// At most `limit` audit entries after position `after`, oldest first, with their positions.
    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<(i64, AuditEntry)>, StoreError>;
}

/// A document of an account read back.
fn account_document(
    document_id: String,
    decision: String,
    risk_score: f64,
    reason_codes: &str,
    registered_at_unix_ms: i64,
) -> Result<AccountDocument, StoreError> {
    Ok(AccountDocument {
        document_id: stored_id(DocumentId::new(document_id))?,
        decision,
        risk_score,
        reason_codes: reason_codes.split(',').filter(|code| !code.is_empty()).map(str::to_owned).collect(),
        registered_at_unix_ms,
    })
}

/// An audit entry read back.
fn stored_audit_entry(
    at_unix_ms: i64,
    actor: String,
    action: &str,
    account_id: Option<String>,
    document_id: Option<String>,
    outcome: String,
) -> Result<AuditEntry, StoreError> {
    let action = AuditAction::from_name(action)
        .ok_or(StoreError::Damaged("an audit entry names an unknown action"))?;
    Ok(AuditEntry { at_unix_ms, actor, action, account_id, document_id, outcome })
}

/// Identifiers read back were validated on the way in; a row that fails now is a damaged store.
fn stored_id<T>(id: Result<T, crate::domain::ids::IdError>) -> Result<T, StoreError> {
    id.map_err(|_| StoreError::Damaged("an invalid identifier"))
}

/// A stored row (its sequence number, ids, time, zone hashes and crop print) as the index takes it.
fn indexed_document(
    sequence: i64,
    account_id: String,
    document_id: String,
    registered_at_ms: i64,
    hashes: &[u8],
    crop: Option<&[u8]>,
) -> Result<IndexedDocument, StoreError> {
    let hashes =
        ZoneHashes::from_bytes(hashes).ok_or(StoreError::Damaged("zone_hashes of the wrong length"))?;
    let crop = crop
        .map(|bytes| {
            CropPrint::from_bytes(bytes).ok_or(StoreError::Damaged("crop_print of the wrong length"))
        })
        .transpose()?;
    Ok(IndexedDocument {
        account_id: stored_id(AccountId::new(account_id))?,
        document_id: stored_id(DocumentId::new(document_id))?,
        registered_at_ms,
        sequence,
        hashes,
        crop,
    })
}

/// Verification keypoints as stored; `None` when none were.
fn stored_keypoints(bytes: Option<Vec<u8>>) -> Result<Option<Vec<Keypoint>>, StoreError> {
    bytes
        .map(|bytes| {
            crate::analysis::reuse::verify::keypoints_from_bytes(&bytes)
                .ok_or(StoreError::Damaged("verification_keypoints of the wrong length"))
        })
        .transpose()
}

/// A stored perceptual link: `[account, document, other account, other document]`, kind, distance.
fn stored_link(ids: [String; 4], kind: &str, distance: i64) -> Result<StoredLink, StoreError> {
    let [account_id, document_id, other_account_id, other_document_id] = ids;
    Ok(StoredLink {
        account_id: stored_id(AccountId::new(account_id))?,
        document_id: stored_id(DocumentId::new(document_id))?,
        other_account_id: stored_id(AccountId::new(other_account_id))?,
        other_document_id: stored_id(DocumentId::new(other_document_id))?,
        kind: kind.parse().map_err(|_| StoreError::Damaged("unknown link kind"))?,
        distance: u32::try_from(distance).map_err(|_| StoreError::Damaged("a link distance out of range"))?,
    })
}

/// Two accounts' documents with the same pixels or document number: `[account a, document a,
/// account b, document b]` and the reason code of what they share.
fn exact_link(ids: [String; 4], kind: &str) -> Result<ExactLink, StoreError> {
    let [account_a, document_a, account_b, document_b] = ids;
    Ok(ExactLink {
        account_a: stored_id(AccountId::new(account_a))?,
        document_a: stored_id(DocumentId::new(document_a))?,
        account_b: stored_id(AccountId::new(account_b))?,
        document_b: stored_id(DocumentId::new(document_b))?,
        kind: exact_kind(kind)?,
    })
}

/// What an exact hit or link shares, as the stores' queries name it.
fn exact_kind(kind: &str) -> Result<ReasonCode, StoreError> {
    match kind.parse() {
        Ok(
            code @ (ReasonCode::ReuseSameFile
            | ReasonCode::ReuseSameImage
            | ReasonCode::ReuseSameDocumentNumber),
        ) => Ok(code),
        _ => Err(StoreError::Damaged("an exact link of an unknown kind")),
    }
}

/// Checks a process's secret id against the one a store recorded (`None` when none was).
fn check_secret_id(recorded: Option<Vec<u8>>, ours: Option<[u8; 8]>) -> Result<(), StoreError> {
    match (recorded, ours) {
        (None, _) => Ok(()),
        (Some(recorded), Some(ours)) if recorded == ours => Ok(()),
        _ => Err(StoreError::SecretMismatch),
    }
}

/// Merges a page of registrations and a page of erasures (each ascending, each at most `limit`
/// long) into the first `limit` changes.
fn merge_changes(
    registered: Vec<(i64, IndexedDocument)>,
    erased: Vec<(i64, AccountId)>,
    limit: usize,
) -> Vec<(i64, Change)> {
    let mut changes: Vec<(i64, Change)> = registered
        .into_iter()
        .map(|(sequence, document)| (sequence, Change::Registered(document)))
        .chain(erased.into_iter().map(|(sequence, account)| (sequence, Change::Erased(account))))
        .collect();
    changes.sort_by_key(|(sequence, _)| *sequence);
    changes.truncate(limit);
    changes
}

/// The clock as the store records it, Unix ms.
pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}
