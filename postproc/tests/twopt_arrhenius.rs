//! 2PT fluidicity limits and the Arrhenius fit against planted truths.

mod common;

use common::*;
use dprs_analysis::analysis::arrhenius::{fit, Point, KB_EV};
use dprs_analysis::analysis::select::{Group, Selection};
use dprs_analysis::analysis::twopt::{self, fluidicity};
use dprs_analysis::analysis::vacf::{self, VacfCollector};
use serde_json::Value;

#[test]
fn fluidicity_solves_the_carnahan_starling_form_of_the_2pt_equation() {
    // With y = f^(5/2) Δ^(-3/2) the 2PT equation is f = 2(1−y)³/(2−y):
    // pick y, get f and Δ in closed form, and ask the solver for f back.
    for y in [1e-4f64, 0.01, 0.1, 0.3, 0.45, 0.7] {
        let f: f64 = 2.0 * (1.0 - y).powi(3) / (2.0 - y);
        let delta = f.powf(5.0 / 3.0) * y.powf(-2.0 / 3.0);
        assert!(
            (fluidicity(delta) - f).abs() < 1e-9,
            "y {y}: {} vs {f}",
            fluidicity(delta)
        );
    }
    assert_eq!(fluidicity(0.0), 0.0);
    assert!(fluidicity(1e6) > 0.999);
}

/// The gas constant in g/mol · (Å/ps)² / K (8.314462618 J/(mol K); 1 J/mol =
/// 0.1 g/mol Å²/ps²), written here rather than taken from postproc.
const R_GAS: f64 = 0.831_446_261_8;

/// The 2PT dimensionless diffusivity of Lin, Blanco & Goddard, J. Chem.
/// Phys. 119, 11792 (2003), eq. 34, written out from the paper and not from
/// postproc: Δ = (2 s0 / 9N) (π kT/m)^½ (N/V)^⅓ (6/π)^⅔, with s0 = S(0) the
/// total density of states at zero frequency (S normalised to 3N) in ps, T
/// in K, m in g/mol, V in Å³.
fn delta_lbg(s0_ps: f64, n_atoms: f64, temperature_k: f64, mass: f64, volume_a3: f64) -> f64 {
    let kt_over_m = R_GAS * temperature_k / mass; // (Å/ps)²
    let pi = std::f64::consts::PI;
    (2.0 * s0_ps / (9.0 * n_atoms))
        * (pi * kt_over_m).sqrt()
        * (n_atoms / volume_a3).cbrt()
        * (6.0 / pi).powf(2.0 / 3.0)
}

#[test]
fn delta_is_the_lin_blanco_goddard_formula() {
    // By hand: (2/9) √π (6/π)^⅔ = 0.2222 · 1.77245 · 1.53934 = 0.606313 for
    // s0/N = 1 ps, kT/m = 1 (Å/ps)², N/V = 1 Å⁻³.
    let by_hand: f64 = 2.0 / 9.0 * 1.772_453_850_905_516 * 1.539_338_926_236_506;
    assert!((by_hand - 0.606_312_712_812_590_5).abs() < 1e-15);
    let (t1, m1) = (1.0 / R_GAS, 1.0); // kT/m = 1
    assert!((delta_lbg(1000.0, 1000.0, t1, m1, 1000.0) - by_hand).abs() < 1e-14);
    // An argon-like gas: s0/N = 0.5 ps, 300 K, 39.948 g/mol, 0.02 Å⁻³:
    // 0.1111 · 4.4290 · 0.27144 · 1.5393 = 0.20562.
    let ar = delta_lbg(0.5 * 500.0, 500.0, 300.0, 39.948, 500.0 / 0.02);
    assert!((ar - 0.205_62).abs() < 1e-5, "{ar}");
    // postproc's Δ takes F(0) = s0/N (its VDOS is per atom, normalised to
    // 3), kT/m and N/V.
    for (s0_per_atom, t, m, n_over_v) in [
        (1.0, 1.0 / R_GAS, 1.0, 1.0),
        (0.5, 300.0, 39.948, 0.02),
        (0.03, 2000.0, 63.546, 0.085),
        (7.0, 50.0, 4.0026, 0.001),
    ] {
        let n = 864.0;
        let want = delta_lbg(s0_per_atom * n, n, t, m, n / n_over_v);
        let got = twopt::delta(s0_per_atom, R_GAS * t / m, n_over_v);
        assert!(
            (got / want - 1.0).abs() < 1e-12,
            "F(0) {s0_per_atom}: {got} vs {want}"
        );
    }
}

/// F(0) of `groups` disjoint atom sets, for replica error bars.
fn f0_by_group(t: &Traj, groups: usize, lag: usize, dt: f64, m_over_kt: f64) -> (f64, Vec<f64>) {
    let n = t.ids.len();
    let mut g = vec![Group {
        name: "all".into(),
        members: (0..n).collect(),
    }];
    for k in 0..groups {
        g.push(Group {
            name: format!("g{k}"),
            members: (k..n).step_by(groups).collect(),
        });
    }
    let sel = Selection {
        atoms: (0..n).collect(),
        groups: g,
    };
    let mut c = VacfCollector::new(&sel, lag);
    for f in t.frames() {
        c.push(&f).unwrap();
    }
    let v = c.finish(&sel, dt).unwrap();
    let f0: Vec<f64> = v
        .groups
        .iter()
        .map(|g| vacf::vdos(&g.phi, dt, m_over_kt).total[0])
        .collect();
    (f0[0], f0[1..].to_vec())
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn fluidicity_of_a_harmonic_solid_is_zero_within_its_error() {
    let p = Lattice {
        cells: 5,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: 20.0,
        chains: 0,
        p_hop: 0.0,
    };
    let (t, _) = sc_lattice(p, 1500, 21);
    let (f0, groups) = f0_by_group(&t, 8, 150, p.dt, 1.0 / p.s2);
    let (_, se) = mean_sd(&groups);
    // Bounded motion: the spectrum's F(0) is 0, but the estimator sees the
    // 5 THz peak through the Hann window. Its expectation follows from the
    // exact VACF of the damped oscillator, s2 e^{−γt/2}(cos ω1t − γ/(2ω1) sin ω1t),
    // put through the same window and trapezoid rule (3 axes, 4 m/kT each).
    let w1 = (p.w0 * p.w0 - 0.25 * p.gamma * p.gamma).sqrt();
    let phi = |t: f64| {
        p.s2 * (-0.5 * p.gamma * t).exp() * ((w1 * t).cos() - 0.5 * p.gamma / w1 * (w1 * t).sin())
    };
    let l = 150;
    let win = |k: usize| 0.5 * (1.0 + (std::f64::consts::PI * k as f64 / l as f64).cos());
    let integral =
        p.dt * (0.5 * phi(0.0) + (1..=l).map(|k| phi(k as f64 * p.dt) * win(k)).sum::<f64>());
    let expected = 3.0 * 4.0 / p.s2 * integral;
    assert!(
        (f0 - expected).abs() < 4.0 * se,
        "F(0) = {f0} ± {se}, expected {expected}"
    );
    // Δ from the paper's formula: s0 = N F(0), one atom per a³, m at which
    // kT/m = s2 at 1000 K.
    let n = (p.cells * p.cells * p.cells) as f64;
    let volume = n * p.a * p.a * p.a;
    let (temp, mass) = (1000.0, R_GAS * 1000.0 / p.s2);
    let delta = |f0: f64| delta_lbg(n * f0, n, temp, mass, volume);
    let bound = fluidicity(delta(expected.abs() + 4.0 * se));
    let fg = fluidicity(twopt::delta(f0.max(0.0), p.s2, 1.0 / (p.a * p.a * p.a)));
    assert!(fg <= bound && bound < 0.05, "f_g = {fg}, 4σ bound {bound}");
}

#[test]
fn fluidicity_of_a_langevin_gas_matches_its_exact_vdos() {
    // Φ(t) = s2 e^{−γt}: F(0) = 12/γ ps exactly, the Lorentzian VDOS of the
    // 2PT gas model itself.
    let (n, frames, dt, gamma, s2, l) = (200, 3000, 0.02, 10.0, 20.0, 20.0);
    let t = langevin_free(n, frames, dt, gamma, s2, l, 22);
    let lag = 250; // 5 ps: the Hann-window bias of F(0) is (π/5)²/2/γ² ≈ 0.2 %
    let (f0, groups) = f0_by_group(&t, 8, lag, dt, 1.0 / s2);
    let density = n as f64 / (l * l * l);
    // The truth from the paper's definitions, not from postproc: with
    // C(t) = s2 e^{−γ|t|} on each of the 3N atom axes and s2 = kT/m,
    // S(0) = (2/kT) Σ m ∫ C dt over all t = (2/kT) · 3N · m · 2 s2/γ = 12 N/γ,
    // and Δ is LBG's eq. 34 (m chosen so that kT/m = s2 at 1000 K).
    let s0 = 12.0 * n as f64 / gamma;
    let f_true = fluidicity(delta_lbg(
        s0,
        n as f64,
        1000.0,
        R_GAS * 1000.0 / s2,
        l * l * l,
    ));
    let fg: Vec<f64> = groups
        .iter()
        .map(|&g| fluidicity(twopt::delta(g, s2, density)))
        .collect();
    let (_, se) = mean_sd(&fg);
    let f_all = fluidicity(twopt::delta(f0, s2, density));
    assert!(
        (f_all - f_true).abs() < 4.0 * se + 0.002 * f_true,
        "f_g {f_all} vs {f_true} ± {se}"
    );
    // The gas part integrates to 3 f_g up to the grid's end (Lorentzian tail).
    let freq: Vec<f64> = (0..4000).map(|k| k as f64 * 0.01).collect();
    let g = twopt::gas_vdos(&freq, 12.0 / gamma, f_true);
    let want = 6.0 * f_true / std::f64::consts::PI
        * (std::f64::consts::PI * 12.0 / gamma * 39.99 / (6.0 * f_true)).atan();
    assert!((vacf::integral(&freq, &g) / want - 1.0).abs() < 1e-4);
}

#[test]
fn arrhenius_recovers_a_planted_activation_energy_within_its_error() {
    // Hop rate k = ν0 exp(−Ea/kT) of ±a hops; D = k a²/2 per walker in 1D.
    let (ea, nu0, a, tau, walkers) = (0.35, 50.0, 3.0, 20.0, 400);
    let mut rng = Rng::new(5);
    let mut pts = Vec::new();
    for t in [900.0, 1100.0, 1300.0, 1500.0, 1700.0] {
        let k = nu0 * (-ea / (KB_EV * t)).exp();
        // Number of hops in τ is Poisson(kτ): sum of exponential waits.
        let x2: Vec<f64> = (0..walkers)
            .map(|_| {
                let (mut time, mut x) = (0.0, 0.0f64);
                loop {
                    time += -rng.uniform().max(1e-300).ln() / k;
                    if time > tau {
                        break;
                    }
                    x += if rng.uniform() < 0.5 { a } else { -a };
                }
                x * x
            })
            .collect();
        let (m, se) = mean_sd(&x2);
        pts.push(Point {
            t,
            d: m / (2.0 * tau),
            d_err: se / (2.0 * tau),
        });
    }
    let f = fit(&pts).unwrap();
    assert!(f.weighted);
    assert!(
        (f.ea_ev - ea).abs() < 4.0 * f.ea_stderr,
        "{} ± {}",
        f.ea_ev,
        f.ea_stderr
    );
    assert!(f.ea_stderr < 0.1 * ea);
    let d0 = nu0 * a * a / 2.0;
    assert!((f.ln_d0 - d0.ln()).abs() < 4.0 * f.ln_d0_stderr);
    // Exact data: exact answer and no scatter.
    let exact: Vec<Point> = [800.0, 1000.0, 1600.0]
        .iter()
        .map(|&t| Point {
            t,
            d: d0 * (-ea / (KB_EV * t)).exp(),
            d_err: f64::NAN,
        })
        .collect();
    let f = fit(&exact).unwrap();
    assert!((f.ea_ev - ea).abs() < 1e-10 && (f.d0 / d0 - 1.0).abs() < 1e-10);
    assert!(fit(&exact[..1]).is_err());
    assert!(fit(&[
        exact[0],
        Point {
            t: 900.0,
            d: -1.0,
            d_err: 0.1
        }
    ])
    .is_err());
}

#[test]
fn json_contract_of_twopt_and_arrhenius() {
    let dir = tempfile::tempdir().unwrap();
    let t = langevin_free(64, 400, 0.02, 10.0, 20.0, 15.0, 23);
    let dump = dir.path().join("gas.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..400, Flavour::Unwrapped, None)).unwrap();
    // s2 = kT/m = 20 (Å/ps)² at T = 1000 K means m = kB·1000/20 in g/mol.
    let mass = format!("1={}", dprs_analysis::units::KB_METAL_MASS * 1000.0 / 20.0);
    let out = postproc()
        .args([
            "twopt",
            dump.to_str().unwrap(),
            "--dt",
            "0.02",
            "--temperature",
            "1000",
            "--mass",
            &mass,
            "--json",
            "--out",
        ])
        .arg(dir.path().join("tp"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (fg, delta) = (v["f_g"].as_f64().unwrap(), v["delta"].as_f64().unwrap());
    assert!((fg - fluidicity(delta)).abs() < 1e-12 && fg > 0.0 && fg <= 1.0);
    let csv = dir.path().join("td.csv");
    std::fs::write(
        &csv,
        "T,D,D_err\n1000,0.10,0.005\n1200,0.30,0.01\n1400,0.7,0.03\n",
    )
    .unwrap();
    let out = postproc()
        .args(["arrhenius", "--json", csv.to_str().unwrap(), "--out"])
        .arg(dir.path().join("ar"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["Ea_eV", "D0"] {
        assert!(v[k]["value"].as_f64().unwrap() > 0.0 && v[k]["stderr"].as_f64().unwrap() > 0.0);
    }
    std::fs::write(&csv, "T,D\n1000,abc\n").unwrap();
    let out = postproc()
        .args(["arrhenius", csv.to_str().unwrap(), "--out"])
        .arg(dir.path().join("ar2"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}
