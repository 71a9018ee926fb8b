//! Helpers for paper B: thermo columns from LAMMPS logs (Fig. 4a) and
//! trajectories of chosen atoms projected on a plane (Fig. 5c,d).

use super::{read_opts, InputArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::select::parse_id_list;
use dprs_analysis::dump;
use dprs_analysis::out::{num, write_csv, write_json};
use dprs_analysis::plot::{line_plot, Series};
use dprs_analysis::thermo::read_log;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ThermoArgs {
    /// LAMMPS log files (one per run, e.g. one per temperature).
    #[arg(required = true)]
    pub logs: Vec<PathBuf>,
    /// Columns to plot (default: those of Temp, Press, Volume, Lx, Ly, Lz,
    /// Cella, Cellb, Cellc, PotEng that exist).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Folder for the outputs.
    #[arg(long, short, default_value = "postproc-out")]
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub no_plot: bool,
}

const DEFAULT_COLS: [&str; 10] = [
    "Temp", "Press", "Volume", "Lx", "Ly", "Lz", "Cella", "Cellb", "Cellc", "PotEng",
];

/// Thermo tables to CSV, per-run late means to JSON, each column vs step and
/// (with several logs) the late means vs the mean temperature.
pub fn thermo_summary(
    logs: &[PathBuf],
    cols: Option<&[String]>,
    out: &Path,
    plot: bool,
) -> Result<Value> {
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let mut runs = Vec::new();
    let mut tables = Vec::new();
    for (k, log) in logs.iter().enumerate() {
        let th = read_log(log)?;
        let cols_here: Vec<String> = match cols {
            Some(c) => c.to_vec(),
            None => DEFAULT_COLS
                .iter()
                .filter(|c| th.columns.iter().any(|x| x == *c))
                .map(|c| c.to_string())
                .collect(),
        };
        let table: Vec<(String, Vec<f64>)> = th
            .columns
            .iter()
            .map(|c| (c.clone(), th.column(c).expect("own column")))
            .collect();
        let t: Vec<(String, &[f64])> = table
            .iter()
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect();
        let csv = out.join(format!("thermo_{k}.csv"));
        write_csv(&csv, &t)?;
        let mut means = Map::new();
        for c in &cols_here {
            let m = th
                .late_mean(c)
                .with_context(|| format!("{}: no thermo column {c:?}", log.display()))?;
            means.insert(c.clone(), num(m));
        }
        runs.push(
            json!({"log": log.display().to_string(), "csv": csv.display().to_string(),
            "rows": th.rows.len(), "columns": th.columns, "late_mean": Value::Object(means)}),
        );
        tables.push((th, cols_here));
    }
    let mut figures = Vec::new();
    if plot {
        let (th0, cols0) = &tables[0];
        let step = th0.column("Step").unwrap_or_default();
        for c in cols0 {
            let series: Vec<(String, Vec<f64>, Vec<f64>)> = tables
                .iter()
                .enumerate()
                .filter_map(|(k, (th, _))| {
                    Some((
                        format!("run {k}"),
                        th.column("Step").unwrap_or_else(|| step.clone()),
                        th.column(c)?,
                    ))
                })
                .collect();
            let s: Vec<Series> = series
                .iter()
                .enumerate()
                .map(|(k, (l, x, y))| Series {
                    label: l.clone(),
                    x,
                    y,
                    color: k,
                    dashed: false,
                })
                .collect();
            let png = out.join(format!("thermo_{c}.png"));
            line_plot(&png, &format!("{c} vs step"), "step", c, &s)?;
            figures.push(png.display().to_string());
        }
        if tables.len() > 1 {
            for c in cols0.iter().filter(|c| *c != "Temp") {
                let t: Vec<f64> = tables
                    .iter()
                    .map(|(th, _)| th.late_mean("Temp").unwrap_or(f64::NAN))
                    .collect();
                let y: Vec<f64> = tables
                    .iter()
                    .map(|(th, _)| th.late_mean(c).unwrap_or(f64::NAN))
                    .collect();
                let png = out.join(format!("thermo_{c}_vs_T.png"));
                line_plot(
                    &png,
                    &format!("{c} vs T (late-half means)"),
                    "T (K)",
                    c,
                    &[Series {
                        label: c.clone(),
                        x: &t,
                        y: &y,
                        color: 0,
                        dashed: false,
                    }],
                )?;
                figures.push(png.display().to_string());
            }
        }
    }
    let s = json!({"runs": runs, "figures": figures});
    write_json(&out.join("thermo.json"), &s)?;
    Ok(s)
}

pub fn thermo(a: ThermoArgs) -> Result<()> {
    let s = thermo_summary(&a.logs, a.columns.as_deref(), &a.out, !a.no_plot)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        for r in s["runs"].as_array().into_iter().flatten() {
            println!(
                "{}: {} rows; late-half means {}",
                r["log"].as_str().unwrap_or(""),
                r["rows"],
                r["late_mean"]
            );
        }
        println!("outputs in {}", a.out.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Atom ids to follow: a list such as 5,17,100-104 or a file of ids.
    #[arg(long, required = true)]
    pub ids: String,
    /// Projection plane: xy, xz or yz (first letter is the horizontal axis).
    #[arg(long, default_value = "xy")]
    pub plane: String,
}

pub fn project(a: ProjectArgs) -> Result<()> {
    let axes: Vec<usize> = a
        .plane
        .chars()
        .map(|c| match c {
            'x' => Ok(0),
            'y' => Ok(1),
            'z' => Ok(2),
            _ => bail!("--plane {:?}: use xy, xz, yz (or yx, zx, zy)", a.plane),
        })
        .collect::<Result<_>>()?;
    if axes.len() != 2 || axes[0] == axes[1] {
        bail!("--plane {:?}: two different axes", a.plane);
    }
    let text = if Path::new(&a.ids).is_file() {
        std::fs::read_to_string(&a.ids).with_context(|| a.ids.clone())?
    } else {
        a.ids.replace(',', "\n")
    };
    let want = parse_id_list(&text).map_err(|e| anyhow::anyhow!("--ids: {e}"))?;
    let files = dump::expand(&a.input.dump)?;
    let mut picked: Vec<(u64, usize)> = Vec::new();
    let mut paths: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
    dump::read(&files, &read_opts(&a.input), |f| {
        if picked.is_empty() {
            for (i, id) in f.ids.iter().enumerate() {
                if want.contains(id) {
                    picked.push((*id, i));
                }
            }
            if picked.len() != want.len() {
                let mut missing: Vec<u64> = want
                    .iter()
                    .copied()
                    .filter(|id| !picked.iter().any(|p| p.0 == *id))
                    .collect();
                missing.sort_unstable();
                let shown: Vec<String> = missing.iter().take(10).map(|m| m.to_string()).collect();
                return Err(dprs_analysis::Error::Invalid(format!(
                    "--ids: atom id{} {}{} not in the dump",
                    if missing.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if missing.len() > 10 { ", …" } else { "" }
                )));
            }
            paths = vec![(Vec::new(), Vec::new()); picked.len()];
        }
        for (k, &(_, i)) in picked.iter().enumerate() {
            paths[k].0.push(f.pos[i][axes[0]]);
            paths[k].1.push(f.pos[i][axes[1]]);
        }
        Ok(())
    })?;
    let out = &a.input.out;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let names = ["x", "y", "z"];
    let mut cols: Vec<(String, &[f64])> = Vec::new();
    for (k, (id, _)) in picked.iter().enumerate() {
        cols.push((format!("id{id}_{}_A", names[axes[0]]), &paths[k].0));
        cols.push((format!("id{id}_{}_A", names[axes[1]]), &paths[k].1));
    }
    write_csv(&out.join("trajectories.csv"), &cols)?;
    if !a.input.no_plot {
        let s: Vec<Series> = picked
            .iter()
            .enumerate()
            .map(|(k, (id, _))| Series {
                label: format!("id {id}"),
                x: &paths[k].0,
                y: &paths[k].1,
                color: k,
                dashed: false,
            })
            .collect();
        line_plot(
            &out.join("trajectories.png"),
            &format!("Unwrapped trajectories projected on {}", a.plane),
            &format!("{} (Å)", names[axes[0]]),
            &format!("{} (Å)", names[axes[1]]),
            &s,
        )?;
    }
    let s = json!({"ids": picked.iter().map(|p| p.0).collect::<Vec<_>>(), "plane": a.plane,
        "csv": out.join("trajectories.csv").display().to_string(), "frames": paths.first().map_or(0, |p| p.0.len())});
    write_json(&out.join("trajectories.json"), &s)?;
    if a.input.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "{} atoms projected on {}\noutputs in {}",
            picked.len(),
            a.plane,
            out.display()
        );
    }
    Ok(())
}
