//! AWS compute that runs as a role, from the listings users already produce. Whoever can change
//! what such a resource runs can act as its role, so these resources are edges of the
//! escalation graph (and a listing without one is evidence that no such path exists):
//!
//! | export | resource kind | runs as |
//! |---|---|---|
//! | `aws lambda list-functions` | `lambda-function` | `Role` |
//! | `aws cloudformation describe-stacks` | `cloudformation-stack` | `RoleARN` |
//! | `aws ec2 describe-instances` | `ec2-instance` | `IamInstanceProfile.Arn` (an instance profile) |
//! | `aws codebuild batch-get-projects` | `codebuild-project` | `serviceRole` |
//! | `aws glue get-jobs` | `glue-job` | `Role` (name or ARN) |

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use warrant_core::{Environment, Inventory, Provenance, Resource, Sensitivity};

use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "aws-compute";

/// Which listing a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    LambdaFunctions,
    CloudFormationStacks,
    Ec2Instances,
    CodeBuildProjects,
    GlueJobs,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Functions {
    functions: Vec<Function>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Function {
    function_arn: String,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stacks {
    stacks: Vec<Stack>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Stack {
    stack_id: String,
    #[serde(default, rename = "RoleARN")]
    role_arn: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reservations {
    reservations: Vec<Reservation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reservation {
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    instances: Vec<Instance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    instance_id: String,
    #[serde(default)]
    iam_instance_profile: Option<InstanceProfile>,
    #[serde(default)]
    placement: Option<Placement>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceProfile {
    arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Placement {
    #[serde(default)]
    availability_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Projects {
    projects: Vec<Project>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Project {
    arn: String,
    #[serde(default)]
    service_role: Option<String>,
    #[serde(default)]
    tags: Vec<ProjectTag>,
}

#[derive(Deserialize)]
struct ProjectTag {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Jobs {
    jobs: Vec<Job>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Job {
    name: String,
    #[serde(default)]
    role: Option<String>,
}

/// The account field of an ARN (`arn:aws:SERVICE:REGION:ACCOUNT:…`).
fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// `eu-west-1a` → `eu-west-1`; local zones (`us-west-2-lax-1a`) keep their parent region's
/// prefix, which is all an ARN pattern needs to match.
fn region_of_zone(zone: &str) -> String {
    zone.trim_end_matches(|c: char| c.is_ascii_lowercase())
        .to_string()
}

fn resource(
    id: String,
    kind: &str,
    runs_as: Option<String>,
    tags: BTreeMap<String, String>,
    provenance: &Provenance,
) -> Resource {
    let environment = tags
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("environment") || k.eq_ignore_ascii_case("env"))
        .map(|(_, v)| Environment::guess(v))
        .filter(|e| *e != Environment::Unknown)
        .unwrap_or_else(|| Environment::guess(&id));
    Resource {
        account: account_of(&id).filter(|a| a != "*"),
        id,
        kind: kind.to_string(),
        environment,
        sensitivity: Sensitivity::Medium,
        tags,
        provenance: provenance.clone(),
        runs_as: runs_as.filter(|r| !r.trim().is_empty()),
    }
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    listing: Listing,
    _ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let mut inventory = Inventory::default();
    let resources = &mut inventory.resources;
    match listing {
        Listing::LambdaFunctions => {
            let parsed: Functions = crate::common::decode_json(origin, bytes)?;
            for f in parsed.functions {
                resources.push(resource(
                    f.function_arn,
                    "lambda-function",
                    f.role,
                    BTreeMap::new(),
                    &provenance,
                ));
            }
        }
        Listing::CloudFormationStacks => {
            let parsed: Stacks = crate::common::decode_json(origin, bytes)?;
            for s in parsed.stacks {
                let tags = s.tags.into_iter().map(|t| (t.key, t.value)).collect();
                resources.push(resource(
                    s.stack_id,
                    "cloudformation-stack",
                    s.role_arn,
                    tags,
                    &provenance,
                ));
            }
        }
        Listing::Ec2Instances => {
            let parsed: Reservations = crate::common::decode_json(origin, bytes)?;
            for r in parsed.reservations {
                for i in r.instances {
                    let region = i
                        .placement
                        .and_then(|p| p.availability_zone)
                        .map_or_else(|| "*".to_string(), |z| region_of_zone(&z));
                    let account = r.owner_id.clone().unwrap_or_else(|| "*".to_string());
                    let tags = i.tags.into_iter().map(|t| (t.key, t.value)).collect();
                    resources.push(resource(
                        format!("arn:aws:ec2:{region}:{account}:instance/{}", i.instance_id),
                        "ec2-instance",
                        i.iam_instance_profile.map(|p| p.arn),
                        tags,
                        &provenance,
                    ));
                }
            }
        }
        Listing::CodeBuildProjects => {
            let parsed: Projects = crate::common::decode_json(origin, bytes)?;
            for p in parsed.projects {
                let tags = p.tags.into_iter().map(|t| (t.key, t.value)).collect();
                resources.push(resource(
                    p.arn,
                    "codebuild-project",
                    p.service_role,
                    tags,
                    &provenance,
                ));
            }
        }
        Listing::GlueJobs => {
            let parsed: Jobs = crate::common::decode_json(origin, bytes)?;
            for j in parsed.jobs {
                // The listing names neither region nor account; a role ARN gives the account.
                let account = j
                    .role
                    .as_deref()
                    .and_then(account_of)
                    .unwrap_or_else(|| "*".to_string());
                resources.push(resource(
                    format!("arn:aws:glue:*:{account}:job/{}", j.name),
                    "glue-job",
                    j.role,
                    BTreeMap::new(),
                    &provenance,
                ));
            }
        }
    }
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_as(listing: Listing, json: &str) -> Result<Inventory, ConnectorError> {
        let ctx = ImportContext::new(warrant_core::Fingerprinter::new(b"t"));
        parse(Path::new("listing.json"), json.as_bytes(), listing, &ctx)
    }

    #[test]
    fn each_listing_gives_resources_with_the_role_they_run_as() {
        let lambda = parse_as(
            Listing::LambdaFunctions,
            r#"{"Functions": [{"FunctionName": "billing", "FunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:billing",
                "Runtime": "python3.12", "Role": "arn:aws:iam::111122223333:role/service-role/billing-exec"}]}"#,
        )
        .unwrap();
        let f = &lambda.resources[0];
        assert_eq!(f.kind, "lambda-function");
        assert_eq!(f.account.as_deref(), Some("111122223333"));
        assert_eq!(
            f.runs_as.as_deref(),
            Some("arn:aws:iam::111122223333:role/service-role/billing-exec")
        );
        let ec2 = parse_as(
            Listing::Ec2Instances,
            r#"{"Reservations": [{"OwnerId": "111122223333", "Instances": [
                {"InstanceId": "i-0abc", "Placement": {"AvailabilityZone": "eu-west-1b"},
                 "IamInstanceProfile": {"Arn": "arn:aws:iam::111122223333:instance-profile/web", "Id": "AIPA"},
                 "Tags": [{"Key": "Environment", "Value": "production"}]},
                {"InstanceId": "i-0def"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            ec2.resources[0].id,
            "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"
        );
        assert_eq!(ec2.resources[0].environment, Environment::Production);
        assert_eq!(ec2.resources[1].runs_as, None);
        let stacks = parse_as(
            Listing::CloudFormationStacks,
            r#"{"Stacks": [{"StackName": "net", "StackId": "arn:aws:cloudformation:eu-west-1:111122223333:stack/net/1f2e",
                "RoleARN": "arn:aws:iam::111122223333:role/cfn-deployer", "StackStatus": "CREATE_COMPLETE"}]}"#,
        )
        .unwrap();
        assert_eq!(
            stacks.resources[0].runs_as.as_deref(),
            Some("arn:aws:iam::111122223333:role/cfn-deployer")
        );
        let projects = parse_as(
            Listing::CodeBuildProjects,
            r#"{"projects": [{"name": "build", "arn": "arn:aws:codebuild:eu-west-1:111122223333:project/build",
                "serviceRole": "arn:aws:iam::111122223333:role/codebuild-build"}], "projectsNotFound": []}"#,
        )
        .unwrap();
        assert_eq!(projects.resources[0].kind, "codebuild-project");
        let jobs = parse_as(
            Listing::GlueJobs,
            r#"{"Jobs": [{"Name": "etl", "Role": "arn:aws:iam::111122223333:role/glue-etl"}, {"Name": "adhoc", "Role": "glue-adhoc"}]}"#,
        )
        .unwrap();
        assert_eq!(jobs.resources[0].id, "arn:aws:glue:*:111122223333:job/etl");
        assert_eq!(jobs.resources[1].id, "arn:aws:glue:*:*:job/adhoc");
        assert_eq!(jobs.resources[1].account, None);
    }

    #[test]
    fn a_malformed_listing_names_the_file_and_place() {
        let e = parse_as(Listing::LambdaFunctions, r#"{"Functions": [{"Role": 3}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("listing.json"), "{e}");
    }
}
