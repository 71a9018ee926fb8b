//! Turns analysis results into files (CSV, JSON, PNG) and summaries.

use super::{add_warnings, fmt_ps, FittedMsd, InputArgs, PLANES};
use anyhow::{bail, Result};
use dprs_analysis::analysis::diffusion;
use dprs_analysis::analysis::msd::GroupMsd;
use dprs_analysis::analysis::rdf::Rdf;
use dprs_analysis::analysis::select::Selection;
use dprs_analysis::analysis::vacf::{self, Vacf};
use dprs_analysis::dump::DumpInfo;
use dprs_analysis::out::{num, value_pm, write_csv, write_json};
use dprs_analysis::plot::{line_plot, line_plot_ext, Extras, Series, FIT_COLOR};
use dprs_analysis::runs::summary::{common, merge, prefix};
use dprs_analysis::units::KB_METAL_MASS;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

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
    let (w, t) = (fm.window, fm.msd.n_frames);
    let time = &s.columns[0].1;
    let all = &fm.msd.groups[0];
    if !input.no_plot {
        let half = (t / 2).max(2);
        let mut series = Vec::new();
        let mut fits = Vec::new();
        for (i, (name, axes)) in [("x", &[0][..]), ("y", &[1]), ("z", &[2])]
            .into_iter()
            .enumerate()
        {
            let curve = GroupMsd::combined(&all.axes, axes);
            let s = diffusion::slope(&curve, w, dt);
            let pts = &curve[w.from..=w.to];
            let tm = (w.from + w.to) as f64 * 0.5 * dt;
            let b = pts.iter().sum::<f64>() / pts.len() as f64 - s * tm;
            let fx = vec![w.from as f64 * dt, w.to as f64 * dt];
            let fy: Vec<f64> = fx.iter().map(|x| b + s * x).collect();
            fits.push((i, name, curve, fx, fy));
        }
        for (i, name, curve, _, _) in &fits {
            series.push(Series {
                label: format!("MSD {name}"),
                x: &time[..half],
                y: &curve[..half],
                color: *i,
                dashed: false,
            });
        }
        for (k, (_, _, _, fx, fy)) in fits.iter().enumerate() {
            series.push(Series {
                label: if k == 0 {
                    "linear fits".into()
                } else {
                    String::new()
                },
                x: fx,
                y: fy,
                color: FIT_COLOR,
                dashed: true,
            });
        }
        let pm = |k: &str| {
            let d = &summary["D"][k];
            value_pm(
                d["value"].as_f64().unwrap_or(f64::NAN),
                d["stderr"].as_f64().unwrap_or(f64::NAN),
                "(no error bar)",
            )
            .unwrap_or_else(|| "n/a".into())
        };
        let notes = vec![
            format!("D = {} Å²/ps (3D)", pm("total")),
            format!("D_x = {}, D_y = {}, D_z = {}", pm("x"), pm("y"), pm("z")),
            format!(
                "fit window {}–{} ps (shaded)",
                short(w.from as f64 * dt),
                short(w.to as f64 * dt)
            ),
        ];
        line_plot_ext(
            &input.out.join("msd.png"),
            "Mean-squared displacement per axis",
            "t (ps)",
            "MSD (Å²)",
            &series,
            &Extras {
                shade: Some((w.from as f64 * dt, w.to as f64 * dt)),
                notes,
            },
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

pub(crate) use dprs_analysis::runs::sampling::warnings as sampling_warnings;

fn short(v: f64) -> String {
    dprs_analysis::out::short(v).unwrap_or_else(|| "n/a".into())
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

pub fn vdos(
    input: &InputArgs,
    info: &DumpInfo,
    sel: &Selection,
    types: &[u32],
    v: &Vacf,
    temperature: Option<f64>,
    masses: &HashMap<u32, f64>,
) -> Result<Value> {
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
                    bail!(
                        "{}: <v^2> = {v0} Å²/ps², so the VDOS cannot be normalised \
                         kinetically (atoms at rest?); give the masses with --mass TYPE=M",
                        g.name
                    );
                }
                (vacf::vdos(&g.phi, dt, 3.0 / v0), "kinetic: m/kT = 3/<v^2>")
            }
        };
        let p = prefix(&g.name);
        let d0: Vec<f64> = g.phi.iter().map(|p| vacf::d_from_f0(p, dt)).collect();
        let gk: Vec<f64> = g.phi.iter().map(|p| vacf::green_kubo(p, dt)).collect();
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
        let entry = json!({
            "n_atoms": g.n_atoms,
            "D_from_F0": num(d0.iter().sum::<f64>() / 3.0),
            "D_green_kubo": num(gk.iter().sum::<f64>() / 3.0),
            "peak_THz": vacf::peak(&spec.freq_thz, &spec.total).map(num),
            "D_from_F0_axes": {"x": num(d0[0]), "y": num(d0[1]), "z": num(d0[2])},
            "D_green_kubo_axes": {"x": num(gk[0]), "y": num(gk[1]), "z": num(gk[2])},
            "integral": num(vacf::integral(&spec.freq_thz, &spec.total)),
            "normalisation": norm,
        });
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
    let mut t: Vec<(String, &[f64])> = vec![("time_ps".into(), &time)];
    t.extend(vacf_cols.iter().map(|(n, c)| (n.clone(), c.as_slice())));
    write_csv(&input.out.join("vacf.csv"), &t)?;
    let mut t: Vec<(String, &[f64])> = vec![("freq_THz".into(), &freq)];
    t.extend(vdos_cols.iter().map(|(n, c)| (n.clone(), c.as_slice())));
    write_csv(&input.out.join("vdos.csv"), &t)?;
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
        warnings.extend(sampling_warnings(
            &vacf_cols[0].1,
            dt,
            v.n_samples,
            &freq,
            &all.total,
        ));
    }
    add_warnings(&mut summary, &warnings);
    write_json(&input.out.join("vdos.json"), &summary)?;
    if !input.no_plot {
        let all = &by_name["all"];
        let fmax = all.total.iter().cloned().fold(0.0, f64::max);
        let last = all
            .total
            .iter()
            .rposition(|&f| f > 2e-3 * fmax)
            .unwrap_or(all.total.len() - 1);
        let upto = ((last as f64 * 1.2) as usize + 2).min(all.total.len());
        let mut series = vec![Series {
            label: "total".into(),
            x: &freq[..upto],
            y: &all.total[..upto],
            color: 0,
            dashed: false,
        }];
        for (a, ax) in ["x", "y", "z"].iter().enumerate() {
            series.push(Series {
                label: (*ax).into(),
                x: &freq[..upto],
                y: &all.axes[a][..upto],
                color: a + 1,
                dashed: true,
            });
        }
        line_plot(
            &input.out.join("vdos.png"),
            "Vibrational density of states",
            "ν (THz)",
            "F(ν) (1/THz)",
            &series,
        )?;
        let phi = &vacf_cols[0].1;
        let s = [Series {
            label: String::new(),
            x: &time,
            y: phi,
            color: 0,
            dashed: false,
        }];
        line_plot(
            &input.out.join("vacf.png"),
            "Velocity autocorrelation",
            "t (ps)",
            "Φ(t) (Å²/ps²)",
            &s,
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
