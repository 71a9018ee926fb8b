//! `postproc arrhenius`: Ea and D0 with errors from several runs (Fig. 2d).

use super::{fit_options, read_opts, FitArgs, InputArgs, SelectArgs, TimeArgs, PLANES};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::arrhenius::{self, Point, KB_EV};
use dprs_analysis::out::{num, write_csv, write_json};
use dprs_analysis::plot::error_bar_plot;
use dprs_analysis::runs::msd::{self as runs_msd, MsdOptions};
use dprs_analysis::runs::pass::Select;
use dprs_analysis::source::Trajectory;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args)]
pub struct ArrheniusArgs {
    /// Runs: DUMP@T (T in K; D is computed from the dump) or CSV files with
    /// columns T, D, D_err (D in any one unit; a header line is skipped).
    #[arg(required = true)]
    pub runs: Vec<String>,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Which D of a dump: total, x, y, z, xy, xz or yz.
    #[arg(long, default_value = "total")]
    pub component: String,
    /// Folder for the outputs.
    #[arg(long, short, default_value = "postproc-out")]
    pub out: PathBuf,
    /// Print the summary as JSON on stdout (and nothing else).
    #[arg(long)]
    pub json: bool,
    /// Do not draw PNG figures.
    #[arg(long)]
    pub no_plot: bool,
    /// Trajectories handed over in memory (the Python module): a run
    /// `<arrays>#K@T` is the K-th of them at T.
    #[arg(skip)]
    pub arrays: Vec<Arc<Trajectory>>,
}

/// How a run names a trajectory of [`ArrheniusArgs::arrays`].
pub const ARRAYS_RUN: &str = "<arrays>#";

fn read_csv(path: &Path) -> Result<Vec<Point>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut pts = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line
            .split([',', ' ', '\t', ';'])
            .filter(|c| !c.is_empty())
            .collect();
        let vals: Vec<Option<f64>> = cells.iter().map(|c| c.parse().ok()).collect();
        if k == 0 && vals.iter().any(|v| v.is_none()) {
            continue;
        }
        let get = |i: usize| vals.get(i).copied().flatten();
        match (get(0), get(1)) {
            (Some(t), Some(d)) => pts.push(Point {
                t,
                d,
                d_err: get(2).unwrap_or(f64::NAN),
            }),
            _ => bail!(
                "{}: line {}: expected numbers T, D[, D_err], got {line:?}",
                path.display(),
                k + 1
            ),
        }
    }
    if pts.is_empty() {
        bail!("{}: no T, D rows", path.display());
    }
    Ok(pts)
}

/// D ± stderr (Å²/ps) of one dump, as `postproc msd` computes it.
pub fn d_of_dump(
    dump: &str,
    frames: Option<Arc<Trajectory>>,
    time: &TimeArgs,
    select: &SelectArgs,
    fit: &FitArgs,
    component: &str,
) -> Result<(f64, f64)> {
    let axes = PLANES
        .iter()
        .find(|(n, _)| *n == component)
        .map(|(_, a)| *a)
        .with_context(|| format!("--component {component:?}: use total, x, y, z, xy, xz or yz"))?;
    let input = InputArgs {
        dump: vec![dump.to_string()],
        every: 1,
        max_frames: None,
        out: PathBuf::from("."),
        json: true,
        no_plot: true,
        frames,
    };
    let clock = time.clock()?;
    let source = input.source()?;
    let ids = select.id_set()?;
    let opts = MsdOptions {
        read: read_opts(&input),
        clock,
        select: Select {
            types: select.types.as_deref(),
            ids: ids.as_ref(),
            by_type: false,
        },
        fit: fit_options(fit),
    };
    let mut messages = Vec::new();
    let run = runs_msd::run(&source, &opts, &mut messages);
    for m in &messages {
        eprintln!("{m}");
    }
    let run = run?;
    for n in &run.fitted.notes {
        eprintln!("warning: {dump}: {n}");
    }
    let d = runs_msd::d_of(&run.fitted.msd.groups[0], axes, run.fitted.window, run.dt);
    Ok((d.value, d.stderr))
}

pub fn points(a: &ArrheniusArgs) -> Result<(Vec<Point>, &'static str)> {
    let mut pts = Vec::new();
    let mut unit = "input unit";
    for run in &a.runs {
        if let Some((dump, t)) = run.rsplit_once('@') {
            let t: f64 = t
                .parse()
                .with_context(|| format!("{run}: the part after @ must be T in K"))?;
            if a.fit.blocks < 2 {
                bail!("--blocks must be at least 2 for an error bar");
            }
            let frames = dump
                .strip_prefix(ARRAYS_RUN)
                .and_then(|k| k.parse::<usize>().ok())
                .and_then(|k| a.arrays.get(k).cloned());
            let (d, e) = d_of_dump(dump, frames, &a.time, &a.select, &a.fit, &a.component)?;
            pts.push(Point { t, d, d_err: e });
            unit = "A^2/ps";
        } else {
            pts.extend(read_csv(Path::new(run))?);
        }
    }
    Ok((pts, unit))
}

pub fn fit_and_write(pts: &[Point], unit: &str, out: &Path, plot: bool) -> Result<Value> {
    let f = arrhenius::fit(pts)?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let t: Vec<f64> = pts.iter().map(|p| p.t).collect();
    let d: Vec<f64> = pts.iter().map(|p| p.d).collect();
    let e: Vec<f64> = pts.iter().map(|p| p.d_err).collect();
    write_csv(
        &out.join("arrhenius.csv"),
        &[("T_K".into(), &t), ("D".into(), &d), ("D_err".into(), &e)],
    )?;
    if plot {
        let xs: Vec<(f64, f64, f64)> = pts
            .iter()
            .map(|p| (1000.0 / p.t, p.d.ln(), p.d_err / p.d))
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let lx = vec![lo, hi];
        let ly: Vec<f64> = lx
            .iter()
            .map(|x| f.ln_d0 - f.ea_ev / (KB_EV * 1000.0 / x))
            .collect();
        error_bar_plot(
            &out.join("arrhenius.png"),
            &format!(
                "Arrhenius fit: Ea = {} eV",
                dprs_analysis::out::value_pm(f.ea_ev, f.ea_stderr, "")
                    .unwrap_or_else(|| "n/a".into())
            ),
            "1000/T (K⁻¹)",
            &if unit == "A^2/ps" {
                "ln(D / (Å² ps⁻¹))".to_string()
            } else {
                format!("ln(D / ({unit}))")
            },
            &xs,
            Some((&lx, &ly)),
        )?;
    }
    let s = json!({
        "Ea_eV": {"value": num(f.ea_ev), "stderr": num(f.ea_stderr)},
        "D0": {"value": num(f.d0), "stderr": num(f.d0_stderr), "unit": unit},
        "ln_D0": {"value": num(f.ln_d0), "stderr": num(f.ln_d0_stderr)},
        "correlation_lnD0_Ea": num(f.corr),
        "chi2_per_dof": num(f.chi2_dof),
        "weighted": f.weighted,
        "points": pts.iter().map(|p| json!({"T_K": p.t, "D": num(p.d), "D_err": num(p.d_err)})).collect::<Vec<_>>(),
        "csv": out.join("arrhenius.csv").display().to_string(),
    });
    write_json(&out.join("arrhenius.json"), &s)?;
    Ok(s)
}

pub fn run(a: ArrheniusArgs) -> Result<()> {
    let (pts, unit, s) = summary(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "Ea = {} ± {} eV, D0 = {} ± {} ({unit}), {} points{}\noutputs in {}",
            s["Ea_eV"]["value"],
            s["Ea_eV"]["stderr"],
            s["D0"]["value"],
            s["D0"]["stderr"],
            pts.len(),
            if s["weighted"] == json!(true) {
                ", weighted by the per-run errors"
            } else {
                ", unweighted"
            },
            a.out.display()
        );
    }
    Ok(())
}

/// The Arrhenius fit over the runs; writes arrhenius.csv/json/png and
/// returns the points, the unit of D and the summary `--json` prints.
pub fn summary(a: &ArrheniusArgs) -> Result<(Vec<Point>, &'static str, Value)> {
    let (pts, unit) = points(a)?;
    super::keep_aside(
        &a.out,
        &["arrhenius.csv", "arrhenius.png", "arrhenius.json"],
    )?;
    let s = fit_and_write(&pts, unit, &a.out, !a.no_plot)?;
    Ok((pts, unit, s))
}
