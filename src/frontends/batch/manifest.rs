//! What a batch re-verifies: a CSV or TSV manifest, or a folder of per-account subfolders.
//!
//! The manifest is read with the `csv` crate, so it takes what spreadsheets and databases export:
//! quoted cells with separators, quotes and line breaks inside, and a UTF-8 byte-order mark.

use std::path::Path;

use walkdir::WalkDir;

use super::{BatchError, BatchItem, io};
use crate::domain::ids::{AccountId, DocumentId, IdError};

/// Reads a CSV or TSV manifest (tab-separated when its header has a tab) with `account_id`,
/// `document_id` and `path` columns, in any order among others; paths are relative to the
/// manifest's folder.
pub fn read_manifest(path: &Path) -> Result<Vec<BatchItem>, BatchError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let header_line = text.lines().next().ok_or_else(|| manifest_error(path, 1, "empty manifest"))?;
    let separator = if header_line.contains('\t') { b'\t' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|error| manifest_error(path, 1, &error.to_string()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| manifest_error(path, 1, &format!("no `{name}` column")))
    };
    let (account, document, file) = (column("account_id")?, column("document_id")?, column("path")?);
    let base = path.parent().unwrap_or(Path::new("."));
    let mut items = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            let line = error.position().map_or(0, |position| position.line() as usize);
            manifest_error(path, line, &error.to_string())
        })?;
        let line = record.position().map_or(0, |position| position.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |at: usize| record.get(at).ok_or_else(|| manifest_error(path, line, "missing column"));
        let to_error = |error: IdError| manifest_error(path, line, &error.to_string());
        items.push(BatchItem {
            account_id: AccountId::new(cell(account)?).map_err(to_error)?,
            document_id: DocumentId::new(cell(document)?).map_err(to_error)?,
            path: base.join(cell(file)?),
        });
    }
    Ok(items)
}

fn manifest_error(path: &Path, line: usize, message: &str) -> BatchError {
    BatchError::Manifest { path: path.to_owned(), line, message: message.to_owned() }
}

/// Lists a folder laid out as `<account_id>/<file>`: each subfolder is an account, each file in it
/// (recursively) a document whose id is its path below the account folder. Symbolic links to
/// folders are not followed, so a listing never leaves the tree.
pub fn read_folder(root: &Path) -> Result<Vec<BatchItem>, BatchError> {
    let walk_error = |error: walkdir::Error| {
        let path = error.path().unwrap_or(root).to_owned();
        BatchError::Io { path, source: error.into() }
    };
    let mut items = Vec::new();
    for account_dir in WalkDir::new(root).min_depth(1).max_depth(1).sort_by_file_name() {
        let account_dir = account_dir.map_err(walk_error)?;
        if !account_dir.file_type().is_dir() {
            continue;
        }
        let account_name = account_dir.file_name().to_string_lossy().into_owned();
        let Ok(account_id) = AccountId::new(account_name) else { continue };
        for entry in WalkDir::new(account_dir.path()).min_depth(1).sort_by_file_name() {
            let entry = entry.map_err(walk_error)?;
            if entry.file_type().is_dir() || !entry.path().is_file() {
                continue;
            }
            let relative = entry.path().strip_prefix(account_dir.path()).unwrap_or(entry.path());
            if let Ok(document_id) = DocumentId::new(relative.to_string_lossy().into_owned()) {
                items.push(BatchItem {
                    account_id: account_id.clone(),
                    document_id,
                    path: entry.into_path(),
                });
            }
        }
    }
    Ok(items)
}
