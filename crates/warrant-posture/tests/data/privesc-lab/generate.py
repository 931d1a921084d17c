#!/usr/bin/env python3
"""Writes Warrant's privilege-escalation lab: authorization-details.json (the shape of
`aws iam get-account-authorization-details`) and expect.toml (what each principal can do).

Every principal here was written for Warrant from the public description of a technique: one
user per technique (`pos-…`) holding just what the technique needs, and look-alikes (`neg-…`)
that hold similar permissions but cannot use them (a deny elsewhere, a condition in the past,
the AWS-managed policy namespace, a resource scoped to the caller itself, a boundary, a role
passed to the wrong service, a role that does not exist). `chain-…` principals exercise the
transitive graph (trust chains, pass-role into a stronger role, group membership).

Run it again after changing a principal: `python3 generate.py` (deterministic output).
"""

import base64
import hashlib
import json
import pathlib

ACCOUNT = "111122223333"
CREATED = "2026-01-15T09:00:00Z"
HERE = pathlib.Path(__file__).parent


def aws_id(prefix, name):
    """A unique id in AWS's shape (prefix + 17 characters), stable for a name."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return prefix + digest[:17]


def arn(kind, name):
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resources="*", condition=None):
    s = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        s["Condition"] = condition
    return s


def deny(actions, resources="*", condition=None):
    s = {"Effect": "Deny", "Action": actions, "Resource": resources}
    if condition:
        s["Condition"] = condition
    return s


ROLES_STAR = arn("role", "*")
USERS_STAR = arn("user", "*")
PAST = {"DateLessThan": {"aws:CurrentTime": "2025-06-30T00:00:00Z"}}

users = []
roles = []
groups = []
policies = []
expect = {}


def managed(name, document, aws=False):
    policy_arn = f"arn:aws:iam::aws:policy/{name}" if aws else arn("policy", name)
    policies.append(
        {
            "PolicyName": name,
            "PolicyId": aws_id("ANPA", name),
            "Arn": policy_arn,
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": CREATED,
            "UpdateDate": CREATED,
            "PolicyVersionList": [
                {
                    "Document": document,
                    "VersionId": "v1",
                    "IsDefaultVersion": True,
                    "CreateDate": CREATED,
                }
            ],
        }
    )
    return policy_arn


def user(name, techniques, statements=(), attached=(), groups_=(), boundary=None, reach=None):
    u = {
        "Path": "/lab/",
        "UserName": name,
        "UserId": aws_id("AIDA", name),
        "Arn": arn("user", f"lab/{name}"),
        "CreateDate": CREATED,
        "GroupList": list(groups_),
        "AttachedManagedPolicies": [
            {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached
        ],
        "UserPolicyList": (
            [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else []
        ),
        "Tags": [{"Key": "owner", "Value": "security-lab@example.com"}],
    }
    if boundary:
        u["PermissionsBoundary"] = {
            "PermissionsBoundaryType": "Policy",
            "PermissionsBoundaryArn": boundary,
        }
    users.append(u)
    entry = {"techniques": sorted(techniques)}
    if reach is not None:
        entry["reaches_admin_in"] = reach
    expect[u["Arn"]] = entry


def role(name, trust, attached=(), statements=(), techniques=(), reach=None, profiles=()):
    r = {
        "Path": "/",
        "RoleName": name,
        "RoleId": aws_id("AROA", name),
        "Arn": arn("role", name),
        "CreateDate": CREATED,
        "AssumeRolePolicyDocument": doc(*trust),
        "InstanceProfileList": [
            {
                "Path": "/",
                "InstanceProfileName": p,
                "InstanceProfileId": aws_id("AIPA", p),
                "Arn": arn("instance-profile", p),
                "CreateDate": CREATED,
                "Roles": [],
            }
            for p in profiles
        ],
        "RolePolicyList": (
            [{"PolicyName": f"{name}-inline", "PolicyDocument": doc(*statements)}]
            if statements
            else []
        ),
        "AttachedManagedPolicies": [
            {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached
        ],
        "Tags": [{"Key": "owner", "Value": "security-lab@example.com"}],
        "RoleLastUsed": {},
    }
    roles.append(r)
    entry = {"techniques": sorted(techniques)}
    if reach is not None:
        entry["reaches_admin_in"] = reach
    expect[r["Arn"]] = entry


def trust_service(service):
    return {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }


def trust_principal(principal_arn):
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal_arn},
        "Action": "sts:AssumeRole",
    }


ADMIN = managed("AdministratorAccess", doc(allow("*")), aws=True)
READ_ONLY = managed(
    "ReadOnlyAccess", doc(allow(["s3:Get*", "s3:List*", "ec2:Describe*", "iam:Get*", "iam:List*"])), aws=True
)

# The privileged roles the lab's paths end in: an administrator role trusted by a compute
# service, as a real account has for its deployment and job services.
for svc in ["lambda", "ec2", "ecs-tasks", "sagemaker", "glue", "codebuild", "cloudformation", "states"]:
    profiles = ["lab-ec2-admin-profile"] if svc == "ec2" else []
    role(f"lab-{svc.replace('-', '')}-admin", [trust_service(f"{svc}.amazonaws.com")], attached=[ADMIN], profiles=profiles)
    expect[arn("role", f"lab-{svc.replace('-', '')}-admin")] = {"techniques": [], "admin": True}

# --- self-grant ---------------------------------------------------------------------------
user("pos-create-policy-version", ["create-policy-version"], [allow("iam:CreatePolicyVersion", arn("policy", "*"))], reach=1)
user("pos-set-default-policy-version", ["set-default-policy-version"], [allow("iam:SetDefaultPolicyVersion", arn("policy", "*"))])
user("pos-attach-policy", ["attach-policy"], [allow("iam:AttachUserPolicy", USERS_STAR)], reach=1)
user("pos-attach-role-policy", ["attach-policy"], [allow("iam:AttachRolePolicy", ROLES_STAR)])
user("pos-put-inline-policy", ["put-inline-policy"], [allow("iam:PutUserPolicy", arn("user", "lab/${aws:username}"))], reach=1)
user("pos-put-group-policy", ["put-inline-policy"], [allow("iam:PutGroupPolicy", arn("group", "*"))])
user("neg-create-policy-version-aws-managed", [], [allow("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/*")])
user(
    "neg-attach-policy-read-only",
    [],
    [allow("iam:AttachUserPolicy", USERS_STAR, {"ArnEquals": {"iam:PolicyARN": READ_ONLY}})],
)
user("neg-put-inline-policy-expired", [], [allow("iam:PutRolePolicy", ROLES_STAR, PAST)])
user(
    "low-attach-policy-mfa",
    ["attach-policy"],
    [allow("iam:AttachRolePolicy", ROLES_STAR, {"Bool": {"aws:MultiFactorAuthPresent": "true"}})],
)
expect[arn("user", "lab/low-attach-policy-mfa")]["low_confidence"] = ["attach-policy"]

# --- group membership ------------------------------------------------------------------------
groups.append(
    {
        "Path": "/",
        "GroupName": "lab-admins",
        "GroupId": aws_id("AGPA", "lab-admins"),
        "Arn": arn("group", "lab-admins"),
        "CreateDate": CREATED,
        "GroupPolicyList": [],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}],
    }
)
user("pos-add-user-to-group", ["add-user-to-group"], [allow("iam:AddUserToGroup", arn("group", "*"))], reach=1)
BOUNDARY_S3 = managed("lab-boundary-s3-only", doc(allow(["s3:*"])))
user(
    "neg-add-user-to-group-boundary",
    [],
    [allow("iam:AddUserToGroup", arn("group", "*"))],
    boundary=BOUNDARY_S3,
)

# --- permissions boundaries ------------------------------------------------------------------
user("pos-delete-permissions-boundary", ["delete-permissions-boundary"], [allow("iam:DeleteUserPermissionsBoundary", USERS_STAR)])
user("pos-put-permissions-boundary", ["put-permissions-boundary"], [allow("iam:PutRolePermissionsBoundary", ROLES_STAR)])
user("neg-put-permissions-boundary-expired", [], [allow("iam:PutUserPermissionsBoundary", USERS_STAR, PAST)])

# --- credentials for another principal -------------------------------------------------------
user("pos-create-access-key", ["create-access-key"], [allow("iam:CreateAccessKey", USERS_STAR)])
user("pos-create-login-profile", ["create-login-profile"], [allow("iam:CreateLoginProfile", USERS_STAR)])
user("pos-update-login-profile", ["update-login-profile"], [allow("iam:UpdateLoginProfile", USERS_STAR)])
user("neg-create-access-key-self", [], [allow(["iam:CreateAccessKey", "iam:UpdateAccessKey"], arn("user", "*/${aws:username}"))])
user("neg-update-login-profile-self", [], [allow("iam:UpdateLoginProfile", "arn:aws:iam::*:user/${aws:username}")])

# --- trust and identity providers ------------------------------------------------------------
user("pos-update-assume-role-policy", ["update-assume-role-policy"], [allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], ROLES_STAR)], reach=1)
user("pos-trust-own-saml-provider", ["trust-own-identity-provider"], [allow(["iam:CreateSAMLProvider", "iam:UpdateAssumeRolePolicy"])])
user("pos-trust-own-oidc-provider", ["trust-own-identity-provider"], [allow(["iam:CreateOpenIDConnectProvider", "iam:UpdateAssumeRolePolicy"])])
user("pos-update-saml-provider", ["update-saml-provider"], [allow("iam:UpdateSAMLProvider", arn("saml-provider", "*"))])
DENY_TRUST = managed("lab-deny-trust-changes", doc(deny(["iam:UpdateAssumeRolePolicy", "iam:CreateSAMLProvider", "iam:CreateOpenIDConnectProvider"])))
user(
    "neg-update-assume-role-policy-denied",
    [],
    [allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole", "iam:CreateSAMLProvider"], ROLES_STAR)],
    attached=[DENY_TRUST],
)

# --- pass a role to new compute --------------------------------------------------------------
PASS = allow("iam:PassRole", ROLES_STAR)
pass_role = [
    ("pos-passrole-ec2", ["passrole-ec2"], ["ec2:RunInstances"]),
    ("pos-passrole-ec2-spot", ["passrole-ec2-spot"], ["ec2:RequestSpotInstances"]),
    ("pos-passrole-autoscaling", ["passrole-autoscaling"], ["autoscaling:CreateAutoScalingGroup", "autoscaling:CreateLaunchConfiguration"]),
    ("pos-passrole-lambda", ["passrole-lambda"], ["lambda:CreateFunction", "lambda:InvokeFunction"]),
    ("pos-passrole-lambda-event-source", ["passrole-lambda"], ["lambda:CreateFunction", "lambda:CreateEventSourceMapping"]),
    ("pos-passrole-cloudformation", ["passrole-cloudformation"], ["cloudformation:CreateStack"]),
    ("pos-passrole-glue-dev-endpoint", ["passrole-glue"], ["glue:CreateDevEndpoint"]),
    ("pos-passrole-glue-job", ["passrole-glue-job"], ["glue:CreateJob", "glue:StartJobRun"]),
    ("pos-passrole-datapipeline", ["passrole-datapipeline"], ["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"]),
    ("pos-passrole-sagemaker-notebook", ["passrole-sagemaker", "sagemaker-presigned-notebook-url"], ["sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"]),
    ("pos-passrole-sagemaker-training", ["passrole-sagemaker-training"], ["sagemaker:CreateTrainingJob"]),
    ("pos-passrole-sagemaker-processing", ["passrole-sagemaker-processing"], ["sagemaker:CreateProcessingJob"]),
    ("pos-passrole-sagemaker-tuning", ["passrole-sagemaker-tuning"], ["sagemaker:CreateHyperParameterTuningJob"]),
    ("pos-passrole-ecs", ["passrole-ecs"], ["ecs:RegisterTaskDefinition", "ecs:RunTask"]),
    ("pos-passrole-batch", ["passrole-batch"], ["batch:RegisterJobDefinition", "batch:SubmitJob"]),
    ("pos-passrole-emr", ["passrole-emr"], ["elasticmapreduce:RunJobFlow"]),
    ("pos-passrole-apprunner", ["passrole-apprunner"], ["apprunner:CreateService"]),
    ("pos-passrole-stepfunctions", ["passrole-stepfunctions"], ["states:CreateStateMachine", "states:StartExecution"]),
    ("pos-passrole-bedrock-agent", ["passrole-bedrock-agent"], ["bedrock:CreateAgent", "bedrock:InvokeAgent"]),
    ("pos-passrole-bedrock-code-interpreter", ["passrole-bedrock-code-interpreter"], ["bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"]),
    ("pos-passrole-codebuild", ["passrole-codebuild", "codebuild-buildspec-override"], ["codebuild:CreateProject", "codebuild:StartBuild"]),
    ("pos-passrole-ec2-profile-swap", ["passrole-ec2-profile-swap"], ["ec2:ReplaceIamInstanceProfileAssociation"]),
]
for name, techniques, actions in pass_role:
    user(name, techniques, [PASS, allow(actions)])
# Pass-role users that exercise the graph: they reach the administrator role in one step.
expect[arn("user", "lab/pos-passrole-lambda")]["reaches_admin_in"] = 1
expect[arn("user", "lab/pos-passrole-sagemaker-training")]["reaches_admin_in"] = 1

user(
    "neg-passrole-lambda-to-ec2-only",
    [],
    [
        allow("iam:PassRole", ROLES_STAR, {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        allow(["lambda:CreateFunction", "lambda:InvokeFunction"]),
    ],
)
user(
    "neg-passrole-missing-role",
    [],
    [allow("iam:PassRole", arn("role", "lab-role-that-does-not-exist")), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])],
)
DENY_PASS = managed("lab-deny-passrole", doc(deny("iam:PassRole", "arn:aws:iam::*:role/*")))
user(
    "neg-passrole-sagemaker-denied",
    [],
    [PASS, allow(["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob"])],
    attached=[DENY_PASS],
)
user("neg-passrole-ecs-expired", [], [allow("iam:PassRole", ROLES_STAR, PAST), allow(["ecs:RegisterTaskDefinition", "ecs:RunTask"])])
user("neg-passrole-glue-no-pass", [], [allow(["glue:CreateJob", "glue:StartJobRun", "glue:CreateDevEndpoint"])])

# --- take over existing resources ------------------------------------------------------------
existing = [
    ("pos-lambda-update-code", ["lambda-update-code"], ["lambda:UpdateFunctionCode"]),
    ("pos-lambda-update-configuration", ["lambda-update-configuration"], ["lambda:UpdateFunctionConfiguration"]),
    ("pos-glue-update-endpoint", ["glue-update-endpoint"], ["glue:UpdateDevEndpoint"]),
    ("pos-glue-update-job", ["glue-update-job"], ["glue:UpdateJob", "glue:StartJobRun"]),
    ("pos-ssm-send-command", ["ssm-command"], ["ssm:SendCommand"]),
    ("pos-ssm-start-session", ["ssm-command"], ["ssm:StartSession"]),
    ("pos-ec2-instance-connect", ["ec2-instance-connect"], ["ec2-instance-connect:SendSSHPublicKey"]),
    ("pos-ec2-user-data", ["ec2-user-data"], ["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"]),
    ("pos-cloudformation-update-stack", ["cloudformation-update-stack"], ["cloudformation:UpdateStack"]),
    ("pos-cloudformation-change-set", ["cloudformation-change-set"], ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"]),
    ("pos-sagemaker-presigned-url", ["sagemaker-presigned-notebook-url"], ["sagemaker:CreatePresignedNotebookInstanceUrl"]),
    ("pos-codebuild-buildspec-override", ["codebuild-buildspec-override"], ["codebuild:StartBuild"]),
    ("pos-ecs-execute-command", ["ecs-execute-command"], ["ecs:ExecuteCommand"]),
    ("pos-emr-add-steps", ["emr-add-steps"], ["elasticmapreduce:AddJobFlowSteps"]),
]
for name, techniques, actions in existing:
    user(name, techniques, [allow(actions)])
user("neg-lambda-update-code-expired", [], [allow("lambda:UpdateFunctionCode", "*", PAST)])
groups.append(
    {
        "Path": "/",
        "GroupName": "lab-no-remote-commands",
        "GroupId": aws_id("AGPA", "lab-no-remote-commands"),
        "Arn": arn("group", "lab-no-remote-commands"),
        "CreateDate": CREATED,
        "GroupPolicyList": [
            {
                "PolicyName": "deny-remote-commands",
                "PolicyDocument": doc(deny(["ssm:SendCommand", "ssm:StartSession", "ec2-instance-connect:*"])),
            }
        ],
        "AttachedManagedPolicies": [],
    }
)
user("neg-ssm-denied-by-group", [], [allow(["ssm:SendCommand", "ssm:StartSession"])], groups_=["lab-no-remote-commands"])
user("neg-cloudformation-update-stack-one-stack", [], [allow("cloudformation:UpdateStack", f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/lab-static-site/abc123")])
user("neg-read-only", [], attached=[READ_ONLY])

# --- transitive paths ------------------------------------------------------------------------
# A role whose trust policy names a user's ARN: the user needs no policy to assume it.
user("chain-trusted-user", [], reach=1)
role("lab-ops-admin", [trust_principal(arn("user", "lab/chain-trusted-user"))], attached=[ADMIN])
expect[arn("role", "lab-ops-admin")] = {"techniques": [], "admin": True}
# Two hops: user → deploy role (trusts the user) → admin role (trusts the deploy role, which
# may assume it).
user("chain-two-hops", [], reach=2)
role(
    "lab-deploy",
    [trust_principal(arn("user", "lab/chain-two-hops"))],
    statements=[allow("sts:AssumeRole", arn("role", "lab-break-glass"))],
    reach=1,
)
role("lab-break-glass", [trust_principal(arn("role", "lab-deploy"))], attached=[ADMIN])
expect[arn("role", "lab-break-glass")] = {"techniques": [], "admin": True}
# Pass-role on one named role: a path only because that role exists and is an administrator.
user(
    "chain-passrole-named",
    [],
    [allow("iam:PassRole", arn("role", "lab-lambda-admin")), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])],
    reach=1,
)
# Credentials for one named user who is in the administrators' group.
user("chain-admin-member", [], groups_=["lab-admins"])
expect[arn("user", "lab/chain-admin-member")] = {"techniques": [], "admin": True}
user("chain-access-key-named", [], [allow("iam:CreateAccessKey", arn("user", "lab/chain-admin-member"))], reach=1)
# Trusted, but the trusted role is weak: no path.
user("chain-trusted-weak", [])
role("lab-reader", [trust_principal(arn("user", "lab/chain-trusted-weak"))], attached=[READ_ONLY])

# --- a named sensitive capability ------------------------------------------------------------
# `prod-secrets` (the test configures it): secretsmanager:GetSecretValue on prod/* secrets.
PROD_SECRETS = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/*"
user("cap-trusted-user", [])
expect[arn("user", "lab/cap-trusted-user")]["reaches_capability_in"] = 1
role(
    "lab-prod-secrets-reader",
    [trust_principal(arn("user", "lab/cap-trusted-user"))],
    statements=[allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], PROD_SECRETS)],
)
expect[arn("role", "lab-prod-secrets-reader")]["holds_capability"] = True
# Two hops: a pass-role user whose Lambda role may assume the reader role.
user(
    "cap-passrole-two-hops",
    [],
    [allow("iam:PassRole", arn("role", "lab-secrets-lambda")), allow(["lambda:CreateFunction", "lambda:InvokeFunction"])],
)
expect[arn("user", "lab/cap-passrole-two-hops")]["reaches_capability_in"] = 2
role(
    "lab-secrets-lambda",
    [trust_service("lambda.amazonaws.com")],
    statements=[allow("sts:AssumeRole", arn("role", "lab-prod-secrets-reader-2"))],
)
expect[arn("role", "lab-secrets-lambda")]["reaches_capability_in"] = 1
role(
    "lab-prod-secrets-reader-2",
    [trust_principal(arn("role", "lab-secrets-lambda"))],
    statements=[allow("secretsmanager:GetSecretValue", "*")],
)
expect[arn("role", "lab-prod-secrets-reader-2")]["holds_capability"] = True
# Look-alikes: the trusted role reads other secrets, or may not read prod's.
user("cap-neg-trusted-staging", [])
role(
    "lab-staging-secrets-reader",
    [trust_principal(arn("user", "lab/cap-neg-trusted-staging"))],
    statements=[allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:staging/*")],
)
user("cap-neg-trusted-denied", [])
role(
    "lab-secrets-reader-denied-prod",
    [trust_principal(arn("user", "lab/cap-neg-trusted-denied"))],
    statements=[allow("secretsmanager:GetSecretValue"), deny("secretsmanager:*", "arn:aws:secretsmanager:*:*:secret:prod/*")],
)

# --- existing resources, from the compute listings -------------------------------------------
# lambda-functions.json (`aws lambda list-functions`) and ec2-instances.json (`aws ec2
# describe-instances`): what runs as which role. A permission naming one exact function or
# instance is a path when that resource runs as an administrator; naming none that exists, or
# only one running as a weak role, is not.
REGION = "eu-west-1"
ADMIN_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lab-admin-fn"
REPORT_FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lab-report-fn"
ADMIN_INSTANCE = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0ab12cd34ef56a001"
functions = {
    "Functions": [
        {"FunctionName": "lab-admin-fn", "FunctionArn": ADMIN_FN, "Runtime": "python3.12",
         "Role": arn("role", "lab-lambda-admin"), "Handler": "app.handler"},
        {"FunctionName": "lab-report-fn", "FunctionArn": REPORT_FN, "Runtime": "python3.12",
         "Role": arn("role", "lab-reader"), "Handler": "app.handler"},
    ]
}
instances = {
    "Reservations": [
        {
            "ReservationId": "r-0lab0000000000001",
            "OwnerId": ACCOUNT,
            "Groups": [],
            "Instances": [
                {"InstanceId": "i-0ab12cd34ef56a001", "InstanceType": "t3.micro",
                 "Placement": {"AvailabilityZone": f"{REGION}a"},
                 "IamInstanceProfile": {"Arn": arn("instance-profile", "lab-ec2-admin-profile"), "Id": aws_id("AIPA", "lab-ec2-admin-profile")},
                 "State": {"Code": 16, "Name": "running"},
                 "Tags": [{"Key": "Name", "Value": "lab-bastion"}]},
            ],
        }
    ]
}
user("chain-update-named-function", [], [allow("lambda:UpdateFunctionCode", ADMIN_FN)], reach=1)
user("chain-ssm-named-instance", ["ssm-command"], [allow("ssm:SendCommand", [ADMIN_INSTANCE, "arn:aws:ssm:*:*:document/AWS-RunShellScript"])], reach=1)
user("neg-update-weak-function", [], [allow(["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"], REPORT_FN)])
user("neg-lambda-update-code-no-such-function", [], [allow("lambda:UpdateFunctionCode", f"arn:aws:lambda:*:{ACCOUNT}:function:retired-*")])

details = {
    "UserDetailList": users,
    "GroupDetailList": groups,
    "RoleDetailList": roles,
    "Policies": policies,
}
(HERE / "authorization-details.json").write_text(json.dumps(details, indent=2) + "\n")
(HERE / "lambda-functions.json").write_text(json.dumps(functions, indent=2) + "\n")
(HERE / "ec2-instances.json").write_text(json.dumps(instances, indent=2) + "\n")

lines = [
    "# What each principal of authorization-details.json can do (written by generate.py).",
    "# techniques: the exact escalation techniques Warrant must report ([] for look-alikes);",
    "# low_confidence: those that rest on an undecided condition; admin: administrator",
    "# already; reaches_admin_in: steps of the shortest path to an administrator;",
    "# holds_capability / reaches_capability_in: the `prod-secrets` capability, held or reached.",
    "",
]
for principal in sorted(expect):
    e = expect[principal]
    lines.append(f'["{principal}"]')
    lines.append("techniques = [" + ", ".join(f'"{t}"' for t in e["techniques"]) + "]")
    for key in ["low_confidence"]:
        if key in e:
            lines.append(f"{key} = [" + ", ".join(f'"{t}"' for t in e[key]) + "]")
    if e.get("admin"):
        lines.append("admin = true")
    if "reaches_admin_in" in e:
        lines.append(f"reaches_admin_in = {e['reaches_admin_in']}")
    if e.get("holds_capability"):
        lines.append("holds_capability = true")
    if "reaches_capability_in" in e:
        lines.append(f"reaches_capability_in = {e['reaches_capability_in']}")
    lines.append("")
(HERE / "expect.toml").write_text("\n".join(lines))
print(f"{len(users)} users, {len(roles)} roles, {len(groups)} groups, {len(policies)} managed policies")
