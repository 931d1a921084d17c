//! `warrant consume`: a NATS JetStream consumer that ingests activity events into the store,
//! exactly once each: usage, last-used, baselines, alerts, as `warrant ingest` records them.

use warrant_core::Severity;
use warrant_stream::ConsumerSettings;

use crate::app::App;
use crate::cmd::pipeline;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    /// NATS server URL.
    #[arg(
        long = "nats",
        env = "WARRANT_NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        value_name = "URL"
    )]
    pub url: String,
    /// JetStream stream holding the events (it must exist).
    #[arg(long, default_value = "WARRANT_ACTIVITY", value_name = "NAME")]
    pub stream: String,
    /// Durable consumer name, shared by every worker of one pipeline (created when missing).
    #[arg(long, default_value = "warrant-activity", value_name = "NAME")]
    pub durable: String,
    /// Only subjects matching this (e.g. `warrant.activity.cloud_trail`); all when omitted.
    #[arg(
        long,
        default_value = "",
        value_name = "SUBJECT",
        hide_default_value = true
    )]
    pub filter_subject: String,
    /// Events per fetch, processed (and committed) as one batch.
    #[arg(long, default_value_t = 500, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    /// Stop once the stream is drained (nothing undelivered, nothing awaiting acknowledgement);
    /// otherwise run until Ctrl-C.
    #[arg(long)]
    pub drain: bool,
    /// Exit with code 1 when an alert raised by this run is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = pipeline::parse_severity)]
    pub fail_on: Option<Severity>,
}

pub fn run(app: &App, args: ConsumeArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_store()?;
    let settings = ConsumerSettings {
        stream: args.stream,
        durable: args.durable,
        filter_subject: args.filter_subject,
        batch_size: args.batch as usize,
        stop_when_drained: args.drain,
        ..ConsumerSettings::default()
    };
    // Ctrl-C stops after the batch in hand is committed and acknowledged. Without signal
    // support the consumer runs until drained or killed (a killed batch is redelivered).
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let outcome = app.run(warrant_app::stream::consume(
        &store,
        &app.config.activity,
        &args.url,
        &settings,
        || app.now(),
        shutdown,
    ))?;
    let (report, totals) = (&outcome.report, &outcome.totals);
    match format {
        Format::Json => {
            let doc = serde_json::json!({
                "batches": report.batches,
                "received": report.received,
                "redelivered": report.redelivered,
                "applied": report.applied,
                "duplicates": report.duplicates,
                "expired": report.expired,
                "rejected": report.rejected,
                "malformed": report.malformed,
                "ack_failures": report.ack_failures,
                "attributed": totals.attributed,
                "shadow": totals.shadow,
                "outside": totals.outside,
                "identities": totals.identities.len(),
                "usage_rows": totals.usage_rows,
                "alerts": totals.alerts,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        _ => {
            println!(
                "Consumed {} message(s) in {} batch(es): {} event(s) applied, {} already applied \
                 (redeliveries), {} expired, {} rejected, {} malformed; {} attributed to {} \
                 identities, {} from principals missing from the inventory, {} from outside \
                 principals; {} alerts.",
                report.received,
                report.batches,
                report.applied,
                report.duplicates,
                report.expired,
                report.rejected,
                report.malformed,
                totals.attributed,
                totals.identities.len(),
                totals.shadow,
                totals.outside,
                totals.alerts.len(),
            );
            for bad in &report.malformed_examples {
                println!(
                    "  not an event: {} (stream sequence {}): {}",
                    bad.subject, bad.stream_sequence, bad.error
                );
            }
            if !totals.alerts.is_empty() {
                println!(
                    "{}",
                    warrant_report::table::findings(&totals.alerts, output::table_style(app.color))
                );
            }
        }
    }
    Ok(pipeline::exit_code(&totals.alerts, args.fail_on))
}
