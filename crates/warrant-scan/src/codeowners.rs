//! Who owns the code that uses an identity: a repository's CODEOWNERS file, and the AWS roles
//! its GitHub Actions workflows assume.
//!
//! GitHub reads the first of `.github/CODEOWNERS`, `CODEOWNERS` and `docs/CODEOWNERS`; each line
//! is a pattern (gitignore syntax, without `!` negation or `[ ]` ranges) followed by owners
//! (`@user`, `@org/team` or an email), and the *last* matching line decides a path's owners.
//! A line with a pattern and no owners leaves its paths unowned.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use regex::Regex;
use warrant_input::InputError;

/// Where GitHub looks, in its order.
const LOCATIONS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// GitHub ignores CODEOWNERS files larger than this; so do we.
const MAX_BYTES: u64 = 3 << 20;

/// Workflow files larger than this are not read for roles (no workflow is this large).
const MAX_WORKFLOW_BYTES: u64 = 1 << 20;

/// One owned pattern.
struct Entry {
    line: usize,
    pattern: String,
    matcher: Gitignore,
    /// `dir/*`: only files directly in `dir`, not deeper (unlike gitignore).
    direct_only: bool,
    owners: Vec<String>,
}

/// A parsed CODEOWNERS file.
pub struct Codeowners {
    /// The file's path relative to the repository root (`.github/CODEOWNERS`).
    pub file: String,
    entries: Vec<Entry>,
    /// Lines that could not be read, with why (1-based line numbers).
    pub problems: Vec<(usize, String)>,
}

impl fmt::Debug for Codeowners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codeowners")
            .field("file", &self.file)
            .field("entries", &self.entries.len())
            .field("problems", &self.problems)
            .finish()
    }
}

/// The owners a CODEOWNERS line gives a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned<'a> {
    /// 1-based line of the deciding entry.
    pub line: usize,
    pub pattern: &'a str,
    /// Empty when the entry leaves the path unowned.
    pub owners: &'a [String],
}

fn is_owner(token: &str) -> bool {
    (token.starts_with('@') && token.len() > 1) || (token.contains('@') && token.contains('.'))
}

impl Codeowners {
    /// Parses `text` as the CODEOWNERS file `file`. Lines that are not entries are listed in
    /// `problems` and otherwise skipped, as GitHub does.
    pub fn parse(file: &str, text: &str) -> Codeowners {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = n + 1;
            // `\#` escapes a pattern starting with `#`; any other `#` starts a comment.
            let content = match raw.find(" #").or_else(|| raw.find("\t#")) {
                Some(at) => &raw[..at],
                None => raw,
            };
            let content = content.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let mut tokens = content.split_whitespace();
            let Some(pattern) = tokens.next() else {
                continue;
            };
            let mut owners = Vec::new();
            let mut bad = None;
            for token in tokens {
                if is_owner(token) {
                    owners.push(token.to_string());
                } else {
                    bad = Some(format!(
                        "`{token}` is not an owner (@user, @org/team or email)"
                    ));
                    break;
                }
            }
            if let Some(why) = bad {
                problems.push((line, why));
                continue;
            }
            if pattern.starts_with('!') || pattern.contains('[') {
                problems.push((
                    line,
                    format!("`{pattern}`: CODEOWNERS patterns cannot negate or use [ ] ranges"),
                ));
                continue;
            }
            let mut builder = GitignoreBuilder::new("");
            let matcher = builder
                .add_line(None, pattern)
                .map_err(|e| e.to_string())
                .and_then(|b| b.build().map_err(|e| e.to_string()));
            match matcher {
                Ok(matcher) => entries.push(Entry {
                    line,
                    pattern: pattern.to_string(),
                    direct_only: pattern.ends_with("/*"),
                    matcher,
                    owners,
                }),
                Err(e) => problems.push((line, format!("`{pattern}`: {e}"))),
            }
        }
        Codeowners {
            file: file.to_string(),
            entries,
            problems,
        }
    }

    /// The entry that decides `path` (relative to the repository root, `/`-separated): the
    /// last one that matches.
    pub fn owners_of(&self, path: &str) -> Option<Owned<'_>> {
        let path = path.trim_start_matches("./").trim_start_matches('/');
        if path.is_empty() {
            return None;
        }
        self.entries.iter().rev().find_map(|e| {
            let hit = if e.direct_only {
                e.matcher.matched(path, false).is_ignore()
            } else {
                e.matcher
                    .matched_path_or_any_parents(path, false)
                    .is_ignore()
            };
            hit.then_some(Owned {
                line: e.line,
                pattern: &e.pattern,
                owners: &e.owners,
            })
        })
    }

    /// The repository's CODEOWNERS file, read from where GitHub looks. `None` when there is
    /// none (or it is larger than GitHub reads).
    pub fn find(root: &Path) -> Result<Option<Codeowners>, InputError> {
        for location in LOCATIONS {
            let path = root.join(location);
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_BYTES {
                continue;
            }
            let text = read_text(&path, MAX_BYTES)?;
            return Ok(Some(Codeowners::parse(location, &text)));
        }
        Ok(None)
    }
}

fn read_text(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = warrant_input::read_file(path, limit)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// An AWS role a workflow assumes (`aws-actions/configure-aws-credentials`' `role-to-assume`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRole {
    /// The workflow file, relative to the repository root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    pub role_arn: String,
}

static ROLE_TO_ASSUME: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // a constant pattern, checked by the tests
    Regex::new(
        r#"^\s*-?\s*role-to-assume\s*:\s*["']?(arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+)"#,
    )
    .expect("valid pattern")
});

/// The roles a repository's GitHub Actions workflows assume by ARN (an ARN behind a variable or
/// secret cannot be read here).
pub fn workflow_roles(root: &Path) -> Vec<WorkflowRole> {
    let dir = root.join(".github").join("workflows");
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yml" || x == "yaml")
                && std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() <= MAX_WORKFLOW_BYTES)
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let Ok(text) = read_text(&path, MAX_WORKFLOW_BYTES) else {
            continue;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if let Some(arn) = ROLE_TO_ASSUME.captures(line).and_then(|c| c.get(1)) {
                out.push(WorkflowRole {
                    file: format!(".github/workflows/{name}"),
                    line: n + 1,
                    role_arn: arn.as_str().trim_end_matches(['"', '\'']).to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# Platform owns everything unless a later line says otherwise.
*                       @acme/platform
/deploy/                @acme/sre ops-lead@acme.example   # production rollout
*.tf                    @acme/infra
docs/*                  @acme/writers
/services/billing/**    @erin-fox
/services/billing/vendored/
\\#notes                @acme/odd
!secret.env             @acme/nobody
config/ team-without-at
";

    fn owners(c: &Codeowners, path: &str) -> (usize, Vec<String>) {
        let o = c.owners_of(path).unwrap();
        (o.line, o.owners.to_vec())
    }

    #[test]
    fn the_last_matching_line_decides() {
        let c = Codeowners::parse(".github/CODEOWNERS", FILE);
        assert_eq!(owners(&c, "README.md"), (2, vec!["@acme/platform".into()]));
        assert_eq!(
            owners(&c, "deploy/prod/values.yaml"),
            (3, vec!["@acme/sre".into(), "ops-lead@acme.example".into()])
        );
        assert_eq!(
            owners(&c, "deploy/main.tf").1,
            vec!["@acme/infra".to_string()]
        );
        assert_eq!(owners(&c, "modules/vpc/main.tf").0, 4);
        // `docs/*` covers files directly in docs, not deeper (GitHub's reading).
        assert_eq!(owners(&c, "docs/index.md").0, 5);
        assert_eq!(owners(&c, "docs/api/intro.md").0, 2);
        assert_eq!(owners(&c, "services/billing/src/lib.rs").0, 6);
        // A pattern without owners leaves its paths unowned.
        let vendored = c.owners_of("services/billing/vendored/x.py").unwrap();
        assert!(vendored.owners.is_empty());
        assert_eq!(vendored.line, 7);
    }

    #[test]
    fn lines_github_would_reject_are_reported_with_their_number() {
        let c = Codeowners::parse("CODEOWNERS", FILE);
        let lines: Vec<usize> = c.problems.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![9, 10]);
        assert!(c.problems[1].1.contains("team-without-at"));
        assert!(Codeowners::parse("CODEOWNERS", "").owners_of("a").is_none());
    }

    #[test]
    fn found_where_github_looks_and_workflow_roles_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/CODEOWNERS"), "* @acme/docs\n").unwrap();
        assert_eq!(
            Codeowners::find(dir.path()).unwrap().unwrap().file,
            "docs/CODEOWNERS"
        );
        std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        std::fs::write(dir.path().join(".github/CODEOWNERS"), "* @acme/first\n").unwrap();
        assert_eq!(
            Codeowners::find(dir.path()).unwrap().unwrap().file,
            ".github/CODEOWNERS"
        );
        std::fs::write(
            dir.path().join(".github/workflows/deploy.yml"),
            "jobs:\n  deploy:\n    steps:\n      - uses: aws-actions/configure-aws-credentials@v4\n        with:\n          role-to-assume: \"arn:aws:iam::111111111111:role/gha-deploy\"\n          aws-region: us-east-1\n      - with:\n          role-to-assume: ${{ secrets.ROLE }}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(".github/workflows/notes.txt"),
            "role-to-assume: arn:aws:iam::111111111111:role/x\n",
        )
        .unwrap();
        let roles = workflow_roles(dir.path());
        assert_eq!(
            roles,
            vec![WorkflowRole {
                file: ".github/workflows/deploy.yml".into(),
                line: 6,
                role_arn: "arn:aws:iam::111111111111:role/gha-deploy".into(),
            }]
        );
        assert!(workflow_roles(&dir.path().join("missing")).is_empty());
    }
}
