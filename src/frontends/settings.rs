//! One validated `Settings`, built once at start-up: defaults, then an optional TOML file, then
//! overrides (the CLI passes its flags and `IDF_*` environment variables, flags winning).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::decode::DecodeLimits;
use crate::analysis::reuse::document_number::{DocumentNumberSecret, SecretError};
use crate::frontends::access::{Access, TokenEntry, check_exposure};
use crate::storage::StoreLocation;

/// Where the service listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Where the HTTP listener listens unless told otherwise.
pub const DEFAULT_HTTP: &str = "127.0.0.1:8080";
/// The data directory `serve` uses unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "./idforensics-data";
/// The document-number secret the embedded store makes in its data directory when given none.
pub const DOCUMENT_NUMBER_SECRET_FILE: &str = "document-number.secret";

/// Where the HTTP listener (`/metrics`, `/healthz`, `/readyz`) listens; `off` for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HttpListen(pub Option<SocketAddr>);

impl std::str::FromStr for HttpListen {
    type Err = std::net::AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "off" {
            Ok(HttpListen(None))
        } else {
            text.parse().map(|address| HttpListen(Some(address)))
        }
    }
}

impl TryFrom<String> for HttpListen {
    type Error = std::net::AddrParseError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// gRPC listen address.
    pub listen: SocketAddr,
    /// The HTTP listener's address, or none.
    pub http: HttpListen,
    /// Data directory of the embedded store (`serve` falls back to [`DEFAULT_DATA_DIR`]).
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database shared by replicas instead of the embedded store (excludes `data_dir`).
    pub postgres_url: Option<String>,
    /// Largest gRPC message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// Analyses run at once; more are refused with `RESOURCE_EXHAUSTED`.
    pub max_concurrent_analyses: usize,
    /// A folder with tuned copies of `models/*.toml`; files absent there are the shipped ones.
    pub models_dir: Option<PathBuf>,
    /// The secret that keys document numbers (at least 32 bytes; every replica the same). Default:
    /// [`DOCUMENT_NUMBER_SECRET_FILE`] in the data directory, made on first start; none for
    /// PostgreSQL, whose replicas then neither store nor match document numbers.
    pub document_number_secret_file: Option<PathBuf>,
    /// Log line format.
    pub log_format: LogFormat,
    /// Limits on each upload.
    pub limits: DecodeLimits,
    /// On SIGTERM: how long in-flight calls may drain (health already NOT_SERVING) before exiting.
    pub shutdown_grace_seconds: u64,
    /// Bearer tokens (hashed) with their roles; with none, the server listens on loopback only.
    pub tokens: Vec<TokenEntry>,
    /// A TOML file of more `[[tokens]]`, read at start.
    pub tokens_file: Option<PathBuf>,
    /// PEM certificate chain for TLS on both listeners (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS on both listeners (with `tls_cert`).
    pub tls_key: Option<PathBuf>,
    /// Listen beyond loopback without TLS and tokens.
    pub insecure: bool,
}

/// A `[[tokens]]` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    tokens: Vec<TokenEntry>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            http: HttpListen(Some(DEFAULT_HTTP.parse().expect("valid default address"))),
            data_dir: None,
            postgres_url: None,
            // 1 MiB above the image limit, so an oversized image gets the typed `image.too_many_bytes`.
            max_message_bytes: 25 * 1024 * 1024,
            max_concurrent_analyses: 2 * std::thread::available_parallelism().map_or(1, usize::from),
            models_dir: None,
            document_number_secret_file: None,
            log_format: LogFormat::Text,
            limits: DecodeLimits::default(),
            shutdown_grace_seconds: 10,
            tokens: Vec::new(),
            tokens_file: None,
            tls_cert: None,
            tls_key: None,
            insecure: false,
        }
    }
}

/// Values given on the command line or in the environment; each replaces the file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen` / `IDF_LISTEN`.
    pub listen: Option<SocketAddr>,
    /// `--http` / `IDF_HTTP`.
    pub http: Option<HttpListen>,
    /// `--data-dir` / `IDF_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `--postgres` / `IDF_POSTGRES_URL`.
    pub postgres_url: Option<String>,
    /// `--max-message-bytes` / `IDF_MAX_MESSAGE_BYTES`.
    pub max_message_bytes: Option<usize>,
    /// `--max-concurrent-analyses` / `IDF_MAX_CONCURRENT_ANALYSES`.
    pub max_concurrent_analyses: Option<usize>,
    /// `--models-dir` / `IDF_MODELS_DIR`.
    pub models_dir: Option<PathBuf>,
    /// `--document-number-secret-file` / `IDF_DOCUMENT_NUMBER_SECRET_FILE`.
    pub document_number_secret_file: Option<PathBuf>,
    /// `--log-format` / `IDF_LOG_FORMAT`.
    pub log_format: Option<LogFormat>,
    /// `--shutdown-grace-seconds` / `IDF_SHUTDOWN_GRACE_SECONDS`.
    pub shutdown_grace_seconds: Option<u64>,
    /// `--tokens-file` / `IDF_TOKENS_FILE`.
    pub tokens_file: Option<PathBuf>,
    /// `--tls-cert` / `IDF_TLS_CERT`.
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key` / `IDF_TLS_KEY`.
    pub tls_key: Option<PathBuf>,
    /// `--insecure`.
    pub insecure: bool,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid.
    #[error("invalid config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults, then `config_file` when given, then `overrides`; validated.
    pub fn resolve(config_file: Option<&Path>, overrides: Overrides) -> Result<Self, SettingsError> {
        let mut settings = match config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SettingsError::Read { path: path.to_owned(), source })?;
                toml::from_str(&text).map_err(|source| SettingsError::Parse {
                    path: path.to_owned(),
                    source: Box::new(source),
                })?
            }
            None => Settings::default(),
        };
        let Overrides {
            listen,
            http,
            data_dir,
            postgres_url,
            max_message_bytes,
            max_concurrent_analyses,
            models_dir,
            document_number_secret_file,
            log_format,
            shutdown_grace_seconds,
            tokens_file,
            tls_cert,
            tls_key,
            insecure,
        } = overrides;
        settings.listen = listen.unwrap_or(settings.listen);
        settings.http = http.unwrap_or(settings.http);
        // A store given on the command line or in the environment replaces the file's, of either kind.
        if data_dir.is_some() || postgres_url.is_some() {
            (settings.data_dir, settings.postgres_url) = (data_dir, postgres_url);
        }
        settings.max_message_bytes = max_message_bytes.unwrap_or(settings.max_message_bytes);
        settings.max_concurrent_analyses =
            max_concurrent_analyses.unwrap_or(settings.max_concurrent_analyses);
        settings.models_dir = models_dir.or(settings.models_dir);
        settings.document_number_secret_file =
            document_number_secret_file.or(settings.document_number_secret_file);
        settings.log_format = log_format.unwrap_or(settings.log_format);
        settings.shutdown_grace_seconds = shutdown_grace_seconds.unwrap_or(settings.shutdown_grace_seconds);
        settings.tokens_file = tokens_file.or(settings.tokens_file);
        settings.tls_cert = tls_cert.or(settings.tls_cert);
        settings.tls_key = tls_key.or(settings.tls_key);
        settings.insecure |= insecure;
        if let Some(path) = &settings.tokens_file {
            let text = std::fs::read_to_string(path)
                .map_err(|source| SettingsError::Read { path: path.clone(), source })?;
            let file: TokensFile = toml::from_str(&text)
                .map_err(|source| SettingsError::Parse { path: path.clone(), source: Box::new(source) })?;
            settings.tokens.extend(file.tokens);
        }
        settings.validate()?;
        Ok(settings)
    }

    /// The tokens, checked.
    pub fn access(&self) -> Access {
        Access::new(&self.tokens).expect("validated")
    }

    /// Whether both listeners use TLS.
    pub fn tls(&self) -> bool {
        self.tls_cert.is_some()
    }

    /// The store configured, if any: PostgreSQL, or the embedded store in `data_dir`.
    pub fn store(&self) -> Option<StoreLocation> {
        match (&self.postgres_url, &self.data_dir) {
            (Some(url), _) => Some(StoreLocation::Postgres(url.clone())),
            (None, Some(dir)) => Some(StoreLocation::Embedded(dir.clone())),
            (None, None) => None,
        }
    }

    /// The secret that keys document numbers: the file configured, or the embedded store's own (made
    /// in its data directory on first start, which must exist); `None` for PostgreSQL without a file.
    pub fn document_number_secret(&self) -> Result<Option<DocumentNumberSecret>, SecretError> {
        match (&self.document_number_secret_file, &self.postgres_url, &self.data_dir) {
            (Some(file), ..) => DocumentNumberSecret::read(file).map(Some),
            (None, None, Some(dir)) => {
                DocumentNumberSecret::read_or_create(&dir.join(DOCUMENT_NUMBER_SECRET_FILE)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// PostgreSQL connections a process may hold: one for each analysis's registration slot and
    /// one for its reads, and two for the follower and start-up.
    pub fn postgres_connections(&self) -> u32 {
        u32::try_from(2 * self.max_concurrent_analyses + 2).unwrap_or(u32::MAX)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |message: String| Err(SettingsError::Invalid(message));
        if self.data_dir.is_some() && self.postgres_url.is_some() {
            return invalid("postgres_url and data_dir exclude each other: one store per process".into());
        }
        if self.max_concurrent_analyses == 0 {
            return invalid("max_concurrent_analyses must be at least 1".into());
        }
        if self.limits.max_bytes == 0 || self.limits.max_dimension == 0 || self.limits.max_pixels == 0 {
            return invalid("limits must be positive".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert and tls_key go together".into());
        }
        Access::new(&self.tokens).map_err(SettingsError::Invalid)?;
        let addresses: Vec<SocketAddr> = std::iter::once(self.listen).chain(self.http.0).collect();
        check_exposure(&addresses, !self.tokens.is_empty(), self.tls(), self.insecure)
            .map_err(SettingsError::Invalid)?;
        if (self.max_message_bytes as u64) < self.limits.max_bytes {
            return invalid(format!(
                "max_message_bytes ({}) must be at least limits.max_bytes ({})",
                self.max_message_bytes, self.limits.max_bytes
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idforensics.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:6000\"\nmax_concurrent_analyses = 3\n[limits]\nmax_bytes = 1000\nmax_dimension = 100\nmax_pixels = 5000\n").unwrap();
        let overrides = Overrides { max_concurrent_analyses: Some(7), ..Overrides::default() };
        let settings = Settings::resolve(Some(&file), overrides).unwrap();
        assert_eq!(settings.listen.port(), 6000, "from the file");
        assert_eq!(settings.max_concurrent_analyses, 7, "the override wins");
        assert_eq!(settings.limits.max_bytes, 1000);
        assert_eq!(settings.max_message_bytes, Settings::default().max_message_bytes, "default kept");
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "listne = \"127.0.0.1:1\"\n").unwrap();
        assert!(matches!(
            Settings::resolve(Some(&file), Overrides::default()),
            Err(SettingsError::Parse { .. })
        ));
        let zero = Overrides { max_concurrent_analyses: Some(0), ..Overrides::default() };
        assert!(matches!(Settings::resolve(None, zero), Err(SettingsError::Invalid(_))));
    }

    #[test]
    fn one_store_per_process() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idforensics.toml");
        std::fs::write(&file, "data_dir = \"/var/lib/idforensics\"\n").unwrap();
        let url = "postgresql://idforensics@db:5432/idforensics".to_owned();
        let overrides = Overrides { postgres_url: Some(url.clone()), ..Overrides::default() };
        let settings = Settings::resolve(Some(&file), overrides).unwrap();
        assert_eq!(
            settings.store(),
            Some(StoreLocation::Postgres(url)),
            "the flag replaces the file's store"
        );
        std::fs::write(&file, "data_dir = \"/d\"\npostgres_url = \"host=db\"\n").unwrap();
        assert!(matches!(
            Settings::resolve(Some(&file), Overrides::default()),
            Err(SettingsError::Invalid(_))
        ));
    }

    #[test]
    fn the_http_listener_takes_an_address_or_off() {
        assert_eq!("off".parse::<HttpListen>().unwrap(), HttpListen(None));
        assert_eq!(
            "127.0.0.1:0".parse::<HttpListen>().unwrap(),
            HttpListen(Some("127.0.0.1:0".parse().unwrap()))
        );
        assert!("8080".parse::<HttpListen>().is_err());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idforensics.toml");
        std::fs::write(&file, "http = \"off\"\n").unwrap();
        assert_eq!(Settings::resolve(Some(&file), Overrides::default()).unwrap().http, HttpListen(None));
    }

    #[test]
    fn tokens_come_from_the_file_and_exposure_needs_tls_and_tokens() {
        use crate::frontends::access::Role;
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens.toml");
        std::fs::write(&tokens, TokenEntry::generate("ops", Role::Admin).0.to_toml()).unwrap();
        let config = dir.path().join("idforensics.toml");
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(
            &config,
            format!("listen = \"0.0.0.0:50051\"\nhttp = \"off\"\ntls_cert = {cert:?}\ntls_key = {key:?}\n"),
        )
        .unwrap();
        let with_tokens = Overrides { tokens_file: Some(tokens.clone()), ..Overrides::default() };
        let settings = Settings::resolve(Some(&config), with_tokens).unwrap();
        assert_eq!(settings.tokens.len(), 1);
        assert!(settings.access().requires_tokens() && settings.tls());
        let refused = Settings::resolve(Some(&config), Overrides::default()).unwrap_err().to_string();
        assert!(refused.contains("without tokens"), "{refused}");
        let insecure = Overrides { insecure: true, ..Overrides::default() };
        assert!(Settings::resolve(Some(&config), insecure).is_ok());
        let half = Overrides { tls_cert: Some(cert), ..Overrides::default() };
        assert!(matches!(Settings::resolve(None, half), Err(SettingsError::Invalid(_))));
    }
}
