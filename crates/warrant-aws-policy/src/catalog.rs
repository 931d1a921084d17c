//! The AWS action catalogue: every IAM action with its access level, from AWS's Service
//! Authorization Reference (see `data/NOTICE`), and action sets as bitsets over it.
//!
//! Bitsets make wildcard expansion, `NotAction`, `Deny` and boundary intersection cheap word-wise
//! operations, which matters when 100k identities share a few thousand policies.

use std::collections::HashMap;
use std::sync::OnceLock;

use warrant_core::AccessLevel;

const CATALOG_TEXT: &str = include_str!("../data/aws-actions.txt");

/// Every catalogued action, grouped by service prefix.
#[derive(Debug)]
pub struct ActionCatalog {
    /// `service:Action` in AWS's spelling, grouped by service.
    names: Vec<String>,
    levels: Vec<AccessLevel>,
    /// Service index of each action.
    service_of: Vec<u16>,
    /// Lower-cased prefix and the range of its actions, indexed by `service_of`.
    services: Vec<(String, std::ops::Range<usize>)>,
    service_by_prefix: HashMap<String, usize>,
    by_lower_name: HashMap<String, usize>,
    /// Lower-cased action part of each name, for wildcard matching without allocation.
    lower_actions: Vec<String>,
    level_masks: Vec<(AccessLevel, ActionSet)>,
}

static CATALOG: OnceLock<ActionCatalog> = OnceLock::new();

/// The compiled-in catalogue (parsed once).
pub fn catalog() -> &'static ActionCatalog {
    CATALOG.get_or_init(|| ActionCatalog::parse(CATALOG_TEXT))
}

impl ActionCatalog {
    fn parse(text: &str) -> ActionCatalog {
        let mut names = Vec::new();
        let mut levels = Vec::new();
        let mut service_of = Vec::new();
        let mut services = Vec::new();
        for line in text.lines() {
            let mut fields = line.split(' ');
            let Some(prefix) = fields.next() else {
                continue;
            };
            let start = names.len();
            let service_index = services.len() as u16;
            for item in fields {
                let Some((action, code)) = item.split_once('=') else {
                    continue;
                };
                let level = match code {
                    "L" => AccessLevel::List,
                    "R" => AccessLevel::Read,
                    "W" => AccessLevel::Write,
                    "T" => AccessLevel::Tagging,
                    _ => AccessLevel::PermissionsManagement,
                };
                names.push(format!("{prefix}:{action}"));
                levels.push(level);
                service_of.push(service_index);
            }
            services.push((prefix.to_ascii_lowercase(), start..names.len()));
        }
        let service_by_prefix = services
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.clone(), i))
            .collect();
        let lower_actions = names
            .iter()
            .map(|n| {
                n.split_once(':')
                    .map(|(_, a)| a)
                    .unwrap_or(n)
                    .to_ascii_lowercase()
            })
            .collect();
        let by_lower_name = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_ascii_lowercase(), i))
            .collect();
        let mut catalog = ActionCatalog {
            names,
            levels,
            service_of,
            services,
            service_by_prefix,
            by_lower_name,
            lower_actions,
            level_masks: Vec::new(),
        };
        catalog.level_masks = AccessLevel::ALL
            .iter()
            .map(|level| {
                let mut set = catalog.empty_set();
                for (i, l) in catalog.levels.iter().enumerate() {
                    if l == level {
                        set.insert(i);
                    }
                }
                (*level, set)
            })
            .collect();
        catalog
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn n_services(&self) -> usize {
        self.services.len()
    }

    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map(String::as_str).unwrap_or("")
    }

    pub fn level(&self, index: usize) -> Option<AccessLevel> {
        self.levels.get(index).copied()
    }

    /// The service prefix of an action index, e.g. `s3`.
    pub fn service(&self, index: usize) -> &str {
        self.service_of
            .get(index)
            .and_then(|s| self.services.get(usize::from(*s)))
            .map(|(prefix, _)| prefix.as_str())
            .unwrap_or("")
    }

    /// Exact, case-insensitive look-up of `service:Action`.
    pub fn index_of(&self, action: &str) -> Option<usize> {
        self.by_lower_name
            .get(&action.to_ascii_lowercase())
            .copied()
    }

    /// Access level of one action: from the catalogue, else inferred from its verb.
    /// Returns `(level, catalogued)`.
    pub fn access_level(&self, action: &str) -> (AccessLevel, bool) {
        match self.index_of(action).and_then(|i| self.level(i)) {
            Some(level) => (level, true),
            None => (infer_level(action), false),
        }
    }

    pub fn empty_set(&self) -> ActionSet {
        ActionSet::with_len(self.len())
    }

    pub fn full_set(&self) -> ActionSet {
        let mut set = self.empty_set();
        set.fill();
        set
    }

    /// Actions of one access level.
    pub fn level_mask(&self, level: AccessLevel) -> Option<&ActionSet> {
        self.level_masks
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, s)| s)
    }

    /// Expands an action pattern (`*`, `s3:*`, `s3:Get*`, `ec2:Describe?nstances`, case-insensitive)
    /// into `set`. Returns false when the pattern matches nothing in the catalogue.
    pub fn expand_into(&self, pattern: &str, set: &mut ActionSet) -> bool {
        let pattern = pattern.trim().to_ascii_lowercase();
        if pattern == "*" || pattern == "*:*" {
            set.fill();
            return !self.is_empty();
        }
        let Some((service_pattern, action_pattern)) = pattern.split_once(':') else {
            return false;
        };
        // Most patterns name one action: a map lookup instead of a glob over the service.
        if !pattern.contains(['*', '?']) {
            return match self.by_lower_name.get(pattern.as_str()) {
                Some(&i) => {
                    set.insert(i);
                    true
                }
                None => false,
            };
        }
        let mut matched = false;
        let mut expand_service = |range: &std::ops::Range<usize>| {
            if action_pattern == "*" {
                for i in range.clone() {
                    set.insert(i);
                }
                matched |= !range.is_empty();
                return;
            }
            for i in range.clone() {
                let action = self.lower_actions.get(i).map(String::as_str).unwrap_or("");
                if glob_match_lower(action_pattern.as_bytes(), action.as_bytes()) {
                    set.insert(i);
                    matched = true;
                }
            }
        };
        if service_pattern.contains(['*', '?']) {
            for (prefix, range) in &self.services {
                if glob_match_lower(service_pattern.as_bytes(), prefix.as_bytes()) {
                    expand_service(range);
                }
            }
        } else if let Some((_, range)) = self
            .service_by_prefix
            .get(service_pattern)
            .and_then(|at| self.services.get(*at))
        {
            expand_service(&range.clone());
        }
        matched
    }
}

/// Access level of an action missing from the catalogue, guessed from its verb so every action
/// gets a level; callers record such actions as unclassified.
pub fn infer_level(action: &str) -> AccessLevel {
    let verb = action.split_once(':').map(|(_, a)| a).unwrap_or(action);
    let starts = |p: &str| verb.len() >= p.len() && verb[..p.len()].eq_ignore_ascii_case(p);
    let lower = verb.to_ascii_lowercase();
    if starts("Tag") || starts("Untag") {
        AccessLevel::Tagging
    } else if lower.contains("policy")
        && (starts("Put")
            || starts("Attach")
            || starts("Detach")
            || starts("Delete")
            || starts("Set")
            || starts("Update")
            || starts("Create"))
        || lower.ends_with("permission")
        || lower.ends_with("permissions")
    {
        AccessLevel::PermissionsManagement
    } else if starts("List") {
        AccessLevel::List
    } else if starts("Get")
        || starts("Describe")
        || starts("Read")
        || starts("Search")
        || starts("View")
        || starts("Query")
        || starts("Head")
        || starts("Check")
        || starts("Lookup")
    {
        AccessLevel::Read
    } else {
        AccessLevel::Write
    }
}

/// Case-insensitive glob with `*` (any run) and `?` (one character); `pattern` is lower case.
pub fn glob_match_ci(pattern: &str, text: &str) -> bool {
    glob_match_lower(
        pattern.to_ascii_lowercase().as_bytes(),
        text.to_ascii_lowercase().as_bytes(),
    )
}

/// Glob over bytes that are both already lower case (IAM names are ASCII).
fn glob_match_lower(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == b'?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

/// A set of catalogued actions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionSet {
    words: Vec<u64>,
    len: usize,
}

impl ActionSet {
    pub fn with_len(len: usize) -> ActionSet {
        ActionSet {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub fn insert(&mut self, index: usize) {
        if index < self.len
            && let Some(word) = self.words.get_mut(index / 64)
        {
            *word |= 1 << (index % 64);
        }
    }

    pub fn contains(&self, index: usize) -> bool {
        index < self.len
            && self
                .words
                .get(index / 64)
                .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    pub fn fill(&mut self) {
        for word in &mut self.words {
            *word = u64::MAX;
        }
        let tail = self.len % 64;
        if tail != 0
            && let Some(last) = self.words.last_mut()
        {
            *last = (1u64 << tail) - 1;
        }
    }

    pub fn union_with(&mut self, other: &ActionSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }

    pub fn subtract(&mut self, other: &ActionSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }

    pub fn intersect_with(&mut self, other: &ActionSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= b;
        }
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn count_and(&self, other: &ActionSet) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// Whether the two sets share an action.
    pub fn intersects(&self, other: &ActionSet) -> bool {
        self.words.iter().zip(&other.words).any(|(a, b)| a & b != 0)
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(wi * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_knows_common_actions_and_levels() {
        let c = catalog();
        assert!(c.len() > 15_000, "{} actions", c.len());
        assert_eq!(c.access_level("s3:GetObject"), (AccessLevel::Read, true));
        assert_eq!(c.access_level("S3:getobject"), (AccessLevel::Read, true));
        assert_eq!(
            c.access_level("iam:AttachUserPolicy"),
            (AccessLevel::PermissionsManagement, true)
        );
        assert_eq!(
            c.access_level("s3:ListAllMyBuckets"),
            (AccessLevel::List, true)
        );
        assert_eq!(c.access_level("ec2:CreateTags").0, AccessLevel::Tagging);
    }

    #[test]
    fn wildcards_expand_within_and_across_services() {
        let c = catalog();
        let mut set = c.empty_set();
        assert!(c.expand_into("s3:Get*", &mut set));
        assert!(set.contains(c.index_of("s3:GetObject").unwrap()));
        assert!(!set.contains(c.index_of("s3:PutObject").unwrap()));
        let mut all = c.empty_set();
        c.expand_into("*", &mut all);
        assert_eq!(all.count(), c.len());
        let mut none = c.empty_set();
        assert!(!c.expand_into("nosuchservice:*", &mut none));
        assert!(none.is_empty());
    }

    #[test]
    fn inferred_levels_follow_the_verb() {
        assert_eq!(infer_level("foo:GetThing"), AccessLevel::Read);
        assert_eq!(infer_level("foo:ListThings"), AccessLevel::List);
        assert_eq!(
            infer_level("foo:PutBucketPolicy"),
            AccessLevel::PermissionsManagement
        );
        assert_eq!(infer_level("foo:TagThing"), AccessLevel::Tagging);
        assert_eq!(infer_level("foo:RebootThing"), AccessLevel::Write);
    }

    #[test]
    fn glob_matching() {
        assert!(glob_match_ci("get*", "GetObject"));
        assert!(glob_match_ci("*object", "GetObject"));
        assert!(glob_match_ci("g?tobject", "GetObject"));
        assert!(!glob_match_ci("put*", "GetObject"));
        assert!(glob_match_ci("*", ""));
        assert!(glob_match_ci("a*b*c", "aXXbYYc"));
        assert!(!glob_match_ci("a*b*c", "aXXbYY"));
    }
}
