//! One error type for all connectors: it always names the file and the place in it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A JSON path such as `$.UserDetailList[3].AttachedManagedPolicies[0]`.
    JsonPath(String),
    /// A JSON syntax error position.
    LineColumn { line: usize, column: usize },
    /// A CSV record (1-based line number in the file).
    CsvLine(u64),
    /// The whole file (unreadable, too big, binary, unknown format).
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::JsonPath(path) => write!(f, "at {path}"),
            Location::LineColumn { line, column } => write!(f, "at line {line}, column {column}"),
            Location::CsvLine(line) => write!(f, "at line {line}"),
            Location::File => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConnectorError {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file.display(), self.message),
            location => write!(f, "{}: {location}: {}", self.file.display(), self.message),
        }
    }
}

impl ConnectorError {
    pub fn new(file: &Path, location: Location, message: impl Into<String>) -> ConnectorError {
        ConnectorError {
            file: file.to_path_buf(),
            location,
            message: message.into(),
        }
    }

    pub fn file(file: &Path, message: impl Into<String>) -> ConnectorError {
        ConnectorError::new(file, Location::File, message)
    }

    /// From a `serde_json` syntax error.
    pub fn json_syntax(file: &Path, error: &serde_json::Error) -> ConnectorError {
        ConnectorError::new(
            file,
            Location::LineColumn {
                line: error.line(),
                column: error.column(),
            },
            error.to_string(),
        )
    }

    /// From a `serde_path_to_error` failure: names the JSON path of the offending value.
    pub fn json_path(
        file: &Path,
        error: serde_path_to_error::Error<serde_json::Error>,
    ) -> ConnectorError {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ConnectorError::json_syntax(file, &inner);
        }
        let path = if path == "." {
            "$".to_string()
        } else {
            format!("$.{}", path.trim_start_matches('.'))
        };
        ConnectorError::new(file, Location::JsonPath(path), inner.to_string())
    }
}
