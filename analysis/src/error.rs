//! Errors at the library edge. Every input problem names the file, the frame
//! and the line so that the user can open the dump at the right place.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The reason is part of the message (not a separate source), so that
    /// a chain of causes says it once.
    #[error("{}: {}", path.display(), io_text(cause))]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A problem inside a dump. `frame` is 1-based (the n-th frame read),
    /// `line` is the 1-based line number inside `file`.
    #[error("{}: frame {frame}{}, line {line}: {msg}", file.display(), step.map(|s| format!(" (timestep {s})")).unwrap_or_default())]
    Dump {
        file: PathBuf,
        frame: usize,
        step: Option<u64>,
        line: u64,
        msg: String,
    },
    #[error("no input: {0}")]
    NoInput(String),
    /// Time information is missing or inconsistent.
    #[error("{0}")]
    Time(String),
    /// A request that the data cannot satisfy (empty selection, too few frames, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// An I/O error in words, without the OS error number for the common cases.
fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory, not a file".into(),
        _ => e.to_string(),
    }
}
