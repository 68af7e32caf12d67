//! Finding a known layout in an upload the locator could not outline: a card on a white scanner bed
//! (its edges a few levels from the bed's), or a phone photo whose card edges run into the
//! background. Read as the whole frame, such a card's zones hash tens of bits away from any other
//! capture of it, and it is never proposed.
//!
//! The index holds the keypoints of a stored card of every layout it has seen
//! ([`super::crops`]). The frame is scaled isotropically so that a card taking each of a few shares
//! of its width would be about as wide as a rectified card, its FAST-9/BRIEF keypoints are paired
//! with a layout's, and one homography from the layout's card to the frame is fitted by RANSAC
//! ([`super::verify`]). Its image of the card's corners is the outline: a registration stores the
//! card so framed, and a search reads it so. Every holder's card of a layout shares its print
//! (header, labels, guilloche), so the fit finds the card without knowing whose it is; which holder
//! it is is still for the zone hashes and verification to say.

use image::GrayImage;
use image::imageops::rotate180;
use imageproc::geometric_transformations::Projection;
use serde::Deserialize;

use super::crops::CropIndex;
use super::verify::{Pair, VerificationModel, error, ransac};
use crate::analysis::decode::planes::WorkingPlanes;
use crate::analysis::fingerprint::document::{DocumentLayout, DocumentLocation, Framing};
use crate::analysis::fingerprint::keypoints::{Keypoint, KeypointParameters, keypoints, resampled};

/// How a known layout is looked for (`[layout_fit]` in `models/reuse.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutFitModel {
    /// The shares of the frame's width a card is assumed to take, one scaled view each. BRIEF
    /// tolerates a few per cent of scale, and a layout's stored keypoints were taken at up to
    /// [`crate::analysis::fingerprint::document::DocumentLayout::stored_keypoint_scales`]'s largest
    /// enlargement: each view finds cards from its share to that much wider.
    pub card_width_shares: Vec<f32>,
    /// Most keypoints per view (the frame's background has corners too).
    pub max_keypoints: usize,
    /// Largest descriptor distance (of 256 bits) of a pair.
    pub descriptor_radius: u32,
    /// A pair's distance must be below this share of the nearest keypoint elsewhere on the layout.
    pub max_distance_ratio: f32,
    /// Layouts fitted per view: those sharing the most descriptors with it.
    pub candidate_layouts: usize,
    /// Fewest pairs agreeing with the homography.
    pub min_inliers: usize,
    /// A fit with this many agreeing pairs ends the search (views are tried in order).
    pub conclusive_inliers: usize,
    /// A fitted outline may reach this share of the frame's size beyond its edges (a corner a
    /// little outside the photo).
    pub max_outside: f32,
    /// An outline whose every corner lies within this share of the frame's diagonal from the
    /// frame's is the whole frame (a flat image of the card alone, which a fit puts a few pixels
    /// off), kept as it was read.
    pub same_as_frame: f32,
}

/// Where a known layout's card lies in the frame: its corners in working-plane pixels and the pairs
/// that agree.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LayoutFit {
    /// The card's corners (its top-left, top-right, bottom-right, bottom-left).
    corners: [(f32, f32); 4],
    /// Keypoint pairs agreeing with the homography.
    inliers: usize,
}

/// What a fit reads besides its own table: the rectified card's layout, verification's RANSAC, and
/// the radius within which a descriptor votes for a stored layout (the crop index's).
#[derive(Debug, Clone, Copy)]
pub struct FitContext<'m> {
    /// Its own table.
    pub fitting: &'m LayoutFitModel,
    /// The rectified card: size, keypoint parameters, proportions.
    pub layout: &'m DocumentLayout,
    /// RANSAC's iterations, inlier tolerance and area limits.
    pub verification: &'m VerificationModel,
    /// Largest descriptor distance of a vote for a layout.
    pub vote_radius: u32,
}

/// The location of an unlocated upload refitted on a layout `layouts` knows: the fitted outline
/// first, the frame and its print box after it (searched too); `None` when the locator found an
/// outline, no layout is known, none fits, or the fit is the whole frame.
pub fn refit_on_known_layout(
    layouts: &CropIndex,
    planes: &WorkingPlanes,
    location: &DocumentLocation,
    context: FitContext<'_>,
) -> Option<DocumentLocation> {
    if location.outline().is_some() || layouts.stored_keypoints() == 0 {
        return None;
    }
    // The box of the frame's print is about as wide as the card: the views nearest its width first.
    let print_width = location.print_box().map(|quad| (quad[1].0 - quad[0].0) / planes.luma.width() as f32);
    let fit = fit_known_layout(layouts, &planes.luma, print_width, context)?;
    let (width, height) = (planes.luma.width() as f32, planes.luma.height() as f32);
    let frame = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)];
    let whole_frame =
        fit.corners.iter().zip(frame).all(|(a, b)| {
            (a.0 - b.0).hypot(a.1 - b.1) <= context.fitting.same_as_frame * width.hypot(height)
        });
    (!whole_frame).then(|| location.led_by(Framing::LayoutFit, fit.corners))
}

/// The best fit of a known layout's card in `luma`, over the scaled views (those nearest
/// `width_share`, the card's guessed share of the frame's width, first) both ways up, until one fits
/// conclusively.
fn fit_known_layout(
    layouts: &CropIndex,
    luma: &GrayImage,
    width_share: Option<f32>,
    context: FitContext<'_>,
) -> Option<LayoutFit> {
    let FitContext { fitting, layout: card_layout, verification, vote_radius } = context;
    let parameters = KeypointParameters { max: fitting.max_keypoints, ..card_layout.keypoint_parameters() };
    let (width, height) = (luma.width() as f32, luma.height() as f32);
    let region = [0.0, 0.0, card_layout.card_width as f32, card_layout.card_height as f32];
    let mut shares = fitting.card_width_shares.clone();
    if let Some(guess) = width_share.filter(|share| *share > 0.0) {
        shares.sort_by(|a, b| (a / guess).ln().abs().total_cmp(&(b / guess).ln().abs()));
    }
    let conclusive =
        |best: &Option<LayoutFit>| best.is_some_and(|fit| fit.inliers >= fitting.conclusive_inliers);
    let mut best: Option<LayoutFit> = None;
    // Upright at every scale first; turned 180° (its descriptors taken again) only when that fails.
    for turned in [false, true] {
        for &share in &shares {
            if conclusive(&best) {
                return best;
            }
            let view_width = (card_layout.card_width as f32 / share).round();
            let scale = view_width / width;
            let view_height = (height * scale).round();
            if view_width < 64.0 || view_height < 64.0 {
                continue;
            }
            let mut view = resampled(luma, view_width as u32, view_height as u32);
            if turned {
                view = rotate180(&view);
            }
            let keypoints = keypoints(&view, parameters);
            for layout in layouts.layouts_sharing(&keypoints, vote_radius, fitting.candidate_layouts) {
                let pairs = layout_pairs(&keypoints, layout, fitting);
                let Some((_, sampled)) = ransac(&pairs, region, verification) else { continue };
                let (inliers, homography) = refined(&pairs, sampled, verification.inlier_tolerance);
                if inliers < fitting.min_inliers || best.is_some_and(|kept| kept.inliers >= inliers) {
                    continue;
                }
                let corners = card_corners(&homography, region).map(|(x, y)| {
                    // Back from the turned view (pixel p of a row is pixel width − 1 − p turned),
                    // then from the view's scale to the frame's.
                    let (x, y) = if turned { (view_width - 1.0 - x, view_height - 1.0 - y) } else { (x, y) };
                    (x / scale, y / scale)
                });
                if inside(&corners, (width, height), fitting.max_outside)
                    && card_shaped(&corners, card_layout.aspect_range)
                {
                    best = Some(LayoutFit { corners, inliers });
                }
            }
        }
    }
    best
}

/// The homography refitted by least squares to the pairs agreeing with it, twice, and how many pairs
/// agree with the result. RANSAC's homography passes through four sampled pairs exactly, each a
/// pixel or so off; extrapolated to the card's corners from keypoints bunched on its print, that
/// error grows to tens of pixels.
fn refined(pairs: &[Pair], sampled: Projection, tolerance: f32) -> (usize, Projection) {
    let agreeing = |homography: &Projection| -> Vec<Pair> {
        pairs.iter().filter(|pair| error(homography, pair) <= tolerance).copied().collect()
    };
    let mut homography = sampled;
    for _ in 0..2 {
        match least_squares(&agreeing(&homography)) {
            Some(refitted) => homography = refitted,
            None => break,
        }
    }
    (agreeing(&homography).len(), homography)
}

/// The homography (stored to view) minimising the algebraic error over `pairs` (the direct linear
/// transform with the last entry fixed at 1, on coordinates centred and scaled per side for a
/// well-conditioned solve); `None` for fewer than five pairs or a singular system. Hand-written:
/// imageproc solves exactly four points only, and an 8×8 normal-equation solve is a few lines.
fn least_squares(pairs: &[Pair]) -> Option<Projection> {
    if pairs.len() < 5 {
        return None;
    }
    let normaliser = |points: &mut dyn Iterator<Item = (f64, f64)>| {
        let points: Vec<(f64, f64)> = points.collect();
        let n = points.len() as f64;
        let (cx, cy) = points.iter().fold((0.0, 0.0), |(sx, sy), p| (sx + p.0 / n, sy + p.1 / n));
        let spread = points.iter().map(|p| (p.0 - cx).hypot(p.1 - cy)).sum::<f64>() / n;
        let scale = if spread > 0.0 { std::f64::consts::SQRT_2 / spread } else { 1.0 };
        (cx, cy, scale)
    };
    let from = normaliser(&mut pairs.iter().map(|p| (f64::from(p.0), f64::from(p.1))));
    let to = normaliser(&mut pairs.iter().map(|p| (f64::from(p.2), f64::from(p.3))));
    let mut normal = [[0.0f64; 9]; 8];
    for pair in pairs {
        let (x, y) = ((f64::from(pair.0) - from.0) * from.2, (f64::from(pair.1) - from.1) * from.2);
        let (u, v) = ((f64::from(pair.2) - to.0) * to.2, (f64::from(pair.3) - to.1) * to.2);
        for (row, target) in
            [([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u], u), ([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v], v)]
        {
            for i in 0..8 {
                for j in 0..8 {
                    normal[i][j] += row[i] * row[j];
                }
                normal[i][8] += row[i] * target;
            }
        }
    }
    let h = solve(normal)?;
    // Undo the normalisation: view = T_to^-1 · H · T_from.
    let normalised = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0].map(|value| value as f32);
    let projection = Projection::from_matrix(normalised)?;
    let into = Projection::translate(-from.0 as f32, -from.1 as f32)
        .and_then(Projection::scale(from.2 as f32, from.2 as f32));
    let out = Projection::scale(1.0 / to.2 as f32, 1.0 / to.2 as f32)
        .and_then(Projection::translate(to.0 as f32, to.1 as f32));
    Some(into.and_then(projection).and_then(out))
}

/// Gaussian elimination with partial pivoting on an augmented 8×9 system.
fn solve(mut system: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for column in 0..8 {
        let pivot =
            (column..8).max_by(|&a, &b| system[a][column].abs().total_cmp(&system[b][column].abs()))?;
        if system[pivot][column].abs() < 1e-12 {
            return None;
        }
        system.swap(column, pivot);
        let pivot_row = system[column];
        for (row, values) in system.iter_mut().enumerate() {
            if row != column {
                let factor = values[column] / pivot_row[column];
                for (value, pivot_value) in values.iter_mut().zip(pivot_row).skip(column) {
                    *value -= factor * pivot_value;
                }
            }
        }
    }
    Some(std::array::from_fn(|i| system[i][8] / system[i][i]))
}

/// The stored card's corners (region's) as the homography puts them in the view.
fn card_corners(homography: &Projection, region: [f32; 4]) -> [(f32, f32); 4] {
    [(region[0], region[1]), (region[2], region[1]), (region[2], region[3]), (region[0], region[3])]
        .map(|corner| *homography * corner)
}

/// The outline has a document's proportions (its mean long side over its mean short side within
/// `aspect_range`, as the locator requires): a layout fitted onto part of another print squeezes it.
fn card_shaped(corners: &[(f32, f32); 4], aspect_range: [f64; 2]) -> bool {
    let side = |a: usize, b: usize| (corners[a].0 - corners[b].0).hypot(corners[a].1 - corners[b].1);
    let (across, down) = ((side(0, 1) + side(3, 2)) / 2.0, (side(0, 3) + side(1, 2)) / 2.0);
    let aspect = f64::from(across.max(down) / across.min(down).max(1.0));
    (aspect_range[0]..=aspect_range[1]).contains(&aspect)
}

/// Every corner within the frame, give or take `outside` of its size.
fn inside(corners: &[(f32, f32); 4], (width, height): (f32, f32), outside: f32) -> bool {
    corners.iter().all(|&(x, y)| {
        (-outside * width..=width * (1.0 + outside)).contains(&x)
            && (-outside * height..=height * (1.0 + outside)).contains(&y)
    })
}

/// Pairs each view keypoint with the layout keypoint nearest in descriptor, within the radius and
/// clearly nearer than the nearest one lying elsewhere on the card. A layout stores each corner at a
/// few scales ([`super::crops`]): those copies lie within a pixel or two of each other and are not
/// rivals, whereas a glyph printed many times is.
fn layout_pairs(view: &[Keypoint], layout: &[Keypoint], model: &LayoutFitModel) -> Vec<Pair> {
    /// Copies of one corner at other scales lie within this many pixels of it.
    const SAME_CORNER_PX: f32 = 3.0;
    let apart = |a: &Keypoint, b: &Keypoint| (a.x - b.x).hypot(a.y - b.y) > SAME_CORNER_PX;
    view.iter()
        .filter_map(|keypoint| {
            // One pass: the nearest, and the nearest lying apart from it (a nearer one replacing
            // the nearest makes the old one the rival when they lie apart).
            let mut nearest: Option<(u32, &Keypoint)> = None;
            let mut rival = u32::MAX;
            for stored in layout {
                let distance = keypoint.descriptor.hamming_distance(&stored.descriptor);
                match nearest {
                    Some((best, kept)) if distance >= best => {
                        if distance < rival && apart(stored, kept) {
                            rival = distance;
                        }
                    }
                    Some((best, kept)) => {
                        if apart(stored, kept) {
                            rival = best;
                        }
                        nearest = Some((distance, stored));
                    }
                    None => nearest = Some((distance, stored)),
                }
            }
            let (best, stored) = nearest?;
            (best <= model.descriptor_radius && (best as f32) < model.max_distance_ratio * rival as f32)
                .then_some((stored.x, stored.y, keypoint.x, keypoint.y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use image::RgbImage;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::analysis::decode::planes::working_planes;
    use crate::analysis::decode::{DecodeLimits, decode};
    use crate::analysis::fingerprint::document::DocumentPrint;
    use crate::analysis::reuse::perceptual::{IndexedDocument, PerceptualIndex, ReuseModel};
    use crate::domain::ids::{AccountId, DocumentId};
    use crate::eval::synthetic::capture::{CaptureSettings, Device, capture};
    use crate::eval::synthetic::cards::Template;
    use crate::eval::synthetic::fixtures::{document_print, jpeg};

    /// The working planes of an upload, as the service reads it.
    fn planes_of(upload: &[u8]) -> WorkingPlanes {
        let decoded = decode(upload, &DecodeLimits::default()).expect("a decodable upload");
        working_planes(
            &decoded.rgb,
            crate::analysis::quality::QualityThresholds::embedded().working_long_side,
        )
    }

    /// Three holders' cards of one template (seed 900: not a seed any evaluation was tuned on), and
    /// an index where they are registered as the service registers flat uploads.
    fn registered_cards(model: &ReuseModel) -> (Vec<RgbImage>, PerceptualIndex) {
        let template = Template::new(1);
        let mut rng = StdRng::seed_from_u64(900);
        let cards: Vec<RgbImage> = (0..3).map(|_| template.render(&template.holder(&mut rng))).collect();
        let mut index = PerceptualIndex::new();
        for (number, card) in cards.iter().enumerate() {
            let print = document_print(&jpeg(card, 92));
            let crop = index.crop_print_to_store(&print, model, false);
            index.insert(IndexedDocument {
                account_id: AccountId::new(format!("holder-{number}")).expect("valid id"),
                document_id: DocumentId::new("card").expect("valid id"),
                registered_at_ms: number as i64,
                sequence: 0,
                hashes: print.upright,
                crop: Some(crop),
            });
        }
        (cards, index)
    }

    #[test]
    fn a_pale_card_on_a_white_scanner_bed_is_framed_on_its_known_layout() {
        let model = ReuseModel::embedded();
        let (cards, index) = registered_cards(&model);
        let mut rng = StdRng::seed_from_u64(901);
        let scanned = capture(&cards[2], &CaptureSettings::draw(Device::Scanner, &mut rng), &mut rng);
        let planes = planes_of(&scanned.jpeg);
        let location = DocumentLocation::find(&planes, &model.layout);
        assert!(location.outline().is_none(), "the locator outlined the card: the test shows nothing");
        let as_frame = DocumentPrint::at(&planes, &location, &model.layout);
        let registered = document_print(&jpeg(&cards[2], 92)).upright;
        let far = |print: &DocumentPrint| {
            print
                .upright
                .portrait
                .hamming_distance(&registered.portrait)
                .max(print.upright.data.hamming_distance(&registered.data))
        };
        assert!(far(&as_frame) > model.matching.search_radius, "read as the frame, the card is not proposed");

        let refit = index.refit_on_known_layout(&planes, &location, &model).expect("the layout is known");
        let factor = planes.factor as f32;
        let outline = refit.outline().expect("a fitted outline");
        for (found, truth) in outline.iter().zip(scanned.corners) {
            let off = (found.0 - truth.0 / factor).hypot(found.1 - truth.1 / factor);
            assert!(off < 2.0, "fitted {outline:?}, the card at {:?} / {factor}", scanned.corners);
        }
        let fitted = DocumentPrint::at(&planes, &refit, &model.layout);
        assert_eq!(fitted.framing, Framing::LayoutFit);
        assert!(far(&fitted) <= model.matching.same_document_data.min(model.matching.same_document_portrait));
    }

    #[test]
    fn a_frame_without_a_known_layout_is_left_unfitted() {
        let model = ReuseModel::embedded();
        let (_, index) = registered_cards(&model);
        // A card of a layout the index does not hold (a registered template mirrored: the same
        // colours and kind of print, none of it where the index has it) on the bed.
        let template = Template::new(1);
        let mut rng = StdRng::seed_from_u64(903);
        let other = image::imageops::flip_horizontal(&template.render(&template.holder(&mut rng)));
        let scanned = capture(&other, &CaptureSettings::draw(Device::Scanner, &mut rng), &mut rng);
        let planes = planes_of(&scanned.jpeg);
        let location = DocumentLocation::find(&planes, &model.layout);
        assert!(location.outline().is_none(), "the locator outlined the card: the test shows nothing");
        assert_eq!(index.refit_on_known_layout(&planes, &location, &model), None);
        // A flat image of a registered card is its own frame: nothing to refit.
        let (cards, _) = registered_cards(&model);
        let flat = planes_of(&jpeg(&cards[0], 92));
        assert_eq!(
            index.refit_on_known_layout(&flat, &DocumentLocation::find(&flat, &model.layout), &model),
            None
        );
    }
}
