//! Known AWS privilege-escalation paths and the action lists that make a policy dangerous.

/// Actions that let a principal attach or write arbitrary policies, i.e. become administrator.
pub(super) const SELF_GRANT: &[&str] = &[
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:CreatePolicyVersion",
];

pub(super) const SECRET_ACTIONS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
    "sts:GetFederationToken",
];

pub(super) struct Technique {
    pub(super) name: &'static str,
    /// All of these are needed…
    pub(super) all: &'static [&'static str],
    /// …plus at least one of these (when not empty).
    pub(super) any: &'static [&'static str],
    pub(super) explanation: &'static str,
}

/// Known AWS privilege-escalation paths (facts as published by cloud security research).
pub(super) const ESCALATIONS: &[Technique] = &[
    Technique {
        name: "create-policy-version",
        all: &["iam:CreatePolicyVersion"],
        any: &[],
        explanation: "Can publish a new default version of a managed policy it holds, with any permissions.",
    },
    Technique {
        name: "set-default-policy-version",
        all: &["iam:SetDefaultPolicyVersion"],
        any: &[],
        explanation: "Can switch a managed policy to an older, possibly broader, version.",
    },
    Technique {
        name: "create-access-key",
        all: &["iam:CreateAccessKey"],
        any: &[],
        explanation: "Can create access keys for other users and act as them.",
    },
    Technique {
        name: "create-login-profile",
        all: &["iam:CreateLoginProfile"],
        any: &[],
        explanation: "Can give other users a console password and sign in as them.",
    },
    Technique {
        name: "update-login-profile",
        all: &["iam:UpdateLoginProfile"],
        any: &[],
        explanation: "Can reset other users' console passwords and sign in as them.",
    },
    Technique {
        name: "attach-policy",
        all: &[],
        any: &[
            "iam:AttachUserPolicy",
            "iam:AttachGroupPolicy",
            "iam:AttachRolePolicy",
        ],
        explanation: "Can attach any managed policy (such as AdministratorAccess) to principals.",
    },
    Technique {
        name: "put-inline-policy",
        all: &[],
        any: &[
            "iam:PutUserPolicy",
            "iam:PutGroupPolicy",
            "iam:PutRolePolicy",
        ],
        explanation: "Can write inline policies with any permissions onto principals.",
    },
    Technique {
        name: "add-user-to-group",
        all: &["iam:AddUserToGroup"],
        any: &[],
        explanation: "Can add users to any group, including administrator groups.",
    },
    Technique {
        name: "update-assume-role-policy",
        all: &["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
        any: &[],
        explanation: "Can rewrite a role's trust policy to trust itself, then assume the role.",
    },
    Technique {
        name: "passrole-ec2",
        all: &["iam:PassRole", "ec2:RunInstances"],
        any: &[],
        explanation: "Can launch an instance with a more privileged role and use its credentials.",
    },
    Technique {
        name: "passrole-lambda",
        all: &["iam:PassRole", "lambda:CreateFunction"],
        any: &[
            "lambda:InvokeFunction",
            "lambda:CreateEventSourceMapping",
            "lambda:AddPermission",
        ],
        explanation: "Can create a Lambda function running as a more privileged role and invoke it.",
    },
    Technique {
        name: "passrole-cloudformation",
        all: &["iam:PassRole", "cloudformation:CreateStack"],
        any: &[],
        explanation: "Can create a CloudFormation stack that runs as a more privileged role.",
    },
    Technique {
        name: "passrole-glue",
        all: &["iam:PassRole", "glue:CreateDevEndpoint"],
        any: &[],
        explanation: "Can create a Glue development endpoint with a more privileged role and log in to it.",
    },
    Technique {
        name: "passrole-datapipeline",
        all: &[
            "iam:PassRole",
            "datapipeline:CreatePipeline",
            "datapipeline:PutPipelineDefinition",
        ],
        any: &[],
        explanation: "Can run a Data Pipeline with a more privileged role.",
    },
    Technique {
        name: "passrole-sagemaker",
        all: &[
            "iam:PassRole",
            "sagemaker:CreateNotebookInstance",
            "sagemaker:CreatePresignedNotebookInstanceUrl",
        ],
        any: &[],
        explanation: "Can create a SageMaker notebook with a more privileged role and open it.",
    },
    Technique {
        name: "passrole-ecs",
        all: &["iam:PassRole", "ecs:RunTask"],
        any: &["ecs:RegisterTaskDefinition"],
        explanation: "Can run an ECS task with a more privileged task role.",
    },
    Technique {
        name: "passrole-codebuild",
        all: &[
            "iam:PassRole",
            "codebuild:CreateProject",
            "codebuild:StartBuild",
        ],
        any: &[],
        explanation: "Can run a CodeBuild project with a more privileged service role.",
    },
    Technique {
        name: "lambda-update-code",
        all: &["lambda:UpdateFunctionCode"],
        any: &[],
        explanation: "Can replace the code of existing functions and act as their execution roles.",
    },
    Technique {
        name: "glue-update-endpoint",
        all: &["glue:UpdateDevEndpoint"],
        any: &[],
        explanation: "Can add its SSH key to existing Glue endpoints and use their roles.",
    },
    Technique {
        name: "ssm-command",
        all: &[],
        any: &["ssm:SendCommand", "ssm:StartSession"],
        explanation: "Can run commands on managed instances and use their instance-profile credentials.",
    },
    Technique {
        name: "ec2-instance-connect",
        all: &["ec2-instance-connect:SendSSHPublicKey"],
        any: &[],
        explanation: "Can push an SSH key to instances and use their instance-profile credentials.",
    },
];
