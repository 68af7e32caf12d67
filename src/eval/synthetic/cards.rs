//! Synthetic ID-like cards for the reuse evaluation: several templates (background guilloche,
//! header, emblem, field labels, portrait box) and, per card, a generated portrait and personal data.
//!
//! Real identity documents cannot be published in bulk, and the question the evaluation asks (do
//! different people's cards of one template stay apart while captures of one card come together?)
//! needs thousands of cards that share everything but the holder. Text is drawn in a blocky 5×7
//! pseudo-glyph font generated from a fixed seed: the hashes only need the same character to look
//! the same everywhere, and no font file has to ship.

use image::{Rgb, RgbImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_ellipse_mut, draw_filled_rect_mut, draw_hollow_circle_mut,
    draw_line_segment_mut,
};
use imageproc::rect::Rect;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Card width in pixels (ID-1 at 300 dpi).
pub const CARD_WIDTH: u32 = 1012;
/// Card height in pixels.
pub const CARD_HEIGHT: u32 = 638;

const GLYPH_CHARS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-/";

/// A document template: everything that every card of one issuer shares.
#[derive(Debug, Clone)]
pub struct Template {
    paper: Rgb<u8>,
    pattern: Rgb<u8>,
    header: Rgb<u8>,
    ink: Rgb<u8>,
    waves: Vec<(f32, f32, f32, f32)>,
    title: String,
    labels: Vec<String>,
    portrait_box: Rect,
    emblem: (i32, i32, i32),
}

/// The holder-specific content of one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Seed of the generated portrait: equal seeds draw the same face.
    pub portrait_seed: u64,
    /// Field values, one per template label.
    pub fields: Vec<String>,
    /// The portrait is a low-detail photo: blurred, dim or washed out (which, drawn from the
    /// portrait seed), as many real ID photos are.
    pub low_detail_portrait: bool,
}

impl Template {
    /// Template number `id`: the same id always gives the same template.
    pub fn new(id: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(0x7E3A_0000 + id);
        let pastel = |rng: &mut StdRng| {
            Rgb([rng.random_range(200..250), rng.random_range(200..250), rng.random_range(200..250)])
        };
        let paper = pastel(&mut rng);
        let pattern = Rgb(paper.0.map(|c: u8| c.saturating_sub(rng.random_range(25..60))));
        let header = Rgb([rng.random_range(20..120), rng.random_range(20..120), rng.random_range(60..160)]);
        let waves = (0..rng.random_range(10..18))
            .map(|_| {
                (
                    rng.random_range(0.1..0.95f32),
                    rng.random_range(5.0..30.0f32),
                    rng.random_range(60.0..300.0f32),
                    rng.random_range(0.0..std::f32::consts::TAU),
                )
            })
            .collect();
        let title = random_text(&mut rng, 10..18, true);
        let labels = (0..5).map(|_| random_text(&mut rng, 3..8, false)).collect();
        let left = rng.random_range(30..70);
        let portrait_box = Rect::at(left, rng.random_range(120..150))
            .of_size(rng.random_range(270..300), rng.random_range(360..400));
        let emblem = (rng.random_range(760..900), rng.random_range(380..520), rng.random_range(60..110));
        Template {
            paper,
            pattern,
            header,
            ink: Rgb([30, 30, 40]),
            waves,
            title,
            labels,
            portrait_box,
            emblem,
        }
    }

    /// Template `id` printed in other colours (paper, guilloche and header drawn from another
    /// seed): the same layout, labels and title, as one issuer's series or two issuers sharing a
    /// design. `same layout, different colours` is not the same document.
    pub fn recoloured(id: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(0x7E3A_C000 + id);
        let paper = Rgb([rng.random_range(200..250), rng.random_range(200..250), rng.random_range(200..250)]);
        Template {
            paper,
            pattern: Rgb(paper.0.map(|c: u8| c.saturating_sub(rng.random_range(25..60)))),
            header: Rgb([rng.random_range(20..120), rng.random_range(20..120), rng.random_range(60..160)]),
            ..Template::new(id)
        }
    }

    /// A random holder for this template: a new face and new field values.
    pub fn holder(&self, rng: &mut StdRng) -> Holder {
        let fields = self
            .labels
            .iter()
            .enumerate()
            .map(|(index, _)| match index {
                1 | 3 => format!(
                    "{:02}.{:02}.{}",
                    rng.random_range(1..29),
                    rng.random_range(1..13),
                    rng.random_range(1950..2030)
                ),
                2 => random_digits(rng, 9),
                _ => random_text(rng, 6..16, true),
            })
            .collect();
        Holder { portrait_seed: rng.random(), fields, low_detail_portrait: false }
    }

    /// Renders a card of this template for `holder`.
    pub fn render(&self, holder: &Holder) -> RgbImage {
        let mut card = RgbImage::from_pixel(CARD_WIDTH, CARD_HEIGHT, self.paper);
        for &(centre, amplitude, wavelength, phase) in &self.waves {
            let base = centre * CARD_HEIGHT as f32;
            let mut previous = (0.0, base + amplitude * phase.sin());
            for x in (4..CARD_WIDTH).step_by(4) {
                let y = base + amplitude * (x as f32 / wavelength * std::f32::consts::TAU + phase).sin();
                draw_line_segment_mut(&mut card, previous, (x as f32, y), self.pattern);
                previous = (x as f32, y);
            }
        }
        let (ex, ey, er) = self.emblem;
        for ring in (0..er).step_by(9) {
            draw_hollow_circle_mut(&mut card, (ex, ey), er - ring, self.pattern);
        }
        draw_filled_rect_mut(&mut card, Rect::at(0, 0).of_size(CARD_WIDTH, 92), self.header);
        draw_text(&mut card, 40, 25, 5, self.paper, &self.title);
        let value_left = self.portrait_box.right() + 50;
        for (row, (label, value)) in self.labels.iter().zip(&holder.fields).enumerate() {
            let y = 130 + row as i32 * 92;
            draw_text(&mut card, value_left, y, 2, self.header, label);
            draw_text(&mut card, value_left, y + 24, 4, self.ink, value);
        }
        draw_portrait(&mut card, self.portrait_box, holder.portrait_seed);
        if holder.low_detail_portrait {
            lose_detail(&mut card, self.portrait_box, holder.portrait_seed);
        }
        card
    }
}

/// A generated face in `area`: background, shoulders, head, hair, eyes, brows, nose and mouth, with
/// sizes, positions and colours drawn from `seed`, plus a lighting gradient and grain.
fn draw_portrait(card: &mut RgbImage, area: Rect, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (w, h) = (area.width() as i32, area.height() as i32);
    let (x0, y0) = (area.left(), area.top());
    let colour = |rng: &mut StdRng, low: u8, high: u8| {
        Rgb([rng.random_range(low..high), rng.random_range(low..high), rng.random_range(low..high)])
    };
    draw_filled_rect_mut(card, area, colour(&mut rng, 150, 245));
    let skin = {
        let base = rng.random_range(90..230u8);
        Rgb([
            base,
            (f32::from(base) * rng.random_range(0.7..0.85)) as u8,
            (f32::from(base) * rng.random_range(0.5..0.75)) as u8,
        ])
    };
    let centre_x = x0 + w / 2 + rng.random_range(-w / 10..=w / 10);
    let head_y = y0 + h * rng.random_range(36..48) / 100;
    let head_rx = w * rng.random_range(22..32) / 100;
    let head_ry = h * rng.random_range(22..30) / 100;
    draw_filled_ellipse_mut(
        card,
        (centre_x, y0 + h),
        w * rng.random_range(40..55) / 100,
        h * rng.random_range(18..30) / 100,
        colour(&mut rng, 10, 200),
    );
    draw_filled_rect_mut(
        card,
        Rect::at(centre_x - head_rx / 3, head_y).of_size((head_rx * 2 / 3) as u32, (head_ry * 3 / 2) as u32),
        skin,
    );
    let hair = colour(&mut rng, 5, 140);
    let hair_style = rng.random_range(0..3);
    if hair_style == 2 {
        draw_filled_ellipse_mut(
            card,
            (centre_x, head_y + head_ry / 3),
            head_rx * 13 / 10,
            head_ry * 13 / 10,
            hair,
        );
    }
    draw_filled_ellipse_mut(card, (centre_x, head_y), head_rx, head_ry, skin);
    if hair_style < 2 {
        draw_filled_ellipse_mut(
            card,
            (centre_x, head_y - head_ry * 2 / 3),
            head_rx * 21 / 20,
            head_ry / (2 + hair_style),
            hair,
        );
    }
    let eye_y = head_y - head_ry / 10 + rng.random_range(-5..=5);
    let eye_dx = head_rx * rng.random_range(35..50) / 100;
    let eye = colour(&mut rng, 10, 90);
    for side in [-1, 1] {
        let eye_x = centre_x + side * eye_dx;
        draw_filled_ellipse_mut(card, (eye_x, eye_y), head_rx / 6, head_ry / 14 + 1, Rgb([240, 240, 240]));
        draw_filled_circle_mut(card, (eye_x, eye_y), head_ry / 16 + 1, eye);
        let brow_y = (eye_y - head_ry / 5) as f32;
        draw_line_segment_mut(
            card,
            ((eye_x - head_rx / 5) as f32, brow_y + rng.random_range(-4.0..4.0)),
            ((eye_x + head_rx / 5) as f32, brow_y),
            hair,
        );
    }
    if rng.random_bool(0.3) {
        for side in [-1, 1] {
            draw_hollow_circle_mut(card, (centre_x + side * eye_dx, eye_y), head_rx / 4, Rgb([20, 20, 20]));
        }
    }
    let nose_bottom = head_y + head_ry * rng.random_range(25..40) / 100;
    let shade = Rgb(skin.0.map(|c| c.saturating_sub(40)));
    draw_line_segment_mut(
        card,
        (centre_x as f32, eye_y as f32),
        (centre_x as f32 + rng.random_range(-6.0..6.0), nose_bottom as f32),
        shade,
    );
    let mouth_y = head_y + head_ry * rng.random_range(55..70) / 100;
    draw_filled_ellipse_mut(
        card,
        (centre_x, mouth_y),
        head_rx * rng.random_range(25..45) / 100,
        rng.random_range(2..7),
        Rgb([150, 60, 60]),
    );
    // Light from one side and film grain, so faces are not flat colour fields.
    let light = rng.random_range(-0.25..0.25f32);
    for y in area.top().max(0)..area.bottom().min(card.height() as i32) {
        for x in area.left().max(0)..area.right().min(card.width() as i32) {
            let across = (x - x0) as f32 / w as f32 - 0.5;
            let gain = 1.0 + light * across;
            let grain = rng.random_range(-6.0..6.0f32);
            let pixel = card.get_pixel_mut(x as u32, y as u32);
            pixel.0 = pixel.0.map(|c| (f32::from(c) * gain + grain).clamp(0.0, 255.0) as u8);
        }
    }
}

/// Makes the portrait in `area` a low-detail photo, one of three ways drawn from `seed`: heavily
/// blurred, dim (a dark room) or washed out (overexposed on a pale backdrop).
fn lose_detail(card: &mut RgbImage, area: Rect, seed: u64) {
    let (left, top) = (area.left().max(0) as u32, area.top().max(0) as u32);
    let width = area.width().min(card.width() - left);
    let height = area.height().min(card.height() - top);
    let portrait = image::imageops::crop_imm(card, left, top, width, height).to_image();
    let (sigma, gain, lift) = match seed % 3 {
        0 => (6.0, 1.0, 0.0),
        1 => (2.5, 0.4, 10.0),
        _ => (3.0, 0.3, 165.0),
    };
    let mut soft = imageproc::filter::gaussian_blur_f32(&portrait, sigma);
    for pixel in soft.pixels_mut() {
        pixel.0 = pixel.0.map(|c| (f32::from(c) * gain + lift).clamp(0.0, 255.0) as u8);
    }
    image::imageops::replace(card, &soft, i64::from(left), i64::from(top));
}

/// Draws `text` in the pseudo-glyph font with blocks of `scale` pixels.
fn draw_text(card: &mut RgbImage, left: i32, top: i32, scale: u32, colour: Rgb<u8>, text: &str) {
    let font = glyphs();
    for (index, ch) in text.chars().enumerate() {
        let Some(glyph) = GLYPH_CHARS.find(ch).map(|i| font[i]) else { continue };
        let glyph_left = left + index as i32 * 6 * scale as i32;
        for row in 0..7 {
            for col in 0..5 {
                if glyph >> (row * 5 + col) & 1 == 1 {
                    let x = glyph_left + col * scale as i32;
                    let y = top + row * scale as i32;
                    draw_filled_rect_mut(card, Rect::at(x, y).of_size(scale, scale), colour);
                }
            }
        }
    }
}

/// The 5×7 pseudo-glyphs, one 35-bit mask per character of `GLYPH_CHARS`.
fn glyphs() -> Vec<u64> {
    let mut rng = StdRng::seed_from_u64(0x6C79_7068);
    GLYPH_CHARS
        .chars()
        .map(|_| (0..35).fold(0u64, |mask, bit| mask | (u64::from(rng.random_bool(0.45)) << bit)))
        .collect()
}

fn random_text(rng: &mut StdRng, length: std::ops::Range<usize>, with_space: bool) -> String {
    let length = rng.random_range(length);
    let space_at = if with_space { rng.random_range(3..length.max(4)) } else { usize::MAX };
    (0..length)
        .map(|i| if i == space_at { ' ' } else { char::from(b'A' + rng.random_range(0..26)) })
        .collect()
}

fn random_digits(rng: &mut StdRng, length: usize) -> String {
    (0..length).map(|_| char::from(b'0' + rng.random_range(0..10))).collect()
}
