//! 2PT (Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003)) from a
//! collected VACF: fluidicity f_g, diffusivity Δ and the gas/solid split of
//! the VDOS per species, as `postproc twopt` computes and prints with `--json`.

use super::fmt_ps;
use crate::analysis::twopt;
use crate::analysis::vacf;
use crate::error::{Error, Result};
use crate::out::num;
use crate::units::KB_METAL_MASS;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The summary `postproc twopt --json` prints (less the path of its CSV),
/// the columns of twopt.csv and what its figure draws.
#[derive(Serialize)]
#[serde(transparent)]
pub struct TwoptSummary {
    pub summary: Value,
    /// frequency (THz), then total, gas and solid F(ν) (1/THz), per type too for a mixture.
    #[serde(skip)]
    pub columns: Vec<(String, Vec<f64>)>,
    /// The warnings it deserves (also in `summary["warnings"]`).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The atom-fraction-weighted totals.
    #[serde(skip)]
    pub total: twopt::TwoPt,
    #[serde(skip)]
    pub species: Vec<Species>,
    /// Whether a solid-like VDOS was clipped at zero.
    #[serde(skip)]
    pub solid_clipped: bool,
}

/// 2PT of one species (one LAMMPS atom type, or the whole selection when
/// it holds one type).
pub struct Species {
    pub kind: u32,
    pub n_atoms: usize,
    pub mass: Option<f64>,
    pub normalisation: String,
    pub density: f64,
    pub r: twopt::TwoPt,
    /// ∫ of the negative part of total − gas, clipped away (per atom, like F).
    pub clipped: f64,
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
                return Err(Error::Invalid(format!(
                    "type {kind}: <v^2> = {v0} Å²/ps², so the spectrum cannot be normalised \
                     kinetically (atoms at rest?); give its mass with --mass {kind}=M"
                )));
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
            crate::out::human(100.0 * neg / total, 2).unwrap_or_default()
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

/// 2PT from the VACF `v` of the selection at `temp` K; `kinds` are the
/// types of the selected atoms, `volume` the box volume, Å³, `masses` g/mol
/// per type, `files` the input files and `notes` earlier warnings (about the
/// lag) to carry into the summary. With several types, `v` must hold one
/// group per type (named `typeN`): each type gets its own VDOS, Δ and f_g,
/// and the totals are their atom-fraction-weighted sums.
#[allow(clippy::too_many_arguments)]
pub fn summarise(
    v: &vacf::Vacf,
    kinds: &[u32],
    volume: f64,
    temp: f64,
    masses: &HashMap<u32, f64>,
    files: &[String],
    notes: &[String],
) -> Result<TwoptSummary> {
    let dt = v.dt;
    let mut kinds = kinds.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    let mixture = kinds.len() > 1;
    let m = masses;
    let mut own = (Vec::new(), Vec::new());
    let mut all = Vec::with_capacity(kinds.len());
    for &k in &kinds {
        let g = if mixture {
            let name = format!("type{k}");
            v.groups
                .iter()
                .find(|g| g.name == name)
                .ok_or_else(|| Error::Invalid(format!("no velocity autocorrelation of type {k}")))?
        } else {
            &v.groups[0]
        };
        all.push(species(g, k, dt, temp, m, volume, mixture, &mut own)?);
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
    warnings.extend(super::sampling::warnings(
        &mean_phi,
        dt,
        v.n_samples,
        &r.freq_thz,
        &r.total,
    ));
    warnings.extend(own.1);
    let solid_clipped = all.iter().any(|s| s.clipped > 0.0);
    let mut columns: Vec<(String, Vec<f64>)> = vec![
        ("freq_THz".into(), r.freq_thz.clone()),
        ("vdos_per_THz".into(), r.total.clone()),
        ("gas_per_THz".into(), r.gas.clone()),
        ("solid_per_THz".into(), r.solid.clone()),
    ];
    if mixture {
        for s in &all {
            columns.push((format!("type{}_vdos_per_THz", s.kind), s.r.total.clone()));
            columns.push((format!("type{}_gas_per_THz", s.kind), s.r.gas.clone()));
            columns.push((format!("type{}_solid_per_THz", s.kind), s.r.solid.clone()));
        }
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
        "files": files,
        "solid_clipped_at_zero": solid_clipped,
        "warnings": [],
    });
    let mut summary = summary;
    super::summary::append_warnings(&mut summary, &warnings);
    Ok(TwoptSummary {
        summary,
        columns,
        warnings,
        total: r,
        species: all,
        solid_clipped,
    })
}
