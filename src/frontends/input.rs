//! Reading uploads from disk without ever holding more than the byte limit.

use std::io::Read;
use std::path::Path;

/// Why a file could not be read as an upload.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read file: {0}")]
    Unreadable(#[from] std::io::Error),
    /// The file is larger than the limit; only the limit plus one byte was read.
    #[error("the file is larger than the {limit}-byte limit")]
    TooManyBytes {
        /// The limit.
        limit: u64,
    },
}

impl InputError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            InputError::Unreadable(_) => "file.unreadable",
            InputError::TooManyBytes { .. } => "image.too_many_bytes",
        }
    }
}

/// Reads at most `limit` bytes, so a huge file is refused without being loaded.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooManyBytes { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_over_the_limit_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, [0u8; 11]).unwrap();
        assert_eq!(read_bounded(&file, 11).unwrap().len(), 11);
        assert_eq!(read_bounded(&file, 10).unwrap_err().reason(), "image.too_many_bytes");
        assert_eq!(read_bounded(&dir.path().join("missing"), 10).unwrap_err().reason(), "file.unreadable");
    }
}
