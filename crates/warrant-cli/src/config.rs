//! `warrant.toml`: every tunable in one file, with environment overrides.
//!
//! Precedence (last wins): built-in defaults, the TOML file (`--config`, `WARRANT_CONFIG`, or
//! `./warrant.toml` when present), then `WARRANT_SECTION__KEY=value` environment variables
//! (e.g. `WARRANT_POSTURE__KEY_MAX_AGE_DAYS=30`). Unknown keys are errors, so a typo never
//! silently falls back to a default.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use warrant_app::config::{ActivityConfig, ImportConfig};

/// The configuration format version this build reads.
pub const CONFIG_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Format version of this file; must be 1.
    pub version: u32,
    /// The store (`--store` and `WARRANT_STORE` win over this): `store = "PATH"` (a SQLite
    /// file) or a table `[store] url = "postgres://…"` (or `sqlite://PATH`).
    pub store: Option<StoreSetting>,
    /// File holding the key for secret fingerprints. Default: `fingerprint.key` beside the store.
    /// `WARRANT_FINGERPRINT_KEY` (64 hex digits) overrides it.
    pub fingerprint_key_file: Option<PathBuf>,
    /// The governance policy (tiers, thresholds, exceptions' limits). Default:
    /// ./warrant-policy.toml when it exists; without one, posture uses `[posture]` alone.
    pub governance_policy: Option<PathBuf>,
    pub import: ImportConfig,
    /// Thresholds, sensitivity rules and rule overrides for posture assessment.
    pub posture: warrant_posture::PostureConfig,
    /// Activity: learning and detection windows, detection thresholds.
    pub activity: ActivityConfig,
    /// Outbound notifications: `[[notify.targets]]` (Slack, Jira, generic webhooks) and the
    /// events each receives.
    pub notify: warrant_notify::NotifyConfig,
    /// `warrant serve`: `[server.oidc]` for single sign-on.
    pub server: ServerSection,
}

/// `[server]`: settings of `warrant serve`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Single sign-on with an OpenID Connect provider; none by default. The client secret is
    /// better set as `WARRANT_SERVER__OIDC__CLIENT_SECRET` than written in the file.
    pub oidc: Option<warrant_server::oidc::OidcConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: CONFIG_VERSION,
            store: None,
            fingerprint_key_file: None,
            governance_policy: None,
            import: ImportConfig::default(),
            posture: Default::default(),
            activity: ActivityConfig::default(),
            notify: warrant_notify::NotifyConfig::default(),
            server: ServerSection::default(),
        }
    }
}

/// Where the store lives: a path or URL as a plain string, or the `[store]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoreSetting {
    Location(String),
    Table(StoreTable),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreTable {
    /// `postgres://USER:PASSWORD@HOST/DB`, `sqlite://PATH` or a path.
    pub url: String,
}

impl StoreSetting {
    pub fn location(&self) -> &str {
        match self {
            StoreSetting::Location(location) => location,
            StoreSetting::Table(table) => &table.url,
        }
    }
}

impl Config {
    /// Loads defaults ← file ← environment.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match explicit {
            Some(path) => {
                if !path.is_file() {
                    bail!("configuration file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => {
                let local = Path::new("warrant.toml");
                if local.is_file() {
                    figment = figment.merge(Toml::file(local));
                }
            }
        }
        // Only nested keys come from the environment; single-word WARRANT_* variables
        // (WARRANT_LOG, WARRANT_STORE, …) are read by the options they belong to.
        figment = figment.merge(
            Env::prefixed("WARRANT_")
                .split("__")
                .filter(|key| key.as_str().contains('.')),
        );
        let config: Config = figment.extract().map_err(|error| {
            let origin = explicit
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "warrant.toml".into());
            anyhow::anyhow!("invalid configuration ({origin} or WARRANT_* environment): {error}")
        })?;
        config.notify.validate().map_err(|e| {
            anyhow::anyhow!(
                "invalid configuration ({}): {e}",
                explicit.map_or_else(|| "warrant.toml".into(), |p| p.display().to_string())
            )
        })?;
        if config.version != CONFIG_VERSION {
            bail!(
                "configuration version {} is not supported by this warrant (it reads version {CONFIG_VERSION})",
                config.version
            );
        }
        Ok(config)
    }

    /// This configuration as a TOML file (every key, defaults included).
    pub fn to_toml(&self) -> anyhow::Result<String> {
        toml::to_string_pretty(self).context("serialising the configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_toml() {
        let text = Config::default().to_toml().unwrap();
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(parsed.version, CONFIG_VERSION);
    }

    #[test]
    fn oidc_is_off_by_default_and_its_secret_is_never_printed() {
        use warrant_server::oidc::UsernameClaim;
        assert!(Config::default().server.oidc.is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warrant.toml");
        std::fs::write(
            &path,
            "version = 1\n[server.oidc]\nissuer = \"https://sso.example.org\"\n\
             client_id = \"warrant\"\nclient_secret = \"in-the-file\"\n\
             redirect_url = \"https://warrant.example.org/auth/oidc/callback\"\n\
             display_name = \"Acme SSO\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&path)).unwrap();
        let oidc = config.server.oidc.as_ref().unwrap();
        assert_eq!(oidc.client_secret.as_deref(), Some("in-the-file"));
        assert_eq!(oidc.scopes, ["openid", "email", "profile"]);
        assert_eq!(oidc.username_claim, UsernameClaim::Email);
        assert_eq!(oidc.display_name, "Acme SSO");
        assert!(!format!("{oidc:?}").contains("in-the-file"));
        // `warrant config` prints the section without the secret.
        let text = config.to_toml().unwrap();
        assert!(text.contains("[server.oidc]"), "{text}");
        assert!(!text.contains("in-the-file"), "{text}");

        let err = load_error(
            "version = 1\n[server.oidc]\nissuer = \"https://x\"\nclient_id = \"w\"\nredirect_url = \"https://w/auth/oidc/callback\"\nusername_claim = \"upn\"\n",
        );
        assert!(err.contains("upn"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warrant.toml");
        std::fs::write(&path, "version = 1\n[import]\nmax_file_mbs = 3\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("max_file_mbs"), "{err}");
    }

    fn load_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warrant.toml");
        std::fs::write(&path, text).unwrap();
        match Config::load(Some(&path)) {
            Ok(_) => String::new(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn rule_ids_are_checked_against_the_registry_naming_the_key() {
        let err =
            load_error("version = 1\n[posture]\ndisabled_rules = [\"no-owner\", \"no-ownr\"]\n");
        assert!(err.contains("unknown rule id `no-ownr`"), "{err}");
        assert!(err.contains("posture.disabled_rules"), "{err}");

        let err = load_error("version = 1\n[posture.severity]\naccess-key-olde = \"high\"\n");
        assert!(err.contains("unknown rule id `access-key-olde`"), "{err}");
        assert!(err.contains("posture.severity"), "{err}");

        let err = load_error("version = 1\n[activity.detect]\ndisabled_rules = [\"no-owner\"]\n");
        assert!(
            err.contains("rule `no-owner` is a posture rule, not an activity rule"),
            "{err}"
        );
        assert!(err.contains("activity.detect.disabled_rules"), "{err}");

        // Registered ids of the right engine load, typed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warrant.toml");
        std::fs::write(
            &path,
            "version = 1\n[posture]\ndisabled_rules = [\"no-owner\"]\n[posture.severity]\naccess-key-old = \"high\"\n[activity.detect]\ndisabled_rules = [\"activity-new-network\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&path)).unwrap();
        assert_eq!(
            config.posture.disabled_rules,
            [warrant_core::RuleId::NoOwner]
        );
        assert_eq!(
            config
                .posture
                .severity
                .get(&warrant_core::RuleId::AccessKeyOld),
            Some(&warrant_core::Severity::High)
        );
        assert_eq!(
            config.activity.detect.disabled_rules,
            [warrant_core::RuleId::ActivityNewNetwork]
        );
        // A configuration written by `warrant config` reads back.
        let text = config.to_toml().unwrap();
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(parsed.posture.disabled_rules, config.posture.disabled_rules);
    }

    #[test]
    fn a_future_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warrant.toml");
        std::fs::write(&path, "version = 2\n").unwrap();
        assert!(
            Config::load(Some(&path))
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
    }
}
