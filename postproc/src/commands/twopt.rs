//! `postproc twopt`: 2PT fluidicity f_g, Δ and the gas/solid split of the
//! VDOS (paper A Fig. 2a–c), from the VACF/VDOS of `postproc vdos`.

use super::{
    add_warnings, early_dt, fmt_ps, frame_dt, masses, report, run_pass, vacf_lag, InputArgs,
    SelectArgs, TimeArgs, VdosOpts,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use postproc::analysis::twopt;
use postproc::analysis::vacf;
use postproc::dump::{self, ReadOptions};
use postproc::out::{num, write_csv, write_json};
use postproc::plot::{line_plot, Series};
use postproc::units::KB_METAL_MASS;
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
    let files = dump::expand(&input.dump)?;
    let lag = vacf_lag(vo, early_dt(&files, clock, input.every)?)?;
    let mut volume = 0.0;
    dump::read(
        &files,
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

/// 2PT from the VACF of the whole selection (group 0 of `v`); `kinds` are
/// the types of the selected atoms, `volume` the box volume, Å³; `notes` are
/// earlier warnings (about the lag) to carry into the summary.
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
    let dt = v.dt;
    let mut kinds = kinds.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.len() > 1 {
        bail!(
            "2PT here treats one species at a time; the selection has types {:?}: pick one with --types",
            kinds
        );
    }
    let g = &v.groups[0];
    let m = masses(vo)?;
    let (m_over_kt, norm) = match m.get(&kinds[0]) {
        Some(mass) => (
            mass / (KB_METAL_MASS * temp),
            "temperature and mass (eq. 10)".to_string(),
        ),
        None => {
            let v0: f64 = g.phi.iter().map(|p| p[0]).sum();
            (
                3.0 / v0,
                format!(
                    "kinetic: m/kT = 3/<v^2> (no --mass for type {}; --temperature {temp} K is used for kT/m only through <v^2>)",
                    kinds[0]
                ),
            )
        }
    };
    let mut warnings = notes.to_vec();
    if norm.starts_with("kinetic") {
        warnings.push(format!(
            "no --mass for type {}: F(ν) is normalised kinetically (m/kT = 3/⟨v²⟩ = {} ps²/Å²) \
             instead of from the temperature {temp} K and the mass",
            kinds[0],
            fmt_ps(m_over_kt)
        ));
    }
    let spec = vacf::vdos(&g.phi, dt, m_over_kt);
    let density = g.n_atoms as f64 / volume;
    let mut r = twopt::analyse(&spec.freq_thz, &spec.total, 1.0 / m_over_kt, density);
    let mean_phi: Vec<f64> = (0..g.phi[0].len())
        .map(|k| (g.phi[0][k] + g.phi[1][k] + g.phi[2][k]) / 3.0)
        .collect();
    warnings.extend(report::sampling_warnings(
        &mean_phi,
        dt,
        v.n_samples,
        &r.freq_thz,
        &r.total,
    ));
    // The solid part is what the gas part leaves; where the gas model
    // exceeds the total (or the spectrum ripples below zero) it would be
    // negative, which no density of states is: clip it and say how much.
    let neg: f64 = -vacf::integral(
        &r.freq_thz,
        &r.solid.iter().map(|x| x.min(0.0)).collect::<Vec<_>>(),
    );
    let solid_clipped = neg > 0.0;
    if solid_clipped {
        let total = vacf::integral(&r.freq_thz, &r.total)
            .abs()
            .max(f64::MIN_POSITIVE);
        warnings.push(format!(
            "the solid-like VDOS (total − gas) went below zero, by {} % of ∫F dν in all; \
             it is clipped at zero in twopt.csv, twopt.png and solid_integral",
            postproc::out::human(100.0 * neg / total, 2).unwrap_or_default()
        ));
        r.solid.iter_mut().for_each(|x| *x = x.max(0.0));
    }
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    write_csv(
        &out.join("twopt.csv"),
        &[
            ("freq_THz".into(), &r.freq_thz),
            ("vdos_per_THz".into(), &r.total),
            ("gas_per_THz".into(), &r.gas),
            ("solid_per_THz".into(), &r.solid),
        ],
    )?;
    if plot_it {
        plot(&out.join("twopt.png"), &r, neg > 0.0)?;
    }
    let summary = json!({
        "f_g": num(r.f_g),
        "delta": num(r.delta),
        "F0_ps": num(r.f0),
        "temperature_K": temp,
        "density_per_A3": num(density),
        "n_atoms": g.n_atoms,
        "type": kinds[0],
        "normalisation": norm,
        "velocities": v.source.describe(),
        "max_lag_ps": (g.phi[0].len() - 1) as f64 * dt,
        "gas_integral": num(vacf::integral(&r.freq_thz, &r.gas)),
        "solid_integral": num(vacf::integral(&r.freq_thz, &r.solid)),
        "method": "2PT, Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003); memory-function variant not implemented",
        "csv": out.join("twopt.csv").display().to_string(),
        "files": files,
        "solid_clipped_at_zero": solid_clipped,
        "warnings": [],
    });
    let mut summary = summary;
    add_warnings(&mut summary, &warnings);
    write_json(&out.join("twopt.json"), &summary)?;
    Ok(summary)
}

fn plot(path: &Path, r: &twopt::TwoPt, clipped: bool) -> Result<()> {
    let fmax = r.total.iter().cloned().fold(0.0, f64::max);
    let last = r
        .total
        .iter()
        .rposition(|&f| f > 2e-3 * fmax)
        .unwrap_or(r.total.len() - 1);
    let upto = ((last as f64 * 1.2) as usize + 2).min(r.total.len());
    let x = &r.freq_thz[..upto];
    line_plot(
        path,
        &format!(
            "2PT split of the VDOS: f_g = {}, Δ = {}",
            postproc::out::human(r.f_g, 3).unwrap_or_else(|| "n/a".into()),
            postproc::out::human(r.delta, 3).unwrap_or_else(|| "n/a".into())
        ),
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
        println!(
            "F(0) = {} ps, Δ = {}, f_g = {} ({})\noutputs in {}",
            s["F0_ps"],
            s["delta"],
            s["f_g"],
            s["normalisation"].as_str().unwrap_or(""),
            a.input.out.display()
        );
    }
    Ok(())
}
