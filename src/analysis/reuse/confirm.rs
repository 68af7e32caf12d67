//! Confirming proposals: each candidate the zone indexes propose is verified on its stored keypoints
//! ([`super::verify`]) with the template's print masked out, and kept as a match of the kind its
//! agreeing zones support.

use super::perceptual::{
    IndexedDocument, PerceptualHit, PerceptualIndex, Proposal, ReuseModel, TEMPLATE_REFERENCES, kind_rank,
};
use super::verify::{
    KeypointReading, Verification, card_homography, query_keypoints, query_keypoints_through, verify,
    verify_way, without_template,
};
use crate::analysis::fingerprint::document::{CropFrame, DocumentPrint, ZoneHashes};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::domain::findings::ReasonCode;

/// The proposals whose pixels agree, as hits, closest first: at most `max_candidates` proposals are
/// verified (those the hashes judged reused first), each on the keypoints `stored_keypoints` reads
/// for it (a document stored before verification has none and is not matched).
///
/// Both cards' keypoints are first masked by the template: those agreeing with another stored card
/// of the query's layout ([`PerceptualIndex::template_references`], never the candidate itself) are
/// the template's print, shared by every holder, and are left out. A same-document proposal is
/// confirmed when the personal data and the whole card agree ([`Verification::document_verified`]),
/// and a candidate the hashes did not judge (it can only be the same document) when the portrait
/// agrees too; a portrait (or personal-data) reuse, which the hashes judged on the other zone
/// differing by half its bits, when its own zone agrees.
pub fn confirm<'a, E>(
    proposals: Vec<Proposal<'a>>,
    query: &DocumentPrint,
    index: &'a PerceptualIndex,
    stored_keypoints: impl FnMut(&IndexedDocument) -> Result<Option<Vec<Keypoint>>, E>,
    model: &ReuseModel,
) -> Result<Vec<PerceptualHit<'a>>, E> {
    let checks = &model.verification;
    let proposals: Vec<Proposal<'a>> = proposals.into_iter().take(checks.max_candidates).collect();
    if proposals.is_empty() {
        return Ok(Vec::new());
    }
    let mut verifier = Verifier::new(query, index, stored_keypoints, model);
    let mut hits = Vec::new();
    for proposal in proposals {
        let sought = match proposal.verdict.kind {
            _ if !proposal.judged => Sought::SameDocument { judged: false },
            ReasonCode::ReuseSameDocument => Sought::SameDocument { judged: true },
            _ => Sought::ZoneReuse,
        };
        let Some(verification) =
            verifier.verify(proposal.document, proposal.verdict.turned, proposal.frame.as_ref(), sought)?
        else {
            continue;
        };
        let confirmed = match proposal.verdict.kind {
            ReasonCode::ReuseSamePortrait if proposal.judged => verification.portrait_verified(checks),
            ReasonCode::ReuseSamePersonalData if proposal.judged => verification.data_verified(checks),
            _ => verification.document_verified(checks, proposal.judged),
        };
        if confirmed {
            hits.push(PerceptualHit { document: proposal.document, verdict: proposal.verdict, verification });
        }
    }
    hits.sort_by_key(|hit| {
        (
            kind_rank(hit.verdict.kind),
            hit.verdict.portrait_distance + hit.verdict.data_distance,
            hit.document.registered_at_ms,
        )
    });
    Ok(hits)
}

/// What a proposal's verification must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sought {
    /// The same document.
    SameDocument {
        /// The zone hashes judged both zones alike, so that the portrait need not agree.
        judged: bool,
    },
    /// A portrait or personal-data reuse the zone hashes judged.
    ZoneReuse,
}

/// Verifies stored documents against one query: its keypoints both ways up, the stored cards that
/// give its layout, and the keypoints read so far.
pub struct Verifier<'a, 'm, L> {
    print: &'m DocumentPrint,
    ways: [Vec<Keypoint>; 2],
    /// The query's zone hashes, every reading.
    query: Vec<ZoneHashes>,
    references: [Vec<&'a IndexedDocument>; 2],
    read: Vec<(&'a IndexedDocument, Option<Vec<Keypoint>>)>,
    stored_keypoints: L,
    model: &'m ReuseModel,
}

impl<'a, 'm, L, E> Verifier<'a, 'm, L>
where
    L: FnMut(&IndexedDocument) -> Result<Option<Vec<Keypoint>>, E>,
{
    /// A verifier of `query`, reading stored keypoints with `stored_keypoints`.
    pub fn new(
        query: &'m DocumentPrint,
        index: &'a PerceptualIndex,
        stored_keypoints: L,
        model: &'m ReuseModel,
    ) -> Self {
        Verifier {
            print: query,
            ways: query_keypoints(query, &model.layout, &model.verification),
            query: query.readings().map(|reading| *reading.hashes).collect(),
            references: [
                index.template_references(&query.keypoints[0], model),
                index.template_references(&query.keypoints[1], model),
            ],
            read: Vec::new(),
            stored_keypoints,
            model,
        }
    }

    /// How `document`'s keypoints agree with the query's, both with the template's print masked
    /// out (what they share with the other stored cards that give the layout, at most
    /// [`TEMPLATE_REFERENCES`], of holders other than theirs); `None` when it has no stored
    /// keypoints. A query read as a crop of `document` in `frame` is also verified read in that
    /// frame. When the same document is `sought` and that is none (its portrait needed unless the
    /// hashes judged it), but the whole card agrees well enough (`second_look_min_card_inliers`),
    /// the query's card is read again resampled onto the stored card through that fit (never for a
    /// portrait or personal-data reuse: a second look at two low-detail portraits is a second
    /// chance for a false link). The strongest evidence wins.
    pub fn verify(
        &mut self,
        document: &'a IndexedDocument,
        turned_first: bool,
        frame: Option<&CropFrame>,
        sought: Sought,
    ) -> Result<Option<Verification>, E> {
        let Some(stored) = self.keypoints_of(document)?.map(<[Keypoint]>::to_vec) else { return Ok(None) };
        let (layout, checks) = (&self.model.layout, &self.model.verification);
        let templates = self.templates_for(document)?;
        let masked = |keypoints: &[Keypoint], way: usize| {
            templates[way]
                .iter()
                .fold(keypoints.to_vec(), |kept, template| without_template(&kept, template, layout, checks))
        };
        let personal = [masked(&self.ways[0], 0), masked(&self.ways[1], 1)];
        let stored_personal = [masked(&stored, 0), masked(&stored, 1)];
        let judged = sought == Sought::SameDocument { judged: true };
        let mut best = verify(&personal, &stored_personal, turned_first, judged, layout, checks);
        if let Some(&frame) = frame {
            let way = usize::from(turned_first);
            let to_query = move |x, y| frame.apply(x, y);
            let framed = query_keypoints_through(self.print, to_query, turned_first, layout, checks);
            let in_frame = Verification {
                reading: KeypointReading::CropFrame,
                ..verify_way(&masked(&framed, way), &stored_personal[way], turned_first, layout, checks)
            };
            best = best.or_stronger(in_frame, checks);
        }
        let second_look = matches!(sought, Sought::SameDocument { .. })
            && best.reading == KeypointReading::RectifiedCard
            && !best.document_verified(checks, judged)
            && best.card.inliers >= checks.second_look_min_card_inliers;
        if second_look {
            let (turned, way) = (best.turned, usize::from(best.turned));
            if let Some(fit) = card_homography(&personal[way], &stored_personal[way], layout, checks) {
                let to_query = move |x, y| fit * (x, y);
                let refitted = query_keypoints_through(self.print, to_query, turned, layout, checks);
                let on_fit = Verification {
                    reading: KeypointReading::CardFit,
                    ..verify_way(&masked(&refitted, way), &stored_personal[way], turned, layout, checks)
                };
                best = best.or_stronger(on_fit, checks);
            }
        }
        Ok(Some(best))
    }

    /// The keypoints of the stored cards that give the query's layout each way up, to be masked out
    /// when `document` is verified. A reference must be another holder's card: one the indexes
    /// would propose for the candidate or the query (a copy of it, or its portrait or data) would
    /// mask the very print that is being compared.
    fn templates_for(&mut self, document: &'a IndexedDocument) -> Result<[Vec<Vec<Keypoint>>; 2], E> {
        let radius = self.model.matching.search_radius;
        let near = |a: &ZoneHashes, b: &ZoneHashes| {
            a.portrait.hamming_distance(&b.portrait) <= radius || a.data.hamming_distance(&b.data) <= radius
        };
        let mut templates: [Vec<Vec<Keypoint>>; 2] = [Vec::new(), Vec::new()];
        for (way, kept) in templates.iter_mut().enumerate() {
            let references: Vec<&'a IndexedDocument> = self.references[way]
                .iter()
                .copied()
                .filter(|r| {
                    !std::ptr::eq(*r, document)
                        && !near(&r.hashes, &document.hashes)
                        && !self.query.iter().any(|query| near(&r.hashes, query))
                })
                .take(TEMPLATE_REFERENCES)
                .collect();
            for reference in references {
                if let Some(template) = self.keypoints_of(reference)? {
                    kept.push(template.to_vec());
                }
            }
        }
        Ok(templates)
    }

    fn keypoints_of(&mut self, document: &'a IndexedDocument) -> Result<Option<&[Keypoint]>, E> {
        let at = match self.read.iter().position(|(r, _)| std::ptr::eq(*r, document)) {
            Some(at) => at,
            None => {
                let keypoints = (self.stored_keypoints)(document)?;
                self.read.push((document, keypoints));
                self.read.len() - 1
            }
        };
        Ok(self.read[at].1.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fingerprint::document::Framing;
    use crate::analysis::reuse::verify::keypoints_to_verify;
    use crate::domain::ids::{AccountId, DocumentId};
    use crate::eval::synthetic::capture::encode_jpeg;
    use crate::eval::synthetic::cards::{CARD_HEIGHT, CARD_WIDTH, Template};
    use crate::eval::synthetic::fixtures::document_print;
    use crate::eval::synthetic::transforms::Capture;
    use image::{Rgb, RgbImage};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::convert::Infallible;

    /// The portrait zone painted with what a washed-out, out-of-focus ID photo leaves: a pale,
    /// softly clouded backdrop and a blurred head and shoulders, the same for every card.
    fn with_low_detail_portrait(mut card: RgbImage) -> RgbImage {
        let (right, top) = (CARD_WIDTH * 34 / 100, CARD_HEIGHT * 15 / 100);
        let (cx, cy) = (right as f32 * 0.5, top as f32 + (CARD_HEIGHT - top) as f32 * 0.42);
        for y in top..CARD_HEIGHT {
            for x in 0..right {
                let backdrop = 236.0 - 30.0 * (y - top) as f32 / (CARD_HEIGHT - top) as f32;
                let head = ((x as f32 - cx) / 95.0).powi(2) + ((y as f32 - cy) / 125.0).powi(2);
                let shoulders =
                    ((x as f32 - cx) / 170.0).powi(2) + ((y as f32 - CARD_HEIGHT as f32) / 120.0).powi(2);
                let shade =
                    (1.0 - head).clamp(0.0, 1.0).sqrt() * 45.0 + (1.0 - shoulders).clamp(0.0, 1.0) * 60.0;
                // Soft clouds in the backdrop: shading with no corner in it.
                let (u, v) = (x as f32, y as f32);
                let clouds = 14.0 * ((u / 37.0).sin() * (v / 53.0).cos() + (u / 71.0 + v / 29.0).sin());
                let value = (backdrop - shade + clouds).clamp(0.0, 255.0) as u8;
                card.put_pixel(x, y, Rgb([value, value.saturating_sub(6), value.saturating_sub(12)]));
            }
        }
        card
    }

    fn indexed(
        account: &str,
        print: &DocumentPrint,
        index: &PerceptualIndex,
        model: &ReuseModel,
    ) -> IndexedDocument {
        IndexedDocument {
            account_id: AccountId::new(account).unwrap(),
            document_id: DocumentId::new("front").unwrap(),
            registered_at_ms: 1,
            sequence: 0,
            hashes: print.upright,
            crop: Some(index.crop_print_to_store(print, model, false)),
        }
    }

    /// Registers `prints` in order (accounts `holder-0`, `holder-1`, …) and returns what a query's
    /// proposals and verified hits are, as (account, kind).
    fn search(
        prints: &[DocumentPrint],
        query: &DocumentPrint,
    ) -> (Vec<(String, ReasonCode)>, Vec<PerceptualHit<'static>>) {
        let model: &'static ReuseModel = Box::leak(Box::new(ReuseModel::embedded()));
        let mut index = PerceptualIndex::new();
        let mut stored = std::collections::HashMap::new();
        for (number, print) in prints.iter().enumerate() {
            let account = format!("holder-{number}");
            let document = indexed(&account, print, &index, model);
            stored.insert(account, keypoints_to_verify(print, &model.layout, &model.verification));
            index.insert(document);
        }
        let index: &'static PerceptualIndex = Box::leak(Box::new(index));
        let proposals = index.propose(query, None, model);
        let judged = proposals
            .iter()
            .filter(|proposal| proposal.judged)
            .map(|proposal| (proposal.document.account_id.as_str().to_owned(), proposal.verdict.kind))
            .collect();
        let read = |document: &IndexedDocument| {
            Ok::<_, Infallible>(stored.get(document.account_id.as_str()).cloned())
        };
        let hits = match confirm(proposals, query, index, read, model) {
            Ok(hits) => hits,
            Err(never) => match never {},
        };
        (judged, hits)
    }

    /// The accounts and kinds of `hits`.
    fn found<'h>(hits: &'h [PerceptualHit<'_>]) -> Vec<(&'h str, ReasonCode)> {
        hits.iter().map(|hit| (hit.document.account_id.as_str(), hit.verdict.kind)).collect()
    }

    /// `count` cards of template `template` drawn from `seed`, and their prints as registered.
    fn registered_cards(template: u64, seed: u64, count: usize) -> (Vec<RgbImage>, Vec<DocumentPrint>) {
        let template = Template::new(template);
        let mut rng = StdRng::seed_from_u64(seed);
        let cards: Vec<RgbImage> = (0..count).map(|_| template.render(&template.holder(&mut rng))).collect();
        let prints = cards.iter().map(|card| document_print(&encode_jpeg(card, 92))).collect();
        (cards, prints)
    }

    /// The outside evaluation's commonest false link: two holders of one template whose portraits
    /// are low-detail hash alike. Verification links neither; a perspective photo of one card is
    /// still found, on its personal data and the whole card.
    #[test]
    fn two_holders_low_detail_portraits_are_not_linked_and_a_perspective_photo_is() {
        let template = Template::new(2);
        let mut rng = StdRng::seed_from_u64(4711);
        let holders: Vec<_> = (0..3).map(|_| template.holder(&mut rng)).collect();
        let cards: Vec<RgbImage> =
            holders.iter().map(|holder| with_low_detail_portrait(template.render(holder))).collect();
        let prints: Vec<DocumentPrint> =
            cards.iter().map(|card| document_print(&encode_jpeg(card, 92))).collect();

        // A third holder's card with the same low-detail portrait: the hashes call it the same
        // portrait as both others; verification finds too few agreeing corners in it.
        let (judged, hits) = search(&prints[..2], &prints[2]);
        assert!(
            judged.iter().any(|(_, kind)| *kind == ReasonCode::ReuseSamePortrait),
            "the zone hashes alone would link them: {judged:?}"
        );
        assert!(
            hits.is_empty(),
            "{:?}",
            hits.iter().map(|h| (h.verdict.kind, h.verification)).collect::<Vec<_>>()
        );

        // A perspective photo of the first holder's card is that card.
        let photo = Capture::Perspective.apply(&cards[0], &mut StdRng::seed_from_u64(99));
        let (_, hits) = search(&prints, &document_print(&photo));
        assert_eq!(found(&hits), [("holder-0", ReasonCode::ReuseSameDocument)]);
        let model = ReuseModel::embedded();
        let verification = hits[0].verification;
        assert!(verification.data_verified(&model.verification), "{verification:?}");
        assert!(
            !verification.portrait_verified(&model.verification),
            "a low-detail portrait: {verification:?}"
        );
    }

    /// A crop stretched back to the card's shape is enlarged by up to 1.18×, and BRIEF descriptors
    /// taken at another scale pair badly: read as it lies on the stored card (the frame the crop
    /// path fitted), each of these crops keeps enough agreeing personal data to be verified.
    #[test]
    fn a_crop_is_verified_in_the_frame_its_keypoints_fit() {
        let (cards, prints) = registered_cards(2, 102, 10);
        let model = ReuseModel::embedded();
        // Crops whose whole-card verification kept 21–26 agreeing data keypoints (28 needed).
        for (holder, seed) in [(1, 208), (6, 213), (9, 216)] {
            let crop = Capture::Crop.apply(&cards[holder], &mut StdRng::seed_from_u64(seed));
            let (_, hits) = search(&prints, &document_print(&crop));
            assert_eq!(found(&hits), [(format!("holder-{holder}").as_str(), ReasonCode::ReuseSameDocument)]);
            assert_eq!(hits[0].verdict.framing, Framing::CropFrame);
            let verification = hits[0].verification;
            assert!(verification.data_verified(&model.verification), "{verification:?}");
            assert_eq!(verification.reading, KeypointReading::CropFrame, "{verification:?}");
        }
    }

    /// A card on a scanner's white bed, framed by its print (a few pixels off the card's edges): on
    /// the rectified cards the whole card agrees on 40 pairs and the personal data on 26 (48 and 28
    /// needed); read again through that fit, on 102 and 51, and the card is found.
    #[test]
    fn a_capture_framed_a_little_off_is_verified_on_a_second_look_through_the_card_fit() {
        use crate::eval::synthetic::capture::{CaptureSettings, Device, capture};
        let (cards, prints) = registered_cards(1, 301, 18);
        let mut rng = StdRng::seed_from_u64(9117);
        let settings = CaptureSettings::draw(Device::Scanner, &mut rng);
        let query = document_print(&capture(&cards[17], &settings, &mut rng).jpeg);
        let (_, hits) = search(&prints, &query);
        assert_eq!(found(&hits), [("holder-17", ReasonCode::ReuseSameDocument)]);
        assert_eq!(hits[0].verdict.framing, Framing::PrintBox);
        let verification = hits[0].verification;
        assert_eq!(verification.reading, KeypointReading::CardFit, "{verification:?}");
    }
}
