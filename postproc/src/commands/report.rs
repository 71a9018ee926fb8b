//! Turns analysis results into files (CSV, JSON, PNG) and summaries.

use super::{fmt_ps, FittedMsd, InputArgs, PLANES};
use anyhow::Result;
use dprs_analysis::analysis::diffusion;
use dprs_analysis::analysis::msd::GroupMsd;
use dprs_analysis::analysis::rdf::Rdf;
use dprs_analysis::analysis::select::Selection;
use dprs_analysis::analysis::vacf::Vacf;
use dprs_analysis::dump::DumpInfo;
use dprs_analysis::out::{value_pm, write_csv, write_json};
use dprs_analysis::plot::{line_plot, line_plot_ext, Extras, Series, FIT_COLOR};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Prints the JSON summary (--json) or the human one.
pub fn emit(input: &InputArgs, summary: &Value, text: &str) -> Result<()> {
    if input.json {
        println!("{}", serde_json::to_string_pretty(summary)?);
    } else {
        print!("{text}");
        println!("outputs in {}", input.out.display());
    }
    Ok(())
}

pub fn msd(input: &InputArgs, info: &DumpInfo, fm: &FittedMsd, dt: f64) -> Result<Value> {
    let s = dprs_analysis::runs::msd::summarise(info, fm, dt);
    let table: Vec<(String, &[f64])> = s
        .columns
        .iter()
        .map(|(n, c)| (n.clone(), c.as_slice()))
        .collect();
    write_csv(&input.out.join("msd.csv"), &table)?;
    for n in &s.warnings {
        eprintln!("warning: {n}");
    }
    let summary = s.summary;
    write_json(&input.out.join("msd.json"), &summary)?;
    let (w, t) = (fm.window, fm.msd.n_frames);
    let time = &s.columns[0].1;
    let all = &fm.msd.groups[0];
    if !input.no_plot {
        let half = (t / 2).max(2);
        let mut series = Vec::new();
        let mut fits = Vec::new();
        for (i, (name, axes)) in [("x", &[0][..]), ("y", &[1]), ("z", &[2])]
            .into_iter()
            .enumerate()
        {
            let curve = GroupMsd::combined(&all.axes, axes);
            let s = diffusion::slope(&curve, w, dt);
            let pts = &curve[w.from..=w.to];
            let tm = (w.from + w.to) as f64 * 0.5 * dt;
            let b = pts.iter().sum::<f64>() / pts.len() as f64 - s * tm;
            let fx = vec![w.from as f64 * dt, w.to as f64 * dt];
            let fy: Vec<f64> = fx.iter().map(|x| b + s * x).collect();
            fits.push((i, name, curve, fx, fy));
        }
        for (i, name, curve, _, _) in &fits {
            series.push(Series {
                label: format!("MSD {name}"),
                x: &time[..half],
                y: &curve[..half],
                color: *i,
                dashed: false,
            });
        }
        for (k, (_, _, _, fx, fy)) in fits.iter().enumerate() {
            series.push(Series {
                label: if k == 0 {
                    "linear fits".into()
                } else {
                    String::new()
                },
                x: fx,
                y: fy,
                color: FIT_COLOR,
                dashed: true,
            });
        }
        let pm = |k: &str| {
            let d = &summary["D"][k];
            value_pm(
                d["value"].as_f64().unwrap_or(f64::NAN),
                d["stderr"].as_f64().unwrap_or(f64::NAN),
                "(no error bar)",
            )
            .unwrap_or_else(|| "n/a".into())
        };
        let notes = vec![
            format!("D = {} Å²/ps (3D)", pm("total")),
            format!("D_x = {}, D_y = {}, D_z = {}", pm("x"), pm("y"), pm("z")),
            format!(
                "fit window {}–{} ps (shaded)",
                short(w.from as f64 * dt),
                short(w.to as f64 * dt)
            ),
        ];
        line_plot_ext(
            &input.out.join("msd.png"),
            "Mean-squared displacement per axis",
            "t (ps)",
            "MSD (Å²)",
            &series,
            &Extras {
                shade: Some((w.from as f64 * dt, w.to as f64 * dt)),
                notes,
            },
        )?;
    }
    Ok(summary)
}

pub fn msd_text(s: &Value) -> String {
    let g = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let nb = s["blocks"].as_u64().unwrap_or(0);
    let mut out = format!(
        "{} atoms, {} frames, dt = {} ps\nfit window {}–{} ps{}; {}\n",
        s["n_atoms"],
        s["n_frames"],
        fmt_ps(g(&s["dt_ps"])),
        fmt_ps(g(&s["fit"]["from_ps"])),
        fmt_ps(g(&s["fit"]["to_ps"])),
        if s["fit"]["default"] == json!(true) {
            " (default; set with --fit-from/--fit-to)"
        } else {
            ""
        },
        if nb >= 2 {
            format!(
                "error from {nb} time blocks of {} ps",
                fmt_ps(g(&s["block_ps"]))
            )
        } else {
            "no error bar (the window needs more than half the run)".to_string()
        },
    );
    let why = if nb < 2 {
        "(no error bar: fewer than 2 time blocks)"
    } else {
        "(no error bar: a block fit failed)"
    };
    out += "         D ± stderr (Å²/ps)           D (m²/s)        D (cm²/s)\n";
    for (name, _) in PLANES {
        let d = &s["D"][name];
        let show = |k: &str| dprs_analysis::out::human(g(&d[k]), 4).unwrap_or_else(|| "n/a".into());
        let pm = value_pm(g(&d["value"]), g(&d["stderr"]), why).unwrap_or_else(|| "n/a".into());
        out += &format!(
            "{name:>6}  {pm:<28}  {:>15}  {:>15}\n",
            show("value_m2_s"),
            show("value_cm2_s")
        );
    }
    out
}

/// Writes named columns as a CSV table.
fn write_columns(path: &std::path::Path, cols: &[(String, Vec<f64>)]) -> Result<()> {
    let t: Vec<(String, &[f64])> = cols
        .iter()
        .map(|(n, c)| (n.clone(), c.as_slice()))
        .collect();
    Ok(write_csv(path, &t)?)
}

fn short(v: f64) -> String {
    dprs_analysis::out::short(v).unwrap_or_else(|| "n/a".into())
}

pub fn vdos(
    input: &InputArgs,
    info: &DumpInfo,
    sel: &Selection,
    types: &[u32],
    v: &Vacf,
    temperature: Option<f64>,
    masses: &HashMap<u32, f64>,
) -> Result<Value> {
    let s = dprs_analysis::runs::vdos::summarise(info, sel, types, v, temperature, masses)?;
    write_columns(&input.out.join("vacf.csv"), &s.vacf_columns)?;
    write_columns(&input.out.join("vdos.csv"), &s.vdos_columns)?;
    for n in &s.warnings {
        eprintln!("warning: {n}");
    }
    let summary = s.summary;
    write_json(&input.out.join("vdos.json"), &summary)?;
    let (all, freq, time) = (&s.all, &s.vdos_columns[0].1, &s.vacf_columns[0].1);
    if !input.no_plot {
        let fmax = all.total.iter().cloned().fold(0.0, f64::max);
        let last = all
            .total
            .iter()
            .rposition(|&f| f > 2e-3 * fmax)
            .unwrap_or(all.total.len() - 1);
        let upto = ((last as f64 * 1.2) as usize + 2).min(all.total.len());
        let mut series = vec![Series {
            label: "total".into(),
            x: &freq[..upto],
            y: &all.total[..upto],
            color: 0,
            dashed: false,
        }];
        for (a, ax) in ["x", "y", "z"].iter().enumerate() {
            series.push(Series {
                label: (*ax).into(),
                x: &freq[..upto],
                y: &all.axes[a][..upto],
                color: a + 1,
                dashed: true,
            });
        }
        line_plot(
            &input.out.join("vdos.png"),
            "Vibrational density of states",
            "ν (THz)",
            "F(ν) (1/THz)",
            &series,
        )?;
        let phi = &s.mean_phi;
        let s = [Series {
            label: String::new(),
            x: time,
            y: phi,
            color: 0,
            dashed: false,
        }];
        line_plot(
            &input.out.join("vacf.png"),
            "Velocity autocorrelation",
            "t (ps)",
            "Φ(t) (Å²/ps²)",
            &s,
        )?;
    }
    Ok(summary)
}

pub fn vdos_text(s: &Value) -> String {
    let f = |v: &Value| {
        v.as_f64()
            .and_then(|x| dprs_analysis::out::human(x, 4))
            .unwrap_or_else(|| "n/a".to_string())
    };
    format!(
        "velocities: {}\nD from F(0)      = {} Å²/ps\nD Green–Kubo     = {} Å²/ps\nVDOS peak        = {} THz\nVDOS integral    = {} ({})\n",
        s["velocities"].as_str().unwrap_or(""),
        f(&s["D_from_F0"]),
        f(&s["D_green_kubo"]),
        f(&s["peak_THz"]),
        f(&s["integral"]),
        s["normalisation"].as_str().unwrap_or("")
    )
}

pub fn rdf(input: &InputArgs, info: &DumpInfo, rdf: &Rdf) -> Result<Value> {
    let s = dprs_analysis::runs::rdf::summarise(info, rdf);
    let t: Vec<(String, &[f64])> = s
        .columns
        .iter()
        .map(|(n, c)| (n.clone(), c.as_slice()))
        .collect();
    write_csv(&input.out.join("rdf.csv"), &t)?;
    let summary = s.summary;
    write_json(&input.out.join("rdf.json"), &summary)?;
    if !input.no_plot {
        let series: Vec<Series> = rdf
            .pairs
            .iter()
            .enumerate()
            // One type: its only partial is g of all atoms, drawn once.
            // Several: the partials, labelled by pair.
            .filter(|(i, _)| (rdf.pairs.len() <= 2) == (*i == 0))
            .map(|(i, p)| Series {
                label: if rdf.pairs.len() <= 2 {
                    String::new()
                } else {
                    format!("g {}", p.name)
                },
                x: &rdf.r,
                y: &p.g,
                color: i,
                dashed: false,
            })
            .collect();
        line_plot(
            &input.out.join("rdf.png"),
            "Radial distribution function",
            "r (Å)",
            "g(r)",
            &series,
        )?;
    }
    Ok(summary)
}

pub fn rdf_text(s: &Value) -> String {
    let mut out = String::from("pair     first peak (Å)   first min (Å)   coordination\n");
    if let Some(p) = s["pairs"].as_object() {
        for (name, v) in p {
            let f = |k: &str| v[k].as_f64().map_or("n/a".into(), |x| format!("{x:.4}"));
            out += &format!(
                "{name:<8} {:>14}   {:>13}   {:>12}\n",
                f("first_peak_A"),
                f("first_min_A"),
                f("coordination")
            );
        }
    }
    out
}
