//! `warrant gateway [serve]`: the MCP gateway (`warrant_gateway_proxy`) in front of the
//! upstream MCP servers gateway.toml names, until interrupted. `warrant gateway policy
//! check|diff`: the gateway's Cedar policies, validated against its schema, and whether a
//! change can only narrow access. None of them needs a store.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use warrant_gateway::Agent;
use warrant_gateway::policy::{Access, PolicyDiff, Proof, Symbolic, diff};
use warrant_gateway::{GatewayConfig, PolicyEngine, PolicyError, Source};
use warrant_gateway::{Label, TaintState};
use warrant_gateway_proxy::{
    AgentDirectory, ApprovalQueue, ApprovalRequest, AuditTrail, BoxFuture, GatewayCall, GrantUses,
    ListedTool, PinState, RevocationList, State, StateError, StaticDirectory, TaintStore, ToolPins,
};

use crate::GlobalArgs;
use crate::output::{self, Format};

/// Where the configuration is looked for when `--config` names none.
pub const DEFAULT_CONFIG: &str = "gateway.toml";

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    command: Option<GatewayCommand>,
    /// Without a subcommand: run the gateway (as `gateway serve`).
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Clone, clap::Args)]
struct ServeArgs {
    /// Address and port to listen on. Default: gateway.toml's `server.listen`, else
    /// 127.0.0.1:8700 (loopback: put a TLS-terminating proxy in front before opening it).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum GatewayCommand {
    /// Run the MCP gateway (also what bare `warrant gateway --config gateway.toml` does): each
    /// upstream of gateway.toml is served as a Streamable HTTP endpoint at /mcp/NAME; agents
    /// authenticate with a task token (`warrant jit grant`) or an OAuth access token from
    /// gateway.toml's `[oauth]` issuer as `Authorization: Bearer`; each agent's owner, tier and
    /// risk come from Warrant's inventory (an agent in neither it nor `[agents]` is refused);
    /// every call is decided by the Cedar policies, the token, the Rule of Two and, when a policy
    /// says so, a human's approval. `-v` logs each decision. Stops on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// The gateway's Cedar policies: `policy check` validates them against the schema, `policy
    /// diff OLD NEW` says whether a change can only narrow access.
    Policy(PolicyArgs),
    /// Agents' tool calls held for a person's approval, oldest first: the exact tool, the
    /// arguments (secrets redacted) and their digest, the agent, its task and taint.
    /// Formats: table, json.
    Approvals {
        /// Only calls in this state: pending, approved, denied, expired or used.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// Approve a held call: the gateway forwards exactly that call, once. Only gateway.toml's
    /// `approval.approvers` may, when it names any. Formats: table, json.
    Approve {
        /// The held call's id (from `approvals`, or the agent's error).
        #[arg(value_name = "ID")]
        id: String,
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Who approves (default: WARRANT_USER).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
    },
    /// Upstream tools as the gateway lists them, against what a person approved (pinned):
    /// pinned, unapproved (withheld from agents) or changed since approval (blocked), with the
    /// signs of poisoning found in each description. `tools approve SERVER::TOOL` pins one.
    /// Exit code 1 when a tool is changed or has concerns. Formats: table, json.
    Tools(crate::cmd::gateway_tools::ToolsArgs),
    /// Deny a held call, with a note the agent is shown. Formats: table, json.
    Deny {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(long, value_name = "TEXT")]
        note: String,
        /// Who denies (default: WARRANT_USER).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
    },
}

#[derive(Debug, clap::Args)]
struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

/// Which policies and schema to read: `--schema`/`--policies`, or those gateway.toml names
/// (the global `--config`, default ./gateway.toml).
#[derive(Debug, clap::Args)]
struct PolicyFiles {
    /// The operator's schema extension (Cedar schema syntax, defining `type Args = {…}`).
    /// Default: the one gateway.toml names, else an empty `Args`.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Policy files (Cedar), instead of those gateway.toml names. Repeat or separate with commas.
    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    policies: Vec<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Validate the policies against the gateway's schema (strict mode) and list every problem
    /// as FILE:LINE:COLUMN. Uses `--config gateway.toml` (default ./gateway.toml) unless
    /// `--policies` is given. Exit code 1 when a policy is invalid. Formats: table, json.
    Check {
        #[command(flatten)]
        files: PolicyFiles,
    },
    /// Compare two policy files (or directories of *.cedar files): added, removed and changed
    /// policies, and whether the change can only narrow access (no call goes from denied to
    /// held for approval or allowed, nor from held to allowed). First structurally (permits only
    /// removed, forbids only added or hardened); what that cannot prove is asked of Cedar's
    /// symbolic analysis with the cvc5 solver, which proves narrowing or names a call the new
    /// policies let through. Without the solver the structural verdict stands and the output
    /// says why. Exit code 1 when the change widens or may widen. Formats: table, json.
    Diff {
        /// The policies before the change.
        #[arg(value_name = "OLD")]
        old: PathBuf,
        /// The policies after the change.
        #[arg(value_name = "NEW")]
        new: PathBuf,
        /// The schema extension both are validated against.
        #[arg(long, value_name = "FILE")]
        schema: Option<PathBuf>,
        /// The cvc5 executable (Debian package cvc5).
        #[arg(long, value_name = "PATH", env = "CVC5", default_value = "cvc5")]
        solver: PathBuf,
    },
}

pub fn run(global: &GlobalArgs, args: GatewayArgs) -> anyhow::Result<u8> {
    let policy = match args.command {
        None => return serve(global, &args.serve),
        Some(GatewayCommand::Serve(serve_args)) => return serve(global, &serve_args),
        Some(GatewayCommand::Policy(policy)) => policy,
        Some(GatewayCommand::Approvals { status }) => return approvals(global, status.as_deref()),
        Some(GatewayCommand::Approve { id, note, actor }) => {
            return decide(global, &id, true, note.as_deref(), &actor);
        }
        Some(GatewayCommand::Deny { id, note, actor }) => {
            return decide(global, &id, false, Some(&note), &actor);
        }
        Some(GatewayCommand::Tools(tools)) => return crate::cmd::gateway_tools::run(global, tools),
    };
    match policy.command {
        PolicyCommand::Check { files } => check(global, &files),
        PolicyCommand::Diff {
            old,
            new,
            schema,
            solver,
        } => run_diff(global, &old, &new, schema.as_deref(), solver),
    }
}

fn serve(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<u8> {
    let Some((path, config)) = load_config(global)? else {
        anyhow::bail!(
            "no gateway configuration: pass --config gateway.toml (default ./{DEFAULT_CONFIG})"
        );
    };
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| config.server.listen.clone());
    let servers: Vec<String> = config.upstreams.iter().map(|u| u.name.clone()).collect();
    // Warrant's store (from ./warrant.toml or --store), shared with `warrant jit`: revocations,
    // taint and grant uses are what every gateway process on it agrees on.
    let app = crate::cmd::jit::store_app(global)?;
    // One store handle (one pool, one writer turn) for the gateway's state and the sweep.
    let sweep_store = app.open_store()?;
    let gateway = Arc::new(build_gateway(&app, sweep_store.clone(), &path, config)?);
    let clock = app.shared_clock();
    app.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        crate::output::notice(format_args!(
            "Warrant's MCP gateway is serving (revocations and taint in {}; Ctrl-C to stop):",
            app.store_display()
        ));
        for server in &servers {
            crate::output::notice(format_args!("  http://{address}/mcp/{server}"));
        }
        // Pins and tool alerts do not wait for an agent to list; task-token alerts are swept
        // every minute.
        let refresher = gateway.clone();
        tokio::spawn(async move {
            for (server, listed) in refresher.refresh_tools().await {
                match listed {
                    Ok(count) => tracing::info!(server = %server, tools = count, "upstream tools checked against their pins"),
                    Err(why) => tracing::warn!(server = %server, error = %why, "upstream tools not listed"),
                }
            }
        });
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(e) = warrant_app::gateway::grant_alerts(&sweep_store, clock.now()).await {
                    tracing::error!(error = %e, "task-token alerts not recorded");
                }
            }
        });
        gateway
            .serve(listener, crate::cmd::serve::shutdown())
            .await
            .context("serving")
    })?;
    Ok(crate::exit::OK)
}

/// The gateway of `config`, its state in Warrant's `store` (shared by every gateway process on
/// it); upstreams are connected on first use.
pub fn build_gateway(
    app: &crate::app::App,
    store: warrant_store::Store,
    path: &Path,
    config: GatewayConfig,
) -> anyhow::Result<warrant_gateway_proxy::Gateway> {
    let store = Arc::new(StoreState(store));
    let store_handle = store.0.clone();
    let timeout = warrant_gateway::duration::parse_seconds(&config.approval.timeout)
        .with_context(|| format!("{}: approval.timeout", path.display()))?;
    let approvals = StoreApprovals {
        store: store.0.clone(),
        redactor: warrant_gateway_proxy::redact::Redactor::builtin()
            .context("compiling the secret rules for redaction")?,
        timeout: chrono::Duration::seconds(timeout),
        clock: app.shared_clock(),
    };
    let state = State {
        agents: Arc::new(InventoryDirectory {
            store: store.0.clone(),
            configured: warrant_gateway_proxy::load::directory(path, &config)?,
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        }),
        taint: store.clone(),
        revocations: store.clone(),
        grant_uses: store.clone(),
        pins: store,
        approvals: Arc::new(approvals),
    };
    let aws_secrets = fetch_aws_secrets(app, &config)?;
    let options = warrant_gateway_proxy::Options {
        // Stdio upstreams get PATH and their own `env` only.
        path: std::env::var_os("PATH"),
        env: Box::new(|name| std::env::var(name).ok()),
        aws_secret: Box::new(move |id| aws_secrets.get(id).cloned()),
        clock: app.shared_clock(),
    };
    // Every decided call joins the store's audit trail (`warrant audit`), as well as any
    // `[telemetry]` exporter.
    // The same store handle (and pool) as the rest of the state.
    let audit = Arc::new(StoreState(store_handle));
    Ok(
        warrant_gateway_proxy::build_with_state(path, config, state, options)
            .with_context(|| format!("starting the gateway of {}", path.display()))?
            .with_audit_trail(audit),
    )
}

/// The AWS Secrets Manager secrets the upstreams' credentials come from, read once as the
/// gateway starts (the SDK's usual credentials and region; `AWS_ENDPOINT_URL` is honoured).
fn fetch_aws_secrets(
    app: &crate::app::App,
    config: &GatewayConfig,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let ids = config.aws_secrets();
    if ids.is_empty() {
        return Ok(std::collections::BTreeMap::new());
    }
    app.block_on(async {
        let sdk = warrant_aws_live::config_loader().load().await;
        let client = aws_sdk_secretsmanager::Client::new(&sdk);
        let mut out = std::collections::BTreeMap::new();
        for id in &ids {
            let value = client
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(aws_sdk_secretsmanager::Error::from)
                .with_context(|| {
                    format!(
                        "reading the AWS Secrets Manager secret {id} (an upstream's credential)"
                    )
                })?;
            let text = value.secret_string().with_context(|| {
                format!("the AWS Secrets Manager secret {id} has no string value")
            })?;
            out.insert(id.clone(), text.trim().to_string());
        }
        Ok(out)
    })
}

/// The store's gateway state behind the proxy's traits.
struct StoreState(warrant_store::Store);

/// How long an agent's profile from the inventory is reused: the lookup reads the store (names,
/// owners, the last assessment) and the gateway asks on every call.
const AGENT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Agents from Warrant's inventory (`warrant_app::gateway::agent_profile`): owner, whether
/// the owner is still active, tier (environment) and risk as Warrant knows them. gateway.toml's
/// `[agents."id"]` (and `agents_file`) entries override the inventory for their agents and add
/// agents it lacks; an agent in neither is refused.
struct InventoryDirectory {
    store: warrant_store::Store,
    configured: StaticDirectory,
    cache: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Option<Agent>)>>,
}

impl InventoryDirectory {
    async fn lookup(&self, id: &str) -> Result<Option<Agent>, StateError> {
        if let Some(agent) = self.configured.agent(id).await? {
            return Ok(Some(agent));
        }
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .filter(|(at, _)| at.elapsed() < AGENT_CACHE_TTL)
            .map(|(_, agent)| agent.clone());
        if let Some(agent) = cached {
            return Ok(agent);
        }
        let profile = warrant_app::gateway::agent_profile(&self.store, id)
            .await
            .map_err(state_error)?;
        let agent = profile.map(|p| Agent {
            id: id.to_string(),
            name: p.name,
            owner: p.owner.unwrap_or_default(),
            owner_active: p.owner_active,
            tier: match p.environment {
                warrant_core::Environment::Unknown => String::new(),
                known => known.as_str().to_string(),
            },
            // Cedar's integers: the 0–100 score, rounded.
            risk: p.risk.map_or(0, |r| r.round().clamp(0.0, 100.0) as i64),
        });
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Bounded: agents are few, but ids come from callers.
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(id.to_string(), (std::time::Instant::now(), agent.clone()));
        Ok(agent)
    }
}

impl AgentDirectory for InventoryDirectory {
    fn agent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Agent>, StateError>> {
        Box::pin(self.lookup(id))
    }

    fn refuses_unknown(&self) -> bool {
        true
    }
}

fn state_error(error: impl std::fmt::Display) -> StateError {
    StateError(error.to_string())
}

impl RevocationList for StoreState {
    fn revoked_among<'a>(
        &'a self,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<BTreeSet<String>, StateError>> {
        Box::pin(async move { self.0.revoked_among(ids).await.map_err(state_error) })
    }
}

impl GrantUses for StoreState {
    fn record_use<'a>(
        &'a self,
        grant: &'a str,
        allowed: bool,
        at: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            self.0
                .record_grant_use(grant, allowed, at)
                .await
                .map_err(state_error)
        })
    }
}

impl ToolPins for StoreState {
    fn observe<'a>(
        &'a self,
        tools: &'a [ListedTool],
        pin_new: bool,
        at: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<Vec<PinState>, StateError>> {
        Box::pin(async move {
            let seen: Vec<warrant_store::SeenTool> = tools
                .iter()
                .map(|listed| warrant_store::SeenTool {
                    server: listed.definition.server.clone(),
                    tool: listed.definition.name.clone(),
                    fingerprint: listed.fingerprint.clone(),
                    definition: serde_json::json!({
                        "name": listed.definition.name,
                        "description": listed.definition.description,
                        "inputSchema": listed.definition.input_schema,
                    })
                    .to_string(),
                    concerns: serde_json::to_string(&listed.concerns)
                        .unwrap_or_else(|_| "[]".into()),
                })
                .collect();
            let observed = warrant_app::gateway::observe_tools(&self.0, &seen, pin_new, at)
                .await
                .map_err(state_error)?;
            Ok(observed
                .iter()
                .map(|o| match o.row.status() {
                    warrant_store::ToolPinStatus::Pinned => PinState::Pinned,
                    warrant_store::ToolPinStatus::Unapproved => PinState::Unapproved,
                    warrant_store::ToolPinStatus::Changed => PinState::Changed,
                })
                .collect())
        })
    }
}

impl AuditTrail for StoreState {
    fn append<'a>(&'a self, calls: &'a [GatewayCall]) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            let mut rows = Vec::with_capacity(calls.len());
            for call in calls {
                rows.push(warrant_store::GatewayCallAudit {
                    at: call.start,
                    agent: call.agent.clone(),
                    action: call.audit_action(),
                    subject: call.subject(),
                    // The call's record: the arguments' digest and redacted view, never them.
                    detail: serde_json::to_string(call).map_err(state_error)?,
                });
            }
            self.0.audit_gateway_calls(&rows).await.map_err(state_error)
        })
    }
}

impl TaintStore for StoreState {
    fn load<'a>(&'a self, task: &'a str) -> BoxFuture<'a, Result<TaintState, StateError>> {
        Box::pin(async move {
            let mut labels = BTreeSet::new();
            for text in self.0.taint_of(task).await.map_err(state_error)? {
                // A label this build does not know is an error, not less taint.
                let label: Label = serde_json::from_value(serde_json::Value::String(text.clone()))
                    .map_err(|_| {
                        StateError(format!("unknown taint label `{text}` in the store"))
                    })?;
                labels.insert(label);
            }
            let mut state = TaintState::new();
            state.record(&labels);
            Ok(state)
        })
    }

    fn record<'a>(
        &'a self,
        task: &'a str,
        seen: &'a TaintState,
        tool: &'a str,
        labels: &'a BTreeSet<Label>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<bool, StateError>> {
        Box::pin(async move {
            let labels: Vec<String> = labels.iter().map(|l| l.as_str().to_string()).collect();
            let seen: BTreeSet<String> = seen.labels().map(|l| l.as_str().to_string()).collect();
            self.0
                .add_taint_if(task, &seen, &labels, tool, at)
                .await
                .map(|added| added.is_some())
                .map_err(state_error)
        })
    }
}

/// Held calls in the store, where approvers (CLI, API) decide them and every gateway process
/// sees the decision. The store gets the arguments' digest and a redacted view, never the
/// arguments themselves.
struct StoreApprovals {
    store: warrant_store::Store,
    redactor: warrant_gateway_proxy::redact::Redactor,
    /// How long a held call waits before it is denied (gateway.toml `approval.timeout`).
    timeout: chrono::Duration,
    clock: Arc<dyn warrant_core::clock::Clock>,
}

impl ApprovalQueue for StoreApprovals {
    fn submit<'a>(&'a self, request: ApprovalRequest) -> BoxFuture<'a, Result<String, StateError>> {
        Box::pin(async move {
            use sha2::Digest;
            let now = self.clock.now();
            let canonical = warrant_core::canonical::canonical_json(&request.arguments);
            let (view, _) = self.redactor.redact(&request.arguments);
            let row = warrant_store::ApprovalRow {
                id: request.id.clone(),
                agent: request.agent,
                task: request.task,
                tool: request.tool,
                arguments_sha256: hex::encode(sha2::Sha256::digest(canonical.as_bytes())),
                arguments_view: view.to_string(),
                taint: request.taint,
                reason: request.reason,
                requested_at: now,
                expires_at: now + self.timeout,
                status: warrant_store::ApprovalStatus::Pending,
                decided_at: None,
                decided_by: None,
                note: None,
                used_at: None,
            };
            self.store
                .request_approval(&row)
                .await
                .map(|held| held.id)
                .map_err(state_error)
        })
    }

    fn status<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<warrant_gateway_proxy::ApprovalStatus>, StateError>> {
        Box::pin(async move {
            use warrant_gateway_proxy::ApprovalStatus as Gate;
            use warrant_store::ApprovalStatus as Held;
            let row = self.store.approval(id).await.map_err(state_error)?;
            Ok(row
                .map(|row| row.status_at(self.clock.now()))
                .and_then(|s| match s {
                    Held::Pending => Some(Gate::Pending),
                    Held::Approved => Some(Gate::Approved),
                    // Nobody answered in time: the call is denied.
                    Held::Denied | Held::Expired => Some(Gate::Denied),
                    // Spent: the same call asks again.
                    Held::Used => None,
                }))
        })
    }

    fn decide<'a>(&'a self, id: &'a str, approve: bool) -> BoxFuture<'a, Result<bool, StateError>> {
        Box::pin(async move {
            match self
                .store
                .decide_approval(id, approve, "gateway", None, self.clock.now())
                .await
            {
                Ok(decided) => Ok(decided.is_some()),
                Err(warrant_store::StoreError::Conflict(_)) => Ok(false),
                Err(e) => Err(state_error(e)),
            }
        })
    }

    fn consume<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StateError>> {
        Box::pin(async move {
            self.store
                .consume_approval(id, self.clock.now())
                .await
                .map_err(state_error)
        })
    }
}

fn parse_status(text: &str) -> anyhow::Result<warrant_store::ApprovalStatus> {
    use warrant_store::ApprovalStatus as S;
    Ok(match text {
        "pending" => S::Pending,
        "approved" => S::Approved,
        "denied" => S::Denied,
        "expired" => S::Expired,
        "used" => S::Used,
        other => {
            anyhow::bail!("unknown status `{other}`: pending, approved, denied, expired or used")
        }
    })
}

/// `warrant gateway approvals`.
fn approvals(global: &GlobalArgs, status: Option<&str>) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let status = status.map(parse_status).transpose()?;
    let app = crate::cmd::jit::store_app(global)?;
    let store = app.open_existing_store()?;
    let held = app.block_on(warrant_app::gateway::approvals(&store, status, app.now()))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&held)?);
        return Ok(crate::exit::OK);
    }
    if held.is_empty() {
        println!("No held calls.");
    }
    for h in &held {
        println!(
            "{}  {}  {} by {}{}",
            h.id,
            h.status.as_str(),
            h.tool,
            h.agent,
            h.task
                .as_deref()
                .map(|t| format!(" (task: {t})"))
                .unwrap_or_default()
        );
        println!("    arguments: {}", h.arguments);
        println!("    why: {}", h.reason);
        if !h.taint.is_empty() {
            println!("    taint: {}", h.taint.join(", "));
        }
        println!(
            "    held {} until {}{}",
            h.requested_at.format("%Y-%m-%d %H:%M:%S"),
            h.expires_at.format("%Y-%m-%d %H:%M:%S"),
            h.decided_by
                .as_deref()
                .map(|by| format!("; decided by {by}"))
                .unwrap_or_default()
        );
    }
    Ok(crate::exit::OK)
}

/// `warrant gateway approve|deny ID`.
fn decide(
    global: &GlobalArgs,
    id: &str,
    approve: bool,
    note: Option<&str>,
    actor: &str,
) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let approvers = load_config(global)?
        .map(|(_, c)| c.approval.approvers)
        .unwrap_or_default();
    let app = crate::cmd::jit::store_app(global)?;
    let store = app.open_existing_store()?;
    let decided = app.block_on(warrant_app::gateway::decide(
        &store,
        id,
        actor,
        approve,
        note,
        &approvers,
        app.now(),
    ))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&decided)?);
    } else {
        println!(
            "{} {}: {} by {}",
            decided.status.as_str(),
            decided.id,
            decided.tool,
            decided.agent
        );
    }
    Ok(crate::exit::OK)
}

fn read_source(path: &Path) -> anyhow::Result<Source> {
    let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Source::new(path.display().to_string(), text))
}

/// A file, or every `*.cedar` file of a directory in name order.
fn read_policies(path: &Path) -> anyhow::Result<Vec<Source>> {
    if !path.is_dir() {
        return Ok(vec![read_source(path)?]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("listing {}", path.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
        .collect();
    files.sort();
    files.iter().map(|f| read_source(f)).collect()
}

/// The gateway configuration the global `--config` names (or ./gateway.toml).
pub fn load_config(global: &GlobalArgs) -> anyhow::Result<Option<(PathBuf, GatewayConfig)>> {
    let path = global
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    if global.config.is_none() && !path.exists() {
        return Ok(None);
    }
    let text = warrant_input::read_file_to_string(&path, warrant_input::SMALL_FILE_LIMIT)
        .with_context(|| format!("reading the gateway configuration {}", path.display()))?;
    let config = GatewayConfig::from_toml(&text, &path.display().to_string())?;
    Ok(Some((path, config)))
}

fn check(global: &GlobalArgs, files: &PolicyFiles) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let (schema_path, policy_paths) = if files.policies.is_empty() {
        let Some((path, config)) = load_config(global)? else {
            anyhow::bail!(
                "no policies to check: name them with --policies FILE, or a gateway configuration with --config (default ./{DEFAULT_CONFIG})"
            );
        };
        let resolve = |p: &Path| GatewayConfig::resolve(&path, p);
        (
            files
                .schema
                .clone()
                .or_else(|| config.policy.schema.as_deref().map(resolve)),
            config.policy.files.iter().map(|p| resolve(p)).collect(),
        )
    } else {
        (files.schema.clone(), files.policies.clone())
    };
    let schema = schema_path.as_deref().map(read_source).transpose()?;
    let mut sources = Vec::new();
    for path in &policy_paths {
        sources.extend(read_policies(path)?);
    }
    let result = PolicyEngine::load(schema.as_ref(), &sources);
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    match result {
        Ok(engine) => {
            if format == Format::Json {
                let doc = serde_json::json!({
                    "valid": true, "policies": engine.len(), "files": names, "problems": [],
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!(
                    "{} polic{} in {} file(s) valid against the gateway schema{}.",
                    engine.len(),
                    if engine.len() == 1 { "y" } else { "ies" },
                    names.len(),
                    schema
                        .as_ref()
                        .map(|s| format!(" and {}", s.name))
                        .unwrap_or_default()
                );
            }
            Ok(crate::exit::OK)
        }
        Err(PolicyError::Invalid { problems }) => {
            if format == Format::Json {
                let doc = serde_json::json!({
                    "valid": false, "files": names, "problems": problems,
                });
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                for problem in &problems {
                    println!("{problem}");
                }
                eprintln!("{} problem(s): the policies are not valid.", problems.len());
            }
            Ok(crate::exit::FINDINGS)
        }
    }
}

fn run_diff(
    global: &GlobalArgs,
    old: &Path,
    new: &Path,
    schema: Option<&Path>,
    solver: PathBuf,
) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let schema = schema.map(read_source).transpose()?;
    let load = |path: &Path| -> anyhow::Result<PolicyEngine> {
        let sources = read_policies(path)?;
        PolicyEngine::load(schema.as_ref(), &sources)
            .with_context(|| format!("{} is not valid", path.display()))
    };
    let (before, after) = (load(old)?, load(new)?);
    let mut result = diff(&before, &after);
    // The solver is only asked what the text could not settle.
    if !result.narrows_only {
        let options = warrant_gateway_proxy::symbolic::SolverOptions::new(solver);
        // Cedar's symbolic compiler recurses over the whole policy set: 1,000 policies overflow
        // the main thread's 8 MiB stack, so it runs on a thread with a large one.
        let symbolic = std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("policy-diff".to_string())
                .stack_size(1 << 30)
                .spawn_scoped(scope, || -> anyhow::Result<_> {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("starting the runtime that drives the solver")?;
                    Ok(runtime.block_on(warrant_gateway_proxy::symbolic::compare(
                        &before, &after, &options,
                    )))
                })
                .context("starting the solver's thread")?;
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("the symbolic comparison panicked"))?
        })?;
        result = result.with_symbolic(symbolic);
    }
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print_diff(&result);
    }
    Ok(if result.narrows_only {
        crate::exit::OK
    } else {
        crate::exit::FINDINGS
    })
}

fn access(a: Access) -> &'static str {
    match a {
        Access::Allow => "allowed",
        Access::RequireApproval => "held for approval",
        Access::Deny => "denied",
    }
}

fn print_diff(d: &PolicyDiff) {
    for p in &d.added {
        println!(
            "+ {} ({}{})",
            p.name,
            p.effect,
            if p.approval { ", @approval" } else { "" }
        );
    }
    for p in &d.removed {
        println!(
            "- {} ({}{})",
            p.name,
            p.effect,
            if p.approval { ", @approval" } else { "" }
        );
    }
    for (old, new) in &d.changed {
        println!("~ {} ({} → {})", old.name, old.effect, new.effect);
    }
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
        println!("No policy changed.");
    }
    match (d.proof, &d.symbolic) {
        (Some(Proof::Structural), _) => {
            println!("Narrows only: permits were only removed and forbids only added or hardened.");
        }
        (Some(Proof::Symbolic), _) => println!(
            "Narrows only: proven by Cedar's symbolic analysis (cvc5) for every agent, method and target, with arguments of the schema's types."
        ),
        (None, Some(Symbolic::Widens { examples })) => {
            println!("Widens access: calls the new policies treat more permissively than the old:");
            for e in examples {
                println!(
                    "  {} {} on {}: {} before, {} now",
                    e.principal,
                    e.action,
                    e.resource,
                    access(e.old),
                    access(e.new)
                );
                println!("    context: {}", e.context);
                println!("    entities: {}", e.entities);
            }
        }
        (None, symbolic) => {
            let why = match symbolic {
                Some(Symbolic::Unavailable { reason }) => {
                    format!("symbolic analysis not available: {reason}")
                }
                Some(Symbolic::Inconclusive { reason }) => {
                    format!("symbolic analysis inconclusive: {reason}")
                }
                _ => "symbolic analysis not run".to_string(),
            };
            println!("May widen access (not proven either way; {why}):");
            for line in &d.may_widen {
                println!("  {line}");
            }
        }
    }
}
