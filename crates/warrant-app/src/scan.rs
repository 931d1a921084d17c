//! Leaked-secret scans: every source `warrant_scan` reads (paths, standard input, git history,
//! staged changes, archives inside them), then, when a store is given, the link from each found
//! secret to the identity it unlocks, recorded as occurrences and NHI2 findings.

use std::collections::{BTreeMap, HashMap};

use warrant_core::{Fingerprinter, Inventory, Timestamp};
use warrant_scan::link::{Link, leak_findings, link};
use warrant_scan::validate::{Validation, validate_report, validators_with_base};
use warrant_scan::{Origin, RuleSet, ScanOptions, ScanReport, SecretFinding};
use warrant_store::{SecretOccurrence, Store};

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
/// recorded (where each secret was found, and an NHI2 finding per linked identity) at `now`.
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

/// Where each secret was found, with the identity it unlocks when linked.
fn occurrences(findings: &[SecretFinding], links: &[Link]) -> Vec<SecretOccurrence> {
    let identity_of: HashMap<&str, &str> = links
        .iter()
        .map(|l| (l.fingerprint.as_str(), l.identity.as_str()))
        .collect();
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
                identity: identity_of
                    .get(f.fingerprint.as_str())
                    .map(|s| s.to_string()),
            }
        })
        .collect()
}

/// Links findings to `inventory` and records occurrences and NHI2 findings (a partial run:
/// findings open and refresh, none resolve).
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
    store
        .record_findings(now, &leak_findings(findings, &links))
        .await
        .context("saving leaked-secret findings")?;
    Ok(links)
}

/// After a complete scan of `rescanned` (working-tree files and directories), forgets the leak
/// locations there that `report` no longer finds, and resolves the leaked-secret findings of
/// secrets left with no location (the secret was removed everywhere it was found; if it is still
/// in git history, a history scan finds it again). Returns how many findings were resolved.
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
    let ids: Vec<String> = gone
        .iter()
        .map(|(fingerprint, identity)| {
            warrant_core::Finding::id_of(warrant_core::RuleId::LeakedSecret, identity, fingerprint)
        })
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
