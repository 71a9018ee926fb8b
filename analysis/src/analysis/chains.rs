//! Hops between reference-lattice sites, their grouping into cooperative
//! chains and rings, the diffusive fraction per time window and the cMSD.
//! The algorithm is described in docs/chains.md; in short:
//!
//! 1. Each atom's position is smoothed by a trailing moving average of
//!    `smooth` frames (time-stamped at the window centre).
//! 2. Each atom owns a site (integer lattice indices, unwrapped). It hops
//!    when its smoothed position comes within `capture`·d of another site:
//!    the hysteresis between capture radius and the half spacing keeps
//!    vibrations about the midplane from counting as hops.
//! 3. A hop A is linked to a hop B when A ends on the site that B left and
//!    the two hops are at most `coincidence` frames apart: in a chain every
//!    atom moves into the site of the next one. Each site is entered and
//!    left at most once in that time, so the links form paths (open chains)
//!    and cycles; a cycle whose hops sum to zero is a ring, one whose hops
//!    sum to a box vector is a line running through the periodic box.
//! 4. A chain turns where consecutive hops along it change axis (L turns).

use super::correlate::Correlator;
use super::lattice::{Lattice, AXES};
use crate::error::{Error, Result};
use crate::frame::Frame;
use rayon::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct ChainParams {
    pub lattice: Lattice,
    /// Moving-average window, frames (≥ 1).
    pub smooth: usize,
    /// Capture radius as a fraction of the nearest-neighbour distance (< 0.5).
    pub capture: f64,
    /// Largest time between linked hops, frames.
    pub coincidence: usize,
    /// Classification window, frames (≥ 1).
    pub window: usize,
    /// Shortest chain reported, atoms.
    pub min_length: usize,
    /// Keep positions for the cMSD.
    pub cmsd: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hop {
    /// Atom index in frame order.
    pub atom: usize,
    /// Time of the hop, frames (centre of the smoothing window).
    pub time: f64,
    pub from: [i64; 3],
    pub to: [i64; 3],
}

impl Hop {
    pub fn step(&self) -> [i64; 3] {
        [
            self.to[0] - self.from[0],
            self.to[1] - self.from[1],
            self.to[2] - self.from[2],
        ]
    }
    /// Axis of the largest step component.
    pub fn axis(&self) -> usize {
        let s = self.step();
        (0..3).max_by_key(|&k| s[k].abs()).expect("three axes")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainKind {
    /// A path: it starts at a site nobody left and ends on a site nobody entered.
    Open,
    /// A closed loop with zero net displacement.
    Ring,
    /// A closed loop through the periodic box (a full lattice line sliding).
    Periodic,
}

impl ChainKind {
    pub fn name(self) -> &'static str {
        match self {
            ChainKind::Open => "open",
            ChainKind::Ring => "ring",
            ChainKind::Periodic => "periodic",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Chain {
    /// Hops in chain order (each atom moves into the site of the next).
    pub hops: Vec<Hop>,
    /// Atom indices, chain order, each once.
    pub atoms: Vec<usize>,
    pub kind: ChainKind,
    /// Axis with the most hops.
    pub axis: usize,
    /// Hops per axis.
    pub per_axis: [usize; 3],
    /// Changes of axis between consecutive hops (L turns).
    pub turns: usize,
    /// Mean hop time, frames.
    pub time: f64,
}

#[derive(Clone, Debug)]
pub struct Chains {
    pub hops: Vec<Hop>,
    pub chains: Vec<Chain>,
    /// Atoms that hopped at least once.
    pub mobile: Vec<usize>,
    /// Per window: number of atoms that hopped in it.
    pub diffusive_per_window: Vec<usize>,
    pub window: usize,
    pub n_atoms: usize,
    pub n_frames: usize,
    /// cMSD, Å², at lags 0.. frames: chain atoms along their chain axis,
    /// solid atoms along the dominant chain axis; with the atom counts used.
    pub cmsd: Option<Cmsd>,
}

#[derive(Clone, Debug)]
pub struct Cmsd {
    pub chain: Vec<f64>,
    pub solid: Vec<f64>,
    pub n_chain: usize,
    pub n_solid: usize,
    pub solid_axis: usize,
}

impl Chains {
    pub fn rings(&self) -> usize {
        self.chains
            .iter()
            .filter(|c| c.kind == ChainKind::Ring)
            .count()
    }
    /// Time average of the fraction of atoms that hop within a window.
    pub fn diffusive_fraction(&self) -> f64 {
        let w = &self.diffusive_per_window;
        if w.is_empty() {
            return 0.0;
        }
        w.iter().sum::<usize>() as f64 / (w.len() * self.n_atoms) as f64
    }
}

pub struct ChainTracker {
    p: ChainParams,
    ring: Vec<Vec<[f64; 3]>>,
    sum: Vec<[f64; 3]>,
    site: Vec<[i64; 3]>,
    frame: usize,
    hops: Vec<Hop>,
    traj: Vec<f32>,
    first: Vec<[f64; 3]>,
}

impl ChainTracker {
    pub fn new(p: ChainParams) -> Result<ChainTracker> {
        if p.smooth == 0 || p.window == 0 {
            return Err(Error::Invalid(
                "the smoothing and classification windows must be at least one frame".into(),
            ));
        }
        if !(p.capture > 0.0 && p.capture < 0.5) {
            return Err(Error::Invalid(format!(
                "the capture radius must lie in (0, 0.5) nearest-neighbour distances, got {}",
                p.capture
            )));
        }
        Ok(ChainTracker {
            p,
            ring: Vec::new(),
            sum: Vec::new(),
            site: Vec::new(),
            frame: 0,
            hops: Vec::new(),
            traj: Vec::new(),
            first: Vec::new(),
        })
    }

    pub fn push(&mut self, f: &Frame) -> Result<()> {
        let n = f.n_atoms();
        if self.frame == 0 {
            self.sum = vec![[0.0; 3]; n];
            self.first = f.pos.clone();
        } else if n != self.sum.len() {
            return Err(Error::Invalid(format!(
                "frame {} (timestep {}) has {n} atoms, the first had {}",
                f.index + 1,
                f.step,
                self.sum.len()
            )));
        }
        if self.p.cmsd {
            for (r, o) in f.pos.iter().zip(&self.first) {
                self.traj.extend((0..3).map(|k| (r[k] - o[k]) as f32));
            }
        }
        let w = self.p.smooth;
        let old = if self.ring.len() == w {
            Some(std::mem::take(&mut self.ring[self.frame % w]))
        } else {
            None
        };
        for (i, r) in f.pos.iter().enumerate() {
            let s = &mut self.sum[i];
            for k in 0..3 {
                s[k] += r[k];
                if let Some(o) = &old {
                    s[k] -= o[i][k];
                }
            }
        }
        if self.ring.len() < w {
            self.ring.push(f.pos.clone());
        } else {
            self.ring[self.frame % w] = f.pos.clone();
        }
        if self.ring.len() == w {
            self.update_sites(self.frame as f64 - 0.5 * (w - 1) as f64);
        }
        self.frame += 1;
        Ok(())
    }

    fn update_sites(&mut self, time: f64) {
        let lat = self.p.lattice;
        let inv = 1.0 / self.p.smooth as f64;
        let d = lat.nn_distance();
        let cap2 = (self.p.capture * d).powi(2);
        if self.site.is_empty() {
            self.site = self
                .sum
                .iter()
                .map(|s| std::array::from_fn(|k| lat.u(s[k] * inv, k).round() as i64))
                .collect();
            return;
        }
        for (i, s) in self.sum.iter().enumerate() {
            let u: [f64; 3] = std::array::from_fn(|k| lat.u(s[k] * inv, k));
            let q: [i64; 3] = std::array::from_fn(|k| u[k].round() as i64);
            if q == self.site[i] {
                continue;
            }
            let d2: f64 = (0..3)
                .map(|k| ((u[k] - q[k] as f64) * lat.spacing[k]).powi(2))
                .sum();
            if d2 < cap2 {
                self.hops.push(Hop {
                    atom: i,
                    time,
                    from: self.site[i],
                    to: q,
                });
                self.site[i] = q;
            }
        }
    }

    pub fn finish(self) -> Result<Chains> {
        if self.site.is_empty() {
            return Err(Error::Invalid(format!(
                "{} frames are fewer than the smoothing window of {} frames",
                self.frame, self.p.smooth
            )));
        }
        let n_atoms = self.sum.len();
        let mut hops = self.hops;
        hops.sort_by(|a, b| a.time.total_cmp(&b.time).then(a.atom.cmp(&b.atom)));
        let chains = group(&hops, &self.p);
        let mut mobile: Vec<usize> = hops.iter().map(|h| h.atom).collect();
        mobile.sort_unstable();
        mobile.dedup();
        let nw = self.frame.div_ceil(self.p.window);
        let mut per_window: Vec<Vec<usize>> = vec![Vec::new(); nw];
        for h in &hops {
            let w = ((h.time.max(0.0) / self.p.window as f64) as usize).min(nw - 1);
            per_window[w].push(h.atom);
        }
        let diffusive_per_window = per_window
            .into_iter()
            .map(|mut v| {
                v.sort_unstable();
                v.dedup();
                v.len()
            })
            .collect();
        let cmsd = if self.p.cmsd && self.frame >= 2 {
            Some(cmsd(&self.traj, n_atoms, self.frame, &hops, &chains))
        } else {
            None
        };
        Ok(Chains {
            hops,
            chains,
            mobile,
            diffusive_per_window,
            window: self.p.window,
            n_atoms,
            n_frames: self.frame,
            cmsd,
        })
    }
}

/// Links hops into chains (see the module notes) and keeps those with at
/// least `min_length` atoms.
pub fn group(hops: &[Hop], p: &ChainParams) -> Vec<Chain> {
    let lat = &p.lattice;
    let key = |s: &[i64; 3]| -> [usize; 3] { std::array::from_fn(|k| lat.wrap(s[k], k)) };
    let mut leaving: HashMap<[usize; 3], Vec<usize>> = HashMap::new();
    for (e, h) in hops.iter().enumerate() {
        leaving.entry(key(&h.from)).or_default().push(e);
    }
    let tol = p.coincidence as f64;
    let n = hops.len();
    // Each hop's candidate successor: the closest-in-time hop leaving the
    // site it enters. A site entered twice within the window keeps the
    // closer predecessor only, so every hop has at most one of each.
    let mut succ: Vec<Option<usize>> = vec![None; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut cand: Vec<(f64, usize, usize)> = Vec::new();
    for (a, h) in hops.iter().enumerate() {
        if let Some(list) = leaving.get(&key(&h.to)) {
            if let Some((dt, b)) = list
                .iter()
                .filter(|&&b| hops[b].atom != h.atom)
                .map(|&b| ((hops[b].time - h.time).abs(), b))
                .filter(|(dt, _)| *dt <= tol)
                .min_by(|x, y| x.0.total_cmp(&y.0))
            {
                cand.push((dt, a, b));
            }
        }
    }
    cand.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (_, a, b) in cand {
        if succ[a].is_none() && pred[b].is_none() {
            succ[a] = Some(b);
            pred[b] = Some(a);
        }
    }
    let mut seen = vec![false; n];
    let mut chains = Vec::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        // Walk back to the head of a path, or around a cycle to `start`.
        let mut head = start;
        let mut cyclic = false;
        while let Some(q) = pred[head] {
            if q == start {
                cyclic = true;
                break;
            }
            head = q;
        }
        let mut order = vec![head];
        seen[head] = true;
        let mut cur = head;
        while let Some(nx) = succ[cur] {
            if nx == head {
                break;
            }
            seen[nx] = true;
            order.push(nx);
            cur = nx;
        }
        let chain_hops: Vec<Hop> = order.iter().map(|&e| hops[e]).collect();
        let mut atoms: Vec<usize> = Vec::new();
        for h in &chain_hops {
            if !atoms.contains(&h.atom) {
                atoms.push(h.atom);
            }
        }
        if atoms.len() < p.min_length.max(1) {
            continue;
        }
        let mut per_axis = [0usize; 3];
        let mut net = [0i64; 3];
        for h in &chain_hops {
            per_axis[h.axis()] += 1;
            let s = h.step();
            for k in 0..3 {
                net[k] += s[k];
            }
        }
        let m = chain_hops.len();
        let mut turns = (1..m)
            .filter(|&k| chain_hops[k].axis() != chain_hops[k - 1].axis())
            .count();
        if cyclic && m > 1 && chain_hops[0].axis() != chain_hops[m - 1].axis() {
            turns += 1;
        }
        let kind = if !cyclic {
            ChainKind::Open
        } else if net == [0, 0, 0] {
            ChainKind::Ring
        } else {
            ChainKind::Periodic
        };
        let axis = (0..3).max_by_key(|&k| per_axis[k]).expect("three axes");
        let time = chain_hops.iter().map(|h| h.time).sum::<f64>() / m as f64;
        chains.push(Chain {
            hops: chain_hops,
            atoms,
            kind,
            axis,
            per_axis,
            turns,
            time,
        });
    }
    chains.sort_by(|a, b| a.time.total_cmp(&b.time));
    chains
}

const MAX_CMSD_ATOMS: usize = 512;

fn cmsd(traj: &[f32], n: usize, t: usize, hops: &[Hop], chains: &[Chain]) -> Cmsd {
    let mut axis_count = vec![[0usize; 3]; n];
    let mut total = [0usize; 3];
    for h in hops {
        axis_count[h.atom][h.axis()] += 1;
        total[h.axis()] += 1;
    }
    let solid_axis = (0..3).max_by_key(|&k| total[k]).expect("three axes");
    let mut in_chain = vec![false; n];
    for c in chains {
        for &a in &c.atoms {
            in_chain[a] = true;
        }
    }
    let hopped: Vec<bool> = axis_count
        .iter()
        .map(|c| c.iter().sum::<usize>() > 0)
        .collect();
    let pick = |v: Vec<usize>| -> Vec<usize> {
        if v.len() <= MAX_CMSD_ATOMS {
            v
        } else {
            (0..MAX_CMSD_ATOMS)
                .map(|k| v[k * v.len() / MAX_CMSD_ATOMS])
                .collect()
        }
    };
    let chain_atoms: Vec<(usize, usize)> = pick((0..n).filter(|&i| in_chain[i]).collect())
        .into_iter()
        .map(|i| {
            let c = axis_count[i];
            (i, (0..3).max_by_key(|&k| c[k]).expect("three axes"))
        })
        .collect();
    let solid_atoms: Vec<(usize, usize)> = pick((0..n).filter(|&i| !hopped[i]).collect())
        .into_iter()
        .map(|i| (i, solid_axis))
        .collect();
    let corr = Correlator::for_len(t);
    let mean = |set: &[(usize, usize)]| -> Vec<f64> {
        if set.is_empty() {
            return vec![f64::NAN; t];
        }
        let sum = set
            .par_iter()
            .fold(
                || (vec![0.0; t], corr.scratch(), vec![0.0; t], vec![0.0; t]),
                |(mut acc, mut s, mut x, mut out), &(i, k)| {
                    for (f, v) in x.iter_mut().enumerate() {
                        *v = traj[(f * n + i) * 3 + k] as f64;
                    }
                    corr.msd(&x, &mut out, &mut s);
                    acc.iter_mut().zip(&out).for_each(|(a, o)| *a += o);
                    (acc, s, x, out)
                },
            )
            .map(|(acc, ..)| acc)
            .reduce(
                || vec![0.0; t],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        sum.into_iter().map(|v| v / set.len() as f64).collect()
    };
    Cmsd {
        chain: mean(&chain_atoms),
        solid: mean(&solid_atoms),
        n_chain: chain_atoms.len(),
        n_solid: solid_atoms.len(),
        solid_axis,
    }
}

pub fn axis_name(k: usize) -> &'static str {
    AXES[k]
}
