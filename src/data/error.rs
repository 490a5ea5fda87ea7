//! Typed errors of the data layer. Every variant names the file, and the line where there is one.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    /// A line that does not have the expected shape.
    #[error("{}:{line}: expected {expected}, found {found}", path.display())]
    Line { path: PathBuf, line: usize, expected: String, found: String },
    /// A whole-file problem (empty file, missing header, wrong array shape...).
    #[error("{}: expected {expected}, found {found}", path.display())]
    File { path: PathBuf, expected: String, found: String },
    #[error("{}: not a dataset root: {reason}", path.display())]
    NotADataset { path: PathBuf, reason: String },
    #[error("unknown {what} '{name}'; known: {known}")]
    Unknown { what: &'static str, name: String, known: String },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        DataError::Io { path: path.into(), error }
    }

    pub(crate) fn line(
        path: impl Into<PathBuf>,
        line: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DataError::Line { path: path.into(), line, expected: expected.into(), found: found.into() }
    }

    pub(crate) fn file(
        path: impl Into<PathBuf>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DataError::File { path: path.into(), expected: expected.into(), found: found.into() }
    }
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
