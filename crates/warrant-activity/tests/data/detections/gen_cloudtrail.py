"""Writes the CloudTrail cases of the detection corpus (`cloudtrail/<case>/events.json` and
`expect.toml`) from AWS's documented record format, with invented accounts, ARNs, addresses
and user agents. Re-run after editing a case: `python3 gen_cloudtrail.py` (deterministic).
Nothing here is copied from other rule libraries' test events."""
import json, os, uuid, hashlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cloudtrail")
ACCT = "481230957716"
OTHER = "307946128853"

def eid(*parts):
    h = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

def role(name, session, *, delivery=None, path="", key="ASIAW3XKQ7PLR5DN2MZC", created="2026-11-28T09:00:12Z", mfa="false", web=False):
    ident = {
        "type": "AssumedRole",
        "principalId": f"AROAW3XKQ7PL{int(hashlib.sha1(name.encode()).hexdigest()[:7],16)%10**8:08d}:{session}",
        "arn": f"arn:aws:sts::{ACCT}:assumed-role/{name}/{session}",
        "accountId": ACCT,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROAW3XKQ7PL{int(hashlib.sha1(name.encode()).hexdigest()[:7],16)%10**8:08d}",
                "arn": f"arn:aws:iam::{ACCT}:role{path}/{name}" if path else f"arn:aws:iam::{ACCT}:role/{name}",
                "accountId": ACCT,
                "userName": name,
            },
            "attributes": {"creationDate": created, "mfaAuthenticated": mfa},
        },
    }
    if web:
        ident["sessionContext"]["webIdFederationData"] = {
            "federatedProvider": f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com",
            "attributes": {}}
    if delivery:
        ident["sessionContext"]["ec2RoleDelivery"] = delivery
    return ident

def user(name, key="AKIAW3XKQ7PLHV4TNB2E"):
    return {"type": "IAMUser", "principalId": "AIDAW3XKQ7PLD2Q8ZRT4M", "arn": f"arn:aws:iam::{ACCT}:user/{name}",
            "accountId": ACCT, "accessKeyId": key, "userName": name}

def service(svc):
    return {"type": "AWSService", "invokedBy": svc}

CI = dict(ident=role("deploy-pipeline", "gha-run-8812734501", web=True), ip="20.163.41.77",
          ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-azure exe/x86_64.ubuntu.22 prompt/off")
APP = dict(ident=role("orders-api", "i-0a3f9c27be41d6e58", delivery="2.0"), ip="10.40.12.77",
           ua="aws-sdk-java/2.25.12 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_EC2")
BACKUP = dict(ident=user("svc-backup"), ip="34.241.18.90", ua="Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 cfg/retry-mode#legacy Botocore/1.34.69")
TF = dict(ident=role("terraform-apply", "tf-run-2026-12-02", web=True), ip="20.42.8.131",
          ua="APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.41.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.3 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.31.2")
ADMIN = dict(ident=role("AWSReservedSSO_AdministratorAccess_4f1b2c3d5e6a7b8c", "maria.lindqvist@example.org", path="/aws-reserved/sso.amazonaws.com/eu-west-1"),
             ip="85.226.140.19", ua="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15")

def rec(actor, source, name, t, req=None, resp=None, err=None, errmsg=None, ro=False, region="eu-west-1", extra=None, ip=None, ua=None):
    r = {
        "eventVersion": "1.09",
        "userIdentity": actor["ident"],
        "eventTime": t,
        "eventSource": f"{source}.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip or actor["ip"],
        "userAgent": ua or actor["ua"],
    }
    if err:
        r["errorCode"] = err
        r["errorMessage"] = errmsg or f"{err} occurred"
    r["requestParameters"] = req
    r["responseElements"] = resp
    r["requestID"] = str(uuid.UUID(eid("req", name, t)))
    r["eventID"] = eid(name, t, json.dumps(req, sort_keys=True), json.dumps(actor["ident"], sort_keys=True), err)
    r["readOnly"] = ro
    r["eventType"] = "AwsApiCall"
    r["managementEvent"] = True
    r["recipientAccountId"] = ACCT
    r["eventCategory"] = "Management"
    if extra:
        r.update(extra)
    return r

def case(name, records, kind, alerts=None, families=None, description="", known_gap=None):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "events.json"), "w") as f:
        json.dump({"Records": records}, f, indent=1)
        f.write("\n")
    lines = [f'kind = "{kind}"', f'description = {json.dumps(description)}']
    if known_gap:
        lines.append(f'known_gap = {json.dumps(known_gap)}')
    if families:
        lines.append("families = [" + ", ".join(json.dumps(x) for x in families) + "]")
    for a in alerts or []:
        lines.append("")
        lines.append("[[alert]]")
        for k in ("rule", "technique", "identity", "severity"):
            if k in a:
                lines.append(f"{k} = {json.dumps(a[k])}")
    with open(os.path.join(d, "expect.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")

def pos(name, records, alerts, description):
    case(name, records, "positive", alerts=alerts, description=description)

def ben(name, records, families, description):
    case(name, records, "benign", families=families, description=description)


import shutil
shutil.rmtree(ROOT, ignore_errors=True)

DE = "activity-defense-evasion"
TRAIL = f"arn:aws:cloudtrail:eu-west-1:{ACCT}:trail/org-audit"
pos("stoplogging-by-ci-role", [rec(CI, "cloudtrail", "StopLogging", "2026-12-03T02:14:09Z", req={"name": TRAIL})],
    [dict(rule=DE, technique="T1562.008", severity="critical")], "A CI role stops the organisation's audit trail.")
pos("stoplogging-by-app-key-denied", [rec(BACKUP, "cloudtrail", "StopLogging", "2026-12-03T02:15:40Z", req={"name": "org-audit"}, err="AccessDenied", errmsg="User: arn:aws:iam::481230957716:user/svc-backup is not authorized to perform: cloudtrail:StopLogging")],
    [dict(rule=DE, technique="T1562.008")], "A backup service user tries to stop the trail and is refused: the attempt is still reported.")
ben("gettrailstatus-by-ci-role", [rec(CI, "cloudtrail", "GetTrailStatus", "2026-12-03T02:14:09Z", req={"name": TRAIL}, ro=True)],
    [DE], "The same CI role reads the trail's status, as its drift check does.")
ben("startlogging-by-ci-role", [rec(CI, "cloudtrail", "StartLogging", "2026-12-03T02:20:00Z", req={"name": TRAIL})],
    [DE], "Turning logging on is not evasion.")


PC, DE, CA, EX, SA, CR = ("activity-privilege-change", "activity-defense-evasion", "activity-credential-access",
                          "activity-exfiltration", "activity-sensitive-action", "activity-credential-reuse")
ORDERS = dict(ident=role("orders-worker", "i-0c5d81e2f4a9b3c70", delivery="2.0"), ip="10.40.22.15",
              ua="aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.4")
REPORTS = dict(ident=role("reports-etl", "reports-etl-20261203T0400", key="ASIAW3XKQ7PLT6YBV9QD"), ip="52.49.201.18",
               ua="Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 exec-env/AWS_ECS_FARGATE Botocore/1.34.69")
LAMBDA = dict(ident=role("thumbnailer-fn", "thumbnailer", key="ASIAW3XKQ7PLLMB8R2XA"), ip="3.252.77.140",
              ua="aws-sdk-nodejs/2.1550.0 linux/v20.11.0 exec-env/AWS_Lambda_nodejs20.x promise")
SEC = dict(ident=role("secops-automation", "secops-run-77120", key="ASIAW3XKQ7PLSE7C0P4K"), ip="34.247.9.201",
           ua="Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0 os/linux#6.1.72-96.166.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.1 Botocore/1.34.40")

def t(d, h, m=0, s=0):
    return f"2026-12-{d:02d}T{h:02d}:{m:02d}:{s:02d}Z"

# --- StopLogging: a failed call with a non-permission error still counts, and as failed.
pos("stoplogging-failed-trail-not-found", [rec(REPORTS, "cloudtrail", "StopLogging", t(3, 3, 1), req={"name": "org-audit-2"}, err="TrailNotFoundException", errmsg="Unknown trail: org-audit-2 for the user: 481230957716")],
    [dict(rule=DE, technique="T1562.008", severity="high")], "A failed StopLogging (a wrong trail name) is still reported, as failed, not succeeded.")

# --- Sharing snapshots and images.
SNAP = "snap-0f3a9c1d27e4b5a68"
pos("ebs-snapshot-shared-public", [rec(ORDERS, "ec2", "ModifySnapshotAttribute", t(3, 1, 12), req={"snapshotId": SNAP, "createVolumePermission": {"add": {"items": [{"group": "all"}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"}, resp={"requestId": "6a1f2c0e-2f44-4b6b-9d7e-3f0f1a2b3c4d", "_return": True})],
    [dict(rule=EX, technique="T1537", severity="critical")], "An instance role makes an EBS snapshot public.")
pos("ami-shared-public", [rec(CI, "ec2", "ModifyImageAttribute", t(4, 14, 2), req={"imageId": "ami-0b7c1e93d4f2a6058", "launchPermission": {"add": {"items": [{"group": "all"}]}}, "attributeType": "launchPermission"}, resp={"_return": True})],
    [dict(rule=EX, technique="T1537", severity="critical")], "A CI role makes an AMI public.")
pos("ebs-snapshot-shared-other-account", [rec(BACKUP, "ec2", "ModifySnapshotAttribute", t(3, 22, 40), req={"snapshotId": SNAP, "createVolumePermission": {"add": {"items": [{"userId": "739104562281"}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"}, resp={"_return": True})],
    [dict(rule=EX, technique="T1537", severity="high")], "A backup user shares a snapshot with an account outside the organisation's list.")
pos("rds-snapshot-shared-public", [rec(REPORTS, "rds", "ModifyDBSnapshotAttribute", t(3, 4, 30), req={"dBSnapshotIdentifier": "orders-prod-2026-12-03", "attributeName": "restore", "valuesToAdd": ["all"]}, resp={"dBSnapshotIdentifier": "orders-prod-2026-12-03", "dBSnapshotAttributes": [{"attributeName": "restore", "attributeValues": ["all"]}]})],
    [dict(rule=EX, technique="T1537", severity="critical")], "An ETL role makes an RDS snapshot restorable by anyone.")
ben("ebs-snapshot-public-share-removed", [rec(ORDERS, "ec2", "ModifySnapshotAttribute", t(3, 1, 30), req={"snapshotId": SNAP, "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"}, resp={"_return": True})],
    [EX], "Taking a public share away is the fix, not the exfiltration.")
ben("rds-snapshot-public-share-removed", [rec(REPORTS, "rds", "ModifyDBSnapshotAttribute", t(3, 4, 40), req={"dBSnapshotIdentifier": "orders-prod-2026-12-03", "attributeName": "restore", "valuesToRemove": ["all"]}, resp=None)],
    [EX], "Removing `all` from an RDS snapshot's restore attribute.")
ben("ebs-snapshot-described", [rec(BACKUP, "ec2", "DescribeSnapshotAttribute", t(3, 22, 41), req={"snapshotId": SNAP, "attribute": "createVolumePermission"}, ro=True)],
    [EX], "The backup user reads who a snapshot is shared with.")
ben("ami-launch-permission-removed", [rec(CI, "ec2", "ModifyImageAttribute", t(4, 14, 5), req={"imageId": "ami-0b7c1e93d4f2a6058", "launchPermission": {"remove": {"items": [{"userId": "739104562281"}]}}, "attributeType": "launchPermission"}, resp={"_return": True})],
    [EX], "The CI role withdraws an AMI's launch permission from an account.")

# --- Policies attached: administrator-equivalent versus narrow.
ADMIN_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
NARROW_DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::acme-reports-eu", "arn:aws:s3:::acme-reports-eu/*"]}]})
pos("admin-policy-attached-to-role", [rec(REPORTS, "iam", "AttachRolePolicy", t(3, 5, 0), req={"roleName": "reports-etl", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.003", severity="critical")], "A workload role attaches AdministratorAccess to itself.")
pos("admin-inline-policy-put-on-user", [rec(LAMBDA, "iam", "PutUserPolicy", t(3, 5, 10), req={"userName": "svc-backup", "policyName": "maintenance", "policyDocument": ADMIN_DOC}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.003", severity="critical", identity=f"arn:aws:iam::{ACCT}:user/svc-backup")], "A Lambda role writes an inline *:* policy on a service user: reported on the function and on the user it changed.")
pos("admin-policy-version", [rec(CI, "iam", "CreatePolicyVersion", t(4, 9, 0), req={"policyArn": f"arn:aws:iam::{ACCT}:policy/deploy-boundary", "policyDocument": ADMIN_DOC, "setAsDefault": True}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.003", severity="critical")], "A CI role rewrites a managed policy to allow everything.")
ben("readonly-policy-attached-to-role", [rec(TF, "iam", "AttachRolePolicy", t(2, 10, 0), req={"roleName": "grafana-reader", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, region="us-east-1")],
    [PC], "Terraform attaches AWS's ReadOnlyAccess to a dashboard role.")
ben("narrow-inline-policy-put-on-role", [rec(TF, "iam", "PutRolePolicy", t(2, 10, 1), req={"roleName": "reports-reader", "policyName": "read-reports", "policyDocument": NARROW_DOC}, region="us-east-1")],
    [PC], "Terraform writes an inline policy reading one bucket.")
ben("securityaudit-policy-attached", [rec(TF, "iam", "AttachRolePolicy", t(2, 10, 2), req={"roleName": "cspm-scanner", "policyArn": "arn:aws:iam::aws:policy/SecurityAudit"}, region="us-east-1")],
    [PC], "Terraform attaches SecurityAudit to a scanner role.")

# --- Trust policy changes.
def trust(principal, cond=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if cond:
        st["Condition"] = cond
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})
pos("trust-policy-foreign-account", [rec(CI, "iam", "UpdateAssumeRolePolicy", t(4, 11, 0), req={"roleName": "orders-api", "policyDocument": trust({"AWS": "arn:aws:iam::739104562281:root"})}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.003", identity=f"arn:aws:iam::{ACCT}:role/orders-api")], "A CI role lets another account assume the orders role.")
pos("trust-policy-everyone", [rec(BACKUP, "iam", "UpdateAssumeRolePolicy", t(4, 11, 5), req={"roleName": "backup-restore", "policyDocument": trust({"AWS": "*"})}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.003", severity="critical")], "A service user lets any principal assume a role.")
ben("trust-policy-same-account", [rec(TF, "iam", "UpdateAssumeRolePolicy", t(2, 10, 5), req={"roleName": "orders-api", "policyDocument": trust({"AWS": f"arn:aws:iam::{ACCT}:role/deploy-pipeline"})}, region="us-east-1")],
    [PC], "Terraform lets the deploy role of the same account assume a role.")
ben("trust-policy-service", [rec(TF, "iam", "UpdateAssumeRolePolicy", t(2, 10, 6), req={"roleName": "orders-worker", "policyDocument": trust({"Service": "ec2.amazonaws.com"})}, region="us-east-1")],
    [PC], "Terraform lets EC2 assume an instance role.")

# --- Changes made to machine identities by anyone (people included).
pos("access-key-created-for-service-user-by-person", [rec(ADMIN, "iam", "CreateAccessKey", t(3, 16, 20), req={"userName": "svc-backup"}, resp={"accessKey": {"accessKeyId": "AKIAW3XKQ7PLQ2M4N6B8", "status": "Active", "userName": "svc-backup", "createDate": "Dec 3, 2026 4:20:11 PM"}}, region="us-east-1", extra={"sessionCredentialFromConsole": "true"})],
    [dict(rule=PC, technique="T1098.001", identity=f"arn:aws:iam::{ACCT}:user/svc-backup")], "A person creates an access key for a service user: the alert lands on the service user.")
pos("admin-policy-attached-to-app-role-by-person", [rec(ADMIN, "iam", "AttachRolePolicy", t(3, 16, 25), req={"roleName": "orders-api", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, region="us-east-1", extra={"sessionCredentialFromConsole": "true"})],
    [dict(rule=PC, technique="T1098.003", identity=f"arn:aws:iam::{ACCT}:role/orders-api", severity="critical")], "A person attaches AdministratorAccess to an application role.")
pos("access-key-reactivated-for-service-user", [rec(ADMIN, "iam", "UpdateAccessKey", t(3, 16, 30), req={"userName": "svc-legacy-ftp", "accessKeyId": "AKIAW3XKQ7PLZ8X1C3V5", "status": "Active"}, region="us-east-1", extra={"sessionCredentialFromConsole": "true"})],
    [dict(rule=PC, technique="T1098.001", identity=f"arn:aws:iam::{ACCT}:user/svc-legacy-ftp")], "A person reactivates a retired service user's key.")
pos("login-profile-created-for-service-user", [rec(CI, "iam", "CreateLoginProfile", t(4, 2, 30), req={"userName": "svc-backup", "passwordResetRequired": False}, resp={"loginProfile": {"userName": "svc-backup", "createDate": "Dec 4, 2026 2:30:00 AM", "passwordResetRequired": False}}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.001", identity=f"arn:aws:iam::{ACCT}:user/svc-backup")], "A CI role gives a service user a console password.")
ben("access-key-deactivated-by-person", [rec(ADMIN, "iam", "UpdateAccessKey", t(3, 16, 35), req={"userName": "svc-legacy-ftp", "accessKeyId": "AKIAW3XKQ7PLZ8X1C3V5", "status": "Inactive"}, region="us-east-1", extra={"sessionCredentialFromConsole": "true"})],
    [PC], "A person deactivates a service user's key: remediation, not persistence.")
ben("access-keys-listed-by-person", [rec(ADMIN, "iam", "ListAccessKeys", t(3, 16, 36), req={"userName": "svc-backup"}, ro=True, region="us-east-1", extra={"sessionCredentialFromConsole": "true"})],
    [PC], "A person lists a service user's keys.")

# --- S3 versioning suspended.
def s3rec(actor, name, tm, bucket, extra_req, **kw):
    req = {"bucketName": bucket, "Host": f"{bucket}.s3.eu-west-1.amazonaws.com"}
    req.update(extra_req)
    return rec(actor, "s3", name, tm, req=req, **kw)
XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
pos("s3-versioning-suspended", [s3rec(ORDERS, "PutBucketVersioning", t(3, 2, 0), "acme-orders-archive", {"versioning": "", "VersioningConfiguration": {"Status": "Suspended", "xmlns": XMLNS}})],
    [dict(rule=SA, technique="T1490")], "An instance role suspends versioning on an archive bucket.")
pos("s3-versioning-suspended-by-key", [s3rec(BACKUP, "PutBucketVersioning", t(3, 2, 5), "acme-db-backups", {"versioning": "", "VersioningConfiguration": {"Status": "Suspended", "MfaDelete": "Disabled", "xmlns": XMLNS}})],
    [dict(rule=SA, technique="T1490")], "The backup user suspends versioning on the backup bucket.")
ben("s3-versioning-enabled", [s3rec(TF, "PutBucketVersioning", t(2, 10, 10), "acme-orders-archive", {"versioning": "", "VersioningConfiguration": {"Status": "Enabled", "xmlns": XMLNS}})],
    [SA], "Terraform enables versioning.")
ben("s3-versioning-read", [s3rec(BACKUP, "GetBucketVersioning", t(3, 2, 6), "acme-db-backups", {"versioning": ""}, ro=True)],
    [SA], "The backup user checks versioning.")

# --- S3 access logging removed.
pos("s3-logging-removed", [s3rec(ORDERS, "PutBucketLogging", t(3, 2, 10), "acme-orders-archive", {"logging": "", "BucketLoggingStatus": {"xmlns": XMLNS}})],
    [dict(rule=DE, technique="T1562.008")], "Server access logging turned off (an empty BucketLoggingStatus).")
pos("s3-logging-removed-by-ci", [s3rec(CI, "PutBucketLogging", t(4, 2, 10), "acme-customer-exports", {"logging": "", "BucketLoggingStatus": {"xmlns": XMLNS}})],
    [dict(rule=DE, technique="T1562.008")], "A CI role turns off access logging of an export bucket.")
ben("s3-logging-enabled", [s3rec(TF, "PutBucketLogging", t(2, 10, 12), "acme-orders-archive", {"logging": "", "BucketLoggingStatus": {"xmlns": XMLNS, "LoggingEnabled": {"TargetBucket": "acme-s3-access-logs", "TargetPrefix": "acme-orders-archive/"}}})],
    [DE], "Terraform turns logging on.")
ben("s3-logging-target-changed", [s3rec(CI, "PutBucketLogging", t(4, 2, 12), "acme-customer-exports", {"logging": "", "BucketLoggingStatus": {"xmlns": XMLNS, "LoggingEnabled": {"TargetBucket": "acme-s3-access-logs-v2", "TargetPrefix": "exports/"}}})],
    [DE], "A CI role moves logs to a new log bucket.")

# --- Public access block.
pos("s3-public-access-block-deleted", [s3rec(REPORTS, "DeleteBucketPublicAccessBlock", t(3, 4, 50), "acme-reports-eu", {"publicAccessBlock": ""})],
    [dict(rule=EX, technique="T1562.007")], "The catalogue entry that could never fire: DeleteBucketPublicAccessBlock is s3:PutBucketPublicAccessBlock.")
pos("s3-public-access-block-weakened", [s3rec(CI, "PutBucketPublicAccessBlock", t(4, 3, 0), "acme-static-site", {"publicAccessBlock": "", "PublicAccessBlockConfiguration": {"xmlns": XMLNS, "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}})],
    [dict(rule=EX, technique="T1562.007")], "Public policies allowed on a bucket.")
ben("s3-public-access-block-set", [s3rec(TF, "PutBucketPublicAccessBlock", t(2, 10, 14), "acme-reports-eu", {"publicAccessBlock": "", "PublicAccessBlockConfiguration": {"xmlns": XMLNS, "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}})],
    [EX], "Terraform blocks all public access.")
ben("s3-public-access-block-read", [s3rec(REPORTS, "GetBucketPublicAccessBlock", t(3, 4, 51), "acme-reports-eu", {"publicAccessBlock": ""}, ro=True)],
    [EX], "Reading the block.")

# --- Default encryption removed.
pos("s3-encryption-deleted", [s3rec(ORDERS, "DeleteBucketEncryption", t(3, 2, 20), "acme-orders-archive", {"encryption": ""})],
    [dict(rule=DE, technique="T1562.001")], "Default encryption deleted.")
pos("s3-encryption-deleted-by-key", [s3rec(BACKUP, "DeleteBucketEncryption", t(3, 2, 25), "acme-db-backups", {"encryption": ""})],
    [dict(rule=DE, technique="T1562.001")], "The backup user deletes default encryption of the backup bucket.")
ben("s3-encryption-set-kms", [s3rec(TF, "PutBucketEncryption", t(2, 10, 16), "acme-orders-archive", {"encryption": "", "ServerSideEncryptionConfiguration": {"xmlns": XMLNS, "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"arn:aws:kms:eu-west-1:{ACCT}:key/5f0c2a1e-9b7d-4c3a-8e6f-2d1b0a9c8e7f"}, "BucketKeyEnabled": True}}})],
    [DE], "Terraform sets KMS default encryption.")
ben("s3-encryption-set-aes", [s3rec(CI, "PutBucketEncryption", t(4, 2, 20), "acme-customer-exports", {"encryption": "", "ServerSideEncryptionConfiguration": {"xmlns": XMLNS, "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}}})],
    [DE], "A CI role sets SSE-S3 encryption.")

# --- Lifecycle set to expire everything.
pos("s3-lifecycle-expire-all-1-day", [s3rec(ORDERS, "PutBucketLifecycle", t(3, 2, 30), "acme-orders-archive", {"lifecycle": "", "LifecycleConfiguration": {"xmlns": XMLNS, "Rule": {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}}})],
    [dict(rule=SA, technique="T1485")], "Every object expires after a day.")
pos("s3-lifecycle-expire-all-rules-array", [s3rec(REPORTS, "PutBucketLifecycleConfiguration", t(3, 4, 55), "acme-reports-eu", {"lifecycle": "", "LifecycleConfiguration": {"xmlns": XMLNS, "Rule": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}, {"ID": "all", "Status": "Enabled", "Prefix": "", "Expiration": {"Days": 2}}]}})],
    [dict(rule=SA, technique="T1485")], "A second rule with an empty prefix expires the whole bucket after two days.")
ben("s3-lifecycle-expire-tmp-prefix", [s3rec(TF, "PutBucketLifecycle", t(2, 10, 18), "acme-orders-archive", {"lifecycle": "", "LifecycleConfiguration": {"xmlns": XMLNS, "Rule": {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}}})],
    [SA], "Scratch objects under tmp/ expire after a day.")
ben("s3-lifecycle-retention-one-year", [s3rec(CI, "PutBucketLifecycle", t(4, 2, 30), "acme-customer-exports", {"lifecycle": "", "LifecycleConfiguration": {"xmlns": XMLNS, "Rule": {"ID": "retention", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 365}, "Transition": {"Days": 30, "StorageClass": "GLACIER"}}}})],
    [SA], "A one-year retention rule.")

# --- RDS destruction and recovery inhibition.
pos("rds-instance-deleted-without-snapshot", [rec(REPORTS, "rds", "DeleteDBInstance", t(3, 5, 20), req={"dBInstanceIdentifier": "orders-prod", "skipFinalSnapshot": True, "deleteAutomatedBackups": True})],
    [dict(rule=SA, technique="T1485", severity="critical")], "Database deleted with no final snapshot and its backups.")
pos("rds-cluster-deleted-without-snapshot", [rec(CI, "rds", "DeleteDBCluster", t(4, 5, 20), req={"dBClusterIdentifier": "ledger-aurora", "skipFinalSnapshot": True})],
    [dict(rule=SA, technique="T1490")], "Aurora cluster deleted with no final snapshot.")
ben("rds-instance-deleted-with-final-snapshot", [rec(TF, "rds", "DeleteDBInstance", t(2, 11, 0), req={"dBInstanceIdentifier": "orders-staging", "skipFinalSnapshot": False, "finalDBSnapshotIdentifier": "orders-staging-final", "deleteAutomatedBackups": False})],
    [SA], "Terraform tears down a staging database keeping a final snapshot.")
ben("rds-snapshot-created", [rec(BACKUP, "rds", "CreateDBSnapshot", t(3, 1, 0), req={"dBSnapshotIdentifier": "orders-prod-manual-20261203", "dBInstanceIdentifier": "orders-prod"})],
    [SA], "The backup user takes a snapshot.")
pos("rds-snapshot-deleted", [rec(REPORTS, "rds", "DeleteDBSnapshot", t(3, 5, 25), req={"dBSnapshotIdentifier": "orders-prod-manual-20261201"})],
    [dict(rule=SA, technique="T1490")], "An ETL role deletes a database snapshot.")
pos("rds-automated-backup-deleted", [rec(LAMBDA, "rds", "DeleteDBInstanceAutomatedBackup", t(3, 5, 27), req={"dbiResourceId": "db-7QHXK2M4VN5BR3TC6YZ1WJ8PLA"})],
    [dict(rule=SA, technique="T1490")], "A function deletes a database's retained automated backups.")
ben("rds-snapshots-described", [rec(BACKUP, "rds", "DescribeDBSnapshots", t(3, 1, 5), req={"dBInstanceIdentifier": "orders-prod"}, ro=True)],
    [SA], "The backup user lists snapshots.")
SLR_BACKUP = dict(ident=role("AWSServiceRoleForBackup", "AWSBackup-AWSServiceRoleForBackup", path="/aws-service-role/backup.amazonaws.com", key="ASIAW3XKQ7PLBK0S9R7Q"),
                  ip="backup.amazonaws.com", ua="backup.amazonaws.com")
ben("rds-snapshot-expired-by-aws-backup", [rec(SLR_BACKUP, "rds", "DeleteDBSnapshot", t(3, 6, 0), req={"dBSnapshotIdentifier": "awsbackup:job-4f2a9c71-b3e8-4d05-a6c1-98e7f0d2b5a3"})],
    [SA], "AWS Backup's service-linked role deletes a recovery point at the end of its retention: the service's normal work.")
SLR_ASG = dict(ident=role("AWSServiceRoleForAutoScaling", "AutoScaling", path="/aws-service-role/autoscaling.amazonaws.com", key="ASIAW3XKQ7PLAS2G4H6J"),
               ip="autoscaling.amazonaws.com", ua="autoscaling.amazonaws.com")
ben("instances-launched-by-autoscaling", [rec(SLR_ASG, "ec2", "RunInstances", t(3, 7, 0), req={"instancesSet": {"items": [{"imageId": "ami-0b7c1e93d4f2a6058", "minCount": 1, "maxCount": 1}]}, "launchTemplate": {"launchTemplateId": "lt-0a1b2c3d4e5f60718", "version": "7"}})],
    [SA], "EC2 Auto Scaling's service-linked role launches an instance.")
pos("rds-deletion-protection-disabled", [rec(REPORTS, "rds", "ModifyDBInstance", t(3, 5, 15), req={"dBInstanceIdentifier": "orders-prod", "deletionProtection": False, "applyImmediately": True})],
    [dict(rule=SA, technique="T1490")], "Deletion protection turned off right before a deletion.")
pos("rds-backups-disabled", [rec(CI, "rds", "ModifyDBCluster", t(4, 5, 15), req={"dBClusterIdentifier": "ledger-aurora", "backupRetentionPeriod": 0, "applyImmediately": True})],
    [dict(rule=SA, technique="T1490")], "Backup retention set to 0.")
ben("rds-instance-resized", [rec(TF, "rds", "ModifyDBInstance", t(2, 11, 5), req={"dBInstanceIdentifier": "orders-prod", "dBInstanceClass": "db.r6g.2xlarge", "applyImmediately": False})],
    [SA], "Terraform resizes a database.")
ben("rds-deletion-protection-enabled", [rec(TF, "rds", "ModifyDBCluster", t(2, 11, 6), req={"dBClusterIdentifier": "ledger-aurora", "deletionProtection": True, "backupRetentionPeriod": 14})],
    [SA], "Terraform turns deletion protection on and keeps two weeks of backups.")
pos("rds-snapshot-exported", [rec(REPORTS, "rds", "StartExportTask", t(3, 4, 10), req={"exportTaskIdentifier": "orders-export-1", "sourceArn": f"arn:aws:rds:eu-west-1:{ACCT}:snapshot:orders-prod-2026-12-03", "s3BucketName": "tmp-drop-83f1", "iamRoleArn": f"arn:aws:iam::{ACCT}:role/rds-s3-export", "kmsKeyId": f"arn:aws:kms:eu-west-1:{ACCT}:key/5f0c2a1e-9b7d-4c3a-8e6f-2d1b0a9c8e7f"})],
    [dict(rule=EX, technique="T1537")], "A snapshot exported to an S3 bucket.")
pos("rds-cluster-snapshot-exported", [rec(LAMBDA, "rds", "StartExportTask", t(3, 4, 15), req={"exportTaskIdentifier": "ledger-export", "sourceArn": f"arn:aws:rds:eu-west-1:{ACCT}:cluster-snapshot:ledger-aurora-2026-12-03", "s3BucketName": "ledger-dump-2f", "iamRoleArn": f"arn:aws:iam::{ACCT}:role/rds-s3-export", "kmsKeyId": "alias/aws/s3"})],
    [dict(rule=EX, technique="T1537")], "A function exports a cluster snapshot.")
ben("rds-export-tasks-described", [rec(REPORTS, "rds", "DescribeExportTasks", t(3, 4, 20), req={"exportTaskIdentifier": "orders-export-1"}, ro=True)],
    [EX], "Reading export status.")
ben("rds-export-cancelled", [rec(REPORTS, "rds", "CancelExportTask", t(3, 4, 21), req={"exportTaskIdentifier": "orders-export-1"})],
    [EX], "Cancelling an export.")
pos("rds-restored-public", [rec(CI, "rds", "RestoreDBInstanceFromDBSnapshot", t(4, 6, 0), req={"dBInstanceIdentifier": "orders-copy", "dBSnapshotIdentifier": "orders-prod-2026-12-03", "publiclyAccessible": True, "dBInstanceClass": "db.t4g.medium"})],
    [dict(rule=EX, technique="T1537")], "A snapshot restored as a publicly accessible database.")
pos("rds-restored-public-by-key", [rec(BACKUP, "rds", "RestoreDBInstanceFromDBSnapshot", t(3, 23, 0), req={"dBInstanceIdentifier": "ledger-copy", "dBSnapshotIdentifier": "ledger-manual-1201", "publiclyAccessible": "true"})],
    [dict(rule=EX, technique="T1537")], "The backup user restores a public copy (boolean as a string).")
ben("rds-restored-private", [rec(TF, "rds", "RestoreDBInstanceFromDBSnapshot", t(2, 12, 0), req={"dBInstanceIdentifier": "orders-staging", "dBSnapshotIdentifier": "orders-prod-2026-12-01", "publiclyAccessible": False, "dBSubnetGroupName": "private-db"})],
    [EX], "Terraform restores a private staging copy.")
ben("rds-restored-default", [rec(BACKUP, "rds", "RestoreDBInstanceFromDBSnapshot", t(3, 23, 5), req={"dBInstanceIdentifier": "restore-test", "dBSnapshotIdentifier": "ledger-manual-1201", "dBSubnetGroupName": "private-db"})],
    [EX], "The weekly restore test, no public access requested.")

# --- Lambda code replaced.
pos("lambda-code-replaced-by-app-role", [rec(ORDERS, "lambda", "UpdateFunctionCode20150331v2", t(3, 3, 10), req={"functionName": "payments-webhook", "zipFile": "<binary data>", "publish": True}, resp={"functionName": "payments-webhook", "codeSha256": "kq3sR6l7xX1yZ0c8JmVt4Q2w5Ea9pN1bH6fD3gS7uYo="})],
    [dict(rule=SA, technique="T1648")], "An instance role replaces another function's code.")
pos("lambda-code-replaced-by-key", [rec(BACKUP, "lambda", "UpdateFunctionCode20150331v2", t(3, 3, 12), req={"functionName": f"arn:aws:lambda:eu-west-1:{ACCT}:function:auth-authorizer", "s3Bucket": "tmp-drop-83f1", "s3Key": "fn.zip"})],
    [dict(rule=SA, technique="T1546")], "A backup user's key replaces an authorizer's code from an odd bucket.")
ben("lambda-function-read", [rec(CI, "lambda", "GetFunction20150331v2", t(4, 9, 30), req={"functionName": "payments-webhook"}, ro=True)],
    [SA], "The CI role reads a function.")
ben("lambda-version-published", [rec(CI, "lambda", "PublishVersion20150331", t(4, 9, 31), req={"functionName": "payments-webhook", "description": "release 2026.12.4"})],
    [SA], "The CI role publishes a version.")

# --- KMS.
KEY = f"arn:aws:kms:eu-west-1:{ACCT}:key/5f0c2a1e-9b7d-4c3a-8e6f-2d1b0a9c8e7f"
pos("kms-key-deletion-scheduled", [rec(REPORTS, "kms", "ScheduleKeyDeletion", t(3, 5, 30), req={"keyId": KEY, "pendingWindowInDays": 7}, resp={"keyId": KEY, "deletionDate": "Dec 10, 2026, 5:30:00 AM", "keyState": "PendingDeletion", "pendingWindowInDays": 7})],
    [dict(rule=SA, technique="T1485")], "A key scheduled for deletion after the shortest wait.")
pos("kms-key-disabled", [rec(LAMBDA, "kms", "DisableKey", t(3, 5, 35), req={"keyId": "5f0c2a1e-9b7d-4c3a-8e6f-2d1b0a9c8e7f"})],
    [dict(rule=SA, technique="T1485")], "A function disables the data key.")
ben("kms-key-deletion-cancelled", [rec(SEC, "kms", "CancelKeyDeletion", t(3, 6, 0), req={"keyId": KEY})],
    [SA], "Security automation cancels a deletion.")
ben("kms-key-enabled", [rec(SEC, "kms", "EnableKey", t(3, 6, 1), req={"keyId": KEY})],
    [SA], "Security automation re-enables the key.")

# --- GuardDuty.
DET = "6ec5d8f1b2a34c97e0d1f2a3b4c5d6e7"
pos("guardduty-detector-deleted", [rec(REPORTS, "guardduty", "DeleteDetector", t(3, 2, 40), req={"detectorId": DET})],
    [dict(rule=DE, technique="T1562.001", severity="critical")], "GuardDuty detector deleted.")
pos("guardduty-detector-disabled", [rec(CI, "guardduty", "UpdateDetector", t(4, 2, 40), req={"detectorId": DET, "enable": False})],
    [dict(rule=DE, technique="T1562.001", severity="critical")], "GuardDuty turned off through UpdateDetector.")
pos("guardduty-archive-filter", [rec(ORDERS, "guardduty", "CreateFilter", t(3, 2, 45), req={"detectorId": DET, "name": "noise", "action": "ARCHIVE", "rank": 1, "findingCriteria": {"criterion": {"severity": {"gte": 1}}}})],
    [dict(rule=DE, technique="T1562.001")], "A filter that archives every finding.")
ben("guardduty-publishing-frequency", [rec(TF, "guardduty", "UpdateDetector", t(2, 12, 5), req={"detectorId": DET, "findingPublishingFrequency": "FIFTEEN_MINUTES"})],
    [DE], "Terraform changes how often findings are published.")
ben("guardduty-noop-filter", [rec(SEC, "guardduty", "CreateFilter", t(3, 9, 0), req={"detectorId": DET, "name": "pentest-window", "action": "NOOP", "rank": 2, "findingCriteria": {"criterion": {"resource.instanceDetails.instanceId": {"eq": ["i-0c5d81e2f4a9b3c70"]}}}})],
    [DE], "A filter that only labels findings.")

# --- Security Hub.
FIND = [{"Id": f"arn:aws:securityhub:eu-west-1:{ACCT}:subscription/aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/1b9f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub"}]
pos("securityhub-findings-suppressed", [rec(ORDERS, "securityhub", "BatchUpdateFindings", t(3, 2, 50), req={"FindingIdentifiers": FIND, "Workflow": {"Status": "SUPPRESSED"}})],
    [dict(rule=DE, technique="T1562.001")], "Findings suppressed.")
pos("securityhub-findings-suppressed-lowercase", [rec(BACKUP, "securityhub", "BatchUpdateFindings", t(3, 2, 55), req={"findingIdentifiers": FIND, "workflow": {"status": "SUPPRESSED"}, "note": {"text": "ok", "updatedBy": "svc"}})],
    [dict(rule=DE, technique="T1562.001")], "Findings suppressed (field spelling as some SDKs log it).")
pos("securityhub-disabled", [rec(CI, "securityhub", "DisableSecurityHub", t(4, 2, 50), req=None)],
    [dict(rule=DE, technique="T1562.001", severity="critical")], "Security Hub disabled.")
ben("securityhub-findings-notified", [rec(SEC, "securityhub", "BatchUpdateFindings", t(3, 9, 5), req={"FindingIdentifiers": FIND, "Workflow": {"Status": "NOTIFIED"}, "Note": {"Text": "ticket SEC-4412", "UpdatedBy": "secops-automation"}})],
    [DE], "Security automation marks findings notified.")
ben("securityhub-findings-resolved", [rec(SEC, "securityhub", "BatchUpdateFindings", t(3, 9, 6), req={"FindingIdentifiers": FIND, "Workflow": {"Status": "RESOLVED"}})],
    [DE], "Security automation resolves fixed findings.")

# --- Macie.
pos("macie-disabled", [rec(REPORTS, "macie2", "DisableMacie", t(3, 2, 57), req=None)],
    [dict(rule=DE, technique="T1562.001")], "Macie disabled.")
pos("macie-paused", [rec(CI, "macie2", "UpdateMacieSession", t(4, 2, 57), req={"status": "PAUSED"})],
    [dict(rule=DE, technique="T1562.001")], "Macie paused.")
ben("macie-publishing-frequency", [rec(TF, "macie2", "UpdateMacieSession", t(2, 12, 10), req={"status": "ENABLED", "findingPublishingFrequency": "ONE_HOUR"})],
    [DE], "Terraform keeps Macie enabled and changes the frequency.")
ben("macie-session-read", [rec(SEC, "macie2", "GetMacieSession", t(3, 9, 10), req=None, ro=True)],
    [DE], "Reading Macie's status.")

# --- WAF.
pos("waf-web-acl-deleted", [rec(ORDERS, "wafv2", "DeleteWebACL", t(3, 3, 0), req={"name": "storefront", "scope": "REGIONAL", "id": "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "lockToken": "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"})],
    [dict(rule=DE, technique="T1562.007")], "Web ACL deleted.")
pos("waf-web-acl-disassociated", [rec(CI, "wafv2", "DisassociateWebACL", t(4, 3, 0), req={"resourceArn": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCT}:loadbalancer/app/storefront/50dc6c495c0c9188"})],
    [dict(rule=DE, technique="T1562.007")], "Web ACL detached from the load balancer.")
ben("waf-web-acl-read", [rec(SEC, "wafv2", "GetWebACL", t(3, 9, 15), req={"name": "storefront", "scope": "REGIONAL", "id": "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"}, ro=True)],
    [DE], "Reading the web ACL.")
ben("waf-web-acl-associated", [rec(TF, "wafv2", "AssociateWebACL", t(2, 12, 15), req={"webACLArn": f"arn:aws:wafv2:eu-west-1:{ACCT}:regional/webacl/storefront/a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "resourceArn": f"arn:aws:elasticloadbalancing:eu-west-1:{ACCT}:loadbalancer/app/storefront/50dc6c495c0c9188"})],
    [DE], "Terraform attaches the web ACL.")

# --- Config.
pos("config-recorder-stopped", [rec(REPORTS, "config", "StopConfigurationRecorder", t(3, 3, 5), req={"configurationRecorderName": "default"})],
    [dict(rule=DE, technique="T1562.008")], "Config recording stopped.")
pos("config-delivery-channel-deleted", [rec(CI, "config", "DeleteDeliveryChannel", t(4, 3, 5), req={"deliveryChannelName": "default"})],
    [dict(rule=DE, technique="T1562.008")], "Config delivery channel deleted.")
ben("config-recorder-started", [rec(TF, "config", "StartConfigurationRecorder", t(2, 12, 20), req={"configurationRecorderName": "default"})],
    [DE], "Terraform starts recording.")
ben("config-delivery-channel-put", [rec(TF, "config", "PutDeliveryChannel", t(2, 12, 21), req={"deliveryChannel": {"name": "default", "s3BucketName": "acme-config-history"}})],
    [DE], "Terraform configures the delivery channel.")

# --- CloudTrail selectors and trail scope.
pos("trail-management-events-excluded", [rec(CI, "cloudtrail", "PutEventSelectors", t(4, 3, 10), req={"trailName": "org-audit", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": False, "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::acme-orders-archive/"]}], "excludeManagementEventSources": []}]}, resp={"trailARN": TRAIL})],
    [dict(rule=DE, technique="T1562.008", severity="critical")], "Management events no longer recorded.")
pos("trail-writes-not-recorded", [rec(REPORTS, "cloudtrail", "PutEventSelectors", t(3, 3, 10), req={"trailName": "org-audit", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True, "dataResources": []}]})],
    [dict(rule=DE, technique="T1562.008")], "Only read calls recorded.")
pos("trail-advanced-selectors-data-only", [rec(ORDERS, "cloudtrail", "PutEventSelectors", t(3, 3, 12), req={"trailName": "org-audit", "advancedEventSelectors": [{"name": "S3 data", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]})],
    [dict(rule=DE, technique="T1562.008")], "Advanced selectors that keep data events only.")
ben("trail-data-events-added", [rec(TF, "cloudtrail", "PutEventSelectors", t(2, 12, 25), req={"trailName": "org-audit", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True, "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::acme-orders-archive/"]}]}]})],
    [DE], "Terraform adds S3 data events, management events kept.")
ben("trail-advanced-selectors-management-kept", [rec(TF, "cloudtrail", "PutEventSelectors", t(2, 12, 26), req={"trailName": "org-audit", "advancedEventSelectors": [{"name": "Management", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}, {"name": "Lambda data", "fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::Lambda::Function"]}]}]})],
    [DE], "Advanced selectors that keep management events.")
pos("trail-single-region", [rec(CI, "cloudtrail", "UpdateTrail", t(4, 3, 15), req={"name": "org-audit", "isMultiRegionTrail": False}, resp={"name": "org-audit", "trailARN": TRAIL, "isMultiRegionTrail": False})],
    [dict(rule=DE, technique="T1562.008")], "Trail narrowed to one region.")
pos("trail-no-global-events", [rec(REPORTS, "cloudtrail", "UpdateTrail", t(3, 3, 15), req={"name": "org-audit", "includeGlobalServiceEvents": False})],
    [dict(rule=DE, technique="T1562.008")], "Trail stops recording IAM and STS.")
ben("trail-log-validation-enabled", [rec(TF, "cloudtrail", "UpdateTrail", t(2, 12, 30), req={"name": "org-audit", "enableLogFileValidation": True})],
    [DE], "Terraform turns on log file validation.")
ben("trail-sns-topic-set", [rec(TF, "cloudtrail", "UpdateTrail", t(2, 12, 31), req={"name": "org-audit", "snsTopicName": "trail-delivery", "isMultiRegionTrail": True, "includeGlobalServiceEvents": True})],
    [DE], "Terraform sets a notification topic, still multi-region.")

# --- Instance credentials used outside the cloud.
ORDERS_ID = ORDERS["ident"]
pos("instance-credentials-from-macos", [rec(ORDERS, "s3", "ListBuckets", t(3, 21, 0), req={"Host": "s3.eu-west-1.amazonaws.com"}, ro=True, ip="185.220.101.47", ua="aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/s3.ls")],
    [dict(rule=CA, technique="T1552.005")], "An instance's credentials used from a Mac on a public address.")
pos("instance-credentials-from-pacu", [rec(ORDERS, "iam", "ListRoles", t(3, 21, 5), req=None, ro=True, region="us-east-1", ip="45.134.26.90", ua="Boto3/1.34.69 Python/3.11.8 Linux/6.6.9-amd64 Botocore/1.34.69 Pacu")],
    [dict(rule=CA, technique="T1552.005")], "An instance's credentials used by Pacu.")
ben("instance-credentials-through-vpc-endpoint", [rec(ORDERS, "s3", "GetObject", t(3, 21, 10), req={"bucketName": "acme-orders-archive", "key": "2026/12/03/orders.parquet", "Host": "acme-orders-archive.s3.eu-west-1.amazonaws.com"}, ro=True, ip="10.40.22.15", extra={"vpcEndpointId": "vpce-0a1b2c3d4e5f60718", "vpcEndpointAccountId": ACCT, "eventCategory": "Data", "managementEvent": False})],
    [CA], "The instance calls S3 through its VPC endpoint.")
ben("instance-credentials-through-nat", [rec(ORDERS, "sqs", "ReceiveMessage", t(3, 21, 11), req={"queueUrl": f"https://sqs.eu-west-1.amazonaws.com/{ACCT}/orders", "maxNumberOfMessages": 10}, ro=True, ip="54.216.83.120")],
    [CA], "The instance calls SQS from its NAT gateway's public address, with its usual SDK.")

# --- GetCallerIdentity from tooling that validates stolen keys.
pos("getcalleridentity-trufflehog", [rec(BACKUP, "sts", "GetCallerIdentity", t(3, 20, 0), req=None, ro=True, region="us-east-1", ip="91.92.246.12", ua="TruffleHog aws-sdk-go/1.50.20 (go1.21.6; linux; amd64)")],
    [dict(rule=CA, technique="T1078.004")], "A leaked key checked by TruffleHog.")
pos("getcalleridentity-cloudfox", [rec(REPORTS, "sts", "GetCallerIdentity", t(3, 20, 5), req=None, ro=True, region="us-east-1", ip="91.92.246.12", ua="aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.26.6 cloudfox/1.13.2")],
    [dict(rule=CA, technique="T1087.004")], "A session's credentials enumerated by CloudFox.")
ben("getcalleridentity-aws-cli", [rec(BACKUP, "sts", "GetCallerIdentity", t(3, 1, 0), req=None, ro=True, region="us-east-1", ua="aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/sts.get-caller-identity")],
    [CA], "A backup script checks which identity it runs as.")
ben("getcalleridentity-terraform", [rec(TF, "sts", "GetCallerIdentity", t(2, 10, 0), req=None, ro=True, region="us-east-1")],
    [CA], "Terraform's provider starts with GetCallerIdentity.")

# --- Keys turned into console sessions.
FED = dict(ident={"type": "FederatedUser", "principalId": f"{ACCT}:ops", "arn": f"arn:aws:sts::{ACCT}:federated-user/ops", "accountId": ACCT, "accessKeyId": "ASIAW3XKQ7PLFD3R5T7Y",
                  "sessionContext": {"sessionIssuer": {"type": "IAMUser", "principalId": "AIDAW3XKQ7PLD2Q8ZRT4M", "arn": f"arn:aws:iam::{ACCT}:user/svc-backup", "accountId": ACCT, "userName": "svc-backup"},
                                     "attributes": {"creationDate": "2026-12-03T20:10:00Z", "mfaAuthenticated": "false"}}},
           ip="91.92.246.12", ua="python-requests/2.31.0")
pos("signin-token-from-federation-token", [rec(FED, "signin", "GetSigninToken", t(3, 20, 11), req=None, resp={"GetSigninToken": "Success"}, region="us-east-1")],
    [dict(rule=CA, technique="T1550.001")], "A service user's key → GetFederationToken → a console sign-in link.")
pos("signin-token-from-role-session", [rec(REPORTS, "signin", "GetSigninToken", t(3, 20, 15), req=None, resp={"GetSigninToken": "Success"}, region="us-east-1", ip="91.92.246.12", ua="python-requests/2.28.2")],
    [dict(rule=CA, technique="T1550.001")], "A workload role session turned into a console link.")
HUMAN_USER = dict(ident={"type": "IAMUser", "principalId": "AIDAW3XKQ7PLHM5N7B9V", "arn": f"arn:aws:iam::{ACCT}:user/jonas.berg", "accountId": ACCT, "userName": "jonas.berg"},
                  ip="85.226.140.20", ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
ben("console-login-person", [rec(HUMAN_USER, "signin", "ConsoleLogin", t(3, 8, 0), req=None, resp={"ConsoleLogin": "Success"}, region="us-east-1", extra={"eventType": "AwsConsoleSignIn", "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}})],
    [CA], "A person signs in to the console.")
ben("session-token-by-service-user", [rec(BACKUP, "sts", "GetSessionToken", t(3, 1, 2), req={"durationSeconds": 3600}, region="us-east-1")],
    [CA], "A service user gets a session token, as its MFA-less wrapper does.")

# --- One role session from two networks at once.
TWO = dict(REPORTS)
pos("session-two-networks", [rec(REPORTS, "s3", "ListBuckets", t(3, 10, 0), req={"Host": "s3.eu-west-1.amazonaws.com"}, ro=True),
                             rec(REPORTS, "s3", "ListBuckets", t(3, 10, 3), req={"Host": "s3.eu-west-1.amazonaws.com"}, ro=True, ip="194.36.189.44", ua="aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-27-generic exe/x86_64.ubuntu.22 prompt/off")],
    [dict(rule=CR, technique="T1078.004")], "The ETL task's session used from its NAT and, three minutes later, from another network.")
pos("instance-session-two-networks", [rec(ORDERS, "sqs", "ReceiveMessage", t(3, 11, 0), req={"queueUrl": f"https://sqs.eu-west-1.amazonaws.com/{ACCT}/orders"}, ro=True, ip="54.216.83.120"),
                                      rec(ORDERS, "secretsmanager", "ListSecrets", t(3, 11, 6), req=None, ro=True, ip="203.0.113.77", ua="aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.28.0")],
    [dict(rule=CR, technique="T1078.004")], "An instance's session from its NAT and from an outside address within six minutes.")
ben("session-one-network", [rec(REPORTS, "s3", "GetObject", t(3, 10, i), req={"bucketName": "acme-reports-eu", "key": f"in/{i}.csv"}, ro=True) for i in range(0, 10)],
    [CR], "One session, one network, many calls.")
ben("role-two-sessions-two-networks", [rec(dict(REPORTS, ident=role("reports-etl", "reports-etl-a", key="ASIAW3XKQ7PLA1A1A1A1")), "s3", "GetObject", t(3, 10, 0), req={"bucketName": "acme-reports-eu", "key": "in/a.csv"}, ro=True),
                                       rec(dict(REPORTS, ident=role("reports-etl", "reports-etl-b", key="ASIAW3XKQ7PLB2B2B2B2")), "s3", "GetObject", t(3, 10, 1), req={"bucketName": "acme-reports-eu", "key": "in/b.csv"}, ro=True, ip="63.33.12.200")],
    [CR], "Two tasks of one role, each with its own session, in two availability zones' NATs.")

# --- More cases so every detection has two positives and two look-alikes.
pos("kms-key-deletion-scheduled-by-ci", [rec(CI, "kms", "ScheduleKeyDeletion", t(4, 5, 30), req={"keyId": "alias/orders-data", "pendingWindowInDays": 30})],
    [dict(rule=SA, technique="T1485")], "A CI role schedules the orders data key for deletion.")
pos("kms-key-disabled-by-key", [rec(BACKUP, "kms", "DisableKey", t(3, 23, 30), req={"keyId": KEY})],
    [dict(rule=SA, technique="T1485")], "The backup user disables the key its backups are encrypted with.")
pos("guardduty-filter-updated-to-archive", [rec(BACKUP, "guardduty", "UpdateFilter", t(3, 23, 35), req={"detectorId": DET, "filterName": "pentest-window", "action": "ARCHIVE"})],
    [dict(rule=DE, technique="T1562.001")], "An existing filter switched to archiving.")
ben("guardduty-filter-updated-noop", [rec(SEC, "guardduty", "UpdateFilter", t(3, 9, 2), req={"detectorId": DET, "filterName": "pentest-window", "action": "NOOP", "description": "window extended"})],
    [DE], "Security automation edits a labelling filter.")
pos("access-key-reactivated-by-ci", [rec(CI, "iam", "UpdateAccessKey", t(4, 2, 35), req={"userName": "svc-backup", "accessKeyId": "AKIAW3XKQ7PLHV4TNB2E", "status": "Active"}, region="us-east-1")],
    [dict(rule=PC, technique="T1098.001", identity=f"arn:aws:iam::{ACCT}:user/svc-backup")], "A CI role reactivates a service user's key.")
ben("access-key-deactivated-by-security-automation", [rec(SEC, "iam", "UpdateAccessKey", t(3, 9, 20), req={"userName": "svc-backup", "accessKeyId": "AKIAW3XKQ7PLHV4TNB2E", "status": "Inactive"}, region="us-east-1")],
    [PC], "Security automation deactivates a leaked key.")
