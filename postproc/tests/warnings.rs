//! Sampling warnings come from the data and carry their numbers: a 6-frame
//! dump cannot resolve a vibrational band, and vdos and twopt say so.

mod common;

use common::*;
use serde_json::Value;

fn warnings_of(args: &[&str]) -> Vec<String> {
    let out = postproc().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let list: Vec<String> = v["warnings"]
        .as_array()
        .expect("a warnings array")
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    // What the JSON says, the terminal says too.
    for w in &list {
        assert!(stderr.contains(w.as_str()), "{w:?} not on the terminal");
    }
    list
}

#[test]
fn six_frames_get_numbered_sampling_warnings_from_vdos_and_twopt() {
    let p = Lattice {
        cells: 3,
        a: 3.0,
        dt: 0.02,
        w0: 2.0 * std::f64::consts::PI * 5.0,
        gamma: 3.0,
        s2: 20.0,
        chains: 1,
        p_hop: 0.0,
    };
    let (t, _) = sc_lattice(p, 6, 3);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("six.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..6, Flavour::Image, None)).unwrap();
    let d = dump.to_string_lossy().into_owned();
    let o = dir.path().join("out").to_string_lossy().into_owned();
    // By hand: 5 finite-difference velocities (6 with dumped ones); the
    // default lag is a quarter of that, at least 2 frames: 0.04 ps, which
    // resolves nothing below 1/0.04 = 25 THz; the Nyquist frequency of
    // 0.02 ps frames is 1/(2·0.02) = 25 THz as well.
    for args in [
        vec!["vdos", d.as_str(), "--dt", "0.02", "--json", "--out", &o],
        vec![
            "twopt",
            d.as_str(),
            "--dt",
            "0.02",
            "--temperature",
            "1000",
            "--mass",
            "1=40",
            "--json",
            "--out",
            &o,
        ],
    ] {
        let w = warnings_of(&args);
        assert!(!w.is_empty(), "{}: no warning for 6 frames", args[0]);
        assert!(
            w.iter().all(|x| x.chars().any(|c| c.is_ascii_digit())),
            "{}: a warning without numbers: {w:?}",
            args[0]
        );
        assert!(
            w.iter()
                .any(|x| x.contains("VACF lag 0.0400 ps") && x.contains("nothing below 25 THz")),
            "{}: {w:?}",
            args[0]
        );
        assert!(
            w.iter().any(|x| x.contains("Green–Kubo")),
            "{}: {w:?}",
            args[0]
        );
    }
    // A lag asked for beyond the run is a warning too, with the lag it got.
    let w = warnings_of(&[
        "vdos",
        &d,
        "--dt",
        "0.02",
        "--max-lag-ps",
        "1",
        "--json",
        "--out",
        &o,
    ]);
    assert!(
        w.iter().any(|x| x.contains("--max-lag-ps 1 is longer")),
        "{w:?}"
    );
    // --temperature without --mass: the fallback is stated, not hidden.
    let w = warnings_of(&[
        "vdos",
        &d,
        "--dt",
        "0.02",
        "--temperature",
        "1000",
        "--json",
        "--out",
        &o,
    ]);
    assert!(
        w.iter().any(|x| x.contains("normalised kinetically")
            && x.contains("1000 K")
            && x.contains("no --mass for type 1")),
        "{w:?}"
    );
}

#[test]
fn msd_without_error_bar_says_why() {
    let t = free_diffusion(20, 40, 0.1, [0.1, 0.1, 0.1], 10.0, 2);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("w.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..40, Flavour::Unwrapped, None)).unwrap();
    let d = dump.to_string_lossy().into_owned();
    let o = dir.path().join("out").to_string_lossy().into_owned();
    // 40 frames, 3.9 ps: a window to 3 ps is past half the run.
    let w = warnings_of(&[
        "msd", &d, "--dt", "0.1", "--fit-to", "3", "--json", "--out", &o,
    ]);
    assert!(
        w.iter()
            .any(|x| x.contains("no error bar") && x.contains("3.90 ps")),
        "{w:?}"
    );
    // A quarter of the run still has one: 40/(10+1) = 3 blocks.
    let out = postproc()
        .args([
            "msd", &d, "--dt", "0.1", "--fit-to", "1", "--json", "--out", &o,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["blocks"], 3);
    assert!(v["D"]["total"]["stderr"].as_f64().unwrap() > 0.0);
}
