//! The reuse evaluation's report as Markdown tables.

use super::{Detection, ReuseEvaluation};

impl ReuseEvaluation {
    /// The report as Markdown tables.
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Reuse model {}: {} templates, {} distinct cards, {} pairs ({} within one template)\n",
            self.model_version, self.templates, self.cards, self.card_pairs, self.same_template_pairs
        );
        let _ = writeln!(
            out,
            "Keypoints stored for the cards' layouts: {}; verification keypoints per document: {} bytes on average\n",
            self.stored_keypoints, self.verification_bytes_per_document
        );
        let _ = writeln!(
            out,
            "| distinct-card pairs reported as reuse | idforensics | plain PDQ ≤ 31 |\n|---|---|---|"
        );
        let kinds: Vec<String> =
            self.false_match_kinds.iter().map(|(kind, n)| format!("{kind}: {n}")).collect();
        let _ = writeln!(
            out,
            "| false matches | {} {} | {} |\n",
            self.false_match_pairs,
            if kinds.is_empty() { String::new() } else { format!("({})", kinds.join(", ")) },
            self.baseline_false_match_pairs
        );
        let _ = writeln!(out, "| distinct-card pairs | pairs | reported as reuse |\n|---|---|---|");
        for (class, counts) in &self.pair_classes {
            let _ = writeln!(out, "| {class} | {} | {} |", counts.pairs, counts.false_matches);
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| query | n | detected (expected kind) | other kind | wrong doc matched | PDQ ≤ 31 detected | PDQ ≤ 31 wrong doc |\n|---|---|---|---|---|---|---|"
        );
        for (name, detection) in &self.captures {
            detection_row(&mut out, name, detection);
        }
        detection_row(&mut out, "**all captures**", &self.captures_total);
        for (name, detection) in &self.chain_captures {
            detection_row(&mut out, &format!("chain: {name}"), detection);
        }
        detection_row(&mut out, "same portrait, new data", &self.same_portrait);
        detection_row(&mut out, "same data, new portrait", &self.same_personal_data);
        if !self.photos.is_empty() {
            let _ = writeln!(
                out,
                "\nReal photos linked to each other ({} groups; check by eye, a corpus holds true duplicates):\n",
                self.photo_groups.len()
            );
            for group in &self.photo_groups {
                let shown: Vec<&str> = group.files.iter().take(4).map(String::as_str).collect();
                let more = group.files.len() - shown.len();
                let kinds: Vec<&str> = group.kinds.iter().map(String::as_str).collect();
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                let _ = writeln!(
                    out,
                    "- {} files, {}: {}{more}",
                    group.files.len(),
                    kinds.join(", "),
                    shown.join(", ")
                );
            }
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "| photo capture | n | detected | other kind | wrong doc | PDQ ≤ 31 detected | PDQ ≤ 31 wrong |\n|---|---|---|---|---|---|---|"
            );
            for (name, detection) in &self.photos {
                detection_row(&mut out, name, detection);
            }
        }
        let [measured, passing] = self.distinct_pairs_verified;
        let _ = writeln!(
            out,
            "\nDistinct cards of one template verified directly: {passing} of {measured} pairs agree on card, portrait and data as a same-document match needs (before any index proposes them)."
        );
        let _ = writeln!(
            out,
            "\nDistances to the source, and verification inliers (template masked) (min / p5 / median / p95 / max)\n\n| pairs | n | portrait zone | data zone | global PDQ | inner portrait (as a crop) | inner data (as a crop) | card inliers | portrait inliers | data inliers |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        let fmt = |q: &[u32; 5]| q.iter().map(u32::to_string).collect::<Vec<_>>().join(" / ");
        for (name, summary) in &self.distances {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                summary.pairs,
                fmt(&summary.portrait),
                fmt(&summary.data),
                fmt(&summary.global_pdq),
                fmt(&summary.inner_portrait),
                fmt(&summary.inner_data),
                fmt(&summary.card_inliers),
                fmt(&summary.portrait_inliers),
                fmt(&summary.data_inliers)
            );
        }
        out
    }
}

/// One Markdown table row of detection counts.
fn detection_row(out: &mut String, name: &str, d: &Detection) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "| {name} | {} | {} ({}) | {} | {} | {} ({}) | {} |",
        d.queries,
        d.detected,
        percent(d.detected, d.queries),
        d.detected_other_kind,
        d.wrong_matches,
        d.baseline_detected,
        percent(d.baseline_detected, d.queries),
        d.baseline_wrong_matches
    );
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 { "n/a".to_owned() } else { format!("{:.1} %", 100.0 * part as f64 / whole as f64) }
}
