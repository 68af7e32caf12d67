//! The document layout the locator and the zone hashes read (`models/reuse.toml`): the card's shape,
//! its zones and the locator's limits.

use super::*;

/// A zone of the rectified card as fractions of its width and height: `[left, top, right, bottom]`.
pub type ZoneBox = [f32; 4];

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
    /// The locator's edge, line-fitting and sharpening settings (the shipped ones when a tuned copy
    /// of `models/reuse.toml` predates them).
    #[serde(default = "shipped_locator_tuning")]
    pub locator: LocatorTuning,
}

/// `[layout.locator]` of the shipped `models/reuse.toml`.
fn shipped_locator_tuning() -> LocatorTuning {
    #[derive(Deserialize)]
    struct Shipped {
        layout: ShippedLayout,
    }
    #[derive(Deserialize)]
    struct ShippedLayout {
        locator: LocatorTuning,
    }
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/reuse.toml"));
    toml::from_str::<Shipped>(text).expect("models/reuse.toml is validated by the test suite").layout.locator
}

/// How the locator finds edges and fits the card's sides (`[layout.locator]` in
/// `models/reuse.toml`, where each value's calibration is noted).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocatorTuning {
    /// Canny's low hysteresis threshold (gradient magnitude) for the luma and colour edges.
    pub canny_low: f32,
    /// Canny's high hysteresis threshold.
    pub canny_high: f32,
    /// Seeds per axis, over the middle 60 % of the frame, of the one-colour regions.
    pub region_seeds_per_axis: u32,
    /// A lost band's far side is searched from this many band widths beyond the outline...
    pub band_search_from: f32,
    /// ...over this many band widths more.
    pub band_search_span: f32,
    /// How much less of a side's length a refitted line may lie on edges than the hull's side did.
    pub support_slack: f64,
    /// Largest corner move of the refit, as a share of the outline's diagonal.
    pub refine_max_move: f64,
    /// Shortest side (px) that is refitted.
    pub min_side_length: f64,
    /// Half-width (px) of the band a side is refitted in.
    pub side_band: f64,
    /// Half-width (px) of the wider band searched when the near band's line is not clean.
    pub side_wide_band: f64,
    /// Share of the near band's points the line must hold to be taken at once.
    pub side_clean_share: f64,
    /// Distance (px) within which a point supports a line.
    pub line_inlier: f64,
    /// With a preferred point, the lines holding this share of the best line's support compete.
    pub line_strong_share: f64,
    /// Fewest points per px of side length for a line to be fitted.
    pub line_min_points_per_px: f64,
    /// Half-length (px) of the colour profiles across each side when sharpening.
    pub sharpen_reach: i32,
    /// Smallest colour step (0..255) a profile's steepest point must make.
    pub sharpen_min_step: f32,
    /// Shortest side (px) that is sharpened.
    pub sharpen_min_side_length: f32,
    /// Largest corner move of the sharpening, as a share of the outline's diagonal.
    pub sharpen_max_move: f64,
}

impl DocumentLayout {
    /// The rectified card's width and height in pixels.
    pub fn card_size(&self) -> (u32, u32) {
        (self.card_width, self.card_height)
    }

    /// How keypoints are taken on the rectified card.
    pub fn keypoint_parameters(&self) -> KeypointParameters {
        KeypointParameters {
            threshold: self.keypoint_threshold,
            max: self.max_keypoints,
            spacing: self.keypoint_spacing,
        }
    }
}
