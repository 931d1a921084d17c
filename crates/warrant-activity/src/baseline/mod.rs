//! Per-identity behavioural baselines: what an identity normally does, learned from its events
//! over a learning window, kept small enough to store one blob per identity.
//!
//! Every set that could grow without bound (actions, resources, networks, user agents, tool-call
//! bigrams) is a [`SketchSet`]: exact while small, and past its cap a deterministic sample with
//! counts, a Bloom filter for membership and a HyperLogLog for the distinct count. All parts merge
//! associatively and commutatively, so baselines built in parallel from different files combine
//! into the same result whatever the order.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Datelike, Timelike};
use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;

use crate::event::{Actor, Event, Outcome};

mod features;
mod sketch;

pub use features::{hour_index, hour_of_week, iam_action, network_of, user_agent_family};
pub use sketch::{SketchSet, stable_hash};

/// Version byte written after the magic; bump on any change of the serialised layout.
pub const BASELINE_FORMAT_VERSION: u8 = 1;
const MAGIC: &[u8; 3] = b"WBL";

/// Hours in a week: the hour-of-week profile has one bucket per hour, Monday 00:00 UTC first.
pub const HOURS_PER_WEEK: usize = 168;

/// Most hourly cells kept (the latest); 100 days of round-the-clock activity.
const MAX_HOURLY_CELLS: usize = 2400;
/// Sessions whose last tool call is remembered for bigrams while observing.
const MAX_OPEN_SESSIONS: usize = 256;

/// Errors decoding a stored baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline blob is not a Warrant baseline (bad magic at offset 0)")]
    BadMagic,
    #[error("baseline blob has format version {found} at offset 3; this build reads {expected}")]
    Version { found: u8, expected: u8 },
    #[error("baseline blob is corrupt after offset 4: {0}")]
    Decode(#[from] postcard::Error),
}

/// Activity of one clock hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCell {
    pub events: u64,
    /// Denied, failed-authentication and errored calls.
    pub failures: u64,
}

/// Volume statistics over the days (or hours) an identity was active.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VolumeStats {
    /// Active days (or hours) the statistics cover.
    pub periods: u64,
    pub mean: f64,
    pub std_dev: f64,
    pub max: u64,
}

/// What one identity normally does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    pub identity: String,
    events: u64,
    denied: u64,
    auth_failed: u64,
    errors: u64,
    console: u64,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    actors: BTreeMap<Actor, u64>,
    actions: SketchSet,
    resources: SketchSet,
    networks: SketchSet,
    user_agents: SketchSet,
    credentials: SketchSet,
    /// Agent tool-call sequences within one session: `tool:a -> tool:b`.
    bigrams: SketchSet,
    hour_of_week: Vec<u64>,
    /// Non-empty hours, keyed by [`hour_index`]; the latest [`MAX_HOURLY_CELLS`] are kept.
    hourly: BTreeMap<i64, HourCell>,
    /// Last tool call per open session, for bigrams. Working state only: not stored, not merged.
    #[serde(skip)]
    open_sessions: BTreeMap<String, String>,
}

impl PartialEq for Baseline {
    fn eq(&self, other: &Baseline) -> bool {
        // Working state is not part of what a baseline knows.
        self.identity == other.identity
            && self.events == other.events
            && self.denied == other.denied
            && self.auth_failed == other.auth_failed
            && self.errors == other.errors
            && self.console == other.console
            && self.first_seen == other.first_seen
            && self.last_seen == other.last_seen
            && self.actors == other.actors
            && self.actions == other.actions
            && self.resources == other.resources
            && self.networks == other.networks
            && self.user_agents == other.user_agents
            && self.credentials == other.credentials
            && self.bigrams == other.bigrams
            && self.hour_of_week == other.hour_of_week
            && self.hourly == other.hourly
    }
}

/// The learning window: events at or after `start` and before `end` are learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearningWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl LearningWindow {
    pub fn contains(&self, time: &Timestamp) -> bool {
        *time >= self.start && *time < self.end
    }
}

impl Baseline {
    pub fn new(identity: &str) -> Baseline {
        Baseline {
            identity: identity.to_string(),
            events: 0,
            denied: 0,
            auth_failed: 0,
            errors: 0,
            console: 0,
            first_seen: None,
            last_seen: None,
            actors: BTreeMap::new(),
            actions: SketchSet::new(512),
            resources: SketchSet::new(64),
            networks: SketchSet::new(64),
            user_agents: SketchSet::new(64),
            credentials: SketchSet::new(32),
            bigrams: SketchSet::new(256),
            hour_of_week: vec![0; HOURS_PER_WEEK],
            hourly: BTreeMap::new(),
            open_sessions: BTreeMap::new(),
        }
    }

    /// Learns `identity`'s baseline from the events inside `window`.
    pub fn learn<'a>(
        identity: &str,
        window: &LearningWindow,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Baseline {
        let mut baseline = Baseline::new(identity);
        for event in events {
            if window.contains(&event.time) {
                baseline.observe(event);
            }
        }
        baseline
    }

    /// Folds one event in.
    pub fn observe(&mut self, event: &Event) {
        let t = event.time.timestamp();
        self.events += 1;
        match event.outcome {
            Outcome::Success => {}
            Outcome::Denied => self.denied += 1,
            Outcome::AuthFailed => self.auth_failed += 1,
            Outcome::Error => self.errors += 1,
        }
        if event.console {
            self.console += 1;
        }
        self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
        self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
        *self.actors.entry(event.actor).or_insert(0) += 1;
        let action = iam_action(&event.action);
        self.actions.add(action, 1);
        for resource in &event.resources {
            self.resources.add(resource, 1);
        }
        if let Some(ip) = &event.source_ip {
            self.networks.add(&network_of(ip), 1);
        }
        if let Some(ua) = &event.user_agent {
            self.user_agents.add(&user_agent_family(ua), 1);
        }
        if let Some(credential) = &event.principal.credential {
            self.credentials.add(credential, 1);
        }
        if let Some(bucket) = self.hour_of_week.get_mut(hour_of_week(&event.time)) {
            *bucket += 1;
        }
        let cell = self.hourly.entry(hour_index(&event.time)).or_default();
        cell.events += 1;
        if event.outcome != Outcome::Success {
            cell.failures += 1;
        }
        self.trim_hourly();
        if action.starts_with("tool:") {
            let session = event
                .principal
                .session
                .clone()
                .unwrap_or_else(|| "-".to_string());
            if let Some(previous) = self.open_sessions.get(&session) {
                self.bigrams.add(&format!("{previous} -> {action}"), 1);
            }
            if !self.open_sessions.contains_key(&session)
                && self.open_sessions.len() >= MAX_OPEN_SESSIONS
            {
                // Forget the session with the smallest key: a bounded, deterministic choice.
                self.open_sessions.pop_first();
            }
            self.open_sessions.insert(session, action.to_string());
        }
    }

    fn trim_hourly(&mut self) {
        while self.hourly.len() > MAX_HOURLY_CELLS {
            self.hourly.pop_first();
        }
    }

    /// Combines a baseline learned from other events of the same identity (parallel ingestion).
    /// Associative and commutative.
    pub fn merge(&mut self, other: &Baseline) {
        self.events += other.events;
        self.denied += other.denied;
        self.auth_failed += other.auth_failed;
        self.errors += other.errors;
        self.console += other.console;
        self.first_seen = match (self.first_seen, other.first_seen) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_seen = match (self.last_seen, other.last_seen) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (actor, n) in &other.actors {
            *self.actors.entry(*actor).or_insert(0) += n;
        }
        self.actions.merge(&other.actions);
        self.resources.merge(&other.resources);
        self.networks.merge(&other.networks);
        self.user_agents.merge(&other.user_agents);
        self.credentials.merge(&other.credentials);
        self.bigrams.merge(&other.bigrams);
        for (a, b) in self.hour_of_week.iter_mut().zip(&other.hour_of_week) {
            *a += b;
        }
        for (hour, cell) in &other.hourly {
            let mine = self.hourly.entry(*hour).or_default();
            mine.events += cell.events;
            mine.failures += cell.failures;
        }
        self.trim_hourly();
    }

    /// `WBL` + format version + postcard.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(BASELINE_FORMAT_VERSION);
        // Serialising plain data into a Vec cannot fail; keep the header alone if it ever does.
        if let Ok(body) = postcard::to_stdvec(self) {
            out.extend_from_slice(&body);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let Some((&version, body)) = bytes.strip_prefix(MAGIC).and_then(<[u8]>::split_first) else {
            return Err(BaselineError::BadMagic);
        };
        if version != BASELINE_FORMAT_VERSION {
            return Err(BaselineError::Version {
                found: version,
                expected: BASELINE_FORMAT_VERSION,
            });
        }
        let mut baseline: Baseline = postcard::from_bytes(body)?;
        baseline.hour_of_week.resize(HOURS_PER_WEEK, 0);
        Ok(baseline)
    }

    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Share of calls that were denied, failed authentication or errored.
    pub fn error_rate(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            (self.denied + self.auth_failed + self.errors) as f64 / self.events as f64
        }
    }

    pub fn denied(&self) -> u64 {
        self.denied
    }

    pub fn auth_failed(&self) -> u64 {
        self.auth_failed
    }

    pub fn console_events(&self) -> u64 {
        self.console
    }

    pub fn first_seen(&self) -> Option<Timestamp> {
        self.first_seen.and_then(|s| DateTime::from_timestamp(s, 0))
    }

    pub fn last_seen(&self) -> Option<Timestamp> {
        self.last_seen.and_then(|s| DateTime::from_timestamp(s, 0))
    }

    /// Calendar span between first and last event, in days (fractional).
    pub fn span_days(&self) -> f64 {
        match (self.first_seen, self.last_seen) {
            (Some(f), Some(l)) => (l - f) as f64 / 86_400.0,
            _ => 0.0,
        }
    }

    pub fn actor_counts(&self) -> &BTreeMap<Actor, u64> {
        &self.actors
    }

    pub fn actions(&self) -> &SketchSet {
        &self.actions
    }

    pub fn resources(&self) -> &SketchSet {
        &self.resources
    }

    pub fn networks(&self) -> &SketchSet {
        &self.networks
    }

    pub fn user_agents(&self) -> &SketchSet {
        &self.user_agents
    }

    pub fn credentials(&self) -> &SketchSet {
        &self.credentials
    }

    pub fn bigrams(&self) -> &SketchSet {
        &self.bigrams
    }

    /// Agent tools called (`tool:NAME` actions).
    pub fn tools(&self) -> impl Iterator<Item = &str> {
        self.actions
            .iter()
            .map(|(a, _)| a)
            .filter(|a| a.starts_with("tool:"))
    }

    /// Events per hour of the week, Monday 00:00 UTC first.
    pub fn hour_of_week_profile(&self) -> &[u64] {
        &self.hour_of_week
    }

    pub fn hourly(&self) -> &BTreeMap<i64, HourCell> {
        &self.hourly
    }

    /// Most failures (denied, auth failed, errors) in any one hour.
    pub fn max_hourly_failures(&self) -> u64 {
        self.hourly.values().map(|c| c.failures).max().unwrap_or(0)
    }

    /// Most events in any one hour.
    pub fn max_hourly_events(&self) -> u64 {
        self.hourly.values().map(|c| c.events).max().unwrap_or(0)
    }

    /// Events per active UTC day.
    pub fn daily_volume(&self) -> VolumeStats {
        let mut days: BTreeMap<i64, u64> = BTreeMap::new();
        for (hour, cell) in &self.hourly {
            *days.entry(hour.div_euclid(24)).or_insert(0) += cell.events;
        }
        volume_stats(&days)
    }

    /// Events per active clock hour.
    pub fn hourly_volume(&self) -> VolumeStats {
        let hours: BTreeMap<i64, u64> = self.hourly.iter().map(|(h, c)| (*h, c.events)).collect();
        volume_stats(&hours)
    }
}

fn volume_stats(days: &BTreeMap<i64, u64>) -> VolumeStats {
    let n = days.len() as u64;
    if n == 0 {
        return VolumeStats::default();
    }
    let mean = days.values().sum::<u64>() as f64 / n as f64;
    let var = days
        .values()
        .map(|v| (*v as f64 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    VolumeStats {
        periods: n,
        mean,
        std_dev: var.sqrt(),
        max: days.values().copied().max().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{LogKind, Principal};
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn event(id: u32, secs: i64, action: &str, ip: &str, outcome: Outcome) -> Event {
        Event {
            id: format!("e{id}"),
            time: chrono::Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
            log: LogKind::CloudTrail,
            principal: Principal {
                credential: Some("AKIAEXAMPLE".into()),
                session: Some(format!("s{}", id % 3)),
                ..Principal::default()
            },
            actor: Actor::Automation,
            action: action.to_string(),
            resources: vec![format!("arn:aws:s3:::bucket/{}", id % 7)],
            source_ip: Some(ip.to_string()),
            user_agent: Some("aws-cli/2.15.0 Python/3.11".into()),
            outcome,
            error_code: None,
            region: None,
            read_only: None,
            console: false,
            subject: None,
            facts: Default::default(),
        }
    }

    #[test]
    fn networks_are_prefixes() {
        assert_eq!(network_of("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network_of("075.050.255.67"), "75.50.255.0/24");
        assert_eq!(network_of("2001:db8:1:2::5"), "2001:db8:1::/48");
        assert_eq!(network_of("ec2.amazonaws.com"), "cloud-service");
        assert_eq!(network_of("AWS Internal"), "cloud-service");
    }

    #[test]
    fn user_agents_lose_versions() {
        assert_eq!(user_agent_family("aws-cli/2.15.0 Python/3.11"), "aws-cli");
        assert_eq!(
            user_agent_family("Boto3/1.34.1 md/Botocore#1.34.1"),
            "boto3"
        );
        assert_eq!(
            user_agent_family("stratus-red-team_6bf00313-712c-4fd2"),
            "stratus-red-team"
        );
        assert_eq!(
            user_agent_family("Mozilla/5.0 (X11; Linux x86_64) Chrome/120"),
            "browser"
        );
        assert_eq!(
            user_agent_family("APN/1.0 HashiCorp/1.0 Terraform/1.5.7"),
            "terraform"
        );
        assert_eq!(
            user_agent_family("[S3Console/0.4, aws-internal/3]"),
            "console"
        );
    }

    #[test]
    fn api_versions_are_stripped_from_actions() {
        assert_eq!(
            iam_action("lambda:UpdateFunctionCode20150331v2"),
            "lambda:UpdateFunctionCode"
        );
        assert_eq!(
            iam_action("lambda:AddPermission20150331v2"),
            "lambda:AddPermission"
        );
        assert_eq!(
            iam_action("cloudfront:GetDistribution2020_05_31"),
            "cloudfront:GetDistribution2020_05_31"
        );
        assert_eq!(iam_action("s3:GetObject"), "s3:GetObject");
        assert_eq!(iam_action("tool:search"), "tool:search");
    }

    #[test]
    fn hour_of_week_starts_monday() {
        // 2024-01-01 was a Monday.
        let monday = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 30, 0).unwrap();
        assert_eq!(hour_of_week(&monday), 0);
        let sunday = chrono::Utc.with_ymd_and_hms(2024, 1, 7, 23, 0, 0).unwrap();
        assert_eq!(hour_of_week(&sunday), 167);
    }

    #[test]
    fn observes_and_round_trips() {
        assert_eq!(Baseline::new("x").daily_volume(), VolumeStats::default());
        let mut b = Baseline::new("id");
        for i in 0..100 {
            let outcome = if i % 10 == 0 {
                Outcome::Denied
            } else {
                Outcome::Success
            };
            b.observe(&event(
                i,
                i64::from(i) * 600,
                "s3:GetObject",
                "10.0.0.5",
                outcome,
            ));
        }
        assert_eq!(b.events(), 100);
        assert!((b.error_rate() - 0.1).abs() < 1e-9);
        // One event every ten minutes: six an hour, over 17 hours (the last one partial).
        let hourly = b.hourly_volume();
        assert_eq!(hourly.periods, 17);
        assert_eq!(hourly.max, 6);
        assert_eq!(b.max_hourly_failures(), 1);
        let daily = b.daily_volume();
        assert!((daily.mean * daily.periods as f64 - 100.0).abs() < 1e-9);
        assert!(b.actions().contains("s3:GetObject"));
        assert!(!b.actions().contains("s3:PutObject"));
        assert!(b.networks().contains("10.0.0.0/24"));
        assert!(b.user_agents().contains("aws-cli"));
        let bytes = b.to_bytes();
        assert_eq!(&bytes[..4], b"WBL\x01");
        let back = Baseline::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
        assert!(bytes.len() < 2_000, "{} bytes", bytes.len());
    }

    #[test]
    fn rejects_bad_blobs() {
        assert!(matches!(
            Baseline::from_bytes(b"nope"),
            Err(BaselineError::BadMagic)
        ));
        assert!(matches!(
            Baseline::from_bytes(b"WBL\x09abc"),
            Err(BaselineError::Version { found: 9, .. })
        ));
        assert!(matches!(
            Baseline::from_bytes(b"WBL\x01\xff\xff"),
            Err(BaselineError::Decode(_))
        ));
    }

    #[test]
    fn tool_bigrams_follow_sessions() {
        let mut b = Baseline::new("agent");
        for (i, tool) in ["tool:search", "tool:read", "tool:search", "tool:read"]
            .iter()
            .enumerate()
        {
            let mut e = event(0, i as i64, tool, "10.0.0.1", Outcome::Success);
            e.principal.session = Some("run-1".into());
            b.observe(&e);
        }
        assert_eq!(b.bigrams().count("tool:search -> tool:read"), Some(2));
        assert_eq!(b.bigrams().count("tool:read -> tool:search"), Some(1));
        assert_eq!(b.tools().count(), 2);
    }

    #[test]
    fn sketch_overflows_gracefully() {
        let mut s = SketchSet::new(50);
        for i in 0..2_000 {
            s.add(&format!("key-{i}"), 1);
        }
        assert!(!s.is_exact());
        assert_eq!(s.iter().count(), 50);
        // Every key ever added is still a member (Bloom filter: no false negatives).
        assert!((0..2_000).all(|i| s.contains(&format!("key-{i}"))));
        let false_positives = (0..1_000)
            .filter(|i| s.contains(&format!("other-{i}")))
            .count();
        assert!(false_positives < 50, "{false_positives}");
        let d = s.distinct() as f64;
        assert!((d - 2_000.0).abs() / 2_000.0 < 0.25, "{d}");
    }

    fn arb_events() -> impl Strategy<Value = Vec<Event>> {
        proptest::collection::vec(
            (0u32..400, 0i64..2_000_000, 0usize..6, 0u8..5, 0u8..4),
            0..60,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .map(|(id, secs, action, net, outcome)| {
                    let actions = [
                        "s3:GetObject",
                        "s3:PutObject",
                        "tool:a",
                        "tool:b",
                        "iam:ListUsers",
                        "ec2:DescribeInstances",
                    ];
                    let outcome = match outcome {
                        0 => Outcome::Denied,
                        1 => Outcome::Error,
                        _ => Outcome::Success,
                    };
                    event(
                        id,
                        secs,
                        actions[action],
                        &format!("10.{net}.{id}.1"),
                        outcome,
                    )
                })
                .collect()
        })
    }

    fn build(events: &[Event]) -> Baseline {
        let mut b = Baseline::new("id");
        // Small caps so the overflow path is exercised too.
        b.resources = SketchSet::new(3);
        b.networks = SketchSet::new(4);
        for e in events {
            b.observe(e);
        }
        b
    }

    proptest! {
        #[test]
        fn normalisers_never_panic_and_are_idempotent_where_they_should_be(text in ".{0,80}") {
            let network = network_of(&text);
            prop_assert!(!network.is_empty() || text.trim().is_empty());
            let family = user_agent_family(&text);
            prop_assert!(!family.is_empty());
            let action = iam_action(&text);
            prop_assert!(text.starts_with(action));
            prop_assert_eq!(iam_action(action), action);
        }

        #[test]
        fn ipv4_networks_keep_three_octets(a in 0u8.., b in 0u8.., c in 0u8.., d in 0u8..) {
            prop_assert_eq!(network_of(&format!("{a}.{b}.{c}.{d}")), format!("{a}.{b}.{c}.0/24"));
        }

        #[test]
        fn arbitrary_blobs_decode_to_errors_not_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut blob = b"WBL\x01".to_vec();
            blob.extend_from_slice(&body);
            let _ = Baseline::from_bytes(&blob);
            let _ = Baseline::from_bytes(&body);
        }

        #[test]
        fn merge_is_associative_and_commutative(
            a in arb_events(), b in arb_events(), c in arb_events()
        ) {
            let (ba, bb, bc) = (build(&a), build(&b), build(&c));
            let mut left = ba.clone();
            left.merge(&bb);
            left.merge(&bc);
            let mut right_inner = bb.clone();
            right_inner.merge(&bc);
            let mut right = ba.clone();
            right.merge(&right_inner);
            prop_assert_eq!(&left, &right);
            let mut swapped = bc.clone();
            swapped.merge(&bb);
            swapped.merge(&ba);
            prop_assert_eq!(&left, &swapped);
            prop_assert_eq!(left.events() as usize, a.len() + b.len() + c.len());
            prop_assert_eq!(Baseline::from_bytes(&left.to_bytes()).ok(), Some(left));
        }

        #[test]
        fn merging_parts_equals_observing_all_except_cross_part_bigrams(
            a in arb_events(), b in arb_events()
        ) {
            let mut merged = build(&a);
            merged.merge(&build(&b));
            let all: Vec<Event> = a.iter().chain(&b).cloned().collect();
            let whole = build(&all);
            prop_assert_eq!(merged.events(), whole.events());
            prop_assert_eq!(merged.actions(), whole.actions());
            prop_assert_eq!(merged.networks(), whole.networks());
            prop_assert_eq!(merged.hourly(), whole.hourly());
            prop_assert_eq!(merged.hour_of_week_profile(), whole.hour_of_week_profile());
        }
    }
}
