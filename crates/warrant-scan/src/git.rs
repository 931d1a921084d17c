//! Git history and the staging area as blobs, read with gitoxide (no `git` binary needed).
//!
//! History: every ref (branches, tags, remotes, notes, `HEAD`, every stash entry in the
//! `refs/stash` reflog) is followed to every reachable commit. Commits are visited oldest
//! first (parents before children, committer time breaking ties), and each commit's tree is
//! walked skipping subtrees already walked, so every distinct blob is read and reported
//! exactly once, with the **oldest commit that contains it** at the path it had there: the
//! commit that introduced it, which answers "when did this leak". Blob contents are then
//! read and handed to the sink from a thread pool, since inflating and undeltifying objects
//! is where the time goes.
//!
//! Unreachable (dangling) objects are not read.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice, ByteVec};
use gix::objs::Kind;
use rayon::prelude::*;

use crate::archive::{self, ArchiveLimits};
use crate::origin::{BlobSink, Origin};

/// How history and staged files are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOptions {
    /// Blobs larger than this are skipped (reported through [`BlobSink::skipped`]) without
    /// being inflated. Default 16 MiB.
    pub max_blob_bytes: u64,
    /// Worker threads for reading blobs; 0 uses rayon's default (one per core).
    pub threads: usize,
    /// When set, blobs that are archives (zip, tar, gzip) are opened with these limits and
    /// their members reported as [`Origin::Archive`] inside the git origin; when `None` they
    /// are treated like any other binary blob.
    pub archives: Option<ArchiveLimits>,
}

impl Default for GitOptions {
    fn default() -> Self {
        Self {
            max_blob_bytes: 16 * 1024 * 1024,
            threads: 0,
            archives: Some(ArchiveLimits::default()),
        }
    }
}

/// What a history or staged scan read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitStats {
    /// Refs followed (including `HEAD` and stash reflog entries).
    pub refs: u64,
    /// Distinct commits visited.
    pub commits: u64,
    /// Distinct trees walked.
    pub trees: u64,
    /// Distinct blobs found (for `--staged`: staged files that differ from `HEAD`).
    pub blobs: u64,
    /// Blobs handed to the sink (or opened as archives).
    pub blobs_scanned: u64,
    /// Bytes of those blobs.
    pub bytes_scanned: u64,
    /// Blobs over [`GitOptions::max_blob_bytes`].
    pub skipped_large: u64,
    /// Blobs with a NUL byte in their first 8000 bytes (git's own binary test).
    pub skipped_binary: u64,
    /// Objects that were missing or could not be decoded (each reported as skipped).
    pub unreadable: u64,
}

/// Failures that stop a scan; problems with single objects are reported through
/// [`BlobSink::skipped`] instead.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: cannot open git repository: {message}")]
    Open { path: PathBuf, message: String },
    #[error("{path}: cannot list references: {message}")]
    Refs { path: PathBuf, message: String },
    #[error("{path}: cannot read the index (.git/index): {message}")]
    Index { path: PathBuf, message: String },
    #[error("{path}: cannot resolve HEAD: {message}")]
    Head { path: PathBuf, message: String },
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

/// A commit's facts needed for origins and ordering.
struct CommitInfo {
    id: ObjectId,
    tree: Option<ObjectId>,
    parents: Vec<ObjectId>,
    time: i64,
    author: Option<String>,
    email: Option<String>,
}

/// One blob to read, attributed to the commit (index into the ordered commits) and path
/// where it was first seen.
struct BlobJob {
    id: ObjectId,
    commit: u32,
    path: String,
}

/// A root that is not a commit (a tag pointing straight at a tree or blob).
struct LooseRoot {
    id: ObjectId,
    kind: Kind,
    name: String,
}

/// Scans the history of the repository at `repo_path` (a work tree or a bare repository):
/// every blob reachable from any ref, once, reported as [`Origin::Git`] with the oldest
/// commit containing it, its path there, the commit's author and its committer date.
///
/// Blobs reachable only from a tag that points directly at a tree or blob have that tag's
/// ref name as `commit` and no author. Blobs are delivered from several threads.
pub fn scan_history(
    repo_path: &Path,
    options: &GitOptions,
    sink: &dyn BlobSink,
) -> Result<GitStats, GitError> {
    let shared = open(repo_path)?;
    let repo = shared.to_thread_local();
    let repo_name = repo_path.display().to_string();
    let reporter = Reporter {
        repo: &repo_name,
        sink,
    };
    let mut stats = GitStats::default();

    let tips = collect_tips(&repo, repo_path, &reporter, &mut stats)?;
    let (commits, loose_roots) = walk_commits(&repo, tips, &reporter, &mut stats);
    let order = oldest_first(&commits);
    stats.commits = commits.len() as u64;

    let hash_kind = repo.object_hash();
    let mut seen_trees: HashSet<ObjectId> = HashSet::new();
    let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
    let mut jobs: Vec<BlobJob> = Vec::new();
    let mut ordered: Vec<&CommitInfo> = Vec::with_capacity(order.len());
    for commit in order.iter().filter_map(|&index| commits.get(index)) {
        let position = ordered.len() as u32;
        ordered.push(commit);
        let Some(tree) = commit.tree else { continue };
        let mut walker = TreeWalker {
            repo: &repo,
            hash_kind,
            seen_trees: &mut seen_trees,
            seen_blobs: &mut seen_blobs,
            stats: &mut stats,
        };
        walker.walk(tree, position, &mut jobs, &|path, message| {
            reporter.skip_commit(commit, path, message)
        });
    }
    // Tags that point at trees or blobs: attributed to the ref after all commits, so a blob
    // that is also in a commit keeps its commit.
    let loose_base = ordered.len() as u32;
    for (offset, root) in loose_roots.iter().enumerate() {
        let position = loose_base + offset as u32;
        match root.kind {
            Kind::Tree => {
                let mut walker = TreeWalker {
                    repo: &repo,
                    hash_kind,
                    seen_trees: &mut seen_trees,
                    seen_blobs: &mut seen_blobs,
                    stats: &mut stats,
                };
                walker.walk(root.id, position, &mut jobs, &|path, message| {
                    reporter.skip_named(&root.name, path, message)
                });
            }
            _ => {
                if seen_blobs.insert(root.id) {
                    jobs.push(BlobJob {
                        id: root.id,
                        commit: position,
                        path: String::new(),
                    });
                }
            }
        }
    }
    drop(seen_trees);
    drop(seen_blobs);
    stats.blobs = jobs.len() as u64;

    let origin_of = |job: &BlobJob| -> Origin {
        match ordered.get(job.commit as usize) {
            Some(commit) => Origin::Git {
                repo: repo_name.clone(),
                commit: commit.id.to_string(),
                path: job.path.clone(),
                author: commit.author.clone(),
                email: commit.email.clone(),
                date: DateTime::<Utc>::from_timestamp(commit.time, 0),
            },
            None => {
                let name = loose_roots
                    .get((job.commit - loose_base) as usize)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                Origin::Git {
                    repo: repo_name.clone(),
                    commit: name,
                    path: job.path.clone(),
                    author: None,
                    email: None,
                    date: None,
                }
            }
        }
    };
    let read = read_blobs(&shared, &jobs, |job| job.id, origin_of, options, sink)?;
    read.add_to(&mut stats);
    Ok(stats)
}

/// Scans what a commit would add: files staged in the index whose content differs from
/// `HEAD` (added or modified), reported as [`Origin::Staged`]. Works before the first
/// commit (everything staged is new) and with no index at all (nothing is staged).
/// Unmerged entries, intent-to-add entries and submodules are not scanned.
pub fn scan_staged(
    repo_path: &Path,
    options: &GitOptions,
    sink: &dyn BlobSink,
) -> Result<GitStats, GitError> {
    let shared = open(repo_path)?;
    let repo = shared.to_thread_local();
    let repo_name = repo_path.display().to_string();
    let mut stats = GitStats::default();
    let index_path = repo.index_path();
    if !index_path.exists() {
        return Ok(stats);
    }
    let index = repo.open_index().map_err(|e| GitError::Index {
        path: repo_path.to_path_buf(),
        message: e.to_string(),
    })?;
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|e| GitError::Head {
            path: repo_path.to_path_buf(),
            message: e.to_string(),
        })?
        .detach();
    let reporter = Reporter {
        repo: &repo_name,
        sink,
    };
    let head_files = tree_files(&repo, head_tree, &|path, message| {
        reporter.skip_staged(path, message)
    });

    let mut jobs: Vec<(ObjectId, String)> = Vec::new();
    for entry in index.entries() {
        if entry.stage_raw() != 0
            || entry
                .flags
                .contains(gix::index::entry::Flags::INTENT_TO_ADD)
            || entry.mode.is_sparse()
            || entry.mode.is_submodule()
        {
            continue;
        }
        let path = entry.path(&index);
        if head_files.get(path.as_bytes()) == Some(&entry.id) {
            continue;
        }
        jobs.push((entry.id, path.to_str_lossy().into_owned()));
    }
    stats.blobs = jobs.len() as u64;
    let origin_of = |job: &(ObjectId, String)| Origin::Staged {
        repo: repo_name.clone(),
        path: job.1.clone(),
    };
    let read = read_blobs(&shared, &jobs, |job| job.0, origin_of, options, sink)?;
    read.add_to(&mut stats);
    Ok(stats)
}

fn open(repo_path: &Path) -> Result<gix::ThreadSafeRepository, GitError> {
    // Isolated: the user's and system's git configuration cannot redirect what is read.
    gix::ThreadSafeRepository::open_opts(repo_path, gix::open::Options::isolated()).map_err(|e| {
        GitError::Open {
            path: repo_path.to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// Reports per-object problems with the best origin available.
struct Reporter<'a> {
    repo: &'a str,
    sink: &'a dyn BlobSink,
}

impl Reporter<'_> {
    fn skip_named(&self, commit: &str, path: &str, message: &str) {
        let origin = Origin::Git {
            repo: self.repo.to_string(),
            commit: commit.to_string(),
            path: path.to_string(),
            author: None,
            email: None,
            date: None,
        };
        self.sink
            .skipped(&origin, &format!("{}@{commit}: {message}", self.repo));
    }

    fn skip_commit(&self, commit: &CommitInfo, path: &str, message: &str) {
        let origin = Origin::Git {
            repo: self.repo.to_string(),
            commit: commit.id.to_string(),
            path: path.to_string(),
            author: commit.author.clone(),
            email: commit.email.clone(),
            date: DateTime::<Utc>::from_timestamp(commit.time, 0),
        };
        self.sink.skipped(
            &origin,
            &format!("{}@{}:{path}: {message}", self.repo, commit.id),
        );
    }

    fn skip_staged(&self, path: &str, message: &str) {
        let origin = Origin::Staged {
            repo: self.repo.to_string(),
            path: path.to_string(),
        };
        self.sink
            .skipped(&origin, &format!("{}:{path}: {message}", self.repo));
    }
}

/// Starting points of the walk: every ref, `HEAD`, and every stash in the stash reflog.
fn collect_tips(
    repo: &gix::Repository,
    repo_path: &Path,
    reporter: &Reporter<'_>,
    stats: &mut GitStats,
) -> Result<Vec<(ObjectId, String)>, GitError> {
    let refs_error = |e: &dyn std::fmt::Display| GitError::Refs {
        path: repo_path.to_path_buf(),
        message: e.to_string(),
    };
    let mut tips = Vec::new();
    let platform = repo.references().map_err(|e| refs_error(&e))?;
    let all = platform.all().map_err(|e| refs_error(&e))?;
    for reference in all {
        match reference {
            Ok(mut reference) => {
                let name = reference.name().as_bstr().to_str_lossy().into_owned();
                // Peel through symbolic refs only; annotated tags are followed in the walk so
                // a tag pointing at a tree or blob is seen too.
                match reference.follow_to_object() {
                    Ok(id) => tips.push((id.detach(), name)),
                    Err(e) => reporter.skip_named(&name, "", &format!("unresolvable ref: {e}")),
                }
            }
            Err(e) => reporter.skip_named("", "", &format!("unreadable ref: {e}")),
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push((head.detach(), "HEAD".to_string()));
    }
    // Older stashes live only in the reflog of refs/stash.
    if let Ok(Some(stash)) = repo.try_find_reference("refs/stash") {
        let mut log = stash.log_iter();
        if let Ok(Some(lines)) = log.all() {
            for (n, line) in lines.enumerate() {
                if let Ok(line) = line
                    && let Ok(id) = ObjectId::from_hex(line.new_oid)
                {
                    tips.push((id, format!("stash@{{{n}}}")));
                }
            }
        }
    }
    stats.refs = tips.len() as u64;
    Ok(tips)
}

/// Finds every commit reachable from `tips` (peeling annotated tags), plus tags' trees and
/// blobs. Missing parents (shallow clones, damaged repositories) end that line of history.
fn walk_commits(
    repo: &gix::Repository,
    tips: Vec<(ObjectId, String)>,
    reporter: &Reporter<'_>,
    stats: &mut GitStats,
) -> (Vec<CommitInfo>, Vec<LooseRoot>) {
    let hash_kind = repo.object_hash();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut commits = Vec::new();
    let mut loose = Vec::new();
    let mut stack: Vec<(ObjectId, String)> = tips;
    while let Some((id, name)) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        let object = match repo.try_find_object(id) {
            Ok(Some(object)) => object,
            Ok(None) => {
                if !repo.is_shallow().unwrap_or(false) {
                    stats.unreadable += 1;
                    reporter.skip_named(
                        &id.to_string(),
                        "",
                        &format!("object missing (reached from {name})"),
                    );
                }
                continue;
            }
            Err(e) => {
                stats.unreadable += 1;
                reporter.skip_named(&id.to_string(), "", &format!("unreadable object: {e}"));
                continue;
            }
        };
        match object.kind {
            Kind::Commit => match gix::objs::CommitRef::from_bytes(&object.data, hash_kind) {
                Ok(commit) => {
                    let parents: Vec<ObjectId> = commit.parents().collect();
                    for parent in &parents {
                        if !seen.contains(parent) {
                            stack.push((*parent, name.clone()));
                        }
                    }
                    let author = commit.author().ok();
                    let time = commit
                        .committer()
                        .map(|c| c.seconds())
                        .unwrap_or_else(|_| author.map(|a| a.seconds()).unwrap_or(0));
                    commits.push(CommitInfo {
                        id,
                        tree: Some(commit.tree()),
                        parents,
                        time,
                        author: author.map(|a| a.name.to_str_lossy().into_owned()),
                        email: author.map(|a| a.email.to_str_lossy().into_owned()),
                    });
                }
                Err(e) => {
                    stats.unreadable += 1;
                    reporter.skip_named(&id.to_string(), "", &format!("undecodable commit: {e}"));
                }
            },
            Kind::Tag => match gix::objs::TagRef::from_bytes(&object.data, hash_kind) {
                Ok(tag) => stack.push((tag.target(), name)),
                Err(e) => {
                    stats.unreadable += 1;
                    reporter.skip_named(&name, "", &format!("undecodable tag {id}: {e}"));
                }
            },
            kind @ (Kind::Tree | Kind::Blob) => loose.push(LooseRoot { id, kind, name }),
        }
    }
    (commits, loose)
}

/// Indices of `commits` with parents before children; among commits whose parents are all
/// placed, the oldest (committer time, then id) comes first.
fn oldest_first(commits: &[CommitInfo]) -> Vec<usize> {
    let index: HashMap<ObjectId, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    // `pending_parents` and `children` run parallel to `commits`; every index in them comes
    // from `index`, so each `get` below finds its entry.
    let mut pending_parents: Vec<usize> = Vec::with_capacity(commits.len());
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); commits.len()];
    for (i, commit) in commits.iter().enumerate() {
        let mut distinct: Vec<usize> = commit
            .parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        pending_parents.push(distinct.len());
        for parent in distinct {
            if let Some(siblings) = children.get_mut(parent) {
                siblings.push(i);
            }
        }
    }
    let mut ready: BinaryHeap<std::cmp::Reverse<(i64, ObjectId, usize)>> = commits
        .iter()
        .zip(&pending_parents)
        .enumerate()
        .filter(|(_, (_, pending))| **pending == 0)
        .map(|(i, (c, _))| std::cmp::Reverse((c.time, c.id, i)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(std::cmp::Reverse((_, _, i))) = ready.pop() {
        order.push(i);
        for &child in children.get(i).map(Vec::as_slice).unwrap_or_default() {
            let Some(pending) = pending_parents.get_mut(child) else {
                continue;
            };
            *pending -= 1;
            if *pending == 0
                && let Some(c) = commits.get(child)
            {
                ready.push(std::cmp::Reverse((c.time, c.id, child)));
            }
        }
    }
    order
}

struct TreeWalker<'a> {
    repo: &'a gix::Repository,
    hash_kind: gix::hash::Kind,
    seen_trees: &'a mut HashSet<ObjectId>,
    seen_blobs: &'a mut HashSet<ObjectId>,
    stats: &'a mut GitStats,
}

impl TreeWalker<'_> {
    /// Walks `root`, skipping trees already walked, and adds each unseen blob to `jobs`.
    fn walk(
        &mut self,
        root: ObjectId,
        commit: u32,
        jobs: &mut Vec<BlobJob>,
        skip: &dyn Fn(&str, &str),
    ) {
        let mut stack: Vec<(ObjectId, BString)> = vec![(root, BString::default())];
        while let Some((tree_id, prefix)) = stack.pop() {
            if !self.seen_trees.insert(tree_id) {
                continue;
            }
            self.stats.trees += 1;
            let object = match self.repo.try_find_object(tree_id) {
                Ok(Some(object)) if object.kind == Kind::Tree => object,
                Ok(Some(object)) => {
                    self.stats.unreadable += 1;
                    skip(
                        &prefix.to_str_lossy(),
                        &format!("expected tree {tree_id}, found {}", object.kind),
                    );
                    continue;
                }
                Ok(None) => {
                    self.stats.unreadable += 1;
                    skip(&prefix.to_str_lossy(), &format!("tree {tree_id} missing"));
                    continue;
                }
                Err(e) => {
                    self.stats.unreadable += 1;
                    skip(
                        &prefix.to_str_lossy(),
                        &format!("unreadable tree {tree_id}: {e}"),
                    );
                    continue;
                }
            };
            for entry in gix::objs::TreeRefIter::from_bytes(&object.data, self.hash_kind) {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        self.stats.unreadable += 1;
                        skip(
                            &prefix.to_str_lossy(),
                            &format!("undecodable tree {tree_id}: {e}"),
                        );
                        break;
                    }
                };
                let mut path = prefix.clone();
                if !path.is_empty() {
                    path.push(b'/');
                }
                path.push_str(entry.filename);
                if entry.mode.is_tree() {
                    let id = entry.oid.to_owned();
                    if !self.seen_trees.contains(&id) {
                        stack.push((id, path));
                    }
                } else if entry.mode.is_blob_or_symlink() {
                    let id = entry.oid.to_owned();
                    if self.seen_blobs.insert(id) {
                        jobs.push(BlobJob {
                            id,
                            commit,
                            path: path.to_str_lossy().into_owned(),
                        });
                    }
                }
                // Submodule entries (mode commit) point into another repository.
            }
        }
    }
}

/// Every file of a tree by path (for comparing the index with `HEAD`).
fn tree_files(
    repo: &gix::Repository,
    root: ObjectId,
    skip: &dyn Fn(&str, &str),
) -> HashMap<Vec<u8>, ObjectId> {
    let hash_kind = repo.object_hash();
    let mut files = HashMap::new();
    let mut stack: Vec<(ObjectId, BString)> = vec![(root, BString::default())];
    while let Some((tree_id, prefix)) = stack.pop() {
        if tree_id.is_empty_tree() {
            continue;
        }
        let object = match repo.try_find_object(tree_id) {
            Ok(Some(object)) if object.kind == Kind::Tree => object,
            _ => {
                skip(
                    &prefix.to_str_lossy(),
                    &format!("HEAD tree {tree_id} unreadable; its files count as staged"),
                );
                continue;
            }
        };
        for entry in gix::objs::TreeRefIter::from_bytes(&object.data, hash_kind) {
            let Ok(entry) = entry else { break };
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.push_str(entry.filename);
            if entry.mode.is_tree() {
                stack.push((entry.oid.to_owned(), path));
            } else {
                files.insert(Vec::from(path), entry.oid.to_owned());
            }
        }
    }
    files
}

#[derive(Default)]
struct ReadCounters {
    scanned: AtomicU64,
    bytes: AtomicU64,
    large: AtomicU64,
    binary: AtomicU64,
    unreadable: AtomicU64,
}

struct ReadTotals {
    scanned: u64,
    bytes: u64,
    large: u64,
    binary: u64,
    unreadable: u64,
}

impl ReadTotals {
    fn add_to(&self, stats: &mut GitStats) {
        stats.blobs_scanned += self.scanned;
        stats.bytes_scanned += self.bytes;
        stats.skipped_large += self.large;
        stats.skipped_binary += self.binary;
        stats.unreadable += self.unreadable;
    }
}

/// Reads the blobs of `jobs` on a thread pool and hands each to the sink (or to the archive
/// reader), applying the size limit before inflating and the binary test after.
fn read_blobs<J: Sync>(
    shared: &gix::ThreadSafeRepository,
    jobs: &[J],
    id_of: impl Fn(&J) -> ObjectId + Sync,
    origin_of: impl Fn(&J) -> Origin + Sync,
    options: &GitOptions,
    sink: &dyn BlobSink,
) -> Result<ReadTotals, GitError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| GitError::Threads {
            threads: options.threads,
            message: e.to_string(),
        })?;
    let counters = ReadCounters::default();
    // Contiguous chunks keep each thread's pack delta cache useful (neighbouring blobs are
    // often deltas of each other); several chunks per thread balance the load.
    let chunk = (jobs.len() / (pool.current_num_threads() * 16)).clamp(1, 4096);
    pool.install(|| {
        jobs.par_chunks(chunk).for_each(|chunk| {
            let mut repo = shared.to_thread_local();
            repo.object_cache_size_if_unset(4 * 1024 * 1024);
            for job in chunk {
                read_one(
                    &repo,
                    id_of(job),
                    || origin_of(job),
                    options,
                    sink,
                    &counters,
                );
            }
        });
    });
    Ok(ReadTotals {
        scanned: counters.scanned.into_inner(),
        bytes: counters.bytes.into_inner(),
        large: counters.large.into_inner(),
        binary: counters.binary.into_inner(),
        unreadable: counters.unreadable.into_inner(),
    })
}

fn read_one(
    repo: &gix::Repository,
    id: ObjectId,
    origin_of: impl Fn() -> Origin,
    options: &GitOptions,
    sink: &dyn BlobSink,
    counters: &ReadCounters,
) {
    let where_ = |origin: &Origin| match origin {
        Origin::Git {
            repo, commit, path, ..
        } => format!("{repo}@{commit}:{path}"),
        Origin::Staged { repo, path } => format!("{repo}:{path}"),
        other => other.display_path(),
    };
    match repo.find_header(id) {
        Ok(header) if header.size() > options.max_blob_bytes => {
            counters.large.fetch_add(1, Ordering::Relaxed);
            let origin = origin_of();
            let message = format!(
                "{}: blob {id} of {} bytes exceeds the {} byte limit",
                where_(&origin),
                header.size(),
                options.max_blob_bytes
            );
            sink.skipped(&origin, &message);
            return;
        }
        Ok(_) => {}
        Err(e) => {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            let origin = origin_of();
            let message = format!("{}: blob {id} unreadable: {e}", where_(&origin));
            sink.skipped(&origin, &message);
            return;
        }
    }
    let object = match repo.find_object(id) {
        Ok(object) => object,
        Err(e) => {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            let origin = origin_of();
            let message = format!("{}: blob {id} unreadable: {e}", where_(&origin));
            sink.skipped(&origin, &message);
            return;
        }
    };
    let data = &object.data;
    let origin = origin_of();
    if let Some(limits) = &options.archives
        && archive::is_archive(data)
    {
        counters.scanned.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        archive::scan_archive(&origin, data, limits, sink);
        return;
    }
    if archive::is_binary(data) {
        counters.binary.fetch_add(1, Ordering::Relaxed);
        let message = format!("{}: binary blob (NUL byte) not scanned", where_(&origin));
        sink.skipped(&origin, &message);
        return;
    }
    counters.scanned.fetch_add(1, Ordering::Relaxed);
    counters
        .bytes
        .fetch_add(data.len() as u64, Ordering::Relaxed);
    sink.blob(&origin, data);
}
