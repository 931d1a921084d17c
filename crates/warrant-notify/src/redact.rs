//! URLs as errors and logs show them: webhook URLs are often credentials themselves.

use url::Url;

use crate::config::TargetKind;

/// `scheme://host[:port]/path`, without the credentials, the query (shown as `?…`) or the
/// fragment. A Slack incoming webhook's path *is* its secret
/// (`/services/T…/B…/<token>`), so for Slack only the first segment is kept
/// (`https://hooks.slack.com/services/…`).
pub(crate) fn display_url(url: &Url, kind: TargetKind) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    let path = url.path();
    match kind {
        TargetKind::Slack => {
            let mut segments = path.trim_start_matches('/').splitn(2, '/');
            let first = segments.next().unwrap_or("");
            let more = segments.next().is_some_and(|rest| !rest.is_empty());
            shown.push('/');
            shown.push_str(first);
            if more {
                shown.push_str("/…");
            }
        }
        TargetKind::Webhook | TargetKind::Jira => shown.push_str(path),
    }
    if url.query().is_some() {
        shown.push_str("?…");
    }
    shown
}

/// `message` with every occurrence of each secret replaced by `…`: a last line of defence for
/// error texts that come from the HTTP stack.
pub(crate) fn scrub(message: &str, secrets: &[String]) -> String {
    let mut message = message.to_string();
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        message = message.replace(secret.as_str(), "…");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str, kind: TargetKind) -> String {
        display_url(&Url::parse(url).unwrap(), kind)
    }

    #[test]
    fn urls_lose_credentials_queries_and_slack_paths() {
        assert_eq!(
            shown(
                "https://bot:s3cret@hooks.example.com:8443/in/warrant?token=abc#x",
                TargetKind::Webhook
            ),
            "https://hooks.example.com:8443/in/warrant?…"
        );
        assert_eq!(
            shown(
                "https://hooks.slack.com/services/T0EXAMPLE/B0EXAMPLE/example-webhook-path",
                TargetKind::Slack
            ),
            "https://hooks.slack.com/services/…"
        );
        assert_eq!(
            shown("https://example.atlassian.net", TargetKind::Jira),
            "https://example.atlassian.net/"
        );
    }

    #[test]
    fn scrub_removes_every_secret() {
        let secrets = vec!["token=abc".to_string(), String::new()];
        assert_eq!(
            scrub("GET /x?token=abc failed; token=abc", &secrets),
            "GET /x?… failed; …"
        );
    }
}
