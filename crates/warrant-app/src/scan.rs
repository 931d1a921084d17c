//! Leaked-secret scans: every source `warrant_scan` reads (paths, standard input, git history,
//! staged changes, archives inside them), then, when a store is given, the link from each found
//! secret to the identity it unlocks, recorded as occurrences and NHI2 findings.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use warrant_core::{Fingerprinter, Inventory, Timestamp};
use warrant_scan::codeowners::{Codeowners, workflow_roles};
use warrant_scan::link::{KEY_ID_KIND, Link, leak_findings, link, per_secret_ids};
use warrant_scan::validate::{Validation, validate_report, validators_with_base};
use warrant_scan::{Origin, RuleSet, ScanOptions, ScanReport, SecretFinding};
use warrant_store::{OwnerEvidence, SecretOccurrence, Store};

use crate::error::StoreContext;
use crate::{AppError, Cancel, Phase, Progress};

/// What a scan found.
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: ScanReport,
    /// The rule set in force (built-in rules, the options' rule files, minus disabled rules).
    pub rules: RuleSet,
    /// Found secrets linked to inventory identities (empty without a store).
    pub links: Vec<Link>,
    /// Each distinct secret's verdict from its provider (empty unless validation was asked for).
    pub validations: Vec<Validation>,
}

/// Scans what `options` names. With a `store`, the findings are linked to its inventory and
/// recorded (where each secret was found, and an NHI2 finding per identity and leaked
/// credential) at `now`.
/// With `validate` (base URLs replacing providers' real API endpoints, by provider name; empty
/// for the real APIs), each distinct secret is checked with its provider: the raw values are
/// kept in memory for that, and leave the report only when `options` asked to reveal them.
/// The scan itself runs to completion once started; `cancel` is checked before it, before
/// validation and before anything is recorded.
pub async fn scan(
    options: &ScanOptions,
    validate: Option<&BTreeMap<String, String>>,
    fingerprinter: &Fingerprinter,
    store: Option<&Store>,
    now: Timestamp,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<ScanOutcome, AppError> {
    cancel.check()?;
    // Unknown provider names are an error before anything is read.
    let validators = validate.map(validators_with_base).transpose()?;
    let report_progress: &(dyn Fn(u64) + Sync) = &|bytes| progress.position(bytes);
    let rules = options.rule_set(&RuleSet::builtin().map_err(warrant_scan::ScanError::from)?)?;
    progress.phase(Phase::Scanning, None);
    let report = if validators.is_some() && !options.reveal_secrets {
        let mut keep = options.clone();
        keep.reveal_secrets = true;
        warrant_scan::scan_with_rules(&keep, &rules, fingerprinter, Some(report_progress))
    } else {
        warrant_scan::scan_with_rules(options, &rules, fingerprinter, Some(report_progress))
    };
    progress.done(Phase::Scanning);
    let mut report = report?;
    let validations = match &validators {
        Some(validators) => {
            cancel.check()?;
            progress.phase(Phase::Validating, None);
            let validations = validate_report(&report, validators);
            progress.done(Phase::Validating);
            validations
        }
        None => Vec::new(),
    };
    if !options.reveal_secrets {
        report.revealed.clear();
    }
    let mut links = Vec::new();
    if let Some(store) = store {
        cancel.check()?;
        let inventory = store
            .load_inventory()
            .await
            .context("loading the inventory")?;
        links = record(store, &inventory, fingerprinter, &report.findings, now).await?;
        let evidence = codeowners_evidence(&scanned_roots(options), &report.findings, &links, now);
        store
            .record_owner_evidence(&evidence, now)
            .await
            .context("saving owners from CODEOWNERS")?;
        // The working-tree paths were scanned whole: leaks no longer there are fixed.
        close_fixed(store, &options.paths, &report, &links, now).await?;
    }
    Ok(ScanOutcome {
        report,
        rules,
        links,
        validations,
    })
}

/// The repositories a scan read: directories it walked, and the git repositories of history
/// and staged scans.
fn scanned_roots(options: &ScanOptions) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = options
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .cloned()
        .collect();
    roots.extend(options.git_history.iter().cloned());
    roots.extend(options.staged.iter().cloned());
    roots.sort();
    roots.dedup();
    roots
}

/// A finding's path inside `root`, when it was found there (a working-tree file under the
/// root, or a blob of the root's git history or index).
fn path_in(origin: &Origin, root: &Path) -> Option<String> {
    match origin {
        Origin::File { path } => Path::new(path)
            .strip_prefix(root)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/")),
        Origin::Git { repo, path, .. } | Origin::Staged { repo, path } => {
            (Path::new(repo) == root).then(|| path.clone())
        }
        Origin::Archive { container, .. } => path_in(container, root),
        Origin::Stdin => None,
    }
}

/// Owners from the CODEOWNERS of the repositories scanned: for each linked secret, the owners
/// of the file it was found in (the code uses that identity), and for each AWS role a
/// workflow assumes, the owners of the workflow.
fn codeowners_evidence(
    roots: &[PathBuf],
    findings: &[SecretFinding],
    links: &[Link],
    now: Timestamp,
) -> Vec<OwnerEvidence> {
    let mut identities_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in links {
        identities_of
            .entry(l.fingerprint.as_str())
            .or_default()
            .push(l.identity.as_str());
    }
    let mut out = Vec::new();
    for root in roots {
        let codeowners = match Codeowners::find(root) {
            Ok(Some(c)) => c,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(repository = %root.display(), %error, "The CODEOWNERS file could not be read.");
                continue;
            }
        };
        for (line, problem) in &codeowners.problems {
            tracing::warn!(
                "{}:{line}: {problem} (line skipped, as GitHub does)",
                root.join(&codeowners.file).display()
            );
        }
        let mut add = |identity: &str, path: &str| {
            let Some(owned) = codeowners.owners_of(path) else {
                return;
            };
            for owner in owned.owners {
                out.push(OwnerEvidence {
                    identity: identity.to_string(),
                    owner: owner.clone(),
                    source: "codeowners".to_string(),
                    detail: format!(
                        "{}:{}:{path}",
                        root.join(&codeowners.file).display(),
                        owned.line
                    ),
                    at: now,
                });
            }
        };
        for f in findings {
            let Some(identities) = identities_of.get(f.fingerprint.as_str()) else {
                continue;
            };
            let Some(path) = path_in(&f.origin, root) else {
                continue;
            };
            for identity in identities {
                add(identity, &path);
            }
        }
        for role in workflow_roles(root) {
            add(&role.role_arn, &role.file);
        }
    }
    out
}

/// Where each secret was found, with the identity it unlocks when linked, and the credential
/// it leaks unless it is only that credential's key id (alone no leak: the location does not
/// keep the credential's finding open).
fn occurrences(findings: &[SecretFinding], links: &[Link]) -> Vec<SecretOccurrence> {
    let link_of: HashMap<&str, &Link> = links.iter().map(|l| (l.fingerprint.as_str(), l)).collect();
    findings
        .iter()
        .map(|f| {
            let (author, date) = match &f.origin {
                Origin::Git { author, date, .. } => (author.clone(), *date),
                _ => (None, None),
            };
            SecretOccurrence {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                path: f.origin.display_path(),
                commit: f.origin.commit().map(str::to_string),
                line: u32::try_from(f.line).unwrap_or(u32::MAX),
                column: u32::try_from(f.column).unwrap_or(u32::MAX),
                author,
                date,
                identity: link_of
                    .get(f.fingerprint.as_str())
                    .map(|l| l.identity.clone()),
                credential: link_of
                    .get(f.fingerprint.as_str())
                    .filter(|_| f.kind.as_deref() != Some(KEY_ID_KIND))
                    .map(|l| l.credential.clone()),
            }
        })
        .collect()
}

/// Links findings to `inventory` and records occurrences and NHI2 findings, one per identity
/// and leaked credential (a partial run: findings open and refresh, none resolve but those a
/// credential's finding supersedes: the per-secret findings earlier versions raised).
pub async fn record(
    store: &Store,
    inventory: &Inventory,
    fingerprinter: &Fingerprinter,
    findings: &[SecretFinding],
    now: Timestamp,
) -> Result<Vec<Link>, AppError> {
    let links = link(fingerprinter, inventory, findings);
    store
        .record_secret_occurrences(&occurrences(findings, &links))
        .await
        .context("saving where secrets were found")?;
    let raised = leak_findings(findings, &links);
    store
        .record_findings(now, &raised)
        .await
        .context("saving leaked-secret findings")?;
    let superseded = store
        .resolve_findings(&per_secret_ids(&links, &raised), now)
        .await
        .context("resolving per-secret leaked-secret findings")?;
    if superseded > 0 {
        tracing::info!(
            superseded,
            "Leaked-secret findings raised per secret are now one per credential: the old ones are resolved."
        );
    }
    Ok(links)
}

/// After a complete scan of `rescanned` (working-tree files and directories), forgets the leak
/// locations there that `report` no longer finds, and resolves the leaked-secret findings of
/// credentials left with no location of any of their secrets (removed everywhere they were
/// found; if one is still in git history, a history scan finds it again). Returns how many
/// findings were resolved.
pub async fn close_fixed(
    store: &Store,
    rescanned: &[std::path::PathBuf],
    report: &ScanReport,
    links: &[Link],
    now: Timestamp,
) -> Result<u64, AppError> {
    if rescanned.is_empty() {
        return Ok(0);
    }
    let roots: Vec<String> = rescanned.iter().map(|p| p.display().to_string()).collect();
    let unscanned: Vec<String> = report
        .skipped
        .iter()
        .map(|s| s.origin.display_path())
        .collect();
    let gone = store
        .prune_secret_occurrences(&roots, &occurrences(&report.findings, links), &unscanned)
        .await
        .context("forgetting fixed leak locations")?;
    // A finding's id is made from its credential (or, for a location recorded before findings
    // were per credential, the secret's fingerprint): what the store names for each gone leak.
    let ids: Vec<String> = gone
        .iter()
        .map(|(leaked, identity)| warrant_scan::link::leaked_secret_id(identity, leaked))
        .collect();
    let resolved = store
        .resolve_findings(&ids, now)
        .await
        .context("resolving fixed leaked-secret findings")?;
    if resolved > 0 {
        tracing::info!(
            resolved,
            "Leaked secrets no longer found: findings resolved."
        );
    }
    Ok(resolved)
}
