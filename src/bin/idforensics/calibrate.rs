//! `idforensics calibrate`: sets the local tamper thresholds from a deployment's own genuine
//! uploads and writes them as a `tamper.toml` the service loads with `--models-dir`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use crate::args::CalibrateArgs;
use crate::load_models;
use idforensics::analysis::decode::DecodeLimits;
use idforensics::engine::Models;
use idforensics::engine::calibration::{Calibration, CalibrationSample, calibrate, needed_samples};
use idforensics::frontends::input::read_bounded;
use idforensics::frontends::settings::{Overrides, Settings};

pub(crate) fn run(config: Option<&Path>, args: CalibrateArgs) -> anyhow::Result<()> {
    let settings =
        Settings::resolve(config, Overrides { models_dir: args.models_dir, ..Overrides::default() })?;
    let models = load_models(&settings)?;
    // A target that is not a rate, or a folder too small for it, is refused before any analysis.
    let needed = needed_samples(args.target_review_rate)?;
    let files = image_files(&args.genuine).with_context(|| format!("listing {}", args.genuine.display()))?;
    anyhow::ensure!(
        files.len() >= needed,
        "a target review rate of {} needs at least {needed} genuine uploads; {} holds {}",
        args.target_review_rate,
        args.genuine.display(),
        files.len()
    );
    let genuine = analyse_files(&args.genuine, &files, &settings.limits, &models)?;
    let forged = match &args.forged {
        Some(dir) => {
            let files = image_files(dir).with_context(|| format!("listing {}", dir.display()))?;
            analyse_files(dir, &files, &settings.limits, &models)?
        }
        None => Vec::new(),
    };
    let calibrated = calibrate(&genuine, &forged, args.target_review_rate, &models)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let written = args.out.join("tamper.toml");
    std::fs::write(&written, &calibrated.tamper_toml)
        .with_context(|| format!("writing {}", written.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&calibrated.calibration)?);
    } else {
        print!("{}", to_markdown(&calibrated.calibration));
    }
    eprintln!("calibrate: wrote {}; serve with --models-dir {}", written.display(), args.out.display());
    Ok(())
}

/// Every image file under `dir`, sorted.
pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>, walkdir::Error> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry?;
        let extension = entry.path().extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if entry.file_type().is_file() && matches!(extension.as_deref(), Some("jpg" | "jpeg" | "png")) {
            files.push(entry.into_path());
        }
    }
    files.sort();
    Ok(files)
}

/// Analyses `files` (the images under `dir`) on every core; a file that cannot be read or decoded
/// is named and skipped (a deployment's sample may hold a few), but a folder with none is an error.
fn analyse_files(
    dir: &Path,
    files: &[PathBuf],
    limits: &DecodeLimits,
    models: &Models,
) -> anyhow::Result<Vec<CalibrationSample>> {
    anyhow::ensure!(!files.is_empty(), "{} holds no .jpg, .jpeg or .png file", dir.display());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
    let mut analysed: Vec<(usize, CalibrationSample)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(path) = files.get(index) else { break done };
                        let outcome = read_bounded(path, limits.max_bytes)
                            .map_err(anyhow::Error::from)
                            .and_then(|bytes| Ok(CalibrationSample::analyse(&bytes, limits, models)?));
                        match outcome {
                            Ok(sample) => done.push((index, sample)),
                            Err(error) => eprintln!("calibrate: skipping {}: {error:#}", path.display()),
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("an analysis worker panicked")).collect()
    });
    analysed.sort_by_key(|(index, _)| *index);
    eprintln!("calibrate: {} of {} files in {} analysed", analysed.len(), files.len(), dir.display());
    Ok(analysed.into_iter().map(|(_, sample)| sample).collect())
}

fn to_markdown(calibration: &Calibration) -> String {
    let percent = |share: f64| format!("{:.1} %", 100.0 * share);
    let rate = |r: idforensics::engine::calibration::Rate| {
        format!("{} of {} ({})", r.count, r.of, percent(r.share()))
    };
    let mut out = format!(
        "# Tamper calibration {}\n\nTarget review rate {}.\n\n| map | threshold before | calibrated | genuine images peaking above it |\n|---|---|---|---|\n",
        calibration.version,
        percent(calibration.target_review_rate),
    );
    for threshold in &calibration.thresholds {
        out.push_str(&format!(
            "| {} | {} | {:.3} | {} |\n",
            threshold.map,
            threshold.before,
            threshold.after,
            percent(threshold.exceedance)
        ));
    }
    out.push_str(&format!(
        "\n| genuine uploads sent to review | |\n|---|---|\n| before | {} |\n| calibrated, in-sample | {} |\n| cautious estimate for new uploads (each half calibrated, counted on the other) | {} |\n| by findings calibration does not set | {} |\n",
        rate(calibration.review_before),
        rate(calibration.review_after),
        percent(calibration.cross_checked_review_rate),
        rate(calibration.floor),
    ));
    if let Some((before, after)) = calibration.detection {
        out.push_str(&format!(
            "\n| forged uploads sent to review | |\n|---|---|\n| before | {} |\n| calibrated | {} |\n",
            rate(before),
            rate(after)
        ));
    }
    out
}
