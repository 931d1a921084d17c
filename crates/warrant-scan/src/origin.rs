//! Where scanned bytes came from. Every input source (directory walk, stdin, git history,
//! archives) reports blobs through [`BlobSink`] with an [`Origin`]; the engine attaches the
//! origin to each finding.

use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;

/// The place a blob was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A file on disk, path as given or as found by the walk.
    File { path: String },
    /// Standard input.
    Stdin,
    /// A blob in git history: the first commit (in the walk's order) that introduced it at
    /// `path`.
    Git {
        repo: String,
        commit: String,
        path: String,
        author: Option<String>,
        email: Option<String>,
        date: Option<Timestamp>,
    },
    /// A file staged in a git index (`--staged`).
    Staged { repo: String, path: String },
    /// A member of an archive; `container` is where the archive itself came from, so nested
    /// archives chain.
    Archive {
        container: Box<Origin>,
        member: String,
    },
}

impl Origin {
    /// A path-like name for display and for path allowlists: `dir/a.zip!inner/b.tar!c.env`.
    pub fn display_path(&self) -> String {
        match self {
            Origin::File { path } | Origin::Staged { path, .. } | Origin::Git { path, .. } => {
                path.clone()
            }
            Origin::Stdin => "<stdin>".to_string(),
            Origin::Archive { container, member } => {
                format!("{}!{}", container.display_path(), member)
            }
        }
    }

    /// The git commit, for git origins (also through archives found in history).
    pub fn commit(&self) -> Option<&str> {
        match self {
            Origin::Git { commit, .. } => Some(commit),
            Origin::Archive { container, .. } => container.commit(),
            _ => None,
        }
    }
}

/// Receives what a source reads. Implementations must be shareable across threads: sources
/// may call them from a rayon pool.
pub trait BlobSink: Sync {
    /// A blob to scan. `data` is only valid for the call.
    fn blob(&self, origin: &Origin, data: &[u8]);
    /// Something was left out (corrupt archive, size limit, an archive bomb). The scan goes on;
    /// the message names the place.
    fn skipped(&self, origin: &Origin, reason: &str);
    /// Something that should have been read could not be (an I/O error, a walk limit): an
    /// input error for the command's exit code. The scan goes on.
    fn unreadable(&self, origin: &Origin, reason: &str) {
        self.skipped(origin, reason);
    }
}
