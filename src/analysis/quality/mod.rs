//! The quality gate: is the image good enough to verify a document from?
//!
//! Every measure is taken once on a working plane (see [`crate::analysis::decode::planes`]), inside
//! the document's area (see [`document`]: the located outline, else where the print lies, else the
//! frame, reported as `measured_on`), and reported as a metric, fired or not; findings carry the
//! measured value, the threshold and a hint for the user. Thresholds and their calibration notes
//! live in `models/quality.toml`.

pub mod border;
pub mod compression;
pub mod document;
pub mod measures;
pub mod motion;
pub mod screen;
mod thresholds;

use crate::analysis::decode::planes::WorkingPlanes;
use image::Pixel as _;

use crate::analysis::decode::{DecodedDocument, ImageFormat};
use crate::domain::findings::{Evidence, Finding, ReasonCode, Region};
use border::foreign_runs;
use compression::QualityEstimate;
use document::{DocumentArea, MeasuredOn};
use measures::{GlareBlob, GlareCriteria, Histogram, chroma, glare_blobs, laplacian_stats};
use motion::{DirectionalSharpness, directional_sharpness};
use screen::{ScreenPattern, screen_pattern};
pub use thresholds::{
    BlurThresholds, CompressionThresholds, ContrastThresholds, DocumentThresholds, ExposureThresholds,
    FrameBorderThresholds, GlareThresholds, GrayscaleThresholds, QualityConfigError, QualityThresholds,
    ResolutionThresholds, ScreenRecaptureThresholds, ScreenshotThresholds,
};

/// Every quality measurement and the findings they produced.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// All measurements, fired or not.
    pub metrics: Vec<Evidence>,
    /// The findings.
    pub findings: Vec<Finding>,
}

/// How far past a threshold a value lies, as a finding score in 0.5..=1: 0.5 just past it, 1 at
/// `span` beyond.
fn score_past(value: f64, threshold: f64, span: f64) -> f64 {
    0.5 + 0.5 * ((value - threshold).abs() / span.max(f64::EPSILON)).min(1.0)
}

fn quality_finding(
    code: ReasonCode,
    score: f64,
    message: &str,
    hint: &str,
    evidence: Vec<Evidence>,
) -> Finding {
    let mut finding = Finding::new(code, score, message, evidence);
    finding.hint = Some(hint.to_owned());
    finding.retryable = true;
    finding
}

/// Fewest spectral patches the screen measure is read on inside the document before it falls back
/// to the frame.
const MIN_SCREEN_PATCHES: usize = 4;

/// Everything the checks read, measured once per upload.
struct Measures {
    width: u32,
    height: u32,
    /// Box-averaging factor of the working plane.
    factor: u32,
    /// Where the measures were taken.
    area: DocumentArea,
    /// The document's long side, image pixels.
    document_long_side: f64,
    /// Laplacian focus normalised to a nominal contrast.
    focus: f64,
    /// Sharpness in the least sharp direction (`None`: no print to read it on).
    directional: Option<DirectionalSharpness>,
    /// Share of perfectly flat working-plane pixels.
    flat_share: f64,
    luma_median: f64,
    luma_p95: f64,
    /// 5–95 percentile luma spread.
    spread: f64,
    clipped_bright: f64,
    glare_blobs: Vec<GlareBlob>,
    glare_share: f64,
    /// Some glare blob lies on or next to print.
    glare_on_print: bool,
    chroma_mean: f64,
    chroma_p99: f64,
    screen: ScreenPattern,
    jpeg_quality: Option<QualityEstimate>,
    camera_make: Option<String>,
    lossless: bool,
}

impl Measures {
    fn take(
        document: &DecodedDocument,
        planes: &WorkingPlanes,
        outline: Option<&[(f32, f32); 4]>,
        thresholds: &QualityThresholds,
    ) -> Self {
        let (width, height) = document.rgb.dimensions();
        let laplacian = laplacian_stats(&planes.luma);
        let border = || foreign_runs(&planes.rgb, &thresholds.frame_border);
        let area = DocumentArea::find(
            outline,
            &laplacian,
            (&border, &thresholds.frame_border),
            &thresholds.document,
        );
        let plane_width = planes.luma.width() as usize;
        let inside_rows = || {
            (0..planes.luma.height())
                .filter_map(|y| area.row_span(y).map(|(x0, x1)| (y as usize, x0 as usize, x1 as usize)))
        };
        let luma = Histogram::of(inside_rows().flat_map(|(y, x0, x1)| {
            planes.luma.as_raw()[y * plane_width + x0..y * plane_width + x1].iter().copied()
        }));
        let spread = luma.percentile(0.95) - luma.percentile(0.05);
        // The document's tiles; their sharpest tenth holds its print.
        let inside = |i: u32, j: u32| area.contains_box(laplacian.tile_bounds(i, j));
        // The Laplacian's variance grows with the square of contrast; normalised to a nominal 5-95 %
        // spread, focus says how sharp the image is, not how contrasty.
        let blur = &thresholds.blur;
        let raw_focus = laplacian.focus(inside);
        let focus = raw_focus * (blur.nominal_spread / spread.max(blur.min_normalising_spread)).powi(2);
        let print_boxes: Vec<_> = (0..laplacian.tiles_y)
            .flat_map(|j| (0..laplacian.tiles_x).map(move |i| (i, j)))
            .filter(|&(i, j)| {
                inside(i, j)
                    && raw_focus > 0.0
                    && laplacian.variances[(j * laplacian.tiles_x + i) as usize] >= raw_focus
            })
            .map(|(i, j)| laplacian.tile_bounds(i, j))
            .collect();
        let directional = directional_sharpness(&planes.luma, &print_boxes);
        let chromas = Histogram::of(inside_rows().flat_map(|(y, x0, x1)| {
            planes.rgb.as_raw()[3 * (y * plane_width + x0)..3 * (y * plane_width + x1)]
                .chunks_exact(3)
                .map(|p| chroma(image::Rgb::from_slice(p)))
        }));
        let working_area = f64::from(planes.luma.width()) * f64::from(planes.luma.height());
        let glare = &thresholds.glare;
        let criteria = GlareCriteria {
            min_luma: glare.min_luma,
            max_chroma: glare.max_chroma,
            min_area: (glare.min_blob_share * area.pixels as f64).ceil().max(1.0) as u32,
            max_area: (glare.max_blob_share * working_area) as u32,
            min_halo_falloff: glare.min_halo_falloff,
            halo_headroom_share: glare.halo_headroom_share,
            core_luma: glare.core_luma,
            min_core_share: glare.min_core_share,
        };
        let glare_blobs = glare_blobs(&planes.rgb, &planes.luma, &criteria, |x, y| area.contains_point(x, y));
        let glare_share =
            glare_blobs.iter().map(|blob| f64::from(blob.area)).sum::<f64>() / area.pixels as f64;
        let glare_on_print = glare_blobs.iter().any(|blob| {
            let (x, y, w, h) = blob.bounds;
            area.print_near(x + w / 2, y + h / 2)
        });
        let factor = planes.factor;
        let (ax0, ay0, ax1, ay1) = area.bounds();
        let mut screen = screen_pattern(
            &document.rgb,
            (ax0 * factor, ay0 * factor, (ax1 * factor).min(width), (ay1 * factor).min(height)),
        );
        if screen.patches < MIN_SCREEN_PATCHES {
            // A print box too small to read (a dim screen's faint print): the frame's middle.
            screen = screen_pattern(&document.rgb, (0, 0, width, height));
        }
        Measures {
            width,
            height,
            factor,
            document_long_side: area.long_side() * f64::from(factor),
            area,
            focus,
            directional,
            flat_share: laplacian.flat_share,
            luma_median: luma.percentile(0.5),
            luma_p95: luma.percentile(0.95),
            spread,
            clipped_bright: luma.share_at_least(thresholds.exposure.clipped_luma),
            glare_blobs,
            glare_share,
            glare_on_print,
            chroma_mean: chromas.mean(),
            chroma_p99: chromas.percentile(0.99),
            screen,
            jpeg_quality: document
                .container
                .jpeg
                .as_ref()
                .and_then(|jpeg| compression::estimate_jpeg_quality(&jpeg.quant_tables)),
            camera_make: document
                .container
                .exif
                .as_ref()
                .and_then(|exif| exif.get_field(exif::Tag::Make, exif::In::PRIMARY))
                .map(|field| field.display_value().to_string().trim_matches('"').trim().to_owned())
                .filter(|make| !make.is_empty()),
            lossless: matches!(document.format, ImageFormat::Png | ImageFormat::Tiff),
        }
    }

    /// Every measurement, reported whether or not a check fires.
    fn metrics(&self) -> Vec<Evidence> {
        let mut metrics = vec![
            Evidence::text("measured_on", self.area.measured_on.as_str()),
            Evidence::number("long_side_px", f64::from(self.long_side())),
            Evidence::number("document_long_side_px", self.document_long_side),
            Evidence::number("working_factor", f64::from(self.factor)),
            Evidence::number("focus", self.focus),
            Evidence::number("luma_median", self.luma_median),
            Evidence::number("luma_p95", self.luma_p95),
            Evidence::number("luma_spread_p5_p95", self.spread),
            Evidence::number("clipped_bright_share", self.clipped_bright),
            Evidence::number("glare_share", self.glare_share),
            Evidence::number("chroma_mean", self.chroma_mean),
            Evidence::number("chroma_p99", self.chroma_p99),
            Evidence::number("flat_share", self.flat_share),
            Evidence::number("screen_peak", self.screen.peak),
        ];
        if self.area.measured_on == MeasuredOn::DocumentOutline {
            // An ID-1 card is 85.6 mm wide.
            metrics.push(Evidence::number("document_px_per_mm_id1", self.document_long_side / 85.6));
        }
        if let Some(directional) = self.directional {
            metrics.push(Evidence::number("directional_sharpness", directional.sharpness));
            metrics.push(Evidence::number("blur_anisotropy", directional.anisotropy));
            metrics.push(Evidence::number("blur_length_px", self.streak_length(&directional)));
        }
        if let Some(estimate) = self.jpeg_quality {
            metrics.push(Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)));
            metrics.push(Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg));
        }
        metrics
    }

    /// A streak's length in image pixels.
    fn streak_length(&self, directional: &DirectionalSharpness) -> f64 {
        directional.streak_length * f64::from(self.factor)
    }

    fn long_side(&self) -> u32 {
        self.width.max(self.height)
    }

    fn dark(&self, exposure: &ExposureThresholds) -> bool {
        self.luma_p95 <= exposure.dark_max_p95 || self.luma_median <= exposure.dark_max_median
    }

    fn overexposed(&self, exposure: &ExposureThresholds) -> bool {
        self.clipped_bright >= exposure.overexposed_min_clipped
    }

    /// The document's area can be judged (cut off, too small): an outline or the frame always; a
    /// print area only on a well-exposed image, where print is not faint and its box not too small.
    fn area_trusted(&self, exposure: &ExposureThresholds) -> bool {
        self.area.measured_on != MeasuredOn::PrintArea || self.well_exposed(exposure)
    }

    /// Focus and contrast are unreliable on a badly exposed image; its exposure finding says why.
    fn well_exposed(&self, exposure: &ExposureThresholds) -> bool {
        !self.dark(exposure) && !self.overexposed(exposure)
    }
}

/// One check of the gate: the measures and thresholds in, a finding out when it fires.
type Check = fn(&Measures, &QualityThresholds) -> Option<Finding>;

/// The checks, in the order their findings are reported.
const CHECKS: [Check; 11] = [
    document_cut_off,
    low_resolution,
    dark,
    overexposed,
    blur,
    low_contrast,
    glare,
    grayscale_copy,
    heavy_compression,
    screenshot,
    screen_recapture,
];

fn document_cut_off(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    if m.area.cut_off.is_empty() || !m.area_trusted(&t.exposure) {
        return None;
    }
    let sides: Vec<&str> = m.area.cut_off.iter().map(|side| side.as_str()).collect();
    let sides = sides.join(" and ");
    let corners =
        m.area.corners.map(|(x, y)| format!("({:.0}, {:.0})", x * m.factor as f32, y * m.factor as f32));
    Some(quality_finding(
        ReasonCode::QualityDocumentCutOff,
        0.5 + 0.25 * m.area.cut_off.len().min(2) as f64,
        "part of the document is outside the photo",
        &t.document.cut_off_hint.replace("{sides}", &sides),
        vec![
            Evidence::text("sides_cut_off", sides),
            Evidence::text("measured_on", m.area.measured_on.as_str()),
            Evidence::text("document_corners_px", corners.join(" ")),
            Evidence::number("border_foreign_run", m.area.border_run),
        ],
    ))
}

fn low_resolution(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let min_long = f64::from(t.resolution.min_long_side);
    (m.area_trusted(&t.exposure) && m.document_long_side < min_long).then(|| {
        quality_finding(
            ReasonCode::QualityLowResolution,
            score_past(m.document_long_side, min_long, min_long / 2.0),
            "too few pixels across the document to read it",
            &t.resolution.hint,
            vec![
                Evidence::number("document_long_side_px", m.document_long_side),
                Evidence::text("measured_on", m.area.measured_on.as_str()),
                Evidence::number("threshold", min_long),
            ],
        )
    })
}

fn dark(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let exposure = &t.exposure;
    m.dark(exposure).then(|| {
        quality_finding(
            ReasonCode::QualityDark,
            score_past(m.luma_p95, exposure.dark_max_p95, exposure.dark_max_p95),
            "the image is too dark: even its brightest parts are dim",
            &exposure.dark_hint,
            vec![
                Evidence::number("luma_p95", m.luma_p95),
                Evidence::number("threshold_p95", exposure.dark_max_p95),
                Evidence::number("luma_median", m.luma_median),
                Evidence::number("threshold_median", exposure.dark_max_median),
            ],
        )
    })
}

fn overexposed(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let exposure = &t.exposure;
    m.overexposed(exposure).then(|| {
        let mut finding = quality_finding(
            ReasonCode::QualityOverexposed,
            score_past(
                m.clipped_bright,
                exposure.overexposed_min_clipped,
                1.0 - exposure.overexposed_min_clipped,
            ),
            "large parts of the image are blown out to white",
            &exposure.overexposed_hint,
            vec![
                Evidence::number("clipped_bright_share", m.clipped_bright),
                Evidence::number("threshold", exposure.overexposed_min_clipped),
                Evidence::text("measured_on", m.area.measured_on.as_str()),
            ],
        );
        // Over a scene with no document found in it, the white may be a sky or a window.
        finding.scene_may_explain = m.area.is_scene();
        finding
    })
}

fn blur(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let blur = &t.blur;
    if !m.well_exposed(&t.exposure) {
        return None;
    }
    // A streak: unsharp in one direction, much sharper across it (defocus is the same every way and
    // is the Laplacian focus's to find).
    let smeared = m.directional.filter(|d| {
        d.sharpness < blur.min_directional_sharpness && d.anisotropy < blur.max_streak_anisotropy
    });
    if m.focus >= blur.min_focus && smeared.is_none() {
        return None;
    }
    let mut evidence = vec![
        Evidence::number("focus", m.focus),
        Evidence::number("threshold", blur.min_focus),
        Evidence::number("working_factor", f64::from(m.factor)),
        Evidence::text("measured_on", m.area.measured_on.as_str()),
    ];
    if let Some(directional) = m.directional {
        evidence.extend([
            Evidence::number("directional_sharpness", directional.sharpness),
            Evidence::number("threshold_directional_sharpness", blur.min_directional_sharpness),
            Evidence::number("threshold_anisotropy", blur.max_streak_anisotropy),
            Evidence::number("blur_anisotropy", directional.anisotropy),
            Evidence::number("blur_direction_degrees", directional.direction_degrees),
            Evidence::number("blur_length_px", m.streak_length(&directional)),
        ]);
    }
    let score = match smeared {
        Some(directional) => {
            score_past(directional.sharpness, blur.min_directional_sharpness, blur.min_directional_sharpness)
        }
        None => score_past(m.focus, blur.min_focus, blur.min_focus),
    };
    let mut finding = quality_finding(
        ReasonCode::QualityBlur,
        score,
        "the document is out of focus or motion-blurred",
        &blur.hint,
        evidence,
    );
    // The sharpest parts of the frame out of focus is no scene's doing; a streak over a scene with no
    // document found in it may be the scene's or the camera's softness in one direction.
    finding.scene_may_explain = m.focus >= blur.min_focus && m.area.is_scene();
    Some(finding)
}

fn low_contrast(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let min_spread = t.contrast.min_spread;
    (m.well_exposed(&t.exposure) && m.spread < min_spread).then(|| {
        quality_finding(
            ReasonCode::QualityLowContrast,
            score_past(m.spread, min_spread, min_spread),
            "the image has too little contrast to read",
            &t.contrast.hint,
            vec![Evidence::number("luma_spread_p5_p95", m.spread), Evidence::number("threshold", min_spread)],
        )
    })
}

fn glare(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let glare = &t.glare;
    if m.overexposed(&t.exposure) || m.glare_share < glare.min_share {
        return None;
    }
    let mut finding = quality_finding(
        ReasonCode::QualityGlare,
        score_past(m.glare_share, glare.min_share, glare.score_full_share),
        "a light reflection covers part of the document",
        &glare.hint,
        vec![
            Evidence::number("glare_share", m.glare_share),
            Evidence::number("threshold", glare.min_share),
            Evidence::number("blobs", m.glare_blobs.len() as f64),
            Evidence::flag("on_print", m.glare_on_print),
            Evidence::text("measured_on", m.area.measured_on.as_str()),
        ],
    );
    let factor = m.factor;
    finding.regions = m
        .glare_blobs
        .iter()
        .map(|blob| {
            let (x, y, w, h) = blob.bounds;
            Region {
                x: x * factor,
                y: y * factor,
                width: w * factor,
                height: h * factor,
                label: "glare".into(),
            }
        })
        .collect();
    Some(finding)
}

fn grayscale_copy(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let gray = &t.grayscale;
    (m.chroma_mean <= gray.max_mean_chroma && m.chroma_p99 <= gray.max_p99_chroma).then(|| {
        quality_finding(
            ReasonCode::QualityGrayscaleCopy,
            score_past(m.chroma_mean, gray.max_mean_chroma, gray.max_mean_chroma),
            "a black-and-white copy, where a colour photo of the document is expected",
            &gray.hint,
            vec![
                Evidence::number("chroma_mean", m.chroma_mean),
                Evidence::number("chroma_p99", m.chroma_p99),
                Evidence::number("threshold_mean", gray.max_mean_chroma),
                Evidence::number("threshold_p99", gray.max_p99_chroma),
            ],
        )
    })
}

fn heavy_compression(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let estimate = m.jpeg_quality?;
    let min_quality = t.compression.min_jpeg_quality;
    (estimate.quality < min_quality).then(|| {
        quality_finding(
            ReasonCode::QualityHeavyCompression,
            score_past(f64::from(estimate.quality), f64::from(min_quality), f64::from(min_quality)),
            "the JPEG is so compressed that detail and forensic traces are lost",
            &t.compression.hint,
            vec![
                Evidence::number("jpeg_quality_estimate", f64::from(estimate.quality)),
                Evidence::flag("jpeg_tables_ijg_exact", estimate.exact_ijg),
                Evidence::number("threshold", f64::from(min_quality)),
            ],
        )
    })
}

fn screenshot(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let screen = &t.screenshot;
    let (width, height) = (m.width, m.height);
    let screen_sized =
        screen.screen_sizes.iter().any(|&(w, h)| (w, h) == (width, height) || (h, w) == (width, height));
    (m.camera_make.is_none() && screen_sized && m.flat_share >= screen.min_flat_share).then(|| {
        quality_finding(
            ReasonCode::QualityScreenshot,
            score_past(m.flat_share, screen.min_flat_share, 1.0 - screen.min_flat_share),
            "a screen capture rather than a photo of the document",
            &screen.hint,
            vec![
                Evidence::flag("camera_metadata", false),
                Evidence::text("dimensions", format!("{width}x{height}")),
                Evidence::flag("screen_sized", true),
                Evidence::number("flat_share", m.flat_share),
                Evidence::number("threshold", screen.min_flat_share),
                Evidence::flag("lossless_format", m.lossless),
            ],
        )
    })
}

fn screen_recapture(m: &Measures, t: &QualityThresholds) -> Option<Finding> {
    let screen = &t.screen_recapture;
    // A display's sub-pixels are coloured; a grey photocopy's halftone peaks too, but without colour.
    let coloured = m.chroma_p99 > t.grayscale.max_p99_chroma;
    // A median over fewer patches (a small image) is one patch's noise, not a grid over the document.
    let readable = m.screen.patches >= MIN_SCREEN_PATCHES;
    (coloured && readable && m.screen.peak >= screen.min_peak).then(|| {
        quality_finding(
            ReasonCode::QualityScreenRecapture,
            score_past(m.screen.peak, screen.min_peak, screen.min_peak),
            "a photo of a screen showing the document, not of the document itself",
            &screen.hint,
            vec![
                Evidence::number("screen_peak", m.screen.peak),
                Evidence::number("threshold", screen.min_peak),
                Evidence::number("patches", m.screen.patches as f64),
                Evidence::number("chroma_p99", m.chroma_p99),
            ],
        )
    })
}

/// Runs every quality check on a decoded upload, its working planes (made with
/// `thresholds.working_long_side`) and the located document's `outline` on them (`None`: not
/// located).
pub fn assess_quality(
    document: &DecodedDocument,
    planes: &WorkingPlanes,
    outline: Option<&[(f32, f32); 4]>,
    thresholds: &QualityThresholds,
) -> QualityReport {
    let measures = Measures::take(document, planes, outline, thresholds);
    QualityReport {
        metrics: measures.metrics(),
        findings: CHECKS.iter().filter_map(|check| check(&measures, thresholds)).collect(),
    }
}

#[cfg(test)]
mod tests;
