//! Per-species 2PT on a planted two-species mixture: a Langevin gas (type 1)
//! whose VDOS is exactly the 2PT gas Lorentzian, and Einstein oscillators
//! (type 2) whose F(0) is zero, each with its own mass.

mod common;

use common::*;
use dprs_analysis::analysis::twopt::fluidicity;
use serde_json::Value;

/// The gas constant in g/mol · (Å/ps)² / K (8.314462618 J/(mol K)).
const R_GAS: f64 = 0.831_446_261_8;

/// Δ of Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003), eq. 34,
/// for one component: s0 = S_k(0) (its DOS normalised to 3 N_k), N_k atoms
/// in the volume V (its own number density N_k/V), T in K, m in g/mol.
fn delta_lbg(s0_ps: f64, n: f64, temperature_k: f64, mass: f64, volume_a3: f64) -> f64 {
    let pi = std::f64::consts::PI;
    (2.0 * s0_ps / (9.0 * n))
        * (pi * R_GAS * temperature_k / mass).sqrt()
        * (n / volume_a3).cbrt()
        * (6.0 / pi).powf(2.0 / 3.0)
}

const T: f64 = 1000.0;
const DT: f64 = 0.02;
const FRAMES: usize = 1500;
const GAMMA: f64 = 10.0;
const S2_GAS: f64 = 20.0;
const S2_SOLID: f64 = 5.0;
const L: f64 = 12.0;

/// Gas atoms 1..=n_gas (type 1) and 64 oscillators (type 2) in one box of
/// edge L; the oscillators keep their lattice sites (shifted into the box).
fn mixture(n_gas: usize, seed: u64) -> Traj {
    let gas = langevin_free(n_gas, FRAMES, DT, GAMMA, S2_GAS, L, seed);
    let p = Lattice {
        cells: 4,
        a: 3.0,
        dt: DT,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: S2_SOLID,
        chains: 0,
        p_hop: 0.0,
    };
    let (solid, _) = sc_lattice(p, FRAMES, seed + 1);
    let n_solid = solid.ids.len();
    let mut t = gas.clone();
    t.ids = (1..=(n_gas + n_solid) as u64).collect();
    t.types = [vec![1; n_gas], vec![2; n_solid]].concat();
    let solid_vel = solid.vel.as_ref().unwrap();
    for (f, (pos, vel)) in t.pos.iter_mut().zip(t.vel.as_mut().unwrap()).enumerate() {
        pos.extend(solid.pos[f].iter().map(|r| r.map(|x| x + 1.5)));
        vel.extend(solid_vel[f].iter().copied());
    }
    t
}

fn twopt_json(dump: &std::path::Path, out: &std::path::Path, extra: &[&str]) -> Value {
    let o = postproc()
        .args(["twopt", dump.to_str().unwrap(), "--dt", "0.02"])
        .args([
            "--temperature",
            "1000",
            "--max-lag-ps",
            "5",
            "--json",
            "--no-plot",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn each_species_of_a_planted_mixture_gets_its_own_fluidicity() {
    let dir = tempfile::tempdir().unwrap();
    let n_gas = 100;
    let t = mixture(n_gas, 31);
    let dump = dir.path().join("mix.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..FRAMES, Flavour::Image, None)).unwrap();
    // Masses at which kT/m = s2 at 1000 K; one given as TYPE:MASS.
    let (m1, m2) = (R_GAS * T / S2_GAS, R_GAS * T / S2_SOLID);
    let masses = format!("1:{m1},2={m2}");
    let v = twopt_json(&dump, &dir.path().join("mix"), &["--mass", &masses]);
    let sp = v["species"].as_array().unwrap();
    assert_eq!(sp.len(), 2);
    assert!(v["type"].is_null() && v["delta"].is_null());
    let volume = L * L * L;
    // The truths from the paper's definitions, not from postproc. Gas:
    // Φ(t) = s2 e^{−γt} per axis, so S_1(0) = 12 N_1/γ (see
    // fluidicity_of_a_langevin_gas_matches_its_exact_vdos), with the gas's
    // own density N_1/V. Oscillators: bounded motion, S_2(0) = 0, f_g = 0.
    let f_gas = fluidicity(delta_lbg(
        12.0 * n_gas as f64 / GAMMA,
        n_gas as f64,
        T,
        m1,
        volume,
    ));
    let (g1, g2) = (&sp[0], &sp[1]);
    assert_eq!(
        (g1["type"].as_u64(), g2["type"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        (g1["n_atoms"].as_u64(), g2["n_atoms"].as_u64()),
        (Some(100), Some(64))
    );
    assert!((g1["mass"].as_f64().unwrap() - m1).abs() < 1e-9);
    assert!((g1["density_per_A3"].as_f64().unwrap() - n_gas as f64 / volume).abs() < 1e-12);
    let fg1 = g1["f_g"].as_f64().unwrap();
    let fg2 = g2["f_g"].as_f64().unwrap();
    // Measured: f_g(gas) 0.5718 vs the truth 0.5894 (−3.0 %, the sampling of
    // 100 atoms over 30 ps); f_g(oscillators) 0.0103 (the 5 THz peak leaking
    // to ν = 0 through the Hann window).
    assert!(
        // the requirement is 25 %; bound at ~3x what is measured (fixed seed)
        (fg1 / f_gas - 1.0).abs() < 0.10,
        "gas f_g {fg1} vs truth {f_gas}"
    );
    assert!(fg2 < 0.05, "oscillators: f_g {fg2}, truth 0");
    // Δ of each species follows from its own F(0), mass and density.
    for (g, m) in [(g1, m1), (g2, m2)] {
        let n = g["n_atoms"].as_f64().unwrap();
        let want = delta_lbg(g["F0_ps"].as_f64().unwrap() * n, n, T, m, volume);
        assert!((g["delta"].as_f64().unwrap() / want - 1.0).abs() < 1e-9);
        assert!((g["f_g"].as_f64().unwrap() - fluidicity(want)).abs() < 1e-9);
    }
    // The total is the gas-like share of all 3N degrees of freedom.
    let total = (100.0 * fg1 + 64.0 * fg2) / 164.0;
    assert!((v["f_g"].as_f64().unwrap() - total).abs() < 1e-12);
    // Its gas part is Σ x_k of the species' Lorentzians, each integrating
    // to (6 f_k/π) atan(π F_k(0) ν_N / 6 f_k) up to the Nyquist ν_N = 25 THz.
    let lorentz = |g: &Value| {
        let (f, f0) = (g["f_g"].as_f64().unwrap(), g["F0_ps"].as_f64().unwrap());
        let pi = std::f64::consts::PI;
        6.0 * f / pi * (pi * f0 * 25.0 / (6.0 * f)).atan()
    };
    let want = (100.0 * lorentz(g1) + 64.0 * lorentz(g2)) / 164.0;
    let gi = v["gas_integral"].as_f64().unwrap();
    // Measured: 1.0273101488 vs 1.0273101536 (the trapezoid rule, 5e-9).
    assert!((gi / want - 1.0).abs() < 1e-6, "∫gas {gi} vs {want}");
    // One species selected alone: the same VACF, mass and density, so the
    // same result as its entry in the mixture, in the single-species layout.
    let alone = twopt_json(
        &dump,
        &dir.path().join("gas"),
        &["--mass", &masses, "--types", "1"],
    );
    assert_eq!(alone["type"].as_u64(), Some(1));
    assert_eq!(alone["species"].as_array().unwrap().len(), 1);
    for k in ["f_g", "delta", "F0_ps", "density_per_A3"] {
        let (a, b) = (alone[k].as_f64().unwrap(), g1[k].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-12 * b.abs(), "{k}: {a} vs {b}");
    }
    // The CSV carries the per-species split.
    let csv = std::fs::read_to_string(dir.path().join("mix/twopt.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "freq_THz,vdos_per_THz,gas_per_THz,solid_per_THz,type1_vdos_per_THz,type1_gas_per_THz,\
         type1_solid_per_THz,type2_vdos_per_THz,type2_gas_per_THz,type2_solid_per_THz"
    );
    // Without masses each species is normalised by its own ⟨v²⟩: the same
    // f_g within the sampling of ⟨v²⟩ (measured: 0.5715 vs 0.5718, 0.05 %).
    let kinetic = twopt_json(&dump, &dir.path().join("kin"), &[]);
    let k1 = kinetic["species"][0]["f_g"].as_f64().unwrap();
    assert!((k1 / fg1 - 1.0).abs() < 0.005, "kinetic {k1} vs {fg1}");
    assert!(kinetic["species"][1]["mass"].is_null());
    // A type given two masses is refused, naming the flag.
    let o = postproc()
        .args([
            "twopt",
            dump.to_str().unwrap(),
            "--dt",
            "0.02",
            "--temperature",
            "1000",
        ])
        .args(["--mass", "1=40,1=41", "--out"])
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--mass") && err.contains("type 1"), "{err}");
}
