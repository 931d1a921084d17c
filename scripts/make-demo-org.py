#!/usr/bin/env python3
"""Writes examples/demo-org: the exports of a fictional company, Acme Analytics.

Every file is in the exact shape the provider's own tool emits (AWS CLI, kubectl, GitHub REST,
MCP client configs, Okta Users API), so the demo exercises the same parsers as real data.
Most identities are healthy; a few carry one planted problem each, listed in expected.json (the
oracle the tests assert against) and in the README's table. Dates are relative to the reference
date 2026-11-01 (run `warrant assess examples/demo-org --as-of 2026-11-01`).

All secrets here are fake: token-shaped strings made from a hash, never real credentials.

Usage: python3 scripts/make-demo-org.py [OUT_DIR]   (default: examples/demo-org)
"""
import base64
import hashlib
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
DOMAIN = "acme-analytics.example"
PROD, DEV, SEC = "111111111111", "222222222222", "333333333333"
ORG = "acme-analytics"

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "examples" / "demo-org")
expected = []  # (rule, identity) pairs that must be found
clean = []  # identities that must have no findings


def ago(days, hour=9):
    return (AS_OF - timedelta(days=days)).replace(hour=hour, minute=0, second=0)


def iso(days, hour=9):
    return ago(days, hour).strftime("%Y-%m-%dT%H:%M:%SZ")


def report_date(days):
    return ago(days).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def fake(kind, seed, length, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"):
    digest = hashlib.sha256(f"{kind}:{seed}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in (digest * 4)[:length])


def key_id(seed):
    return "AKIA" + fake("akid", seed, 16)


def person(name):
    return f"{name}@{DOMAIN}"


def write(path, value):
    target = OUT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(value, str):
        target.write_text(value)
    else:
        target.write_text(json.dumps(value, indent=2) + "\n")


def expect(rule, identity):
    expected.append({"rule": rule, "identity": identity})


# ---------------------------------------------------------------- people (Okta)
PEOPLE = {
    "alice.chen": ("Alice", "Chen", "Platform", "ACTIVE"),
    "bob.kumar": ("Bob", "Kumar", "Data", "ACTIVE"),
    "carol.diaz": ("Carol", "Diaz", "Security", "ACTIVE"),
    "dana.ng": ("Dana", "Ng", "Payments", "ACTIVE"),
    "erin.fox": ("Erin", "Fox", "Orders", "ACTIVE"),
    "frank.li": ("Frank", "Li", "Analytics", "ACTIVE"),
    "grace.kim": ("Grace", "Kim", "Platform", "ACTIVE"),
    "henry.adams": ("Henry", "Adams", "Data", "ACTIVE"),
    "sam.ortiz": ("Sam", "Ortiz", "Data", "SUSPENDED"),
    "dave.miller": ("Dave", "Miller", "Infrastructure", "DEPROVISIONED"),
}
okta = []
for i, (login, (first, last, dept, status)) in enumerate(PEOPLE.items()):
    okta.append({
        "id": f"00u{fake('okta', login, 17, 'abcdefghijklmnopqrstuvwxyz0123456789')}",
        "status": status,
        "created": "2021-03-01T10:00:00.000Z",
        "activated": "2021-03-01T10:05:00.000Z",
        "statusChanged": "2026-06-30T17:00:00.000Z" if status != "ACTIVE" else "2021-03-01T10:05:00.000Z",
        "lastLogin": None if status == "DEPROVISIONED" else "2026-10-30T08:12:00.000Z",
        "lastUpdated": "2026-06-30T17:00:00.000Z",
        "type": {"id": "oty1a2b3c4d5e6f7g8h9"},
        "profile": {
            "firstName": first,
            "lastName": last,
            "email": person(login),
            "login": person(login),
            "department": dept,
            "manager": "carol.diaz" if login != "carol.diaz" else None,
            "userType": "Employee",
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": f"https://acme-analytics.okta.example/api/v1/users/{i}"}},
    })
okta.append({
    "id": "00udevopsmailbox0001",
    "status": "ACTIVE",
    "created": "2020-01-01T10:00:00.000Z",
    "profile": {"firstName": "DevOps", "lastName": "Team", "email": person("devops"), "login": person("devops"), "userType": "Shared"},
})
write("okta/users.json", okta)

# ---------------------------------------------------------------- AWS
MANAGED = {"AdministratorAccess": "arn:aws:iam::aws:policy/AdministratorAccess"}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resources, **extra):
    s = {"Effect": "Allow", "Action": actions, "Resource": resources}
    s.update(extra)
    return s


def tags(owner=None, env=None, purpose=None, **more):
    out = []
    if owner:
        out.append({"Key": "owner", "Value": owner})
    if env:
        out.append({"Key": "environment", "Value": env})
    if purpose:
        out.append({"Key": "purpose", "Value": purpose})
    for k, v in more.items():
        out.append({"Key": k, "Value": v})
    return out


def service_trust(service):
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


class Account:
    def __init__(self, number, alias, env):
        self.number, self.alias, self.env = number, alias, env
        self.users, self.roles, self.groups, self.policies = [], [], [], []
        self.keys = {}  # user -> [(id, status, created_days, last_used_days, service)]
        self.logins = {}  # user -> (password_enabled, last_used_days, mfa)

    def arn(self, kind, name):
        return f"arn:aws:iam::{self.number}:{kind}/{name}"

    def managed(self, name, document, description=""):
        arn = self.arn("policy", name)
        self.policies.append({
            "PolicyName": name, "PolicyId": "ANPA" + fake("pol", arn, 17), "Arn": arn, "Path": "/",
            "DefaultVersionId": "v2", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "Description": description, "CreateDate": iso(500), "UpdateDate": iso(200),
            "PolicyVersionList": [
                {"Document": document, "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": iso(200)},
                {"Document": doc(allow("s3:ListAllMyBuckets", "*")), "VersionId": "v1", "IsDefaultVersion": False, "CreateDate": iso(500)},
            ],
        })
        return arn

    def user(self, name, tag_list, managed=(), inline=None, groups=(), created=700, keys=(), login=None):
        arn = self.arn("user", name)
        self.users.append({
            "Path": "/", "UserName": name, "UserId": "AIDA" + fake("uid", arn, 17), "Arn": arn, "CreateDate": iso(created),
            "GroupList": list(groups),
            "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[1], "PolicyArn": m} for m in managed],
            "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in (inline or {}).items()],
            "Tags": tag_list,
        })
        self.keys[name] = list(keys)
        if login:
            self.logins[name] = login
        return arn

    def role(self, name, trust, tag_list, managed=(), inline=None, last_used=1, created=600, description=""):
        arn = self.arn("role", name)
        self.roles.append({
            "Path": "/", "RoleName": name, "RoleId": "AROA" + fake("rid", arn, 17), "Arn": arn, "CreateDate": iso(created),
            "AssumeRolePolicyDocument": trust, "Description": description, "MaxSessionDuration": 3600,
            "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in (inline or {}).items()],
            "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[1], "PolicyArn": m} for m in managed],
            "Tags": tag_list,
            "RoleLastUsed": {"LastUsedDate": iso(last_used), "Region": "eu-west-1"} if last_used is not None else {},
        })
        return arn

    def export(self):
        details = {"UserDetailList": self.users, "GroupDetailList": self.groups, "RoleDetailList": self.roles, "Policies": self.policies}
        write(f"aws/{self.alias}/authorization-details.json", details)
        header = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
                  "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
                  "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                  "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated")
        rows = [header, f"<root_account>,arn:aws:iam::{self.number}:root,{report_date(2000)},not_supported,{report_date(400)},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"]
        for u in self.users:
            name = u["UserName"]
            enabled, pw_used, mfa = self.logins.get(name, (False, None, False))
            cols = [name, u["Arn"], report_date((AS_OF - datetime.fromisoformat(u["CreateDate"].replace("Z", "+00:00"))).days),
                    "true" if enabled else "false",
                    report_date(pw_used) if enabled and pw_used is not None else ("no_information" if enabled else "N/A"),
                    report_date(300) if enabled else "N/A", "N/A", "true" if mfa else "false"]
            slots = self.keys.get(name, [])[:2]
            for slot in range(2):
                if slot < len(slots):
                    _, status, created, used, service = slots[slot]
                    cols += ["true" if status == "Active" else "false", report_date(created),
                             report_date(used) if used is not None else "N/A",
                             "eu-west-1" if used is not None else "N/A", service if used is not None else "N/A"]
                else:
                    cols += ["false", "N/A", "N/A", "N/A", "N/A"]
            cols += ["false", "N/A", "false", "N/A"]
            rows.append(",".join(cols))
        write(f"aws/{self.alias}/credential-report.csv", "\n".join(rows) + "\n")
        for name, keys in self.keys.items():
            if keys:
                write(f"aws/{self.alias}/access-keys/{name}.json", {"AccessKeyMetadata": [
                    {"UserName": name, "AccessKeyId": kid, "Status": status, "CreateDate": iso(created)}
                    for kid, status, created, _, _ in keys]})


prod = Account(PROD, "prod", "prod")
dev = Account(DEV, "dev", "dev")
# The AWS CLI lists attached AWS managed policies in `Policies` too.
for account in (prod, dev):
    account.policies.append({
        "PolicyName": "AdministratorAccess", "PolicyId": "ANPAIWMBCKSKIEE64ZLYK", "Arn": MANAGED["AdministratorAccess"], "Path": "/",
        "DefaultVersionId": "v1", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
        "Description": "Provides full access to AWS services and resources.", "CreateDate": "2015-02-06T18:39:46Z", "UpdateDate": "2015-02-06T18:39:46Z",
        "PolicyVersionList": [{"Document": doc(allow("*", "*")), "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": "2015-02-06T18:39:46Z"}],
    })

# Healthy production workloads: scoped policies, owners, recent use.
APPS = [
    ("orders-api", "erin.fox", "dynamodb", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"),
    ("orders-worker", "erin.fox", "sqs", ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "arn:aws:sqs:eu-west-1:111111111111:orders-events"),
    ("billing-worker", "dana.ng", "sqs", ["sqs:SendMessage"], "arn:aws:sqs:eu-west-1:111111111111:billing"),
    ("payments-api", "dana.ng", "dynamodb", ["dynamodb:GetItem", "dynamodb:UpdateItem"], "arn:aws:dynamodb:eu-west-1:111111111111:table/payments"),
    ("reporting-etl", "frank.li", "s3", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-reports-prod/*"),
    ("search-indexer", "bob.kumar", "es", ["es:ESHttpPost", "es:ESHttpPut"], "arn:aws:es:eu-west-1:111111111111:domain/search/*"),
    ("image-resizer", "grace.kim", "s3", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-images/*"),
    ("notifications", "erin.fox", "sns", ["sns:Publish"], "arn:aws:sns:eu-west-1:111111111111:notify"),
    ("audit-log-shipper", "carol.diaz", "logs", ["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:eu-west-1:111111111111:log-group:/acme/audit:*"),
    ("feature-flags", "alice.chen", "ssm", ["ssm:GetParameter"], "arn:aws:ssm:eu-west-1:111111111111:parameter/flags/*"),
    ("customer-export", "bob.kumar", "s3", ["s3:GetObject"], "arn:aws:s3:::acme-customer-exports/*"),
    ("metrics-api", "grace.kim", "cloudwatch", ["cloudwatch:PutMetricData"], "*"),
]
for name, owner, _, actions, resource in APPS:
    arn = prod.role(name, service_trust("ecs-tasks.amazonaws.com"), tags(person(owner), "prod", f"{name} service"),
                    inline={f"{name}-access": doc(allow(actions, resource))}, last_used=1)
    clean.append(arn)
clean.append(prod.role("lambda-thumbnailer", service_trust("lambda.amazonaws.com"), tags(person("grace.kim"), "prod", "thumbnails"),
                       inline={"thumbs": doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-thumbs/*"))}, last_used=2))
# A CI role pinned to one repository and branch: the good version of NHI6.
clean.append(prod.role("gha-terraform-plan", doc({
    "Effect": "Allow",
    "Principal": {"Federated": f"arn:aws:iam::{PROD}:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                   "token.actions.githubusercontent.com:sub": f"repo:{ORG}/infra:ref:refs/heads/main"}}}),
    tags(person("alice.chen"), "prod", "terraform plan in CI"),
    inline={"plan": doc(allow(["ec2:Describe*", "ecs:Describe*", "iam:GetRole", "iam:GetPolicy", "s3:GetBucketPolicy"], "*"),
                        allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-terraform-state/*"))}, last_used=1))
# A vendor trusted on purpose, with an ExternalId (medium, not high).

# Healthy machine users with recently rotated keys.
for name, owner in [("svc-metrics-export", "grace.kim"), ("svc-partner-feed", "frank.li"), ("svc-backup-verify", "alice.chen")]:
    arn = prod.user(name, tags(person(owner), "prod", "scheduled job"),
                    inline={"job": doc(allow(["s3:PutObject"], f"arn:aws:s3:::acme-{name}/*"))},
                    keys=[(key_id(name), "Active", 30, 1, "s3")])
    clean.append(arn)
# A person's own IAM user (human actor): not a non-human identity, no owner expected.
prod.user("carol.diaz", [], inline={"console": doc(allow(["cloudtrail:LookupEvents", "iam:Get*", "iam:List*"], "*"))}, login=(True, 2, True))

# --- planted problems (production)
arn = prod.role("legacy-report-runner", service_trust("ec2.amazonaws.com"), [],
                inline={"reports": doc(allow(["s3:GetObject"], "arn:aws:s3:::acme-reports-prod/*"))}, last_used=3)
expect("no-owner", arn)
arn = prod.role("platform-automation", service_trust("lambda.amazonaws.com"), tags(person("devops"), "prod", "platform glue"),
                inline={"glue": doc(allow(["ec2:DescribeInstances"], "*"))}, last_used=1)
expect("owner-shared-mailbox", arn)
arn = prod.role("data-sync", service_trust("ecs-tasks.amazonaws.com"), tags(person("sam.ortiz"), "prod", "warehouse sync"),
                inline={"sync": doc(allow(["s3:GetObject"], "arn:aws:s3:::acme-warehouse/*"))}, last_used=1)
expect("owner-suspended", arn)
arn = prod.user("svc-old-backup", tags(person("dave.miller"), "prod", "nightly backup"),
                inline={"backup": doc(allow(["s3:PutObject"], "arn:aws:s3:::acme-backups/*"))},
                keys=[(key_id("svc-old-backup"), "Active", 60, 1, "s3")])
expect("owner-deprovisioned", arn)
arn = prod.role("legacy-sftp-bridge", service_trust("transfer.amazonaws.com"), tags(person("ben.oldman"), "prod", "partner SFTP"),
                inline={"sftp": doc(allow(["s3:PutObject"], "arn:aws:s3:::acme-sftp-in/*"))}, last_used=4)
expect("owner-unknown", arn)
arn = prod.role("campaign-2024-importer", service_trust("lambda.amazonaws.com"), tags(person("frank.li"), "prod", "one-off import"),
                inline={"import": doc(allow(["dynamodb:PutItem"], "arn:aws:dynamodb:eu-west-1:111111111111:table/campaigns"))}, last_used=200)
expect("identity-unused", arn)
arn = prod.role("vendor-audit", doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}),
                tags(person("carol.diaz"), "prod", "external auditor"),
                inline={"audit": doc(allow(["iam:GetAccountAuthorizationDetails", "cloudtrail:LookupEvents", "config:Describe*"], "*"))}, last_used=20)
expect("trust-external-account", arn)
arn = prod.role("public-assume-test", doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
                tags(person("grace.kim"), "prod", "left over from a test"),
                inline={"test": doc(allow(["s3:ListBucket"], "arn:aws:s3:::acme-test"))}, last_used=40)
expect("trust-anyone", arn)
arn = prod.user("svc-jenkins", tags(person("alice.chen"), "prod", "legacy Jenkins"),
                inline={"jenkins": doc(allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "*"))},
                keys=[(key_id("svc-jenkins"), "Active", 45, 1, "ecr")], login=(True, None, False))
expect("machine-console-password", arn)
expect("password-without-mfa", arn)
arn = prod.user("ci-deployer", tags(person("alice.chen"), "prod", "CI deployments"), managed=[MANAGED["AdministratorAccess"]],
                keys=[(key_id("ci-deployer"), "Active", 50, 0, "cloudformation")])
expect("admin-equivalent", arn)
arn = prod.role("analytics-crawler", service_trust("glue.amazonaws.com"), tags(person("frank.li"), "prod", "data catalogue crawler"),
                inline={"crawl": doc(allow("s3:*", "*"))}, last_used=1)
expect("wildcard-permissions", arn)
arn = prod.user("svc-lambda-deployer", tags(person("grace.kim"), "prod", "deploys functions"),
                inline={"deploy": doc(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionConfiguration"], "*"))},
                keys=[(key_id("svc-lambda-deployer"), "Active", 20, 1, "lambda")])
expect("privilege-escalation", arn)
arn = prod.role("config-loader", service_trust("ecs-tasks.amazonaws.com"), tags(person("alice.chen"), "prod", "loads app config"),
                inline={"secrets": doc(allow(["secretsmanager:GetSecretValue", "secretsmanager:ListSecrets"], "*"))}, last_used=1)
expect("broad-secrets-access", arn)
arn = prod.role("gha-deploy", doc({
    "Effect": "Allow",
    "Principal": {"Federated": f"arn:aws:iam::{PROD}:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}),
    tags(person("alice.chen"), "prod", "GitHub Actions deploys"),
    inline={"deploy": doc(allow(["ecs:UpdateService", "ecs:DescribeServices"], "*"))}, last_used=1)
expect("oidc-trust-unrestricted", arn)
arn = prod.user("svc-metrics-legacy", tags(person("grace.kim"), "prod", "old metrics push"),
                inline={"metrics": doc(allow(["cloudwatch:PutMetricData"], "*"))},
                keys=[(key_id("svc-metrics-legacy"), "Active", 600, 1, "monitoring")])
expect("access-key-old", arn)
arn = prod.user("svc-payments-sync", tags(person("dana.ng"), "prod", "payments reconciliation"),
                inline={"sync": doc(allow(["s3:GetObject"], "arn:aws:s3:::acme-payments-in/*"))},
                keys=[(key_id("svc-payments-sync-1"), "Active", 80, 1, "s3"), (key_id("svc-payments-sync-2"), "Active", 10, 2, "s3")])
expect("two-active-keys", arn)
arn = prod.role("prod-data-reader", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"}, "Action": "sts:AssumeRole"}),
                tags(person("bob.kumar"), "prod", "lets dev jobs read prod data"),
                inline={"read": doc(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::acme-warehouse", "arn:aws:s3:::acme-warehouse/*"]))}, last_used=2)
expect("cross-environment-trust", arn)
arn = prod.user("svc-reporting-bot", tags(person("frank.li"), "prod", "reporting automation"),
                inline={"reports": doc(allow(["s3:GetObject"], "arn:aws:s3:::acme-reports-prod/*"))},
                keys=[(key_id("svc-reporting-bot"), "Active", 30, 1, "s3")], login=(True, 6, True))
expect("machine-password-used", arn)
expect("machine-console-password", arn)
arn = prod.user("svc-retired-etl", tags(person("bob.kumar"), "prod", "replaced by reporting-etl", lifecycle="decommissioned"),
                inline={"etl": doc(allow(["s3:GetObject"], "arn:aws:s3:::acme-warehouse/*"))},
                keys=[(key_id("svc-retired-etl"), "Active", 300, 150, "s3")])
expect("disabled-with-active-credentials", arn)
arn = prod.user("svc-unused-key", tags(person("henry.adams"), "prod", "partner upload"),
                inline={"upload": doc(allow(["s3:PutObject"], "arn:aws:s3:::acme-partner-in/*"))},
                keys=[(key_id("svc-unused-key"), "Active", 60, None, "s3")])
expect("credential-unused", arn)
# Created yesterday and not used yet: must NOT be reported as unused.
clean.append(prod.user("svc-new-integration", tags(person("henry.adams"), "prod", "new CRM integration"),
                       inline={"crm": doc(allow(["sqs:SendMessage"], "arn:aws:sqs:eu-west-1:111111111111:crm"))},
                       created=1, keys=[(key_id("svc-new-integration"), "Active", 1, None, "sqs")]))

# Development account: a few workloads and a dev admin role.
for name, owner in [("dev-orders-api", "erin.fox"), ("dev-reporting-etl", "frank.li"), ("dev-ci-runner", "alice.chen")]:
    clean.append(dev.role(name, service_trust("ecs-tasks.amazonaws.com"), tags(person(owner), "dev", f"{name} in dev"),
                          inline={"access": doc(allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::acme-dev-{name}/*"))}, last_used=1))
arn = dev.role("dev-sandbox-admin", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SEC}:root"}, "Action": "sts:AssumeRole",
                                         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
               tags(person("alice.chen"), "dev", "break-glass in dev"), managed=[MANAGED["AdministratorAccess"]], last_used=5)
expect("admin-equivalent", arn)
clean.append(dev.user("svc-dev-seeder", tags(person("bob.kumar"), "dev", "seeds dev data"),
                      inline={"seed": doc(allow(["dynamodb:PutItem"], "arn:aws:dynamodb:eu-west-1:222222222222:table/*"))},
                      keys=[(key_id("svc-dev-seeder"), "Active", 40, 1, "dynamodb")]))

prod.export()
dev.export()
write("aws/organizations/list-accounts.json", {"Accounts": [
    {"Id": PROD, "Arn": f"arn:aws:organizations::{SEC}:account/o-acme1234/{PROD}", "Email": f"aws-prod@{DOMAIN}", "Name": "acme-prod",
     "Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": "2021-02-01T10:00:00.000000+00:00"},
    {"Id": DEV, "Arn": f"arn:aws:organizations::{SEC}:account/o-acme1234/{DEV}", "Email": f"aws-dev@{DOMAIN}", "Name": "acme-dev",
     "Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": "2021-02-01T10:00:00.000000+00:00"},
    {"Id": SEC, "Arn": f"arn:aws:organizations::{SEC}:account/o-acme1234/{SEC}", "Email": f"aws-security@{DOMAIN}", "Name": "acme-security-tooling",
     "Status": "ACTIVE", "JoinedMethod": "INVITED", "JoinedTimestamp": "2021-02-01T10:00:00.000000+00:00"},
]})

# ---------------------------------------------------------------- Kubernetes (prod-eks)
items = []


def meta(name, namespace=None, labels=None, annotations=None, created=400):
    m = {"name": name, "uid": fake("uid", f"{namespace}/{name}", 8, "0123456789abcdef") + "-1111-2222-3333-" + fake("uid2", name, 12, "0123456789abcdef"),
         "resourceVersion": str(100000 + len(items)), "creationTimestamp": iso(created)}
    if namespace:
        m["namespace"] = namespace
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return m


def sa(namespace, name, owner=None, annotations=None):
    labels = {"app.kubernetes.io/name": name}
    if owner:
        labels["owner"] = owner.split("@")[0]
        annotations = dict(annotations or {}, **{"acme-analytics.example/owner": owner})
    items.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(name, namespace, labels, annotations)})
    return f"system:serviceaccount:{namespace}:{name}"


def role(kind, name, rules, namespace=None):
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(name, namespace), "rules": rules})


def binding(kind, name, role_kind, role_name, subjects, namespace=None):
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(name, namespace),
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name}, "subjects": subjects})


for ns in ["orders", "payments", "monitoring", "ci"]:
    items.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("default", ns)})
clean.append(sa("orders", "orders-api", person("erin.fox"), {"eks.amazonaws.com/role-arn": prod.arn("role", "orders-api")}))
clean.append(sa("payments", "payments-api", person("dana.ng"), {"eks.amazonaws.com/role-arn": prod.arn("role", "payments-api")}))
clean.append(sa("monitoring", "prometheus", person("grace.kim")))
role("ClusterRole", "metrics-reader", [{"apiGroups": [""], "resources": ["pods", "nodes", "services", "endpoints"], "verbs": ["get", "list", "watch"]}])
binding("ClusterRoleBinding", "prometheus-metrics", "ClusterRole", "metrics-reader", [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}])
role("Role", "orders-config", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}], "orders")
binding("RoleBinding", "orders-api-config", "Role", "orders-config", [{"kind": "ServiceAccount", "name": "orders-api", "namespace": "orders"}], "orders")
# Planted: CI deployer with cluster-admin and a legacy long-lived token.
jenkins = sa("ci", "jenkins-deployer", person("alice.chen"))
binding("ClusterRoleBinding", "jenkins-deployer-admin", "ClusterRole", "cluster-admin", [{"kind": "ServiceAccount", "name": "jenkins-deployer", "namespace": "ci"}])
token = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImRlbW8ifQ." + base64.urlsafe_b64encode(json.dumps(
    {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "ci", "sub": jenkins}).encode()).decode().rstrip("=")
    + "." + fake("sig", "jenkins", 43, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
items.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": meta("jenkins-deployer-token", "ci", annotations={"kubernetes.io/service-account.name": "jenkins-deployer",
                                                                          "kubernetes.io/service-account.uid": "demo"}, created=1100),
              "data": {"token": base64.b64encode(token.encode()).decode(), "namespace": base64.b64encode(b"ci").decode(),
                       "ca.crt": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nZGVtbw==\n-----END CERTIFICATE-----\n").decode()}})
expect("k8s-cluster-admin-binding", jenkins)
expect("admin-equivalent", jenkins)
expect("legacy-sa-token", jenkins)
# Planted: a log shipper with no owner that can read every secret in the cluster.
shipper = sa("monitoring", "log-shipper")
role("ClusterRole", "secrets-reader", [{"apiGroups": [""], "resources": ["secrets", "pods", "namespaces"], "verbs": ["get", "list", "watch"]}])
binding("ClusterRoleBinding", "log-shipper-secrets", "ClusterRole", "secrets-reader", [{"kind": "ServiceAccount", "name": "log-shipper", "namespace": "monitoring"}])
expect("no-owner", shipper)
expect("broad-secrets-access", shipper)
# Planted: the payments namespace's default service account holds a role.
role("Role", "payments-writer", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"]}], "payments")
binding("RoleBinding", "default-can-write", "Role", "payments-writer", [{"kind": "ServiceAccount", "name": "default", "namespace": "payments"}], "payments")
expect("default-sa-privileged", "system:serviceaccount:payments:default")
items.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta("payments-db", "payments"),
              "data": {"password": base64.b64encode(b"not-a-real-password").decode()}})
write("kubernetes/prod-eks.json", {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})

# ---------------------------------------------------------------- GitHub
gh = "github"
write(f"{gh}/orgs_{ORG}_installations.json", {"total_count": 3, "installations": [
    {"id": 41000001, "app_id": 29110, "app_slug": "dependabot", "target_type": "Organization", "account": {"login": ORG},
     "permissions": {"contents": "write", "pull_requests": "write", "metadata": "read"}, "events": ["push"], "repository_selection": "all",
     "created_at": "2022-01-10T10:00:00Z", "updated_at": "2026-09-01T10:00:00Z", "suspended_at": None},
    {"id": 41000002, "app_id": 88812, "app_slug": "acme-sentry-bridge", "target_type": "Organization", "account": {"login": ORG},
     "permissions": {"issues": "write", "metadata": "read"}, "events": ["issues"], "repository_selection": "selected",
     "created_at": "2024-05-10T10:00:00Z", "updated_at": "2026-09-01T10:00:00Z", "suspended_at": None},
    {"id": 41000003, "app_id": 99173, "app_slug": "quickdeploy-ci", "target_type": "Organization", "account": {"login": ORG},
     "permissions": {"contents": "write", "workflows": "write", "administration": "write", "secrets": "read", "metadata": "read"},
     "events": ["push", "workflow_run"], "repository_selection": "all",
     "created_at": "2023-02-10T10:00:00Z", "updated_at": "2026-09-01T10:00:00Z", "suspended_at": None},
]})
expect("third-party-app-broad", f"github:{ORG}/app/quickdeploy-ci")
write(f"{gh}/orgs_{ORG}_personal-access-tokens.json", [
    {"id": 7001, "owner": {"login": "erin-fox", "id": 501, "type": "User"}, "repository_selection": "subset",
     "repositories_url": f"https://api.github.com/organizations/1/personal-access-token-requests/7001/repositories",
     "permissions": {"repository": {"contents": "read", "issues": "write"}, "organization": {}},
     "access_granted_at": iso(30), "token_expired": False, "token_expires_at": iso(-60), "token_last_used_at": iso(1), "token_name": "release-notes"},
    {"id": 7002, "owner": {"login": "frank-li", "id": 502, "type": "User"}, "repository_selection": "subset",
     "repositories_url": f"https://api.github.com/organizations/1/personal-access-token-requests/7002/repositories",
     "permissions": {"repository": {"contents": "read"}, "organization": {}},
     "access_granted_at": iso(120), "token_expired": False, "token_expires_at": None, "token_last_used_at": iso(3), "token_name": "dashboards-sync"},
])
expect("token-no-expiry", f"github:{ORG}/pat/7002")
clean.append(f"github:{ORG}/pat/7001")
write(f"{gh}/orgs_{ORG}_credential-authorizations.json", [
    {"login": "acme-build-bot", "credential_id": 161195, "credential_type": "personal access token", "token_last_eight": "a1b2c3d4",
     "credential_authorized_at": "2022-05-01T10:00:00Z", "credential_accessed_at": iso(2), "authorized_credential_expires_at": None,
     "scopes": ["repo", "workflow", "read:org"], "authorized_credential_title": "build-bot release token"},
])
expect("classic-pat", f"github:{ORG}/credential/161195")
write(f"{gh}/repos_{ORG}_api_keys.json", [
    {"id": 9001, "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + fake("deploy", "api", 43, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
     "url": f"https://api.github.com/repos/{ORG}/api/keys/9001", "title": "argo-cd read", "verified": True,
     "created_at": iso(60), "read_only": True, "added_by": "alice-chen", "last_used": iso(1)},
])
clean.append(f"github:{ORG}/api/deploy-key/9001")
write(f"{gh}/repos_{ORG}_infra_keys.json", [
    {"id": 9002, "key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + fake("deploy", "infra", 60, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
     "url": f"https://api.github.com/repos/{ORG}/infra/keys/9002", "title": "old terraform runner", "verified": True,
     "created_at": "2023-01-15T10:00:00Z", "read_only": False, "added_by": "dave-miller", "last_used": iso(5)},
])
expect("secret-not-rotated", f"github:{ORG}/infra/deploy-key/9002")
write(f"{gh}/orgs_{ORG}_actions_secrets.json", {"total_count": 2, "secrets": [
    {"name": "AWS_ACCESS_KEY_ID", "created_at": "2024-01-20T10:00:00Z", "updated_at": "2024-01-20T10:00:00Z", "visibility": "all"},
    {"name": "AWS_SECRET_ACCESS_KEY", "created_at": "2024-01-20T10:00:00Z", "updated_at": "2024-01-20T10:00:00Z", "visibility": "all"},
]})
expect("secret-not-rotated", f"github:{ORG}/actions")
write(f"{gh}/repos_{ORG}_api_actions_secrets.json", {"total_count": 1, "secrets": [
    {"name": "SENTRY_DSN", "created_at": iso(40), "updated_at": iso(40)},
]})
clean.append(f"github:{ORG}/api/actions")
write(f"{gh}/orgs_{ORG}_hooks.json", [
    {"id": 3001, "name": "web", "active": True, "events": ["push", "pull_request"],
     "config": {"url": "https://hooks.chat.acme-analytics.example/github", "content_type": "json", "insecure_ssl": "0", "secret": "********"},
     "created_at": iso(300), "updated_at": iso(30), "type": "Organization"},
])

# ---------------------------------------------------------------- MCP / agent configs
shared_token = "ghp_" + fake("ghp", "shared", 36, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
alice = f"mcp/{person('alice.chen')}"
write(f"{alice}/.cursor/mcp.json", {"mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
               "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": shared_token, "LOG_LEVEL": "info"}},
    "warehouse": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres",
                                              "postgresql://analyst:" + fake("pg", "pw", 20, "abcdefghijkmnpqrstuvwxyz23456789") + "@warehouse.internal:5432/analytics"]},
    "filesystem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/alice/projects"]},
}})
expect("plaintext-secret-in-config", f"mcp:{alice}/.cursor/mcp.json#github")
expect("plaintext-secret-in-config", f"mcp:{alice}/.cursor/mcp.json#warehouse")
expect("credential-reused", f"mcp:{alice}/.cursor/mcp.json#github")
bob = f"mcp/{person('bob.kumar')}"
write(f"{bob}/claude_desktop_config.json", {"mcpServers": {
    "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": shared_token}},
    "time": {"command": "uvx", "args": ["mcp-server-time", "--local-timezone=Europe/London"]},
}})
expect("credential-reused", f"mcp:{bob}/claude_desktop_config.json#github")
carol = f"mcp/{person('carol.diaz')}"
write(f"{carol}/.vscode/mcp.json", """{
  // Secrets are prompted for and kept in VS Code's secret storage, never in this file.
  "inputs": [
    {"type": "promptString", "id": "github-token", "description": "GitHub fine-grained token", "password": true},
    {"type": "promptString", "id": "sentry-token", "description": "Sentry auth token", "password": true},
  ],
  "servers": {
    "github": {
      "type": "stdio",
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${input:github-token}"},
    },
    "sentry": {
      "type": "http",
      "url": "https://mcp.sentry.example/mcp",
      "headers": {"Authorization": "Bearer ${input:sentry-token}"},
    },
  },
}
""")
clean.append(f"mcp:{carol}/.vscode/mcp.json#github")
clean.append(f"mcp:{carol}/.vscode/mcp.json#sentry")
dana = f"mcp/{person('dana.ng')}"
write(f"{dana}/mcp.json", {"mcpServers": {
    "billing-agent": {"url": "https://agents.payments.acme-analytics.example/mcp",
                      "headers": {"Authorization": "Bearer " + fake("bearer", "dana", 40, "abcdefghijklmnopqrstuvwxyz0123456789")}},
}})
expect("plaintext-secret-in-config", f"mcp:{dana}/mcp.json#billing-agent")

write("expected.json", {
    "as_of": AS_OF.strftime("%Y-%m-%d"),
    "note": "MCP identity ids hold the config path as given to warrant; here they are relative to this directory, so match them by suffix.",
    "findings": expected,
    "clean": clean,
})
rows = "\n".join(f"| `{e['rule']}` | `{e['identity']}` |" for e in expected)
write("README.md", f"""# Demo organisation: Acme Analytics

A fictional analytics company (`{DOMAIN}`), exported with the tools its engineers already use. It
is generated by `scripts/make-demo-org.py` (deterministic; re-run it after changing the script) and
meant to be assessed as of {AS_OF.strftime("%Y-%m-%d")}:

```sh
cargo run --release -p warrant-cli -- assess examples/demo-org --as-of {AS_OF.strftime("%Y-%m-%d")}
```

All tokens and keys in these files are fake: strings of the right shape made from a hash.

## The company

- AWS Organizations with three accounts: `acme-prod` ({PROD}), `acme-dev` ({DEV}) and
  `acme-security-tooling` ({SEC}).
- Production runs on EKS (`prod-eks`), with IAM roles for service accounts.
- Code lives in the GitHub organisation `{ORG}`; CI uses GitHub Actions with OIDC into AWS.
- Developers use AI coding assistants with MCP servers (Cursor, Claude Desktop, VS Code).
- People are in Okta; one person is suspended, one has left, and `devops@` is a shared mailbox.

Most identities are healthy: owned by active people, scoped, rotated and in use. A few carry one
planted problem each (below).

## Layout and how each file is produced

| Path | Produced with |
|---|---|
| `aws/organizations/list-accounts.json` | `aws organizations list-accounts` |
| `aws/<account>/authorization-details.json` | `aws iam get-account-authorization-details` |
| `aws/<account>/credential-report.csv` | `aws iam generate-credential-report` then `aws iam get-credential-report --query Content --output text \| base64 -d` |
| `aws/<account>/access-keys/<user>.json` | `aws iam list-access-keys --user-name <user>` |
| `kubernetes/prod-eks.json` | `kubectl get serviceaccounts,secrets,roles,clusterroles,rolebindings,clusterrolebindings -A -o json` |
| `github/orgs_{ORG}_installations.json` | `gh api /orgs/{ORG}/installations` |
| `github/orgs_{ORG}_personal-access-tokens.json` | `gh api /orgs/{ORG}/personal-access-tokens` |
| `github/orgs_{ORG}_credential-authorizations.json` | `gh api /orgs/{ORG}/credential-authorizations` |
| `github/repos_{ORG}_<repo>_keys.json` | `gh api /repos/{ORG}/<repo>/keys` |
| `github/*_actions_secrets.json` | `gh api /orgs/{ORG}/actions/secrets`, `gh api /repos/{ORG}/<repo>/actions/secrets` |
| `github/orgs_{ORG}_hooks.json` | `gh api /orgs/{ORG}/hooks` |
| `mcp/<person>/…` | the developers' MCP client configs, as found on their machines |
| `okta/users.json` | `GET /api/v1/users` on the Okta tenant |

## Planted problems (the test oracle)

`expected.json` holds the same list; `crates/warrant-cli/tests/demo_org.rs` asserts that every one
is found and that the identities listed under `clean` have no findings. MCP identity ids include the
config path as given to warrant, so they are matched by suffix.

| Rule | Identity |
|---|---|
{rows}
""")
print(f"wrote {OUT}: {len(expected)} planted findings, {len(clean)} identities expected clean")
