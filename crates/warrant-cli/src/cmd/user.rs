//! `warrant user add|list|disable|set-role|set-password`: the people who sign in to Warrant's
//! server. Passwords come from `WARRANT_NEW_PASSWORD` or a prompt on the terminal, never from
//! the command line (where `ps` and shell history would keep them).

use anyhow::{Context, bail};
use warrant_app::accounts::{self, Role};

use crate::app::App;
use crate::output::{self, Format};

/// Where a new password is read from when set, instead of a prompt (scripts, containers).
const PASSWORD_ENV: &str = "WARRANT_NEW_PASSWORD";

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Add a user (role viewer unless --admin or --role). The password is read from
    /// WARRANT_NEW_PASSWORD, else asked twice on the terminal; at least 12 characters.
    /// Formats: table, json.
    Add {
        /// How they sign in: a short name or an email address.
        username: String,
        /// Make them an admin (same as --role admin).
        #[arg(long, conflicts_with = "role")]
        admin: bool,
        /// viewer, owner, reviewer, approver or admin.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// The name shown for them.
        #[arg(long, value_name = "NAME")]
        display_name: Option<String>,
        /// No password: they sign in through single sign-on only.
        #[arg(long)]
        no_password: bool,
    },
    /// Every user with their role and state (never a password hash). Formats: table, json.
    List,
    /// Disable a user: their sessions end and their API tokens are revoked.
    Disable { username: String },
    /// Change a user's role (viewer, owner, reviewer, approver or admin).
    SetRole {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Replace a user's password (read like `user add`'s); lifts a lock from wrong passwords.
    SetPassword { username: String },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse::<Role>().map_err(|e| e.to_string())
}

pub fn run(app: &App, args: UserArgs) -> anyhow::Result<u8> {
    match args.command {
        UserCommand::Add {
            username,
            admin,
            role,
            display_name,
            no_password,
        } => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let role = if admin {
                Role::Admin
            } else {
                role.unwrap_or(Role::Viewer)
            };
            let password = if no_password {
                None
            } else {
                Some(new_password(&username)?)
            };
            // The first admin is added to a store that may not exist yet.
            let store = app.open_store()?;
            let user = app.run(accounts::add_user(
                &store,
                &username,
                display_name.as_deref(),
                role,
                password.as_deref(),
                app.now(),
            ))?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&user)?);
            } else {
                println!(
                    "Added {} (role {}{}).",
                    user.username,
                    user.role,
                    if user.has_password {
                        ""
                    } else {
                        ", single sign-on only"
                    }
                );
            }
            Ok(crate::exit::OK)
        }
        UserCommand::List => {
            let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
            let store = app.open_existing_store()?;
            let users = app.run(accounts::users(&store))?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&users)?);
                return Ok(crate::exit::OK);
            }
            println!(
                "{:<24} {:<9} {:<8} {:<8} {:<6} {:<10}  name",
                "username", "role", "state", "password", "sso", "created"
            );
            for u in &users {
                println!(
                    "{:<24} {:<9} {:<8} {:<8} {:<6} {:<10}  {}",
                    u.username,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    if u.has_password { "yes" } else { "no" },
                    if u.oidc_linked { "linked" } else { "-" },
                    u.created_at.format("%Y-%m-%d"),
                    u.display_name.as_deref().unwrap_or("")
                );
            }
            println!("{} user(s).", users.len());
            Ok(crate::exit::OK)
        }
        UserCommand::Disable { username } => {
            let store = app.open_existing_store()?;
            app.run(accounts::disable_user(&store, &username, app.now()))?;
            println!("Disabled {username}: their sessions ended and their API tokens are revoked.");
            Ok(crate::exit::OK)
        }
        UserCommand::SetRole { username, role } => {
            let store = app.open_existing_store()?;
            app.run(accounts::set_role(&store, &username, role, app.now()))?;
            println!("{username} now has role {role}.");
            Ok(crate::exit::OK)
        }
        UserCommand::SetPassword { username } => {
            let password = new_password(&username)?;
            let store = app.open_existing_store()?;
            app.run(accounts::set_password(
                &store,
                &username,
                &password,
                app.now(),
            ))?;
            println!("Set a new password for {username}.");
            Ok(crate::exit::OK)
        }
    }
}

/// The new password: `WARRANT_NEW_PASSWORD` when set, else typed twice without echo on the
/// terminal. The length rules are the application's (checked when it is hashed).
fn new_password(username: &str) -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    let term = console::Term::stderr();
    if !term.is_term() {
        bail!("no password: set {PASSWORD_ENV}, or run on a terminal to be asked for it");
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        term.write_str(prompt).context("writing to the terminal")?;
        term.read_secure_line().context("reading the password")
    };
    let first = ask(&format!("New password for {username}: "))?;
    let second = ask("Again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}
