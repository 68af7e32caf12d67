//! Labelled folders: a `MANIFEST.tsv` whose header names at least `file` and `label` columns.

use std::path::{Path, PathBuf};

/// One labelled file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledFile {
    /// Path relative to the folder, as in the manifest.
    pub file: String,
    /// The label.
    pub label: String,
}

/// A manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No `file` or `label` column.
    #[error("{path}: the header needs `file` and `label` columns")]
    Header {
        /// The manifest.
        path: PathBuf,
    },
}

/// Reads `dir/MANIFEST.tsv`.
pub fn read_manifest(dir: &Path) -> Result<Vec<LabelledFile>, ManifestError> {
    read_labelled(&dir.join("MANIFEST.tsv"))
}

/// Reads any tab-separated file with `file` and `label` columns.
pub fn read_labelled(path: &Path) -> Result<Vec<LabelledFile>, ManifestError> {
    let path = path.to_owned();
    let text = std::fs::read_to_string(&path)
        .map_err(|source| ManifestError::Read { path: path.clone(), source })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let column = |name| header.iter().position(|&c| c == name);
    let (Some(file_column), Some(label_column)) = (column("file"), column("label")) else {
        return Err(ManifestError::Header { path });
    };
    Ok(lines
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            Some(LabelledFile {
                file: (*cells.get(file_column)?).to_owned(),
                label: (*cells.get(label_column)?).to_owned(),
            })
        })
        .collect())
}
