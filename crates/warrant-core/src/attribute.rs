//! The attribute keys one crate writes and another reads.
//!
//! [`Attributes`] holds provider facts as JSON under string keys. Where a connector records a
//! fact that posture, activity or scan decides on, the key is named here once, so a writer and
//! its readers cannot drift apart by a typo. Keys only their own connector reads stay local to it.
//!
//! The keys stay strings (not typed fields on [`crate::Identity`] or [`crate::Credential`])
//! because stores and reports already hold them under these names; the values are stable.

use crate::Attributes;

/// Identity flag: AWS created and manages this role itself (a service-linked role).
pub const SERVICE_LINKED: &str = "service_linked";
/// Identity flag: the AWS account root user.
pub const ROOT: &str = "root";
/// Identity string: ARN of the managed policy set as an IAM permissions boundary.
pub const PERMISSIONS_BOUNDARY: &str = "permissions_boundary";
/// Identity flag: a Kubernetes namespace's `default` service account.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default_service_account";
/// Identity flag: a GitHub App installed from outside the organisation.
pub const THIRD_PARTY: &str = "third_party";
/// Identity string: the package an MCP server runs (`@modelcontextprotocol/server-github`).
pub const PACKAGE: &str = "package";
/// Identity array of names: the tools an agent or MCP server declares it may call.
pub const TOOLS: &str = "tools";
/// Identity array of names: an allow-list of tools, read like [`TOOLS`].
pub const ALLOWED_TOOLS: &str = "allowed_tools";

/// Credential flag: a classic (not fine-grained) GitHub personal access token.
pub const CLASSIC: &str = "classic";
/// Credential value: the scopes a token was granted, as the provider lists them.
pub const SCOPES: &str = "scopes";
/// Credential string: the keyed fingerprint of the last eight characters of a GitHub token
/// ([`crate::fingerprint::github_token_last_eight_fingerprint`]), never the characters
/// themselves: what links a token found in code to the credential authorization GitHub lists.
pub const TOKEN_LAST_EIGHT_FINGERPRINT: &str = "token_last_eight_fingerprint";
/// Credential flag: a legacy, never-expiring Kubernetes service-account token secret.
pub const LEGACY: &str = "legacy";
/// Credential flag: the secret is written in plain text in a config file.
pub const PLAINTEXT: &str = "plaintext";
/// Credential string: the config or environment key a secret sits under (`GITHUB_TOKEN`).
pub const CONFIG_KEY: &str = "key";
/// Credential string: the AWS region a key was last used in.
pub const LAST_USED_REGION: &str = "last_used_region";
/// Credential string: the AWS service a key was last used with.
pub const LAST_USED_SERVICE: &str = "last_used_service";

/// Typed reads of [`Attributes`], so every reader treats a missing or mistyped value alike.
pub trait AttributesExt {
    /// Whether `key` holds `true`; a missing or non-boolean value is `false`.
    fn flag(&self, key: &str) -> bool;
    /// The string under `key`, when it is one.
    fn text(&self, key: &str) -> Option<&str>;
}

impl AttributesExt for Attributes {
    fn flag(&self, key: &str) -> bool {
        self.get(key)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(serde_json::Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn flags_and_texts_read_only_their_own_type() {
        let mut attributes = Attributes::new();
        attributes.insert(PLAINTEXT.into(), Value::Bool(true));
        attributes.insert(CLASSIC.into(), Value::String("true".into()));
        attributes.insert(PACKAGE.into(), Value::String("server-github".into()));
        assert!(attributes.flag(PLAINTEXT));
        assert!(!attributes.flag(CLASSIC), "a string is not a flag");
        assert!(!attributes.flag(LEGACY), "a missing key is false");
        assert_eq!(attributes.text(PACKAGE), Some("server-github"));
        assert_eq!(attributes.text(PLAINTEXT), None);
    }
}
