//! `warrant rightsize ID --since 90d`: granted versus used, and a least-privilege policy that
//! covers what the identity did.

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct RightsizeArgs {
    /// The identity's external id (an ARN for AWS).
    #[arg(value_name = "ID")]
    pub id: String,
    /// Look at usage over this window before now (or --as-of): 90d, 12w, 48h.
    #[arg(long, default_value = "90d", value_parser = output::parse_window)]
    pub since: chrono::Duration,
    /// Print only the generated policy document (for `aws iam create-policy`).
    #[arg(long)]
    pub policy_only: bool,
}

pub fn run(app: &App, args: RightsizeArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_existing_store()?;
    let since = app.now() - args.since;
    let warrant_app::query::RightSized { report, usage, .. } =
        app.run(warrant_app::query::rightsize(&store, &args.id, since))?;
    if args.policy_only {
        println!("{}", report.policy.to_json_pretty());
        return Ok(crate::exit::OK);
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        _ => {
            println!("{}.", report.summary);
            if usage.is_empty() {
                println!(
                    "No recorded activity since {}: ingest its logs with `warrant ingest` first.",
                    since.format("%Y-%m-%d")
                );
            }
            if !report.unused_services.is_empty() {
                let shown: Vec<&str> = report
                    .unused_services
                    .iter()
                    .take(25)
                    .map(String::as_str)
                    .collect();
                println!(
                    "Unused services ({}): {}{}",
                    report.unused_services.len(),
                    shown.join(", "),
                    if report.unused_services.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    }
                );
            }
            for (action, n) in &report.denied {
                println!("Denied: {action} ({n} calls): used but not granted.");
            }
            for (action, n) in &report.used_not_granted {
                println!("Used without a grant the analysed policies show: {action} ({n} calls).");
            }
            for note in &report.notes {
                println!("Note: {note}");
            }
            println!("\nLeast-privilege policy covering the observed use:");
            println!("{}", report.policy.to_json_pretty());
        }
    }
    Ok(crate::exit::OK)
}
