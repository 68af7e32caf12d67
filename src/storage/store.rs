//! The embedded system of record: registrations (account, document, fingerprints, decision, time) in
//! one SQLite database inside the data directory. Images are never stored.
//!
//! SQLite in WAL mode with `synchronous = FULL`: a registration is acknowledged only after its
//! transaction is committed to disk, so it survives a crash of the process (kill -9) or of the machine.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::analysis::fingerprint::ExactFingerprints;
use crate::analysis::fingerprint::document::{CropPrint, ZoneHashes};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::reuse::perceptual::IndexedDocument;
use crate::analysis::reuse::verify::{keypoints_from_bytes, keypoints_to_bytes};
use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::{ExactHit, ExactLink, StoredLink};
use crate::domain::policy::Decision;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "idforensics.sqlite3";

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE documents (
        account_id       TEXT    NOT NULL,
        document_id      TEXT    NOT NULL,
        file_sha256      BLOB    NOT NULL,
        pixel_sha256     BLOB    NOT NULL,
        decision         TEXT    NOT NULL,
        risk_score       REAL    NOT NULL,
        reason_codes     TEXT    NOT NULL,
        policy_version   TEXT    NOT NULL,
        registered_at_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, document_id)
    ) WITHOUT ROWID;
    CREATE INDEX documents_by_file ON documents (file_sha256);
    CREATE INDEX documents_by_pixels ON documents (pixel_sha256);
",
    "
    -- Zone hashes of the rectified document (fingerprint::document::ZoneHashes::to_bytes); NULL for
    -- documents registered before perceptual matching, which then match exactly only.
    ALTER TABLE documents ADD COLUMN zone_hashes BLOB;
    -- Perceptual reuse found when a document was registered: the document and the earlier one.
    CREATE TABLE document_links (
        account_id        TEXT    NOT NULL,
        document_id       TEXT    NOT NULL,
        other_account_id  TEXT    NOT NULL,
        other_document_id TEXT    NOT NULL,
        kind              TEXT    NOT NULL,
        distance          INTEGER NOT NULL,
        PRIMARY KEY (account_id, document_id, other_account_id, other_document_id)
    ) WITHOUT ROWID;
    CREATE INDEX document_links_by_other ON document_links (other_account_id);
",
    "
    -- What finds cropped captures (fingerprint::document::CropPrint::to_bytes): inner-zone hashes
    -- and, for a card of a layout not stored before, its keypoints. NULL for documents registered
    -- before; they are not found from crops.
    ALTER TABLE documents ADD COLUMN crop_print BLOB;
",
    "
    -- Keypoints of the rectified card that verify a candidate match (reuse::verify::keypoints_to_bytes,
    -- 36 bytes each), read only for candidates. NULL for documents registered before verification:
    -- they are then matched exactly only.
    ALTER TABLE documents ADD COLUMN verification_keypoints BLOB;
",
];

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
        /// Version in the file.
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
    /// SQLite failed (disk full, I/O error, corrupt file).
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
}

impl StoreError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::CreateDir { .. } | StoreError::SchemaTooNew { .. } | StoreError::Database(_) => {
                "store.unavailable"
            }
            StoreError::Conflict { .. } => "registration.conflict",
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

/// The embedded store.
///
/// One connection behind a mutex: exact look-ups are index probes of microseconds, and SQLite
/// serialises writers anyway. The perceptual index lives in memory beside it.
#[derive(Debug)]
pub struct Store {
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::CreateDir { path: data_dir.to_owned(), source })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut connection = Connection::open(&path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut connection)?;
        Ok(Store { connection: Mutex::new(connection) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back
        // on drop), so a poisoned lock is still safe to use.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registered documents with the same file or the same pixels, other than `exclude_account`'s,
    /// oldest first, at most `limit`.
    pub fn find_exact(
        &self,
        fingerprints: &ExactFingerprints,
        exclude_account: Option<&AccountId>,
        limit: usize,
    ) -> Result<Vec<ExactHit>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT account_id, document_id, file_sha256 = ?1, registered_at_ms FROM documents
             WHERE (file_sha256 = ?1 OR pixel_sha256 = ?2) AND account_id IS NOT ?3
             ORDER BY registered_at_ms, account_id, document_id LIMIT ?4",
        )?;
        let rows = statement.query_map(
            params![
                &fingerprints.file_sha256.0[..],
                &fingerprints.pixel_sha256.0[..],
                exclude_account.map(AccountId::as_str),
                limit as i64
            ],
            |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, bool>(2)?, row.get(3)?))
            },
        )?;
        rows.map(|row| {
            let (account_id, document_id, same_file, registered_at_ms) = row?;
            Ok(ExactHit {
                account_id: stored_id(AccountId::new(account_id))?,
                document_id: stored_id(DocumentId::new(document_id))?,
                same_file,
                registered_at_ms,
            })
        })
        .collect()
    }

    /// Registers a document, durably. Idempotent: the same account, document id and file again is a
    /// replay; the same ids with a different file is a [`StoreError::Conflict`].
    pub fn register(&self, registration: &NewRegistration<'_>) -> Result<RegisterOutcome, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let existing: Option<(Vec<u8>, i64)> = transaction
            .query_row(
                "SELECT file_sha256, registered_at_ms FROM documents WHERE account_id = ?1 AND document_id = ?2",
                params![registration.account_id.as_str(), registration.document_id.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((file_sha256, registered_at_ms)) = existing {
            return if file_sha256 == registration.fingerprints.file_sha256.0 {
                Ok(RegisterOutcome { replayed: true, registered_at_ms })
            } else {
                Err(StoreError::Conflict { document_id: registration.document_id.clone() })
            };
        }
        let registered_at_ms = now_unix_ms();
        transaction.execute(
            "INSERT INTO documents (account_id, document_id, file_sha256, pixel_sha256, decision,
                                    risk_score, reason_codes, policy_version, registered_at_ms,
                                    zone_hashes, crop_print, verification_keypoints)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                registration.account_id.as_str(),
                registration.document_id.as_str(),
                &registration.fingerprints.file_sha256.0[..],
                &registration.fingerprints.pixel_sha256.0[..],
                registration.decision.as_str(),
                registration.risk_score,
                registration.reason_codes.join(","),
                registration.policy_version,
                registered_at_ms,
                registration.zone_hashes.map(|hashes| hashes.to_bytes()),
                registration.crop_print.map(CropPrint::to_bytes),
                registration.verification_keypoints.map(keypoints_to_bytes),
            ],
        )?;
        for (other_account, other_document, kind, distance) in &registration.links {
            transaction.execute(
                "INSERT OR IGNORE INTO document_links (account_id, document_id, other_account_id,
                                                       other_document_id, kind, distance)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    registration.account_id.as_str(),
                    registration.document_id.as_str(),
                    other_account.as_str(),
                    other_document.as_str(),
                    kind.as_str(),
                    distance,
                ],
            )?;
        }
        transaction.commit()?;
        Ok(RegisterOutcome { replayed: false, registered_at_ms })
    }

    /// Erases every registration of an account and every link to it; returns how many
    /// registrations were erased.
    pub fn forget_account(&self, account_id: &AccountId) -> Result<u64, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let erased =
            transaction.execute("DELETE FROM documents WHERE account_id = ?1", [account_id.as_str()])?;
        transaction.execute(
            "DELETE FROM document_links WHERE account_id = ?1 OR other_account_id = ?1",
            [account_id.as_str()],
        )?;
        transaction.commit()?;
        Ok(erased as u64)
    }

    /// Every registration with zone hashes, to rebuild the perceptual index at start-up.
    pub fn indexed_documents(&self) -> Result<Vec<IndexedDocument>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(
            "SELECT account_id, document_id, registered_at_ms, zone_hashes, crop_print FROM documents
             WHERE zone_hashes IS NOT NULL",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get::<_, Vec<u8>>(3)?,
                row.get::<_, Option<Vec<u8>>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (account_id, document_id, registered_at_ms, hashes, crop) = row?;
            let hashes =
                ZoneHashes::from_bytes(&hashes).ok_or_else(|| damaged("zone_hashes of the wrong length"))?;
            let crop = crop
                .map(|bytes| {
                    CropPrint::from_bytes(&bytes).ok_or_else(|| damaged("crop_print of the wrong length"))
                })
                .transpose()?;
            Ok(IndexedDocument {
                account_id: stored_id(AccountId::new(account_id))?,
                document_id: stored_id(DocumentId::new(document_id))?,
                registered_at_ms,
                hashes,
                crop,
            })
        })
        .collect()
    }

    /// The verification keypoints stored with a document; `None` when it has none (registered
    /// before verification) or is no longer stored.
    pub fn verification_keypoints(
        &self,
        account_id: &AccountId,
        document_id: &DocumentId,
    ) -> Result<Option<Vec<Keypoint>>, StoreError> {
        let connection = self.lock();
        let bytes: Option<Option<Vec<u8>>> = connection
            .prepare_cached(
                "SELECT verification_keypoints FROM documents WHERE account_id = ?1 AND document_id = ?2",
            )?
            .query_row(params![account_id.as_str(), document_id.as_str()], |row| row.get(0))
            .optional()?;
        bytes
            .flatten()
            .map(|bytes| {
                keypoints_from_bytes(&bytes)
                    .ok_or_else(|| damaged("verification_keypoints of the wrong length"))
            })
            .transpose()
    }

    /// Every stored perceptual link, in key order.
    pub fn perceptual_links(&self) -> Result<Vec<StoredLink>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT account_id, document_id, other_account_id, other_document_id, kind, distance
             FROM document_links ORDER BY 1, 2, 3, 4",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, u32>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (account_id, document_id, other_account_id, other_document_id, kind, distance) = row?;
            Ok(StoredLink {
                account_id: stored_id(AccountId::new(account_id))?,
                document_id: stored_id(DocumentId::new(document_id))?,
                other_account_id: stored_id(AccountId::new(other_account_id))?,
                other_document_id: stored_id(DocumentId::new(other_document_id))?,
                kind: kind.parse().map_err(|_| damaged("unknown link kind"))?,
                distance,
            })
        })
        .collect()
    }

    /// Pairs of registrations on different accounts with the same pixels (so also every pair with
    /// the same file), each pair once with the smaller account id first: `(account_a, document_a,
    /// account_b, document_b, same_file)`. An index probe per document, not a scan of pairs.
    pub fn exact_links(&self) -> Result<Vec<ExactLink>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT a.account_id, a.document_id, b.account_id, b.document_id, a.file_sha256 = b.file_sha256
             FROM documents a JOIN documents b INDEXED BY documents_by_pixels
               ON b.pixel_sha256 = a.pixel_sha256 AND b.account_id > a.account_id
             ORDER BY 1, 2, 3, 4",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get(4)?,
            ))
        })?;
        rows.map(|row| {
            let (account_a, document_a, account_b, document_b, same_file) = row?;
            Ok(ExactLink {
                account_a: stored_id(AccountId::new(account_a))?,
                document_a: stored_id(DocumentId::new(document_a))?,
                account_b: stored_id(AccountId::new(account_b))?,
                document_b: stored_id(DocumentId::new(document_b))?,
                same_file,
            })
        })
        .collect()
    }

    /// How many documents are registered.
    pub fn document_count(&self) -> Result<u64, StoreError> {
        let connection = self.lock();
        Ok(connection.query_row("SELECT COUNT(*) FROM documents", [], |row| row.get::<_, i64>(0))? as u64)
    }
}

/// A stored value this build cannot read back: the database is damaged.
fn damaged(what: &'static str) -> StoreError {
    StoreError::Database(rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Blob))
}

/// Identifiers read back were validated on the way in; a row that fails now is a damaged database.
fn stored_id<T>(id: Result<T, crate::domain::ids::IdError>) -> Result<T, StoreError> {
    id.map_err(|error| StoreError::Database(rusqlite::Error::ToSqlConversionFailure(Box::new(error))))
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let applied: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew { found: applied, supported: MIGRATIONS.len() });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

fn now_unix_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fingerprint::Sha256Digest;

    fn fingerprints(file: u8, pixels: u8) -> ExactFingerprints {
        ExactFingerprints { file_sha256: Sha256Digest([file; 32]), pixel_sha256: Sha256Digest([pixels; 32]) }
    }

    fn register(
        store: &Store,
        account: &str,
        document: &str,
        fp: &ExactFingerprints,
    ) -> Result<RegisterOutcome, StoreError> {
        store.register(&NewRegistration {
            account_id: &AccountId::new(account).unwrap(),
            document_id: &DocumentId::new(document).unwrap(),
            fingerprints: fp,
            decision: Decision::Accept,
            risk_score: 0.0,
            reason_codes: Vec::new(),
            policy_version: "test",
            zone_hashes: None,
            crop_print: None,
            verification_keypoints: None,
            links: Vec::new(),
        })
    }

    #[test]
    fn registers_finds_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(!register(&store, "a", "d1", &fingerprints(1, 2)).unwrap().replayed);

        let same_file = store.find_exact(&fingerprints(1, 2), None, 10).unwrap();
        assert_eq!(same_file.len(), 1);
        assert!(same_file[0].same_file);
        let same_pixels = store.find_exact(&fingerprints(9, 2), None, 10).unwrap();
        assert!(!same_pixels[0].same_file);
        let own = store.find_exact(&fingerprints(1, 2), Some(&AccountId::new("a").unwrap()), 10).unwrap();
        assert!(own.is_empty(), "an account's own documents are not matches");

        assert_eq!(store.forget_account(&AccountId::new("a").unwrap()).unwrap(), 1);
        assert!(store.find_exact(&fingerprints(1, 2), None, 10).unwrap().is_empty());
    }

    #[test]
    fn registration_is_idempotent_and_conflicts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = register(&store, "a", "d1", &fingerprints(1, 2)).unwrap();
        let again = register(&store, "a", "d1", &fingerprints(1, 2)).unwrap();
        assert!(again.replayed);
        assert_eq!(again.registered_at_ms, first.registered_at_ms);
        assert_eq!(store.document_count().unwrap(), 1);
        let conflict = register(&store, "a", "d1", &fingerprints(3, 4)).unwrap_err();
        assert_eq!(conflict.reason(), "registration.conflict");
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        register(&Store::open(dir.path()).unwrap(), "a", "d1", &fingerprints(1, 2)).unwrap();
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.document_count().unwrap(), 1);
    }
}
