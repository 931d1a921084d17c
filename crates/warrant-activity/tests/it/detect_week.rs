#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! A generated fortnight of routine activity (learning) and a week of detection for 20 routine
//! identities, plus one identity per incident type. Every incident must be flagged with its
//! rule, and no routine identity may raise anything — over several seeds, so the thresholds are
//! not tuned to one draw.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use warrant_activity::baseline::{Baseline, LearningWindow};
use warrant_activity::detect::{
    Detector, Environments, IdentityContext, rules, shadow_identity_finding,
};
use warrant_activity::{Actor, Event, LogKind, Outcome, Principal, PrincipalKind};
use warrant_core::{ActorKind, Environment, Finding, IdentityKind, IdentityStatus};

const PROD: &str = "111111111111";
const DEV: &str = "222222222222";

/// SplitMix64: a tiny deterministic generator, so each seed is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// Poisson-distributed count (Knuth), fine for small means.
    fn poisson(&mut self, mean: f64) -> u64 {
        let limit = (-mean).exp();
        let mut k = 0;
        let mut p = 1.0;
        loop {
            p *= (self.next() as f64) / (u64::MAX as f64);
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Profile {
    /// Daily at a fixed hour, S3 reads and writes.
    Nightly { hour: u32 },
    /// Weekdays 08:00–17:59, application calls at a steady hourly rate.
    Daytime { rate: f64, reads_secrets: bool },
    /// Weekdays 10:00, Terraform applying IAM and EC2 changes.
    Deployer,
    /// Sundays 03:00, a large batch.
    Weekly,
    /// Every hour of every day.
    Poller,
    /// Kubernetes service account, every hour.
    KubeController,
    /// AI agent: sessions of tool calls on weekdays.
    Agent,
}

struct Spec {
    id: String,
    profile: Profile,
    slot: u32,
}

struct Gen {
    rng: Rng,
    seq: u64,
}

impl Gen {
    fn event(&mut self, spec: &Spec, time: DateTime<Utc>, action: &str) -> Event {
        self.seq += 1;
        let slot = spec.slot;
        let (log, kind, actor, ua, ip): (LogKind, PrincipalKind, Actor, String, String) =
            match spec.profile {
                Profile::Nightly { .. } | Profile::Weekly => (
                    LogKind::CloudTrail,
                    PrincipalKind::AwsUser,
                    Actor::Automation,
                    format!("aws-sdk-java/2.20.{} Linux/5.10", self.rng.below(40)),
                    format!("10.1.{slot}.{}", self.rng.range(2, 250)),
                ),
                Profile::Daytime { .. } | Profile::Poller => (
                    LogKind::CloudTrail,
                    PrincipalKind::AwsUser,
                    Actor::Application,
                    format!("Boto3/1.34.{} md/Botocore#1.34", self.rng.below(90)),
                    // Two NAT gateways.
                    format!(
                        "10.{}.{slot}.{}",
                        self.rng.range(2, 3),
                        self.rng.range(2, 250)
                    ),
                ),
                Profile::Deployer => (
                    LogKind::CloudTrail,
                    PrincipalKind::AwsAssumedRole,
                    Actor::Automation,
                    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 terraform-provider-aws/5.40".into(),
                    format!("10.4.{slot}.{}", self.rng.range(2, 250)),
                ),
                Profile::KubeController => (
                    LogKind::KubernetesAudit,
                    PrincipalKind::KubernetesServiceAccount,
                    Actor::Application,
                    "controller/v1.2.3 (linux/amd64) kubernetes/abc".into(),
                    format!("10.50.0.{}", self.rng.range(2, 250)),
                ),
                Profile::Agent => (
                    LogKind::OtelGenAi,
                    PrincipalKind::Agent,
                    Actor::Agent,
                    "agent-runtime/0.9".into(),
                    format!("10.9.0.{}", self.rng.range(2, 250)),
                ),
            };
        let resources = if action.starts_with("s3:") {
            vec![format!(
                "arn:aws:s3:::acme-prod-data-{slot}/part-{}.parquet",
                self.rng.below(500)
            )]
        } else if action.starts_with("dynamodb:") {
            vec![format!(
                "arn:aws:dynamodb:eu-west-1:{PROD}:table/orders-{slot}"
            )]
        } else if action.starts_with("secretsmanager:GetSecretValue") {
            vec![format!(
                "arn:aws:secretsmanager:eu-west-1:{PROD}:secret:svc-{slot}-db"
            )]
        } else if log == LogKind::KubernetesAudit {
            vec![format!("payments/pods/worker-{}", self.rng.below(5))]
        } else {
            Vec::new()
        };
        Event {
            id: format!("{}-{}", spec.id, self.seq),
            time,
            log,
            principal: Principal {
                kind: Some(kind),
                arn: Some(spec.id.clone()),
                credential: (log == LogKind::CloudTrail).then(|| format!("AKIAROUTINE{:08}", slot)),
                account: Some(PROD.into()),
                name: Some(spec.id.clone()),
                session: None,
            },
            actor,
            action: action.to_string(),
            resources,
            source_ip: Some(ip),
            user_agent: Some(ua),
            outcome: Outcome::Success,
            error_code: None,
            region: Some("eu-west-1".into()),
            read_only: None,
            console: false,
            subject: None,
            facts: Default::default(),
        }
    }

    /// Routine activity of `spec` on the day starting at `day`.
    fn day(&mut self, spec: &Spec, day: DateTime<Utc>, out: &mut Vec<Event>) {
        let weekday = day.format("%u").to_string().parse::<u32>().unwrap_or(1); // 1 = Monday
        let workday = weekday <= 5;
        let at = |g: &mut Gen, hour: u32, max_minute: u64| {
            day + Duration::hours(i64::from(hour))
                + Duration::seconds(g.rng.below(max_minute * 60) as i64)
        };
        match spec.profile {
            Profile::Nightly { hour } => {
                let n = self.rng.range(50, 150);
                for _ in 0..n {
                    let t = at(self, hour, 20);
                    let action = *self
                        .rng
                        .pick(&["s3:GetObject", "s3:GetObject", "s3:PutObject"]);
                    out.push(self.event(spec, t, action));
                }
                // A handful of routine refusals (missing optional objects).
                for _ in 0..self.rng.below(3) {
                    let t = at(self, hour, 20);
                    let mut e = self.event(spec, t, "s3:GetObject");
                    e.outcome = Outcome::Denied;
                    e.error_code = Some("AccessDenied".into());
                    out.push(e);
                }
            }
            Profile::Daytime {
                rate,
                reads_secrets,
            } => {
                if !workday {
                    return;
                }
                let actions = [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "sqs:SendMessage",
                    "sqs:ReceiveMessage",
                    "kms:Decrypt",
                ];
                for hour in 8..18 {
                    for _ in 0..self.rng.poisson(rate) {
                        let t = at(self, hour, 60);
                        let action = *self.rng.pick(&actions);
                        out.push(self.event(spec, t, action));
                    }
                }
                if reads_secrets {
                    for _ in 0..self.rng.range(1, 3) {
                        let hour = self.rng.range(8, 17) as u32;
                        let t = at(self, hour, 60);
                        out.push(self.event(spec, t, "secretsmanager:GetSecretValue"));
                    }
                }
                if self.rng.below(3) == 0 {
                    let hour = self.rng.range(8, 17) as u32;
                    let t = at(self, hour, 60);
                    let mut e = self.event(spec, t, "dynamodb:PutItem");
                    e.outcome = Outcome::Error;
                    e.error_code = Some("ConditionalCheckFailedException".into());
                    out.push(e);
                }
            }
            Profile::Deployer => {
                if !workday {
                    return;
                }
                for action in [
                    "ec2:DescribeInstances",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcs",
                    "iam:GetRole",
                    "iam:ListRolePolicies",
                    "iam:CreateRole",
                    "iam:AttachRolePolicy",
                    "iam:PutRolePolicy",
                    "ec2:RunInstances",
                    "ec2:AuthorizeSecurityGroupIngress",
                ] {
                    for _ in 0..self.rng.range(1, 4) {
                        let t = at(self, 10, 30);
                        out.push(self.event(spec, t, action));
                    }
                }
            }
            Profile::Weekly => {
                if weekday != 7 {
                    return;
                }
                for _ in 0..self.rng.range(900, 1100) {
                    let t = at(self, 3, 50);
                    out.push(self.event(spec, t, "s3:GetObject"));
                }
            }
            Profile::Poller => {
                for hour in 0..24 {
                    for _ in 0..self.rng.range(8, 12) {
                        let t = at(self, hour, 60);
                        out.push(self.event(spec, t, "cloudwatch:GetMetricData"));
                    }
                }
            }
            Profile::KubeController => {
                for hour in 0..24 {
                    for _ in 0..self.rng.range(5, 10) {
                        let t = at(self, hour, 60);
                        let action = *self
                            .rng
                            .pick(&["list:pods", "get:configmaps", "watch:pods"]);
                        out.push(self.event(spec, t, action));
                    }
                }
            }
            Profile::Agent => {
                if !workday {
                    return;
                }
                for hour in 9..17 {
                    for _ in 0..self.rng.poisson(3.0) {
                        let session = format!("run-{}", self.rng.next());
                        let mut t = at(self, hour, 50);
                        for step in 0..self.rng.range(3, 8) {
                            let tool = if step == 0 {
                                "tool:search"
                            } else {
                                *self
                                    .rng
                                    .pick(&["tool:read_file", "tool:search", "tool:summarize"])
                            };
                            let mut e = self.event(spec, t, tool);
                            e.principal.session = Some(session.clone());
                            out.push(e);
                            t += Duration::seconds(20);
                        }
                    }
                }
            }
        }
    }
}

fn start() -> DateTime<Utc> {
    // A Monday.
    Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn routine_specs() -> Vec<Spec> {
    let mut specs = Vec::new();
    let mut slot = 0;
    let mut add = |name: String, profile: Profile| {
        slot += 1;
        specs.push(Spec {
            id: format!("arn:aws:iam::{PROD}:user/{name}"),
            profile,
            slot,
        });
    };
    for i in 0..6 {
        add(
            format!("prod-nightly-{i}"),
            Profile::Nightly { hour: 1 + i },
        );
    }
    for i in 0..8 {
        add(
            format!("prod-api-{i}"),
            Profile::Daytime {
                rate: 5.0 + 2.0 * f64::from(i),
                reads_secrets: i % 2 == 0,
            },
        );
    }
    add("prod-terraform".into(), Profile::Deployer);
    add("prod-agent".into(), Profile::Agent);
    add("prod-weekly-report".into(), Profile::Weekly);
    add("prod-metrics-0".into(), Profile::Poller);
    add("prod-metrics-1".into(), Profile::Poller);
    add("prod-kube-controller".into(), Profile::KubeController);
    specs
}

fn context(spec: &Spec) -> IdentityContext {
    let mut ctx = IdentityContext::unknown(&spec.id);
    ctx.environment = Environment::Production;
    ctx.actor = ActorKind::Machine;
    ctx.kind = match spec.profile {
        Profile::Agent => IdentityKind::AiAgent,
        Profile::KubeController => IdentityKind::K8sServiceAccount,
        Profile::Deployer => IdentityKind::AwsRole,
        _ => IdentityKind::AwsUser,
    };
    if spec.profile == Profile::Agent {
        ctx.declared_tools = Some(
            ["search", "read_file", "summarize"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
    }
    ctx
}

fn environments() -> Environments {
    let mut env = Environments::default();
    env.accounts.insert(PROD.into(), Environment::Production);
    env.accounts.insert(DEV.into(), Environment::Development);
    env.networks
        .insert("10.200.0.0/24".into(), Environment::Development);
    env
}

struct World {
    /// identity → (learning events, detection events)
    events: BTreeMap<String, (Vec<Event>, Vec<Event>)>,
    specs: Vec<Spec>,
    generator: Gen,
}

fn world(seed: u64, specs: Vec<Spec>) -> World {
    let mut generator = Gen {
        rng: Rng(seed),
        seq: 0,
    };
    let mut events = BTreeMap::new();
    for spec in &specs {
        let mut learning = Vec::new();
        let mut detection = Vec::new();
        for d in 0..21 {
            let day = start() + Duration::days(d);
            let out = if d < 14 {
                &mut learning
            } else {
                &mut detection
            };
            generator.day(spec, day, out);
        }
        events.insert(spec.id.clone(), (learning, detection));
    }
    World {
        events,
        specs,
        generator,
    }
}

fn learning_window() -> LearningWindow {
    LearningWindow {
        start: start(),
        end: start() + Duration::days(14),
    }
}

fn detect(world: &World, ctx: &IdentityContext) -> Vec<Finding> {
    let (learning, detection) = &world.events[&ctx.id];
    let baseline = Baseline::learn(&ctx.id, &learning_window(), learning);
    // Round-trip through the stored form, as the store would.
    let baseline = Baseline::from_bytes(&baseline.to_bytes()).unwrap();
    Detector::default()
        .with_environments(environments())
        .detect(ctx, Some(&baseline), detection)
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{} [{}]: {}", f.rule, f.severity, f.evidence.join(" | ")))
        .collect::<Vec<_>>()
        .join("\n")
}

const SEEDS: std::ops::Range<u64> = 0..6;

#[test]
fn routine_identities_raise_nothing() {
    for seed in SEEDS {
        let w = world(seed, routine_specs());
        for spec in &w.specs {
            let (learning, detection) = &w.events[&spec.id];
            assert!(
                learning.len() > 50 && !detection.is_empty(),
                "{} generated too little",
                spec.id
            );
            let findings = detect(&w, &context(spec));
            assert!(
                findings.is_empty(),
                "seed {seed}: routine identity {} raised:\n{}",
                spec.id,
                describe(&findings)
            );
        }
    }
}

/// A weekday in the detection week, at `hour`.
fn detection_day(day: i64, hour: u32) -> DateTime<Utc> {
    start() + Duration::days(14 + day) + Duration::hours(i64::from(hour))
}

type Inject = fn(&mut Gen, &Spec, &mut IdentityContext, &mut Vec<Event>);

struct Incident {
    name: &'static str,
    base: Profile,
    rule: warrant_core::RuleId,
    tactic: &'static str,
    inject: Inject,
}

fn calls(g: &mut Gen, spec: &Spec, time: DateTime<Utc>, actions: &[&str], out: &mut Vec<Event>) {
    for (i, action) in actions.iter().enumerate() {
        let e = g.event(spec, time + Duration::seconds(i as i64 * 7), action);
        out.push(e);
    }
}

fn incidents() -> Vec<Incident> {
    let daytime = Profile::Daytime {
        rate: 8.0,
        reads_secrets: false,
    };
    vec![
        Incident {
            name: "bulk-read",
            base: Profile::Nightly { hour: 2 },
            rule: rules::VOLUME_SPIKE,
            tactic: "collection",
            inject: |g, spec, _, out| {
                for i in 0..12_000 {
                    let e = g.event(
                        spec,
                        detection_day(2, 2) + Duration::milliseconds(i * 90),
                        "s3:GetObject",
                    );
                    out.push(e);
                }
            },
        },
        Incident {
            name: "backdoor-key",
            base: daytime,
            rule: rules::PRIVILEGE_CHANGE,
            tactic: "persistence",
            inject: |g, spec, _, out| {
                calls(
                    g,
                    spec,
                    detection_day(1, 14),
                    &[
                        "iam:CreateUser",
                        "iam:CreateAccessKey",
                        "iam:AttachUserPolicy",
                    ],
                    out,
                );
            },
        },
        Incident {
            name: "stop-logging",
            base: daytime,
            rule: rules::DEFENSE_EVASION,
            tactic: "defense-evasion",
            inject: |g, spec, _, out| {
                calls(
                    g,
                    spec,
                    detection_day(2, 11),
                    &["cloudtrail:StopLogging"],
                    out,
                );
            },
        },
        Incident {
            name: "secret-first-read",
            base: daytime,
            rule: rules::CREDENTIAL_ACCESS,
            tactic: "credential-access",
            inject: |g, spec, _, out| {
                calls(
                    g,
                    spec,
                    detection_day(3, 15),
                    &[
                        "secretsmanager:ListSecrets",
                        "secretsmanager:GetSecretValue",
                        "secretsmanager:GetSecretValue",
                    ],
                    out,
                );
            },
        },
        Incident {
            name: "secret-burst",
            base: Profile::Daytime {
                rate: 8.0,
                reads_secrets: true,
            },
            rule: rules::CREDENTIAL_ACCESS,
            tactic: "credential-access",
            inject: |g, spec, _, out| {
                for i in 0..150 {
                    let mut e = g.event(
                        spec,
                        detection_day(1, 13) + Duration::seconds(i * 5),
                        "secretsmanager:GetSecretValue",
                    );
                    e.resources = vec![format!(
                        "arn:aws:secretsmanager:eu-west-1:{PROD}:secret:other-{i}"
                    )];
                    out.push(e);
                }
            },
        },
        Incident {
            name: "share-snapshot",
            base: daytime,
            rule: rules::EXFILTRATION,
            tactic: "exfiltration",
            inject: |g, spec, _, out| {
                calls(
                    g,
                    spec,
                    detection_day(0, 16),
                    &["ec2:CreateSnapshot", "ec2:ModifySnapshotAttribute"],
                    out,
                );
            },
        },
        Incident {
            name: "run-command",
            base: daytime,
            rule: rules::SENSITIVE_ACTION,
            tactic: "execution",
            inject: |g, spec, _, out| {
                calls(
                    g,
                    spec,
                    detection_day(0, 9),
                    &["ssm:SendCommand", "ssm:GetCommandInvocation"],
                    out,
                );
            },
        },
        Incident {
            name: "new-network",
            base: daytime,
            rule: rules::NEW_NETWORK,
            tactic: "initial-access",
            inject: |g, spec, _, out| {
                for i in 0..20 {
                    let mut e = g.event(
                        spec,
                        detection_day(1, 10) + Duration::seconds(i * 30),
                        "dynamodb:GetItem",
                    );
                    e.source_ip = Some("198.51.100.23".into());
                    out.push(e);
                }
            },
        },
        Incident {
            name: "new-client",
            base: daytime,
            rule: rules::NEW_USER_AGENT,
            tactic: "defense-evasion",
            inject: |g, spec, _, out| {
                for i in 0..5 {
                    let mut e = g.event(
                        spec,
                        detection_day(3, 12) + Duration::seconds(i * 30),
                        "dynamodb:Query",
                    );
                    e.user_agent = Some("aws-cli/2.15.30 Python/3.11.8 Linux/6.5".into());
                    out.push(e);
                }
            },
        },
        Incident {
            name: "night-owl",
            base: daytime,
            rule: rules::OFF_SCHEDULE,
            tactic: "initial-access",
            inject: |g, spec, _, out| {
                // Saturday 03:00.
                for i in 0..8 {
                    let e = g.event(
                        spec,
                        detection_day(5, 3) + Duration::seconds(i * 60),
                        "dynamodb:Query",
                    );
                    out.push(e);
                }
            },
        },
        Incident {
            name: "denied-probe",
            base: Profile::Nightly { hour: 4 },
            rule: rules::FAILURE_BURST,
            tactic: "discovery",
            inject: |g, spec, _, out| {
                for i in 0..40 {
                    let action = [
                        "iam:ListUsers",
                        "iam:ListRoles",
                        "ec2:DescribeInstances",
                        "s3:ListAllMyBuckets",
                    ][i % 4];
                    let mut e = g.event(
                        spec,
                        detection_day(2, 4) + Duration::seconds(i as i64 * 20),
                        action,
                    );
                    e.outcome = Outcome::Denied;
                    e.error_code = Some("AccessDenied".into());
                    out.push(e);
                }
            },
        },
        Incident {
            name: "enumeration",
            base: daytime,
            rule: rules::DISCOVERY_BURST,
            tactic: "discovery",
            inject: |g, spec, _, out| {
                let actions = [
                    "iam:ListUsers",
                    "iam:ListRoles",
                    "iam:ListPolicies",
                    "iam:GetAccountAuthorizationDetails",
                    "ec2:DescribeInstances",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "s3:ListAllMyBuckets",
                    "lambda:ListFunctions",
                    "rds:DescribeDBInstances",
                    "sts:GetCallerIdentity",
                    "organizations:DescribeOrganization",
                ];
                calls(g, spec, detection_day(2, 14), &actions, out);
            },
        },
        Incident {
            name: "shared-key",
            base: Profile::Nightly { hour: 5 },
            rule: rules::CREDENTIAL_REUSE,
            tactic: "initial-access",
            inject: |g, spec, _, out| {
                for (i, ip) in ["203.0.113.5", "192.0.2.77", "198.51.100.200"]
                    .iter()
                    .enumerate()
                {
                    let mut e = g.event(
                        spec,
                        detection_day(3, 5) + Duration::minutes(i as i64 * 5),
                        "s3:GetObject",
                    );
                    e.source_ip = Some(ip.to_string());
                    out.push(e);
                }
            },
        },
        Incident {
            name: "console-human",
            base: daytime,
            rule: rules::CONSOLE_USE,
            tactic: "initial-access",
            inject: |g, spec, _, out| {
                let mut e = g.event(spec, detection_day(1, 11), "signin:ConsoleLogin");
                e.console = true;
                e.actor = Actor::Human;
                e.user_agent = Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1".into());
                out.push(e);
            },
        },
        Incident {
            name: "prod-in-dev",
            base: daytime,
            rule: rules::CROSS_ENVIRONMENT,
            tactic: "lateral-movement",
            inject: |g, spec, _, out| {
                let mut e = g.event(spec, detection_day(2, 13), "s3:PutObject");
                e.resources = vec!["arn:aws:s3:::acme-dev-scratch/export.csv".into()];
                out.push(e);
                let mut e = g.event(spec, detection_day(2, 13), "dynamodb:Scan");
                e.resources = vec![format!("arn:aws:dynamodb:eu-west-1:{DEV}:table/orders")];
                out.push(e);
            },
        },
        Incident {
            name: "revenant",
            base: daytime,
            rule: rules::DORMANT_ACTIVE,
            tactic: "initial-access",
            inject: |g, spec, ctx, out| {
                // Nothing in the learning window; last used 200 days ago.
                out.clear();
                ctx.last_used = Some(start() - Duration::days(200));
                calls(
                    g,
                    spec,
                    detection_day(1, 10),
                    &["dynamodb:GetItem", "dynamodb:Scan"],
                    out,
                );
            },
        },
        Incident {
            name: "kube-exec",
            base: Profile::KubeController,
            rule: rules::SENSITIVE_ACTION,
            tactic: "execution",
            inject: |g, spec, _, out| {
                calls(g, spec, detection_day(4, 22), &["create:pods/exec"], out);
            },
        },
        Incident {
            name: "kube-secrets",
            base: Profile::KubeController,
            rule: rules::CREDENTIAL_ACCESS,
            tactic: "credential-access",
            inject: |g, spec, _, out| {
                calls(g, spec, detection_day(4, 23), &["list:secrets"], out);
            },
        },
        Incident {
            name: "own-key-unregistered",
            base: daytime,
            rule: rules::UNREGISTERED_CREDENTIAL,
            tactic: "persistence",
            inject: |g, spec, ctx, out| {
                // The inventory knows the user's first key; a second appears at 3 a.m.
                let mut known = warrant_core::Credential::new(
                    "AKIAEXAMPLEFIRSTKEY1",
                    spec.id.clone(),
                    warrant_core::CredentialKind::AccessKey,
                );
                known.created = Some(detection_day(0, 9) - Duration::days(200));
                *ctx = ctx.clone().with_credentials([&known]);
                let mut e = g.event(spec, detection_day(3, 3), "iam:CreateAccessKey");
                e.facts.push("key.id", "AKIAEXAMPLESECONDKY2");
                out.push(e);
            },
        },
        Incident {
            name: "agent-shell",
            base: Profile::Agent,
            rule: rules::UNDECLARED_TOOL,
            tactic: "execution",
            inject: |g, spec, _, out| {
                let mut e = g.event(spec, detection_day(2, 11), "tool:shell_exec");
                e.principal.session = Some("run-x".into());
                out.push(e);
            },
        },
    ]
}

#[test]
fn every_incident_is_flagged_with_its_rule_and_tactic() {
    for seed in SEEDS {
        let list = incidents();
        let specs: Vec<Spec> = list
            .iter()
            .enumerate()
            .map(|(i, inc)| Spec {
                id: format!("arn:aws:iam::{PROD}:user/incident-{}", inc.name),
                profile: inc.base,
                slot: 100 + i as u32,
            })
            .collect();
        let mut w = world(seed, specs);
        let mut flagged = BTreeSet::new();
        for (inc, spec) in list.iter().zip(&w.specs) {
            let mut ctx = context(spec);
            let mut injected = Vec::new();
            (inc.inject)(&mut w.generator, spec, &mut ctx, &mut injected);
            let entry = w.events.get_mut(&spec.id).unwrap();
            if inc.name == "revenant" {
                entry.0.clear();
            }
            entry.1.extend(injected);
            let findings = detect(&w, &ctx);
            let hit = findings.iter().find(|f| f.rule == inc.rule);
            let Some(hit) = hit else {
                panic!(
                    "seed {seed}: incident {} not flagged by {}; got:\n{}",
                    inc.name,
                    inc.rule,
                    describe(&findings)
                );
            };
            assert!(
                hit.tactics.iter().any(|t| t.as_str() == inc.tactic),
                "seed {seed}: {} lacks tactic {}: {:?}",
                inc.name,
                inc.tactic,
                hit.evidence
            );
            assert_eq!(hit.source, warrant_core::FindingSource::Activity);
            assert!(!hit.remediation.is_empty());
            assert!(
                hit.evidence
                    .iter()
                    .any(|e| e.chars().any(|c| c.is_ascii_digit())),
                "evidence carries numbers: {:?}",
                hit.evidence
            );
            flagged.insert(inc.rule);
        }
        // Every detection rule except the shadow-identity builder (and the alerts the MCP
        // gateway raises, not these detectors) is exercised above.
        for rule in rules::all_rules() {
            if rule != rules::SHADOW_IDENTITY && !rules::RAISED_BY_THE_GATEWAY.contains(&rule) {
                assert!(flagged.contains(&rule), "no incident for {rule}");
            }
        }
    }
}

#[test]
fn shadow_identities_get_a_finding() {
    let principal = Principal {
        kind: Some(PrincipalKind::AwsUser),
        arn: Some(format!("arn:aws:iam::{PROD}:user/unknown-bot")),
        credential: Some("AKIAUNKNOWN000000001".into()),
        account: Some(PROD.into()),
        name: Some("unknown-bot".into()),
        session: None,
    };
    let spec = Spec {
        id: principal.arn.clone().unwrap(),
        profile: Profile::Poller,
        slot: 250,
    };
    let mut g = Gen {
        rng: Rng(1),
        seq: 0,
    };
    let events = vec![
        g.event(&spec, detection_day(0, 1), "s3:ListAllMyBuckets"),
        g.event(&spec, detection_day(0, 2), "iam:CreateAccessKey"),
    ];
    let f = shadow_identity_finding(&spec.id, &principal, &events);
    assert_eq!(f.rule, rules::SHADOW_IDENTITY);
    assert_eq!(f.severity, warrant_core::Severity::High);
    assert_eq!(f.identity, spec.id);
    assert!(f.evidence[0].contains("unknown-bot"));
    assert_eq!(
        f.id,
        shadow_identity_finding(&spec.id, &principal, &events).id
    );
}

#[test]
fn findings_do_not_depend_on_event_order() {
    let list = incidents();
    let inc = &list[1];
    let spec = Spec {
        id: "arn:aws:iam::111111111111:user/order".into(),
        profile: inc.base,
        slot: 99,
    };
    let mut w = world(3, vec![]);
    let mut ctx = context(&spec);
    let mut learning = Vec::new();
    let mut detection = Vec::new();
    for d in 0..21 {
        let out = if d < 14 {
            &mut learning
        } else {
            &mut detection
        };
        w.generator.day(&spec, start() + Duration::days(d), out);
    }
    (inc.inject)(&mut w.generator, &spec, &mut ctx, &mut detection);
    let baseline = Baseline::learn(&spec.id, &learning_window(), &learning);
    let detector = Detector::default();
    let forward = detector.detect(&ctx, Some(&baseline), &detection);
    detection.reverse();
    let backward = detector.detect(&ctx, Some(&baseline), &detection);
    assert_eq!(forward, backward);
    assert!(!forward.is_empty());
}

#[test]
fn disabled_rules_do_not_run() {
    let ctx = IdentityContext::unknown("x");
    let spec = Spec {
        id: "x".into(),
        profile: Profile::Poller,
        slot: 1,
    };
    let mut g = Gen {
        rng: Rng(9),
        seq: 0,
    };
    let events = vec![g.event(&spec, detection_day(0, 1), "cloudtrail:StopLogging")];
    let on = Detector::default().detect(&ctx, None, &events);
    assert!(on.iter().any(|f| f.rule == rules::DEFENSE_EVASION));
    let mut config = warrant_activity::detect::DetectConfig::default();
    config.disabled_rules.push(rules::DEFENSE_EVASION);
    let off = Detector::new(config).detect(&ctx, None, &events);
    assert!(off.iter().all(|f| f.rule != rules::DEFENSE_EVASION));
    let _ = IdentityStatus::Active;
}

fn simple(n: u64, time: DateTime<Utc>, action: &str, ip: &str) -> Event {
    Event {
        id: format!("s{n}"),
        time,
        log: LogKind::CloudTrail,
        principal: Principal {
            credential: Some("AKIASIMPLE0000000001".into()),
            ..Principal::default()
        },
        actor: Actor::Application,
        action: action.into(),
        resources: vec![],
        source_ip: Some(ip.into()),
        user_agent: Some("Boto3/1.34.0".into()),
        outcome: Outcome::Success,
        error_code: None,
        region: None,
        read_only: None,
        console: false,
        subject: None,
        facts: Default::default(),
    }
}

/// A writer that starts reading in bulk: its total stays ordinary, the one action does not.
#[test]
fn one_action_spiking_inside_an_ordinary_total_is_flagged() {
    let ctx = IdentityContext::unknown("writer");
    let mut n = 0;
    let mut day = |d: i64, puts: u64, gets: u64, out: &mut Vec<Event>| {
        for i in 0..puts + gets {
            n += 1;
            let t = start() + Duration::days(d) + Duration::seconds((i * 10) as i64);
            let action = if i < puts {
                "s3:PutObject"
            } else {
                "s3:GetObject"
            };
            out.push(simple(n, t, action, "10.0.0.1"));
        }
    };
    let mut learning = Vec::new();
    for d in 0..7 {
        day(d, 5_000, 20, &mut learning);
    }
    let mut quiet = Vec::new();
    day(8, 5_000, 30, &mut quiet);
    let mut bulk = Vec::new();
    day(8, 5_000, 2_000, &mut bulk);
    let baseline = Baseline::learn("writer", &learning_window(), &learning);
    let detector = Detector::default();
    assert!(detector.detect(&ctx, Some(&baseline), &quiet).is_empty());
    let findings = detector.detect(&ctx, Some(&baseline), &bulk);
    let spike = findings
        .iter()
        .find(|f| f.rule == rules::VOLUME_SPIKE)
        .unwrap_or_else(|| panic!("{}", describe(&findings)));
    assert!(spike.title.contains("s3:GetObject"), "{}", spike.title);
    assert!(spike.evidence[0].contains("2,000"), "{:?}", spike.evidence);
    assert_eq!(spike.attack, [warrant_core::technique!("T1530")]);
}

/// Novelty of networks means nothing for a workload that already roams many of them.
#[test]
fn roaming_workloads_get_no_new_network_findings() {
    let ctx = IdentityContext::unknown("lambda-role");
    let mut learning = Vec::new();
    for i in 0..200u64 {
        let t = start() + Duration::minutes((i * 90) as i64);
        let ip = format!("52.{}.{}.9", i % 40, i % 7);
        learning.push(simple(i, t, "dynamodb:GetItem", &ip));
    }
    let baseline = Baseline::learn("lambda-role", &learning_window(), &learning);
    assert!(baseline.networks().distinct() > 16);
    let t = start() + Duration::days(15);
    let window = vec![simple(9_999, t, "dynamodb:GetItem", "3.250.1.1")];
    let findings = Detector::default().detect(&ctx, Some(&baseline), &window);
    assert!(
        findings.iter().all(|f| f.rule != rules::NEW_NETWORK),
        "{}",
        describe(&findings)
    );
}
