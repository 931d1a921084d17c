#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! One small inventory per rule: positive cases fire, negative and lifecycle cases do not.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use warrant_core::*;
use warrant_posture::{PostureConfig, assess};

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap()
}

fn days_ago(n: i64) -> Option<Timestamp> {
    Some(now() - Duration::days(n))
}

fn user(name: &str) -> Identity {
    let mut i = Identity::new(
        format!("arn:aws:iam::111111111111:user/{name}"),
        IdentityKind::AwsUser,
        Provider::Aws,
        name,
    );
    i.account = Some("111111111111".into());
    i.environment = Environment::Production;
    i.created = days_ago(400);
    i.last_used = days_ago(1);
    i.login = Some(InteractiveLogin::default());
    i.owners = vec![OwnerRef {
        id: "dana@acme.example".into(),
        source: "tag:owner".into(),
    }];
    i
}

fn role(name: &str, account: &str) -> Identity {
    let mut i = Identity::new(
        format!("arn:aws:iam::{account}:role/{name}"),
        IdentityKind::AwsRole,
        Provider::Aws,
        name,
    );
    i.account = Some(account.into());
    i.environment = Environment::Production;
    i.created = days_ago(400);
    i.last_used = days_ago(1);
    i.owners = vec![OwnerRef {
        id: "dana@acme.example".into(),
        source: "tag:owner".into(),
    }];
    i
}

fn owner(id: &str, status: OwnerStatus) -> Owner {
    Owner {
        id: id.into(),
        display_name: None,
        email: Some(id.into()),
        login: None,
        kind: OwnerKind::Person,
        status,
        manager: None,
        department: None,
        provenance: Provenance::default(),
    }
}

fn key(
    id: &str,
    identity: &Identity,
    created_days_ago: i64,
    last_used_days_ago: Option<i64>,
) -> Credential {
    let mut c = Credential::new(id, identity.id.clone(), CredentialKind::AccessKey);
    c.created = days_ago(created_days_ago);
    c.last_rotated = c.created;
    c.last_used = last_used_days_ago.and_then(days_ago);
    c.preview = Some(id.into());
    c
}

fn policy(id: &str, actions: &[&str], resources: &[&str]) -> Policy {
    Policy {
        id: id.into(),
        name: id.rsplit('/').next().unwrap().into(),
        provider: Provider::Aws,
        kind: PolicyKind::CustomerManaged,
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            not_actions: vec![],
            resources: resources.iter().map(|s| s.to_string()).collect(),
            not_resources: vec![],
            conditions: None,
        }],
        provenance: Provenance::default(),
    }
}

fn base() -> Inventory {
    Inventory {
        owners: vec![owner("dana@acme.example", OwnerStatus::Active)],
        ..Default::default()
    }
}

fn rules_for(inv: &Inventory, id: &str) -> Vec<String> {
    let a = assess(inv, &[], &PostureConfig::default(), now());
    let mut rules: Vec<String> = a
        .findings
        .iter()
        .filter(|f| f.identity == id)
        .map(|f| f.rule.to_string())
        .collect();
    rules.sort();
    rules
}

#[test]
fn a_healthy_identity_has_no_findings() {
    let mut inv = base();
    let u = user("svc-reporting");
    inv.credentials
        .push(key("AKIAHEALTHY000000001", &u, 30, Some(1)));
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/read-reports",
        &["s3:GetObject"],
        &["arn:aws:s3:::reports/*"],
    ));
    inv.attachments.push(Attachment {
        identity: u.id.clone(),
        policy: "arn:aws:iam::111111111111:policy/read-reports".into(),
        via: None,
        scope: None,
    });
    inv.identities.push(u.clone());
    assert_eq!(rules_for(&inv, &u.id), Vec::<String>::new());
}

#[test]
fn disabled_rules_and_severity_overrides_apply_to_registered_ids() {
    let mut inv = base();
    let mut none = user("svc-none");
    none.owners.clear();
    inv.identities.push(none.clone());
    let run = |config: &PostureConfig| {
        assess(&inv, &[], config, now())
            .findings
            .into_iter()
            .filter(|f| f.identity == none.id && f.rule == RuleId::NoOwner)
            .collect::<Vec<_>>()
    };
    let default = run(&PostureConfig::default());
    assert_eq!(default.len(), 1);
    assert_eq!(default[0].severity, RuleId::NoOwner.spec().default_severity);
    assert_eq!(default[0].owasp, OwaspNhi::Nhi1);
    let mut config = PostureConfig::default();
    config.severity.insert(RuleId::NoOwner, Severity::Critical);
    assert_eq!(run(&config)[0].severity, Severity::Critical);
    config.disabled_rules.push(RuleId::NoOwner);
    assert!(run(&config).is_empty());
    // Configuration text is checked against the registry.
    let error = |json: &str| {
        serde_json::from_str::<PostureConfig>(json)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let typo = error(r#"{"disabled_rules": ["no-ownr"]}"#);
    assert!(typo.contains("unknown rule id `no-ownr`"), "{typo}");
    let activity = error(r#"{"severity": {"activity-new-network": "high"}}"#);
    assert!(
        activity.contains("rule `activity-new-network` is an activity rule, not a posture rule"),
        "{activity}"
    );
}

#[test]
fn ownership_rules() {
    let mut inv = base();
    inv.owners
        .push(owner("gone@acme.example", OwnerStatus::Deprovisioned));
    inv.owners
        .push(owner("away@acme.example", OwnerStatus::Suspended));
    let mut none = user("svc-none");
    none.owners.clear();
    let mut gone = user("svc-gone");
    gone.owners = vec![OwnerRef {
        id: "gone@acme.example".into(),
        source: "tag:owner".into(),
    }];
    let mut away = user("svc-away");
    away.owners = vec![OwnerRef {
        id: "away@acme.example".into(),
        source: "tag:owner".into(),
    }];
    let mut mailbox = user("svc-mailbox");
    mailbox.owners = vec![OwnerRef {
        id: "devops@acme.example".into(),
        source: "tag:owner".into(),
    }];
    let mut stranger = user("svc-stranger");
    stranger.owners = vec![OwnerRef {
        id: "nobody@acme.example".into(),
        source: "tag:owner".into(),
    }];
    let mut human = user("alice.smith");
    human.owners.clear();
    human.actor = ActorKind::Human;
    for i in [&none, &gone, &away, &mailbox, &stranger, &human] {
        inv.identities.push((*i).clone());
    }
    assert_eq!(rules_for(&inv, &none.id), ["no-owner"]);
    assert_eq!(rules_for(&inv, &gone.id), ["owner-deprovisioned"]);
    assert_eq!(rules_for(&inv, &away.id), ["owner-suspended"]);
    assert_eq!(rules_for(&inv, &mailbox.id), ["owner-shared-mailbox"]);
    assert_eq!(rules_for(&inv, &stranger.id), ["owner-unknown"]);
    assert!(
        rules_for(&inv, &human.id).is_empty(),
        "people are not non-human identities"
    );
}

#[test]
fn unused_rules_respect_the_lifecycle() {
    let mut inv = base();
    let mut stale = role("old-batch", "111111111111");
    stale.last_used = days_ago(200);
    let mut fresh = role("new-batch", "111111111111");
    fresh.created = days_ago(1);
    fresh.last_used = None;
    let mut disabled = user("svc-disabled");
    disabled.status = IdentityStatus::Disabled;
    disabled.last_used = days_ago(900);
    let keyed = user("svc-keys");
    inv.credentials
        .push(key("AKIANEWKEY0000000001", &keyed, 1, None));
    inv.credentials
        .push(key("AKIAOLDUNUSED0000001", &keyed, 60, None));
    inv.credentials
        .push(key("AKIADISABLED00000001", &disabled, 60, Some(400)));
    for i in [&stale, &fresh, &disabled, &keyed] {
        inv.identities.push((*i).clone());
    }
    assert_eq!(rules_for(&inv, &stale.id), ["identity-unused"]);
    assert!(
        rules_for(&inv, &fresh.id).is_empty(),
        "a role created yesterday is not unused"
    );
    assert_eq!(
        rules_for(&inv, &disabled.id),
        ["disabled-with-active-credentials"],
        "disabled: only the leftover key"
    );
    assert_eq!(
        rules_for(&inv, &keyed.id),
        ["credential-unused", "two-active-keys"],
        "the key created yesterday is not unused"
    );
    let a = assess(&inv, &[], &PostureConfig::default(), now());
    let status = a
        .identities
        .iter()
        .find(|i| i.id == stale.id)
        .unwrap()
        .status;
    assert_eq!(status, IdentityStatus::Dormant);
}

#[test]
fn trust_rules() {
    let mut inv = base();
    let target = role("deploy", "111111111111");
    let open = role("open", "111111111111");
    let oidc = role("gha", "111111111111");
    let pinned = role("gha-pinned", "111111111111");
    let mut dev = role("dev-ci", "222222222222");
    dev.environment = Environment::Development;
    let edge = |from: &str,
                kind: PrincipalKind,
                to: &Identity,
                trust: TrustKind,
                conditions: Option<serde_json::Value>| TrustEdge {
        from: from.into(),
        from_kind: kind,
        to: to.id.clone(),
        kind: trust,
        conditions,
        provenance: Provenance::default(),
    };
    inv.trust_edges.push(edge(
        "999999999999",
        PrincipalKind::Account,
        &target,
        TrustKind::AssumeRole,
        None,
    ));
    inv.trust_edges.push(edge(
        "222222222222",
        PrincipalKind::Account,
        &target,
        TrustKind::AssumeRole,
        None,
    ));
    inv.trust_edges.push(edge(
        "*",
        PrincipalKind::Anyone,
        &open,
        TrustKind::AssumeRole,
        None,
    ));
    let provider = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
    inv.trust_edges.push(edge(provider, PrincipalKind::Federated, &oidc, TrustKind::AssumeRoleWithWebIdentity,
        Some(serde_json::json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}))));
    inv.trust_edges.push(edge(provider, PrincipalKind::Federated, &pinned, TrustKind::AssumeRoleWithWebIdentity,
        Some(serde_json::json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": "repo:acme/api:ref:refs/heads/main"}}))));
    for i in [&target, &open, &oidc, &pinned, &dev] {
        inv.identities.push((*i).clone());
    }
    assert_eq!(
        rules_for(&inv, &target.id),
        ["cross-environment-trust", "trust-external-account"]
    );
    assert_eq!(rules_for(&inv, &open.id), ["trust-anyone"]);
    assert_eq!(rules_for(&inv, &oidc.id), ["oidc-trust-unrestricted"]);
    assert!(rules_for(&inv, &pinned.id).is_empty());
}

#[test]
fn privilege_rules_and_blast_radius() {
    let mut inv = base();
    let admin = user("svc-admin");
    let escalator = user("svc-escalator");
    let reader = user("svc-reader");
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/admin",
        &["*"],
        &["*"],
    ));
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/lambda-deployer",
        &[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ],
        &["*"],
    ));
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/read",
        &["s3:GetObject"],
        &["arn:aws:s3:::logs/*"],
    ));
    for (i, p) in [
        (&admin, "admin"),
        (&escalator, "lambda-deployer"),
        (&reader, "read"),
    ] {
        inv.attachments.push(Attachment {
            identity: i.id.clone(),
            policy: format!("arn:aws:iam::111111111111:policy/{p}"),
            via: None,
            scope: None,
        });
        inv.identities.push(i.clone());
    }
    assert_eq!(rules_for(&inv, &admin.id), ["admin-equivalent"]);
    assert_eq!(rules_for(&inv, &escalator.id), ["privilege-escalation"]);
    let a = assess(&inv, &[], &PostureConfig::default(), now());
    let risk = |id: &str| {
        a.identities
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .risk
            .clone()
    };
    assert!(risk(&admin.id).blast_radius > risk(&escalator.id).blast_radius);
    assert!(risk(&escalator.id).blast_radius > risk(&reader.id).blast_radius);
    assert_eq!(
        a.identities[0].id, admin.id,
        "the administrator ranks first"
    );
    assert!(warrant_posture::explain(&a.identities[0]).len() > 2);
}

#[test]
fn trust_carries_blast_radius_and_cycles_terminate() {
    let mut inv = base();
    let a = role("a", "111111111111");
    let b = role("b", "111111111111");
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/admin",
        &["*"],
        &["*"],
    ));
    inv.attachments.push(Attachment {
        identity: b.id.clone(),
        policy: "arn:aws:iam::111111111111:policy/admin".into(),
        via: None,
        scope: None,
    });
    let edge = |from: &Identity, to: &Identity| TrustEdge {
        from: from.id.clone(),
        from_kind: PrincipalKind::Identity,
        to: to.id.clone(),
        kind: TrustKind::AssumeRole,
        conditions: None,
        provenance: Provenance::default(),
    };
    inv.trust_edges.push(edge(&a, &b));
    inv.trust_edges.push(edge(&b, &a));
    inv.identities.push(a.clone());
    inv.identities.push(b.clone());
    let result = assess(&inv, &[], &PostureConfig::default(), now());
    let blast = |id: &str| {
        result
            .identities
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .risk
            .blast_radius
    };
    assert!(blast(&a.id) >= 0.95 * blast(&b.id) - 0.01, "a can become b");
}

#[test]
fn account_trust_carries_blast_radius_to_principals_that_may_assume_roles() {
    let mut inv = base();
    let target = role("prod-admin", "111111111111");
    let caller = user("svc-caller");
    let bystander = user("svc-bystander");
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/admin",
        &["*"],
        &["*"],
    ));
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/assume",
        &["sts:AssumeRole"],
        &["*"],
    ));
    inv.policies.push(policy(
        "arn:aws:iam::111111111111:policy/read",
        &["s3:GetObject"],
        &["arn:aws:s3:::logs/*"],
    ));
    for (i, p) in [
        (&target, "admin"),
        (&caller, "assume"),
        (&bystander, "read"),
    ] {
        inv.attachments.push(Attachment {
            identity: i.id.clone(),
            policy: format!("arn:aws:iam::111111111111:policy/{p}"),
            via: None,
            scope: None,
        });
        inv.identities.push(i.clone());
    }
    inv.trust_edges.push(TrustEdge {
        from: "111111111111".into(),
        from_kind: PrincipalKind::Account,
        to: target.id.clone(),
        kind: TrustKind::AssumeRole,
        conditions: None,
        provenance: Provenance::default(),
    });
    let result = assess(&inv, &[], &PostureConfig::default(), now());
    let blast = |id: &str| {
        result
            .identities
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .risk
            .blast_radius
    };
    assert!(
        blast(&caller.id) >= 0.95 * blast(&target.id) - 0.01,
        "sts:AssumeRole in the trusted account reaches the role"
    );
    assert!(
        blast(&bystander.id) < 50.0,
        "without sts:AssumeRole it does not"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn scores_stay_in_range_and_findings_never_lower_them(n_findings in 0usize..12, severity in 0usize..5) {
        let mut inv = base();
        let u = user("svc-x");
        inv.identities.push(u.clone());
        inv.policies.push(policy("arn:aws:iam::111111111111:policy/p", &["s3:*"], &["*"]));
        inv.attachments.push(Attachment { identity: u.id.clone(), policy: "arn:aws:iam::111111111111:policy/p".into(), via: None, scope: None });
        let sev = Severity::ALL[severity];
        let extra: Vec<Finding> = (0..n_findings)
            .map(|i| Finding::of_rule(RuleId::LeakedSecret, sev, &u.id, &i.to_string(), vec![]))
            .collect();
        let config = PostureConfig::default();
        let fewer = assess(&inv, &extra[..n_findings.saturating_sub(1)], &config, now());
        let more = assess(&inv, &extra, &config, now());
        let (f, m) = (&fewer.identities[0].risk, &more.identities[0].risk);
        prop_assert!((0.0..=100.0).contains(&m.score) && (0.0..=100.0).contains(&m.exposure) && (0.0..=100.0).contains(&m.blast_radius));
        prop_assert!(m.exposure >= f.exposure - 1e-9);
        // The explanation adds up: every point of the score is accounted for.
        let blast: f64 = m.components.iter().filter(|c| c.factor == "blast_radius").map(|c| c.points).sum();
        let exposure: f64 = m.components.iter().filter(|c| c.factor == "exposure").map(|c| c.points).sum();
        prop_assert!((blast - m.blast_radius).abs() < 1e-6, "blast components {} vs {}", blast, m.blast_radius);
        prop_assert!((exposure - m.exposure).abs() < 1e-6, "exposure components {} vs {}", exposure, m.exposure);
        prop_assert!(m.score >= f.score - 1e-9);
    }
}

/// A governance policy as posture sees it: one tier for everything, and one exception.
struct OneTier {
    tier: warrant_posture::TierRules,
    except: Option<(RuleId, String)>,
    review: Option<warrant_posture::ReviewRecord>,
    known_since: Option<Timestamp>,
}

impl warrant_posture::Governance for OneTier {
    fn tier(&self, _: &Identity, _: f64) -> Option<&warrant_posture::TierRules> {
        Some(&self.tier)
    }
    fn last_review(&self, _: &Identity) -> Option<&warrant_posture::ReviewRecord> {
        self.review.as_ref()
    }
    fn known_since(&self, _: &Identity) -> Option<Timestamp> {
        self.known_since
    }
    fn exception(&self, finding: &Finding, _: Option<&Identity>) -> Option<ExceptionRef> {
        self.except
            .as_ref()
            .filter(|(rule, identity)| finding.rule == *rule && finding.identity == *identity)
            .map(|_| ExceptionRef {
                id: "exc-0000000000000001".into(),
                owner: "dana@acme.example".into(),
                expires: now() + Duration::days(30),
                reason: "migration".into(),
            })
    }
}

fn tier(config: PostureConfig) -> warrant_posture::TierRules {
    warrant_posture::TierRules {
        name: "strict".into(),
        config,
        delete_after_days: Some(180),
        require_owner: true,
        require_purpose: true,
        require_expiry: false,
        environments: vec![Environment::Staging],
        review_every_days: None,
        review_on_privilege_change: false,
    }
}

#[test]
fn a_tier_judges_by_its_thresholds_and_requirements_and_names_itself() {
    let u = user("svc-sync");
    let mut inventory = Inventory::default();
    inventory
        .credentials
        .push(key("AKIAKEY0000000000001", &u, 60, Some(1)));
    inventory.identities.push(u.clone());
    let base = PostureConfig::default();
    let plain = assess(&inventory, &[], &base, now());
    assert!(
        plain
            .findings
            .iter()
            .all(|f| f.rule != RuleId::AccessKeyOld)
    );
    assert!(plain.findings.iter().all(|f| f.tier.is_none()));

    let mut strict = base.clone();
    strict.key_max_age_days = 30;
    let governance = OneTier {
        tier: tier(strict),
        except: None,

        review: None,
        known_since: None,
    };
    let judged =
        warrant_posture::assess_governed(&inventory, &[], &base, &governance, now(), &|_| {});
    let rules: Vec<RuleId> = judged.findings.iter().map(|f| f.rule).collect();
    assert!(rules.contains(&RuleId::AccessKeyOld), "{rules:?}");
    assert!(rules.contains(&RuleId::NoPurpose), "{rules:?}");
    assert!(rules.contains(&RuleId::EnvironmentNotAllowed), "{rules:?}");
    assert!(
        !rules.contains(&RuleId::NoExpiry),
        "not required by this tier"
    );
    assert!(
        judged
            .findings
            .iter()
            .all(|f| f.tier.as_deref() == Some("strict"))
    );
}

#[test]
fn an_excepted_finding_is_kept_but_adds_no_exposure() {
    let mut u = user("svc-sync");
    u.owners.clear();
    let inventory = Inventory {
        identities: vec![u.clone()],
        ..Inventory::default()
    };
    let base = PostureConfig::default();
    let plain = assess(&inventory, &[], &base, now());
    assert!(plain.identities[0].risk.exposure > 0.0);
    let mut lenient = base.clone();
    lenient.key_max_age_days = 90;
    let mut t = tier(lenient);
    t.require_purpose = false;
    t.environments.clear();
    let governance = OneTier {
        tier: t,
        except: Some((RuleId::NoOwner, u.id.clone())),

        review: None,
        known_since: None,
    };
    let judged =
        warrant_posture::assess_governed(&inventory, &[], &base, &governance, now(), &|_| {});
    let no_owner = judged
        .findings
        .iter()
        .find(|f| f.rule == RuleId::NoOwner)
        .expect("kept on record");
    assert_eq!(
        no_owner.exception.as_ref().map(|e| e.id.as_str()),
        Some("exc-0000000000000001")
    );
    assert_eq!(judged.identities[0].risk.exposure, 0.0);
}

#[test]
fn unused_past_the_tiers_decommission_threshold_is_more_severe() {
    let mut u = user("svc-old");
    u.last_used = days_ago(200);
    let inventory = Inventory {
        identities: vec![u],
        ..Inventory::default()
    };
    let base = PostureConfig::default();
    let plain = assess(&inventory, &[], &base, now());
    let severity = |a: &warrant_posture::Assessment| {
        a.findings
            .iter()
            .find(|f| f.rule == RuleId::IdentityUnused)
            .map(|f| f.severity)
    };
    assert_eq!(severity(&plain), Some(Severity::Medium));
    let mut t = tier(base.clone());
    t.require_purpose = false;
    t.environments.clear();
    let governance = OneTier {
        tier: t,
        except: None,

        review: None,
        known_since: None,
    };
    let judged =
        warrant_posture::assess_governed(&inventory, &[], &base, &governance, now(), &|_| {});
    assert_eq!(severity(&judged), Some(Severity::High));
}

#[test]
fn reviews_are_due_on_the_tier_s_cadence_and_after_a_privilege_change() {
    let u = user("svc-report");
    let mut inventory = Inventory::default();
    inventory.identities.push(u.clone());
    let judge_known = |inventory: &Inventory,
                       review: Option<warrant_posture::ReviewRecord>,
                       on_change: bool,
                       known_since: Option<Timestamp>| {
        let mut t = tier(PostureConfig::default());
        t.require_purpose = false;
        t.environments.clear();
        t.review_every_days = Some(90);
        t.review_on_privilege_change = on_change;
        let governance = OneTier {
            tier: t,
            except: None,
            review,
            known_since,
        };
        let base = PostureConfig::default();
        warrant_posture::assess_governed(inventory, &[], &base, &governance, now(), &|_| {})
            .findings
            .into_iter()
            .filter(|f| {
                matches!(
                    f.rule,
                    RuleId::ReviewOverdue | RuleId::ReviewAfterPrivilegeChange
                )
            })
            .map(|f| (f.rule, f.evidence.join(" ")))
            .collect::<Vec<_>>()
    };
    let judge =
        |inventory: &Inventory, review, on_change| judge_known(inventory, review, on_change, None);
    // Created 400 days ago and never reviewed: overdue.
    let never = judge(&inventory, None, true);
    assert_eq!(never.len(), 1, "{never:?}");
    assert_eq!(never[0].0, RuleId::ReviewOverdue);
    assert!(never[0].1.contains("never reviewed"), "{never:?}");
    // Imported ten days ago: the first review is due a cadence after that, not yet.
    assert!(judge_known(&inventory, None, true, Some(now() - Duration::days(10))).is_empty());
    let known_long = judge_known(&inventory, None, true, Some(now() - Duration::days(100)));
    assert!(known_long[0].1.contains("known since"), "{known_long:?}");

    let held = warrant_posture::holdings(&inventory.index(), &u);
    let reviewed = |days: i64, holdings: &str| warrant_posture::ReviewRecord {
        campaign: "2026-Q3".into(),
        at: now() - Duration::days(days),
        holdings: Some(holdings.to_string()),
    };
    assert!(judge(&inventory, Some(reviewed(30, &held)), true).is_empty());
    let stale = judge(&inventory, Some(reviewed(120, &held)), true);
    assert_eq!(stale.len(), 1);
    assert!(stale[0].1.contains("2026-Q3"), "{stale:?}");

    // A policy attached after the review changes what it holds.
    inventory.policies.push(Policy {
        id: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        name: "ReadOnlyAccess".into(),
        provider: Provider::Aws,
        kind: PolicyKind::AwsManaged,
        statements: Vec::new(),
        provenance: Provenance::default(),
    });
    inventory.attachments.push(Attachment {
        identity: u.id.clone(),
        policy: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        via: None,
        scope: None,
    });
    let changed = judge(&inventory, Some(reviewed(30, &held)), true);
    assert_eq!(
        changed.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        vec![RuleId::ReviewAfterPrivilegeChange]
    );
    assert!(judge(&inventory, Some(reviewed(30, &held)), false).is_empty());
    // A fingerprint of another scheme says nothing about a change.
    assert!(judge(&inventory, Some(reviewed(30, "h0:0123")), true).is_empty());
    assert!(held.starts_with("h1:"));
    // The same holdings give the same fingerprint; a different attachment a different one.
    assert_ne!(warrant_posture::holdings(&inventory.index(), &u), held);
}

/// A legacy service-account token Secret never expires: insecure authentication (NHI4) and a
/// long-lived secret (NHI7) at once.
#[test]
fn a_legacy_service_account_token_is_also_a_long_lived_secret() {
    let mut sa = Identity::new(
        "system:serviceaccount:ci:deployer",
        IdentityKind::K8sServiceAccount,
        Provider::Kubernetes,
        "deployer",
    );
    sa.created = days_ago(400);
    sa.last_used = days_ago(1);
    sa.owners = vec![OwnerRef {
        id: "dana@acme.example".into(),
        source: "annotation:owner".into(),
    }];
    let mut token = Credential::new(
        "k8s-secret:ci/deployer-token",
        sa.id.clone(),
        CredentialKind::ServiceAccountToken,
    );
    token.storage = Some("k8s-secret:ci/deployer-token".into());
    token
        .attributes
        .insert(attribute::LEGACY.into(), serde_json::Value::Bool(true));
    let mut inv = base();
    inv.identities.push(sa);
    inv.credentials.push(token);
    let a = assess(&inv, &[], &PostureConfig::default(), now());
    let finding = a
        .findings
        .iter()
        .find(|f| f.rule == RuleId::LegacySaToken)
        .expect("legacy token finding");
    assert_eq!(finding.owasp, OwaspNhi::Nhi4);
    assert_eq!(finding.related, [OwaspNhi::Nhi7]);
}
