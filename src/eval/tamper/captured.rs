//! The forger's workflow on captures (`eval-tamper --captured`): a card is photographed or scanned
//! through the capture chain (and one in four then passes through a messaging app), the editor
//! opens that JPEG, changes it, and exports it. The two card edits here work in the captured frame:
//! a retyped field is the clean render of the new value warped onto the card (no lens blur, no
//! sensor noise, no JPEG history), and a swapped portrait is cut from another capture of a card of
//! the same template (its own blur, noise, scale and JPEG grid) and warped into place.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::Projection;
use rand::rngs::StdRng;

use super::{CardSource, Mask, Source, changed_box, retyped};
use crate::analysis::decode::{DecodeLimits, decode};
use crate::eval::synthetic::capture::{CaptureSettings, Device, capture, messaging_app_resave};
use crate::eval::synthetic::cards::{CARD_HEIGHT, CARD_WIDTH, Template};

/// Generated cards, each captured once: two phone captures for every flatbed scan, and every fourth
/// capture re-sent through a messaging app.
pub(super) fn card_sources(count: usize, rng: &mut StdRng) -> Vec<Source> {
    (0..count)
        .map(|index| {
            let template = Template::new(index as u64 % 4);
            let holder = template.holder(rng);
            let device = if index % 3 == 2 { Device::Scanner } else { Device::Phone };
            let settings = CaptureSettings::draw(device, rng);
            let shot = capture(&template.render(&holder), &settings, rng);
            let bytes = if index % 4 == 3 { messaging_app_resave(&shot.jpeg, rng) } else { shot.jpeg };
            let pixels = decode(&bytes, &DecodeLimits::default()).expect("own JPEG").rgb;
            // A messaging app may have scaled the frame down.
            let scale = pixels.width() as f32 / shot.pixels.width() as f32;
            let corners = shot.corners.map(|(x, y)| (x * scale, y * scale));
            Source { bytes, pixels, card: Some(CardSource { template, holder, corners: Some(corners) }) }
        })
        .collect()
}

/// The card's pixels to the frame's.
fn card_to_frame(corners: [(f32, f32); 4]) -> Option<Projection> {
    let (w, h) = (CARD_WIDTH as f32, CARD_HEIGHT as f32);
    Projection::from_control_points([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], corners)
}

/// `frame` with every pixel whose card position falls in `area` (card pixels) replaced by
/// `paint(card position)`; the frame box it changed.
fn paint_card_area(
    frame: &RgbImage,
    corners: [(f32, f32); 4],
    area: Mask,
    paint: impl Fn(f32, f32) -> Option<Rgb<u8>>,
) -> Option<(RgbImage, Mask)> {
    let to_frame = card_to_frame(corners)?;
    let to_card = to_frame.invert();
    let (ax0, ay0, ax1, ay1) =
        (area.0 as f32, area.1 as f32, (area.0 + area.2) as f32, (area.1 + area.3) as f32);
    let mapped = [(ax0, ay0), (ax1, ay0), (ax1, ay1), (ax0, ay1)].map(|point| to_frame * point);
    let clip = |v: f32, limit: u32| (v.max(0.0) as u32).min(limit);
    let x0 = clip(mapped.iter().map(|p| p.0).fold(f32::INFINITY, f32::min).floor(), frame.width());
    let y0 = clip(mapped.iter().map(|p| p.1).fold(f32::INFINITY, f32::min).floor(), frame.height());
    let x1 = clip(mapped.iter().map(|p| p.0).fold(f32::NEG_INFINITY, f32::max).ceil(), frame.width());
    let y1 = clip(mapped.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max).ceil(), frame.height());
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut out = frame.clone();
    for y in y0..y1 {
        for x in x0..x1 {
            let (u, v) = to_card * (x as f32 + 0.5, y as f32 + 0.5);
            if !(ax0..ax1).contains(&u) || !(ay0..ay1).contains(&v) {
                continue;
            }
            if let Some(pixel) = paint(u, v) {
                out.put_pixel(x, y, pixel);
            }
        }
    }
    Some((out, (x0, y0, x1 - x0, y1 - y0)))
}

/// One field retyped in the editor: the new value's clean render over the old one's box.
pub(super) fn retype_field(
    frame: &RgbImage,
    card: &CardSource,
    rng: &mut StdRng,
) -> Option<(RgbImage, Mask)> {
    let corners = card.corners?;
    let changed = retyped(&card.template, &card.holder, rng);
    let (clean, area) = changed_box(&card.template, &card.holder, &changed, 3)?;
    paint_card_area(frame, corners, area, |u, v| {
        Some(*clean.get_pixel((u as u32).min(CARD_WIDTH - 1), (v as u32).min(CARD_HEIGHT - 1)))
    })
}

/// The portrait replaced by the one in `donor`, another capture of a card of the same template.
pub(super) fn swap_portrait(frame: &RgbImage, card: &CardSource, donor: &Source) -> Option<(RgbImage, Mask)> {
    let (corners, donor_card) = (card.corners?, donor.card.as_ref()?);
    let donor_to_frame = card_to_frame(donor_card.corners?)?;
    let mut swapped = card.holder.clone();
    swapped.portrait_seed = donor_card.holder.portrait_seed;
    swapped.low_detail_portrait = donor_card.holder.low_detail_portrait;
    let (_, area) = changed_box(&card.template, &card.holder, &swapped, 2)?;
    paint_card_area(frame, corners, area, |u, v| {
        let (x, y) = donor_to_frame * (u, v);
        sample_bilinear(&donor.pixels, x, y)
    })
}

/// Bilinear sample of `image` at (`x`, `y`), or `None` outside it.
fn sample_bilinear(image: &RgbImage, x: f32, y: f32) -> Option<Rgb<u8>> {
    let (fx, fy) = (x - 0.5, y - 0.5);
    if fx < 0.0 || fy < 0.0 || fx >= (image.width() - 1) as f32 || fy >= (image.height() - 1) as f32 {
        return None;
    }
    let (x0, y0) = (fx as u32, fy as u32);
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let at = |dx: u32, dy: u32| image.get_pixel(x0 + dx, y0 + dy).0.map(f32::from);
    let (a, b, c, d) = (at(0, 0), at(1, 0), at(0, 1), at(1, 1));
    Some(Rgb(std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * tx;
        let bottom = c[k] + (d[k] - c[k]) * tx;
        (top + (bottom - top) * ty).round().clamp(0.0, 255.0) as u8
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_retyped_field_and_a_swapped_portrait_change_the_card_inside_their_box_only() {
        let mut rng = StdRng::seed_from_u64(5);
        let sources = card_sources(5, &mut rng);
        let (source, donor) = (&sources[0], &sources[4]);
        let card = source.card.as_ref().unwrap();
        for (edited, mask) in [
            retype_field(&source.pixels, card, &mut rng).unwrap(),
            swap_portrait(&source.pixels, card, donor).unwrap(),
        ] {
            let (x0, y0, w, h) = mask;
            assert!(w > 10 && h > 10 && w < source.pixels.width() / 2, "{mask:?}");
            let mut changed_inside = 0;
            for (x, y, pixel) in edited.enumerate_pixels() {
                let inside = (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y);
                if pixel != source.pixels.get_pixel(x, y) {
                    assert!(inside, "({x}, {y}) changed outside {mask:?}");
                    changed_inside += 1;
                }
            }
            assert!(changed_inside as f64 > 0.2 * f64::from(w * h), "{changed_inside} of {w}x{h}");
        }
    }
}
