//! `warrant completions SHELL` and `warrant man DIR`: shell completions and man pages, generated
//! from the same clap definition the binary parses with, so they never drift from it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::CommandFactory as _;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for (bash, zsh, fish, elvish, powershell).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write `warrant.1` and one page per subcommand (`warrant-scan.1`, …) into.
    #[arg(value_name = "DIR")]
    pub out_dir: PathBuf,
}

/// Prints the completion script on standard output (`warrant completions bash >
/// /etc/bash_completion.d/warrant`).
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut command = crate::Cli::command();
    clap_complete::generate(args.shell, &mut command, "warrant", &mut std::io::stdout());
    Ok(crate::exit::OK)
}

/// Writes the man pages (`man -l DIR/warrant.1`).
pub fn man(args: &ManArgs) -> anyhow::Result<u8> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    clap_mangen::generate_to(crate::Cli::command(), &args.out_dir)
        .with_context(|| format!("writing man pages into {}", args.out_dir.display()))?;
    eprintln!("Wrote the man pages into {}.", args.out_dir.display());
    Ok(crate::exit::OK)
}
