//! The evaluation commands (feature `eval`): each runs one of the library's evaluations and prints
//! its Markdown report or JSON.

use std::path::Path;

use anyhow::Context;

use crate::args::{
    EvalArgs, EvalMrzArgs, EvalReuseArgs, EvalTamperArgs, MakeCaptureSetArgs, MakeMrzGlyphsArgs,
    MakeQualitySetArgs,
};
use crate::calibrate::image_files;
use crate::load_models;
use idforensics::engine::Engine;
use idforensics::frontends::settings::{Overrides, Settings};

pub(crate) fn eval(config: Option<&Path>, args: EvalArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    // No store: files of the set must not match each other.
    let engine = Engine::new(settings.limits, load_models(&settings)?);
    let evaluation = idforensics::eval::evaluate(&args.dir, &engine)?;
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

/// Prints an evaluation as pretty JSON or as its Markdown report.
fn print_evaluation(json: bool, evaluation: &impl serde::Serialize, markdown: String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(evaluation)?);
    } else {
        print!("{markdown}");
    }
    Ok(())
}

pub(crate) fn eval_tamper(config: Option<&Path>, args: EvalTamperArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let corpus = args.corpus.is_dir().then_some(args.corpus.clone());
    if corpus.is_none() {
        eprintln!("eval-tamper: {} not found: generated cards only", args.corpus.display());
    }
    let config = idforensics::eval::tamper::TamperEvalConfig {
        corpus,
        cards: args.cards,
        seed: args.seed,
        captured: args.captured,
        save_cases: args.save_cases,
    };
    let models = load_models(&settings)?;
    let evaluation = idforensics::eval::tamper::evaluate_tamper(&config, &models);
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

pub(crate) fn eval_reuse(config: Option<&Path>, args: EvalReuseArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let photos = match &args.photos {
        Some(dir) => image_files(dir).with_context(|| format!("listing {}", dir.display()))?,
        None => Vec::new(),
    };
    let config = idforensics::eval::reuse::ReuseEvalConfig {
        templates: args.templates,
        cards_per_template: args.cards_per_template,
        swaps_per_template: args.swaps_per_template,
        seed: args.seed,
        recoloured: args.recoloured,
        low_detail_every: args.low_detail_every,
        captured_per_template: args.captured_per_template.unwrap_or(usize::MAX),
        photos,
        photos_root: args.photos.clone(),
    };
    let evaluation = idforensics::eval::reuse::evaluate_reuse(&config, &load_models(&settings)?);
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

/// JPEG and PNG files under `dir`, recursively (symbolic links to folders not followed), sorted.
pub(crate) fn make_quality_set(args: MakeQualitySetArgs) -> anyhow::Result<()> {
    let summary = idforensics::eval::quality_set::make_quality_set(
        &args.sources,
        args.review.as_deref(),
        args.half,
        &args.out,
    )?;
    eprintln!(
        "wrote {} files ({} good originals and their degradations) to {}",
        summary.files,
        summary.originals,
        args.out.display()
    );
    Ok(())
}

pub(crate) fn make_capture_set(args: MakeCaptureSetArgs) -> anyhow::Result<()> {
    let summary = idforensics::eval::capture_set::make_capture_set(&args.out, args.cards, args.seed)?;
    eprintln!(
        "wrote {} captures of {} generated cards to {}",
        summary.files,
        summary.cards,
        args.out.display()
    );
    Ok(())
}

pub(crate) fn eval_mrz(config: Option<&Path>, args: EvalMrzArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let config = idforensics::eval::mrz::MrzEvalConfig { documents: args.documents, seed: args.seed };
    let evaluation = idforensics::eval::mrz::evaluate_mrz(&config, &load_models(&settings)?)
        .map_err(anyhow::Error::msg)?;
    print_evaluation(args.json, &evaluation, evaluation.to_markdown())
}

pub(crate) fn make_mrz_glyphs(args: MakeMrzGlyphsArgs) -> anyhow::Result<()> {
    let font = idforensics::eval::synthetic::ocr_b::OcrB::load(&args.font).map_err(anyhow::Error::msg)?;
    let name = args.font.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = idforensics::eval::synthetic::ocr_b::glyph_file_text(&font, &args.version, &name)?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote the OCR-B templates of {} to {}", args.font.display(), args.out.display());
    Ok(())
}
