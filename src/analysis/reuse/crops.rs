//! Cropped captures: fitting a crop's frame on a stored card from matched keypoints, and the index of
//! inner-zone hashes that finds the card once the crop is read in that frame.
//!
//! A crop of a few per cent moves every zone of the rectified card by tens of bits, so the zone
//! indexes cannot find it. Its corners keep their look: the query's keypoints are matched to the
//! keypoints stored for each known layout, a scale and shift per axis is fitted to each stored card's
//! matches, and in each well-supported frame the query's inner zones (which any crop of up to 15 %
//! keeps in view) are hashed again and searched among the stored cards' inner-zone hashes. One
//! template's cards share their layout, so keypoints are stored once per layout, not per card
//! ([`super::perceptual::PerceptualIndex::crop_print_to_store`]); the holder is told apart by the
//! inner zones, as by the zones.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::analysis::fingerprint::document::{CropFrame, CropPrint, InnerHashes};
use crate::analysis::fingerprint::keypoints::Keypoint;
use crate::analysis::reuse::hamming_index::{HammingIndex, Hit};

/// How crops are looked for (`[crops]` in `models/reuse.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropModel {
    /// Largest descriptor distance (of 256 bits) of a keypoint match.
    pub descriptor_radius: u32,
    /// A query keypoint matching more stored keypoints than this is dropped as uninformative.
    pub max_descriptor_hits: usize,
    /// Fewest matches that must agree with a frame.
    pub min_inliers: usize,
    /// Largest distance in pixels between a match's query keypoint and where the frame puts it.
    pub inlier_tolerance: f32,
    /// Smallest and largest scale of a frame on either axis.
    pub scale_range: [f32; 2],
    /// Most frames read per query orientation.
    pub max_frames: usize,
    /// A frame a registration stores in must show a crop of the stored card: no band of the query
    /// wider than this (pixels of the rectified card) may lie outside the stored card.
    pub frame_margin: f32,
    /// The same for a search, where an outline found a little too large (the card with a band of
    /// the table around it) is read in the stored card's frame too.
    pub search_frame_margin: f32,
    /// Largest shear of a frame on either axis (about the sine of its rotation).
    pub max_shear: f32,
    /// Largest descriptor distance of a pair in guided matching (a frame known roughly).
    pub guided_radius: u32,
    /// Largest distance in pixels from where the rough frame puts a stored keypoint.
    pub guided_tolerance: f32,
    /// Same document, cropped: largest inner portrait-zone distance.
    pub same_document_inner_portrait: u32,
    /// Same document, cropped: largest inner data-zone distance.
    pub same_document_inner_data: u32,
}

/// Below this many stored keypoints (a few layouts' worth) comparing a descriptor with every one is
/// faster than probing the index at radius 31: 272 probes of the substring tables cost about as much
/// as a few thousand 256-bit comparisons. Both give the same answer.
const SCAN_BELOW: usize = 4096;

/// A stored keypoint: its document's number in the perceptual index and where it lies on the card.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PlacedKeypoint {
    document: u32,
    x: f32,
    y: f32,
}

/// A query keypoint matched to a stored one: (stored x, stored y, query x, query y).
type Correspondence = (f32, f32, f32, f32);

/// The keypoints of known layouts and the inner-zone hashes of every card that has them.
#[derive(Debug, Default)]
pub struct CropIndex {
    keypoints: HammingIndex<PlacedKeypoint>,
    /// The stored keypoints of each layout's card, by document number.
    layouts: BTreeMap<u32, Vec<Keypoint>>,
    portraits: HammingIndex<u32>,
    data: HammingIndex<u32>,
}

impl CropIndex {
    /// Adds document `number`'s crop print.
    pub fn insert(&mut self, number: u32, print: &CropPrint) {
        self.portraits.insert(&print.inner.portrait, number);
        self.data.insert(&print.inner.data, number);
        for keypoint in &print.keypoints {
            self.keypoints.insert(&keypoint.descriptor, placed(number, keypoint));
        }
        if !print.keypoints.is_empty() {
            self.layouts.insert(number, print.keypoints.clone());
        }
    }

    /// Adds many at once (start-up), straight into the frozen layers.
    pub fn extend<'a>(&mut self, prints: impl IntoIterator<Item = (u32, &'a CropPrint)> + Clone) {
        self.portraits
            .extend(prints.clone().into_iter().map(|(number, print)| (print.inner.portrait, number)));
        self.data.extend(prints.clone().into_iter().map(|(number, print)| (print.inner.data, number)));
        self.keypoints.extend(prints.clone().into_iter().flat_map(|(number, print)| {
            print.keypoints.iter().map(move |keypoint| (keypoint.descriptor, placed(number, keypoint)))
        }));
        self.layouts.extend(
            prints
                .into_iter()
                .filter(|(_, print)| !print.keypoints.is_empty())
                .map(|(number, print)| (number, print.keypoints.clone())),
        );
    }

    /// Removes document `number`'s crop print.
    pub fn remove(&mut self, number: u32, print: &CropPrint) {
        self.portraits.remove(&print.inner.portrait, |n| *n == number);
        self.data.remove(&print.inner.data, |n| *n == number);
        for keypoint in &print.keypoints {
            self.keypoints.remove(&keypoint.descriptor, |stored| stored.document == number);
        }
        self.layouts.remove(&number);
    }

    /// Stored keypoints (all layouts).
    pub fn stored_keypoints(&self) -> usize {
        self.keypoints.len()
    }

    /// The stored keypoints of the layouts sharing the most descriptors (within `radius`) with
    /// `keypoints`, at most `max` of them, most shared first; every layout when there are no more.
    pub fn layouts_sharing(&self, keypoints: &[Keypoint], radius: u32, max: usize) -> Vec<&[Keypoint]> {
        if self.layouts.len() <= max {
            return self.layouts.values().map(Vec::as_slice).collect();
        }
        let mut shared: BTreeMap<u32, usize> = BTreeMap::new();
        for keypoint in keypoints {
            let hits = self.stored_near(keypoint, radius);
            let mut documents: Vec<u32> = hits.iter().map(|hit| hit.value.document).collect();
            documents.sort_unstable();
            documents.dedup();
            for document in documents {
                *shared.entry(document).or_default() += 1;
            }
        }
        let mut ranked: Vec<(usize, u32)> =
            shared.into_iter().map(|(document, count)| (count, document)).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked
            .into_iter()
            .take(max)
            .filter_map(|(_, document)| self.layouts.get(&document).map(Vec::as_slice))
            .collect()
    }

    /// Documents whose inner zones lie within `radius` of `inner` on either zone.
    pub fn candidates(&self, inner: &InnerHashes, radius: u32) -> Vec<u32> {
        let mut numbers: Vec<u32> =
            self.portraits.search(&inner.portrait, radius).iter().map(|hit| *hit.value).collect();
        numbers.extend(self.data.search(&inner.data, radius).iter().map(|hit| *hit.value));
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// The frames in which `keypoints` (of a query card of size `card`) show a crop of a stored
    /// layout, its outline within `margin` pixels ([`CropFrame::is_crop`]), best supported first,
    /// at most `max_frames`, none two alike.
    pub fn frames(
        &self,
        keypoints: &[Keypoint],
        model: &CropModel,
        card: (u32, u32),
        margin: f32,
    ) -> Vec<CropFrame> {
        let mut frames: Vec<CropFrame> = Vec::new();
        for (_, frame) in self.fitting(keypoints, model, card, margin) {
            if frames.len() == model.max_frames {
                break;
            }
            if !frames.iter().any(|kept| alike(kept, &frame, card)) {
                frames.push(frame);
            }
        }
        frames
    }

    /// The stored cards whose keypoints fit `keypoints` in some frame (as for [`Self::frames`]),
    /// best supported first, by document number.
    pub fn fitting_documents(
        &self,
        keypoints: &[Keypoint],
        model: &CropModel,
        card: (u32, u32),
        margin: f32,
    ) -> Vec<u32> {
        self.fitting(keypoints, model, card, margin).into_iter().map(|(document, _)| document).collect()
    }

    /// The stored keypoints whose descriptors lie within `radius` of `keypoint`'s: a scan of them
    /// all below [`SCAN_BELOW`], the index's search above.
    fn stored_near(&self, keypoint: &Keypoint, radius: u32) -> Vec<Hit<'_, PlacedKeypoint>> {
        if self.keypoints.len() < SCAN_BELOW {
            self.keypoints.scan(&keypoint.descriptor, radius)
        } else {
            self.keypoints.search(&keypoint.descriptor, radius)
        }
    }

    /// Every stored card's frame on the query, best supported first.
    fn fitting(
        &self,
        keypoints: &[Keypoint],
        model: &CropModel,
        card: (u32, u32),
        margin: f32,
    ) -> Vec<(u32, CropFrame)> {
        let mut by_document: BTreeMap<u32, Vec<Correspondence>> = BTreeMap::new();
        for keypoint in keypoints {
            let hits = self.stored_near(keypoint, model.descriptor_radius);
            if hits.len() > model.max_descriptor_hits {
                continue;
            }
            // Each query keypoint's nearest descriptor per stored card: a repeated pattern offers
            // several, and the others only blur the fit.
            let mut nearest: BTreeMap<u32, (u32, &PlacedKeypoint)> = BTreeMap::new();
            for hit in &hits {
                let kept = nearest.entry(hit.value.document).or_insert((hit.distance, hit.value));
                if hit.distance < kept.0 {
                    *kept = (hit.distance, hit.value);
                }
            }
            for (document, (_, stored)) in nearest {
                by_document.entry(document).or_default().push((stored.x, stored.y, keypoint.x, keypoint.y));
            }
        }
        let mut fitted: Vec<(f32, u32, CropFrame)> = by_document
            .iter()
            .filter(|(_, matches)| matches.len() >= model.min_inliers)
            .filter_map(|(document, matches)| {
                let (_, rough) = fit_frame(matches, model, card, margin)?;
                refine_guided(&self.layouts[document], keypoints, rough, model)
                    .filter(|(_, frame)| frame.is_crop(card, margin))
                    .map(|(support, frame)| (support, *document, frame))
            })
            .collect();
        fitted.sort_by(|a, b| b.0.total_cmp(&a.0));
        fitted.into_iter().map(|(_, document, frame)| (document, frame)).collect()
    }

    /// Bytes held by the three hash indexes.
    pub fn heap_bytes(&self) -> usize {
        self.keypoints.heap_bytes() + self.portraits.heap_bytes() + self.data.heap_bytes()
    }
}

fn placed(document: u32, keypoint: &Keypoint) -> PlacedKeypoint {
    PlacedKeypoint { document, x: keypoint.x, y: keypoint.y }
}

/// Two frames that put every corner of a card of `card` size within a pixel of each other.
fn alike(a: &CropFrame, b: &CropFrame, card: (u32, u32)) -> bool {
    let (width, height) = (card.0 as f32, card.1 as f32);
    [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)].iter().all(|&(x, y)| {
        let (p, q) = (a.apply(x, y), b.apply(x, y));
        (p.0 - q.0).abs() < 1.0 && (p.1 - q.1).abs() < 1.0
    })
}

/// Matches no closer than this on either axis do not define a frame: a pixel of error in either
/// would change the scale by more than the tolerance allows across the card.
const MIN_SPREAD: f32 = 24.0;

/// Triples of matches tried for a frame with a rotation, drawn from a fixed sequence.
const TRIPLES: usize = 400;

/// The frame most matches agree with, refined by least squares on them, and how many agree; `None`
/// below `min_inliers`. Two kinds of guess are tried: every pair of matches proposes a frame that
/// scales and shifts each axis (two points fix one; with at most a few hundred matches per stored
/// card, trying them all is cheaper and more certain than sampling), and triples drawn from a fixed
/// sequence propose affine frames (three points fix one), for an outline found a little askew.
fn fit_frame(
    matches: &[Correspondence],
    model: &CropModel,
    card: (u32, u32),
    margin: f32,
) -> Option<(usize, CropFrame)> {
    let [low, high] = model.scale_range;
    // The rough frame is a pair's guess: allow it the inlier tolerance beyond the margin.
    let plausible = |frame: &CropFrame| {
        (low..=high).contains(&frame.scale_x)
            && (low..=high).contains(&frame.scale_y)
            && frame.shear_x.abs() <= model.max_shear
            && frame.shear_y.abs() <= model.max_shear
            && frame.is_crop(card, margin + model.inlier_tolerance)
    };
    let mut best: Option<(usize, CropFrame)> = None;
    let mut consider = |frame: CropFrame| {
        if plausible(&frame) {
            let support = inliers(matches, &frame, model.inlier_tolerance).count();
            if best.is_none_or(|(count, _)| support > count) {
                best = Some((support, frame));
            }
        }
    };
    for (i, a) in matches.iter().enumerate() {
        for b in &matches[i + 1..] {
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            if dx.abs() < MIN_SPREAD || dy.abs() < MIN_SPREAD {
                continue;
            }
            let (scale_x, scale_y) = ((b.2 - a.2) / dx, (b.3 - a.3) / dy);
            consider(CropFrame::axis_aligned(scale_x, scale_y, a.2 - scale_x * a.0, a.3 - scale_y * a.1));
        }
    }
    if matches.len() >= 3 {
        let mut state = matches.len() as u64;
        let mut draw = || (split_mix(&mut state) % matches.len() as u64) as usize;
        for _ in 0..TRIPLES {
            let triple = [matches[draw()], matches[draw()], matches[draw()]];
            if let Some(frame) = affine_least_squares(&triple) {
                consider(frame);
            }
        }
    }
    let (_, mut frame) = best?;
    // Least squares on the agreeing matches, then again on those that agree with the refined frame
    // within a tighter tolerance: matches to a neighbouring corner of a repeated pattern agree
    // roughly, and pull a single fit by a pixel or two.
    for tolerance in [model.inlier_tolerance, model.inlier_tolerance * 0.5] {
        let agreeing: Vec<Correspondence> = inliers(matches, &frame, tolerance).copied().collect();
        frame = least_squares(&agreeing, frame)?;
    }
    let support = inliers(matches, &frame, model.inlier_tolerance).count();
    (support >= model.min_inliers).then_some((support, frame))
}

/// The next number of a SplitMix64 sequence.
pub(super) fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A rough frame refined by guided matching: every stored keypoint is paired with the query
/// keypoint nearest in descriptor (within `guided_radius`) among those within `guided_tolerance`
/// of where the frame puts it, and the frame is fitted again to those pairs, twice, the second time
/// within half the tolerance. Matching through the index pairs only near-identical descriptors, too
/// few for a frame accurate to a pixel; once the frame is roughly known, position vouches for
/// descriptors much further apart. Returns the frame's support, the pairs each weighted by how
/// close their descriptors are (1 when equal, 0 at `guided_radius`): a frame shifted onto a repeated
/// pattern (guilloche, a row of letters) pairs about as many keypoints as the true one, but with
/// descriptors further apart, as only the pattern repeats, not its surroundings.
fn refine_guided(
    stored: &[Keypoint],
    query: &[Keypoint],
    rough: CropFrame,
    model: &CropModel,
) -> Option<(f32, CropFrame)> {
    let mut frame = rough;
    let mut support = 0.0;
    for tolerance in [model.guided_tolerance, model.guided_tolerance * 0.5] {
        let pairs: Vec<(Correspondence, u32)> = stored
            .iter()
            .filter_map(|s| {
                let (x, y) = frame.apply(s.x, s.y);
                query
                    .iter()
                    .filter(|q| (q.x - x).abs() <= tolerance && (q.y - y).abs() <= tolerance)
                    .map(|q| (q.descriptor.hamming_distance(&s.descriptor), q))
                    .filter(|(distance, _)| *distance <= model.guided_radius)
                    .min_by_key(|(distance, _)| *distance)
                    .map(|(distance, q)| ((s.x, s.y, q.x, q.y), distance))
            })
            .collect();
        if pairs.len() < model.min_inliers {
            return None;
        }
        let correspondences: Vec<Correspondence> = pairs.iter().map(|(m, _)| *m).collect();
        frame = least_squares(&correspondences, frame)?;
        let radius = (model.guided_radius + 1) as f32;
        support = pairs.iter().map(|(_, distance)| 1.0 - *distance as f32 / radius).sum();
    }
    Some((support, frame))
}

fn inliers<'a>(
    matches: &'a [Correspondence],
    frame: &CropFrame,
    tolerance: f32,
) -> impl Iterator<Item = &'a Correspondence> {
    let frame = *frame;
    matches.iter().filter(move |m| {
        let (x, y) = frame.apply(m.0, m.1);
        (x - m.2).abs() <= tolerance && (y - m.3).abs() <= tolerance
    })
}

/// The frame of the same kind as `like` (axis-aligned, or affine when `like` has a shear) nearest
/// the matches, or `None` when they do not spread.
fn least_squares(matches: &[Correspondence], like: CropFrame) -> Option<CropFrame> {
    if like.shear_x != 0.0 || like.shear_y != 0.0 {
        return affine_least_squares(matches);
    }
    let (scale_x, shift_x) = line_least_squares(matches.iter().map(|m| (m.0, m.2)))?;
    let (scale_y, shift_y) = line_least_squares(matches.iter().map(|m| (m.1, m.3)))?;
    Some(CropFrame::axis_aligned(scale_x, scale_y, shift_x, shift_y))
}

/// The line `to = scale · from + shift` nearest the points, or `None` when they do not spread.
fn line_least_squares(points: impl Iterator<Item = (f32, f32)> + Clone) -> Option<(f32, f32)> {
    let n = points.clone().count() as f64;
    let (sum_from, sum_to) =
        points.clone().fold((0.0, 0.0), |(a, b), (from, to)| (a + f64::from(from), b + f64::from(to)));
    let (mean_from, mean_to) = (sum_from / n, sum_to / n);
    let (covariance, variance) = points.fold((0.0, 0.0), |(c, v), (from, to)| {
        let d = f64::from(from) - mean_from;
        (c + d * (f64::from(to) - mean_to), v + d * d)
    });
    if variance < 1.0 {
        return None;
    }
    let scale = covariance / variance;
    Some((scale as f32, (mean_to - scale * mean_from) as f32))
}

/// The affine frame nearest the matches (exact for three), or `None` when they lie near one line.
/// Solved on coordinates centred on the matches' mean, which keeps the normal equations well
/// conditioned.
fn affine_least_squares(matches: &[Correspondence]) -> Option<CropFrame> {
    let n = matches.len() as f64;
    let mean = |pick: fn(&Correspondence) -> f32| matches.iter().map(|m| f64::from(pick(m))).sum::<f64>() / n;
    let (mx, my, mu, mv) = (mean(|m| m.0), mean(|m| m.1), mean(|m| m.2), mean(|m| m.3));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    let (mut sxu, mut syu, mut sxv, mut syv) = (0.0, 0.0, 0.0, 0.0);
    for m in matches {
        let (x, y) = (f64::from(m.0) - mx, f64::from(m.1) - my);
        let (u, v) = (f64::from(m.2) - mu, f64::from(m.3) - mv);
        (sxx, sxy, syy) = (sxx + x * x, sxy + x * y, syy + y * y);
        (sxu, syu, sxv, syv) = (sxu + x * u, syu + y * u, sxv + x * v, syv + y * v);
    }
    let determinant = sxx * syy - sxy * sxy;
    // The matches must span an area, not a line: at least MIN_SPREAD² per match on average.
    if determinant < (f64::from(MIN_SPREAD) * f64::from(MIN_SPREAD) * n).powi(2) {
        return None;
    }
    let solve = |su: f64, sv: f64| ((syy * su - sxy * sv) / determinant, (sxx * sv - sxy * su) / determinant);
    let (scale_x, shear_x) = solve(sxu, syu);
    let (shear_y, scale_y) = solve(sxv, syv);
    Some(CropFrame {
        scale_x: scale_x as f32,
        shear_x: shear_x as f32,
        shift_x: (mu - scale_x * mx - shear_x * my) as f32,
        shear_y: shear_y as f32,
        scale_y: scale_y as f32,
        shift_y: (mv - shear_y * mx - scale_y * my) as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fingerprint::pdq::Pdq;

    const CARD: (u32, u32) = (512, 323);

    fn model() -> CropModel {
        crate::analysis::reuse::perceptual::ReuseModel::embedded().crops
    }

    /// A pseudo-random descriptor per seed (SplitMix64 per word).
    fn descriptor(seed: u32) -> Pdq {
        Pdq(std::array::from_fn(|i| {
            let mut z = (u64::from(seed) << 8 | i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            (z ^ (z >> 27)) as u16
        }))
    }

    fn layout_keypoints() -> Vec<Keypoint> {
        (0..40u32)
            .map(|i| Keypoint {
                x: (20 + i * 11 % 470) as f32,
                y: (20 + i * 37 % 280) as f32,
                descriptor: descriptor(i),
            })
            .collect()
    }

    fn print(keypoints: Vec<Keypoint>) -> CropPrint {
        let inner = InnerHashes {
            portrait: descriptor(900),
            data: descriptor(901),
            portrait_quality: 100,
            data_quality: 100,
        };
        CropPrint { inner, keypoints }
    }

    #[test]
    fn a_crop_frame_is_fitted_despite_wrong_matches() {
        let mut index = CropIndex::default();
        index.insert(7, &print(layout_keypoints()));
        let (scale_x, scale_y, shift_x, shift_y) = (1.12f32, 1.07f32, -30.0f32, -12.0f32);
        let mut query: Vec<Keypoint> = layout_keypoints()
            .into_iter()
            .filter_map(|k| {
                let x = (scale_x * k.x + shift_x).round();
                let y = (scale_y * k.y + shift_y).round();
                ((0.0..512.0).contains(&x) && (0.0..323.0).contains(&y)).then_some(Keypoint { x, y, ..k })
            })
            .collect();
        // A third of the matches point somewhere else.
        for k in query.iter_mut().step_by(3) {
            k.x = (k.x + 97.0) % 500.0;
        }
        let frames = index.frames(&query, &model(), CARD, model().frame_margin);
        assert_eq!(frames.len(), 1);
        let frame = frames[0];
        assert!(
            (frame.scale_x - scale_x).abs() < 0.01 && (frame.scale_y - scale_y).abs() < 0.01,
            "{frame:?}"
        );
        assert!((frame.shift_x - shift_x).abs() < 2.0 && (frame.shift_y - shift_y).abs() < 2.0, "{frame:?}");
    }

    #[test]
    fn a_crop_turned_a_little_is_fitted_with_its_rotation() {
        let mut index = CropIndex::default();
        index.insert(7, &print(layout_keypoints()));
        // 2° turned about the card's centre, and enlarged 1.08× (a crop of an outline found askew).
        let (sin, cos) = 2f32.to_radians().sin_cos();
        let turn = |x: f32, y: f32| {
            let (dx, dy) = (x - 256.0, y - 161.0);
            (256.0 + 1.08 * (cos * dx - sin * dy), 161.0 + 1.08 * (sin * dx + cos * dy))
        };
        let query: Vec<Keypoint> = layout_keypoints()
            .into_iter()
            .map(|k| {
                let (x, y) = turn(k.x, k.y);
                Keypoint { x: x.round(), y: y.round(), ..k }
            })
            .collect();
        let frames = index.frames(&query, &model(), CARD, model().frame_margin);
        assert_eq!(frames.len(), 1);
        let frame = frames[0];
        assert!(
            (frame.shear_y - 1.08 * sin).abs() < 0.005 && (frame.shear_x + 1.08 * sin).abs() < 0.005,
            "{frame:?}"
        );
        for (x, y) in [(30.0, 30.0), (480.0, 290.0)] {
            let (fitted, truth) = (frame.apply(x, y), turn(x, y));
            assert!(
                (fitted.0 - truth.0).abs() < 1.0 && (fitted.1 - truth.1).abs() < 1.0,
                "{fitted:?} {truth:?}"
            );
        }
        // An axis-aligned crop stays axis-aligned.
        assert_eq!(index.frames(&layout_keypoints(), &model(), CARD, model().frame_margin)[0].shear_x, 0.0);
    }

    #[test]
    fn a_layout_printed_a_few_pixels_away_is_not_a_crop() {
        let mut index = CropIndex::default();
        index.insert(7, &print(layout_keypoints()));
        // The same print 11 px to the right (another template on a shared design): every keypoint
        // fits one shift, but the query shows 11 px the stored card does not have.
        let shifted: Vec<Keypoint> =
            layout_keypoints().into_iter().map(|k| Keypoint { x: k.x + 11.0, ..k }).collect();
        assert!(index.frames(&shifted, &model(), CARD, model().frame_margin).is_empty());
        let in_place = index.frames(&layout_keypoints(), &model(), CARD, model().frame_margin);
        assert_eq!(in_place.len(), 1);
        assert!(in_place[0].in_place(&crate::analysis::reuse::perceptual::ReuseModel::embedded().layout));
    }

    #[test]
    fn too_few_matches_fit_no_frame_and_removal_forgets_the_layout() {
        let mut index = CropIndex::default();
        let stored = print(layout_keypoints());
        index.insert(3, &stored);
        assert!(
            index
                .frames(&layout_keypoints()[..model().min_inliers - 1], &model(), CARD, model().frame_margin)
                .is_empty()
        );
        assert_eq!(index.candidates(&stored.inner, 10), [3]);
        index.remove(3, &stored);
        assert!(index.frames(&layout_keypoints(), &model(), CARD, model().frame_margin).is_empty());
        assert!(index.candidates(&stored.inner, 10).is_empty());
        assert_eq!(index.stored_keypoints(), 0);
    }
}
