//! The API's resource representations: a stable contract, mapped from the domain types (which
//! may change shape) and described to OpenAPI. No type here can carry a raw secret: credentials
//! and leaks appear as fingerprints and redacted previews, as the store keeps them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use warrant_app::query::{Basis, IdentityDetail, TrustChain};
use warrant_core::Finding;
use warrant_report::IdentityView;
use warrant_store::{SecretOccurrence, StoredFinding};

/// What an answer was computed from.
#[derive(Debug, Serialize, ToSchema)]
pub struct BasisDto {
    /// The instant the answer is about.
    pub as_of: DateTime<Utc>,
    /// `saved` (the last saved assessment, still current) or `evaluated` (computed afresh).
    pub source: String,
    /// One sentence for a person.
    pub description: String,
}

impl From<&Basis> for BasisDto {
    fn from(basis: &Basis) -> BasisDto {
        BasisDto {
            as_of: basis.as_of(),
            source: match basis {
                Basis::Saved { .. } => "saved",
                Basis::Evaluated { .. } => "evaluated",
            }
            .to_string(),
            description: basis.describe(),
        }
    }
}

/// One identity in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentitySummary {
    /// External id (ARN, `system:serviceaccount:NS:NAME`, …); percent-encode it in paths.
    pub id: String,
    pub kind: String,
    pub provider: String,
    pub name: String,
    pub account: Option<String>,
    pub environment: String,
    pub status: String,
    /// Owner references as written at the source.
    pub owners: Vec<String>,
    /// Overall risk, 0–100.
    pub risk: f64,
    pub blast_radius: f64,
    pub exposure: f64,
    pub admin_equivalent: bool,
    pub last_used: Option<DateTime<Utc>>,
    pub open_findings: u64,
}

impl From<IdentityView> for IdentitySummary {
    fn from(v: IdentityView) -> IdentitySummary {
        IdentitySummary {
            id: v.id,
            kind: v.kind.as_str().to_string(),
            provider: v.provider.as_str().to_string(),
            name: v.name,
            account: v.account,
            environment: v.environment.as_str().to_string(),
            status: v.status.as_str().to_string(),
            owners: v.owners,
            risk: round(v.risk),
            blast_radius: round(v.blast_radius),
            exposure: round(v.exposure),
            admin_equivalent: v.admin_equivalent,
            last_used: v.last_used,
            open_findings: u64::try_from(v.n_findings).unwrap_or(u64::MAX),
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A page of identities.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityPageDto {
    pub items: Vec<IdentitySummary>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
    /// Identities matching the filter, all pages together.
    pub matched: u64,
    pub basis: BasisDto,
}

/// A credential, as stored: never the secret, only its fingerprint and a redacted preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialDto {
    pub id: String,
    pub kind: String,
    /// Keyed fingerprint (`fp1:…`) of the secret, when one was seen.
    pub fingerprint: Option<String>,
    /// Redacted preview (`AKIA…MPLE`).
    pub preview: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub expires: Option<DateTime<Utc>>,
    pub active: bool,
}

/// A policy attached to the identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyDto {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// Through what it is attached (a group, a role binding), when not directly.
    pub via: Option<String>,
    pub statements: usize,
}

/// A trust edge: `from` can act as (or reach) `to`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustDto {
    pub from: String,
    pub from_kind: String,
    pub to: String,
    pub kind: String,
}

/// One principal on a who-can-become-whom chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainHopDto {
    /// An identity id, or an account id, federated provider, service principal or `*`.
    pub id: String,
    /// `identity`, `account`, `federated`, `service` or `anyone`.
    pub principal: String,
    /// Its identity kind, when the inventory holds it.
    pub kind: Option<String>,
    /// Its name, when the inventory holds it.
    pub name: Option<String>,
    /// Its risk, 0–100, when assessed.
    pub risk: Option<f64>,
    /// How the hop before it can become it (`assume_role`, …); null on the first hop.
    pub via: Option<String>,
}

/// Principals each able to become the next, in that order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustChainDto {
    pub hops: Vec<ChainHopDto>,
}

impl From<&TrustChain> for TrustChainDto {
    fn from(chain: &TrustChain) -> TrustChainDto {
        TrustChainDto {
            hops: chain
                .hops
                .iter()
                .map(|h| ChainHopDto {
                    id: h.id.clone(),
                    principal: h.principal.as_str().to_string(),
                    kind: h.kind.map(|k| k.as_str().to_string()),
                    name: h.name.clone(),
                    risk: h.risk.map(round),
                    via: h.via.map(|v| v.as_str().to_string()),
                })
                .collect(),
        }
    }
}

/// An owner reference with where the claim came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerDto {
    pub id: String,
    /// `tag:owner`, `annotation:team`, `directory`, …
    pub source: String,
}

/// One part of the risk score and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskComponentDto {
    /// `blast_radius` or `exposure`.
    pub factor: String,
    pub label: String,
    pub points: f64,
    pub explanation: String,
}

/// Risk with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskDto {
    pub score: f64,
    pub blast_radius: f64,
    pub exposure: f64,
    pub components: Vec<RiskComponentDto>,
}

/// A resource the identity can reach, and how far.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceAccessDto {
    pub resource: String,
    pub service: String,
    pub level: String,
}

/// What the identity is granted, summarised.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivilegeDto {
    pub admin_equivalent: bool,
    pub admin_evidence: Vec<String>,
    pub services: Vec<String>,
    pub resources: Vec<ResourceAccessDto>,
    /// Privilege-escalation paths found in its grants.
    pub escalations: usize,
}

/// Where a secret of this identity was found (never the secret itself).
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOccurrenceDto {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
    pub commit: Option<String>,
    pub line: u32,
    pub column: u32,
    pub author: Option<String>,
    pub date: Option<DateTime<Utc>>,
    pub identity: Option<String>,
    pub credential: Option<String>,
}

impl From<SecretOccurrence> for SecretOccurrenceDto {
    fn from(o: SecretOccurrence) -> SecretOccurrenceDto {
        SecretOccurrenceDto {
            fingerprint: o.fingerprint,
            rule: o.rule,
            path: o.path,
            commit: o.commit,
            line: o.line,
            column: o.column,
            author: o.author,
            date: o.date,
            identity: o.identity,
            credential: o.credential,
        }
    }
}

/// A page of leak locations.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretPageDto {
    pub items: Vec<SecretOccurrenceDto>,
    pub next: Option<String>,
    pub total: u64,
}

/// Observed use in the window the detail reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDto {
    pub action: String,
    pub resource: Option<String>,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// A finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDto {
    /// Stable across runs for the same problem on the same identity.
    pub id: String,
    pub rule: String,
    pub title: String,
    pub severity: String,
    /// The primary OWASP NHI risk (`NHI1` … `NHI10`).
    pub owasp: String,
    pub related: Vec<String>,
    pub identity: String,
    pub evidence: Vec<String>,
    pub remediation: String,
    /// `posture`, `secrets` or `activity`.
    pub source: String,
    /// MITRE ATT&CK technique ids.
    pub attack: Vec<String>,
    /// `open`, `resolved` or `accepted` (for stored findings).
    pub status: Option<String>,
    /// Why it was accepted.
    pub note: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
}

impl From<Finding> for FindingDto {
    fn from(f: Finding) -> FindingDto {
        FindingDto {
            id: f.id,
            rule: f.rule.as_str().to_string(),
            title: f.title,
            severity: f.severity.as_str().to_string(),
            owasp: f.owasp.code().to_string(),
            related: f.related.iter().map(|o| o.code().to_string()).collect(),
            identity: f.identity,
            evidence: f.evidence,
            remediation: f.remediation,
            source: f.source.as_str().to_string(),
            attack: f.attack.iter().map(ToString::to_string).collect(),
            status: None,
            note: None,
            first_seen: None,
            last_seen: None,
        }
    }
}

impl From<StoredFinding> for FindingDto {
    fn from(s: StoredFinding) -> FindingDto {
        FindingDto {
            status: Some(s.status.as_str().to_string()),
            note: s.note,
            first_seen: Some(s.first_seen),
            last_seen: Some(s.last_seen),
            ..FindingDto::from(s.finding)
        }
    }
}

/// A page of findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingPageDto {
    pub items: Vec<FindingDto>,
    pub next: Option<String>,
    pub matched: u64,
    pub basis: BasisDto,
}

/// A page of activity alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPageDto {
    pub items: Vec<FindingDto>,
    /// Pass as `after` for the next page; null on the last one.
    pub next: Option<String>,
    /// Alerts matching the filters, on every page.
    pub matched: u64,
}

/// Everything known about one identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityDetailDto {
    pub identity: IdentitySummary,
    pub purpose: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub owners: Vec<OwnerDto>,
    pub credentials: Vec<CredentialDto>,
    pub policies: Vec<PolicyDto>,
    /// Who can become (or reach) this identity.
    pub trust_in: Vec<TrustDto>,
    /// Whom this identity can become (or reach).
    pub trust_out: Vec<TrustDto>,
    /// Who can become this identity, transitively: chains ending at it, shortest first, each
    /// principal on one of its shortest chains (at most 4 hops and 30 principals).
    pub chains_in: Vec<TrustChainDto>,
    /// Whom this identity can become, transitively: chains starting at it (bounded likewise).
    pub chains_out: Vec<TrustChainDto>,
    /// Whether the bounds left principals off the chains.
    pub chains_truncated: bool,
    pub risk: RiskDto,
    pub privilege: PrivilegeDto,
    pub findings: Vec<FindingDto>,
    pub leaks: Vec<SecretOccurrenceDto>,
    pub usage: Vec<UsageDto>,
    pub usage_since: DateTime<Utc>,
    pub basis: BasisDto,
}

impl From<IdentityDetail> for IdentityDetailDto {
    fn from(d: IdentityDetail) -> IdentityDetailDto {
        let inventory = &d.neighbourhood;
        let me = inventory.identities.iter().find(|i| i.id == d.id);
        let a = &d.assessment;
        let summary = IdentitySummary {
            id: a.id.clone(),
            kind: a.kind.as_str().to_string(),
            provider: a.provider.as_str().to_string(),
            name: a.name.clone(),
            account: a.account.clone(),
            environment: a.environment.as_str().to_string(),
            status: a.status.as_str().to_string(),
            owners: a.owners.clone(),
            risk: round(a.risk.score),
            blast_radius: round(a.risk.blast_radius),
            exposure: round(a.risk.exposure),
            admin_equivalent: d.privilege.admin_equivalent,
            last_used: me.and_then(|i| i.last_used),
            open_findings: u64::try_from(d.findings.len()).unwrap_or(u64::MAX),
        };
        let policies = inventory
            .attachments
            .iter()
            .filter(|at| at.identity == d.id)
            .filter_map(|at| {
                inventory
                    .policies
                    .iter()
                    .find(|p| p.id == at.policy)
                    .map(|p| PolicyDto {
                        id: p.id.clone(),
                        name: p.name.clone(),
                        kind: p.kind.as_str().to_string(),
                        via: at.via.clone(),
                        statements: p.statements.len(),
                    })
            })
            .collect();
        let trust = |e: &warrant_core::TrustEdge| TrustDto {
            from: e.from.clone(),
            from_kind: e.from_kind.as_str().to_string(),
            to: e.to.clone(),
            kind: e.kind.as_str().to_string(),
        };
        IdentityDetailDto {
            identity: summary,
            purpose: me.and_then(|i| i.purpose.clone()),
            created: me.and_then(|i| i.created),
            first_seen: d.stored.as_ref().map(|s| s.first_seen),
            last_seen: d.stored.as_ref().map(|s| s.last_seen),
            owners: me
                .map(|i| {
                    i.owners
                        .iter()
                        .map(|o| OwnerDto {
                            id: o.id.clone(),
                            source: o.source.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            credentials: inventory
                .credentials
                .iter()
                .filter(|c| c.identity == d.id)
                .map(|c| CredentialDto {
                    id: c.id.clone(),
                    kind: c.kind.as_str().to_string(),
                    fingerprint: c.fingerprint.clone(),
                    preview: c.preview.clone(),
                    created: c.created,
                    last_rotated: c.last_rotated,
                    last_used: c.last_used,
                    expires: c.expires,
                    active: c.active,
                })
                .collect(),
            policies,
            trust_in: inventory
                .trust_edges
                .iter()
                .filter(|e| e.to == d.id)
                .map(trust)
                .collect(),
            trust_out: inventory
                .trust_edges
                .iter()
                .filter(|e| e.from == d.id)
                .map(trust)
                .collect(),
            chains_in: d.chains.inward.iter().map(TrustChainDto::from).collect(),
            chains_out: d.chains.outward.iter().map(TrustChainDto::from).collect(),
            chains_truncated: d.chains.truncated,
            risk: RiskDto {
                score: round(a.risk.score),
                blast_radius: round(a.risk.blast_radius),
                exposure: round(a.risk.exposure),
                components: a
                    .risk
                    .components
                    .iter()
                    .map(|c| RiskComponentDto {
                        factor: c.factor.clone(),
                        label: c.label.clone(),
                        points: round(c.points),
                        explanation: c.explanation.clone(),
                    })
                    .collect(),
            },
            privilege: PrivilegeDto {
                admin_equivalent: d.privilege.admin_equivalent,
                admin_evidence: d.privilege.admin_evidence.clone(),
                services: d.privilege.services.iter().cloned().collect(),
                resources: d
                    .privilege
                    .resource_access
                    .iter()
                    .map(|r| ResourceAccessDto {
                        resource: r.resource.clone(),
                        service: r.service.clone(),
                        level: r.level.as_str().to_string(),
                    })
                    .collect(),
                escalations: d.privilege.escalations.len(),
            },
            findings: d.findings.into_iter().map(FindingDto::from).collect(),
            leaks: d.leaks.into_iter().map(SecretOccurrenceDto::from).collect(),
            usage: d
                .usage
                .into_iter()
                .map(|u| UsageDto {
                    action: u.action,
                    resource: u.resource,
                    count: u.count,
                    first_seen: u.first_seen,
                    last_seen: u.last_seen,
                })
                .collect(),
            usage_since: d.usage_since,
            basis: BasisDto::from(&d.basis),
        }
    }
}
