#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Off-schedule detection judges hours only when the baseline can say what the schedule is:
//! a job that runs around the clock has none, and a baseline shorter than a week has not seen
//! every day of the week (issue 14: a five-minute job was "off schedule" on its first Sunday).

use chrono::{DateTime, Duration, TimeZone, Utc};
use warrant_activity::baseline::Baseline;
use warrant_activity::detect::{Detector, IdentityContext, rules};
use warrant_activity::{Actor, Event, LogKind, Outcome, Principal, PrincipalKind};

const ID: &str = "arn:aws:iam::111111111111:role/queue-poller";

fn event(n: usize, time: DateTime<Utc>) -> Event {
    Event {
        id: format!("evt-{n:06}"),
        time,
        log: LogKind::CloudTrail,
        principal: Principal {
            kind: Some(PrincipalKind::AwsAssumedRole),
            arn: Some(ID.into()),
            credential: None,
            account: Some("111111111111".into()),
            name: Some("queue-poller".into()),
            session: Some("i-0123456789abcdef0".into()),
        },
        actor: Actor::Application,
        action: "sqs:ReceiveMessage".into(),
        resources: vec![],
        source_ip: Some("10.0.1.20".into()),
        user_agent: Some("aws-sdk-go-v2/1.26.0".into()),
        outcome: Outcome::Success,
        error_code: None,
        region: Some("eu-west-1".into()),
        read_only: Some(true),
        console: false,
        subject: None,
        facts: Default::default(),
    }
}

/// Monday 2026-11-30 00:00 UTC.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
}

fn learn(times: impl Iterator<Item = DateTime<Utc>>) -> Baseline {
    let mut baseline = Baseline::new(ID);
    for (n, t) in times.enumerate() {
        baseline.observe(&event(n, t));
    }
    baseline
}

fn off_schedule(baseline: &Baseline, window: &[DateTime<Utc>]) -> usize {
    let events: Vec<Event> = window
        .iter()
        .enumerate()
        .map(|(n, t)| event(1_000_000 + n, *t))
        .collect();
    Detector::default()
        .detect(&IdentityContext::unknown(ID), Some(baseline), &events)
        .iter()
        .filter(|f| f.rule == rules::OFF_SCHEDULE)
        .count()
}

fn every_five_minutes(from: DateTime<Utc>, hours: i64) -> impl Iterator<Item = DateTime<Utc>> {
    (0..hours * 12).map(move |i| from + Duration::minutes(5 * i))
}

#[test]
fn a_job_running_around_the_clock_is_never_off_schedule() {
    // Monday to Friday, every five minutes: the weekend was never seen.
    let baseline = learn(every_five_minutes(monday(), 24 * 5));
    let saturday: Vec<_> = every_five_minutes(monday() + Duration::days(5), 6).collect();
    assert_eq!(off_schedule(&baseline, &saturday), 0);
}

#[test]
fn a_short_baseline_judges_the_hour_of_the_day_only() {
    // Monday to Saturday, 09:00–17:00: enough days to judge, but no Sunday seen.
    let days = (0..6)
        .flat_map(|d| every_five_minutes(monday() + Duration::days(d) + Duration::hours(9), 8));
    let baseline = learn(days);
    let sunday = monday() + Duration::days(6);
    // Sunday 10:00: an hour it works on other days; the baseline has not seen a Sunday.
    let morning: Vec<_> = every_five_minutes(sunday + Duration::hours(10), 1).collect();
    assert_eq!(off_schedule(&baseline, &morning), 0);
    // Sunday 03:00: an hour it never works.
    let night: Vec<_> = every_five_minutes(sunday + Duration::hours(3), 1).collect();
    assert_eq!(off_schedule(&baseline, &night), 1);
}

#[test]
fn a_baseline_of_whole_weeks_judges_the_hour_of_the_week() {
    // Two weeks of weekdays, 09:00–17:00.
    let days = (0..12)
        .filter(|d| d % 7 < 5)
        .flat_map(|d| every_five_minutes(monday() + Duration::days(d) + Duration::hours(9), 8));
    let baseline = learn(days);
    let saturday = monday() + Duration::days(19);
    let morning: Vec<_> = every_five_minutes(saturday + Duration::hours(10), 1).collect();
    assert_eq!(off_schedule(&baseline, &morning), 1);
}
