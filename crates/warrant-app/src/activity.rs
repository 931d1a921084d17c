//! Activity ingestion: parse logs, attribute events to identities, record usage and last-used,
//! learn baselines and raise alerts.
//!
//! Detection compares each identity's newest window with what came before it, so a batch of
//! files is held in memory, grouped by identity. Files go in batches of at most
//! `[activity] batch_mib` of log (an event takes roughly its JSON size in memory), in path order
//! (CloudTrail's `AWSLogs/…/YYYY/MM/DD/` layout makes that chronological): each batch updates
//! usage, baselines and alerts before the next is read, as if the logs had been ingested day by
//! day, so memory stays bounded however much log a run is given.
//!
//! [`process_events`] is the step for one batch of already-parsed events; stream consumers call
//! its twin [`process_delivered`] with the events a delivery brought, which adds the
//! exactly-once ledger, so they record the same usage, baselines and alerts as [`ingest_paths`]
//! does for files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use warrant_activity::baseline::{Baseline, LearningWindow};
use warrant_activity::detect::{Detector, Environments, IdentityContext};
use warrant_activity::{
    Attribution, Attributor, Creation, Event, FileReport, IngestOptions, IngestReport,
    UsageAccumulator, creation,
};
use warrant_core::inventory::InventoryIndex;
use warrant_core::{Finding, Identity, Inventory, Provider, Timestamp};
use warrant_store::{ActivityWrites, ApplyOutcome, IngestedFile, LedgerKey, OwnerEvidence, Store};

use crate::error::StoreContext;
use crate::{ActivityConfig, AppError, Cancel, Phase, Progress};

/// What one activity run did.
#[derive(Debug, Default)]
pub struct ActivityOutcome {
    pub report: IngestReport,
    /// Files skipped because the store already holds their content.
    pub already_ingested: Vec<String>,
    pub attributed: u64,
    /// Events of principals absent from the inventory.
    pub shadow: u64,
    /// Events of principals that are not the organisation's machine identities (AWS services,
    /// people's own accounts).
    pub outside: u64,
    pub identities: usize,
    pub usage_rows: usize,
    pub alerts: Vec<Finding>,
}

impl ActivityOutcome {
    pub fn files_ingested(&self) -> usize {
        self.report.ingested_files().count()
    }

    /// Summary lines: totals, then every bad record (file:line: reason).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.files_ingested() == 0 && self.already_ingested.is_empty() {
            return notes;
        }
        notes.push(format!(
            "Ingested {} events from {} log file(s){}: {} attributed to {} identities, {} from \
             principals missing from the inventory, {} from outside principals; {} alerts.",
            self.report.events,
            self.files_ingested(),
            if self.already_ingested.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} unchanged file(s) skipped)",
                    self.already_ingested.len()
                )
            },
            self.attributed,
            self.identities,
            self.shadow,
            self.outside,
            self.alerts.len(),
        ));
        if self.report.bad_count > 0 {
            notes.push(format!(
                "{} bad record(s) were counted and skipped:",
                self.report.bad_count
            ));
            for bad in self.report.bad.iter().take(50) {
                notes.push(format!("  {bad}"));
            }
            if self.report.bad.len() > 50 {
                notes.push(format!("  … and {} more", self.report.bad.len() - 50));
            }
        }
        notes
    }
}

/// For a log file holding records that could not be read: a line naming the file, its first
/// bad record's place and reason, and how many more it holds (each is in the report: the notes,
/// the JSON's `files[].bad`).
pub fn bad_record_problem(file: &warrant_activity::FileReport) -> Option<String> {
    let first = file
        .bad
        .first()
        .map_or_else(|| file.file.clone(), ToString::to_string);
    match file.bad_count {
        0 => None,
        1 => Some(format!("{first} (a bad record, skipped)")),
        n => Some(format!("{first} (and {} more bad records, skipped)", n - 1)),
    }
}

impl ActivityOutcome {
    /// One line per log file holding records that could not be read (see
    /// [`bad_record_problem`]).
    pub fn bad_record_problems(&self) -> Vec<String> {
        self.report
            .files
            .iter()
            .filter_map(bad_record_problem)
            .collect()
    }

    /// What made this run's input incomplete, one "place: reason" line each: files that could
    /// not be read, bad records, files named in `named` that are not activity logs, and — when
    /// nothing was ingested at all — that fact. Files found inside a named directory that are
    /// not logs are not problems: directories hold other things. Empty when all went well; the
    /// CLI exits 2 otherwise (the rest is still ingested and reported).
    pub fn input_problems(&self, named: &[PathBuf]) -> Vec<String> {
        let named: HashSet<String> = named.iter().map(|p| p.display().to_string()).collect();
        let mut problems = Vec::new();
        for file in &self.report.files {
            if let Some(reason) = &file.not_ingested
                && (file.unreadable || named.contains(&file.file))
            {
                problems.push(format!("{}: {reason}", file.file));
            }
        }
        problems.extend(self.bad_record_problems());
        if self.files_ingested() == 0 && self.already_ingested.is_empty() {
            problems.push("no activity logs found under the given paths".to_string());
        }
        problems
    }
}

/// What one batch of events did to the store.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Events attributed to inventory identities.
    pub attributed: u64,
    /// Events of principals absent from the inventory.
    pub shadow: u64,
    /// Events of principals outside the organisation's machine identities.
    pub outside: u64,
    /// Inventory identities the batch saw acting.
    pub identities: HashSet<String>,
    /// Usage rows written.
    pub usage_rows: usize,
    /// Alerts raised (and recorded) by this batch.
    pub alerts: Vec<Finding>,
}

/// Environments of the accounts the inventory knows, for cross-environment detection.
fn environments(inventory: &Inventory) -> Environments {
    let mut env = Environments::default();
    for account in &inventory.accounts {
        if account.environment != warrant_core::Environment::Unknown {
            env.accounts.insert(account.id.clone(), account.environment);
        }
    }
    for identity in &inventory.identities {
        if identity.provider == Provider::Aws
            && identity.environment != warrant_core::Environment::Unknown
            && let Some(account) = &identity.account
        {
            env.accounts
                .entry(account.clone())
                .or_insert(identity.environment);
        }
    }
    env
}

/// Splits files (in path order) into consecutive batches of at most `limit` bytes; a file larger
/// than the limit is a batch of its own.
fn batches(files: Vec<(PathBuf, u64)>, limit: u64) -> Vec<Vec<PathBuf>> {
    let mut out: Vec<Vec<PathBuf>> = Vec::new();
    let mut current: Vec<PathBuf> = Vec::new();
    let mut size = 0u64;
    for (file, len) in files {
        if !current.is_empty() && size.saturating_add(len) > limit {
            out.push(std::mem::take(&mut current));
            size = 0;
        }
        size = size.saturating_add(len);
        current.push(file);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Ingests the activity logs under `paths` against `inventory` (loaded from the store when
/// `None` and some log was found), batch by batch. Content ingested before is skipped, so
/// re-running on the same directory counts nothing twice: a file whose path, size and
/// modification time match what was recorded is not even opened, and any other file is hashed
/// as it is parsed, its events dropped when the store (or an earlier file of this run) already
/// holds that content. `cancel` is checked between batches: the batches done stay stored.
#[allow(clippy::too_many_arguments)]
pub async fn ingest_paths(
    store: &Store,
    inventory: Option<&Inventory>,
    paths: &[PathBuf],
    config: &ActivityConfig,
    now: Timestamp,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<ActivityOutcome, AppError> {
    let mut outcome = ActivityOutcome::default();
    let (files, problems) = warrant_activity::ingest::collect_files(paths);
    let mut fresh = Vec::with_capacity(files.len());
    let mut stamps = HashMap::new();
    for file in files {
        let stamp = file_stamp(&file);
        let name = file.display().to_string();
        if let Some((size, modified)) = stamp
            && store
                .ingested_unchanged(&name, size, modified)
                .await
                .context("checking which logs were ingested before")?
        {
            outcome.already_ingested.push(name);
            continue;
        }
        fresh.push((file, stamp.map_or(0, |(size, _)| size)));
        if let Some(stamp) = stamp {
            stamps.insert(name, stamp);
        }
    }
    outcome.report.files.extend(problems);
    let options = IngestOptions {
        digest: true,
        ..IngestOptions::default()
    };
    // Loaded at the first batch with events: directories without logs (the common case for
    // an import) pay nothing.
    let mut loaded: Option<Inventory> = None;
    let mut identities: HashSet<String> = HashSet::new();
    let mut contents: HashSet<String> = HashSet::new();
    let limit = u64::from(config.batch_mib) << 20;
    let batches = batches(fresh, limit);
    if !batches.is_empty() {
        progress.phase(Phase::IngestingActivity, Some(batches.len() as u64));
    }
    for (n, batch) in batches.into_iter().enumerate() {
        cancel.check()?;
        // Each file's events stay in their own vector: moved straight from there into the
        // per-identity groups, never copied into one big vector first.
        let mut events: Vec<Vec<Event>> = Vec::new();
        let mut report = IngestReport::default();
        for (file, file_events) in warrant_activity::ingest::ingest_each(&batch, &options) {
            let stamp = stamps.get(&file.file).copied();
            if let Some(sha) = &file.sha256 {
                if contents.contains(sha)
                    || store
                        .ingested(sha)
                        .await
                        .context("checking which logs were ingested before")?
                {
                    // The same content under another name or with a new time stamp: remember
                    // this copy too, so the next run need not read it.
                    store
                        .mark_ingested(&ingested(&file, sha, stamp), now)
                        .await
                        .context("remembering an ingested log")?;
                    outcome.already_ingested.push(file.file);
                    continue;
                }
                contents.insert(sha.clone());
            }
            if !file_events.is_empty() {
                events.push(file_events);
            }
            report.add(file);
        }
        if !events.is_empty() {
            if inventory.is_none() && loaded.is_none() {
                loaded = Some(
                    store
                        .load_inventory_with_policies_of(warrant_core::PolicyKind::McpTools)
                        .await
                        .context("loading the inventory")?,
                );
            }
            if let Some(inventory) = inventory.or(loaded.as_ref()) {
                let batch =
                    process_events(store, inventory, config, now, events.into_iter().flatten())
                        .await?;
                outcome.attributed += batch.attributed;
                outcome.shadow += batch.shadow;
                outcome.outside += batch.outside;
                outcome.usage_rows += batch.usage_rows;
                outcome.alerts.extend(batch.alerts);
                identities.extend(batch.identities);
            }
        }
        mark(store, &report, &stamps, now).await?;
        for file in report.files {
            outcome.report.add(file);
        }
        progress.position(n as u64 + 1);
    }
    progress.done(Phase::IngestingActivity);
    outcome.report.files.sort_by(|a, b| a.file.cmp(&b.file));
    outcome.already_ingested.sort();
    outcome.identities = identities.len();
    // An alert raised again by a later batch is one alert (the store kept its last version).
    let mut seen = HashSet::new();
    outcome.alerts.reverse();
    outcome.alerts.retain(|alert| seen.insert(alert.id.clone()));
    outcome.alerts.reverse();
    Ok(outcome)
}

/// A file's size and modification time, which tell an unchanged file without reading it.
fn file_stamp(path: &Path) -> Option<(u64, Timestamp)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?;
    Some((meta.len(), Timestamp::from(modified)))
}

/// What to remember of a file read with `stamp` before it was opened. The stamp is kept only
/// if the file still has it: one written to while it was read must be read again next time.
fn ingested<'a>(
    file: &'a FileReport,
    sha256: &'a str,
    stamp: Option<(u64, Timestamp)>,
) -> IngestedFile<'a> {
    let stamp = stamp.filter(|&s| file_stamp(Path::new(&file.file)) == Some(s));
    IngestedFile {
        path: &file.file,
        sha256,
        events: file.events,
        size: stamp.map(|(size, _)| size),
        modified: stamp.map(|(_, modified)| modified),
    }
}

/// Attribution, usage, last-used, baselines and detections for one batch of events against
/// `inventory`; the store holds the result when this returns, all of it written in one
/// transaction. Alerts are recorded at `now`.
pub async fn process_events<I>(
    store: &Store,
    inventory: &Inventory,
    config: &ActivityConfig,
    now: Timestamp,
    events: I,
) -> Result<BatchOutcome, AppError>
where
    I: IntoIterator<Item = Event>,
{
    let attributed = {
        let attributor = Attributor::new(inventory);
        group(events.into_iter().map(|event| {
            let changed = attributor.attribute_subject(&event);
            (attributor.attribute(&event), changed, event)
        }))
    };
    let keys: Vec<String> = attributed.by_identity.keys().cloned().collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let (_, outcome) = store
        .record_activity(&[], &keys, now, |_, stored| {
            plan(inventory, config, attributed, stored)
        })
        .await
        .context("saving activity (usage, last use, baselines, alerts)")?;
    Ok(outcome)
}

/// [`process_events`] for events delivered at least once (a stream consumer's batch): in the
/// same transaction as their results, each event's key (`log`, `id`) is recorded in the store's
/// ledger, and events the ledger already holds (redeliveries) are left out before anything is
/// computed, so each event counts once however often it comes. Returns the ledger's verdict
/// (applied, duplicates, expired, rejected) with what the applied events did.
pub async fn process_delivered(
    store: &Store,
    inventory: &Inventory,
    config: &ActivityConfig,
    now: Timestamp,
    events: &[Event],
) -> Result<(ApplyOutcome, BatchOutcome), AppError> {
    let (attributions, changed): (Vec<Attribution>, Vec<Option<Attribution>>) = {
        let attributor = Attributor::new(inventory);
        events
            .iter()
            .map(|e| (attributor.attribute(e), attributor.attribute_subject(e)))
            .unzip()
    };
    let ledger: Vec<LedgerKey> = events
        .iter()
        .zip(&attributions)
        .map(|(event, attribution)| LedgerKey {
            event_id: event.id.clone(),
            log: warrant_stream::log_name(event.log),
            time: event.time,
            identity: attribution.usage_key(),
        })
        .collect();
    let keys: Vec<&str> = ledger
        .iter()
        .filter_map(|k| k.identity.as_deref())
        .collect();
    store
        .record_activity(&ledger, &keys, now, |admitted, stored| {
            // Only the events new to the ledger: a redelivered event was counted, learned and
            // judged when it first came.
            let attributed = group(admitted.applied_indices.iter().filter_map(|&i| {
                Some((
                    attributions.get(i)?.clone(),
                    changed.get(i)?.clone(),
                    events.get(i)?.clone(),
                ))
            }));
            plan(inventory, config, attributed, stored)
        })
        .await
        .context("saving activity (ledger, usage, last use, baselines, alerts)")
}

/// A batch's events grouped by usage key (identity id, or `shadow:…` for unknown principals).
#[derive(Default)]
struct Attributed {
    by_identity: HashMap<String, (Attribution, Vec<Event>)>,
    /// Events of principals outside the organisation's machine identities.
    outside: u64,
    /// People creating identities or their keys, whoever the events are attributed to.
    creations: Vec<Creation>,
    /// Events that change an identity other than their caller's (a key created for it, a
    /// policy attached to it), by that identity's usage key: its alerts, whoever the caller
    /// (a person included), but never its usage, last use or baseline.
    changes: HashMap<String, (Attribution, Vec<Event>)>,
}

fn group(events: impl Iterator<Item = (Attribution, Option<Attribution>, Event)>) -> Attributed {
    let mut out = Attributed::default();
    for (attribution, changed, event) in events {
        if let Some(c) = creation(&event) {
            out.creations.push(c);
        }
        if let Some(changed) = changed
            && let Some(key) = changed.usage_key()
        {
            out.changes
                .entry(key)
                .or_insert_with(|| (changed, Vec::new()))
                .1
                .push(event.clone());
        }
        let Some(key) = attribution.usage_key() else {
            out.outside += 1;
            continue;
        };
        out.by_identity
            .entry(key)
            .or_insert_with(|| (attribution, Vec::new()))
            .1
            .push(event);
    }
    out
}

/// What a batch writes: usage, last use, the baselines learned and the alerts raised, judged
/// against the `stored` baselines of the batch's identities. Pure computation, so the store can
/// run it inside the transaction that writes its result.
fn plan(
    inventory: &Inventory,
    config: &ActivityConfig,
    attributed: Attributed,
    stored: Vec<(String, Vec<u8>)>,
) -> (ActivityWrites, BatchOutcome) {
    let Attributed {
        by_identity,
        outside,
        creations,
        changes,
    } = attributed;
    let mut outcome = BatchOutcome {
        outside,
        ..BatchOutcome::default()
    };
    let window_hours = i64::from(config.detection_window_hours);
    let learning_days = i64::from(config.learning_days);
    let stored: BTreeMap<String, Baseline> = stored
        .into_iter()
        .filter_map(|(id, bytes)| match Baseline::from_bytes(&bytes) {
            Ok(b) => Some((id, b)),
            Err(error) => {
                tracing::warn!(identity = %id, %error, "A stored baseline could not be read; it is relearned.");
                None
            }
        })
        .collect();
    let detector = Detector::new(config.detect.clone()).with_environments(environments(inventory));
    let mut usage = UsageAccumulator::default();
    let mut writes = ActivityWrites::default();
    {
        let index = inventory.index();
        let mut keys: Vec<&String> = by_identity.keys().collect();
        keys.sort();
        for key in keys {
            let Some((attribution, events)) = by_identity.get(key) else {
                continue;
            };
            for event in events {
                usage.add(event, key);
            }
            // Each identity's detection window ends at its own newest event: logs of different
            // periods (an old incident export beside this week's trail) are each judged against
            // what came before them.
            let Some(newest) = events.iter().map(|e| e.time).max() else {
                continue;
            };
            let window_start = newest - chrono::Duration::hours(window_hours);
            let learning = LearningWindow {
                start: window_start - chrono::Duration::days(learning_days),
                end: window_start,
            };
            let window: Vec<Event> = events
                .iter()
                .filter(|e| e.time >= window_start)
                .cloned()
                .collect();
            let context = match attribution {
                Attribution::Known(id) => {
                    outcome.attributed += events.len() as u64;
                    outcome.identities.insert(id.clone());
                    writes.last_used.push((id.clone(), None, newest));
                    match index.identity_by_id.get(id.as_str()) {
                        Some(identity) => inventory_context(&index, identity),
                        None => IdentityContext::unknown(id),
                    }
                }
                Attribution::Shadow(_) => {
                    outcome.shadow += events.len() as u64;
                    if let Some(first) = events.first() {
                        outcome
                            .alerts
                            .push(warrant_activity::detect::shadow_identity_finding(
                                key,
                                &first.principal,
                                events,
                            ));
                    }
                    // An unknown principal's behaviour still matters (often more): it gets the
                    // detections too, with nothing known about it.
                    IdentityContext::unknown(key)
                }
                Attribution::Outside(_) => continue,
            };
            // `key` is the identity id, or `shadow:…` for unknown principals.
            let mut baseline = stored
                .get(key)
                .cloned()
                .unwrap_or_else(|| Baseline::new(key));
            for event in events.iter().filter(|e| learning.contains(&e.time)) {
                baseline.observe(event);
            }
            outcome
                .alerts
                .extend(detector.detect(&context, Some(&baseline), &window));
            // What the window showed is normal from now on, unless someone acts on the alerts;
            // the next run compares against it.
            for event in &window {
                baseline.observe(event);
            }
            writes.baselines.push((key.clone(), baseline.to_bytes()));
        }
        let mut keys: Vec<&String> = changes.keys().collect();
        keys.sort();
        for key in keys {
            let Some((attribution, events)) = changes.get(key) else {
                continue;
            };
            let context = match attribution {
                Attribution::Known(id) => match index.identity_by_id.get(id.as_str()) {
                    Some(identity) => inventory_context(&index, identity),
                    None => IdentityContext::unknown(id),
                },
                Attribution::Shadow(_) => IdentityContext::unknown(key),
                Attribution::Outside(_) => continue,
            };
            outcome
                .alerts
                .extend(detector.detect_changes(&context, events));
        }
    }
    writes.owner_evidence = creator_evidence(inventory, creations);
    writes.usage = usage.into_records();
    outcome.usage_rows = writes.usage.len();
    writes.findings.clone_from(&outcome.alerts);
    (writes, outcome)
}

/// What detection knows of an inventoried identity: its attributes, the tools its policies
/// grant and the credentials the inventory holds for it.
fn inventory_context(index: &InventoryIndex<'_>, identity: &Identity) -> IdentityContext {
    let mut context = IdentityContext::from_identity(identity);
    context.declare_tools_from(index.policies_of(&identity.id).into_iter().map(|(_, p)| p));
    context.with_credentials(
        index
            .credentials_by_identity
            .get(identity.id.as_str())
            .into_iter()
            .flatten()
            .copied(),
    )
}

/// Owner evidence from creation events: the person, and the event as where it came from.
/// The target keeps its logged ARN when the inventory does not list it (yet); owners are
/// matched to identities again when they are read.
fn creator_evidence(inventory: &Inventory, creations: Vec<Creation>) -> Vec<OwnerEvidence> {
    let index = inventory.index();
    creations
        .into_iter()
        .map(|c| OwnerEvidence {
            identity: index
                .identity_by_id
                .get(c.target.as_str())
                .map_or(c.target, |i| i.id.clone()),
            owner: c.creator,
            source: "creator".to_string(),
            detail: format!("cloudtrail:{}:{}", c.action, c.event),
            at: c.time,
        })
        .collect()
}

/// Remembers fully read files so a re-run skips them. Files with bad records are remembered too:
/// their good events were counted, and re-reading would count them twice.
async fn mark(
    store: &Store,
    report: &IngestReport,
    stamps: &HashMap<String, (u64, Timestamp)>,
    now: Timestamp,
) -> Result<(), AppError> {
    for file in report.ingested_files() {
        if let Some(sha) = &file.sha256 {
            let stamp = stamps.get(&file.file).copied();
            store
                .mark_ingested(&ingested(file, sha, stamp), now)
                .await
                .context("remembering an ingested log")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_path_order_and_the_size_limit() {
        let files = |sizes: &[u64]| -> Vec<(PathBuf, u64)> {
            sizes
                .iter()
                .enumerate()
                .map(|(i, s)| (PathBuf::from(format!("f{i}")), *s))
                .collect()
        };
        let names = |b: Vec<Vec<PathBuf>>| -> Vec<Vec<String>> {
            b.into_iter()
                .map(|v| v.iter().map(|p| p.display().to_string()).collect())
                .collect()
        };
        assert_eq!(
            names(batches(files(&[4, 4, 4, 9, 1]), 8)),
            [vec!["f0", "f1"], vec!["f2"], vec!["f3"], vec!["f4"]]
        );
        // A limit of 0 reads one file at a time; no files, no batches.
        assert_eq!(batches(files(&[1, 1]), 0).len(), 2);
        assert!(batches(Vec::new(), 8).is_empty());
    }
}
