//! `warrant store`: operations on whole stores.

use anyhow::{Context, bail};
use warrant_store::Store;

use crate::app::App;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, clap::Subcommand)]
enum StoreCommand {
    /// Copy every record of one store into a new, empty one (e.g. SQLite to PostgreSQL), then
    /// compare row counts and content checksums of every table; any difference is an error.
    Migrate {
        /// The store to copy: `sqlite:PATH`, `sqlite://PATH`, a path or `postgres://…`.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The empty store to fill: `postgres://USER:PASSWORD@HOST/DB` (the database must exist) or a SQLite URL.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub fn run(app: &App, args: StoreArgs) -> anyhow::Result<u8> {
    match args.command {
        StoreCommand::Migrate { from, to } => migrate(app, &from, &to),
    }
}

fn migrate(app: &App, from: &str, to: &str) -> anyhow::Result<u8> {
    let (from_shown, to_shown) = (
        warrant_store::redacted_location(from),
        warrant_store::redacted_location(to),
    );
    // Copying from a store that does not exist would create an empty one and copy nothing.
    if let Some(file) = warrant_store::sqlite_file(from)
        && !file.exists()
    {
        bail!("no store at {from_shown}");
    }
    let source = app
        .block_on(Store::open_url(from))
        .with_context(|| format!("opening {from_shown}"))?;
    let target = app
        .block_on(Store::open_url(to))
        .with_context(|| format!("opening {to_shown}"))?;
    let report = app
        .block_on(source.copy_to(&target))
        .with_context(|| format!("copying {from_shown} to {to_shown}"))?;
    for table in &report.tables {
        println!(
            "{:<22} {:>10} rows  sha256 {}",
            table.table, table.rows, table.checksum
        );
    }
    println!(
        "Copied {} rows from {from_shown} to {to_shown}; row counts and checksums match.",
        report.total_rows()
    );
    app.block_on(source.close());
    app.block_on(target.close());
    Ok(crate::exit::OK)
}
