//! Credential theft and misuse that one event (or one session) shows, with no history:
//! instance credentials used from outside the cloud, keys validated by offensive tooling,
//! keys turned into console sessions, one role session used from two networks at once.
//!
//! Instance credentials "outside": without the provider's address ranges offline, a public
//! source address alone cannot tell an attacker from the instance's own NAT or public address
//! (both are public, both are AWS's). So a public address counts as outside only when
//! `cloud_networks` lists the provider's or organisation's ranges and the address is in none
//! of them, or when the call itself shows it does not come from the instance: a desktop
//! operating system (macOS) or an offensive tool in the user agent. Calls through a VPC
//! endpoint and addresses of networks the configuration assigns to an environment are inside.
//! The session rule catches the rest when the instance keeps working: its credentials then
//! appear from two public networks at once.

use std::net::IpAddr;

use super::*;

/// A public, routable address (not private, loopback, link-local, shared or unique-local).
pub(crate) fn public_ip(source: &str) -> Option<IpAddr> {
    let ip: IpAddr = source.trim().parse().ok()?;
    let public = match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    };
    public.then_some(ip)
}

/// Whether `ip` lies in the CIDR `network` (`a.b.c.d/n` or an IPv6 prefix).
fn in_cidr(ip: IpAddr, network: &str) -> bool {
    let (base, bits) = match network.split_once('/') {
        Some((base, bits)) => (base, bits.parse::<u32>().ok()),
        None => (network, None),
    };
    let Ok(base) = base.trim().parse::<IpAddr>() else {
        return false;
    };
    match (ip, base) {
        (IpAddr::V4(ip), IpAddr::V4(base)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            (u32::from(ip) & mask) == (u32::from(base) & mask)
        }
        (IpAddr::V6(ip), IpAddr::V6(base)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            (u128::from(ip) & mask) == (u128::from(base) & mask)
        }
        _ => false,
    }
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-")
        .is_some_and(|h| (8..=17).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Credentials an EC2 instance's metadata service delivered.
fn instance_credentials(event: &Event) -> bool {
    event.facts.get("session.ec2_role_delivery").is_some()
        || event
            .principal
            .session
            .as_deref()
            .is_some_and(is_instance_id)
}

/// A user agent no EC2 instance's software sends: a desktop operating system.
fn desktop_client(user_agent: &str) -> bool {
    let lower = user_agent.to_ascii_lowercase();
    lower.contains("darwin/") || lower.contains("os/macos") || lower.contains("macintosh")
}

/// Credential-access findings that need no history.
pub(super) fn theft(input: &Input) -> Vec<Finding> {
    if input.changes {
        return Vec::new();
    }
    let mut findings = Vec::new();
    findings.extend(instance_credentials_outside(input));
    findings.extend(offensive_tooling(input));
    findings.extend(console_from_keys(input));
    findings
}

fn instance_credentials_outside(input: &Input) -> Vec<Finding> {
    let config = input.config;
    // Session → (events, why).
    let mut outside: BTreeMap<String, (Vec<&Event>, BTreeSet<String>)> = BTreeMap::new();
    for event in input.events.iter().copied() {
        // Calls through a VPC endpoint come from a private address, which `public_ip` refuses.
        if !instance_credentials(event) {
            continue;
        }
        let Some(source) = event.source_ip.as_deref() else {
            continue;
        };
        let Some(ip) = public_ip(source) else {
            continue;
        };
        if input
            .environments
            .networks
            .contains_key(&network_of(source))
        {
            continue;
        }
        let agent = event.user_agent.as_deref().unwrap_or("");
        let mut why = None;
        if !config.cloud_networks.is_empty()
            && !config.cloud_networks.iter().any(|n| in_cidr(ip, n))
        {
            why = Some(format!(
                "{source} is outside the cloud networks the configuration lists"
            ));
        } else if let Some(tool) = config.offensive_tool(agent) {
            why = Some(format!("the client names the offensive tool `{tool}`"));
        } else if desktop_client(agent) {
            why = Some("the client runs on a desktop operating system (macOS)".to_string());
        }
        if let Some(why) = why {
            let session = event
                .principal
                .session
                .clone()
                .or_else(|| event.principal.credential.clone())
                .unwrap_or_default();
            let slot = outside.entry(session).or_default();
            slot.0.push(event);
            slot.1.insert(why);
        }
    }
    let mut findings = Vec::new();
    for (session, (events, why)) in outside {
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        let sources: BTreeSet<&str> = events
            .iter()
            .filter_map(|e| e.source_ip.as_deref())
            .collect();
        let actions: BTreeSet<&str> = events.iter().map(|e| iam_action(&e.action)).collect();
        let evidence = vec![
            format!(
                "Credentials an EC2 instance received from its metadata service (session {session}) were used {} from {} between {} and {}.",
                plural(events.len() as u64, "time", "times"),
                examples(sources, 3),
                when(&first.time),
                when(&last.time),
            ),
            format!(
                "They count as used outside the instance because {}.",
                examples(why.iter().map(String::as_str), 3)
            ),
            format!("Actions: {}.", examples(actions, 5)),
        ];
        findings.push(make(
            CREDENTIAL_ACCESS,
            "Instance credentials used outside the cloud".to_string(),
            Severity::High,
            &input.context.id,
            &format!("instance-outside:{session}"),
            evidence,
            &[Tactic::CredentialAccess, Tactic::InitialAccess],
            &[technique!("T1552.005"), technique!("T1078.004")],
            "Revoke the role's active sessions (an explicit deny on tokens issued before now), find how the instance's credentials left it (SSRF, a compromised process, IMDSv1), require IMDSv2 with a hop limit of 1, and review what the calls did.",
        ));
    }
    findings
}

fn offensive_tooling(input: &Input) -> Vec<Finding> {
    let mut by_tool: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for event in input.events.iter().copied() {
        if let Some(tool) = event
            .user_agent
            .as_deref()
            .and_then(|ua| input.config.offensive_tool(ua))
        {
            by_tool.entry(tool.to_string()).or_default().push(event);
        }
    }
    let mut findings = Vec::new();
    for (tool, events) in by_tool {
        let Some(first) = events.first() else {
            continue;
        };
        let validated = events
            .iter()
            .any(|e| iam_action(&e.action).eq_ignore_ascii_case("sts:GetCallerIdentity"));
        let actions: BTreeSet<&str> = events.iter().map(|e| iam_action(&e.action)).collect();
        let mut evidence = vec![format!(
            "{} came from a client naming the offensive tool `{tool}` ({}), first at {}.",
            plural(events.len() as u64, "call", "calls"),
            first.user_agent.as_deref().unwrap_or(""),
            when(&first.time),
        )];
        if validated {
            evidence.push(
                "sts:GetCallerIdentity tells whoever holds a key whether it works and whose it is: the first call made with a stolen key."
                    .to_string(),
            );
        }
        evidence.push(format!("Actions: {}.", examples(actions, 5)));
        let mut techniques = vec![technique!("T1078.004")];
        if validated {
            techniques.push(technique!("T1087.004"));
        }
        findings.push(make(
            CREDENTIAL_ACCESS,
            format!("Credential used by offensive tooling: {tool}"),
            Severity::High,
            &input.context.id,
            &format!("tool:{tool}"),
            evidence,
            &[Tactic::CredentialAccess, Tactic::Discovery],
            &techniques,
            "Treat the credential as stolen: deactivate or rotate it, revoke its sessions, and review everything it did since it was last known to be safe.",
        ));
    }
    findings
}

/// `GetSigninToken` made by a program: a key or role session turned into a console session
/// through the federation endpoint, which is how stolen keys reach the console.
fn console_from_keys(input: &Input) -> Vec<Finding> {
    let events: Vec<&Event> = input
        .events
        .iter()
        .copied()
        .filter(|e| e.action.eq_ignore_ascii_case("signin:GetSigninToken"))
        .filter(|e| e.actor != Actor::Human && !e.console)
        .collect();
    let Some(first) = events.first() else {
        return Vec::new();
    };
    let agents: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.user_agent.as_deref())
        .collect();
    let evidence = vec![
        format!(
            "signin:GetSigninToken was called {} by a program (clients {}), first at {}: the credential's session was turned into an AWS console sign-in link.",
            plural(events.len() as u64, "time", "times"),
            examples(agents, 2),
            when(&first.time),
        ),
        "A machine identity has no use for the console; tools that exploit stolen keys do exactly this.".to_string(),
    ];
    vec![make(
        CREDENTIAL_ACCESS,
        "Credential turned into a console session".to_string(),
        Severity::High,
        &input.context.id,
        "console-from-keys",
        evidence,
        &[Tactic::DefenseEvasion, Tactic::LateralMovement],
        &[technique!("T1550.001")],
        "Find who requested the sign-in link; if nobody owns it, revoke the session and the key it came from, and deny sts:GetFederationToken to identities that do not broker console access.",
    )]
}

/// One role session's credentials (`ASIA…`) used from two public networks within
/// `session_networks_minutes`: a session lives on one machine, so a second network means a
/// copy of its credentials. Lambda functions and calls from private addresses (VPC endpoints)
/// are left out.
pub(super) fn session_two_networks(input: &Input) -> Vec<Finding> {
    if input.changes {
        return Vec::new();
    }
    let window = Duration::minutes(input.config.session_networks_minutes.max(0));
    let mut by_session: BTreeMap<&str, Vec<(&Event, String)>> = BTreeMap::new();
    for event in input.events.iter().copied() {
        let Some(credential) = event.principal.credential.as_deref() else {
            continue;
        };
        if !credential.starts_with("ASIA") {
            continue;
        }
        if event
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.contains("exec-env/AWS_Lambda"))
        {
            continue;
        }
        let Some(source) = event.source_ip.as_deref() else {
            continue;
        };
        if public_ip(source).is_none() {
            continue;
        }
        by_session
            .entry(credential)
            .or_default()
            .push((event, network_of(source)));
    }
    let mut findings = Vec::new();
    for (credential, uses) in by_session {
        // Events are in time order: compare each use with the latest use from another network.
        let mut pair = None;
        let mut last_by_network: BTreeMap<&str, &Event> = BTreeMap::new();
        for (event, network) in &uses {
            if let Some((other, earlier)) = last_by_network
                .iter()
                .filter(|(n, _)| **n != network.as_str())
                .max_by_key(|(_, e)| e.time)
                && event.time - earlier.time <= window
            {
                pair = Some(((*other).to_string(), *earlier, network.clone(), *event));
                break;
            }
            last_by_network.insert(network.as_str(), event);
        }
        let Some((first_network, first, second_network, second)) = pair else {
            continue;
        };
        let mut evidence = vec![format!(
            "Session credentials {credential} were used from {} at {} and from {} at {}, {} minute(s) apart.",
            first_network,
            when(&first.time),
            second_network,
            when(&second.time),
            (second.time - first.time).num_minutes(),
        )];
        if instance_credentials(first) || instance_credentials(second) {
            evidence.push(
                "They are an EC2 instance's credentials: one of the two networks is not the instance."
                    .to_string(),
            );
        }
        evidence.push(
            "A role session lives on the machine that assumed the role; a second network at the same time means its credentials were copied."
                .to_string(),
        );
        findings.push(make(
            CREDENTIAL_REUSE,
            "One role session used from two networks at once".to_string(),
            Severity::High,
            &input.context.id,
            &format!("session:{credential}"),
            evidence,
            &[Tactic::InitialAccess, Tactic::DefenseEvasion],
            &[technique!("T1078.004")],
            "Revoke the role's sessions issued before now, find which of the two networks is not the workload, and look for how its credentials leaked (SSRF to the metadata service, logs, a compromised host).",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_addresses_and_cidrs() {
        assert!(public_ip("203.0.113.9").is_some());
        assert!(public_ip("10.1.2.3").is_none());
        assert!(public_ip("100.64.0.1").is_none());
        assert!(public_ip("ec2.amazonaws.com").is_none());
        assert!(public_ip("AWS Internal").is_none());
        assert!(public_ip("fd00::1").is_none());
        assert!(public_ip("2001:db8::1").is_some());
        let ip = public_ip("52.95.110.4").unwrap();
        assert!(in_cidr(ip, "52.94.0.0/15"));
        assert!(!in_cidr(ip, "52.96.0.0/16"));
        assert!(in_cidr(ip, "0.0.0.0/0"));
    }
}
