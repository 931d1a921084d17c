//! Sensitive actions: which calls matter, which detection reports them, and their MITRE ATT&CK
//! mapping. Tactics use ATT&CK's short names (`defense-evasion`, `privilege-escalation`).

use std::collections::HashMap;
use std::sync::LazyLock;

use warrant_core::{RuleId, Severity, Tactic, Technique, technique};

/// The detection a sensitive action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Persistence and privilege escalation through IAM (T1098, T1136).
    PrivilegeChange,
    /// Turning off logging and security tooling (T1562).
    DefenseEvasion,
    /// Reading secrets and credentials (T1555.006, T1552).
    CredentialAccess,
    /// Sharing data with other accounts or the world (T1537).
    Exfiltration,
    /// Other high-impact calls: remote execution, lateral movement, resource hijacking.
    Sensitive,
}

impl Category {
    pub fn rule(self) -> RuleId {
        match self {
            Category::PrivilegeChange => super::rules::PRIVILEGE_CHANGE,
            Category::DefenseEvasion => super::rules::DEFENSE_EVASION,
            Category::CredentialAccess => super::rules::CREDENTIAL_ACCESS,
            Category::Exfiltration => super::rules::EXFILTRATION,
            Category::Sensitive => super::rules::SENSITIVE_ACTION,
        }
    }
}

/// One sensitive action.
#[derive(Debug, Clone, Copy)]
pub struct SensitiveAction {
    /// IAM action, `service:Action`.
    pub action: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// Raise even when the identity has done it before: no routine job turns off audit logs.
    pub always: bool,
    pub tactics: &'static [Tactic],
    pub techniques: &'static [Technique],
    /// What the call does, for evidence ("creates an access key for a user").
    pub effect: &'static str,
}

const PERSIST: &[Tactic] = &[Tactic::Persistence];
const PRIVESC_PERSIST: &[Tactic] = &[Tactic::PrivilegeEscalation, Tactic::Persistence];
const EVASION: &[Tactic] = &[Tactic::DefenseEvasion];
const CRED: &[Tactic] = &[Tactic::CredentialAccess];
const EXFIL: &[Tactic] = &[Tactic::Exfiltration];
const IMPACT: &[Tactic] = &[Tactic::Impact];

macro_rules! entry {
    ($action:literal, $cat:ident, $sev:ident, $always:literal, $tactics:expr, [$($t:literal),*], $effect:literal) => {
        SensitiveAction {
            action: $action,
            category: Category::$cat,
            severity: Severity::$sev,
            always: $always,
            tactics: $tactics,
            techniques: &[$(warrant_core::technique!($t)),*],
            effect: $effect,
        }
    };
}

/// Sensitive AWS actions, by IAM action name.
pub const SENSITIVE_ACTIONS: &[SensitiveAction] = &[
    // Persistence and privilege escalation.
    entry!(
        "iam:CreateAccessKey",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001"],
        "creates a long-lived access key for an IAM user"
    ),
    entry!(
        "iam:UpdateAccessKey",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098.001"],
        "reactivates an IAM user's access key"
    ),
    entry!(
        "iam:CreateLoginProfile",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001", "T1078.004"],
        "gives an IAM user a console password"
    ),
    entry!(
        "iam:UpdateLoginProfile",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.001"],
        "changes an IAM user's console password"
    ),
    entry!(
        "iam:CreateUser",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1136.003"],
        "creates an IAM user"
    ),
    entry!(
        "iam:CreateRole",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1136.003"],
        "creates an IAM role"
    ),
    entry!(
        "iam:AttachUserPolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "attaches a managed policy to a user"
    ),
    entry!(
        "iam:AttachRolePolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "attaches a managed policy to a role"
    ),
    entry!(
        "iam:AttachGroupPolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "attaches a managed policy to a group"
    ),
    entry!(
        "iam:PutUserPolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "writes an inline policy on a user"
    ),
    entry!(
        "iam:PutRolePolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "writes an inline policy on a role"
    ),
    entry!(
        "iam:PutGroupPolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "writes an inline policy on a group"
    ),
    entry!(
        "iam:CreatePolicyVersion",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "rewrites a managed policy"
    ),
    entry!(
        "iam:SetDefaultPolicyVersion",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "switches a managed policy to another version"
    ),
    entry!(
        "iam:UpdateAssumeRolePolicy",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "changes who may assume a role"
    ),
    entry!(
        "iam:AddUserToGroup",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "adds a user to a group"
    ),
    entry!(
        "iam:UploadSSHPublicKey",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098.004"],
        "registers an SSH key for a user"
    ),
    entry!(
        "iam:CreateOpenIDConnectProvider",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "trusts a new OpenID Connect identity provider"
    ),
    entry!(
        "iam:CreateSAMLProvider",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "trusts a new SAML identity provider"
    ),
    entry!(
        "iam:DeactivateMFADevice",
        PrivilegeChange,
        High,
        false,
        &[Tactic::DefenseEvasion, Tactic::Persistence],
        ["T1556.006"],
        "removes a user's MFA device"
    ),
    entry!(
        "sts:GetFederationToken",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1078.004"],
        "mints federated credentials that outlive the key that made them"
    ),
    entry!(
        "rolesanywhere:CreateTrustAnchor",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001"],
        "trusts an outside certificate authority to obtain role credentials"
    ),
    entry!(
        "rolesanywhere:CreateProfile",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001"],
        "lets certificates from a trust anchor assume roles"
    ),
    // Defence evasion.
    entry!(
        "cloudtrail:StopLogging",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1562.008"],
        "stops a CloudTrail trail"
    ),
    entry!(
        "cloudtrail:DeleteTrail",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1562.008"],
        "deletes a CloudTrail trail"
    ),
    entry!(
        "cloudtrail:PutEventSelectors",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.008"],
        "changes which events a trail records"
    ),
    entry!(
        "cloudtrail:UpdateTrail",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.008"],
        "changes a trail's destination or scope"
    ),
    entry!(
        "guardduty:DeleteDetector",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1562.001"],
        "deletes the GuardDuty detector"
    ),
    entry!(
        "guardduty:UpdateDetector",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "changes or disables the GuardDuty detector"
    ),
    entry!(
        "guardduty:CreateIPSet",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "adds a GuardDuty trusted IP list"
    ),
    entry!(
        "guardduty:DisassociateFromMasterAccount",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "leaves the GuardDuty administrator account"
    ),
    entry!(
        "securityhub:DisableSecurityHub",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1562.001"],
        "disables Security Hub"
    ),
    entry!(
        "config:StopConfigurationRecorder",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "stops AWS Config recording"
    ),
    entry!(
        "config:DeleteConfigurationRecorder",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "deletes the AWS Config recorder"
    ),
    entry!(
        "config:DeleteDeliveryChannel",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "deletes AWS Config's delivery channel"
    ),
    entry!(
        "ec2:DeleteFlowLogs",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "deletes VPC flow logs"
    ),
    entry!(
        "route53resolver:DeleteResolverQueryLogConfig",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "deletes DNS query logging"
    ),
    entry!(
        "route53resolver:DisassociateResolverQueryLogConfig",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "detaches DNS query logging from a VPC"
    ),
    entry!(
        "logs:DeleteLogGroup",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1562.008"],
        "deletes a CloudWatch log group"
    ),
    entry!(
        "organizations:LeaveOrganization",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1666"],
        "takes the account out of its organisation and its guardrails"
    ),
    entry!(
        "guardduty:CreateFilter",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "creates a GuardDuty filter that archives matching findings"
    ),
    entry!(
        "guardduty:UpdateFilter",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "makes a GuardDuty filter archive matching findings"
    ),
    entry!(
        "securityhub:BatchUpdateFindings",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "suppresses Security Hub findings"
    ),
    entry!(
        "macie2:DisableMacie",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "disables Macie"
    ),
    entry!(
        "macie2:UpdateMacieSession",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "pauses Macie"
    ),
    entry!(
        "wafv2:DeleteWebACL",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.007"],
        "deletes a WAF web ACL"
    ),
    entry!(
        "wafv2:DeleteRuleGroup",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.007"],
        "deletes a WAF rule group"
    ),
    entry!(
        "wafv2:DisassociateWebACL",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.007"],
        "detaches a WAF web ACL from the resource it protects"
    ),
    entry!(
        "config:DeleteConfigRule",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1562.001"],
        "deletes an AWS Config rule"
    ),
    entry!(
        "s3:PutBucketLogging",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.008"],
        "turns off a bucket's server access logging"
    ),
    entry!(
        "s3:PutEncryptionConfiguration",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1562.001"],
        "removes a bucket's default encryption"
    ),
    // Credential access.
    entry!(
        "secretsmanager:GetSecretValue",
        CredentialAccess,
        High,
        false,
        CRED,
        ["T1555.006"],
        "reads a secret's value"
    ),
    entry!(
        "secretsmanager:BatchGetSecretValue",
        CredentialAccess,
        High,
        false,
        CRED,
        ["T1555.006"],
        "reads many secrets' values at once"
    ),
    entry!(
        "ssm:GetParameter",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1552"],
        "reads a parameter (SecureString values when decrypted)"
    ),
    entry!(
        "ssm:GetParameters",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1552"],
        "reads parameters (SecureString values when decrypted)"
    ),
    entry!(
        "ssm:GetParametersByPath",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1552"],
        "reads a tree of parameters (SecureString values when decrypted)"
    ),
    entry!(
        "ec2:GetPasswordData",
        CredentialAccess,
        High,
        false,
        CRED,
        ["T1552"],
        "retrieves a Windows instance's administrator password"
    ),
    // Exfiltration.
    entry!(
        "ec2:ModifySnapshotAttribute",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "shares an EBS snapshot"
    ),
    entry!(
        "ec2:ModifyImageAttribute",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "shares an AMI"
    ),
    entry!(
        "rds:ModifyDBSnapshotAttribute",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "shares an RDS snapshot"
    ),
    entry!(
        "rds:ModifyDBClusterSnapshotAttribute",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "shares an RDS cluster snapshot"
    ),
    entry!(
        "s3:PutBucketPolicy",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "rewrites a bucket policy (possibly public or cross-account)"
    ),
    entry!(
        "s3:PutBucketAcl",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "changes a bucket ACL"
    ),
    entry!(
        "s3:PutBucketPublicAccessBlock",
        Exfiltration,
        High,
        false,
        &[Tactic::Exfiltration, Tactic::DefenseEvasion],
        ["T1537", "T1562.007"],
        "removes or weakens a bucket's public access block"
    ),
    entry!(
        "s3:PutReplicationConfiguration",
        Exfiltration,
        Medium,
        false,
        EXFIL,
        ["T1537"],
        "replicates a bucket elsewhere"
    ),
    entry!(
        "rds:StartExportTask",
        Exfiltration,
        Medium,
        false,
        EXFIL,
        ["T1537"],
        "exports a database snapshot to S3"
    ),
    entry!(
        "rds:RestoreDBInstanceFromDBSnapshot",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1537"],
        "restores a snapshot as a publicly accessible database"
    ),
    entry!(
        "ec2:AuthorizeSecurityGroupIngress",
        Exfiltration,
        Medium,
        false,
        &[Tactic::Exfiltration, Tactic::DefenseEvasion],
        ["T1562.007", "T1048"],
        "opens inbound network access in a security group"
    ),
    // Other sensitive actions.
    entry!(
        "ssm:SendCommand",
        Sensitive,
        High,
        false,
        &[Tactic::Execution, Tactic::CredentialAccess],
        ["T1651", "T1552.005"],
        "runs commands on instances (which can read their role credentials)"
    ),
    entry!(
        "ssm:StartSession",
        Sensitive,
        High,
        false,
        &[Tactic::Execution, Tactic::LateralMovement],
        ["T1651", "T1021.008"],
        "opens a shell on an instance"
    ),
    entry!(
        "ec2-instance-connect:SendSSHPublicKey",
        Sensitive,
        High,
        false,
        &[Tactic::LateralMovement],
        ["T1021.008"],
        "pushes an SSH key to an instance"
    ),
    entry!(
        "ec2-instance-connect:SendSerialConsoleSSHPublicKey",
        Sensitive,
        High,
        false,
        &[Tactic::LateralMovement],
        ["T1021.008"],
        "pushes an SSH key to an instance's serial console"
    ),
    entry!(
        "ec2:EnableSerialConsoleAccess",
        Sensitive,
        High,
        false,
        &[Tactic::LateralMovement, Tactic::DefenseEvasion],
        ["T1021.008"],
        "enables serial console access account-wide"
    ),
    entry!(
        "ec2:RunInstances",
        Sensitive,
        Medium,
        false,
        &[Tactic::Execution, Tactic::Impact],
        ["T1578.002", "T1496"],
        "launches instances"
    ),
    entry!(
        "ec2:ModifyInstanceAttribute",
        Sensitive,
        Medium,
        false,
        &[Tactic::Execution, Tactic::Persistence],
        ["T1059"],
        "changes an instance's attributes, such as the user data it runs at boot"
    ),
    entry!(
        "lambda:UpdateFunctionCode",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1546", "T1648"],
        "replaces a function's code"
    ),
    entry!(
        "lambda:UpdateFunctionConfiguration",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1546", "T1648"],
        "changes a function's configuration, layers or environment"
    ),
    entry!(
        "lambda:AddPermission",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence],
        ["T1546"],
        "lets another principal invoke a function"
    ),
    entry!(
        "lambda:PublishLayerVersion",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1546", "T1648"],
        "publishes a Lambda layer"
    ),
    entry!(
        "bedrock:InvokeModel",
        Sensitive,
        Medium,
        false,
        &[Tactic::Impact],
        ["T1496"],
        "invokes a foundation model"
    ),
    entry!(
        "bedrock:InvokeModelWithResponseStream",
        Sensitive,
        Medium,
        false,
        &[Tactic::Impact],
        ["T1496"],
        "invokes a foundation model"
    ),
    entry!(
        "bedrock:PutFoundationModelEntitlement",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1496"],
        "enables access to a foundation model"
    ),
    entry!(
        "bedrock:PutUseCaseForModelAccess",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1496"],
        "requests access to foundation models"
    ),
    entry!(
        "bedrock:CreateFoundationModelAgreement",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1496"],
        "accepts a foundation model's offer"
    ),
    entry!(
        "rds:DeleteDBInstance",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1485", "T1490"],
        "deletes a database instance without a final snapshot"
    ),
    entry!(
        "rds:DeleteDBCluster",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1485", "T1490"],
        "deletes a database cluster without a final snapshot"
    ),
    entry!(
        "rds:DeleteDBSnapshot",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "deletes a database snapshot"
    ),
    entry!(
        "rds:DeleteDBClusterSnapshot",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "deletes a database cluster snapshot"
    ),
    entry!(
        "rds:DeleteDBInstanceAutomatedBackup",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "deletes a database's retained automated backups"
    ),
    entry!(
        "rds:ModifyDBInstance",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "turns off a database's deletion protection or automated backups"
    ),
    entry!(
        "rds:ModifyDBCluster",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "turns off a database cluster's deletion protection or automated backups"
    ),
    entry!(
        "s3:PutBucketVersioning",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1490"],
        "suspends a bucket's versioning, so overwritten and deleted objects cannot be recovered"
    ),
    entry!(
        "s3:PutLifecycleConfiguration",
        Sensitive,
        High,
        false,
        IMPACT,
        ["T1485"],
        "sets a lifecycle rule that expires every object of a bucket"
    ),
    entry!(
        "kms:ScheduleKeyDeletion",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1485"],
        "schedules a KMS key for deletion"
    ),
    entry!(
        "kms:DisableKey",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1485"],
        "disables a KMS key"
    ),
];

/// Sensitive Kubernetes audit actions (`VERB:RESOURCE[/SUBRESOURCE]`).
pub const KUBERNETES_SENSITIVE_ACTIONS: &[SensitiveAction] = &[
    entry!(
        "get:secrets",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1552.007"],
        "reads a Secret"
    ),
    entry!(
        "list:secrets",
        CredentialAccess,
        High,
        false,
        CRED,
        ["T1552.007"],
        "lists Secrets with their values"
    ),
    entry!(
        "create:serviceaccounts/token",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1528"],
        "mints a service-account token"
    ),
    entry!(
        "create:pods/exec",
        Sensitive,
        High,
        false,
        &[Tactic::Execution],
        ["T1609"],
        "runs a command inside a container"
    ),
    entry!(
        "create:pods/attach",
        Sensitive,
        High,
        false,
        &[Tactic::Execution],
        ["T1609"],
        "attaches to a running container"
    ),
    entry!(
        "create:clusterrolebindings",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.006"],
        "binds a cluster role"
    ),
    entry!(
        "create:rolebindings",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.006"],
        "binds a role in a namespace"
    ),
    entry!(
        "escalate:clusterroles",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.006"],
        "grants a cluster role more than its author holds"
    ),
    entry!(
        "bind:clusterroles",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.006"],
        "binds a cluster role its author does not hold"
    ),
    entry!(
        "create:nodes/proxy",
        Sensitive,
        High,
        false,
        &[Tactic::Execution],
        ["T1609"],
        "calls a kubelet's API through the API server (it runs commands in any pod of the node)"
    ),
    entry!(
        "patch:pods/ephemeralcontainers",
        Sensitive,
        High,
        false,
        &[Tactic::Execution],
        ["T1609"],
        "adds a debugging container to a running pod"
    ),
    entry!(
        "update:pods/ephemeralcontainers",
        Sensitive,
        High,
        false,
        &[Tactic::Execution],
        ["T1609"],
        "adds a debugging container to a running pod"
    ),
    entry!(
        "update:certificatesigningrequests/approval",
        CredentialAccess,
        Medium,
        false,
        CRED,
        ["T1649"],
        "approves or denies a certificate signing request (the log did not keep which signer)"
    ),
    entry!(
        "delete:events",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1070"],
        "deletes cluster events"
    ),
];

/// Sensitive GitHub audit-log actions.
pub const GITHUB_SENSITIVE_ACTIONS: &[SensitiveAction] = &[
    entry!(
        "repo.access",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1567.001"],
        "changes a repository's visibility"
    ),
    entry!(
        "protected_branch.destroy",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "removes branch protection"
    ),
    entry!(
        "protected_branch.policy_override",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "overrides branch protection"
    ),
    entry!(
        "org.add_member",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098"],
        "adds a member to the organisation"
    ),
    entry!(
        "org.update_member",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098"],
        "changes an organisation member's role"
    ),
    entry!(
        "repo.add_member",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098"],
        "adds a collaborator to a repository"
    ),
    entry!(
        "hook.create",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Exfiltration],
        ["T1546"],
        "adds a webhook that receives repository events"
    ),
    // Apps.
    entry!(
        "integration_installation.create",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098"],
        "installs a GitHub App on the organisation"
    ),
    entry!(
        "integration_installation.version_updated",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098"],
        "accepts wider permissions for an installed GitHub App"
    ),
    entry!(
        "integration_installation.repositories_added",
        PrivilegeChange,
        Medium,
        false,
        PRIVESC_PERSIST,
        ["T1098"],
        "gives an installed GitHub App more repositories"
    ),
    entry!(
        "integration.create",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098"],
        "registers a GitHub App owned by the organisation"
    ),
    entry!(
        "integration.transfer",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098"],
        "transfers a GitHub App to another owner"
    ),
    entry!(
        "oauth_application.create",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098"],
        "registers an OAuth app owned by the organisation"
    ),
    // Tokens and keys.
    entry!(
        "personal_access_token.request_created",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098.001"],
        "asks for a fine-grained personal access token to reach the organisation"
    ),
    entry!(
        "personal_access_token.access_granted",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001"],
        "lets a fine-grained personal access token reach the organisation"
    ),
    entry!(
        "org_credential_authorization.grant",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098.001"],
        "authorises a token or SSH key for the organisation's SAML single sign-on"
    ),
    entry!(
        "public_key.create",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.004"],
        "adds a deploy key (an SSH key with repository access)"
    ),
    // Secrets and workflows.
    entry!(
        "org.create_actions_secret",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1072"],
        "creates an organisation-wide Actions secret that workflows receive"
    ),
    entry!(
        "org.update_actions_secret",
        Sensitive,
        High,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1072"],
        "replaces an organisation-wide Actions secret that workflows receive"
    ),
    entry!(
        "repo.create_actions_secret",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1072"],
        "creates a repository Actions secret"
    ),
    entry!(
        "repo.update_actions_secret",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1072"],
        "replaces a repository Actions secret"
    ),
    entry!(
        "environment.update_actions_secret",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Execution],
        ["T1072"],
        "replaces a deployment environment's Actions secret"
    ),
    entry!(
        "org.register_self_hosted_runner",
        Sensitive,
        High,
        false,
        &[Tactic::Execution, Tactic::Persistence],
        ["T1072"],
        "registers a self-hosted runner that receives the organisation's workflow jobs and secrets"
    ),
    entry!(
        "repo.register_self_hosted_runner",
        Sensitive,
        High,
        false,
        &[Tactic::Execution, Tactic::Persistence],
        ["T1072"],
        "registers a self-hosted runner that receives a repository's workflow jobs and secrets"
    ),
    entry!(
        "environment.remove_protection_rule",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "removes a deployment environment's protection rule (required reviewers, wait timer)"
    ),
    // Code protections.
    entry!(
        "repository_ruleset.destroy",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.001"],
        "deletes a repository ruleset"
    ),
    entry!(
        "repository_secret_scanning.disable",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "turns secret scanning off for a repository"
    ),
    entry!(
        "repository_secret_scanning_push_protection.disable",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "turns secret-scanning push protection off for a repository"
    ),
    entry!(
        "secret_scanning.disable",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "turns secret scanning off for the organisation's repositories"
    ),
    entry!(
        "secret_scanning_new_repos.disable",
        DefenseEvasion,
        Medium,
        true,
        EVASION,
        ["T1562.001"],
        "stops enabling secret scanning on new repositories"
    ),
    entry!(
        "org.secret_scanning_push_protection_disable",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "turns secret-scanning push protection off for the organisation"
    ),
    entry!(
        "secret_scanning_push_protection.bypass",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "pushes a secret past push protection"
    ),
    // Network and authentication settings.
    entry!(
        "ip_allow_list.disable",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.007"],
        "turns the IP allow list off"
    ),
    entry!(
        "ip_allow_list.disable_for_installed_apps",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.007"],
        "stops applying the IP allow list to installed GitHub Apps"
    ),
    entry!(
        "ip_allow_list_entry.create",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1562.007"],
        "adds a network to the IP allow list"
    ),
    entry!(
        "org.disable_saml",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1556"],
        "turns SAML single sign-on off for the organisation"
    ),
    entry!(
        "business.disable_saml",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1556"],
        "turns SAML single sign-on off for the enterprise"
    ),
    entry!(
        "org.disable_two_factor_requirement",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1556.006"],
        "stops requiring two-factor authentication in the organisation"
    ),
    entry!(
        "business.disable_two_factor_requirement",
        DefenseEvasion,
        Critical,
        true,
        EVASION,
        ["T1556.006"],
        "stops requiring two-factor authentication in the enterprise"
    ),
    entry!(
        "org.update_saml_provider_settings",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "changes which identity provider the organisation trusts for single sign-on"
    ),
    entry!(
        "org.disable_oauth_app_restrictions",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.001"],
        "lets any OAuth app reach the organisation's data (third-party access restrictions off)"
    ),
    entry!(
        "business.update_saml_provider_settings",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "changes which identity provider the enterprise trusts for single sign-on"
    ),
    entry!(
        "hook.config_changed",
        Sensitive,
        Medium,
        false,
        &[Tactic::Persistence, Tactic::Exfiltration],
        ["T1546"],
        "changes where a webhook delivers events (URL, secret, content type)"
    ),
    entry!(
        "repo.destroy",
        Sensitive,
        High,
        false,
        &[Tactic::Impact],
        ["T1485"],
        "deletes a repository"
    ),
    entry!(
        "repo.transfer_outgoing",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1567.001"],
        "transfers a repository out of the organisation"
    ),
    entry!(
        "migration.create",
        Exfiltration,
        High,
        false,
        EXFIL,
        ["T1567.001"],
        "exports repositories into a migration archive"
    ),
    entry!(
        "dependabot_alerts.disable",
        DefenseEvasion,
        Medium,
        true,
        EVASION,
        ["T1562.001"],
        "turns Dependabot alerts off for the organisation's repositories"
    ),
    entry!(
        "dependabot_security_updates.disable",
        DefenseEvasion,
        Medium,
        true,
        EVASION,
        ["T1562.001"],
        "turns Dependabot security updates off for the organisation's repositories"
    ),
    entry!(
        "repository_vulnerability_alerts.disable",
        DefenseEvasion,
        Medium,
        true,
        EVASION,
        ["T1562.001"],
        "turns vulnerability alerts off for a repository"
    ),
];

/// Sensitive Okta System Log event types, done by an API token or a service app (or to one).
pub const OKTA_SENSITIVE_ACTIONS: &[SensitiveAction] = &[
    entry!(
        "system.api_token.create",
        PrivilegeChange,
        High,
        true,
        PERSIST,
        ["T1098.001"],
        "creates an Okta API token, which acts with its creator's admin rights"
    ),
    entry!(
        "app.oauth2.client.privilege.grant",
        PrivilegeChange,
        Critical,
        true,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "grants an Okta admin role to an OAuth client (service app)"
    ),
    entry!(
        "app.oauth2.credentials.lifecycle.create",
        PrivilegeChange,
        High,
        false,
        PERSIST,
        ["T1098.001"],
        "adds a client secret or key to an OAuth client"
    ),
    entry!(
        "iam.resourceset.bindings.add",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "assigns a custom Okta admin role over a resource set"
    ),
    entry!(
        "user.account.privilege.grant",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "grants an Okta admin role to a user"
    ),
    entry!(
        "group.privilege.grant",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1098.003"],
        "grants an Okta admin role to a group"
    ),
    entry!(
        "user.mfa.factor.reset_all",
        PrivilegeChange,
        High,
        false,
        &[Tactic::DefenseEvasion, Tactic::Persistence],
        ["T1556.006"],
        "removes every MFA factor of a user"
    ),
    entry!(
        "user.mfa.factor.deactivate",
        PrivilegeChange,
        High,
        false,
        &[Tactic::DefenseEvasion, Tactic::Persistence],
        ["T1556.006"],
        "removes an MFA factor of a user"
    ),
    entry!(
        "policy.lifecycle.update",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "changes an Okta policy (sign-on, MFA, password)"
    ),
    entry!(
        "policy.lifecycle.deactivate",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "deactivates an Okta policy"
    ),
    entry!(
        "policy.lifecycle.delete",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "deletes an Okta policy"
    ),
    entry!(
        "policy.rule.update",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "changes a rule of an Okta policy"
    ),
    entry!(
        "policy.rule.deactivate",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "deactivates a rule of an Okta policy"
    ),
    entry!(
        "policy.rule.delete",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1556"],
        "deletes a rule of an Okta policy"
    ),
    entry!(
        "system.idp.lifecycle.create",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "adds an identity provider that Okta trusts to sign users in"
    ),
    entry!(
        "system.idp.lifecycle.update",
        PrivilegeChange,
        High,
        false,
        PRIVESC_PERSIST,
        ["T1484.002"],
        "changes an identity provider Okta trusts"
    ),
    entry!(
        "user.account.reset_password",
        PrivilegeChange,
        Medium,
        false,
        PERSIST,
        ["T1098"],
        "resets a user's password"
    ),
    entry!(
        "zone.update",
        DefenseEvasion,
        Medium,
        false,
        EVASION,
        ["T1562.007"],
        "changes a network zone (the addresses policies trust or block)"
    ),
    entry!(
        "zone.deactivate",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.007"],
        "deactivates a network zone"
    ),
    entry!(
        "zone.delete",
        DefenseEvasion,
        High,
        false,
        EVASION,
        ["T1562.007"],
        "deletes a network zone"
    ),
    entry!(
        "system.log_stream.lifecycle.deactivate",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "stops streaming the System Log to its destination"
    ),
    entry!(
        "system.log_stream.lifecycle.delete",
        DefenseEvasion,
        High,
        true,
        EVASION,
        ["T1562.008"],
        "deletes a System Log stream"
    ),
];

/// Every sensitive action of every platform, the Kubernetes ones judged by content included.
pub fn all_sensitive_actions() -> impl Iterator<Item = &'static SensitiveAction> {
    SENSITIVE_ACTIONS
        .iter()
        .chain(KUBERNETES_SENSITIVE_ACTIONS)
        .chain(GITHUB_SENSITIVE_ACTIONS)
        .chain(OKTA_SENSITIVE_ACTIONS)
        .chain(super::kubernetes::CONTENT_ACTIONS)
}

/// The catalogue entry an event matches, judged by its action and, for Kubernetes, by what
/// the request asked for; `None` for the normal work of the configured Kubernetes system
/// identities.
pub fn sensitive_event(
    event: &crate::event::Event,
    system_identities: &[String],
) -> Option<&'static SensitiveAction> {
    use crate::event::LogKind;
    match event.log {
        LogKind::KubernetesAudit => {
            if super::kubernetes::is_system_identity(event, system_identities) {
                return None;
            }
            match super::kubernetes::classify(event) {
                super::kubernetes::Judgement::Report(entry) => Some(entry),
                super::kubernetes::Judgement::Harmless => None,
                super::kubernetes::Judgement::ByAction => sensitive_action(&event.action),
            }
        }
        LogKind::OktaSystemLog => OKTA_SENSITIVE_ACTIONS
            .iter()
            .find(|s| s.action == event.action),
        _ => sensitive_action(crate::baseline::iam_action(&event.action)),
    }
}

/// The catalogue entry for an action (case-insensitive): IAM, Kubernetes or GitHub.
pub fn sensitive_action(action: &str) -> Option<&'static SensitiveAction> {
    static BY_NAME: LazyLock<HashMap<String, &'static SensitiveAction>> = LazyLock::new(|| {
        all_sensitive_actions()
            .map(|s| (s.action.to_ascii_lowercase(), s))
            .collect()
    });
    BY_NAME.get(&action.to_ascii_lowercase()).copied()
}

/// ATT&CK discovery techniques for a service's read calls.
pub fn discovery_technique(service: &str) -> Technique {
    match service {
        "iam" => technique!("T1087.004"),
        "ec2" | "lambda" | "rds" | "ecs" | "eks" => technique!("T1580"),
        "s3" => technique!("T1619"),
        "organizations" => technique!("T1069.003"),
        _ => technique!("T1526"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_unique_mapped_and_in_the_iam_catalogue() {
        let catalogue = warrant_aws_policy::catalog();
        let mut seen = std::collections::BTreeSet::new();
        let mut missing = Vec::new();
        for s in SENSITIVE_ACTIONS {
            assert!(seen.insert(s.action.to_ascii_lowercase()), "{}", s.action);
            assert!(
                !s.tactics.is_empty() && !s.techniques.is_empty(),
                "{}",
                s.action
            );
            // Every entry is an IAM action: events are looked up by the action CloudTrail's event
            // maps to (`DeleteBucketPublicAccessBlock` is `s3:PutBucketPublicAccessBlock`), so an
            // entry named after an event could never fire.
            if catalogue.index_of(s.action).is_none() {
                missing.push(s.action);
            }
        }
        assert!(missing.is_empty(), "not IAM actions: {missing:?}");
        for s in KUBERNETES_SENSITIVE_ACTIONS
            .iter()
            .chain(GITHUB_SENSITIVE_ACTIONS)
            .chain(OKTA_SENSITIVE_ACTIONS)
            .chain(super::super::kubernetes::CONTENT_ACTIONS)
        {
            assert!(seen.insert(s.action.to_ascii_lowercase()), "{}", s.action);
            assert!(
                !s.tactics.is_empty() && !s.techniques.is_empty(),
                "{}",
                s.action
            );
        }
        assert_eq!(all_sensitive_actions().count(), seen.len());
        assert_eq!(
            sensitive_action("create:pods/exec").map(|s| s.category),
            Some(Category::Sensitive)
        );
        assert!(sensitive_action("repo.access").is_some());
        assert!(sensitive_action("CLOUDTRAIL:stoplogging").is_some());
    }
}
