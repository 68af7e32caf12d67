//! `idforensics eval-tamper`: the local-manipulation analyses on known edits.
//!
//! Pristine sources are the camera originals of ../shared/corpus (label `pristine` in
//! `a_camera_exif`, at least 256 px) and synthetic ID cards "captured" with sensor noise and saved at
//! a camera's quality. From each source: the original file and a re-save without edits (negatives),
//! and edits re-saved at quality 75–95 with a known mask (positives): a region spliced from another
//! source, a region clone-stamped within the image, and on cards a replaced text field and a swapped
//! portrait. Reported: image-level AUC of the local-manipulation score (edits against unedited
//! re-saves), detection and false-finding rates, and the IoU of the reported regions with the masks.
//! Every case also goes through the whole tamper analysis and the decision policy, and every edit a
//! second time with the EXIF an editor writes (Software, ModifyDate after DateTimeOriginal): how
//! often the service would send it to review, with and without those traces.
//!
//! With `captured` (see [`captured`]), cards arrive as uploads do, through the capture chain, and
//! are edited in the captured frame; edits and innocent re-saves are exported at quality 80–98.

mod captured;

use std::path::Path;

use image::RgbImage;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::synthetic::capture::{add_noise, encode_jpeg};
use super::synthetic::cards::{Holder, Template};
use crate::analysis::decode::{DecodeLimits, decode};
use crate::analysis::tamper::TamperReport;
use crate::domain::findings::ReasonCode;
use crate::domain::policy::Decision;
use crate::engine::Models;

/// What to generate.
#[derive(Debug, Clone)]
pub struct TamperEvalConfig {
    /// The shared corpus, when present (camera originals).
    pub corpus: Option<std::path::PathBuf>,
    /// Synthetic cards.
    pub cards: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Cards are captured through the capture chain and edited in the captured frame (otherwise:
    /// digital renders with sensor noise).
    pub captured: bool,
    /// Write every case's file here: the unedited ones under `genuine/`, the edits (without an
    /// editor's EXIF) under `forged/`, for `idforensics calibrate`.
    pub save_cases: Option<std::path::PathBuf>,
}

impl TamperEvalConfig {
    /// Writes case `kind` of source `index` (a generated card or a camera original) under
    /// `save_cases`, when set.
    fn save(&self, kind: &str, index: usize, card: bool, bytes: &[u8]) {
        let Some(dir) = &self.save_cases else { return };
        let folder = dir.join(if matches!(kind, "original" | "resaved") { "genuine" } else { "forged" });
        let written = std::fs::create_dir_all(&folder).and_then(|()| {
            let source = if card { "card" } else { "camera" };
            std::fs::write(folder.join(format!("{source}-{index:03}-{kind}.jpg")), bytes)
        });
        if let Err(error) = written {
            eprintln!("eval-tamper: cannot save {kind} {index} under {}: {error}", dir.display());
        }
    }

    /// JPEG qualities an edit or an innocent re-save is exported at.
    fn export_qualities(&self) -> std::ops::RangeInclusive<u8> {
        if self.captured { 80..=98 } else { 75..=95 }
    }
}

/// One kind of case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindResult {
    /// `original`, `resaved`, `splice`, `clone`, `text_field`, `portrait_swap`.
    pub kind: String,
    /// Cases.
    pub cases: usize,
    /// Cases with a local finding.
    pub flagged: usize,
    /// Cases where at least one method was inconclusive for the whole image (JPEG quality).
    pub inconclusive: usize,
    /// Mean IoU of the strongest region with the edit mask, over flagged edits.
    pub mean_iou: Option<f64>,
    /// Median local-manipulation score.
    pub median_score: f64,
    /// AUC of the local-manipulation score, these cases against the unedited re-saves (none for the
    /// re-saves themselves).
    pub auc_against_resaved: Option<f64>,
    /// Share of these cases scoring above the re-saves' 99th and 95th percentile: the detection rate
    /// at 1 % and 5 % false positives (none for the re-saves).
    pub tpr_at_fpr: Option<(f64, f64)>,
    /// Cases the whole tamper analysis and the policy send to review (or reject).
    pub review: usize,
    /// Of them, those of generated cards, and the cards' cases.
    pub review_cards: (usize, usize),
    /// The same for the edits saved with an editor's EXIF.
    pub review_with_editor_exif: Option<usize>,
    /// Of the cases sent to review, how many carried each finding (what a reviewer would read).
    pub review_codes: std::collections::BTreeMap<String, usize>,
    /// The AUC of each method's peak alone, these cases against the unedited re-saves.
    pub auc_by_method: Vec<(String, f64)>,
}

/// The evaluation's results.
#[derive(Debug, Clone, Serialize)]
pub struct TamperEvaluation {
    /// Pristine sources used.
    pub sources: usize,
    /// Per kind of case.
    pub kinds: Vec<KindResult>,
    /// AUC of the local-manipulation score, every edit against every unedited re-save.
    pub auc_edited_vs_resaved: f64,
    /// Detection rate of every edit at 1 % and 5 % false positives among the re-saves.
    pub tpr_at_fpr: (f64, f64),
    /// The AUC of each method alone (its peak score).
    pub auc_by_method: Vec<(String, f64)>,
}

struct Source {
    /// The file as it came (a camera original or a card capture).
    bytes: Vec<u8>,
    pixels: RgbImage,
    /// For cards: what drew it.
    card: Option<CardSource>,
}

/// A generated card source.
struct CardSource {
    template: Template,
    holder: Holder,
    /// Where the card lies in a captured frame (none for a render).
    corners: Option<[(f32, f32); 4]>,
}

struct Scored {
    kind: &'static str,
    /// From a generated card (not a camera original).
    card: bool,
    score: f64,
    method_scores: Vec<(String, f64)>,
    flagged: bool,
    inconclusive: bool,
    iou: Option<f64>,
    review: bool,
    review_with_editor_exif: Option<bool>,
    /// The findings' codes.
    codes: Vec<&'static str>,
}

/// The methods whose peaks are compared alone.
const METHODS: [&str; 6] =
    ["error_level", "noise", "double_quantization", "foreign_grid", "sharpness", "copy_move"];

const LOCAL_CODES: [ReasonCode; 5] = [
    ReasonCode::TamperErrorLevelAnomaly,
    ReasonCode::TamperDoubleCompressionLocal,
    ReasonCode::TamperNoiseInconsistency,
    ReasonCode::TamperSharpnessInconsistency,
    ReasonCode::TamperCopyMove,
];

/// Builds the set and scores every case.
pub fn evaluate_tamper(config: &TamperEvalConfig, models: &Models) -> TamperEvaluation {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut sources = camera_sources(config.corpus.as_deref());
    let first_card = sources.len();
    if config.captured {
        sources.extend(captured::card_sources(config.cards, &mut rng));
    } else {
        sources.extend(card_sources(config.cards, &mut rng));
    }
    let qualities = config.export_qualities();
    let mut scored = Vec::new();
    for index in 0..sources.len() {
        let source = &sources[index];
        let donor = &sources[(index + 1 + rng.random_range(0..sources.len() - 1)) % sources.len()];
        let card = source.card.is_some();
        let resaved = encode_jpeg(&source.pixels, rng.random_range(qualities.clone()));
        for (kind, bytes) in [("original", &source.bytes), ("resaved", &resaved)] {
            config.save(kind, index, card, bytes);
            scored.push(Scored { card, ..score(bytes, kind, None, models) });
        }
        let mut edits = Vec::new();
        edits.push(("splice", Some(splice(&source.pixels, &donor.pixels, &mut rng))));
        edits.push(("clone", Some(clone_stamp(&source.pixels, &mut rng))));
        if let Some(card) = &source.card {
            if config.captured {
                // The portrait comes from another capture of a card of the same template (card `i`
                // is drawn on template `i % 4`).
                let card_index = index - first_card;
                let same_template: Vec<usize> =
                    (card_index % 4..config.cards).step_by(4).filter(|&other| other != card_index).collect();
                let same_template = (!same_template.is_empty())
                    .then(|| &sources[first_card + same_template[rng.random_range(0..same_template.len())]]);
                edits.push(("text_field", captured::retype_field(&source.pixels, card, &mut rng)));
                edits.push((
                    "portrait_swap",
                    same_template.and_then(|donor| captured::swap_portrait(&source.pixels, card, donor)),
                ));
            } else {
                let changed = retyped(&card.template, &card.holder, &mut rng);
                edits.push((
                    "text_field",
                    paste_difference(&source.pixels, &card.template, &card.holder, &changed),
                ));
                let mut swapped = card.holder.clone();
                swapped.portrait_seed = rng.random();
                edits.push((
                    "portrait_swap",
                    paste_difference(&source.pixels, &card.template, &card.holder, &swapped),
                ));
            }
        }
        for (kind, edit) in edits {
            if let Some((edited, mask)) = edit {
                let bytes = encode_jpeg(&edited, rng.random_range(qualities.clone()));
                config.save(kind, index, card, &bytes);
                scored.push(Scored { card, ..score_edit(&bytes, kind, mask, models) });
            }
        }
    }
    summarise(sources.len(), &scored)
}

/// Camera originals from the corpus (skipped, with a message, when it is absent).
fn camera_sources(corpus: Option<&Path>) -> Vec<Source> {
    let Some(corpus) = corpus else { return Vec::new() };
    let Ok(files) = super::read_manifest(corpus) else {
        eprintln!("eval-tamper: no readable MANIFEST.tsv in {}: camera originals skipped", corpus.display());
        return Vec::new();
    };
    files
        .into_iter()
        .filter(|file| file.file.starts_with("a_camera_exif/") && file.label == "pristine")
        .filter(|file| file.file.to_ascii_lowercase().ends_with(".jpg"))
        .filter_map(|file| {
            let bytes = std::fs::read(corpus.join(&file.file)).ok()?;
            let decoded = decode(&bytes, &DecodeLimits::default()).ok()?;
            let large_enough = decoded.rgb.width().min(decoded.rgb.height()) >= 256;
            large_enough.then_some(Source { bytes, pixels: decoded.rgb, card: None })
        })
        .collect()
}

/// Cards "photographed": sensor noise, then a camera's JPEG at quality 88–95.
fn card_sources(count: usize, rng: &mut StdRng) -> Vec<Source> {
    (0..count)
        .map(|index| {
            let template = Template::new(index as u64 % 4);
            let holder = template.holder(rng);
            let mut pixels = template.render(&holder);
            add_noise(&mut pixels, rng.random_range(2.0..4.0), rng);
            let bytes = encode_jpeg(&pixels, rng.random_range(88..=95));
            let pixels = decode(&bytes, &DecodeLimits::default()).expect("own JPEG").rgb;
            Source { bytes, pixels, card: Some(CardSource { template, holder, corners: None }) }
        })
        .collect()
}

pub(crate) type Mask = (u32, u32, u32, u32);

fn random_rect(width: u32, height: u32, rng: &mut StdRng) -> Mask {
    let w = (width as f32 * rng.random_range(0.15..0.3)) as u32;
    let h = (height as f32 * rng.random_range(0.15..0.3)) as u32;
    (rng.random_range(0..width - w), rng.random_range(0..height - h), w, h)
}

fn copy_rect(target: &mut RgbImage, source: &RgbImage, from: (u32, u32), to: Mask) {
    for y in 0..to.3 {
        for x in 0..to.2 {
            let pixel = *source
                .get_pixel((from.0 + x).min(source.width() - 1), (from.1 + y).min(source.height() - 1));
            target.put_pixel(to.0 + x, to.1 + y, pixel);
        }
    }
}

/// A rectangle of `donor` pasted at a random place.
fn splice(image: &RgbImage, donor: &RgbImage, rng: &mut StdRng) -> (RgbImage, Mask) {
    let mask = random_rect(image.width().min(donor.width()), image.height().min(donor.height()), rng);
    let from = (rng.random_range(0..=donor.width() - mask.2), rng.random_range(0..=donor.height() - mask.3));
    let mut out = image.clone();
    copy_rect(&mut out, donor, from, mask);
    (out, mask)
}

/// A rectangle of the image copied over another place of it (no overlap).
fn clone_stamp(image: &RgbImage, rng: &mut StdRng) -> (RgbImage, Mask) {
    let mask = random_rect(image.width(), image.height(), rng);
    let from = loop {
        let candidate =
            (rng.random_range(0..=image.width() - mask.2), rng.random_range(0..=image.height() - mask.3));
        if candidate.0.abs_diff(mask.0) >= mask.2 || candidate.1.abs_diff(mask.1) >= mask.3 {
            break candidate;
        }
    };
    let mut out = image.clone();
    copy_rect(&mut out, image, from, mask);
    (out, mask)
}

/// `holder` with one field, drawn at random, given another holder's value: a retyped field.
fn retyped(template: &Template, holder: &Holder, rng: &mut StdRng) -> Holder {
    let other = template.holder(rng);
    let field = rng.random_range(0..holder.fields.len());
    let mut changed = holder.clone();
    changed.fields[field] = other.fields[field].clone();
    changed
}

/// `after`'s render and the box (card pixels) where it differs from `before`'s, widened by `margin`.
fn changed_box(
    template: &Template,
    before: &Holder,
    after: &Holder,
    margin: u32,
) -> Option<(RgbImage, Mask)> {
    let (old, new) = (template.render(before), template.render(after));
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, pixel) in new.enumerate_pixels() {
        if pixel != old.get_pixel(x, y) {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
    }
    if x0 > x1 {
        return None;
    }
    let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
    let (x1, y1) = ((x1 + margin).min(new.width() - 1), (y1 + margin).min(new.height() - 1));
    Some((new, (x0, y0, x1 - x0 + 1, y1 - y0 + 1)))
}

/// The captured card with the pixels where `after` renders differently from `before` replaced by a
/// clean render (an edit typed or pasted in software, with no camera noise or JPEG history).
pub(crate) fn paste_difference(
    captured: &RgbImage,
    template: &Template,
    before: &Holder,
    after: &Holder,
) -> Option<(RgbImage, Mask)> {
    let (new, mask) = changed_box(template, before, after, 0)?;
    let mut out = captured.clone();
    copy_rect(&mut out, &new, (mask.0, mask.1), mask);
    Some((out, mask))
}

fn iou(a: Mask, b: Mask) -> f64 {
    let ix = (a.0 + a.2).min(b.0 + b.2).saturating_sub(a.0.max(b.0));
    let iy = (a.1 + a.3).min(b.1 + b.3).saturating_sub(a.1.max(b.1));
    let inter = f64::from(ix) * f64::from(iy);
    inter / (f64::from(a.2) * f64::from(a.3) + f64::from(b.2) * f64::from(b.3) - inter)
}

/// An edit exported at `quality`, scored against its mask; and the same file carrying the EXIF an
/// editor writes, through the policy.
fn score_edit(bytes: &[u8], kind: &'static str, mask: Mask, models: &Models) -> Scored {
    let with_exif = with_editor_exif(bytes);
    let mut scored = score(bytes, kind, Some(mask), models);
    scored.review_with_editor_exif = Some(sent_to_review(tamper_report(&with_exif, models), models));
    scored
}

fn score(bytes: &[u8], kind: &'static str, mask: Option<Mask>, models: &Models) -> Scored {
    let report = tamper_report(bytes, models);
    let regions: Vec<_> = report
        .findings
        .iter()
        .filter(|f| LOCAL_CODES.contains(&f.code))
        .flat_map(|f| f.regions.iter())
        .collect();
    let codes = report.findings.iter().map(|f| f.code.as_str()).collect();
    let iou = mask.and_then(|mask| {
        regions.iter().map(|r| iou(mask, (r.x, r.y, r.width, r.height))).max_by(f64::total_cmp)
    });
    Scored {
        kind,
        card: false,
        score: report.local_score,
        method_scores: report.maps.iter().map(|m| (m.name.to_owned(), f64::from(m.scores.peak()))).collect(),
        flagged: !regions.is_empty(),
        inconclusive: report.inconclusive.iter().any(|i| i.reason.contains("quality")),
        iou,
        review: sent_to_review(report, models),
        review_with_editor_exif: None,
        codes,
    }
}

/// The whole tamper analysis of a generated file, as the service runs it (local analyses included,
/// and the portrait check on the document the fingerprints locate).
fn tamper_report(bytes: &[u8], models: &Models) -> TamperReport {
    let document = decode(bytes, &DecodeLimits::default()).expect("generated files decode");
    let (mut report, outline) = models.tamper_and_outline(&document);
    report.findings.extend(models.portrait_finding(&report.findings, &outline));
    report
}

/// Would the service send this upload to review on its tamper findings alone?
fn sent_to_review(report: TamperReport, models: &Models) -> bool {
    models.policy.assess(report.findings).decision >= Decision::Review
}

/// `jpeg` with an APP1 EXIF block as an editor writes it: Software names the editor, and the file
/// was modified a day after it was taken.
pub(crate) fn with_editor_exif(jpeg: &[u8]) -> Vec<u8> {
    let ascii = |tag, value: &str| exif::Field {
        tag,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Ascii(vec![value.as_bytes().to_vec()]),
    };
    let fields = [
        ascii(exif::Tag::Software, "Adobe Photoshop 25.3 (Windows)"),
        ascii(exif::Tag::DateTime, "2026:03:02 10:15:00"),
        ascii(exif::Tag::DateTimeOriginal, "2026:03:01 09:00:00"),
    ];
    with_exif(jpeg, &fields)
}

/// `jpeg` with an APP1 EXIF block holding `fields` right after its SOI marker.
pub(crate) fn with_exif(jpeg: &[u8], fields: &[exif::Field]) -> Vec<u8> {
    let mut writer = exif::experimental::Writer::new();
    for field in fields {
        writer.push_field(field);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("writing EXIF into memory");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff.into_inner());
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).expect("a small EXIF block").to_be_bytes());
    out.extend(app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Share of `positives` above the negatives' `1 - fpr` quantile (strictly above, so ties with a
/// negative are not detections).
fn tpr_at(positives: &[f64], negatives: &[f64], fpr: f64) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut sorted = negatives.to_vec();
    sorted.sort_by(f64::total_cmp);
    let allowed = (fpr * sorted.len() as f64).floor() as usize;
    let threshold = sorted[sorted.len() - 1 - allowed.min(sorted.len() - 1)];
    positives.iter().filter(|&&p| p > threshold).count() as f64 / positives.len() as f64
}

/// Probability that a random positive outscores a random negative (ties count half).
fn auc(positives: &[f64], negatives: &[f64]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for p in positives {
        for n in negatives {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (positives.len() * negatives.len()) as f64
}

fn summarise(sources: usize, scored: &[Scored]) -> TamperEvaluation {
    let negatives: Vec<f64> = scored.iter().filter(|s| s.kind == "resaved").map(|s| s.score).collect();
    let method =
        |name: &str, s: &Scored| s.method_scores.iter().find(|(m, _)| m == name).map_or(0.0, |(_, v)| *v);
    let auc_by_method = |cases: &[&Scored]| -> Vec<(String, f64)> {
        METHODS
            .iter()
            .map(|&name| {
                let p: Vec<f64> = cases.iter().map(|s| method(name, s)).collect();
                let n: Vec<f64> =
                    scored.iter().filter(|s| s.kind == "resaved").map(|s| method(name, s)).collect();
                (name.to_owned(), auc(&p, &n))
            })
            .collect()
    };
    let kinds = ["original", "resaved", "splice", "clone", "text_field", "portrait_swap"];
    let results = kinds
        .iter()
        .filter_map(|&kind| {
            let cases: Vec<&Scored> = scored.iter().filter(|s| s.kind == kind).collect();
            if cases.is_empty() {
                return None;
            }
            let mut scores: Vec<f64> = cases.iter().map(|s| s.score).collect();
            scores.sort_by(f64::total_cmp);
            let ious: Vec<f64> = cases.iter().filter(|s| s.flagged).filter_map(|s| s.iou).collect();
            Some(KindResult {
                kind: kind.to_owned(),
                cases: cases.len(),
                flagged: cases.iter().filter(|s| s.flagged).count(),
                inconclusive: cases.iter().filter(|s| s.inconclusive).count(),
                mean_iou: (!ious.is_empty()).then(|| ious.iter().sum::<f64>() / ious.len() as f64),
                median_score: scores[scores.len() / 2],
                auc_against_resaved: (kind != "resaved").then(|| auc(&scores, &negatives)),
                tpr_at_fpr: (kind != "resaved")
                    .then(|| (tpr_at(&scores, &negatives, 0.01), tpr_at(&scores, &negatives, 0.05))),
                review: cases.iter().filter(|s| s.review).count(),
                review_cards: (
                    cases.iter().filter(|s| s.review && s.card).count(),
                    cases.iter().filter(|s| s.card).count(),
                ),
                review_codes: cases.iter().filter(|s| s.review).flat_map(|s| s.codes.iter()).fold(
                    std::collections::BTreeMap::new(),
                    |mut counts, code| {
                        *counts.entry((*code).to_owned()).or_insert(0) += 1;
                        counts
                    },
                ),
                review_with_editor_exif: cases
                    .iter()
                    .map(|s| s.review_with_editor_exif.map(usize::from))
                    .sum::<Option<usize>>(),
                auc_by_method: if kind == "resaved" { Vec::new() } else { auc_by_method(&cases) },
            })
        })
        .collect();
    let edited = |s: &&Scored| !matches!(s.kind, "original" | "resaved");
    let positives: Vec<f64> = scored.iter().filter(edited).map(|s| s.score).collect();
    let auc_by_method = auc_by_method(&scored.iter().filter(edited).collect::<Vec<_>>());
    TamperEvaluation {
        sources,
        kinds: results,
        auc_edited_vs_resaved: auc(&positives, &negatives),
        tpr_at_fpr: (tpr_at(&positives, &negatives, 0.01), tpr_at(&positives, &negatives, 0.05)),
        auc_by_method,
    }
}

impl TamperEvaluation {
    /// A Markdown report.
    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "Tamper evaluation: {} pristine sources; AUC (edited vs re-saved unedited) **{:.3}**; \
             detection at 1 % / 5 % false positives {:.1} % / {:.1} %\n\n",
            self.sources,
            self.auc_edited_vs_resaved,
            100.0 * self.tpr_at_fpr.0,
            100.0 * self.tpr_at_fpr.1
        );
        out.push_str("| case | n | with a local finding | inconclusive (quality) | mean IoU of flagged | median score | AUC against re-saves | TPR at 1 % / 5 % FPR | review (tamper policy) | review, with an editor's EXIF |\n|---|---|---|---|---|---|---|---|---|---|\n");
        let share = |count: usize, of: usize| format!("{count} ({:.1} %)", 100.0 * count as f64 / of as f64);
        for kind in &self.kinds {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} |\n",
                kind.kind,
                kind.cases,
                share(kind.flagged, kind.cases),
                kind.inconclusive,
                kind.mean_iou.map_or("-".into(), |v| format!("{v:.2}")),
                kind.median_score,
                kind.auc_against_resaved.map_or("-".into(), |v| format!("{v:.3}")),
                kind.tpr_at_fpr.map_or("-".into(), |(one, five)| format!(
                    "{:.1} % / {:.1} %",
                    100.0 * one,
                    100.0 * five
                )),
                share(kind.review, kind.cases),
                kind.review_with_editor_exif.map_or("-".into(), |n| share(n, kind.cases)),
            ));
        }
        out.push_str("\n| case | findings on the cases sent to review |\n|---|---|\n");
        for kind in &self.kinds {
            let codes: Vec<String> =
                kind.review_codes.iter().map(|(code, count)| format!("{code} {count}")).collect();
            out.push_str(&format!("| {} | {} |\n", kind.kind, codes.join(", ")));
        }
        out.push_str("\n| method | AUC alone |\n|---|---|\n");
        for (name, auc) in &self.auc_by_method {
            out.push_str(&format!("| {name} | {auc:.3} |\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_scores_every_kind_and_an_editors_exif_sends_every_edit_to_review() {
        let config = TamperEvalConfig { corpus: None, cards: 3, seed: 2, captured: false, save_cases: None };
        let evaluation = evaluate_tamper(&config, &Models::embedded());
        let kinds: Vec<&str> = evaluation.kinds.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(kinds, ["original", "resaved", "splice", "clone", "text_field", "portrait_swap"]);
        for kind in &evaluation.kinds {
            assert_eq!(kind.cases, 3, "{}", kind.kind);
            let edited = !matches!(kind.kind.as_str(), "original" | "resaved");
            assert_eq!(kind.review_with_editor_exif, edited.then_some(3), "{}", kind.kind);
            assert_eq!(kind.auc_against_resaved.is_none(), kind.kind == "resaved", "{}", kind.kind);
        }
        assert!((0.0..=1.0).contains(&evaluation.auc_edited_vs_resaved));
        assert!(evaluation.to_markdown().contains("| clone | 3 |"));
    }

    #[test]
    fn a_captured_run_edits_captures_and_reports_the_operating_points() {
        let config = TamperEvalConfig { corpus: None, cards: 5, seed: 3, captured: true, save_cases: None };
        let evaluation = evaluate_tamper(&config, &Models::embedded());
        // Card i is drawn on template i % 4: only cards 0 and 4 have another capture of their
        // template to take a portrait from.
        let cases: Vec<(&str, usize)> = evaluation.kinds.iter().map(|k| (k.kind.as_str(), k.cases)).collect();
        assert_eq!(
            cases,
            [
                ("original", 5),
                ("resaved", 5),
                ("splice", 5),
                ("clone", 5),
                ("text_field", 5),
                ("portrait_swap", 2)
            ]
        );
        let (one, five) = evaluation.tpr_at_fpr;
        assert!((0.0..=1.0).contains(&one) && one <= five && five <= 1.0, "{:?}", evaluation.tpr_at_fpr);
        assert!(evaluation.to_markdown().contains("TPR at 1 % / 5 % FPR"));
    }

    #[test]
    fn auc_and_iou_are_right_on_small_cases() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auc(&[1.0], &[1.0]), 0.5);
        // 100 negatives 0..99: at 1 % the 99th is allowed past, so the line is 98.
        let negatives: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(tpr_at(&[98.5, 99.5, 50.0, 97.0], &negatives, 0.01), 0.5);
        assert_eq!(tpr_at(&[94.5], &negatives, 0.05), 1.0);
        assert!((iou((0, 0, 10, 10), (5, 0, 10, 10)) - 50.0 / 150.0).abs() < 1e-9);
    }
}
