//! PostgreSQL as the system of record of several replicas (`serve --postgres URL`).
//!
//! Every replica keeps its own in-memory index and follows the others through the change sequence
//! (storage module docs): a registration or erasure takes a transaction-level advisory lock, the
//! next number of one PostgreSQL sequence and sends a `NOTIFY` that is delivered when it commits.
//! The lock serialises only the catch-up, match and insert of registrations in the database (decoding
//! and every analyser run in parallel before it), so the sequence numbers commit in order and a
//! replica that applied everything up to N has missed nothing below N. A commit is acknowledged
//! only once PostgreSQL has made it durable.
//!
//! The blocking `postgres` client (tokio-postgres under a small runtime of its own) with an r2d2
//! pool: the engine is synchronous and runs on the blocking pool, where a blocking client is the
//! plain fit, and r2d2 gives fail-fast checkouts (`connection_timeout`) and validated connections
//! after a database restart.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Transaction};
use r2d2::{Pool, PooledConnection};
use r2d2_postgres::PostgresConnectionManager;

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

/// Advisory lock key of the registration slot and of erasures ("idforens" in ASCII).
const WRITE_LOCK: i64 = 0x6964_666f_7265_6e73;
/// Advisory lock key held while the schema is migrated, so replicas starting together migrate once.
const MIGRATION_LOCK: i64 = WRITE_LOCK + 1;
/// The `NOTIFY` channel that wakes replicas after a write.
const CHANNEL: &str = "idforensics_changes";

/// Schema migrations, applied in order; `idforensics_schema.version` records how many ran.
const MIGRATIONS: &[&str] = &[
    "
    CREATE SEQUENCE changes_sequence;
    CREATE TABLE documents (
        account_id             text             NOT NULL,
        document_id            text             NOT NULL,
        file_sha256            bytea            NOT NULL,
        pixel_sha256           bytea            NOT NULL,
        decision               text             NOT NULL,
        risk_score             double precision NOT NULL,
        reason_codes           text             NOT NULL,
        policy_version         text             NOT NULL,
        registered_at_ms       bigint           NOT NULL,
        zone_hashes            bytea,
        crop_print             bytea,
        verification_keypoints bytea,
        sequence               bigint           NOT NULL UNIQUE,
        PRIMARY KEY (account_id, document_id)
    );
    CREATE INDEX documents_by_file ON documents (file_sha256);
    CREATE INDEX documents_by_pixels ON documents (pixel_sha256);
    CREATE TABLE document_links (
        account_id        text   NOT NULL,
        document_id       text   NOT NULL,
        other_account_id  text   NOT NULL,
        other_document_id text   NOT NULL,
        kind              text   NOT NULL,
        distance          bigint NOT NULL,
        PRIMARY KEY (account_id, document_id, other_account_id, other_document_id)
    );
    CREATE INDEX document_links_by_other ON document_links (other_account_id);
    -- Erasures replicas have yet to apply; an account id only, kept for ERASURE_RECORD_RETENTION.
    CREATE TABLE erasures (
        sequence     bigint PRIMARY KEY,
        account_id   text   NOT NULL,
        erased_at_ms bigint NOT NULL
    );
    CREATE TABLE store_state (erasures_dropped_through bigint NOT NULL);
    INSERT INTO store_state VALUES (0);
",
    "
    -- Who registered, looked up or erased what (domain::audit); never image data.
    CREATE TABLE audit_log (
        position    bigserial PRIMARY KEY,
        at_ms       bigint    NOT NULL,
        actor       text      NOT NULL,
        action      text      NOT NULL,
        account_id  text,
        document_id text,
        outcome     text      NOT NULL
    );
",
    "
    -- The keyed hash of the document number (reuse::document_number), for documents whose
    -- machine-readable zone was read with every check digit passing; NULL for the others.
    ALTER TABLE documents ADD COLUMN document_number_key bytea;
    CREATE INDEX documents_by_document_number ON documents (document_number_key)
        WHERE document_number_key IS NOT NULL;
    -- Which secret made those keys (DocumentNumberSecret::id): a replica with another is refused.
    ALTER TABLE store_state ADD COLUMN document_number_secret_id bytea;
",
];

type Manager = PostgresConnectionManager<NoTls>;

/// How a replica uses PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Most pooled connections.
    pub pool_size: u32,
    /// Longest wait for a connection (new or pooled) before a call fails `store.unavailable`.
    pub connect_timeout: Duration,
    /// Longest wait for the write lock. A transaction holding it that sits idle twice as long loses
    /// its session: a replica that froze or lost its network while holding the lock cannot stop
    /// the others registering.
    pub write_lock_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 10,
            connect_timeout: Duration::from_secs(3),
            write_lock_timeout: Duration::from_secs(10),
        }
    }
}

/// A PostgreSQL store shared by replicas.
pub struct PostgresStore {
    pool: Pool<Manager>,
    config: postgres::Config,
    /// Sets the write lock's timeouts in a transaction about to take it.
    lock_timeouts: String,
    /// The connection that `LISTEN`s for other replicas' writes; reopened after a failure.
    listener: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PostgresStore").field("pool", &self.pool).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgresql://user@host:port/database` or `host=… user=…`), migrating the
    /// schema when it is older than this build's.
    pub fn connect(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        let mut config: postgres::Config = url.parse()?;
        config.connect_timeout(options.connect_timeout);
        config.application_name("idforensics");
        let mut client = config.connect(NoTls)?;
        migrate(&mut client)?;
        let pool = Pool::builder()
            .max_size(options.pool_size.max(2))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .build(PostgresConnectionManager::new(config.clone(), NoTls))?;
        let wait = options.write_lock_timeout.as_millis().max(1);
        let lock_timeouts = format!(
            "SET LOCAL lock_timeout = {wait}; SET LOCAL idle_in_transaction_session_timeout = {}",
            2 * wait
        );
        Ok(PostgresStore { pool, config, lock_timeouts, listener: Mutex::new(Some(listening(client)?)) })
    }

    fn connection(&self) -> Result<PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `write` in a transaction holding the write lock, after which replicas are woken.
    fn write<T>(
        &self,
        write: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.connection()?;
        let mut transaction = connection.transaction()?;
        transaction.batch_execute(&self.lock_timeouts)?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let written = write(&mut transaction)?;
        transaction.execute("SELECT pg_notify($1, '')", &[&CHANNEL])?;
        transaction.commit()?;
        Ok(written)
    }

    fn listener(&self) -> MutexGuard<'_, Option<Client>> {
        // A failed wait drops the connection before the guard, so a poisoned lock holds none or a
        // usable one.
        self.listener.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `client`, listening on [`CHANNEL`].
fn listening(mut client: Client) -> Result<Client, StoreError> {
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// The registration slot: a pooled connection in a transaction holding the write lock.
struct PostgresSlot {
    connection: PooledConnection<Manager>,
    open: bool,
}

impl PostgresSlot {
    fn insert(&mut self, registration: &NewRegistration<'_>) -> Result<RegisterOutcome, StoreError> {
        let client = &mut *self.connection;
        let existing = client.query_opt(
            "SELECT file_sha256, registered_at_ms FROM documents WHERE account_id = $1 AND document_id = $2",
            &[&registration.account_id.as_str(), &registration.document_id.as_str()],
        )?;
        if let Some(row) = existing {
            let file_sha256: Vec<u8> = row.get(0);
            return if file_sha256 == registration.fingerprints.file_sha256.0 {
                Ok(RegisterOutcome { replayed: true, registered_at_ms: row.get(1) })
            } else {
                Err(StoreError::Conflict { document_id: registration.document_id.clone() })
            };
        }
        let registered_at_ms = now_unix_ms();
        client.execute(
            "INSERT INTO documents (account_id, document_id, file_sha256, pixel_sha256, decision,
                                    risk_score, reason_codes, policy_version, registered_at_ms,
                                    zone_hashes, crop_print, verification_keypoints, sequence,
                                    document_number_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, nextval('changes_sequence'), $13)",
            &[
                &registration.account_id.as_str(),
                &registration.document_id.as_str(),
                &&registration.fingerprints.file_sha256.0[..],
                &&registration.fingerprints.pixel_sha256.0[..],
                &registration.decision.as_str(),
                &registration.risk_score,
                &registration.reason_codes.join(","),
                &registration.policy_version,
                &registered_at_ms,
                &registration.zone_hashes.map(|hashes| hashes.to_bytes()),
                &registration.crop_print.map(CropPrint::to_bytes),
                &registration.verification_keypoints.map(keypoints_to_bytes),
                &registration.document_number.map(|key| &key.0[..]),
            ],
        )?;
        for (other_account, other_document, kind, distance) in &registration.links {
            client.execute(
                "INSERT INTO document_links (account_id, document_id, other_account_id,
                                             other_document_id, kind, distance)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &registration.account_id.as_str(),
                    &registration.document_id.as_str(),
                    &other_account.as_str(),
                    &other_document.as_str(),
                    &kind.as_str(),
                    &i64::from(*distance),
                ],
            )?;
        }
        client.execute("SELECT pg_notify($1, '')", &[&CHANNEL])?;
        client.batch_execute("COMMIT")?;
        self.open = false;
        Ok(RegisterOutcome { replayed: false, registered_at_ms })
    }
}

impl RegistrationSlot for PostgresSlot {
    fn register(
        mut self: Box<Self>,
        registration: &NewRegistration<'_>,
    ) -> Result<RegisterOutcome, StoreError> {
        self.insert(registration)
    }
}

impl Drop for PostgresSlot {
    /// Releases the lock of a slot left without a commit (a replay, a conflict, a failure).
    fn drop(&mut self) {
        if self.open && self.connection.batch_execute("ROLLBACK").is_err() {
            // The connection is unusable; the pool discards it when it is next checked out, and
            // PostgreSQL releases the lock with the session.
            tracing::warn!("rolling back a registration failed");
        }
    }
}

impl Store for PostgresStore {
    fn begin_registration(&self) -> Result<Box<dyn RegistrationSlot + '_>, StoreError> {
        let mut slot = PostgresSlot { connection: self.connection()?, open: true };
        slot.connection.batch_execute(&format!("BEGIN; {}", self.lock_timeouts))?;
        slot.connection.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        Ok(Box::new(slot))
    }

    fn claim_document_number_secret(&self, secret_id: Option<[u8; 8]>) -> Result<(), StoreError> {
        let mut client = self.connection()?;
        if let Some(id) = secret_id {
            client.execute(
                "UPDATE store_state SET document_number_secret_id = $1 WHERE document_number_secret_id IS NULL",
                &[&&id[..]],
            )?;
        }
        let recorded = client.query_one("SELECT document_number_secret_id FROM store_state", &[])?.get(0);
        check_secret_id(recorded, secret_id)
    }

    fn find_exact(
        &self,
        fingerprints: &ExactFingerprints,
        document_number: Option<&DocumentNumberKey>,
        exclude_account: Option<&AccountId>,
        limit: usize,
    ) -> Result<Vec<ExactHit>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT account_id, document_id,
                    CASE WHEN file_sha256 = $1 THEN 'reuse.same_file'
                         WHEN pixel_sha256 = $2 THEN 'reuse.same_image'
                         ELSE 'reuse.same_document_number' END,
                    registered_at_ms
             FROM documents
             WHERE (file_sha256 = $1 OR pixel_sha256 = $2 OR document_number_key = $5)
               AND account_id IS DISTINCT FROM $3
             ORDER BY registered_at_ms, account_id, document_id LIMIT $4",
            &[
                &&fingerprints.file_sha256.0[..],
                &&fingerprints.pixel_sha256.0[..],
                &exclude_account.map(AccountId::as_str),
                &(limit as i64),
                &document_number.map(|key| &key.0[..]),
            ],
        )?;
        rows.iter()
            .map(|row| {
                Ok(ExactHit {
                    account_id: stored_id(AccountId::new(row.get::<_, String>(0)))?,
                    document_id: stored_id(DocumentId::new(row.get::<_, String>(1)))?,
                    kind: exact_kind(row.get(2))?,
                    registered_at_ms: row.get(3),
                })
            })
            .collect()
    }

    fn forget_account(&self, account_id: &AccountId) -> Result<u64, StoreError> {
        self.write(|transaction| {
            let erased = transaction
                .execute("DELETE FROM documents WHERE account_id = $1", &[&account_id.as_str()])?;
            transaction.execute(
                "DELETE FROM document_links WHERE account_id = $1 OR other_account_id = $1",
                &[&account_id.as_str()],
            )?;
            let now = now_unix_ms();
            transaction.execute(
                "INSERT INTO erasures (sequence, account_id, erased_at_ms)
                 VALUES (nextval('changes_sequence'), $1, $2)",
                &[&account_id.as_str(), &now],
            )?;
            let expired = now - ERASURE_RECORD_RETENTION.as_millis() as i64;
            transaction.execute(
                "UPDATE store_state SET erasures_dropped_through = GREATEST(erasures_dropped_through,
                     COALESCE((SELECT MAX(sequence) FROM erasures WHERE erased_at_ms < $1), 0))",
                &[&expired],
            )?;
            transaction.execute("DELETE FROM erasures WHERE erased_at_ms < $1", &[&expired])?;
            Ok(erased)
        })
    }

    fn changes_since(&self, after: i64, limit: usize) -> Result<ChangePage, StoreError> {
        // One statement, so one snapshot and one round trip: every search runs it.
        let rows = self.connection()?.query(
            "SELECT 'registered' AS kind, * FROM (
                 SELECT sequence, account_id, document_id, registered_at_ms, zone_hashes, crop_print
                 FROM documents WHERE sequence > $1 AND zone_hashes IS NOT NULL ORDER BY sequence LIMIT $2
             ) registered
             UNION ALL
             SELECT 'erased', * FROM (
                 SELECT sequence, account_id, NULL, NULL::bigint, NULL::bytea, NULL::bytea
                 FROM erasures WHERE sequence > $1 ORDER BY sequence LIMIT $2
             ) erased
             UNION ALL
             SELECT 'dropped', erasures_dropped_through, NULL, NULL, NULL, NULL, NULL FROM store_state",
            &[&after, &(limit as i64)],
        )?;
        let (mut registered, mut erased, mut dropped_through) = (Vec::new(), Vec::new(), 0);
        for row in &rows {
            let sequence: i64 = row.get(1);
            match row.get::<_, &str>(0) {
                "registered" => registered.push((
                    sequence,
                    indexed_document(sequence, row.get(2), row.get(3), row.get(4), row.get(5), row.get(6))?,
                )),
                "erased" => erased.push((sequence, stored_id(AccountId::new(row.get::<_, String>(2)))?)),
                _ => dropped_through = sequence,
            }
        }
        Ok(ChangePage {
            changes: merge_changes(registered, erased, limit),
            erasures_dropped: after < dropped_through,
        })
    }

    fn wait_for_changes(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut listener = self.listener();
        let client = match listener.take() {
            Some(client) if !client.is_closed() => client,
            _ => listening(self.config.connect(NoTls)?)?,
        };
        let mut notifications = listener.insert(client).notifications();
        let woken = notifications.timeout_iter(timeout).next();
        // Notifications that arrived together wake once.
        let drained = woken.and_then(|_| notifications.iter().count());
        drop(notifications);
        if let Err(error) = drained {
            *listener = None;
            return Err(error.into());
        }
        Ok(())
    }

    fn verification_keypoints(
        &self,
        account_id: &AccountId,
        document_id: &DocumentId,
    ) -> Result<Option<Vec<Keypoint>>, StoreError> {
        let row = self.connection()?.query_opt(
            "SELECT verification_keypoints FROM documents WHERE account_id = $1 AND document_id = $2",
            &[&account_id.as_str(), &document_id.as_str()],
        )?;
        stored_keypoints(row.and_then(|row| row.get::<_, Option<Vec<u8>>>(0)))
    }

    fn perceptual_links(&self) -> Result<Vec<StoredLink>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT account_id, document_id, other_account_id, other_document_id, kind, distance
             FROM document_links ORDER BY 1, 2, 3, 4",
            &[],
        )?;
        rows.iter()
            .map(|row| {
                let ids = [row.get(0), row.get(1), row.get(2), row.get(3)];
                stored_link(ids, row.get(4), row.get(5))
            })
            .collect()
    }

    fn exact_links(&self) -> Result<Vec<ExactLink>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT a.account_id, a.document_id, b.account_id, b.document_id,
                    CASE WHEN a.file_sha256 = b.file_sha256 THEN 'reuse.same_file' ELSE 'reuse.same_image' END
             FROM documents a JOIN documents b
               ON b.pixel_sha256 = a.pixel_sha256 AND b.account_id > a.account_id
             UNION ALL
             SELECT a.account_id, a.document_id, b.account_id, b.document_id, 'reuse.same_document_number'
             FROM documents a JOIN documents b
               ON b.document_number_key = a.document_number_key AND b.account_id > a.account_id
                  AND b.pixel_sha256 <> a.pixel_sha256
             ORDER BY 1, 2, 3, 4",
            &[],
        )?;
        rows.iter()
            .map(|row| exact_link([row.get(0), row.get(1), row.get(2), row.get(3)], row.get(4)))
            .collect()
    }

    fn document_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.connection()?.query_one("SELECT COUNT(*) FROM documents", &[])?.get(0);
        Ok(count as u64)
    }

    fn account_documents(&self, account_id: &AccountId) -> Result<Vec<AccountDocument>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT document_id, decision, risk_score, reason_codes, registered_at_ms FROM documents
             WHERE account_id = $1 ORDER BY registered_at_ms, document_id",
            &[&account_id.as_str()],
        )?;
        rows.iter()
            .map(|row| {
                account_document(row.get(0), row.get(1), row.get(2), row.get::<_, &str>(3), row.get(4))
            })
            .collect()
    }

    fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.connection()?.execute(
            "INSERT INTO audit_log (at_ms, actor, action, account_id, document_id, outcome)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &entry.at_unix_ms,
                &entry.actor,
                &entry.action.as_str(),
                &entry.account_id,
                &entry.document_id,
                &entry.outcome,
            ],
        )?;
        Ok(())
    }

    fn audit_entries(&self, after: i64, limit: usize) -> Result<Vec<(i64, AuditEntry)>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT position, at_ms, actor, action, account_id, document_id, outcome FROM audit_log
             WHERE position > $1 ORDER BY position LIMIT $2",
            &[&after, &(limit as i64)],
        )?;
        rows.iter()
            .map(|row| {
                let entry = stored_audit_entry(
                    row.get(1),
                    row.get(2),
                    row.get(3),
                    row.get(4),
                    row.get(5),
                    row.get(6),
                )?;
                Ok((row.get(0), entry))
            })
            .collect()
    }
}

/// Applies the migrations this database has not seen, under [`MIGRATION_LOCK`].
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let migrated = apply_migrations(client);
    client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
    migrated
}

fn apply_migrations(client: &mut Client) -> Result<(), StoreError> {
    client.batch_execute("CREATE TABLE IF NOT EXISTS idforensics_schema (version integer NOT NULL)")?;
    let applied = match client.query_opt("SELECT version FROM idforensics_schema", &[])? {
        Some(row) => row.get::<_, i32>(0) as usize,
        None => {
            client.execute("INSERT INTO idforensics_schema VALUES (0)", &[])?;
            0
        }
    };
    if applied > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew { found: applied, supported: MIGRATIONS.len() });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let mut transaction = client.transaction()?;
        transaction.batch_execute(migration)?;
        transaction.execute("UPDATE idforensics_schema SET version = $1", &[&(index as i32 + 1)])?;
        transaction.commit()?;
    }
    Ok(())
}
