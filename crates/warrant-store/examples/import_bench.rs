#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark reading /proc for its own peak memory"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Import throughput: 100k identities, 10k policies holding 1M statements, 150k credentials
//! and 150k attachments, generated in memory, imported twice (fresh, then unchanged), loaded.
//!
//! `cargo run -p warrant-store --example import_bench --release [-- IDENTITIES]`

use std::time::Instant;

use chrono::{TimeZone, Utc};
use warrant_core::*;
use warrant_store::Store;

fn generate(n_identities: usize) -> Inventory {
    let n_policies = n_identities / 10;
    let accounts = [
        "111111111111",
        "222222222222",
        "333333333333",
        "444444444444",
    ];
    let source = |location: &str| Provenance {
        source: "aws-authorization-details".into(),
        location: Some(location.into()),
    };
    let mut inv = Inventory::default();
    for n in 0..n_identities {
        let account = accounts[n % accounts.len()];
        let mut i = Identity::new(
            format!("arn:aws:iam::{account}:role/service-{n}"),
            IdentityKind::AwsRole,
            Provider::Aws,
            format!("service-{n}"),
        );
        i.account = Some(account.into());
        i.environment = Environment::guess(if n % 3 == 0 { "prod" } else { "dev" });
        i.tags.insert("team".into(), format!("team-{}", n % 50));
        i.provenance = source("/exports/auth.json");
        inv.identities.push(i);
    }
    for n in 0..n_identities * 3 / 2 {
        let identity = inv.identities[n % n_identities].id.clone();
        let mut c = Credential::new(format!("AKIA{n:016}"), identity, CredentialKind::AccessKey);
        c.created = Utc.timestamp_opt(1_700_000_000 + n as i64, 0).single();
        c.provenance = source("/exports/keys.csv");
        inv.credentials.push(c);
    }
    for p in 0..n_policies {
        let account = accounts[p % accounts.len()];
        let statements = (0..100)
            .map(|s| Statement {
                sid: Some(format!("S{s}")),
                effect: if s % 10 == 0 {
                    Effect::Deny
                } else {
                    Effect::Allow
                },
                actions: vec![format!("s3:GetObject{s}"), "s3:PutObject".into()],
                not_actions: vec![],
                resources: vec![format!("arn:aws:s3:::bucket-{p}-{s}/*")],
                not_resources: vec![],
                conditions: None,
            })
            .collect();
        inv.policies.push(Policy {
            id: format!("arn:aws:iam::{account}:policy/p{p}"),
            name: format!("p{p}"),
            provider: Provider::Aws,
            kind: PolicyKind::CustomerManaged,
            statements,
            provenance: source("/exports/auth.json"),
        });
    }
    for n in 0..n_identities * 3 / 2 {
        let identity = &inv.identities[n % n_identities];
        inv.attachments.push(Attachment {
            identity: identity.id.clone(),
            policy: inv.policies[(n / 2) % n_policies].id.clone(),
            via: (n % 2 == 1).then(|| format!("group:g{}", n % 100)),
            scope: None,
        });
    }
    inv.scopes = accounts
        .iter()
        .map(|a| SourceScope {
            source: "aws-authorization-details".into(),
            scope: (*a).into(),
        })
        .collect();
    inv
}

fn rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let inv = generate(n);
    let statements: usize = inv.policies.iter().map(|p| p.statements.len()).sum();
    println!(
        "generated {} identities, {} policies / {} statements, {} credentials, {} attachments in {:.1?}",
        inv.identities.len(),
        inv.policies.len(),
        statements,
        inv.credentials.len(),
        inv.attachments.len(),
        started.elapsed()
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let store = Store::open(&path).await?;
    let at = |day| Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).single();
    let (Some(first), Some(second)) = (at(1), at(2)) else {
        return Err("bad date".into());
    };

    let t = Instant::now();
    let stats = store.import(&inv, first).await?;
    println!(
        "first import:  {:>6.2?}  ({stats}); peak RSS so far {} MiB",
        t.elapsed(),
        rss_mib().map_or("?".into(), |m| m.to_string())
    );
    let t = Instant::now();
    let stats = store.import(&inv, second).await?;
    println!("re-import:     {:>6.2?}  ({stats})", t.elapsed());
    let t = Instant::now();
    let loaded = store.load_inventory().await?;
    println!(
        "load:          {:>6.2?}  ({} identities, {} policies)",
        t.elapsed(),
        loaded.identities.len(),
        loaded.policies.len()
    );
    let size = std::fs::metadata(&path)?.len();
    println!(
        "database: {} MiB; peak RSS: {} MiB",
        size / (1 << 20),
        rss_mib().map_or("?".into(), |m| m.to_string())
    );
    Ok(())
}
