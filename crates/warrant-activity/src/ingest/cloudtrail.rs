//! CloudTrail records (delivery files, JSON arrays, JSON Lines exports).

use std::collections::HashMap;

use foldhash::fast::RandomState as FoldHash;

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::Emit;
use super::classify::{UserAgentClass, aws_actor_classified};
use super::cloudtrail_facts::{self, needs_facts};
use super::de::{Opt, Str, content_id, lenient_bool, lenient_object, parse_time};
use super::frame::{Direct, Input};
use crate::actions::cloudtrail_action;
use crate::event::{Event, Facts, LogKind, Outcome, Principal, PrincipalKind};

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(rename = "eventID", borrow, default)]
    event_id: Opt<'a>,
    #[serde(rename = "eventTime", borrow)]
    event_time: Str<'a>,
    #[serde(rename = "eventSource", borrow)]
    event_source: Str<'a>,
    #[serde(rename = "eventName", borrow)]
    event_name: Str<'a>,
    #[serde(rename = "awsRegion", borrow, default)]
    aws_region: Opt<'a>,
    #[serde(rename = "sourceIPAddress", borrow, default)]
    source_ip: Opt<'a>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Opt<'a>,
    #[serde(rename = "errorCode", borrow, default)]
    error_code: Opt<'a>,
    #[serde(rename = "readOnly", default, deserialize_with = "lenient_bool")]
    read_only: Option<bool>,
    #[serde(rename = "eventType", borrow, default)]
    event_type: Opt<'a>,
    #[serde(rename = "recipientAccountId", borrow, default)]
    recipient_account: Opt<'a>,
    #[serde(
        rename = "userIdentity",
        borrow,
        default,
        deserialize_with = "lenient_object"
    )]
    user_identity: Option<UserIdentity<'a>>,
    #[serde(
        rename = "requestParameters",
        borrow,
        default,
        deserialize_with = "lenient_object"
    )]
    request: Option<RequestParameters<'a>>,
    #[serde(
        rename = "responseElements",
        borrow,
        default,
        deserialize_with = "lenient_object"
    )]
    response: Option<ResponseElements<'a>>,
    #[serde(borrow, default)]
    resources: Option<Vec<Resource<'a>>>,
    #[serde(
        rename = "sessionCredentialFromConsole",
        default,
        deserialize_with = "lenient_bool"
    )]
    from_console: Option<bool>,
}

#[derive(Deserialize, Default)]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Opt<'a>,
    #[serde(borrow, default)]
    arn: Opt<'a>,
    #[serde(rename = "accountId", borrow, default)]
    account_id: Opt<'a>,
    #[serde(rename = "accessKeyId", borrow, default)]
    access_key_id: Opt<'a>,
    #[serde(rename = "userName", borrow, default)]
    user_name: Opt<'a>,
    #[serde(rename = "principalId", borrow, default)]
    principal_id: Opt<'a>,
    #[serde(rename = "invokedBy", borrow, default)]
    invoked_by: Opt<'a>,
    #[serde(
        rename = "sessionContext",
        borrow,
        default,
        deserialize_with = "lenient_object"
    )]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Deserialize)]
struct SessionContext<'a> {
    #[serde(
        rename = "sessionIssuer",
        borrow,
        default,
        deserialize_with = "lenient_object"
    )]
    issuer: Option<Issuer<'a>>,
    /// Present when the session's credentials were delivered to an EC2 instance by its
    /// metadata service (`1.0` for IMDSv1, `2.0` for IMDSv2).
    #[serde(rename = "ec2RoleDelivery", borrow, default)]
    ec2_role_delivery: Opt<'a>,
}

#[derive(Deserialize)]
struct Issuer<'a> {
    #[serde(borrow, default)]
    arn: Opt<'a>,
    #[serde(rename = "userName", borrow, default)]
    user_name: Opt<'a>,
}

/// The request fields read for every event (resources), and, boxed and allocated only when a
/// record has one of them, the fields read for the facts of a few actions
/// (`super::cloudtrail_facts`). Hand-written rather than derived so that the rare fields cost
/// ordinary records one pointer, not a few hundred bytes built, moved and dropped per record.
#[derive(Default)]
pub(crate) struct RequestParameters<'a> {
    pub bucket_name: Opt<'a>,
    pub key: Opt<'a>,
    pub role_name: Opt<'a>,
    pub role_arn: Opt<'a>,
    pub user_name: Opt<'a>,
    pub group_name: Opt<'a>,
    pub policy_arn: Opt<'a>,
    pub function_name: Opt<'a>,
    pub secret_id: Opt<'a>,
    pub facts: Option<Box<FactFields<'a>>>,
}

/// Request fields only facts read. Nested values are kept as raw, borrowed JSON: capturing
/// them costs what skipping them would, and they are parsed only for the actions that need
/// them.
#[derive(Default)]
pub(crate) struct FactFields<'a> {
    /// A JSON document in a string.
    pub policy_document: Opt<'a>,
    pub access_key_id: Opt<'a>,
    pub status: Opt<'a>,
    pub create_volume_permission: Option<&'a RawValue>,
    pub launch_permission: Option<&'a RawValue>,
    pub attribute_name: Opt<'a>,
    pub values_to_add: Option<&'a RawValue>,
    pub values_to_remove: Option<&'a RawValue>,
    pub versioning: Option<&'a RawValue>,
    pub logging: Option<&'a RawValue>,
    pub public_access_block: Option<&'a RawValue>,
    pub lifecycle: Option<&'a RawValue>,
    pub event_selectors: Option<&'a RawValue>,
    pub advanced_event_selectors: Option<&'a RawValue>,
    pub multi_region: Option<bool>,
    pub global_events: Option<bool>,
    pub enable: Option<bool>,
    pub action: Opt<'a>,
    pub workflow: Option<&'a RawValue>,
    pub workflow_capitalised: Option<&'a RawValue>,
    pub deletion_protection: Option<bool>,
    pub backup_retention: Opt<'a>,
    pub skip_final_snapshot: Option<bool>,
    pub delete_automated_backups: Option<bool>,
    pub publicly_accessible: Option<bool>,
    pub pending_window_days: Opt<'a>,
    /// S3 `DeleteObject` of one version (a permanent delete).
    pub version_id: Opt<'a>,
}

impl<'a> RequestParameters<'a> {
    fn facts_mut(&mut self) -> &mut FactFields<'a> {
        self.facts.get_or_insert_with(Box::default)
    }
}

/// A request field name, as the record spells it.
enum RequestKey {
    BucketName,
    Key,
    RoleName,
    RoleArn,
    UserName,
    GroupName,
    PolicyArn,
    FunctionName,
    SecretId,
    PolicyDocument,
    AccessKeyId,
    Status,
    CreateVolumePermission,
    LaunchPermission,
    AttributeName,
    ValuesToAdd,
    ValuesToRemove,
    Versioning,
    Logging,
    PublicAccessBlock,
    Lifecycle,
    EventSelectors,
    AdvancedEventSelectors,
    MultiRegion,
    GlobalEvents,
    Enable,
    Action,
    Workflow,
    WorkflowCapitalised,
    DeletionProtection,
    BackupRetention,
    SkipFinalSnapshot,
    DeleteAutomatedBackups,
    PubliclyAccessible,
    PendingWindowDays,
    VersionId,
    Other,
}

impl RequestKey {
    fn of(name: &str) -> RequestKey {
        match name {
            "bucketName" => RequestKey::BucketName,
            "key" => RequestKey::Key,
            "roleName" => RequestKey::RoleName,
            "roleArn" => RequestKey::RoleArn,
            "userName" => RequestKey::UserName,
            "groupName" => RequestKey::GroupName,
            "policyArn" => RequestKey::PolicyArn,
            "functionName" => RequestKey::FunctionName,
            "secretId" => RequestKey::SecretId,
            "policyDocument" => RequestKey::PolicyDocument,
            "accessKeyId" => RequestKey::AccessKeyId,
            "status" => RequestKey::Status,
            "createVolumePermission" => RequestKey::CreateVolumePermission,
            "launchPermission" => RequestKey::LaunchPermission,
            "attributeName" => RequestKey::AttributeName,
            "valuesToAdd" => RequestKey::ValuesToAdd,
            "valuesToRemove" => RequestKey::ValuesToRemove,
            "VersioningConfiguration" => RequestKey::Versioning,
            "BucketLoggingStatus" => RequestKey::Logging,
            "PublicAccessBlockConfiguration" => RequestKey::PublicAccessBlock,
            "LifecycleConfiguration" => RequestKey::Lifecycle,
            "eventSelectors" => RequestKey::EventSelectors,
            "advancedEventSelectors" => RequestKey::AdvancedEventSelectors,
            "isMultiRegionTrail" => RequestKey::MultiRegion,
            "includeGlobalServiceEvents" => RequestKey::GlobalEvents,
            "enable" => RequestKey::Enable,
            "action" => RequestKey::Action,
            "workflow" => RequestKey::Workflow,
            "Workflow" => RequestKey::WorkflowCapitalised,
            "deletionProtection" => RequestKey::DeletionProtection,
            "backupRetentionPeriod" => RequestKey::BackupRetention,
            "skipFinalSnapshot" => RequestKey::SkipFinalSnapshot,
            "deleteAutomatedBackups" => RequestKey::DeleteAutomatedBackups,
            "publiclyAccessible" => RequestKey::PubliclyAccessible,
            "pendingWindowInDays" => RequestKey::PendingWindowDays,
            "versionId" => RequestKey::VersionId,
            _ => RequestKey::Other,
        }
    }
}

impl<'de> Deserialize<'de> for RequestKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequestKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestKey, E> {
                Ok(RequestKey::of(v))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// [`lenient_bool`] as a value type, for `MapAccess::next_value`.
struct LenientBool(Option<bool>);

impl<'de> Deserialize<'de> for LenientBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_bool(d).map(LenientBool)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RequestParameters<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RequestParameters<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("request parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = RequestParameters::default();
                while let Some(key) = map.next_key::<RequestKey>()? {
                    match key {
                        RequestKey::BucketName => out.bucket_name = map.next_value()?,
                        RequestKey::Key => out.key = map.next_value()?,
                        RequestKey::RoleName => out.role_name = map.next_value()?,
                        RequestKey::RoleArn => out.role_arn = map.next_value()?,
                        RequestKey::UserName => out.user_name = map.next_value()?,
                        RequestKey::GroupName => out.group_name = map.next_value()?,
                        RequestKey::PolicyArn => out.policy_arn = map.next_value()?,
                        RequestKey::FunctionName => out.function_name = map.next_value()?,
                        RequestKey::SecretId => out.secret_id = map.next_value()?,
                        RequestKey::PolicyDocument => {
                            out.facts_mut().policy_document = map.next_value()?;
                        }
                        RequestKey::AccessKeyId => {
                            out.facts_mut().access_key_id = map.next_value()?
                        }
                        RequestKey::Status => out.facts_mut().status = map.next_value()?,
                        RequestKey::CreateVolumePermission => {
                            out.facts_mut().create_volume_permission = map.next_value()?;
                        }
                        RequestKey::LaunchPermission => {
                            out.facts_mut().launch_permission = map.next_value()?;
                        }
                        RequestKey::AttributeName => {
                            out.facts_mut().attribute_name = map.next_value()?;
                        }
                        RequestKey::ValuesToAdd => {
                            out.facts_mut().values_to_add = map.next_value()?
                        }
                        RequestKey::ValuesToRemove => {
                            out.facts_mut().values_to_remove = map.next_value()?;
                        }
                        RequestKey::Versioning => out.facts_mut().versioning = map.next_value()?,
                        RequestKey::Logging => out.facts_mut().logging = map.next_value()?,
                        RequestKey::PublicAccessBlock => {
                            out.facts_mut().public_access_block = map.next_value()?;
                        }
                        RequestKey::Lifecycle => out.facts_mut().lifecycle = map.next_value()?,
                        RequestKey::EventSelectors => {
                            out.facts_mut().event_selectors = map.next_value()?;
                        }
                        RequestKey::AdvancedEventSelectors => {
                            out.facts_mut().advanced_event_selectors = map.next_value()?;
                        }
                        RequestKey::MultiRegion => {
                            out.facts_mut().multi_region = map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::GlobalEvents => {
                            out.facts_mut().global_events = map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::Enable => {
                            out.facts_mut().enable = map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::Action => out.facts_mut().action = map.next_value()?,
                        RequestKey::Workflow => out.facts_mut().workflow = map.next_value()?,
                        RequestKey::WorkflowCapitalised => {
                            out.facts_mut().workflow_capitalised = map.next_value()?;
                        }
                        RequestKey::DeletionProtection => {
                            out.facts_mut().deletion_protection =
                                map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::BackupRetention => {
                            out.facts_mut().backup_retention = map.next_value()?;
                        }
                        RequestKey::SkipFinalSnapshot => {
                            out.facts_mut().skip_final_snapshot =
                                map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::DeleteAutomatedBackups => {
                            out.facts_mut().delete_automated_backups =
                                map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::PubliclyAccessible => {
                            out.facts_mut().publicly_accessible =
                                map.next_value::<LenientBool>()?.0;
                        }
                        RequestKey::PendingWindowDays => {
                            out.facts_mut().pending_window_days = map.next_value()?;
                        }
                        RequestKey::VersionId => {
                            out.facts_mut().version_id = map.next_value()?;
                        }
                        RequestKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
pub(crate) struct ResponseElements<'a> {
    #[serde(rename = "ConsoleLogin", borrow, default)]
    console_login: Opt<'a>,
    /// `CreateAccessKey`'s new key.
    #[serde(rename = "accessKey", borrow, default)]
    pub access_key: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(rename = "ARN", borrow, default)]
    arn: Opt<'a>,
}

/// Per-file state: `(eventSource, eventName)` → action, so the mapping and the catalogue
/// look-up run once per distinct pair rather than once per event.
#[derive(Default)]
pub(crate) struct CloudTrail {
    /// foldhash (randomly seeded) hashes these short keys several times faster than SipHash,
    /// twice per event.
    actions: HashMap<String, HashMap<String, Mapped, FoldHash>, FoldHash>,
    /// User agent → its class; at most `USER_AGENTS_CACHED` entries, so a file of all-distinct
    /// agents cannot grow it without bound.
    user_agents: HashMap<String, UserAgentClass, FoldHash>,
    /// The policy analyser's verdicts on documents this file wrote.
    policy_verdicts: cloudtrail_facts::PolicyVerdicts,
}

const USER_AGENTS_CACHED: usize = 4096;

/// An event name's action, and whether its bodies are read for facts.
#[derive(Clone)]
struct Mapped {
    action: String,
    facts: bool,
}

impl CloudTrail {
    fn action(&mut self, source: &str, name: &str) -> Mapped {
        if let Some(found) = self.actions.get(source).and_then(|m| m.get(name)) {
            return found.clone();
        }
        let action = cloudtrail_action(source, name);
        let mapped = Mapped {
            facts: needs_facts(&action),
            action,
        };
        self.actions
            .entry(source.to_string())
            .or_default()
            .insert(name.to_string(), mapped.clone());
        mapped
    }

    fn user_agent_class(&mut self, ua: &str) -> UserAgentClass {
        if let Some(class) = self.user_agents.get(ua) {
            return *class;
        }
        let class = UserAgentClass::of(ua);
        if self.user_agents.len() < USER_AGENTS_CACHED {
            self.user_agents.insert(ua.to_string(), class);
        }
        class
    }

    pub fn parse(&mut self, bytes: &[u8], out: &mut Emit<'_>) -> Result<(), String> {
        let r: Record = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        self.emit(&r, bytes, out)
    }

    /// Parses the record at the start of the input (more may follow) and emits it.
    pub fn parse_prefix(&mut self, input: Input<'_>, out: &mut Emit<'_>) -> Direct {
        match input {
            // Text is valid UTF-8 already: serde_json's `str` reader skips the per-string check.
            Input::Text(text) => {
                let stream = serde_json::Deserializer::from_str(text).into_iter::<Record>();
                self.parse_first(stream, text.as_bytes(), out)
            }
            Input::Bytes(bytes) => {
                let stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Record>();
                self.parse_first(stream, bytes, out)
            }
        }
    }

    fn parse_first<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        mut stream: serde_json::StreamDeserializer<'de, R, Record<'de>>,
        bytes: &[u8],
        out: &mut Emit<'_>,
    ) -> Direct {
        match stream.next() {
            Some(Ok(r)) => {
                let consumed = stream.byte_offset();
                match bytes
                    .get(..consumed)
                    .map(|record| self.emit(&r, record, out))
                {
                    Some(Ok(())) => Direct::Done(consumed),
                    _ => Direct::Failed,
                }
            }
            Some(Err(e)) if e.is_eof() => Direct::NeedMore,
            _ => Direct::Failed,
        }
    }

    /// Takes the record by reference: it is large, and moving it cost measurable time.
    fn emit(&mut self, r: &Record<'_>, bytes: &[u8], out: &mut Emit<'_>) -> Result<(), String> {
        let time = parse_time(&r.event_time.0)
            .ok_or_else(|| format!("eventTime {:?} is not an RFC 3339 time", r.event_time.0))?;
        let Mapped {
            action,
            facts: gated,
        } = self.action(&r.event_source.0, &r.event_name.0);
        let principal = match &r.user_identity {
            Some(identity) => principal(identity, &r.recipient_account),
            None => principal(&UserIdentity::default(), &r.recipient_account),
        };

        let error_code = r.error_code.owned();
        let console_failure = r
            .response
            .as_ref()
            .and_then(|x| x.console_login.as_deref())
            .is_some_and(|v| v.eq_ignore_ascii_case("Failure"));
        let outcome = match error_code.as_deref() {
            Some(code) => outcome_of(code),
            None if console_failure => Outcome::AuthFailed,
            None => Outcome::Success,
        };
        let user_agent = r.user_agent.owned();
        let ua_class = self.user_agent_class(user_agent.as_deref().unwrap_or(""));
        let console = r.event_type.as_deref() == Some("AwsConsoleSignIn")
            || r.from_console == Some(true)
            || ua_class.browser;
        let actor = aws_actor_classified(
            principal.kind.unwrap_or(PrincipalKind::Unknown),
            ua_class,
            principal.session.as_deref(),
            console,
        );
        let resources = resources(
            r.resources.as_deref().unwrap_or(&[]),
            r.request.as_ref(),
            principal.account.as_deref(),
            r.aws_region.as_deref(),
        );
        let id = r
            .event_id
            .owned()
            .unwrap_or_else(|| content_id("cloudtrail", bytes));
        let mut facts = Facts::default();
        let mut subject = None;
        if gated {
            cloudtrail_facts::extract(
                &r.event_name.0,
                &action,
                r.request.as_ref(),
                r.response.as_ref(),
                &mut self.policy_verdicts,
                &mut facts,
            );
            subject = cloudtrail_facts::subject(&action, r.request.as_ref(), &facts, &principal);
        }
        // Instance-profile credentials are what theft detections look for. Their session is
        // named after the instance (`i-…`), which the principal already carries; only a
        // session named otherwise needs the delivery recorded, so ordinary instance calls
        // allocate nothing more.
        if let Some(delivery) = r
            .user_identity
            .as_ref()
            .and_then(|u| u.session_context.as_ref())
            .and_then(|s| s.ec2_role_delivery.as_deref())
            && !principal
                .session
                .as_deref()
                .is_some_and(|s| s.starts_with("i-"))
        {
            facts.push("session.ec2_role_delivery", delivery);
        }
        out.event(Event {
            id,
            time,
            log: LogKind::CloudTrail,
            principal,
            actor,
            action,
            resources,
            source_ip: r.source_ip.owned(),
            user_agent,
            outcome,
            error_code,
            region: r.aws_region.owned(),
            read_only: r.read_only,
            console,
            subject,
            facts,
        });
        Ok(())
    }
}

fn principal(u: &UserIdentity<'_>, recipient: &Opt<'_>) -> Principal {
    let issuer = u.session_context.as_ref().and_then(|s| s.issuer.as_ref());
    let account = u.account_id.owned().or_else(|| recipient.owned());
    let credential = u.access_key_id.owned();
    let kind_text = u.kind.as_deref().unwrap_or("");
    let (kind, arn, name, session) = match kind_text {
        "IAMUser" => (
            PrincipalKind::AwsUser,
            u.arn.owned(),
            u.user_name.owned(),
            None,
        ),
        "AssumedRole" => {
            // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
            let session = u
                .arn
                .as_deref()
                .and_then(|a| a.rsplit_once('/'))
                .map(|(_, s)| s.to_string());
            let role_arn = issuer
                .and_then(|i| i.arn.owned())
                .or_else(|| u.arn.as_deref().and_then(role_arn_from_sts));
            let role_name = issuer.and_then(|i| i.user_name.owned()).or_else(|| {
                role_arn
                    .as_deref()
                    .and_then(|a| a.rsplit_once('/'))
                    .map(|(_, n)| n.to_string())
            });
            (PrincipalKind::AwsAssumedRole, role_arn, role_name, session)
        }
        "Root" => (
            PrincipalKind::AwsRoot,
            u.arn.owned(),
            Some("root".to_string()),
            None,
        ),
        "AWSService" => (PrincipalKind::AwsService, None, u.invoked_by.owned(), None),
        "FederatedUser" => {
            // The IAM user that called GetFederationToken governs the session's permissions.
            let session = u
                .arn
                .as_deref()
                .and_then(|a| a.rsplit_once('/'))
                .map(|(_, s)| s.to_string());
            let arn = issuer.and_then(|i| i.arn.owned()).or_else(|| u.arn.owned());
            let name = issuer.and_then(|i| i.user_name.owned());
            (PrincipalKind::AwsFederated, arn, name, session)
        }
        "SAMLUser" | "WebIdentityUser" | "IdentityCenterUser" => (
            PrincipalKind::AwsFederated,
            u.arn.owned(),
            u.user_name.owned().or_else(|| u.principal_id.owned()),
            None,
        ),
        _ => (
            PrincipalKind::Unknown,
            u.arn.owned(),
            u.user_name
                .owned()
                .or_else(|| u.invoked_by.owned())
                .or_else(|| u.principal_id.owned()),
            None,
        ),
    };
    Principal {
        kind: Some(kind),
        arn,
        credential,
        account,
        name,
        session,
    }
}

/// `arn:aws:sts::A:assumed-role/R/S` → `arn:aws:iam::A:role/R` (path unknown without the issuer).
fn role_arn_from_sts(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("sts::")?;
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("assumed-role/")?;
    let (role, _) = rest.split_once('/')?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// Outcome from an `errorCode`. EC2 prefixes codes with `Client.`/`Server.`.
pub(crate) fn outcome_of(code: &str) -> Outcome {
    let code = code
        .strip_prefix("Client.")
        .or_else(|| code.strip_prefix("Server."))
        .unwrap_or(code);
    const AUTH: &[&str] = &[
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "IncompleteSignature",
        "AuthFailure",
        "MissingAuthenticationToken",
        "UnrecognizedClientException",
        "InvalidToken",
        "InvalidSignatureException",
        "TokenRefreshRequired",
        "NotAuthorizedException", // Cognito: bad credentials, not a policy refusal
    ];
    if AUTH.contains(&code) {
        Outcome::AuthFailed
    } else if code.starts_with("AccessDenied")
        || code.contains("AccessDenied")
        || code == "UnauthorizedOperation"
        || code.contains("NotAuthorized")
        || code.contains("Unauthorized")
        || code.contains("Forbidden")
    {
        Outcome::Denied
    } else {
        Outcome::Error
    }
}

fn resources(
    listed: &[Resource<'_>],
    request: Option<&RequestParameters<'_>>,
    account: Option<&str>,
    region: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = listed.iter().filter_map(|r| r.arn.owned()).collect();
    if let Some(p) = request {
        let mut add = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        if let Some(bucket) = p.bucket_name.as_deref().filter(|b| !b.is_empty()) {
            match p.key.as_deref().filter(|k| !k.is_empty()) {
                Some(key) => add(format!("arn:aws:s3:::{bucket}/{key}")),
                None => add(format!("arn:aws:s3:::{bucket}")),
            }
        }
        let account = account.unwrap_or("");
        let arn_or = |value: &str, make: &dyn Fn(&str) -> String| {
            if value.starts_with("arn:") {
                value.to_string()
            } else {
                make(value)
            }
        };
        if let Some(v) = p.role_name.as_deref().filter(|v| !v.is_empty()) {
            add(arn_or(v, &|n| format!("arn:aws:iam::{account}:role/{n}")));
        }
        if let Some(v) = p.role_arn.owned() {
            add(v);
        }
        if let Some(v) = p.user_name.as_deref().filter(|v| !v.is_empty()) {
            add(arn_or(v, &|n| format!("arn:aws:iam::{account}:user/{n}")));
        }
        if let Some(v) = p.group_name.as_deref().filter(|v| !v.is_empty()) {
            add(arn_or(v, &|n| format!("arn:aws:iam::{account}:group/{n}")));
        }
        if let Some(v) = p.policy_arn.owned() {
            add(v);
        }
        if let Some(v) = p.function_name.as_deref().filter(|v| !v.is_empty()) {
            let region = region.unwrap_or("");
            add(arn_or(v, &|n| {
                format!("arn:aws:lambda:{region}:{account}:function:{n}")
            }));
        }
        if let Some(v) = p.secret_id.as_deref().filter(|v| v.starts_with("arn:")) {
            add(v.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        assert_eq!(outcome_of("AccessDenied"), Outcome::Denied);
        assert_eq!(outcome_of("Client.UnauthorizedOperation"), Outcome::Denied);
        assert_eq!(outcome_of("AccessDeniedException"), Outcome::Denied);
        assert_eq!(outcome_of("InvalidClientTokenId"), Outcome::AuthFailed);
        assert_eq!(outcome_of("SignatureDoesNotMatch"), Outcome::AuthFailed);
        assert_eq!(outcome_of("ExpiredToken"), Outcome::AuthFailed);
        assert_eq!(outcome_of("NoSuchBucket"), Outcome::Error);
    }

    #[test]
    fn user_agent_classes_are_cached_up_to_the_cap() {
        let mut ct = CloudTrail::default();
        let lambda = "aws-sdk-java/2.25 exec-env/AWS_Lambda_java17";
        for _ in 0..2 {
            assert_eq!(ct.user_agent_class(lambda), UserAgentClass::of(lambda));
        }
        assert!(ct.user_agent_class(lambda).workload);
        assert!(ct.user_agent_class("Mozilla/5.0").browser);
        for i in 0..USER_AGENTS_CACHED + 10 {
            ct.user_agent_class(&format!("aws-cli/2.{i}"));
        }
        assert_eq!(ct.user_agents.len(), USER_AGENTS_CACHED);
        assert!(ct.user_agent_class("aws-cli/9.9").automation);
    }

    #[test]
    fn sts_arn_to_role() {
        assert_eq!(
            role_arn_from_sts("arn:aws:sts::123456789012:assumed-role/deploy/ci-run").unwrap(),
            "arn:aws:iam::123456789012:role/deploy"
        );
        assert!(role_arn_from_sts("arn:aws:iam::1:user/x").is_none());
    }
}
