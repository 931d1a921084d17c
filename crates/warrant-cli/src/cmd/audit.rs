//! `warrant audit`: every governance change (exceptions granted and withdrawn, …), oldest
//! first, with who, when and the state before and after.

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn run(app: &App, _args: AuditArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_existing_store()?;
    let entries = app.run(warrant_app::lifecycle::audit(&store))?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(crate::exit::OK);
    }
    for e in &entries {
        println!(
            "{:>5}  {}  {}  {}  {}",
            e.seq,
            e.at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.actor,
            e.action,
            e.subject
        );
    }
    println!("{} change(s).", entries.len());
    Ok(crate::exit::OK)
}
