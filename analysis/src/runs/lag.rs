//! The longest lag of the VACF: asked for in ps, or by default 3 ps cut to
//! a quarter of the run once its length is known, so that every lag
//! averages over at least three quarters of the time origins.

use super::fmt_ps;
use crate::analysis::vacf::Vacf;
use crate::error::{Error, Result};

/// The default longest VACF lag when the run is long enough, ps.
pub const DEFAULT_MAX_LAG_PS: f64 = 3.0;

/// The VACF lag to collect, in frames `dt` ps apart (the default is cut by
/// [`settle`] once the run length is known).
pub fn frames(max_lag_ps: Option<f64>, dt: f64) -> Result<usize> {
    let ps = max_lag_ps.unwrap_or(DEFAULT_MAX_LAG_PS);
    if !ps.is_finite() || ps <= 0.0 {
        return Err(Error::Invalid(format!(
            "--max-lag-ps {ps}: the longest VACF lag must be a positive time in ps"
        )));
    }
    Ok(((ps / dt).round() as usize).max(2))
}

/// What [`settle`] has to say: a note on the default lag used, warnings
/// about a requested lag the run cannot give.
#[derive(Debug, Default)]
pub struct Settled {
    pub note: Option<String>,
    pub warnings: Vec<String>,
}

/// Cuts the default lag of `v` to a quarter of the run.
pub fn settle(v: &mut Vacf, max_lag_ps: Option<f64>) -> Settled {
    let dt = v.dt;
    let n = v.n_samples;
    let have = v.groups[0].phi[0].len().saturating_sub(1);
    let run_ps = n as f64 * dt;
    let mut out = Settled::default();
    match max_lag_ps {
        None => {
            let cap = (n / 4).max(2).min(have);
            if cap < have {
                for g in &mut v.groups {
                    for p in &mut g.phi {
                        p.truncate(cap + 1);
                    }
                }
            }
            out.note = Some(format!(
                "VACF lag {} ps (default: {} ps or a quarter of the {} ps run, whichever \
                 is shorter; set with --max-lag-ps)",
                fmt_ps(cap as f64 * dt),
                fmt_ps(DEFAULT_MAX_LAG_PS),
                fmt_ps(run_ps)
            ));
        }
        Some(want) => {
            if (have as f64 + 0.5) * dt < want {
                out.warnings.push(format!(
                    "--max-lag-ps {want} is longer than the run allows: the VACF stops at {} ps \
                     ({} velocity frames)",
                    fmt_ps(have as f64 * dt),
                    n
                ));
            }
        }
    }
    out
}
