//! The embedded system of record: registrations (account, document, fingerprints, decision, time) in
//! one SQLite database inside the data directory, served by one process. Images are never stored.
//!
//! SQLite in WAL mode with `synchronous = FULL`: a registration is acknowledged only after its
//! transaction is committed to disk, so it survives a crash of the process (kill -9) or of the machine.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::analysis::fingerprint::ExactFingerprints;
use crate::analysis::fingerprint::document::CropPrint;
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::reuse::document_number::DocumentNumberKey;
use crate::analysis::reuse::verify::keypoints_to_bytes;
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::{AccountDocument, ExactHit, ExactLink, StoredLink};
use crate::storage::{
    ChangePage, ERASURE_RECORD_RETENTION, NewRegistration, RegisterOutcome, RegistrationSlot, Store,
    StoreError, account_document, check_secret_id, exact_kind, exact_link, indexed_document, merge_changes,
    now_unix_ms, stored_audit_entry, stored_id, stored_keypoints, stored_link,
};

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
    "
    -- The change sequence (storage module docs): every registration and erasure takes the next
    -- number. Documents registered before it are numbered in the order they were registered.
    CREATE TABLE store_state (
        last_sequence            INTEGER NOT NULL,
        erasures_dropped_through INTEGER NOT NULL
    );
    ALTER TABLE documents ADD COLUMN sequence INTEGER;
    WITH numbered AS (
        SELECT account_id, document_id,
               ROW_NUMBER() OVER (ORDER BY registered_at_ms, account_id, document_id) AS sequence
        FROM documents
    )
    UPDATE documents SET sequence = numbered.sequence FROM numbered
    WHERE documents.account_id = numbered.account_id AND documents.document_id = numbered.document_id;
    INSERT INTO store_state SELECT COUNT(*), 0 FROM documents;
    CREATE UNIQUE INDEX documents_by_sequence ON documents (sequence);
    -- Erasures replicas have yet to apply; an account id only, kept for ERASURE_RECORD_RETENTION.
    CREATE TABLE erasures (
        sequence     INTEGER PRIMARY KEY,
        account_id   TEXT    NOT NULL,
        erased_at_ms INTEGER NOT NULL
    );
",
    "
    -- Who registered, looked up or erased what (domain::audit); never image data.
    CREATE TABLE audit_log (
        position    INTEGER PRIMARY KEY AUTOINCREMENT,
        at_ms       INTEGER NOT NULL,
        actor       TEXT    NOT NULL,
        action      TEXT    NOT NULL,
        account_id  TEXT,
        document_id TEXT,
        outcome     TEXT    NOT NULL
    );
",
    "
    -- The keyed hash of the document number (reuse::document_number), for documents whose
    -- machine-readable zone was read with every check digit passing; NULL for the others.
    ALTER TABLE documents ADD COLUMN document_number_key BLOB;
    CREATE INDEX documents_by_document_number ON documents (document_number_key)
        WHERE document_number_key IS NOT NULL;
    -- Which secret made those keys (DocumentNumberSecret::id): a process with another is refused.
    ALTER TABLE store_state ADD COLUMN document_number_secret_id BLOB;
",
];

/// The embedded store.
///
/// One connection behind a mutex: exact look-ups are index probes of microseconds, and SQLite
/// serialises writers anyway. The perceptual index lives in memory beside it.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Mutex<Connection>,
    /// The registration slot: held from the search for matches to the insert.
    registering: Mutex<()>,
}

impl SqliteStore {
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
        Ok(SqliteStore { connection: Mutex::new(connection), registering: Mutex::new(()) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back
        // on drop), so a poisoned lock is still safe to use.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a document without waiting for the registration slot.
    fn insert(&self, registration: &NewRegistration<'_>) -> Result<RegisterOutcome, StoreError> {
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
        let sequence = next_sequence(&transaction)?;
        transaction.execute(
            "INSERT INTO documents (account_id, document_id, file_sha256, pixel_sha256, decision,
                                    risk_score, reason_codes, policy_version, registered_at_ms,
                                    zone_hashes, crop_print, verification_keypoints, sequence,
                                    document_number_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
                sequence,
                registration.document_number.map(|key| &key.0[..]),
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
}

/// The embedded store's registration slot: a process-wide lock.
struct SqliteSlot<'a> {
    store: &'a SqliteStore,
    _held: MutexGuard<'a, ()>,
}

impl RegistrationSlot for SqliteSlot<'_> {
    fn register(self: Box<Self>, registration: &NewRegistration<'_>) -> Result<RegisterOutcome, StoreError> {
        self.store.insert(registration)
    }
}

impl Store for SqliteStore {
    fn begin_registration(&self) -> Result<Box<dyn RegistrationSlot + '_>, StoreError> {
        // The insert does not panic half-way, so a poisoned slot is still safe to take.
        let held = self.registering.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(Box::new(SqliteSlot { store: self, _held: held }))
    }

    fn claim_document_number_secret(&self, secret_id: Option<[u8; 8]>) -> Result<(), StoreError> {
        let connection = self.lock();
        if let Some(id) = secret_id {
            connection.execute(
                "UPDATE store_state SET document_number_secret_id = ?1 WHERE document_number_secret_id IS NULL",
                [&id[..]],
            )?;
        }
        let recorded =
            connection
                .query_row("SELECT document_number_secret_id FROM store_state", [], |row| row.get(0))?;
        check_secret_id(recorded, secret_id)
    }

    fn find_exact(
        &self,
        fingerprints: &ExactFingerprints,
        document_number: Option<&DocumentNumberKey>,
        exclude_account: Option<&AccountId>,
        limit: usize,
    ) -> Result<Vec<ExactHit>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT account_id, document_id,
                    CASE WHEN file_sha256 = ?1 THEN 'reuse.same_file'
                         WHEN pixel_sha256 = ?2 THEN 'reuse.same_image'
                         ELSE 'reuse.same_document_number' END,
                    registered_at_ms
             FROM documents
             WHERE (file_sha256 = ?1 OR pixel_sha256 = ?2 OR document_number_key = ?5)
               AND account_id IS NOT ?3
             ORDER BY registered_at_ms, account_id, document_id LIMIT ?4",
        )?;
        let rows = statement.query_map(
            params![
                &fingerprints.file_sha256.0[..],
                &fingerprints.pixel_sha256.0[..],
                exclude_account.map(AccountId::as_str),
                limit as i64,
                document_number.map(|key| &key.0[..]),
            ],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get(3)?,
                ))
            },
        )?;
        rows.map(|row| {
            let (account_id, document_id, kind, registered_at_ms) = row?;
            Ok(ExactHit {
                account_id: stored_id(AccountId::new(account_id))?,
                document_id: stored_id(DocumentId::new(document_id))?,
                kind: exact_kind(&kind)?,
                registered_at_ms,
            })
        })
        .collect()
    }

    fn forget_account(&self, account_id: &AccountId) -> Result<u64, StoreError> {
        let mut connection = self.lock();
        let transaction = connection.transaction()?;
        let erased =
            transaction.execute("DELETE FROM documents WHERE account_id = ?1", [account_id.as_str()])?;
        transaction.execute(
            "DELETE FROM document_links WHERE account_id = ?1 OR other_account_id = ?1",
            [account_id.as_str()],
        )?;
        let now = now_unix_ms();
        let sequence = next_sequence(&transaction)?;
        transaction.execute(
            "INSERT INTO erasures (sequence, account_id, erased_at_ms) VALUES (?1, ?2, ?3)",
            params![sequence, account_id.as_str(), now],
        )?;
        let expired = now - ERASURE_RECORD_RETENTION.as_millis() as i64;
        transaction.execute(
            "UPDATE store_state SET erasures_dropped_through = MAX(erasures_dropped_through,
                 COALESCE((SELECT MAX(sequence) FROM erasures WHERE erased_at_ms < ?1), 0))",
            [expired],
        )?;
        transaction.execute("DELETE FROM erasures WHERE erased_at_ms < ?1", [expired])?;
        transaction.commit()?;
        Ok(erased as u64)
    }

    fn changes_since(&self, after: i64, limit: usize) -> Result<ChangePage, StoreError> {
        let connection = self.lock();
        let registered = connection
            .prepare_cached(
                "SELECT sequence, account_id, document_id, registered_at_ms, zone_hashes, crop_print
                 FROM documents WHERE sequence > ?1 AND zone_hashes IS NOT NULL ORDER BY sequence LIMIT ?2",
            )?
            .query_map(params![after, limit as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                    row.get::<_, Option<Vec<u8>>>(5)?,
                ))
            })?
            .map(|row| {
                let (sequence, account, document, registered_at_ms, hashes, crop) = row?;
                Ok((
                    sequence,
                    indexed_document(
                        sequence,
                        account,
                        document,
                        registered_at_ms,
                        &hashes,
                        crop.as_deref(),
                    )?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let erased = connection
            .prepare_cached(
                "SELECT sequence, account_id FROM erasures WHERE sequence > ?1 ORDER BY sequence LIMIT ?2",
            )?
            .query_map(params![after, limit as i64], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?
            .map(|row| {
                let (sequence, account) = row?;
                Ok((sequence, stored_id(AccountId::new(account))?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let dropped_through: i64 =
            connection.query_row("SELECT erasures_dropped_through FROM store_state", [], |row| row.get(0))?;
        Ok(ChangePage {
            changes: merge_changes(registered, erased, limit),
            erasures_dropped: after < dropped_through,
        })
    }

    /// One process writes an embedded store: nothing to wait for but the time.
    fn wait_for_changes(&self, timeout: Duration) -> Result<(), StoreError> {
        std::thread::sleep(timeout);
        Ok(())
    }

    fn verification_keypoints(
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
        stored_keypoints(bytes.flatten())
    }

    fn perceptual_links(&self) -> Result<Vec<StoredLink>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT account_id, document_id, other_account_id, other_document_id, kind, distance
             FROM document_links ORDER BY 1, 2, 3, 4",
        )?;
        let rows = statement.query_map([], |row| {
            let ids = [row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?];
            Ok((ids, row.get::<_, String>(4)?, row.get::<_, i64>(5)?))
        })?;
        rows.map(|row| {
            let (ids, kind, distance) = row?;
            stored_link(ids, &kind, distance)
        })
        .collect()
    }

    fn exact_links(&self) -> Result<Vec<ExactLink>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT a.account_id, a.document_id, b.account_id, b.document_id,
                    IIF(a.file_sha256 = b.file_sha256, 'reuse.same_file', 'reuse.same_image')
             FROM documents a JOIN documents b INDEXED BY documents_by_pixels
               ON b.pixel_sha256 = a.pixel_sha256 AND b.account_id > a.account_id
             UNION ALL
             SELECT a.account_id, a.document_id, b.account_id, b.document_id, 'reuse.same_document_number'
             FROM documents a JOIN documents b INDEXED BY documents_by_document_number
               ON b.document_number_key = a.document_number_key AND b.account_id > a.account_id
                  AND b.pixel_sha256 <> a.pixel_sha256
             ORDER BY 1, 2, 3, 4",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(([row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?], row.get::<_, String>(4)?))
        })?;
        rows.map(|row| {
            let (ids, kind) = row?;
            exact_link(ids, &kind)
        })
        .collect()
    }

    fn document_count(&self) -> Result<u64, StoreError> {
        let connection = self.lock();
        Ok(connection.query_row("SELECT COUNT(*) FROM documents", [], |row| row.get::<_, i64>(0))? as u64)
    }

    fn account_documents(&self, account_id: &AccountId) -> Result<Vec<AccountDocument>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT document_id, decision, risk_score, reason_codes, registered_at_ms FROM documents
             WHERE account_id = ?1 ORDER BY registered_at_ms, document_id",
        )?;
        let rows = statement.query_map([account_id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, String>(3)?, row.get(4)?))
        })?;
        rows.map(|row| {
            let (document, decision, risk_score, codes, at) = row?;
            account_document(document, decision, risk_score, &codes, at)
        })
        .collect()
    }

    fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO audit_log (at_ms, actor, action, account_id, document_id, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                entry.at_unix_ms,
                entry.actor,
                entry.action.as_str(),
                entry.account_id,
                entry.document_id,
                entry.outcome
            ],
        )?;
        Ok(())
    }

    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(
            "SELECT position, at_ms, actor, action, account_id, document_id, outcome FROM audit_log
             WHERE position > ?1 ORDER BY position LIMIT ?2",
        )?;
        let rows = statement.query_map(params![after, limit as i64], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get::<_, String>(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
            ))
        })?;
        rows.map(|row| {
            let (position, at, actor, action, account, document, outcome) = row?;
            Ok((position, stored_audit_entry(at, actor, &action, account, document, outcome)?))
        })
        .collect()
    }
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

/// Takes the next number of the change sequence, inside a write transaction.
fn next_sequence(transaction: &rusqlite::Transaction<'_>) -> Result<i64, StoreError> {
    Ok(transaction.query_row(
        "UPDATE store_state SET last_sequence = last_sequence + 1 RETURNING last_sequence",
        [],
        |row| row.get(0),
    )?)
}
