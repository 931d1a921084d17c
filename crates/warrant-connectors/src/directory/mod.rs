//! Owner directories: Okta's Users API (`GET /api/v1/users`) JSON, or a plain CSV with an
//! `email` column (and optionally name, status, kind, manager, department).

use std::path::Path;

use serde::Deserialize;
use warrant_core::{Inventory, Owner, OwnerKind, OwnerStatus, Provenance, SourceScope};

use crate::error::Location;
use crate::{ConnectorError, ImportContext};

pub const OKTA_SOURCE: &str = "okta";
pub const CSV_SOURCE: &str = "owners-csv";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaUser {
    #[serde(default)]
    id: Option<String>,
    status: String,
    profile: OktaProfile,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaProfile {
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    manager: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    user_type: Option<String>,
}

fn okta_status(status: &str) -> OwnerStatus {
    match status.to_ascii_uppercase().as_str() {
        "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY" | "PROVISIONED" | "STAGED" => {
            OwnerStatus::Active
        }
        "SUSPENDED" => OwnerStatus::Suspended,
        "DEPROVISIONED" => OwnerStatus::Deprovisioned,
        _ => OwnerStatus::Unknown,
    }
}

/// Whether JSON looks like an Okta users listing.
pub fn is_okta_users(value: &serde_json::Value) -> bool {
    value.as_array().is_some_and(|items| {
        !items.is_empty()
            && items
                .iter()
                .take(5)
                .all(|u| u.get("profile").is_some() && u.get("status").is_some())
    })
}

pub fn parse_okta(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let users: Vec<OktaUser> = crate::common::decode_json(origin, bytes)?;
    let provenance = Provenance {
        source: OKTA_SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    for (i, user) in users.into_iter().enumerate() {
        let Some(id) = user.profile.email.clone().or(user.profile.login.clone()) else {
            return Err(ConnectorError::new(
                origin,
                Location::JsonPath(format!("$[{i}].profile")),
                "neither `email` nor `login`",
            ));
        };
        let display_name = user.profile.display_name.clone().or_else(|| {
            match (&user.profile.first_name, &user.profile.last_name) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (Some(f), None) => Some(f.clone()),
                _ => None,
            }
        });
        let kind = match user
            .profile
            .user_type
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("shared" | "shared_mailbox" | "service" | "group") => OwnerKind::SharedMailbox,
            // INVARIANT: an address is never classified here by its local part; posture does
            // that once, from the configured `[posture] shared_mailboxes`.
            _ => OwnerKind::Person,
        };
        let _ = user.id;
        inventory.owners.push(Owner {
            id: id.to_ascii_lowercase(),
            display_name,
            email: user.profile.email.map(|e| e.to_ascii_lowercase()),
            login: user.profile.login.map(|l| l.to_ascii_lowercase()),
            kind,
            status: okta_status(&user.status),
            manager: user.profile.manager,
            department: user.profile.department,
            provenance: provenance.clone(),
        });
    }
    inventory.scopes.push(SourceScope {
        source: OKTA_SOURCE.to_string(),
        scope: origin.display().to_string(),
    });
    Ok(inventory)
}

/// Whether a CSV header row is an owners list.
pub fn is_owners_csv_header(head: &str) -> bool {
    head.lines().next().is_some_and(|line| {
        line.trim_start_matches('\u{feff}')
            .split(',')
            .any(|c| c.trim().eq_ignore_ascii_case("email"))
    })
}

pub fn parse_csv(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ConnectorError::new(origin, Location::CsvLine(1), e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(email_column) = column("email") else {
        return Err(ConnectorError::new(
            origin,
            Location::CsvLine(1),
            "missing column `email`",
        ));
    };
    let provenance = Provenance {
        source: CSV_SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    for record in reader.records() {
        let record = record.map_err(|e| {
            ConnectorError::new(
                origin,
                Location::CsvLine(e.position().map(|p| p.line()).unwrap_or(0)),
                e.to_string(),
            )
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let email = record
            .get(email_column)
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !email.contains('@') {
            return Err(ConnectorError::new(
                origin,
                Location::CsvLine(line),
                format!("`{email}` is not an email address"),
            ));
        }
        let status = match get("status").map(str::to_ascii_lowercase).as_deref() {
            None | Some("active") => OwnerStatus::Active,
            Some("suspended" | "inactive" | "on-leave") => OwnerStatus::Suspended,
            Some("deprovisioned" | "terminated" | "left" | "offboarded") => {
                OwnerStatus::Deprovisioned
            }
            Some(other) => {
                return Err(ConnectorError::new(
                    origin,
                    Location::CsvLine(line),
                    format!("unknown status `{other}` (active, suspended, deprovisioned)"),
                ));
            }
        };
        let kind = match get("kind").map(str::to_ascii_lowercase).as_deref() {
            Some("team") => OwnerKind::Team,
            Some("shared" | "shared_mailbox" | "mailbox") => OwnerKind::SharedMailbox,
            // As for Okta: only what the file says; address patterns are posture's business.
            _ => OwnerKind::Person,
        };
        inventory.owners.push(Owner {
            id: email.clone(),
            display_name: get("name").map(str::to_string),
            email: Some(email),
            login: get("login").map(str::to_ascii_lowercase),
            kind,
            status,
            manager: get("manager").map(str::to_string),
            department: get("department").or(get("team")).map(str::to_string),
            provenance: provenance.clone(),
        });
    }
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::Fingerprinter;

    fn ctx() -> ImportContext {
        ImportContext::new(Fingerprinter::new(b"k"))
    }

    #[test]
    fn okta_statuses_and_shared_mailboxes() {
        let json = r#"[
          {"id":"00u1","status":"ACTIVE","profile":{"login":"dana@acme.example","email":"Dana@acme.example","firstName":"Dana","lastName":"Ng"}},
          {"id":"00u2","status":"DEPROVISIONED","profile":{"login":"eve@acme.example","email":"eve@acme.example"}},
          {"id":"00u3","status":"ACTIVE","profile":{"login":"devops@acme.example","email":"devops@acme.example"}},
          {"id":"00u4","status":"ACTIVE","profile":{"login":"payments@acme.example","email":"payments@acme.example","userType":"shared"}}
        ]"#;
        let inv = parse_okta(Path::new("users.json"), json.as_bytes(), &ctx()).unwrap();
        assert_eq!(inv.owners[0].id, "dana@acme.example");
        assert_eq!(inv.owners[0].display_name.as_deref(), Some("Dana Ng"));
        assert_eq!(inv.owners[1].status, OwnerStatus::Deprovisioned);
        // The export does not say `devops@` is shared: the connector records a person and
        // leaves the address pattern to the configured list in posture.
        assert_eq!(inv.owners[2].kind, OwnerKind::Person);
        assert_eq!(inv.owners[3].kind, OwnerKind::SharedMailbox);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let csv = "email,name,status\na@x.com,A,active\nb@x.com,B,sabbatical\n";
        let err = parse_csv(Path::new("owners.csv"), csv.as_bytes(), &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "owners.csv: at line 3: unknown status `sabbatical` (active, suspended, deprovisioned)"
        );
    }
}
