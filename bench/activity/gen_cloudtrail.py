#!/usr/bin/env python3
"""Generates N synthetic CloudTrail events as delivery files ({"Records":[...]}, one line each,
as AWS writes them) under OUT/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/.

Events are ~1 KB: varied identities (IAM users with access keys, assumed roles with sessions,
AWS services, the odd root call), services, actions, request parameters, IPs and user agents, and
a few percent of errors. Deterministic for a given seed.

usage: gen_cloudtrail.py N OUT [--per-file 50000] [--gzip] [--seed 7]
"""
import argparse
import gzip
import json
import os
import random
import uuid

ACCOUNTS = ["111122223333", "444455556666", "777788889999"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
CALLS = [
    ("s3.amazonaws.com", "GetObject", True),
    ("s3.amazonaws.com", "PutObject", False),
    ("s3.amazonaws.com", "ListObjects", True),
    ("s3.amazonaws.com", "HeadObject", True),
    ("ec2.amazonaws.com", "DescribeInstances", True),
    ("ec2.amazonaws.com", "RunInstances", False),
    ("iam.amazonaws.com", "GetRole", True),
    ("iam.amazonaws.com", "ListUsers", True),
    ("sts.amazonaws.com", "AssumeRole", True),
    ("kms.amazonaws.com", "Decrypt", True),
    ("lambda.amazonaws.com", "Invoke", False),
    ("lambda.amazonaws.com", "GetFunction20150331v2", True),
    ("dynamodb.amazonaws.com", "DescribeTable", True),
    ("monitoring.amazonaws.com", "PutMetricData", False),
    ("secretsmanager.amazonaws.com", "GetSecretValue", True),
    ("logs.amazonaws.com", "CreateLogStream", False),
]
AGENTS = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/s3.cp",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.0 exec-env/AWS_ECS_FARGATE",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.51.7 (go1.22.1; linux; amd64)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "aws-sdk-java/2.25.16 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java17 io/sync http/Apache cfg/retry-mode/legacy",
]


def identities(rng, n_users, n_roles):
    out = []
    for i in range(n_users):
        acct = ACCOUNTS[i % len(ACCOUNTS)]
        name = f"svc-user-{i:04d}"
        out.append({
            "type": "IAMUser",
            "principalId": "AIDA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17)),
            "arn": f"arn:aws:iam::{acct}:user/{name}",
            "accountId": acct,
            "accessKeyId": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            "userName": name,
        })
    for i in range(n_roles):
        acct = ACCOUNTS[i % len(ACCOUNTS)]
        role = f"app-role-{i:04d}"
        pid = "AROA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(17))
        session = f"i-{rng.getrandbits(64):016x}"[:19] if i % 3 == 0 else f"run-{i}"
        out.append({
            "type": "AssumedRole",
            "principalId": f"{pid}:{session}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
            "accountId": acct,
            "accessKeyId": "ASIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": pid, "arn": f"arn:aws:iam::{acct}:role/{role}",
                                  "accountId": acct, "userName": role},
                "webIdFederationData": {},
                "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"},
            },
        })
    return out


def record(rng, who, t, i):
    source, name, read_only = rng.choice(CALLS)
    acct = who["accountId"]
    region = rng.choice(REGIONS)
    params = None
    resources = None
    if source.startswith("s3"):
        bucket = f"data-{acct}-{rng.randrange(20)}"
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com"}
        if name != "ListObjects":
            params["key"] = f"exports/{rng.randrange(10**6):06d}/part-{rng.randrange(64):04d}.parquet"
        resources = [{"type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}", "accountId": acct}]
    elif source.startswith("iam"):
        params = {"roleName": f"app-role-{rng.randrange(200):04d}"} if name == "GetRole" else {"maxItems": 100}
    elif source.startswith("lambda"):
        params = {"functionName": f"arn:aws:lambda:{region}:{acct}:function:worker-{rng.randrange(30)}"}
    elif source.startswith("kms"):
        params = {"encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{region}:{acct}:function:worker-{rng.randrange(30)}"},
                  "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        resources = [{"accountId": acct, "type": "AWS::KMS::Key",
                      "ARN": f"arn:aws:kms:{region}:{acct}:key/{uuid.UUID(int=rng.getrandbits(128))}"}]
    else:
        params = {"filterSet": {}, "maxResults": 50}
    rec = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": t,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"{rng.choice([10, 52, 198, 203])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "userAgent": rng.choice(AGENTS),
        "requestParameters": params,
        "responseElements": None,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": not source.startswith("s3"),
        "recipientAccountId": acct,
        "eventCategory": "Management" if not source.startswith("s3") else "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com"},
    }
    if resources:
        rec["resources"] = resources
    if i % 40 == 0:
        rec["errorCode"] = rng.choice(["AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"])
        rec["errorMessage"] = "User is not authorized to perform this operation"
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--per-file", type=int, default=50000)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    who_all = identities(rng, 300, 200)
    # Pre-render a pool of distinct records and vary ids/times per event: generation then runs
    # at disk speed instead of json.dumps speed, and every event still has its own id.
    pool = [json.dumps(record(rng, rng.choice(who_all), "TIME_PLACEHOLDER", i), separators=(",", ":"))
            for i in range(20000)]
    written = 0
    file_no = 0
    total_bytes = 0
    while written < a.n:
        k = min(a.per_file, a.n - written)
        day = 1 + (file_no % 28)
        region = REGIONS[file_no % len(REGIONS)]
        acct = ACCOUNTS[file_no % len(ACCOUNTS)]
        d = os.path.join(a.out, "AWSLogs", acct, "CloudTrail", region, "2024", "05", f"{day:02d}")
        os.makedirs(d, exist_ok=True)
        name = f"{acct}_CloudTrail_{region}_202405{day:02d}T0000Z_{file_no:08x}.json"
        parts = []
        for j in range(k):
            n = written + j
            t = f"2024-05-{day:02d}T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z"
            rec = pool[n % len(pool)].replace("TIME_PLACEHOLDER", t, 1)
            # Unique event id per event (the pool's id prefix + the event number).
            rec = rec.replace('"eventID":"', f'"eventID":"{n:012x}-', 1)
            parts.append(rec)
        body = ('{"Records":[' + ",".join(parts) + "]}").encode()
        total_bytes += len(body)
        path = os.path.join(d, name + (".gz" if a.gzip else ""))
        if a.gzip:
            with gzip.open(path, "wb", compresslevel=1) as f:
                f.write(body)
        else:
            with open(path, "wb") as f:
                f.write(body)
        written += k
        file_no += 1
    print(f"wrote {written} events in {file_no} files, {total_bytes / written:.0f} bytes/event, {total_bytes / 1e9:.2f} GB uncompressed")


if __name__ == "__main__":
    main()
