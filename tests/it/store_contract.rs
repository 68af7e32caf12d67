//! The store contract, checked on both stores: the embedded SQLite file and a real PostgreSQL.
//! Exact look-ups (file, pixels, document number), idempotent registration and conflicts, erasure,
//! the change sequence replicas follow (with dropped erasure records), an account's documents, the
//! audit log, the document-number secret's id, reopening, and a schema newer than the build.

use std::time::Duration;

use idforensics::analysis::fingerprint::document::ZoneHashes;
use idforensics::analysis::fingerprint::{ExactFingerprints, Sha256Digest};
use idforensics::analysis::reuse::document_number::DocumentNumberKey;
use idforensics::domain::audit::{AuditAction, AuditEntry};
use idforensics::domain::findings::ReasonCode;
use idforensics::domain::ids::{AccountId, DocumentId};
use idforensics::domain::policy::Decision;
use idforensics::storage::postgresql::{PostgresOptions, PostgresStore};
use idforensics::storage::sqlite::SqliteStore;
use idforensics::storage::{Change, NewRegistration, RegisterOutcome, Store, StoreError};

use crate::pg_cluster::Cluster;

fn fingerprints(file: u8, pixels: u8) -> ExactFingerprints {
    ExactFingerprints { file_sha256: Sha256Digest([file; 32]), pixel_sha256: Sha256Digest([pixels; 32]) }
}

fn register(
    store: &dyn Store,
    account: &str,
    document: &str,
    file: u8,
) -> Result<RegisterOutcome, StoreError> {
    register_numbered(store, account, document, file, None)
}

/// Registers a document whose file and pixels are `file`, with the document number key `number`.
fn register_numbered(
    store: &dyn Store,
    account: &str,
    document: &str,
    file: u8,
    number: Option<u8>,
) -> Result<RegisterOutcome, StoreError> {
    let hashes = ZoneHashes::from_bytes(&[file; 98]).unwrap();
    store.begin_registration()?.register(&NewRegistration {
        account_id: &AccountId::new(account).unwrap(),
        document_id: &DocumentId::new(document).unwrap(),
        fingerprints: &fingerprints(file, file),
        document_number: number.map(|byte| DocumentNumberKey([byte; 32])).as_ref(),
        decision: Decision::Accept,
        risk_score: 0.0,
        reason_codes: vec!["quality.ok"],
        policy_version: "test",
        zone_hashes: Some(&hashes),
        crop_print: None,
        verification_keypoints: None,
        links: Vec::new(),
    })
}

fn account(id: &str) -> AccountId {
    AccountId::new(id).unwrap()
}

/// Every check of the contract on one store; `backdate_erasures` makes every recorded erasure two
/// hours old.
fn contract(store: &dyn Store, backdate_erasures: &dyn Fn()) {
    // Exact look-ups.
    assert!(!register(store, "a", "d1", 1).unwrap().replayed);
    let same_file = store.find_exact(&fingerprints(1, 1), None, None, 10).unwrap();
    assert_eq!(same_file.len(), 1);
    assert_eq!(same_file[0].kind, ReasonCode::ReuseSameFile);
    let same_pixels = store.find_exact(&fingerprints(9, 1), None, None, 10).unwrap();
    assert_eq!(same_pixels[0].kind, ReasonCode::ReuseSameImage, "same pixels only");
    assert!(store.find_exact(&fingerprints(1, 1), None, Some(&account("a")), 10).unwrap().is_empty(), "own");

    // Idempotent registration; a conflict is refused.
    let again = register(store, "a", "d1", 1).unwrap();
    assert!(again.replayed);
    assert_eq!(register(store, "a", "d1", 3).unwrap_err().reason(), "registration.conflict");
    assert_eq!(store.document_count().unwrap(), 1);

    // The change sequence: registrations and erasures in commit order, paged.
    register(store, "b", "d1", 2).unwrap();
    store.forget_account(&account("a")).unwrap();
    register(store, "a", "d2", 4).unwrap();
    let page = store.changes_since(0, 100).unwrap();
    let kinds: Vec<String> = page
        .changes
        .iter()
        .map(|(_, change)| match change {
            Change::Registered(document) => format!("+{}", document.account_id.as_str()),
            Change::Erased(account) => format!("-{}", account.as_str()),
        })
        .collect();
    // The first registration of "a" was erased with its row: only the erasure is left of it.
    assert_eq!(kinds, ["+b", "-a", "+a"]);
    let sequences: Vec<i64> = page.changes.iter().map(|(sequence, _)| *sequence).collect();
    assert!(sequences.windows(2).all(|pair| pair[0] < pair[1]), "{sequences:?}");
    let paged = store.changes_since(sequences[0], 1).unwrap();
    assert_eq!(paged.changes.len(), 1);
    assert_eq!(paged.changes[0].0, sequences[1]);
    assert!(store.changes_since(sequences[2], 100).unwrap().changes.is_empty());
    assert!(store.find_exact(&fingerprints(1, 1), None, None, 10).unwrap().is_empty(), "erased");

    // Erasure records past their retention are dropped at the next erasure; a follower behind them
    // is told to reload.
    assert!(!page.erasures_dropped);
    backdate_erasures();
    store.forget_account(&account("b")).unwrap();
    assert!(store.changes_since(0, 100).unwrap().erasures_dropped);
    let latest = store.changes_since(sequences[2], 100).unwrap();
    assert!(!latest.erasures_dropped);
    assert!(matches!(&latest.changes[..], [(_, Change::Erased(erased))] if erased.as_str() == "b"));
    assert_eq!(store.document_count().unwrap(), 1);

    // An account's documents, as the console shows them.
    let documents = store.account_documents(&account("a")).unwrap();
    assert_eq!(documents.len(), 1);
    assert_eq!((documents[0].document_id.as_str(), documents[0].decision.as_str()), ("d2", "ACCEPT"));
    assert_eq!(documents[0].reason_codes, ["quality.ok"]);
    assert!(store.account_documents(&account("b")).unwrap().is_empty(), "erased");

    // The audit log: appended in order, read after a position; erasure keeps it.
    let entry = |actor: &str, action| AuditEntry::now(actor, action, Some("a"), None, "clusters=0".into());
    store.append_audit(&entry("ops", AuditAction::AccountLinks)).unwrap();
    store.append_audit(&entry("ana", AuditAction::ForgetAccount)).unwrap();
    let audited = store.audit_entries(0, 10).unwrap();
    let actors: Vec<&str> = audited.iter().map(|(_, entry)| entry.actor.as_str()).collect();
    assert_eq!(actors, ["ops", "ana"]);
    let read = &audited[1].1;
    assert_eq!(
        (read.action, read.account_id.as_deref(), read.outcome.as_str()),
        (AuditAction::ForgetAccount, Some("a"), "clusters=0")
    );
    assert!(read.at_unix_ms > 0 && read.document_id.is_none());
    assert_eq!(store.audit_entries(audited[0].0, 10).unwrap().len(), 1);
    store.forget_account(&account("a")).unwrap();
    assert_eq!(store.audit_entries(0, 10).unwrap().len(), 2);
    register(store, "a", "d2", 4).unwrap();

    // Document numbers: the same key on another account's other image is found and linked, a
    // document without one is not, and erasure takes the key with the row.
    register_numbered(store, "n1", "passport", 20, Some(7)).unwrap();
    register_numbered(store, "n2", "passport", 21, Some(8)).unwrap();
    let key = DocumentNumberKey([7; 32]);
    let hits = store.find_exact(&fingerprints(30, 30), Some(&key), Some(&account("n9")), 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].account_id.as_str(), hits[0].kind), ("n1", ReasonCode::ReuseSameDocumentNumber));
    let both = store.find_exact(&fingerprints(20, 20), Some(&key), None, 10).unwrap();
    assert_eq!(both[0].kind, ReasonCode::ReuseSameFile, "the strongest kind shared");
    assert!(
        store.find_exact(&fingerprints(30, 30), Some(&key), Some(&account("n1")), 10).unwrap().is_empty()
    );
    register_numbered(store, "n3", "licence", 22, Some(7)).unwrap();
    let links = store.exact_links().unwrap();
    let numbered: Vec<(&str, &str)> = links
        .iter()
        .filter(|link| link.kind == ReasonCode::ReuseSameDocumentNumber)
        .map(|link| (link.account_a.as_str(), link.account_b.as_str()))
        .collect();
    assert_eq!(numbered, [("n1", "n3")]);
    store.forget_account(&account("n1")).unwrap();
    let hits = store.find_exact(&fingerprints(30, 30), Some(&key), Some(&account("n9")), 10).unwrap();
    assert_eq!(hits.iter().map(|hit| hit.account_id.as_str()).collect::<Vec<_>>(), ["n3"], "erased");
    for erased in ["n2", "n3"] {
        store.forget_account(&account(erased)).unwrap();
    }

    // The document-number secret: the first id is recorded, the same one accepted again, another
    // or none refused.
    store.claim_document_number_secret(None).unwrap();
    store.claim_document_number_secret(Some([1; 8])).unwrap();
    store.claim_document_number_secret(Some([1; 8])).unwrap();
    for other in [Some([2; 8]), None] {
        let refused = store.claim_document_number_secret(other).unwrap_err();
        assert_eq!(refused.reason(), "store.secret_mismatch");
    }

    // Waiting returns.
    store.wait_for_changes(Duration::from_millis(10)).unwrap();
}

#[test]
fn the_embedded_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join(idforensics::storage::sqlite::DATABASE_FILE);
    let backdate = || {
        let connection = rusqlite::Connection::open(&database).unwrap();
        connection.execute("UPDATE erasures SET erased_at_ms = erased_at_ms - 7200000", []).unwrap();
    };
    contract(&SqliteStore::open(dir.path()).unwrap(), &backdate);
    assert_eq!(SqliteStore::open(dir.path()).unwrap().document_count().unwrap(), 1, "reopened");
    rusqlite::Connection::open(&database).unwrap().pragma_update(None, "user_version", 99).unwrap();
    assert!(matches!(SqliteStore::open(dir.path()), Err(StoreError::SchemaTooNew { found: 99, .. })));
}

#[test]
fn postgresql_keeps_the_contract() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.create_database("contract");
    let connect = || PostgresStore::connect(&url, PostgresOptions::default());
    let sql = |statement: &str| {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client.batch_execute(statement).unwrap();
    };
    contract(&connect().unwrap(), &|| sql("UPDATE erasures SET erased_at_ms = erased_at_ms - 7200000"));
    assert_eq!(connect().unwrap().document_count().unwrap(), 1, "reconnected");
    sql("UPDATE idforensics_schema SET version = 99");
    assert!(matches!(connect(), Err(StoreError::SchemaTooNew { found: 99, .. })));
}

/// A replica that froze while holding the write lock (here: a slot taken and left) holds up the
/// others' registrations for the lock timeout at most, and loses its session, lock included, when
/// it has sat idle for twice that.
#[test]
fn a_replica_stuck_holding_the_write_lock_cannot_stop_the_others() {
    let Some(cluster) = Cluster::start() else { return };
    let url = cluster.create_database("stuck");
    let options = PostgresOptions { write_lock_timeout: Duration::from_millis(300), ..Default::default() };
    let (stuck, other) =
        (PostgresStore::connect(&url, options).unwrap(), PostgresStore::connect(&url, options).unwrap());
    let held = stuck.begin_registration().unwrap();
    let started = std::time::Instant::now();
    let refused = other.begin_registration().map(|_| ()).unwrap_err();
    assert_eq!(refused.reason(), "store.unavailable");
    assert!(started.elapsed() < Duration::from_secs(3), "waited {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(700));
    assert!(!register(&other, "a", "d1", 1).unwrap().replayed, "the lock went with the idle session");
    drop(held);
}
