//! `postproc report`: every analysis over a temperature series, into one
//! folder with figures, a JSON summary and an index (Markdown and HTML)
//! that tells the story of paper A Figs. 1–4.

use super::arrhenius::fit_and_write;
use super::chains::{self as chains_cmd, ChainOpts};
use super::flux::{self as flux_cmd, FluxArgs, LatticeArgs};
use super::seedb::thermo_summary;
use super::{early_dt, fit_window, frame_dt, read_opts, report, run_pass, vacf_lag, vdos_summary};
use super::{FitArgs, InputArgs, SelectArgs, TimeArgs, VdosOpts};
use anyhow::{bail, Context, Result};
use clap::Args;
use postproc::analysis::arrhenius::Point;
use postproc::analysis::rdf::RdfAccumulator;
use postproc::dump;
use postproc::out::{num, write_json};
use postproc::plot::{line_plot, Series};
use postproc::thermo::read_log;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ReportArgs {
    /// Runs: DUMP@T (T in K) or DUMP@LOG (T = late-half mean of the log's
    /// Temp column; the log also gives the timestep when --dt is absent).
    #[arg(required = true)]
    pub runs: Vec<String>,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub lattice: LatticeArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub vdos: VdosOpts,
    #[command(flatten)]
    pub chains: ChainOpts,
    /// Which D enters the Arrhenius fit: total, x, y, z, xy, xz or yz.
    #[arg(long, default_value = "total")]
    pub component: String,
    /// Only the first n frames of every dump.
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// Report folder.
    #[arg(long, short, default_value = "postproc-report")]
    pub out: PathBuf,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

struct Run {
    dump: String,
    t: f64,
    log: Option<PathBuf>,
}

fn parse_run(s: &str) -> Result<Run> {
    let Some((dump, rest)) = s.rsplit_once('@') else {
        bail!("{s:?}: a run is DUMP@T or DUMP@LOG");
    };
    if let Ok(t) = rest.parse::<f64>() {
        if t.is_nan() || t <= 0.0 {
            bail!("{s:?}: T must be positive");
        }
        return Ok(Run {
            dump: dump.into(),
            t,
            log: None,
        });
    }
    let log = PathBuf::from(rest);
    let th = read_log(&log)?;
    let t = th
        .late_mean("Temp")
        .with_context(|| format!("{}: no Temp column for the run temperature", log.display()))?;
    Ok(Run {
        dump: dump.into(),
        t,
        log: Some(log),
    })
}

pub fn run(a: ReportArgs) -> Result<()> {
    let runs: Vec<Run> = a.runs.iter().map(|s| parse_run(s)).collect::<Result<_>>()?;
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let mut per_run = Vec::new();
    let mut points = Vec::new();
    for (k, r) in runs.iter().enumerate() {
        let dir = a.out.join(format!("run{k}_{:.0}K", r.t));
        eprintln!(
            "report: run {k} ({} at {:.1} K) → {}",
            r.dump,
            r.t,
            dir.display()
        );
        let mut time = a.time.clone();
        if time.dt.is_none() && time.timestep.is_none() && time.log.is_none() {
            time.log = r.log.clone();
        }
        let input = InputArgs {
            dump: vec![r.dump.clone()],
            every: 1,
            max_frames: a.max_frames,
            out: dir.clone(),
            json: true,
            no_plot: false,
        };
        std::fs::create_dir_all(&dir)?;
        let sel = SelectArgs {
            types: None,
            ids: None,
            by_type: true,
        };
        // MSD, D per axis, VACF and VDOS in one pass.
        let clock = time.clock()?;
        let files = dump::expand(&input.dump)?;
        let lag = vacf_lag(&a.vdos, early_dt(&files, clock, 1)?)?;
        let mut pass = run_pass(&input, &sel, true, true, Some(lag))?;
        let dt = frame_dt(clock, &pass.info, 1)?;
        let vacf = pass.vacf.take().expect("asked for").finish(&pass.sel, dt)?;
        let msd = pass
            .msd
            .as_ref()
            .expect("asked for")
            .compute(&pass.sel, a.fit.blocks)?;
        let (w, default) = fit_window(&a.fit, &msd, dt)?;
        let msd_s = report::msd(&input, &pass.info, &msd, w, default, dt)?;
        let mut vo = a.vdos.clone();
        vo.temperature = Some(r.t);
        let vdos_s = vdos_summary(&input, &vo, &pass, &vacf)?;
        // g(r).
        let mut acc: Option<RdfAccumulator> = None;
        let info = dump::read(&files, &read_opts(&input), |f| {
            if acc.is_none() {
                let wmin = f.cell.widths().into_iter().fold(f64::INFINITY, f64::min);
                acc = Some(RdfAccumulator::new(&f.types, (0.5 * wmin).min(10.0), 200));
            }
            acc.as_mut().expect("set above").add(f)
        })?;
        let rdf_s = report::rdf(&input, &info, &acc.expect("one frame").finish()?)?;
        // Flux maps and chains.
        let fa = FluxArgs {
            input: input.clone(),
            time: time.clone(),
            lattice: a.lattice.clone(),
            smooth: 1.0,
            interval: 1.0,
            t1: 0.0,
            t2: None,
            r1: None,
            r2: None,
            subdiv: 8,
        };
        let flux_s = match flux_cmd::compute(&fa) {
            Ok(fr) => flux_cmd::write(&fr, &dir, true, 1.0, 1.0)?,
            Err(e) => json!({"error": format!("{e:#}")}),
        };
        let chains_s = match chains_cmd::compute(&input, &time, &a.lattice, &a.chains) {
            Ok(cr) => chains_cmd::write(&cr, &dir, true)?,
            Err(e) => json!({"error": format!("{e:#}")}),
        };
        let twopt_s = match super::twopt::compute(
            &input,
            &time,
            &SelectArgs {
                types: None,
                ids: None,
                by_type: false,
            },
            &vo,
        ) {
            Ok(s) => s,
            Err(e) => json!({"error": format!("{e:#}")}),
        };
        let thermo_s = match &r.log {
            Some(l) => thermo_summary(std::slice::from_ref(l), None, &dir, true)?,
            None => Value::Null,
        };
        let d = &msd_s["D"][a.component.as_str()];
        if d.is_null() {
            bail!(
                "--component {:?}: use total, x, y, z, xy, xz or yz",
                a.component
            );
        }
        points.push(Point {
            t: r.t,
            d: d["value"].as_f64().unwrap_or(f64::NAN),
            d_err: d["stderr"].as_f64().unwrap_or(f64::NAN),
        });
        per_run.push(json!({
            "dump": r.dump, "T_K": r.t, "folder": dir.display().to_string(),
            "D": msd_s["D"], "vdos": {"D_from_F0": vdos_s["D_from_F0"], "peak_THz": vdos_s["peak_THz"]},
            "rdf": rdf_s["pairs"],
            "flux_lines": flux_s["lines"].as_array().map(|l| l.len()), "flux": flux_s.get("error").cloned().unwrap_or(Value::Null),
            "chains": {"n_chains": chains_s["n_chains"], "rings": chains_s["rings"],
                       "diffusive_fraction": chains_s["diffusive_fraction"], "mobile": chains_s["mobile_ids"].as_array().map(|v| v.len()),
                       "error": chains_s.get("error").cloned().unwrap_or(Value::Null)},
            "twopt": {"f_g": twopt_s["f_g"], "delta": twopt_s["delta"], "error": twopt_s.get("error").cloned().unwrap_or(Value::Null)},
            "thermo": thermo_s.get("runs").cloned().unwrap_or(Value::Null),
        }));
    }
    let arr = if points.len() >= 2 && points.iter().all(|p| p.d > 0.0) {
        match fit_and_write(&points, "A^2/ps", &a.out, true) {
            Ok(s) => s,
            Err(e) => json!({"error": format!("{e:#}")}),
        }
    } else {
        json!({"error": "an Arrhenius fit needs two or more runs with D > 0"})
    };
    let ts: Vec<f64> = per_run
        .iter()
        .map(|r| r["T_K"].as_f64().unwrap_or(f64::NAN))
        .collect();
    let series_vs_t = |key: &dyn Fn(&Value) -> Option<f64>| -> Vec<f64> {
        per_run.iter().map(|r| key(r).unwrap_or(f64::NAN)).collect()
    };
    let fg = series_vs_t(&|r| r["twopt"]["f_g"].as_f64());
    let df = series_vs_t(&|r| r["chains"]["diffusive_fraction"].as_f64());
    line_plot(
        &a.out.join("fg_vs_T.png"),
        "2PT fluidicity vs T (Fig. 2c)",
        "T (K)",
        "f_g",
        &[Series {
            label: "f_g".into(),
            x: &ts,
            y: &fg,
            color: 1,
            dashed: false,
        }],
    )?;
    line_plot(
        &a.out.join("diffusive_fraction_vs_T.png"),
        "Diffusive fraction vs T",
        "T (K)",
        "fraction",
        &[Series {
            label: "hopping atoms per window".into(),
            x: &ts,
            y: &df,
            color: 0,
            dashed: false,
        }],
    )?;
    let summary = json!({"runs": per_run, "arrhenius": arr,
        "component": a.component, "f_g_vs_T": ts.iter().zip(&fg).map(|(t, f)| json!([t, num(*f)])).collect::<Vec<_>>()});
    write_json(&a.out.join("summary.json"), &summary)?;
    write_index(&a.out, &summary)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("report in {}", a.out.join("index.html").display());
    }
    Ok(())
}

fn rel(out: &Path, p: &Path) -> String {
    p.strip_prefix(out).unwrap_or(p).display().to_string()
}

fn write_index(out: &Path, s: &Value) -> Result<()> {
    let mut md = String::from("# Chain-melting report\n\nMade by `postproc report`; all numbers are in `summary.json`, every figure has its data next to it (CSV/JSON).\n\n");
    md += "## Temperature series\n\n| T (K) | D total (Å²/ps) | D_x | D_y | D_z | f_g | diffusive fraction | chains | rings | lines with crossings |\n|---|---|---|---|---|---|---|---|---|---|\n";
    let f = |v: &Value| v.as_f64().map_or("–".to_string(), |x| format!("{x:.4e}"));
    for r in s["runs"].as_array().into_iter().flatten() {
        let d = |k: &str| format!("{} ± {}", f(&r["D"][k]["value"]), f(&r["D"][k]["stderr"]));
        md += &format!(
            "| {:.1} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r["T_K"].as_f64().unwrap_or(f64::NAN),
            d("total"),
            d("x"),
            d("y"),
            d("z"),
            f(&r["twopt"]["f_g"]),
            f(&r["chains"]["diffusive_fraction"]),
            r["chains"]["n_chains"],
            r["chains"]["rings"],
            r["flux_lines"]
        );
    }
    let ea = &s["arrhenius"];
    md += &format!(
        "\n## Arrhenius (Fig. 2d)\n\nEa = {} ± {} eV, D0 = {} ± {} Å²/ps ({} D).\n\n![Arrhenius](arrhenius.png)\n\n## Fluidicity and diffusive fraction vs T (Fig. 2c)\n\n![f_g vs T](fg_vs_T.png)\n![diffusive fraction vs T](diffusive_fraction_vs_T.png)\n",
        f(&ea["Ea_eV"]["value"]), f(&ea["Ea_eV"]["stderr"]), f(&ea["D0"]["value"]), f(&ea["D0"]["stderr"]), s["component"].as_str().unwrap_or("")
    );
    let figs = [
        ("MSD per axis (Fig. 1a,c)", "msd.png"),
        ("VDOS (Fig. 1b)", "vdos.png"),
        ("2PT gas/solid split of the VDOS (Fig. 2a,b)", "twopt.png"),
        ("cMSD of chain vs solid atoms (Fig. 1e)", "cmsd.png"),
        ("g(r) (Fig. 3)", "rdf.png"),
        ("Flux F_x(y,z) (Fig. 4a)", "flux_x.png"),
        ("Flux F_y(x,z)", "flux_y.png"),
        ("Flux F_z(x,y) (Fig. 4b)", "flux_z.png"),
        ("Diffusive fraction vs time", "diffusive_fraction.png"),
        ("Chain lengths", "chain_lengths.png"),
        ("Temperature from the log", "thermo_Temp.png"),
    ];
    for r in s["runs"].as_array().into_iter().flatten() {
        let dir = PathBuf::from(r["folder"].as_str().unwrap_or(""));
        md += &format!(
            "\n## Run at {:.1} K: `{}`\n\n",
            r["T_K"].as_f64().unwrap_or(f64::NAN),
            r["dump"].as_str().unwrap_or("")
        );
        for (title, file) in figs {
            let p = dir.join(file);
            if p.exists() {
                md += &format!("### {title}\n\n![{title}]({})\n\n", rel(out, &p));
            }
        }
    }
    postproc::out::write_text(&out.join("index.md"), &md)?;
    // The HTML is the Markdown's content with images inline, for a browser.
    let mut html = String::from("<!doctype html><html><head><meta charset=\"utf-8\"><title>Chain-melting report</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:auto}img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}</style></head><body>\n");
    let mut in_table = false;
    for line in md.lines() {
        let esc = line.replace('&', "&amp;").replace('<', "&lt;");
        if let Some(t) = line.strip_prefix("### ") {
            html += &format!("<h3>{t}</h3>\n");
        } else if let Some(t) = line.strip_prefix("## ") {
            html += &format!("<h2>{t}</h2>\n");
        } else if let Some(t) = line.strip_prefix("# ") {
            html += &format!("<h1>{t}</h1>\n");
        } else if line.starts_with("![") {
            let alt = &line[2..line.find(']').unwrap_or(2)];
            let src = &line[line.find('(').map_or(0, |i| i + 1)..line.len() - 1];
            html += &format!("<img alt=\"{alt}\" src=\"{src}\">\n");
        } else if line.starts_with('|') {
            if line.starts_with("|---") {
                continue;
            }
            if !in_table {
                html += "<table>\n";
                in_table = true;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            html += &format!(
                "<tr>{}</tr>\n",
                cells
                    .iter()
                    .map(|c| format!("<td>{c}</td>"))
                    .collect::<String>()
            );
            continue;
        } else if !line.is_empty() {
            html += &format!("<p>{esc}</p>\n");
        }
        if in_table {
            html += "</table>\n";
            in_table = false;
        }
    }
    if in_table {
        html += "</table>\n";
    }
    html += "</body></html>\n";
    postproc::out::write_text(&out.join("index.html"), &html)?;
    Ok(())
}
