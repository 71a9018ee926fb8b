//! `postproc thermo` on LAMMPS logs written here, and `postproc project` on
//! planted trajectories: every number checked against what was written.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn run_ok(args: &[&str], out: &Path) -> Value {
    let o = postproc()
        .args(args)
        .arg("--json")
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn run_err(args: &[&str], out: &Path) -> String {
    let o = postproc()
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    (head, rows)
}

/// A LAMMPS log with two runs: the second prints its columns in another
/// order, adds PotEng and drops Lx; a warning sits between two rows.
fn log_text(temp: f64) -> (String, Vec<[f64; 5]>) {
    // Step Temp Press Volume Lx (NaN: not printed in that run)
    let rows: Vec<[f64; 5]> = (0..7)
        .map(|k| {
            let k = k as f64;
            [
                100.0 * k,
                temp + 3.0 * (k * 1.3).sin(),
                -250.5 + 40.0 * k,
                1000.0 + 0.5 * k,
                if k < 4.0 { 10.0 + 0.001 * k } else { f64::NAN },
            ]
        })
        .collect();
    let mut s = String::from(
        "LAMMPS (22 Jul 2025)\nunits metal\ntimestep 0.001\n\
         Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes\n\
         \x20  Step          Temp          Press          Volume           Lx      \n",
    );
    for (k, r) in rows[..4].iter().enumerate() {
        s += &format!(
            "{:>10} {:>14.8} {:>14.6} {:>14.4} {:>12.6}\n",
            r[0], r[1], r[2], r[3], r[4]
        );
        if k == 1 {
            s += "WARNING: Pair style restartinfo set but has no restart support (src/pair.cpp:90)\n";
        }
    }
    s += "Loop time of 0.5 on 1 procs for 300 steps with 32 atoms\n\n\
          Performance: 51.8 ns/day, 0.463 hours/ns, 600.0 timesteps/s\n\
          \x20  Step          Press          Temp          PotEng         Volume    \n";
    for r in &rows[4..] {
        s += &format!(
            "{:>10} {:>14.6} {:>14.8} {:>14.4} {:>14.4}\n",
            r[0], r[2], r[1], -123.25, r[3]
        );
    }
    s += "Loop time of 0.5 on 1 procs for 300 steps with 32 atoms\nTotal wall time: 0:00:01\n";
    (s, rows)
}

/// Mean over the last half of the rows that have the value.
fn late_mean(v: &[f64]) -> f64 {
    let v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    let tail = &v[v.len() / 2..];
    tail.iter().sum::<f64>() / tail.len() as f64
}

#[test]
fn thermo_reads_the_tables_of_lammps_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (text1, rows1) = log_text(300.0);
    let (text2, rows2) = log_text(600.0);
    let (log1, log2) = (dir.path().join("log.300"), dir.path().join("log.600"));
    std::fs::write(&log1, text1).unwrap();
    std::fs::write(&log2, text2).unwrap();
    let out = dir.path().join("th");
    let v = run_ok(
        &["thermo", log1.to_str().unwrap(), log2.to_str().unwrap()],
        &out,
    );
    let names = ["Step", "Temp", "Press", "Volume", "Lx"];
    for (k, rows) in [(0, &rows1), (1, &rows2)] {
        let run = &v["runs"][k];
        assert_eq!(
            run["rows"].as_u64(),
            Some(7),
            "the warning does not end the table"
        );
        assert_eq!(run["columns"], serde_json::json!(names));
        // The CSV holds every row, columns mapped by name across the runs;
        // a column a run did not print is NaN there.
        let (head, csv) = read_csv(&out.join(format!("thermo_{k}.csv")));
        assert_eq!(head, names);
        assert_eq!(csv.len(), 7);
        for (got, want) in csv.iter().zip(rows.iter()) {
            for c in 0..5 {
                if want[c].is_nan() {
                    assert!(got[c].is_nan());
                } else {
                    // Printed with 4 to 8 decimals, read back with 10 digits.
                    assert!(
                        (got[c] - want[c]).abs() < 5e-5 * want[c].abs().max(1.0),
                        "{got:?} vs {want:?}"
                    );
                }
            }
        }
        // Late-half means, Lx over the four rows that have it.
        for (c, name) in names.iter().enumerate().skip(1) {
            let col: Vec<f64> = rows.iter().map(|r| r[c]).collect();
            let got = run["late_mean"][name].as_f64().unwrap();
            assert!(
                (got - late_mean(&col)).abs() < 1e-4 * late_mean(&col).abs(),
                "{name}: {got}"
            );
        }
    }
    // One figure per column vs step, and with two logs each vs T.
    let figs: Vec<&str> = v["figures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    for name in [
        "thermo_Temp.png",
        "thermo_Press.png",
        "thermo_Volume.png",
        "thermo_Lx.png",
        "thermo_Press_vs_T.png",
        "thermo_Lx_vs_T.png",
    ] {
        assert!(
            figs.iter().any(|f| f.ends_with(name)),
            "{name} missing from {figs:?}"
        );
        assert!(out.join(name).is_file(), "{name}");
    }
    assert!(!figs.iter().any(|f| f.ends_with("thermo_Temp_vs_T.png")));
    // --columns picks what is averaged; an unknown column names the log.
    let v = run_ok(
        &[
            "thermo",
            log1.to_str().unwrap(),
            "--columns",
            "Press",
            "--no-plot",
        ],
        &dir.path().join("c"),
    );
    let means = v["runs"][0]["late_mean"].as_object().unwrap();
    assert_eq!(means.keys().collect::<Vec<_>>(), ["Press"]);
    let err = run_err(
        &["thermo", log1.to_str().unwrap(), "--columns", "Nope"],
        &dir.path().join("e1"),
    );
    assert!(err.contains("log.300") && err.contains("Nope"), "{err}");
    // A bad number in a row: file and line; no table at all: the file.
    let (mut bad, _) = log_text(300.0);
    bad = bad.replacen("1000.5000", "1000.5x00", 1);
    std::fs::write(&log1, &bad).unwrap();
    let line = bad.lines().position(|l| l.contains("1000.5x00")).unwrap() + 1;
    let err = run_err(&["thermo", log1.to_str().unwrap()], &dir.path().join("e2"));
    assert!(
        err.contains("log.300") && err.contains(&format!("line {line}")),
        "{err}"
    );
    std::fs::write(&log1, "LAMMPS (22 Jul 2025)\nunits metal\n").unwrap();
    let err = run_err(&["thermo", log1.to_str().unwrap()], &dir.path().join("e3"));
    assert!(
        err.contains("log.300") && err.contains("no thermo table"),
        "{err}"
    );
}

#[test]
fn project_gives_the_unwrapped_paths_of_the_chosen_atoms() {
    let dir = tempfile::tempdir().unwrap();
    // Steps of 0.32 Å per axis and frame in a 10 Å box: atoms cross the
    // boundaries, which the written coordinates fold back.
    let (n, frames) = (30, 60);
    let t = free_diffusion(n, frames, 0.1, [0.5, 0.5, 0.5], 10.0, 41);
    let crossed = (0..n)
        .any(|i| (0..3).any(|k| t.pos[frames - 1][i][k] < 0.0 || t.pos[frames - 1][i][k] > 10.0));
    assert!(crossed, "the planted paths leave the box");
    let ids = [5u64, 17, 20, 21, 22];
    for (fl, name) in [(Flavour::Image, "image"), (Flavour::Wrapped, "wrapped")] {
        let dump = dir.path().join(format!("{name}.lammpstrj"));
        std::fs::write(&dump, dump_text(&t, 0..frames, fl, Some(3))).unwrap();
        for (plane, axes) in [("xz", [0, 2]), ("zy", [2, 1])] {
            let out = dir.path().join(format!("{name}-{plane}"));
            let v = run_ok(
                &[
                    "project",
                    dump.to_str().unwrap(),
                    "--ids",
                    "5,17,20-22",
                    "--plane",
                    plane,
                    "--no-plot",
                ],
                &out,
            );
            assert_eq!(v["ids"], serde_json::json!(ids));
            assert_eq!(v["frames"].as_u64(), Some(frames as u64));
            assert_eq!(v["plane"], plane);
            let (head, csv) = read_csv(&out.join("trajectories.csv"));
            let ax = ["x", "y", "z"];
            let want_head: Vec<String> = ids
                .iter()
                .flat_map(|id| axes.map(|a| format!("id{id}_{}_A", ax[a])))
                .collect();
            assert_eq!(head, want_head);
            assert_eq!(csv.len(), frames);
            // Positions were written with 10 decimals; unwrapping (image
            // flags, or minimum image between frames) restores them, and the
            // CSV keeps 10 digits. Measured: 4.8e-9 Å at worst.
            let mut worst: f64 = 0.0;
            for (f, row) in csv.iter().enumerate() {
                for (j, id) in ids.iter().enumerate() {
                    let r = t.pos[f][(*id - 1) as usize];
                    for (c, &a) in axes.iter().enumerate() {
                        worst = worst.max((row[2 * j + c] - r[a]).abs());
                    }
                }
            }
            assert!(worst < 2e-8, "{name} {plane}: off by {worst} Å");
        }
    }
    // Ids from a file, with a comment and a range.
    let list = dir.path().join("ids.txt");
    std::fs::write(&list, "# chain\n20-22\n5 17\n").unwrap();
    let dump = dir.path().join("image.lammpstrj");
    let v = run_ok(
        &[
            "project",
            dump.to_str().unwrap(),
            "--ids",
            list.to_str().unwrap(),
            "--no-plot",
        ],
        &dir.path().join("f"),
    );
    assert_eq!(v["ids"], serde_json::json!(ids));
    assert_eq!(v["plane"], "xy");
    // Mistakes name the flag and what is wrong.
    let d = dump.to_str().unwrap();
    let err = run_err(
        &["project", d, "--ids", "5,999,1000"],
        &dir.path().join("e1"),
    );
    assert!(err.contains("--ids") && err.contains("999, 1000"), "{err}");
    for plane in ["xx", "xw", "xyz"] {
        let err = run_err(
            &["project", d, "--ids", "5", "--plane", plane],
            &dir.path().join("e2"),
        );
        assert!(err.contains("--plane") && err.contains(plane), "{err}");
    }
}
