//! Linked accounts: the clusters of accounts connected through shared documents.
//!
//! A link joins two accounts' documents that match each other; accounts connected by any chain of
//! links form a cluster (connected components, by union-find with path halving). Investigators get
//! the largest rings first, each with the documents that link it, a reviewer account and the account
//! it reviews sharing one ID among them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::findings::ReasonCode;
use crate::domain::ids::{AccountId, DocumentId};

/// Two accounts' documents that match.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AccountLink {
    /// One account (the smaller id).
    pub account_a: AccountId,
    /// Its document.
    pub document_a: DocumentId,
    /// The other account.
    pub account_b: AccountId,
    /// Its document.
    pub document_b: DocumentId,
    /// The reuse reason code.
    pub kind: ReasonCode,
    /// Hamming distance of the deciding fingerprint (0 for exact matches).
    pub distance: Option<u32>,
}

/// Accounts connected through shared documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountCluster {
    /// The accounts, sorted.
    pub account_ids: Vec<AccountId>,
    /// The links that connect them, sorted.
    pub links: Vec<AccountLink>,
}

/// Groups links into clusters, largest first (ties by first account id).
pub fn clusters(links: Vec<AccountLink>) -> Vec<AccountCluster> {
    let mut index: BTreeMap<AccountId, usize> = BTreeMap::new();
    for link in &links {
        for account in [&link.account_a, &link.account_b] {
            let next = index.len();
            index.entry(account.clone()).or_insert(next);
        }
    }
    let mut parent: Vec<usize> = (0..index.len()).collect();
    fn root(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    for link in &links {
        let (a, b) = (root(&mut parent, index[&link.account_a]), root(&mut parent, index[&link.account_b]));
        parent[a.max(b)] = a.min(b);
    }
    let mut by_root: BTreeMap<usize, (BTreeSet<AccountId>, BTreeSet<AccountLink>)> = BTreeMap::new();
    for link in links {
        let cluster = by_root.entry(root(&mut parent, index[&link.account_a])).or_default();
        cluster.0.insert(link.account_a.clone());
        cluster.0.insert(link.account_b.clone());
        cluster.1.insert(link);
    }
    let mut clusters: Vec<AccountCluster> = by_root
        .into_values()
        .map(|(accounts, links)| AccountCluster {
            account_ids: accounts.into_iter().collect(),
            links: links.into_iter().collect(),
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.account_ids.len().cmp(&a.account_ids.len()).then(a.account_ids.cmp(&b.account_ids))
    });
    clusters
}

/// A registered document that shares an exact fingerprint with a query: its file, its pixels or its
/// document number.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactHit {
    /// The other registration's account.
    pub account_id: AccountId,
    /// The other registration's document id.
    pub document_id: DocumentId,
    /// What is shared, the strongest first: `reuse.same_file`, `reuse.same_image` or
    /// `reuse.same_document_number`.
    pub kind: ReasonCode,
    /// When it was registered (Unix ms).
    pub registered_at_ms: i64,
}

/// Two accounts' registrations with identical pixels or the same document number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactLink {
    /// The account with the smaller id.
    pub account_a: AccountId,
    /// Its document.
    pub document_a: DocumentId,
    /// The other account.
    pub account_b: AccountId,
    /// Its document.
    pub document_b: DocumentId,
    /// What is shared, as for [`ExactHit::kind`].
    pub kind: ReasonCode,
}

/// Perceptual reuse between two registrations, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// The later registration's account.
    pub account_id: AccountId,
    /// Its document.
    pub document_id: DocumentId,
    /// The earlier registration's account.
    pub other_account_id: AccountId,
    /// Its document.
    pub other_document_id: DocumentId,
    /// The reuse kind.
    pub kind: ReasonCode,
    /// The deciding distance.
    pub distance: u32,
}

/// One registered document of an account, as the account view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountDocument {
    /// The document.
    pub document_id: DocumentId,
    /// The decision made when it was registered (`accept`, `review`, `reject`).
    pub decision: String,
    /// The risk score given.
    pub risk_score: f64,
    /// The reason codes of its findings.
    pub reason_codes: Vec<String>,
    /// When it was registered, Unix ms.
    pub registered_at_unix_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: &str, b: &str) -> AccountLink {
        AccountLink {
            account_a: AccountId::new(a).unwrap(),
            document_a: DocumentId::new(format!("{a}-doc")).unwrap(),
            account_b: AccountId::new(b).unwrap(),
            document_b: DocumentId::new(format!("{b}-doc")).unwrap(),
            kind: ReasonCode::ReuseSameFile,
            distance: Some(0),
        }
    }

    #[test]
    fn chains_join_and_rings_sort_largest_first() {
        let found = clusters(vec![link("e", "f"), link("a", "b"), link("c", "d"), link("b", "c")]);
        let accounts: Vec<Vec<&str>> =
            found.iter().map(|c| c.account_ids.iter().map(AccountId::as_str).collect()).collect();
        assert_eq!(accounts, [vec!["a", "b", "c", "d"], vec!["e", "f"]]);
        assert_eq!(found[0].links.len(), 3);
    }

    #[test]
    fn no_links_no_clusters() {
        assert!(clusters(Vec::new()).is_empty());
    }
}
