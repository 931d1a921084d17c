//! `warrant discover aws --live`: read identities straight from provider APIs into the store.

use anyhow::bail;

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct DiscoverArgs {
    #[command(subcommand)]
    pub provider: Provider,
}

#[derive(Debug, clap::Subcommand)]
pub enum Provider {
    /// AWS IAM through the official SDK: users, roles, groups, policies, trust, access keys with
    /// their last use, the credential report, and Organizations accounts. Read-only calls only.
    Aws(AwsArgs),
}

#[derive(Debug, clap::Args)]
pub struct AwsArgs {
    /// Call the live AWS APIs (the only mode; for files use `warrant import`).
    #[arg(long)]
    pub live: bool,
    /// Service endpoint, e.g. a local emulator (default: AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region (default: AWS_REGION / the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config.
    #[arg(long)]
    pub profile: Option<String>,
}

pub fn run(app: &App, args: DiscoverArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let Provider::Aws(aws) = args.provider;
    if !aws.live {
        bail!(
            "`warrant discover aws` needs --live (it calls AWS); to read export files use `warrant import DIR`"
        );
    }
    let options = warrant_aws_live::LiveOptions {
        endpoint_url: aws.endpoint_url,
        region: aws.region,
        profile: aws.profile,
    };
    let store = app.open_store()?;
    let bar = output::progress(None, "Discovering AWS IAM");
    let discovered = app.run(warrant_app::discover::aws_live(
        &store,
        app.settings()?,
        &app.fingerprinter()?,
        &options,
        app.now(),
        &warrant_app::Cancel::new(),
    ));
    bar.finish_and_clear();
    let warrant_app::discover::Discovered { outcome, stats } = discovered?;
    let inv = &outcome.inventory;
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "account": outcome.account,
                "identities": inv.identities.len(),
                "credentials": inv.credentials.len(),
                "policies": inv.policies.len(),
                "trust_edges": inv.trust_edges.len(),
                "warnings": outcome.warnings,
                "store": stats,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        _ => {
            println!(
                "Discovered account {}: {} identities, {} credentials, {} policies, {} trust edges; {stats}.",
                outcome.account.as_deref().unwrap_or("?"),
                inv.identities.len(),
                inv.credentials.len(),
                inv.policies.len(),
                inv.trust_edges.len()
            );
            for warning in &outcome.warnings {
                eprintln!("warning: {warning}");
            }
        }
    }
    Ok(crate::exit::OK)
}
