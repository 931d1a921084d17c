//! `aws iam get-credential-report` (the CSV, base64-decoded): console and key facts per user.

use std::path::Path;

use serde_json::Value;
use warrant_core::attribute;
use warrant_core::{
    Credential, CredentialKind, Identity, IdentityKind, InteractiveLogin, Inventory, Provenance,
    Provider, SourceScope,
};

use crate::common::parse_date;
use crate::error::Location;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-credential-report";

/// Whether a CSV header is a credential report's.
pub fn is_credential_report_header(head: &str) -> bool {
    head.trim_start_matches('\u{feff}')
        .starts_with("user,arn,user_creation_time")
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| {
            ConnectorError::new(
                origin,
                Location::CsvLine(1),
                format!("unreadable header: {e}"),
            )
        })?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let required = ["user", "arn"];
    for name in required {
        if column(name).is_none() {
            return Err(ConnectorError::new(
                origin,
                Location::CsvLine(1),
                format!("missing column `{name}`"),
            ));
        }
    }
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    let mut accounts = std::collections::BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ConnectorError::new(origin, Location::CsvLine(line), e.to_string())
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .trim()
        };
        let flag = |name: &str| get(name).eq_ignore_ascii_case("true");
        let arn = get("arn");
        if !arn.starts_with("arn:") {
            return Err(ConnectorError::new(
                origin,
                Location::CsvLine(line),
                format!("`{arn}` is not an ARN"),
            ));
        }
        let user = get("user");
        let is_root = user == "<root_account>";
        if let Some(account) = super::authorization_details::account_of(arn) {
            accounts.insert(account);
        }
        let mut identity = Identity::new(
            arn,
            IdentityKind::Other,
            Provider::Aws,
            if is_root { "root" } else { user },
        );
        identity.actor = warrant_core::ActorKind::Unknown;
        identity.account = super::authorization_details::account_of(arn);
        identity.created = parse_date(get("user_creation_time"));
        identity.login = Some(InteractiveLogin {
            password_enabled: flag("password_enabled"),
            password_last_used: parse_date(get("password_last_used")),
            password_last_changed: parse_date(get("password_last_changed")),
            mfa_active: flag("mfa_active"),
        });
        identity.last_used = identity.login.as_ref().and_then(|l| l.password_last_used);
        identity.provenance = provenance.clone();
        if is_root {
            identity
                .attributes
                .insert(attribute::ROOT.into(), Value::Bool(true));
        }
        for slot in 1..=2 {
            let p = |f: &str| format!("access_key_{slot}_{f}");
            let rotated = parse_date(get(&p("last_rotated")));
            let active = flag(&p("active"));
            if rotated.is_none() && !active {
                continue; // slot never used
            }
            let mut credential = Credential::new(
                format!("{arn}#access_key_{slot}"),
                arn,
                CredentialKind::AccessKey,
            );
            credential.active = active;
            credential.created = rotated;
            credential.last_rotated = rotated;
            credential.last_used = parse_date(get(&p("last_used_date")));
            credential.storage = Some("aws-iam".into());
            credential.provenance = provenance.clone();
            for (column, key) in [
                ("last_used_region", attribute::LAST_USED_REGION),
                ("last_used_service", attribute::LAST_USED_SERVICE),
            ] {
                let value = get(&p(column));
                if !value.is_empty() && value != "N/A" {
                    credential
                        .attributes
                        .insert(key.into(), Value::String(value.to_string()));
                }
            }
            credential
                .attributes
                .insert("slot".into(), Value::from(slot));
            identity.last_used = identity.last_used.max(credential.last_used);
            inventory.credentials.push(credential);
        }
        for slot in 1..=2 {
            if flag(&format!("cert_{slot}_active")) {
                let mut credential = Credential::new(
                    format!("{arn}#cert_{slot}"),
                    arn,
                    CredentialKind::Certificate,
                );
                credential.last_rotated = parse_date(get(&format!("cert_{slot}_last_rotated")));
                credential.created = credential.last_rotated;
                credential.storage = Some("aws-iam".into());
                credential.provenance = provenance.clone();
                inventory.credentials.push(credential);
            }
        }
        // A partial record: merged into the authorization-details one by Inventory::dedup.
        if !is_root || identity.login.as_ref().is_some_and(|l| l.password_enabled) {
            inventory.identities.push(identity);
        }
    }
    for account in accounts {
        inventory.scopes.push(SourceScope {
            source: SOURCE.to_string(),
            scope: account,
        });
    }
    Ok(inventory)
}
