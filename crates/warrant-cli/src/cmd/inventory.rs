//! `warrant inventory`: identities in the store, riskiest first.

use std::io::Write;

use warrant_core::{Environment, IdentityKind, Provider};

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// Only this provider (aws, kubernetes, github, mcp).
    #[arg(long, value_parser = |s: &str| s.parse::<Provider>().map_err(|e| e.to_string()))]
    pub provider: Option<Provider>,
    /// Only this kind (aws_user, aws_role, k8s_service_account, github_app, mcp_server, …).
    #[arg(long, value_parser = |s: &str| s.parse::<IdentityKind>().map_err(|e| e.to_string()))]
    pub kind: Option<IdentityKind>,
    /// Only this environment (production, staging, development, test, unknown).
    #[arg(long, value_parser = |s: &str| s.parse::<Environment>().map_err(|e| e.to_string()))]
    pub environment: Option<Environment>,
    /// Only identities without an owner.
    #[arg(long)]
    pub no_owner: bool,
    /// Only identities with at least this risk (0–100).
    #[arg(long, default_value_t = 0.0)]
    pub min_risk: f64,
    /// Only identities judged by this governance policy tier (`defaults`: no tier matched).
    #[arg(long)]
    pub tier: Option<String>,
    /// Only identities with an open finding of this OWASP NHI risk (NHI1 … NHI10).
    #[arg(long, value_parser = |s: &str| s.parse::<warrant_core::OwaspNhi>().map_err(|e| e.to_string()))]
    pub owasp: Option<warrant_core::OwaspNhi>,
    /// Only identities an approved registration sanctions, or only shadow ones.
    #[arg(long, value_parser = ["sanctioned", "shadow"])]
    pub registration: Option<String>,
    /// List at most N identities, riskiest first (0: all). The table shows 100 unless told;
    /// the other formats list every identity, streamed.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

pub fn run(app: &App, args: InventoryArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[Format::Table, Format::Json, Format::Csv],
    )?;
    let store = app.open_existing_store()?;
    let filter = warrant_app::query::InventoryFilter {
        provider: args.provider,
        kind: args.kind,
        environment: args.environment,
        no_owner: args.no_owner,
        min_risk: args.min_risk,
        tier: args.tier,
        owasp: args.owasp,
        sanctioned: args.registration.map(|r| r == "sanctioned"),
        ..warrant_app::query::InventoryFilter::default()
    };
    let limit = crate::cmd::pipeline::listing_limit(args.limit, format);
    let mut sink = crate::cmd::pipeline::Sink::new(format, warrant_report::IdentitiesCsv::new)?;
    let listed = app.block_on(warrant_app::query::each_identity(
        &store,
        app.rules()?,
        app.when(),
        &filter,
        limit,
        &app.progress(),
        |view| sink.push(view),
    ))?;
    let shown = sink.finish()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if format == Format::Table {
        writeln!(
            out,
            "{}",
            warrant_report::table::identities(&shown, output::table_style(app.color))
        )?;
        crate::cmd::pipeline::listing_footer(
            &mut out,
            &listed,
            shown.len(),
            "identities",
            "riskiest first",
            "json",
        )?;
    } else {
        crate::cmd::pipeline::note_basis(&listed.basis);
    }
    out.flush()?;
    Ok(crate::exit::OK)
}
