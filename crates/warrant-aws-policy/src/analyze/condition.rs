//! Deciding a statement's `Condition` block statically, where the answer does not depend on
//! the request: dates against the assessment time, `iam:PassedToService` against the service a
//! technique passes a role to, `iam:PolicyARN` against policies whose meaning is public. What
//! cannot be decided is `Unknown` with a reason, never silently true.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::catalog::glob_match_ci;

/// The outcome of a condition block for one kind of request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    Fails,
    /// Could hold or not; the reasons say on what.
    Unknown(Vec<String>),
}

impl Verdict {
    /// Both must hold (condition operators and keys are ANDed).
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Verdict::Fails, _) | (_, Verdict::Fails) => Verdict::Fails,
            (Verdict::Unknown(mut a), Verdict::Unknown(b)) => {
                a.extend(b);
                Verdict::Unknown(a)
            }
            (Verdict::Unknown(a), Verdict::Holds) | (Verdict::Holds, Verdict::Unknown(a)) => {
                Verdict::Unknown(a)
            }
            (Verdict::Holds, Verdict::Holds) => Verdict::Holds,
        }
    }

    fn unknown(reason: String) -> Verdict {
        Verdict::Unknown(vec![reason])
    }
}

/// What is known of the request a condition is evaluated for.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContext<'a> {
    /// The assessment time (`aws:CurrentTime`, and the latest `aws:TokenIssueTime` a caller can
    /// have). `None`: date conditions are undecided.
    pub now: Option<DateTime<Utc>>,
    /// The action requested; `None` for "any action of the statement".
    pub action: Option<&'a str>,
    /// For `iam:PassRole`: the services the role is passed to (empty: not known).
    pub passed_to: &'a [String],
    /// The condition is a Deny's: keys the caller chooses (transport, region) are chosen to
    /// avoid it, where an Allow's are chosen to meet it.
    pub deny: bool,
}

/// Evaluates a whole `Condition` block.
pub fn evaluate(conditions: &Value, ctx: &RequestContext<'_>) -> Verdict {
    let Value::Object(operators) = conditions else {
        return Verdict::unknown("the condition block is not an object".into());
    };
    let mut verdict = Verdict::Holds;
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            verdict = verdict.and(Verdict::unknown(format!("{operator} is not an object")));
            continue;
        };
        for (key, values) in keys {
            verdict = verdict.and(evaluate_one(operator, key, values, ctx));
            if verdict == Verdict::Fails {
                return Verdict::Fails;
            }
        }
    }
    verdict
}

fn strings(values: &Value) -> Vec<String> {
    match values {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// AWS managed policies that grant no way to more privilege when attached.
const HARMLESS_MANAGED: &[&str] = &[
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/SecurityAudit",
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/ViewOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
];

/// AWS managed policies that make their holder an administrator (or able to become one).
const ADMIN_MANAGED: &[&str] = &[
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
];

fn evaluate_one(operator: &str, key: &str, values: &Value, ctx: &RequestContext<'_>) -> Verdict {
    let described = || format!("{operator} on {key}");
    if operator.starts_with("ForAllValues:") || operator.starts_with("ForAnyValue:") {
        return Verdict::unknown(format!("{} is not evaluated", described()));
    }
    let (base, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let negated = base.contains("Not");
    let values = strings(values);
    let key_lower = key.to_ascii_lowercase();
    // A key the request does not carry: positive operators fail, negated ones and
    // `…IfExists` hold (IAM's rule for missing keys).
    let absent = || {
        if if_exists || negated {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    };
    match key_lower.as_str() {
        "aws:currenttime" | "aws:tokenissuetime" | "aws:epochtime" => {
            let Some(now) = ctx.now else {
                return Verdict::unknown(format!("{} needs the assessment time", described()));
            };
            date_condition(base, &values, now)
                .unwrap_or_else(|| Verdict::unknown(format!("{} is not understood", described())))
        }
        "iam:passedtoservice" => match ctx.action {
            Some(action) if !action.eq_ignore_ascii_case("iam:PassRole") => absent(),
            None => Verdict::unknown(format!("{} depends on the service", described())),
            Some(_) if ctx.passed_to.is_empty() => Verdict::unknown(format!(
                "{} limits the services the role is passed to",
                described()
            )),
            Some(_) => {
                let matched = ctx
                    .passed_to
                    .iter()
                    .any(|svc| values.iter().any(|v| string_match(base, v, svc)));
                if matched != negated {
                    Verdict::Holds
                } else {
                    Verdict::Fails
                }
            }
        },
        "iam:policyarn" => {
            match ctx.action {
                Some(action) if !action.to_ascii_lowercase().starts_with("iam:attach") => {
                    return absent();
                }
                None => {
                    return Verdict::unknown(format!("{} depends on the policy", described()));
                }
                Some(_) => {}
            }
            let covers = |arn: &str| values.iter().any(|v| string_match(base, v, arn));
            let admin_attachable = ADMIN_MANAGED.iter().any(|a| covers(a) != negated);
            if admin_attachable {
                return Verdict::Holds;
            }
            if !negated
                && values
                    .iter()
                    .all(|v| HARMLESS_MANAGED.iter().any(|h| h.eq_ignore_ascii_case(v)))
            {
                return Verdict::Fails;
            }
            Verdict::unknown(format!(
                "attaching is limited to {}; what those policies grant is not decided here",
                values.join(", ")
            ))
        }
        "aws:multifactorauthpresent" | "aws:multifactorauthage" => Verdict::unknown(format!(
            "{} depends on whether the caller signed in with MFA",
            described()
        )),
        // A caller chooses its transport and region: to meet an Allow, to avoid a Deny.
        "aws:securetransport" | "aws:requestedregion" => {
            if ctx.deny {
                Verdict::Fails
            } else {
                Verdict::Holds
            }
        }
        "aws:username" | "aws:userid" | "aws:principalarn" => {
            Verdict::unknown(format!("{} applies only to named callers", described()))
        }
        k if k.starts_with("aws:principaltag/") => {
            Verdict::unknown(format!("{} depends on the caller's tags", described()))
        }
        k if (k.starts_with("aws:resourcetag/") || k.starts_with("iam:resourcetag/"))
            && values.iter().any(|v| v.contains("${")) =>
        {
            Verdict::unknown(format!(
                "{} limits it to resources tagged like the caller",
                described()
            ))
        }
        _ => Verdict::unknown(format!("{} is not evaluated", described())),
    }
}

fn string_match(operator: &str, pattern: &str, value: &str) -> bool {
    if operator.ends_with("Like") {
        glob_match_ci(pattern, value)
    } else {
        pattern.eq_ignore_ascii_case(value)
    }
}

/// `DateLessThan` and its kin against `now`; `None` when the operator or a value is not a date
/// comparison Warrant understands.
fn date_condition(operator: &str, values: &[String], now: DateTime<Utc>) -> Option<Verdict> {
    let dates: Option<Vec<DateTime<Utc>>> = values.iter().map(|v| parse_date(v)).collect();
    let dates = dates?;
    let test = |d: &DateTime<Utc>| match operator {
        "DateEquals" => Some(now == *d),
        "DateNotEquals" => Some(now != *d),
        "DateLessThan" => Some(now < *d),
        "DateLessThanEquals" => Some(now <= *d),
        "DateGreaterThan" => Some(now > *d),
        "DateGreaterThanEquals" => Some(now >= *d),
        _ => None,
    };
    let mut any = false;
    for d in &dates {
        any |= test(d)?;
    }
    Some(if any { Verdict::Holds } else { Verdict::Fails })
}

fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    // Epoch seconds, as `aws:EpochTime` and some date conditions are written.
    text.parse::<i64>()
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(date: &str) -> Option<DateTime<Utc>> {
        parse_date(date)
    }

    #[test]
    fn dates_are_compared_with_the_assessment_time() {
        let ctx = RequestContext {
            now: at("2026-11-01T00:00:00Z"),
            ..Default::default()
        };
        let past = json!({"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}});
        assert_eq!(evaluate(&past, &ctx), Verdict::Fails);
        let future = json!({"DateLessThan": {"aws:CurrentTime": "2030-01-01"}});
        assert_eq!(evaluate(&future, &ctx), Verdict::Holds);
        let issued = json!({"DateGreaterThan": {"aws:TokenIssueTime": "2025-06-01T00:00:00Z"}});
        assert_eq!(evaluate(&issued, &ctx), Verdict::Holds);
        let undecided = RequestContext::default();
        assert!(matches!(evaluate(&past, &undecided), Verdict::Unknown(_)));
    }

    #[test]
    fn passed_to_service_decides_for_pass_role_only() {
        let lambda = ["lambda.amazonaws.com".to_string()];
        let pass = RequestContext {
            action: Some("iam:PassRole"),
            passed_to: &lambda,
            ..Default::default()
        };
        let only_ec2 = json!({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}});
        assert_eq!(evaluate(&only_ec2, &pass), Verdict::Fails);
        let lambda_like = json!({"StringLike": {"iam:PassedToService": ["lambda.*"]}});
        assert_eq!(evaluate(&lambda_like, &pass), Verdict::Holds);
        // Other actions of the statement do not carry the key: the allow does not apply.
        let other = RequestContext {
            action: Some("lambda:CreateFunction"),
            ..Default::default()
        };
        assert_eq!(evaluate(&only_ec2, &other), Verdict::Fails);
        let not_ec2 = json!({"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}});
        assert_eq!(evaluate(&not_ec2, &pass), Verdict::Holds);
    }

    #[test]
    fn policy_arn_conditions_know_public_managed_policies() {
        let attach = RequestContext {
            action: Some("iam:AttachUserPolicy"),
            ..Default::default()
        };
        let read_only =
            json!({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}});
        assert_eq!(evaluate(&read_only, &attach), Verdict::Fails);
        let admin = json!({"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/Administrator*"}});
        assert_eq!(evaluate(&admin, &attach), Verdict::Holds);
        let custom = json!({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::1:policy/team"}});
        assert!(matches!(evaluate(&custom, &attach), Verdict::Unknown(_)));
    }

    #[test]
    fn undecidable_keys_say_why() {
        let ctx = RequestContext::default();
        let mfa = json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
        let Verdict::Unknown(reasons) = evaluate(&mfa, &ctx) else {
            panic!("MFA is not decided statically")
        };
        assert!(reasons[0].contains("MFA"), "{reasons:?}");
        let ip = json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}});
        assert!(matches!(evaluate(&ip, &ctx), Verdict::Unknown(_)));
        let tls = json!({"Bool": {"aws:SecureTransport": "true"}});
        assert_eq!(evaluate(&tls, &ctx), Verdict::Holds);
        let deny = RequestContext {
            deny: true,
            ..Default::default()
        };
        let plain = json!({"Bool": {"aws:SecureTransport": "false"}});
        assert_eq!(evaluate(&plain, &deny), Verdict::Fails);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                "[ -~]{0,24}".prop_map(Value::String),
                prop_oneof![
                    Just("2026-11-01T00:00:00Z"),
                    Just("2024-01-01"),
                    Just("lambda.amazonaws.com"),
                    Just("arn:aws:iam::aws:policy/AdministratorAccess"),
                ]
                .prop_map(|s| Value::String(s.to_string())),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(key(), inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Operators and keys IAM knows, and some it does not.
        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("StringEquals"),
                Just("StringLike"),
                Just("StringNotEquals"),
                Just("ArnLike"),
                Just("DateLessThan"),
                Just("DateGreaterThan"),
                Just("Bool"),
                Just("ForAnyValue:StringLike"),
                Just("StringEqualsIfExists"),
                Just("Null"),
                Just("aws:CurrentTime"),
                Just("aws:TokenIssueTime"),
                Just("iam:PassedToService"),
                Just("iam:PolicyARN"),
                Just("aws:MultiFactorAuthPresent"),
                Just("aws:SecureTransport"),
                Just("aws:username"),
                Just("x:unknown"),
            ]
            .prop_map(str::to_string)
        }

        fn contexts() -> impl Strategy<Value = (Option<&'static str>, bool, bool)> {
            (
                prop_oneof![
                    Just(None),
                    Just(Some("iam:PassRole")),
                    Just(Some("iam:AttachUserPolicy")),
                    Just(Some("s3:GetObject")),
                ],
                any::<bool>(),
                any::<bool>(),
            )
        }

        /// A request for `action`, an allow's or a deny's, at the assessment time or none;
        /// roles are passed to Lambda.
        fn context(
            action: Option<&'static str>,
            deny: bool,
            dated: bool,
        ) -> RequestContext<'static> {
            static PASSED_TO: std::sync::LazyLock<Vec<String>> =
                std::sync::LazyLock::new(|| vec!["lambda.amazonaws.com".to_string()]);
            RequestContext {
                now: if dated {
                    at("2026-11-01T00:00:00Z")
                } else {
                    None
                },
                action,
                passed_to: &PASSED_TO,
                deny,
            }
        }

        fn kind(v: &Verdict) -> u8 {
            match v {
                Verdict::Holds => 0,
                Verdict::Fails => 1,
                Verdict::Unknown(_) => 2,
            }
        }

        proptest! {
            /// Any JSON at all gives a verdict, never a panic; an undecided one says why.
            #[test]
            fn any_block_gets_a_verdict((action, deny, dated) in contexts(), block in json()) {
                let ctx = context(action, deny, dated);
                if let Verdict::Unknown(reasons) = evaluate(&block, &ctx) {
                    prop_assert!(!reasons.is_empty());
                }
            }

            /// Conditions are ANDed: one more never turns a failing block into a holding or
            /// undecided one, and the order the operators are written in does not matter.
            #[test]
            fn more_conditions_only_narrow_and_order_does_not_matter(
                (action, deny, dated) in contexts(),
                a in prop::collection::btree_map(key(), json(), 1..4),
                b in prop::collection::btree_map(key(), json(), 1..4),
            ) {
                let ctx = context(action, deny, dated);
                let first: Value = Value::Object(a.clone().into_iter().collect());
                let mut both = a.clone();
                for (k, v) in b {
                    both.entry(k).or_insert(v);
                }
                let forward: Value = Value::Object(both.clone().into_iter().collect());
                let backward: Value = Value::Object(both.into_iter().rev().collect());
                let alone = evaluate(&first, &ctx);
                let joined = evaluate(&forward, &ctx);
                if alone == Verdict::Fails {
                    prop_assert_eq!(&joined, &Verdict::Fails);
                }
                prop_assert_eq!(kind(&joined), kind(&evaluate(&backward, &ctx)));
            }

            /// `DateLessThan aws:CurrentTime` holds exactly when the assessment is earlier.
            #[test]
            fn current_time_compares_like_dates(days in -4000i64..4000) {
                let now = at("2026-11-01T00:00:00Z").unwrap_or_default();
                let limit = now + chrono::Duration::days(days);
                let block = json!({"DateLessThan": {"aws:CurrentTime": limit.to_rfc3339()}});
                let ctx = RequestContext { now: Some(now), ..Default::default() };
                let want = if now < limit { Verdict::Holds } else { Verdict::Fails };
                prop_assert_eq!(evaluate(&block, &ctx), want);
            }
        }
    }
}
