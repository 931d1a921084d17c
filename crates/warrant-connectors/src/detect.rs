//! Finding every supported file under a directory and routing it to its parser.
//!
//! Formats are recognised by name where providers fix the name (MCP configs, GitHub endpoint
//! files) and otherwise by the first bytes (top-level keys, CSV headers), so users can name their
//! exports as they like. Each file succeeds or fails on its own.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use warrant_core::Inventory;

use crate::aws::compute::Listing;
use crate::{ConnectorError, ImportContext};

/// Every file format Warrant can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    AwsAuthorizationDetails,
    AwsCredentialReport,
    AwsAccessKeys,
    AwsOrganizationsAccounts,
    AwsOrganizationsScps,
    AwsCompute(crate::aws::compute::Listing),
    KubernetesList,
    GitHubOrgDirectory,
    McpConfig,
    OktaUsers,
    OwnersCsv,
}

impl FileFormat {
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::AwsAuthorizationDetails => "aws-authorization-details",
            FileFormat::AwsCredentialReport => "aws-credential-report",
            FileFormat::AwsAccessKeys => "aws-access-keys",
            FileFormat::AwsOrganizationsAccounts => "aws-organizations-accounts",
            FileFormat::AwsOrganizationsScps => "aws-organizations-scps",
            FileFormat::AwsCompute(listing) => match listing {
                Listing::LambdaFunctions => "aws-lambda-functions",
                Listing::CloudFormationStacks => "aws-cloudformation-stacks",
                Listing::Ec2Instances => "aws-ec2-instances",
                Listing::CodeBuildProjects => "aws-codebuild-projects",
                Listing::GlueJobs => "aws-glue-jobs",
            },
            FileFormat::KubernetesList => "kubernetes-list",
            FileFormat::GitHubOrgDirectory => "github-rest",
            FileFormat::McpConfig => "mcp-config",
            FileFormat::OktaUsers => "okta-users",
            FileFormat::OwnersCsv => "owners-csv",
        }
    }

    /// The parser, given the file's bytes to keep or drop: the largest exports free their text
    /// as soon as it is decoded, before the inventory is built from it.
    fn parser(self) -> Parser {
        match self {
            FileFormat::AwsAuthorizationDetails => crate::aws::authorization_details::parse_owned,
            FileFormat::AwsCredentialReport => {
                |p, b, c| crate::aws::credential_report::parse(p, &b, c)
            }
            FileFormat::AwsAccessKeys => |p, b, c| crate::aws::access_keys::parse(p, &b, c),
            FileFormat::AwsOrganizationsAccounts => {
                |p, b, c| crate::aws::organizations::parse(p, &b, c)
            }
            FileFormat::AwsOrganizationsScps => |p, b, c| crate::aws::scps::parse(p, &b, c),
            FileFormat::AwsCompute(Listing::LambdaFunctions) => {
                |p, b, c| crate::aws::compute::parse(p, &b, Listing::LambdaFunctions, c)
            }
            FileFormat::AwsCompute(Listing::CloudFormationStacks) => {
                |p, b, c| crate::aws::compute::parse(p, &b, Listing::CloudFormationStacks, c)
            }
            FileFormat::AwsCompute(Listing::Ec2Instances) => {
                |p, b, c| crate::aws::compute::parse(p, &b, Listing::Ec2Instances, c)
            }
            FileFormat::AwsCompute(Listing::CodeBuildProjects) => {
                |p, b, c| crate::aws::compute::parse(p, &b, Listing::CodeBuildProjects, c)
            }
            FileFormat::AwsCompute(Listing::GlueJobs) => {
                |p, b, c| crate::aws::compute::parse(p, &b, Listing::GlueJobs, c)
            }
            FileFormat::KubernetesList => |p, b, c| crate::k8s::parse(p, &b, c),
            FileFormat::GitHubOrgDirectory => |p, b, c| crate::github::parse(p, &b, c),
            FileFormat::McpConfig => |p, b, c| crate::mcp::parse(p, &b, c),
            FileFormat::OktaUsers => |p, b, c| crate::directory::parse_okta(p, &b, c),
            FileFormat::OwnersCsv => |p, b, c| crate::directory::parse_csv(p, &b, c),
        }
    }
}

type Parser = fn(&Path, Vec<u8>, &ImportContext) -> Result<Inventory, ConnectorError>;

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

const MCP_NAMES: &[&str] = &[
    "claude_desktop_config.json",
    "mcp.json",
    "mcp_settings.json",
    "cline_mcp_settings.json",
];

/// Guesses the format of a file from its name and first bytes.
pub fn sniff(path: &Path, head: &[u8]) -> Option<FileFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let is_json_name = name.ends_with(".json") || name.ends_with(".jsonc");
    if MCP_NAMES.contains(&name.as_str())
        && (trimmed.starts_with('{') || trimmed.starts_with("//") || trimmed.starts_with("/*"))
    {
        return Some(FileFormat::McpConfig);
    }
    if is_json_name
        && crate::github::endpoint(path).is_some()
        && (trimmed.starts_with('{') || trimmed.starts_with('['))
    {
        return Some(FileFormat::GitHubOrgDirectory);
    }
    if trimmed.starts_with('{') {
        // Formats are told apart by the keys of the outermost object: a CloudTrail event quotes
        // whole Kubernetes or IAM objects in its request parameters, nested inside `Records`.
        let keys = top_level_keys(trimmed);
        let top = |key: &str| keys.iter().any(|k| k == key);
        let anywhere = |key: &str| text.contains(&format!("\"{key}\""));
        if top("Records") {
            return None;
        }
        if top("UserDetailList") || top("RoleDetailList") || top("GroupDetailList") {
            return Some(FileFormat::AwsAuthorizationDetails);
        }
        if top("AccessKeyMetadata") {
            return Some(FileFormat::AwsAccessKeys);
        }
        if top("Accounts") && (anywhere("JoinedTimestamp") || anywhere("Arn")) {
            return Some(FileFormat::AwsOrganizationsAccounts);
        }
        if top("Functions") && anywhere("FunctionArn") {
            return Some(FileFormat::AwsCompute(Listing::LambdaFunctions));
        }
        if top("Stacks") && anywhere("StackId") {
            return Some(FileFormat::AwsCompute(Listing::CloudFormationStacks));
        }
        if top("Reservations") && anywhere("InstanceId") {
            return Some(FileFormat::AwsCompute(Listing::Ec2Instances));
        }
        if top("projects") && anywhere("serviceRole") {
            return Some(FileFormat::AwsCompute(Listing::CodeBuildProjects));
        }
        if top("Jobs") && anywhere("Role") && anywhere("Name") {
            return Some(FileFormat::AwsCompute(Listing::GlueJobs));
        }
        if top("ServiceControlPolicies") {
            return Some(FileFormat::AwsOrganizationsScps);
        }
        if top("mcpServers") {
            return Some(FileFormat::McpConfig);
        }
        if top("items") && (top("apiVersion") || top("kind")) && !top("auditID") {
            return Some(FileFormat::KubernetesList);
        }
        if top("servers") && (top("inputs") || anywhere("command")) {
            return Some(FileFormat::McpConfig);
        }
        return None;
    }
    if trimmed.starts_with('[') {
        if trimmed.contains("\"AccessKeyMetadata\"") {
            return Some(FileFormat::AwsAccessKeys);
        }
        if trimmed.contains("\"profile\"")
            && trimmed.contains("\"status\"")
            && !trimmed.contains("\"eventName\"")
        {
            return Some(FileFormat::OktaUsers);
        }
        return None;
    }
    if crate::aws::credential_report::is_credential_report_header(trimmed) {
        return Some(FileFormat::AwsCredentialReport);
    }
    if name.ends_with(".csv") && crate::directory::is_owners_csv_header(trimmed) {
        return Some(FileFormat::OwnersCsv);
    }
    None
}

/// The keys of the outermost JSON object in `text`, in order, as far as `text` goes: a file's
/// head may end anywhere. Keys of nested objects are not included, so an event that quotes a
/// Kubernetes object inside `Records` does not make a CloudTrail file look like a Kubernetes list.
fn top_level_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut chars = text.char_indices().peekable();
    // Depth 1 is inside the outermost object.
    let mut depth = 0usize;
    // At depth 1, whether the next string is a key (after `{` or `,`) rather than a value.
    let mut expect_key = false;
    while let Some((_, c)) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1 && c == '{';
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_key = true,
            ':' if depth == 1 => expect_key = false,
            '"' => {
                let mut s = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, e)) = chars.next() {
                                s.push(e);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => s.push(c),
                    }
                }
                if depth == 1 && expect_key && closed {
                    keys.push(s);
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}

/// Directories never worth descending into (`.git` is never entered by any walk).
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".terraform",
];

/// Every regular file under `path` (or `path` itself), sorted, by the shared walk
/// (`warrant_input::walk`): links inside the tree are not followed, dependency and build
/// directories are not entered. What was passed over comes back with the reason.
pub fn list_files(path: &Path) -> warrant_input::walk::Walked {
    let options = warrant_input::walk::WalkOptions {
        prune: SKIPPED_DIRS,
        ..warrant_input::walk::WalkOptions::default()
    };
    warrant_input::walk::collect_files(&[path.to_path_buf()], &options)
}

const HEAD_BYTES: usize = 64 * 1024;

fn import_file(path: &Path, ctx: &ImportContext) -> (FileReport, Option<Inventory>) {
    let report = |format, records, error| FileReport {
        path: path.to_path_buf(),
        format,
        records,
        error,
    };
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len(),
        Err(e) => {
            return (
                report(
                    None,
                    0,
                    Some(ConnectorError::file(path, format!("cannot read: {e}"))),
                ),
                None,
            );
        }
    };
    let mut head = Vec::with_capacity(HEAD_BYTES.min(size as usize));
    match std::fs::File::open(path) {
        Ok(file) => {
            if let Err(e) = warrant_input::read_prefix(file, HEAD_BYTES as u64, &mut head) {
                return (
                    report(
                        None,
                        0,
                        Some(ConnectorError::file(path, format!("cannot read: {e}"))),
                    ),
                    None,
                );
            }
        }
        Err(e) => {
            return (
                report(
                    None,
                    0,
                    Some(ConnectorError::file(path, format!("cannot read: {e}"))),
                ),
                None,
            );
        }
    }
    // Binary files (a NUL in the first 8 KiB) are not exports; skip them quietly.
    if head.iter().take(8192).any(|b| *b == 0) {
        return (report(None, 0, None), None);
    }
    let Some(format) = sniff(path, &head) else {
        return (report(None, 0, None), None);
    };
    if size > ctx.max_file_bytes {
        let message = format!(
            "{size} bytes is over the {} byte limit for one file",
            ctx.max_file_bytes
        );
        return (
            report(Some(format), 0, Some(ConnectorError::file(path, message))),
            None,
        );
    }
    // Bounded: the file may have grown since its size was checked, or be a device that
    // reports size 0 and never ends.
    let bytes = match warrant_input::read_file(path, ctx.max_file_bytes) {
        Ok(bytes) => bytes,
        Err(e) => {
            return (
                report(
                    Some(format),
                    0,
                    Some(ConnectorError::file(
                        path,
                        format!("cannot read: {}", e.source),
                    )),
                ),
                None,
            );
        }
    };
    match (format.parser())(path, bytes, ctx) {
        Ok(inventory) => {
            let records = inventory.identities.len()
                + inventory.credentials.len()
                + inventory.policies.len()
                + inventory.owners.len()
                + inventory.accounts.len()
                + inventory.resources.len();
            (report(Some(format), records, None), Some(inventory))
        }
        Err(error) => (report(Some(format), 0, Some(error)), None),
    }
}

/// Imports a file or every supported file under a directory. Files are parsed in parallel and
/// merged in path order, so the result does not depend on scheduling.
pub fn import_path(path: &Path, ctx: &ImportContext) -> ImportOutcome {
    import_path_observed(path, ctx, &|_| {})
}

/// [`import_path`], calling `read` with the size in bytes of each file once it has been
/// imported (from whichever thread imported it), for progress.
pub fn import_path_observed(
    path: &Path,
    ctx: &ImportContext,
    read: &(dyn Fn(u64) + Sync),
) -> ImportOutcome {
    let walked = list_files(path);
    let results: Vec<(FileReport, Option<Inventory>)> = walked
        .files
        .par_iter()
        .map(|f| {
            let imported = import_file(f, ctx);
            read(std::fs::metadata(f).map_or(0, |m| m.len()));
            imported
        })
        .collect();
    let mut outcome = ImportOutcome::default();
    for problem in walked.problems {
        // What the person named is input they meant to give, even if a FIFO or a device: say
        // it was not read. Found inside a directory, such an entry is only passed over.
        if problem.unreadable || problem.path == path {
            outcome.files.push(FileReport {
                error: Some(ConnectorError::file(&problem.path, problem.reason)),
                path: problem.path,
                format: None,
                records: 0,
            });
        } else {
            tracing::info!(path = %problem.path.display(), reason = %problem.reason, "Passed over.");
        }
    }
    for (report, inventory) in results {
        if let Some(inventory) = inventory {
            outcome.inventory.extend(inventory);
        }
        if let Some(error) = &report.error {
            tracing::warn!(error = %error, "A file could not be imported.");
        }
        outcome.files.push(report);
    }
    outcome.inventory.dedup();
    crate::aws::reconcile(&mut outcome.inventory);
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_by_content_and_name() {
        let p = Path::new;
        assert_eq!(
            sniff(p("x.json"), br#"{"UserDetailList": []}"#),
            Some(FileFormat::AwsAuthorizationDetails)
        );
        assert_eq!(
            sniff(p("k.json"), br#"{"AccessKeyMetadata": []}"#),
            Some(FileFormat::AwsAccessKeys)
        );
        assert_eq!(
            sniff(p("c.json"), b"{\n \"apiVersion\": \"v1\",\n \"items\": ["),
            Some(FileFormat::KubernetesList)
        );
        assert_eq!(
            sniff(
                p("r.csv"),
                b"user,arn,user_creation_time,password_enabled\n"
            ),
            Some(FileFormat::AwsCredentialReport)
        );
        assert_eq!(
            sniff(p("owners.csv"), b"name,email\n"),
            Some(FileFormat::OwnersCsv)
        );
        assert_eq!(
            sniff(p("mcp.json"), b"// comment\n{"),
            Some(FileFormat::McpConfig)
        );
        assert_eq!(
            sniff(p("orgs_acme_hooks.json"), b"[]"),
            Some(FileFormat::GitHubOrgDirectory)
        );
        assert_eq!(
            sniff(
                p("u.json"),
                br#"[{"id":"1","status":"ACTIVE","profile":{}}]"#
            ),
            Some(FileFormat::OktaUsers)
        );
        assert_eq!(
            sniff(p("trail.json"), br#"{"Records": [{"eventName": "x"}]}"#),
            None
        );
        assert_eq!(sniff(p("notes.txt"), b"hello"), None);
    }

    #[test]
    fn cloudtrail_quoting_kubernetes_and_iam_objects_is_not_an_export() {
        // Defect: CloudTrail files whose events quote `"items"` and `"apiVersion"` in their
        // request parameters were sniffed as Kubernetes lists and never ingested.
        let trail = br#"{"Records":[{"eventName":"CreateDeployment","requestParameters":
            {"apiVersion":"apps/v1","items":[{"UserDetailList":[],"mcpServers":{}}]}}]}"#;
        assert_eq!(sniff(Path::new("trail.json"), trail), None);
        // Truncated heads still name the keys seen so far.
        assert_eq!(
            top_level_keys(r#"{"apiVersion": "v1", "items": [{"kind": "Pod", "x": "a\"b"#),
            vec!["apiVersion", "items"]
        );
        assert_eq!(
            top_level_keys(r#"{"a\"b": {"c": 1}, "d": [1, {"e": 2}], "f": "g,h:i"}"#),
            vec!["a\"b", "d", "f"]
        );
    }

    #[test]
    fn no_shared_cloudtrail_file_is_sniffed_as_an_export() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail");
        if !root.is_dir() {
            eprintln!("skipped: {} is absent", root.display());
            return;
        }
        let mut seen = 0;
        for path in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let mut head = Vec::new();
            let file = std::fs::File::open(path.path()).unwrap();
            warrant_input::read_prefix(file, HEAD_BYTES as u64, &mut head).unwrap();
            assert_eq!(sniff(path.path(), &head), None, "{}", path.path().display());
            seen += 1;
        }
        assert!(seen >= 90, "{seen} files");
    }
}
