//! Perceptual reuse: documents whose rectified zones hash alike.
//!
//! Two indexes (portrait-zone and data-zone PDQ) find every stored document with either zone within
//! the search radius, for the query card upright and turned 180°. Each candidate is then judged on
//! both zones at once ([`ReuseModel::judge`]): a template shared by many holders matches on neither
//! zone, because the portrait and the personal data are what differ between their cards.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::crops::{CropIndex, CropModel};
use super::layout_fit::{FitContext, LayoutFitModel, refit_on_known_layout};
use super::verify::{Verification, VerificationModel};
use crate::analysis::decode::planes::WorkingPlanes;
use crate::analysis::fingerprint::document::{
    CropFrame, CropPrint, DocumentLayout, DocumentLocation, DocumentPrint, Framing, InnerHashes, Reading,
    ZoneColour, ZoneHashes,
};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::reuse::hamming_index::HammingIndex;
use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};

const EMBEDDED_MODEL: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/reuse.toml"));

/// The reuse model: zone layout and match thresholds (`models/reuse.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseModel {
    /// Changes with every edit of the file.
    pub version: String,
    /// Where the zones are.
    pub layout: DocumentLayout,
    /// How close is reuse.
    pub matching: MatchThresholds,
    /// How cropped captures are found.
    pub crops: CropModel,
    /// How candidates are verified.
    pub verification: VerificationModel,
    /// How a known layout is found in an upload the locator could not outline; a tuned copy of
    /// this file without the table does not look for one.
    #[serde(default)]
    pub layout_fit: Option<LayoutFitModel>,
}

/// Distances (of 256 bits) that decide each match kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchThresholds {
    /// Radius of the index search on each zone hash (at most 47).
    pub search_radius: u32,
    /// Zones below this PDQ quality are not compared.
    pub min_zone_quality: u32,
    /// Same document: largest portrait distance.
    pub same_document_portrait: u32,
    /// Same document: largest data distance.
    pub same_document_data: u32,
    /// Same portrait: largest portrait distance.
    pub same_portrait_portrait: u32,
    /// Same portrait: smallest data distance (the data must differ).
    pub same_portrait_data_at_least: u32,
    /// Same personal data: largest data distance.
    pub same_personal_data_data: u32,
    /// Same personal data: smallest portrait distance (the portrait must differ).
    pub same_personal_data_portrait_at_least: u32,
    /// A partial match's agreeing zone: largest colour distance ([`ZoneColour::distance`]).
    pub partial_max_colour_distance: u32,
}

/// A reuse model file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReuseModelError {
    /// Unreadable file.
    #[error("cannot read reuse model {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Invalid TOML or shape.
    #[error("invalid reuse model: {0}")]
    Parse(#[from] toml::de::Error),
    /// Values that cannot work.
    #[error("invalid reuse model: {0}")]
    Invalid(&'static str),
}

/// How one stored document compares with the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The kind of reuse.
    pub kind: ReasonCode,
    /// Portrait-zone distance.
    pub portrait_distance: u32,
    /// Data-zone distance.
    pub data_distance: u32,
    /// Whole-card distance (evidence only).
    pub card_distance: u32,
    /// The query matched turned 180°.
    pub turned: bool,
    /// The framing of the query's card that matched.
    pub framing: Framing,
    /// For a partial match, how far the agreeing zone's colours are apart (evidence; `None` when
    /// the stored document has no zone colours).
    pub colour_distance: Option<u32>,
}

impl ReuseModel {
    /// The model shipped in `models/reuse.toml`.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED_MODEL).expect("models/reuse.toml is validated by the test suite")
    }

    /// Parses and validates model text.
    pub fn parse(text: &str) -> Result<Self, ReuseModelError> {
        let model: ReuseModel = toml::from_str(text)?;
        let m = &model.matching;
        if m.search_radius > 47 {
            return Err(ReuseModelError::Invalid("search_radius above 47"));
        }
        if [
            m.same_document_portrait,
            m.same_document_data,
            m.same_portrait_portrait,
            m.same_personal_data_data,
        ]
        .iter()
        .any(|&limit| limit > m.search_radius)
            || model.crops.same_document_inner_portrait.min(model.crops.same_document_inner_data)
                > m.search_radius
        {
            return Err(ReuseModelError::Invalid(
                "a match distance exceeds search_radius: the index would miss it",
            ));
        }
        let layout = &model.layout;
        let zones_ok =
            [layout.portrait, layout.data, layout.portrait_inner, layout.data_inner].iter().all(|z| {
                (0.0..=1.0).contains(&z[0])
                    && z[0] < z[2]
                    && z[2] <= 1.0
                    && (0.0..=1.0).contains(&z[1])
                    && z[1] < z[3]
                    && z[3] <= 1.0
            });
        if !zones_ok || model.layout.card_width < 64 || model.layout.card_height < 64 {
            return Err(ReuseModelError::Invalid(
                "zones must be non-empty boxes inside a card of at least 64 px",
            ));
        }
        let c = &model.crops;
        if c.descriptor_radius > 47
            || !(c.scale_range[0] > 0.0 && c.scale_range[0] < c.scale_range[1])
            || c.min_inliers < 3
        {
            return Err(ReuseModelError::Invalid(
                "crops: descriptor_radius at most 47, a scale_range from low to high, min_inliers at least 3",
            ));
        }
        Ok(model)
    }

    /// Loads a tuned copy of `models/reuse.toml`.
    pub fn load(path: &Path) -> Result<Self, ReuseModelError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ReuseModelError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Judges a stored document against the query, trying every reading of the query (both ways
    /// up, every framing).
    pub fn judge(&self, query: &DocumentPrint, stored: &ZoneHashes) -> Option<Verdict> {
        query.readings().filter_map(|reading| self.judge_one(reading, stored)).min_by_key(|verdict| {
            (kind_rank(verdict.kind), verdict.portrait_distance + verdict.data_distance)
        })
    }

    /// The query's reading closest to a stored document the hashes do not judge reused, as the
    /// only kind verification can make of it alone: the same document.
    fn unjudged(&self, query: &DocumentPrint, stored: &ZoneHashes) -> Verdict {
        query
            .readings()
            .map(|reading| {
                let hashes = reading.hashes;
                Verdict {
                    kind: ReasonCode::ReuseSameDocument,
                    portrait_distance: hashes.portrait.hamming_distance(&stored.portrait),
                    data_distance: hashes.data.hamming_distance(&stored.data),
                    card_distance: hashes.card.hamming_distance(&stored.card),
                    turned: reading.turned,
                    framing: reading.framing,
                    colour_distance: None,
                }
            })
            .min_by_key(|verdict| verdict.portrait_distance + verdict.data_distance)
            .expect("a print has readings")
    }

    fn judge_one(&self, reading: Reading<'_>, stored: &ZoneHashes) -> Option<Verdict> {
        let m = &self.matching;
        let query = reading.hashes;
        let portrait_distance = query.portrait.hamming_distance(&stored.portrait);
        let data_distance = query.data.hamming_distance(&stored.data);
        let portrait_usable = query.portrait_quality.min(stored.portrait_quality) >= m.min_zone_quality;
        let data_usable = query.data_quality.min(stored.data_quality) >= m.min_zone_quality;
        let colours = |a: Option<ZoneColour>, b: Option<ZoneColour>| Some(a?.distance(&b?));
        let portrait_colour = colours(query.portrait_colour, stored.portrait_colour);
        let data_colour = colours(query.data_colour, stored.data_colour);
        // A zone that agrees in luma must agree in colour too (when both documents have colours).
        let alike =
            |colour: Option<u32>| colour.is_none_or(|distance| distance <= m.partial_max_colour_distance);
        let (kind, colour_distance) = if portrait_usable
            && data_usable
            && portrait_distance <= m.same_document_portrait
            && data_distance <= m.same_document_data
        {
            (ReasonCode::ReuseSameDocument, None)
        } else if portrait_usable
            && portrait_distance <= m.same_portrait_portrait
            && data_distance >= m.same_portrait_data_at_least
            && alike(portrait_colour)
        {
            (ReasonCode::ReuseSamePortrait, portrait_colour)
        } else if data_usable
            && data_distance <= m.same_personal_data_data
            && portrait_distance >= m.same_personal_data_portrait_at_least
            && alike(data_colour)
        {
            (ReasonCode::ReuseSamePersonalData, data_colour)
        } else {
            return None;
        };
        Some(Verdict {
            kind,
            portrait_distance,
            data_distance,
            card_distance: query.card.hamming_distance(&stored.card),
            turned: reading.turned,
            framing: reading.framing,
            colour_distance,
        })
    }

    /// Judges a stored card against the query read as a crop of it: both inner zones close. The
    /// whole-card distance is left to the caller.
    fn judge_crop(&self, query: &InnerHashes, stored: &InnerHashes, turned: bool) -> Option<Verdict> {
        let c = &self.crops;
        let portrait_distance = query.portrait.hamming_distance(&stored.portrait);
        let data_distance = query.data.hamming_distance(&stored.data);
        let usable =
            [query.portrait_quality, stored.portrait_quality, query.data_quality, stored.data_quality]
                .iter()
                .all(|&quality| quality >= self.matching.min_zone_quality);
        (usable
            && portrait_distance <= c.same_document_inner_portrait
            && data_distance <= c.same_document_inner_data)
            .then_some(Verdict {
                kind: ReasonCode::ReuseSameDocument,
                portrait_distance,
                data_distance,
                card_distance: 0,
                turned,
                framing: Framing::CropFrame,
                colour_distance: None,
            })
    }

    /// Does a crop-frame `same_document` verdict overturn a `partial` one for the same stored
    /// card? A frame a few pixels off (a card in perspective) can move one zone's hash far enough
    /// to look swapped while the inner zones, read in a frame fitted on the stored layout, agree.
    /// But the inner zones are searched over shifted readings, and two generated faces can come
    /// within the crop limit that way: the disputed zone must agree as closely as a partial
    /// verdict's agreeing zone has to.
    fn crop_overturns(&self, partial: &Verdict, crop: &Verdict) -> bool {
        let m = &self.matching;
        match partial.kind {
            ReasonCode::ReuseSamePortrait => crop.data_distance <= m.same_personal_data_data,
            ReasonCode::ReuseSamePersonalData => crop.portrait_distance <= m.same_portrait_portrait,
            _ => false,
        }
    }
}

/// Stored cards per layout that keep their keypoints: two, so that a query of one of them can be
/// masked by the other.
pub const TEMPLATE_REFERENCES: usize = 2;

/// Whole-document reuse outranks partial reuse when both orientations match.
pub(super) fn kind_rank(kind: ReasonCode) -> u8 {
    match kind {
        ReasonCode::ReuseSameDocument => 0,
        _ => 1,
    }
}

/// A document in the perceptual index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedDocument {
    /// Its account.
    pub account_id: AccountId,
    /// The caller's document id.
    pub document_id: DocumentId,
    /// When it was registered (Unix ms).
    pub registered_at_ms: i64,
    /// Its number in the store's change sequence (`storage`); 0 outside a store.
    pub sequence: i64,
    /// Its zone hashes as registered.
    pub hashes: ZoneHashes,
    /// Its inner-zone hashes and keypoints (none for documents stored before crops were looked for).
    pub crop: Option<CropPrint>,
}

/// A stored document the indexes propose: judged reused by its zone hashes, or only near enough on
/// one zone for verification to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal<'a> {
    /// The stored document.
    pub document: &'a IndexedDocument,
    /// How the hashes compare: the kind they judge, or for an unjudged candidate its closest
    /// reading as `same_document`, the only kind verification can make of it.
    pub verdict: Verdict,
    /// The zone hashes judged it reused.
    pub judged: bool,
    /// Where the query lies on it, when the query was read as a crop of it.
    pub frame: Option<CropFrame>,
}

/// A stored document the query reuses: proposed by the indexes and verified on its keypoints.
#[derive(Debug, Clone, PartialEq)]
pub struct PerceptualHit<'a> {
    /// The stored document.
    pub document: &'a IndexedDocument,
    /// How it matched (its kind set by verification).
    pub verdict: Verdict,
    /// The geometric agreement of the two cards' keypoints.
    pub verification: Verification,
}

/// The in-memory perceptual index of every registered document: rebuilt from the store at start-up,
/// kept in step on registration and erasure.
#[derive(Debug, Default)]
pub struct PerceptualIndex {
    portraits: HammingIndex<u32>,
    data: HammingIndex<u32>,
    crops: CropIndex,
    documents: Vec<Option<IndexedDocument>>,
    free: Vec<u32>,
    by_account: HashMap<AccountId, Vec<u32>>,
}

impl PerceptualIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// The document filed under `number` (numbers are given in order of insertion and reused after
    /// an erasure).
    pub fn document(&self, number: u32) -> Option<&IndexedDocument> {
        self.documents.get(number as usize)?.as_ref()
    }

    /// Documents indexed.
    pub fn len(&self) -> usize {
        self.portraits.len()
    }

    /// Nothing indexed.
    pub fn is_empty(&self) -> bool {
        self.portraits.is_empty()
    }

    /// Adds a registered document.
    pub fn insert(&mut self, document: IndexedDocument) {
        let hashes = document.hashes;
        let crop = document.crop.clone();
        let number = self.file(document);
        self.portraits.insert(&hashes.portrait, number);
        self.data.insert(&hashes.data, number);
        if let Some(crop) = crop {
            self.crops.insert(number, &crop);
        }
    }

    /// Adds many registered documents at once: start-up from the store, straight into the hash
    /// indexes' frozen layers.
    pub fn extend(&mut self, documents: impl IntoIterator<Item = IndexedDocument>) {
        let filed: Vec<(ZoneHashes, u32)> =
            documents.into_iter().map(|document| (document.hashes, self.file(document))).collect();
        self.portraits.extend(filed.iter().map(|(hashes, number)| (hashes.portrait, *number)));
        self.data.extend(filed.iter().map(|(hashes, number)| (hashes.data, *number)));
        let documents = &self.documents;
        let crops = filed.iter().filter_map(|(_, number)| {
            documents[*number as usize]
                .as_ref()
                .and_then(|document| document.crop.as_ref())
                .map(|crop| (*number, crop))
        });
        self.crops.extend(crops);
    }

    /// Files `document` under a free number, which it returns.
    fn file(&mut self, document: IndexedDocument) -> u32 {
        let number = match self.free.pop() {
            Some(number) => number,
            None => {
                self.documents.push(None);
                u32::try_from(self.documents.len() - 1).expect("at most 2^32 documents in one index")
            }
        };
        self.by_account.entry(document.account_id.clone()).or_default().push(number);
        self.documents[number as usize] = Some(document);
        number
    }

    /// Whether `account`'s `document` is indexed as registered at `sequence`.
    pub fn holds(&self, account: &AccountId, document: &DocumentId, sequence: i64) -> bool {
        self.by_account.get(account).into_iter().flatten().any(|&number| {
            self.document(number)
                .is_some_and(|indexed| indexed.document_id == *document && indexed.sequence == sequence)
        })
    }

    /// Removes every document of `account`; returns how many.
    pub fn remove_account(&mut self, account: &AccountId) -> usize {
        let numbers = self.by_account.remove(account).unwrap_or_default();
        for &number in &numbers {
            if let Some(document) = self.documents[number as usize].take() {
                self.portraits.remove(&document.hashes.portrait, |n| *n == number);
                self.data.remove(&document.hashes.data, |n| *n == number);
                if let Some(crop) = &document.crop {
                    self.crops.remove(number, crop);
                }
                self.free.push(number);
            }
        }
        numbers.len()
    }

    /// Every stored document of another account the indexes propose for the query: those the zone
    /// hashes judge reused first (closest first), then the other documents either zone found
    /// within the search radius, for verification to decide.
    pub fn propose(
        &self,
        query: &DocumentPrint,
        exclude_account: Option<&AccountId>,
        model: &ReuseModel,
    ) -> Vec<Proposal<'_>> {
        let radius = model.matching.search_radius;
        let mut candidates: Vec<u32> = Vec::new();
        for Reading { hashes, .. } in query.readings() {
            candidates.extend(self.portraits.search(&hashes.portrait, radius).iter().map(|hit| *hit.value));
            candidates.extend(self.data.search(&hashes.data, radius).iter().map(|hit| *hit.value));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let other_account = |number: u32| {
            self.documents[number as usize]
                .as_ref()
                .filter(|document| Some(&document.account_id) != exclude_account)
        };
        let mut verdicts: BTreeMap<u32, Verdict> = BTreeMap::new();
        let mut frames: BTreeMap<u32, CropFrame> = BTreeMap::new();
        let mut unjudged: BTreeMap<u32, Verdict> = BTreeMap::new();
        for number in candidates {
            let Some(document) = other_account(number) else { continue };
            match model.judge(query, &document.hashes) {
                Some(verdict) => verdicts.insert(number, verdict),
                None => unjudged.insert(number, model.unjudged(query, &document.hashes)),
            };
        }
        if !verdicts.values().any(|verdict| verdict.kind == ReasonCode::ReuseSameDocument) {
            for (number, (crop, frame)) in self.crop_verdicts(query, model) {
                if verdicts.get(&number).is_none_or(|partial| model.crop_overturns(partial, &crop)) {
                    unjudged.remove(&number);
                    verdicts.insert(number, crop);
                    frames.insert(number, frame);
                }
            }
        }
        let mut proposals: Vec<Proposal<'_>> = verdicts
            .into_iter()
            .map(|(number, verdict)| (number, verdict, true))
            .chain(unjudged.into_iter().map(|(number, verdict)| (number, verdict, false)))
            .filter_map(|(number, verdict, judged)| {
                let frame = frames.get(&number).copied();
                Some(Proposal { document: other_account(number)?, verdict, judged, frame })
            })
            .collect();
        proposals.sort_by_key(|proposal| {
            (
                !proposal.judged,
                kind_rank(proposal.verdict.kind),
                proposal.verdict.portrait_distance + proposal.verdict.data_distance,
                proposal.document.registered_at_ms,
            )
        });
        proposals
    }

    /// Stored documents the query is a crop of: the query's card (each way up) read in every frame
    /// its keypoints fit on a known layout, its inner zones judged against the cards they find; each
    /// with the frame it was closest in.
    fn crop_verdicts(
        &self,
        query: &DocumentPrint,
        model: &ReuseModel,
    ) -> BTreeMap<u32, (Verdict, CropFrame)> {
        let mut best: BTreeMap<u32, (Verdict, CropFrame)> = BTreeMap::new();
        let limits = (model.crops.same_document_inner_portrait, model.crops.same_document_inner_data);
        for (turned, frame, inner) in self.crop_readings(query, model) {
            for number in self.crops.candidates(&inner, model.matching.search_radius) {
                let Some(document) = self.documents[number as usize].as_ref() else { continue };
                let Some(stored) = &document.crop else { continue };
                // One zone is close (that is how the candidate was found): the other may be a pixel
                // or two out of line.
                let judged = model.judge_crop(&inner, &stored.inner, turned).or_else(|| {
                    let aligned =
                        query.inner_hashes_aligned(&frame, turned, &model.layout, &stored.inner, limits);
                    model.judge_crop(&aligned, &stored.inner, turned)
                });
                let Some(mut verdict) = judged else { continue };
                let card = if turned { &query.turned.card } else { &query.upright.card };
                verdict.card_distance = card.hamming_distance(&document.hashes.card);
                let closer = |(kept, _): &(Verdict, CropFrame)| {
                    verdict.portrait_distance + verdict.data_distance
                        < kept.portrait_distance + kept.data_distance
                };
                if best.get(&number).is_none_or(closer) {
                    best.insert(number, (verdict, frame));
                }
            }
        }
        best
    }

    /// The query read as a crop: its inner-zone hashes in every frame its keypoints fit on a known
    /// layout, upright (`false`) and turned 180° (`true`).
    pub fn crop_readings(
        &self,
        query: &DocumentPrint,
        model: &ReuseModel,
    ) -> Vec<(bool, CropFrame, InnerHashes)> {
        [(false, &query.keypoints[0]), (true, &query.keypoints[1])]
            .into_iter()
            .flat_map(|(turned, keypoints)| {
                self.crops
                    .frames(
                        keypoints,
                        &model.crops,
                        model.layout.card_size(),
                        model.crops.search_frame_margin,
                    )
                    .into_iter()
                    .map(move |frame| {
                        (turned, frame, query.inner_hashes_in_frame(&frame, turned, &model.layout))
                    })
            })
            .collect()
    }

    /// What a registration of `query` stores for finding crops of it. When its keypoints fit a
    /// stored layout (either way up), its inner-zone hashes are taken in that layout's frame, where
    /// a crop of it will be read: a capture framed a few pixels off, or itself cropped, is then
    /// still found. Otherwise its card starts a new layout: its own inner-zone hashes and its
    /// keypoints. A card that fits a layout fewer than [`TEMPLATE_REFERENCES`] stored cards give
    /// stores its keypoints too, unless it reuses one of them (`reused`): verification masks what a
    /// query shares with one such card of another holder, the template's print.
    pub fn crop_print_to_store(&self, query: &DocumentPrint, model: &ReuseModel, reused: bool) -> CropPrint {
        let fitted = [false, true].into_iter().find_map(|turned| {
            let frames = self.crops.frames(
                &query.keypoints[usize::from(turned)],
                &model.crops,
                model.layout.card_size(),
                model.crops.frame_margin,
            );
            // A whole card fits its layout in place; a frame a period of a repeated pattern away
            // can fit about as well, and must not decide where its inner zones are read.
            let in_place = frames.iter().find(|frame| !turned && frame.in_place(&model.layout));
            in_place.or(frames.first()).map(|frame| (*frame, turned))
        });
        let inner = match fitted {
            Some((frame, false)) if frame.in_place(&model.layout) => query.inner,
            Some((frame, turned)) => query.inner_hashes_in_frame(&frame, turned, &model.layout),
            None => query.inner,
        };
        let references = self.template_references(&query.keypoints[0], model).len();
        let keypoints = if fitted.is_none() || (references < TEMPLATE_REFERENCES && !reused) {
            query.keypoints_to_store(&model.layout)
        } else {
            Vec::new()
        };
        CropPrint { inner, keypoints }
    }

    /// The stored cards that give the layout of a card with `keypoints`: those whose keypoints
    /// fit it, best fit first. Verification reads the template's print from them.
    pub fn template_references(&self, keypoints: &[Keypoint], model: &ReuseModel) -> Vec<&IndexedDocument> {
        self.crops
            .fitting_documents(
                keypoints,
                &model.crops,
                model.layout.card_size(),
                model.crops.search_frame_margin,
            )
            .into_iter()
            .filter_map(|number| self.documents[number as usize].as_ref())
            .collect()
    }

    /// Where reuse reads an upload the locator could not outline: on a known layout's card fitted
    /// from keypoints ([`super::layout_fit`]); `None` when it was outlined, the model has no
    /// `[layout_fit]`, or no known layout fits.
    pub fn refit_on_known_layout(
        &self,
        planes: &WorkingPlanes,
        location: &DocumentLocation,
        model: &ReuseModel,
    ) -> Option<DocumentLocation> {
        let context = FitContext {
            fitting: model.layout_fit.as_ref()?,
            layout: &model.layout,
            verification: &model.verification,
            vote_radius: model.crops.descriptor_radius,
        };
        refit_on_known_layout(&self.crops, planes, location, context)
    }

    /// Keypoints stored for known layouts.
    pub fn stored_keypoints(&self) -> usize {
        self.crops.stored_keypoints()
    }

    /// Bytes held by the hash indexes and the document table (not counting id strings and the
    /// documents' copies of their crop prints).
    pub fn heap_bytes(&self) -> usize {
        self.portraits.heap_bytes()
            + self.data.heap_bytes()
            + self.crops.heap_bytes()
            + self.documents.capacity() * size_of::<Option<IndexedDocument>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fingerprint::pdq::Pdq;

    /// A pseudo-random hash (SplitMix64 per word): different seeds are ~128 bits apart.
    fn hash(seed: u16) -> Pdq {
        Pdq(std::array::from_fn(|i| {
            let mut z = (u64::from(seed) << 8 | i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u16
        }))
    }

    fn flip(hash: &Pdq, bits: usize) -> Pdq {
        let mut out = *hash;
        for bit in 0..bits {
            out.0[bit % 16] ^= 1 << (bit / 16);
        }
        out
    }

    /// The proposals the zone hashes judge reused.
    fn judged<'a>(
        index: &'a PerceptualIndex,
        query: &DocumentPrint,
        model: &ReuseModel,
    ) -> Vec<Proposal<'a>> {
        index.propose(query, None, model).into_iter().filter(|proposal| proposal.judged).collect()
    }

    fn zones(portrait: Pdq, data: Pdq) -> ZoneHashes {
        ZoneHashes {
            card: portrait,
            portrait,
            data,
            portrait_quality: 100,
            data_quality: 100,
            portrait_colour: None,
            data_colour: None,
        }
    }

    fn print(hashes: ZoneHashes) -> DocumentPrint {
        let turned = zones(hash(999), hash(998));
        DocumentPrint {
            corners: [(0.0, 0.0); 4],
            located: false,
            framing: Framing::WholeFrame,
            upright: hashes,
            turned,
            alternatives: Vec::new(),
            inner: InnerHashes {
                portrait: hash(997),
                data: hash(996),
                portrait_quality: 100,
                data_quality: 100,
            },
            keypoints: [Vec::new(), Vec::new()],
            card: image::GrayImage::new(1, 1),
        }
    }

    fn document(account: &str, hashes: ZoneHashes) -> IndexedDocument {
        IndexedDocument {
            account_id: AccountId::new(account).unwrap(),
            document_id: DocumentId::new("d").unwrap(),
            registered_at_ms: 1,
            sequence: 0,
            hashes,
            crop: None,
        }
    }

    #[test]
    fn judges_each_kind_from_both_zones() {
        let model = ReuseModel::embedded();
        let mut index = PerceptualIndex::new();
        index.insert(document("holder", zones(hash(1), hash(2))));
        index.insert(document("stranger", zones(hash(3), hash(4))));
        let kinds = |query: ZoneHashes| -> Vec<(String, ReasonCode)> {
            judged(&index, &print(query), &model)
                .iter()
                .map(|hit| (hit.document.account_id.as_str().to_owned(), hit.verdict.kind))
                .collect()
        };
        let holder = "holder".to_owned();
        assert_eq!(
            kinds(zones(flip(&hash(1), 20), flip(&hash(2), 20))),
            [(holder.clone(), ReasonCode::ReuseSameDocument)]
        );
        assert_eq!(
            kinds(zones(flip(&hash(1), 4), hash(50))),
            [(holder.clone(), ReasonCode::ReuseSamePortrait)]
        );
        assert_eq!(kinds(zones(hash(60), flip(&hash(2), 4))), [(holder, ReasonCode::ReuseSamePersonalData)]);
        // One zone close but not close enough for a partial match, the other far: nothing.
        assert!(kinds(zones(flip(&hash(1), 24), hash(70))).is_empty());
    }

    /// An index holding `registered` as "holder"'s document, crop print included.
    fn holding_with_its_crop_print(registered: &DocumentPrint, model: &ReuseModel) -> PerceptualIndex {
        let mut index = PerceptualIndex::new();
        let crop = index.crop_print_to_store(registered, model, false);
        index.insert(IndexedDocument { crop: Some(crop), ..document("holder", registered.upright) });
        index
    }

    #[test]
    fn a_partial_match_whose_crop_frame_agrees_is_the_same_document() {
        use crate::eval::synthetic::fixtures::{document_print, evaluation_card_on_a_table};
        let model = ReuseModel::embedded();
        // A card of the reuse evaluation photographed on a table, in perspective: read whole, its
        // data zone matches and its portrait zone does not, which says "same data, another photo".
        let (registered, photo) = evaluation_card_on_a_table(5290);
        let (registered, photo) = (document_print(&registered), document_print(&photo));
        let whole = model.judge(&photo, &registered.upright).map(|verdict| verdict.kind);
        assert_eq!(whole, Some(ReasonCode::ReuseSamePersonalData));
        let index = holding_with_its_crop_print(&registered, &model);
        let hits = judged(&index, &photo, &model);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].verdict.kind, ReasonCode::ReuseSameDocument);
        assert_eq!(hits[0].verdict.framing, Framing::CropFrame);
    }

    #[test]
    fn a_data_swap_stays_one_though_the_crop_frame_finds_a_similar_face() {
        use crate::eval::synthetic::fixtures::{document_print, evaluation_card_with_another_portrait};
        let model = ReuseModel::embedded();
        // The evaluation's data swap of card 2016: the crop path, searching shifted readings of
        // the inner portrait zone, brings the new generated face within its limit (26 bits).
        let (registered, swapped) = evaluation_card_with_another_portrait(2016);
        let (registered, swapped) = (document_print(&registered), document_print(&swapped));
        let index = holding_with_its_crop_print(&registered, &model);
        let hits = judged(&index, &swapped, &model);
        let kinds: Vec<ReasonCode> = hits.iter().map(|hit| hit.verdict.kind).collect();
        assert_eq!(kinds, [ReasonCode::ReuseSamePersonalData]);
        // The data zone agrees in colour as well as in luma.
        assert!(
            hits[0].verdict.colour_distance.is_some_and(|distance| distance <= 4),
            "{:?}",
            hits[0].verdict
        );
    }

    #[test]
    fn two_portraits_alike_in_luma_but_not_in_colour_are_not_one_portrait() {
        use crate::eval::synthetic::fixtures::{document_print, evaluation_upload};
        let model = ReuseModel::embedded();
        // The evaluation's one false pair before zone colours (cards 790 and 1130 of template 0):
        // two generated faces 12 bits apart in the portrait zone, on green and pink backdrops.
        let (first, second) =
            (document_print(&evaluation_upload(790)), document_print(&evaluation_upload(1130)));
        let index = holding_with_its_crop_print(&first, &model);
        assert!(judged(&index, &second, &model).is_empty());
        // Without the colours (as for a document stored before them) luma alone links them.
        let mut colourless = second.clone();
        let readings = [&mut colourless.upright, &mut colourless.turned].into_iter().chain(
            colourless.alternatives.iter_mut().flat_map(|other| [&mut other.upright, &mut other.turned]),
        );
        for hashes in readings {
            (hashes.portrait_colour, hashes.data_colour) = (None, None);
        }
        let kinds: Vec<ReasonCode> =
            judged(&index, &colourless, &model).iter().map(|hit| hit.verdict.kind).collect();
        assert_eq!(kinds, [ReasonCode::ReuseSamePortrait]);
    }

    #[test]
    fn erasing_an_account_empties_its_entries() {
        let model = ReuseModel::embedded();
        let mut index = PerceptualIndex::new();
        index.insert(document("a", zones(hash(1), hash(2))));
        index.insert(document("b", zones(hash(1), hash(2))));
        assert_eq!(index.remove_account(&AccountId::new("a").unwrap()), 1);
        let hits = judged(&index, &print(zones(hash(1), hash(2))), &model);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].document.account_id.as_str(), "b");
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn models_that_cannot_work_are_refused() {
        let text = EMBEDDED_MODEL.replace("search_radius = 31", "search_radius = 20");
        assert!(matches!(ReuseModel::parse(&text), Err(ReuseModelError::Invalid(_))));
        let text =
            EMBEDDED_MODEL.replace("portrait = [0.0, 0.15, 0.34, 1.0]", "portrait = [0.5, 0.15, 0.34, 1.0]");
        assert!(matches!(ReuseModel::parse(&text), Err(ReuseModelError::Invalid(_))));
        assert!(ReuseModel::parse(&EMBEDDED_MODEL.replace("[matching]", "[matchin]")).is_err());
    }
}
