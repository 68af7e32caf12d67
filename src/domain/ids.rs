//! Identifiers the platform gives us: account ids and document ids.
//!
//! They are opaque to idforensics, validated only so that they are safe to store, log and echo.

use std::fmt;

use serde::Serialize;

/// Longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty where one is required.
    #[error("{field} is required")]
    Missing {
        /// `account_id` or `document_id`.
        field: &'static str,
    },
    /// Too long or containing control characters.
    #[error("{field} must be 1 to {MAX_ID_BYTES} bytes of printable text")]
    Invalid {
        /// `account_id` or `document_id`.
        field: &'static str,
    },
}

impl IdError {
    /// The machine-readable reason, e.g. `request.missing_account_id`.
    pub fn reason(&self) -> &'static str {
        match self {
            IdError::Missing { field: "account_id" } => "request.missing_account_id",
            IdError::Missing { .. } => "request.missing_document_id",
            IdError::Invalid { field: "account_id" } => "request.invalid_account_id",
            IdError::Invalid { .. } => "request.invalid_document_id",
        }
    }
}

fn validate(field: &'static str, value: String) -> Result<String, IdError> {
    if value.is_empty() {
        Err(IdError::Missing { field })
    } else if value.len() > MAX_ID_BYTES || value.chars().any(char::is_control) {
        Err(IdError::Invalid { field })
    } else {
        Ok(value)
    }
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates a caller-supplied identifier.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                validate($field, value.into()).map($name)
            }

            /// An optional identifier: empty means absent.
            pub fn optional(value: impl Into<String>) -> Result<Option<Self>, IdError> {
                let value = value.into();
                if value.is_empty() { Ok(None) } else { Self::new(value).map(Some) }
            }

            /// The identifier as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// The platform's id of an account.
    AccountId,
    "account_id"
);
identifier!(
    /// The caller's id of an uploaded document; with the account id, the idempotency key of a
    /// registration.
    DocumentId,
    "document_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_identifiers() {
        assert_eq!(AccountId::new("acct-1").unwrap().as_str(), "acct-1");
        assert_eq!(AccountId::new("").unwrap_err().reason(), "request.missing_account_id");
        assert_eq!(DocumentId::new("a\nb").unwrap_err().reason(), "request.invalid_document_id");
        assert_eq!(DocumentId::new("x".repeat(257)).unwrap_err().reason(), "request.invalid_document_id");
        assert_eq!(AccountId::optional("").unwrap(), None);
    }
}
