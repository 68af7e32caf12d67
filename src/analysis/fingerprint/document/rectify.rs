//! Rectification and zone hashing: the located card warped to the layout's landscape shape, its
//! zones cut and hashed (PDQ), their colours sampled through the outline.

use super::*;

/// The card warped to `card_width` × `card_height`.
pub(super) fn rectify(luma: &GrayImage, corners: &[(f32, f32); 4], layout: &DocumentLayout) -> GrayImage {
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
pub(super) fn zone_hashes(
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
pub(super) fn zone_colour(
    rgb: &RgbImage,
    to_image: Option<Projection>,
    turned: bool,
    zone: ZoneBox,
) -> ZoneColour {
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

pub(super) fn inner_hashes(card: &GrayImage, layout: &DocumentLayout) -> InnerHashes {
    let (portrait, portrait_quality) = zone_pdq(card, layout.portrait_inner);
    let (data, data_quality) = zone_pdq(card, layout.data_inner);
    InnerHashes { portrait, data, portrait_quality, data_quality }
}

/// A zone's pixels in a card of `width` × `height`: (left, top, right, bottom), never empty.
pub(super) fn zone_pixels(zone: ZoneBox, width: u32, height: u32) -> (u32, u32, u32, u32) {
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
pub(super) fn warp_region(card: &GrayImage, frame: &CropFrame, region: (u32, u32, u32, u32)) -> GrayImage {
    let frame = *frame;
    warp_region_through(card, move |x, y| frame.apply(x, y), region, Border::Replicate)
}

/// The pixels `region` (left, top, right, bottom) of the layout's frame covers, read from `card` at
/// `to_card` of each (bilinear), and as `outside` where that falls off `card`.
pub(super) fn warp_region_through(
    card: &GrayImage,
    to_card: impl Fn(f32, f32) -> (f32, f32) + Sync + Send,
    region: (u32, u32, u32, u32),
    outside: Border<Luma<u8>>,
) -> GrayImage {
    let (left, top, right, bottom) = region;
    let mut out = GrayImage::new(right - left, bottom - top);
    let (offset_x, offset_y) = (left as f32, top as f32);
    warp_into_with(
        card,
        move |x, y| to_card(x + offset_x, y + offset_y),
        Interpolation::Bilinear,
        outside,
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
