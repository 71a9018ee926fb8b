//! The flux function of paper A (eqs. 6–8): signed crossings of the
//! midplanes between lattice planes, spread on the perpendicular plane with
//! the cosine cutoff f_c, plus the plain counts per lattice line and plane.
//!
//! Sign convention: a crossing counts +1 when the atom moves towards +axis.
//! (Eq. 6 as printed, H(z_t − z0) − H(z_{t+Δt} − z0), gives the opposite sign;
//! the figures of the paper and this tool show positive = along +axis.)
//!
//! Positions are smoothed by a centred moving average of `smooth` frames and
//! sampled every `interval` frames; the crossings are counted between
//! consecutive samples, every midplane crossed, with the plane index reduced
//! modulo the periodic plane set. Sample windows are cut at the ends of the
//! trajectory (a shorter average there, never a shifted one).

use super::lattice::{transverse, Lattice};
use crate::error::{Error, Result};
use crate::frame::Frame;
use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct FluxParams {
    pub lattice: Lattice,
    /// Moving-average window, frames (≥ 1).
    pub smooth: usize,
    /// Δt of eq. 6, frames (≥ 1).
    pub interval: usize,
    /// First and last sample centre, frames (t1, t2); `None` = to the end.
    pub first: usize,
    pub last: Option<usize>,
    /// f_c radii, Å.
    pub r1: f64,
    pub r2: f64,
    /// Map grid points per lattice spacing.
    pub subdiv: usize,
}

/// f_c of eq. 7.
#[inline]
pub fn cutoff(r: f64, r1: f64, r2: f64) -> f64 {
    if r < r1 {
        1.0
    } else if r < r2 {
        0.5 * (std::f64::consts::PI * (r - r1) / (r2 - r1)).cos() + 0.5
    } else {
        0.0
    }
}

/// One map F_axis on the grid of the two perpendicular axes.
#[derive(Clone, Debug)]
pub struct FluxMap {
    pub axis: usize,
    /// Grid coordinates, Å, along the first and second perpendicular axis;
    /// every `subdiv`-th point lies on a lattice line.
    pub u: Vec<f64>,
    pub v: Vec<f64>,
    /// Row-major: value at (u[i], v[j]) is `values[j * u.len() + i]`.
    pub values: Vec<f64>,
}

/// Crossing counts on the lattice lines along one axis.
#[derive(Clone, Debug)]
pub struct LineCounts {
    pub axis: usize,
    /// Lines indexed (j_u, j_v) → j_u * n_v + j_v; planes 0..n_axis.
    pub n_lines: [usize; 2],
    pub n_planes: usize,
    /// Signed and unsigned crossings per line and plane: `[line * n_planes + plane]`.
    pub net: Vec<i64>,
    pub gross: Vec<u64>,
}

impl LineCounts {
    pub fn line_net(&self, line: usize) -> i64 {
        self.net[line * self.n_planes..(line + 1) * self.n_planes]
            .iter()
            .sum()
    }
    pub fn line_gross(&self, line: usize) -> u64 {
        self.gross[line * self.n_planes..(line + 1) * self.n_planes]
            .iter()
            .sum()
    }
    pub fn plane_net(&self, plane: usize) -> i64 {
        (0..self.n_lines[0] * self.n_lines[1])
            .map(|l| self.net[l * self.n_planes + plane])
            .sum()
    }
    pub fn plane_gross(&self, plane: usize) -> u64 {
        (0..self.n_lines[0] * self.n_lines[1])
            .map(|l| self.gross[l * self.n_planes + plane])
            .sum()
    }
}

#[derive(Clone, Debug)]
pub struct Flux {
    pub maps: [FluxMap; 3],
    pub lines: [LineCounts; 3],
    /// Planes crossed by each atom (all axes), in frame atom order.
    pub atom_gross: Vec<u64>,
    /// Centre frames of the smoothed samples used.
    pub samples: Vec<usize>,
}

#[derive(Clone)]
struct Open {
    centre: usize,
    end: usize,
    sum: Vec<[f64; 3]>,
    count: usize,
}

/// Streams frames; keeps only the few sample windows that are open.
#[derive(Clone)]
pub struct FluxAccumulator {
    p: FluxParams,
    half: usize,
    next_centre: usize,
    frame: usize,
    open: VecDeque<Open>,
    prev: Option<Vec<[f64; 3]>>,
    flux: Flux,
}

impl FluxAccumulator {
    pub fn new(p: FluxParams, n_atoms: usize) -> Result<FluxAccumulator> {
        if p.smooth == 0 || p.interval == 0 {
            return Err(Error::Invalid(
                "the smoothing window and Δt must be at least one frame".into(),
            ));
        }
        if !(p.r1 >= 0.0 && p.r2 > p.r1) {
            return Err(Error::Invalid(format!(
                "cutoff radii need 0 ≤ R1 < R2 (got R1 = {}, R2 = {})",
                p.r1, p.r2
            )));
        }
        if p.last.is_some_and(|l| l < p.first) {
            return Err(Error::Invalid("the window end t2 lies before t1".into()));
        }
        let lat = &p.lattice;
        let sub = p.subdiv.max(1);
        let maps = std::array::from_fn(|axis| {
            let (a, b) = transverse(axis);
            let grid = |k: usize| -> Vec<f64> {
                let start = lat.site_coord(0, k);
                let start = lat.lo[k] + (start - lat.lo[k]).rem_euclid(lat.spacing[k]);
                (0..lat.n[k] * sub)
                    .map(|g| start + g as f64 * lat.spacing[k] / sub as f64)
                    .collect()
            };
            let (u, v) = (grid(a), grid(b));
            let values = vec![0.0; u.len() * v.len()];
            FluxMap { axis, u, v, values }
        });
        let lines = std::array::from_fn(|axis| {
            let (a, b) = transverse(axis);
            let n_lines = [lat.n[a], lat.n[b]];
            let size = n_lines[0] * n_lines[1] * lat.n[axis];
            LineCounts {
                axis,
                n_lines,
                n_planes: lat.n[axis],
                net: vec![0; size],
                gross: vec![0; size],
            }
        });
        Ok(FluxAccumulator {
            half: p.smooth / 2,
            next_centre: p.first,
            frame: 0,
            open: VecDeque::new(),
            prev: None,
            flux: Flux {
                maps,
                lines,
                atom_gross: vec![0; n_atoms],
                samples: Vec::new(),
            },
            p,
        })
    }

    pub fn push(&mut self, f: &Frame) -> Result<()> {
        let k = self.frame;
        if f.n_atoms() != self.flux.atom_gross.len() {
            return Err(Error::Invalid(format!(
                "frame {} (timestep {}) has {} atoms, the first had {}",
                f.index + 1,
                f.step,
                f.n_atoms(),
                self.flux.atom_gross.len()
            )));
        }
        // Open every sample whose window starts here (or started before the
        // trajectory did).
        while self.next_centre.saturating_sub(self.half) <= k
            && self.p.last.is_none_or(|l| self.next_centre <= l)
        {
            self.open.push_back(Open {
                centre: self.next_centre,
                end: self.next_centre + self.half,
                sum: vec![[0.0; 3]; f.n_atoms()],
                count: 0,
            });
            self.next_centre += self.p.interval;
        }
        for o in self.open.iter_mut() {
            for (s, r) in o.sum.iter_mut().zip(&f.pos) {
                s[0] += r[0];
                s[1] += r[1];
                s[2] += r[2];
            }
            o.count += 1;
        }
        while self.open.front().is_some_and(|o| o.end <= k) {
            let o = self.open.pop_front().expect("checked");
            self.close(o);
        }
        self.frame += 1;
        Ok(())
    }

    fn close(&mut self, o: Open) {
        let inv = 1.0 / o.count as f64;
        let mean: Vec<[f64; 3]> = o
            .sum
            .iter()
            .map(|s| [s[0] * inv, s[1] * inv, s[2] * inv])
            .collect();
        if let Some(prev) = self.prev.take() {
            self.crossings(&prev, &mean);
        }
        self.flux.samples.push(o.centre);
        self.prev = Some(mean);
    }

    fn crossings(&mut self, before: &[[f64; 3]], after: &[[f64; 3]]) {
        let lat = self.p.lattice;
        for (i, (r0, r1)) in before.iter().zip(after).enumerate() {
            for axis in 0..3 {
                // Midplane p sits at u = p + ½; H(x ≥ 0) puts an atom exactly
                // on it above the plane, hence floor(u − ½).
                let p0 = (lat.u(r0[axis], axis) - 0.5).floor() as i64;
                let p1 = (lat.u(r1[axis], axis) - 0.5).floor() as i64;
                if p0 == p1 {
                    continue;
                }
                let (lo, hi, sign) = if p1 > p0 {
                    (p0 + 1, p1, 1i64)
                } else {
                    (p1 + 1, p0, -1i64)
                };
                let (a, b) = transverse(axis);
                let ja = lat.wrap(lat.u(r0[a], a).round() as i64, a);
                let jb = lat.wrap(lat.u(r0[b], b).round() as i64, b);
                let lc = &mut self.flux.lines[axis];
                let line = ja * lc.n_lines[1] + jb;
                for plane in lo..=hi {
                    let idx = line * lc.n_planes + lat.wrap(plane, axis);
                    lc.net[idx] += sign;
                    lc.gross[idx] += 1;
                }
                let count = hi - lo + 1;
                self.flux.atom_gross[i] += count as u64;
                self.spread(axis, [r0[a], r0[b]], (sign * count) as f64);
            }
        }
    }

    /// Adds `weight`·f_c(|r − grid point|) over the periodic grid.
    fn spread(&mut self, axis: usize, at: [f64; 2], weight: f64) {
        let lat = self.p.lattice;
        let (a, b) = transverse(axis);
        let map = &mut self.flux.maps[axis];
        let (nu, nv) = (map.u.len(), map.v.len());
        let (du, dv) = (
            map.u[1.min(nu - 1)] - map.u[0],
            map.v[1.min(nv - 1)] - map.v[0],
        );
        let (du, dv) = (
            if du > 0.0 { du } else { lat.len[a] },
            if dv > 0.0 { dv } else { lat.len[b] },
        );
        let (r1, r2) = (self.p.r1, self.p.r2);
        let ru = (r2 / du).ceil() as i64;
        let rv = (r2 / dv).ceil() as i64;
        let cu = ((at[0] - map.u[0]) / du).round() as i64;
        let cv = ((at[1] - map.v[0]) / dv).round() as i64;
        for gv in cv - rv..=cv + rv {
            let jv = gv.rem_euclid(nv as i64) as usize;
            let dy = map.v[0] + gv as f64 * dv - at[1];
            for gu in cu - ru..=cu + ru {
                let ju = gu.rem_euclid(nu as i64) as usize;
                let dx = map.u[0] + gu as f64 * du - at[0];
                let w = cutoff((dx * dx + dy * dy).sqrt(), r1, r2);
                if w > 0.0 {
                    map.values[jv * nu + ju] += weight * w;
                }
            }
        }
    }

    /// Closes the windows cut by the end of the trajectory and returns the maps.
    pub fn finish(mut self) -> Result<Flux> {
        let last_frame = self.frame.saturating_sub(1);
        while let Some(o) = self.open.pop_front() {
            if o.centre <= last_frame && o.count > 0 {
                self.close(o);
            }
        }
        if self.flux.samples.len() < 2 {
            return Err(Error::Invalid(format!(
                "{} frames give {} smoothed sample(s) in the window: need at least 2 \
                 (shorten --interval or widen the window)",
                self.frame,
                self.flux.samples.len()
            )));
        }
        Ok(self.flux)
    }
}
