//! `aws organizations list-accounts`: the accounts that belong to the organisation.

use std::path::Path;

use serde::Deserialize;
use warrant_core::{Account, Environment, Inventory, Provenance, Provider};

use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-organizations";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccounts {
    pub accounts: Vec<OrgAccount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgAccount {
    pub id: String,
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let parsed: ListAccounts = crate::common::decode_json(origin, bytes)?;
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    Ok(to_inventory(&parsed, &provenance))
}

pub fn to_inventory(parsed: &ListAccounts, provenance: &Provenance) -> Inventory {
    let mut inventory = Inventory::default();
    for a in &parsed.accounts {
        let name_env = a
            .name
            .as_deref()
            .map(Environment::guess)
            .unwrap_or(Environment::Unknown);
        let environment = if name_env == Environment::Unknown {
            a.email
                .as_deref()
                .map(Environment::guess)
                .unwrap_or(Environment::Unknown)
        } else {
            name_env
        };
        inventory.accounts.push(Account {
            id: a.id.clone(),
            name: a.name.clone(),
            provider: Provider::Aws,
            environment,
            status: a.status.clone(),
            email: a.email.clone(),
            provenance: provenance.clone(),
        });
    }
    inventory
}
