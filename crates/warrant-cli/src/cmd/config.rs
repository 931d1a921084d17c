//! `warrant config`: the configuration in force, as a TOML file to start from.

use crate::app::App;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {}

pub fn run(app: &App, _args: ConfigArgs) -> anyhow::Result<u8> {
    print!("{}", app.config.to_toml()?);
    Ok(crate::exit::OK)
}
