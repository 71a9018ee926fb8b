//! The files of a flux analysis: what `postproc flux` and the in-situ fix
//! both write, so that their flux_x/y/z.csv (and .png), flux_lines.csv,
//! flux_planes.csv and flux.json agree.

use crate::analysis::flux::Flux;
use crate::analysis::lattice::{transverse, Lattice, AXES};
use crate::error::Result;
use crate::out::{num, write_csv, write_text};
use crate::plot::heat_map;
use serde_json::{json, Map, Value};
use std::path::Path;

/// What a finished flux analysis found, with the settings flux.json reports.
pub struct FluxResult<'a> {
    pub flux: &'a Flux,
    pub lattice: &'a Lattice,
    /// f_c radii R1, R2, Å.
    pub r: [f64; 2],
    /// Time between frames (samples in situ), ps.
    pub dt_ps: f64,
    /// Moving-average window and Δt as asked, ps.
    pub smooth_ps: f64,
    pub interval_ps: f64,
}

/// Writes flux_x/y/z.csv (and their heat maps when `plot`), flux_lines.csv
/// and flux_planes.csv into `out`, and returns the keys of flux.json that
/// describe them; the caller adds how the frames were read (`n_frames`,
/// `files`, `warnings`) and writes flux.json.
pub fn write_files(run: &FluxResult, out: &Path, plot: bool) -> Result<Map<String, Value>> {
    let lat = run.lattice;
    let mut lines = Vec::new();
    let mut lines_csv = String::from("axis,coord1_A,coord2_A,net,gross\n");
    let mut planes_csv = String::from("axis,plane_A,net,gross\n");
    let mut maps = Map::new();
    for (axis, axis_name) in AXES.iter().enumerate() {
        let lc = &run.flux.lines[axis];
        let (ta, tb) = transverse(axis);
        for ja in 0..lc.n_lines[0] {
            for jb in 0..lc.n_lines[1] {
                let line = ja * lc.n_lines[1] + jb;
                let gross = lc.line_gross(line);
                if gross == 0 {
                    continue;
                }
                let net = lc.line_net(line);
                let c = [lat.site_coord(ja as i64, ta), lat.site_coord(jb as i64, tb)];
                lines_csv += &format!("{},{:.6},{:.6},{net},{gross}\n", axis_name, c[0], c[1]);
                lines.push(
                    json!({"axis": axis_name, "coord_A": [c[0], c[1]], "net": net, "gross": gross}),
                );
            }
        }
        for p in 0..lc.n_planes {
            planes_csv += &format!(
                "{},{:.6},{},{}\n",
                AXES[axis],
                lat.plane_coord(p, axis),
                lc.plane_net(p),
                lc.plane_gross(p)
            );
        }
        let m = &run.flux.maps[axis];
        let (nu, nv) = (m.u.len(), m.v.len());
        let cu: Vec<f64> = (0..nu * nv).map(|k| m.u[k % nu]).collect();
        let cv: Vec<f64> = (0..nu * nv).map(|k| m.v[k / nu]).collect();
        let name = format!("flux_{}", AXES[axis]);
        let csv = out.join(format!("{name}.csv"));
        write_csv(
            &csv,
            &[
                (format!("{}_A", AXES[ta]), &cu),
                (format!("{}_A", AXES[tb]), &cv),
                (format!("F_{}", AXES[axis]), &m.values),
            ],
        )?;
        let mut entry = json!({
            "csv": csv.display().to_string(),
            "grid": [nu, nv],
            "max": num(m.values.iter().cloned().fold(f64::MIN, f64::max)),
            "min": num(m.values.iter().cloned().fold(f64::MAX, f64::min)),
        });
        if plot {
            let png = out.join(format!("{name}.png"));
            heat_map(
                &png,
                &format!(
                    "Flux map F_{}({},{}): net midplane crossings along {}",
                    AXES[axis], AXES[ta], AXES[tb], AXES[axis]
                ),
                &format!("{} (Å)", AXES[ta]),
                &format!("{} (Å)", AXES[tb]),
                &m.u,
                &m.v,
                &m.values,
                "crossings",
            )?;
            entry["png"] = json!(png.display().to_string());
            entry["svg"] = json!(crate::plot::svg_beside(&png).display().to_string());
        }
        maps.insert(AXES[axis].to_string(), entry);
    }
    let lines_path = out.join("flux_lines.csv");
    let planes_path = out.join("flux_planes.csv");
    write_text(&lines_path, &lines_csv)?;
    write_text(&planes_path, &planes_csv)?;
    let samples = &run.flux.samples;
    let dt = run.dt_ps;
    let Value::Object(keys) = json!({
        "lines": lines,
        "maps": maps,
        "lines_csv": lines_path.display().to_string(),
        "planes_csv": planes_path.display().to_string(),
        "lattice": {
            "n": lat.n, "spacing_A": lat.spacing, "origin_A": lat.origin,
            "nn_distance_A": lat.nn_distance(),
        },
        "R1_A": run.r[0],
        "R2_A": run.r[1],
        "smooth_ps": run.smooth_ps,
        "interval_ps": run.interval_ps,
        "t1_ps": samples.first().map(|&s| s as f64 * dt),
        "t2_ps": samples.last().map(|&s| s as f64 * dt),
        "n_samples": samples.len(),
        "dt_ps": dt,
        "sign": "+1 per midplane crossed towards +axis",
    }) else {
        unreachable!("json! of an object literal is an object")
    };
    Ok(keys)
}
