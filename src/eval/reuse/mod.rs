//! `idforensics eval-reuse`: measures reuse detection on synthetic ID cards (and, optionally, on real
//! photos), with plain PDQ at distance ≤ 31 measured in the same run as the baseline.
//!
//! Per template it renders distinct cards (one holder each) and registers them. Then:
//! - every registered card is searched against all the others: any match is a false match;
//! - each card is captured again with one transform ([`Capture`]) and searched: recall per transform;
//! - cards with the same portrait and new data, and with the same data and a new portrait, are
//!   searched: detection of `same_portrait` and `same_personal_data`.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::synthetic::capture::{
    CaptureSettings, Device, capture, encode_jpeg, messaging_app_resave, print_recapture, screen_recapture,
};
use super::synthetic::cards::{Holder, Template};
use super::synthetic::transforms::Capture;
use crate::analysis::decode::planes::working_planes;
use crate::analysis::decode::{DecodeLimits, decode};
use crate::analysis::fingerprint::Fingerprints;
use crate::analysis::fingerprint::document::{DocumentLocation, DocumentPrint, InnerHashes};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::fingerprint::pdq::Pdq;
use crate::analysis::reuse::confirm::{Sought, Verifier, confirm};
use crate::analysis::reuse::hamming_index::HammingIndex;
use crate::analysis::reuse::perceptual::{IndexedDocument, PerceptualHit, PerceptualIndex};
use crate::analysis::reuse::verify::{STORED_KEYPOINT_BYTES, keypoints_to_verify};
use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::{self, AccountLink};
use crate::engine::Models;

mod report;

/// Real photos smaller than this (long side, pixels) are left out of the evaluation.
const MIN_PHOTO_SIDE: u32 = 256;

/// Distinct cards of one template sampled for the distance and verification table.
const DISTINCT_PAIRS_MEASURED: usize = 5_000;

/// PDQ's customary match threshold, the baseline.
pub const BASELINE_PDQ_RADIUS: u32 = 31;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ReuseEvalConfig {
    /// Number of templates.
    pub templates: u64,
    /// Distinct cards per template.
    pub cards_per_template: usize,
    /// Portrait swaps and data swaps per template (each).
    pub swaps_per_template: usize,
    /// Random seed: the same seed gives the same cards and captures.
    pub seed: u64,
    /// Add each template printed in other colours ([`Template::recoloured`]) as a template of its
    /// own: cards of one layout but different colours are different documents.
    pub recoloured: bool,
    /// Every this many cards (the last of each run) has a low-detail portrait; 0 for none.
    pub low_detail_every: usize,
    /// Cards per template captured again (the first ones); the rest are registered only, to
    /// compare more distinct pairs in the same time.
    pub captured_per_template: usize,
    /// Real photos to register and capture again, besides the cards.
    pub photos: Vec<PathBuf>,
    /// The folder the photos were listed from (reports name files relative to it).
    pub photos_root: Option<PathBuf>,
}

/// Detection counts for one kind of query, ours and the baseline's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Detection {
    /// Queries.
    pub queries: usize,
    /// Found with the expected kind.
    pub detected: usize,
    /// Found, but with another reuse kind.
    pub detected_other_kind: usize,
    /// Queries that also matched some other (wrong) document.
    pub wrong_matches: usize,
    /// Plain PDQ ≤ 31 found the source.
    pub baseline_detected: usize,
    /// Plain PDQ ≤ 31 also matched some other document.
    pub baseline_wrong_matches: usize,
}

/// Distances between a query and its source, for calibration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DistanceSummary {
    /// Pairs measured.
    pub pairs: usize,
    /// Portrait-zone distance quantiles (min, p5, p50, p95, max), best orientation.
    pub portrait: [u32; 5],
    /// Data-zone distance quantiles.
    pub data: [u32; 5],
    /// Global PDQ distance quantiles.
    pub global_pdq: [u32; 5],
    /// Inner portrait-zone distance quantiles, the query read as a crop in its closest fitted frame
    /// (in place when none fits).
    pub inner_portrait: [u32; 5],
    /// Inner data-zone distance quantiles, likewise.
    pub inner_data: [u32; 5],
    /// Verification against the source: inlier quantiles of the whole card, template masked.
    pub card_inliers: [u32; 5],
    /// Likewise, of the portrait zone.
    pub portrait_inliers: [u32; 5],
    /// Likewise, of the personal-data zone.
    pub data_inliers: [u32; 5],
}

/// The evaluation's results.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReuseEvaluation {
    /// Model version evaluated.
    pub model_version: String,
    /// Templates.
    pub templates: u64,
    /// Distinct registered cards.
    pub cards: usize,
    /// Unordered pairs of distinct cards compared (all pairs, the index being exact).
    pub card_pairs: u64,
    /// Of which pairs within one template.
    pub same_template_pairs: u64,
    /// Distinct-card pairs and false matches per kind of pair: `same_template`,
    /// `same_layout_other_colours`, `other_template`, and (across those) `both_low_detail_portraits`.
    pub pair_classes: BTreeMap<String, PairClass>,
    /// Distinct-card pairs reported as reuse by idforensics.
    pub false_match_pairs: usize,
    /// The same, per reported kind.
    pub false_match_kinds: BTreeMap<String, usize>,
    /// Distinct-card pairs within plain PDQ ≤ 31.
    pub baseline_false_match_pairs: usize,
    /// Recall per capture transform (same card, `same_document` or `same_image` expected).
    pub captures: BTreeMap<String, Detection>,
    /// All transforms together.
    pub captures_total: Detection,
    /// Cards captured again through the whole capture chain (`synthetic::capture`): a phone, a
    /// scanner, a phone photo re-sent through a messaging app, a photo of a screen, a scanned print.
    pub chain_captures: BTreeMap<String, Detection>,
    /// Same portrait, new data.
    pub same_portrait: Detection,
    /// Same data, new portrait.
    pub same_personal_data: Detection,
    /// Real photos captured again (when given).
    pub photos: BTreeMap<String, Detection>,
    /// Groups of real photos the index linked to each other (to be checked by eye: a corpus holds
    /// true duplicates too), with the kinds that linked them.
    pub photo_groups: Vec<PhotoGroup>,
    /// Distances per query kind.
    pub distances: BTreeMap<String, DistanceSummary>,
    /// Keypoints stored for the cards' layouts (registrations that started a layout).
    pub stored_keypoints: usize,
    /// Mean bytes of verification keypoints a registration stores (the store's
    /// `verification_keypoints` column).
    pub verification_bytes_per_document: usize,
    /// Distinct cards of one template verified against each other directly (not only when the
    /// indexes propose them): pairs measured, and pairs whose zones all agree as a same-document
    /// match needs.
    pub distinct_pairs_verified: [usize; 2],
}

/// Distinct-card pairs of one kind and how many were reported as reuse.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PairClass {
    /// Pairs of this kind compared.
    pub pairs: u64,
    /// Of which reported as reuse.
    pub false_matches: usize,
}

/// Real photos linked to each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhotoGroup {
    /// The files.
    pub files: Vec<String>,
    /// Reuse kinds among them.
    pub kinds: BTreeSet<String>,
}

/// The fingerprints the evaluation compares, made as the engine makes them.
struct Prints {
    document: DocumentPrint,
    pdq: Pdq,
}

/// The seed of an original card's holder.
fn card_seed(seed: u64, template: u64, card: usize) -> u64 {
    seed ^ (template << 32) ^ card as u64
}

/// The seed of the holder whose portrait or data a swap brings in: hashed, so that it never equals
/// an original card's seed. Until 2026-12-06 it was `seed ^ 0x5A ^
/// number << 12 ^ keep`, which for the first card is the seed of template 0's cards 90 and 91: those
/// swaps brought in a registered card's own portrait or data.
fn swap_seed(seed: u64, number: usize, keep_portrait: bool) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(b"swap")
        .chain_update(seed.to_le_bytes())
        .chain_update((number as u64).to_le_bytes())
        .chain_update([u8::from(keep_portrait)])
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes"))
}

/// The prints of an upload as the engine reads them: with `index`, an upload the locator could not
/// outline is fitted on the index's known layouts ([`PerceptualIndex::refit_on_known_layout`]). The originals are
/// read without (flat renders of the card alone, whose fit is the frame itself).
fn prints_of(bytes: &[u8], index: Option<&PerceptualIndex>, models: &Models) -> Option<Prints> {
    let decoded = decode(bytes, &DecodeLimits::default()).ok()?;
    let planes = working_planes(&decoded.rgb, models.quality.working_long_side);
    let location = DocumentLocation::find(&planes, &models.reuse.layout);
    let location = index
        .and_then(|index| index.refit_on_known_layout(&planes, &location, &models.reuse))
        .unwrap_or(location);
    let fingerprints = Fingerprints::compute(bytes, &decoded, &planes, &location, &models.reuse.layout);
    Some(Prints { document: fingerprints.document, pdq: fingerprints.pdq })
}

/// A registered original.
struct Original {
    account: AccountId,
    template: u64,
    holder: Holder,
    prints: Prints,
}

/// Runs the evaluation.
pub fn evaluate_reuse(config: &ReuseEvalConfig, models: &Models) -> ReuseEvaluation {
    let mut result = ReuseEvaluation {
        model_version: models.reuse.version.clone(),
        templates: config.templates,
        ..ReuseEvaluation::default()
    };
    let mut templates: Vec<Template> = (0..config.templates).map(Template::new).collect();
    if config.recoloured {
        templates.extend((0..config.templates).map(Template::recoloured));
    }
    let template_count = templates.len() as u64;
    let jobs: Vec<(u64, usize)> =
        (0..template_count).flat_map(|t| (0..config.cards_per_template).map(move |c| (t, c))).collect();
    let originals: Vec<Original> = parallel_map(&jobs, |&(template, card)| {
        let mut rng = StdRng::seed_from_u64(card_seed(config.seed, template, card));
        let mut holder = templates[template as usize].holder(&mut rng);
        holder.low_detail_portrait =
            config.low_detail_every > 0 && card % config.low_detail_every == config.low_detail_every - 1;
        let bytes = encode_jpeg(&templates[template as usize].render(&holder), 92);
        let prints = prints_of(&bytes, None, models).expect("a generated card decodes");
        let account = AccountId::new(format!("t{template}-c{card}")).expect("valid id");
        Original { account, template, holder, prints }
    });
    let registered = Registered::new(&originals, models);
    result.cards = originals.len();
    result.stored_keypoints = registered.index.stored_keypoints();
    let verification_keypoints: usize = registered.verification_keypoints.iter().map(Vec::len).sum();
    result.verification_bytes_per_document =
        verification_keypoints * STORED_KEYPOINT_BYTES / originals.len().max(1);
    result.card_pairs = pairs(originals.len());
    result.same_template_pairs = template_count * pairs(config.cards_per_template);
    result.pair_classes = pair_classes(&originals, config.templates);

    // Distinct cards against each other.
    let mut false_pairs = BTreeSet::new();
    let mut baseline_false_pairs = BTreeSet::new();
    for (number, original) in originals.iter().enumerate() {
        for hit in registered.search_original(number, models) {
            let other = registered.numbers[&hit.document.account_id];
            if false_pairs.insert((number.min(other), number.max(other))) {
                *result.false_match_kinds.entry(hit.verdict.kind.as_str().to_owned()).or_default() += 1;
                for class in classes_of(&originals[number], &originals[other], config.templates) {
                    result.pair_classes.entry(class.to_owned()).or_default().false_matches += 1;
                }
            }
        }
        for hit in registered.pdq_index.search(&original.prints.pdq, BASELINE_PDQ_RADIUS) {
            if *hit.value != number {
                baseline_false_pairs.insert((number.min(*hit.value), number.max(*hit.value)));
            }
        }
    }
    result.false_match_pairs = false_pairs.len();
    result.baseline_false_match_pairs = baseline_false_pairs.len();

    // Captures of registered cards.
    let capture_jobs: Vec<usize> = (0..originals.len())
        .filter(|number| number % config.cards_per_template.max(1) < config.captured_per_template)
        .collect();
    let captured: Vec<(usize, Capture, Option<Prints>)> = parallel_map(&capture_jobs, |&number| {
        let original = &originals[number];
        let capture = Capture::ALL[number % Capture::ALL.len()];
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0xCA97 ^ (number as u64) << 8);
        let template = &templates[original.template as usize];
        let bytes = capture.apply(&template.render(&original.holder), &mut rng);
        (number, capture, prints_of(&bytes, Some(&registered.index), models))
    });
    let mut distances: BTreeMap<String, Vec<Distances>> = BTreeMap::new();
    for &(number, capture, ref prints) in &captured {
        let Some(prints) = prints else { continue };
        let detection = result.captures.entry(capture.name().to_owned()).or_default();
        registered.score(detection, prints, number, ReasonCode::ReuseSameDocument, models);
        distances
            .entry(capture.name().to_owned())
            .or_default()
            .push(registered.distances(prints, number, models));
    }
    for detection in result.captures.values() {
        add(&mut result.captures_total, detection);
    }

    // Captures through the whole chain, each card one way, on a random stream of their own (the
    // single transforms above keep their figures).
    let chained: Vec<(usize, &'static str, Option<Prints>)> = parallel_map(&capture_jobs, |&number| {
        let original = &originals[number];
        let card = templates[original.template as usize].render(&original.holder);
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0xC4A1 ^ (number as u64) << 8);
        let (name, bytes) = match number % 5 {
            0 => (
                "phone_capture",
                capture(&card, &CaptureSettings::draw(Device::Phone, &mut rng), &mut rng).jpeg,
            ),
            1 => (
                "scanner_capture",
                capture(&card, &CaptureSettings::draw(Device::Scanner, &mut rng), &mut rng).jpeg,
            ),
            2 => {
                let photo = capture(&card, &CaptureSettings::draw(Device::Phone, &mut rng), &mut rng);
                ("phone_capture_then_messaging_app", messaging_app_resave(&photo.jpeg, &mut rng))
            }
            3 => ("screen_recapture", screen_recapture(&card, &mut rng).jpeg),
            _ => ("print_recapture", print_recapture(&card, &mut rng).jpeg),
        };
        (number, name, prints_of(&bytes, Some(&registered.index), models))
    });
    for &(number, name, ref prints) in &chained {
        let Some(prints) = prints else { continue };
        let detection = result.chain_captures.entry((*name).to_owned()).or_default();
        registered.score(detection, prints, number, ReasonCode::ReuseSameDocument, models);
        distances
            .entry(format!("chain_{name}"))
            .or_default()
            .push(registered.distances(prints, number, models));
    }

    // Swapped portraits and swapped data.
    let swap_jobs: Vec<(usize, bool)> = (0..originals.len())
        .filter(|number| number % config.cards_per_template.max(1) < config.swaps_per_template)
        .flat_map(|number| [(number, true), (number, false)])
        .collect();
    let swapped: Vec<(usize, bool, Option<Prints>)> = parallel_map(&swap_jobs, |&(number, keep_portrait)| {
        let source = &originals[number];
        let template = &templates[source.template as usize];
        let mut rng = StdRng::seed_from_u64(swap_seed(config.seed, number, keep_portrait));
        let fresh = template.holder(&mut rng);
        let holder = if keep_portrait {
            Holder { fields: fresh.fields, ..source.holder.clone() }
        } else {
            Holder { fields: source.holder.fields.clone(), ..fresh }
        };
        (
            number,
            keep_portrait,
            prints_of(&encode_jpeg(&template.render(&holder), 90), Some(&registered.index), models),
        )
    });
    for (number, keep_portrait, prints) in &swapped {
        let Some(prints) = prints else { continue };
        let (detection, kind, name) = if *keep_portrait {
            (&mut result.same_portrait, ReasonCode::ReuseSamePortrait, "same_portrait")
        } else {
            (&mut result.same_personal_data, ReasonCode::ReuseSamePersonalData, "same_personal_data")
        };
        registered.score(detection, prints, *number, kind, models);
        distances.entry(name.to_owned()).or_default().push(registered.distances(prints, *number, models));
    }

    // Distinct cards of one template, sampled, for the calibration table.
    let mut rng = StdRng::seed_from_u64(config.seed ^ 0xD1);
    let per_template = config.cards_per_template;
    if per_template >= 2 {
        for _ in 0..DISTINCT_PAIRS_MEASURED.min(result.same_template_pairs as usize) {
            let template = rng.random_range(0..template_count as usize);
            let a = template * per_template + rng.random_range(0..per_template);
            let b = template * per_template + rng.random_range(0..per_template);
            if a != b {
                distances.entry("distinct_same_template".to_owned()).or_default().push(registered.distances(
                    &originals[a].prints,
                    b,
                    models,
                ));
            }
        }
    }
    let checks = &models.reuse.verification;
    if let Some(distinct) = distances.get("distinct_same_template") {
        let passing = distinct.iter().filter(|v| {
            v[5] as usize >= checks.card_min_inliers
                && v[6] as usize >= checks.portrait_min_inliers
                && v[7] as usize >= checks.data_min_inliers
        });
        result.distinct_pairs_verified = [distinct.len(), passing.count()];
    }
    result.distances = distances.into_iter().map(|(name, values)| (name, summarise(values))).collect();

    if !config.photos.is_empty() {
        evaluate_photos(config, models, &mut result);
    }
    result
}

/// Real photos: register each, capture each again with JPEG, crop, turn and resize transforms.
fn evaluate_photos(config: &ReuseEvalConfig, models: &Models, result: &mut ReuseEvaluation) {
    let loaded: Vec<Option<(image::RgbImage, Prints)>> = parallel_map(&config.photos, |path| {
        let bytes = std::fs::read(path).ok()?;
        let decoded = decode(&bytes, &DecodeLimits::default()).ok()?;
        let prints = prints_of(&bytes, None, models)?;
        // Metadata test files carry 8x8 placeholder pictures: only photos with detail to hash count.
        let zones = &prints.document.upright;
        let hashable = decoded.rgb.width().max(decoded.rgb.height()) >= MIN_PHOTO_SIDE
            && zones.portrait_quality.min(zones.data_quality) >= models.reuse.matching.min_zone_quality;
        if !hashable {
            return None;
        }
        // Captures start from the decoded image, at most 2000 px, as a phone would re-shoot it.
        let planes = working_planes(&decoded.rgb, 2000);
        Some((planes.rgb, prints))
    });
    let photos: Vec<Original> = loaded
        .iter()
        .enumerate()
        .filter_map(|(number, photo)| {
            photo.as_ref().map(|(_, prints)| Original {
                account: AccountId::new(format!("photo-{number}")).expect("valid id"),
                template: u64::MAX,
                holder: Holder { portrait_seed: 0, fields: Vec::new(), low_detail_portrait: false },
                prints: Prints { document: prints.document.clone(), pdq: prints.pdq },
            })
        })
        .collect();
    let images: Vec<&image::RgbImage> = loaded.iter().flatten().map(|(image, _)| image).collect();
    let mut registered = Registered::new(&photos, models);
    let mut links = Vec::new();
    for (number, photo) in photos.iter().enumerate() {
        for hit in registered.search_original(number, models) {
            links.push(AccountLink {
                account_a: photo.account.clone(),
                document_a: hit.document.document_id.clone(),
                account_b: hit.document.account_id.clone(),
                document_b: hit.document.document_id.clone(),
                kind: hit.verdict.kind,
                distance: None,
            });
        }
    }
    let file_of = |account: &AccountId| {
        let number: usize = account.as_str().trim_start_matches("photo-").parse().expect("photo-N");
        let path = &config.photos[number];
        let root = config.photos_root.as_deref().unwrap_or(Path::new(""));
        path.strip_prefix(root).unwrap_or(path).display().to_string()
    };
    let clusters = links::clusters(links);
    result.photo_groups = clusters
        .iter()
        .map(|cluster| PhotoGroup {
            files: cluster.account_ids.iter().map(file_of).collect(),
            kinds: cluster.links.iter().map(|link| link.kind.as_str().to_owned()).collect(),
        })
        .collect();
    for cluster in &clusters {
        let numbers: BTreeSet<usize> =
            cluster.account_ids.iter().map(|account| registered.numbers[account]).collect();
        for &number in &numbers {
            registered.duplicates[number] = numbers.clone();
        }
    }
    let transforms = [Capture::Jpeg, Capture::Crop, Capture::Turn, Capture::Resize];
    let jobs: Vec<(usize, Capture)> =
        (0..photos.len()).flat_map(|number| transforms.map(|capture| (number, capture))).collect();
    let captured = parallel_map(&jobs, |&(number, capture)| {
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0xF0 ^ (number as u64) << 4);
        prints_of(&capture.apply(images[number], &mut rng), Some(&registered.index), models)
    });
    for ((number, capture), prints) in jobs.iter().zip(&captured) {
        let Some(prints) = prints else { continue };
        let detection = result.photos.entry(capture.name().to_owned()).or_default();
        registered.score(detection, prints, *number, ReasonCode::ReuseSameDocument, models);
    }
}

/// Registered originals in both indexes, with each one's known duplicates.
struct Registered<'a> {
    originals: &'a [Original],
    index: PerceptualIndex,
    pdq_index: HammingIndex<usize>,
    numbers: BTreeMap<AccountId, usize>,
    /// Per original, the numbers of the others that show the same document (a real corpus holds
    /// true duplicates): matching them is neither a detection nor a wrong match.
    duplicates: Vec<BTreeSet<usize>>,
    /// Per original, the inner-zone hashes it was registered with.
    stored_inner: Vec<InnerHashes>,
    /// Per original, the keypoints stored to verify matches (the store's column, held in memory).
    verification_keypoints: Vec<Vec<Keypoint>>,
}

impl<'a> Registered<'a> {
    fn new(originals: &'a [Original], models: &Models) -> Self {
        let mut index = PerceptualIndex::new();
        let mut pdq_index = HammingIndex::new();
        let mut stored_inner = Vec::with_capacity(originals.len());
        for (number, original) in originals.iter().enumerate() {
            let crop = index.crop_print_to_store(&original.prints.document, &models.reuse, false);
            stored_inner.push(crop.inner);
            index.insert(IndexedDocument {
                account_id: original.account.clone(),
                document_id: DocumentId::new("original").expect("valid id"),
                registered_at_ms: number as i64,
                sequence: 0,
                hashes: original.prints.document.upright,
                crop: Some(crop),
            });
            pdq_index.insert(&original.prints.pdq, number);
        }
        let numbers = originals.iter().enumerate().map(|(number, o)| (o.account.clone(), number)).collect();
        let duplicates = vec![BTreeSet::new(); originals.len()];
        let verification_keypoints = originals
            .iter()
            .map(|original| {
                keypoints_to_verify(
                    &original.prints.document,
                    &models.reuse.layout,
                    &models.reuse.verification,
                )
            })
            .collect();
        Registered { originals, index, pdq_index, numbers, duplicates, stored_inner, verification_keypoints }
    }

    /// Distances of `query` to original `source` as registered, each in the query's best reading.
    fn distances(&self, query: &Prints, source: usize, models: &Models) -> Distances {
        let source_prints = &self.originals[source].prints;
        let stored = &source_prints.document.upright;
        let (portrait, data) = query
            .document
            .readings()
            .map(|reading| {
                let hashes = reading.hashes;
                (
                    hashes.portrait.hamming_distance(&stored.portrait),
                    hashes.data.hamming_distance(&stored.data),
                )
            })
            .min_by_key(|(portrait, data)| portrait + data)
            .expect("at least two readings");
        let stored_inner = &self.stored_inner[source];
        let (inner_portrait, inner_data) = self
            .index
            .crop_readings(&query.document, &models.reuse)
            .into_iter()
            .map(|(_, _, inner)| inner)
            .chain([query.document.inner])
            .map(|inner| {
                (
                    inner.portrait.hamming_distance(&stored_inner.portrait),
                    inner.data.hamming_distance(&stored_inner.data),
                )
            })
            .min_by_key(|(portrait, data)| portrait + data)
            .expect("the reading in place");
        let verification = self.verifier(&query.document, models).verify(
            self.index.document(source as u32).expect("originals are never removed"),
            false,
            None,
            Sought::SameDocument { judged: false },
        );
        let verification = match verification {
            Ok(verification) => verification.expect("every original has keypoints"),
            Err(never) => match never {},
        };
        [
            portrait,
            data,
            query.pdq.hamming_distance(&source_prints.pdq),
            inner_portrait,
            inner_data,
            verification.card.inliers as u32,
            verification.portrait.inliers as u32,
            verification.data.inliers as u32,
        ]
    }

    /// A verifier of `query` on the originals' stored keypoints (the store's column, in memory).
    fn verifier<'s>(
        &'s self,
        query: &'s DocumentPrint,
        models: &'s Models,
    ) -> Verifier<'s, 's, impl FnMut(&IndexedDocument) -> Result<Option<Vec<Keypoint>>, Infallible> + 's>
    {
        let stored = |document: &IndexedDocument| {
            Ok(Some(self.verification_keypoints[self.numbers[&document.account_id]].clone()))
        };
        Verifier::new(query, &self.index, stored, &models.reuse)
    }

    /// The registered originals `query` reuses, as the engine finds them: proposed by the index,
    /// verified on the stored keypoints.
    fn search(
        &self,
        query: &DocumentPrint,
        exclude: Option<&AccountId>,
        models: &Models,
    ) -> Vec<PerceptualHit<'_>> {
        let proposals = self.index.propose(query, exclude, &models.reuse);
        let stored = |document: &IndexedDocument| {
            Ok::<_, Infallible>(Some(self.verification_keypoints[self.numbers[&document.account_id]].clone()))
        };
        match confirm(proposals, query, &self.index, stored, &models.reuse) {
            Ok(hits) => hits,
            Err(never) => match never {},
        }
    }

    /// Every other original the one numbered `number` is judged to reuse.
    fn search_original(&self, number: usize, models: &Models) -> Vec<PerceptualHit<'_>> {
        let original = &self.originals[number];
        self.search(&original.prints.document, Some(&original.account), models)
    }

    /// Scores one query whose true source is original `source`.
    fn score(
        &self,
        detection: &mut Detection,
        query: &Prints,
        source: usize,
        expected: ReasonCode,
        models: &Models,
    ) {
        let wrong = |number: usize| number != source && !self.duplicates[source].contains(&number);
        detection.queries += 1;
        let hits = self.search(&query.document, None, models);
        match hits.iter().find(|hit| self.numbers[&hit.document.account_id] == source) {
            Some(hit) if hit.verdict.kind == expected => detection.detected += 1,
            Some(_) => detection.detected_other_kind += 1,
            None => {}
        }
        if hits.iter().any(|hit| wrong(self.numbers[&hit.document.account_id])) {
            detection.wrong_matches += 1;
        }
        let baseline = self.pdq_index.search(&query.pdq, BASELINE_PDQ_RADIUS);
        if baseline.iter().any(|hit| *hit.value == source) {
            detection.baseline_detected += 1;
        }
        if baseline.iter().any(|hit| wrong(*hit.value)) {
            detection.baseline_wrong_matches += 1;
        }
    }
}

fn add(total: &mut Detection, part: &Detection) {
    total.queries += part.queries;
    total.detected += part.detected;
    total.detected_other_kind += part.detected_other_kind;
    total.wrong_matches += part.wrong_matches;
    total.baseline_detected += part.baseline_detected;
    total.baseline_wrong_matches += part.baseline_wrong_matches;
}

/// Distances of a query to its source: portrait zone, data zone, global PDQ, inner portrait zone,
/// inner data zone; then its verification inliers: card, portrait zone, data zone.
type Distances = [u32; 8];

fn summarise(values: Vec<Distances>) -> DistanceSummary {
    let quantiles = |column: usize| {
        let mut column: Vec<u32> = values.iter().map(|v| v[column]).collect();
        column.sort_unstable();
        let at = |q: f64| column[((column.len() - 1) as f64 * q).round() as usize];
        [at(0.0), at(0.05), at(0.5), at(0.95), at(1.0)]
    };
    DistanceSummary {
        pairs: values.len(),
        portrait: quantiles(0),
        data: quantiles(1),
        global_pdq: quantiles(2),
        inner_portrait: quantiles(3),
        inner_data: quantiles(4),
        card_inliers: quantiles(5),
        portrait_inliers: quantiles(6),
        data_inliers: quantiles(7),
    }
}

fn pairs(count: usize) -> u64 {
    let count = count as u64;
    count * count.saturating_sub(1) / 2
}

/// The kinds of pair two distinct originals make (see [`ReuseEvaluation::pair_classes`]);
/// templates from `base_templates` on are the recoloured ones.
fn classes_of(a: &Original, b: &Original, base_templates: u64) -> Vec<&'static str> {
    let layout = |original: &Original| original.template % base_templates.max(1);
    let mut classes = vec![if a.template == b.template {
        "same_template"
    } else if layout(a) == layout(b) {
        "same_layout_other_colours"
    } else {
        "other_template"
    }];
    if a.holder.low_detail_portrait && b.holder.low_detail_portrait {
        classes.push("both_low_detail_portraits");
    }
    classes
}

/// How many distinct pairs of each kind the originals make (counted per template, not per pair).
fn pair_classes(originals: &[Original], base_templates: u64) -> BTreeMap<String, PairClass> {
    let mut cards: BTreeMap<u64, u64> = BTreeMap::new();
    let mut low_detail = 0u64;
    for original in originals {
        *cards.entry(original.template).or_default() += 1;
        low_detail += u64::from(original.holder.low_detail_portrait);
    }
    let total = pairs(originals.len());
    let same_template: u64 = cards.values().map(|&n| pairs(n as usize)).sum();
    let same_layout: u64 = cards
        .iter()
        .flat_map(|(&a, &m)| cards.iter().filter(move |&(&b, _)| a < b).map(move |(&b, &n)| (a, b, m * n)))
        .filter(|&(a, b, _)| a % base_templates.max(1) == b % base_templates.max(1))
        .map(|(_, _, count)| count)
        .sum();
    [
        ("same_template", same_template),
        ("same_layout_other_colours", same_layout),
        ("other_template", total - same_template - same_layout),
        ("both_low_detail_portraits", pairs(low_detail as usize)),
    ]
    .into_iter()
    .map(|(name, pairs)| (name.to_owned(), PairClass { pairs, false_matches: 0 }))
    .collect()
}

/// Maps `items` with `f` on every core, keeping order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("evaluation worker panicked")).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_never_brings_in_an_original_cards_holder() {
        let seed = 12;
        let originals: BTreeSet<u64> =
            (0..6).flat_map(|template| (0..1_000).map(move |card| card_seed(seed, template, card))).collect();
        for number in 0..6_000 {
            for keep_portrait in [true, false] {
                assert!(
                    !originals.contains(&swap_seed(seed, number, keep_portrait)),
                    "{number} {keep_portrait}"
                );
            }
        }
    }
}
