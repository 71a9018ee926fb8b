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

/// A CSV table kept in memory at full precision: its file stem ("msd" for
/// msd.csv) and its named columns.
pub type Table = (String, Vec<(String, Vec<f64>)>);

thread_local! {
    static CAPTURED: std::cell::RefCell<Option<Vec<Table>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` and returns, besides its result, every table [`write_csv`]
/// wrote on this thread meanwhile, at full precision (the files hold nine
/// digits): callers that want the numbers, not the files (the Python
/// module), get exactly what the command line writes.
pub fn capture_tables<R>(f: impl FnOnce() -> R) -> (R, Vec<Table>) {
    /// Puts the outer capture back even when `f` panics (the Python module
    /// turns panics into exceptions and goes on on this thread).
    struct Restore(Option<Option<Vec<Table>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                CAPTURED.with(|c| *c.borrow_mut() = outer);
            }
        }
    }
    let mut restore = Restore(Some(CAPTURED.with(|c| c.borrow_mut().replace(Vec::new()))));
    let r = f();
    let outer = restore.0.take().expect("restored only here or on drop");
    let tables = CAPTURED.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (r, tables.unwrap_or_default())
}

/// Writes a CSV with one column per entry of `columns` (all of equal length,
/// shorter ones padded with empty cells).
pub fn write_csv(path: &Path, columns: &[(String, &[f64])]) -> Result<()> {
    CAPTURED.with(|c| {
        if let Some(tables) = c.borrow_mut().as_mut() {
            let name = path
                .file_stem()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let cols = columns
                .iter()
                .map(|(n, v)| (n.clone(), v.to_vec()))
                .collect();
            tables.push((name, cols));
        }
    });
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

/// Superscript digits for exponents in plain text (10⁻³).
fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// A number for people: `sig` significant digits, plain notation between
/// 10⁻³ and 10⁶, otherwise `2.64 × 10⁻⁷`; never `-0`. Not finite: `None`.
pub fn human(v: f64, sig: usize) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let sig = sig.max(1) as i32;
    if v == 0.0 {
        return Some("0".into());
    }
    if v.fract() == 0.0 && v.abs() < 1e6 {
        return Some(format!("{v:.0}"));
    }
    let p = v.abs().log10().floor() as i32;
    let text = if (-3..6).contains(&p) {
        let decimals = (sig - 1 - p).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        let m = v / 10f64.powi(p);
        format!("{m:.*} × 10{}", (sig - 1) as usize, superscript(p))
    };
    Some(clean_zero(text))
}

/// A given parameter (time step, window, lag) without trailing zeros:
/// `0.02`, `3`, `0.6`; up to 4 significant digits.
pub fn short(v: f64) -> Option<String> {
    let t = human(v, 4)?;
    if t.contains('.') && !t.contains('×') {
        Some(t.trim_end_matches('0').trim_end_matches('.').to_string())
    } else {
        Some(t)
    }
}

fn clean_zero(text: String) -> String {
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_string()
    } else {
        text
    }
}

/// `value ± error` rounded together: the error to two significant digits,
/// the value to the same decimal place (`0.264 ± 0.035`); a shared power
/// of ten outside 10⁻³..10⁶ (`(2.64 ± 0.35) × 10⁻⁷`). A missing error gives
/// the value alone followed by `why` (e.g. "(no error bar: 1 block)").
pub fn value_pm(v: f64, err: f64, why: &str) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    if err == 0.0 {
        return Some(format!("{} ± 0", human(v, 3)?));
    }
    if err.is_finite() && err < 1e-5 * v.abs() {
        return Some(format!("{} ± {}", human(v, 6)?, human(err, 2)?));
    }
    if !(err.is_finite() && err > 0.0) {
        let base = human(v, 3)?;
        return Some(if why.is_empty() {
            base
        } else {
            format!("{base} {why}")
        });
    }
    let top = v.abs().max(err);
    let p = top.log10().floor() as i32;
    let (scale, shift) = if (-3..6).contains(&p) {
        (1.0, None)
    } else {
        (10f64.powi(-p), Some(p))
    };
    let (v, e) = (v * scale, err * scale);
    let decimals = (1 - e.log10().floor() as i32).max(0) as usize;
    let body = format!("{} ± {e:.decimals$}", clean_zero(format!("{v:.decimals$}")));
    Some(match shift {
        None => body,
        Some(p) => format!("({body}) × 10{}", superscript(p)),
    })
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
    fn numbers_for_people() {
        assert_eq!(value_pm(0.26432, 0.034887, "").unwrap(), "0.264 ± 0.035");
        assert_eq!(value_pm(12.345, 1.2, "").unwrap(), "12.3 ± 1.2");
        assert_eq!(value_pm(1234.0, 56.0, "").unwrap(), "1234 ± 56");
        assert_eq!(
            value_pm(2.6432e-7, 3.4e-8, "").unwrap(),
            "(2.64 ± 0.34) × 10⁻⁷"
        );
        assert_eq!(
            value_pm(0.5, f64::NAN, "(no error bar)").unwrap(),
            "0.500 (no error bar)"
        );
        assert_eq!(value_pm(f64::NAN, 0.1, ""), None);
        assert_eq!(human(0.26432, 3).unwrap(), "0.264");
        assert_eq!(human(1000.0, 3).unwrap(), "1000");
        assert_eq!(short(0.02).unwrap(), "0.02");
        assert_eq!(short(0.6000000001).unwrap(), "0.6");
        assert_eq!(short(3.0).unwrap(), "3");
        assert_eq!(human(162.0, 6).unwrap(), "162");
        assert_eq!(human(0.02, 4).unwrap(), "0.02000");
        assert_eq!(value_pm(8.7e-8, 0.0, "").unwrap(), "8.70 × 10⁻⁸ ± 0");
        assert_eq!(human(-0.0001, 2).unwrap(), "-1.0 × 10⁻⁴");
        assert_eq!(human(-0.00001, 1).unwrap(), "-1 × 10⁻⁵");
        assert_eq!(human(-0.004, 1).unwrap(), "-0.004");
        assert_eq!(human(-0.0004, 1).unwrap(), "-4 × 10⁻⁴");
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
