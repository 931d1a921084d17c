//! `warrant inventory`: identities in the store, riskiest first.

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
    };
    let views = app.run(warrant_app::query::inventory(
        &store,
        &app.config.posture,
        app.now(),
        &filter,
        &app.progress(),
    ))?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&views)?),
        Format::Csv => warrant_report::write_identities_csv(&views, &mut std::io::stdout().lock())?,
        _ => {
            println!(
                "{}",
                warrant_report::table::identities(&views, output::table_style(app.color))
            );
            println!("{} identities.", views.len());
            println!("{}", crate::cmd::pipeline::as_of_line(app, &store));
        }
    }
    Ok(crate::exit::OK)
}
