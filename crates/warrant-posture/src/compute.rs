//! Compute resources that run as a role (`Resource::runs_as`), resolved to the role's identity:
//! the targets of existing-resource escalation techniques. Taking over a function, stack or
//! instance is a step to its role; with a listing of that kind of resource in an account, a
//! permission that names none of them is no path.

use std::collections::{HashMap, HashSet};

use warrant_core::{Identity, IdentityKind, Resource, inventory::InventoryIndex};

/// One resource and the identity it runs as.
pub(crate) struct RunsAs<'a> {
    pub resource: &'a Resource,
    pub role: &'a str,
}

/// Resources that run as a role, by kind; and which kinds each account has a listing of.
#[derive(Default)]
pub(crate) struct ComputeIndex<'a> {
    by_kind: HashMap<&'a str, Vec<RunsAs<'a>>>,
    /// (kind, account) pairs some imported listing covers.
    listed: HashSet<(&'a str, &'a str)>,
}

impl<'a> ComputeIndex<'a> {
    pub(crate) fn new(index: &InventoryIndex<'a>) -> ComputeIndex<'a> {
        let inventory = index.inventory;
        let roles = || {
            inventory
                .identities
                .iter()
                .filter(|i| i.kind == IdentityKind::AwsRole)
        };
        let mut by_name: HashMap<(&str, &str), &str> = HashMap::new();
        let mut names: HashMap<&str, Vec<&str>> = HashMap::new();
        let mut by_profile: HashMap<(&str, &str), &str> = HashMap::new();
        for role in roles() {
            let account = role.account.as_deref().unwrap_or("");
            by_name.insert((account, role.name.as_str()), role.id.as_str());
            names
                .entry(role.name.as_str())
                .or_default()
                .push(role.id.as_str());
            for profile in profiles(role) {
                by_profile.insert((account, profile), role.id.as_str());
            }
        }
        let resolve = |runs_as: &str, account: Option<&str>| -> Option<&'a str> {
            if let Some(identity) = index.identity_by_id.get(runs_as) {
                return Some(identity.id.as_str());
            }
            let arn_account = runs_as
                .strip_prefix("arn:aws:iam::")
                .and_then(|rest| rest.split(':').next());
            let account = arn_account.or(account);
            let last = runs_as.rsplit('/').next().unwrap_or(runs_as);
            if runs_as.contains(":instance-profile/") {
                return by_profile.get(&(account.unwrap_or(""), last)).copied();
            }
            // A role named without its path, or by name alone (Glue).
            match account {
                Some(account) => by_name.get(&(account, last)).copied(),
                None => match names.get(last).map(Vec::as_slice) {
                    Some([only]) => Some(*only),
                    _ => None,
                },
            }
        };
        let mut out = ComputeIndex::default();
        for r in &inventory.resources {
            if let Some(account) = r.account.as_deref() {
                out.listed.insert((r.kind.as_str(), account));
            }
            let Some(role) = r
                .runs_as
                .as_deref()
                .and_then(|runs_as| resolve(runs_as, r.account.as_deref()))
            else {
                continue;
            };
            out.by_kind
                .entry(r.kind.as_str())
                .or_default()
                .push(RunsAs { resource: r, role });
        }
        out
    }

    /// Whether an imported listing covers resources of `kind` in `account`.
    pub(crate) fn is_listed(&self, kind: &str, account: &str) -> bool {
        self.listed.contains(&(kind, account))
    }

    /// Resources of `kind` in `account` (or of no known account) that one of `patterns` names,
    /// with the role each runs as.
    pub(crate) fn reachable<'s>(
        &'s self,
        kind: &str,
        account: &'s str,
        patterns: &'s [String],
    ) -> impl Iterator<Item = &'s RunsAs<'a>> + 's {
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .filter(move |r| {
                r.resource.account.as_deref().is_none_or(|a| a == account)
                    && names_resource(patterns, &r.resource.id)
            })
    }
}

/// The resource kind each existing-resource technique takes over, by technique name (from
/// the catalogue's `resource_kind`).
pub(crate) fn resource_kinds() -> &'static HashMap<&'static str, &'static str> {
    static KINDS: std::sync::OnceLock<HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    KINDS.get_or_init(|| {
        warrant_aws_policy::analyze::techniques()
            .iter()
            .filter_map(|t| Some((t.name.as_str(), t.resource_kind.as_deref()?)))
            .collect()
    })
}

/// Instance profile names a role is in (the IAM export's `InstanceProfileList`).
fn profiles(role: &Identity) -> impl Iterator<Item = &str> {
    role.attributes
        .get("instance_profiles")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
}

/// Whether a policy's resource patterns name a resource id, which may itself hold `*` where
/// its listing left a part out (a Glue job's region).
fn names_resource(patterns: &[String], id: &str) -> bool {
    use warrant_aws_policy::catalog::glob_match_ci;
    patterns
        .iter()
        .any(|p| glob_match_ci(p, id) || (id.contains('*') && glob_match_ci(id, p)))
}
