//! MSD, D and its error, VACF/VDOS against closed-form truths.

mod common;

use common::*;
use dprs_analysis::analysis::diffusion::{blocks_for_window, estimate, DEstimate, FitWindow};
use dprs_analysis::analysis::msd::{GroupMsd, MsdCollector};
use dprs_analysis::analysis::select::Selection;
use dprs_analysis::analysis::vacf::{self, VacfCollector};
use std::collections::HashSet;

/// D per axis x, y, z and total for the atoms `ids` (all if None).
fn d_axes(
    t: &Traj,
    ids: Option<&[u64]>,
    blocks: usize,
    window: Option<FitWindow>,
    dt: f64,
) -> (Vec<DEstimate>, FitWindow) {
    let set: Option<HashSet<u64>> = ids.map(|i| i.iter().copied().collect());
    let sel = Selection::new(&t.ids, &t.types, None, set.as_ref(), false).unwrap();
    let mut c = MsdCollector::new(sel.atoms.clone());
    for f in t.frames() {
        c.push(&f);
    }
    let msd = c.compute(&sel, blocks).unwrap();
    let w = window.unwrap_or(FitWindow::default_for(msd.block_len));
    let g = &msd.groups[0];
    let d = [&[0usize][..], &[1], &[2], &[0, 1, 2]]
        .iter()
        .map(|axes| {
            let full = GroupMsd::combined(&g.axes, axes);
            let b: Vec<Vec<f64>> = g
                .blocks
                .iter()
                .map(|b| GroupMsd::combined(b, axes))
                .collect();
            estimate(&full, &b, axes.len(), w, dt)
        })
        .collect();
    (d, w)
}

/// Relative standard deviation of a D fitted to the time-averaged MSD of
/// `units` independent 1D random walks of `frames` steps, bounded by the
/// MSD variance at the window end k: Var/MSD² ≈ 4k/(3T)
/// (Qian, Sheetz & Elson, Biophys. J. 60, 910 (1991)).
fn rel_sigma(k: usize, frames: usize, units: usize) -> f64 {
    (4.0 * k as f64 / (3.0 * frames as f64 * units as f64)).sqrt()
}

#[test]
fn free_diffusion_recovers_anisotropic_d() {
    let (n, frames, dt) = (150, 1000, 0.02);
    let truth = [0.5, 0.1, 0.02];
    let t = free_diffusion(n, frames, dt, truth, 30.0, 7);
    let (d, w) = d_axes(&t, None, 5, None, dt);
    for a in 0..3 {
        let tol = 4.0 * truth[a] * rel_sigma(w.to, frames, n);
        assert!(
            (d[a].value - truth[a]).abs() < tol,
            "axis {a}: {} vs {} ± {tol}",
            d[a].value,
            truth[a]
        );
    }
    let total = truth.iter().sum::<f64>() / 3.0;
    let tol =
        4.0 * rel_sigma(w.to, frames, n) * (truth.iter().map(|x| x * x).sum::<f64>()).sqrt() / 3.0;
    assert!(
        (d[3].value - total).abs() < tol,
        "total {} vs {total}",
        d[3].value
    );
}

fn hop_lattice() -> Lattice {
    Lattice {
        cells: 5,
        a: 3.0,
        dt: 0.05,
        w0: 2.0 * std::f64::consts::PI * 4.0,
        gamma: 4.0,
        s2: 20.0,
        chains: 4,
        p_hop: 0.1,
    }
}

#[test]
fn planted_chain_hops_diffuse_along_x_only() {
    let p = hop_lattice();
    let (t, chain) = sc_lattice(p, 800, 11);
    let (d, _) = d_axes(&t, Some(&chain), 5, None, p.dt);
    let truth = p.d_chain();
    // Each chain is one unit: 4 independent units, 5 atoms each.
    assert!(
        (d[0].value - truth).abs() < 4.0 * d[0].stderr,
        "D_x {} ± {} vs {truth}",
        d[0].value,
        d[0].stderr
    );
    for (a, da) in d.iter().enumerate().take(3).skip(1) {
        // Vibrations only: the slope is zero up to the noise of a bounded MSD.
        assert!(
            da.value.abs() < 1e-3 * truth + 4.0 * da.stderr,
            "D axis {a} = {}",
            da.value
        );
        assert!(da.value.abs() < 0.01 * truth);
    }
    // The solid atoms do not diffuse in any direction.
    let solid: Vec<u64> = t
        .ids
        .iter()
        .copied()
        .filter(|i| !chain.contains(i))
        .collect();
    let (ds, _) = d_axes(&t, Some(&solid), 5, None, p.dt);
    assert!(
        ds[3].value.abs() < 0.01 * truth,
        "solid D = {}",
        ds[3].value
    );
}

/// The block error must cover the truth at its stated confidence when
/// atoms hop together: an error from the spread over atoms would be √5
/// too small here.
#[test]
fn d_uncertainty_covers_truth_on_planted_hops() {
    let mut p = hop_lattice();
    p.cells = 4;
    // POSTPROC_COVERAGE_SEEDS raises the count for a sharper measurement.
    let seeds: u64 = std::env::var("POSTPROC_COVERAGE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let truth = p.d_chain();
    let mut covered = 0;
    let mut values = Vec::new();
    let mut errs = Vec::new();
    for seed in 0..seeds {
        let (t, chain) = sc_lattice(p, 600, 1000 + seed);
        let (d, _) = d_axes(&t, Some(&chain), 5, None, p.dt);
        if d[0].ci95[0] <= truth && truth <= d[0].ci95[1] {
            covered += 1;
        }
        values.push(d[0].value);
        errs.push(d[0].stderr);
    }
    let n = seeds as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let rms_err = (errs.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    eprintln!("coverage {covered}/{seeds} of the 95% intervals; sd of D {sd:.4}, rms stderr {rms_err:.4}, mean D {mean:.4} (truth {truth})");
    // Binomial(n, 0.95): at n = 40, P(X ≤ 33) ≈ 0.01; fewer covered means the error is too small.
    let lo = n * 0.95 - 3.0 * (n * 0.95 * 0.05).sqrt();
    assert!(covered as f64 >= lo.floor(), "coverage {covered}/{seeds}");
    // The stated stderr should match the real scatter: the sample sd of 40
    // values is known to ±11 % (1σ) at n = 40; a 3× too small error fails clearly.
    let ratio = rms_err / sd;
    assert!((0.6..1.7).contains(&ratio), "rms stderr / sd = {ratio}");
    // The estimator itself is unbiased: the mean of 40 values within 4 σ/√40.
    assert!(
        (mean - truth).abs() < 4.0 * sd / n.sqrt(),
        "mean {mean} vs {truth}"
    );
}

/// A fit window reaching a quarter of the run no longer fits in one of 5
/// blocks; the blocks adapt (3 here) and the 95 % interval, now with
/// t(0.975, 2), must still cover the truth at its stated rate.
#[test]
fn d_uncertainty_covers_truth_with_a_long_fit_window() {
    let mut p = hop_lattice();
    p.cells = 4;
    let seeds: u64 = std::env::var("POSTPROC_COVERAGE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let frames = 600;
    let w = FitWindow {
        from: 15,
        to: frames / 4,
    };
    let blocks = blocks_for_window(frames, 5, w.to);
    assert_eq!(blocks, 3, "600 frames, window to 150: blocks of 200");
    let truth = p.d_chain();
    let (mut covered, mut values, mut errs) = (0, Vec::new(), Vec::new());
    for seed in 0..seeds {
        let (t, chain) = sc_lattice(p, frames, 5000 + seed);
        let (d, _) = d_axes(&t, Some(&chain), blocks, Some(w), p.dt);
        assert_eq!(d[0].blocks.len(), 3);
        assert!(d[0].stderr.is_finite() && d[0].stderr > 0.0);
        if d[0].ci95[0] <= truth && truth <= d[0].ci95[1] {
            covered += 1;
        }
        values.push(d[0].value);
        errs.push(d[0].stderr);
    }
    let n = seeds as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let rms_err = (errs.iter().map(|e| e * e).sum::<f64>() / n).sqrt();
    eprintln!("long window: coverage {covered}/{seeds}; sd of D {sd:.4}, rms stderr {rms_err:.4}, mean {mean:.4} (truth {truth})");
    // Binomial(n, 0.95) lower 3σ bound, as for the default window.
    let lo = n * 0.95 - 3.0 * (n * 0.95 * 0.05).sqrt();
    assert!(covered as f64 >= lo.floor(), "coverage {covered}/{seeds}");
    assert!(
        (mean - truth).abs() < 4.0 * sd / n.sqrt(),
        "mean {mean} vs {truth}"
    );
}

#[test]
fn damped_oscillator_vacf_and_vdos() {
    let p = Lattice {
        cells: 5,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 2.0,
        s2: 20.0,
        chains: 0,
        p_hop: 0.0,
    };
    let frames = 1500;
    let (t, _) = sc_lattice(p, frames, 3);
    let sel = Selection::new(&t.ids, &t.types, None, None, false).unwrap();
    let lag = 250; // 5 ps, ten amplitude decay times 2/γ
    let mut c = VacfCollector::new(&sel, lag);
    for f in t.frames() {
        c.push(&f).unwrap();
    }
    let v = c.finish(&sel, p.dt).unwrap();
    let phi = &v.groups[0].phi;
    // Exact VACF of the Langevin oscillator.
    let a = 0.5 * p.gamma;
    let w1 = (p.w0 * p.w0 - a * a).sqrt();
    let exact = |tt: f64| p.s2 * (-a * tt).exp() * ((w1 * tt).cos() - a / w1 * (w1 * tt).sin());
    // Var of a sample autocovariance ≤ 2 Σ_m C(m)² / N ≤ s2² · 4/(γ dt N), N = samples.
    let samples = (t.ids.len() * frames) as f64;
    let sigma = p.s2 * (4.0 / (p.gamma * p.dt * samples)).sqrt();
    for k in [0, 3, 7, 12, 25, 50, 100] {
        for ax in phi {
            let e = exact(k as f64 * p.dt);
            assert!(
                (ax[k] - e).abs() < 5.0 * sigma,
                "lag {k}: {} vs {e} (σ {sigma})",
                ax[k]
            );
        }
    }
    let spec = vacf::vdos(phi, p.dt, 1.0 / p.s2);
    let peak = vacf::peak(&spec.freq_thz, &spec.total).unwrap();
    // The window (Hann over 5 ps) broadens by ~0.2 THz but shifts the
    // maximum of this near-symmetric peak much less; noise shifts it by
    // about HWHM·√(2ε) with ε ≈ 3σ/s2.
    let hwhm = p.gamma / (4.0 * std::f64::consts::PI);
    let tol = hwhm * (6.0 * sigma / p.s2).sqrt() * 4.0
        + 0.25 * (spec.freq_thz[1] - spec.freq_thz[0])
        + 0.02;
    assert!(
        (peak - p.peak_thz()).abs() < tol,
        "peak {peak} vs {} ± {tol}",
        p.peak_thz()
    );
    // m/kT given exactly: ∫F = m⟨v²⟩/kT·3, whose relative error is √(2/N) per axis.
    let integral = vacf::integral(&spec.freq_thz, &spec.total);
    assert!(
        (integral - 3.0).abs() < 3.0 * 5.0 * (2.0 / samples).sqrt() * 3.0,
        "∫F = {integral}"
    );
    // No diffusion: F(0) and Green–Kubo are zero within the noise.
    for ax in phi {
        assert!(vacf::d_from_f0(ax, p.dt).abs() < 0.01 * p.s2 / p.gamma);
        assert!(vacf::green_kubo(ax, p.dt).abs() < 0.01 * p.s2 / p.gamma);
    }
}

#[test]
fn msd_f0_and_green_kubo_agree_for_langevin_particles() {
    let (n, frames, dt, gamma, s2) = (100, 2000, 0.01, 10.0, 20.0);
    let truth = s2 / gamma; // 2 Å²/ps
    let t = langevin_free(n, frames, dt, gamma, s2, 40.0, 5);
    // Fit from 5 relaxation times on: the ballistic curvature is then e⁻⁵ small.
    let w = FitWindow { from: 50, to: 200 };
    let (d, _) = d_axes(&t, None, 5, Some(w), dt);
    let sel = Selection::new(&t.ids, &t.types, None, None, false).unwrap();
    let mut c = VacfCollector::new(&sel, 100); // 1 ps = 10 τ
    for f in t.frames() {
        c.push(&f).unwrap();
    }
    let v = c.finish(&sel, dt).unwrap();
    let phi = &v.groups[0].phi;
    let f0 = phi.iter().map(|p| vacf::d_from_f0(p, dt)).sum::<f64>() / 3.0;
    let gk = phi.iter().map(|p| vacf::green_kubo(p, dt)).sum::<f64>() / 3.0;
    let s_msd = truth * rel_sigma(w.to, frames, 3 * n);
    let s_vacf = truth * rel_sigma(100, frames, 3 * n);
    let tol = 4.0 * (s_msd * s_msd + s_vacf * s_vacf).sqrt();
    assert!(
        (d[3].value - truth).abs() < 4.0 * s_msd,
        "MSD D {} vs {truth}",
        d[3].value
    );
    assert!(
        (f0 - truth).abs() < 4.0 * s_vacf + 0.01 * truth,
        "F(0) D {f0} vs {truth}"
    );
    assert!(
        (gk - truth).abs() < 4.0 * s_vacf + 0.01 * truth,
        "GK D {gk} vs {truth}"
    );
    assert!(
        (d[3].value - f0).abs() < tol + 0.01 * truth
            && (d[3].value - gk).abs() < tol + 0.01 * truth
    );
    // The VDOS is the Lorentzian 4·γ/(γ² + (2πν)²) per axis: F(0) = 12/γ in total.
    let spec = vacf::vdos(phi, dt, 1.0 / s2);
    assert!(
        (spec.total[0] - 12.0 / gamma).abs() < 0.05 * 12.0 / gamma,
        "F(0) {}",
        spec.total[0]
    );
}

#[test]
fn finite_difference_velocities_when_the_dump_has_none() {
    let (n, frames, dt, gamma, s2) = (60, 800, 0.01, 10.0, 20.0);
    let mut t = langevin_free(n, frames, dt, gamma, s2, 40.0, 9);
    t.vel = None;
    let sel = Selection::new(&t.ids, &t.types, None, None, false).unwrap();
    let mut c = VacfCollector::new(&sel, 100);
    for f in t.frames() {
        c.push(&f).unwrap();
    }
    let v = c.finish(&sel, dt).unwrap();
    assert_eq!(v.source, vacf::VelocitySource::FiniteDifference);
    // Σ_k Φ_fd(k)·dt telescopes to the MSD slope: D stays exact in expectation.
    let gk = v.groups[0]
        .phi
        .iter()
        .map(|p| vacf::green_kubo(p, dt))
        .sum::<f64>()
        / 3.0;
    let truth = s2 / gamma;
    assert!(
        (gk - truth).abs() < 4.0 * truth * rel_sigma(100, frames, 3 * n) + 0.02 * truth,
        "{gk}"
    );
}
