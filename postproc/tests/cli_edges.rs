//! Edges of the command line: every mistake is one short, clear error
//! naming the file or flag and the fix; nothing is overwritten silently.

mod common;

use common::*;
use serde_json::Value;

fn small_dump(dir: &std::path::Path, fl: Flavour) -> String {
    let t = free_diffusion(20, 30, 0.01, [0.1, 0.1, 0.1], 10.0, 9);
    let dump = dir.join("d.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..30, fl, None)).unwrap();
    dump.to_string_lossy().into_owned()
}

fn fails(args: &[&str]) -> String {
    let out = postproc().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_file_is_said_once() {
    let err = fails(&["msd", "no-such-dump.lammpstrj", "--dt", "0.01"]);
    assert_eq!(err.matches("no-such-dump.lammpstrj").count(), 1, "{err}");
    assert_eq!(err.matches("no such file").count(), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_binary_file_is_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("traj.dcd");
    let bytes: Vec<u8> = (0..20000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&bin, bytes).unwrap();
    let err = fails(&["msd", &bin.to_string_lossy(), "--dt", "0.01"]);
    assert!(err.len() < 400, "{} bytes of error", err.len());
    assert!(
        err.contains("traj.dcd") && err.contains("not a LAMMPS text dump"),
        "{err}"
    );
    // A text file that is not a dump says what it starts with.
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "step temp\n1 300\n").unwrap();
    let err = fails(&["rdf", &txt.to_string_lossy()]);
    assert!(
        err.contains("\"step temp\"") && err.contains("ITEM: TIMESTEP"),
        "{err}"
    );
}

#[test]
fn a_unit_apart_from_its_number_is_explained_and_a_quoted_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = small_dump(dir.path(), Flavour::Unwrapped);
    let o = dir.path().join("out").to_string_lossy().into_owned();
    let err = fails(&["msd", &d, "--dt", "10", "fs", "--out", &o]);
    assert!(err.contains("--dt 10fs") && err.contains("\"fs\""), "{err}");
    let err = fails(&[
        "report",
        &format!("{d}@300"),
        "--dt",
        "10",
        "fs",
        "--out",
        &o,
    ]);
    assert!(err.contains("--dt 10fs"), "{err}");
    let out = postproc()
        .args(["msd", &d, "--dt", "10 fs", "--json", "--out", &o])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["dt_ps"].as_f64().unwrap() - 0.01).abs() < 1e-12);
}

#[test]
fn wrapped_coordinates_without_images_get_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let d = small_dump(dir.path(), Flavour::Wrapped);
    let o = dir.path().join("out").to_string_lossy().into_owned();
    let out = postproc()
        .args(["msd", &d, "--dt", "0.01", "--out", &o])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without image flags"), "{err}");
    // With image flags there is nothing to say.
    let d = small_dump(dir.path(), Flavour::Image);
    let out = postproc()
        .args(["msd", &d, "--dt", "0.01", "--out", &o])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("image flags"));
}

#[test]
fn earlier_outputs_are_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let d = small_dump(dir.path(), Flavour::Unwrapped);
    let out_dir = dir.path().join("out");
    let o = out_dir.to_string_lossy().into_owned();
    let run = |dt: &str| {
        let out = postproc()
            .args(["msd", &d, "--dt", dt, "--out", &o])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = run("0.01");
    assert!(!first.contains("previous"), "{first}");
    let json1 = std::fs::read_to_string(out_dir.join("msd.json")).unwrap();
    let second = run("0.02");
    assert!(
        second.contains("moved to") && second.contains("previous"),
        "{second}"
    );
    let kept = std::fs::read_to_string(out_dir.join("previous/msd.json")).unwrap();
    assert_eq!(kept, json1, "the first run's results are kept whole");
    let now: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("msd.json")).unwrap()).unwrap();
    assert_eq!(now["dt_ps"], 0.02);
}

#[test]
fn a_report_with_a_missing_dump_stops_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = small_dump(dir.path(), Flavour::Unwrapped);
    let out = dir.path().join("rep");
    let err = fails(&[
        "report",
        &format!("{d}@300"),
        "nope.lammpstrj@400",
        "--dt",
        "0.01",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(err.contains("nope.lammpstrj: no such file"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !out.exists(),
        "nothing written for a report that cannot start"
    );
}

#[test]
fn two_frames_need_a_fit_window_and_then_give_the_exact_msd() {
    // Two frames: the default fit window does not fit (an error naming the
    // flags, not a crash); with --fit-from 0 --fit-to dt the MSD at lag 1 is
    // the one-origin mean squared displacement of the planted walk.
    let dir = tempfile::tempdir().unwrap();
    let t = free_diffusion(20, 2, 0.01, [0.1, 0.1, 0.1], 10.0, 9);
    let dump = dir.path().join("two.lammpstrj");
    std::fs::write(&dump, dump_text(&t, 0..2, Flavour::Image, None)).unwrap();
    let d = dump.to_str().unwrap();
    let out = dir.path().join("o");
    let err = fails(&["msd", d, "--dt", "0.01", "--out", out.to_str().unwrap()]);
    assert!(
        err.contains("2 frames") && err.contains("--fit-from/--fit-to"),
        "{err}"
    );
    let o = postproc()
        .args([
            "msd",
            d,
            "--dt",
            "0.01",
            "--fit-from",
            "0",
            "--fit-to",
            "0.01",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("msd.csv")).unwrap();
    let row: Vec<f64> = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    let want: f64 = (0..20)
        .map(|i| {
            (0..3)
                .map(|k| (t.pos[1][i][k] - t.pos[0][i][k]).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / 20.0;
    // The trajectory is kept in f32: measured 1.6e-8 relative.
    assert!((row[7] / want - 1.0).abs() < 1e-7, "{} vs {want}", row[7]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["D"]["total"]["stderr"].is_null());
}
