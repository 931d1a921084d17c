//! `warrant show ID`: everything Warrant knows about one identity, and its risk explained.

use std::fmt::Write as _;

use warrant_core::Timestamp;

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// External id (ARN, system:serviceaccount:NS:NAME, …), or a name or id suffix that matches one identity.
    #[arg(value_name = "ID")]
    pub id: String,
    /// How far back to summarise observed use (e.g. 90d, 2w, 48h).
    #[arg(long, default_value = "90d", value_parser = output::parse_window)]
    pub usage_since: chrono::Duration,
}

fn date(t: Option<Timestamp>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "—".into())
}

pub fn run(app: &App, args: ShowArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let store = app.open_existing_store()?;
    let since = app.now() - args.usage_since;
    let detail = app.run(warrant_app::query::show(
        &store,
        app.rules()?,
        app.when(),
        &args.id,
        since,
        &app.progress(),
    ))?;
    let identity = detail
        .identity()
        .ok_or_else(|| anyhow::anyhow!("{} was not found", detail.id))?;
    let index = detail.neighbourhood.index();
    let assessment = &detail.assessment;
    let findings = &detail.findings;
    let credentials = index
        .credentials_by_identity
        .get(identity.id.as_str())
        .cloned()
        .unwrap_or_default();
    let trust_in = index
        .trust_into
        .get(identity.id.as_str())
        .cloned()
        .unwrap_or_default();
    let trust_out = index
        .trust_from
        .get(identity.id.as_str())
        .cloned()
        .unwrap_or_default();
    let privilege = &detail.privilege;
    let stored = &detail.stored;
    let leaks = &detail.leaks;
    let usage = &detail.usage;

    if format == Format::Json {
        let doc = serde_json::json!({
            "identity": identity,
            "status": assessment.status,
            "first_seen": stored.as_ref().map(|s| s.first_seen),
            "last_seen": stored.as_ref().map(|s| s.last_seen),
            "risk": assessment.risk,
            "explanation": warrant_posture::explain(assessment),
            "privilege": privilege,
            "credentials": credentials,
            "trust_in": trust_in,
            "trust_out": trust_out,
            "findings": findings,
            "leaks": leaks,
            "usage": usage,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(crate::exit::OK);
    }

    let mut out = String::new();
    let i = identity;
    let _ = writeln!(
        out,
        "{}\n  {} · {} · account {} · {} · status {}",
        i.id,
        i.kind,
        i.provider,
        i.account.as_deref().unwrap_or("—"),
        i.environment,
        assessment.status
    );
    let _ = writeln!(
        out,
        "  created {} · last used {} · first seen {} · last imported {}",
        date(i.created),
        date(i.last_used),
        date(stored.as_ref().map(|s| s.first_seen)),
        date(stored.as_ref().map(|s| s.last_seen))
    );
    if let Some(purpose) = &i.purpose {
        let _ = writeln!(out, "  purpose: {purpose}");
    }
    let _ = writeln!(out, "\nOwners:");
    if i.owners.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for o in &i.owners {
        let status = index
            .owner(&o.id)
            .map(|r| format!("{} ({})", r.status, r.kind))
            .unwrap_or_else(|| "not in the directory".into());
        let _ = writeln!(out, "  {} — from {} — {}", o.id, o.source, status);
    }
    let _ = writeln!(out, "\nCredentials:");
    if credentials.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for c in &credentials {
        let _ = writeln!(
            out,
            "  {} {} {} · created {} · rotated {} · last used {} · expires {} · {}",
            if c.active { "active" } else { "inactive" },
            c.kind,
            c.preview.as_deref().unwrap_or(&c.id),
            date(c.created),
            date(c.last_rotated),
            date(c.last_used),
            date(c.expires),
            c.storage.as_deref().unwrap_or("")
        );
    }
    let p = &privilege;
    let _ = writeln!(
        out,
        "\nPermissions: {} actions{}{}",
        p.n_actions(),
        if p.admin_equivalent {
            " · ADMINISTRATOR-EQUIVALENT"
        } else {
            ""
        },
        if p.conditional {
            " · some conditional"
        } else {
            ""
        }
    );
    for (level, n) in &p.actions_by_level {
        let _ = writeln!(out, "  {level}: {n}");
    }
    for g in p.grants.iter().take(25) {
        let _ = writeln!(
            out,
            "  {} {} on {} — {}{}",
            g.effect,
            g.actions.join(", "),
            g.resources.join(", "),
            g.policy,
            g.via
                .as_deref()
                .map(|v| format!(" via {v}"))
                .unwrap_or_default()
        );
    }
    if p.grants.len() > 25 {
        let _ = writeln!(
            out,
            "  … {} more grants (--format json)",
            p.grants.len() - 25
        );
    }
    for e in &p.escalations {
        let _ = writeln!(out, "  escalation {}: {}", e.technique, e.explanation);
    }
    if !trust_in.is_empty() || !trust_out.is_empty() {
        let _ = writeln!(out, "\nTrust:");
        for t in &trust_in {
            let _ = writeln!(
                out,
                "  ← {} ({}) can {} into it{}",
                t.from,
                t.from_kind,
                t.kind,
                t.conditions
                    .as_ref()
                    .map(|c| format!(" if {c}"))
                    .unwrap_or_default()
            );
        }
        for t in &trust_out {
            let _ = writeln!(out, "  → can {} into {}", t.kind, t.to);
        }
    }
    if !leaks.is_empty() {
        let _ = writeln!(out, "\nLeaked (NHI2):");
        for l in leaks.iter() {
            let place = match &l.commit {
                Some(commit) => format!(
                    "{}:{} in commit {} by {}",
                    l.path,
                    l.line,
                    commit,
                    l.author.as_deref().unwrap_or("?")
                ),
                None => format!("{}:{}:{}", l.path, l.line, l.column),
            };
            let _ = writeln!(out, "  {} ({}) at {place}", l.fingerprint, l.rule);
        }
    }
    if !usage.is_empty() {
        let _ = writeln!(
            out,
            "\nUsed since {} ({} actions):",
            date(Some(since)),
            usage.len()
        );
        for u in usage.iter().take(15) {
            let _ = writeln!(
                out,
                "  {} ×{} on {} (last {})",
                u.action,
                u.count,
                u.resource.as_deref().unwrap_or("*"),
                date(Some(u.last_seen))
            );
        }
    }
    let _ = writeln!(out, "\nFindings ({}):", findings.len());
    for f in findings {
        let _ = writeln!(
            out,
            "  [{}] {} {} — {}",
            f.severity, f.owasp, f.title, f.rule
        );
        for e in &f.evidence {
            let _ = writeln!(out, "      {e}");
        }
        let _ = writeln!(out, "      fix: {}", f.remediation);
    }
    let _ = writeln!(out, "\nRisk:");
    for line in warrant_posture::explain(assessment) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\n{}", detail.basis.describe());
    print!("{out}");
    Ok(crate::exit::OK)
}
