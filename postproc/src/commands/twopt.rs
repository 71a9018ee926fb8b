//! `postproc twopt`: 2PT fluidicity f_g, Δ and the gas/solid split of the
//! VDOS (paper A Fig. 2a–c), from the VACF/VDOS of `postproc vdos`.

use super::{
    add_warnings, early_dt_of, fmt_ps, frame_dt, masses, report, run_pass, vacf_lag, InputArgs,
    SelectArgs, TimeArgs, VdosOpts,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::twopt;
use dprs_analysis::analysis::vacf;
use dprs_analysis::dump::ReadOptions;
use dprs_analysis::out::{num, write_csv, write_json};
use dprs_analysis::plot::{line_plot, Series};
use dprs_analysis::units::KB_METAL_MASS;
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

/// 2PT of one species (one LAMMPS atom type, or the whole selection when
/// it holds one type).
struct Species {
    kind: u32,
    n_atoms: usize,
    mass: Option<f64>,
    normalisation: String,
    density: f64,
    r: twopt::TwoPt,
    /// ∫ of the negative part of total − gas, clipped away (per atom, like F).
    clipped: f64,
}

/// 2PT of the atoms of group `g`, all of type `kind`: m/kT from the mass of
/// the type when given, else kinetic (3/⟨v²⟩ of these atoms); N_k/V is the
/// group's own number density. Warnings go to `warnings`: (mass, clipping).
#[allow(clippy::too_many_arguments)]
fn species(
    g: &vacf::GroupVacf,
    kind: u32,
    dt: f64,
    temp: f64,
    masses: &std::collections::HashMap<u32, f64>,
    volume: f64,
    mixture: bool,
    warnings: &mut (Vec<String>, Vec<String>),
) -> Result<Species> {
    let mass = masses.get(&kind).copied();
    let (m_over_kt, norm) = match mass {
        Some(mass) => (
            mass / (KB_METAL_MASS * temp),
            "temperature and mass (eq. 10)".to_string(),
        ),
        None => {
            let v0: f64 = g.phi.iter().map(|p| p[0]).sum();
            if !(v0 > 0.0 && v0.is_finite()) {
                bail!(
                    "type {kind}: <v^2> = {v0} Å²/ps², so the spectrum cannot be normalised \
                     kinetically (atoms at rest?); give its mass with --mass {kind}=M"
                );
            }
            (
                3.0 / v0,
                format!(
                    "kinetic: m/kT = 3/<v^2> (no --mass for type {kind}; --temperature {temp} K is used for kT/m only through <v^2>)"
                ),
            )
        }
    };
    if mass.is_none() {
        warnings.0.push(format!(
            "no --mass for type {kind}: F(ν) is normalised kinetically (m/kT = 3/⟨v²⟩ = {} ps²/Å²) \
             instead of from the temperature {temp} K and the mass",
            fmt_ps(m_over_kt)
        ));
    }
    let spec = vacf::vdos(&g.phi, dt, m_over_kt);
    // Per species k (Lin, Blanco & Goddard eq. 34 applied to the component):
    // Δ_k = (2 F_k(0)/9) (π kT/m_k)^½ (N_k/V)^⅓ (6/π)^⅔, with F_k(0) the
    // per-atom VDOS of k at ν = 0 (normalised to 3), m_k its mass and
    // N_k/V its own number density.
    let density = g.n_atoms as f64 / volume;
    let mut r = twopt::analyse(&spec.freq_thz, &spec.total, 1.0 / m_over_kt, density);
    // The solid part is what the gas part leaves; where the gas model
    // exceeds the total (or the spectrum ripples below zero) it would be
    // negative, which no density of states is: clip it and say how much.
    let neg: f64 = -vacf::integral(
        &r.freq_thz,
        &r.solid.iter().map(|x| x.min(0.0)).collect::<Vec<_>>(),
    );
    if neg > 0.0 {
        let total = vacf::integral(&r.freq_thz, &r.total)
            .abs()
            .max(f64::MIN_POSITIVE);
        let whose = if mixture {
            format!(" of type {kind}")
        } else {
            String::new()
        };
        warnings.1.push(format!(
            "the solid-like VDOS{whose} (total − gas) went below zero, by {} % of ∫F dν in all; \
             it is clipped at zero in twopt.csv, twopt.png and solid_integral",
            dprs_analysis::out::human(100.0 * neg / total, 2).unwrap_or_default()
        ));
        r.solid.iter_mut().for_each(|x| *x = x.max(0.0));
    }
    Ok(Species {
        kind,
        n_atoms: g.n_atoms,
        mass,
        normalisation: norm,
        density,
        r,
        clipped: neg,
    })
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
    let dt = v.dt;
    let mut kinds = kinds.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    let mixture = kinds.len() > 1;
    let m = masses(vo)?;
    let mut own = (Vec::new(), Vec::new());
    let mut all = Vec::with_capacity(kinds.len());
    for &k in &kinds {
        let g = if mixture {
            let name = format!("type{k}");
            v.groups
                .iter()
                .find(|g| g.name == name)
                .with_context(|| format!("no velocity autocorrelation of type {k}"))?
        } else {
            &v.groups[0]
        };
        all.push(species(g, k, dt, temp, &m, volume, mixture, &mut own)?);
    }
    let g = &v.groups[0];
    let n_all: usize = all.iter().map(|s| s.n_atoms).sum();
    // Totals: the per-atom spectra weighted by atom fraction x_k = N_k/N, so
    // the gas part integrates to 3 Σ x_k f_g,k and f_g = Σ x_k f_g,k is the
    // gas-like fraction of all 3N degrees of freedom (one type: its own).
    let x: Vec<f64> = all
        .iter()
        .map(|s| s.n_atoms as f64 / n_all as f64)
        .collect();
    let weighted = |pick: &dyn Fn(&twopt::TwoPt) -> &Vec<f64>| -> Vec<f64> {
        (0..all[0].r.freq_thz.len())
            .map(|j| all.iter().zip(&x).map(|(s, w)| w * pick(&s.r)[j]).sum())
            .collect()
    };
    let r = twopt::TwoPt {
        f0: all.iter().zip(&x).map(|(s, w)| w * s.r.f0).sum(),
        delta: if mixture { f64::NAN } else { all[0].r.delta },
        f_g: all.iter().zip(&x).map(|(s, w)| w * s.r.f_g).sum(),
        freq_thz: all[0].r.freq_thz.clone(),
        total: weighted(&|r| &r.total),
        gas: weighted(&|r| &r.gas),
        solid: weighted(&|r| &r.solid),
    };
    let mean_phi: Vec<f64> = (0..g.phi[0].len())
        .map(|k| (g.phi[0][k] + g.phi[1][k] + g.phi[2][k]) / 3.0)
        .collect();
    let mut warnings = notes.to_vec();
    warnings.extend(own.0);
    warnings.extend(report::sampling_warnings(
        &mean_phi,
        dt,
        v.n_samples,
        &r.freq_thz,
        &r.total,
    ));
    warnings.extend(own.1);
    let solid_clipped = all.iter().any(|s| s.clipped > 0.0);
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let mut cols: Vec<(String, &Vec<f64>)> = vec![
        ("freq_THz".into(), &r.freq_thz),
        ("vdos_per_THz".into(), &r.total),
        ("gas_per_THz".into(), &r.gas),
        ("solid_per_THz".into(), &r.solid),
    ];
    if mixture {
        for s in &all {
            cols.push((format!("type{}_vdos_per_THz", s.kind), &s.r.total));
            cols.push((format!("type{}_gas_per_THz", s.kind), &s.r.gas));
            cols.push((format!("type{}_solid_per_THz", s.kind), &s.r.solid));
        }
    }
    let cols: Vec<(String, &[f64])> = cols.into_iter().map(|(k, c)| (k, &c[..])).collect();
    write_csv(&out.join("twopt.csv"), &cols)?;
    if plot_it {
        plot(&out.join("twopt.png"), &r, &all, solid_clipped)?;
    }
    let species_json: Vec<Value> = all
        .iter()
        .map(|s| {
            json!({
                "type": s.kind,
                "n_atoms": s.n_atoms,
                "mass": s.mass,
                "f_g": num(s.r.f_g),
                "delta": num(s.r.delta),
                "F0_ps": num(s.r.f0),
                "density_per_A3": num(s.density),
                "normalisation": s.normalisation,
                "gas_integral": num(vacf::integral(&s.r.freq_thz, &s.r.gas)),
                "solid_integral": num(vacf::integral(&s.r.freq_thz, &s.r.solid)),
                "solid_clipped_at_zero": s.clipped > 0.0,
            })
        })
        .collect();
    let normalisation = if mixture {
        all.iter()
            .map(|s| format!("type {}: {}", s.kind, s.normalisation))
            .collect::<Vec<_>>()
            .join("; ")
    } else {
        all[0].normalisation.clone()
    };
    let summary = json!({
        "f_g": num(r.f_g),
        "delta": num(r.delta),
        "F0_ps": num(r.f0),
        "temperature_K": temp,
        "density_per_A3": num(g.n_atoms as f64 / volume),
        "n_atoms": g.n_atoms,
        "type": if mixture { Value::Null } else { json!(kinds[0]) },
        "types": kinds,
        "species": species_json,
        "normalisation": normalisation,
        "velocities": v.source.describe(),
        "max_lag_ps": (g.phi[0].len() - 1) as f64 * dt,
        "gas_integral": num(vacf::integral(&r.freq_thz, &r.gas)),
        "solid_integral": num(vacf::integral(&r.freq_thz, &r.solid)),
        "method": "2PT, Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003), per species with its own density; memory-function variant not implemented",
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

fn plot(path: &Path, r: &twopt::TwoPt, all: &[Species], clipped: bool) -> Result<()> {
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
