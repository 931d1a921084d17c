#!/usr/bin/env python3
"""Generates a synthetic organisation at scale, in the real AWS export formats.

    python3 bench/gen_org.py OUT_DIR [--identities 100000] [--statements 1000000] [--accounts 10]

Writes, per account, `get-account-authorization-details` JSON (users, roles, groups, customer
managed policies shared by many identities, inline policies), a credential report CSV and the
`list-access-keys` outputs of its users (as one JSON array), plus an Okta users file. Actions are
drawn from AWS's real action list (../shared/data/aws/iam-definition.json) when present.
Deterministic (fixed seed). Standard library only.
"""
import argparse
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

AS_OF = datetime(2026, 11, 1, tzinfo=timezone.utc)
FALLBACK_ACTIONS = [
    "s3:GetObject", "s3:PutObject", "s3:ListBucket", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
    "sqs:SendMessage", "sqs:ReceiveMessage", "sns:Publish", "lambda:InvokeFunction", "logs:PutLogEvents",
    "ec2:DescribeInstances", "kms:Decrypt", "secretsmanager:GetSecretValue", "iam:PassRole", "iam:GetRole",
]


def load_actions():
    path = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "aws" / "iam-definition.json"
    if not path.exists():
        print(f"note: {path} absent; using a built-in action list", file=sys.stderr)
        return FALLBACK_ACTIONS
    data = json.loads(path.read_text())
    actions = []
    for prefix, service in data.items():
        if isinstance(service, dict):
            actions.extend(f"{prefix}:{name}" for name in service.get("privileges", {}))
    return actions


def iso(days):
    return (AS_OF - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("out", type=Path)
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(20261101)
    actions = load_actions()
    services = sorted({a.split(":")[0] for a in actions})
    owners = [f"person{i:04d}@bench.example" for i in range(2000)]
    args.out.mkdir(parents=True, exist_ok=True)

    per_account = args.identities // args.accounts
    # Statements: 80 % in shared managed policies, 20 % inline (two per identity).
    inline_per_identity = 2
    managed_statements = max(0, args.statements - args.identities * inline_per_identity) // args.accounts
    statements_per_policy = 50
    policies_per_account = max(1, managed_statements // statements_per_policy)

    def statement(scoped=True):
        n = rng.randint(2, 6)
        chosen = rng.sample(actions, n)
        if rng.random() < 0.03:
            chosen = [f"{rng.choice(services)}:*"]
        resource = f"arn:aws:s3:::bucket-{rng.randrange(5000)}/*" if scoped and rng.random() < 0.7 else "*"
        s = {"Effect": "Allow", "Action": chosen, "Resource": resource}
        if rng.random() < 0.02:
            s["Effect"] = "Deny"
        return s

    total_statements = 0
    okta = [{"id": f"00u{i:08d}", "status": rng.choice(["ACTIVE"] * 18 + ["SUSPENDED", "DEPROVISIONED"]),
             "profile": {"login": o, "email": o, "firstName": "P", "lastName": str(i)}} for i, o in enumerate(owners)]
    (args.out / "okta-users.json").write_text(json.dumps(okta))

    for a in range(args.accounts):
        account = f"{100000000000 + a:012d}"
        env = "prod" if a % 2 == 0 else "dev"
        policies = []
        for p in range(policies_per_account):
            arn = f"arn:aws:iam::{account}:policy/bench-{p}"
            doc = {"Version": "2012-10-17", "Statement": [statement() for _ in range(statements_per_policy)]}
            total_statements += statements_per_policy
            policies.append({"PolicyName": f"bench-{p}", "PolicyId": f"ANPA{a:04d}{p:012d}", "Arn": arn, "Path": "/",
                             "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": True,
                             "CreateDate": iso(900), "UpdateDate": iso(100),
                             "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": iso(100)}]})
        if a == 0:
            policies.append({"PolicyName": "AdministratorAccess", "Arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                             "PolicyVersionList": [{"Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                                                    "VersionId": "v1", "IsDefaultVersion": True}]})
        users, roles, keys, report = [], [], [], [
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,"
            "access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
            "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
            "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"]
        for i in range(per_account):
            is_user = rng.random() < 0.4
            name = f"{'svc' if is_user else 'role'}-{a}-{i}"
            kind = "user" if is_user else "role"
            arn = f"arn:aws:iam::{account}:{kind}/{name}"
            tag_list = [{"Key": "owner", "Value": rng.choice(owners)}] if rng.random() < 0.85 else []
            tag_list.append({"Key": "environment", "Value": env})
            attached = [{"PolicyName": f"bench-{p}", "PolicyArn": f"arn:aws:iam::{account}:policy/bench-{p}"}
                        for p in rng.sample(range(policies_per_account), min(policies_per_account, rng.randint(2, 5)))]
            if a == 0 and rng.random() < 0.002:
                attached.append({"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
            inline = [{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement() for _ in range(inline_per_identity)]}}]
            total_statements += inline_per_identity
            created = rng.randint(1, 1500)
            if is_user:
                users.append({"Path": "/", "UserName": name, "UserId": f"AIDA{a:04d}{i:012d}", "Arn": arn, "CreateDate": iso(created),
                              "GroupList": [], "AttachedManagedPolicies": attached, "UserPolicyList": inline, "Tags": tag_list})
                key_created = rng.randint(1, min(created, 1000))
                used = None if rng.random() < 0.1 else rng.randint(0, key_created)
                key_id = f"AKIA{a:02d}{i:014d}"
                keys.append({"AccessKeyMetadata": [{"UserName": name, "AccessKeyId": key_id, "Status": "Active", "CreateDate": iso(key_created)}]})
                fmt = lambda d: (AS_OF - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
                report.append(",".join([name, arn, fmt(created), "false", "N/A", "N/A", "N/A", "false", "true", fmt(key_created),
                                        fmt(used) if used is not None else "N/A", "us-east-1" if used is not None else "N/A",
                                        "s3" if used is not None else "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"]))
            else:
                trust_account = account if rng.random() < 0.9 else f"{100000000000 + rng.randrange(args.accounts):012d}"
                roles.append({"Path": "/", "RoleName": name, "RoleId": f"AROA{a:04d}{i:012d}", "Arn": arn, "CreateDate": iso(created),
                              "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{trust_account}:root"} if rng.random() < 0.3
                                   else {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                              "InstanceProfileList": [], "RolePolicyList": inline, "AttachedManagedPolicies": attached, "Tags": tag_list,
                              "RoleLastUsed": {"LastUsedDate": iso(rng.randint(0, 400)), "Region": "us-east-1"} if rng.random() < 0.8 else {}})
        details = {"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": roles, "Policies": policies}
        (args.out / f"account-{account}-authorization-details.json").write_text(json.dumps(details))
        (args.out / f"account-{account}-credential-report.csv").write_text("\n".join(report) + "\n")
        (args.out / f"account-{account}-access-keys.json").write_text(json.dumps(keys))
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"{args.identities} identities, {total_statements} policy statements, {args.accounts} accounts, "
          f"{len(list(args.out.iterdir()))} files, {size / 1e6:.0f} MB in {args.out}")


if __name__ == "__main__":
    main()
