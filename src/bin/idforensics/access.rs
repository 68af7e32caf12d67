//! `token-new` and `audit`: making bearer tokens and reading the audit log.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::args::{AuditArgs, TokenNewArgs};
use crate::{open_store, overrides};
use idforensics::frontends::access::TokenEntry;
use idforensics::frontends::settings::Settings;

/// Appends a new token's entry to the tokens file and prints the token.
pub(crate) fn token_new(args: TokenNewArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.name.trim().is_empty(), "--name must not be empty");
    let (entry, token) = TokenEntry::generate(&args.name, args.role);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.tokens_file)
        .with_context(|| format!("opening {}", args.tokens_file.display()))?;
    writeln!(file, "\n{}", entry.to_toml())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", args.tokens_file.display()))?;
    eprintln!(
        "added {:?} (role {}) to {}; restart the server to load it. The token, shown only now:",
        args.name,
        args.role.as_str(),
        args.tokens_file.display()
    );
    println!("{token}");
    Ok(())
}

/// Prints audit entries as JSON lines.
pub(crate) fn audit(config: Option<&Path>, args: AuditArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(config, overrides(args.common))?;
    let store = open_store(&settings)?.context("give --data-dir or --postgres")?;
    let mut out = std::io::stdout().lock();
    for (position, entry) in store.audit_entries(args.after, args.limit)? {
        let mut line = serde_json::to_value(&entry)?;
        line["position"] = position.into();
        writeln!(out, "{line}")?;
    }
    Ok(())
}
