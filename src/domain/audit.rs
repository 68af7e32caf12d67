//! The audit log's entries: who registered, looked up or erased what, and when. Identifiers and
//! outcomes only, never image data or fingerprints.

use serde::Serialize;

/// What a caller did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Analysed an upload without registering it (other accounts' matches were shown).
    Analyze,
    /// Analysed and registered an upload.
    Register,
    /// Searched for other accounts' documents matching an image.
    FindMatches,
    /// Read linked-account clusters (one account's, or all).
    AccountLinks,
    /// Erased an account.
    ForgetAccount,
}

impl AuditAction {
    /// The action's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Analyze => "analyze",
            AuditAction::Register => "register",
            AuditAction::FindMatches => "find_matches",
            AuditAction::AccountLinks => "account_links",
            AuditAction::ForgetAccount => "forget_account",
        }
    }

    /// The action stored as `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Analyze, Self::Register, Self::FindMatches, Self::AccountLinks, Self::ForgetAccount]
            .into_iter()
            .find(|action| action.as_str() == name)
    }
}

/// One audited call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When, in Unix milliseconds.
    pub at_unix_ms: i64,
    /// The caller: its token's name, or `loopback` on a server without tokens.
    pub actor: String,
    /// What it did.
    pub action: AuditAction,
    /// The account it named, if any.
    pub account_id: Option<String>,
    /// The document it named, if any.
    pub document_id: Option<String>,
    /// The outcome in a few words (`decision=review matches=2`, `documents_erased=3`).
    pub outcome: String,
}

impl AuditEntry {
    /// An entry for an action taken now.
    pub fn now(
        actor: &str,
        action: AuditAction,
        account_id: Option<&str>,
        document_id: Option<&str>,
        outcome: String,
    ) -> Self {
        let at_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        AuditEntry {
            at_unix_ms,
            actor: actor.to_owned(),
            action,
            account_id: account_id.map(str::to_owned),
            document_id: document_id.map(str::to_owned),
            outcome,
        }
    }
}
