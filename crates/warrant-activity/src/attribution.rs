//! Which inventory identity an event belongs to, and the usage it records.
//!
//! Identity ids follow the connectors' schemes: AWS ARNs, `system:serviceaccount:NS:NAME`,
//! `github:ORG/app/SLUG`, `github:ORG/pat/ID`, `github:SCOPE/actions`, `mcp:PATH#SERVER`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use warrant_core::{IdentityKind, Inventory, UsageRecord};

use crate::event::{Event, Outcome, Principal, PrincipalKind};

/// Where an event's principal stands relative to the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "attribution", content = "id")]
pub enum Attribution {
    /// An inventory identity (its id).
    Known(String),
    /// A non-human principal the inventory does not list: a candidate shadow identity. The
    /// string is a stable key in the inventory's id scheme (role or user ARN,
    /// `system:serviceaccount:NS:NAME`, `github:ORG/app/SLUG`, `github:ORG/token/ID`,
    /// `agent:NAME`, or `aws-key:ACCOUNT/KEYID` when only an access key is known).
    Shadow(String),
    /// Not a non-human identity of the organisation: an AWS service acting for itself, a
    /// person's own GitHub or Kubernetes user, Kubernetes control-plane components, anonymous
    /// calls. The string describes the principal.
    Outside(String),
}

impl Attribution {
    /// The identity key usage is recorded under: the id, or `shadow:KEY`.
    pub fn usage_key(&self) -> Option<String> {
        match self {
            Attribution::Known(id) => Some(id.clone()),
            Attribution::Shadow(key) => Some(format!("shadow:{key}")),
            Attribution::Outside(_) => None,
        }
    }
}

/// Seeded hashing several times faster than SipHash for the short keys looked up per event;
/// the tables hold inventory ids, so lookups with hostile log strings cannot grow them.
type FoldHash = foldhash::fast::RandomState;

/// Maps events to inventory identities. Build once per inventory; `attribute` is read-only
/// and cheap (hash look-ups), so one attributor serves every ingest thread.
#[derive(Debug, Default, Clone)]
pub struct Attributor {
    identities: HashMap<String, IdentityKind, FoldHash>,
    /// Credential id (access key id, `github:pat/ID`, …) → identity id.
    by_credential: HashMap<String, String, FoldHash>,
    /// account → name → ids of the AWS user and role of that name, for ARNs logged without
    /// the IAM path. Nested so a look-up borrows the event's strings instead of building keys.
    aws_by_name: HashMap<String, HashMap<String, AwsNamed, FoldHash>, FoldHash>,
    /// Agent and MCP server names → id.
    agents: HashMap<String, String, FoldHash>,
}

/// The inventory ids of the AWS user and of the role that share an account and a name.
#[derive(Debug, Default, Clone)]
struct AwsNamed {
    user: Option<String>,
    role: Option<String>,
}

impl Attributor {
    pub fn new(inventory: &Inventory) -> Attributor {
        let mut a = Attributor::default();
        for identity in &inventory.identities {
            a.identities.insert(identity.id.clone(), identity.kind);
            match identity.kind {
                IdentityKind::AwsUser | IdentityKind::AwsRole => {
                    if let Some(account) = &identity.account {
                        let named = a
                            .aws_by_name
                            .entry(account.clone())
                            .or_default()
                            .entry(identity.name.clone())
                            .or_default();
                        let slot = if identity.kind == IdentityKind::AwsRole {
                            &mut named.role
                        } else {
                            &mut named.user
                        };
                        *slot = Some(identity.id.clone());
                    }
                }
                IdentityKind::AiAgent | IdentityKind::McpServer => {
                    a.agents
                        .entry(identity.name.clone())
                        .or_insert_with(|| identity.id.clone());
                }
                _ => {}
            }
        }
        for credential in &inventory.credentials {
            let mut owner = credential.identity.clone();
            // Unreconciled `list-access-keys` output names the user, not its ARN.
            if let Some(name) = owner.strip_prefix("user:")
                && let Some(id) = a
                    .aws_by_name
                    .values()
                    .find_map(|names| names.get(name).and_then(|n| n.user.clone()))
            {
                owner = id;
            }
            a.by_credential.insert(credential.id.clone(), owner);
        }
        a
    }

    fn known(&self, id: &str) -> Option<String> {
        self.identities.contains_key(id).then(|| id.to_string())
    }

    /// Resolves an ARN, tolerating an IAM path the log left out (or added).
    fn aws_arn(&self, arn: &str, account: Option<&str>) -> Option<String> {
        if let Some(id) = self.known(arn) {
            return Some(id);
        }
        let (_, resource) = arn.rsplit_once(':')?;
        let role = resource.starts_with("role/");
        if !role && !resource.starts_with("user/") {
            return None;
        }
        let name = resource.rsplit('/').next()?;
        let account = account.or_else(|| arn.split(':').nth(4))?;
        let named = self.aws_by_name.get(account)?.get(name)?;
        if role {
            named.role.clone()
        } else {
            named.user.clone()
        }
    }

    /// The identity that made the call: known, shadow, or outside the machine identities (a
    /// person, an AWS service). What the call changes in *another* identity is that
    /// identity's too, whoever made it: see [`Attributor::attribute_subject`].
    pub fn attribute(&self, event: &Event) -> Attribution {
        self.attribute_principal(&event.principal, &event.resources)
    }

    /// The identity an event changes ([`Event::subject`]), when it names one and that is an
    /// identity of the organisation (known or shadow) other than the caller's own.
    pub fn attribute_subject(&self, event: &Event) -> Option<Attribution> {
        let subject = event.subject.as_ref()?;
        let attribution = self.attribute_principal(subject, &event.resources);
        let key = attribution.usage_key()?;
        (self.attribute(event).usage_key().as_deref() != Some(key.as_str())).then_some(attribution)
    }

    fn attribute_principal(&self, p: &Principal, resources: &[String]) -> Attribution {
        let kind = p.kind.unwrap_or(PrincipalKind::Unknown);
        let name = p.name.as_deref().unwrap_or("");
        match kind {
            PrincipalKind::AwsService => Attribution::Outside(format!("aws-service:{name}")),
            PrincipalKind::AwsUser
            | PrincipalKind::AwsAssumedRole
            | PrincipalKind::AwsRoot
            | PrincipalKind::AwsFederated => {
                // Long-term keys identify their user even when the ARN is missing; session
                // keys (ASIA…) are not in any inventory, so the role ARN decides.
                if let Some(owner) = p
                    .credential
                    .as_ref()
                    .and_then(|c| self.by_credential.get(c))
                {
                    return Attribution::Known(owner.clone());
                }
                if let Some(arn) = &p.arn {
                    return match self.aws_arn(arn, p.account.as_deref()) {
                        Some(id) => Attribution::Known(id),
                        // IAM Identity Center creates these roles for people's permission
                        // sets: a person signed in, not a machine identity nobody listed.
                        None if is_identity_center_role(arn) => {
                            Attribution::Outside(format!("aws-sso:{arn}"))
                        }
                        None => Attribution::Shadow(arn.clone()),
                    };
                }
                match (&p.credential, &p.account) {
                    (Some(key), account) => Attribution::Shadow(format!(
                        "aws-key:{}/{key}",
                        account.as_deref().unwrap_or("")
                    )),
                    _ => Attribution::Outside(format!("aws:{name}")),
                }
            }
            PrincipalKind::KubernetesServiceAccount => match self.known(name) {
                Some(id) => Attribution::Known(id),
                None => Attribution::Shadow(name.to_string()),
            },
            PrincipalKind::KubernetesUser => Attribution::Outside(format!("k8s-user:{name}")),
            PrincipalKind::GitHubApp => {
                let org = p.account.as_deref().unwrap_or("");
                if name == "github-actions" {
                    let repo = resources.first().map(String::as_str);
                    for scope in repo.into_iter().chain([org]) {
                        if let Some(id) = self.known(&format!("github:{scope}/actions")) {
                            return Attribution::Known(id);
                        }
                    }
                    return Attribution::Shadow(format!("github:{org}/actions"));
                }
                let id = format!("github:{org}/app/{name}");
                match self.known(&id) {
                    Some(id) => Attribution::Known(id),
                    None => Attribution::Shadow(id),
                }
            }
            PrincipalKind::GitHubToken | PrincipalKind::GitHubUser => {
                let org = p.account.as_deref().unwrap_or("");
                if let Some(key) = p
                    .credential
                    .as_deref()
                    .and_then(|c| c.strip_prefix("deploy-key:"))
                {
                    if let Some(owner) = self.by_credential.get(&format!("github:deploy-key/{key}"))
                    {
                        return Attribution::Known(owner.clone());
                    }
                    let repo = resources.first().map_or(org, String::as_str);
                    let id = format!("github:{repo}/deploy-key/{key}");
                    return match self.known(&id) {
                        Some(id) => Attribution::Known(id),
                        None => Attribution::Shadow(id),
                    };
                }
                if let Some(token) = &p.credential {
                    for candidate in [
                        format!("github:pat/{token}"),
                        format!("github:credential/{token}"),
                    ] {
                        if let Some(owner) = self.by_credential.get(&candidate) {
                            return Attribution::Known(owner.clone());
                        }
                    }
                    for candidate in [
                        format!("github:{org}/pat/{token}"),
                        format!("github:{org}/credential/{token}"),
                    ] {
                        if let Some(id) = self.known(&candidate) {
                            return Attribution::Known(id);
                        }
                    }
                    return Attribution::Shadow(format!("github:{org}/token/{token}"));
                }
                Attribution::Outside(format!("github-user:{name}"))
            }
            PrincipalKind::Agent => {
                let by_name = self.agents.get(name).cloned();
                let by_id = p.credential.as_deref().and_then(|c| self.known(c));
                match by_name.or(by_id) {
                    Some(id) => Attribution::Known(id),
                    None => Attribution::Shadow(format!("agent:{name}")),
                }
            }
            PrincipalKind::OktaUser => Attribution::Outside(format!("okta-user:{name}")),
            PrincipalKind::OktaApp | PrincipalKind::OktaApiToken => {
                // Okta ids (`0oa…` apps, `00T…` tokens) are unique across orgs.
                let what = if kind == PrincipalKind::OktaApp {
                    "app"
                } else {
                    "api-token"
                };
                let handle = p.credential.as_deref().unwrap_or(name);
                let id = format!("okta:{what}/{handle}");
                match self
                    .by_credential
                    .get(&id)
                    .cloned()
                    .or_else(|| self.known(&id))
                {
                    Some(id) => Attribution::Known(id),
                    None => Attribution::Shadow(id),
                }
            }
            PrincipalKind::Unknown => match &p.arn {
                Some(arn) => match self.aws_arn(arn, p.account.as_deref()) {
                    Some(id) => Attribution::Known(id),
                    None => Attribution::Outside(arn.clone()),
                },
                None => Attribution::Outside(format!("unknown:{name}")),
            },
        }
    }
}

/// The usage an event adds for `identity` (an identity id or `shadow:KEY`): one record per
/// resource named (one without a resource when none is), each counting this one call.
pub fn usage_records(event: &Event, identity: &str) -> Vec<UsageRecord> {
    let errors = u64::from(event.outcome != Outcome::Success);
    let one = |resource: Option<String>| UsageRecord {
        identity: identity.to_string(),
        credential: event.principal.credential.clone(),
        action: event.action.clone(),
        resource,
        first_seen: event.time,
        last_seen: event.time,
        count: 1,
        errors,
    };
    if event.resources.is_empty() {
        vec![one(None)]
    } else {
        event
            .resources
            .iter()
            .map(|r| one(Some(r.clone())))
            .collect()
    }
}

/// Folds usage in memory so the store sees one row per (identity, credential, action,
/// resource) instead of one per event.
#[derive(Debug, Default, Clone)]
pub struct UsageAccumulator {
    rows: HashMap<(String, Option<String>, String, Option<String>), UsageRecord>,
}

impl UsageAccumulator {
    pub fn add(&mut self, event: &Event, identity: &str) {
        for record in usage_records(event, identity) {
            let key = (
                record.identity.clone(),
                record.credential.clone(),
                record.action.clone(),
                record.resource.clone(),
            );
            self.rows
                .entry(key)
                .and_modify(|r| {
                    r.first_seen = r.first_seen.min(record.first_seen);
                    r.last_seen = r.last_seen.max(record.last_seen);
                    r.count += record.count;
                    r.errors += record.errors;
                })
                .or_insert(record);
        }
    }

    /// Merges another accumulator (e.g. one per thread).
    pub fn merge(&mut self, other: UsageAccumulator) {
        for (key, record) in other.rows {
            self.rows
                .entry(key)
                .and_modify(|r| {
                    r.first_seen = r.first_seen.min(record.first_seen);
                    r.last_seen = r.last_seen.max(record.last_seen);
                    r.count += record.count;
                    r.errors += record.errors;
                })
                .or_insert(record);
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The folded records, sorted by key.
    pub fn into_records(self) -> Vec<UsageRecord> {
        let mut rows: Vec<_> = self.rows.into_iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.into_iter().map(|(_, r)| r).collect()
    }
}

/// A role IAM Identity Center manages for a permission set (`/aws-reserved/sso.amazonaws.com/`,
/// `AWSReservedSSO_…`): assumed by people signing in, never by workloads.
fn is_identity_center_role(arn: &str) -> bool {
    arn.contains(":role/aws-reserved/sso.amazonaws.com/")
        || arn
            .rsplit('/')
            .next()
            .is_some_and(|name| name.starts_with("AWSReservedSSO_"))
}
