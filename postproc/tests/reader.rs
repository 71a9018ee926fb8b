//! Every input flavour gives the same numbers; every bad input a clear error.

mod common;

use common::*;
use dprs_analysis::dump::{self, ReadOptions};
use dprs_analysis::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A small triclinic trajectory whose atoms cross the box faces.
fn traj() -> Traj {
    let mut t = free_diffusion(24, 60, 0.01, [3.0, 2.0, 1.0], 8.0, 21);
    t.cell = Cell::triclinic([-1.0, 0.5, 2.0], [8.0, 7.0, 9.0], [1.5, -1.0, 0.8]);
    let vel: Vec<Vec<[f64; 3]>> = (0..t.n_frames())
        .map(|f| t.pos[f].iter().map(|r| [r[0] * 0.1, -r[1], 2.0]).collect())
        .collect();
    t.vel = Some(vel);
    t
}

type PerFrame = Vec<Vec<[f64; 3]>>;

fn read_all(files: &[PathBuf]) -> (PerFrame, PerFrame, dump::DumpInfo) {
    let mut pos = Vec::new();
    let mut vel = Vec::new();
    let info = dump::read(files, &ReadOptions::default(), |f| {
        pos.push(f.pos.clone());
        vel.push(f.vel.clone().unwrap_or_default());
        Ok(())
    })
    .unwrap();
    (pos, vel, info)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn every_flavour_reads_to_the_same_trajectory() {
    let t = traj();
    let dir = tempfile::tempdir().unwrap();
    let all = 0..t.n_frames();
    let mut cases: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for (name, fl) in [
        ("image", Flavour::Image),
        ("xu", Flavour::Unwrapped),
        ("xs", Flavour::ScaledImage),
        ("xsu", Flavour::ScaledUnwrapped),
        ("wrapped", Flavour::Wrapped),
    ] {
        let p = write(
            dir.path(),
            &format!("{name}.lammpstrj"),
            dump_text(&t, all.clone(), fl, None).as_bytes(),
        );
        cases.push((name.into(), vec![p]));
    }
    let text = dump_text(&t, all.clone(), Flavour::Image, Some(5));
    cases.push((
        "shuffled".into(),
        vec![write(dir.path(), "shuf.lammpstrj", text.as_bytes())],
    ));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    cases.push((
        "gz".into(),
        vec![write(dir.path(), "d.lammpstrj.gz", &gz.finish().unwrap())],
    ));
    let zs = zstd::encode_all(text.as_bytes(), 3).unwrap();
    cases.push((
        "zst".into(),
        vec![write(dir.path(), "d.lammpstrj.zst", &zs)],
    ));
    // LAMMPS per-step files: dump.*.lammpstrj, whose names sort wrongly as text.
    let multi = dir.path().join("multi");
    std::fs::create_dir(&multi).unwrap();
    for f in all.clone() {
        let body = dump_text(&t, f..f + 1, Flavour::Image, None);
        write(
            &multi,
            &format!("dump.{}.lammpstrj", t.steps[f]),
            body.as_bytes(),
        );
    }
    let pattern = multi
        .join("dump.*.lammpstrj")
        .to_string_lossy()
        .into_owned();
    cases.push(("multi".into(), dump::expand(&[pattern]).unwrap()));
    // Two files with the restart overlap (last frame repeated).
    let a = write(
        dir.path(),
        "part1.txt",
        dump_text(&t, 0..31, Flavour::Unwrapped, None).as_bytes(),
    );
    let b = write(
        dir.path(),
        "part2.txt",
        dump_text(&t, 30..t.n_frames(), Flavour::Unwrapped, None).as_bytes(),
    );
    cases.push(("two files".into(), vec![a, b]));

    for (name, files) in &cases {
        let (pos, vel, info) = read_all(files);
        assert_eq!(info.n_frames, t.n_frames(), "{name}");
        for f in 0..t.n_frames() {
            for i in 0..t.ids.len() {
                for k in 0..3 {
                    // Minimum-image unwrapping starts from the wrapped first
                    // frame: compare displacements, which is what analyses use.
                    let shift = if name == "wrapped" {
                        pos[0][i][k] - t.pos[0][i][k]
                    } else {
                        0.0
                    };
                    let d = (pos[f][i][k] - shift - t.pos[f][i][k]).abs();
                    assert!(d < 1e-6, "{name}: frame {f} atom {i} axis {k}: off by {d}");
                    assert!(
                        (vel[f][i][k] - t.vel.as_ref().unwrap()[f][i][k]).abs() < 1e-8,
                        "{name}"
                    );
                }
            }
        }
    }
}

fn run_err(args: &[&str]) -> (bool, String, String) {
    let out = postproc().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `text` and runs `postproc msd` on it.
fn msd_on(dir: &Path, text: &str) -> (bool, String, String, String) {
    let p = write(dir, "bad.lammpstrj", text.as_bytes());
    let path = p.to_string_lossy().into_owned();
    let out = dir.join("out").to_string_lossy().into_owned();
    let (ok, so, se) = run_err(&[
        "msd",
        &path,
        "--dt",
        "0.01",
        "--json",
        "--no-plot",
        "--out",
        &out,
    ]);
    (ok, so, se, path)
}

#[test]
fn bad_inputs_fail_with_file_frame_and_line() {
    let t = free_diffusion(4, 20, 0.01, [1.0; 3], 10.0, 1);
    let good = dump_text(&t, 0..20, Flavour::Unwrapped, None);
    let lines: Vec<&str> = good.lines().collect();
    // Each frame: 9 header lines + 4 rows = 13 lines.
    let dir = tempfile::tempdir().unwrap();

    // Truncated last frame: warning, the complete frames are used.
    let cut = lines[..13 * 19 + 11].join("\n");
    let (ok, so, se, _) = msd_on(dir.path(), &cut);
    assert!(ok, "{se}");
    assert!(
        se.contains("warning") && se.contains("frame 20") && se.contains("19 complete frames"),
        "{se}"
    );
    let v: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert_eq!(v["n_frames"], 19);

    // Garbage number at frame 3, row 2 (line 2·13 + 9 + 2 = 37).
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[36] = "2 1 1.0 abc 3.0".into();
    let (ok, _, se, path) = msd_on(dir.path(), &bad.join("\n"));
    assert!(!ok);
    assert!(
        se.contains(&path)
            && se.contains("frame 3")
            && se.contains("line 37")
            && se.contains("\"abc\""),
        "{se}"
    );

    // The same garbage in the last frame (row 2 of frame 20, line 19·13 + 11 = 258):
    // the run was cut while writing; the 19 complete frames are used, with a
    // warning naming what was skipped.
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[19 * 13 + 10] = "2 1 1.0 abc 3.0".into();
    let (ok, so, se, path) = msd_on(dir.path(), &bad.join("\n"));
    assert!(ok, "{se}");
    assert!(
        se.contains(&path)
            && se.contains("frame 20")
            && se.contains("line 258")
            && se.contains("last frame of the input")
            && se.contains("19 complete frames"),
        "{se}"
    );
    let v: serde_json::Value = serde_json::from_str(&so).unwrap();
    assert_eq!(v["n_frames"], 19);

    // Missing position columns.
    let nocols = good.replace("ITEM: ATOMS id type xu yu zu", "ITEM: ATOMS id type xu yu");
    let (ok, _, se, _) = msd_on(dir.path(), &nocols);
    assert!(
        !ok && se.contains("missing position columns")
            && se.contains("frame 1")
            && se.contains("line 9"),
        "{se}"
    );

    // Atom count changes at frame 5.
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[4 * 13 + 3] = "3".into();
    bad.remove(4 * 13 + 12);
    let (ok, _, se, _) = msd_on(dir.path(), &bad.join("\n"));
    assert!(
        !ok && se.contains("frame 5")
            && se.contains("line 56")
            && se.contains("atom count changed from 4 to 3"),
        "{se}"
    );

    // Timestep going backwards at frame 7.
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[6 * 13 + 1] = "5".into();
    let (ok, _, se, _) = msd_on(dir.path(), &bad.join("\n"));
    assert!(
        !ok && se.contains("frame 7") && se.contains("line 80") && se.contains("does not increase"),
        "{se}"
    );

    // Fewer rows than NUMBER OF ATOMS says, mid-file.
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad.remove(2 * 13 + 12);
    let (ok, _, se, _) = msd_on(dir.path(), &bad.join("\n"));
    assert!(
        !ok && se.contains("frame 3") && se.contains("fewer atoms"),
        "{se}"
    );

    // Duplicate id.
    let mut bad: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    bad[13 + 10] = bad[13 + 9].clone();
    let (ok, _, se, _) = msd_on(dir.path(), &bad.join("\n"));
    assert!(
        !ok && se.contains("frame 2") && se.contains("appears twice"),
        "{se}"
    );

    // No time step given: refuse to compute a rate.
    let p = write(dir.path(), "ok.lammpstrj", good.as_bytes());
    let (ok, _, se) = run_err(&[
        "msd",
        &p.to_string_lossy(),
        "--no-plot",
        "--out",
        &dir.path().join("o").to_string_lossy(),
    ]);
    assert!(!ok && se.contains("--dt"), "{se}");

    // Missing file.
    let (ok, _, se) = run_err(&["msd", "/nonexistent/dump.lammpstrj", "--dt", "1"]);
    assert!(!ok && se.contains("/nonexistent/dump.lammpstrj"), "{se}");
    assert!(!se.contains("panicked"));
}

#[test]
fn minimum_image_unwrapping_warns_about_big_jumps() {
    let mut t = free_diffusion(5, 10, 0.01, [1.0; 3], 10.0, 2);
    t.pos[6][2][0] += 3.5; // 0.35 of the box in one frame
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.lammpstrj",
        dump_text(&t, 0..10, Flavour::Wrapped, None).as_bytes(),
    );
    let (_, _, info) = read_all(&[p]);
    assert!(
        info.warnings
            .iter()
            .any(|w| w.contains("atom id 3") && w.contains("minimum-image")),
        "{:?}",
        info.warnings
    );
}
