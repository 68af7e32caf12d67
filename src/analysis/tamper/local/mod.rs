//! Localized manipulation: where in the image the pixels disagree with the rest.
//!
//! Five maps over the full-resolution luma, each one value per cell, each scored by how far a cell
//! is from the rest of the *same* image (robust z-scores), never by an absolute level: texture,
//! content and camera differ between images, an edit differs from its surroundings.
//! - error level: the requantization error at a reference quality divided by the error the block's
//!   texture predicts (`tamper.error_level_anomaly`);
//! - aligned double quantization: blocks that fill the gaps of a twice-quantized histogram, and a
//!   second 8×8 grid at another phase (`tamper.double_compression_local`);
//! - noise: the flattest blocks' residual, each pixel minus its 8 neighbours' mean
//!   (`tamper.noise_inconsistency`);
//! - sharpness: the steepest edge step over the edge's contrast, higher where text was typed onto
//!   a blurred capture (`tamper.sharpness_inconsistency`);
//! - copy-move: a region repeated elsewhere in the image, found by block matching with shift-vector
//!   consensus and by the autocorrelation of the noise residual (`tamper.copy_move`, in
//!   [`copy_move`] and [`residual_shifts`]).
//!
//! A method that cannot decide on an image says so (`inconclusive`) instead of reporting clean.

pub mod blocks;
pub mod copy_move;
pub mod copy_move_thresholds;
pub mod maps;
pub mod quantization;
pub mod residual_shifts;

use serde::Deserialize;

use crate::analysis::decode::{DecodedDocument, ImageFormat};
use crate::analysis::quality::compression::{ANNEX_K_LUMINANCE, estimate_jpeg_quality, ijg_table};
use crate::domain::findings::{Evidence, Finding, Inconclusive, ReasonCode, Region};
use blocks::{BlockFeatures, FREQUENCIES, LumaGrid, block_features, foreign_grid_map};
use copy_move::CopyMove;
use copy_move_thresholds::CopyMoveThresholds;
use maps::{CellMap, Direction};
use quantization::DoubleQuantization;

/// Thresholds of the local analyses (`[local]` in `models/tamper.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalThresholds {
    /// Cell side in pixels (a multiple of 8).
    pub cell_pixels: usize,
    /// Fewer valid cells than this and a method cannot decide.
    pub min_cells: usize,
    /// A JPEG last saved below this quality has lost the traces: inconclusive.
    pub min_jpeg_quality: u8,
    /// Reference quality of the error-level analysis.
    pub error_level_quality: u8,
    /// Blocks whose texture predicts less error than this are too flat for the error level.
    pub error_level_min_texture: f32,
    /// A frequency is double-quantized when this fraction of its gap bins' mass is missing.
    pub double_quantization_min_emptiness: f64,
    /// Frequencies that must agree before the image counts as double-quantized.
    pub double_quantization_min_frequencies: usize,
    /// Smoothed anomaly score from which a cell is suspicious, per map.
    pub anomaly_scores: AnomalyScores,
    /// What each map adds to the image's local-manipulation score, per unit of ln(1 + peak /
    /// threshold). Learned by `scripts/train_local_score.py`; none is negative, so every method can
    /// only add evidence.
    pub score_weights: AnomalyScores,
    /// What a copy-move finding adds to that score, per unit of its score.
    pub copy_move_score_weight: f32,
    /// Smallest luma range of an 8×8 block whose steepest step is read as an edge's sharpness.
    pub sharpness_min_edge_range: f32,
    /// Smallest suspicious region, in cells.
    pub min_region_cells: usize,
    /// Largest suspicious region, as a fraction of the valid cells.
    pub max_region_fraction: f64,
    /// A region found at a map's threshold extends over the neighbouring cells scoring at least
    /// this fraction of it.
    pub region_grow_fraction: f32,
    /// Share of a local finding's region that must lie on the document's portrait zone for
    /// `tamper.portrait_anomaly`.
    pub portrait_min_overlap: f64,
    /// Copy-move detection.
    pub copy_move: CopyMoveThresholds,
}

impl LocalThresholds {
    /// Refuses a negative (or NaN) score weight: every method may only add evidence.
    pub fn validate(&self) -> Result<(), String> {
        let unusable = |weight: f32| weight.is_nan() || weight < 0.0;
        if AnomalyScores::NAMES.iter().any(|name| unusable(self.score_weights.of(name)))
            || unusable(self.copy_move_score_weight)
        {
            return Err("tamper.toml: a local score weight is negative (or not a number)".into());
        }
        Ok(())
    }
}

/// One value per anomaly map: their thresholds (each map's natural spread differs), or their
/// weights in the local-manipulation score.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyScores {
    /// Error level.
    pub error_level: f32,
    /// Noise.
    pub noise: f32,
    /// Aligned double quantization.
    pub double_quantization: f32,
    /// A second block grid.
    pub foreign_grid: f32,
    /// Edges sharper than the rest.
    pub sharpness: f32,
}

impl AnomalyScores {
    /// The maps, by name.
    pub const NAMES: [&'static str; 5] =
        ["error_level", "noise", "double_quantization", "foreign_grid", "sharpness"];

    /// These thresholds with map `name`'s set to `value`.
    pub fn with(&self, name: &str, value: f32) -> Self {
        let mut out = self.clone();
        match name {
            "error_level" => out.error_level = value,
            "noise" => out.noise = value,
            "double_quantization" => out.double_quantization = value,
            "sharpness" => out.sharpness = value,
            _ => out.foreign_grid = value,
        }
        out
    }

    /// The threshold of map `name`.
    pub fn of(&self, name: &str) -> f32 {
        match name {
            "error_level" => self.error_level,
            "noise" => self.noise,
            "double_quantization" => self.double_quantization,
            "sharpness" => self.sharpness,
            _ => self.foreign_grid,
        }
    }
}

/// One method's anomaly map, kept for heatmaps.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyMap {
    /// The finding it explains.
    pub code: ReasonCode,
    /// `error_level`, `double_quantization`, `foreign_grid`, `noise`.
    pub name: &'static str,
    /// Smoothed anomaly scores.
    pub scores: CellMap,
}

/// What the local analyses found.
#[derive(Debug, Clone, Default)]
pub struct LocalReport {
    /// Measurements (peaks per method, double-quantization facts).
    pub metrics: Vec<Evidence>,
    /// Findings with regions.
    pub findings: Vec<Finding>,
    /// Methods that could not decide.
    pub inconclusive: Vec<Inconclusive>,
    /// The maps behind the findings.
    pub maps: Vec<AnomalyMap>,
    /// The image-level local-manipulation score the evaluation ranks by: over the methods, each
    /// one's weight times ln(1 + its peak over its threshold) (a copy-move finding: times its
    /// score). It ranks images; the findings, not this sum, carry the decision.
    pub score: f64,
    /// Evidence of double quantization over the whole image, when present.
    pub double_quantization: Option<Vec<Evidence>>,
}

/// The tables of a JPEG's luminance component, and its estimated quality.
fn luminance_table(document: &DecodedDocument) -> Option<([u16; 64], u8)> {
    let jpeg = document.container.jpeg.as_ref()?;
    let table_id = jpeg.frame.as_ref()?.components.first()?.quant_table;
    let table = jpeg.quant_tables.iter().rev().find(|t| t.id == table_id)?;
    Some((table.values, estimate_jpeg_quality(&jpeg.quant_tables)?.quality))
}

/// How the block grid groups into cells.
#[derive(Debug, Clone, Copy)]
struct CellLayout {
    /// Whole blocks across and down.
    blocks: (usize, usize),
    /// Blocks per cell side.
    per: usize,
    /// Image pixel where the block grid starts.
    origin: (usize, usize),
}

/// Aggregates per-block values (NaN = none) into cells of `per` × `per` blocks with `reduce`, where at
/// least half the cell's blocks have a value.
fn cells_of(values: &[f32], layout: CellLayout, reduce: impl Fn(&mut [f32]) -> f32) -> CellMap {
    cells_of_some(values, layout, (layout.per * layout.per).div_ceil(2), reduce)
}

/// The same where at least `min_members` of the cell's blocks have a value.
fn cells_of_some(
    values: &[f32],
    layout: CellLayout,
    min_members: usize,
    reduce: impl Fn(&mut [f32]) -> f32,
) -> CellMap {
    let CellLayout { blocks, per, origin } = layout;
    let (cols, rows) = (blocks.0 / per, blocks.1 / per);
    let mut out = Vec::with_capacity(cols * rows);
    let mut members = Vec::with_capacity(per * per);
    for cy in 0..rows {
        for cx in 0..cols {
            members.clear();
            for by in cy * per..(cy + 1) * per {
                members.extend(
                    values[by * blocks.0 + cx * per..by * blocks.0 + (cx + 1) * per]
                        .iter()
                        .filter(|v| v.is_finite()),
                );
            }
            out.push(if members.len() >= min_members.max(1) { reduce(&mut members) } else { f32::NAN });
        }
    }
    CellMap { cols, rows, cell: per * 8, origin, values: out }
}

fn mean(values: &mut [f32]) -> f32 {
    values.iter().sum::<f32>() / values.len() as f32
}

/// Runs the local analyses on a decoded upload.
pub fn analyze_local(document: &DecodedDocument, thresholds: &LocalThresholds) -> LocalReport {
    let mut report = LocalReport::default();
    let jpeg = luminance_table(document);
    let coded = document
        .container
        .jpeg
        .as_ref()
        .and_then(|j| j.frame.as_ref())
        .map_or((document.rgb.width() as usize, document.rgb.height() as usize), |f| {
            (usize::from(f.width), usize::from(f.height))
        });
    let grid = LumaGrid::new(&document.rgb, document.exif_orientation, coded);
    let layout =
        CellLayout { blocks: grid.blocks(), per: (thresholds.cell_pixels / 8).max(1), origin: grid.origin };
    let cells = (layout.blocks.0 / layout.per) * (layout.blocks.1 / layout.per);
    let unusable = if cells < thresholds.min_cells {
        Some(format!("too small: fewer than {} cells of {} px", thresholds.min_cells, thresholds.cell_pixels))
    } else {
        jpeg.filter(|(_, quality)| *quality < thresholds.min_jpeg_quality).map(|(_, quality)| {
            format!(
                "re-saved at quality {quality}, below {}: compression has erased the traces",
                thresholds.min_jpeg_quality
            )
        })
    };
    if let Some(reason) = unusable {
        report.inconclusive = ["error_level", "double_compression", "noise", "copy_move"]
            .map(|method| Inconclusive { method: method.to_owned(), reason: reason.clone() })
            .into();
        return report;
    }
    let features = block_features(&grid);

    report.add(error_level_map(&features, layout, thresholds), thresholds);
    report.add(noise_map(&features, layout, thresholds), thresholds);
    report.add(sharpness_map(&features, layout, thresholds), thresholds);
    match jpeg {
        Some((table, _)) => {
            let double =
                DoubleQuantization::detect(&features, &table, thresholds.double_quantization_min_emptiness);
            if double.present(thresholds.double_quantization_min_frequencies) {
                report.double_quantization = Some(double_quantization_evidence(&double));
                let llr: Vec<f32> = features.iter().map(|block| double.block_llr(block)).collect();
                let map = cells_of(&llr, layout, mean);
                report.add(
                    Some(AnomalyMap {
                        code: ReasonCode::TamperDoubleCompressionLocal,
                        name: "double_quantization",
                        scores: map.anomaly(Direction::Higher, 0.5).smoothed(),
                    }),
                    thresholds,
                );
            } else {
                report.inconclusive.push(Inconclusive {
                    method: "double_quantization".to_owned(),
                    reason: "no double quantization over the image (a first save, a re-save at finer tables, or at the same tables): aligned double-JPEG analysis cannot decide".into(),
                });
            }
            let (cols, rows, values) = foreign_grid_map(&grid, thresholds.cell_pixels);
            let map = CellMap { cols, rows, cell: thresholds.cell_pixels, origin: (0, 0), values };
            report.add(
                Some(AnomalyMap {
                    code: ReasonCode::TamperDoubleCompressionLocal,
                    name: "foreign_grid",
                    scores: map.anomaly(Direction::Higher, 0.02).smoothed(),
                }),
                thresholds,
            );
        }
        None => report.inconclusive.push(Inconclusive {
            method: "double_compression".to_owned(),
            reason: format!("{} is not a JPEG: no compression history to test", format_name(document.format)),
        }),
    }
    report.findings = map_findings(&report.maps, thresholds);
    if let Some(copy) = copy_move::detect(&grid.luma, grid.width, grid.height, &thresholds.copy_move) {
        report.add_copy_move(copy, thresholds);
    }
    report
}

fn format_name(format: ImageFormat) -> String {
    format!("{format:?}").to_uppercase()
}

/// Error level: requantization error at the reference quality over the error the texture predicts.
fn error_level_map(
    features: &[BlockFeatures],
    layout: CellLayout,
    thresholds: &LocalThresholds,
) -> Option<AnomalyMap> {
    let table = ijg_table(&ANNEX_K_LUMINANCE, thresholds.error_level_quality);
    let steps: [f32; FREQUENCIES] = std::array::from_fn(|i| f32::from(table[i + 1]));
    let ratios: Vec<f32> = features
        .iter()
        .map(|block| {
            let (mut error, mut predicted) = (0f32, 0f32);
            for (&c, &q) in block.coefficients.iter().zip(&steps) {
                let e = c - q * (c / q).round();
                error += e * e;
                predicted += (c * c).min(q * q / 12.0);
            }
            if predicted >= thresholds.error_level_min_texture { error / predicted } else { f32::NAN }
        })
        .collect();
    let map = cells_of(&ratios, layout, mean);
    Some(AnomalyMap {
        code: ReasonCode::TamperErrorLevelAnomaly,
        name: "error_level",
        scores: map.anomaly(Direction::Higher, 0.05).smoothed(),
    })
    .filter(|m| m.scores.valid() >= thresholds.min_cells)
}

/// Noise: per cell, the second-flattest block's residual, on a log scale. Only cells *cleaner* than
/// the rest count: texture raises the residual everywhere it is (print, guilloche, hair), while a
/// region pasted from a clean render or a denoised photo lowers it below the camera's own noise.
fn noise_map(
    features: &[BlockFeatures],
    layout: CellLayout,
    thresholds: &LocalThresholds,
) -> Option<AnomalyMap> {
    let residuals: Vec<f32> = features
        .iter()
        .map(|block| if (8.0..=247.0).contains(&block.mean) { (block.residual + 0.5).ln() } else { f32::NAN })
        .collect();
    let map = cells_of(&residuals, layout, |v| {
        v.sort_by(f32::total_cmp);
        v[1.min(v.len() - 1)]
    });
    Some(AnomalyMap {
        code: ReasonCode::TamperNoiseInconsistency,
        name: "noise",
        scores: map.anomaly(Direction::Lower, 0.1).smoothed(),
    })
    .filter(|m| m.scores.valid() >= thresholds.min_cells)
}

/// Sharpness: per cell, the steepest of its edges. Only cells *sharper* than the rest
/// count: a capture blurs every edge of the card alike (lens, resampling), while text typed into the
/// captured image in an editor keeps a rendered edge.
fn sharpness_map(
    features: &[BlockFeatures],
    layout: CellLayout,
    thresholds: &LocalThresholds,
) -> Option<AnomalyMap> {
    let values: Vec<f32> = features
        .iter()
        .map(|block| {
            let (step, range) = block.edge;
            if range >= thresholds.sharpness_min_edge_range { step / range } else { f32::NAN }
        })
        .collect();
    let map = cells_of_some(&values, layout, 2, |v| v.iter().copied().fold(0.0, f32::max));
    Some(AnomalyMap {
        code: ReasonCode::TamperSharpnessInconsistency,
        name: "sharpness",
        scores: map.anomaly(Direction::Higher, 0.03).smoothed(),
    })
    .filter(|m| m.scores.valid() >= thresholds.min_cells)
}

fn double_quantization_evidence(double: &DoubleQuantization) -> Vec<Evidence> {
    let steps: Vec<String> = double
        .frequencies
        .iter()
        .take(6)
        .map(|f| format!("#{}: {}→{}", f.zigzag, f.primary_step, f.last_step))
        .collect();
    let mut evidence = vec![
        Evidence::number("double_quantized_frequencies", double.frequencies.len() as f64),
        Evidence::text("first_and_last_steps", steps.join(", ")),
    ];
    if let Some(quality) = double.primary_quality() {
        evidence.push(Evidence::number("primary_quality_estimate", f64::from(quality)));
    }
    evidence
}

impl LocalReport {
    fn add(&mut self, map: Option<AnomalyMap>, thresholds: &LocalThresholds) {
        let Some(map) = map else { return };
        let peak = map.scores.peak();
        self.metrics.push(Evidence::number(format!("{}_peak_score", map.name), round2(f64::from(peak))));
        let over = f64::from(peak.max(0.0) / thresholds.anomaly_scores.of(map.name));
        self.score += f64::from(thresholds.score_weights.of(map.name)) * over.ln_1p();
        self.maps.push(map);
    }
}

/// The reason codes whose findings are regions of anomaly maps over their thresholds.
pub const MAP_CODES: [ReasonCode; 4] = [
    ReasonCode::TamperErrorLevelAnomaly,
    ReasonCode::TamperDoubleCompressionLocal,
    ReasonCode::TamperNoiseInconsistency,
    ReasonCode::TamperSharpnessInconsistency,
];

/// One finding per reason code of [`MAP_CODES`], from the regions of its maps over their
/// thresholds. Pure in the maps, so that calibration can re-apply thresholds without re-analysing.
pub fn map_findings(maps: &[AnomalyMap], thresholds: &LocalThresholds) -> Vec<Finding> {
    let mut findings = Vec::new();
    for code in MAP_CODES {
        let mut regions = Vec::new();
        let mut evidence = Vec::new();
        for map in maps.iter().filter(|m| m.code == code) {
            let threshold = thresholds.anomaly_scores.of(map.name);
            let found = map.scores.regions(
                threshold,
                threshold * thresholds.region_grow_fraction,
                thresholds.min_region_cells,
                thresholds.max_region_fraction,
            );
            if let Some(strongest) = found.first() {
                evidence.push(Evidence::number(format!("{}_threshold", map.name), f64::from(threshold)));
                evidence.push(Evidence::number(
                    format!("{}_region_score", map.name),
                    round2(f64::from(strongest.mean_score)),
                ));
                evidence.push(Evidence::number(format!("{}_region_cells", map.name), strongest.cells as f64));
            }
            regions.extend(
                found.into_iter().take(3).map(|region| (map.name, region.mean_score / threshold, region)),
            );
        }
        if regions.is_empty() {
            continue;
        }
        regions.sort_by(|a, b| b.1.total_cmp(&a.1));
        let strongest = f64::from(regions[0].1);
        let mut finding = Finding::new(
            code,
            (0.5 + 0.25 * (strongest - 1.0)).clamp(0.5, 1.0),
            match code {
                ReasonCode::TamperErrorLevelAnomaly => {
                    "a region's error level differs from the rest of the image"
                }
                ReasonCode::TamperDoubleCompressionLocal => {
                    "a region's compression history differs from the rest of the image"
                }
                ReasonCode::TamperSharpnessInconsistency => {
                    "a region's edges are sharper than the rest of the image's: typed or pasted after the capture"
                }
                _ => "a region's noise differs from the rest of the image",
            },
            evidence,
        );
        finding.regions = regions
            .into_iter()
            .map(|(name, _, region)| Region {
                x: region.bounds.0,
                y: region.bounds.1,
                width: region.bounds.2,
                height: region.bounds.3,
                label: name.to_owned(),
            })
            .collect();
        findings.push(finding);
    }
    findings
}

impl LocalReport {
    fn add_copy_move(&mut self, copy: CopyMove, thresholds: &LocalThresholds) {
        self.metrics.push(Evidence::number("copy_move_score", round2(copy.score)));
        self.score += f64::from(thresholds.copy_move_score_weight) * copy.score;
        let evidence = vec![
            Evidence::number("shift_x", copy.shift.0 as f64),
            Evidence::number("shift_y", copy.shift.1 as f64),
            Evidence::text("found_by", copy.found_by),
            Evidence::number("region_support", copy.support as f64),
            Evidence::number("min_region_support", copy.min_support as f64),
            Evidence::number("periodic_fraction", round2(copy.periodic_fraction)),
            Evidence::number("detail_correlation", round2(copy.detail_correlation)),
            Evidence::number("min_detail_correlation", thresholds.copy_move.min_detail_correlation),
        ];
        let mut finding = Finding::new(
            ReasonCode::TamperCopyMove,
            (0.5 + 0.25 * (copy.score - 1.0)).clamp(0.5, 1.0),
            "a region of the image is repeated elsewhere in it, shifted",
            evidence,
        );
        finding.regions = copy
            .regions
            .iter()
            .zip(["copy_move.first", "copy_move.second"])
            .map(|(&(x, y, width, height), label)| Region { x, y, width, height, label: label.to_owned() })
            .collect();
        self.findings.push(finding);
        self.maps.push(AnomalyMap { code: ReasonCode::TamperCopyMove, name: "copy_move", scores: copy.map });
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::decode::{DecodeLimits, decode};
    use crate::eval::synthetic::capture::add_noise;
    use crate::eval::synthetic::capture::encode_jpeg;
    use crate::eval::synthetic::cards::Template;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn thresholds() -> LocalThresholds {
        crate::analysis::tamper::TamperModels::embedded().thresholds.local
    }

    fn local_codes(report: &LocalReport) -> Vec<ReasonCode> {
        report.findings.iter().map(|f| f.code).collect()
    }

    /// The shipped thresholds with the anomaly scores of a deployment whose uploads are as clean as
    /// the digital fixtures (the shipped ones are calibrated on captures).
    fn render_thresholds() -> LocalThresholds {
        let anomaly_scores = crate::eval::synthetic::fixtures::render_evaluation_scores();
        LocalThresholds { anomaly_scores, ..thresholds() }
    }

    #[test]
    fn a_clean_pasted_portrait_is_found_where_it_is_and_a_plain_resave_is_clean() {
        let (captured, edited, mask) = crate::eval::synthetic::fixtures::captured_card_and_portrait_swap();
        let resaved = decode(&encode_jpeg(&captured, 90), &DecodeLimits::default()).unwrap();
        let thresholds = render_thresholds;
        let clean = analyze_local(&resaved, &thresholds());
        assert!(clean.findings.is_empty(), "{:?}", local_codes(&clean));
        assert_eq!(
            clean.maps.len(),
            4,
            "error level, noise, sharpness, second grid (no double quantization)"
        );

        let edited = decode(&encode_jpeg(&edited, 90), &DecodeLimits::default()).unwrap();
        let report = analyze_local(&edited, &thresholds());
        let noise_region = |report: &LocalReport| {
            let noise = report.findings.iter().find(|f| f.code == ReasonCode::TamperNoiseInconsistency);
            noise.expect("the clean portrait is quieter than the captured card").regions[0].clone()
        };
        let region = noise_region(&report);
        let covered = |region: &Region| {
            let across = (region.x + region.width).min(mask.0 + mask.2).saturating_sub(region.x.max(mask.0));
            let down = (region.y + region.height).min(mask.1 + mask.3).saturating_sub(region.y.max(mask.1));
            across * down
        };
        assert!(covered(&region) > 0, "region {region:?} against the pasted portrait {mask:?}");
        // Grown over its weaker cells, the region covers more of the portrait than its strong cells.
        let strong_only =
            analyze_local(&edited, &LocalThresholds { region_grow_fraction: 1.0, ..thresholds() });
        assert_eq!(local_codes(&strong_only), local_codes(&report));
        let strong_region = noise_region(&strong_only);
        assert!(covered(&region) > covered(&strong_region), "{region:?} against {strong_region:?}");
        let noise_peak =
            |report: &LocalReport| report.maps.iter().find(|m| m.name == "noise").unwrap().scores.peak();
        assert!(noise_peak(&report) > noise_peak(&clean));
    }

    #[test]
    fn a_field_typed_onto_a_blurred_capture_is_sharper_than_the_rest_and_the_capture_alone_is_not() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let template = Template::new(1);
        let holder = template.holder(&mut rng);
        let mut retyped = holder.clone();
        retyped.fields[0] = template.holder(&mut rng).fields[0].clone();
        // A flat capture: lens blur and sensor noise over the whole card, then the new value typed
        // over the old one as a clean render.
        let mut captured = image::imageops::blur(&template.render(&holder), 1.0);
        add_noise(&mut captured, 2.5, &mut rng);
        let (edited, field) =
            crate::eval::tamper::paste_difference(&captured, &template, &holder, &retyped).unwrap();
        let sharpness = |image: &image::RgbImage| {
            let document = decode(&encode_jpeg(image, 90), &DecodeLimits::default()).unwrap();
            analyze_local(&document, &thresholds())
                .findings
                .into_iter()
                .find(|f| f.code == ReasonCode::TamperSharpnessInconsistency)
        };
        assert_eq!(sharpness(&captured), None, "an unedited capture is evenly blurred");
        let finding = sharpness(&edited).expect("the typed field keeps its rendered edges");
        let region = &finding.regions[0];
        let overlaps = region.x < field.0 + field.2
            && field.0 < region.x + region.width
            && region.y < field.1 + field.3
            && field.1 < region.y + region.height;
        assert!(overlaps, "region {region:?} against the typed field {field:?}");
    }

    #[test]
    fn the_local_score_weighs_each_methods_peak_over_its_threshold() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut photo = Template::new(2).render(&Template::new(2).holder(&mut rng));
        add_noise(&mut photo, 3.0, &mut rng);
        let document = decode(&encode_jpeg(&photo, 85), &DecodeLimits::default()).unwrap();
        let mut chosen = thresholds();
        let limits = chosen.anomaly_scores.clone();
        let term = |report: &LocalReport, name: &str| {
            report
                .maps
                .iter()
                .find(|m| m.name == name)
                .map_or(0.0, |map| f64::from(map.scores.peak().max(0.0) / limits.of(name)).ln_1p())
        };
        let shipped = analyze_local(&document, &chosen);
        assert!(shipped.maps.len() >= 4 && !shipped.maps.iter().any(|m| m.name == "copy_move"));
        let weights = &chosen.score_weights;
        let expected: f64 =
            AnomalyScores::NAMES.iter().map(|name| f64::from(weights.of(name)) * term(&shipped, name)).sum();
        assert!(expected > 0.0);
        assert!((shipped.score - expected).abs() < 1e-6, "{} against {expected}", shipped.score);

        chosen.score_weights = AnomalyScores {
            error_level: 2.0,
            noise: 0.0,
            double_quantization: 0.0,
            foreign_grid: 0.0,
            sharpness: 0.0,
        };
        let error_level_only = analyze_local(&document, &chosen);
        assert!((error_level_only.score - 2.0 * term(&shipped, "error_level")).abs() < 1e-6);
        assert_eq!(error_level_only.findings, shipped.findings, "the score does not change the findings");
    }

    #[test]
    fn a_clone_stamped_jpeg_has_a_copy_move_finding_with_both_regions_and_a_heatmap() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let template = Template::new(3);
        let mut card = template.render(&template.holder(&mut rng));
        add_noise(&mut card, 3.0, &mut rng);
        let captured = decode(&encode_jpeg(&card, 95), &DecodeLimits::default()).unwrap().rgb;
        let mut cloned = captured.clone();
        // The portrait's lower half stamped over the data area, 400 px right and 40 down.
        let (from, size) = ((120u32, 330u32), (180u32, 150u32));
        for y in 0..size.1 {
            for x in 0..size.0 {
                cloned.put_pixel(
                    from.0 + 400 + x,
                    from.1 + 40 + y,
                    *captured.get_pixel(from.0 + x, from.1 + y),
                );
            }
        }
        let edited = decode(&encode_jpeg(&cloned, 92), &DecodeLimits::default()).unwrap();
        let report = analyze_local(&edited, &thresholds());
        let finding =
            report.findings.iter().find(|f| f.code == ReasonCode::TamperCopyMove).expect("copy-move found");
        let shift: Vec<f64> = ["shift_x", "shift_y"]
            .iter()
            .map(|name| match finding.evidence.iter().find(|e| e.name == *name).map(|e| &e.value) {
                Some(crate::domain::findings::EvidenceValue::Number(value)) => *value,
                other => panic!("{name}: {other:?}"),
            })
            .collect();
        assert_eq!(shift.iter().map(|v| v.abs()).collect::<Vec<_>>(), vec![400.0, 40.0]);
        assert_eq!(finding.regions.len(), 2);
        assert!(report.maps.iter().any(|m| m.name == "copy_move"));

        let clean = decode(&encode_jpeg(&captured, 92), &DecodeLimits::default()).unwrap();
        let report = analyze_local(&clean, &thresholds());
        assert!(report.findings.iter().all(|f| f.code != ReasonCode::TamperCopyMove));
    }

    #[test]
    fn heavy_compression_and_small_images_are_inconclusive_not_clean() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let template = Template::new(0);
        let card = template.render(&template.holder(&mut rng));
        let low = decode(&encode_jpeg(&card, 50), &DecodeLimits::default()).unwrap();
        let report = analyze_local(&low, &thresholds());
        assert!(report.findings.is_empty() && report.maps.is_empty());
        assert!(
            report.inconclusive.iter().all(|i| i.reason.contains("quality 50")),
            "{:?}",
            report.inconclusive
        );
        assert_eq!(report.inconclusive.len(), 4);

        let small = image::imageops::thumbnail(&card, 120, 76);
        let small = decode(&encode_jpeg(&small, 90), &DecodeLimits::default()).unwrap();
        assert!(analyze_local(&small, &thresholds()).inconclusive[0].reason.starts_with("too small"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn never_panics_on_any_size_or_orientation(
            width in 1u32..420, height in 1u32..300, orientation in 0u8..10, seed in any::<u64>(), png in any::<bool>()
        ) {
            let image = image::RgbImage::from_fn(width, height, |x, y| {
                let v = (u64::from(x * 31 + y * 17) ^ seed) as u8;
                image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(40)])
            });
            let bytes = if png { crate::eval::synthetic::fixtures::png(&image) } else { encode_jpeg(&image, 85) };
            let mut document = decode(&bytes, &DecodeLimits::default()).unwrap();
            document.exif_orientation = orientation;
            let report = analyze_local(&document, &thresholds());
            prop_assert!(report.score.is_finite());
        }
    }
}
