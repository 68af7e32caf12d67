//! Matching an upload against the store: exact matches (file, pixels, document number) from the
//! store, perceptual ones proposed by the followed index and verified on keypoints.
//!
//! A registration matches twice. First against everything stored so far, in parallel with other
//! uploads ([`Engine::find`]); then, holding the registration slot, only against what was written
//! since ([`Engine::refresh`]): the slot, which every replica of a shared store waits for, is held
//! for a catch-up, an exact look-up and the verification of new candidates, not for a whole match.

use crate::analysis::fingerprint::ExactFingerprints;
use crate::analysis::fingerprint::document::DocumentPrint;
use crate::analysis::reuse;
use crate::analysis::reuse::confirm::confirm;
use crate::analysis::reuse::document_number::DocumentNumberKey;
use crate::analysis::reuse::perceptual::PerceptualIndex;
use crate::domain::ids::AccountId;
use crate::domain::report::Match;
use crate::engine::{AnalyzeError, Engine, MAX_MATCHES};
use crate::storage::{Store, StoreError};

/// Matches found as of one position in the store's change sequence.
#[derive(Debug, Default)]
pub(super) struct Found {
    exact: Vec<Match>,
    /// Verified perceptual matches, each with the matched document's sequence number.
    perceptual: Vec<(Match, i64)>,
    /// Every write up to this sequence number was searched.
    as_of: i64,
}

impl Found {
    /// Exact matches, then perceptual ones of documents not matched exactly; at most
    /// [`MAX_MATCHES`].
    pub(super) fn into_matches(self) -> Vec<Match> {
        let mut matches = self.exact;
        for (found, _) in self.perceptual {
            let already = matches
                .iter()
                .any(|m| m.account_id == found.account_id && m.document_id == found.document_id);
            if !already && matches.len() < MAX_MATCHES {
                matches.push(found);
            }
        }
        matches
    }

    /// Whether it holds a match that reuses the document itself (not one zone).
    pub(super) fn reuses_the_document(&self) -> bool {
        use crate::domain::findings::ReasonCode;
        self.exact.iter().chain(self.perceptual.iter().map(|(found, _)| found)).any(|m| {
            matches!(
                m.kind,
                ReasonCode::ReuseSameFile | ReasonCode::ReuseSameImage | ReasonCode::ReuseSameDocument
            )
        })
    }
}

impl Engine {
    /// Other accounts' documents matching an upload, as of the store's latest write.
    pub(super) fn find(
        &self,
        exact: &ExactFingerprints,
        document_number: Option<&DocumentNumberKey>,
        print: &DocumentPrint,
        account_id: Option<&AccountId>,
    ) -> Result<Found, AnalyzeError> {
        let Some(store) = self.store.as_deref() else {
            return Ok(Found::default());
        };
        self.catch_up()?;
        // Before the exact look-up: a write the look-up misses comes after it, and `refresh` looks
        // again.
        let as_of = self.read_index().applied;
        let exact =
            reuse::exact_matches(store.find_exact(exact, document_number, account_id, MAX_MATCHES)?);
        let followed = self.read_index();
        let perceptual = self.verified(store, &followed.index, print, account_id, 0, &[])?;
        Ok(Found { exact, perceptual, as_of })
    }

    /// `found`, brought up to the store's latest write: exact matches looked up again, perceptual
    /// ones of documents erased since dropped, and documents registered since proposed and verified.
    pub(super) fn refresh(
        &self,
        found: Found,
        exact: &ExactFingerprints,
        document_number: Option<&DocumentNumberKey>,
        print: &DocumentPrint,
        account_id: Option<&AccountId>,
    ) -> Result<Found, AnalyzeError> {
        let Some(store) = self.store.as_deref() else {
            return Ok(found);
        };
        self.catch_up()?;
        if self.read_index().applied == found.as_of {
            return Ok(found);
        }
        let exact =
            reuse::exact_matches(store.find_exact(exact, document_number, account_id, MAX_MATCHES)?);
        let followed = self.read_index();
        let mut perceptual: Vec<(Match, i64)> = found
            .perceptual
            .into_iter()
            .filter(|(found, sequence)| {
                followed.index.holds(&found.account_id, &found.document_id, *sequence)
            })
            .collect();
        let known: Vec<i64> = perceptual.iter().map(|(_, sequence)| *sequence).collect();
        perceptual.extend(self.verified(store, &followed.index, print, account_id, found.as_of, &known)?);
        Ok(Found { exact, perceptual, as_of: followed.applied })
    }

    /// The documents registered after sequence number `after` (other than those numbered in
    /// `known`) that the index proposes for `print` and verification confirms.
    fn verified(
        &self,
        store: &dyn Store,
        index: &PerceptualIndex,
        print: &DocumentPrint,
        account_id: Option<&AccountId>,
        after: i64,
        known: &[i64],
    ) -> Result<Vec<(Match, i64)>, StoreError> {
        let proposals = index
            .propose(print, account_id, &self.models.reuse)
            .into_iter()
            .filter(|proposal| {
                proposal.document.sequence > after && !known.contains(&proposal.document.sequence)
            })
            .collect();
        let hits = confirm(
            proposals,
            print,
            index,
            |document| store.verification_keypoints(&document.account_id, &document.document_id),
            &self.models.reuse,
        )?;
        Ok(hits
            .iter()
            .map(|hit| (reuse::perceptual_match(hit, &self.models.reuse), hit.document.sequence))
            .collect())
    }
}
