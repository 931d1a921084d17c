//! `warrant serve`: the server over the configured store, until interrupted.

use std::sync::Arc;

use anyhow::Context;
use warrant_server::oidc::Oidc;
use warrant_server::{ServerConfig, ServerState};

use crate::app::App;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on (loopback by default: put a TLS-terminating proxy in
    /// front before opening it to a network).
    #[arg(long, env = "WARRANT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Where approved plans applied from the server reach AWS.
    #[command(flatten)]
    pub aws: crate::cmd::plan::AwsTarget,
}

pub fn run(app: &App, args: ServeArgs) -> anyhow::Result<u8> {
    let store = app.open_store()?;
    // The provider is asked once, before serving: a wrong issuer stops the start, naming it,
    // rather than failing each person's sign-in later.
    let oidc = match app.config.server.oidc.clone() {
        Some(config) => Some(app.block_on(Oidc::discover(config))?),
        None => None,
    };
    let config = ServerConfig {
        import: app.config.import.clone(),
        posture: app.config.posture.clone(),
        activity: app.config.activity.clone(),
        governance: app.governance()?.cloned(),
        fingerprinter: app.fingerprinter()?,
        aws: args.aws.options(),
        oidc,
    };
    let state = Arc::new(ServerState::new(store, config, app.shared_clock()));
    app.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let address = listener.local_addr().context("reading the bound address")?;
        crate::output::notice(format_args!(
            "Warrant is serving {} on http://{address} (Ctrl-C to stop).",
            app.store_display()
        ));
        warrant_server::serve(listener, state, shutdown())
            .await
            .context("serving")
    })?;
    Ok(crate::exit::OK)
}

/// Completes on Ctrl-C or SIGTERM (how service managers stop a process).
pub(crate) async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    crate::output::notice(format_args!("Stopping: finishing the requests in flight."));
}
