//! What a baseline keys events by: hours, networks, client families and IAM actions.

use super::*;

/// Hours since the Unix epoch.
pub fn hour_index(time: &Timestamp) -> i64 {
    time.timestamp().div_euclid(3600)
}

/// Hour of the week, 0 = Monday 00:00–00:59 UTC.
pub fn hour_of_week(time: &Timestamp) -> usize {
    time.weekday().num_days_from_monday() as usize * 24 + time.hour() as usize
}

/// The network an address belongs to: `/24` for IPv4, `/48` for IPv6, `cloud-service` for calls
/// AWS makes on a principal's behalf (`ec2.amazonaws.com`, `AWS Internal`), else the text itself.
pub fn network_of(source: &str) -> String {
    let source = source.trim();
    // CloudTrail pads some addresses with leading zeros ("075.050.255.67").
    let cleaned: String = if source.contains('.') && !source.contains(':') {
        source
            .split('.')
            .map(|part| {
                let t = part.trim_start_matches('0');
                if t.is_empty() { "0" } else { t }
            })
            .collect::<Vec<_>>()
            .join(".")
    } else {
        source.to_string()
    };
    match cleaned.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        Err(_) => {
            let lower = source.to_ascii_lowercase();
            if lower.ends_with(".amazonaws.com") || lower == "aws internal" {
                "cloud-service".to_string()
            } else {
                lower
            }
        }
    }
}

/// A user agent's family without versions: `aws-cli`, `boto3`, `aws-sdk-go-v2`, `terraform`,
/// `browser`, `console`…
pub fn user_agent_family(user_agent: &str) -> String {
    let lower = user_agent.trim().to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("terraform") {
        return "terraform".into();
    }
    if lower.starts_with("mozilla/") || has("chrome/") || has("safari/") || has("firefox/") {
        return "browser".into();
    }
    if has("console.amazonaws.com") || has("console.aws") || has("s3console") {
        return "console".into();
    }
    if lower.ends_with(".amazonaws.com") || lower == "aws internal" {
        return "cloud-service".into();
    }
    let first = lower
        .trim_start_matches(['[', '('])
        .split(['/', ' ', '_', ',', ']'])
        .find(|t| !t.is_empty())
        .unwrap_or("");
    if first.is_empty() {
        "unknown".into()
    } else {
        first.to_string()
    }
}

/// The IAM action for an event's action: strips the API version suffix some services put in
/// CloudTrail event names (`lambda:UpdateFunctionCode20150331v2` → `lambda:UpdateFunctionCode`).
pub fn iam_action(action: &str) -> &str {
    let Some((service, name)) = action.split_once(':') else {
        return action;
    };
    let bytes = name.as_bytes();
    // Find a run of 8 digits starting 19/20 followed only by an optional `vN`.
    // The digits are ASCII, so both `get`s below are on character boundaries.
    for (start, digits) in bytes.windows(8).enumerate().skip(1) {
        if digits.iter().all(u8::is_ascii_digit)
            && matches!(digits.first(), Some(b'1' | b'2'))
            && let Some(rest) = name.get(start + 8..)
        {
            let version_ok = rest.is_empty()
                || rest
                    .strip_prefix('v')
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
            if version_ok && let Some(stripped) = action.get(..service.len() + 1 + start) {
                return stripped;
            }
        }
    }
    action
}
