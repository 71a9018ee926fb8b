//! The `--json` keys that scripts depend on, and the files each subcommand writes.

mod common;

use common::*;
use serde_json::Value;

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
fn json_contract_of_msd_vdos_diffusion_and_rdf() {
    let p = Lattice {
        cells: 4,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: 20.0,
        chains: 2,
        p_hop: 0.1,
    };
    let (t, chain) = sc_lattice(p, 300, 4);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("run.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..300, Flavour::Image, None)).unwrap();
    let ids = dir.path().join("chain.ids");
    std::fs::write(
        &ids,
        chain
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let d = dump.to_string_lossy().into_owned();
    let out = dir.path().join("out");
    let o = out.to_string_lossy().into_owned();

    // 0.02 ps between frames, given per step (steps are 50 apart).
    let v = run_json(&[
        "msd",
        &d,
        "--timestep",
        "0.4fs",
        "--json",
        "--out",
        &o,
        "--ids",
        &ids.to_string_lossy(),
    ]);
    for k in ["x", "y", "z", "total"] {
        assert!(
            v["D"][k]["value"].is_f64() && v["D"][k]["stderr"].is_f64(),
            "{k}: {v}"
        );
    }
    assert!(v["fit"]["from_ps"].is_f64() && v["fit"]["to_ps"].is_f64());
    assert_eq!(v["n_atoms"], chain.len());
    assert_eq!(v["n_frames"], 300);
    assert!((v["dt_ps"].as_f64().unwrap() - 0.02).abs() < 1e-12);
    assert!(
        v["D"]["x"]["value"].as_f64().unwrap()
            > 10.0 * v["D"]["y"]["value"].as_f64().unwrap().abs()
    );
    let m2s = v["D"]["x"]["value_m2_s"].as_f64().unwrap() / v["D"]["x"]["value"].as_f64().unwrap();
    assert!((m2s - 1e-8).abs() < 1e-20);
    for f in ["msd.csv", "msd.json", "msd.png"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let csv = std::fs::read_to_string(out.join("msd.csv")).unwrap();
    assert!(csv.starts_with("time_ps,msd_x_A2,msd_y_A2,msd_z_A2,msd_xy_A2"));
    assert_eq!(csv.lines().count(), 301);

    let v = run_json(&[
        "vdos",
        &d,
        "--dt",
        "0.02",
        "--temperature",
        "1000",
        "--json",
        "--out",
        &o,
        "--max-lag-ps",
        "2",
    ]);
    for k in ["D_from_F0", "D_green_kubo", "peak_THz"] {
        assert!(v[k].is_f64(), "{k}: {v}");
    }
    assert!(
        (v["peak_THz"].as_f64().unwrap() - 5.0).abs() < 0.3,
        "{}",
        v["peak_THz"]
    );
    for f in ["vacf.csv", "vdos.csv", "vdos.json", "vdos.png"] {
        assert!(out.join(f).exists(), "{f}");
    }

    let v = run_json(&[
        "diffusion",
        &d,
        "--dt",
        "20fs",
        "--json",
        "--out",
        &o,
        "--types",
        "1",
    ]);
    for k in [
        "D",
        "fit",
        "n_atoms",
        "n_frames",
        "D_from_F0",
        "D_green_kubo",
        "peak_THz",
    ] {
        assert!(!v[k].is_null(), "{k}");
    }

    let v = run_json(&[
        "rdf",
        &d,
        "--json",
        "--out",
        &o,
        "--max-frames",
        "5",
        "--rmax",
        "5.5",
    ]);
    let p = &v["pairs"]["1-1"];
    assert!(
        (p["first_peak_A"].as_f64().unwrap() - 3.0).abs() < 0.1,
        "{p}"
    );
    assert!(
        (p["coordination"].as_f64().unwrap() - 6.0).abs() < 0.1,
        "{p}"
    );
    for f in ["rdf.csv", "rdf.json", "rdf.png"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let png = std::fs::read(out.join("rdf.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
