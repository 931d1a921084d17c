//! One module per subcommand: arguments, one `warrant_app` use case, rendering; `pipeline` holds
//! what several commands share (severity arguments, exit codes, the assessment report).

pub mod alerts;
pub mod assess;
pub mod audit;
pub mod completions;
pub mod config;
pub mod consume;
pub mod discover;
pub mod exception;
pub mod findings;
pub mod gateway;
pub mod gateway_tools;
pub mod import;
pub mod ingest;
pub mod inventory;
pub mod jit;
pub mod owner;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod register;
pub mod review;
pub mod rightsize;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod show;
pub mod store;
pub mod token;
pub mod user;

use crate::app::App;
use crate::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    // Generated from the CLI definition alone: no configuration, store or key needed.
    match &cli.command {
        Command::Completions(args) => return completions::completions(args),
        Command::Man(args) => return completions::man(args),
        _ => {}
    }
    // The gateway's commands read gateway.toml (the global `--config`), not warrant.toml, and
    // need no store.
    let command = match cli.command {
        Command::Gateway(args) => return gateway::run(&cli.global, args),
        Command::Jit(args) => return jit::run(&cli.global, args),
        other => other,
    };
    let app = App::new(&cli.global)?;
    match command {
        Command::Import(args) => import::run(&app, args),
        Command::Discover(args) => discover::run(&app, args),
        Command::Inventory(args) => inventory::run(&app, args),
        Command::Findings(args) => findings::run(&app, args),
        Command::Show(args) => show::run(&app, args),
        Command::Assess(args) => assess::run(&app, args),
        Command::Rules(args) => rules::run(&app, args),
        Command::Config(args) => config::run(&app, args),
        Command::Scan(args) => scan::run(&app, args),
        Command::Ingest(args) => ingest::run(&app, args),
        Command::Consume(args) => consume::run(&app, args),
        Command::Alerts(args) => alerts::run(&app, args),
        Command::Rightsize(args) => rightsize::run(&app, args),
        Command::Store(args) => store::run(&app, args),
        Command::Policy(args) => policy::run(&app, args),
        Command::Exception(args) => exception::run(&app, args),
        Command::Audit(args) => audit::run(&app, args),
        Command::Plan(args) => plan::run(&app, args),
        Command::Contain(args) => plan::contain(&app, args),
        Command::Owner(args) => owner::run(&app, args),
        Command::Register(args) => register::run(&app, args),
        Command::Review(args) => review::run(&app, args),
        Command::User(args) => user::run(&app, args),
        Command::Token(args) => token::run(&app, args),
        Command::Serve(args) => serve::run(&app, args),
        Command::Completions(_) | Command::Man(_) | Command::Gateway(_) | Command::Jit(_) => {
            Ok(crate::exit::OK)
        }
    }
}
