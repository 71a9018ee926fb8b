//! Arrhenius fit ln D = ln D0 − Ea/(kB T) (paper A Fig. 2d) by weighted
//! least squares in (1/kT, ln D), with weights from the per-run errors of D
//! (σ_lnD = σ_D / D), so that the errors of Ea and D0 are those propagated
//! from the runs. Without per-run errors the fit is unweighted and the
//! errors come from the scatter of the residuals.

use crate::error::{Error, Result};

/// Boltzmann constant, eV/K.
pub const KB_EV: f64 = 8.617_333_262e-5;

#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub t: f64,
    pub d: f64,
    /// Standard error of D (same unit); NaN or 0 when unknown.
    pub d_err: f64,
}

#[derive(Clone, Debug)]
pub struct Fit {
    pub ea_ev: f64,
    pub ea_stderr: f64,
    /// D0 in the unit of the input D.
    pub d0: f64,
    pub d0_stderr: f64,
    pub ln_d0: f64,
    pub ln_d0_stderr: f64,
    /// Correlation of ln D0 and Ea estimates.
    pub corr: f64,
    /// χ² per degree of freedom (weighted fit) or NaN.
    pub chi2_dof: f64,
    pub weighted: bool,
}

pub fn fit(points: &[Point]) -> Result<Fit> {
    if points.len() < 2 {
        return Err(Error::Invalid(format!(
            "an Arrhenius fit needs at least two temperatures, got {}",
            points.len()
        )));
    }
    for p in points {
        if !(p.t.is_finite() && p.t > 0.0 && p.d.is_finite() && p.d > 0.0) {
            return Err(Error::Invalid(format!(
                "T = {} K, D = {}: an Arrhenius fit needs T > 0 and D > 0",
                p.t, p.d
            )));
        }
    }
    let mut ts: Vec<f64> = points.iter().map(|p| p.t).collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    if ts.len() < 2 {
        return Err(Error::Invalid(
            "an Arrhenius fit needs at least two different temperatures".into(),
        ));
    }
    let weighted = points.iter().all(|p| p.d_err.is_finite() && p.d_err > 0.0);
    let x: Vec<f64> = points.iter().map(|p| 1.0 / (KB_EV * p.t)).collect();
    let y: Vec<f64> = points.iter().map(|p| p.d.ln()).collect();
    let w: Vec<f64> = points
        .iter()
        .map(|p| {
            if weighted {
                (p.d / p.d_err).powi(2)
            } else {
                1.0
            }
        })
        .collect();
    let s: f64 = w.iter().sum();
    let sx: f64 = w.iter().zip(&x).map(|(w, x)| w * x).sum();
    let sy: f64 = w.iter().zip(&y).map(|(w, y)| w * y).sum();
    let sxx: f64 = w.iter().zip(&x).map(|(w, x)| w * x * x).sum();
    let sxy: f64 = w.iter().zip(&x).zip(&y).map(|((w, x), y)| w * x * y).sum();
    let det = s * sxx - sx * sx;
    let slope = (s * sxy - sx * sy) / det;
    let icpt = (sxx * sy - sx * sxy) / det;
    let n = points.len();
    let chi2: f64 = w
        .iter()
        .zip(&x)
        .zip(&y)
        .map(|((w, x), y)| w * (y - icpt - slope * x).powi(2))
        .sum();
    let dof = n.saturating_sub(2);
    // Weighted: the covariance is (XᵀWX)⁻¹. Unweighted: scaled by the
    // residual variance, which needs a third point.
    let scale = if weighted {
        1.0
    } else if dof > 0 {
        chi2 / dof as f64
    } else {
        f64::NAN
    };
    let var_slope = s / det * scale;
    let var_icpt = sxx / det * scale;
    let cov = -sx / det * scale;
    let d0 = icpt.exp();
    Ok(Fit {
        ea_ev: -slope,
        ea_stderr: var_slope.sqrt(),
        d0,
        d0_stderr: d0 * var_icpt.sqrt(),
        ln_d0: icpt,
        ln_d0_stderr: var_icpt.sqrt(),
        corr: -cov / (var_slope * var_icpt).sqrt(),
        chi2_dof: if weighted && dof > 0 {
            chi2 / dof as f64
        } else {
            f64::NAN
        },
        weighted,
    })
}
