//! Warnings about how well the frames and the VACF lag sample the
//! vibrations: an unresolved band, a VACF cut before it decays, aliasing
//! above the Nyquist frequency, lags that average over few time origins.

use super::fmt_ps;
use crate::analysis::vacf;

/// Warnings about how well the frames and the VACF lag sample the
/// vibrations, with the numbers that trigger them. `phi` is the VACF
/// averaged over axes, `n` the number of velocity frames, `freq`/`f` the VDOS.
pub fn warnings(phi: &[f64], dt: f64, n: usize, freq: &[f64], f: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let lags = phi.len().saturating_sub(1);
    let lag_ps = lags as f64 * dt;
    let run_ps = n as f64 * dt;
    let peak = vacf::peak(freq, f);
    let nu_min = 1.0 / lag_ps.max(f64::MIN_POSITIVE);
    let nyquist = 0.5 / dt;
    let show = |x: f64| fmt_ps(x);
    match peak {
        Some(p) if nu_min > 0.5 * p => out.push(format!(
            "VACF lag {} ps resolves nothing below {} THz, yet the VDOS peak is at {} THz: \
             the band is not resolved; use a longer --max-lag-ps (and a run several times longer)",
            show(lag_ps),
            show(nu_min),
            show(p)
        )),
        None if lags < 20 || nu_min > 0.1 * nyquist => out.push(format!(
            "VACF lag {} ps ({lags} frames) resolves nothing below {} THz and the VDOS shows no \
             peak below the Nyquist frequency {} THz: nothing of the band is resolved",
            show(lag_ps),
            show(nu_min),
            show(nyquist)
        )),
        _ => {}
    }
    if phi.len() > 2 && phi[0] > 0.0 {
        let tail = phi[lags].abs() / phi[0];
        if tail > 0.1 {
            out.push(format!(
                "the VACF has not decayed at the longest lag {} ps (still {:.0} % of Φ(0)): \
                 F(0), D from F(0) and the Green–Kubo D are cut short",
                show(lag_ps),
                100.0 * tail
            ));
        }
    }
    let total: f64 = vacf::integral(freq, f);
    if total > 0.0 && freq.len() > 4 {
        let top = 0.8 * nyquist;
        let k = freq
            .iter()
            .position(|&x| x >= top)
            .unwrap_or(freq.len() - 1);
        let above = vacf::integral(&freq[k..], &f[k..]);
        if above / total > 0.02 || peak.is_some_and(|p| p > 0.5 * nyquist) {
            out.push(format!(
                "frames {} ps apart sample vibrations only up to the Nyquist frequency {} THz; \
                 {:.0} % of the VDOS lies above {} THz{}: faster motion is folded back (aliased); \
                 write frames more often",
                show(dt),
                show(nyquist),
                100.0 * (above / total).max(0.0),
                show(top),
                peak.map(|p| format!(" and its peak is at {} THz", show(p)))
                    .unwrap_or_default()
            ));
        }
    }
    if 2 * lags > n {
        out.push(format!(
            "VACF lag {} ps is {:.0} % of the {} ps run: lags past half the run average over \
             few time origins (the longest over {})",
            show(lag_ps),
            100.0 * lag_ps / run_ps,
            show(run_ps),
            n.saturating_sub(lags)
        ));
    }
    if 3 * lags > n {
        out.push(format!(
            "the Green–Kubo D averages the running integral over lags {}–{} ps, where only {}–{} \
             of {n} time origins remain: its value rests on few independent samples",
            show(0.5 * lag_ps),
            show(lag_ps),
            n.saturating_sub(lags),
            n.saturating_sub(lags / 2)
        ));
    }
    out
}
