//! `warrant import DIR…`: read every supported export into the store.

use std::path::PathBuf;

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Directories or files to import (searched recursively; formats are detected per file).
    #[arg(required = true, value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Accepted for compatibility: a file that could not be read or understood always makes the
    /// exit code 2 now (the others are still imported).
    #[arg(long, hide = true)]
    pub strict: bool,
}

pub fn run(app: &App, args: ImportArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_store()?;
    let fingerprinter = app.fingerprinter()?;
    let imported = app.run(warrant_app::import_paths(
        &store,
        app.settings()?,
        &fingerprinter,
        &args.paths,
        app.now(),
        &app.progress(),
        &warrant_app::Cancel::new(),
    ))?;
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "identities": imported.n_records,
                "inputs": imported.inputs,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        _ => {
            for note in &imported.notes {
                println!("{note}");
            }
            println!("Store: {}", app.store_display());
        }
    }
    Ok(pipeline::input_errors(&imported.inputs).unwrap_or(crate::exit::OK))
}
