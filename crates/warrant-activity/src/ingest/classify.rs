//! Who is behind a call, from the principal kind and the user agent.

use crate::event::{Actor, PrincipalKind};

/// A web browser (people) rather than a program.
pub(crate) fn is_browser(ua: &str) -> bool {
    ua.starts_with("Mozilla/") || ua.starts_with("Opera/")
}

/// Tools that drive cloud APIs from scripts and pipelines.
pub(crate) fn is_automation_tool(ua: &str) -> bool {
    const MARKERS: &[&str] = &[
        "aws-cli/",
        "Boto3/",
        "botocore/",
        "aws-sdk-",
        "aws-sdk/",
        "Terraform/",
        "terraform",
        "HashiCorp",
        "pulumi",
        "aws-cdk",
        "ansible",
        "cloudformation",
        "GitHubActions",
        "github-actions",
        "kubectl/",
        "helm/",
        "argocd",
        "flux",
        "GitHub-Hookshot",
        "octokit",
        "gh/",
        "curl/",
        "python-requests",
        "Go-http-client",
    ];
    MARKERS.iter().any(|m| ua.contains(m))
}

/// A workload running on AWS compute (Lambda, ECS, EC2 instance profiles) uses its own role.
fn is_workload(ua: &str, session: Option<&str>) -> bool {
    ua.contains("exec-env/AWS_Lambda")
        || ua.contains("exec-env/AWS_ECS")
        || session.is_some_and(is_instance_id)
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-")
        .is_some_and(|h| (8..=17).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What a user agent alone says about the caller; computed once per distinct agent and cached
/// per file, since a log repeats a few agents across thousands of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserAgentClass {
    pub browser: bool,
    /// Runs on AWS compute (Lambda, ECS).
    pub workload: bool,
    pub automation: bool,
}

impl UserAgentClass {
    pub fn of(ua: &str) -> UserAgentClass {
        let browser = is_browser(ua);
        UserAgentClass {
            browser,
            workload: !browser && is_workload(ua, None),
            automation: !browser && is_automation_tool(ua),
        }
    }
}

/// Actor of an AWS call (the parsers classify user agents once per file and call
/// [`aws_actor_classified`]).
#[cfg(test)]
pub(crate) fn aws_actor(
    kind: PrincipalKind,
    user_agent: Option<&str>,
    session: Option<&str>,
    console: bool,
) -> Actor {
    aws_actor_classified(
        kind,
        UserAgentClass::of(user_agent.unwrap_or("")),
        session,
        console,
    )
}

/// [`aws_actor`] with the user agent already classified.
pub(crate) fn aws_actor_classified(
    kind: PrincipalKind,
    ua: UserAgentClass,
    session: Option<&str>,
    console: bool,
) -> Actor {
    if kind == PrincipalKind::AwsService {
        return Actor::Application;
    }
    if console || ua.browser {
        return Actor::Human;
    }
    if ua.workload || session.is_some_and(is_instance_id) {
        return Actor::Application;
    }
    if ua.automation || session.is_some_and(|s| s.contains("GitHubActions")) {
        return Actor::Automation;
    }
    Actor::Unknown
}

/// Actor of a Kubernetes API request.
pub(crate) fn k8s_actor(kind: PrincipalKind, name: &str, user_agent: Option<&str>) -> Actor {
    let ua = user_agent.unwrap_or("");
    if is_browser(ua) {
        return Actor::Human;
    }
    match kind {
        PrincipalKind::KubernetesServiceAccount => {
            if ua.starts_with("kubectl/") || ua.starts_with("helm/") {
                // A workload's token used from a CLI: a script or a person borrowing it.
                Actor::Automation
            } else {
                Actor::Application
            }
        }
        _ if name.starts_with("system:") => Actor::Application,
        _ if is_automation_tool(ua) && !ua.starts_with("kubectl/") => Actor::Automation,
        _ => Actor::Human,
    }
}

/// Actor of a GitHub audit-log entry.
pub(crate) fn github_actor(
    kind: PrincipalKind,
    actor: &str,
    user_agent: Option<&str>,
    programmatic: Option<&str>,
) -> Actor {
    if actor == "github-actions[bot]" || actor == "dependabot[bot]" {
        return Actor::Automation;
    }
    match kind {
        PrincipalKind::GitHubApp => Actor::Application,
        PrincipalKind::GitHubToken => {
            if user_agent.is_some_and(is_browser) {
                Actor::Human
            } else {
                Actor::Automation
            }
        }
        _ => {
            if programmatic.is_some() || user_agent.is_some_and(is_automation_tool) {
                Actor::Automation
            } else {
                Actor::Human
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_user_agents() {
        let k = PrincipalKind::AwsUser;
        assert_eq!(
            aws_actor(k, Some("aws-cli/2.13.0 Python/3.11"), None, false),
            Actor::Automation
        );
        assert_eq!(
            aws_actor(k, Some("Boto3/1.28.0 md/Botocore#1.31.0"), None, false),
            Actor::Automation
        );
        assert_eq!(
            aws_actor(
                k,
                Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"),
                None,
                false
            ),
            Actor::Human
        );
        assert_eq!(aws_actor(k, Some("AWS Internal"), None, true), Actor::Human);
        assert_eq!(
            aws_actor(
                PrincipalKind::AwsAssumedRole,
                Some("aws-sdk-java/1.12"),
                Some("i-0abc12345def67890"),
                false
            ),
            Actor::Application
        );
        assert_eq!(
            aws_actor(
                PrincipalKind::AwsAssumedRole,
                Some("aws-sdk-go/1.44 exec-env/AWS_Lambda_go1.x"),
                Some("fn"),
                false
            ),
            Actor::Application
        );
        assert_eq!(
            aws_actor(PrincipalKind::AwsService, None, None, false),
            Actor::Application
        );
        assert_eq!(
            aws_actor(k, Some("stratus-red-team_abc"), None, false),
            Actor::Unknown
        );
    }
}
