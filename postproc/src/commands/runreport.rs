//! `postproc report`: every analysis over a temperature series, into one
//! folder with figures, a JSON summary and an `index.html` written directly
//! (relative links only, so the folder can be zipped and moved).

use super::arrhenius::fit_and_write;
use super::chains::{self as chains_cmd, ChainOpts, ChainsRun};
use super::flux::{self as flux_cmd, FluxArgs, FluxRun, LatticeArgs};
use super::seedb::thermo_summary;
use super::{early_dt, frame_dt, msd_with_window, read_opts, report, vacf_lag, vdos_summary};
use super::{FitArgs, InputArgs, Pass, TimeArgs, VdosOpts, PLANES};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::arrhenius::Point;
use dprs_analysis::analysis::chains::ChainTracker;
use dprs_analysis::analysis::lattice::Lattice;
use dprs_analysis::analysis::msd::MsdCollector;
use dprs_analysis::analysis::rdf::RdfAccumulator;
use dprs_analysis::analysis::select::Selection;
use dprs_analysis::analysis::vacf::VacfCollector;
use dprs_analysis::dump;
use dprs_analysis::out::{human, num, value_pm, write_json};
use dprs_analysis::plot::{line_plot, Series};
use dprs_analysis::thermo::read_log;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ReportArgs {
    /// Runs: DUMP@T (T in K) or DUMP@LOG (T = late-half mean of the log's
    /// Temp column; the log also gives the timestep when --dt is absent).
    /// Instead of a dump, the folder a `fix dprs/diffusion` wrote: its MSD,
    /// D, VACF/VDOS and flux maps enter the report as they are.
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
        if ["fs", "ps", "ns"].contains(&s.trim_end_matches([',', '.'])) {
            bail!(
                "{s:?} is not a run but looks like the unit of a time option written apart \
                 from its number: write it attached (--dt 10fs) or quote it (--dt '10 fs')"
            );
        }
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

/// An analysis that is set up on the first frame and may fail on its own
/// without stopping the others.
enum Slot<T> {
    Waiting,
    On(T),
    Failed(String),
}

impl<T> Slot<T> {
    fn feed(&mut self, f: impl FnOnce(&mut T) -> dprs_analysis::error::Result<()>) {
        if let Slot::On(t) = self {
            if let Err(e) = f(t) {
                *self = Slot::Failed(e.to_string());
            }
        }
    }
}

fn failed(e: anyhow::Error) -> Value {
    json!({"error": format!("{e:#}")})
}

/// Everything about one run, each analysis fed from one read of the dump.
fn analyse_run(a: &ReportArgs, r: &Run, dir: &Path) -> Result<Value> {
    let mut time = a.time.clone();
    if time.dt.is_none() && time.timestep.is_none() && time.log.is_none() {
        time.log = r.log.clone();
    }
    let input = InputArgs {
        dump: vec![r.dump.clone()],
        every: 1,
        max_frames: a.max_frames,
        out: dir.to_path_buf(),
        json: true,
        no_plot: false,
        frames: None,
    };
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let clock = time.clock()?;
    let files = dump::expand(&input.dump)?;
    let dt0 = early_dt(&files, clock, 1)?;
    let lag = vacf_lag(&a.vdos, dt0)?;
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
    let flux_plan = flux_cmd::plan(&fa, dt0).map_err(|e| format!("{e:#}"));
    let chain_plan = chains_cmd::plan(&a.chains, dt0).map_err(|e| format!("{e:#}"));
    let mut sel: Option<Selection> = None;
    let mut types = Vec::new();
    let mut ids = Vec::new();
    let mut volume = f64::NAN;
    let mut msd: Option<MsdCollector> = None;
    let mut vacf: Option<VacfCollector> = None;
    let mut rdf: Slot<RdfAccumulator> = Slot::Waiting;
    let mut flux: Slot<flux_cmd::FluxStart> = Slot::Waiting;
    let mut chains: Slot<(ChainTracker, Lattice)> = Slot::Waiting;
    let info = dump::read(&files, &read_opts(&input), |f| {
        if sel.is_none() {
            let s = Selection::new(&f.ids, &f.types, None, None, true)?;
            msd = Some(MsdCollector::new(s.atoms.clone()));
            vacf = Some(VacfCollector::new(&s, lag));
            let wmin = f.cell.widths().into_iter().fold(f64::INFINITY, f64::min);
            rdf = Slot::On(RdfAccumulator::new(&f.types, (0.5 * wmin).min(10.0), 200));
            flux = match &flux_plan {
                Ok(p) => match flux_cmd::start(&fa, *p, f) {
                    Ok(x) => Slot::On(x),
                    Err(e) => Slot::Failed(e.to_string()),
                },
                Err(e) => Slot::Failed(e.clone()),
            };
            chains = match &chain_plan {
                Ok(p) => match chains_cmd::start(&a.lattice, &a.chains, *p, f) {
                    Ok(x) => Slot::On(x),
                    Err(e) => Slot::Failed(e.to_string()),
                },
                Err(e) => Slot::Failed(e.clone()),
            };
            types = f.types.to_vec();
            ids = f.ids.to_vec();
            volume = f.cell.volume();
            sel = Some(s);
        }
        msd.as_mut().expect("set above").push(f);
        vacf.as_mut().expect("set above").push(f)?;
        rdf.feed(|x| x.add(f));
        flux.feed(|x| x.0.push(f));
        chains.feed(|x| x.0.push(f));
        Ok(())
    })?;
    super::print_warnings(&info);
    let dt = frame_dt(clock, &info, 1)?;
    let mut pass = Pass {
        info,
        sel: sel.expect("at least one frame was read"),
        types,
        msd,
        vacf,
    };
    // MSD and D.
    let msd_s = msd_with_window(&a.fit, pass.msd.as_ref().expect("made"), &pass.sel, dt)
        .and_then(|fm| report::msd(&input, &pass.info, &fm, dt))
        .unwrap_or_else(failed);
    // VACF, VDOS, 2PT.
    let mut vo = a.vdos.clone();
    vo.temperature = Some(r.t);
    let vacf_done = pass
        .vacf
        .take()
        .expect("made")
        .finish(&pass.sel, dt)
        .map_err(anyhow::Error::from)
        .map(|mut v| {
            let notes = super::settle_lag(&mut v, &vo);
            (v, notes)
        });
    let (vdos_s, twopt_s) = match vacf_done {
        Ok((v, notes)) => {
            let vdos_s = vdos_summary(&input, &vo, &pass, &v, &notes).unwrap_or_else(failed);
            let kinds: Vec<u32> = pass.sel.atoms.iter().map(|&i| pass.types[i]).collect();
            let files: Vec<String> = vec![r.dump.clone()];
            let twopt_s =
                super::twopt::from_vacf(dir, true, &v, &kinds, volume, &vo, &files, &notes)
                    .unwrap_or_else(failed);
            (vdos_s, twopt_s)
        }
        Err(e) => (failed(e), json!({"error": "no VACF, see vdos"})),
    };
    // g(r).
    let rdf_s = match rdf {
        Slot::On(acc) => acc
            .finish()
            .map_err(anyhow::Error::from)
            .and_then(|x| report::rdf(&input, &pass.info, &x))
            .unwrap_or_else(failed),
        Slot::Failed(e) => json!({ "error": e }),
        Slot::Waiting => json!({"error": "no frame"}),
    };
    // Flux maps and chains.
    let flux_s = match flux {
        Slot::On((acc, lattice, rr)) => acc
            .finish()
            .map_err(anyhow::Error::from)
            .and_then(|fl| {
                let run = FluxRun {
                    flux: fl,
                    lattice,
                    info: pass.info.clone(),
                    dt,
                    r: rr,
                };
                flux_cmd::write(&run, dir, true, fa.smooth, fa.interval)
            })
            .unwrap_or_else(failed),
        Slot::Failed(e) => json!({ "error": e }),
        Slot::Waiting => json!({"error": "no frame"}),
    };
    let chains_s = match chains {
        Slot::On((tr, lattice)) => tr
            .finish()
            .map_err(anyhow::Error::from)
            .and_then(|c| {
                let run = ChainsRun {
                    chains: c,
                    lattice,
                    info: pass.info.clone(),
                    ids,
                    dt,
                    min_length: a.chains.min_length,
                };
                chains_cmd::write(&run, dir, true)
            })
            .unwrap_or_else(failed),
        Slot::Failed(e) => json!({ "error": e }),
        Slot::Waiting => json!({"error": "no frame"}),
    };
    let (thermo_s, thermo_figs) = thermo_of(r, dir);
    let err = |v: &Value| v.get("error").cloned().unwrap_or(Value::Null);
    Ok(json!({
        "n_frames": pass.info.n_frames, "n_atoms": pass.info.n_atoms, "dt_ps": dt,
        "D": msd_s["D"], "fit": msd_s["fit"], "msd_error": err(&msd_s),
        "msd_warnings": msd_s["warnings"],
        "vdos": {"D_from_F0": vdos_s["D_from_F0"], "D_green_kubo": vdos_s["D_green_kubo"],
                 "peak_THz": vdos_s["peak_THz"], "max_lag_ps": vdos_s["max_lag_ps"],
                 "warnings": vdos_s["warnings"], "error": err(&vdos_s)},
        "rdf": rdf_s["pairs"], "rdf_error": err(&rdf_s),
        "flux_lines": flux_s["lines"].as_array().map(|l| l.len()), "flux": err(&flux_s),
        "flux_range": {"x": [flux_s["maps"]["x"]["min"], flux_s["maps"]["x"]["max"]],
                       "y": [flux_s["maps"]["y"]["min"], flux_s["maps"]["y"]["max"]],
                       "z": [flux_s["maps"]["z"]["min"], flux_s["maps"]["z"]["max"]]},
        "chains": {"n_chains": chains_s["n_chains"], "rings": chains_s["rings"],
                   "diffusive_fraction": chains_s["diffusive_fraction"],
                   "mobile": chains_s["mobile_ids"].as_array().map(|v| v.len()),
                   "min_length": a.chains.min_length,
                   "error": err(&chains_s)},
        "twopt": {"f_g": twopt_s["f_g"], "delta": twopt_s["delta"],
                  "species": twopt_s["species"],
                  "warnings": twopt_s["warnings"], "error": err(&twopt_s)},
        "thermo": thermo_s.get("runs").cloned().unwrap_or(Value::Null),
        "thermo_figures": thermo_figs, "thermo_error": err(&thermo_s),
    }))
}

/// The run's thermo summary (when it was given as DUMP@LOG) and its figures.
fn thermo_of(r: &Run, dir: &Path) -> (Value, Vec<String>) {
    let thermo_s = match &r.log {
        Some(l) => thermo_summary(std::slice::from_ref(l), None, dir, true).unwrap_or_else(failed),
        None => Value::Null,
    };
    let figs = thermo_s["figures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .filter_map(|p| Path::new(p).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    (thermo_s, figs)
}

/// A run given as the folder of a `fix dprs/diffusion` (it holds msd.json):
/// the MSD, D, VACF/VDOS and flux maps were accumulated inside LAMMPS with
/// postproc's own code and written in postproc's formats, so the report
/// takes them as they are and copies the files beside the others' results.
/// g(r), chains and 2PT need frames, which an in-situ run does not keep.
fn insitu_run(r: &Run, dir: &Path) -> Result<Value> {
    let src = Path::new(&r.dump);
    let read = |name: &str| -> Result<Option<Value>> {
        let p = src.join(name);
        if !p.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).with_context(|| p.display().to_string())?;
        let v = serde_json::from_str(&text)
            .with_context(|| format!("{}: not the JSON fix dprs/diffusion writes", p.display()))?;
        Ok(Some(v))
    };
    let msd = read("msd.json")?.with_context(|| {
        format!(
            "{}: a folder without msd.json; a run is a dump or the folder of a fix dprs/diffusion",
            src.display()
        )
    })?;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    for e in std::fs::read_dir(src).with_context(|| src.display().to_string())? {
        let p = e?.path();
        if let (true, Some(name)) = (p.is_file(), p.file_name()) {
            std::fs::copy(&p, dir.join(name)).with_context(|| p.display().to_string())?;
        }
    }
    let absent = |what: &str, how: &str| -> Value {
        json!({"error": format!("{what}: not among the in-situ results of {} ({how})", src.display())})
    };
    let frames = "needs frames; run postproc on a dump of the run for it";
    let vdos =
        read("vdos.json")?.unwrap_or_else(|| absent("VACF/VDOS", "the fix had no vacf keyword"));
    let flux =
        read("flux.json")?.unwrap_or_else(|| absent("flux maps", "the fix had no flux keyword"));
    let (thermo_s, thermo_figs) = thermo_of(r, dir);
    let err = |v: &Value| v.get("error").cloned().unwrap_or(Value::Null);
    Ok(json!({
        "n_frames": msd["n_frames"], "n_atoms": msd["n_atoms"], "dt_ps": msd["dt_ps"],
        "insitu": msd["insitu"],
        "D": msd["D"], "fit": msd["fit"], "msd_error": Value::Null,
        "msd_warnings": msd["warnings"],
        "vdos": {"D_from_F0": vdos["D_from_F0"], "D_green_kubo": vdos["D_green_kubo"],
                 "peak_THz": vdos["peak_THz"], "max_lag_ps": vdos["max_lag_ps"],
                 "warnings": vdos["warnings"], "error": err(&vdos)},
        "rdf": Value::Null, "rdf_error": absent("g(r)", frames)["error"],
        "flux_lines": flux["lines"].as_array().map(|l| l.len()), "flux": err(&flux),
        "flux_range": {"x": [flux["maps"]["x"]["min"], flux["maps"]["x"]["max"]],
                       "y": [flux["maps"]["y"]["min"], flux["maps"]["y"]["max"]],
                       "z": [flux["maps"]["z"]["min"], flux["maps"]["z"]["max"]]},
        "chains": {"error": absent("chains", frames)["error"]},
        "twopt": {"error": absent("2PT", frames)["error"]},
        "thermo": thermo_s.get("runs").cloned().unwrap_or(Value::Null),
        "thermo_figures": thermo_figs, "thermo_error": err(&thermo_s),
    }))
}

/// Moves an earlier report in `out` aside to `OUT.previous` (or
/// `.previous-2`, …) so that nothing of it is overwritten or mixed in.
fn set_aside(out: &Path) -> Result<Option<PathBuf>> {
    let busy = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if !busy {
        return Ok(None);
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "postproc-report".into());
    for k in 1.. {
        let suffix = if k == 1 {
            ".previous".to_string()
        } else {
            format!(".previous-{k}")
        };
        let aside = out.with_file_name(format!("{name}{suffix}"));
        if !aside.exists() {
            std::fs::rename(out, &aside).with_context(|| {
                format!(
                    "{} holds an earlier report and cannot be moved to {}; pick another --out",
                    out.display(),
                    aside.display()
                )
            })?;
            return Ok(Some(aside));
        }
    }
    unreachable!("some suffix is free")
}

pub fn run(a: ReportArgs) -> Result<()> {
    let runs: Vec<Run> = a.runs.iter().map(|s| parse_run(s)).collect::<Result<_>>()?;
    if !PLANES.iter().any(|(n, _)| *n == a.component) {
        bail!(
            "--component {:?}: use total, x, y, z, xy, xz or yz",
            a.component
        );
    }
    // A mistyped path should stop the report now, not after the other runs.
    for r in &runs {
        if Path::new(&r.dump).is_dir() {
            if !Path::new(&r.dump).join("msd.json").is_file() {
                bail!(
                    "{}: a folder without msd.json; a run is a dump or the folder of a \
                     fix dprs/diffusion",
                    r.dump
                );
            }
            continue;
        }
        for f in dump::expand(std::slice::from_ref(&r.dump))? {
            if !f.is_file() {
                bail!(
                    "{}: no such file (run {}@{})",
                    f.display(),
                    r.dump,
                    r.log
                        .as_ref()
                        .map_or_else(|| format!("{}", r.t), |l| l.display().to_string())
                );
            }
        }
    }
    if let Some(aside) = set_aside(&a.out)? {
        eprintln!(
            "report: {} was not empty; its contents were moved to {}",
            a.out.display(),
            aside.display()
        );
    }
    std::fs::create_dir_all(&a.out).with_context(|| a.out.display().to_string())?;
    let mut per_run = Vec::new();
    let mut points = Vec::new();
    for (k, r) in runs.iter().enumerate() {
        let folder = format!("run{k}_{:.0}K", r.t);
        let dir = a.out.join(&folder);
        eprintln!(
            "report: run {k} ({} at {:.1} K) → {}",
            r.dump,
            r.t,
            dir.display()
        );
        let analysed = if Path::new(&r.dump).is_dir() {
            insitu_run(r, &dir)
        } else {
            analyse_run(&a, r, &dir)
        };
        let mut entry = match analysed {
            Ok(v) => v,
            Err(e) => {
                eprintln!("report: run {k} could not be analysed: {e:#}");
                json!({"error": format!("{e:#}")})
            }
        };
        entry["dump"] = json!(r.dump);
        entry["T_K"] = json!(r.t);
        entry["folder"] = json!(folder);
        let d = &entry["D"][a.component.as_str()];
        if let Some(v) = d["value"].as_f64() {
            points.push(Point {
                t: r.t,
                d: v,
                d_err: d["stderr"].as_f64().unwrap_or(f64::NAN),
            });
        }
        per_run.push(entry);
    }
    let usable: Vec<Point> = points.iter().copied().filter(|p| p.d > 0.0).collect();
    let arr = if usable.len() >= 2 {
        fit_and_write(&usable, "A^2/ps", &a.out, true).unwrap_or_else(failed)
    } else {
        json!({"error": format!(
            "an Arrhenius fit needs D > 0 at two or more temperatures; this report has {} run{} with D > 0",
            usable.len(), if usable.len() == 1 { "" } else { "s" })})
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
    let fg_plot = vs_t_plot(
        &a.out,
        "fg_vs_T.png",
        "2PT fluidicity f_g vs temperature",
        "f_g",
        &ts,
        &fg,
        "f_g (2PT)",
    )?;
    let df_plot = vs_t_plot(
        &a.out,
        "diffusive_fraction_vs_T.png",
        "Fraction of atoms hopping per window vs temperature",
        "diffusive fraction",
        &ts,
        &df,
        "diffusive fraction (chains)",
    )?;
    let summary = json!({"runs": per_run, "arrhenius": arr,
        "component": a.component,
        "f_g_vs_T": ts.iter().zip(&fg).map(|(t, f)| json!([t, num(*f)])).collect::<Vec<_>>(),
        "figures_vs_T": {"fg_vs_T": fg_plot, "diffusive_fraction_vs_T": df_plot}});
    write_json(&a.out.join("summary.json"), &summary)?;
    dprs_analysis::out::write_text(&a.out.join("index.html"), &index_html(&a.out, &summary))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("report in {}", a.out.join("index.html").display());
    }
    if per_run.iter().all(|r| r["error"].is_string()) {
        bail!(
            "no run could be analysed (the reasons are in {})",
            a.out.join("index.html").display()
        );
    }
    Ok(())
}

/// A quantity vs T when two or more runs have it; otherwise the reason as
/// a JSON string and no figure.
fn vs_t_plot(
    out: &Path,
    file: &str,
    title: &str,
    ylabel: &str,
    ts: &[f64],
    ys: &[f64],
    what: &str,
) -> Result<Value> {
    let n = ys.iter().filter(|y| y.is_finite()).count();
    if n < 2 {
        return Ok(json!({"error": format!(
            "a plot against temperature needs {what} at two or more temperatures; this report has it at {n} temperature{}",
            if n == 1 { "" } else { "s" })}));
    }
    line_plot(
        &out.join(file),
        title,
        "T (K)",
        ylabel,
        &[Series {
            label: String::new(),
            x: ts,
            y: ys,
            color: 0,
            dashed: false,
        }],
    )?;
    let svg = dprs_analysis::plot::svg_beside(Path::new(file));
    Ok(json!({"png": file, "svg": svg.to_string_lossy()}))
}

/// Text for HTML: & < > " escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pm_cell(d: &Value) -> String {
    let v = d["value"].as_f64().unwrap_or(f64::NAN);
    let e = d["stderr"].as_f64().unwrap_or(f64::NAN);
    value_pm(v, e, "(no error bar)").unwrap_or_else(|| "n/a".into())
}

fn num_cell(v: &Value, sig: usize) -> String {
    match v {
        Value::Number(n) => n
            .as_f64()
            .and_then(|x| human(x, sig))
            .unwrap_or_else(|| "n/a".into()),
        _ => "n/a".into(),
    }
}

/// A parameter of the analysis (time step, window) without trailing zeros.
fn short_cell(v: &Value) -> String {
    v.as_f64()
        .and_then(dprs_analysis::out::short)
        .unwrap_or_else(|| "n/a".into())
}

/// A figure with its caption, or in words why it is not there.
fn figure(html: &mut String, out: &Path, rel: &str, title: &str, caption: &str, missing: &str) {
    let _ = writeln!(html, "<h3>{}</h3>", esc(title));
    if out.join(rel).is_file() {
        // The same figure as SVG, for papers, when it was written.
        let svg = dprs_analysis::plot::svg_beside(Path::new(rel));
        let svg_link = if out.join(&svg).is_file() {
            format!(" <a href=\"{}\">SVG</a>", esc(&svg.to_string_lossy()))
        } else {
            String::new()
        };
        let _ = writeln!(
            html,
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}{svg_link}</figcaption></figure>",
            esc(rel),
            esc(title),
            esc(caption)
        );
    } else {
        let _ = writeln!(html, "<p class=\"missing\">{}</p>", esc(missing));
    }
}

fn reason(v: &Value, what: &str) -> String {
    match v.as_str() {
        Some(e) => format!("Not available: the {what} could not run on this run: {e}."),
        None => format!("Not available: the {what} wrote no figure for this run."),
    }
}

fn warnings_list(html: &mut String, title: &str, list: &Value) {
    let items: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str())
        .collect();
    if items.is_empty() {
        return;
    }
    let _ = writeln!(
        html,
        "<p class=\"warn\">{}:</p>\n<ul class=\"warn\">",
        esc(title)
    );
    for w in items {
        let _ = writeln!(html, "<li>{}</li>", esc(w));
    }
    html.push_str("</ul>\n");
}

/// The report page, written directly as HTML.
fn index_html(out: &Path, s: &Value) -> String {
    let mut h = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>Diffusion and chain-melting report</title>\n<style>\
         body{font-family:sans-serif;max-width:1000px;margin:auto;padding:0 1em}\
         img{max-width:100%}figure{margin:0 0 1.5em 0}figcaption{color:#333;font-size:90%}\
         table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\
         th{background:#f3f3f3}.missing{color:#8a4b00}.warn{color:#8a4b00}\
         </style></head><body>\n<h1>Diffusion and chain-melting report</h1>\n\
         <p>Made by postproc report. All numbers are also in <a href=\"summary.json\">summary.json</a>; \
         every figure has its data next to it (CSV and JSON in the run's folder). \
         D is in Å²/ps with its standard error from time blocks.</p>\n",
    );
    let runs: Vec<&Value> = s["runs"].as_array().into_iter().flatten().collect();
    h.push_str("<h2>Temperature series</h2>\n<table>\n<tr><th>T (K)</th><th>D total (Å²/ps)</th>\
        <th>D<sub>x</sub></th><th>D<sub>y</sub></th><th>D<sub>z</sub></th><th>f<sub>g</sub> (2PT)</th>\
        <th>diffusive fraction</th><th>chains</th><th>rings</th><th>lattice lines with crossings</th></tr>\n");
    let mut any_na = false;
    for r in &runs {
        let mut cells = vec![num_cell(&r["T_K"], 4)];
        for k in ["total", "x", "y", "z"] {
            cells.push(pm_cell(&r["D"][k]));
        }
        cells.push(num_cell(&r["twopt"]["f_g"], 3));
        cells.push(num_cell(&r["chains"]["diffusive_fraction"], 3));
        cells.push(num_cell(&r["chains"]["n_chains"], 6));
        cells.push(num_cell(&r["chains"]["rings"], 6));
        cells.push(num_cell(&r["flux_lines"], 6));
        any_na |= cells.iter().any(|c| c == "n/a");
        h.push_str("<tr>");
        for c in cells {
            let _ = write!(h, "<td>{}</td>", esc(&c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if any_na {
        h.push_str(
            "<p>n/a: that analysis could not run on that run; its section below says why.</p>\n",
        );
    }
    // Arrhenius.
    h.push_str("<h2>Arrhenius fit of D</h2>\n");
    let ea = &s["arrhenius"];
    if let Some(e) = ea["error"].as_str() {
        let _ = writeln!(h, "<p class=\"missing\">No Arrhenius fit: {}.</p>", esc(e));
    } else {
        let pm = |v: &Value| {
            value_pm(
                v["value"].as_f64().unwrap_or(f64::NAN),
                v["stderr"].as_f64().unwrap_or(f64::NAN),
                "",
            )
            .unwrap_or_else(|| "n/a".into())
        };
        let _ = writeln!(
            h,
            "<p>E<sub>a</sub> = {} eV, D<sub>0</sub> = {} Å²/ps (fit of ln D<sub>{}</sub> against 1/k<sub>B</sub>T{}).</p>",
            esc(&pm(&ea["Ea_eV"])),
            esc(&pm(&ea["D0"])),
            esc(s["component"].as_str().unwrap_or("")),
            if ea["weighted"] == json!(true) { ", weighted by the per-run errors" } else { ", unweighted" }
        );
        figure(
            &mut h,
            out,
            "arrhenius.png",
            "ln D against 1000/T",
            "ln D of each run with its error bar and the fitted straight line; the slope is −Ea/k_B.",
            "Not available: the Arrhenius figure was not drawn.",
        );
    }
    h.push_str("<h2>Quantities against temperature</h2>\n");
    for (key, title, caption) in [
        (
            "fg_vs_T",
            "2PT fluidicity f_g against temperature",
            "Fraction of the vibrational degrees of freedom that behave like a hard-sphere gas, per run.",
        ),
        (
            "diffusive_fraction_vs_T",
            "Fraction of atoms hopping per window against temperature",
            "Time average of the fraction of atoms that hop to another lattice site within a classification window.",
        ),
    ] {
        let v = &s["figures_vs_T"][key];
        let missing = v["error"]
            .as_str()
            .map(|e| format!("Not drawn: {e}."))
            .unwrap_or_else(|| "Not drawn.".into());
        figure(&mut h, out, &format!("{key}.png"), title, caption, &missing);
    }
    // Per run.
    for r in &runs {
        let folder = r["folder"].as_str().unwrap_or("");
        let dump = r["dump"].as_str().unwrap_or("");
        let dump_name = Path::new(dump)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dump.to_string());
        let _ = writeln!(
            h,
            "<h2>Run at {} K: {}</h2>",
            esc(&num_cell(&r["T_K"], 4)),
            esc(&dump_name)
        );
        if let Some(e) = r["error"].as_str() {
            let _ = writeln!(
                h,
                "<p class=\"missing\">This run could not be analysed: {}.</p>",
                esc(e)
            );
            continue;
        }
        let _ = writeln!(
            h,
            "<p>{} atoms, {} frames, {} ps between frames. Files: <a href=\"{}/\">{}/</a>.</p>",
            esc(&num_cell(&r["n_atoms"], 9)),
            esc(&num_cell(&r["n_frames"], 9)),
            esc(&short_cell(&r["dt_ps"])),
            esc(folder),
            esc(folder)
        );
        let f = |name: &str| format!("{folder}/{name}");
        let fit = &r["fit"];
        let msd_caption = format!(
            "MSD along x, y and z up to half the run; dashed black lines: straight-line fits over the shaded window {}–{} ps, whose slopes give D. D (all axes) = {} Å²/ps.",
            short_cell(&fit["from_ps"]),
            short_cell(&fit["to_ps"]),
            pm_cell(&r["D"]["total"])
        );
        figure(
            &mut h,
            out,
            &f("msd.png"),
            "Mean-squared displacement per axis",
            &msd_caption,
            &reason(&r["msd_error"], "MSD analysis"),
        );
        warnings_list(&mut h, "Notes on the MSD fit", &r["msd_warnings"]);
        let vd = &r["vdos"];
        figure(
            &mut h,
            out,
            &f("vacf.png"),
            "Velocity autocorrelation",
            &format!(
                "Φ(t) = ⟨v(0)·v(t)⟩/3 averaged over atoms and time origins, up to a lag of {} ps.",
                short_cell(&vd["max_lag_ps"])
            ),
            &reason(&vd["error"], "VACF analysis"),
        );
        figure(&mut h, out, &f("vdos.png"), "Vibrational density of states",
            &format!("F(ν), the cosine transform of the VACF, total and per axis. D from F(0) = {} Å²/ps; Green–Kubo D = {} Å²/ps.",
                num_cell(&vd["D_from_F0"], 3), num_cell(&vd["D_green_kubo"], 3)),
            &reason(&vd["error"], "VDOS analysis"));
        warnings_list(
            &mut h,
            "Notes on the sampling of the VACF/VDOS",
            &vd["warnings"],
        );
        let tp = &r["twopt"];
        figure(&mut h, out, &f("twopt.png"), "2PT split of the VDOS into gas-like and solid-like parts",
            &format!("Total VDOS, its hard-sphere-gas part and the solid-like rest; fluidicity f_g = {}{}.", num_cell(&tp["f_g"], 3), species_fg(tp)),
            &reason(&tp["error"], "2PT analysis"));
        warnings_list(&mut h, "Notes on 2PT", &tp["warnings"]);
        figure(&mut h, out, &f("rdf.png"), "Radial distribution function g(r)",
            "g(r) of all atoms, or with several atom types the partial g(r) of each pair of types, averaged over all frames.",
            &reason(&r["rdf_error"], "g(r) analysis"));
        for (axis, plane) in [("x", "y,z"), ("y", "x,z"), ("z", "x,y")] {
            figure(
                &mut h,
                out,
                &f(&format!("flux_{axis}.png")),
                &format!("Flux map F_{axis}({plane}): net crossings of the midplanes along {axis}"),
                &{
                    let range = &r["flux_range"][axis];
                    let empty = range[0].as_f64() == Some(0.0) && range[1].as_f64() == Some(0.0);
                    if empty {
                        format!("No midplane along {axis} was crossed in this run, so the map is empty (grey).")
                    } else {
                        format!("Net number of lattice midplanes crossed towards +{axis} (red) or −{axis} (blue), spread over the ({plane}) plane at the crossing atoms' positions.")
                    }
                },
                &reason(&r["flux"], "flux-map analysis"),
            );
        }
        let ch = &r["chains"];
        figure(&mut h, out, &f("diffusive_fraction.png"), "Fraction of atoms hopping per window against time",
            "Fraction of the atoms that hop to another lattice site within each classification window.",
            &reason(&ch["error"], "chain analysis"));
        let no_chains = if ch["error"].is_string() {
            reason(&ch["error"], "chain analysis")
        } else {
            format!(
                "No chain of {} or more atoms was found in this run, so there is no length distribution.",
                num_cell(&ch["min_length"], 3)
            )
        };
        figure(&mut h, out, &f("chain_lengths.png"), "Chain lengths",
            &format!("Number of cooperative chains of each length (atoms per chain); {} chains, {} of them rings.",
                num_cell(&ch["n_chains"], 9), num_cell(&ch["rings"], 9)),
            &no_chains);
        figure(&mut h, out, &f("cmsd.png"), "MSD along the chain direction: chain atoms against solid atoms",
            "cMSD of the atoms that took part in chains and of the others, along the axis the chains run.",
            &reason(&ch["error"], "chain analysis"));
        if let Some(e) = r["thermo_error"].as_str() {
            let _ = writeln!(
                h,
                "<h3>Thermodynamics from the log</h3>\n<p class=\"missing\">Not available: {}.</p>",
                esc(e)
            );
        }
        for fig in r["thermo_figures"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
        {
            let col = fig.trim_start_matches("thermo_").trim_end_matches(".png");
            figure(
                &mut h,
                out,
                &f(fig),
                &format!("{col} from the LAMMPS log against step"),
                &format!("Thermo column {col} of the run's log at every printed step."),
                "Not available: the figure was not drawn.",
            );
        }
    }
    h.push_str("</body></html>\n");
    h
}

/// ", per type: 1: 0.571, 2: 0.010" when 2PT treated several types, else "".
fn species_fg(tp: &Value) -> String {
    let sp: Vec<&Value> = tp["species"].as_array().into_iter().flatten().collect();
    if sp.len() < 2 {
        return String::new();
    }
    let each: Vec<String> = sp
        .iter()
        .map(|s| format!("{}: {}", s["type"], num_cell(&s["f_g"], 3)))
        .collect();
    format!(" (atom-fraction-weighted; per type {})", each.join(", "))
}
