//! The in-memory perceptual index, kept in step with the store's change sequence: loaded at start,
//! then every change after the last one applied, whoever wrote it (this process or another replica).

use crate::analysis::reuse::perceptual::{IndexedDocument, PerceptualIndex};
use crate::storage::{Change, Store, StoreError};

/// Changes read from the store at a time.
pub(super) const CATCH_UP_PAGE: usize = 10_000;

/// The index and how far into the change sequence it is.
#[derive(Debug, Default)]
pub(super) struct FollowedIndex {
    /// The documents, as of `applied`.
    pub(super) index: PerceptualIndex,
    /// The sequence number of the last change applied.
    pub(super) applied: i64,
    /// How long after its registration the last registration applied by catching up was applied,
    /// in ms (0 before any): a replica's lag behind the others (their clocks' skew included).
    pub(super) last_lag_ms: i64,
}

impl FollowedIndex {
    /// Every registered document, read in pages and filed into the index's frozen layers at once.
    pub(super) fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut documents: Vec<IndexedDocument> = Vec::new();
        let mut applied = 0;
        loop {
            let page = store.changes_since(applied, CATCH_UP_PAGE)?;
            let full = page.changes.len() == CATCH_UP_PAGE;
            for (sequence, change) in page.changes {
                applied = sequence;
                match change {
                    Change::Registered(document) => documents.push(document),
                    // An erasure written while the pages were read.
                    Change::Erased(account) => documents.retain(|document| document.account_id != account),
                }
            }
            if !full {
                break;
            }
        }
        let mut index = PerceptualIndex::new();
        index.extend(documents);
        Ok(FollowedIndex { index, applied, last_lag_ms: 0 })
    }

    /// Applies `changes` (ascending) that come after the last one applied; others were applied
    /// already by another request that read them first.
    pub(super) fn apply(&mut self, changes: Vec<(i64, Change)>) {
        for (sequence, change) in changes {
            if sequence <= self.applied {
                continue;
            }
            match change {
                Change::Registered(document) => {
                    self.last_lag_ms = (crate::storage::now_unix_ms() - document.registered_at_ms).max(0);
                    self.index.insert(document);
                }
                Change::Erased(account) => {
                    self.index.remove_account(&account);
                }
            }
            self.applied = sequence;
        }
    }
}
