#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The JSON of a detector's findings on a small, fixed case: a nightly job whose key turns off
//! CloudTrail from a new network with a new client.

use chrono::{DateTime, Duration, TimeZone, Utc};
use warrant_activity::baseline::Baseline;
use warrant_activity::detect::{Detector, IdentityContext};
use warrant_activity::{Actor, Event, LogKind, Outcome, Principal, PrincipalKind};
use warrant_core::{ActorKind, Environment, IdentityKind};

const ID: &str = "arn:aws:iam::111111111111:user/etl-nightly";

fn event(n: u32, time: DateTime<Utc>, action: &str, ip: &str, ua: &str) -> Event {
    Event {
        id: format!("evt-{n:05}"),
        time,
        log: LogKind::CloudTrail,
        principal: Principal {
            kind: Some(PrincipalKind::AwsUser),
            arn: Some(ID.into()),
            credential: Some("AKIAEXAMPLEETL000001".into()),
            account: Some("111111111111".into()),
            name: Some("etl-nightly".into()),
            session: None,
        },
        actor: Actor::Automation,
        action: action.into(),
        resources: vec!["arn:aws:s3:::acme-prod-lake/daily.parquet".into()],
        source_ip: Some(ip.into()),
        user_agent: Some(ua.into()),
        outcome: Outcome::Success,
        error_code: None,
        region: Some("eu-west-1".into()),
        read_only: None,
        console: false,
        subject: None,
        facts: Default::default(),
    }
}

#[test]
fn findings_json_snapshot() {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
    let mut baseline = Baseline::new(ID);
    let mut n = 0;
    for day in 0..10 {
        for minute in 0..10 {
            n += 1;
            let t = start + Duration::days(day) + Duration::minutes(minute);
            baseline.observe(&event(
                n,
                t,
                "s3:GetObject",
                "10.1.2.3",
                "aws-sdk-java/2.20.1",
            ));
        }
    }
    let mut context = IdentityContext::unknown(ID);
    context.kind = IdentityKind::AwsUser;
    context.environment = Environment::Production;
    context.actor = ActorKind::Machine;
    let t = start + Duration::days(12) + Duration::minutes(3);
    let window = vec![
        event(9001, t, "s3:GetObject", "10.1.2.9", "aws-sdk-java/2.20.4"),
        event(
            9002,
            t + Duration::minutes(1),
            "cloudtrail:StopLogging",
            "203.0.113.50",
            "aws-cli/2.15.0 Python/3.11",
        ),
    ];
    let findings = Detector::default().detect(&context, Some(&baseline), &window);
    insta::assert_json_snapshot!("detector_findings", findings);
}
