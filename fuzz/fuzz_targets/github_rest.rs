#![no_main]
//! Fuzz target: arbitrary bytes must give a result or a located error, never a panic.

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fn ctx() -> warrant_connectors::ImportContext {
    warrant_connectors::ImportContext::new(warrant_core::Fingerprinter::new(b"fuzz"))
}

fuzz_target!(|data: &[u8]| {
    for name in ["orgs_o_installations.json", "orgs_o_personal-access-tokens.json", "orgs_o_credential-authorizations.json", "repos_o_r_keys.json", "orgs_o_actions_secrets.json", "orgs_o_hooks.json"] {
        let _ = warrant_connectors::github::parse(Path::new(name), data, &ctx());
    }
});
