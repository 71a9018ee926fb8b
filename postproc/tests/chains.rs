//! Flux maps and chain detection against planted hops (tests/common/planted.rs):
//! every expected number below is derived from the planted events, not from
//! a run of the code.

mod common;

use common::planted::*;
use common::*;
use dprs_analysis::analysis::chains::{ChainKind, ChainParams, ChainTracker};
use dprs_analysis::analysis::flux::{Flux, FluxAccumulator, FluxParams};
use dprs_analysis::analysis::lattice::{transverse, Lattice};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

fn axis_of(s: [i64; 3]) -> usize {
    (0..3).max_by_key(|&k| s[k].abs()).unwrap()
}

fn flux_of(p: &Planted, smooth: usize, interval: usize) -> (Flux, Lattice) {
    let frames = p.traj.frames();
    let lat = Lattice::detect(&frames[0], None).unwrap();
    let d = lat.nn_distance();
    let params = FluxParams {
        lattice: lat,
        smooth,
        interval,
        first: 0,
        last: None,
        r1: d / 3.0,
        r2: d / 2.0,
        subdiv: 8,
    };
    let mut acc = FluxAccumulator::new(params, frames[0].n_atoms()).unwrap();
    for f in &frames {
        acc.push(f).unwrap();
    }
    (acc.finish().unwrap(), lat)
}

/// (axis, line, plane) → (net, gross) from the planted moves.
fn planted_counts(p: &Planted, n: i64) -> HashMap<(usize, usize, usize), (i64, u64)> {
    let mut m: HashMap<(usize, usize, usize), (i64, u64)> = HashMap::new();
    for t in &p.truth {
        for (from, stp) in t.from.iter().zip(&t.steps) {
            let axis = axis_of(*stp);
            let sign = stp[axis];
            let (a, b) = transverse(axis);
            let line = (from[a].rem_euclid(n) * n + from[b].rem_euclid(n)) as usize;
            let plane = if sign > 0 { from[axis] } else { from[axis] - 1 }.rem_euclid(n) as usize;
            let e = m.entry((axis, line, plane)).or_default();
            e.0 += sign;
            e.1 += 1;
        }
    }
    m
}

#[test]
fn flux_counts_equal_planted_hops_on_every_plane_and_line() {
    let c = Crystal::small();
    let p = scene(c, 11);
    // Smoothing 1 ps and Δt = 1 ps as in the paper; events are 2 ps apart.
    let (flux, lat) = flux_of(&p, 50, 50);
    let n = c.cells as i64;
    assert_eq!(lat.n, [6, 6, 6]);
    let truth = planted_counts(&p, n);
    for axis in 0..3 {
        let lc = &flux.lines[axis];
        for line in 0..(n * n) as usize {
            for plane in 0..n as usize {
                let got = (
                    lc.net[line * lc.n_planes + plane],
                    lc.gross[line * lc.n_planes + plane],
                );
                let want = truth.get(&(axis, line, plane)).copied().unwrap_or((0, 0));
                assert_eq!(got, want, "axis {axis} line {line} plane {plane}");
            }
        }
    }
    // The x line at (y, z) = (1, 1) slid twice by +a: +2 through every plane.
    let lc = &flux.lines[0];
    for plane in 0..6 {
        assert_eq!(lc.net[(6 + 1) * 6 + plane], 2);
    }
    // Atoms that never moved never cross; moved atoms cross once per move.
    let mut moves = vec![0u64; p.traj.ids.len()];
    for t in &p.truth {
        for &i in &t.atoms {
            moves[i] += 1;
        }
    }
    assert_eq!(flux.atom_gross, moves);
}

#[test]
fn flux_hot_spots_sit_on_the_planted_lines_with_their_signs() {
    let c = Crystal::small();
    let p = scene(c, 12);
    let (flux, lat) = flux_of(&p, 50, 50);
    let n = c.cells as i64;
    let truth = planted_counts(&p, n);
    for axis in 0..3 {
        let (ta, tb) = transverse(axis);
        let map = &flux.maps[axis];
        let mut line_net: HashMap<usize, i64> = HashMap::new();
        for ((ax, line, _), (net, _)) in &truth {
            if *ax == axis {
                *line_net.entry(*line).or_default() += net;
            }
        }
        let nu = map.u.len();
        for (k, &v) in map.values.iter().enumerate() {
            let (gu, gv) = (k % nu, k / nu);
            // Grid point on a lattice line: F equals the line's net count
            // (transverse vibrations stay well inside R1 = a/3).
            if gu % 8 == 0 && gv % 8 == 0 {
                let line = (gu / 8) * n as usize + gv / 8;
                let want = line_net.get(&line).copied().unwrap_or(0) as f64;
                assert!(
                    (v - want).abs() < 1e-9,
                    "F_{axis} on line {line}: {v} vs {want}"
                );
            }
            // Farther than R2 + 0.1a from every line with crossings: zero.
            let du = |j: usize, g: usize, ax: usize| {
                let x = (g as f64 / 8.0 - j as f64).rem_euclid(lat.n[ax] as f64);
                x.min(lat.n[ax] as f64 - x) * lat.spacing[ax]
            };
            let near = line_net.keys().any(|&line| {
                let (ja, jb) = (line / n as usize, line % n as usize);
                let r = (du(ja, gu, ta).powi(2) + du(jb, gv, tb).powi(2)).sqrt();
                r < 0.6 * c.a
            });
            if !near {
                assert_eq!(v, 0.0, "F_{axis} away from the chains at grid ({gu}, {gv})");
            }
        }
        // Every line with a nonzero net has a hot spot of its sign.
        for (line, net) in line_net {
            let g = (line / n as usize) * 8 + (line % n as usize) * 8 * nu;
            assert_eq!(
                map.values[g].signum(),
                (net as f64).signum().max(if net == 0 { 0.0 } else { -1.0 })
            );
        }
    }
}

fn chain_params(lat: Lattice) -> ChainParams {
    ChainParams {
        lattice: lat,
        smooth: 25,
        capture: 0.3,
        coincidence: 25,
        window: 50,
        min_length: 2,
        cmsd: true,
    }
}

#[test]
fn chains_rings_and_l_turns_are_found_as_planted() {
    let c = Crystal::small();
    let p = scene(c, 13);
    let frames = p.traj.frames();
    let lat = Lattice::detect(&frames[0], None).unwrap();
    let mut tr = ChainTracker::new(chain_params(lat)).unwrap();
    for f in &frames {
        tr.push(f).unwrap();
    }
    let found = tr.finish().unwrap();
    let planted_hops: usize = p.truth.iter().map(|t| t.atoms.len()).sum();
    assert_eq!(found.hops.len(), planted_hops);
    assert_eq!(found.chains.len(), p.truth.len());
    for t in &p.truth {
        let want: BTreeSet<usize> = t.atoms.iter().copied().collect();
        let ch = found
            .chains
            .iter()
            .find(|ch| {
                ch.atoms.iter().copied().collect::<BTreeSet<_>>() == want
                    && (ch.time - t.frame as f64).abs() < 50.0
            })
            .unwrap_or_else(|| panic!("planted {} chain at frame {} not found", t.kind, t.frame));
        assert_eq!(ch.kind.name(), t.kind);
        assert_eq!(ch.turns, t.turns, "{} chain at frame {}", t.kind, t.frame);
        let mut per_axis = [0usize; 3];
        for s in &t.steps {
            per_axis[axis_of(*s)] += 1;
        }
        assert_eq!(ch.per_axis, per_axis);
        // Hops of a chain sit within the stagger + ramp of the planted start.
        for h in &ch.hops {
            assert!(
                h.time >= t.frame as f64 && h.time <= (t.frame + 25) as f64,
                "{h:?}"
            );
        }
    }
    assert_eq!(found.rings(), 1);
    assert_eq!(
        found
            .chains
            .iter()
            .filter(|c| c.kind == ChainKind::Periodic)
            .count(),
        4
    );
    let mobile: BTreeSet<usize> = p
        .truth
        .iter()
        .flat_map(|t| t.atoms.iter().copied())
        .collect();
    assert_eq!(found.mobile, mobile.into_iter().collect::<Vec<_>>());
    // Diffusive atoms per 50-frame window: the planted event in that window.
    let mut want = vec![0usize; found.diffusive_per_window.len()];
    for t in &p.truth {
        want[t.frame / 50] += t.atoms.len();
    }
    assert_eq!(found.diffusive_per_window, want);
    // cMSD: solid atoms plateau at 2⟨x²⟩ = 2 s2/ω0²; chain atoms far above.
    let m = found.cmsd.as_ref().unwrap();
    let plateau = 2.0 * c.s2 / (c.w0 * c.w0);
    let mean = |v: &[f64]| v[100..200].iter().sum::<f64>() / 100.0;
    // ~180 atoms × ~20 independent samples each: the variance estimate has a
    // relative error of ≈ sqrt(2/3600) ≈ 2.4 %; the residual correlation at
    // lags ≥ 2 ps is below e^{−γ·1 ps} ≈ 5 %: allow 4σ + 5 %.
    assert!(
        (mean(&m.solid) / plateau - 1.0).abs() < 0.15,
        "{} vs {plateau}",
        mean(&m.solid)
    );
    assert!(mean(&m.chain) > 20.0 * plateau);
}

#[test]
fn a_vibrating_crystal_without_hops_has_no_crossings_and_no_chains() {
    let c = Crystal::small();
    let p = plant(c, 300, &[], &[], 14);
    let (flux, _) = flux_of(&p, 10, 10);
    assert!(flux.atom_gross.iter().all(|&g| g == 0));
    assert!(flux.maps.iter().all(|m| m.values.iter().all(|&v| v == 0.0)));
    let frames = p.traj.frames();
    let lat = Lattice::detect(&frames[0], None).unwrap();
    let mut tr = ChainTracker::new(chain_params(lat)).unwrap();
    for f in &frames {
        tr.push(f).unwrap();
    }
    let found = tr.finish().unwrap();
    assert!(found.hops.is_empty() && found.chains.is_empty());
    assert_eq!(found.diffusive_fraction(), 0.0);
}

fn run_json(args: &[&str]) -> Value {
    let out = postproc().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON only")
}

#[test]
fn json_contract_of_flux_and_chains() {
    let c = Crystal::small();
    let p = scene(c, 15);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("chains.lammpstrj");
    std::fs::write(
        &dump,
        dump_text(&p.traj, 0..p.traj.n_frames(), Flavour::Image, Some(3)),
    )
    .unwrap();
    let d = dump.to_str().unwrap();
    let out = dir.path().join("flux");
    let v = run_json(&[
        "flux",
        d,
        "--dt",
        "0.02",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let lines = v["lines"].as_array().unwrap();
    let truth = planted_counts(&p, 6);
    let mut want: HashMap<(usize, usize), (i64, u64)> = HashMap::new();
    for ((axis, line, _), (net, gross)) in truth {
        let e = want.entry((axis, line)).or_default();
        e.0 += net;
        e.1 += gross;
    }
    assert_eq!(lines.len(), want.len());
    for l in lines {
        let axis = ["x", "y", "z"]
            .iter()
            .position(|a| l["axis"] == *a)
            .unwrap();
        let co = l["coord_A"].as_array().unwrap();
        let j: Vec<usize> = co
            .iter()
            .map(|x| (x.as_f64().unwrap() / c.a).round() as usize % 6)
            .collect();
        let (net, gross) = want[&(axis, j[0] * 6 + j[1])];
        assert_eq!(l["net"].as_i64().unwrap(), net);
        assert_eq!(l["gross"].as_u64().unwrap(), gross);
    }
    for ax in ["x", "y", "z"] {
        assert!(std::path::Path::new(v["maps"][ax]["csv"].as_str().unwrap()).exists());
        assert!(std::path::Path::new(v["maps"][ax]["png"].as_str().unwrap()).exists());
    }
    let out = dir.path().join("chains");
    let v = run_json(&[
        "chains",
        d,
        "--dt",
        "0.02",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let mobile: BTreeSet<u64> = p
        .truth
        .iter()
        .flat_map(|t| t.atoms.iter().map(|&i| i as u64 + 1))
        .collect();
    let got: BTreeSet<u64> = v["mobile_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(got, mobile);
    assert_eq!(v["rings"], 1);
    assert_eq!(v["chains"].as_array().unwrap().len(), p.truth.len());
    for ch in v["chains"].as_array().unwrap() {
        assert_eq!(
            ch["length"].as_u64().unwrap() as usize,
            ch["ids"].as_array().unwrap().len()
        );
        assert!(["x", "y", "z"].contains(&ch["axis"].as_str().unwrap()));
    }
    // 35 atom-hops in 14 windows of 1 ps over 215 atoms.
    let f = v["diffusive_fraction"].as_f64().unwrap();
    assert!((f - 35.0 / (14.0 * 215.0)).abs() < 1e-12, "{f}");
}

#[test]
fn flux_and_chains_refuse_what_is_not_a_crystal() {
    let dir = tempfile::tempdir().unwrap();
    let gas = free_diffusion(64, 20, 0.1, [1.0; 3], 12.0, 3);
    let dump = dir.path().join("gas.lammpstrj");
    std::fs::write(&dump, dump_text(&gas, 0..20, Flavour::Unwrapped, None)).unwrap();
    for cmd in ["flux", "chains"] {
        let out = postproc()
            .args([cmd, dump.to_str().unwrap(), "--dt", "0.1", "--out"])
            .arg(dir.path().join(cmd))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not ordered") || err.contains("not a crystal"),
            "{err}"
        );
    }
    // A box length that is no multiple of the given lattice constant.
    let c = Crystal::small();
    let p = plant(c, 10, &[], &[], 1);
    let dump = dir.path().join("xtal.lammpstrj");
    std::fs::write(&dump, dump_text(&p.traj, 0..10, Flavour::Image, None)).unwrap();
    let out = postproc()
        .args([
            "flux",
            dump.to_str().unwrap(),
            "--dt",
            "0.02",
            "--a",
            "3.4",
            "--out",
        ])
        .arg(dir.path().join("f"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("whole number of lattice spacings"));
    // Too few frames for two smoothed samples.
    let out = postproc()
        .args(["flux", dump.to_str().unwrap(), "--dt", "0.02", "--out"])
        .arg(dir.path().join("g"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("smoothed sample"));
}
