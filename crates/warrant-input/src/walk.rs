//! The one directory walk behind `import`, `ingest` and `scan`.
//!
//! Every command that takes a directory walks it with the same rules: `.git` directories are
//! never entered (history is read through git, not as files), symbolic links inside the tree are
//! reported and not followed unless asked (a link given as a root is always followed), a link that
//! points back to one of its own ancestors is reported as a loop instead of being walked forever,
//! depth and the number of entries are bounded, and every entry that cannot be read is reported
//! with its path. What a command then does with a file (sniff a format, skip digests) is its own.
//!
//! The walk is the `ignore` crate's, configured here once: [`builder`] for a caller that runs it
//! in parallel with extra settings (the scanner adds `.gitignore` handling), [`collect_files`] for
//! the sorted list of files the importers use.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

/// How deep a walk goes below each root by default: far deeper than any real export tree, and
/// shallow enough that a maliciously nested one ends quickly.
pub const DEFAULT_MAX_DEPTH: usize = 256;
/// How many entries a walk visits by default before it stops and says so.
pub const DEFAULT_MAX_ENTRIES: u64 = 5_000_000;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Follow symbolic links inside the tree (loops are still detected and reported).
    pub follow_symlinks: bool,
    pub max_depth: usize,
    pub max_entries: u64,
    /// Directory names not descended into below a root (a root itself is always walked).
    pub prune: &'static [&'static str],
    /// Pass over entries whose name starts with a dot below a root (logs and exports are never
    /// hidden; `.DS_Store` and editor droppings are not input). The scanner reads them: `.env`
    /// files are where secrets leak.
    pub skip_hidden: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            follow_symlinks: false,
            max_depth: DEFAULT_MAX_DEPTH,
            max_entries: DEFAULT_MAX_ENTRIES,
            prune: &[],
            skip_hidden: false,
        }
    }
}

/// Something the walk passed over, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub reason: String,
    /// Input that should have been read and could not be (a permission, an I/O error, a limit
    /// reached): an error for the command's exit code. `false` for what the rules pass over on
    /// purpose (a link not followed, a loop, a device).
    pub unreadable: bool,
}

/// What a walk found: regular files, sorted and without duplicates, and what it passed over.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    /// Unreadable entries, link loops, links not followed, limits reached.
    pub problems: Vec<WalkProblem>,
}

/// A walk over `roots` with the shared rules, not yet run; `None` without roots.
pub fn builder(roots: &[PathBuf], options: &WalkOptions) -> Option<WalkBuilder> {
    let (first, rest) = roots.split_first()?;
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    let prune = options.prune;
    let skip_hidden = options.skip_hidden;
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(options.follow_symlinks)
        .max_depth(Some(options.max_depth))
        .filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            let name = e.file_name();
            if name == ".git" {
                return false;
            }
            if skip_hidden && name.as_encoded_bytes().starts_with(b".") {
                return false;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            !(is_dir && prune.iter().any(|p| name == *p))
        });
    Some(builder)
}

/// A cycle of links has no content: passing over it loses nothing, so it is not an input error.
fn nothing_to_read(e: &std::io::Error) -> bool {
    // ELOOP: 40 on Linux, 62 on macOS and the BSDs.
    let eloop = if cfg!(target_os = "linux") { 40 } else { 62 };
    e.raw_os_error() == Some(eloop)
}

/// Whether `path` is a link whose target does not exist (no content to lose), unlike a named
/// path that does not exist (an input error).
fn dangling_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// The path a walk error is about (empty when it names none) and the reason, for reporting.
pub fn describe(err: &ignore::Error) -> WalkProblem {
    match err {
        ignore::Error::Loop { ancestor, child } => WalkProblem {
            path: child.clone(),
            reason: format!(
                "symbolic link loop: {} points back to its ancestor {}; not followed",
                child.display(),
                ancestor.display()
            ),
            unreadable: false,
        },
        ignore::Error::WithPath { path, err } => {
            let mut inner = describe(err);
            if inner.unreadable && dangling_link(path) {
                inner.unreadable = false;
            }
            if inner.path.as_os_str().is_empty() {
                WalkProblem {
                    path: path.clone(),
                    ..inner
                }
            } else {
                inner
            }
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe(err)
        }
        ignore::Error::Partial(errs) => match errs.first() {
            Some(e) => describe(e),
            None => WalkProblem {
                path: PathBuf::new(),
                reason: err.to_string(),
                unreadable: true,
            },
        },
        ignore::Error::Io(e) => WalkProblem {
            path: PathBuf::new(),
            reason: format!("cannot read: {e}"),
            unreadable: !nothing_to_read(e),
        },
        other => WalkProblem {
            path: PathBuf::new(),
            reason: other.to_string(),
            unreadable: true,
        },
    }
}

/// The problem for a symbolic link that was not followed.
pub fn symlink_not_followed(path: &Path) -> WalkProblem {
    WalkProblem {
        path: path.to_path_buf(),
        reason: "symbolic link not followed".to_string(),
        unreadable: false,
    }
}

/// The problem for a directory at the depth limit, which the walk lists but does not enter:
/// input that was not read, so an error for the command's exit code.
pub fn too_deep(path: &Path, max_depth: usize) -> WalkProblem {
    WalkProblem {
        path: path.to_path_buf(),
        reason: format!("not entered: nested deeper than the walk's limit of {max_depth} levels"),
        unreadable: true,
    }
}

/// The problem for an entry that is not a regular file, directory or link (a device never ends
/// and a FIFO may never start: neither is read).
pub fn not_regular(path: &Path) -> WalkProblem {
    WalkProblem {
        path: path.to_path_buf(),
        reason: "not a regular file (device, FIFO or socket); not read".to_string(),
        unreadable: false,
    }
}

/// Every regular file under `roots` (a root that is a file is itself listed), sorted, with what
/// was passed over. Serial: the callers read the files in parallel afterwards.
pub fn collect_files(roots: &[PathBuf], options: &WalkOptions) -> Walked {
    let mut walked = Walked::default();
    let Some(builder) = builder(roots, options) else {
        return walked;
    };
    let mut entries: u64 = 0;
    for result in builder.build() {
        entries += 1;
        if entries > options.max_entries {
            walked.problems.push(WalkProblem {
                path: roots.first().cloned().unwrap_or_default(),
                reason: format!(
                    "stopped after {} entries (the walk's limit); the rest was not read",
                    options.max_entries
                ),
                unreadable: true,
            });
            break;
        }
        match result {
            Ok(entry) => {
                let Some(ft) = entry.file_type() else {
                    continue;
                };
                if ft.is_symlink() && entry.depth() == 0 {
                    // A root is always followed: the walk descends into a linked directory by
                    // itself, a linked file is listed here.
                    if entry.path().metadata().is_ok_and(|m| m.is_file()) {
                        walked.files.push(entry.into_path());
                    }
                } else if ft.is_file() {
                    walked.files.push(entry.into_path());
                } else if ft.is_symlink() {
                    walked.problems.push(symlink_not_followed(entry.path()));
                } else if ft.is_dir() {
                    if entry.depth() >= options.max_depth {
                        walked
                            .problems
                            .push(too_deep(entry.path(), options.max_depth));
                    }
                } else {
                    walked.problems.push(not_regular(entry.path()));
                }
            }
            Err(err) => walked.problems.push(describe(&err)),
        }
    }
    walked.files.sort();
    walked.files.dedup();
    walked
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(walked: &Walked, root: &Path) -> Vec<String> {
        walked
            .files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn symlink_loops_end_and_are_reported() {
        // Defect: `self -> .` and `sub/up -> ..` made ingest walk 2^n paths, forever.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("a.json"), "{}").unwrap();
        std::fs::write(root.join("sub/b.json"), "{}").unwrap();
        symlink(".", root.join("self")).unwrap();
        symlink("..", root.join("sub/up")).unwrap();
        // Not followed (the default): every file once, each link reported.
        let walked = collect_files(&[root.to_path_buf()], &WalkOptions::default());
        assert_eq!(names(&walked, root), ["a.json", "sub/b.json"]);
        assert_eq!(walked.problems.len(), 2, "{:?}", walked.problems);
        assert!(walked.problems.iter().all(|p| !p.unreadable));
        // Followed: the loops are found, reported, and the walk ends with every file once.
        let follow = WalkOptions {
            follow_symlinks: true,
            ..WalkOptions::default()
        };
        let walked = collect_files(&[root.to_path_buf()], &follow);
        assert_eq!(names(&walked, root), ["a.json", "sub/b.json"]);
        assert_eq!(walked.problems.len(), 2, "{:?}", walked.problems);
        assert!(
            walked
                .problems
                .iter()
                .all(|p| p.reason.starts_with("symbolic link loop")),
            "{:?}",
            walked.problems
        );
    }

    #[test]
    fn a_linked_root_is_followed_and_git_hidden_and_pruned_entries_are_not_entered() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        for sub in [".git", ".hidden", "node_modules", "logs"] {
            std::fs::create_dir_all(real.join(sub)).unwrap();
            std::fs::write(real.join(sub).join("f.json"), "{}").unwrap();
        }
        std::fs::write(real.join(".env"), "X=1").unwrap();
        let link = dir.path().join("link");
        symlink(&real, &link).unwrap();
        let walked = collect_files(std::slice::from_ref(&link), &WalkOptions::default());
        assert_eq!(
            names(&walked, &link),
            [
                ".env",
                ".hidden/f.json",
                "logs/f.json",
                "node_modules/f.json"
            ]
        );
        let strict = WalkOptions {
            skip_hidden: true,
            prune: &["node_modules"],
            ..WalkOptions::default()
        };
        let walked = collect_files(std::slice::from_ref(&link), &strict);
        assert_eq!(names(&walked, &link), ["logs/f.json"]);
        assert!(walked.problems.is_empty(), "{:?}", walked.problems);
        let file_link = dir.path().join("file-link.json");
        symlink(real.join("logs/f.json"), &file_link).unwrap();
        let walked = collect_files(std::slice::from_ref(&file_link), &strict);
        assert_eq!(walked.files, [file_link]);
        assert!(walked.problems.is_empty(), "{:?}", walked.problems);
    }

    #[test]
    fn depth_and_entry_limits_stop_the_walk_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for i in 0..6 {
            deep.push(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("deep.json"), "{}").unwrap();
        std::fs::write(dir.path().join("top.json"), "{}").unwrap();
        let shallow = WalkOptions {
            max_depth: 3,
            ..WalkOptions::default()
        };
        let walked = collect_files(&[dir.path().to_path_buf()], &shallow);
        assert_eq!(names(&walked, dir.path()), ["top.json"]);
        assert!(
            walked
                .problems
                .iter()
                .any(|p| p.unreadable && p.reason.contains("deeper than")),
            "{:?}",
            walked.problems
        );
        let few = WalkOptions {
            max_entries: 2,
            ..WalkOptions::default()
        };
        let walked = collect_files(&[dir.path().to_path_buf()], &few);
        assert!(
            walked
                .problems
                .iter()
                .any(|p| p.unreadable && p.reason.contains("stopped after 2 entries")),
            "{:?}",
            walked.problems
        );
    }

    #[test]
    fn unreadable_directories_devices_and_missing_roots_are_reported_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let walked = collect_files(
            &[missing.clone(), PathBuf::from("/dev/null")],
            &WalkOptions::default(),
        );
        assert!(walked.files.is_empty());
        let missing_problem = walked
            .problems
            .iter()
            .find(|p| p.path == missing)
            .unwrap_or_else(|| panic!("{:?}", walked.problems));
        assert!(missing_problem.unreadable);
        assert!(
            walked
                .problems
                .iter()
                .any(|p| p.path == Path::new("/dev/null") && !p.unreadable),
            "{:?}",
            walked.problems
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Any tree of directories, files and links (to themselves, ancestors, each other,
        /// nowhere): the walk ends, lists each file once, and without following lists exactly
        /// the regular files (the fuzz target `walk_tree` explores further).
        #[test]
        fn any_tree_of_links_is_walked_to_the_end(
            ops in proptest::collection::vec((0u8..4, 0usize..64), 0..40)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().to_path_buf();
            let mut dirs = vec![root.clone()];
            let mut regular = std::collections::BTreeSet::new();
            for (n, (op, pick)) in ops.iter().enumerate() {
                let parent = dirs[pick % dirs.len()].clone();
                let path = parent.join(format!("e{n}"));
                match op {
                    0 => {
                        std::fs::create_dir(&path).unwrap();
                        dirs.push(path);
                    }
                    1 => {
                        std::fs::write(&path, b"x").unwrap();
                        regular.insert(path);
                    }
                    2 => symlink(&dirs[(pick / 7) % dirs.len()], &path).unwrap(),
                    _ => symlink(root.join("nowhere"), &path).unwrap(),
                }
            }
            for follow_symlinks in [false, true] {
                let options = WalkOptions {
                    follow_symlinks,
                    max_entries: 20_000,
                    ..WalkOptions::default()
                };
                let walked = collect_files(std::slice::from_ref(&root), &options);
                let unique: std::collections::BTreeSet<&PathBuf> = walked.files.iter().collect();
                proptest::prop_assert_eq!(unique.len(), walked.files.len());
                if !follow_symlinks {
                    let expected: std::collections::BTreeSet<&PathBuf> = regular.iter().collect();
                    proptest::prop_assert_eq!(unique, expected);
                }
            }
        }
    }
}
