//! Plain-data outputs: CSV tables with units in the column names, JSON summaries.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes a CSV with one column per entry of `columns` (all of equal length,
/// shorter ones padded with empty cells).
pub fn write_csv(path: &Path, columns: &[(String, &[f64])]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let rows = columns.iter().map(|c| c.1.len()).max().unwrap_or(0);
    let io = |e| Error::io(path, e);
    let header: Vec<&str> = columns.iter().map(|c| c.0.as_str()).collect();
    writeln!(w, "{}", header.join(",")).map_err(io)?;
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
        writeln!(w, "{line}").map_err(io)?;
    }
    w.flush().map_err(io)
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("JSON values always serialise");
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

/// A JSON number, or null when not finite (JSON has no NaN).
pub fn num(v: f64) -> serde_json::Value {
    if v.is_finite() {
        serde_json::json!(v)
    } else {
        serde_json::Value::Null
    }
}
