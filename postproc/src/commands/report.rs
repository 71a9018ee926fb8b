//! Turns analysis results into files (CSV, JSON, PNG) and summaries.

use super::{fmt_ps, FittedMsd, InputArgs, PLANES};
use anyhow::Result;
use dprs_analysis::analysis::rdf::Rdf;
use dprs_analysis::dump::DumpInfo;
use dprs_analysis::out::{value_pm, write_csv, write_json};
use dprs_analysis::plot::{line_plot, Series};
use dprs_analysis::runs::figures;
use dprs_analysis::runs::vdos::VdosSummary;
use serde_json::{json, Value};

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
    if !input.no_plot {
        // The first half of the lags: the tail averages few origins.
        let half = (fm.msd.n_frames / 2).max(2);
        figures::msd_png(
            &input.out.join("msd.png"),
            &fm.msd.groups[0],
            &s.columns[0].1,
            half,
            fm.window,
            dt,
            &summary,
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

/// Writes vacf.csv, vdos.csv, vdos.json and (unless --no-plot) the
/// figures of a summarised VDOS run into --out; returns the summary.
pub fn vdos(input: &InputArgs, s: VdosSummary) -> Result<Value> {
    write_columns(&input.out.join("vacf.csv"), &s.vacf_columns)?;
    write_columns(&input.out.join("vdos.csv"), &s.vdos_columns)?;
    for n in &s.warnings {
        eprintln!("warning: {n}");
    }
    let summary = s.summary;
    write_json(&input.out.join("vdos.json"), &summary)?;
    if !input.no_plot {
        figures::vdos_pngs(
            &input.out,
            &s.vdos_columns[0].1,
            &s.all,
            &s.vacf_columns[0].1,
            &s.mean_phi,
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
