//! The print box: where a document lies when no outline was found, read from where its print is.
//!
//! A pale card on a white scanner bed leaves the locator no edge to follow, and the whole frame is
//! then taken as the document, a few per cent off on every side: enough to move every zone hash
//! past the search radius. The card's print (guilloche, text, portrait) is what the bed does not
//! have, so the rows and columns holding print bound the card. The box is searched as another
//! framing of the upload, never stored.

use image::GrayImage;

use super::Quad;

/// A pixel is print when it differs from its right or lower neighbour by at least this (0..255):
/// sensor noise and a scanner bed's shading stay below it, printed lines and text exceed it.
const PRINT_STEP: u8 = 24;

/// A row or column holds print when at least this share of its pixels does.
const MIN_PRINT_SHARE: f32 = 0.02;

/// The box must leave at least this share of the frame outside it on some side, or it is the frame.
const MIN_MARGIN: f32 = 0.02;

/// The box of the rows and columns of `luma` holding print, as corners (top-left, top-right,
/// bottom-right, bottom-left); `None` when it is (nearly) the whole frame or holds no print.
pub(super) fn print_box(luma: &GrayImage) -> Option<Quad> {
    let (width, height) = luma.dimensions();
    if width < 8 || height < 8 {
        return None;
    }
    let mut rows = vec![0u32; height as usize];
    let mut columns = vec![0u32; width as usize];
    for y in 0..height - 1 {
        for x in 0..width - 1 {
            let here = luma.get_pixel(x, y).0[0];
            let right = luma.get_pixel(x + 1, y).0[0];
            let below = luma.get_pixel(x, y + 1).0[0];
            if here.abs_diff(right) >= PRINT_STEP || here.abs_diff(below) >= PRINT_STEP {
                rows[y as usize] += 1;
                columns[x as usize] += 1;
            }
        }
    }
    let span = |counts: &[u32], length: u32| {
        let enough = (length as f32 * MIN_PRINT_SHARE).ceil() as u32;
        let first = counts.iter().position(|&count| count >= enough)?;
        let last = counts.iter().rposition(|&count| count >= enough)?;
        Some((first as f32, (last + 1) as f32))
    };
    let (left, right) = span(&columns, height)?;
    let (top, bottom) = span(&rows, width)?;
    let margins =
        [left / width as f32, 1.0 - right / width as f32, top / height as f32, 1.0 - bottom / height as f32];
    if margins.iter().all(|&margin| margin < MIN_MARGIN) || right - left < 16.0 || bottom - top < 16.0 {
        return None;
    }
    Some([(left, top), (right, top), (right, bottom), (left, bottom)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn a_printed_card_on_a_blank_bed_is_boxed_and_a_full_frame_print_is_not() {
        let mut bed = GrayImage::from_pixel(400, 300, Luma([250]));
        for y in 60..240 {
            for x in 50..330 {
                let line = (x / 7 + y / 5) % 4 == 0;
                bed.put_pixel(x, y, Luma([if line { 120 } else { 225 }]));
            }
        }
        let [top_left, _, bottom_right, _] = print_box(&bed).expect("a box");
        assert!((top_left.0 - 50.0).abs() <= 1.0 && (top_left.1 - 60.0).abs() <= 1.0, "{top_left:?}");
        assert!((bottom_right.0 - 330.0).abs() <= 1.0 && (bottom_right.1 - 240.0).abs() <= 1.0);
        let full =
            GrayImage::from_fn(400, 300, |x, y| Luma([if (x / 7 + y / 5) % 4 == 0 { 120 } else { 225 }]));
        assert_eq!(print_box(&full), None);
        assert_eq!(print_box(&GrayImage::from_pixel(400, 300, Luma([250]))), None);
    }
}
