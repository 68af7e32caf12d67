//! Who may call what: bearer tokens with a role each, checked on gRPC (the `authorization`
//! metadata) and HTTP (the `Authorization` header) alike, and the rule for which addresses a server
//! may listen on without them.
//!
//! Tokens are stored as their SHA-256, never in clear. They are random 256-bit secrets made by
//! `idforensics token new`, so an unsalted hash cannot be brute-forced; a lookup by hash also does
//! not compare secrets byte by byte, so its timing tells nothing about a token.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What a caller may do. Each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Analyze, AnalyzeStream and FindMatches, with registration.
    Analyze,
    /// That, plus GetAccountLinks and the reviewer console.
    Review,
    /// That, plus ForgetAccount.
    Admin,
}

impl Role {
    /// The role's name as written in token files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyze => "analyze",
            Role::Review => "review",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "analyze" => Ok(Role::Analyze),
            "review" => Ok(Role::Review),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role {other:?}: analyze, review or admin")),
        }
    }
}

/// One configured token: a name for the audit log, a role and the token's SHA-256 in hex.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (`onboarding`, `reviewer-ana`); written in the audit log.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// SHA-256 of the token, 64 lowercase hex digits.
    pub sha256: String,
}

impl TokenEntry {
    /// A new random token for `name` with `role`: the entry to store and the token to hand out.
    pub fn generate(name: &str, role: Role) -> (TokenEntry, String) {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret);
        let token = format!("idf_{}", hex(&secret));
        let entry =
            TokenEntry { name: name.to_owned(), role, sha256: hex(&Sha256::digest(token.as_bytes())) };
        (entry, token)
    }

    /// The entry as a `[[tokens]]` table of a TOML file.
    pub fn to_toml(&self) -> String {
        format!(
            "[[tokens]]\nname = {:?}\nrole = {:?}\nsha256 = {:?}\n",
            self.name,
            self.role.as_str(),
            self.sha256
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The caller a request was authorised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name, or `loopback` on a server without tokens.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No `authorization: Bearer …` was sent.
    #[error("missing bearer token: send `authorization: Bearer <token>`")]
    MissingToken,
    /// The token is not configured.
    #[error("unknown bearer token")]
    UnknownToken,
    /// A browser request from another site (cross-site request forgery), or, on a server without
    /// tokens, addressed to a name that is not loopback (DNS rebinding).
    #[error("request from another origin refused: {0}")]
    CrossOrigin(String),
    /// The token's role may not do this.
    #[error("the token's role {had} may not do this; it needs {needed}")]
    Forbidden {
        /// The role needed.
        needed: &'static str,
        /// The caller's role.
        had: &'static str,
    },
}

impl AccessError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AccessError::MissingToken => "auth.missing_token",
            AccessError::UnknownToken => "auth.unknown_token",
            AccessError::Forbidden { .. } => "auth.forbidden",
            AccessError::CrossOrigin(_) => "auth.cross_origin",
        }
    }
}

/// The configured tokens; with none, every caller is admin (the server then listens on loopback
/// only, see [`check_exposure`]).
#[derive(Debug, Clone, Default)]
pub struct Access {
    by_hash: HashMap<String, Caller>,
}

impl Access {
    /// Access by `tokens`; an entry whose hash is not 64 hex digits is refused.
    pub fn new(tokens: &[TokenEntry]) -> Result<Self, String> {
        let mut by_hash = HashMap::new();
        for entry in tokens {
            let hash = entry.sha256.to_ascii_lowercase();
            if hash.len() != 64 || !hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(format!("token {:?}: sha256 must be 64 hex digits", entry.name));
            }
            let caller = Caller { name: entry.name.clone(), role: entry.role };
            if by_hash.insert(hash, caller).is_some() {
                return Err(format!("token {:?}: the same token is configured twice", entry.name));
            }
        }
        Ok(Access { by_hash })
    }

    /// Whether any token is configured.
    pub fn requires_tokens(&self) -> bool {
        !self.by_hash.is_empty()
    }

    /// Refuses what a browser sends on another site's behalf: an `Origin` that is not the server's
    /// own (`host` is the request's Host header), and, without tokens, a Host that is not a loopback
    /// name, since a rebound DNS name would make another site's page same-origin with the console.
    pub fn check_origin(&self, origin: Option<&str>, host: Option<&str>) -> Result<(), AccessError> {
        let host = host.unwrap_or_default();
        if let Some(origin) = origin {
            let own = ["http://", "https://"].iter().any(|scheme| origin.strip_prefix(scheme) == Some(host));
            if !own {
                return Err(AccessError::CrossOrigin(format!("origin {origin:?} is not {host:?}")));
            }
        }
        if !self.requires_tokens() {
            let name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
            if !matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
                return Err(AccessError::CrossOrigin(format!("host {host:?} is not loopback")));
            }
        }
        Ok(())
    }

    /// The caller behind an `authorization` header value, if it may act as `needed`.
    pub fn authorize(&self, authorization: Option<&[u8]>, needed: Role) -> Result<Caller, AccessError> {
        if !self.requires_tokens() {
            return Ok(Caller { name: "loopback".to_owned(), role: Role::Admin });
        }
        let token = authorization
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(AccessError::MissingToken)?;
        let caller =
            self.by_hash.get(&hex(&Sha256::digest(token.as_bytes()))).ok_or(AccessError::UnknownToken)?;
        if caller.role < needed {
            return Err(AccessError::Forbidden { needed: needed.as_str(), had: caller.role.as_str() });
        }
        Ok(caller.clone())
    }
}

/// Refuses to expose a server beyond loopback without both TLS and tokens, unless `insecure`:
/// identity documents and account links must not cross a network in clear or to anyone.
pub fn check_exposure(
    addresses: &[SocketAddr],
    tokens: bool,
    tls: bool,
    insecure: bool,
) -> Result<(), String> {
    if insecure || (tokens && tls) {
        return Ok(());
    }
    match addresses.iter().find(|address| !address.ip().is_loopback()) {
        Some(address) => Err(format!(
            "refusing to listen on {address} without {}: configure `tokens` and `tls_cert`/`tls_key`, \
             listen on loopback, or pass --insecure",
            match (tokens, tls) {
                (false, false) => "tokens and TLS",
                (false, true) => "tokens",
                _ => "TLS",
            }
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> Vec<u8> {
        format!("Bearer {token}").into_bytes()
    }

    #[test]
    fn roles_grant_what_the_roles_before_them_grant() {
        let (analyst, analyst_token) = TokenEntry::generate("onboarding", Role::Analyze);
        let (admin, admin_token) = TokenEntry::generate("ops", Role::Admin);
        let access = Access::new(&[analyst, admin]).unwrap();
        let caller = access.authorize(Some(&bearer(&analyst_token)), Role::Analyze).unwrap();
        assert_eq!(caller, Caller { name: "onboarding".into(), role: Role::Analyze });
        assert_eq!(
            access.authorize(Some(&bearer(&analyst_token)), Role::Admin),
            Err(AccessError::Forbidden { needed: "admin", had: "analyze" })
        );
        assert_eq!(access.authorize(Some(&bearer(&admin_token)), Role::Review).unwrap().name, "ops");
        assert_eq!(access.authorize(None, Role::Analyze), Err(AccessError::MissingToken));
        assert_eq!(
            access.authorize(Some(analyst_token.as_bytes()), Role::Analyze),
            Err(AccessError::MissingToken)
        );
        assert_eq!(
            access.authorize(Some(&bearer("idf_guess")), Role::Analyze),
            Err(AccessError::UnknownToken)
        );
    }

    #[test]
    fn without_tokens_every_caller_is_admin() {
        let access = Access::default();
        assert_eq!(access.authorize(None, Role::Admin).unwrap().name, "loopback");
    }

    #[test]
    fn generated_entries_read_back_from_toml() {
        #[derive(Deserialize)]
        struct File {
            tokens: Vec<TokenEntry>,
        }
        let (entry, token) = TokenEntry::generate("reviewer \"ana\"", Role::Review);
        assert!(token.starts_with("idf_") && token.len() == 68);
        let file: File = toml::from_str(&entry.to_toml()).unwrap();
        assert_eq!(file.tokens, vec![entry.clone()]);
        let bad = TokenEntry { sha256: "abc".into(), ..entry.clone() };
        assert!(Access::new(&[bad]).is_err());
        assert!(Access::new(&[entry.clone(), entry]).is_err(), "a duplicate is refused");
    }

    #[test]
    fn browsers_may_call_only_from_the_console_itself() {
        let open = Access::default();
        assert!(open.check_origin(None, Some("127.0.0.1:8080")).is_ok(), "curl sends no Origin");
        assert!(open.check_origin(Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080")).is_ok());
        assert!(open.check_origin(Some("http://localhost:8080"), Some("localhost:8080")).is_ok());
        assert!(open.check_origin(Some("https://evil.example"), Some("127.0.0.1:8080")).is_err());
        assert!(
            open.check_origin(Some("http://evil.example:8080"), Some("evil.example:8080")).is_err(),
            "rebound"
        );
        let (entry, _) = TokenEntry::generate("ops", Role::Admin);
        let guarded = Access::new(&[entry]).unwrap();
        assert!(guarded.check_origin(Some("https://idf.internal"), Some("idf.internal")).is_ok());
        assert!(guarded.check_origin(Some("https://evil.example"), Some("idf.internal")).is_err());
    }

    #[test]
    fn a_server_beyond_loopback_needs_tls_and_tokens() {
        let loopback: SocketAddr = "127.0.0.1:50051".parse().unwrap();
        let anywhere: SocketAddr = "0.0.0.0:50051".parse().unwrap();
        assert!(check_exposure(&[loopback], false, false, false).is_ok());
        assert!(
            check_exposure(&[loopback, anywhere], true, false, false).unwrap_err().contains("without TLS")
        );
        assert!(check_exposure(&[anywhere], false, true, false).unwrap_err().contains("without tokens"));
        assert!(check_exposure(&[anywhere], true, true, false).is_ok());
        assert!(check_exposure(&[anywhere], false, false, true).is_ok(), "--insecure");
        assert!(check_exposure(&["[::1]:1".parse().unwrap()], false, false, false).is_ok());
    }
}
