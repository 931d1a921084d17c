//! Leaked secrets linked to the identities they unlock, and the NHI2 finding each link raises.
//!
//! A found secret belongs to an inventory identity when its keyed fingerprint is the
//! fingerprint of a credential the inventory recorded (MCP config secrets, Kubernetes tokens),
//! when its text is a provider key id the inventory lists, or when it is an AWS secret key a
//! few lines from such a key id in the same blob.

use std::collections::HashMap;

use serde::Serialize;
use warrant_core::fingerprint::{is_fingerprint, is_fingerprint_credential_id};
use warrant_core::{Finding, Fingerprinter, Inventory, RuleId, Severity};

use crate::{Origin, SecretFinding};

/// A found secret tied to the identity it unlocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub fingerprint: String,
    pub identity: String,
    /// How the link was made.
    pub by: &'static str,
}

/// The rule kind of identifiers that name a credential without unlocking it.
pub const KEY_ID_KIND: &str = "key-id";

/// How far (in lines) an AWS secret access key may sit from its key id to be linked through it.
const NEARBY_LINES: usize = 5;

/// Whether a credential id is made from a fingerprint (`fp1:…`, or the `fp:fp1:…` Kubernetes
/// token ids) rather than a provider key id: such ids are not text anyone leaks.
fn is_fingerprint_id(id: &str) -> bool {
    is_fingerprint(id) || is_fingerprint_credential_id(id)
}

/// Links findings to inventory credentials (see the module documentation), sorted by identity
/// and fingerprint, one link per pair.
pub fn link(
    fingerprinter: &Fingerprinter,
    inventory: &Inventory,
    findings: &[SecretFinding],
) -> Vec<Link> {
    let mut by_fingerprint: HashMap<String, (&str, &'static str)> = HashMap::new();
    for credential in &inventory.credentials {
        if let Some(fp) = &credential.fingerprint {
            by_fingerprint.insert(fp.clone(), (credential.identity.as_str(), "fingerprint"));
        }
        // Provider key ids (AKIA…, token ids) are the credential's id; scanners find them as
        // text, so their fingerprints meet.
        if !is_fingerprint_id(&credential.id) {
            by_fingerprint
                .entry(fingerprinter.fingerprint(credential.id.as_bytes()))
                .or_insert((credential.identity.as_str(), "key id"));
        }
    }
    let mut links: Vec<Link> = Vec::new();
    let mut linked_at: Vec<(&SecretFinding, &str)> = Vec::new();
    for f in findings {
        if let Some((identity, by)) = by_fingerprint.get(&f.fingerprint) {
            links.push(Link {
                fingerprint: f.fingerprint.clone(),
                identity: identity.to_string(),
                by,
            });
            linked_at.push((f, identity));
        }
    }
    // A secret access key travels with its key id: link it to the key id's identity when both
    // sit within a few lines of each other in one blob.
    for f in findings {
        if f.provider != "aws" || by_fingerprint.contains_key(&f.fingerprint) {
            continue;
        }
        if let Some((_, identity)) = linked_at.iter().find(|(k, _)| {
            k.provider == "aws" && k.origin == f.origin && k.line.abs_diff(f.line) <= NEARBY_LINES
        }) {
            links.push(Link {
                fingerprint: f.fingerprint.clone(),
                identity: identity.to_string(),
                by: "next to its key id",
            });
        }
    }
    links.sort_by(|a, b| (&a.identity, &a.fingerprint).cmp(&(&b.identity, &b.fingerprint)));
    links.dedup_by(|a, b| a.identity == b.identity && a.fingerprint == b.fingerprint);
    links
}

/// Where a finding was found, for people: `path:line`, with the commit, author and date for
/// git history.
pub fn where_found(f: &SecretFinding) -> String {
    match &f.origin {
        Origin::Git {
            commit,
            author,
            date,
            ..
        } => format!(
            "{}:{} in commit {}{}{}",
            f.origin.display_path(),
            f.line,
            commit.get(..12).unwrap_or(commit),
            author
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default(),
            date.map(|d| format!(" on {}", d.format("%Y-%m-%d")))
                .unwrap_or_default()
        ),
        _ => format!("{}:{}", f.origin.display_path(), f.line),
    }
}

/// NHI2 findings for the identities whose secrets leaked, one per identity and secret; a
/// secret found only as its key id (rule kind [`KEY_ID_KIND`]) raises none.
pub fn leak_findings(findings: &[SecretFinding], links: &[Link]) -> Vec<Finding> {
    let mut out = Vec::new();
    for link in links {
        let places: Vec<&SecretFinding> = findings
            .iter()
            .filter(|f| f.fingerprint == link.fingerprint)
            .collect();
        let Some(first) = places.first() else {
            continue;
        };
        // A key id names a credential and is public by design (it appears in exports, logs and
        // consoles): alone it is not a leak. Its secret, linked next to it, raises the finding.
        if places
            .iter()
            .all(|f| f.kind.as_deref() == Some(KEY_ID_KIND))
        {
            continue;
        }
        let mut evidence = vec![format!(
            "Secret of type \"{}\" ({}), which belongs to this identity, was found in {} place(s); matched by {}.",
            first.rule_name,
            first.preview,
            places.len(),
            link.by
        )];
        evidence.extend(
            places
                .iter()
                .take(10)
                .map(|f| format!("Found at {}.", where_found(f))),
        );
        if places.len() > 10 {
            evidence.push(format!("… and {} more places.", places.len() - 10));
        }
        let in_history = places
            .iter()
            .any(|f| matches!(f.origin, Origin::Git { .. }));
        out.push(leaked_secret_finding(
            &link.identity,
            &link.fingerprint,
            evidence,
            in_history,
        ));
    }
    out
}

/// The `leaked-secret` rule's finding: everything the rule says (id, title, OWASP NHI2,
/// severity, ATT&CK technique, remediation) is in this one place.
fn leaked_secret_finding(
    identity: &str,
    fingerprint: &str,
    evidence: Vec<String>,
    in_history: bool,
) -> Finding {
    Finding::new(
        RuleId::LeakedSecret,
        RuleId::LeakedSecret.spec().title,
        Severity::Critical,
        identity,
        fingerprint,
        evidence,
        if in_history {
            "Revoke and rotate the credential now (removing it from the files does not \
             un-leak it), then purge it from git history and check the identity's activity \
             since the first commit that held it."
        } else {
            RuleId::LeakedSecret.spec().remediation
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Confidence;
    use warrant_core::OwaspNhi;
    use warrant_core::fingerprint::FINGERPRINT_PREFIX;
    use warrant_core::{Credential, CredentialKind};

    fn found(
        fingerprinter: &Fingerprinter,
        secret: &str,
        provider: &str,
        line: usize,
    ) -> SecretFinding {
        SecretFinding {
            rule: format!("{provider}-rule"),
            rule_name: format!("{provider} secret"),
            provider: provider.to_string(),
            kind: None,
            confidence: Confidence::High,
            origin: Origin::File {
                path: "app/.env".into(),
            },
            line,
            column: 1,
            end_line: line,
            end_column: 20,
            fingerprint: fingerprinter.fingerprint(secret.as_bytes()),
            preview: warrant_core::redact(secret),
            entropy: 4.0,
            snippet_redacted: String::new(),
        }
    }

    fn inventory(fingerprinter: &Fingerprinter) -> Inventory {
        let mut inventory = Inventory::default();
        inventory.credentials.push(Credential::new(
            "AKIAEXAMPLEKEYID0001",
            "arn:aws:iam::111122223333:user/deploy",
            CredentialKind::AccessKey,
        ));
        let mut token = Credential::new(
            "mcp:github#env.GITHUB_TOKEN",
            "mcp:github",
            CredentialKind::Secret,
        );
        token.fingerprint = Some(fingerprinter.fingerprint(b"ghp_exampletokenvalue"));
        inventory.credentials.push(token);
        inventory
    }

    #[test]
    fn key_ids_fingerprints_and_nearby_secret_keys_link() {
        let fingerprinter = Fingerprinter::new(b"0123456789abcdef");
        let findings = vec![
            found(&fingerprinter, "AKIAEXAMPLEKEYID0001", "aws", 3),
            found(&fingerprinter, "secretaccesskeyexample", "aws", 4),
            found(&fingerprinter, "ghp_exampletokenvalue", "github", 9),
            found(&fingerprinter, "unrelated", "slack", 12),
        ];
        let links = link(&fingerprinter, &inventory(&fingerprinter), &findings);
        let by: std::collections::BTreeSet<(&str, &str)> =
            links.iter().map(|l| (l.identity.as_str(), l.by)).collect();
        let expected: std::collections::BTreeSet<(&str, &str)> = [
            ("arn:aws:iam::111122223333:user/deploy", "key id"),
            (
                "arn:aws:iam::111122223333:user/deploy",
                "next to its key id",
            ),
            ("mcp:github", "fingerprint"),
        ]
        .into_iter()
        .collect();
        assert_eq!(links.len(), 3);
        assert_eq!(by, expected);
        let nhi2 = leak_findings(&findings, &links);
        assert_eq!(nhi2.len(), 3);
        assert!(
            nhi2.iter()
                .all(|f| f.owasp == OwaspNhi::Nhi2 && f.rule == "leaked-secret")
        );
        assert!(nhi2[0].evidence[1].starts_with("Found at app/.env:"));
    }

    #[test]
    fn a_key_id_alone_is_linked_but_raises_no_leak() {
        // Defect: access key ids in a `list-access-keys` export were critical leaked secrets.
        let fingerprinter = Fingerprinter::new(b"0123456789abcdef");
        let mut key_id = found(&fingerprinter, "AKIAEXAMPLEKEYID0001", "aws", 3);
        key_id.kind = Some(KEY_ID_KIND.to_string());
        let alone = vec![key_id.clone()];
        let links = link(&fingerprinter, &inventory(&fingerprinter), &alone);
        assert_eq!(links.len(), 1, "the id still names its identity");
        assert!(leak_findings(&alone, &links).is_empty());
        // With its secret beside it, the secret is the leak.
        let pair = vec![
            key_id,
            found(&fingerprinter, "secretaccesskeyexample", "aws", 4),
        ];
        let links = link(&fingerprinter, &inventory(&fingerprinter), &pair);
        let nhi2 = leak_findings(&pair, &links);
        assert_eq!(nhi2.len(), 1);
        assert!(
            nhi2[0].evidence[0].contains("next to its key id"),
            "{:?}",
            nhi2[0].evidence
        );
    }

    #[test]
    fn credential_ids_made_of_fingerprints_are_not_key_ids() {
        let fingerprinter = Fingerprinter::new(b"0123456789abcdef");
        let fingerprint = fingerprinter.fingerprint(b"a kubernetes token");
        assert!(fingerprint.starts_with(FINGERPRINT_PREFIX));
        let mut inventory = Inventory::default();
        for id in [fingerprint.clone(), format!("fp:{fingerprint}")] {
            inventory.credentials.push(Credential::new(
                id,
                "system:serviceaccount:ci:builder",
                CredentialKind::ServiceAccountToken,
            ));
        }
        // Text equal to such an id (a fingerprint printed in a report) is no leaked credential.
        let findings = vec![
            found(&fingerprinter, &fingerprint, "generic", 1),
            found(&fingerprinter, &format!("fp:{fingerprint}"), "generic", 2),
        ];
        assert!(link(&fingerprinter, &inventory, &findings).is_empty());
        assert!(is_fingerprint_id(&fingerprint));
        assert!(!is_fingerprint_id("AKIAEXAMPLEKEYID0001"));
    }
}
