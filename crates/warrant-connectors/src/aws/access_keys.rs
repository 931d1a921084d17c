//! `aws iam list-access-keys --user-name NAME` (one output per file, or an array of outputs).

use std::path::Path;

use serde::Deserialize;
use warrant_core::{Credential, CredentialKind, Inventory, Provenance};

use crate::common::parse_date;
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-access-keys";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeys {
    pub access_key_metadata: Vec<AccessKeyMetadata>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyMetadata {
    pub user_name: String,
    pub access_key_id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub create_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(ListAccessKeys),
    Many(Vec<ListAccessKeys>),
}

/// Key ids alone do not say which account the user is in; ARNs are resolved against the
/// authorization details in [`super::reconcile`]. Until then the identity is `user:NAME`.
pub fn parse(
    origin: &Path,
    bytes: &[u8],
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let parsed: OneOrMany = crate::common::decode_json(origin, bytes)?;
    let lists = match parsed {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    };
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    for key in lists.iter().flat_map(|l| &l.access_key_metadata) {
        inventory.credentials.push(to_credential(key, &provenance));
    }
    Ok(inventory)
}

pub fn to_credential(key: &AccessKeyMetadata, provenance: &Provenance) -> Credential {
    let mut credential = Credential::new(
        key.access_key_id.clone(),
        format!("user:{}", key.user_name),
        CredentialKind::AccessKey,
    );
    credential.active = key
        .status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("active"));
    credential.created = key.create_date.as_deref().and_then(parse_date);
    credential.last_rotated = credential.created;
    // An access key id is public by AWS's design (it appears in every signed request), so it is
    // both the id and the preview; the secret access key never appears in these exports.
    credential.preview = Some(key.access_key_id.clone());
    credential.storage = Some("aws-iam".into());
    credential.provenance = provenance.clone();
    credential.attributes.insert(
        "user_name".into(),
        serde_json::Value::String(key.user_name.clone()),
    );
    credential
}
