//! The rule registry: every rule any engine can raise — posture rules, activity detections and
//! the leaked-secret rule — with its OWASP NHI risks, MITRE ATT&CK mapping, default severity,
//! description and fix.
//!
//! A finding names its rule with a [`RuleId`], a closed enum generated from the same table as the
//! metadata, so a rule cannot be raised without being registered and every id has exactly one
//! entry. `warrant rules`, the SARIF and HTML reports and configuration checks all read this
//! table.

mod attack;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use attack::{Tactic, Technique};

use crate::finding::{FindingSource, OwaspNhi, Severity};

/// What a rule is. `engine` says which engine raises it; activity findings may carry a subset
/// of `tactics`/`techniques` and a more specific title and fix than the registered ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleSpec {
    pub id: RuleId,
    pub title: &'static str,
    pub engine: FindingSource,
    /// The primary OWASP NHI risk.
    pub owasp: OwaspNhi,
    /// Other OWASP NHI risks the same problem also is.
    pub related: &'static [OwaspNhi],
    pub default_severity: Severity,
    pub tactics: &'static [Tactic],
    pub techniques: &'static [Technique],
    pub description: &'static str,
    pub remediation: &'static str,
}

/// A rule id named in text (configuration, a command-line filter) that is not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}` (`warrant rules` lists them)")]
pub struct UnknownRuleError(pub String);

macro_rules! registry {
    ($(
        $variant:ident = $id:literal {
            engine: $engine:ident, owasp: $nhi:ident, related: [$($related:ident),*], severity: $severity:ident,
            tactics: [$($tactic:ident),*], techniques: [$($technique:literal),*],
            title: $title:literal,
            description: $description:literal,
            remediation: $remediation:literal $(,)?
        }
    )+) => {
        /// The id of a registered rule. It serialises to the rule's text id (`no-owner`) and
        /// orders by that text, as the string ids it replaced did.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RuleId { $($variant),+ }

        impl RuleId {
            /// Every rule, in registry order (posture, activity, secret).
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id),+ }
            }

            /// The rule's registered metadata.
            pub fn spec(self) -> &'static RuleSpec {
                match self {
                    $(RuleId::$variant => {
                        const SPEC: RuleSpec = RuleSpec {
                            id: RuleId::$variant,
                            title: $title,
                            engine: FindingSource::$engine,
                            owasp: OwaspNhi::$nhi,
                            related: &[$(OwaspNhi::$related),*],
                            default_severity: Severity::$severity,
                            tactics: &[$(Tactic::$tactic),*],
                            techniques: &[$($crate::technique!($technique)),*],
                            description: $description,
                            remediation: $remediation,
                        };
                        &SPEC
                    })+
                }
            }
        }
    };
}

impl RuleId {
    pub fn engine(self) -> FindingSource {
        self.spec().engine
    }
}

/// Every registered rule's metadata, in registry order.
pub fn all() -> impl Iterator<Item = &'static RuleSpec> {
    RuleId::ALL.iter().map(|id| id.spec())
}

/// The rules one engine raises.
pub fn of_engine(engine: FindingSource) -> impl Iterator<Item = &'static RuleSpec> {
    all().filter(move |spec| spec.engine == engine)
}

impl Ord for RuleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = UnknownRuleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        RuleId::ALL
            .iter()
            .copied()
            .find(|id| id.as_str() == wanted)
            .ok_or_else(|| UnknownRuleError(s.to_string()))
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for RuleId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Which rules to list (`warrant rules`). Every criterion left empty matches every rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleFilter {
    pub engine: Option<FindingSource>,
    /// The rule's primary or a related OWASP NHI risk.
    pub owasp: Option<OwaspNhi>,
    /// A registered technique, or a sub-technique of it (`T1098` matches `T1098.001`).
    pub technique: Option<Technique>,
    pub tactic: Option<Tactic>,
    /// Default severity at or above this.
    pub min_severity: Option<Severity>,
}

impl RuleFilter {
    pub fn matches(&self, spec: &RuleSpec) -> bool {
        self.engine.is_none_or(|e| spec.engine == e)
            && self
                .owasp
                .is_none_or(|o| spec.owasp == o || spec.related.contains(&o))
            && self.technique.is_none_or(|t| {
                spec.techniques
                    .iter()
                    .any(|have| *have == t || (!t.is_sub_technique() && have.parent() == t))
            })
            && self.tactic.is_none_or(|t| spec.tactics.contains(&t))
            && self.min_severity.is_none_or(|s| spec.default_severity >= s)
    }

    /// The matching rules, in registry order.
    pub fn select(&self) -> Vec<&'static RuleSpec> {
        all().filter(|spec| self.matches(spec)).collect()
    }
}

/// A rule named in configuration: registered, and raised by the engine the setting belongs to.
pub fn parse_rule_of(engine: FindingSource, text: &str) -> Result<RuleId, String> {
    let id: RuleId = text.parse().map_err(|e: UnknownRuleError| e.to_string())?;
    if id.engine() == engine {
        Ok(id)
    } else {
        let article = |e: FindingSource| {
            if e == FindingSource::Activity {
                "an"
            } else {
                "a"
            }
        };
        Err(format!(
            "rule `{id}` is {} {} rule, not {} {engine} rule",
            article(id.engine()),
            id.engine(),
            article(engine)
        ))
    }
}

/// Deserialises a list of rule ids of one engine (`disabled_rules`); an unknown id, or one of
/// another engine, is an error that the configuration loader reports with the key's path.
pub fn rule_list_of<'de, D: Deserializer<'de>>(
    engine: FindingSource,
    deserializer: D,
) -> Result<Vec<RuleId>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| parse_rule_of(engine, text).map_err(serde::de::Error::custom))
        .collect()
}

/// Deserialises a map keyed by rule ids of one engine (severity overrides).
pub fn rule_map_of<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    engine: FindingSource,
    deserializer: D,
) -> Result<std::collections::BTreeMap<RuleId, V>, D::Error> {
    std::collections::BTreeMap::<String, V>::deserialize(deserializer)?
        .into_iter()
        .map(|(text, value)| {
            parse_rule_of(engine, &text)
                .map(|id| (id, value))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

registry! {
    NoOwner = "no-owner" {
        engine: Posture, owasp: Nhi1, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Identity has no owner",
        description: "No tag, label, annotation or directory record names a person or team accountable for this identity.",
        remediation: "Name an accountable owner (an `owner` tag, label or annotation with a person's email) or decommission the identity.",
    }
    OwnerSharedMailbox = "owner-shared-mailbox" {
        engine: Posture, owasp: Nhi1, related: [], severity: Low,
        tactics: [], techniques: [],
        title: "Owner is a shared mailbox",
        description: "The only owners are role mailboxes such as devops@, which nobody is individually accountable for.",
        remediation: "Add a named person as owner next to the team mailbox.",
    }
    OwnerSuspended = "owner-suspended" {
        engine: Posture, owasp: Nhi1, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Owner is suspended in the directory",
        description: "Every person named as owner is suspended in the identity provider.",
        remediation: "Hand the identity to an active owner, or disable it until someone takes it over.",
    }
    OwnerDeprovisioned = "owner-deprovisioned" {
        engine: Posture, owasp: Nhi1, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Owner has left the organisation",
        description: "Every person named as owner is deprovisioned in the identity provider: the identity is orphaned.",
        remediation: "Reassign the identity to an active owner now, or disable and decommission it.",
    }
    OwnerUnknown = "owner-unknown" {
        engine: Posture, owasp: Nhi1, related: [], severity: Low,
        tactics: [], techniques: [],
        title: "Owner is not in the directory",
        description: "An owner email is not found in the imported directory (typo, former employee, or outside person).",
        remediation: "Correct the owner reference to a person in the directory.",
    }
    IdentityUnused = "identity-unused" {
        engine: Posture, owasp: Nhi1, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Identity has not been used recently",
        description: "The identity has not authenticated for longer than the unused threshold (or never, since it was created).",
        remediation: "Confirm with the owner whether it is still needed; disable it, then delete it after a grace period.",
    }
    CredentialUnused = "credential-unused" {
        engine: Posture, owasp: Nhi1, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Active credential has not been used recently",
        description: "An active key or token has not been used for longer than the unused threshold, or never.",
        remediation: "Deactivate the credential, and delete it if nothing breaks.",
    }
    DisabledWithActiveCredentials = "disabled-with-active-credentials" {
        engine: Posture, owasp: Nhi1, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Disabled identity still holds active credentials",
        description: "The identity is disabled or decommissioned, but credentials that authenticate as it are still active.",
        remediation: "Deactivate and delete the remaining credentials.",
    }
    TrustAnyone = "trust-anyone" {
        engine: Posture, owasp: Nhi3, related: [], severity: Critical,
        tactics: [], techniques: [],
        title: "Role can be assumed by anyone",
        description: "The role's trust policy allows the `*` principal.",
        remediation: "Restrict the trust policy's Principal to the exact accounts or roles that need it.",
    }
    TrustExternalAccount = "trust-external-account" {
        engine: Posture, owasp: Nhi3, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Role is trusted by an account outside the organisation",
        description: "The role can be assumed from an AWS account that is not one of the organisation's accounts.",
        remediation: "Confirm the third party; require an `sts:ExternalId` condition, scope the role's permissions, or remove the trust.",
    }
    ThirdPartyAppBroad = "third-party-app-broad" {
        engine: Posture, owasp: Nhi3, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Third-party app has broad access",
        description: "A third-party GitHub App holds write or admin permissions across the organisation's repositories.",
        remediation: "Limit the installation to the repositories it needs and drop write/admin permissions it does not use, or uninstall it.",
    }
    MachineConsolePassword = "machine-console-password" {
        engine: Posture, owasp: Nhi4, related: [Nhi10], severity: High,
        tactics: [], techniques: [],
        title: "Machine identity can sign in to the console",
        description: "A machine user has a console password, a credential made for people.",
        remediation: "Delete the login profile; machine identities should use roles or short-lived credentials only.",
    }
    PasswordWithoutMfa = "password-without-mfa" {
        engine: Posture, owasp: Nhi4, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Console password without MFA",
        description: "A non-human user has a console password and no MFA device.",
        remediation: "Delete the login profile (preferred) or enforce MFA.",
    }
    LegacySaToken = "legacy-sa-token" {
        engine: Posture, owasp: Nhi4, related: [Nhi7], severity: Medium,
        tactics: [], techniques: [],
        title: "Long-lived service account token secret",
        description: "A `kubernetes.io/service-account-token` Secret holds a token that never expires.",
        remediation: "Delete the Secret and use projected, short-lived tokens (TokenRequest API).",
    }
    ClassicPat = "classic-pat" {
        engine: Posture, owasp: Nhi4, related: [Nhi5, Nhi7], severity: Medium,
        tactics: [], techniques: [],
        title: "Classic personal access token in use",
        description: "A classic GitHub PAT, with coarse scopes and often no expiry, has access to the organisation.",
        remediation: "Replace it with a fine-grained token or a GitHub App scoped to the repositories needed, then revoke it.",
    }
    PlaintextSecretInConfig = "plaintext-secret-in-config" {
        engine: Posture, owasp: Nhi2, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Secret stored in plain text in an agent config",
        description: "An MCP/agent configuration file holds a secret value in plain text (env, headers, arguments or URL).",
        remediation: "Rotate the secret, then reference it from a secret store or prompt (`${input:…}`, `${env:…}`) instead of the file.",
    }
    AdminEquivalent = "admin-equivalent" {
        engine: Posture, owasp: Nhi5, related: [], severity: Critical,
        tactics: [], techniques: [],
        title: "Identity is administrator-equivalent",
        description: "Its effective permissions allow every action, or the power to grant itself any permission.",
        remediation: "Replace administrator access with a policy limited to the actions and resources it uses (CloudTrail shows which).",
    }
    WildcardPermissions = "wildcard-permissions" {
        engine: Posture, owasp: Nhi5, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Wildcard permissions",
        description: "A grant allows every action of a service, or every action, on every resource.",
        remediation: "List the specific actions and resources instead of wildcards.",
    }
    PrivilegeEscalation = "privilege-escalation" {
        engine: Posture, owasp: Nhi5, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Identity can escalate its privileges",
        description: "Its permissions allow a known path to higher privilege (PassRole with compute, policy writes, key creation, …).",
        remediation: "Remove the escalation actions, or scope them to exact resources and add a permissions boundary.",
    }
    BroadSecretsAccess = "broad-secrets-access" {
        engine: Posture, owasp: Nhi5, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Broad access to secrets",
        description: "It can read secrets (Secrets Manager, SSM parameters, KMS decrypt, Kubernetes secrets) broadly.",
        remediation: "Scope secret reads to the specific secrets it needs.",
    }
    K8sClusterAdminBinding = "k8s-cluster-admin-binding" {
        engine: Posture, owasp: Nhi5, related: [], severity: Critical,
        tactics: [], techniques: [],
        title: "Service account bound to cluster-admin",
        description: "A ClusterRoleBinding gives a service account the cluster-admin role.",
        remediation: "Bind a Role with only the verbs and resources it needs, in its own namespace.",
    }
    DefaultSaPrivileged = "default-sa-privileged" {
        engine: Posture, owasp: Nhi5, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Default service account has permissions",
        description: "Roles are bound to a namespace's `default` service account, so every pod without an explicit account gets them.",
        remediation: "Bind the permissions to a dedicated service account and leave `default` without any.",
    }
    OidcTrustUnrestricted = "oidc-trust-unrestricted" {
        engine: Posture, owasp: Nhi6, related: [], severity: Critical,
        tactics: [], techniques: [],
        title: "CI/CD OIDC trust without a subject restriction",
        description: "A role trusts a CI OIDC provider (GitHub Actions, GitLab, CircleCI, …) without pinning the `sub` claim, so any repository or pipeline of that provider can assume it.",
        remediation: "Add a `StringEquals` (or narrow `StringLike`) condition on the provider's `:sub` claim naming the exact repository and branch or environment.",
    }
    AccessKeyOld = "access-key-old" {
        engine: Posture, owasp: Nhi7, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Access key not rotated",
        description: "An active access key is older than the rotation threshold.",
        remediation: "Rotate the key (create a new one, deploy it, deactivate and delete the old one) or move to short-lived role credentials.",
    }
    TwoActiveKeys = "two-active-keys" {
        engine: Posture, owasp: Nhi7, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Two active access keys",
        description: "The user has two active access keys: one is usually a forgotten leftover of a rotation.",
        remediation: "Deactivate and delete the key that is not in use.",
    }
    TokenNoExpiry = "token-no-expiry" {
        engine: Posture, owasp: Nhi7, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Token never expires",
        description: "A token has no expiry date, so a leak stays useful forever.",
        remediation: "Reissue the token with an expiry (90 days or less) and rotate it on schedule.",
    }
    SecretNotRotated = "secret-not-rotated" {
        engine: Posture, owasp: Nhi7, related: [], severity: Low,
        tactics: [], techniques: [],
        title: "Stored secret not rotated",
        description: "A stored secret (CI secret, deploy key) has not changed for longer than the rotation threshold.",
        remediation: "Rotate the secret at its source and update it where it is stored.",
    }
    CrossEnvironmentTrust = "cross-environment-trust" {
        engine: Posture, owasp: Nhi8, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Trust crosses production and non-production",
        description: "A non-production identity or account can act as this production identity (or the reverse).",
        remediation: "Give each environment its own identities; remove trust from non-production into production.",
    }
    CredentialReused = "credential-reused" {
        engine: Posture, owasp: Nhi9, related: [], severity: High,
        tactics: [], techniques: [],
        title: "Same credential used by several identities",
        description: "The same secret (by fingerprint) is configured for more than one identity or workload.",
        remediation: "Issue a separate credential to each workload, then rotate the shared one.",
    }
    MachinePasswordUsed = "machine-password-used" {
        engine: Posture, owasp: Nhi10, related: [Nhi4], severity: High,
        tactics: [], techniques: [],
        title: "Machine identity used interactively",
        description: "A machine user's console password has been used: a person is signing in as the machine identity.",
        remediation: "Find who signs in as it, give them their own access, and delete the machine user's login profile.",
    }
    NoPurpose = "no-purpose" {
        engine: Posture, owasp: Nhi1, related: [], severity: Low,
        tactics: [], techniques: [],
        title: "Identity has no documented purpose",
        description: "The governance policy's tier requires a purpose (a `purpose` or `description` tag, label or annotation) and none is recorded, so nobody can tell whether the identity is still needed.",
        remediation: "Record what the identity is for (a `purpose` tag), or decommission it if nobody knows.",
    }
    NoExpiry = "no-expiry" {
        engine: Posture, owasp: Nhi1, related: [Nhi7], severity: Low,
        tactics: [], techniques: [],
        title: "Identity has no expiry",
        description: "The governance policy's tier requires an expiry (an `expires` tag or a registration with one) and the identity has none, so it lives until someone remembers it.",
        remediation: "Set an expiry date (an `expires` tag, or register the identity with `warrant register --expires`).",
    }
    EnvironmentNotAllowed = "environment-not-allowed" {
        engine: Posture, owasp: Nhi8, related: [], severity: Medium,
        tactics: [], techniques: [],
        title: "Identity is in an environment its tier does not allow",
        description: "The governance policy's tier lists the environments its identities may live in, and this identity's environment is not one of them.",
        remediation: "Move the workload to an identity of the allowed environment, or correct the identity's environment tag.",
    }
    ReviewOverdue = "review-overdue" {
        engine: Posture, owasp: Nhi1, related: [], severity: Low,
        tactics: [], techniques: [],
        title: "Access review overdue",
        description: "The governance policy's tier asks for an access review every so many days, and the identity's last review (or its creation, if it was never reviewed) is older than that: nobody has confirmed lately that it is still needed and rightly scoped.",
        remediation: "Include it in an access-review campaign (`warrant review start --scope …`) and have its owner decide keep, rightsize, rotate, disable or decommission.",
    }
    ReviewAfterPrivilegeChange = "review-after-privilege-change" {
        engine: Posture, owasp: Nhi5, related: [Nhi1], severity: Medium,
        tactics: [], techniques: [],
        title: "Privileges changed since the last review",
        description: "The governance policy's tier asks for a review as soon as an identity's privileges change, and the policies it holds (attached, through groups or bindings, or their content) differ from what its last reviewer saw.",
        remediation: "Review it again now: confirm the new privileges are intended (keep), or rightsize them.",
    }

    ActivityPrivilegeChange = "activity-privilege-change" {
        engine: Activity, owasp: Nhi5, related: [], severity: High,
        tactics: [PrivilegeEscalation, Persistence, DefenseEvasion],
        techniques: ["T1078.004", "T1098", "T1098.001", "T1098.003", "T1098.004", "T1098.006", "T1136.003", "T1484.002", "T1556.006", "T1610", "T1611"],
        title: "Privilege change or persistence",
        description: "IAM or RBAC changes that persist access or escalate privilege: new keys, users, login profiles, policies, role bindings, tokens and app grants; workloads that run privileged or reach into their host.",
        remediation: "Confirm the change was intended; if not, revert it, rotate the caller's credentials, and take access-management rights away from identities that do not manage access.",
    }
    ActivityDefenseEvasion = "activity-defense-evasion" {
        engine: Activity, owasp: Nhi5, related: [], severity: High,
        tactics: [DefenseEvasion],
        techniques: ["T1070", "T1556", "T1556.006", "T1562.001", "T1562.007", "T1562.008", "T1666"],
        title: "Defence evasion",
        description: "Logging or security tooling turned off or altered: trails stopped or narrowed, GuardDuty, Security Hub, Macie, Config or WAF disabled, findings archived or suppressed, bucket logging or encryption removed; authentication requirements (SSO, two-factor, sign-on policies), network allow lists or code protections (branch protection, secret scanning) weakened.",
        remediation: "Restore the logging or security control at once, find what else the caller did while it was off, rotate the caller's credentials, and deny these actions with a service control policy.",
    }
    ActivityCredentialAccess = "activity-credential-access" {
        engine: Activity, owasp: Nhi5, related: [], severity: High,
        tactics: [CredentialAccess, Discovery, InitialAccess, LateralMovement, DefenseEvasion],
        techniques: ["T1078.004", "T1087.004", "T1528", "T1550.001", "T1552", "T1552.005", "T1552.007", "T1555.006", "T1649"],
        title: "Credential access",
        description: "Secrets or passwords read for the first time or in a burst far above the identity's habit; instance credentials used from outside the cloud; keys validated by offensive tooling; keys turned into console sessions.",
        remediation: "Check which secrets were read and whether the identity needs them; rotate any secret read without a reason, and scope secret access to the named secrets the workload uses.",
    }
    ActivityExfiltration = "activity-exfiltration" {
        engine: Activity, owasp: Nhi5, related: [], severity: High,
        tactics: [Exfiltration, DefenseEvasion],
        techniques: ["T1048", "T1537", "T1562.007", "T1567.001"],
        title: "Possible exfiltration",
        description: "Snapshots, images, buckets or repositories shared outside the account or made public.",
        remediation: "Check the shared resource's new permissions; revoke sharing with unknown accounts or the public, and rotate the caller's credentials if the change was not planned.",
    }
    ActivitySensitiveAction = "activity-sensitive-action" {
        engine: Activity, owasp: Nhi5, related: [], severity: Medium,
        tactics: [Execution, Persistence, CredentialAccess, LateralMovement, DefenseEvasion, Exfiltration, Impact],
        techniques: ["T1021.008", "T1059", "T1072", "T1485", "T1490", "T1496", "T1546", "T1552.005", "T1557", "T1578.002", "T1609", "T1648", "T1651"],
        title: "First use of a sensitive action",
        description: "First use of remote execution, lateral movement or resource-hijacking calls; data destruction and recovery inhibition (databases, snapshots and backups deleted, deletion protection or versioning turned off, buckets set to expire, keys scheduled for deletion).",
        remediation: "Confirm the call was intended by the identity's owner; if not, contain the affected resources, rotate the caller's credentials, and remove the permission if the workload does not need it.",
    }
    ActivityVolumeSpike = "activity-volume-spike" {
        engine: Activity, owasp: Nhi2, related: [], severity: Medium,
        tactics: [Collection, Exfiltration], techniques: ["T1530"],
        title: "Volume spike",
        description: "A day's calls far above the identity's learned daily volume.",
        remediation: "Find out what the identity read or wrote and why; if its owner cannot explain the volume, treat the credential as stolen: rotate it and review the data touched.",
    }
    ActivityNewNetwork = "activity-new-network" {
        engine: Activity, owasp: Nhi2, related: [], severity: Medium,
        tactics: [InitialAccess, DefenseEvasion], techniques: ["T1078.004"],
        title: "Calls from a new network",
        description: "Calls from a network the identity never used.",
        remediation: "Confirm the new network with the owner; if it is unexplained, rotate the credential and restrict where it can be used from.",
    }
    ActivityNewUserAgent = "activity-new-user-agent" {
        engine: Activity, owasp: Nhi2, related: [], severity: Low,
        tactics: [InitialAccess, DefenseEvasion], techniques: ["T1078.004"],
        title: "Calls from a new client",
        description: "Calls from a client (user-agent family) the identity never used.",
        remediation: "Confirm the new client with the owner; if it is unexplained, rotate the credential.",
    }
    ActivityOffSchedule = "activity-off-schedule" {
        engine: Activity, owasp: Nhi2, related: [], severity: Low,
        tactics: [InitialAccess, DefenseEvasion], techniques: ["T1078.004"],
        title: "Activity off the learned schedule",
        description: "Calls in hours of the week the identity is never active.",
        remediation: "Confirm the calls with the owner; if a scheduled job did not move, treat the credential as stolen and rotate it.",
    }
    ActivityFailureBurst = "activity-failure-burst" {
        engine: Activity, owasp: Nhi5, related: [], severity: Medium,
        tactics: [CredentialAccess, Discovery],
        techniques: ["T1069.003", "T1087.004", "T1110", "T1526", "T1580", "T1619"],
        title: "Burst of refused calls",
        description: "A burst of denied or failed-authentication calls (reconnaissance).",
        remediation: "A workload does not usually probe for permissions it lacks: find who holds the credential, rotate it if the owner cannot explain the calls, and keep its permissions scoped.",
    }
    ActivityDiscoveryBurst = "activity-discovery-burst" {
        engine: Activity, owasp: Nhi5, related: [], severity: Medium,
        tactics: [Discovery],
        techniques: ["T1069.003", "T1087.004", "T1526", "T1580", "T1619"],
        title: "Discovery burst",
        description: "Many never-used list/describe calls in one hour (discovery).",
        remediation: "Enumeration by a workload that never did it is typical of a stolen credential being explored: confirm with the owner, rotate the credential otherwise, and remove list/describe permissions it does not need.",
    }
    ActivityCredentialReuse = "activity-credential-reuse" {
        engine: Activity, owasp: Nhi9, related: [], severity: High,
        tactics: [InitialAccess, DefenseEvasion], techniques: ["T1078.004"],
        title: "One credential used from several workloads",
        description: "One credential used from several networks or clients within an hour.",
        remediation: "Give each workload its own credential, then rotate the shared one.",
    }
    ActivityConsoleUse = "activity-console-use" {
        engine: Activity, owasp: Nhi10, related: [], severity: High,
        tactics: [InitialAccess, Persistence], techniques: ["T1078.004"],
        title: "Console use of a machine identity",
        description: "Console or browser use of a machine identity: a person is acting as it.",
        remediation: "Find who signs in as the machine identity, give them their own access, and remove the identity's console access.",
    }
    ActivityCrossEnvironment = "activity-cross-environment" {
        engine: Activity, owasp: Nhi8, related: [], severity: High,
        tactics: [LateralMovement], techniques: ["T1078.004"],
        title: "Identity crosses environments",
        description: "An identity of one environment acting on or from another.",
        remediation: "Give each environment its own identities and remove access across production and non-production.",
    }
    ActivityDormantActive = "activity-dormant-active" {
        engine: Activity, owasp: Nhi1, related: [], severity: Medium,
        tactics: [InitialAccess, Persistence], techniques: ["T1078.004"],
        title: "Dormant identity active again",
        description: "A dormant identity suddenly active.",
        remediation: "Confirm with the owner why the identity woke up; if nobody can, disable it and rotate its credentials.",
    }
    ActivityAgentUndeclaredTool = "activity-agent-undeclared-tool" {
        engine: Activity, owasp: Nhi5, related: [], severity: High,
        tactics: [Execution], techniques: [],
        title: "Agent called an undeclared tool",
        description: "An agent calling tools outside its declared tool set.",
        remediation: "Restrict the agent to its declared tools in the MCP client or gateway configuration, and review the prompt or input that led it to the other tool.",
    }
    ActivityShadowIdentity = "activity-shadow-identity" {
        engine: Activity, owasp: Nhi1, related: [], severity: Medium,
        tactics: [InitialAccess, Persistence], techniques: ["T1078.004"],
        title: "Activity by an identity not in the inventory",
        description: "Activity by a principal that is not in the inventory.",
        remediation: "Find the principal's owner and import its source, or disable the principal if nobody claims it.",
    }
    ActivityUnregisteredCredential = "activity-unregistered-credential" {
        engine: Activity, owasp: Nhi7, related: [Nhi1], severity: Medium,
        tactics: [Persistence], techniques: ["T1098.001"],
        title: "New credential the inventory does not hold",
        description: "A long-lived credential was created for an inventoried machine identity and no import or registration accounts for it.",
        remediation: "Ask the identity's owner whether the credential is wanted; record it (import the provider's listing again) if so, otherwise deactivate and delete it and find who created it.",
    }
    ActivityMcpToolChanged = "activity-mcp-tool-changed" {
        engine: Activity, owasp: Nhi3, related: [], severity: High,
        tactics: [InitialAccess, Execution], techniques: ["T1195"],
        title: "MCP tool changed after it was approved",
        description: "An upstream MCP server now lists a tool whose name, description or input schema differs from the definition a person approved and the gateway pinned: a \"rug pull\" can turn a trusted tool into one that steers the model. The gateway withholds and refuses the tool until it is approved again.",
        remediation: "Compare the new definition with the approved one (`warrant gateway tools`); approve it again (`warrant gateway tools approve SERVER::TOOL`) only if the change is benign, otherwise remove the upstream from gateway.toml and find out who changed it.",
    }
    ActivityMcpToolPoisoned = "activity-mcp-tool-poisoned" {
        engine: Activity, owasp: Nhi3, related: [], severity: High,
        tactics: [Execution, CredentialAccess], techniques: ["T1195"],
        title: "MCP tool description aims at the model",
        description: "An upstream MCP tool's description or input schema carries what a person reviewing it does not see or should not accept: invisible characters, instructions to the model, requests for keys or credential files, or the name of another server's tool it shadows.",
        remediation: "Do not approve the tool; report it to the server's publisher, and remove the upstream from gateway.toml if the text is not explained.",
    }
    ActivityTaskTokenUnused = "activity-task-token-unused" {
        engine: Activity, owasp: Nhi5, related: [], severity: Low,
        tactics: [Persistence], techniques: [],
        title: "Task token expired unused",
        description: "A just-in-time task token was minted for an agent and expired without a single call through the gateway: the access was granted for nothing, or the agent reached the tools some other way.",
        remediation: "Ask whoever minted it (`warrant jit grants`) why it went unused; check that the agent cannot reach the tools without the gateway, and mint tokens only when a task starts.",
    }
    ActivityTaskTokenMisused = "activity-task-token-misused" {
        engine: Activity, owasp: Nhi5, related: [], severity: Medium,
        tactics: [Execution], techniques: [],
        title: "Task token used outside its task",
        description: "An agent presented a task token for tools or arguments outside what the token grants: the agent strayed from its task, or its prompt or input was manipulated.",
        remediation: "Review the agent's refused calls and what it read before them; revoke the token (`warrant jit revoke`) if the task is compromised, and fix the prompt or tool set that led it astray.",
    }
    LeakedSecret = "leaked-secret" {
        engine: Secret, owasp: Nhi2, related: [], severity: Critical,
        tactics: [CredentialAccess], techniques: ["T1552.001"],
        title: "Credential leaked in code, history or configuration",
        description: "A secret that authenticates as an inventoried identity was found in files, git history, archives or configuration.",
        remediation: "Revoke and rotate the credential, move it to a secrets manager and reference it from there, and check the identity's activity for misuse.",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_rule_is_registered_once_with_its_own_id() {
        let mut seen = BTreeSet::new();
        for &id in RuleId::ALL {
            let spec = id.spec();
            assert_eq!(spec.id, id);
            assert!(seen.insert(id.as_str()), "duplicate id {id}");
            assert_eq!(id.as_str().parse::<RuleId>(), Ok(id));
            assert!(!spec.title.is_empty() && !spec.description.is_empty());
            assert!(!spec.remediation.is_empty());
            assert!(!spec.related.contains(&spec.owasp), "{id}");
            if id.engine() == FindingSource::Activity {
                assert!(id.as_str().starts_with("activity-"), "{id}");
                assert!(!spec.tactics.is_empty(), "{id}");
            }
        }
        assert_eq!(of_engine(FindingSource::Posture).count(), 35);
        assert_eq!(of_engine(FindingSource::Activity).count(), 22);
        assert_eq!(of_engine(FindingSource::Secret).count(), 1);
    }

    #[test]
    fn rule_ids_serialise_as_their_text_and_unknown_ids_are_refused() {
        assert_eq!(
            serde_json::to_string(&RuleId::LegacySaToken)
                .ok()
                .as_deref(),
            Some("\"legacy-sa-token\"")
        );
        assert_eq!(
            serde_json::from_str::<RuleId>("\"leaked-secret\"").ok(),
            Some(RuleId::LeakedSecret)
        );
        let error = serde_json::from_str::<RuleId>("\"no-ownr\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("unknown rule id `no-ownr`"), "{error}");
    }

    #[test]
    fn filters_select_by_engine_risk_attack_mapping_and_severity() {
        let ids = |filter: RuleFilter| -> Vec<RuleId> {
            filter.select().iter().map(|spec| spec.id).collect()
        };
        let secret = ids(RuleFilter {
            engine: Some(FindingSource::Secret),
            ..RuleFilter::default()
        });
        assert_eq!(secret, [RuleId::LeakedSecret]);
        // Related risks count: the legacy token is listed under NHI7 as well as NHI4.
        let nhi7 = ids(RuleFilter {
            owasp: Some(OwaspNhi::Nhi7),
            ..RuleFilter::default()
        });
        assert!(nhi7.contains(&RuleId::LegacySaToken) && nhi7.contains(&RuleId::AccessKeyOld));
        let parent = ids(RuleFilter {
            technique: "T1098".parse().ok(),
            ..RuleFilter::default()
        });
        assert_eq!(
            parent,
            [
                RuleId::ActivityPrivilegeChange,
                RuleId::ActivityUnregisteredCredential
            ]
        );
        let sub = ids(RuleFilter {
            technique: "T1552.001".parse().ok(),
            ..RuleFilter::default()
        });
        assert_eq!(sub, [RuleId::LeakedSecret]);
        let discovery = ids(RuleFilter {
            tactic: Some(Tactic::Discovery),
            min_severity: Some(Severity::Medium),
            ..RuleFilter::default()
        });
        // Credential access counts: validating a stolen key with GetCallerIdentity is discovery.
        assert_eq!(
            discovery,
            [
                RuleId::ActivityCredentialAccess,
                RuleId::ActivityFailureBurst,
                RuleId::ActivityDiscoveryBurst
            ]
        );
        let critical = ids(RuleFilter {
            min_severity: Some(Severity::Critical),
            engine: Some(FindingSource::Posture),
            ..RuleFilter::default()
        });
        assert!(critical.contains(&RuleId::TrustAnyone));
        assert!(
            critical
                .iter()
                .all(|id| id.spec().default_severity == Severity::Critical)
        );
        assert_eq!(ids(RuleFilter::default()).len(), RuleId::ALL.len());
    }

    #[test]
    fn a_never_expiring_legacy_token_is_also_a_long_lived_secret() {
        let spec = RuleId::LegacySaToken.spec();
        assert_eq!(spec.owasp, OwaspNhi::Nhi4);
        assert_eq!(spec.related, [OwaspNhi::Nhi7]);
    }
}
