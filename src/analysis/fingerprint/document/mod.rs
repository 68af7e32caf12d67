//! Document-aware fingerprints: find the card in the photo, rectify it to a fixed landscape shape and
//! hash its zones separately.
//!
//! One global perceptual hash confuses different people's cards of one template and loses the same
//! card after a small crop or tilt (DESIGN.md). Rectifying first undoes tilt, perspective, background
//! and 90° turns; hashing the portrait zone and the personal-data zone separately lets a match say
//! which part of the document was reused.
//!
//! The locator works on the working luma plane: edges (Canny), the largest outer contour, its convex
//! hull reduced to four corners. When no quadrilateral covers enough of the frame, the whole frame is
//! the document (a flat scan). The zone layout (portrait on the left, data on the right, the ICAO 9303
//! TD1 and ISO/IEC 18013-1 convention) lives in `models/reuse.toml`.

use image::imageops::{FilterType, resize};
use image::{GrayImage, Luma, RgbImage};
use imageproc::contours::find_contours;
use imageproc::distance_transform::Norm;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into, warp_into_with};
use imageproc::geometry::{approximate_polygon_dp, contour_area, convex_hull, min_area_rect};
use imageproc::morphology::dilate;
use imageproc::point::Point;
use serde::{Deserialize, Serialize};

use crate::domain::report::DocumentOutline;

use super::fast_ops::{canny, resize_triangle, sobel_magnitudes};
use super::keypoints::{Keypoint, KeypointParameters, enlarged_keypoints, keypoints_both_ways};
use super::pdq::{Pdq, pdq_from_luma};
use crate::analysis::decode::planes::{WorkingPlanes, luma_of};

mod layout;
mod locate;
mod print;
mod print_box;
mod rectify;

pub use layout::{DocumentLayout, LocatorTuning, ZoneBox};
use locate::{landscape_order, locate_card, sharpen_outline};
pub use print::{CropFrame, CropPrint, InnerHashes, ZoneColour, ZoneHashes};
pub use rectify::ALIGNMENT_REACH;
pub(crate) use rectify::from_unit_square;
use rectify::{inner_hashes, rectify, warp_region, warp_region_through, zone_hashes, zone_pixels};

/// Four corners (top-left, top-right, bottom-right, bottom-left), in pixels.
type Quad = [(f32, f32); 4];

/// How the card's outline was taken from the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// No outline was found: the whole frame is the document (a flat scan).
    WholeFrame,
    /// The outline as located.
    Outline,
    /// The outline extended by a lost band along its upper long side.
    ExtendedUp,
    /// The outline extended by a lost band along its lower long side.
    ExtendedDown,
    /// The whole frame, read as a crop of a stored card in a frame fitted from keypoints.
    CropFrame,
    /// No outline was found: the box of the frame's print (a pale card on a white bed).
    PrintBox,
    /// No outline was found: a known layout's card fitted from keypoints.
    LayoutFit,
}

impl Framing {
    /// The name used in evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::WholeFrame => "whole_frame",
            Framing::Outline => "outline",
            Framing::ExtendedUp => "outline_extended_up",
            Framing::ExtendedDown => "outline_extended_down",
            Framing::CropFrame => "crop_fitted_from_keypoints",
            Framing::PrintBox => "print_box",
            Framing::LayoutFit => "layout_fitted_from_keypoints",
        }
    }
}

/// The document fingerprint: the card's corners in the working plane and its zone hashes, upright
/// as located and turned 180° (a landscape card can lie either way up).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentPrint {
    /// Corners (top-left, top-right, bottom-right, bottom-left) in working-plane pixels.
    pub corners: [(f32, f32); 4],
    /// A card outline was found (otherwise the whole frame was used).
    pub located: bool,
    /// How `corners` were taken.
    pub framing: Framing,
    /// Hashes of the card as rectified.
    pub upright: ZoneHashes,
    /// Hashes of the card turned 180°.
    pub turned: ZoneHashes,
    /// Other plausible framings: the outline extended by a lost band (see
    /// [`DocumentLayout::banded_aspect_above`]) and, for a located outline, the whole frame (the
    /// outline may be a window or a frame inside a photo that another upload shows unlocated). A
    /// search tries them too; only the first framing is stored.
    #[serde(skip)]
    pub alternatives: Vec<AlternativeFraming>,
    /// Inner-zone hashes of the card as rectified, upright.
    #[serde(skip)]
    pub inner: InnerHashes,
    /// Keypoints of the card at its own scale, upright and turned 180°: what a search matches.
    #[serde(skip)]
    pub keypoints: [Vec<Keypoint>; 2],
    /// The rectified card (upright), kept for re-reading a crop in a fitted frame; never stored.
    #[serde(skip)]
    pub card: GrayImage,
}

/// Another reading of the card's outline, searched but not stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlternativeFraming {
    /// How it was framed.
    pub framing: Framing,
    /// Its corners in working-plane pixels.
    pub corners: [(f32, f32); 4],
    /// Hashes of the card so rectified.
    pub upright: ZoneHashes,
    /// And turned 180°.
    pub turned: ZoneHashes,
}

/// One way to read a query print: a framing, upright or turned 180°.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading<'a> {
    /// The zone hashes of this reading.
    pub hashes: &'a ZoneHashes,
    /// The framing.
    pub framing: Framing,
    /// Turned 180°.
    pub turned: bool,
}

impl DocumentPrint {
    /// The outline of the document, located on a working plane `factor` times smaller than the image,
    /// in image pixels.
    pub fn outline(&self, factor: u32) -> DocumentOutline {
        outline_in_image(self.located, &self.corners, factor)
    }
}

/// An outline found on a working plane `factor` times smaller than the image, in image pixels.
fn outline_in_image(located: bool, corners: &Quad, factor: u32) -> DocumentOutline {
    let scale = factor as f32;
    DocumentOutline { located, corners: corners.map(|(x, y)| (x * scale, y * scale)) }
}

/// Where the document lies in the working planes: the located outline's framings, the most
/// plausible first, then the whole frame; or, when no outline was found, the whole frame and the
/// box of its print. Found
/// once per upload and shared by the quality gate and the fingerprints.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLocation {
    framings: Vec<(Framing, Quad)>,
}

impl DocumentLocation {
    /// Locates the document in the working planes.
    pub fn find(planes: &WorkingPlanes, layout: &DocumentLayout) -> Self {
        let (width, height) = planes.luma.dimensions();
        let frame = landscape_order([
            (0.0, 0.0),
            (width as f32, 0.0),
            (width as f32, height as f32),
            (0.0, height as f32),
        ]);
        let framings = match locate_card(&planes.rgb, layout) {
            Some(located) => located
                .into_iter()
                .map(|(framing, quad)| (framing, sharpen_outline(&planes.rgb, &quad, &layout.locator)))
                .chain([(Framing::WholeFrame, frame)])
                .collect(),
            // Unlocated: the whole frame, and the box of its print searched besides.
            None => std::iter::once((Framing::WholeFrame, frame))
                .chain(
                    print_box::print_box(&planes.luma).map(|quad| (Framing::PrintBox, landscape_order(quad))),
                )
                .collect(),
        };
        DocumentLocation { framings }
    }

    /// The box of the frame's print, when no outline was found.
    pub fn print_box(&self) -> Option<&[(f32, f32); 4]> {
        self.framings.iter().find(|(framing, _)| *framing == Framing::PrintBox).map(|(_, quad)| quad)
    }

    /// This location led by another framing of the document, the others kept after it.
    pub fn led_by(&self, framing: Framing, corners: [(f32, f32); 4]) -> Self {
        DocumentLocation {
            framings: std::iter::once((framing, corners)).chain(self.framings.iter().copied()).collect(),
        }
    }

    /// The outline a print of the document at this location reports ([`DocumentPrint::outline`]),
    /// without rectifying or hashing it.
    pub fn image_outline(&self, factor: u32) -> DocumentOutline {
        let (framing, corners) = &self.framings[0];
        outline_in_image(*framing != Framing::WholeFrame, corners, factor)
    }

    /// The located outline's corners (top-left, top-right, bottom-right, bottom-left of the card
    /// read landscape) in working-plane pixels, or `None` when the whole frame is the document.
    pub fn outline(&self) -> Option<&[(f32, f32); 4]> {
        self.framings.first().filter(|(framing, _)| *framing != Framing::WholeFrame).map(|(_, quad)| quad)
    }
}

impl DocumentPrint {
    /// Locates, rectifies and hashes the document in the working planes.
    pub fn compute(planes: &WorkingPlanes, layout: &DocumentLayout) -> Self {
        Self::at(planes, &DocumentLocation::find(planes, layout), layout)
    }

    /// Rectifies and hashes the document found at `location`.
    pub fn at(planes: &WorkingPlanes, location: &DocumentLocation, layout: &DocumentLayout) -> Self {
        let luma = &planes.luma;
        let mut framings = location.framings.clone();
        // The card as rectified, upright and turned 180°.
        let rectified = |corners: &[(f32, f32); 4]| {
            let card = rectify(luma, corners, layout);
            let turned_card = image::imageops::rotate180(&card);
            (card, turned_card)
        };
        let alternatives = framings
            .split_off(1)
            .into_iter()
            .map(|(framing, corners)| {
                let (card, turned_card) = rectified(&corners);
                AlternativeFraming {
                    framing,
                    corners,
                    upright: zone_hashes(&card, &planes.rgb, &corners, false, layout),
                    turned: zone_hashes(&turned_card, &planes.rgb, &corners, true, layout),
                }
            })
            .collect();
        let (framing, corners) = framings[0];
        let (card, turned_card) = rectified(&corners);
        let keypoints = keypoints_both_ways(&card, &turned_card, layout.keypoint_parameters());
        DocumentPrint {
            corners,
            located: framing != Framing::WholeFrame,
            framing,
            upright: zone_hashes(&card, &planes.rgb, &corners, false, layout),
            turned: zone_hashes(&turned_card, &planes.rgb, &corners, true, layout),
            alternatives,
            inner: inner_hashes(&card, layout),
            keypoints,
            card,
        }
    }

    /// The keypoints a registration stores for a layout not known before: the card's own and those
    /// taken from it enlarged (see [`DocumentLayout::stored_keypoint_scales`]).
    pub fn keypoints_to_store(&self, layout: &DocumentLayout) -> Vec<Keypoint> {
        let mut stored = self.keypoints[0].clone();
        stored.extend(enlarged_keypoints(
            &self.card,
            layout.keypoint_parameters(),
            &layout.stored_keypoint_scales,
        ));
        stored
    }

    /// The inner-zone hashes of the query read as a crop of a stored card in `frame` (the card
    /// upright, or turned 180° when `turned`): the card is resampled into the stored card's frame,
    /// the parts the crop cut off repeating its edge, which the inner zones avoid.
    pub fn inner_hashes_in_frame(
        &self,
        frame: &CropFrame,
        turned: bool,
        layout: &DocumentLayout,
    ) -> InnerHashes {
        let card = self.card_way_up(turned);
        // Only the pixels the inner zones cover are resampled (about half the card).
        let (width, height) = (layout.card_width, layout.card_height);
        let (a, b) = (
            zone_pixels(layout.portrait_inner, width, height),
            zone_pixels(layout.data_inner, width, height),
        );
        let covering = (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3));
        let covered = warp_region(&card, frame, covering);
        let mut reframed = GrayImage::new(width, height);
        image::imageops::replace(&mut reframed, &covered, i64::from(covering.0), i64::from(covering.1));
        inner_hashes(&reframed, layout)
    }

    /// The query's inner zones read in `frame`, each zone's position then searched within
    /// ±[`ALIGNMENT_REACH`] px for the reading closest to `stored`'s, for the zones farther from it
    /// than `limits` (portrait, data) allow. A frame fitted from keypoints is often a pixel or two
    /// off at one zone (its scale a few thousandths off moves the far zone most), and a pixel moves
    /// an inner-zone hash by 10–40 bits; each zone is aligned by itself.
    pub fn inner_hashes_aligned(
        &self,
        frame: &CropFrame,
        turned: bool,
        layout: &DocumentLayout,
        stored: &InnerHashes,
        limits: (u32, u32),
    ) -> InnerHashes {
        let mut inner = self.inner_hashes_in_frame(frame, turned, layout);
        let card = self.card_way_up(turned);
        let (width, height) = (layout.card_width, layout.card_height);
        let zones = [
            (
                layout.portrait_inner,
                stored.portrait,
                limits.0,
                &mut inner.portrait,
                &mut inner.portrait_quality,
            ),
            (layout.data_inner, stored.data, limits.1, &mut inner.data, &mut inner.data_quality),
        ];
        for (zone, target, limit, hash, quality) in zones {
            if hash.hamming_distance(&target) <= limit {
                continue;
            }
            let region = zone_pixels(zone, width, height);
            let read = |dx: f32, dy: f32| {
                let moved = CropFrame { shift_x: frame.shift_x + dx, shift_y: frame.shift_y + dy, ..*frame };
                let pixels = warp_region(&card, &moved, region);
                let (w, h) = (pixels.width() as usize, pixels.height() as usize);
                let hashes = pdq_from_luma(pixels.into_raw().into_iter().map(f32::from).collect(), w, h);
                (hashes.original(), hashes.quality)
            };
            let mut best = (hash.hamming_distance(&target), (0.0, 0.0), (*hash, *quality));
            // Whole pixels first, then half pixels around the best.
            for (step, reach) in [(1.0f32, ALIGNMENT_REACH), (0.5, 1)] {
                let centre = best.1;
                for j in -reach..=reach {
                    for i in -reach..=reach {
                        if (i, j) == (0, 0) {
                            continue;
                        }
                        let offset = (centre.0 + step * i as f32, centre.1 + step * j as f32);
                        let reading = read(offset.0, offset.1);
                        let distance = reading.0.hamming_distance(&target);
                        if distance < best.0 {
                            best = (distance, offset, reading);
                        }
                    }
                }
            }
            (*hash, *quality) = best.2;
        }
        inner
    }

    /// The whole card (upright, or turned 180° when `turned`) seen in a stored card's frame:
    /// `to_query` maps each pixel of the stored card to the pixel of this card showing it; black
    /// where that falls off this card.
    pub fn card_seen_through(
        &self,
        to_query: impl Fn(f32, f32) -> (f32, f32) + Sync + Send,
        turned: bool,
        layout: &DocumentLayout,
    ) -> GrayImage {
        let card = self.card_way_up(turned);
        let whole = (0, 0, layout.card_width, layout.card_height);
        warp_region_through(&card, to_query, whole, Border::Constant(Luma([0])))
    }

    /// The rectified card upright, or turned 180°.
    fn card_way_up(&self, turned: bool) -> std::borrow::Cow<'_, GrayImage> {
        if turned {
            std::borrow::Cow::Owned(image::imageops::rotate180(&self.card))
        } else {
            std::borrow::Cow::Borrowed(&self.card)
        }
    }

    /// Every reading a search tries: each framing, upright and turned 180°, the stored one first.
    pub fn readings(&self) -> impl Iterator<Item = Reading<'_>> {
        let read = |hashes, framing, turned| Reading { hashes, framing, turned };
        [read(&self.upright, self.framing, false), read(&self.turned, self.framing, true)].into_iter().chain(
            self.alternatives.iter().flat_map(move |other| {
                [read(&other.upright, other.framing, false), read(&other.turned, other.framing, true)]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::rectify::zone_colour;
    use super::*;
    use crate::analysis::decode::planes::working_planes;
    use image::Rgb;
    use imageproc::drawing::draw_filled_rect_mut;
    use imageproc::geometric_transformations::rotate_about_center_no_crop;
    use imageproc::rect::Rect;

    fn layout() -> DocumentLayout {
        crate::analysis::reuse::perceptual::ReuseModel::embedded().layout
    }

    /// A 500×315 "card" with print: a header band, a portrait box and text-like bars.
    fn card() -> RgbImage {
        let mut card = RgbImage::from_pixel(500, 315, Rgb([225, 228, 210]));
        draw_filled_rect_mut(&mut card, Rect::at(0, 0).of_size(500, 45), Rgb([40, 60, 140]));
        draw_filled_rect_mut(&mut card, Rect::at(20, 70).of_size(140, 190), Rgb([120, 100, 90]));
        for row in 0..5 {
            draw_filled_rect_mut(
                &mut card,
                Rect::at(190, 80 + row * 40).of_size(200 - row as u32 * 20, 14),
                Rgb([30, 30, 30]),
            );
        }
        card
    }

    #[test]
    fn a_flat_scan_is_its_own_frame() {
        let print = DocumentPrint::compute(&working_planes(&card(), 1000), &layout());
        assert!(!print.located);
        assert_eq!(print.corners, [(0.0, 0.0), (500.0, 0.0), (500.0, 315.0), (0.0, 315.0)]);
    }

    #[test]
    fn a_tilted_card_on_a_table_is_found_and_rectified() {
        let flat = DocumentPrint::compute(&working_planes(&card(), 1000), &layout());
        let mut table = RgbImage::from_pixel(800, 600, Rgb([70, 50, 35]));
        image::imageops::overlay(&mut table, &card(), 150, 140);
        let tilted = rotate_about_center_no_crop(
            &table,
            7f32.to_radians(),
            Interpolation::Bilinear,
            Border::Constant(Rgb([70, 50, 35])),
        );
        let print = DocumentPrint::compute(&working_planes(&tilted, 1000), &layout());
        assert!(print.located);
        let portrait = print.upright.portrait.hamming_distance(&flat.upright.portrait);
        let data = print.upright.data.hamming_distance(&flat.upright.data);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    #[test]
    fn a_tilted_card_whose_corners_touch_the_frame_is_located_to_its_corners() {
        use crate::analysis::decode::{DecodeLimits, decode};
        use crate::eval::synthetic::cards::Template;
        use crate::eval::synthetic::transforms::Capture;
        use rand::{Rng, SeedableRng};
        // A card of the reuse evaluation turned without cropping (Capture::Tilt): each corner
        // touches a side of the frame, so none has an edge around it, and the top-left one lies
        // against the header's title.
        let template = Template::new(0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(77 ^ 90);
        let card = template.render(&template.holder(&mut rng));
        // The capture draws its angle first; the sign it draws next is counter-clockwise here.
        let degrees = rng.clone().random_range(2.0..10.0f32);
        let upload = decode(&Capture::Tilt.apply(&card, &mut rng), &DecodeLimits::default()).expect("a JPEG");
        let tilted = upload.rgb;
        let (w, h) = (card.width() as f32, card.height() as f32);
        let (frame_w, frame_h) = (tilted.width() as f32, tilted.height() as f32);
        let (sin, cos) = degrees.to_radians().sin_cos();
        // Turned counter-clockwise: the top-right corner is the highest.
        let truth = [(0.0, w * sin), (w * cos, 0.0), (frame_w, h * cos), (h * sin, frame_h)];
        // As the service reads it: a working plane of at most 1,000 px (half size here).
        let planes = working_planes(
            &tilted,
            crate::analysis::quality::QualityThresholds::embedded().working_long_side,
        );
        let print = DocumentPrint::compute(&planes, &layout());
        assert!(print.located);
        let truth = truth.map(|(x, y)| (x / planes.factor as f32, y / planes.factor as f32));
        for (found, expected) in print.corners.iter().zip(truth) {
            let off = (found.0 - expected.0).hypot(found.1 - expected.1);
            assert!(off < 3.0, "corners {:?}, expected {truth:?}", print.corners);
        }
    }

    /// Card `number` of the reuse evaluation as registered and as photographed on a table: their
    /// prints.
    fn photographed_on_a_table(number: u64) -> (DocumentPrint, DocumentPrint) {
        use crate::eval::synthetic::fixtures::{document_print, evaluation_card_on_a_table};
        let (registered, photo) = evaluation_card_on_a_table(number);
        (document_print(&registered), document_print(&photo))
    }

    #[test]
    fn an_outline_that_lost_its_header_band_to_the_table_is_accepted() {
        // The header's upper edge is faint against the table, so the card's outline stops at the
        // header's lower edge and leaves the title's print outside: the outline was rejected and
        // the photo read as a flat scan (both zones 126 bits off).
        let (flat, photo) = photographed_on_a_table(2375);
        assert!(photo.located);
        let (portrait, data) = closest(&photo, &flat.upright);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    #[test]
    fn a_card_whose_edges_run_into_a_striped_table_is_outlined_by_its_colour() {
        // The table's stripes meet the card's edges and print joins them to the inside: the
        // largest closed edge was a wrong outline (portrait 96, data 122 bits off).
        let (flat, photo) = photographed_on_a_table(2991);
        let (portrait, data) = closest(&photo, &flat.upright);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    #[test]
    fn a_side_on_a_header_edge_is_not_refitted_to_the_title_inside() {
        // The outline's top side lies on the header's upper edge, with the title's letters a few
        // pixels inside: a line fitted in the wider band followed the title and tilted the top by
        // 16 px (portrait 92, data 108 bits off).
        let (flat, photo) = photographed_on_a_table(1121);
        let (portrait, data) = closest(&photo, &flat.upright);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    /// The smallest zone distances (portrait, data) of any reading of `print` to `reference`.
    fn closest(print: &DocumentPrint, reference: &ZoneHashes) -> (u32, u32) {
        print
            .readings()
            .map(|reading| {
                (
                    reading.hashes.portrait.hamming_distance(&reference.portrait),
                    reading.hashes.data.hamming_distance(&reference.data),
                )
            })
            .min_by_key(|&(portrait, data)| portrait.max(data))
            .expect("a print has readings")
    }

    #[test]
    fn a_header_band_lost_against_the_table_is_read_back() {
        let flat = DocumentPrint::compute(&working_planes(&card(), 1000), &layout());
        // The table has the header's colour: the card's outline stops at the header's lower edge.
        let mut table = RgbImage::from_pixel(800, 600, Rgb([40, 60, 140]));
        image::imageops::overlay(&mut table, &card(), 150, 140);
        let print = DocumentPrint::compute(&working_planes(&table, 1000), &layout());
        assert!(print.located);
        assert_eq!(print.framing, Framing::Outline);
        let as_located = print.upright.portrait.hamming_distance(&flat.upright.portrait);
        assert!(as_located > 30, "the outline alone already matched ({as_located}): the test shows nothing");
        let framings: Vec<Framing> = print.alternatives.iter().map(|other| other.framing).collect();
        assert_eq!(framings, [Framing::ExtendedUp, Framing::ExtendedDown, Framing::WholeFrame]);
        let (portrait, data) = closest(&print, &flat.upright);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    #[test]
    fn a_card_on_a_grained_table_is_located() {
        let flat = DocumentPrint::compute(&working_planes(&card(), 1000), &layout());
        // Stripes and speckle: edges everywhere on the table, none as steep as print.
        let mut table = RgbImage::from_fn(800, 600, |x, y| {
            let stripe = ((x as f32 + 0.3 * y as f32) / 14.0).sin() * 25.0;
            let speckle = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 23) as f32 - 11.0;
            Rgb([140, 100, 70].map(|c: u8| (f32::from(c) + stripe + speckle).clamp(0.0, 255.0) as u8))
        });
        image::imageops::overlay(&mut table, &card(), 150, 140);
        let print = DocumentPrint::compute(&working_planes(&table, 1000), &layout());
        assert!(print.located);
        let corner = print.corners[0];
        assert!((corner.0 - 150.0).abs() < 2.0 && (corner.1 - 140.0).abs() < 2.0, "{:?}", print.corners);
        let (portrait, data) = closest(&print, &flat.upright);
        assert!(portrait <= 30 && data <= 30, "portrait {portrait}, data {data}");
    }

    #[test]
    fn zone_hashes_round_trip_through_storage() {
        let hashes = DocumentPrint::compute(&working_planes(&card(), 1000), &layout()).upright;
        assert_eq!(ZoneHashes::from_bytes(&hashes.to_bytes()), Some(hashes));
        assert_eq!(ZoneHashes::from_bytes(&[0; 97]), None);
        // Documents stored before the zone colours were taken still load, without them.
        let earlier = ZoneHashes::from_bytes(&hashes.to_bytes()[..98]).expect("the earlier form");
        assert_eq!(earlier, ZoneHashes { portrait_colour: None, data_colour: None, ..hashes });
    }

    #[test]
    fn zone_colours_read_each_quarter_the_same_either_way_up() {
        // A plane of four colours, one per quarter; the whole plane is the card.
        let quarters = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [128, 128, 128]];
        let rgb = RgbImage::from_fn(200, 100, |x, y| image::Rgb(quarters[(x / 100 + 2 * (y / 50)) as usize]));
        let corners = [(0.0, 0.0), (200.0, 0.0), (200.0, 100.0), (0.0, 100.0)];
        let to_image = from_unit_square(&corners);
        let upright = zone_colour(&rgb, to_image, false, [0.0, 0.0, 1.0, 1.0]);
        let (red, green, blue, grey) =
            (&upright.0[0..2], &upright.0[2..4], &upright.0[4..6], &upright.0[6..8]);
        assert!(red[1] > 60 && green[0] < -30 && green[1] < -30 && blue[0] > 60, "{upright:?}");
        assert_eq!(grey, [0, 0]);
        // Turned 180°, the card's first quarter is the plane's last.
        let turned = zone_colour(&rgb, to_image, true, [0.0, 0.0, 1.0, 1.0]);
        let reversed: Vec<i8> = upright.0.chunks_exact(2).rev().flatten().copied().collect();
        assert_eq!(turned.0.as_slice(), reversed.as_slice());
        assert_eq!(upright.distance(&upright), 0);
        assert!(upright.distance(&turned) > 100);
    }

    #[test]
    fn crop_prints_round_trip_through_storage() {
        let print = DocumentPrint::compute(&working_planes(&card(), 1000), &layout());
        let stored = CropPrint { inner: print.inner, keypoints: print.keypoints_to_store(&layout()) };
        assert!(stored.keypoints.len() > print.keypoints[0].len(), "enlarged cards add keypoints");
        assert_eq!(CropPrint::from_bytes(&stored.to_bytes()), Some(stored.clone()));
        let bare = CropPrint { inner: print.inner, keypoints: Vec::new() };
        assert_eq!(CropPrint::from_bytes(&bare.to_bytes()), Some(bare));
        assert_eq!(CropPrint::from_bytes(&stored.to_bytes()[..70]), None);
    }

    #[test]
    fn a_frame_in_place_moves_no_pixel_by_a_pixel() {
        let frame = |scale_x, shift_x| CropFrame::axis_aligned(scale_x, 1.0, shift_x, 0.5);
        assert!(frame(1.0, 0.9).in_place(&layout()));
        assert!(frame(1.001, 0.2).in_place(&layout()));
        // 0.998 × 512 − 0.2: the right edge moves by 1.2 px.
        assert!(!frame(0.998, -0.2).in_place(&layout()));
        assert!(!frame(1.0, 1.5).in_place(&layout()));
    }

    #[test]
    fn a_crop_read_in_its_true_frame_has_the_card_s_inner_hashes() {
        let card = card();
        let (left, top, width, height) = (40, 25, 430, 270);
        let cropped = image::imageops::crop_imm(&card, left, top, width, height).to_image();
        let original = DocumentPrint::compute(&working_planes(&card, 1000), &layout());
        let query = DocumentPrint::compute(&working_planes(&cropped, 1000), &layout());
        let l = layout();
        let (scale_x, scale_y) = (500.0 / width as f32, 315.0 / height as f32);
        let frame = CropFrame::axis_aligned(
            scale_x,
            scale_y,
            -(left as f32) * l.card_width as f32 / width as f32,
            -(top as f32) * l.card_height as f32 / height as f32,
        );
        let inner = query.inner_hashes_in_frame(&frame, false, &l);
        assert!(inner.portrait.hamming_distance(&original.inner.portrait) <= 24);
        assert!(inner.data.hamming_distance(&original.inner.data) <= 24);
        assert!(query.inner.data.hamming_distance(&original.inner.data) > 40, "in place the crop differs");
    }

    #[test]
    fn a_crop_s_frame_keeps_the_stored_card_around_the_query() {
        let card = (512, 323);
        let frame = |scale, shift_x| CropFrame::axis_aligned(scale, 1.0, shift_x, 0.0);
        // 10 % cut, 4 % of it on the left: the stored edges land at -24 px and 539 px.
        assert!(frame(1.1, -24.0).is_crop(card, 4.0));
        assert!(frame(1.0, 3.0).is_crop(card, 4.0), "an outline a few pixels off");
        assert!(!frame(1.0, 11.0).is_crop(card, 4.0), "a print 11 px to the right: another layout");
        assert!(!frame(1.0, -11.0).is_crop(card, 4.0), "the stored card ends 11 px short on the right");
        assert!(!frame(0.95, 0.0).is_crop(card, 4.0), "a zoom out shows more than the stored card");
    }

    #[test]
    fn inner_zones_read_a_pixel_or_two_off_are_aligned_on_the_stored_ones() {
        let l = layout();
        let print = DocumentPrint::compute(&working_planes(&card(), 1000), &l);
        let stored = print.inner;
        let off = CropFrame::axis_aligned(1.0, 1.0, 2.0, -1.5);
        let read = print.inner_hashes_in_frame(&off, false, &l);
        let distances = |inner: &InnerHashes| {
            (inner.portrait.hamming_distance(&stored.portrait), inner.data.hamming_distance(&stored.data))
        };
        let (portrait, data) = distances(&read);
        assert!(portrait.max(data) > 8, "two pixels off moves the hashes: {portrait}, {data}");
        let aligned = print.inner_hashes_aligned(&off, false, &l, &stored, (4, 4));
        assert_eq!(distances(&aligned), (0, 0), "the zones in place again");
        // Zones already within their limits are left as read.
        let kept = print.inner_hashes_aligned(&off, false, &l, &stored, (255, 255));
        assert_eq!(kept, read);
    }
}
