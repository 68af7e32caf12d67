//! `summary.csv`: one row per document of `results.jsonl`, written with the `csv` crate (ids with
//! commas, quotes or line breaks are quoted, so every consumer reads the same columns), streamed so
//! memory does not grow with the batch.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{BatchError, io};

/// The columns of `summary.csv`.
const COLUMNS: [&str; 7] =
    ["account_id", "document_id", "decision", "risk_score", "reason_codes", "matched_accounts", "error"];

/// Writes `summary` from the lines of `results`.
pub(super) fn write_summary(results: &Path, summary: &Path) -> Result<(), BatchError> {
    let csv_error = |error: csv::Error| BatchError::Io { path: summary.to_owned(), source: error.into() };
    let mut out = csv::Writer::from_path(summary).map_err(csv_error)?;
    out.write_record(COLUMNS).map_err(csv_error)?;
    for line in BufReader::new(File::open(results).map_err(io(results))?).lines() {
        let value: serde_json::Value = serde_json::from_str(&line.map_err(io(results))?)?;
        let codes: Vec<&str> =
            value["findings"].as_array().into_iter().flatten().filter_map(|f| f["code"].as_str()).collect();
        let matched: BTreeSet<&str> = value["matches"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["account_id"].as_str())
            .collect();
        out.write_record([
            value["account_id"].as_str().unwrap_or_default(),
            value["document_id"].as_str().unwrap_or_default(),
            value["decision"].as_str().unwrap_or("ERROR"),
            &value["risk_score"].as_f64().map(|r| format!("{r:.3}")).unwrap_or_default(),
            &codes.join(" "),
            &matched.into_iter().collect::<Vec<_>>().join(" "),
            value["error"]["reason"].as_str().unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    out.flush().map_err(io(summary))
}
