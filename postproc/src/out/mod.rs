//! Plain-data outputs: CSV tables with units in the column names, JSON summaries.
//!
//! Every file is written atomically ([`write_atomic`]): an interrupted run
//! leaves the previous file or the complete new one, never a half-written
//! table that looks complete.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary file `path` is written to before the rename: hidden, in the
/// same directory (a rename is atomic only within one file system), unique
/// per process.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `path` through `body` into [`temp_path`], flushes and syncs it,
/// then renames it over `path`. On any error the temporary file is removed
/// and `path` is left as it was.
pub fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        body(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::io(path, e))
}

/// Writes a whole text file atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| w.write_all(text.as_bytes()))
}

/// Writes a CSV with one column per entry of `columns` (all of equal length,
/// shorter ones padded with empty cells).
pub fn write_csv(path: &Path, columns: &[(String, &[f64])]) -> Result<()> {
    write_atomic(path, |w| {
        let rows = columns.iter().map(|c| c.1.len()).max().unwrap_or(0);
        let header: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
        writeln!(w, "{}", header.join(","))?;
        let mut line = String::new();
        for k in 0..rows {
            line.clear();
            for (i, (_, col)) in columns.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                if let Some(v) = col.get(k) {
                    line.push_str(&format!("{v:.9e}"));
                }
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    })
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("JSON values always serialise");
    write_atomic(path, |w| w.write_all((text + "\n").as_bytes()))
}

/// A JSON number, or null when not finite (JSON has no NaN).
pub fn num(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-"))
            .collect()
    }

    #[test]
    fn csv_and_json_are_complete_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("t.csv");
        write_csv(
            &csv,
            &[("a (ps)".into(), &[1.0, 2.0][..]), ("b".into(), &[3.0][..])],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            "a (ps),b\n1.000000000e0,3.000000000e0\n2.000000000e0,\n"
        );
        let json = dir.path().join("s.json");
        write_json(&json, &serde_json::json!({"d": 1.5})).unwrap();
        assert_eq!(
            std::fs::read_to_string(&json).unwrap(),
            "{\n  \"d\": 1.5\n}\n"
        );
        assert!(leftovers(dir.path()).is_empty());
    }

    /// A write that fails half-way (disk full, interrupted) keeps the old
    /// file whole and removes the partial one.
    #[test]
    fn a_failed_write_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("msd.csv");
        std::fs::write(&path, "old,complete\n").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"new,half")?;
            w.flush()?;
            assert!(temp_path(&path).exists(), "writes go to the temporary file");
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old,complete\n");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("x.csv");
        let err = write_csv(&path, &[("a".into(), &[1.0][..])]).unwrap_err();
        assert!(err.to_string().contains("x.csv"), "{err}");
        assert!(!path.exists());
    }
}
