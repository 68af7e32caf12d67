//! A blocking client of a running idforensics server, for the CLI's `batch --server`: one tokio
//! runtime, one HTTP/2 connection shared by the worker threads, TLS for `https://` servers and a
//! bearer token on every call.

use std::time::Duration;

use tonic::Code;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_types::StatusExt;

use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};
use crate::domain::links::{AccountCluster, AccountLink};
use crate::frontends::service::pb;
use crate::frontends::service::pb::id_forensics_client::IdForensicsClient;

/// How many times an overloaded server is asked again, with growing pauses.
const OVERLOAD_RETRIES: u32 = 8;

/// Why a remote call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The server.
        url: String,
        /// Why.
        source: tonic::transport::Error,
    },
    /// The server answered with an error status.
    #[error("{message}")]
    Status {
        /// The ErrorInfo reason, or the status code's name.
        reason: String,
        /// The status message.
        message: String,
    },
    /// The runtime could not start.
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// A link in the answer names an unknown kind or an invalid id.
    #[error("invalid link in the server's answer: {0}")]
    InvalidLink(String),
    /// The token cannot be sent as a header value.
    #[error("the token holds characters a header cannot carry")]
    InvalidToken,
}

/// How to reach a server: its address, a bearer token, and for `https://` a CA certificate to
/// trust instead of the public roots.
#[derive(Debug, Clone, Default)]
pub struct ServerAddress {
    /// e.g. `http://127.0.0.1:50051` or `https://idforensics.internal:50051`.
    pub url: String,
    /// Sent as `authorization: Bearer <token>` on every call.
    pub token: Option<String>,
    /// PEM certificate(s) of the CA that signed the server's certificate.
    pub ca_certificate_pem: Option<Vec<u8>>,
}

/// Adds the bearer token to every call.
#[derive(Debug, Clone)]
struct BearerToken(Option<MetadataValue<Ascii>>);

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        let reason = status
            .get_details_error_info()
            .map(|info| info.reason)
            .unwrap_or_else(|| format!("grpc.{:?}", status.code()).to_lowercase());
        ClientError::Status { reason, message: status.message().to_owned() }
    }
}

/// A connected client.
#[derive(Debug)]
pub struct RemoteClient {
    runtime: tokio::runtime::Runtime,
    client: IdForensicsClient<InterceptedService<Channel, BearerToken>>,
}

impl RemoteClient {
    /// Connects to `server`.
    pub fn connect(server: &ServerAddress, max_message_bytes: usize) -> Result<Self, ClientError> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let url = server.url.clone();
        let connect_error = |source| ClientError::Connect { url: url.clone(), source };
        let mut endpoint = Endpoint::from_shared(url.clone()).map_err(connect_error)?;
        if url.starts_with("https://") {
            let tls = match &server.ca_certificate_pem {
                Some(pem) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)),
                None => ClientTlsConfig::new().with_webpki_roots(),
            };
            endpoint = endpoint.tls_config(tls).map_err(connect_error)?;
        }
        let channel = runtime.block_on(endpoint.connect()).map_err(connect_error)?;
        let token = match &server.token {
            Some(token) => Some(format!("Bearer {token}").parse().map_err(|_| ClientError::InvalidToken)?),
            None => None,
        };
        let client = IdForensicsClient::with_interceptor(channel, BearerToken(token))
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes);
        Ok(RemoteClient { runtime, client })
    }

    /// Analyses one request, asking again with backoff while the server is overloaded.
    pub fn analyze(&self, request: pb::AnalyzeRequest) -> Result<pb::AnalyzeResponse, ClientError> {
        let mut pause = Duration::from_millis(20);
        for _ in 0..OVERLOAD_RETRIES {
            let mut client = self.client.clone();
            match self.runtime.block_on(client.analyze(request.clone())) {
                Err(status) if status.code() == Code::ResourceExhausted => {
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                result => return Ok(result?.into_inner()),
            }
        }
        let mut client = self.client.clone();
        Ok(self.runtime.block_on(client.analyze(request))?.into_inner())
    }

    /// Every linked-account cluster the server knows.
    pub fn account_links(&self) -> Result<Vec<AccountCluster>, ClientError> {
        let mut client = self.client.clone();
        let response =
            self.runtime.block_on(client.get_account_links(pb::GetAccountLinksRequest::default()))?;
        response.into_inner().clusters.into_iter().map(cluster).collect()
    }
}

fn cluster(cluster: pb::AccountCluster) -> Result<AccountCluster, ClientError> {
    let invalid = |what: String| ClientError::InvalidLink(what);
    let account = |id: String| AccountId::new(id).map_err(|e| invalid(e.to_string()));
    let document = |id: String| DocumentId::new(id).map_err(|e| invalid(e.to_string()));
    Ok(AccountCluster {
        account_ids: cluster.account_ids.into_iter().map(account).collect::<Result<_, _>>()?,
        links: cluster
            .links
            .into_iter()
            .map(|link| {
                Ok(AccountLink {
                    kind: link.kind.parse::<ReasonCode>().map_err(|e| invalid(e.to_string()))?,
                    distance: link.distance,
                    account_a: account(link.account_a)?,
                    document_a: document(link.document_a)?,
                    account_b: account(link.account_b)?,
                    document_b: document(link.document_b)?,
                })
            })
            .collect::<Result<_, ClientError>>()?,
    })
}
