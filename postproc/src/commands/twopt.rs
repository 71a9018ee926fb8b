//! `postproc twopt`: 2PT fluidicity f_g, Δ and the gas/solid split of the
//! VDOS (paper A Fig. 2a–c), from the VACF/VDOS of `postproc vdos`.

use super::{
    early_dt_of, frame_dt, masses, run_pass, vacf_lag, InputArgs, SelectArgs, TimeArgs, VdosOpts,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::twopt;
use dprs_analysis::analysis::vacf;
use dprs_analysis::dump::ReadOptions;
use dprs_analysis::out::{write_csv, write_json};
use dprs_analysis::plot::{line_plot, Series};
use dprs_analysis::runs::twopt::Species;
use serde_json::{json, Value};
use std::path::Path;

#[derive(Args)]
pub struct TwoptArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub vdos: VdosOpts,
}

pub fn compute(
    input: &InputArgs,
    time: &TimeArgs,
    select: &SelectArgs,
    vo: &VdosOpts,
) -> Result<Value> {
    let Some(temp) = vo.temperature else {
        bail!("twopt needs --temperature K");
    };
    if !(temp.is_finite() && temp > 0.0) {
        bail!("--temperature must be positive");
    }
    let clock = time.clock()?;
    let source = input.source()?;
    let lag = vacf_lag(vo, early_dt_of(&source, clock, input.every)?)?;
    let mut volume = 0.0;
    source.read(
        &ReadOptions {
            every: 1,
            max_frames: Some(1),
            progress: false,
        },
        |f| {
            volume = f.cell.volume();
            Ok(())
        },
    )?;
    let mut pass = run_pass(input, select, true, false, Some(lag))?;
    super::keep_aside(&input.out, &["twopt.csv", "twopt.png", "twopt.json"])?;
    let dt = frame_dt(clock, &pass.info, input.every)?;
    let mut v = pass.vacf.take().expect("asked for").finish(&pass.sel, dt)?;
    let notes = super::settle_lag(&mut v, vo);
    let kinds: Vec<u32> = pass.sel.atoms.iter().map(|&i| pass.types[i]).collect();
    let files: Vec<String> = pass
        .info
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    from_vacf(
        &input.out,
        !input.no_plot,
        &v,
        &kinds,
        volume,
        vo,
        &files,
        &notes,
    )
}

/// 2PT from the VACF of the selection; `kinds` are the types of the
/// selected atoms, `volume` the box volume, Å³; `notes` are earlier
/// warnings (about the lag) to carry into the summary. With several types,
/// `v` must hold one group per type (named `typeN`): each type gets its own
/// VDOS, Δ and f_g, and the totals are their atom-fraction-weighted sums.
#[allow(clippy::too_many_arguments)]
pub fn from_vacf(
    out: &Path,
    plot_it: bool,
    v: &vacf::Vacf,
    kinds: &[u32],
    volume: f64,
    vo: &VdosOpts,
    files: &[String],
    notes: &[String],
) -> Result<Value> {
    let Some(temp) = vo.temperature else {
        bail!("twopt needs --temperature K");
    };
    let m = masses(vo)?;
    let t = dprs_analysis::runs::twopt::summarise(v, kinds, volume, temp, &m, files, notes)?;
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let cols: Vec<(String, &[f64])> = t
        .columns
        .iter()
        .map(|(k, c)| (k.clone(), c.as_slice()))
        .collect();
    write_csv(&out.join("twopt.csv"), &cols)?;
    if plot_it {
        plot(
            &out.join("twopt.png"),
            &t.total,
            &t.species,
            t.solid_clipped,
        )?;
    }
    for w in &t.warnings {
        eprintln!("warning: {w}");
    }
    let mut summary = t.summary;
    summary["csv"] = json!(out.join("twopt.csv").display().to_string());
    write_json(&out.join("twopt.json"), &summary)?;
    Ok(summary)
}

fn plot(path: &Path, r: &twopt::TwoPt, all: &[Species], clipped: bool) -> Result<()> {
    let upto = dprs_analysis::runs::figures::spectrum_shown(&r.total);
    let x = &r.freq_thz[..upto];
    line_plot(
        path,
        &if all.len() > 1 {
            format!(
                "2PT split of the VDOS: f_g = {} ({})",
                dprs_analysis::out::human(r.f_g, 3).unwrap_or_else(|| "n/a".into()),
                all.iter()
                    .map(|s| format!(
                        "type {}: {}",
                        s.kind,
                        dprs_analysis::out::human(s.r.f_g, 3).unwrap_or_else(|| "n/a".into())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "2PT split of the VDOS: f_g = {}, Δ = {}",
                dprs_analysis::out::human(r.f_g, 3).unwrap_or_else(|| "n/a".into()),
                dprs_analysis::out::human(r.delta, 3).unwrap_or_else(|| "n/a".into())
            )
        },
        "ν (THz)",
        "F(ν) (1/THz)",
        &[
            Series {
                label: "total".into(),
                x,
                y: &r.total[..upto],
                color: 2,
                dashed: false,
            },
            Series {
                label: "gas-like".into(),
                x,
                y: &r.gas[..upto],
                color: 1,
                dashed: false,
            },
            Series {
                label: if clipped {
                    "solid-like (clipped at 0)".into()
                } else {
                    "solid-like".into()
                },
                x,
                y: &r.solid[..upto],
                color: 0,
                dashed: false,
            },
        ],
    )?;
    Ok(())
}

pub fn run(a: TwoptArgs) -> Result<()> {
    let s = compute(&a.input, &a.time, &a.select, &a.vdos)?;
    if a.input.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        let species = s["species"].as_array().cloned().unwrap_or_default();
        if species.len() > 1 {
            println!(
                "f_g = {} (atom-fraction-weighted over {} types)",
                s["f_g"],
                species.len()
            );
            for sp in &species {
                println!(
                    "type {}: {} atoms, F(0) = {} ps, Δ = {}, f_g = {} ({})",
                    sp["type"],
                    sp["n_atoms"],
                    sp["F0_ps"],
                    sp["delta"],
                    sp["f_g"],
                    sp["normalisation"].as_str().unwrap_or("")
                );
            }
            println!("outputs in {}", a.input.out.display());
        } else {
            println!(
                "F(0) = {} ps, Δ = {}, f_g = {} ({})\noutputs in {}",
                s["F0_ps"],
                s["delta"],
                s["f_g"],
                s["normalisation"].as_str().unwrap_or(""),
                a.input.out.display()
            );
        }
    }
    Ok(())
}
