//! Every error a call can end with, mapped to a gRPC status in one exhaustive match, with the
//! machine-readable reason in a `google.rpc.ErrorInfo` detail (domain `idforensics`).

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::analysis::decode::DecodeError;
use crate::domain::ids::IdError;
use crate::engine::AnalyzeError;
use crate::frontends::access::AccessError;
use crate::storage::StoreError;

/// The `ErrorInfo.domain` of every idforensics error.
pub const ERROR_DOMAIN: &str = "idforensics";

/// Why a call failed, as the service sees it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The engine refused or failed.
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    /// Every analysis slot is busy; retry with backoff.
    #[error("server overloaded: {in_flight} analyses in flight; retry later")]
    Overloaded {
        /// The configured limit.
        in_flight: usize,
    },
    /// The caller is not authenticated or its role may not do this.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A bug: the analysis task failed unexpectedly.
    #[error("internal error")]
    Internal,
}

impl ServiceError {
    /// The status code and machine-readable reason.
    pub fn code_and_reason(&self) -> (Code, &'static str) {
        let invalid = Code::InvalidArgument;
        match self {
            ServiceError::Analyze(AnalyzeError::Request(error)) => match error {
                IdError::Missing { .. } | IdError::Invalid { .. } => (invalid, error.reason()),
            },
            ServiceError::Analyze(AnalyzeError::NoStore) => (Code::FailedPrecondition, "request.no_store"),
            ServiceError::Analyze(AnalyzeError::Decode(error)) => match error {
                DecodeError::Empty
                | DecodeError::TooManyBytes { .. }
                | DecodeError::TooLarge { .. }
                | DecodeError::MemoryLimit { .. }
                | DecodeError::UnsupportedFormat { .. }
                | DecodeError::UnsupportedEncoding { .. }
                | DecodeError::Truncated { .. }
                | DecodeError::Corrupt { .. } => (invalid, error.reason()),
            },
            ServiceError::Analyze(AnalyzeError::Store(error)) => match error {
                StoreError::Conflict { .. } => (Code::AlreadyExists, error.reason()),
                StoreError::Damaged(_) => (Code::DataLoss, error.reason()),
                StoreError::CreateDir { .. }
                | StoreError::SchemaTooNew { .. }
                | StoreError::SecretMismatch
                | StoreError::Sqlite(_)
                | StoreError::Postgres(_)
                | StoreError::Connection(_) => (Code::Unavailable, error.reason()),
            },
            ServiceError::Access(error) => match error {
                AccessError::MissingToken | AccessError::UnknownToken => {
                    (Code::Unauthenticated, error.reason())
                }
                AccessError::Forbidden { .. } | AccessError::CrossOrigin(_) => {
                    (Code::PermissionDenied, error.reason())
                }
            },
            ServiceError::Overloaded { .. } => (Code::ResourceExhausted, "server.overloaded"),
            ServiceError::Internal => (Code::Internal, "server.internal"),
        }
    }

    /// The reason alone (for per-item errors in streams and the CLI).
    pub fn reason(&self) -> &'static str {
        self.code_and_reason().1
    }
}

impl From<IdError> for ServiceError {
    fn from(error: IdError) -> Self {
        ServiceError::Analyze(AnalyzeError::Request(error))
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        let (code, reason) = error.code_and_reason();
        Status::with_error_details(
            code,
            error.to_string(),
            ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::<String, String>::new()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_carries_code_and_reason() {
        let status = Status::from(ServiceError::Analyze(AnalyzeError::Decode(DecodeError::Empty)));
        assert_eq!(status.code(), Code::InvalidArgument);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "image.empty");
        assert_eq!(info.domain, ERROR_DOMAIN);

        let overloaded = Status::from(ServiceError::Overloaded { in_flight: 4 });
        assert_eq!(overloaded.code(), Code::ResourceExhausted);
        assert_eq!(overloaded.get_details_error_info().unwrap().reason, "server.overloaded");
    }
}
