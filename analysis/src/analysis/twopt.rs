//! Two-phase thermodynamics (2PT) of Lin, Blanco & Goddard, J. Chem. Phys.
//! 119, 11792 (2003): the dimensionless diffusivity Δ, the fluidicity f_g
//! and the split of the VDOS into a hard-sphere-gas part and a solid part.
//! The memory-function variant (Desjarlais, PRE 88, 062145, 2013) is not
//! implemented.
//!
//! The VDOS here is per atom, normalised to 3 (eq. 10 of paper A), so the
//! S(0)/N of the 2PT paper is F(0) and the gas part integrates to 3 f_g.

use std::f64::consts::PI;

/// Δ = (2 F(0)/9) (π kT/m)^½ (N/V)^⅓ (6/π)^⅔ with F(0) in ps, kT/m in
/// (Å/ps)² and N/V in Å⁻³ (LBG 2003 eq. 34 with S(0) = N F(0)).
pub fn delta(f0_ps: f64, kt_over_m: f64, density: f64) -> f64 {
    2.0 * f0_ps / 9.0 * (PI * kt_over_m).sqrt() * density.cbrt() * (6.0 / PI).powf(2.0 / 3.0)
}

/// The 2PT equation 2Δ^(−9/2) f^(15/2) − 6Δ^(−3) f^5 − Δ^(−3/2) f^(7/2)
/// + 6Δ^(−3/2) f^(5/2) + 2f − 2.
pub fn residual(f: f64, delta: f64) -> f64 {
    2.0 * delta.powf(-4.5) * f.powf(7.5)
        - 6.0 * delta.powi(-3) * f.powi(5)
        - delta.powf(-1.5) * f.powf(3.5)
        + 6.0 * delta.powf(-1.5) * f.powf(2.5)
        + 2.0 * f
        - 2.0
}

/// The root f_g in (0, 1] of the 2PT equation; 0 for Δ ≤ 0.
///
/// With y = f^(5/2) Δ^(−3/2) the equation reads f = 2(1−y)³/(2−y)
/// (Carnahan–Starling), whose right side falls from 1 to 0 as y goes from
/// 0 to 1 while y grows with f: the root is unique and bisection finds it.
pub fn fluidicity(delta: f64) -> f64 {
    if delta.is_nan() || delta <= 0.0 {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if residual(mid, delta) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The hard-sphere-gas VDOS F_g(ν) = F(0) / (1 + (π F(0) ν / 6 f)²).
pub fn gas_vdos(freq_thz: &[f64], f0: f64, f: f64) -> Vec<f64> {
    if f <= 0.0 {
        return vec![0.0; freq_thz.len()];
    }
    freq_thz
        .iter()
        .map(|&nu| f0 / (1.0 + (PI * f0 * nu / (6.0 * f)).powi(2)))
        .collect()
}

#[derive(Clone, Debug)]
pub struct TwoPt {
    pub f0: f64,
    pub delta: f64,
    pub f_g: f64,
    pub freq_thz: Vec<f64>,
    pub total: Vec<f64>,
    pub gas: Vec<f64>,
    pub solid: Vec<f64>,
}

/// 2PT from a VDOS normalised to 3 (F(0) = `total[0]`).
pub fn analyse(freq_thz: &[f64], total: &[f64], kt_over_m: f64, density: f64) -> TwoPt {
    let f0 = total[0].max(0.0);
    let d = delta(f0, kt_over_m, density);
    let f_g = fluidicity(d);
    let gas = gas_vdos(freq_thz, f0, f_g);
    let solid = total.iter().zip(&gas).map(|(t, g)| t - g).collect();
    TwoPt {
        f0,
        delta: d,
        f_g,
        freq_thz: freq_thz.to_vec(),
        total: total.to_vec(),
        gas,
        solid,
    }
}
