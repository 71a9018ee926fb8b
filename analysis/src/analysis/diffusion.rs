//! D from the slope of the MSD (paper A eq. 4) with an error bar that stays
//! honest when atoms move together.
//!
//! The error comes from time blocks: the trajectory is cut into B equal
//! blocks, D is fitted in each block over the same lag window, and the
//! spread of the B values gives the standard error of their mean. Blocks far
//! longer than the fit window are nearly independent whatever the atoms do
//! *together*, whereas an error from the spread over atoms assumes the atoms
//! are independent and is too small by √(atoms per cooperative unit).

use crate::error::{Error, Result};

/// Lags (in frames, inclusive) over which the MSD is fitted by a straight line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitWindow {
    pub from: usize,
    pub to: usize,
}

impl FitWindow {
    /// From a tenth to half of a block: past the ballistic and vibrational
    /// start, before the lags where few time origins remain.
    pub fn default_for(block_len: usize) -> FitWindow {
        let from = (block_len / 10).max(1);
        FitWindow {
            from,
            to: (block_len / 2).max(from + 1),
        }
    }

    /// A window given in ps; it must fit inside one time block.
    pub fn from_ps(from_ps: f64, to_ps: f64, dt: f64, block_len: usize) -> Result<FitWindow> {
        let from = (from_ps / dt).round().max(0.0) as usize;
        let to = (to_ps / dt).round() as usize;
        if to <= from {
            return Err(Error::Invalid(format!(
                "fit window {from_ps}..{to_ps} ps holds fewer than two MSD points (dt = {dt} ps)"
            )));
        }
        if to >= block_len {
            return Err(Error::Invalid(format!(
                "--fit-to {to_ps} ps is longer than a time block ({:.4} ps); use fewer --blocks \
                 or a shorter window",
                (block_len - 1) as f64 * dt
            )));
        }
        Ok(FitWindow { from, to })
    }
}

/// How many time blocks the error of D can use when the fit window reaches
/// lag `to` (frames): each block of ⌊n/B⌋ frames must hold lags 0..=to, so
/// B = min(requested, ⌊n/(to+1)⌋); fewer than 2 means no error bar.
pub fn blocks_for_window(n_frames: usize, requested: usize, to: usize) -> usize {
    (n_frames / (to + 1)).min(requested)
}

/// Least-squares slope of `curve` (sampled every `dt`) over the window.
pub fn slope(curve: &[f64], w: FitWindow, dt: f64) -> f64 {
    let pts = &curve[w.from..=w.to.min(curve.len() - 1)];
    let n = pts.len() as f64;
    let tm = (w.from + w.from + pts.len() - 1) as f64 * 0.5 * dt;
    let ym = pts.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in pts.iter().enumerate() {
        let x = (w.from + i) as f64 * dt - tm;
        sxy += x * (y - ym);
        sxx += x * x;
    }
    sxy / sxx
}

/// Two-sided 95 % quantile of Student's t with `dof` degrees of freedom.
pub fn t975(dof: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match dof {
        0 => f64::NAN,
        1..=30 => T[dof - 1],
        _ => 1.96 + 2.4 / dof as f64,
    }
}

#[derive(Clone, Debug)]
pub struct DEstimate {
    /// Å²/ps, from the whole trajectory.
    pub value: f64,
    /// Standard error, Å²/ps, from the spread of the block values.
    pub stderr: f64,
    /// 95 % confidence interval value ± t(B−1)·stderr.
    pub ci95: [f64; 2],
    pub blocks: Vec<f64>,
}

/// D = slope / (2·dims) of the summed MSD of `dims` axes.
pub fn estimate(
    full: &[f64],
    blocks: &[Vec<f64>],
    dims: usize,
    w: FitWindow,
    dt: f64,
) -> DEstimate {
    let k = 1.0 / (2.0 * dims as f64);
    let value = slope(full, w, dt) * k;
    let vals: Vec<f64> = blocks.iter().map(|b| slope(b, w, dt) * k).collect();
    estimate_from_values(value, vals)
}

/// [`estimate`] once the D of the whole run and of every block are known
/// (each `slope / (2·dims)`): the block spread gives the error.
pub fn estimate_from_values(value: f64, vals: Vec<f64>) -> DEstimate {
    let nb = vals.len();
    let stderr = if nb >= 2 {
        let mean = vals.iter().sum::<f64>() / nb as f64;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (nb - 1) as f64;
        (var / nb as f64).sqrt()
    } else {
        f64::NAN
    };
    let half = t975(nb.saturating_sub(1)) * stderr;
    DEstimate {
        value,
        stderr,
        ci95: [value - half, value + half],
        blocks: vals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_with_offset() {
        let c: Vec<f64> = (0..50).map(|k| 3.0 + 0.5 * k as f64 * 0.1).collect();
        let w = FitWindow { from: 5, to: 40 };
        assert!((slope(&c, w, 0.1) - 0.5).abs() < 1e-12);
        let d = estimate(&c, &[c.clone(), c.clone()], 1, w, 0.1);
        assert!((d.value - 0.25).abs() < 1e-12 && d.stderr.abs() < 1e-12);
    }
}
