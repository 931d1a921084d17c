//! CloudTrail `eventSource` + `eventName` → the IAM action that authorised the call.
//!
//! Mostly `<service prefix>:<eventName>`, but some services log under a host name that is not
//! their IAM prefix (`monitoring` → `cloudwatch`), some event names carry API version suffixes
//! (Lambda's `GetFunction20150331v2`, CloudFront's `CreateDistribution2020_05_31`), and S3 logs
//! operation names where IAM authorises a differently named action (`ListObjects` needs
//! `s3:ListBucket`, `HeadObject` needs `s3:GetObject`).

/// Event sources whose host name differs from the IAM service prefix.
const SOURCE_PREFIX: &[(&str, &str)] = &[
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("tagging", "tag"),
    ("runtime.lex", "lex"),
    ("models.lex", "lex"),
    ("runtime.sagemaker", "sagemaker"),
    ("api.sagemaker", "sagemaker"),
    ("data.iot", "iot"),
    ("api.ecr", "ecr"),
    ("api.pricing", "pricing"),
    ("streams.dynamodb", "dynamodb"),
    ("servicecatalog-appregistry", "servicecatalog"),
];

/// S3 operations whose IAM action has another name.
const S3_ACTIONS: &[(&str, &str)] = &[
    ("ListObjects", "ListBucket"),
    ("ListObjectsV2", "ListBucket"),
    ("HeadBucket", "ListBucket"),
    ("ListObjectVersions", "ListBucketVersions"),
    ("ListBuckets", "ListAllMyBuckets"),
    ("HeadObject", "GetObject"),
    ("SelectObjectContent", "GetObject"),
    ("GetObjectAttributes", "GetObjectAttributes"),
    ("CopyObject", "PutObject"),
    ("CreateMultipartUpload", "PutObject"),
    ("UploadPart", "PutObject"),
    ("UploadPartCopy", "PutObject"),
    ("CompleteMultipartUpload", "PutObject"),
    ("DeleteObjects", "DeleteObject"),
    ("ListMultipartUploads", "ListBucketMultipartUploads"),
    ("ListParts", "ListMultipartUploadParts"),
    ("GetBucketCors", "GetBucketCORS"),
    ("PutBucketCors", "PutBucketCORS"),
    ("DeleteBucketCors", "PutBucketCORS"),
    ("GetBucketEncryption", "GetEncryptionConfiguration"),
    ("PutBucketEncryption", "PutEncryptionConfiguration"),
    ("DeleteBucketEncryption", "PutEncryptionConfiguration"),
    ("GetBucketLifecycle", "GetLifecycleConfiguration"),
    (
        "GetBucketLifecycleConfiguration",
        "GetLifecycleConfiguration",
    ),
    ("PutBucketLifecycle", "PutLifecycleConfiguration"),
    (
        "PutBucketLifecycleConfiguration",
        "PutLifecycleConfiguration",
    ),
    ("DeleteBucketLifecycle", "PutLifecycleConfiguration"),
    ("GetBucketReplication", "GetReplicationConfiguration"),
    ("PutBucketReplication", "PutReplicationConfiguration"),
    ("DeleteBucketReplication", "PutReplicationConfiguration"),
    ("DeleteBucketTagging", "PutBucketTagging"),
    (
        "DeleteBucketPublicAccessBlock",
        "PutBucketPublicAccessBlock",
    ),
    (
        "DeleteBucketOwnershipControls",
        "PutBucketOwnershipControls",
    ),
    (
        "GetObjectLockConfiguration",
        "GetBucketObjectLockConfiguration",
    ),
    (
        "PutObjectLockConfiguration",
        "PutBucketObjectLockConfiguration",
    ),
    (
        "GetBucketAccelerateConfiguration",
        "GetAccelerateConfiguration",
    ),
    (
        "PutBucketAccelerateConfiguration",
        "PutAccelerateConfiguration",
    ),
    (
        "GetBucketInventoryConfiguration",
        "GetInventoryConfiguration",
    ),
    (
        "PutBucketInventoryConfiguration",
        "PutInventoryConfiguration",
    ),
    (
        "ListBucketInventoryConfigurations",
        "GetInventoryConfiguration",
    ),
    (
        "DeleteBucketInventoryConfiguration",
        "PutInventoryConfiguration",
    ),
    (
        "GetBucketAnalyticsConfiguration",
        "GetAnalyticsConfiguration",
    ),
    (
        "PutBucketAnalyticsConfiguration",
        "PutAnalyticsConfiguration",
    ),
    ("GetBucketMetricsConfiguration", "GetMetricsConfiguration"),
    ("PutBucketMetricsConfiguration", "PutMetricsConfiguration"),
    (
        "GetBucketIntelligentTieringConfiguration",
        "GetIntelligentTieringConfiguration",
    ),
    (
        "PutBucketIntelligentTieringConfiguration",
        "PutIntelligentTieringConfiguration",
    ),
    (
        "GetBucketNotificationConfiguration",
        "GetBucketNotification",
    ),
    (
        "PutBucketNotificationConfiguration",
        "PutBucketNotification",
    ),
    ("DeleteBucketWebsite", "DeleteBucketWebsite"),
    ("GetPublicAccessBlock", "GetAccountPublicAccessBlock"),
    ("PutPublicAccessBlock", "PutAccountPublicAccessBlock"),
];

const LAMBDA_ACTIONS: &[(&str, &str)] = &[("Invoke", "InvokeFunction")];

/// Events that record something other than an IAM-authorised API call (sign-in, SSO portal,
/// service-internal events): no IAM action exists for them.
const NOT_IAM: &[&str] = &[
    "signin:ConsoleLogin",
    "signin:CheckMfa",
    "signin:SwitchRole",
    "signin:ExitRole",
    "signin:RenewRole",
    "signin:UserAuthentication",
    "signin:CredentialChallenge",
    "signin:CredentialVerification",
    "signin:PasswordUpdated",
    "signin:ConsoleSignin",
    "sso:Authenticate",
    "sso:Federate",
    "sso:GetRoleCredentials",
    "sso:ListAccountRoles",
    "sso:ListAccounts",
    "sso:Logout",
    "sts:GetCallerIdentity",
    // Service events (`eventType: AwsServiceEvent`): AWS acting on its own schedule.
    "ec2:SharedSnapshotVolumeCreated",
    "ec2:SharedSnapshotCopyInitiated",
    "secretsmanager:StartSecretVersionDelete",
    "secretsmanager:EndSecretVersionDelete",
    "secretsmanager:RotationSucceeded",
    "secretsmanager:RotationFailed",
    "kms:RotateKey",
    "kms:DeleteExpiredKeyMaterial",
    // Console-internal call behind the S3 Storage Lens dashboard.
    "s3:GetStorageLensDashboardDataInternal",
];

/// The IAM service prefix for a CloudTrail `eventSource` (`s3.amazonaws.com` → `s3`).
pub fn service_prefix(event_source: &str) -> &str {
    let host = event_source
        .strip_suffix(".amazonaws.com")
        .or_else(|| event_source.strip_suffix(".amazonaws.com.cn"))
        .unwrap_or(event_source);
    SOURCE_PREFIX
        .iter()
        .find(|(from, _)| *from == host)
        .map(|(_, to)| *to)
        .unwrap_or(host)
}

/// Strips API version suffixes: `GetFunction20150331v2` → `GetFunction`,
/// `CreateDistribution2020_05_31` → `CreateDistribution`.
fn strip_version(name: &str) -> &str {
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    // The suffixes are ASCII, so `name.get(..head.len())` below is on a character boundary; the
    // tails are fixed-size arrays, whose constant indexes are checked at compile time.
    // CloudFront: YYYY_MM_DD
    if let Some((head, tail)) = name.as_bytes().split_last_chunk::<10>()
        && !head.is_empty()
        && digits(&tail[0..4])
        && tail[4] == b'_'
        && digits(&tail[5..7])
        && tail[7] == b'_'
        && digits(&tail[8..10])
    {
        return name.get(..head.len()).unwrap_or(name);
    }
    // Lambda and others: YYYYMMDD optionally followed by vN.
    let stem = match name.rsplit_once('v') {
        Some((stem, version)) if !version.is_empty() && digits(version.as_bytes()) => stem,
        _ => name,
    };
    if let Some((head, date)) = stem.as_bytes().split_last_chunk::<8>()
        && !head.is_empty()
        && digits(date)
        && date[0] == b'2'
    {
        return name.get(..head.len()).unwrap_or(name);
    }
    name
}

/// The IAM action for a CloudTrail event, in AWS's spelling where the catalogue knows it.
pub fn cloudtrail_action(event_source: &str, event_name: &str) -> String {
    let prefix = service_prefix(event_source);
    let name = strip_version(event_name);
    let table: &[(&str, &str)] = match prefix {
        "s3" => S3_ACTIONS,
        "lambda" => LAMBDA_ACTIONS,
        _ => &[],
    };
    let name = table
        .iter()
        .find(|(from, _)| *from == name)
        .map(|(_, to)| *to)
        .unwrap_or(name);
    let action = format!("{prefix}:{name}");
    // The catalogue's spelling wins over the event's (e.g. letter case of acronyms).
    let catalog = warrant_aws_policy::catalog();
    match catalog.index_of(&action) {
        Some(i) => catalog.name(i).to_string(),
        None => action,
    }
}

/// Whether the action is known to be an event without an IAM permission behind it
/// (console sign-in, SSO portal calls, `sts:GetCallerIdentity`, which needs no permission).
pub fn is_non_iam_event(action: &str) -> bool {
    NOT_IAM.contains(&action)
}

/// Whether the action is in the IAM action catalogue.
pub fn is_catalogued(action: &str) -> bool {
    warrant_aws_policy::catalog().index_of(action).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_exceptions() {
        let cases = [
            ("s3.amazonaws.com", "GetObject", "s3:GetObject"),
            ("s3.amazonaws.com", "ListObjects", "s3:ListBucket"),
            ("s3.amazonaws.com", "HeadObject", "s3:GetObject"),
            ("s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"),
            ("s3.amazonaws.com", "PutBucketPolicy", "s3:PutBucketPolicy"),
            (
                "monitoring.amazonaws.com",
                "PutMetricData",
                "cloudwatch:PutMetricData",
            ),
            ("email.amazonaws.com", "SendEmail", "ses:SendEmail"),
            ("lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"),
            (
                "lambda.amazonaws.com",
                "GetFunction20150331v2",
                "lambda:GetFunction",
            ),
            (
                "lambda.amazonaws.com",
                "ListFunctions20150331",
                "lambda:ListFunctions",
            ),
            (
                "cloudfront.amazonaws.com",
                "CreateDistribution2020_05_31",
                "cloudfront:CreateDistribution",
            ),
            ("kms.amazonaws.com", "Decrypt", "kms:Decrypt"),
            (
                "sts.amazonaws.com",
                "AssumeRoleWithWebIdentity",
                "sts:AssumeRoleWithWebIdentity",
            ),
            (
                "signin.amazonaws.com",
                "ConsoleLogin",
                "signin:ConsoleLogin",
            ),
        ];
        for (source, name, want) in cases {
            assert_eq!(cloudtrail_action(source, name), want, "{source} {name}");
        }
    }

    #[test]
    fn mapped_actions_are_catalogued() {
        for (_, to) in S3_ACTIONS {
            let action = format!("s3:{to}");
            assert!(is_catalogued(&action), "{action}");
        }
        assert!(is_catalogued("lambda:InvokeFunction"));
        assert!(is_non_iam_event("signin:ConsoleLogin"));
    }

    #[test]
    fn version_suffixes() {
        assert_eq!(
            strip_version("UpdateFunctionCode20150331v2"),
            "UpdateFunctionCode"
        );
        assert_eq!(
            strip_version("PublishLayerVersion20181031"),
            "PublishLayerVersion"
        );
        assert_eq!(strip_version("GetObject"), "GetObject");
        assert_eq!(strip_version("ListObjectsV2"), "ListObjectsV2");
        assert_eq!(strip_version("v2"), "v2");
    }
}
