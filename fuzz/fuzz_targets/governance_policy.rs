#![no_main]
//! Fuzz target: any text is a governance policy or an error naming the file and a place, never
//! a panic; a policy read gives a tier (or the defaults) for any identity.

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use warrant_core::{Environment, IdentityKind, Provider};
use warrant_lifecycle::GovernancePolicy;
use warrant_lifecycle::policy::IdentityFacts;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match GovernancePolicy::from_toml(text, "fuzz.toml") {
        Ok(policy) => {
            let tags = BTreeMap::from([("tier".to_string(), "prod".to_string())]);
            let facts = IdentityFacts {
                tags: &tags,
                environment: Environment::Production,
                provider: Provider::Aws,
                kind: IdentityKind::AwsRole,
                blast_radius: 80.0,
            };
            let (_, thresholds) = policy.tier_for(&facts);
            assert!(thresholds.delete_after_inactive_days >= thresholds.disable_after_inactive_days);
        }
        Err(e) => assert_eq!(e.origin, "fuzz.toml"),
    }
});
