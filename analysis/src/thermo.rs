//! `thermo` output of LAMMPS logs: the tables between a header line that
//! starts with `Step` and the `Loop time` line (paper B Fig. 4a reads the
//! lattice constants and volume from them).

use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct Thermo {
    pub columns: Vec<String>,
    /// Rows of the first table's columns; later tables contribute the
    /// columns they share with the first.
    pub rows: Vec<Vec<f64>>,
}

impl Thermo {
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[k]).collect())
    }
    /// Mean of a column over the last half of the rows that have it (the
    /// equilibrated part; a later table without the column leaves gaps).
    pub fn late_mean(&self, name: &str) -> Option<f64> {
        let v: Vec<f64> = self
            .column(name)?
            .into_iter()
            .filter(|x| !x.is_nan())
            .collect();
        let tail = &v[v.len() / 2..];
        (!tail.is_empty()).then(|| tail.iter().sum::<f64>() / tail.len() as f64)
    }
}

pub fn read_log(path: &Path) -> Result<Thermo> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut th = Thermo::default();
    let mut map: Option<Vec<Option<usize>>> = None;
    for (ln, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"Step") {
            if th.columns.is_empty() {
                th.columns = words.iter().map(|w| w.to_string()).collect();
            }
            map = Some(
                words
                    .iter()
                    .map(|w| th.columns.iter().position(|c| c == w))
                    .collect(),
            );
            continue;
        }
        let Some(m) = &map else { continue };
        if words.first() == Some(&"Loop") || words.is_empty() {
            map = None;
            continue;
        }
        // LAMMPS prints warnings between thermo rows; the table goes on.
        if words[0].starts_with("WARNING") {
            continue;
        }
        let vals: Option<Vec<f64>> = words.iter().map(|w| w.parse::<f64>().ok()).collect();
        match vals {
            Some(v) if v.len() == m.len() => {
                let mut row = vec![f64::NAN; th.columns.len()];
                for (k, x) in v.into_iter().enumerate() {
                    if let Some(c) = m[k] {
                        row[c] = x;
                    }
                }
                th.rows.push(row);
            }
            // Other chatter inside a run ends the table quietly; a row of
            // the right width with a bad number is an error.
            Some(_) => map = None,
            None if words.len() == m.len() && words[0].parse::<f64>().is_ok() => {
                return Err(Error::Invalid(format!(
                    "{}: line {}: a thermo row with a value that is not a number: {line:?}",
                    path.display(),
                    ln + 1
                )))
            }
            None => map = None,
        }
    }
    if th.rows.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: no thermo table (a line starting with 'Step' followed by numbers)",
            path.display()
        )));
    }
    Ok(th)
}
