//! Leaked secrets linked to the credentials and identities they unlock, and the NHI2 finding
//! each leaked credential raises.
//!
//! A found secret is part of an inventory credential, and so belongs to its identity, when:
//!
//! - its keyed fingerprint is the fingerprint the inventory recorded for the credential (MCP
//!   config secrets, Kubernetes tokens);
//! - its text is the credential's provider key id (`AKIA…`);
//! - it is an AWS secret access key a few lines from such a key id in the same blob (the
//!   nearest key id, so a file of several key pairs pairs each secret with its own id);
//! - it is a classic GitHub token (`ghp_…`) whose last eight characters are the
//!   `token_last_eight` GitHub lists for a credential authorization (compared as keyed
//!   fingerprints: the connector keeps no part of the token). The other 28 characters are not
//!   compared: they are what GitHub does not give, and 8 characters of which 6 are the token's
//!   checksum are distinctive enough within one organisation's authorizations;
//! - it is an SSH private key whose public half ([`crate::public_key`]) is a deploy key's.
//!
//! Each found piece gives a [`Link`] naming the credential; [`leak_findings`] raises one
//! finding per identity and credential, whatever pieces were found (key id and secret, the same
//! secret in many places), with its id made from the credential so it is stable across runs.
//! A key id alone is public by design and raises none.
//!
//! No sound link exists, from what the connectors record, for: GitHub fine-grained tokens (the
//! API lists a numeric id that no part of `github_pat_…` holds), SSH keys in credential
//! authorizations (their `fingerprint` is in no documented format), GitHub Actions secrets
//! (names only). GCP service-account keys, Entra ID client secrets, Slack and GitLab tokens
//! are not inventoried by any connector. Were they, a GCP key file's `private_key_id` is its
//! key id and would link as AWS key ids do, and its private key beside it as an AWS secret does;
//! Entra's `hint` (a client secret's first three characters) and GitLab's and Slack's token
//! listings (ids and names, no part of the token) identify no token without guessing.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use warrant_core::fingerprint::{
    github_token_last_eight_fingerprint, is_fingerprint, is_fingerprint_credential_id,
    public_key_fingerprint,
};
use warrant_core::{
    CredentialKind, Finding, Fingerprinter, Inventory, RuleId, Severity, attribute,
};

use crate::{Origin, SecretFinding};

/// A found secret tied to the credential it is part of, and the identity that credential
/// authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub fingerprint: String,
    pub identity: String,
    /// The inventory credential's id: findings are raised per identity and credential.
    pub credential: String,
    /// How the link was made.
    pub by: &'static str,
}

/// The rule kind of identifiers that name a credential without unlocking it.
pub const KEY_ID_KIND: &str = "key-id";
/// The rule kind of an AWS secret access key, the half that travels with a key id.
const SECRET_KEY_KIND: &str = "secret-key";

/// How far (in lines) an AWS secret access key may sit from its key id to be linked through it.
const NEARBY_LINES: usize = 5;

const BY_FINGERPRINT: &str = "fingerprint";
const BY_KEY_ID: &str = "key id";
const BY_NEARBY: &str = "next to its key id";
const BY_LAST_EIGHT: &str = "last eight characters";
const BY_PUBLIC_KEY: &str = "public key";

/// Token prefixes whose last eight characters make a link handle; the prefix is part of the
/// handle, so only a token of the type the provider listed can match.
const GITHUB_TOKEN_PREFIXES: &[&str] = &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"];

/// Whether a credential id is made from a fingerprint (`fp1:…`, or the `fp:fp1:…` Kubernetes
/// token ids) rather than a provider key id: such ids are not text anyone leaks.
fn is_fingerprint_id(id: &str) -> bool {
    is_fingerprint(id) || is_fingerprint_credential_id(id)
}

/// Keyed fingerprints of what ties a secret to its credential without being the secret: the
/// last eight characters of a GitHub token (with its type), the public key of a private key.
/// Computed where the raw secret is at hand (the collector); only these fingerprints leave it.
pub fn handles(secret: &[u8], fingerprinter: &Fingerprinter) -> Vec<String> {
    let secret = secret.trim_ascii();
    let mut out = Vec::new();
    if let Ok(text) = std::str::from_utf8(secret)
        && let Some(prefix) = GITHUB_TOKEN_PREFIXES.iter().find(|p| text.starts_with(**p))
        && text.len() >= prefix.len() + 8
        && text
            .bytes()
            .skip(prefix.len())
            .all(|b| b.is_ascii_alphanumeric())
        && let Some(last_eight) = text.get(text.len() - 8..)
    {
        out.push(github_token_last_eight_fingerprint(
            fingerprinter,
            prefix,
            last_eight,
        ));
    }
    if secret.starts_with(b"-----BEGIN ")
        && let Some(public) = crate::public_key::openssh_public_key(secret)
    {
        out.push(public_key_fingerprint(fingerprinter, &public));
    }
    out
}

/// What a found piece links to.
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    identity: &'a str,
    credential: &'a str,
    by: &'static str,
}

impl Target<'_> {
    fn link(&self, fingerprint: &str, by: &'static str) -> Link {
        Link {
            fingerprint: fingerprint.to_string(),
            identity: self.identity.to_string(),
            credential: self.credential.to_string(),
            by,
        }
    }
}

/// Links findings to inventory credentials (see the module documentation), sorted by
/// identity, credential and fingerprint, one link per secret and credential.
pub fn link(
    fingerprinter: &Fingerprinter,
    inventory: &Inventory,
    findings: &[SecretFinding],
) -> Vec<Link> {
    let mut by_fingerprint: HashMap<String, Target<'_>> = HashMap::new();
    let mut by_handle: HashMap<&str, Target<'_>> = HashMap::new();
    for credential in &inventory.credentials {
        let target = |by| Target {
            identity: credential.identity.as_str(),
            credential: credential.id.as_str(),
            by,
        };
        match (&credential.fingerprint, credential.kind) {
            // A deploy key's fingerprint is its public key's: found private keys reach it
            // through theirs. The public key itself is no leak.
            (Some(fp), CredentialKind::DeployKey) => {
                by_handle.insert(fp, target(BY_PUBLIC_KEY));
            }
            (Some(fp), _) => {
                by_fingerprint.insert(fp.clone(), target(BY_FINGERPRINT));
            }
            (None, _) => {}
        }
        // Provider key ids (AKIA…, token ids) are the credential's id; scanners find them as
        // text, so their fingerprints meet.
        if !is_fingerprint_id(&credential.id) {
            by_fingerprint
                .entry(fingerprinter.fingerprint(credential.id.as_bytes()))
                .or_insert(target(BY_KEY_ID));
        }
        if let Some(handle) = credential
            .attributes
            .get(attribute::TOKEN_LAST_EIGHT_FINGERPRINT)
            .and_then(|v| v.as_str())
        {
            by_handle.entry(handle).or_insert(target(BY_LAST_EIGHT));
        }
    }
    let mut links: Vec<Link> = Vec::new();
    for f in findings {
        if let Some(target) = by_fingerprint.get(&f.fingerprint) {
            links.push(target.link(&f.fingerprint, target.by));
        } else if let Some(target) = f.handles.iter().find_map(|h| by_handle.get(h.as_str())) {
            links.push(target.link(&f.fingerprint, target.by));
        }
    }
    links.extend(nearby_secret_keys(&by_fingerprint, findings));
    links.sort_by(|a, b| {
        (&a.identity, &a.credential, &a.fingerprint).cmp(&(
            &b.identity,
            &b.credential,
            &b.fingerprint,
        ))
    });
    links.dedup();
    links
}

/// A secret access key travels with its key id: it is linked to the credential of the nearest
/// AWS key id within [`NEARBY_LINES`] lines in the same blob (the one above it on a tie, as
/// key pairs are written id first), when that key id is the inventory's. A nearer key id the
/// inventory does not list keeps the secret unlinked.
fn nearby_secret_keys(
    by_fingerprint: &HashMap<String, Target<'_>>,
    findings: &[SecretFinding],
) -> Vec<Link> {
    let is_aws =
        |f: &SecretFinding, kind: &str| f.provider == "aws" && f.kind.as_deref() == Some(kind);
    // Key ids by blob, sorted by line: a log can name one key at every record.
    let mut key_ids: HashMap<&Origin, Vec<(usize, Option<&Target<'_>>)>> = HashMap::new();
    for f in findings.iter().filter(|f| is_aws(f, KEY_ID_KIND)) {
        let target = by_fingerprint
            .get(&f.fingerprint)
            .filter(|t| t.by == BY_KEY_ID);
        key_ids.entry(&f.origin).or_default().push((f.line, target));
    }
    for ids in key_ids.values_mut() {
        ids.sort_by_key(|(line, _)| *line);
    }
    let mut out = Vec::new();
    for f in findings {
        if !is_aws(f, SECRET_KEY_KIND) || by_fingerprint.contains_key(&f.fingerprint) {
            continue;
        }
        let Some(ids) = key_ids.get(&f.origin) else {
            continue;
        };
        let from = ids.partition_point(|(line, _)| *line + NEARBY_LINES < f.line);
        let nearest = ids
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|(line, _)| *line <= f.line + NEARBY_LINES)
            .min_by_key(|(line, _)| (line.abs_diff(f.line), *line > f.line));
        if let Some((_, Some(target))) = nearest {
            out.push(target.link(&f.fingerprint, BY_NEARBY));
        }
    }
    out
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

/// How many places the evidence lists.
const PLACES_SHOWN: usize = 10;

/// NHI2 findings for the identities whose credentials leaked, one per identity and credential,
/// whatever pieces of it were found and wherever; a credential found only as its key id (rule
/// kind [`KEY_ID_KIND`]) raises none.
pub fn leak_findings(findings: &[SecretFinding], links: &[Link]) -> Vec<Finding> {
    let mut places: HashMap<&str, Vec<&SecretFinding>> = HashMap::new();
    for f in findings {
        places.entry(f.fingerprint.as_str()).or_default().push(f);
    }
    let mut credentials: BTreeMap<(&str, &str), Vec<&Link>> = BTreeMap::new();
    for l in links {
        credentials
            .entry((l.identity.as_str(), l.credential.as_str()))
            .or_default()
            .push(l);
    }
    let mut out = Vec::new();
    for ((identity, credential), pieces) in credentials {
        let pieces: Vec<(&Link, Vec<&SecretFinding>)> = pieces
            .into_iter()
            .filter_map(|l| {
                let found = places.get(l.fingerprint.as_str())?;
                Some((l, distinct_places(found.clone())))
            })
            .collect();
        let is_key_id = |f: &&SecretFinding| f.kind.as_deref() == Some(KEY_ID_KIND);
        // A key id names a credential and is public by design (it appears in exports, logs and
        // consoles): alone it is not a leak. A secret of the credential found with it is.
        if pieces.iter().all(|(_, p)| p.iter().all(is_key_id)) {
            continue;
        }
        let all = distinct_places(pieces.iter().flat_map(|(_, p)| p.iter().copied()).collect());
        let mut evidence = vec![format!(
            "Credential {credential}, which belongs to this identity, leaked: {} piece(s) of it found in {} place(s).",
            pieces.len(),
            all.len()
        )];
        let mut described: Vec<(bool, String)> = pieces
            .iter()
            .filter_map(|(link, p)| {
                let first = p.first()?;
                let key_id = p.iter().all(is_key_id);
                Some((
                    key_id,
                    format!(
                        "{} \"{}\" ({}), matched by {}, in {} place(s).",
                        if key_id { "Key id" } else { "Secret" },
                        first.rule_name,
                        first.preview,
                        link.by,
                        p.len()
                    ),
                ))
            })
            .collect();
        // The secrets first: they are the leak.
        described.sort();
        evidence.extend(described.into_iter().map(|(_, text)| text));
        evidence.extend(
            all.iter()
                .take(PLACES_SHOWN)
                .map(|f| format!("Found at {} ({}).", where_found(f), f.rule_name)),
        );
        if all.len() > PLACES_SHOWN {
            evidence.push(format!("… and {} more places.", all.len() - PLACES_SHOWN));
        }
        let in_history = all.iter().any(|f| matches!(f.origin, Origin::Git { .. }));
        out.push(leaked_secret_finding(
            identity, credential, evidence, in_history,
        ));
    }
    out
}

/// Findings in path, commit and line order, one per place (a secret two rules matched at one
/// place is one place).
fn distinct_places(mut found: Vec<&SecretFinding>) -> Vec<&SecretFinding> {
    found.sort_by_cached_key(|f| {
        (
            f.origin.display_path(),
            f.origin.commit().map(str::to_string),
            f.line,
            f.column,
        )
    });
    found.dedup_by(|a, b| a.origin == b.origin && a.line == b.line && a.column == b.column);
    found
}

/// The id of the `leaked-secret` finding for a credential of an identity: made from the
/// credential, so every run that finds any piece of it raises the same finding. (Findings
/// raised per secret, before, were made the same way from the secret's fingerprint.)
pub fn leaked_secret_id(identity: &str, credential: &str) -> String {
    Finding::id_of(RuleId::LeakedSecret, identity, credential)
}

/// The ids `leaked-secret` findings had when they were raised per secret rather than per
/// credential (made from the secret's fingerprint), for the secrets of `links`, less any id a
/// finding of `raised` has now. A store that holds such findings resolves them: the finding
/// for their credential supersedes them.
pub fn per_secret_ids(links: &[Link], raised: &[Finding]) -> Vec<String> {
    let mut ids: Vec<String> = links
        .iter()
        .map(|l| Finding::id_of(RuleId::LeakedSecret, &l.identity, &l.fingerprint))
        .filter(|id| raised.iter().all(|f| &f.id != id))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The `leaked-secret` rule's finding: everything the rule says (id, title, OWASP NHI2,
/// severity, ATT&CK technique, remediation) is in this one place.
fn leaked_secret_finding(
    identity: &str,
    credential: &str,
    evidence: Vec<String>,
    in_history: bool,
) -> Finding {
    Finding::new(
        RuleId::LeakedSecret,
        RuleId::LeakedSecret.spec().title,
        Severity::Critical,
        identity,
        credential,
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
    // A throwaway key made for the tests, and its public key as `ssh-keygen -y` prints it.
    use crate::public_key::tests::{ED25519 as DEPLOY_PRIVATE, ED25519_PUBLIC as DEPLOY_PUBLIC};
    use serde_json::Value;
    use warrant_core::fingerprint::FINGERPRINT_PREFIX;
    use warrant_core::{Credential, OwaspNhi};

    const KEY_ID: &str = "AKIAEXAMPLEKEYID0001";
    const USER: &str = "arn:aws:iam::111122223333:user/deploy";
    // Fabricated, with a valid GitHub checksum; its last eight characters are `IN0jWHXy`.
    const CLASSIC: &str = "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";
    const AUTHORIZATION: &str = "github:acme/credential/161195";

    fn fingerprinter() -> Fingerprinter {
        Fingerprinter::new(b"0123456789abcdef")
    }

    fn found(secret: &str, provider: &str, kind: Option<&str>, line: usize) -> SecretFinding {
        found_in("app/.env", secret, provider, kind, line)
    }

    fn found_in(
        path: &str,
        secret: &str,
        provider: &str,
        kind: Option<&str>,
        line: usize,
    ) -> SecretFinding {
        let fingerprinter = fingerprinter();
        SecretFinding {
            rule: format!("{provider}-rule"),
            rule_name: format!("{provider} {}", kind.unwrap_or("secret")),
            provider: provider.to_string(),
            kind: kind.map(str::to_string),
            confidence: Confidence::High,
            origin: Origin::File { path: path.into() },
            line,
            column: 1,
            end_line: line,
            end_column: 20,
            fingerprint: fingerprinter.fingerprint(secret.as_bytes()),
            preview: warrant_core::redact(secret),
            entropy: 4.0,
            snippet_redacted: String::new(),
            handles: handles(secret.as_bytes(), &fingerprinter),
            fixture: false,
        }
    }

    fn key_id(id: &str, line: usize) -> SecretFinding {
        found(id, "aws", Some(KEY_ID_KIND), line)
    }

    fn secret_key(secret: &str, line: usize) -> SecretFinding {
        found(secret, "aws", Some(SECRET_KEY_KIND), line)
    }

    fn inventory() -> Inventory {
        let fingerprinter = fingerprinter();
        let mut inventory = Inventory::default();
        inventory
            .credentials
            .push(Credential::new(KEY_ID, USER, CredentialKind::AccessKey));
        let mut token = Credential::new(
            "mcp:github#env.GITHUB_TOKEN",
            "mcp:github",
            CredentialKind::Secret,
        );
        token.fingerprint = Some(fingerprinter.fingerprint(b"ghp_exampletokenvalue"));
        inventory.credentials.push(token);
        inventory
    }

    /// (identity, credential, how) of each link, sorted.
    fn pairs(links: &[Link]) -> Vec<(&str, &str, &str)> {
        let mut pairs: Vec<_> = links
            .iter()
            .map(|l| (l.identity.as_str(), l.credential.as_str(), l.by))
            .collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn key_ids_fingerprints_and_nearby_secret_keys_link_to_their_credential() {
        let findings = vec![
            key_id(KEY_ID, 3),
            secret_key("secretaccesskeyexample", 4),
            found("ghp_exampletokenvalue", "github", Some("token"), 9),
            found("unrelated", "slack", Some("token"), 12),
        ];
        let links = link(&fingerprinter(), &inventory(), &findings);
        assert_eq!(
            pairs(&links),
            [
                (USER, KEY_ID, BY_KEY_ID),
                (USER, KEY_ID, BY_NEARBY),
                ("mcp:github", "mcp:github#env.GITHUB_TOKEN", BY_FINGERPRINT),
            ]
        );
        let nhi2 = leak_findings(&findings, &links);
        assert_eq!(nhi2.len(), 2, "one per credential: {nhi2:#?}");
        assert!(
            nhi2.iter()
                .all(|f| f.owasp == OwaspNhi::Nhi2 && f.rule == "leaked-secret")
        );
        let aws = nhi2.iter().find(|f| f.identity == USER).unwrap();
        assert_eq!(aws.id, leaked_secret_id(USER, KEY_ID));
        assert!(aws.evidence[0].contains(KEY_ID), "{:?}", aws.evidence);
        assert!(aws.evidence[0].contains("2 piece(s)"), "{:?}", aws.evidence);
        assert!(aws.evidence[1].starts_with("Secret "), "{:?}", aws.evidence);
        assert!(aws.evidence[1].contains(BY_NEARBY), "{:?}", aws.evidence);
        assert!(aws.evidence[2].starts_with("Key id "), "{:?}", aws.evidence);
        assert_eq!(aws.evidence[3], "Found at app/.env:3 (aws key-id).");
        assert_eq!(aws.evidence[4], "Found at app/.env:4 (aws secret-key).");
    }

    /// Issue 12: a key id and its secret raised one critical finding each for one credential.
    #[test]
    fn every_piece_of_a_credential_anywhere_is_one_finding_with_a_stable_id() {
        let mut findings = vec![
            key_id(KEY_ID, 1),
            secret_key("secretaccesskeyexample", 2),
            // The same secret again elsewhere, beside the same key id.
            found_in("ops/creds", KEY_ID, "aws", Some(KEY_ID_KIND), 7),
            found_in(
                "ops/creds",
                "secretaccesskeyexample",
                "aws",
                Some(SECRET_KEY_KIND),
                8,
            ),
        ];
        let links = link(&fingerprinter(), &inventory(), &findings);
        assert_eq!(links.len(), 2, "one per secret: {links:#?}");
        let nhi2 = leak_findings(&findings, &links);
        assert_eq!(nhi2.len(), 1, "{nhi2:#?}");
        assert!(
            nhi2[0].evidence[0].contains("in 4 place(s)"),
            "{:?}",
            nhi2[0].evidence
        );
        // Another run that finds only the secret's first place raises the same finding.
        findings.truncate(2);
        let again = leak_findings(&findings, &link(&fingerprinter(), &inventory(), &findings));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, nhi2[0].id);
        // The ids findings had when raised per secret are superseded, not the new one.
        let old = per_secret_ids(&links, &nhi2);
        assert_eq!(old.len(), 2);
        assert!(!old.contains(&nhi2[0].id));
        assert!(old.contains(&Finding::id_of(
            RuleId::LeakedSecret,
            USER,
            &fingerprinter().fingerprint(b"secretaccesskeyexample")
        )));
    }

    #[test]
    fn a_key_id_alone_is_linked_but_raises_no_leak() {
        // Defect: access key ids in a `list-access-keys` export were critical leaked secrets.
        let alone = vec![key_id(KEY_ID, 3)];
        let links = link(&fingerprinter(), &inventory(), &alone);
        assert_eq!(links.len(), 1, "the id still names its identity");
        assert!(leak_findings(&alone, &links).is_empty());
    }

    #[test]
    fn a_secret_key_pairs_with_its_nearest_key_id_only() {
        const OTHER: &str = "AKIAEXAMPLEKEYID0002";
        let mut inventory = inventory();
        inventory.credentials.push(Credential::new(
            OTHER,
            "arn:aws:iam::111122223333:user/other",
            CredentialKind::AccessKey,
        ));
        // Two profiles of a credentials file: each secret goes with the id above it.
        let findings = vec![
            key_id(KEY_ID, 2),
            secret_key("secret-of-the-first", 3),
            key_id(OTHER, 5),
            secret_key("secret-of-the-second", 6),
        ];
        let links = link(&fingerprinter(), &inventory, &findings);
        let credential_of = |secret: &str| {
            let fp = fingerprinter().fingerprint(secret.as_bytes());
            links
                .iter()
                .find(|l| l.fingerprint == fp)
                .map(|l| l.credential.clone())
        };
        assert_eq!(
            credential_of("secret-of-the-first").as_deref(),
            Some(KEY_ID)
        );
        assert_eq!(
            credential_of("secret-of-the-second").as_deref(),
            Some(OTHER)
        );
        assert_eq!(leak_findings(&findings, &links).len(), 2);

        // A nearer key id the inventory does not list keeps the secret unlinked; so does
        // distance, another file, and a key of another kind (a session token).
        let findings = vec![
            key_id(KEY_ID, 1),
            key_id("AKIAEXAMPLEKEYID0003", 3),
            secret_key("secret-of-an-unknown-key", 4),
            secret_key("too-far-away", 1 + NEARBY_LINES + 1),
            found_in(
                "other/file",
                "in-another-file",
                "aws",
                Some(SECRET_KEY_KIND),
                1,
            ),
            found("a-session-token", "aws", Some("token"), 2),
        ];
        let links = link(&fingerprinter(), &inventory, &findings);
        assert_eq!(pairs(&links), [(USER, KEY_ID, BY_KEY_ID)], "{links:#?}");
        assert!(leak_findings(&findings, &links).is_empty());
    }

    fn authorization(last_eight: &str, prefix: &str) -> Credential {
        let mut credential = Credential::new(
            "github:credential/161195",
            AUTHORIZATION,
            CredentialKind::PersonalAccessToken,
        );
        credential.attributes.insert(
            attribute::TOKEN_LAST_EIGHT_FINGERPRINT.into(),
            Value::String(github_token_last_eight_fingerprint(
                &fingerprinter(),
                prefix,
                last_eight,
            )),
        );
        credential
    }

    #[test]
    fn a_classic_token_links_by_its_last_eight_characters() {
        let mut inventory = Inventory::default();
        inventory
            .credentials
            .push(authorization("IN0jWHXy", "ghp_"));
        let findings = vec![found(CLASSIC, "github", Some("token"), 1)];
        let links = link(&fingerprinter(), &inventory, &findings);
        assert_eq!(
            pairs(&links),
            [(AUTHORIZATION, "github:credential/161195", BY_LAST_EIGHT)]
        );
        assert_eq!(leak_findings(&findings, &links).len(), 1);
    }

    #[test]
    fn a_token_that_differs_in_its_last_eight_characters_or_type_does_not_link() {
        let mut inventory = Inventory::default();
        inventory
            .credentials
            .push(authorization("IN0jWHXy", "ghp_"));
        for other in [
            // The same token but its last eight characters.
            "ghp_UmPu2FDherz96jb327kUXWbepGidq4Tz7Lmc",
            // One character of them.
            "ghp_UmPu2FDherz96jb327kUXWbepGidIN0jWHXz",
            // The same characters, another type of token.
            "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",
            // Not a token at all, ending the same.
            "xyz_UmPu2FDherz96jb327kUXWbepGidIN0jWHXy",
        ] {
            let findings = vec![found(other, "github", Some("token"), 1)];
            assert!(
                link(&fingerprinter(), &inventory, &findings).is_empty(),
                "{other}"
            );
        }
        // An authorization listing other characters links nothing either.
        let mut inventory = Inventory::default();
        inventory
            .credentials
            .push(authorization("IN0jWHXz", "ghp_"));
        let findings = vec![found(CLASSIC, "github", Some("token"), 1)];
        assert!(link(&fingerprinter(), &inventory, &findings).is_empty());
    }

    fn deploy_key(public: &str) -> Inventory {
        let mut inventory = Inventory::default();
        let mut key = Credential::new(
            "github:deploy-key/9001",
            "github:acme/api/deploy-key/9001",
            CredentialKind::DeployKey,
        );
        key.fingerprint = Some(public_key_fingerprint(&fingerprinter(), public));
        inventory.credentials.push(key);
        inventory
    }

    #[test]
    fn a_private_key_links_to_the_deploy_key_of_its_public_half() {
        let findings = vec![found(DEPLOY_PRIVATE, "private-key", Some("private-key"), 1)];
        let links = link(&fingerprinter(), &deploy_key(DEPLOY_PUBLIC), &findings);
        assert_eq!(
            pairs(&links),
            [(
                "github:acme/api/deploy-key/9001",
                "github:deploy-key/9001",
                BY_PUBLIC_KEY
            )]
        );
        assert_eq!(leak_findings(&findings, &links).len(), 1);
        // Another public key (one byte of the key differs) links nothing; nor does the public
        // key itself found as text: it is no secret.
        let other = format!("{}c", DEPLOY_PUBLIC.strip_suffix('b').unwrap());
        assert!(link(&fingerprinter(), &deploy_key(&other), &findings).is_empty());
        let public = vec![found(DEPLOY_PUBLIC, "generic", None, 1)];
        assert!(link(&fingerprinter(), &deploy_key(DEPLOY_PUBLIC), &public).is_empty());
    }

    #[test]
    fn credential_ids_made_of_fingerprints_are_not_key_ids() {
        let fingerprint = fingerprinter().fingerprint(b"a kubernetes token");
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
            found(&fingerprint, "generic", None, 1),
            found(&format!("fp:{fingerprint}"), "generic", None, 2),
        ];
        assert!(link(&fingerprinter(), &inventory, &findings).is_empty());
        assert!(is_fingerprint_id(&fingerprint));
        assert!(!is_fingerprint_id("AKIAEXAMPLEKEYID0001"));
    }
}
