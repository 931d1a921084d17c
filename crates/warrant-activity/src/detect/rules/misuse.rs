//! Misuse of an identity: shared credentials, console use of machines, crossing environments,
//! dormant identities waking up, agents off their tool list, principals nobody inventoried.

use super::*;

pub(super) fn credential_reuse(input: &Input) -> Vec<Finding> {
    // credential → hour → (networks, user-agent families)
    type Sources = (BTreeSet<String>, BTreeSet<String>);
    let mut by_credential: BTreeMap<&str, BTreeMap<i64, Sources>> = BTreeMap::new();
    for e in input.events {
        let Some(credential) = e.principal.credential.as_deref() else {
            continue;
        };
        let slot = by_credential
            .entry(credential)
            .or_default()
            .entry(hour_index(&e.time))
            .or_default();
        if let Some(ip) = &e.source_ip {
            let network = network_of(ip);
            if network != "cloud-service" {
                slot.0.insert(network);
            }
        }
        if let Some(ua) = &e.user_agent {
            let family = user_agent_family(ua);
            if family != "cloud-service" && family != "console" {
                slot.1.insert(family);
            }
        }
    }
    let min = input.config.reuse_min_sources;
    let mut findings = Vec::new();
    for (credential, hours) in by_credential {
        let hit = hours.iter().find(|(_, (networks, agents))| {
            let enough = networks.len() >= min || agents.len() >= min;
            // A workload that always runs from several places at once is its baseline.
            let unfamiliar = !input.mature
                || networks
                    .iter()
                    .any(|n| !input.baseline.networks().contains(n))
                || agents
                    .iter()
                    .any(|a| !input.baseline.user_agents().contains(a));
            enough && unfamiliar
        });
        let Some((hour, (networks, agents))) = hit else {
            continue;
        };
        let start = DateTime::from_timestamp(hour * 3600, 0)
            .map(|t| when(&t))
            .unwrap_or_default();
        let evidence = vec![
            format!(
                "Credential {credential} was used from {} ({}) and {} ({}) in the hour from {start}.",
                plural(networks.len() as u64, "network", "networks"),
                examples(networks.iter().map(String::as_str), 5),
                plural(agents.len() as u64, "client", "clients"),
                examples(agents.iter().map(String::as_str), 5),
            ),
            format!(
                "One workload uses one credential; {min} or more sources at once means it is shared or copied."
            ),
        ];
        findings.push(make(
            CREDENTIAL_REUSE,
            format!("Credential used by several workloads at once: {credential}"),
            Severity::High,
            &input.context.id,
            credential,
            evidence,
            &[Tactic::InitialAccess, Tactic::DefenseEvasion],
            &[technique!("T1078.004")],
            "Give each workload its own identity and credential; if the extra sources are unknown, the credential has leaked: rotate it now.",
        ));
    }
    findings
}

pub(super) fn console_use(input: &Input) -> Vec<Finding> {
    if input.context.actor == ActorKind::Human {
        return Vec::new();
    }
    let events: Vec<&&Event> = input
        .events
        .iter()
        .filter(|e| {
            e.console
                || e.actor == Actor::Human
                || iam_action(&e.action).eq_ignore_ascii_case("signin:ConsoleLogin")
        })
        .collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    let logins = events
        .iter()
        .filter(|e| iam_action(&e.action).eq_ignore_ascii_case("signin:ConsoleLogin"))
        .count() as u64;
    let networks: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e.source_ip.as_deref().map(network_of))
        .collect();
    let evidence = vec![
        format!(
            "{} came from the console or a browser between {} and {} ({}).",
            plural(events.len() as u64, "call", "calls"),
            when(&first.time),
            when(&last.time),
            plural(logins, "console sign-in", "console sign-ins"),
        ),
        format!(
            "The identity is a {} identity ({}); people should use their own identities.",
            if input.context.actor == ActorKind::Machine {
                "machine"
            } else {
                "non-human or unclassified"
            },
            input.context.kind,
        ),
        format!(
            "From networks: {}.",
            examples(networks.iter().map(String::as_str), 3)
        ),
    ];
    vec![make(
        CONSOLE_USE,
        "Console or browser use of a machine identity".to_string(),
        if input.context.actor == ActorKind::Machine {
            Severity::High
        } else {
            Severity::Medium
        },
        &input.context.id,
        "console",
        evidence,
        &[Tactic::InitialAccess, Tactic::Persistence],
        &[technique!("T1078.004")],
        "Remove the identity's console password, find the person who signed in and give them their own SSO access, and rotate the identity's credentials they may have seen.",
    )]
}

pub(super) fn cross_environment(input: &Input) -> Vec<Finding> {
    let own = input.context.environment;
    if own == Environment::Unknown {
        return Vec::new();
    }
    // other environment → (resource or network, calls)
    let mut hits: BTreeMap<Environment, BTreeMap<String, u64>> = BTreeMap::new();
    for e in input.events {
        let mut places: Vec<(Environment, String)> = e
            .resources
            .iter()
            .map(|r| (input.environments.of_resource(r), r.clone()))
            .collect();
        if let Some(ip) = &e.source_ip {
            let network = network_of(ip);
            places.push((
                input.environments.of_network(&network),
                format!("network {network}"),
            ));
        }
        for (env, place) in places {
            if env != Environment::Unknown
                && env != own
                && (env.is_production() || own.is_production())
            {
                *hits.entry(env).or_default().entry(place).or_insert(0) += 1;
            }
        }
    }
    hits.into_iter()
        .map(|(env, places)| {
            let total: u64 = places.values().sum();
            let evidence = vec![
                format!(
                    "This {own} identity made {} touching {env} resources or networks.",
                    plural(total, "call", "calls")
                ),
                format!("Places: {}.", examples(places.keys().map(String::as_str), 5)),
            ];
            make(
                CROSS_ENVIRONMENT,
                format!("{own} identity used across environments ({env})"),
                if env.is_production() { Severity::High } else { Severity::Medium },
                &input.context.id,
                env.as_str(),
                evidence,
                &[Tactic::LateralMovement],
                &[technique!("T1078.004")],
                "Give each environment its own identities and accounts; remove this identity's access to the other environment and check why it was used there.",
            )
        })
        .collect()
}

pub(super) fn dormant_active(input: &Input) -> Vec<Finding> {
    let Some(first) = input.events.first() else {
        return Vec::new();
    };
    let before = [
        input.baseline.last_seen(),
        input.context.last_used.filter(|t| *t < first.time),
    ]
    .into_iter()
    .flatten()
    .max();
    let gap_days = before.map(|t| (first.time - t).num_days());
    let dormant_by_gap = gap_days.is_some_and(|d| d >= input.config.dormant_days);
    let marked = input.context.status == warrant_core::IdentityStatus::Dormant;
    if !dormant_by_gap && !marked {
        return Vec::new();
    }
    let mut evidence = vec![format!(
        "{} in the window, the first at {}.",
        plural(input.events.len() as u64, "call", "calls"),
        when(&first.time)
    )];
    match (before, gap_days) {
        (Some(t), Some(d)) => evidence.push(format!(
            "Before that it was last used at {}, {d} days earlier.",
            when(&t)
        )),
        _ => evidence.push("No earlier use is known.".to_string()),
    }
    if marked {
        evidence.push("The inventory marks the identity dormant.".to_string());
    }
    let actions: BTreeSet<&str> = input.events.iter().map(|e| iam_action(&e.action)).collect();
    evidence.push(format!("Actions: {}.", examples(actions, 5)));
    vec![make(
        DORMANT_ACTIVE,
        "Dormant identity became active".to_string(),
        Severity::Medium,
        &input.context.id,
        &day_label(hour_index(&first.time).div_euclid(24)),
        evidence,
        &[Tactic::InitialAccess, Tactic::Persistence],
        &[technique!("T1078.004")],
        "Confirm with the owner that the identity was meant to come back; if nobody claims it, disable its credentials and decommission it.",
    )]
}

pub(super) fn undeclared_tool(input: &Input) -> Vec<Finding> {
    let Some(declared) = &input.context.declared_tools else {
        return Vec::new();
    };
    let mut calls: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in input.events {
        if let Some(tool) = e.action.strip_prefix("tool:")
            && !declared.contains(tool)
            && !declared.contains(e.action.as_str())
        {
            calls.entry(tool).or_default().push(e);
        }
    }
    calls
        .into_iter()
        .filter_map(|(tool, events)| {
            let first = events.first()?;
            let resources: BTreeSet<&str> = events
                .iter()
                .flat_map(|e| e.resources.iter().map(String::as_str))
                .collect();
            let mut evidence = vec![
                format!(
                    "The agent called tool `{tool}` {}, first at {}.",
                    plural(events.len() as u64, "time", "times"),
                    when(&first.time)
                ),
                format!(
                    "Its declared tools are: {}.",
                    examples(declared.iter().map(String::as_str), 8)
                ),
            ];
            if !resources.is_empty() {
                evidence.push(format!("Touched: {}.", examples(resources, 3)));
            }
            Some(make(
                UNDECLARED_TOOL,
                format!("Agent called an undeclared tool: {tool}"),
                Severity::High,
                &input.context.id,
                tool,
                evidence,
                &[Tactic::Execution],
                &[],
                "Restrict the agent to its declared tools in the MCP client or gateway configuration, and review the prompt or input that led it to the other tool.",
            ))
        })
        .collect()
}

pub(crate) fn shadow_identity(identity: &str, principal: &Principal, events: &[Event]) -> Finding {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    let mut evidence = Vec::new();
    let described = [
        principal.arn.as_deref().map(|a| format!("ARN {a}")),
        principal.name.as_deref().map(|n| format!("name {n}")),
        principal.account.as_deref().map(|a| format!("account {a}")),
        principal
            .credential
            .as_deref()
            .map(|c| format!("credential {c}")),
        principal.kind.map(|k| format!("kind {k:?}")),
    ];
    let described: Vec<String> = described.into_iter().flatten().collect();
    evidence.push(format!(
        "A principal not in the inventory acted: {}.",
        if described.is_empty() {
            "no identifying details".to_string()
        } else {
            described.join(", ")
        }
    ));
    if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
        evidence.push(format!(
            "{} between {} and {}.",
            plural(sorted.len() as u64, "call", "calls"),
            when(&first.time),
            when(&last.time)
        ));
    }
    let mut actions: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &sorted {
        *actions.entry(iam_action(&e.action)).or_insert(0) += 1;
    }
    if !actions.is_empty() {
        let text: Vec<String> = actions.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
        evidence.push(format!(
            "Actions: {}.",
            examples(text.iter().map(String::as_str), 6)
        ));
    }
    let networks: BTreeSet<String> = sorted
        .iter()
        .filter_map(|e| e.source_ip.as_deref().map(network_of))
        .collect();
    if !networks.is_empty() {
        evidence.push(format!(
            "From networks: {}.",
            examples(networks.iter().map(String::as_str), 3)
        ));
    }
    let sensitive_calls = actions.keys().any(|a| sensitive_action(a).is_some());
    make(
        SHADOW_IDENTITY,
        "Activity by an identity missing from the inventory".to_string(),
        if sensitive_calls {
            Severity::High
        } else {
            Severity::Medium
        },
        identity,
        "shadow",
        evidence,
        &[Tactic::InitialAccess, Tactic::Persistence],
        &[technique!("T1078.004")],
        "Find who created and owns this identity; import its account so it is inventoried, or disable it if nobody claims it.",
    )
}
