//! The document number as a reuse key: one identity document behind two accounts shows as the same
//! issuing state and number in both machine-readable zones, even when the two images differ (another
//! capture, another crop, a re-typed visual zone).
//!
//! Only a keyed hash is ever kept: HMAC-SHA256 under a secret of the deployment's. Document numbers
//! are short enough to enumerate, so a plain hash would give them back to whoever read the store; the
//! key is useless without the secret, which lives outside it. Only zones whose every check digit
//! passes give a key: a misread number would link strangers.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::analysis::mrz::MrzReading;

/// Fewest bytes a secret may have (HMAC-SHA256's own block of strength).
pub const MIN_SECRET_BYTES: usize = 32;

/// The deployment's secret for document-number keys. Every replica of a shared store needs the same.
#[derive(Clone)]
pub struct DocumentNumberSecret(Vec<u8>);

/// A secret that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file could not be read or written.
    #[error("document-number secret {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file holds too little.
    #[error("document-number secret {path} holds {found} bytes; at least {MIN_SECRET_BYTES} are needed")]
    TooShort {
        /// The file.
        path: std::path::PathBuf,
        /// Bytes found (trailing whitespace not counted).
        found: usize,
    },
}

impl std::fmt::Debug for DocumentNumberSecret {
    /// Never the secret itself.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DocumentNumberSecret(..)")
    }
}

impl DocumentNumberSecret {
    /// The secret from its bytes; `None` when shorter than [`MIN_SECRET_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= MIN_SECRET_BYTES).then(|| DocumentNumberSecret(bytes.to_vec()))
    }

    /// The secret in a file: its bytes without trailing whitespace (a line of text is fine).
    pub fn read(path: &Path) -> Result<Self, SecretError> {
        let bytes =
            std::fs::read(path).map_err(|source| SecretError::Io { path: path.to_owned(), source })?;
        let end = bytes.iter().rposition(|byte| !byte.is_ascii_whitespace()).map_or(0, |last| last + 1);
        DocumentNumberSecret::from_bytes(&bytes[..end])
            .ok_or(SecretError::TooShort { path: path.to_owned(), found: end })
    }

    /// The secret in `path`, made there first when the file does not exist: 32 random bytes as 64
    /// hex digits, readable by the owner only. The embedded store's default, kept in its data
    /// directory.
    pub fn read_or_create(path: &Path) -> Result<Self, SecretError> {
        let io = |source| SecretError::Io { path: path.to_owned(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let mut bytes = [0u8; 32];
                rand::Rng::fill(&mut rand::rng(), &mut bytes);
                let text: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
                file.write_all(format!("{text}\n").as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(DocumentNumberSecret(text.into_bytes()))
            }
            // Made meanwhile by another process, or before.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                DocumentNumberSecret::read(path)
            }
            Err(error) => Err(io(error)),
        }
    }

    /// What identifies the secret without revealing it: a store records it, so that a replica
    /// started with another secret (whose keys would never match) is refused.
    pub fn id(&self) -> [u8; 8] {
        let tag = self.tag(&[b"idforensics secret id v1"]);
        let mut id = [0u8; 8];
        id.copy_from_slice(&tag[..8]);
        id
    }

    fn tag(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// The keyed hash of one document's issuing state and number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DocumentNumberKey(pub [u8; 32]);

impl std::fmt::Debug for DocumentNumberKey {
    /// Never the key: it is as good as the number to whoever holds the secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DocumentNumberKey(..)")
    }
}

impl DocumentNumberKey {
    /// The key of a zone read with every check digit passing; `None` otherwise, or when it has no
    /// number.
    pub fn of(reading: &MrzReading, secret: &DocumentNumberSecret) -> Option<Self> {
        if !reading.fully_valid() {
            return None;
        }
        let number = reading.text.document_number();
        if number.is_empty() {
            return None;
        }
        let state = reading.text.issuing_state();
        Some(DocumentNumberKey(secret.tag(&[
            b"idforensics document number v1\n",
            state.as_bytes(),
            b"\n",
            number.as_bytes(),
        ])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::mrz::text::MrzText;

    fn reading(lines: &str) -> MrzReading {
        let text = MrzText::parse(lines).unwrap();
        let fields = text.checked_fields().into_iter().map(|field| {
            let passes = field.passes();
            (field, passes)
        });
        MrzReading { fields: fields.collect(), text, zone_score: 0.9 }
    }

    /// ICAO 9303 part 5's TD1 specimen.
    const SPECIMEN: &str =
        "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";

    #[test]
    fn one_number_gives_one_key_under_one_secret_only() {
        let secret = DocumentNumberSecret::from_bytes(&[7; 32]).unwrap();
        let other = DocumentNumberSecret::from_bytes(&[8; 32]).unwrap();
        let specimen = reading(SPECIMEN);
        let key = DocumentNumberKey::of(&specimen, &secret).unwrap();
        assert_eq!(DocumentNumberKey::of(&specimen, &secret), Some(key), "deterministic");
        assert_ne!(DocumentNumberKey::of(&specimen, &other), Some(key), "another deployment's key differs");
        // Another holder's name and dates on the same number: still the same document number.
        let renamed = SPECIMEN.replace("ERIKSSON<<ANNA<MARIA<<<<<<<<<<", "SMITH<<JOHN<<<<<<<<<<<<<<<<<<<");
        assert_eq!(DocumentNumberKey::of(&reading(&renamed), &secret), Some(key));
        assert_ne!(secret.id(), other.id());
        assert!(!format!("{key:?}{secret:?}").contains("07"), "Debug shows neither");
    }

    #[test]
    fn a_zone_with_a_failing_check_digit_gives_no_key() {
        let secret = DocumentNumberSecret::from_bytes(&[7; 32]).unwrap();
        // The number's last digit retyped: its check digit (7) no longer holds.
        let retyped = SPECIMEN.replace("D23145890", "D23145891");
        assert_eq!(DocumentNumberKey::of(&reading(&retyped), &secret), None);
    }

    #[test]
    fn secrets_are_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("document-number.secret");
        let made = DocumentNumberSecret::read_or_create(&path).unwrap();
        let again = DocumentNumberSecret::read_or_create(&path).unwrap();
        assert_eq!(made.id(), again.id());
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short\n").unwrap();
        assert!(matches!(DocumentNumberSecret::read(&path), Err(SecretError::TooShort { found: 5, .. })));
    }
}
