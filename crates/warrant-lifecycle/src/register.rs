//! Ownership and registration: who answers for an identity (and on whose word), and which
//! identities the organisation meant to have.
//!
//! Owners come from several places, trusted in this order: a person's explicit assignment
//! (`warrant owner set`), then what the provider records (tags, labels, annotations), then who
//! created the identity or its key (from activity logs). Each owner keeps where it came from.
//!
//! A registration records an identity someone intends to run — name, kind, owner, purpose,
//! environment, expiry — and needs a second person's approval. Discovered identities that match
//! an approved registration are sanctioned; the others are shadow identities. A shadow identity
//! with a large blast radius is proposed for suspension pending review; a registered one past
//! its expiry, for decommissioning.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warrant_core::{Environment, Identity, IdentityKind, OwnerRef, Timestamp};

use crate::plan::Action;

/// Where an owner came from, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSource {
    /// A person said so (`warrant owner set`).
    Explicit,
    /// The provider records it: a tag, label or annotation.
    Provider,
    /// The person who created the identity or its key (activity logs).
    Creator,
    /// CODEOWNERS of the repository that uses it.
    Codeowners,
}

impl OwnerSource {
    /// How a connector's `OwnerRef::source` (`tag:owner`, `label:team`, …) ranks.
    pub fn of(source: &str) -> OwnerSource {
        let kind = source.split(':').next().unwrap_or(source);
        match kind {
            "explicit" => OwnerSource::Explicit,
            "creator" | "cloudtrail" => OwnerSource::Creator,
            "codeowners" => OwnerSource::Codeowners,
            _ => OwnerSource::Provider,
        }
    }
}

/// One explicit assignment, as the history keeps it. An empty `owner` withdraws the explicit
/// assignment (what the provider records applies again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub identity: String,
    pub owner: String,
    pub assigned_by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why an assignment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnershipError {
    #[error("`{0}` is not an email address: an owner is a person who answers for the identity")]
    NotAPerson(String),
    #[error("the person making the change is not named (--as EMAIL or WARRANT_USER)")]
    NoActor,
}

impl Assignment {
    pub fn validate(&self) -> Result<(), OwnershipError> {
        if !self.assigned_by.contains('@') {
            return Err(OwnershipError::NoActor);
        }
        if !self.owner.is_empty() && !self.owner.contains('@') {
            return Err(OwnershipError::NotAPerson(self.owner.clone()));
        }
        Ok(())
    }
}

/// The owners in force: the latest explicit assignment (if not withdrawn) first, then the
/// discovered ones by trust, each once, each with its source.
pub fn effective_owners(latest: Option<&Assignment>, discovered: &[OwnerRef]) -> Vec<OwnerRef> {
    let mut out: Vec<OwnerRef> = Vec::new();
    if let Some(a) = latest.filter(|a| !a.owner.is_empty()) {
        out.push(OwnerRef {
            id: a.owner.clone(),
            source: format!("explicit:{}", a.assigned_by),
        });
    }
    let mut rest: Vec<&OwnerRef> = discovered.iter().collect();
    rest.sort_by_key(|o| OwnerSource::of(&o.source));
    for o in rest {
        if !out.iter().any(|x| x.id.eq_ignore_ascii_case(&o.id)) {
            out.push(o.clone());
        }
    }
    out
}

/// An identity someone intends to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    /// The identity's name at its provider (user, role, service account, app).
    pub name: String,
    pub kind: IdentityKind,
    /// The account, cluster or organisation it lives in, when it matters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub owner: String,
    pub purpose: String,
    /// What it may reach, in words or a policy name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
}

/// A registration request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// `reg-` and 16 hex digits of the SHA-256 of the request and when it was made.
    pub id: String,
    #[serde(flatten)]
    pub request: NewRegistration,
    pub requested_by: String,
    pub created: Timestamp,
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("a registration needs a name")]
    NoName,
    #[error("a registration needs a purpose: what the identity is for")]
    NoPurpose,
    #[error(
        "the owner `{0}` is not an email address: a registration needs a person who answers for it"
    )]
    BadOwner(String),
    #[error("the person registering it is not named (--as EMAIL or WARRANT_USER)")]
    NoRequester,
    #[error("it expires on {0}, which is not after now")]
    AlreadyExpired(String),
}

impl NewRegistration {
    pub fn submit(self, by: &str, now: Timestamp) -> Result<Registration, RegistrationError> {
        if self.name.trim().is_empty() {
            return Err(RegistrationError::NoName);
        }
        if self.purpose.trim().is_empty() {
            return Err(RegistrationError::NoPurpose);
        }
        if !self.owner.contains('@') {
            return Err(RegistrationError::BadOwner(self.owner));
        }
        if !by.contains('@') {
            return Err(RegistrationError::NoRequester);
        }
        if let Some(expires) = self.expires
            && expires <= now
        {
            return Err(RegistrationError::AlreadyExpired(
                expires.format("%Y-%m-%d").to_string(),
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(serde_json::to_vec(&self).unwrap_or_default());
        hasher.update(now.to_rfc3339().as_bytes());
        let id = format!("reg-{}", &hex::encode(hasher.finalize())[..16]);
        Ok(Registration {
            id,
            request: self,
            requested_by: by.to_string(),
            created: now,
        })
    }
}

impl Registration {
    /// Whether a discovered identity is the one registered: same kind and name (names compare
    /// without case), and the same account when the registration names one.
    pub fn matches(&self, identity: &Identity) -> bool {
        self.matches_parts(identity.kind, &identity.name, identity.account.as_deref())
    }

    /// [`Registration::matches`] on the parts it compares (for listings that hold a summary
    /// rather than the identity).
    pub fn matches_parts(&self, kind: IdentityKind, name: &str, account: Option<&str>) -> bool {
        let r = &self.request;
        kind == r.kind
            && name.eq_ignore_ascii_case(&r.name)
            && r.account.as_deref().is_none_or(|a| account == Some(a))
    }
}

/// Whether the organisation meant to have an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "registration")]
pub enum Sanction {
    /// It matches an approved registration (its id).
    Sanctioned { id: String },
    /// Nobody registered it.
    Shadow,
}

impl fmt::Display for Sanction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sanction::Sanctioned { id } => write!(f, "sanctioned ({id})"),
            Sanction::Shadow => f.write_str("shadow"),
        }
    }
}

/// The approved registration an identity matches, if any.
pub fn sanction<'r>(
    identity: &Identity,
    approved: &'r [Registration],
) -> (Sanction, Option<&'r Registration>) {
    match approved.iter().find(|r| r.matches(identity)) {
        Some(r) => (Sanction::Sanctioned { id: r.id.clone() }, Some(r)),
        None => (Sanction::Shadow, None),
    }
}

/// Blast radius from which a shadow identity is suspended pending review rather than listed
/// for registration (the policy's "high" criticality).
pub const SUSPEND_SHADOW_AT: f64 = 50.0;

/// What registration asks for an identity now: a shadow identity with a large blast radius is
/// suspended (quarantined) pending review; a registered one past its expiry is decommissioned.
/// `None`: nothing, or only listing it for registration (a low-privilege shadow).
pub fn registration_action(
    sanction: &Sanction,
    registration: Option<&Registration>,
    blast_radius: f64,
    now: Timestamp,
) -> Option<(Action, String)> {
    match sanction {
        Sanction::Shadow if blast_radius >= SUSPEND_SHADOW_AT => Some((
            Action::Quarantine,
            format!(
                "shadow identity (nobody registered it) with blast radius {blast_radius:.0}: suspended pending review"
            ),
        )),
        Sanction::Sanctioned { id } => registration
            .and_then(|r| r.request.expires)
            .filter(|expires| *expires <= now)
            .map(|expires| {
                (
                    Action::Decommission,
                    format!(
                        "registration {id} expired on {}",
                        expires.format("%Y-%m-%d")
                    ),
                )
            }),
        Sanction::Shadow => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use warrant_core::Provider;

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn request(name: &str) -> NewRegistration {
        NewRegistration {
            name: name.into(),
            kind: IdentityKind::AwsUser,
            account: Some("111111111111".into()),
            owner: "dana@acme.example".into(),
            purpose: "nightly export".into(),
            scope: None,
            environment: Environment::Production,
            expires: Some(now() + Duration::days(90)),
        }
    }

    fn user(name: &str, account: &str) -> Identity {
        let mut i = Identity::new(
            format!("arn:aws:iam::{account}:user/{name}"),
            IdentityKind::AwsUser,
            Provider::Aws,
            name,
        );
        i.account = Some(account.into());
        i
    }

    #[test]
    fn explicit_owners_come_first_and_keep_their_source() {
        let discovered = vec![
            OwnerRef {
                id: "creator@acme.example".into(),
                source: "creator:CreateUser".into(),
            },
            OwnerRef {
                id: "team@acme.example".into(),
                source: "tag:owner".into(),
            },
        ];
        let set = Assignment {
            identity: "x".into(),
            owner: "dana@acme.example".into(),
            assigned_by: "bob@acme.example".into(),
            at: now(),
            reason: None,
        };
        let owners = effective_owners(Some(&set), &discovered);
        let ids: Vec<&str> = owners.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "dana@acme.example",
                "team@acme.example",
                "creator@acme.example"
            ]
        );
        assert_eq!(owners[0].source, "explicit:bob@acme.example");
        let withdrawn = Assignment {
            owner: String::new(),
            ..set
        };
        assert_eq!(effective_owners(Some(&withdrawn), &discovered).len(), 2);
        assert!(
            Assignment {
                owner: "devops".into(),
                ..withdrawn.clone()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn registrations_sanction_what_matches_and_expire() {
        let reg = request("svc-export")
            .submit("bob@acme.example", now())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(reg.id.starts_with("reg-"));
        let approved = vec![reg.clone()];
        let (s, r) = sanction(&user("SVC-EXPORT", "111111111111"), &approved);
        assert_eq!(s, Sanction::Sanctioned { id: reg.id.clone() });
        assert_eq!(
            sanction(&user("svc-export", "222222222222"), &approved).0,
            Sanction::Shadow
        );
        assert_eq!(registration_action(&s, r, 90.0, now()), None);
        let later = now() + Duration::days(91);
        assert!(matches!(
            registration_action(&s, r, 0.0, later),
            Some((Action::Decommission, _))
        ));
        assert!(matches!(
            registration_action(&Sanction::Shadow, None, 80.0, now()),
            Some((Action::Quarantine, _))
        ));
        assert_eq!(
            registration_action(&Sanction::Shadow, None, 10.0, now()),
            None
        );
        assert!(matches!(
            NewRegistration {
                purpose: " ".into(),
                ..request("x")
            }
            .submit("bob@acme.example", now()),
            Err(RegistrationError::NoPurpose)
        ));
    }
}
