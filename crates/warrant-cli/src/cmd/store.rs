//! `warrant store`: operations on whole stores.

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
    let report = app.run(warrant_app::store::migrate(from, to))?;
    for table in &report.tables {
        println!(
            "{:<22} {:>10} rows  sha256 {}",
            table.table, table.rows, table.checksum
        );
    }
    println!(
        "Copied {} rows from {} to {}; row counts and checksums match.",
        report.total_rows(),
        warrant_store::redacted_location(from),
        warrant_store::redacted_location(to),
    );
    Ok(crate::exit::OK)
}
