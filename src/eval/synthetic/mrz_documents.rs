//! Documents that carry a machine-readable zone: the back of an ID-1 card (TD1) and a passport's
//! data page (TD3), their zones drawn in OCR-B with valid check digits, or with one digit altered
//! as a forger who retypes a field leaves it.

use image::{Rgb, RgbImage};
use rand::Rng;
use rand::rngs::StdRng;

use super::cards::Template;
use super::ocr_b::OcrB;
use crate::analysis::mrz::text::{MrzFormat, check_digit};

/// States the generated zones are issued by (ICAO's specimen state and real codes).
const STATES: [&str; 6] = ["UTO", "D<<", "FRA", "NLD", "JPN", "KOR"];

/// A generated document and the zone printed on it.
#[derive(Debug, Clone)]
pub struct MrzDocument {
    /// The document's pixels.
    pub image: RgbImage,
    /// The zone's lines as printed.
    pub lines: Vec<String>,
    /// The field whose digit was altered after its check digit was computed, if any.
    pub altered: Option<&'static str>,
}

fn letters(rng: &mut StdRng, count: usize) -> String {
    (0..count).map(|_| char::from(b'A' + rng.random_range(0..26u8))).collect()
}

fn digits(rng: &mut StdRng, count: usize) -> String {
    (0..count).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

fn alphanumerics(rng: &mut StdRng, count: usize) -> String {
    (0..count)
        .map(|_| {
            if rng.random_bool(0.3) {
                char::from(b'A' + rng.random_range(0..26u8))
            } else {
                char::from(b'0' + rng.random_range(0..10u8))
            }
        })
        .collect()
}

fn date(rng: &mut StdRng) -> String {
    format!("{:02}{:02}{:02}", rng.random_range(0..100), rng.random_range(1..13), rng.random_range(1..29))
}

fn padded(text: &str, width: usize) -> String {
    let mut line: String = text.chars().take(width).collect();
    while line.len() < width {
        line.push('<');
    }
    line
}

fn names(rng: &mut StdRng) -> String {
    let length = rng.random_range(4..10);
    let surname = letters(rng, length);
    let given: Vec<String> = (0..rng.random_range(1..3))
        .map(|_| {
            let length = rng.random_range(3..8);
            letters(rng, length)
        })
        .collect();
    format!("{surname}<<{}", given.join("<"))
}

fn digit(field: &str) -> char {
    char::from(b'0' + check_digit(field).expect("generated fields hold MRZ characters"))
}

/// Zone text of `format` with valid check digits.
pub fn random_zone(format: MrzFormat, rng: &mut StdRng) -> Vec<String> {
    let state = STATES[rng.random_range(0..STATES.len())];
    let number = alphanumerics(rng, 9);
    let (birth, expiry) = (date(rng), date(rng));
    let sex = ["M", "F", "<"][rng.random_range(0..3)];
    match format {
        MrzFormat::Td1 => {
            let upper = padded(&format!("I<{state}{number}{}", digit(&number)), 30);
            let middle_head = format!("{birth}{}{sex}{expiry}{}{state}", digit(&birth), digit(&expiry));
            let optional = "<".repeat(11);
            let composite: String =
                [&upper[5..30], &middle_head[0..7], &middle_head[8..15], &optional].concat();
            let middle = format!("{middle_head}{optional}{}", digit(&composite));
            vec![upper, middle, padded(&names(rng), 30)]
        }
        MrzFormat::Td2 | MrzFormat::Td3 => {
            let width = format.shape().1;
            let kind = if format == MrzFormat::Td3 { "P<" } else { "I<" };
            let upper = padded(&format!("{kind}{state}{}", names(rng)), width);
            let head = format!(
                "{number}{}{state}{birth}{}{sex}{expiry}{}",
                digit(&number),
                digit(&birth),
                digit(&expiry)
            );
            let optional = if format == MrzFormat::Td3 {
                let personal =
                    if rng.random_bool(0.5) { padded(&digits(rng, 8), 14) } else { "<".repeat(14) };
                let personal_digit = if personal.starts_with('<') { '<' } else { digit(&personal) };
                format!("{personal}{personal_digit}")
            } else {
                "<".repeat(7)
            };
            let composite: String = [&head[0..10], &head[13..20], &head[21..28], &optional].concat();
            vec![upper, format!("{head}{optional}{}", digit(&composite))]
        }
    }
}

/// `lines` with one digit of the birth date, expiry date or document number changed (a retyped
/// field whose check digit was left as it was); the field's name.
pub fn alter_one_digit(lines: &mut [String], format: MrzFormat, rng: &mut StdRng) -> &'static str {
    let (field, line, from, to) = match (format, rng.random_range(0..3)) {
        (MrzFormat::Td1, 0) => ("birth_date", 1, 0, 6),
        (MrzFormat::Td1, 1) => ("expiry_date", 1, 8, 14),
        (MrzFormat::Td1, _) => ("document_number", 0, 5, 14),
        (_, 0) => ("birth_date", 1, 13, 19),
        (_, 1) => ("expiry_date", 1, 21, 27),
        (_, _) => ("document_number", 1, 0, 9),
    };
    let mut chars: Vec<char> = lines[line].chars().collect();
    let positions: Vec<usize> = (from..to).filter(|&i| chars[i].is_ascii_digit()).collect();
    let at = positions[rng.random_range(0..positions.len())];
    let old = chars[at] as u8 - b'0';
    chars[at] = char::from(b'0' + (old + rng.random_range(1..10u8)) % 10);
    lines[line] = chars.into_iter().collect();
    field
}

/// The back of an ID-1 card of `template`: its paper and guilloche, a clear band at the bottom with
/// a TD1 zone.
pub fn td1_card(font: &OcrB, template: &Template, lines: &[String], rng: &mut StdRng) -> RgbImage {
    let mut card = template.render(&template.holder(rng));
    let (width, height) = card.dimensions();
    let band_top = (height as f32 * 0.62) as u32;
    clear_band(&mut card, band_top);
    let pitch = width as f32 * 2.54 / 85.6 * rng.random_range(0.97..1.03);
    let cap = pitch / font.advance(1.0);
    let spacing = width as f32 * 4.23 / 85.6;
    let left = (width as f32 - 30.0 * pitch) / 2.0 + rng.random_range(-6.0..6.0);
    let last_baseline = height as f32 - spacing * 0.75;
    draw_zone(font, &mut card, lines, left, last_baseline, spacing, cap);
    card
}

/// A passport's data page (ID-3, 125 × 88 mm): tinted paper, a portrait, printed fields in OCR-B
/// and a TD3 zone at the bottom.
pub fn td3_page(font: &OcrB, lines: &[String], rng: &mut StdRng) -> RgbImage {
    let (width, height) = (1250u32, 880u32);
    let paper = Rgb([rng.random_range(215..245), rng.random_range(215..245), rng.random_range(200..235)]);
    let mut page = RgbImage::from_pixel(width, height, paper);
    for (x, y, pixel) in page.enumerate_pixels_mut() {
        let wave = ((x as f32 / 23.0).sin() * (y as f32 / 31.0).cos() * 9.0) as i16;
        pixel.0 = pixel.0.map(|c| (i16::from(c) + wave).clamp(0, 255) as u8);
    }
    let shade = rng.random_range(90..170);
    for y in 170..560 {
        for x in 60..360 {
            let face = ((x as f32 - 210.0) / 110.0).powi(2) + ((y as f32 - 330.0) / 140.0).powi(2) < 1.0;
            page.put_pixel(
                x,
                y,
                if face { Rgb([shade + 40, shade, shade - 20]) } else { Rgb([200, 205, 215]) },
            );
        }
    }
    let ink = Rgb([35, 35, 45]);
    for row in 0..6 {
        let length = rng.random_range(5..14);
        let text = letters(rng, length);
        font.draw(&mut page, &text, 420.0, 210.0 + row as f32 * 62.0, 22.0, ink);
    }
    clear_band(&mut page, 700);
    let pitch = width as f32 * 2.54 / 125.0 * rng.random_range(0.97..1.03);
    let cap = pitch / font.advance(1.0);
    let spacing = width as f32 * 4.23 / 125.0;
    let left = (width as f32 - 44.0 * pitch) / 2.0 + rng.random_range(-6.0..6.0);
    draw_zone(font, &mut page, lines, left, height as f32 - spacing * 1.1, spacing, cap);
    page
}

/// Lightens the rows from `top` down to the card's clear zone.
fn clear_band(image: &mut RgbImage, top: u32) {
    for y in top..image.height() {
        for x in 0..image.width() {
            let pixel = image.get_pixel_mut(x, y);
            pixel.0 = pixel.0.map(|c| ((u16::from(c) + 3 * 245) / 4) as u8);
        }
    }
}

fn draw_zone(
    font: &OcrB,
    image: &mut RgbImage,
    lines: &[String],
    left: f32,
    last: f32,
    spacing: f32,
    cap: f32,
) {
    let ink = Rgb([20, 20, 25]);
    for (index, line) in lines.iter().enumerate() {
        let baseline = last - (lines.len() - 1 - index) as f32 * spacing;
        font.draw(image, line, left, baseline, cap, ink);
    }
}
