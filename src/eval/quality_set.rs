//! `idforensics make-quality-set`: a quality evaluation set made by degrading good originals.
//!
//! Every good original (labels `pristine`, `reference-hq`, `id-document`, `good`) of the source
//! folders is copied byte for byte as `good` when its long side reaches the resolution anchor, and
//! degraded in the ways the gate must catch. Originals below the anchor are real low-resolution
//! images and are copied as `low-quality-lowres`. The metadata-only stubs (under 64 px) are skipped.
//!
//! A source label says where a file came from, not how good it is ("pristine" means unedited, and
//! a pristine night shot is still too dark to verify a document from). A review file
//! (`testdata/quality-review.tsv`: `file`, `label`, `reason`) gives such originals the label a
//! person gave them after looking; they are copied under that label and not degraded.
//! Deterministic: the same sources give the same set.
//!
//! `--half tuning` or `--half reporting` keeps one half of the originals, split by file (the first
//! byte of the SHA-256 of the file's path in its manifest, even or odd), so thresholds can be set on
//! one half and reported on the other.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use image::{Rgb, RgbImage};

use super::synthetic::capture::encode_jpeg;
use super::{Expectation, LabelledFile, ManifestError, expectation, read_labelled};
use crate::analysis::decode::{DecodeLimits, decode};

/// One half of the originals, split by file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Half {
    /// Paths whose SHA-256 starts with an even byte: thresholds are set on these.
    Tuning,
    /// The others: figures are reported on these.
    Reporting,
}

impl Half {
    /// Whether the file at `path` (as its manifest lists it) belongs to this half.
    pub fn holds(self, path: &str) -> bool {
        use sha2::Digest;
        let even = sha2::Sha256::digest(path.as_bytes())[0] % 2 == 0;
        even == (self == Half::Tuning)
    }
}

/// Originals whose long side is below this are real low-resolution images (the Acuant anchor).
const RESOLUTION_ANCHOR: u32 = 600;
/// Smaller originals are metadata stubs, not photos.
const MIN_SIDE: u32 = 64;
/// Quality of the JPEG every lossless degradation is saved at: high enough not to be a finding.
const SAVE_QUALITY: u8 = 92;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualitySetSummary {
    /// Good originals degraded.
    pub originals: usize,
    /// Files written (originals included).
    pub files: usize,
}

/// A set that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QualitySetError {
    /// A source manifest is unusable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One way of degrading an image, with the label it should earn.
struct Degradation {
    name: String,
    label: &'static str,
    apply: Box<dyn Fn(&RgbImage) -> Output>,
}

enum Output {
    /// Saved as JPEG at [`SAVE_QUALITY`].
    Pixels(RgbImage),
    /// Saved as JPEG at this quality.
    Jpeg(RgbImage, u8),
}

/// Scales sRGB values as an exposure change of `stops` would (in linear light, gamma 2.2).
fn expose(image: &RgbImage, stops: f64) -> RgbImage {
    let gain = 2f64.powf(stops).powf(1.0 / 2.2);
    map_channels(image, |v| v * gain)
}

fn map_channels(image: &RgbImage, f: impl Fn(f64) -> f64) -> RgbImage {
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        *pixel = Rgb(pixel.0.map(|c| f(f64::from(c)).round().clamp(0.0, 255.0) as u8));
    }
    out
}

/// Adds elliptical specular spots with a Gaussian fall-off, centred well inside the image.
fn add_glare(image: &RgbImage, spots: u32, seed: u64) -> RgbImage {
    let (width, height) = image.dimensions();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    let short = f64::from(width.min(height));
    let centres: Vec<(f64, f64, f64, f64)> = (0..spots)
        .map(|_| {
            let cx = f64::from(width) * (0.3 + 0.4 * next());
            let cy = f64::from(height) * (0.3 + 0.4 * next());
            (cx, cy, short * (0.08 + 0.06 * next()), short * (0.05 + 0.04 * next()))
        })
        .collect();
    let mut out = image.clone();
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let light: f64 = centres
            .iter()
            .map(|&(cx, cy, rx, ry)| {
                let d2 = ((f64::from(x) - cx) / rx).powi(2) + ((f64::from(y) - cy) / ry).powi(2);
                1.6 * (-0.7 * d2).exp()
            })
            .sum::<f64>()
            .min(1.0);
        *pixel = Rgb(pixel.0.map(|c| (f64::from(c) + (255.0 - f64::from(c)) * light * 1.2).min(255.0) as u8));
    }
    out
}

fn degradations(long_side: u32, seed: u64) -> Vec<Degradation> {
    // Blur sigmas are given at the working scale, where the gate measures: the same whole-number
    // box factor as `decode::planes::working_planes` with a 1000 px long side.
    let scale = f64::from(long_side.div_ceil(1000).max(1));
    let mut list: Vec<Degradation> = Vec::new();
    for sigma in [2.5f64, 4.0] {
        list.push(Degradation {
            name: format!("blur_sigma{sigma}"),
            label: "low-quality-blur",
            apply: Box::new(move |image| {
                Output::Pixels(imageproc::filter::gaussian_blur_f32(image, (sigma * scale) as f32))
            }),
        });
    }
    for target in [480u32, 300] {
        list.push(Degradation {
            name: format!("downscale_{target}px"),
            label: "low-quality-lowres",
            apply: Box::new(move |image| {
                let (w, h) = image.dimensions();
                let factor = f64::from(target) / f64::from(w.max(h));
                let (nw, nh) =
                    ((f64::from(w) * factor).round().max(1.0), (f64::from(h) * factor).round().max(1.0));
                Output::Pixels(image::imageops::resize(image, nw as u32, nh as u32, FilterType::Triangle))
            }),
        });
    }
    for stops in [-4.0f64, -5.0] {
        list.push(Degradation {
            name: format!("exposure_{stops}EV"),
            label: "low-quality-dark",
            apply: Box::new(move |image| Output::Pixels(expose(image, stops))),
        });
    }
    for stops in [2.0f64, 3.0] {
        list.push(Degradation {
            name: format!("exposure_+{stops}EV"),
            label: "low-quality-overexposed",
            apply: Box::new(move |image| Output::Pixels(expose(image, stops))),
        });
    }
    for spots in [1u32, 2] {
        list.push(Degradation {
            name: format!("glare_{spots}spot"),
            label: "low-quality-glare",
            apply: Box::new(move |image| Output::Pixels(add_glare(image, spots, seed + u64::from(spots)))),
        });
    }
    for quality in [10u8, 15] {
        list.push(Degradation {
            name: format!("jpeg_q{quality}"),
            label: "low-quality-compression",
            apply: Box::new(move |image| Output::Jpeg(image.clone(), quality)),
        });
    }
    list.push(Degradation {
        name: "grayscale".into(),
        label: "low-quality-grayscale",
        apply: Box::new(|image| {
            let gray = image::imageops::grayscale(image);
            Output::Pixels(RgbImage::from_fn(image.width(), image.height(), |x, y| {
                let l = gray.get_pixel(x, y)[0];
                Rgb([l, l, l])
            }))
        }),
    });
    list.push(Degradation {
        name: "contrast_x0.25".into(),
        label: "low-quality-contrast",
        apply: Box::new(|image| {
            let mean =
                image.as_raw().iter().map(|&c| f64::from(c)).sum::<f64>() / image.as_raw().len() as f64;
            Output::Pixels(map_channels(image, |v| mean + (v - mean) * 0.25))
        }),
    });
    list
}

/// Saves `image` as the capture chain's JPEG encoder writes it.
fn write_jpeg(path: &Path, image: &RgbImage, quality: u8) -> Result<(), QualitySetError> {
    std::fs::write(path, encode_jpeg(image, quality))
        .map_err(|source| QualitySetError::Io { path: path.to_owned(), source })
}

/// Builds the set from the labelled `sources` into `out` (created), with its `MANIFEST.tsv`;
/// `review` relabels originals by file path as listed in their source manifest; `half` keeps one half
/// of the originals.
pub fn make_quality_set(
    sources: &[PathBuf],
    review: Option<&Path>,
    half: Option<Half>,
    out: &Path,
) -> Result<QualitySetSummary, QualitySetError> {
    let reviewed: Vec<LabelledFile> = match review {
        Some(path) => read_labelled(path)?,
        None => Vec::new(),
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| QualitySetError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut manifest = String::from("file\tlabel\tsource\ttransform\n");
    let mut summary = QualitySetSummary { originals: 0, files: 0 };
    for source in sources {
        for LabelledFile { file, label } in read_labelled(&source.join("MANIFEST.tsv"))? {
            if expectation(&label) != Expectation::Clean || half.is_some_and(|half| !half.holds(&file)) {
                continue;
            }
            let review_label = reviewed.iter().find(|r| r.file == file).map(|r| r.label.as_str());
            let path = source.join(&file);
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let Ok(document) = decode(&bytes, &DecodeLimits::default()) else { continue };
            let (width, height) = document.rgb.dimensions();
            if width.min(height) < MIN_SIDE {
                continue;
            }
            let index = summary.originals + summary.files;
            let stem: String = Path::new(&file)
                .file_stem()
                .map(|s| {
                    s.to_string_lossy().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
                })
                .unwrap_or_default();
            let extension =
                Path::new(&file).extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            let original_name = format!("{index:04}_{stem}__original.{extension}");
            std::fs::write(out.join(&original_name), &bytes).map_err(io(&out.join(&original_name)))?;
            let original_label = match review_label {
                Some(label) => label,
                None if width.max(height) >= RESOLUTION_ANCHOR => "good",
                None => "low-quality-lowres",
            };
            let origin = path.display();
            let _ = writeln!(
                manifest,
                "{original_name}\t{original_label}\t{origin}\toriginal ({width}x{height})"
            );
            summary.files += 1;
            if original_label != "good" {
                continue;
            }
            summary.originals += 1;
            for degradation in degradations(width.max(height), index as u64) {
                let name = format!("{index:04}_{stem}__{}.jpg", degradation.name);
                let target = out.join(&name);
                match (degradation.apply)(&document.rgb) {
                    Output::Pixels(image) => write_jpeg(&target, &image, SAVE_QUALITY)?,
                    Output::Jpeg(image, quality) => write_jpeg(&target, &image, quality)?,
                }
                let _ = writeln!(manifest, "{name}\t{}\t{origin}\t{}", degradation.label, degradation.name);
                summary.files += 1;
            }
        }
    }
    let manifest_path = out.join("MANIFEST.tsv");
    std::fs::write(&manifest_path, manifest).map_err(io(&manifest_path))?;
    Ok(summary)
}
