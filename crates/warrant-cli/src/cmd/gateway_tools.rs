//! `warrant gateway tools [approve]`: upstream MCP tools against their pins. A tool nobody
//! approved is withheld from agents, a tool changed since approval is blocked; a person reviews
//! the definition (and the signs of poisoning found in it) and pins it.

use anyhow::Context;
use warrant_app::gateway::ToolView;
use warrant_store::ToolPinStatus;

use crate::GlobalArgs;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ToolsArgs {
    #[command(subcommand)]
    command: Option<ToolsCommand>,
    /// Only this upstream's tools.
    #[arg(long, value_name = "SERVER")]
    server: Option<String>,
    /// List every upstream's tools now (connecting to them as the gateway would, with
    /// `--config gateway.toml`) instead of showing what gateways last listed.
    #[arg(long)]
    refresh: bool,
}

#[derive(Debug, clap::Subcommand)]
enum ToolsCommand {
    /// Approve (pin) tools as the gateway lists them now: agents are offered them and may call
    /// them until their definition changes. Only gateway.toml's `approval.approvers` may,
    /// when it names any. Formats: table, json.
    Approve {
        /// `SERVER::TOOL`, one or more.
        #[arg(value_name = "SERVER::TOOL", required_unless_present = "all")]
        tools: Vec<String>,
        /// Every tool not pinned as listed now (unapproved or changed) of `--server`, or of
        /// every upstream.
        #[arg(long, conflicts_with = "fingerprint")]
        all: bool,
        #[arg(long, value_name = "SERVER", requires = "all")]
        server: Option<String>,
        /// Only if the tool's definition is still this one (the fingerprint `tools` showed you).
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
        /// Who approves (default: WARRANT_USER).
        #[arg(long = "as", value_name = "EMAIL", env = "WARRANT_USER")]
        actor: String,
    },
}

pub fn run(global: &GlobalArgs, args: ToolsArgs) -> anyhow::Result<u8> {
    match args.command {
        None => list(global, args.server.as_deref(), args.refresh),
        Some(ToolsCommand::Approve {
            tools,
            all,
            server,
            fingerprint,
            actor,
        }) => approve(
            global,
            &tools,
            all,
            server.as_deref(),
            fingerprint.as_deref(),
            &actor,
        ),
    }
}

fn list(global: &GlobalArgs, server: Option<&str>, refresh: bool) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let app = crate::cmd::jit::store_app(global)?;
    if refresh {
        let Some((path, config)) = crate::cmd::gateway::load_config(global)? else {
            anyhow::bail!(
                "--refresh lists the upstreams of a gateway configuration: pass --config gateway.toml (default ./{})",
                crate::cmd::gateway::DEFAULT_CONFIG
            );
        };
        let gateway = crate::cmd::gateway::build_gateway(&app, app.open_store()?, &path, config)?;
        for (name, listed) in
            app.block_on(async { Ok::<_, anyhow::Error>(gateway.refresh_tools().await) })?
        {
            if let Err(why) = listed {
                eprintln!("warning: the tools of {name} were not listed: {why}");
            }
        }
    }
    let store = app.open_existing_store()?;
    let tools = app.block_on(warrant_app::gateway::tools(&store, server))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&tools)?);
    } else {
        print_tools(&tools);
    }
    let attention = tools
        .iter()
        .any(|t| t.status == ToolPinStatus::Changed || !t.concern_reasons().is_empty());
    Ok(if attention {
        crate::exit::FINDINGS
    } else {
        crate::exit::OK
    })
}

fn print_tools(tools: &[ToolView]) {
    if tools.is_empty() {
        println!(
            "No upstream tools recorded yet: start the gateway, or run `warrant gateway tools --refresh`."
        );
        return;
    }
    for t in tools {
        let description = t
            .definition
            .get("description")
            .and_then(|d| d.as_str())
            .unwrap_or("");
        println!(
            "{:<10}  {}  {}",
            t.status.as_str(),
            t.tool,
            t.fingerprint.get(..12).unwrap_or(&t.fingerprint)
        );
        println!("    {}", one_line(description));
        if let Some(before) = &t.pinned_definition {
            let before = before
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("");
            println!("    was: {}", one_line(before));
        }
        for reason in t.concern_reasons() {
            println!("    concern: {reason}");
        }
        if let Some(by) = &t.pinned_by
            && t.status != ToolPinStatus::Unapproved
        {
            println!("    approved by {by}");
        }
    }
    let count = |status| tools.iter().filter(|t| t.status == status).count();
    println!(
        "{} tools: {} pinned, {} unapproved, {} changed since approval.",
        tools.len(),
        count(ToolPinStatus::Pinned),
        count(ToolPinStatus::Unapproved),
        count(ToolPinStatus::Changed)
    );
}

fn one_line(text: &str) -> String {
    let clean = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() > 100 {
        format!("{}…", clean.chars().take(100).collect::<String>())
    } else {
        clean
    }
}

fn approve(
    global: &GlobalArgs,
    tools: &[String],
    all: bool,
    server: Option<&str>,
    fingerprint: Option<&str>,
    actor: &str,
) -> anyhow::Result<u8> {
    let format = output::choose(global.format, Format::Table, &[Format::Table, Format::Json])?;
    let approvers = crate::cmd::gateway::load_config(global)?
        .map(|(_, c)| c.approval.approvers)
        .unwrap_or_default();
    let app = crate::cmd::jit::store_app(global)?;
    let store = app.open_existing_store()?;
    let names: Vec<String> = if all {
        app.block_on(warrant_app::gateway::tools(&store, server))?
            .into_iter()
            .filter(|t| t.status != ToolPinStatus::Pinned)
            .map(|t| t.tool)
            .collect()
    } else {
        tools.to_vec()
    };
    let mut approved = Vec::new();
    for name in &names {
        let view = app
            .block_on(warrant_app::gateway::approve_tool(
                &store,
                name,
                fingerprint,
                actor,
                &approvers,
                app.now(),
            ))
            .with_context(|| format!("approving {name}"))?;
        approved.push(view);
    }
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&approved)?);
    } else if approved.is_empty() {
        println!("Nothing to approve: every tool is pinned as listed.");
    } else {
        for t in &approved {
            println!(
                "pinned {} as {} (by {actor})",
                t.tool,
                t.fingerprint.get(..12).unwrap_or(&t.fingerprint)
            );
        }
    }
    Ok(crate::exit::OK)
}
