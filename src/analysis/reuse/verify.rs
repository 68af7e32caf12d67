//! Verification's geometry: a candidate the zone indexes propose becomes a match only when the two
//! cards' pixels agree geometrically ([`super::confirm`] decides on what this measures).
//!
//! The query's keypoints (FAST-9 corners with BRIEF descriptors on the rectified card) are paired
//! with the stored card's by descriptor (mutual nearest, clearly nearer than the runner-up), and one
//! homography is fitted to the pairs by RANSAC: for the whole card, and separately for the pairs
//! inside the portrait zone and inside the personal-data zone. A zone is verified when enough pairs
//! inside it agree with one homography. Two different people's cards of one template agree on the
//! template's print (header, labels, guilloche) but not on the face or the typed values, and a flat,
//! low-detail portrait has too few corners to verify at all: neither can make a match.
//!
//! Hand-written: no maintained crate offers RANSAC over a homography for a few hundred points
//! without pulling in a computer-vision stack; the minimal four-point solve is imageproc's
//! (`Projection::from_control_points`).

use image::GrayImage;
use image::imageops::{crop_imm, rotate180};
use imageproc::geometric_transformations::Projection;
use serde::Deserialize;

use super::crops::split_mix;
use crate::analysis::fingerprint::document::{DocumentLayout, DocumentPrint};
use crate::analysis::fingerprint::keypoints::{Keypoint, KeypointParameters, keypoints};
use crate::analysis::fingerprint::pdq::Pdq;

/// How candidates are verified (`[verification]` in `models/reuse.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationModel {
    /// Largest descriptor distance (of 256 bits) of a pair.
    pub descriptor_radius: u32,
    /// A pair's distance must be below this share of the query keypoint's second-nearest.
    pub max_distance_ratio: f32,
    /// Largest distance in pixels of the rectified card between where the homography puts a stored
    /// keypoint and its pair.
    pub inlier_tolerance: f32,
    /// Most RANSAC samples per fit.
    pub iterations: usize,
    /// A homography must keep the fitted region's area within this range of ratios.
    pub area_ratio: [f32; 2],
    /// Most candidates verified per query, closest first.
    pub max_candidates: usize,
    /// A zone is verified with at least this many agreeing pairs inside it: the portrait zone.
    pub portrait_min_inliers: usize,
    /// The same for the personal-data zone.
    pub data_min_inliers: usize,
    /// The same for the whole card (a same-document match).
    pub card_min_inliers: usize,
    /// A verification that is not a same-document match but whose whole card agrees on at least
    /// this many pairs is taken again, the query's card resampled through that fit.
    pub second_look_min_card_inliers: usize,
    /// The portrait zone's own keypoints: FAST-9 threshold (a face is low-contrast beside print,
    /// and the card's strongest corners all lie on the print).
    pub portrait_keypoint_threshold: u8,
    /// Most portrait-zone keypoints.
    pub portrait_max_keypoints: usize,
    /// Smallest distance between two portrait-zone keypoints, pixels.
    pub portrait_keypoint_spacing: u32,
    /// The photo's frame: a column (row) of the portrait zone, read with BRIEF's reach around it,
    /// along which at least `share` of its rows (columns) step by `step` grey levels or more across
    /// it is a straight edge, and the zone's keypoints within `margin` px of one are left out.
    pub portrait_frame_edges: FrameEdges,
}

/// Straight edges of the portrait zone (`portrait_frame_edges` in `[verification]`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameEdges {
    /// Smallest step across the edge, grey levels (between the pixels either side of it).
    pub step: u8,
    /// Smallest share of the area's length (the zone and BRIEF's reach) the step runs along.
    pub share: f32,
    /// Keypoints this close to an edge (pixels) are left out.
    pub margin: u32,
}

/// One homography fit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fit {
    /// Descriptor pairs offered to the fit.
    pub pairs: usize,
    /// Pairs agreeing with the best homography.
    pub inliers: usize,
    /// Root-mean-square distance of the inliers from where the homography puts them (pixels of the
    /// rectified card).
    pub residual_px: f32,
}

impl Fit {
    /// Inliers as a share of the pairs (0 without pairs).
    pub fn inlier_ratio(&self) -> f32 {
        if self.pairs == 0 { 0.0 } else { self.inliers as f32 / self.pairs as f32 }
    }
}

/// What verification found between a query and one stored card.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Verification {
    /// The whole card.
    pub card: Fit,
    /// Pairs whose stored keypoint lies in the portrait zone.
    pub portrait: Fit,
    /// Pairs whose stored keypoint lies in the personal-data zone.
    pub data: Fit,
    /// The query's card turned 180° was compared.
    pub turned: bool,
    /// Where the query's keypoints were taken.
    pub reading: KeypointReading,
}

/// Where a query's keypoints were taken for a verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeypointReading {
    /// Its rectified card.
    #[default]
    RectifiedCard,
    /// Its card resampled into the frame the crop path fitted on the stored card.
    CropFrame,
    /// Its card resampled onto the stored card through a first verification's whole-card homography.
    CardFit,
}

impl KeypointReading {
    /// The name in a match's evidence (`verification_read`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeypointReading::RectifiedCard => "rectified_card",
            KeypointReading::CropFrame => "in_crop_frame",
            KeypointReading::CardFit => "on_card_fit",
        }
    }
}

impl Verification {
    /// The portrait zone agrees.
    pub fn portrait_verified(&self, model: &VerificationModel) -> bool {
        self.portrait.inliers >= model.portrait_min_inliers
    }

    /// The personal-data zone agrees.
    pub fn data_verified(&self, model: &VerificationModel) -> bool {
        self.data.inliers >= model.data_min_inliers
    }

    /// The same document: the personal data and the whole card agree, and the portrait too
    /// unless the zone hashes already judged both zones alike (`judged`). The personal data are
    /// what tells two holders of one template apart, whatever their portraits (a low-detail
    /// portrait verifies nothing, either way); a candidate the hashes did not judge needs every zone.
    pub fn document_verified(&self, model: &VerificationModel, judged: bool) -> bool {
        self.card.inliers >= model.card_min_inliers
            && self.data_verified(model)
            && (judged || self.portrait_verified(model))
    }

    /// The zones that agree, as reported ("portrait", "data", both or none).
    pub fn verified_zones(&self, model: &VerificationModel) -> String {
        match (self.portrait_verified(model), self.data_verified(model)) {
            (true, true) => "portrait,data",
            (true, false) => "portrait",
            (false, true) => "data",
            (false, false) => "none",
        }
        .to_owned()
    }

    /// Better evidence of one document: more zones agreeing, then more inliers.
    fn strength(&self, model: &VerificationModel) -> (u8, usize) {
        (
            u8::from(self.portrait_verified(model)) + u8::from(self.data_verified(model)),
            self.portrait.inliers + self.data.inliers,
        )
    }

    /// The stronger of this and `other`, two verifications of one candidate (this one on a tie).
    pub(super) fn or_stronger(self, other: Verification, model: &VerificationModel) -> Verification {
        if other.strength(model) > self.strength(model) { other } else { self }
    }
}

/// The query's verification keypoints, upright and turned 180°.
pub(super) fn query_keypoints(
    query: &DocumentPrint,
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> [Vec<Keypoint>; 2] {
    [
        verification_keypoints(&query.card, &query.keypoints[0], layout, model),
        verification_keypoints(&rotate180(&query.card), &query.keypoints[1], layout, model),
    ]
}

/// The query's verification keypoints read in a stored card's frame: its card (turned 180° when
/// `turned`) resampled so that each stored pixel lies where `to_query` (stored card to query card)
/// says it shows, keeping the keypoints whose descriptor patch lies wholly on the query's card.
/// Both cards' descriptors are then taken at one scale: BRIEF is not scale-invariant, and a crop
/// stretched back to the card's shape, or an outline found a little off, enlarges the query.
pub(super) fn query_keypoints_through(
    query: &DocumentPrint,
    to_query: impl Fn(f32, f32) -> (f32, f32) + Sync + Send + Copy,
    turned: bool,
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Vec<Keypoint> {
    let card = query.card_seen_through(to_query, turned, layout);
    let strongest = keypoints(&card, layout.keypoint_parameters());
    let (width, height) = (query.card.width() as f32, query.card.height() as f32);
    let reach = PATCH_REACH as f32;
    let on_card = |keypoint: &Keypoint| {
        [(-reach, -reach), (reach, -reach), (reach, reach), (-reach, reach)].iter().all(|(dx, dy)| {
            let (x, y) = to_query(keypoint.x + dx, keypoint.y + dy);
            (0.0..width).contains(&x) && (0.0..height).contains(&y)
        })
    };
    verification_keypoints(&card, &strongest, layout, model).into_iter().filter(on_card).collect()
}

/// The homography (stored card to query card) of the whole card's fit, when one is found.
pub(super) fn card_homography(
    query: &[Keypoint],
    stored: &[Keypoint],
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Option<Projection> {
    let region = [0.0, 0.0, layout.card_width as f32, layout.card_height as f32];
    ransac(&descriptor_pairs(query, stored, model), region, model).map(|(_, homography)| homography)
}

/// `keypoints` without those agreeing with `template` (another holder's card of the layout) under
/// one homography of the whole card.
pub(super) fn without_template(
    keypoints: &[Keypoint],
    template: &[Keypoint],
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Vec<Keypoint> {
    let pairs = descriptor_pairs(keypoints, template, model);
    let region = [0.0, 0.0, layout.card_width as f32, layout.card_height as f32];
    let Some((_, homography)) = ransac(&pairs, region, model) else { return keypoints.to_vec() };
    let shared: Vec<(f32, f32)> = pairs
        .iter()
        .filter(|pair| error(&homography, pair) <= model.inlier_tolerance)
        .map(|pair| (pair.2, pair.3))
        .collect();
    keypoints.iter().filter(|k| !shared.contains(&(k.x, k.y))).copied().collect()
}

/// The keypoints a registration stores for verification: those of the card upright.
pub fn keypoints_to_verify(
    print: &DocumentPrint,
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Vec<Keypoint> {
    verification_keypoints(&print.card, &print.keypoints[0], layout, model)
}

/// The keypoints verification compares on a rectified card: the card's strongest corners
/// (`strongest`, as the print found them) outside the portrait zone, and the portrait zone's own,
/// found at a lower threshold.
fn verification_keypoints(
    card: &GrayImage,
    strongest: &[Keypoint],
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Vec<Keypoint> {
    let zone = zone_pixels(layout.portrait, (card.width() as f32, card.height() as f32));
    let inside = |x: f32, y: f32| (zone[0]..zone[2]).contains(&x) && (zone[1]..zone[3]).contains(&y);
    // The zone and a BRIEF patch's reach around it, so descriptors are those of the whole card.
    let reach = PATCH_REACH as f32;
    let left = (zone[0] - reach).max(0.0) as u32;
    let top = (zone[1] - reach).max(0.0) as u32;
    let right = ((zone[2] + reach).ceil() as u32).min(card.width());
    let bottom = ((zone[3] + reach).ceil() as u32).min(card.height());
    let parameters = KeypointParameters {
        threshold: model.portrait_keypoint_threshold,
        max: model.portrait_max_keypoints,
        spacing: model.portrait_keypoint_spacing,
    };
    let area = crop_imm(card, left, top, right - left, bottom - top).to_image();
    let on_frame = frame_edges(&area, model.portrait_frame_edges);
    let portrait = keypoints(&area, parameters);
    strongest
        .iter()
        .filter(|keypoint| !inside(keypoint.x, keypoint.y))
        .copied()
        .chain(
            portrait
                .into_iter()
                .filter(|keypoint| !on_frame(keypoint.x, keypoint.y))
                .map(|keypoint| Keypoint {
                    x: keypoint.x + left as f32,
                    y: keypoint.y + top as f32,
                    ..keypoint
                })
                .filter(|keypoint| inside(keypoint.x, keypoint.y)),
        )
        .collect()
}

/// Whether a point of `area` (the portrait zone and BRIEF's reach around it) lies on the photo's
/// frame: within the margin of a column or row along which the grey level steps by `edges.step` over
/// at least `edges.share` of the area's length. The frame is printed alike on every holder's card;
/// its corners with the face's outline and the photo's background pair between two holders whose
/// photos are toned alike, so they are no evidence of one portrait (on `eval-reuse`, most of the
/// portrait inliers of distinct cards of one template lay on it).
fn frame_edges(area: &GrayImage, edges: FrameEdges) -> impl Fn(f32, f32) -> bool {
    let (width, height) = (area.width() as usize, area.height() as usize);
    let raw = area.as_raw();
    let at = |x: usize, y: usize| i16::from(raw[y * width + x]);
    let steps_across = |count: usize, length: usize, step: &dyn Fn(usize, usize) -> bool| -> Vec<bool> {
        let hits: Vec<usize> = (0..count)
            .map(|i| if i == 0 || i + 1 == count { 0 } else { (0..length).filter(|&j| step(i, j)).count() })
            .collect();
        // A line a pixel off vertical still counts: the strongest of three neighbours.
        (0..count)
            .map(|i| {
                let strongest =
                    hits[i.saturating_sub(1)..(i + 2).min(count)].iter().max().copied().unwrap_or(0);
                strongest as f32 >= edges.share * length as f32
            })
            .collect()
    };
    let threshold = i16::from(edges.step);
    let columns = steps_across(width, height, &|x, y| (at(x + 1, y) - at(x - 1, y)).abs() >= threshold);
    let rows = steps_across(height, width, &|y, x| (at(x, y + 1) - at(x, y - 1)).abs() >= threshold);
    let margin = i64::from(edges.margin);
    let near = move |lines: &[bool], at: f32| {
        let centre = at.round() as i64;
        (centre - margin..=centre + margin)
            .any(|i| usize::try_from(i).is_ok_and(|i| lines.get(i).copied().unwrap_or(false)))
    };
    move |x, y| near(&columns, x) || near(&rows, y)
}

/// How far from a keypoint BRIEF reads (imageproc keeps keypoints this far from the edges).
const PATCH_REACH: u32 = 17;

/// A zone's box in pixels of a card of `size`: left, top, right, bottom.
fn zone_pixels(zone: [f32; 4], size: (f32, f32)) -> [f32; 4] {
    [zone[0] * size.0, zone[1] * size.1, zone[2] * size.0, zone[3] * size.1]
}

/// Length of one keypoint in [`keypoints_to_bytes`]: x and y in 1/64 px (`u16`), the descriptor.
pub const STORED_KEYPOINT_BYTES: usize = 36;

/// Storage form of verification keypoints (a rectified card is far below 1024 px, so 1/64 px fits
/// in 16 bits).
pub fn keypoints_to_bytes(keypoints: &[Keypoint]) -> Vec<u8> {
    let fixed = |value: f32| ((value * 64.0).round().clamp(0.0, f32::from(u16::MAX)) as u16).to_le_bytes();
    keypoints
        .iter()
        .flat_map(|keypoint| {
            let mut bytes = [0u8; STORED_KEYPOINT_BYTES];
            bytes[..2].copy_from_slice(&fixed(keypoint.x));
            bytes[2..4].copy_from_slice(&fixed(keypoint.y));
            bytes[4..].copy_from_slice(&keypoint.descriptor.to_bytes());
            bytes
        })
        .collect()
}

/// Parses [`keypoints_to_bytes`]; `None` when the length does not fit it.
pub fn keypoints_from_bytes(bytes: &[u8]) -> Option<Vec<Keypoint>> {
    if !bytes.len().is_multiple_of(STORED_KEYPOINT_BYTES) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(STORED_KEYPOINT_BYTES)
            .map(|chunk| {
                let fixed = |at: usize| f32::from(u16::from_le_bytes([chunk[at], chunk[at + 1]])) / 64.0;
                Keypoint {
                    x: fixed(0),
                    y: fixed(2),
                    descriptor: Pdq::from_bytes(chunk[4..].try_into().expect("32 bytes")),
                }
            })
            .collect(),
    )
}

/// Verifies a stored card's keypoints against the query's (`ways`: upright and turned 180°, each
/// with the stored card's keypoints masked alike), `turned_first` first (the reading the indexes
/// matched); the stronger evidence wins. The second way is not read when the first is the same
/// document already, its portrait not needed when the hashes `judged` both zones alike.
pub(super) fn verify(
    ways: &[Vec<Keypoint>; 2],
    stored: &[Vec<Keypoint>; 2],
    turned_first: bool,
    judged: bool,
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Verification {
    let one_way = |turned: bool| {
        verify_way(&ways[usize::from(turned)], &stored[usize::from(turned)], turned, layout, model)
    };
    let first = one_way(turned_first);
    if first.document_verified(model, judged) {
        return first;
    }
    let second = one_way(!turned_first);
    first.or_stronger(second, model)
}

/// Verifies a stored card's keypoints against a query's read in one way up (`turned`) only.
pub(super) fn verify_way(
    query: &[Keypoint],
    stored: &[Keypoint],
    turned: bool,
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Verification {
    Verification { turned, ..verify_one(query, stored, layout, model) }
}

/// A stored keypoint and its query pair: (stored x, stored y, query x, query y).
pub(super) type Pair = (f32, f32, f32, f32);

fn verify_one(
    query: &[Keypoint],
    stored: &[Keypoint],
    layout: &DocumentLayout,
    model: &VerificationModel,
) -> Verification {
    let pairs = descriptor_pairs(query, stored, model);
    let size = (layout.card_width as f32, layout.card_height as f32);
    let zone_pairs = |zone: [f32; 4]| -> (Vec<Pair>, [f32; 4]) {
        let pixels = zone_pixels(zone, size);
        let inside = pairs
            .iter()
            .filter(|p| (pixels[0]..pixels[2]).contains(&p.0) && (pixels[1]..pixels[3]).contains(&p.1))
            .copied()
            .collect();
        (inside, pixels)
    };
    let (portrait, portrait_box) = zone_pairs(layout.portrait);
    let (data, data_box) = zone_pairs(layout.data);
    Verification {
        card: fit_homography(&pairs, [0.0, 0.0, size.0, size.1], model),
        portrait: fit_homography(&portrait, portrait_box, model),
        data: fit_homography(&data, data_box, model),
        turned: false,
        reading: KeypointReading::RectifiedCard,
    }
}

/// Pairs each query keypoint with its nearest stored keypoint when the two are each other's nearest,
/// within the radius, and clearly nearer than the query keypoint's runner-up (a repeated pattern,
/// such as one glyph printed many times, offers several alike and pairs none).
fn descriptor_pairs(query: &[Keypoint], stored: &[Keypoint], model: &VerificationModel) -> Vec<Pair> {
    if query.is_empty() || stored.is_empty() {
        return Vec::new();
    }
    let distances: Vec<u32> = query
        .iter()
        .flat_map(|q| stored.iter().map(|s| q.descriptor.hamming_distance(&s.descriptor)))
        .collect();
    let row = |i: usize| &distances[i * stored.len()..(i + 1) * stored.len()];
    let mut nearest_query = vec![(u32::MAX, usize::MAX); stored.len()];
    for i in 0..query.len() {
        for (j, &distance) in row(i).iter().enumerate() {
            if distance < nearest_query[j].0 {
                nearest_query[j] = (distance, i);
            }
        }
    }
    (0..query.len())
        .filter_map(|i| {
            let (mut best, mut second) = ((u32::MAX, usize::MAX), u32::MAX);
            for (j, &distance) in row(i).iter().enumerate() {
                if distance < best.0 {
                    second = best.0;
                    best = (distance, j);
                } else if distance < second {
                    second = distance;
                }
            }
            let (distance, j) = best;
            let distinct = second == u32::MAX || (distance as f32) < model.max_distance_ratio * second as f32;
            (distance <= model.descriptor_radius && distinct && nearest_query[j].1 == i)
                .then(|| (stored[j].x, stored[j].y, query[i].x, query[i].y))
        })
        .collect()
}

/// Four pairs closer than this (pixels) in either card do not fix a homography.
const MIN_SAMPLE_SPREAD: f32 = 6.0;

/// The fit of the homography most pairs agree with ([`ransac`]).
fn fit_homography(pairs: &[Pair], region: [f32; 4], model: &VerificationModel) -> Fit {
    let mut fit = Fit { pairs: pairs.len(), ..Fit::default() };
    if let Some((count, homography)) = ransac(pairs, region, model) {
        let squared: f32 = pairs
            .iter()
            .map(|pair| error(&homography, pair))
            .filter(|&e| e <= model.inlier_tolerance)
            .map(|e| e * e)
            .sum();
        fit.inliers = count;
        fit.residual_px = (squared / count.max(1) as f32).sqrt();
    }
    fit
}

/// The homography (stored card to query card) most pairs agree with, and how many, by RANSAC over
/// samples of four drawn from a fixed sequence (the same pairs always give the same fit). A
/// homography that shrinks or grows `region` (left, top, right, bottom in stored pixels) beyond
/// `area_ratio`, or folds it, is not a capture of the same print and is skipped.
pub(super) fn ransac(
    pairs: &[Pair],
    region: [f32; 4],
    model: &VerificationModel,
) -> Option<(usize, Projection)> {
    if pairs.len() < 4 {
        return None;
    }
    let corners =
        [(region[0], region[1]), (region[2], region[1]), (region[2], region[3]), (region[0], region[3])];
    let area = polygon_area(&corners);
    let mut state = 0x5EED_u64 ^ pairs.len() as u64;
    let mut best: Option<(usize, Projection)> = None;
    let mut iterations = model.iterations;
    let mut iteration = 0;
    while iteration < iterations {
        iteration += 1;
        let sample: [usize; 4] =
            std::array::from_fn(|_| (split_mix(&mut state) % pairs.len() as u64) as usize);
        if !spread(pairs, sample) {
            continue;
        }
        let from = sample.map(|i| (pairs[i].0, pairs[i].1));
        let to = sample.map(|i| (pairs[i].2, pairs[i].3));
        let Some(homography) = Projection::from_control_points(from, to) else { continue };
        let mapped = corners.map(|corner| homography * corner);
        let ratio = polygon_area(&mapped) / area;
        if !(model.area_ratio[0]..=model.area_ratio[1]).contains(&ratio) || !convex(&mapped) {
            continue;
        }
        let count = pairs.iter().filter(|pair| error(&homography, pair) <= model.inlier_tolerance).count();
        if best.as_ref().is_none_or(|(kept, _)| count > *kept) {
            best = Some((count, homography));
            // Enough samples to draw an all-inlier one with 99.9 % certainty at this inlier share.
            let share = count as f64 / pairs.len() as f64;
            let needed = (0.001f64.ln() / (1.0 - share.powi(4)).max(1e-12).ln()).ceil();
            if needed.is_finite() {
                iterations = iterations.min(needed.max(1.0) as usize);
            }
        }
    }
    best
}

/// Every two of the four pairs at least [`MIN_SAMPLE_SPREAD`] apart on both cards.
fn spread(pairs: &[Pair], sample: [usize; 4]) -> bool {
    (0..4).all(|a| {
        (a + 1..4).all(|b| {
            let (p, q) = (pairs[sample[a]], pairs[sample[b]]);
            (p.0 - q.0).hypot(p.1 - q.1) >= MIN_SAMPLE_SPREAD
                && (p.2 - q.2).hypot(p.3 - q.3) >= MIN_SAMPLE_SPREAD
        })
    })
}

/// How far (pixels) the homography puts a pair's stored keypoint from its query pair.
pub(super) fn error(homography: &Projection, pair: &Pair) -> f32 {
    let (x, y) = *homography * (pair.0, pair.1);
    (x - pair.2).hypot(y - pair.3)
}

/// Area of a polygon (shoelace), positive for the corners' order in a card (clockwise on screen).
fn polygon_area(corners: &[(f32, f32); 4]) -> f32 {
    (0..4)
        .map(|i| {
            let (a, b) = (corners[i], corners[(i + 1) % 4]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum::<f32>()
        / 2.0
}

/// The four corners turn the same way at every corner (no fold, no mirror).
fn convex(corners: &[(f32, f32); 4]) -> bool {
    (0..4).all(|i| {
        let (a, b, c) = (corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]);
        (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0) > 0.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::reuse::perceptual::ReuseModel;
    use image::Luma;
    use image::imageops::{FilterType, resize};

    fn card_keypoints(card: &GrayImage, layout: &DocumentLayout) -> Vec<Keypoint> {
        crate::analysis::fingerprint::keypoints::keypoints(card, layout.keypoint_parameters())
    }

    /// A card of blocky print: `seed` places the blocks.
    fn printed(seed: u64) -> GrayImage {
        let mut state = seed;
        let mut card = GrayImage::from_pixel(512, 323, Luma([220]));
        for _ in 0..260 {
            let (x, y) = ((split_mix(&mut state) % 490) as u32, (split_mix(&mut state) % 300) as u32);
            let (w, h) = (4 + (split_mix(&mut state) % 14) as u32, 4 + (split_mix(&mut state) % 14) as u32);
            let shade = (split_mix(&mut state) % 120) as u8;
            for dy in 0..h {
                for dx in 0..w {
                    card.put_pixel((x + dx).min(511), (y + dy).min(322), Luma([shade]));
                }
            }
        }
        card
    }

    fn verification_of(query: &GrayImage, stored: &GrayImage) -> Verification {
        let model = ReuseModel::embedded();
        let layout = &model.layout;
        let pairs = descriptor_pairs(
            &card_keypoints(query, layout),
            &card_keypoints(stored, layout),
            &model.verification,
        );
        let size = [0.0, 0.0, 512.0, 323.0];
        Verification { card: fit_homography(&pairs, size, &model.verification), ..Verification::default() }
    }

    #[test]
    fn a_rescaled_copy_verifies_and_another_card_does_not() {
        let card = printed(7);
        // Shrunk and stretched back: every corner moves a little, the print stays.
        let resampled =
            resize(&resize(&card, 380, 240, FilterType::Triangle), 512, 323, FilterType::Triangle);
        let same = verification_of(&resampled, &card);
        let other = verification_of(&printed(8), &card);
        assert!(same.card.inliers >= 40, "{same:?}");
        assert!(same.card.residual_px < 1.5, "{same:?}");
        assert!(other.card.inliers < 8, "{other:?}");
    }

    #[test]
    fn keypoints_survive_their_storage_form_to_a_64th_of_a_pixel() {
        let keypoints = card_keypoints(&printed(3), &ReuseModel::embedded().layout);
        let read = keypoints_from_bytes(&keypoints_to_bytes(&keypoints)).unwrap();
        assert_eq!(read.len(), keypoints.len());
        for (a, b) in read.iter().zip(&keypoints) {
            assert_eq!(a.descriptor, b.descriptor);
            assert!((a.x - b.x).abs() <= 1.0 / 128.0 && (a.y - b.y).abs() <= 1.0 / 128.0);
        }
        assert!(keypoints_from_bytes(&[0; 35]).is_none());
    }

    #[test]
    fn a_folding_or_collapsing_homography_is_refused() {
        assert!(convex(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]));
        assert!(!convex(&[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)]));
        assert_eq!(polygon_area(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]), 100.0);
    }

    #[test]
    fn the_photos_frame_is_a_straight_edge_and_the_face_inside_is_not() {
        // Paper, a photo a pixel off vertical at x 20..80, y 10..110, and a face-like blob in it.
        let area = GrayImage::from_fn(100, 120, |x, y| {
            let left = 20 + u32::from(y > 60);
            let photo = (left..80).contains(&x) && (10..110).contains(&y);
            let face = (f64::from(x) - 50.0).hypot((f64::from(y) - 55.0) * 0.8) < 18.0;
            Luma([if face {
                60
            } else if photo {
                150
            } else {
                225
            }])
        });
        let edges = FrameEdges { step: 16, share: 0.5, margin: 4 };
        let on_frame = frame_edges(&area, edges);
        for (x, y) in [(20.0, 40.0), (21.0, 90.0), (79.0, 30.0), (50.0, 10.0), (40.0, 109.0), (24.0, 70.0)] {
            assert!(on_frame(x, y), "({x}, {y}) lies on the frame");
        }
        for (x, y) in [(35.0, 55.0), (50.0, 38.0), (66.0, 60.0), (50.0, 72.0)] {
            assert!(!on_frame(x, y), "({x}, {y}) is the face's");
        }
        // A weaker step, or a shorter run, is no frame.
        assert!(!frame_edges(&area, FrameEdges { step: 100, ..edges })(20.0, 40.0));
        assert!(!frame_edges(&area, FrameEdges { share: 0.9, ..edges })(20.0, 40.0));
    }
}
