//! Keypoints of a rectified card: FAST corners with 256-bit BRIEF descriptors (imageproc).
//!
//! A crop moves every zone of the rectified card, so its zone hashes cannot find the original. Its
//! corners keep their look, though: matched against the keypoints stored for the card's layout they
//! give the crop's frame, in which the inner zones can be hashed again (`reuse::crops`).

use image::GrayImage;
use image::imageops::{FilterType, resize};
use imageproc::binary_descriptors::brief::{TestPair, brief};
use imageproc::corners::corners_fast9;
use imageproc::point::Point;

use super::pdq::Pdq;

/// BRIEF compares pixels within this distance of the keypoint; imageproc refuses keypoints closer
/// to an edge.
const PATCH_MARGIN: u32 = 17;
/// Descriptor length in bits.
const DESCRIPTOR_BITS: usize = 256;

/// A corner of the rectified card and its descriptor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Keypoint {
    /// Column in the rectified card (fractional for a corner found on a rescaled card).
    pub x: f32,
    /// Row in the rectified card.
    pub y: f32,
    /// The 256 BRIEF bits, in the 256-bit type the Hamming index takes.
    pub descriptor: Pdq,
}

impl Keypoint {
    /// Length of [`Keypoint::to_bytes`].
    pub const BYTES: usize = 40;

    /// Storage form: x and y (`f32`, little-endian) and the descriptor.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut bytes = [0u8; Self::BYTES];
        bytes[..4].copy_from_slice(&self.x.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.y.to_le_bytes());
        bytes[8..].copy_from_slice(&self.descriptor.to_bytes());
        bytes
    }

    /// Parses the storage form.
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Self {
        let float = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        Keypoint {
            x: float(0),
            y: float(4),
            descriptor: Pdq::from_bytes(bytes[8..].try_into().expect("32 bytes")),
        }
    }
}

/// How keypoints are taken (`[layout]` in `models/reuse.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeypointParameters {
    /// FAST-9 threshold.
    pub threshold: u8,
    /// Most keypoints per scale (the strongest).
    pub max: usize,
    /// Smallest distance between two, in pixels of the scale they are found at.
    pub spacing: u32,
}

/// Keypoints of `card` found on it enlarged by each of `scales` (other than 1), their positions in
/// `card`'s pixels. BRIEF is not scale-invariant: a crop stretched back to the card's shape is
/// enlarged by up to a sixth, and keypoints taken from the original at a similar enlargement still
/// match it.
pub fn enlarged_keypoints(card: &GrayImage, parameters: KeypointParameters, scales: &[f32]) -> Vec<Keypoint> {
    scales
        .iter()
        .filter(|&&scale| scale != 1.0)
        .flat_map(|&scale| {
            let size = |side: u32| (side as f32 * scale).round().max(1.0) as u32;
            let enlarged = resize(card, size(card.width()), size(card.height()), FilterType::Triangle);
            let (scale_x, scale_y) = (
                card.width() as f32 / enlarged.width() as f32,
                card.height() as f32 / enlarged.height() as f32,
            );
            let mut found = keypoints(&enlarged, parameters);
            for keypoint in &mut found {
                keypoint.x *= scale_x;
                keypoint.y *= scale_y;
            }
            found
        })
        .collect()
}

/// `image` resampled to `width` × `height` (a triangle filter) for keypoints to be taken at another
/// scale.
pub fn resampled(image: &GrayImage, width: u32, height: u32) -> GrayImage {
    super::fast_ops::resize_triangle_gray(image, width, height)
}

/// The strongest FAST-9 corners of `card` (at least `spacing` pixels apart, at most `max`) with
/// their descriptors.
pub fn keypoints(card: &GrayImage, parameters: KeypointParameters) -> Vec<Keypoint> {
    describe(card, &strongest_corners(card, parameters))
}

/// The keypoints of `card` and of `card` turned 180°: FAST-9's test and score are symmetric under a
/// half turn, so the turned card's corners are the same corners mirrored; only the descriptors are
/// taken again.
pub fn keypoints_both_ways(
    card: &GrayImage,
    turned: &GrayImage,
    parameters: KeypointParameters,
) -> [Vec<Keypoint>; 2] {
    let corners = strongest_corners(card, parameters);
    let (right, bottom) = (card.width() - 1, card.height() - 1);
    let mirrored: Vec<Point<u32>> = corners.iter().map(|p| Point::new(right - p.x, bottom - p.y)).collect();
    [describe(card, &corners), describe(turned, &mirrored)]
}

fn strongest_corners(card: &GrayImage, parameters: KeypointParameters) -> Vec<Point<u32>> {
    let KeypointParameters { threshold, max, spacing } = parameters;
    let (width, height) = card.dimensions();
    if width <= 2 * PATCH_MARGIN || height <= 2 * PATCH_MARGIN {
        return Vec::new();
    }
    let mut corners = corners_fast9(card, threshold);
    corners.retain(|c| {
        (PATCH_MARGIN..width - PATCH_MARGIN).contains(&c.x)
            && (PATCH_MARGIN..height - PATCH_MARGIN).contains(&c.y)
    });
    corners.sort_by(|a, b| b.score.total_cmp(&a.score).then((a.y, a.x).cmp(&(b.y, b.x))));
    let spacing_squared = i64::from(spacing * spacing);
    let mut chosen: Vec<Point<u32>> = Vec::with_capacity(max);
    for corner in corners {
        if chosen.len() == max {
            break;
        }
        let far_enough = chosen.iter().all(|p| {
            let (dx, dy) = (i64::from(p.x) - i64::from(corner.x), i64::from(p.y) - i64::from(corner.y));
            dx * dx + dy * dy >= spacing_squared
        });
        if far_enough {
            chosen.push(Point::new(corner.x, corner.y));
        }
    }
    chosen
}

fn describe(card: &GrayImage, points: &[Point<u32>]) -> Vec<Keypoint> {
    let (descriptors, _) = brief(card, points, DESCRIPTOR_BITS, Some(&test_pairs()))
        .expect("keypoints lie inside the patch margin and the test pairs inside the patch");
    descriptors
        .into_iter()
        .map(|d| {
            let mut bytes = [0u8; 32];
            bytes[..16].copy_from_slice(&d.bits[0].to_le_bytes());
            bytes[16..].copy_from_slice(&d.bits[1].to_le_bytes());
            Keypoint { x: d.corner.x as f32, y: d.corner.y as f32, descriptor: Pdq::from_bytes(&bytes) }
        })
        .collect()
}

/// The fixed BRIEF test pairs: an isotropic Gaussian (σ = 6.6 around the patch centre, as imageproc
/// draws them) from a SplitMix64 stream. Stored descriptors must be comparable across versions and
/// machines, which imageproc's own pairs (from the thread's random generator) are not; writing the
/// generator here keeps the pairs fixed whatever `rand` does.
fn test_pairs() -> Vec<TestPair> {
    let mut state = 0x1D_F0_2E_25_u64;
    let mut next_unit = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut coordinate = move || loop {
        let (u, v) = (next_unit().max(f64::MIN_POSITIVE), next_unit());
        let value = 16.0 + 6.6 * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        if (0.0..31.0).contains(&value) {
            return value as u32;
        }
    };
    (0..DESCRIPTOR_BITS)
        .map(|_| TestPair {
            p0: Point::new(coordinate(), coordinate()),
            p1: Point::new(coordinate(), coordinate()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    const PARAMETERS: KeypointParameters = KeypointParameters { threshold: 20, max: 80, spacing: 6 };

    fn textured(width: u32, height: u32, shift: u32) -> GrayImage {
        GrayImage::from_fn(width, height, |x, y| {
            let (x, y) = (x + shift, y);
            let block = ((x / 9) * 7 + (y / 11) * 13) % 5;
            Luma([(block * 50) as u8 ^ ((x * y) % 7) as u8])
        })
    }

    #[test]
    fn keypoints_are_spaced_inside_the_margin_and_stable() {
        let card = textured(512, 323, 0);
        let points = keypoints(&card, PARAMETERS);
        assert!(points.len() > 20, "{} keypoints", points.len());
        assert!(points.len() <= 80);
        for (i, a) in points.iter().enumerate() {
            assert!((17.0..495.0).contains(&a.x) && (17.0..306.0).contains(&a.y));
            for b in &points[..i] {
                assert!((a.x - b.x).hypot(a.y - b.y) >= 6.0);
            }
        }
        assert_eq!(points, keypoints(&card, PARAMETERS), "descriptors must not depend on the run");
        let round_trip: Vec<Keypoint> = points.iter().map(|k| Keypoint::from_bytes(&k.to_bytes())).collect();
        assert_eq!(round_trip, points);
    }

    #[test]
    fn a_shifted_card_keeps_its_descriptors() {
        let card = textured(512, 323, 0);
        let shifted = textured(512, 323, 30);
        let original = keypoints(&card, PARAMETERS);
        let moved = keypoints(&shifted, PARAMETERS);
        let kept = moved
            .iter()
            .filter(|m| {
                original.iter().any(|o| o.x == m.x + 30.0 && o.y == m.y && o.descriptor == m.descriptor)
            })
            .count();
        assert!(kept * 2 > moved.len(), "{kept} of {} kept", moved.len());
    }

    #[test]
    fn keypoints_of_an_enlarged_card_lie_in_the_card_s_pixels() {
        let card = textured(512, 323, 0);
        assert!(enlarged_keypoints(&card, PARAMETERS, &[1.0]).is_empty());
        let enlarged = enlarged_keypoints(&card, PARAMETERS, &[1.0, 1.1]);
        assert!(!enlarged.is_empty());
        assert!(enlarged.iter().all(|k| (0.0..512.0).contains(&k.x) && (0.0..323.0).contains(&k.y)));
        assert!(enlarged.iter().any(|k| k.x.fract() != 0.0), "positions scaled back to the card");
    }

    #[test]
    fn a_turned_card_has_the_same_corners_mirrored() {
        let card = textured(512, 323, 0);
        let turned = image::imageops::rotate180(&card);
        let [upright, mirrored] = keypoints_both_ways(&card, &turned, PARAMETERS);
        assert_eq!(upright, keypoints(&card, PARAMETERS));
        assert_eq!(mirrored.len(), upright.len());
        let corners: Vec<(u32, u32, u32)> =
            corners_fast9(&turned, PARAMETERS.threshold).iter().map(|c| (c.x, c.y, c.score as u32)).collect();
        let scores: Vec<(u32, u32, u32)> = corners_fast9(&card, PARAMETERS.threshold)
            .iter()
            .map(|c| (511 - c.x, 322 - c.y, c.score as u32))
            .collect();
        assert_eq!(sorted(corners), sorted(scores), "FAST-9 corners and scores turn with the card");
        for (m, u) in mirrored.iter().zip(&upright) {
            assert_eq!((m.x, m.y), (511.0 - u.x, 322.0 - u.y));
        }
        assert_eq!(
            mirrored,
            describe(
                &turned,
                &mirrored.iter().map(|k| Point::new(k.x as u32, k.y as u32)).collect::<Vec<_>>()
            )
        );
    }

    fn sorted(mut v: Vec<(u32, u32, u32)>) -> Vec<(u32, u32, u32)> {
        v.sort_unstable();
        v
    }

    #[test]
    fn a_card_too_small_has_none() {
        assert!(keypoints(&GrayImage::new(30, 30), PARAMETERS).is_empty());
    }
}
