//! The capture chain: how a document becomes an upload. A card is photographed by a phone or laid
//! on a scanner (placed on a background, resampled, in perspective; lens blur, sensor noise, the
//! phone's sharpening, the device's JPEG), possibly shown on a screen or printed first, and possibly
//! re-sent through a messaging app. Every evaluation draws its captures from here: the reuse
//! evaluation's transforms ([`super::transforms`]) and its chain captures, the tamper evaluation's
//! captured cards, the quality set's JPEG saves.
//!
//! The parameter ranges are fixed here, before anything is tuned on them, and written down in
//! `docs/evaluation.md`.

use std::ops::RangeInclusive;

use image::imageops::{FilterType, resize};
use image::{GrayImage, Luma, Rgb, RgbImage};
use imageproc::filter::gaussian_blur_f32;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp_into};
use rand::Rng;
use rand::rngs::StdRng;

/// What captures the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// A phone camera held over the card: perspective, a background around it, sharpening.
    Phone,
    /// A flatbed scanner: the card flat on a white bed, little blur and noise, no sharpening.
    Scanner,
}

/// The surface the card lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// White paper or a scanner's bed.
    WhitePaper,
    /// A dark desk.
    DarkDesk,
    /// Wood grain.
    Wood,
    /// A woven cloth.
    Cloth,
}

impl Background {
    /// Every background, for drawing one.
    pub const ALL: [Background; 4] =
        [Background::WhitePaper, Background::DarkDesk, Background::Wood, Background::Cloth];

    fn surface(self, rng: &mut StdRng) -> Box<dyn Fn(u32, u32) -> RgbImage> {
        match self {
            Background::WhitePaper => {
                let level = rng.random_range(228..=250u8);
                Box::new(plain(Rgb([level, level, level.saturating_sub(4)])))
            }
            Background::DarkDesk => {
                let level = rng.random_range(20..=55u8);
                Box::new(plain(Rgb([level, level, level + 5])))
            }
            Background::Wood => Box::new(textured(rng)),
            Background::Cloth => {
                let base =
                    [rng.random_range(40..200u8), rng.random_range(40..200u8), rng.random_range(40..200u8)];
                let period = rng.random_range(3.0..7.0f32);
                Box::new(move |w, h| {
                    RgbImage::from_fn(w, h, |x, y| {
                        let weave = ((x as f32 / period).sin() * (y as f32 / period).cos()) * 18.0;
                        Rgb(base.map(|c| (f32::from(c) + weave).clamp(0.0, 255.0) as u8))
                    })
                })
            }
        }
    }
}

/// One capture's settings, drawn from a device's [`CaptureRanges`].
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSettings {
    /// The device.
    pub device: Device,
    /// The surface around the card.
    pub background: Background,
    /// Long side of the captured frame, px (4:3).
    pub frame_long_side: u32,
    /// Share of the frame's width the card spans.
    pub card_width_share: f32,
    /// In-plane rotation, degrees.
    pub tilt_degrees: f32,
    /// Corner displacement (perspective), as a share of the card's size.
    pub perspective: f32,
    /// Lens blur, Gaussian sigma in frame px.
    pub lens_blur: f32,
    /// Sensor noise at mid-grey, grey levels (shot noise: it grows with the square root of the level).
    pub noise: f32,
    /// Unsharp-mask amount of the phone's processing (0: none).
    pub sharpen: f32,
    /// The device's JPEG quality.
    pub jpeg_quality: u8,
    /// Where the card's centre lies, as a shift from the frame's centre in shares of the frame
    /// (0, 0: centred; a shift past about a third puts part of the card outside: cut off).
    pub centre_shift: (f32, f32),
    /// Motion blur: streak length in frame px (0: none) ...
    pub motion_blur: f32,
    /// ... and its direction, degrees.
    pub motion_angle_degrees: f32,
    /// Exposure change in stops before the sensor's noise (negative: low light).
    pub exposure_stops: f32,
    /// A specular reflection on the card: its centre in the card's unit square and its radius as a
    /// share of the card's height (`None`: no glare).
    pub glare: Option<((f32, f32), f32)>,
}

/// The ranges a device's captures are drawn from (uniformly).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRanges {
    /// Frame long side, px.
    pub frame_long_side: RangeInclusive<u32>,
    /// Card width over frame width.
    pub card_width_share: RangeInclusive<f32>,
    /// Absolute tilt, degrees (either way).
    pub tilt_degrees: RangeInclusive<f32>,
    /// Corner displacement, share of card size.
    pub perspective: RangeInclusive<f32>,
    /// Lens blur sigma, px.
    pub lens_blur: RangeInclusive<f32>,
    /// Noise at mid-grey, levels.
    pub noise: RangeInclusive<f32>,
    /// Sharpening amount.
    pub sharpen: RangeInclusive<f32>,
    /// JPEG quality.
    pub jpeg_quality: RangeInclusive<u8>,
}

impl CaptureRanges {
    /// A phone over the card: KYC SDKs send 1280–2000 px frames, the card filling half to most of
    /// the width, held within ±8° and a few per cent of perspective, with the phone's sharpening
    /// and a JPEG at 80–95.
    pub fn phone() -> Self {
        CaptureRanges {
            frame_long_side: 1280..=2000,
            card_width_share: 0.5..=0.85,
            tilt_degrees: 0.0..=8.0,
            perspective: 0.0..=0.06,
            lens_blur: 0.4..=1.2,
            noise: 1.5..=5.0,
            sharpen: 0.2..=0.8,
            jpeg_quality: 80..=95,
        }
    }

    /// A flatbed scan cropped around the card: nearly all of the frame, at most 2° off, flat, on the
    /// white bed, little blur and noise, no sharpening, a JPEG at 85–95.
    pub fn scanner() -> Self {
        CaptureRanges {
            frame_long_side: 1000..=1400,
            card_width_share: 0.88..=0.97,
            tilt_degrees: 0.0..=2.0,
            perspective: 0.0..=0.0,
            lens_blur: 0.3..=0.7,
            noise: 0.5..=1.5,
            sharpen: 0.0..=0.0,
            jpeg_quality: 85..=95,
        }
    }
}

impl CaptureSettings {
    /// Settings for `device`, drawn from its ranges.
    pub fn draw(device: Device, rng: &mut StdRng) -> Self {
        let ranges = match device {
            Device::Phone => CaptureRanges::phone(),
            Device::Scanner => CaptureRanges::scanner(),
        };
        let background = match device {
            Device::Phone => Background::ALL[rng.random_range(0..Background::ALL.len())],
            Device::Scanner => Background::WhitePaper,
        };
        let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        CaptureSettings {
            device,
            background,
            frame_long_side: rng.random_range(ranges.frame_long_side),
            card_width_share: rng.random_range(ranges.card_width_share),
            tilt_degrees: sign * rng.random_range(ranges.tilt_degrees),
            perspective: rng.random_range(ranges.perspective),
            lens_blur: rng.random_range(ranges.lens_blur),
            noise: rng.random_range(ranges.noise),
            sharpen: rng.random_range(ranges.sharpen),
            jpeg_quality: rng.random_range(ranges.jpeg_quality),
            centre_shift: (0.0, 0.0),
            motion_blur: 0.0,
            motion_angle_degrees: 0.0,
            exposure_stops: 0.0,
            glare: None,
        }
    }
}

/// A captured document: the device's JPEG, its pixels before encoding, and where the card is.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The upload as the device wrote it.
    pub jpeg: Vec<u8>,
    /// The frame before JPEG encoding.
    pub pixels: RgbImage,
    /// The card's corners in the frame (top-left, top-right, bottom-right, bottom-left of the card).
    pub corners: [(f32, f32); 4],
}

/// Captures `card` with `settings`: placed on its background in perspective (a bilinear resampling),
/// a specular reflection when asked, lens blur, motion blur, exposure, sensor noise, the phone's
/// sharpening, the device's JPEG.
pub fn capture(card: &RgbImage, settings: &CaptureSettings, rng: &mut StdRng) -> Captured {
    let width = settings.frame_long_side;
    let height = width * 3 / 4;
    let scale = settings.card_width_share * width as f32 / card.width() as f32;
    let surface = settings.background.surface(rng);
    let centre =
        (width as f32 * (0.5 + settings.centre_shift.0), height as f32 * (0.5 + settings.centre_shift.1));
    let tilt = settings.tilt_degrees.to_radians();
    let mut placed = place_at(card, width, height, centre, scale, tilt, settings.perspective, &*surface, rng);
    if let Some((at, radius)) = settings.glare {
        add_glare(&mut placed, at, radius);
    }
    let mut pixels = gaussian_blur_f32(&placed.image, settings.lens_blur.max(0.01));
    if settings.motion_blur >= 1.0 {
        pixels = motion_blur(&pixels, settings.motion_blur, settings.motion_angle_degrees.to_radians());
    }
    if settings.exposure_stops != 0.0 {
        let gain = 2f32.powf(settings.exposure_stops);
        for pixel in pixels.pixels_mut() {
            pixel.0 = pixel.0.map(|c| (f32::from(c) * gain).round().clamp(0.0, 255.0) as u8);
        }
    }
    add_shot_noise(&mut pixels, settings.noise, rng);
    if settings.sharpen > 0.0 {
        pixels = unsharp(&pixels, settings.sharpen);
    }
    Captured { jpeg: encode_jpeg(&pixels, settings.jpeg_quality), pixels, corners: placed.corners }
}

/// A photo of `image` shown full-screen on a display: the display's RGB sub-pixel stripes, resampled
/// by the camera at a non-integer ratio (moiré), a slightly raised black level, then a phone capture
/// of the screen with a dark bezel around it.
pub fn screen_recapture(image: &RgbImage, rng: &mut StdRng) -> Captured {
    let (width, height) = image.dimensions();
    let shown = RgbImage::from_fn(width * 3, height * 3, |x, y| {
        let pixel = image.get_pixel(x / 3, y / 3).0;
        let lit = match (x % 3, y % 3) {
            (_, 2) => [0, 0, 0],
            (0, _) => [pixel[0], 0, 0],
            (1, _) => [0, pixel[1], 0],
            _ => [0, 0, pixel[2]],
        };
        Rgb(lit.map(|c: u8| 18 + (f32::from(c) * 1.4).min(237.0) as u8))
    });
    let mut settings = CaptureSettings::draw(Device::Phone, rng);
    settings.background = Background::DarkDesk;
    settings.card_width_share = rng.random_range(0.75..=0.95);
    capture(&shown, &settings, rng)
}

/// A print of `image` scanned back: colours through a four-level ordered dither per channel (a
/// printer's halftone), paper white, a little ink spread, then a flatbed scan.
pub fn print_recapture(image: &RgbImage, rng: &mut StdRng) -> Captured {
    const BAYER: [[f32; 4]; 4] =
        [[0.0, 8.0, 2.0, 10.0], [12.0, 4.0, 14.0, 6.0], [3.0, 11.0, 1.0, 9.0], [15.0, 7.0, 13.0, 5.0]];
    let paper = rng.random_range(235.0..250.0f32);
    let printed = RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let threshold = (BAYER[(y % 4) as usize][(x % 4) as usize] + 0.5) / 16.0;
        Rgb(image.get_pixel(x, y).0.map(|c| {
            let level = f32::from(c) / 255.0 * 3.0;
            let quantized = (level.floor() + if level.fract() > threshold { 1.0 } else { 0.0 }) / 3.0;
            (quantized * paper) as u8
        }))
    });
    let spread = gaussian_blur_f32(&printed, rng.random_range(0.6..1.2));
    capture(&spread, &CaptureSettings::draw(Device::Scanner, rng), rng)
}

/// An upload re-sent through a messaging app: decoded, its long side brought down to 1280 px when
/// larger, and re-encoded at quality 40–70 (what such apps do to photos sent as images).
pub fn messaging_app_resave(jpeg: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let image = image::load_from_memory(jpeg).expect("a capture decodes").to_rgb8();
    let (width, height) = image.dimensions();
    let long_side = width.max(height);
    let image = if long_side > 1280 {
        let scale = 1280.0 / long_side as f32;
        let size = |v: u32| ((v as f32 * scale).round() as u32).max(1);
        resize(&image, size(width), size(height), FilterType::Triangle)
    } else {
        image
    };
    encode_jpeg(&image, rng.random_range(40..=70))
}

/// A specular reflection on the placed card: a white spot with a soft edge, centred at `at` in the
/// card's unit square, `radius` a share of the card's height.
fn add_glare(placed: &mut Placed, at: (f32, f32), radius: f32) {
    let Some(to_frame) =
        Projection::from_control_points([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)], placed.corners)
    else {
        return;
    };
    let centre = to_frame * at;
    let [a, _, _, d] = placed.corners;
    let radius = radius * (d.0 - a.0).hypot(d.1 - a.1);
    for (x, y, pixel) in placed.image.enumerate_pixels_mut() {
        let distance = (x as f32 - centre.0).hypot(y as f32 - centre.1) / radius.max(1.0);
        let weight = (1.5 - distance).clamp(0.0, 1.0);
        if weight > 0.0 {
            pixel.0 = pixel.0.map(|c| (f32::from(c) * (1.0 - weight) + 255.0 * weight) as u8);
        }
    }
}

/// A straight motion streak of `length` px at `angle` radians: the mean of the image shifted along
/// the streak (a box kernel on a line, sampled every pixel, edges clamped).
fn motion_blur(image: &RgbImage, length: f32, angle: f32) -> RgbImage {
    let taps = length.round().max(1.0) as i32;
    let (dx, dy) = (angle.cos(), angle.sin());
    let (width, height) = (image.width() as i32, image.height() as i32);
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let mut sum = [0f32; 3];
        for tap in 0..taps {
            let t = tap as f32 - (taps - 1) as f32 / 2.0;
            let sx = (x as f32 + t * dx).round().clamp(0.0, (width - 1) as f32) as u32;
            let sy = (y as f32 + t * dy).round().clamp(0.0, (height - 1) as f32) as u32;
            let p = image.get_pixel(sx, sy).0;
            for c in 0..3 {
                sum[c] += f32::from(p[c]);
            }
        }
        Rgb(sum.map(|v| (v / taps as f32).round() as u8))
    })
}

/// Adds sensor noise: per-pixel Gaussian noise of `sigma` grey levels, the same in the three channels.
pub fn add_noise(image: &mut RgbImage, sigma: f32, rng: &mut StdRng) {
    for pixel in image.pixels_mut() {
        let n = gaussian(rng) * sigma;
        pixel.0 = pixel.0.map(|c| (f32::from(c) + n).round().clamp(0.0, 255.0) as u8);
    }
}

/// Shot noise: Gaussian noise of `sigma` at mid-grey, growing with the square root of the level,
/// drawn for each channel (a sensor's colour noise).
fn add_shot_noise(image: &mut RgbImage, sigma: f32, rng: &mut StdRng) {
    for pixel in image.pixels_mut() {
        pixel.0 = pixel.0.map(|c| {
            let level = f32::from(c);
            let n = gaussian(rng) * sigma * (level.max(1.0) / 128.0).sqrt();
            (level + n).round().clamp(0.0, 255.0) as u8
        });
    }
}

/// A phone's sharpening: `image + amount · (image − blur(image))`, radius 1 px.
fn unsharp(image: &RgbImage, amount: f32) -> RgbImage {
    let blurred = gaussian_blur_f32(image, 1.0);
    let mut out = image.clone();
    for (pixel, soft) in out.pixels_mut().zip(blurred.pixels()) {
        for (c, s) in pixel.0.iter_mut().zip(soft.0) {
            let sharp = f32::from(*c) + amount * (f32::from(*c) - f32::from(s));
            *c = sharp.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Baseline JPEG of `image` at `quality`.
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(image)
        .expect("JPEG encoding to memory");
    bytes
}

pub(crate) fn plain(colour: Rgb<u8>) -> impl Fn(u32, u32) -> RgbImage {
    move |w, h| RgbImage::from_pixel(w, h, colour)
}

/// A wood-grain-like surface: stripes with noise.
pub(crate) fn textured(rng: &mut StdRng) -> impl Fn(u32, u32) -> RgbImage + use<> {
    let base = [rng.random_range(60..200), rng.random_range(50..160), rng.random_range(30..120)];
    let period = rng.random_range(8.0..40.0f32);
    let slant = rng.random_range(-0.5..0.5f32);
    move |w, h| {
        RgbImage::from_fn(w, h, |x, y| {
            let stripe = ((x as f32 + slant * y as f32) / period).sin() * 25.0;
            let speckle = ((x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 23) as f32 - 11.0;
            Rgb(base.map(|c: u8| (f32::from(c) + stripe + speckle).clamp(0.0, 255.0) as u8))
        })
    }
}

/// A card placed on a background, and where its corners landed.
pub(crate) struct Placed {
    /// The canvas.
    pub(crate) image: RgbImage,
    /// The card's corners on it (top-left, top-right, bottom-right, bottom-left of the card).
    pub(crate) corners: [(f32, f32); 4],
}

/// `card` on a `canvas_width` × `canvas_height` background, scaled, turned by `tilt` radians and with
/// each corner moved by up to `jitter` of the card size.
#[allow(clippy::too_many_arguments)]
pub(crate) fn place(
    card: &RgbImage,
    canvas_width: u32,
    canvas_height: u32,
    scale: f32,
    tilt: f32,
    jitter: f32,
    background: &dyn Fn(u32, u32) -> RgbImage,
    rng: &mut StdRng,
) -> Placed {
    let centre = (canvas_width as f32 / 2.0, canvas_height as f32 / 2.0);
    place_at(card, canvas_width, canvas_height, centre, scale, tilt, jitter, background, rng)
}

/// [`place`] with the card's centre at `centre` instead of the canvas's.
#[allow(clippy::too_many_arguments)]
fn place_at(
    card: &RgbImage,
    canvas_width: u32,
    canvas_height: u32,
    (cx, cy): (f32, f32),
    scale: f32,
    tilt: f32,
    jitter: f32,
    background: &dyn Fn(u32, u32) -> RgbImage,
    rng: &mut StdRng,
) -> Placed {
    let (w, h) = (card.width() as f32, card.height() as f32);
    let (sin, cos) = tilt.sin_cos();
    let corners = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)].map(|(u, v): (f32, f32)| {
        let (x, y) = (u * w * scale, v * h * scale);
        let jx = rng.random_range(-jitter..=jitter) * w * scale;
        let jy = rng.random_range(-jitter..=jitter) * h * scale;
        (cx + x * cos - y * sin + jx, cy + x * sin + y * cos + jy)
    });
    let source = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut out = background(canvas_width, canvas_height);
    let projection = Projection::from_control_points(source, corners).expect("corners of a convex quad");
    let mut warped = RgbImage::new(canvas_width, canvas_height);
    warp_into(card, projection, Interpolation::Bilinear, Border::Constant(Rgb([0, 0, 0])), &mut warped);
    let mut mask = GrayImage::new(canvas_width, canvas_height);
    let card_mask = GrayImage::from_pixel(card.width(), card.height(), Luma([255]));
    warp_into(&card_mask, projection, Interpolation::Nearest, Border::Constant(Luma([0])), &mut mask);
    for ((pixel, placed), inside) in out.pixels_mut().zip(warped.pixels()).zip(mask.pixels()) {
        if inside.0[0] > 0 {
            *pixel = *placed;
        }
    }
    Placed { image: out, corners }
}

/// A standard normal draw (Box-Muller).
pub(crate) fn gaussian(rng: &mut StdRng) -> f32 {
    let u: f32 = rng.random_range(f32::EPSILON..1.0);
    let v: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::{DecodeLimits, decode};
    use crate::analysis::quality::compression::estimate_jpeg_quality;
    use rand::SeedableRng;

    fn card() -> RgbImage {
        RgbImage::from_fn(400, 252, |x, y| Rgb([(x % 200) as u8 + 40, (y % 100) as u8 + 80, 150]))
    }

    #[test]
    fn phone_and_scanner_captures_keep_the_card_in_a_frame_of_their_ranges() {
        let mut rng = StdRng::seed_from_u64(3);
        for device in [Device::Phone, Device::Scanner, Device::Phone, Device::Scanner] {
            let settings = CaptureSettings::draw(device, &mut rng);
            let ranges =
                if device == Device::Phone { CaptureRanges::phone() } else { CaptureRanges::scanner() };
            assert!(ranges.frame_long_side.contains(&settings.frame_long_side));
            assert!(ranges.jpeg_quality.contains(&settings.jpeg_quality));
            let captured = capture(&card(), &settings, &mut rng);
            let decoded = decode(&captured.jpeg, &DecodeLimits::default()).unwrap();
            assert_eq!(
                decoded.rgb.dimensions(),
                (settings.frame_long_side, settings.frame_long_side * 3 / 4)
            );
            let (width, height) = (decoded.rgb.width() as f32, decoded.rgb.height() as f32);
            assert!(
                captured
                    .corners
                    .iter()
                    .all(|&(x, y)| (0.0..width).contains(&x) && (0.0..height).contains(&y))
            );
            let span = captured.corners[1].0 - captured.corners[0].0;
            let expected = settings.card_width_share * width;
            assert!((span - expected).abs() < 0.15 * expected, "{span} vs {expected}");
            let estimate = estimate_jpeg_quality(&decoded.container.jpeg.unwrap().quant_tables).unwrap();
            assert_eq!(estimate.quality, settings.jpeg_quality);
        }
    }

    #[test]
    fn sensor_noise_grows_with_the_level_and_sharpening_raises_edges() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut patches =
            RgbImage::from_fn(200, 100, |x, _| if x < 100 { Rgb([16; 3]) } else { Rgb([224; 3]) });
        add_shot_noise(&mut patches, 6.0, &mut rng);
        let deviation = |from: u32| {
            let values: Vec<f32> = (from..from + 100)
                .flat_map(|x| (0..100).map(move |y| (x, y)))
                .map(|(x, y)| f32::from(patches.get_pixel(x, y)[0]))
                .collect();
            let mean = values.iter().sum::<f32>() / values.len() as f32;
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt()
        };
        assert!(deviation(100) > 2.5 * deviation(0), "{} vs {}", deviation(100), deviation(0));

        let step = RgbImage::from_fn(20, 4, |x, _| if x < 10 { Rgb([60; 3]) } else { Rgb([180; 3]) });
        let sharpened = unsharp(&step, 0.8);
        assert!(sharpened.get_pixel(10, 1)[0] > 180 && sharpened.get_pixel(9, 1)[0] < 60);
    }

    #[test]
    fn a_messaging_app_shrinks_and_recompresses_and_recaptures_decode() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut settings = CaptureSettings::draw(Device::Phone, &mut rng);
        settings.frame_long_side = 1900;
        let photo = capture(&card(), &settings, &mut rng);
        let sent = messaging_app_resave(&photo.jpeg, &mut rng);
        let decoded = decode(&sent, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.rgb.width(), 1280);
        let quality = estimate_jpeg_quality(&decoded.container.jpeg.unwrap().quant_tables).unwrap().quality;
        assert!((40..=70).contains(&quality), "{quality}");
        for recaptured in [screen_recapture(&card(), &mut rng), print_recapture(&card(), &mut rng)] {
            assert!(decode(&recaptured.jpeg, &DecodeLimits::default()).is_ok());
        }
    }
}
