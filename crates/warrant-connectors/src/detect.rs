//! Finding every supported file under a directory and routing it to its parser.
//! (Skeleton: owned by the connectors work; see the issue.)

use std::path::{Path, PathBuf};

use warrant_core::Inventory;

use crate::{ConnectorError, ImportContext};

/// Every file format Warrant can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    AwsAuthorizationDetails,
    AwsCredentialReport,
    AwsAccessKeys,
    AwsOrganizationsAccounts,
    KubernetesList,
    GitHubOrgDirectory,
    McpConfig,
    OktaUsers,
    OwnersCsv,
}

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub format: Option<FileFormat>,
    pub records: usize,
    pub error: Option<ConnectorError>,
}

/// The result of importing a path: everything that parsed, and a report per file.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    pub inventory: Inventory,
    pub files: Vec<FileReport>,
}

impl ImportOutcome {
    pub fn errors(&self) -> impl Iterator<Item = &ConnectorError> {
        self.files.iter().filter_map(|f| f.error.as_ref())
    }
}

/// Guesses the format of a file from its name and first bytes.
pub fn sniff(path: &Path, head: &[u8]) -> Option<FileFormat> {
    let _ = (path, head);
    None
}

/// Imports a file or every supported file under a directory.
pub fn import_path(path: &Path, ctx: &ImportContext) -> ImportOutcome {
    let _ = (path, ctx);
    ImportOutcome::default()
}
