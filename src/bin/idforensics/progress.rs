//! Batch progress on stderr: on a terminal one line redrawn as a bar; otherwise (logs, CI) a plain
//! line every 2 s.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use idforensics::frontends::batch::Progress;

/// Shows a batch's progress at a rate a reader (or a log) can take.
pub(crate) struct ProgressLine {
    terminal: bool,
    interval: Duration,
    last_shown: Option<Instant>,
}

impl ProgressLine {
    /// A progress line on stderr.
    pub(crate) fn on_stderr() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let interval = Duration::from_millis(if terminal { 200 } else { 2000 });
        ProgressLine { terminal, interval, last_shown: None }
    }

    /// Shows `progress`, unless the last line is too recent (the final one is always shown).
    pub(crate) fn show(&mut self, progress: Progress) {
        let finished = progress.done == progress.total;
        if !finished && self.last_shown.is_some_and(|shown| shown.elapsed() < self.interval) {
            return;
        }
        self.last_shown = Some(Instant::now());
        let status = format!(
            "{}/{} documents, {:.1}/s, ETA {} s",
            progress.done,
            progress.total,
            progress.rate,
            progress.eta.as_secs()
        );
        if self.terminal {
            let filled = (30 * progress.done).checked_div(progress.total).unwrap_or(30);
            eprint!(
                "\r[{}{}] {status}{}",
                "#".repeat(filled),
                "-".repeat(30 - filled),
                if finished { "\n" } else { "" }
            );
        } else {
            eprintln!("batch: {status}");
        }
    }
}
