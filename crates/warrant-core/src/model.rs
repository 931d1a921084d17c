//! The inventory graph: identity → credentials → policies/grants → resources, plus owners,
//! accounts and trust edges (who can assume, impersonate or bind to whom).
//!
//! INVARIANT: no type here ever holds a raw secret value. Credentials carry a key id (which
//! providers treat as public, such as an AWS access key id) or a keyed fingerprint plus a
//! redacted preview made by [`crate::fingerprint`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::UnknownValueError;

pub type Timestamp = DateTime<Utc>;

/// Free-form provider facts that do not deserve a typed field (yet).
pub type Attributes = BTreeMap<String, serde_json::Value>;

macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        // JSON says exactly what `as_str`, the CLI's filters and the schema say (serde's
        // snake_case made `GitHub` "git_hub"); reading also accepts that older spelling.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                // Underscores do not tell values apart: `git_hub_app` (the JSON of older
                // versions) is `github_app`.
                let key = |t: &str| t.trim().to_ascii_lowercase().replace('_', "");
                let wanted = key(s);
                $(if wanted == key($text) { return Ok($name::$variant); })+
                Err(UnknownValueError {
                    what: $what,
                    value: s.to_string(),
                    expected: concat!($($text, " "),+),
                })
            }
        }
    };
}
pub(crate) use closed_enum;

closed_enum!(
    /// Which system an identity, credential or policy lives in.
    Provider, "provider" {
        Aws => "aws",
        Kubernetes => "kubernetes",
        GitHub => "github",
        Mcp => "mcp",
        Okta => "okta",
        Other => "other",
    }
);

closed_enum!(
    /// What sort of non-human identity this is.
    IdentityKind, "identity kind" {
        AwsUser => "aws_user",
        AwsRole => "aws_role",
        K8sServiceAccount => "k8s_service_account",
        GitHubApp => "github_app",
        GitHubDeployKey => "github_deploy_key",
        GitHubPat => "github_pat",
        GitHubActions => "github_actions",
        GitHubWebhook => "github_webhook",
        OAuthApp => "oauth_app",
        McpServer => "mcp_server",
        AiAgent => "ai_agent",
        ServiceAccount => "service_account",
        ApiKey => "api_key",
        Other => "other",
    }
);

closed_enum!(
    /// Lifecycle status. `Dormant` is derived from inactivity; the others come from the source.
    IdentityStatus, "identity status" {
        Active => "active",
        Dormant => "dormant",
        Disabled => "disabled",
        Decommissioned => "decommissioned",
    }
);

closed_enum!(
    /// Deployment environment, from account mapping, namespace, tags or names.
    Environment, "environment" {
        Production => "production",
        Staging => "staging",
        Development => "development",
        Test => "test",
        Unknown => "unknown",
    }
);

impl Environment {
    /// Parse the many ways people spell environments in tags and names ("prod", "prd", "dev"…).
    pub fn guess(text: &str) -> Environment {
        let lower = text.to_ascii_lowercase();
        let has = |needle: &str| {
            lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| word == needle)
        };
        if has("prod") || has("production") || has("prd") || has("live") {
            Environment::Production
        } else if has("staging") || has("stage") || has("stg") || has("preprod") || has("uat") {
            Environment::Staging
        } else if has("dev") || has("development") || has("sandbox") {
            Environment::Development
        } else if has("test") || has("qa") || has("testing") {
            Environment::Test
        } else {
            Environment::Unknown
        }
    }

    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

closed_enum!(
    /// Whether a person or a program drives an identity. Machine identities driven by people are
    /// an OWASP NHI10 risk.
    ActorKind, "actor kind" {
        Human => "human",
        Machine => "machine",
        Unknown => "unknown",
    }
);

/// Where a record came from: the connector and the file (or API) it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// Connector name, e.g. `aws-authorization-details`, `aws-live`, `kubernetes`, `mcp`.
    pub source: String,
    /// The file (or `api:<endpoint>`) the record was read from.
    pub location: Option<String>,
}

/// A reference from an identity to the people or teams accountable for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OwnerRef {
    /// An email address, login or team handle as written at the source.
    pub id: String,
    /// Where the claim came from, e.g. `tag:owner`, `annotation:team`, `directory`.
    pub source: String,
}

/// Console / password sign-in facts for identities that have them (AWS users).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InteractiveLogin {
    pub password_enabled: bool,
    pub password_last_used: Option<Timestamp>,
    pub password_last_changed: Option<Timestamp>,
    pub mfa_active: bool,
}

/// A non-human identity: the thing that authenticates and acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The external id, unique across the inventory: an ARN,
    /// `system:serviceaccount:NS:NAME`, `github:ORG/app/SLUG`, `mcp:PATH#SERVER`, …
    pub id: String,
    pub kind: IdentityKind,
    pub provider: Provider,
    /// AWS account id, Kubernetes cluster name, GitHub organisation, MCP config path.
    pub account: Option<String>,
    /// Kubernetes namespace, AWS path, GitHub repository: a narrower scope inside the account.
    pub namespace: Option<String>,
    pub environment: Environment,
    pub name: String,
    pub actor: ActorKind,
    pub created: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub status: IdentityStatus,
    pub owners: Vec<OwnerRef>,
    pub purpose: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub login: Option<InteractiveLogin>,
    pub provenance: Provenance,
    pub attributes: Attributes,
}

impl Identity {
    /// A minimal identity; connectors fill in the rest.
    pub fn new(
        id: impl Into<String>,
        kind: IdentityKind,
        provider: Provider,
        name: impl Into<String>,
    ) -> Identity {
        Identity {
            id: id.into(),
            kind,
            provider,
            account: None,
            namespace: None,
            environment: Environment::Unknown,
            name: name.into(),
            actor: ActorKind::Machine,
            created: None,
            last_used: None,
            status: IdentityStatus::Active,
            owners: Vec::new(),
            purpose: None,
            tags: BTreeMap::new(),
            login: None,
            provenance: Provenance::default(),
            attributes: Attributes::new(),
        }
    }
}

closed_enum!(
    CredentialKind, "credential kind" {
        AccessKey => "access_key",
        Password => "password",
        ServiceAccountToken => "service_account_token",
        PersonalAccessToken => "personal_access_token",
        FineGrainedToken => "fine_grained_token",
        DeployKey => "deploy_key",
        AppPrivateKey => "app_private_key",
        OAuthToken => "oauth_token",
        ApiKey => "api_key",
        WebhookSecret => "webhook_secret",
        Certificate => "certificate",
        SshKey => "ssh_key",
        ConnectionString => "connection_string",
        Secret => "secret",
        FederatedToken => "federated_token",
    }
);

/// Start of [`Credential::storage`] for a secret written in plain text in a file
/// (`plaintext:PATH#PLACE`); posture quotes the place after it.
pub const PLAINTEXT_STORAGE_PREFIX: &str = "plaintext:";

/// A credential that lets an identity authenticate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// Unique id: the provider's key id (`AKIA…`, token id) where one exists, otherwise
    /// `fp:<fingerprint>`.
    pub id: String,
    /// The identity this credential authenticates as.
    pub identity: String,
    pub kind: CredentialKind,
    /// Keyed fingerprint of the secret value (see [`crate::Fingerprinter`]), when Warrant saw it.
    pub fingerprint: Option<String>,
    /// Redacted preview for humans, e.g. `ghp_…a1`.
    pub preview: Option<String>,
    pub created: Option<Timestamp>,
    pub last_rotated: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub expires: Option<Timestamp>,
    pub active: bool,
    /// Where the secret lives, e.g. `aws-iam`, `k8s-secret:NS/NAME`,
    /// `plaintext:~/.cursor/mcp.json#env.GITHUB_TOKEN`, `github-actions-secret:REPO/NAME`.
    pub storage: Option<String>,
    pub provenance: Provenance,
    pub attributes: Attributes,
}

impl Credential {
    pub fn new(
        id: impl Into<String>,
        identity: impl Into<String>,
        kind: CredentialKind,
    ) -> Credential {
        Credential {
            id: id.into(),
            identity: identity.into(),
            kind,
            fingerprint: None,
            preview: None,
            created: None,
            last_rotated: None,
            last_used: None,
            expires: None,
            active: true,
            storage: None,
            provenance: Provenance::default(),
            attributes: Attributes::new(),
        }
    }
}

closed_enum!(
    Effect, "effect" {
        Allow => "allow",
        Deny => "deny",
    }
);

closed_enum!(
    PolicyKind, "policy kind" {
        AwsManaged => "aws_managed",
        CustomerManaged => "customer_managed",
        Inline => "inline",
        PermissionsBoundary => "permissions_boundary",
        // An AWS Organizations service control policy: it grants nothing, it limits.
        ServiceControl => "service_control",
        K8sRole => "k8s_role",
        K8sClusterRole => "k8s_cluster_role",
        GitHubPermissions => "github_permissions",
        OAuthScopes => "oauth_scopes",
        McpTools => "mcp_tools",
    }
);

/// One statement / rule of a policy, in the provider's own vocabulary.
///
/// AWS: actions like `s3:GetObject` (wildcards allowed), resources are ARNs.
/// Kubernetes: actions are verbs (`get`, `*`), resources are `GROUP/RESOURCE` (core group is
/// the empty string, so `"/secrets"`), with `resourceNames` as `GROUP/RESOURCE/NAME`.
/// GitHub: actions are `PERMISSION:LEVEL` (`contents:write`), resources are repositories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_resources: Vec<String>,
    /// The condition block as written (AWS `Condition`), `None` when unconditional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<serde_json::Value>,
}

/// A named set of statements that can be attached to identities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Policy ARN, `k8s:CLUSTER/clusterrole/NAME`, `k8s:CLUSTER/role/NS/NAME`, or for inline
    /// policies `IDENTITY_ID#inline/NAME`.
    pub id: String,
    pub name: String,
    pub provider: Provider,
    pub kind: PolicyKind,
    pub statements: Vec<Statement>,
    pub provenance: Provenance,
}

/// "This identity holds this policy", directly or through a group/binding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub identity: String,
    pub policy: String,
    /// `None` for a direct attachment; otherwise the group or binding it came through,
    /// e.g. `group:arn:aws:iam::1:group/admins`, `rolebinding:NS/NAME`.
    pub via: Option<String>,
    /// Restricts the policy to a scope, e.g. a Kubernetes namespace for a RoleBinding.
    pub scope: Option<String>,
}

/// Service control policies limit every principal of an AWS account. They are attachments
/// whose holder is the account ([`scp_holder`]) and whose `via` names the level of the
/// organisation tree they are attached at ([`scp_via`]): level 0 is the root, the account
/// itself the deepest. An action is possible only when every level allows it.
pub fn scp_holder(account: &str) -> String {
    format!("account:{account}")
}

/// The `via` of a service control policy attached at `level` on `target` (root, OU, account).
pub fn scp_via(level: usize, target: &str) -> String {
    format!("scp:{level}:{target}")
}

/// The level of a service control policy attachment's `via`.
pub fn scp_level(via: &str) -> Option<usize> {
    via.strip_prefix("scp:")?.split(':').next()?.parse().ok()
}

closed_enum!(
    /// What kind of principal stands at the trusting end of a trust edge.
    PrincipalKind, "principal kind" {
        Identity => "identity",
        Account => "account",
        Federated => "federated",
        Service => "service",
        Anyone => "anyone",
    }
);

closed_enum!(
    TrustKind, "trust kind" {
        AssumeRole => "assume_role",
        AssumeRoleWithWebIdentity => "assume_role_with_web_identity",
        AssumeRoleWithSaml => "assume_role_with_saml",
        Impersonate => "impersonate",
        Bind => "bind",
        Delegate => "delegate",
    }
);

/// `from` may become (act as) `to`. Blast radius flows along these edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustEdge {
    /// An identity id, an account id, a federated provider (`token.actions.githubusercontent.com`),
    /// a service principal (`ec2.amazonaws.com`) or `*`.
    pub from: String,
    pub from_kind: PrincipalKind,
    /// The identity that can be assumed.
    pub to: String,
    pub kind: TrustKind,
    /// Conditions on the trust (AWS `Condition` block), `None` when unconditional.
    pub conditions: Option<serde_json::Value>,
    pub provenance: Provenance,
}

closed_enum!(
    Sensitivity, "sensitivity" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl Sensitivity {
    /// Weight used by blast-radius scoring.
    pub fn weight(self) -> f64 {
        match self {
            Sensitivity::Low => 1.0,
            Sensitivity::Medium => 2.0,
            Sensitivity::High => 3.5,
            Sensitivity::Critical => 5.0,
        }
    }
}

/// Something identities can reach: a bucket, a database, a namespace, a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// ARN, `k8s:CLUSTER/NS`, `github:ORG/REPO`, …; may contain `*` to cover a family.
    pub id: String,
    pub kind: String,
    pub account: Option<String>,
    pub environment: Environment,
    pub sensitivity: Sensitivity,
    pub tags: BTreeMap<String, String>,
    pub provenance: Provenance,
    /// The identity it runs as: a Lambda function's execution role, a stack's service role, an
    /// instance's profile (`arn:aws:iam::A:instance-profile/N`, which names its role in the
    /// IAM export). Who can change what runs there can act as that identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_as: Option<String>,
}

closed_enum!(
    OwnerStatus, "owner status" {
        Active => "active",
        Suspended => "suspended",
        Deprovisioned => "deprovisioned",
        Unknown => "unknown",
    }
);

closed_enum!(
    OwnerKind, "owner kind" {
        Person => "person",
        Team => "team",
        SharedMailbox => "shared_mailbox",
    }
);

/// A person or team from the directory who can be accountable for identities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// Lower-cased email address or login; what [`OwnerRef::id`] matches against.
    pub id: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub login: Option<String>,
    pub kind: OwnerKind,
    pub status: OwnerStatus,
    pub manager: Option<String>,
    pub department: Option<String>,
    pub provenance: Provenance,
}

/// A cloud account / cluster / organisation known to belong to the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
    pub provider: Provider,
    pub environment: Environment,
    /// `ACTIVE`, `SUSPENDED`, … as the provider reports it.
    pub status: Option<String>,
    pub email: Option<String>,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect: JSON said `"git_hub"` / `"git_hub_app"` where the schema and `--provider` /
    /// `--kind` say `github` / `github_app`. Every value's JSON is its text, and reads back.
    #[test]
    fn json_spells_every_value_as_its_text_and_reads_the_old_spelling() {
        fn check<T>(all: &[T], as_str: fn(T) -> &'static str)
        where
            T: Copy + PartialEq + std::fmt::Debug + Serialize + for<'de> Deserialize<'de>,
        {
            for &v in all {
                let json = serde_json::to_string(&v).unwrap();
                assert_eq!(json, format!("\"{}\"", as_str(v)));
                assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
            }
        }
        check(Provider::ALL, Provider::as_str);
        check(IdentityKind::ALL, IdentityKind::as_str);
        check(IdentityStatus::ALL, IdentityStatus::as_str);
        check(Environment::ALL, Environment::as_str);
        check(CredentialKind::ALL, CredentialKind::as_str);
        check(Effect::ALL, Effect::as_str);
        assert_eq!(
            serde_json::from_str::<IdentityKind>("\"git_hub_app\"").unwrap(),
            IdentityKind::GitHubApp
        );
        assert_eq!("git_hub".parse::<Provider>().unwrap(), Provider::GitHub);
        assert!(serde_json::from_str::<Provider>("\"gitlab\"").is_err());
    }

    #[test]
    fn closed_enums_round_trip_through_text() {
        for kind in IdentityKind::ALL {
            assert_eq!(kind.as_str().parse::<IdentityKind>(), Ok(*kind));
        }
        assert!("nonsense".parse::<Provider>().is_err());
    }

    #[test]
    fn environment_guessing_reads_words_not_substrings() {
        assert_eq!(Environment::guess("acme-prod"), Environment::Production);
        assert_eq!(
            Environment::guess("payments-PRD-eu"),
            Environment::Production
        );
        assert_eq!(Environment::guess("dev"), Environment::Development);
        assert_eq!(Environment::guess("product-catalog"), Environment::Unknown);
        assert_eq!(Environment::guess("devices"), Environment::Unknown);
    }
}

impl Identity {
    /// Folds a later, possibly partial, record of the same identity into this one: values the
    /// later record knows win, values it lacks are kept. Lets one identity be assembled from
    /// several exports (authorization details + credential report, say).
    pub fn merge_from(&mut self, later: Identity) {
        let Identity {
            id: _,
            kind,
            provider: _,
            account,
            namespace,
            environment,
            name,
            actor,
            created,
            last_used,
            status,
            owners,
            purpose,
            tags,
            login,
            provenance,
            attributes,
        } = later;
        // A kind of `Other` means "the source did not know"; keep the more specific one.
        if kind != IdentityKind::Other {
            self.kind = kind;
        }
        self.account = account.or(self.account.take());
        self.namespace = namespace.or(self.namespace.take());
        if environment != Environment::Unknown {
            self.environment = environment;
        }
        if !name.is_empty() {
            self.name = name;
        }
        if actor != ActorKind::Unknown {
            self.actor = actor;
        }
        self.created = created.or(self.created);
        self.last_used = match (self.last_used, last_used) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        // Status is only ever made worse by a later record within one import: a source that
        // says "disabled" outranks one that merely lists the identity.
        self.status = self.status.max(status);
        for owner in owners {
            if !self.owners.contains(&owner) {
                self.owners.push(owner);
            }
        }
        self.purpose = purpose.or(self.purpose.take());
        self.tags.extend(tags);
        self.login = login.or(self.login.take());
        if self.provenance.source.is_empty() {
            self.provenance = provenance;
        }
        self.attributes.extend(attributes);
    }
}

/// Observed use of a permission by an identity, aggregated over a period (from activity logs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    pub identity: String,
    /// Credential used (e.g. the access key id), when the log names it.
    pub credential: Option<String>,
    /// The permission exercised, in the provider's policy vocabulary (`s3:GetObject`,
    /// Kubernetes `get` on `/secrets` as `get:/secrets`).
    pub action: String,
    /// The resource acted on (ARN, `NS/RESOURCE/NAME`), when the log names it.
    pub resource: Option<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub count: u64,
    /// Calls that failed (access denied, errors).
    pub errors: u64,
}
