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

/// A zone of the rectified card as fractions of its width and height: `[left, top, right, bottom]`.
pub type ZoneBox = [f32; 4];

/// Four corners (top-left, top-right, bottom-right, bottom-left), in pixels.
type Quad = [(f32, f32); 4];

/// Where to look and what to cut (from `models/reuse.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentLayout {
    /// Long side of the plane the locator reads.
    pub locate_long_side: u32,
    /// Smallest share of the frame a located card may cover.
    pub min_card_area: f64,
    /// Smallest share of the outline's sides that must lie on image edges; when no outline has
    /// that much, the whole frame is the document.
    pub min_edge_support: f64,
    /// Sobel gradient magnitude from which an edge counts as print.
    pub min_print_gradient: u16,
    /// Smallest share of the frame's print edges the outline must enclose.
    pub min_print_inside: f64,
    /// Smallest difference (0..255, largest of the three channels) between the mean colours of thin
    /// strips just inside and just outside a side of the outline, which at least three sides must
    /// have. Averaging along the side cancels a textured table's grain, whose edges are everywhere.
    pub min_side_contrast: f64,
    /// Largest difference (0..255, in every channel) from a seed's colour that a region of one
    /// colour grown from it takes in: an outline candidate where a busy table leaves the card no
    /// closed edge.
    pub region_tolerance: u8,
    /// Long-to-short side ratio a card outline may have (ID-1 is 1.59, passport pages 1.42).
    pub aspect_range: [f64; 2],
    /// An outline whose proportions (long over short, measured at its centre) exceed this has
    /// probably lost a band along one long side: a header printed in a colour close to the
    /// background's. It is also read extended by that band, above and below.
    pub banded_aspect_above: f64,
    /// Width of the rectified card in pixels.
    pub card_width: u32,
    /// Height of the rectified card in pixels.
    pub card_height: u32,
    /// The portrait zone.
    pub portrait: ZoneBox,
    /// The personal-data zone.
    pub data: ZoneBox,
    /// The part of the portrait zone that a crop of up to 15 % per axis keeps in view.
    pub portrait_inner: ZoneBox,
    /// The part of the personal-data zone that such a crop keeps in view.
    pub data_inner: ZoneBox,
    /// FAST-9 threshold for the card's keypoints.
    pub keypoint_threshold: u8,
    /// Most keypoints taken from one card at one scale (the strongest).
    pub max_keypoints: usize,
    /// Smallest distance in pixels between two of them.
    pub keypoint_spacing: u32,
    /// Enlargements of the card at which the keypoints a registration stores are taken.
    pub stored_keypoint_scales: Vec<f32>,
}

impl DocumentLayout {
    /// The rectified card's width and height in pixels.
    pub fn card_size(&self) -> (u32, u32) {
        (self.card_width, self.card_height)
    }

    fn keypoint_parameters(&self) -> KeypointParameters {
        KeypointParameters {
            threshold: self.keypoint_threshold,
            max: self.max_keypoints,
            spacing: self.keypoint_spacing,
        }
    }
}

/// The hashes of one rectified card in one orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ZoneHashes {
    /// PDQ of the whole rectified card.
    pub card: Pdq,
    /// PDQ of the portrait zone.
    pub portrait: Pdq,
    /// PDQ of the personal-data zone.
    pub data: Pdq,
    /// PDQ quality of the portrait zone (0..=100): flat zones hash unreliably.
    pub portrait_quality: u32,
    /// PDQ quality of the personal-data zone.
    pub data_quality: u32,
    /// Colour of the portrait zone; `None` in documents stored before it was taken. Not part of
    /// the reported fingerprints (the API reports hashes); matches report its distance.
    #[serde(skip)]
    pub portrait_colour: Option<ZoneColour>,
    /// Colour of the personal-data zone; `None` likewise.
    #[serde(skip)]
    pub data_colour: Option<ZoneColour>,
}

impl ZoneHashes {
    /// Length of [`ZoneHashes::to_bytes`] without the zone colours (documents stored before them).
    const BYTES_WITHOUT_COLOURS: usize = 98;

    /// Length of [`ZoneHashes::to_bytes`].
    pub const BYTES: usize = Self::BYTES_WITHOUT_COLOURS + 2 * ZoneColour::BYTES;

    /// Storage form: the three hashes (32 bytes each), the two zone qualities and, when taken, the
    /// two zone colours.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::BYTES);
        bytes.extend_from_slice(&self.card.to_bytes());
        bytes.extend_from_slice(&self.portrait.to_bytes());
        bytes.extend_from_slice(&self.data.to_bytes());
        bytes.push(self.portrait_quality.min(100) as u8);
        bytes.push(self.data_quality.min(100) as u8);
        if let (Some(portrait), Some(data)) = (self.portrait_colour, self.data_colour) {
            bytes.extend(portrait.0.iter().chain(&data.0).map(|&value| value as u8));
        }
        bytes
    }

    /// Parses the storage form, with or without the zone colours; `None` for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (base, colours) = match bytes.len() {
            Self::BYTES_WITHOUT_COLOURS => (bytes, None),
            Self::BYTES => {
                let (base, colours) = bytes.split_at(Self::BYTES_WITHOUT_COLOURS);
                let (portrait, data) = colours.split_at(ZoneColour::BYTES);
                let colour = |part: &[u8]| ZoneColour(std::array::from_fn(|i| part[i] as i8));
                (base, Some((colour(portrait), colour(data))))
            }
            _ => return None,
        };
        let hash = |range: std::ops::Range<usize>| Pdq::from_bytes(base[range].try_into().expect("32 bytes"));
        Some(ZoneHashes {
            card: hash(0..32),
            portrait: hash(32..64),
            data: hash(64..96),
            portrait_quality: u32::from(base[96]),
            data_quality: u32::from(base[97]),
            portrait_colour: colours.map(|(portrait, _)| portrait),
            data_colour: colours.map(|(_, data)| data),
        })
    }
}

/// The colour of a zone: the mean chroma (Cb, Cr, BT.601, 0 for grey) of each of its quarters, left
/// to right and top to bottom. PDQ reads luma only, so two different photos of alike shape can hash
/// within a few bits of each other (a green backdrop and a pink one, a red shirt and a black one);
/// their colours tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneColour(pub [i8; 8]);

impl ZoneColour {
    /// Length of the storage form.
    const BYTES: usize = 8;

    /// The largest difference of one quarter's chroma between the two (|ΔCb| + |ΔCr|).
    pub fn distance(&self, other: &ZoneColour) -> u32 {
        self.0
            .chunks_exact(2)
            .zip(other.0.chunks_exact(2))
            .map(|(a, b)| a[0].abs_diff(b[0]) as u32 + a[1].abs_diff(b[1]) as u32)
            .max()
            .unwrap_or(0)
    }
}

/// The hashes of the inner zones of a card, which a crop keeps in view (see [`CropPrint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InnerHashes {
    /// PDQ of the inner portrait zone.
    pub portrait: Pdq,
    /// PDQ of the inner personal-data zone.
    pub data: Pdq,
    /// PDQ quality of the inner portrait zone.
    pub portrait_quality: u32,
    /// PDQ quality of the inner personal-data zone.
    pub data_quality: u32,
}

/// What finds a cropped capture of a card: the hashes of its inner zones and, for a card whose
/// layout the index did not know yet, its keypoints (from which a crop's frame is fitted).
#[derive(Debug, Clone, PartialEq)]
pub struct CropPrint {
    /// Inner-zone hashes of the card upright.
    pub inner: InnerHashes,
    /// Its keypoints (empty when another stored card already gives its layout).
    pub keypoints: Vec<Keypoint>,
}

impl CropPrint {
    const INNER_BYTES: usize = 66;

    /// Storage form: the two hashes, the two qualities, then each keypoint.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::INNER_BYTES + self.keypoints.len() * Keypoint::BYTES);
        bytes.extend_from_slice(&self.inner.portrait.to_bytes());
        bytes.extend_from_slice(&self.inner.data.to_bytes());
        bytes.push(self.inner.portrait_quality.min(100) as u8);
        bytes.push(self.inner.data_quality.min(100) as u8);
        for keypoint in &self.keypoints {
            bytes.extend_from_slice(&keypoint.to_bytes());
        }
        bytes
    }

    /// Parses the storage form; `None` when the length does not fit it.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < Self::INNER_BYTES
            || !(bytes.len() - Self::INNER_BYTES).is_multiple_of(Keypoint::BYTES)
        {
            return None;
        }
        let hash = |at: usize| Pdq::from_bytes(bytes[at..at + 32].try_into().expect("32 bytes"));
        let inner = InnerHashes {
            portrait: hash(0),
            data: hash(32),
            portrait_quality: u32::from(bytes[64]),
            data_quality: u32::from(bytes[65]),
        };
        let keypoints = bytes[Self::INNER_BYTES..]
            .chunks_exact(Keypoint::BYTES)
            .map(|chunk| Keypoint::from_bytes(chunk.try_into().expect("a keypoint's bytes")))
            .collect();
        Some(CropPrint { inner, keypoints })
    }
}

/// Where a crop lies on a stored card: an affine map from the stored card's pixel (x, y) to the
/// query card's pixel showing it, (`scale_x` x + `shear_x` y + `shift_x`, `shear_y` x + `scale_y` y +
/// `shift_y`). A crop stretched back to the card shape scales each axis by itself; an outline found
/// a little askew adds a small rotation (the shears).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropFrame {
    /// Horizontal scale.
    pub scale_x: f32,
    /// How much the stored y moves the query x.
    pub shear_x: f32,
    /// Horizontal shift in query pixels.
    pub shift_x: f32,
    /// How much the stored x moves the query y.
    pub shear_y: f32,
    /// Vertical scale.
    pub scale_y: f32,
    /// Vertical shift in query pixels.
    pub shift_y: f32,
}

impl CropFrame {
    /// A frame that scales and shifts each axis by itself.
    pub fn axis_aligned(scale_x: f32, scale_y: f32, shift_x: f32, shift_y: f32) -> Self {
        CropFrame { scale_x, shear_x: 0.0, shift_x, shear_y: 0.0, scale_y, shift_y }
    }

    /// The query pixel showing the stored card's pixel (x, y).
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.scale_x * x + self.shear_x * y + self.shift_x,
            self.shear_y * x + self.scale_y * y + self.shift_y,
        )
    }

    /// The stored card's pixel a query pixel shows, when the map can be undone.
    fn unapply(&self, x: f32, y: f32) -> Option<(f32, f32)> {
        let determinant = self.scale_x * self.scale_y - self.shear_x * self.shear_y;
        if determinant.abs() < 1e-6 {
            return None;
        }
        let (dx, dy) = (x - self.shift_x, y - self.shift_y);
        Some((
            (self.scale_y * dx - self.shear_x * dy) / determinant,
            (self.scale_x * dy - self.shear_y * dx) / determinant,
        ))
    }

    /// Moves no corner of a card of `layout`'s size (and so, being affine, no pixel) by a pixel or
    /// more: the card is framed as the stored one.
    pub fn in_place(&self, layout: &DocumentLayout) -> bool {
        corners((layout.card_width, layout.card_height)).iter().all(|&(x, y)| {
            let (u, v) = self.apply(x, y);
            (u - x).abs() < 1.0 && (v - y).abs() < 1.0
        })
    }

    /// Shows a part of a card of size `card` (width, height) cut from the stored one, its outline
    /// within `margin` pixels: every corner of the query falls on the stored card, or within
    /// `margin` of it. A frame that leaves a wider band of the query outside the stored card is no
    /// crop of it: another layout whose print is a few pixels away, or a repeated pattern a period
    /// away.
    pub fn is_crop(&self, card: (u32, u32), margin: f32) -> bool {
        let (width, height) = (card.0 as f32, card.1 as f32);
        corners(card).iter().all(|&(x, y)| {
            self.unapply(x, y).is_some_and(|(u, v)| {
                (-margin..=width + margin).contains(&u) && (-margin..=height + margin).contains(&v)
            })
        })
    }
}

/// The corners of a card of `size`.
fn corners(size: (u32, u32)) -> [(f32, f32); 4] {
    let (width, height) = (size.0 as f32, size.1 as f32);
    [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
}

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
        let scale = factor as f32;
        DocumentOutline { located: self.located, corners: self.corners.map(|(x, y)| (x * scale, y * scale)) }
    }
}

impl DocumentPrint {
    /// Locates, rectifies and hashes the document in the working planes.
    pub fn compute(planes: &WorkingPlanes, layout: &DocumentLayout) -> Self {
        let luma = &planes.luma;
        let (width, height) = luma.dimensions();
        let frame = landscape_order([
            (0.0, 0.0),
            (width as f32, 0.0),
            (width as f32, height as f32),
            (0.0, height as f32),
        ]);
        let mut framings: Vec<(Framing, Quad)> = match locate_card(&planes.rgb, layout) {
            Some(located) => located
                .into_iter()
                .map(|(framing, quad)| (framing, sharpen_outline(&planes.rgb, &quad)))
                .chain([(Framing::WholeFrame, frame)])
                .collect(),
            None => vec![(Framing::WholeFrame, frame)],
        };
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

/// The card's four corners, the most plausible framing first, or `None` when no outline covers
/// enough of the frame.
fn locate_card(rgb: &RgbImage, layout: &DocumentLayout) -> Option<Vec<(Framing, Quad)>> {
    let (width, height) = rgb.dimensions();
    let scale = (width.max(height) as f32 / layout.locate_long_side as f32).max(1.0);
    let small = if scale > 1.0 {
        let (w, h) = ((width as f32 / scale).round() as u32, (height as f32 / scale).round() as u32);
        resize_triangle(rgb, w.max(1), h.max(1))
    } else {
        rgb.clone()
    };
    let (small_width, small_height) = small.dimensions();
    if small_width < 16 || small_height < 16 {
        return None;
    }
    let luma = GrayImage::from_fn(small_width, small_height, |x, y| {
        let [r, g, b] = small.get_pixel(x, y).0;
        Luma([luma_of(r, g, b)])
    });
    let edges = dilate(&colour_edges(&small, &luma), Norm::LInf, 1);
    let print = print_edges(&luma, layout.min_print_gradient);
    let frame_area = f64::from(small_width) * f64::from(small_height);
    // Every closed border (outer, or a hole inside a larger edge region as happens on a textured
    // table) is a candidate; the largest whose four sides lie on edges is the card. A flat scan has
    // no edge along the frame, so nothing qualifies and the frame is the document.
    let best = find_contours::<i32>(&edges)
        .into_iter()
        .filter(|contour| contour.points.len() >= 8)
        .map(|contour| convex_hull(contour.points))
        .chain(colour_regions(&small, layout.region_tolerance).into_iter().map(convex_hull))
        .map(|hull| (contour_area(&hull), hull))
        .filter(|(area, _)| *area >= layout.min_card_area * frame_area)
        .flat_map(|(area, hull)| [(area, four_corners(&hull)), (area, min_area_rect(&hull))])
        .filter(|(_, quad)| {
            card_shaped(quad, layout)
                && with_lost_bands(quad, layout)
                    .iter()
                    .any(|quad| print_inside(&print, quad) >= layout.min_print_inside)
                && sides_with_contrast(&small, quad, layout.min_side_contrast) >= 3
        })
        .map(|(area, quad)| (area, edge_support(&edges, &quad), quad))
        .filter(|(_, support, _)| *support >= layout.min_edge_support)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))?;
    let outline = landscape_order(refine_corners(&edges, &best.2).map(|(x, y)| (x as f32, y as f32)));
    let framings =
        std::iter::once((Framing::Outline, outline)).chain(banded_extensions(&small, &outline, layout));
    Some(framings.map(|(framing, quad)| (framing, quad.map(|(x, y)| (x * scale, y * scale)))).collect())
}

/// Regions of one colour that hold a seed point of the middle of the frame, as the points along
/// their left and right borders (which have the region's convex hull). A card on a striped or busy
/// table can have no closed edge of its own: the table's edges run into the card's, and print joins
/// its border to the inside. Its plain background is still one colour the table is not, so it is
/// taken by filling outward from a seed while the colour stays within `tolerance` (in every channel,
/// 0..255) of the seed's. Read at half the plane's size, which blurs away speckle and fine
/// guilloche. A header band of another colour stays outside the region, which the banded
/// extensions then look for. Hand-written: imageproc's flood fill paints a canvas from one seed by
/// exact colour; this needs a tolerance and the region's extent.
fn colour_regions(rgb: &RgbImage, tolerance: u8) -> Vec<Vec<Point<i32>>> {
    const SEEDS_PER_AXIS: u32 = 5;
    let (width, height) = ((rgb.width() / 2).max(1), (rgb.height() / 2).max(1));
    let half = resize_triangle(rgb, width, height);
    let (w, h) = (width as usize, height as usize);
    // Seeds over the middle 60 % of each axis, where a photographed card lies.
    let at = |step: u32, size: usize| {
        (size as f32 * (0.2 + 0.6 * step as f32 / (SEEDS_PER_AXIS - 1) as f32)) as usize
    };
    let mut taken = vec![false; w * h];
    let mut regions = Vec::new();
    let mut queue = Vec::new();
    for j in 0..SEEDS_PER_AXIS {
        for i in 0..SEEDS_PER_AXIS {
            let (x, y) = (at(i, w).min(w - 1), at(j, h).min(h - 1));
            if taken[y * w + x] {
                continue;
            }
            let seed = half.get_pixel(x as u32, y as u32).0;
            let similar = |pixel: [u8; 3]| pixel.iter().zip(seed).all(|(&c, s)| c.abs_diff(s) <= tolerance);
            // Per row, the leftmost and rightmost pixel of the region.
            let mut extent = vec![(usize::MAX, 0usize); h];
            taken[y * w + x] = true;
            queue.push((x, y));
            while let Some((x, y)) = queue.pop() {
                let row = &mut extent[y];
                *row = (row.0.min(x), row.1.max(x));
                let neighbours = [(x.wrapping_sub(1), y), (x + 1, y), (x, y.wrapping_sub(1)), (x, y + 1)];
                for (nx, ny) in neighbours {
                    if nx < w
                        && ny < h
                        && !taken[ny * w + nx]
                        && similar(half.get_pixel(nx as u32, ny as u32).0)
                    {
                        taken[ny * w + nx] = true;
                        queue.push((nx, ny));
                    }
                }
            }
            let border: Vec<Point<i32>> = extent
                .iter()
                .enumerate()
                .filter(|(_, (left, _))| *left != usize::MAX)
                .flat_map(|(y, &(left, right))| {
                    // Back to the plane's pixels: a half-size pixel covers two.
                    let (y, left, right) = (2 * y as i32, 2 * left as i32, 2 * right as i32 + 1);
                    [
                        Point::new(left, y),
                        Point::new(left, y + 1),
                        Point::new(right, y),
                        Point::new(right, y + 1),
                    ]
                })
                .collect();
            regions.push(border);
        }
    }
    regions.into_iter().filter(|border| border.len() >= 8).collect()
}

/// When the outline (landscape-ordered) is longer than a document, the outline extended along its
/// short sides, above and below, by the band that brings it to the rectified card's proportions.
/// Perspective is kept: the extension is made in the outline's own projective frame. Perspective
/// also makes the width estimate rough, so the band's far edge is placed at the outermost clear
/// colour change between 0.4 and 2.2 times that width.
/// Which side lost the band cannot be told reliably (its edge is the faint one), so both are
/// searched and neither is stored.
fn banded_extensions(
    rgb: &RgbImage,
    outline: &[(f32, f32); 4],
    layout: &DocumentLayout,
) -> Vec<(Framing, Quad)> {
    let Some(to_outline) = from_unit_square(outline) else {
        return Vec::new();
    };
    // The outline's proportions at its centre, where perspective distorts them least: the lengths
    // its frame's unit steps across and down map to there.
    let step = |from: (f32, f32), to: (f32, f32)| {
        let (a, b) = (to_outline * from, to_outline * to);
        f64::from((a.0 - b.0).hypot(a.1 - b.1))
    };
    let aspect = step((0.45, 0.5), (0.55, 0.5)) / step((0.5, 0.45), (0.5, 0.55)).max(1e-6);
    let Some(band) = lost_band(aspect, layout) else { return Vec::new() };
    let band = band as f32;
    let centre = to_outline * (0.5, 0.5);
    // The band's far side, above (`toward` < 0) or below the outline, as a line of the outline's
    // frame (0 is its top, 1 its bottom).
    let far_side = |toward: f32| {
        let side_at = |offset: f32| {
            let v = if toward < 0.0 { -offset } else { 1.0 + offset };
            (to_outline * (0.0, v), to_outline * (1.0, v))
        };
        let steps = 48;
        let offsets: Vec<f32> =
            (0..=steps).map(|step| band * (0.4 + 1.8 * step as f32 / steps as f32)).collect();
        let contrasts: Vec<f64> = offsets
            .iter()
            .map(|&offset| {
                let (a, b) = side_at(offset);
                side_contrast(rgb, a, b, centre).unwrap_or(0.0)
            })
            .collect();
        // The outermost clear colour change: rows of text inside the band also change colour, but
        // the band ends at its outer edge.
        (1..steps)
            .rev()
            .find(|&i| {
                contrasts[i] >= layout.min_side_contrast
                    && contrasts[i] >= contrasts[i - 1]
                    && contrasts[i] >= contrasts[i + 1]
            })
            .map_or_else(|| side_at(band), |i| side_at(offsets[i]))
    };
    let (top_left, top_right) = far_side(-1.0);
    let (bottom_left, bottom_right) = far_side(1.0);
    vec![
        (Framing::ExtendedUp, [top_left, top_right, outline[2], outline[3]]),
        (Framing::ExtendedDown, [outline[0], outline[1], bottom_right, bottom_left]),
    ]
}

/// A line as a point on it and a unit direction.
type Line = ((f64, f64), (f64, f64));

/// Sharpens the corners: each side becomes the line fitted (total least squares) to the edge pixels
/// along it, and each corner the crossing of its two sides. Hull vertices sit on the outside of the
/// dilated edge and on rounded corners; a few pixels of error there move the zone hashes by tens
/// of bits. A side with too few edge pixels keeps its corners, and so does one whose fitted line
/// lies on edges along less of its length than the hull's side did (by more than
/// [`SUPPORT_SLACK`]): the line then followed other print, such as a header's title just inside
/// the card's edge.
fn refine_corners(edges: &GrayImage, quad: &[Point<i32>; 4]) -> [(f64, f64); 4] {
    let original = quad.map(|p| (f64::from(p.x), f64::from(p.y)));
    let support = |a: (f64, f64), b: (f64, f64)| {
        side_support(edges, (a.0 as f32, a.1 as f32), (b.0 as f32, b.1 as f32))
    };
    let lines: Vec<Option<Line>> = (0..4)
        .map(|side| {
            let (a, b) = (original[side], original[(side + 1) % 4]);
            fit_side(edges, a, b).filter(|&line| {
                support(project_onto(line, a), project_onto(line, b)) + SUPPORT_SLACK >= support(a, b)
            })
        })
        .collect();
    corners_of_sides(&lines, original, 0.05)
}

/// How much less of a side's length a fitted line may lie on edges than the hull's side did.
const SUPPORT_SLACK: f64 = 0.1;

/// The point of `line` nearest to `p`.
fn project_onto(((cx, cy), (dx, dy)): Line, p: (f64, f64)) -> (f64, f64) {
    let along = (p.0 - cx) * dx + (p.1 - cy) * dy;
    (cx + along * dx, cy + along * dy)
}

/// Each corner where its two fitted sides cross (side `i` runs from corner `i` to corner `i + 1`);
/// a corner keeps its `original` place when a side is missing or the crossing would move it by
/// more than `max_move` of the quad's diagonal.
fn corners_of_sides(lines: &[Option<Line>], original: [(f64, f64); 4], max_move: f64) -> [(f64, f64); 4] {
    let diagonal = (original[0].0 - original[2].0).hypot(original[0].1 - original[2].1);
    std::array::from_fn(|corner| match (lines[(corner + 3) % 4], lines[corner]) {
        (Some(before), Some(after)) => intersect(before, after)
            .filter(|p| (p.0 - original[corner].0).hypot(p.1 - original[corner].1) < max_move * diagonal)
            .unwrap_or(original[corner]),
        _ => original[corner],
    })
}

/// The line (a point and a unit direction) through the edge pixels within 4 px of the segment
/// `a`–`b`, leaving out its first and last tenth (the corners' rounding). When fewer than 70 % of
/// those pixels lie on one line, the band has crossed other print (a corner placed several pixels
/// off, as when the frame cuts it and no edge is found there, tilts it across a header's title):
/// the side is then looked for within 12 px, nearest the segment's middle among the lines that most
/// pixels lie on, and fitted again within 4 px of itself.
fn fit_side(edges: &GrayImage, a: (f64, f64), b: (f64, f64)) -> Option<Line> {
    const WIDE_BAND: f64 = 12.0;
    const BAND: f64 = 4.0;
    const CLEAN: f64 = 0.7;
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    if length < 10.0 {
        return None;
    }
    let near = band_points(edges, a, b, BAND);
    let (line, inliers) = dominant_line(&near, length, None)?;
    if inliers as f64 >= CLEAN * near.len() as f64 {
        return Some(line);
    }
    let (wide, _) = dominant_line(
        &band_points(edges, a, b, WIDE_BAND),
        length,
        Some(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0)),
    )?;
    // The wide line's points nearest to `a` and `b`: the same stretch of the side, laid along it.
    let (a, b) = (project_onto(wide, a), project_onto(wide, b));
    dominant_line(&band_points(edges, a, b, BAND), length, None).map(|(line, _)| line)
}

/// The edge pixels within `band` px of the segment `a`–`b`, leaving out its first and last tenth.
fn band_points(edges: &GrayImage, a: (f64, f64), b: (f64, f64), band: f64) -> Vec<(f64, f64)> {
    let length = (b.0 - a.0).hypot(b.1 - a.1);
    let direction = ((b.0 - a.0) / length, (b.1 - a.1) / length);
    let (x0, x1) = (a.0.min(b.0) - band, a.0.max(b.0) + band);
    let (y0, y1) = (a.1.min(b.1) - band, a.1.max(b.1) + band);
    let mut points = Vec::new();
    for y in (y0.max(0.0) as u32)..=(y1.min(f64::from(edges.height()) - 1.0).max(0.0) as u32) {
        for x in (x0.max(0.0) as u32)..=(x1.min(f64::from(edges.width()) - 1.0).max(0.0) as u32) {
            if edges.get_pixel(x, y).0[0] == 0 {
                continue;
            }
            let (dx, dy) = (f64::from(x) - a.0, f64::from(y) - a.1);
            let along = dx * direction.0 + dy * direction.1;
            let across = dy * direction.0 - dx * direction.1;
            if across.abs() <= band && along > 0.1 * length && along < 0.9 * length {
                points.push((f64::from(x), f64::from(y)));
            }
        }
    }
    points
}

/// The total-least-squares line through the points within 1.5 px of the line that most of them lie
/// near (lines through pairs of points spread along the side, a deterministic RANSAC), and how many
/// points that is; `None` when the side has fewer edge pixels than 30 % of its `length`. With
/// `prefer_near`, of the lines holding at least 60 % as many points as the best one, the one passing
/// closest to that point: a wide band can hold inner print parallel to the side (a portrait's frame)
/// with more edge pixels than the card's own edge against the table. Edge pixels come from a dilated
/// edge map, so a true side is a strip about 3 px wide.
fn dominant_line(
    points: &[(f64, f64)],
    length: f64,
    prefer_near: Option<(f64, f64)>,
) -> Option<(Line, usize)> {
    const TRIES_PER_HALF: usize = 8;
    const INLIER: f64 = 1.5;
    const STRONG: f64 = 0.6;
    if points.len() < (length * 0.3) as usize || points.len() < 2 {
        return None;
    }
    let offset = |((cx, cy), (dx, dy)): Line, p: (f64, f64)| ((p.1 - cy) * dx - (p.0 - cx) * dy).abs();
    let whole = fit_line(points);
    let mut sorted = points.to_vec();
    let along = |p: &(f64, f64)| (p.0 - whole.0.0) * whole.1.0 + (p.1 - whole.0.1) * whole.1.1;
    sorted.sort_by(|p, q| along(p).total_cmp(&along(q)));
    let half = sorted.len() / 2;
    let mut candidates = Vec::with_capacity(TRIES_PER_HALF * TRIES_PER_HALF);
    for i in 0..TRIES_PER_HALF {
        for j in 0..TRIES_PER_HALF {
            let p = sorted[i * half / TRIES_PER_HALF];
            let q = sorted[half + j * (sorted.len() - half) / TRIES_PER_HALF];
            let span = (q.0 - p.0).hypot(q.1 - p.1);
            if span < 1.0 {
                continue;
            }
            let line: Line = (p, ((q.0 - p.0) / span, (q.1 - p.1) / span));
            let support = sorted.iter().filter(|&&point| offset(line, point) <= INLIER).count();
            candidates.push((support, prefer_near.map_or(0.0, |point| offset(line, point)), line));
        }
    }
    let most = candidates.iter().map(|c| c.0).max()?;
    let least_support = if prefer_near.is_some() { (STRONG * most as f64).ceil() as usize } else { most };
    let (_, _, chosen) =
        candidates.into_iter().filter(|c| c.0 >= least_support).min_by(|x, y| x.1.total_cmp(&y.1))?;
    let inliers: Vec<(f64, f64)> =
        sorted.into_iter().filter(|&point| offset(chosen, point) <= INLIER).collect();
    (inliers.len() >= 2).then(|| (fit_line(&inliers), inliers.len()))
}

/// The total-least-squares line through `points` (at least two).
fn fit_line(points: &[(f64, f64)]) -> Line {
    let n = points.len() as f64;
    let mean = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let (mut sxx, mut sxy, mut syy) = (0f64, 0f64, 0f64);
    for p in points {
        let (dx, dy) = (p.0 - mean.0, p.1 - mean.1);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Principal axis of the scatter: the fitted line's direction.
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    (mean, (angle.cos(), angle.sin()))
}

/// Moves each side of a located outline onto the steepest colour change across it in the working
/// plane, to a fraction of a pixel: the locator's plane is up to half as sharp, and at the size a
/// card has on a table one of its pixels moves the zone hashes by about ten bits. Each side is the
/// line fitted to the steepest points found within a few pixels along its normals; a side with too
/// few clear points, or a corner that would move far, stays as it was.
fn sharpen_outline(rgb: &RgbImage, corners: &[(f32, f32); 4]) -> [(f32, f32); 4] {
    const SAMPLES: usize = 48;
    const REACH: i32 = 5;
    const MIN_STEP: f32 = 6.0;
    let colour_at = |x: f32, y: f32| -> Option<[f32; 3]> {
        let (x0, y0) = (x.floor(), y.floor());
        if x0 < 0.0 || y0 < 0.0 || x0 + 1.0 >= rgb.width() as f32 || y0 + 1.0 >= rgb.height() as f32 {
            return None;
        }
        let (fx, fy) = (x - x0, y - y0);
        let pixel = |dx: u32, dy: u32| rgb.get_pixel(x0 as u32 + dx, y0 as u32 + dy).0;
        Some(std::array::from_fn(|c| {
            let top = f32::from(pixel(0, 0)[c]) * (1.0 - fx) + f32::from(pixel(1, 0)[c]) * fx;
            let bottom = f32::from(pixel(0, 1)[c]) * (1.0 - fx) + f32::from(pixel(1, 1)[c]) * fx;
            top * (1.0 - fy) + bottom * fy
        }))
    };
    let lines: Vec<Option<Line>> = (0..4)
        .map(|side| {
            let (a, b) = (corners[side], corners[(side + 1) % 4]);
            let length = (b.0 - a.0).hypot(b.1 - a.1);
            if length < 20.0 {
                return None;
            }
            let normal = ((a.1 - b.1) / length, (b.0 - a.0) / length);
            let mut points = Vec::new();
            for step in 0..SAMPLES {
                let t = 0.1 + 0.8 * (step as f32 + 0.5) / SAMPLES as f32;
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                let profile: Option<Vec<[f32; 3]>> = (-REACH - 1..=REACH + 1)
                    .map(|s| colour_at(x + s as f32 * normal.0, y + s as f32 * normal.1))
                    .collect();
                let Some(profile) = profile else { continue };
                // Steepness at offset i: the largest channel change across it.
                let steep: Vec<f32> = (1..profile.len() - 1)
                    .map(|i| {
                        (0..3).map(|c| (profile[i + 1][c] - profile[i - 1][c]).abs()).fold(0.0, f32::max)
                    })
                    .collect();
                let (best, &peak) =
                    steep.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)).expect("non-empty profile");
                if peak < MIN_STEP || best == 0 || best == steep.len() - 1 {
                    continue;
                }
                // Parabola through the peak and its neighbours: the sub-pixel offset of the edge.
                let (left, right) = (steep[best - 1], steep[best + 1]);
                let curvature = left - 2.0 * peak + right;
                let shift = if curvature < 0.0 { 0.5 * (left - right) / curvature } else { 0.0 };
                let offset = best as f32 - REACH as f32 + shift;
                points.push((f64::from(x + offset * normal.0), f64::from(y + offset * normal.1)));
            }
            (points.len() >= SAMPLES / 3).then(|| fit_line(&points))
        })
        .collect();
    corners_of_sides(&lines, corners.map(|(x, y)| (f64::from(x), f64::from(y))), 0.02)
        .map(|(x, y)| (x as f32, y as f32))
}

/// Where two lines (point, direction) cross; `None` when nearly parallel.
fn intersect(first: Line, second: Line) -> Option<(f64, f64)> {
    let ((p, d), (q, e)) = (first, second);
    let denominator = d.0 * e.1 - d.1 * e.0;
    if denominator.abs() < 1e-6 {
        return None;
    }
    let t = ((q.0 - p.0) * e.1 - (q.1 - p.1) * e.0) / denominator;
    Some((p.0 + t * d.0, p.1 + t * d.1))
}

/// Canny edges of luma, with those of the two colour-difference planes added: a dark blue header
/// band on a dark table has hardly any luma edge but a clear colour edge. Canny smooths the plane
/// itself; the colour planes are read at half resolution (colour edges are the fallback, luma gives
/// the precise outline), which keeps the three passes under half the cost of full-size ones.
fn colour_edges(rgb: &RgbImage, luma: &GrayImage) -> GrayImage {
    let plane = |source: &RgbImage, f: &dyn Fn([u8; 3]) -> u8| {
        GrayImage::from_fn(source.width(), source.height(), |x, y| Luma([f(source.get_pixel(x, y).0)]))
    };
    let mut edges = canny(luma, 20.0, 50.0);
    let (width, height) = rgb.dimensions();
    let half = resize_triangle(rgb, (width / 2).max(1), (height / 2).max(1));
    let colour_difference = |weight: [i32; 3]| {
        canny(
            &plane(&half, &|[r, g, b]| {
                let luma = i32::from(luma_of(r, g, b));
                let channel = weight[0] * i32::from(r) + weight[1] * i32::from(g) + weight[2] * i32::from(b);
                (128 + (channel - luma) / 2).clamp(0, 255) as u8
            }),
            20.0,
            50.0,
        )
    };
    for colour in [colour_difference([0, 0, 1]), colour_difference([1, 0, 0])] {
        for (x, y, pixel) in colour.enumerate_pixels() {
            if pixel.0[0] > 0 {
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (px, py) = (2 * x + dx, 2 * y + dy);
                    if px < width && py < height {
                        edges.put_pixel(px, py, Luma([255]));
                    }
                }
            }
        }
    }
    edges
}

/// The quad's proportions (mean long side over mean short side) are a document's.
fn card_shaped(quad: &[Point<i32>; 4], layout: &DocumentLayout) -> bool {
    let side = |a: Point<i32>, b: Point<i32>| f64::from(a.x - b.x).hypot(f64::from(a.y - b.y));
    let first = side(quad[0], quad[1]) + side(quad[2], quad[3]);
    let second = side(quad[1], quad[2]) + side(quad[3], quad[0]);
    let aspect = first.max(second) / first.min(second).max(1.0);
    (layout.aspect_range[0]..=layout.aspect_range[1]).contains(&aspect)
}

/// For an outline of proportions `aspect` (long over short) longer than a document (above
/// [`DocumentLayout::banded_aspect_above`]), the band it probably lost along a long side, as a
/// fraction of its short side: what brings it back to the rectified card's proportions.
fn lost_band(aspect: f64, layout: &DocumentLayout) -> Option<f64> {
    (aspect > layout.banded_aspect_above)
        .then(|| aspect * f64::from(layout.card_height) / f64::from(layout.card_width) - 1.0)
}

/// The quad, and when it is longer than a document (see [`DocumentLayout::banded_aspect_above`]),
/// also the quad extended across either long side by the band that brings it to the card's
/// proportions: where the header band that the outline lost holds print too.
fn with_lost_bands(quad: &[Point<i32>; 4], layout: &DocumentLayout) -> Vec<[Point<i32>; 4]> {
    let corner = |i: usize| (f64::from(quad[i % 4].x), f64::from(quad[i % 4].y));
    let length = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    // Rotated so that sides 0–1 and 2–3 are the long ones.
    let first = length(corner(0), corner(1)) + length(corner(2), corner(3));
    let second = length(corner(1), corner(2)) + length(corner(3), corner(0));
    let turn = usize::from(second > first);
    let [a, b, c, d] = std::array::from_fn(|i| corner(i + turn));
    let aspect = first.max(second) / first.min(second).max(1.0);
    let mut readings = vec![*quad];
    if let Some(band) = lost_band(aspect, layout) {
        let beyond = |from: (f64, f64), away: (f64, f64)| {
            Point::new(
                (from.0 + band * (from.0 - away.0)).round() as i32,
                (from.1 + band * (from.1 - away.1)).round() as i32,
            )
        };
        let point = |p: (f64, f64)| Point::new(p.0.round() as i32, p.1.round() as i32);
        readings.push([beyond(a, d), beyond(b, c), point(c), point(d)]);
        readings.push([point(a), point(b), beyond(c, b), beyond(d, a)]);
    }
    readings
}

/// Pixels of `luma` whose Sobel gradient is at least `min_gradient`: the steep edges of print (text,
/// portrait, emblem), which a table's grain, however busy, does not reach.
fn print_edges(luma: &GrayImage, min_gradient: u16) -> GrayImage {
    let gradients = sobel_magnitudes(luma);
    GrayImage::from_fn(luma.width(), luma.height(), |x, y| {
        Luma([if gradients.get_pixel(x, y).0[0] >= min_gradient { 255 } else { 0 }])
    })
}

/// Share of the print's edge pixels that lie inside the quad: a card holds the print; a box on a
/// card (the portrait frame of a flat scan) leaves most of it outside.
fn print_inside(edges: &GrayImage, quad: &[Point<i32>; 4]) -> f64 {
    // Inside a convex quad, the point lies on the same side of all four sides, whichever way round
    // the corners run.
    let inside = |x: f64, y: f64| {
        let crosses: [f64; 4] = std::array::from_fn(|side| {
            let (a, b) = (quad[side], quad[(side + 1) % 4]);
            f64::from(b.x - a.x) * (y - f64::from(a.y)) - f64::from(b.y - a.y) * (x - f64::from(a.x))
        });
        crosses.iter().all(|&c| c >= 0.0) || crosses.iter().all(|&c| c <= 0.0)
    };
    let (mut total, mut within) = (0usize, 0usize);
    for (x, y, pixel) in edges.enumerate_pixels() {
        if pixel.0[0] > 0 {
            total += 1;
            within += usize::from(inside(f64::from(x), f64::from(y)));
        }
    }
    if total == 0 { 0.0 } else { within as f64 / total as f64 }
}

/// How many of the quad's sides separate two different colours (see [`side_contrast`]) by at
/// least `min_contrast`.
fn sides_with_contrast(rgb: &RgbImage, quad: &[Point<i32>; 4], min_contrast: f64) -> usize {
    let corner = |p: Point<i32>| (p.x as f32, p.y as f32);
    let centre = (
        quad.iter().map(|p| p.x as f32).sum::<f32>() / 4.0,
        quad.iter().map(|p| p.y as f32).sum::<f32>() / 4.0,
    );
    (0..4)
        .filter(|&side| {
            side_contrast(rgb, corner(quad[side]), corner(quad[(side + 1) % 4]), centre)
                .is_some_and(|contrast| contrast >= min_contrast)
        })
        .count()
}

/// The largest difference, over the three channels, between the mean colours of a strip 2–4 px on
/// the `inside` point's side of the segment `a`–`b` and a strip 2–4 px on the other side; `None`
/// when one strip lies wholly outside the image (a side on the frame's border separates nothing).
/// Averaging along the side first cancels a textured table's grain.
fn side_contrast(rgb: &RgbImage, a: (f32, f32), b: (f32, f32), inside: (f32, f32)) -> Option<f64> {
    const SAMPLES: usize = 40;
    let (width, height) = (rgb.width() as f32, rgb.height() as f32);
    let length = (b.0 - a.0).hypot(b.1 - a.1).max(1.0);
    let mut normal = ((a.1 - b.1) / length, (b.0 - a.0) / length);
    let middle = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    if (inside.0 - middle.0) * normal.0 + (inside.1 - middle.1) * normal.1 < 0.0 {
        normal = (-normal.0, -normal.1);
    }
    let mut sums = [[0f64; 3]; 2];
    let mut counts = [0usize; 2];
    for step in 0..SAMPLES {
        let t = 0.1 + 0.8 * (step as f32 + 0.5) / SAMPLES as f32;
        let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
        for offset in [2.0, 3.0, 4.0] {
            for (strip, sign) in [(0, 1.0), (1, -1.0)] {
                let (px, py) = (x + sign * offset * normal.0, y + sign * offset * normal.1);
                if px >= 0.0 && py >= 0.0 && px < width && py < height {
                    let pixel = rgb.get_pixel(px as u32, py as u32).0;
                    for channel in 0..3 {
                        sums[strip][channel] += f64::from(pixel[channel]);
                    }
                    counts[strip] += 1;
                }
            }
        }
    }
    if counts[0] == 0 || counts[1] == 0 {
        return None;
    }
    let mean = |strip: usize, channel: usize| sums[strip][channel] / counts[strip] as f64;
    Some((0..3).map(|channel| (mean(0, channel) - mean(1, channel)).abs()).fold(0.0, f64::max))
}

/// Share of points along the quad's sides that have an edge pixel within 2 px.
fn edge_support(edges: &GrayImage, quad: &[Point<i32>; 4]) -> f64 {
    let corner = |p: Point<i32>| (p.x as f32, p.y as f32);
    (0..4).map(|side| side_support(edges, corner(quad[side]), corner(quad[(side + 1) % 4]))).sum::<f64>()
        / 4.0
}

/// Share of points along the segment `a`–`b` that have an edge pixel within 2 px.
fn side_support(edges: &GrayImage, a: (f32, f32), b: (f32, f32)) -> f64 {
    const SAMPLES: usize = 40;
    let (width, height) = (edges.width() as i32, edges.height() as i32);
    let supported = (0..SAMPLES)
        .filter(|&step| {
            let t = (step as f32 + 0.5) / SAMPLES as f32;
            let x = (a.0 + t * (b.0 - a.0)).round() as i32;
            let y = (a.1 + t * (b.1 - a.1)).round() as i32;
            (-2..=2).any(|dy| {
                (-2..=2).any(|dx| {
                    let (px, py) = (x + dx, y + dy);
                    px >= 0
                        && py >= 0
                        && px < width
                        && py < height
                        && edges.get_pixel(px as u32, py as u32).0[0] > 0
                })
            })
        })
        .count();
    supported as f64 / SAMPLES as f64
}

/// Four corners of a convex hull: the largest quadrilateral on its vertices, which lands on the
/// card's corners even when they are rounded or the view is in perspective. The hull is first
/// simplified to at most 32 vertices (Douglas-Peucker) so the exhaustive search stays small.
fn four_corners(hull: &[Point<i32>]) -> [Point<i32>; 4] {
    const MAX_VERTICES: usize = 32;
    let perimeter: f64 = hull
        .iter()
        .zip(hull.iter().cycle().skip(1))
        .map(|(a, b)| f64::from(a.x - b.x).hypot(f64::from(a.y - b.y)))
        .sum();
    let mut vertices = hull.to_vec();
    let mut tolerance = 0.002;
    while vertices.len() > MAX_VERTICES {
        vertices = approximate_polygon_dp(hull, tolerance * perimeter, true);
        tolerance *= 1.5;
    }
    if vertices.len() < 4 {
        return min_area_rect(hull);
    }
    let n = vertices.len();
    let mut best = (f64::MIN, [vertices[0]; 4]);
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                for l in k + 1..n {
                    let quad = [vertices[i], vertices[j], vertices[k], vertices[l]];
                    let area = contour_area(&quad);
                    if area > best.0 {
                        best = (area, quad);
                    }
                }
            }
        }
    }
    best.1
}

/// Orders corners clockwise from the top-left of a landscape reading: the long edges become top and
/// bottom, and of the two landscape readings the one whose top edge is higher in the frame is chosen.
fn landscape_order(corners: [(f32, f32); 4]) -> [(f32, f32); 4] {
    let centre_x = corners.iter().map(|c| c.0).sum::<f32>() / 4.0;
    let centre_y = corners.iter().map(|c| c.1).sum::<f32>() / 4.0;
    let mut sorted = corners;
    // Image y grows downwards, so increasing angle runs clockwise on screen.
    sorted.sort_by(|a, b| {
        (a.1 - centre_y).atan2(a.0 - centre_x).total_cmp(&(b.1 - centre_y).atan2(b.0 - centre_x))
    });
    let length = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
    let start = if length(sorted[0], sorted[1]) >= length(sorted[1], sorted[2]) { 0 } else { 1 };
    // `start` and `start + 2` both read landscape; take the one with the higher top edge.
    let top_y = |s: usize| sorted[s % 4].1 + sorted[(s + 1) % 4].1;
    let start = if top_y(start) <= top_y(start + 2) { start } else { start + 2 };
    std::array::from_fn(|i| sorted[(start + i) % 4])
}

/// The card warped to `card_width` × `card_height`.
fn rectify(luma: &GrayImage, corners: &[(f32, f32); 4], layout: &DocumentLayout) -> GrayImage {
    let (w, h) = (layout.card_width as f32, layout.card_height as f32);
    let target = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut card = GrayImage::new(layout.card_width, layout.card_height);
    match Projection::from_control_points(*corners, target) {
        Some(projection) => {
            warp_into(luma, projection, Interpolation::Bilinear, Border::Replicate, &mut card);
            card
        }
        // Degenerate corners (collinear): fall back to scaling the whole plane.
        None => resize(luma, layout.card_width, layout.card_height, FilterType::Triangle),
    }
}

/// The zone hashes of a rectified `card` (upright, or turned 180° when `turned`), with the zones'
/// colours read from `rgb` through the card's `corners` in it.
fn zone_hashes(
    card: &GrayImage,
    rgb: &RgbImage,
    corners: &[(f32, f32); 4],
    turned: bool,
    layout: &DocumentLayout,
) -> ZoneHashes {
    let (portrait, portrait_quality) = zone_pdq(card, layout.portrait);
    let (data, data_quality) = zone_pdq(card, layout.data);
    let whole = pdq_from_luma(
        card.as_raw().iter().map(|&v| f32::from(v)).collect(),
        card.width() as usize,
        card.height() as usize,
    );
    // Card fractions to image pixels; degenerate corners fall back, as rectification does, to the
    // whole plane (`None`).
    let to_image = from_unit_square(corners);
    ZoneHashes {
        card: whole.original(),
        portrait,
        data,
        portrait_quality,
        data_quality,
        portrait_colour: Some(zone_colour(rgb, to_image, turned, layout.portrait)),
        data_colour: Some(zone_colour(rgb, to_image, turned, layout.data)),
    }
}

/// The projection from the unit square (a card's frame in fractions, corners clockwise from the
/// top-left) to the quad `corners`; `None` when they are degenerate.
pub(crate) fn from_unit_square(corners: &[(f32, f32); 4]) -> Option<Projection> {
    Projection::from_control_points([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], *corners)
}

/// Samples per quarter of a zone, each way, for [`zone_colour`].
const COLOUR_SAMPLES: u32 = 6;

/// The colour of `zone` (card fractions, in the card upright or turned 180°) read from `rgb` at a
/// grid of points mapped to it by `to_image` (card fractions to pixels; the whole plane when
/// `None`), nearest pixel: a mean of 36 samples per quarter does not need interpolation.
fn zone_colour(rgb: &RgbImage, to_image: Option<Projection>, turned: bool, zone: ZoneBox) -> ZoneColour {
    let (width, height) = (rgb.width() as f32, rgb.height() as f32);
    let mut means = [0i8; 8];
    for (quarter, pair) in means.chunks_exact_mut(2).enumerate() {
        let (qx, qy) = ((quarter % 2) as f32, (quarter / 2) as f32);
        let (mut cb, mut cr) = (0.0f32, 0.0f32);
        for j in 0..COLOUR_SAMPLES {
            for i in 0..COLOUR_SAMPLES {
                let fx = (qx + (i as f32 + 0.5) / COLOUR_SAMPLES as f32) / 2.0;
                let fy = (qy + (j as f32 + 0.5) / COLOUR_SAMPLES as f32) / 2.0;
                let mut point = (zone[0] + fx * (zone[2] - zone[0]), zone[1] + fy * (zone[3] - zone[1]));
                if turned {
                    point = (1.0 - point.0, 1.0 - point.1);
                }
                let (x, y) = match to_image {
                    Some(projection) => projection * point,
                    None => (point.0 * width, point.1 * height),
                };
                let [r, g, b] = rgb
                    .get_pixel(
                        (x.max(0.0) as u32).min(rgb.width() - 1),
                        (y.max(0.0) as u32).min(rgb.height() - 1),
                    )
                    .0
                    .map(f32::from);
                cb += -0.168_736 * r - 0.331_264 * g + 0.5 * b;
                cr += 0.5 * r - 0.418_688 * g - 0.081_312 * b;
            }
        }
        let samples = (COLOUR_SAMPLES * COLOUR_SAMPLES) as f32;
        pair[0] = (cb / samples).round().clamp(-128.0, 127.0) as i8;
        pair[1] = (cr / samples).round().clamp(-128.0, 127.0) as i8;
    }
    ZoneColour(means)
}

fn inner_hashes(card: &GrayImage, layout: &DocumentLayout) -> InnerHashes {
    let (portrait, portrait_quality) = zone_pdq(card, layout.portrait_inner);
    let (data, data_quality) = zone_pdq(card, layout.data_inner);
    InnerHashes { portrait, data, portrait_quality, data_quality }
}

/// A zone's pixels in a card of `width` × `height`: (left, top, right, bottom), never empty.
fn zone_pixels(zone: ZoneBox, width: u32, height: u32) -> (u32, u32, u32, u32) {
    let left = (zone[0] * width as f32).round() as u32;
    let top = (zone[1] * height as f32).round() as u32;
    let right = ((zone[2] * width as f32).round() as u32).clamp(left + 1, width);
    let bottom = ((zone[3] * height as f32).round() as u32).clamp(top + 1, height);
    (left, top, right, bottom)
}

/// How far, in whole pixels each way, [`DocumentPrint::inner_hashes_aligned`] moves a zone.
pub const ALIGNMENT_REACH: i32 = 2;

/// The pixels `region` (left, top, right, bottom) of the layout's frame covers, read from `card`
/// through `frame` (bilinear).
fn warp_region(card: &GrayImage, frame: &CropFrame, region: (u32, u32, u32, u32)) -> GrayImage {
    let (left, top, right, bottom) = region;
    let mut out = GrayImage::new(right - left, bottom - top);
    let frame = *frame;
    let (offset_x, offset_y) = (left as f32, top as f32);
    warp_into_with(
        card,
        move |x, y| frame.apply(x + offset_x, y + offset_y),
        Interpolation::Bilinear,
        Border::Replicate,
        &mut out,
    );
    out
}

fn zone_pdq(card: &GrayImage, zone: ZoneBox) -> (Pdq, u32) {
    let (left, top, right, bottom) = zone_pixels(zone, card.width(), card.height());
    let mut luma = Vec::with_capacity(((right - left) * (bottom - top)) as usize);
    for y in top..bottom {
        luma.extend((left..right).map(|x| f32::from(card.get_pixel(x, y).0[0])));
    }
    let hashes = pdq_from_luma(luma, (right - left) as usize, (bottom - top) as usize);
    (hashes.original(), hashes.quality)
}

#[cfg(test)]
mod tests {
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
        use crate::eval::synthetic::capture::Capture;
        use crate::eval::synthetic::cards::Template;
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
        let planes = working_planes(&tilted, crate::analysis::quality::QualityThresholds::embedded().working_long_side);
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
