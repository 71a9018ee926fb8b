//! The VACF, the VDOS and D from F(0) and Green–Kubo of a collected VACF:
//! what `postproc vdos` computes and prints with `--json`.

use super::lag;
use super::pass::{self, Pass, Select};
use super::summary::{append_warnings, common, merge, prefix};
use crate::analysis::select::Selection;
use crate::analysis::vacf::{self, GroupVacf, Vacf};
use crate::dump::{DumpInfo, ReadOptions};
use crate::error::{Error, Result};
use crate::out::num;
use crate::source::Source;
use crate::time::Clock;
use crate::units::KB_METAL_MASS;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The summary `postproc vdos --json` prints (before the lag notes), the
/// columns of vacf.csv and vdos.csv, and what the figures draw.
#[derive(Serialize)]
#[serde(transparent)]
pub struct VdosSummary {
    pub summary: Value,
    /// time (ps), then the VACF (Å²/ps²) and Green–Kubo integral per group.
    #[serde(skip)]
    pub vacf_columns: Vec<(String, Vec<f64>)>,
    /// frequency (THz), then F(ν) (1/THz) per group, total and per axis.
    #[serde(skip)]
    pub vdos_columns: Vec<(String, Vec<f64>)>,
    /// The warnings it deserves (also in `summary["warnings"]`).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The VACF of all selected atoms, averaged over axes, Å²/ps².
    #[serde(skip)]
    pub mean_phi: Vec<f64>,
    /// The VDOS of all selected atoms.
    #[serde(skip)]
    pub all: vacf::Vdos,
}

/// "1, 2" for type lists in messages.
fn list(types: &[u32]) -> String {
    types
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// m/kT per group, from --temperature and --mass when they cover the
/// group's types; `None` means kinetic normalisation.
fn mass_factor(
    types_in: &[u32],
    temperature: Option<f64>,
    masses: &HashMap<u32, f64>,
) -> Option<Vec<(u32, f64)>> {
    let t = temperature?;
    types_in
        .iter()
        .map(|ty| masses.get(ty).map(|m| (*ty, m / (KB_METAL_MASS * t))))
        .collect()
}

/// Appends group `g`'s curves to the columns of vacf.csv (its VACF averaged
/// over axes and per axis, Å²/ps², and the running Green–Kubo integral)
/// and of vdos.csv (its VDOS `spec`, total and per axis, 1/THz).
pub fn push_columns(
    g: &GroupVacf,
    spec: &vacf::Vdos,
    dt: f64,
    vacf_cols: &mut Vec<(String, Vec<f64>)>,
    vdos_cols: &mut Vec<(String, Vec<f64>)>,
) {
    let p = prefix(&g.name);
    let lags = g.phi[0].len();
    let mean_phi: Vec<f64> = (0..lags)
        .map(|k| (g.phi[0][k] + g.phi[1][k] + g.phi[2][k]) / 3.0)
        .collect();
    let run = vacf::running_integral(&mean_phi, dt);
    vacf_cols.push((format!("{p}vacf_A2_ps2"), mean_phi));
    for (a, ax) in ["x", "y", "z"].iter().enumerate() {
        vacf_cols.push((format!("{p}vacf_{ax}_A2_ps2"), g.phi[a].clone()));
    }
    vacf_cols.push((format!("{p}green_kubo_A2_ps"), run));
    vdos_cols.push((format!("{p}vdos_per_THz"), spec.total.clone()));
    for (a, ax) in ["x", "y", "z"].iter().enumerate() {
        vdos_cols.push((format!("{p}vdos_{ax}_per_THz"), spec.axes[a].clone()));
    }
}

/// Group `g`'s entry in vdos.json: D from F(0) and by Green–Kubo (mean and
/// per axis), the peak and integral of its VDOS `spec`, and `normalisation`,
/// how F(ν) was normalised.
pub fn group_entry(g: &GroupVacf, spec: &vacf::Vdos, dt: f64, normalisation: &str) -> Value {
    let d0: Vec<f64> = g.phi.iter().map(|p| vacf::d_from_f0(p, dt)).collect();
    let gk: Vec<f64> = g.phi.iter().map(|p| vacf::green_kubo(p, dt)).collect();
    json!({
        "n_atoms": g.n_atoms,
        "D_from_F0": num(d0.iter().sum::<f64>() / 3.0),
        "D_green_kubo": num(gk.iter().sum::<f64>() / 3.0),
        "peak_THz": vacf::peak(&spec.freq_thz, &spec.total).map(num),
        "D_from_F0_axes": {"x": num(d0[0]), "y": num(d0[1]), "z": num(d0[2])},
        "D_green_kubo_axes": {"x": num(gk[0]), "y": num(gk[1]), "z": num(gk[2])},
        "integral": num(vacf::integral(&spec.freq_thz, &spec.total)),
        "normalisation": normalisation,
    })
}

/// The VDOS of each group of `sel` from its VACF `v`: normalised with m/kT
/// when `temperature` and `masses` (g/mol per type) cover the group's
/// types, else kinetically; `types` are the atom types in id order.
pub fn summarise(
    info: &DumpInfo,
    sel: &Selection,
    types: &[u32],
    v: &Vacf,
    temperature: Option<f64>,
    masses: &HashMap<u32, f64>,
) -> Result<VdosSummary> {
    let dt = v.dt;
    let mut vacf_cols: Vec<(String, Vec<f64>)> = Vec::new();
    let mut vdos_cols: Vec<(String, Vec<f64>)> = Vec::new();
    let mut groups = Map::new();
    let mut freq = Vec::new();
    let mut by_name: HashMap<String, vacf::Vdos> = HashMap::new();
    let mut first: Option<Value> = None;
    let mut fallbacks: Vec<String> = Vec::new();
    // Type groups first: a multi-type group with masses is their weighted sum.
    let mut order: Vec<usize> = (0..v.groups.len()).collect();
    order.rotate_left(1);
    for &gi in &order {
        let g = &v.groups[gi];
        let mut kinds: Vec<u32> = sel.groups[gi]
            .members
            .iter()
            .map(|&j| types[sel.atoms[j]])
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        let missing: Vec<u32> = kinds
            .iter()
            .copied()
            .filter(|t| !masses.contains_key(t))
            .collect();
        let (spec, norm) = match mass_factor(&kinds, temperature, masses) {
            Some(f) if f.len() == 1 => (
                vacf::vdos(&g.phi, dt, f[0].1),
                "temperature and mass (eq. 10)",
            ),
            Some(f) => {
                let n = g.n_atoms as f64;
                let parts: Vec<(f64, &vacf::Vdos)> = f
                    .iter()
                    .filter_map(|(ty, _)| {
                        let k = format!("type{ty}");
                        let na = sel.groups.iter().find(|x| x.name == k)?.members.len() as f64;
                        by_name.get(&k).map(|s| (na / n, s))
                    })
                    .collect();
                let mut s = parts[0].1.clone();
                for a in 0..3 {
                    for j in 0..s.total.len() {
                        s.axes[a][j] = parts.iter().map(|(w, p)| w * p.axes[a][j]).sum();
                    }
                }
                for j in 0..s.total.len() {
                    s.total[j] = s.axes[0][j] + s.axes[1][j] + s.axes[2][j];
                }
                (
                    s,
                    "temperature and masses (eq. 10, mass-weighted over types)",
                )
            }
            None => {
                let v0: f64 = g.phi.iter().map(|p| p[0]).sum();
                if !(v0 > 0.0 && v0.is_finite()) {
                    return Err(Error::Invalid(format!(
                        "{}: <v^2> = {v0} Å²/ps², so the VDOS cannot be normalised \
                         kinetically (atoms at rest?); give the masses with --mass TYPE=M",
                        g.name
                    )));
                }
                (vacf::vdos(&g.phi, dt, 3.0 / v0), "kinetic: m/kT = 3/<v^2>")
            }
        };
        push_columns(g, &spec, dt, &mut vacf_cols, &mut vdos_cols);
        let norm = if norm.starts_with("kinetic") {
            let why = match (temperature, missing.is_empty()) {
                (None, true) => "--mass given but no --temperature".to_string(),
                (None, false) if masses.is_empty() => "no --temperature and no --mass".to_string(),
                (None, false) => format!("no --temperature, and no --mass for type {}", list(&missing)),
                (Some(t), _) => format!(
                    "the temperature {t} K is known but there is no --mass for type {}, so it is not used",
                    list(&missing)
                ),
            };
            if temperature.is_some() || !masses.is_empty() {
                fallbacks.push(format!(
                    "group {}: F(ν) normalised kinetically (m/kT = 3/⟨v²⟩, ∫F dν = 3) because {why}",
                    g.name
                ));
            }
            format!("{norm} ({why})")
        } else {
            norm.to_string()
        };
        let entry = group_entry(g, &spec, dt, &norm);
        if gi == 0 {
            first = Some(entry.clone());
        }
        groups.insert(g.name.clone(), entry);
        freq = spec.freq_thz.clone();
        by_name.insert(g.name.clone(), spec);
    }
    let time: Vec<f64> = (0..v.groups[0].phi[0].len())
        .map(|k| k as f64 * dt)
        .collect();
    let top = first.expect("group 0 exists");
    let mut summary = merge(
        merge(
            top,
            json!({
                "n_atoms": v.groups[0].n_atoms,
                "n_frames": info.n_frames,
                "dt_ps": dt,
                "max_lag_ps": (time.len() - 1) as f64 * dt,
                "temperature_K": temperature.map(num),
                "velocities": v.source.describe(),
                "units": {"D_from_F0": "A^2/ps", "D_green_kubo": "A^2/ps", "peak_THz": "THz", "vdos": "1/THz"},
                "groups": Value::Object(groups),
            }),
        ),
        common(info),
    );
    let mut warnings = fallbacks;
    {
        let all = &by_name["all"];
        warnings.extend(super::sampling::warnings(
            &vacf_cols[0].1,
            dt,
            v.n_samples,
            &freq,
            &all.total,
        ));
    }
    append_warnings(&mut summary, &warnings);
    let mean_phi = vacf_cols[0].1.clone();
    let all = by_name.remove("all").expect("the group of all atoms");
    let mut vacf_columns = vec![("time_ps".to_string(), time)];
    vacf_columns.extend(vacf_cols);
    let mut vdos_columns = vec![("freq_THz".to_string(), freq)];
    vdos_columns.extend(vdos_cols);
    Ok(VdosSummary {
        summary,
        vacf_columns,
        vdos_columns,
        warnings,
        mean_phi,
        all,
    })
}

/// How to read the source and collect the VACF.
#[derive(Clone, Debug)]
pub struct VdosOptions<'a> {
    pub read: ReadOptions,
    /// The time base of the frames as read (before `read.every` thins them).
    pub clock: Clock,
    pub select: Select<'a>,
    /// Longest VACF lag, ps (default: 3 ps or a quarter of the run).
    pub max_lag_ps: Option<f64>,
    /// Also collect the MSD (for a diffusion run).
    pub with_msd: bool,
}

/// What one VACF run collected, before it is summarised (with masses and a
/// temperature or kinetically, see [`summarise`]).
pub struct VdosRun {
    pub pass: Pass,
    pub vacf: Vacf,
    /// Time between analysed frames, ps.
    pub dt: f64,
    /// Warnings about the lag (for the summary).
    pub lag_warnings: Vec<String>,
}

/// Reads `source` once for the VACF (and the MSD when asked). What the
/// reader, the clock and the lag have to say goes to `messages`
/// ("note: ..." / "warning: ..."), even when the run then fails.
pub fn run(source: &Source, opts: &VdosOptions<'_>, messages: &mut Vec<String>) -> Result<VdosRun> {
    let every = opts.read.every.max(1);
    let frames = lag::frames(opts.max_lag_ps, pass::early_dt(source, opts.clock, every)?)?;
    let mut p = pass::collect(source, &opts.read, opts.select, opts.with_msd, Some(frames))?;
    messages.extend(pass::reader_messages(&p.info));
    let (dt, warnings) = pass::frame_dt(opts.clock, &p.info, every)?;
    messages.extend(warnings.into_iter().map(|w| format!("warning: {w}")));
    let mut vacf = p.vacf.take().expect("asked for").finish(&p.sel, dt)?;
    let settled = lag::settle(&mut vacf, opts.max_lag_ps);
    messages.extend(settled.note.map(|n| format!("note: {n}")));
    Ok(VdosRun {
        pass: p,
        vacf,
        dt,
        lag_warnings: settled.warnings,
    })
}
