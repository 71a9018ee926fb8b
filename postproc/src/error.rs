//! Errors at the library edge. Every input problem names the file, the frame
//! and the line so that the user can open the dump at the right place.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
