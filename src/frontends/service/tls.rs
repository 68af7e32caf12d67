//! TLS for both listeners from one PEM certificate chain and key: tonic's rustls (ring) for gRPC,
//! a rustls server configuration with the same provider for HTTP.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The files hold no usable certificate chain and key.
    #[error("TLS certificate or key: {0}")]
    Invalid(String),
}

/// The server's identity, read and checked once for both listeners.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    certificate_pem: Vec<u8>,
    key_pem: Vec<u8>,
    http: Arc<rustls::ServerConfig>,
}

impl TlsIdentity {
    /// Reads a PEM certificate chain and its PEM private key.
    pub fn read(certificate: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read { path: path.display().to_string(), source })
        };
        let (certificate_pem, key_pem) = (read(certificate)?, read(key)?);
        let http = http_config(&certificate_pem, &key_pem)?;
        Ok(TlsIdentity { certificate_pem, key_pem, http })
    }

    /// The gRPC listener's configuration.
    pub fn grpc_config(&self) -> tonic::transport::ServerTlsConfig {
        let identity = tonic::transport::Identity::from_pem(&self.certificate_pem, &self.key_pem);
        tonic::transport::ServerTlsConfig::new().identity(identity)
    }

    /// The HTTP listener's configuration (HTTP/1.1 over TLS).
    pub fn http_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.http)
    }
}

/// A rustls server configuration (HTTP/1.1 over TLS) from a PEM chain and key.
fn http_config(certificate_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let invalid = |error: &dyn std::fmt::Display| TlsError::Invalid(error.to_string());
    let chain = CertificateDer::pem_slice_iter(certificate_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(&error))?;
    if chain.is_empty() {
        return Err(TlsError::Invalid("no certificate in the certificate file".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|error| invalid(&error))?;
    // ring, as tonic's `tls-ring`: no C toolchain for aws-lc. rustls marks it deprecated because
    // ring offers no post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid(&error))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| invalid(&error))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
