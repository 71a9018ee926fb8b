//! The time between frames. Rates are never computed from step numbers
//! alone: the user gives `--dt`, `--timestep` or a LAMMPS log.

use crate::error::{Error, Result};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// Time between consecutive frames, ps.
    PerFrame(f64),
    /// Time per MD step, ps; frames are separated by their step difference.
    PerStep(f64),
}

/// Parses "0.01", "10fs", "0.5 ps", "1ns" into ps (a bare number is ps).
pub fn parse_ps(text: &str) -> Result<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| Error::Time(format!("cannot read a time from {text:?}")))?;
    let scale = match unit.trim() {
        "" | "ps" => 1.0,
        "fs" => 1e-3,
        "ns" => 1e3,
        "as" => 1e-6,
        other => {
            return Err(Error::Time(format!(
                "unknown time unit {other:?} in {text:?} (use fs, ps or ns)"
            )))
        }
    };
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::Time(format!("time {text:?} must be positive")));
    }
    Ok(value * scale)
}

/// The MD time step (ps) from a LAMMPS log: its `units` and `timestep`
/// commands, or the unit style's default step when none was given.
pub fn timestep_from_log(path: &Path) -> Result<f64> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut units = String::from("lj");
    let mut steps: Vec<f64> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("units"), Some(u)) => units = u.to_string(),
            (Some("timestep"), Some(v)) => {
                let v: f64 = v.parse().map_err(|_| {
                    Error::Time(format!(
                        "{}: cannot read the timestep in {line:?}",
                        path.display()
                    ))
                })?;
                steps.push(v);
            }
            _ => {}
        }
    }
    let to_ps = match units.as_str() {
        "metal" => 1.0,
        "real" => 1e-3,
        "electron" => 1e-3,
        "si" => 1e12,
        "cgs" => 1e12,
        other => {
            return Err(Error::Time(format!(
                "{}: units {other} have no time in ps; pass --dt or --timestep",
                path.display()
            )))
        }
    };
    let dt = match steps.as_slice() {
        [] => match units.as_str() {
            "metal" => 0.001,
            "real" => 1.0,
            _ => {
                return Err(Error::Time(format!(
                    "{}: no timestep command; pass --timestep",
                    path.display()
                )))
            }
        },
        [first, rest @ ..] => {
            if rest.iter().any(|v| v != first) {
                return Err(Error::Time(format!(
                    "{}: the timestep changes during the run; pass --dt or --timestep",
                    path.display()
                )));
            }
            *first
        }
    };
    Ok(dt * to_ps)
}

impl Clock {
    /// The time between frames (ps) for the step numbers read, plus warnings.
    pub fn frame_dt(&self, steps: &[u64]) -> Result<(f64, Vec<String>)> {
        let mut warnings = Vec::new();
        let diffs: Vec<u64> = steps.windows(2).map(|w| w[1] - w[0]).collect();
        let uneven = diffs.iter().position(|&d| d != diffs[0]);
        match *self {
            Clock::PerFrame(dt) => {
                if let Some(i) = uneven {
                    warnings.push(format!(
                        "frames are not evenly spaced in steps (step {} -> {} vs {} -> {}); \
                         --dt assumes they are {dt} ps apart",
                        steps[i],
                        steps[i + 1],
                        steps[0],
                        steps[1]
                    ));
                }
                Ok((dt, warnings))
            }
            Clock::PerStep(ts) => {
                if diffs.is_empty() {
                    return Err(Error::Time(
                        "one frame only: cannot get the time between frames from --timestep".into(),
                    ));
                }
                if let Some(i) = uneven {
                    return Err(Error::Time(format!(
                        "frames are not evenly spaced in time (step {} -> {} vs {} -> {}); \
                         the time correlations need a constant time between frames",
                        steps[i],
                        steps[i + 1],
                        steps[0],
                        steps[1]
                    )));
                }
                Ok((diffs[0] as f64 * ts, warnings))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_ps("0.01").unwrap(), 0.01);
        assert!((parse_ps("10fs").unwrap() - 0.01).abs() < 1e-15);
        assert_eq!(parse_ps("2 ns").unwrap(), 2000.0);
        assert_eq!(parse_ps("1e-3ps").unwrap(), 1e-3);
        assert!(parse_ps("3 parsecs").is_err());
        assert!(parse_ps("-1").is_err());
    }

    #[test]
    fn per_step_clock_needs_even_spacing() {
        let c = Clock::PerStep(0.001);
        assert!((c.frame_dt(&[0, 10, 20]).unwrap().0 - 0.01).abs() < 1e-15);
        assert!(c.frame_dt(&[0, 10, 30]).is_err());
        assert_eq!(
            Clock::PerFrame(0.5).frame_dt(&[0, 10, 30]).unwrap().1.len(),
            1
        );
    }
}
