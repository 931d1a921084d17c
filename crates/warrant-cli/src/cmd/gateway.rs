//! `warrant gateway [serve]`: the MCP gateway (`warrant_gateway_proxy`) in front of the
//! upstream MCP servers gateway.toml names, until interrupted. `warrant gateway policy
//! check|diff`: the gateway's Cedar policies, validated against its schema, and whether a
//! change can only narrow access. None of them needs a store.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use warrant_gateway::Agent;
use warrant_gateway::policy::{PolicyDiff, diff};
use warrant_gateway::{GatewayConfig, PolicyEngine, PolicyError, Source};
use warrant_gateway::{Label, TaintState};
use warrant_gateway_proxy::{
    AgentDirectory, ApprovalQueue, ApprovalRequest, BoxFuture, GrantUses, RevocationList, State,
    StateError, StaticDirectory, TaintStore,
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
    /// policies, and whether the change can only narrow access. The comparison is structural
    /// (permits only removed, forbids only added or hardened); a change it cannot prove narrowing
    /// is listed as "may widen" — Cedar's symbolic analysis (cedar-policy-symcc with the cvc5
    /// solver) is not used. Exit code 1 when the change may widen. Formats: table, json.
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
    };
    match policy.command {
        PolicyCommand::Check { files } => check(global, &files),
        PolicyCommand::Diff { old, new, schema } => run_diff(global, &old, &new, schema.as_deref()),
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
    let store = Arc::new(StoreState(app.open_store()?));
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
            configured: warrant_gateway_proxy::load::directory(&path, &config)?,
            cache: std::sync::Mutex::new(std::collections::HashMap::new()),
        }),
        taint: store.clone(),
        revocations: store.clone(),
        grant_uses: store,
        approvals: Arc::new(approvals),
    };
    let options = warrant_gateway_proxy::Options {
        // Stdio upstreams get PATH and their own `env` only.
        path: std::env::var_os("PATH"),
        env: Box::new(|name| std::env::var(name).ok()),
        clock: app.shared_clock(),
    };
    let gateway = warrant_gateway_proxy::build_with_state(&path, config, state, options)
        .with_context(|| format!("starting the gateway of {}", path.display()))?;
    app.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let address = listener.local_addr().context("reading the bound address")?;
        eprintln!(
            "Warrant's MCP gateway is serving (revocations and taint in {}; Ctrl-C to stop):",
            app.store_display()
        );
        for server in &servers {
            eprintln!("  http://{address}/mcp/{server}");
        }
        Arc::new(gateway)
            .serve(listener, crate::cmd::serve::shutdown())
            .await
            .context("serving")
    })?;
    Ok(crate::exit::OK)
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
        tool: &'a str,
        labels: &'a BTreeSet<Label>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            let labels: Vec<String> = labels.iter().map(|l| l.as_str().to_string()).collect();
            self.0
                .add_taint(task, &labels, tool, at)
                .await
                .map(|_| ())
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
) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let schema = schema.map(read_source).transpose()?;
    let load = |path: &Path| -> anyhow::Result<PolicyEngine> {
        let sources = read_policies(path)?;
        PolicyEngine::load(schema.as_ref(), &sources)
            .with_context(|| format!("{} is not valid", path.display()))
    };
    let (before, after) = (load(old)?, load(new)?);
    let result = diff(&before, &after);
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
    if d.narrows_only {
        println!("Narrows only: permits were only removed and forbids only added or hardened.");
    } else {
        println!(
            "May widen access (not proven either way without Cedar's symbolic analysis, which is not used):"
        );
        for why in &d.may_widen {
            println!("  {why}");
        }
    }
}
