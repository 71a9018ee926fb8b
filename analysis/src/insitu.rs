//! In-situ analysis: what the LAMMPS fix `dprs/diffusion` feeds sample by
//! sample. The same accumulators as `postproc msd` / `postproc vdos`
//! ([`WindowedMsd`] holds the MSD within a bounded lag window, exactly as
//! `MsdCollector` computes it from a dump; [`VacfCollector`] is the one
//! postproc uses), the same D fit ([`diffusion::estimate`]), and files with
//! the names, columns and JSON keys postproc writes (msd.csv, msd.json,
//! vacf.csv, vdos.csv, vdos.json), each written atomically.

use crate::analysis::diffusion::{self, DEstimate, FitWindow};
use crate::analysis::flux::{FluxAccumulator, FluxParams};
use crate::analysis::lattice::Lattice;
use crate::analysis::msd::{GroupMsd, Msd};
use crate::analysis::select::Selection;
use crate::analysis::vacf::{self, VacfCollector};
use crate::analysis::window::WindowedMsd;
use crate::error::{Error, Result};
use crate::frame::{Cell, Frame};
use crate::out::{write_csv, write_json};
use crate::runs::figures;
use crate::runs::flux::FluxResult;
// The planes D is reported for: those of postproc, so that msd.csv and
// msd.json have the same columns and keys.
use crate::runs::msd::{group_curves, PLANES};
use crate::runs::vdos;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Config {
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// Time between samples, ps.
    pub dt: f64,
    /// Longest MSD lag, samples.
    pub msd_lag: usize,
    /// Samples per time block for the error of D (0: no error bar).
    pub block_len: usize,
    /// Fit window of D, samples.
    pub fit: FitWindow,
    /// Longest VACF lag, samples (None: no VACF).
    pub vacf_lag: Option<usize>,
    /// Also report every atom type separately.
    pub by_type: bool,
    /// Flux maps (None: off).
    pub flux: Option<FluxConfig>,
    /// Also draw the figures postproc draws (PNG and SVG).
    pub plots: bool,
}

/// The options of `postproc flux`, in samples where postproc has frames.
#[derive(Clone, Debug)]
pub struct FluxConfig {
    /// Moving-average window and Δt, samples (≥ 1), and as asked, ps.
    pub smooth: usize,
    pub interval: usize,
    pub smooth_ps: f64,
    pub interval_ps: f64,
    /// Simple-cubic lattice constant, Å (None: (V/N)^(1/3) of the first sample).
    pub a: Option<f64>,
    /// f_c radii, Å (None: d/3 and d/2, d = nearest-neighbour spacing).
    pub r1: Option<f64>,
    pub r2: Option<f64>,
    /// Map grid points per lattice spacing.
    pub subdiv: usize,
}

/// The positions and velocities of one sample, as LAMMPS holds them.
pub struct Sample<'a> {
    pub step: u64,
    pub ids: &'a [u64],
    pub types: &'a [u32],
    /// Wrapped positions, Å.
    pub x: &'a [[f64; 3]],
    /// Image flags.
    pub image: &'a [[i32; 3]],
    pub v: &'a [[f64; 3]],
    /// Box origin, edge lengths (lx, ly, lz) and tilts (xy, xz, yz).
    pub boxlo: [f64; 3],
    pub len: [f64; 3],
    pub tilt: [f64; 3],
}

struct State {
    ids: Arc<Vec<u64>>,
    types: Arc<Vec<u32>>,
    sel: Selection,
    msd: WindowedMsd,
    /// Per finished time block, per group, per plane of [`PLANES`]: its D.
    block_d: Vec<Vec<[f64; 7]>>,
    vacf: Option<VacfCollector>,
    flux: Option<(FluxAccumulator, Lattice, [f64; 2])>,
}

pub struct Insitu {
    cfg: Config,
    state: Option<State>,
    first_step: u64,
    last_step: u64,
    order: Vec<usize>,
}

impl Insitu {
    pub fn new(cfg: Config) -> Result<Insitu> {
        if !(cfg.dt.is_finite() && cfg.dt > 0.0) {
            return Err(Error::Invalid(format!(
                "time between samples {} ps",
                cfg.dt
            )));
        }
        if cfg.fit.to > cfg.msd_lag || cfg.fit.from >= cfg.fit.to {
            return Err(Error::Invalid(format!(
                "the fit window (lags {} to {} samples) must lie inside the MSD lags 0..{}",
                cfg.fit.from, cfg.fit.to, cfg.msd_lag
            )));
        }
        if cfg.block_len > 0 && cfg.block_len <= cfg.fit.to {
            return Err(Error::Invalid(format!(
                "a time block ({} samples) must be longer than the fit window ({} samples)",
                cfg.block_len, cfg.fit.to
            )));
        }
        std::fs::create_dir_all(&cfg.out).map_err(|e| Error::io(&cfg.out, e))?;
        Ok(Insitu {
            cfg,
            state: None,
            first_step: 0,
            last_step: 0,
            order: Vec::new(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The step of the last sample (None before the first).
    pub fn last_step(&self) -> Option<u64> {
        self.state.as_ref().map(|_| self.last_step)
    }

    pub fn n_samples(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.msd.n_samples())
    }

    /// Bytes held by the accumulators.
    pub fn bytes(&self) -> usize {
        self.state.as_ref().map_or(0, |s| {
            s.msd.bytes()
                + s.block_d.iter().map(|b| b.len() * 7 * 8).sum::<usize>()
                + s.vacf.as_ref().map_or(0, |v| v.bytes())
                + s.ids.len() * 12
        })
    }

    /// Adds one sample (atoms in any order; sorted by id here).
    pub fn push(&mut self, s: &Sample) -> Result<()> {
        let n = s.ids.len();
        if s.types.len() != n || s.x.len() != n || s.image.len() != n || s.v.len() != n {
            return Err(Error::Invalid("sample arrays of different lengths".into()));
        }
        let mut order: Vec<usize> = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..n);
        order.sort_unstable_by_key(|&i| s.ids[i]);
        let cell = Cell::triclinic(s.boxlo, s.len, s.tilt);
        // Unwrapped as the dump reader does it for x y z ix iy iz.
        let pos: Vec<[f64; 3]> = order
            .iter()
            .map(|&i| {
                let im = s.image[i];
                let d = cell.frac_to_vec([im[0] as f64, im[1] as f64, im[2] as f64]);
                let r = s.x[i];
                [r[0] + d[0], r[1] + d[1], r[2] + d[2]]
            })
            .collect();
        let vel: Vec<[f64; 3]> = order.iter().map(|&i| s.v[i]).collect();
        // The id and type lists of the first sample are shared by all frames.
        let (ids, types) = match self.state.as_ref() {
            Some(st)
                if n == st.ids.len()
                    && order
                        .iter()
                        .zip(st.ids.iter())
                        .all(|(&i, &id)| s.ids[i] == id) =>
            {
                (st.ids.clone(), st.types.clone())
            }
            _ => (
                Arc::new(order.iter().map(|&i| s.ids[i]).collect()),
                Arc::new(order.iter().map(|&i| s.types[i]).collect()),
            ),
        };
        self.order = order;
        self.push_frame(&Frame {
            index: self.n_samples(),
            step: s.step,
            cell,
            ids,
            types,
            pos,
            vel: Some(vel),
        })
    }

    /// Adds one frame (atoms in id order, positions unwrapped, velocities
    /// wanted with `vacf`): what [`Insitu::push`] does after sorting, and
    /// what a dump reader can feed (`crate::dump::read`), so that the
    /// bounded-memory analyses run on a dump too.
    pub fn push_frame(&mut self, frame: &Frame) -> Result<()> {
        let n = frame.n_atoms();
        if self.state.is_none() {
            if n == 0 {
                return Err(Error::Invalid("the group has no atoms".into()));
            }
            let (ids, types) = (&frame.ids, &frame.types);
            if ids.windows(2).any(|w| w[0] >= w[1]) {
                return Err(Error::Invalid(
                    "atom ids must be distinct and in ascending order".into(),
                ));
            }
            let sel = Selection::new(ids, types, None, None, self.cfg.by_type)?;
            let keep = self.cfg.fit.to;
            let msd = WindowedMsd::new(&sel, types, self.cfg.msd_lag, self.cfg.block_len, keep)?;
            let vacf = self.cfg.vacf_lag.map(|l| VacfCollector::new(&sel, l));
            let flux = match &self.cfg.flux {
                None => None,
                Some(fc) => {
                    // Set up on the first sample, as postproc does on the first frame.
                    let lat = Lattice::detect(frame, fc.a).map_err(|e| {
                        Error::Invalid(format!(
                            "flux maps (set up on the first sample, which must be the \
                             simple-cubic crystal; its constant: flux ... lattice_a A): {}",
                            e.to_string()
                                .replace("; give --a", "")
                                .replace(" give --a", "")
                        ))
                    })?;
                    let d = lat.nn_distance();
                    let r = [fc.r1.unwrap_or(d / 3.0), fc.r2.unwrap_or(d / 2.0)];
                    let params = FluxParams {
                        lattice: lat,
                        smooth: fc.smooth,
                        interval: fc.interval,
                        first: 0,
                        last: None,
                        r1: r[0],
                        r2: r[1],
                        subdiv: fc.subdiv,
                    };
                    Some((FluxAccumulator::new(params, n)?, lat, r))
                }
            };
            self.first_step = frame.step;
            self.state = Some(State {
                ids: frame.ids.clone(),
                types: frame.types.clone(),
                sel,
                msd,
                block_d: Vec::new(),
                vacf,
                flux,
            });
        }
        let st = self.state.as_mut().expect("set above");
        if !Arc::ptr_eq(&frame.ids, &st.ids) && frame.ids.as_slice() != st.ids.as_slice() {
            return Err(Error::Invalid(format!(
                "the atoms of the group changed at step {} ({} atoms, {} at the first sample): \
                 the group must keep the same atoms (no atoms lost, deleted or added)",
                frame.step,
                n,
                st.ids.len()
            )));
        }
        st.msd.push(frame);
        // A finished block becomes its D per group and plane at once (the
        // slope of postproc's fit), so memory does not grow with its curves.
        let (w, dt) = (self.cfg.fit, self.cfg.dt);
        for block in st.msd.drain_blocks() {
            st.block_d.push(
                block
                    .iter()
                    .map(|curves| {
                        PLANES.map(|(_, axes)| {
                            diffusion::slope(&GroupMsd::combined(curves, axes), w, dt)
                                / (2.0 * axes.len() as f64)
                        })
                    })
                    .collect(),
            );
        }
        if let Some(v) = st.vacf.as_mut() {
            v.push(frame)?;
        }
        if let Some((f, ..)) = st.flux.as_mut() {
            f.push(frame)?;
        }
        self.last_step = frame.step;
        Ok(())
    }

    fn msd(&self) -> Option<Msd> {
        self.state.as_ref().and_then(|s| s.msd.msd().ok())
    }

    /// D of group `gi` from the slope over the fit window, with the error
    /// from the finished blocks' D: `diffusion::estimate` in two steps.
    fn d_of(&self, gi: usize, g: &GroupMsd, plane: usize) -> DEstimate {
        let axes = PLANES[plane].1;
        let full = GroupMsd::combined(&g.axes, axes);
        let value = diffusion::slope(&full, self.cfg.fit, self.cfg.dt) / (2.0 * axes.len() as f64);
        let blocks = self.block_d().iter().map(|b| b[gi][plane]).collect();
        diffusion::estimate_from_values(value, blocks)
    }

    fn block_d(&self) -> &[Vec<[f64; 7]>] {
        self.state.as_ref().map_or(&[], |s| s.block_d.as_slice())
    }

    /// D_x, D_y, D_z, D (Å²/ps) of all atoms so far; NaN until the MSD reaches
    /// the end of the fit window.
    pub fn d_so_far(&self) -> [f64; 4] {
        let mut out = [f64::NAN; 4];
        let Some(st) = self.state.as_ref() else {
            return out;
        };
        if st.msd.n_samples() <= self.cfg.fit.to {
            return out;
        }
        // Group 0 is all atoms; the same slope as msd.json's D (see write_msd).
        let curves = st.msd.axes(0);
        for (o, axes) in out.iter_mut().zip([&[0][..], &[1], &[2], &[0, 1, 2]]) {
            *o = diffusion::slope(
                &GroupMsd::combined(&curves, axes),
                self.cfg.fit,
                self.cfg.dt,
            ) / (2.0 * axes.len() as f64);
        }
        out
    }

    fn common(&self, extra: Value) -> Value {
        let mut v = json!({
            "files": [],
            "coordinates": "in situ: positions unwrapped with image flags (x + image·box)",
            "warnings": [],
            "insitu": {
                "first_step": self.first_step,
                "last_step": self.last_step,
                "samples": self.n_samples(),
                "memory_bytes": self.bytes(),
            },
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut v, extra) {
            for (k, x) in b {
                a.insert(k, x);
            }
        }
        v
    }

    /// Writes what there is so far (each file atomically); does nothing
    /// before two samples.
    pub fn write(&self) -> Result<()> {
        let Some(st) = self.state.as_ref() else {
            return Ok(());
        };
        if st.msd.n_samples() < 2 {
            return Ok(());
        }
        self.write_msd()?;
        if let Some(v) = st.vacf.as_ref() {
            self.write_vdos(v, &st.sel)?;
        }
        if let Some(f) = st.flux.as_ref() {
            self.write_flux(f)?;
        }
        Ok(())
    }

    /// flux_x/y/z.csv, flux_lines.csv, flux_planes.csv and flux.json, as
    /// `postproc flux` writes them; nothing while fewer than two smoothed
    /// samples are complete.
    fn write_flux(&self, (acc, lat, r): &(FluxAccumulator, Lattice, [f64; 2])) -> Result<()> {
        let Ok(flux) = acc.clone().finish() else {
            return Ok(());
        };
        let fc = self
            .cfg
            .flux
            .as_ref()
            .expect("flux state only with flux config");
        let result = FluxResult {
            flux: &flux,
            lattice: lat,
            r: *r,
            dt_ps: self.cfg.dt,
            smooth_ps: fc.smooth_ps,
            interval_ps: fc.interval_ps,
        };
        let mut keys = crate::runs::flux::write_files(&result, &self.cfg.out, self.cfg.plots)?;
        keys.insert("n_frames".into(), json!(self.n_samples()));
        let summary = self.common(Value::Object(keys));
        write_json(&self.cfg.out.join("flux.json"), &summary)
    }

    fn write_msd(&self) -> Result<()> {
        let msd = self.msd().expect("two samples at least");
        let (dt, w) = (self.cfg.dt, self.cfg.fit);
        let t = msd.groups[0].axes[0].len();
        let time: Vec<f64> = (0..t).map(|k| k as f64 * dt).collect();
        let fitted = t > w.to;
        let mut cols: Vec<(String, Vec<f64>)> = Vec::new();
        let mut groups = Map::new();
        let mut top = Value::Null;
        for (gi, g) in msd.groups.iter().enumerate() {
            // No D before the fit window has been reached.
            let (curves, entry) =
                group_curves(g, |plane, _| fitted.then(|| self.d_of(gi, g, plane)));
            cols.extend(curves);
            if g.name == "all" {
                top = entry.clone();
            }
            groups.insert(g.name.clone(), entry);
        }
        let mut table: Vec<(String, &[f64])> = vec![("time_ps".into(), &time)];
        table.extend(cols.iter().map(|(n, c)| (n.clone(), c.as_slice())));
        write_csv(&self.cfg.out.join("msd.csv"), &table)?;
        let all = &msd.groups[0];
        let mut summary = self.common(json!({
            "D": top["D"],
            "fit": {"from_ps": w.from as f64 * dt, "to_ps": w.to as f64 * dt, "default": false},
            "n_atoms": all.n_atoms,
            "n_frames": msd.n_frames,
            "dt_ps": dt,
            "max_lag_ps": self.cfg.msd_lag as f64 * dt,
            "blocks": self.block_d().len(),
            "block_ps": msd.block_len as f64 * dt,
            "uncertainty": "stderr = standard deviation of the D fitted in each time block / sqrt(blocks); \
                            ci95 = value ± t(0.975, blocks-1)·stderr",
            "units": {"D": "A^2/ps", "value_m2_s": "m^2/s", "value_cm2_s": "cm^2/s"},
            "groups": Value::Object(groups),
        }));
        let mut warnings = Vec::new();
        if !fitted {
            warnings.push(format!(
                "no D yet: {} samples, and the fit window ends at lag {} samples",
                msd.n_frames, w.to
            ));
        } else if self.block_d().len() < 2 {
            warnings.push(format!(
                "no error bar for D: {} finished time block(s) of {} samples; at least 2 are needed",
                self.block_d().len(),
                msd.block_len
            ));
        }
        summary["warnings"] = json!(warnings);
        write_json(&self.cfg.out.join("msd.json"), &summary)?;
        if self.cfg.plots && fitted {
            figures::msd_png(
                &self.cfg.out.join("msd.png"),
                all,
                &time,
                time.len(),
                self.cfg.fit,
                self.cfg.dt,
                &summary,
            )?;
        }
        Ok(())
    }

    fn write_vdos(&self, c: &VacfCollector, sel: &Selection) -> Result<()> {
        let v = c.clone().finish(sel, self.cfg.dt)?;
        let dt = v.dt;
        let mut vacf_cols: Vec<(String, Vec<f64>)> = Vec::new();
        let mut vdos_cols: Vec<(String, Vec<f64>)> = Vec::new();
        let mut groups = Map::new();
        let mut freq = Vec::new();
        let mut first = Value::Null;
        let mut all_spec = None;
        for g in &v.groups {
            let v0: f64 = g.phi.iter().map(|p| p[0]).sum();
            if !(v0 > 0.0 && v0.is_finite()) {
                return Err(Error::Invalid(format!(
                    "{}: <v^2> = {v0} Å²/ps²: the VDOS cannot be normalised (atoms at rest?)",
                    g.name
                )));
            }
            let spec = vacf::vdos(&g.phi, dt, 3.0 / v0);
            vdos::push_columns(g, &spec, dt, &mut vacf_cols, &mut vdos_cols);
            // Kinetic only: the fix knows no masses or temperature to use.
            let entry = vdos::group_entry(g, &spec, dt, "kinetic: m/kT = 3/<v^2>");
            if g.name == "all" {
                first = entry.clone();
            }
            groups.insert(g.name.clone(), entry);
            if freq.is_empty() {
                freq = spec.freq_thz.clone();
            }
            if g.name == "all" {
                all_spec = Some(spec);
            }
        }
        let time: Vec<f64> = (0..v.groups[0].phi[0].len())
            .map(|k| k as f64 * dt)
            .collect();
        let mut t: Vec<(String, &[f64])> = vec![("time_ps".into(), &time)];
        t.extend(vacf_cols.iter().map(|(n, c)| (n.clone(), c.as_slice())));
        write_csv(&self.cfg.out.join("vacf.csv"), &t)?;
        let mut t: Vec<(String, &[f64])> = vec![("freq_THz".into(), &freq)];
        t.extend(vdos_cols.iter().map(|(n, c)| (n.clone(), c.as_slice())));
        write_csv(&self.cfg.out.join("vdos.csv"), &t)?;
        let mut summary = first;
        if let (Value::Object(a), Value::Object(b)) = (
            &mut summary,
            self.common(json!({
                "n_atoms": v.groups[0].n_atoms,
                "n_frames": v.n_samples,
                "dt_ps": dt,
                "max_lag_ps": (time.len() - 1) as f64 * dt,
                "temperature_K": null,
                "velocities": v.source.describe(),
                "units": {"D_from_F0": "A^2/ps", "D_green_kubo": "A^2/ps", "peak_THz": "THz", "vdos": "1/THz"},
                "groups": Value::Object(groups),
            })),
        ) {
            for (k, x) in b {
                a.insert(k, x);
            }
        }
        write_json(&self.cfg.out.join("vdos.json"), &summary)?;
        if let (true, Some(all)) = (self.cfg.plots, all_spec) {
            figures::vdos_pngs(&self.cfg.out, &freq, &all, &time, &vacf_cols[0].1)?;
        }
        Ok(())
    }
}
