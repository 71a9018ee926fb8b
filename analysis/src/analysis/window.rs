//! Windowed all-origin MSD with bounded memory, for data that arrive one
//! sample at a time and never end (the in-situ LAMMPS fix).
//!
//! A ring buffer holds the last `max_lag + 1` samples of every atom; each new
//! sample at time t adds (x(t) − x(t−k))² for k = 1..=max_lag to a sum per
//! lag, axis and atom type. The MSD at lag k is that sum over the t − k + 1
//! origins seen so far: exactly the all-origin estimate that
//! [`super::msd::MsdCollector`] computes by FFT over a stored trajectory
//! (same estimator, same f32 displacements from the first sample), for lags
//! up to `max_lag`, to floating-point round-off. Memory: the ring,
//! 12·atoms·(max_lag+1) bytes, plus the sums; cost per sample: 3·atoms·max_lag
//! additions.
//!
//! Time blocks for the error of D are those of `MsdCollector::compute`:
//! consecutive blocks of `block_len` samples, pairs counted in a block only
//! when both of their samples lie in it. A finished block keeps only its
//! curve up to lag `keep` (the end of the fit window), until the caller
//! drains it ([`WindowedMsd::drain_blocks`]).

use super::msd::{GroupMsd, Msd};
use super::select::Selection;
use crate::error::{Error, Result};
use crate::frame::Frame;

pub struct WindowedMsd {
    atoms: Vec<usize>,
    /// For each selected atom, its kind (a partition of the atoms).
    kind: Vec<usize>,
    /// For each group of the selection, the kinds it is made of.
    group_kinds: Vec<Vec<usize>>,
    names: Vec<String>,
    sizes: Vec<usize>,
    n_kinds: usize,
    max_lag: usize,
    origin: Vec<[f64; 3]>,
    /// Per atom, `max_lag + 1` slots of 3 f32 (displacement from `origin`).
    ring: Vec<f32>,
    n: usize,
    /// Per kind, lag, axis: Σ over atoms and origins of squared displacements.
    sums: Vec<f64>,
    block_len: usize,
    keep: usize,
    block_sums: Vec<f64>,
    /// Finished blocks: per group, axis, the MSD at lags 0..=min(keep, block_len−1).
    blocks: Vec<Vec<[Vec<f64>; 3]>>,
}

impl WindowedMsd {
    /// `block_len` = 0: no time blocks. `keep`: lags of a finished block to
    /// keep (at least the end of the fit window).
    pub fn new(
        sel: &Selection,
        types: &[u32],
        max_lag: usize,
        block_len: usize,
        keep: usize,
    ) -> Result<Self> {
        if max_lag == 0 {
            return Err(Error::Invalid(
                "the longest MSD lag must be at least one sample".into(),
            ));
        }
        // Kinds: the atom types of the selection, each a separate partial sum;
        // groups (all, per type) are sums of kinds.
        let mut kinds: Vec<u32> = sel.atoms.iter().map(|&i| types[i]).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kind: Vec<usize> = sel
            .atoms
            .iter()
            .map(|&i| kinds.binary_search(&types[i]).expect("listed above"))
            .collect();
        let group_kinds = sel
            .groups
            .iter()
            .map(|g| {
                let mut ks: Vec<usize> = g.members.iter().map(|&j| kind[j]).collect();
                ks.sort_unstable();
                ks.dedup();
                ks
            })
            .collect::<Vec<_>>();
        // A group must be a union of whole kinds (true for "all" and per type).
        for (g, ks) in sel.groups.iter().zip(&group_kinds) {
            let whole: usize = ks
                .iter()
                .map(|&k| kind.iter().filter(|&&x| x == k).count())
                .sum();
            if whole != g.members.len() {
                return Err(Error::Invalid(format!(
                    "group {} is not made of whole atom types",
                    g.name
                )));
            }
        }
        let nk = kinds.len();
        let m = sel.atoms.len();
        let lags = max_lag + 1;
        Ok(WindowedMsd {
            atoms: sel.atoms.clone(),
            kind,
            group_kinds,
            names: sel.groups.iter().map(|g| g.name.clone()).collect(),
            sizes: sel.groups.iter().map(|g| g.members.len()).collect(),
            n_kinds: nk,
            max_lag,
            origin: Vec::new(),
            ring: vec![0.0; m * lags * 3],
            n: 0,
            sums: vec![0.0; nk * lags * 3],
            block_len,
            keep,
            block_sums: if block_len > 0 {
                vec![0.0; nk * lags * 3]
            } else {
                Vec::new()
            },
            blocks: Vec::new(),
        })
    }

    pub fn n_samples(&self) -> usize {
        self.n
    }

    pub fn max_lag(&self) -> usize {
        self.max_lag
    }

    /// Bytes held: ring, sums, and the finished blocks' curves.
    pub fn bytes(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .flat_map(|b| b.iter())
            .flat_map(|a| a.iter())
            .map(|c| c.len() * 8)
            .sum();
        self.ring.len() * 4
            + (self.sums.len() + self.block_sums.len()) * 8
            + self.origin.len() * 24
            + blocks
    }

    pub fn push(&mut self, f: &Frame) {
        if self.origin.is_empty() {
            self.origin = self.atoms.iter().map(|&i| f.pos[i]).collect();
        }
        let lags = self.max_lag + 1;
        let t = self.n;
        let slot = t % lags;
        let kmax = t.min(self.max_lag);
        // Lags that stay within the current time block.
        let kblock = if self.block_len > 0 {
            (t % self.block_len).min(self.max_lag)
        } else {
            0
        };
        let mut row = vec![[0.0f64; 3]; kmax + 1];
        for (j, &i) in self.atoms.iter().enumerate() {
            let r = f.pos[i];
            let o = self.origin[j];
            // The f32 displacement from the first sample, as MsdCollector stores it.
            let d = [
                (r[0] - o[0]) as f32,
                (r[1] - o[1]) as f32,
                (r[2] - o[2]) as f32,
            ];
            let ring = &mut self.ring[j * lags * 3..(j + 1) * lags * 3];
            ring[slot * 3..slot * 3 + 3].copy_from_slice(&d);
            let now = [d[0] as f64, d[1] as f64, d[2] as f64];
            // Lag k is slot − k, wrapping past 0 to the end of the ring: two
            // runs of slots, walked backwards (no modulo in the loop).
            let (near, far) = row[1..].split_at_mut(kmax.min(slot));
            let older = ring[..slot * 3].chunks_exact(3).rev();
            let oldest = ring[(slot + 1) * 3..].chunks_exact(3).rev();
            for (acc, p) in near.iter_mut().zip(older).chain(far.iter_mut().zip(oldest)) {
                for a in 0..3 {
                    let dx = now[a] - p[a] as f64;
                    acc[a] = dx * dx;
                }
            }
            let base = self.kind[j] * lags * 3;
            let sums = &mut self.sums[base..base + (kmax + 1) * 3];
            for (s, r) in sums.chunks_exact_mut(3).zip(&row).skip(1) {
                s[0] += r[0];
                s[1] += r[1];
                s[2] += r[2];
            }
            if kblock > 0 {
                let bs = &mut self.block_sums[base..base + (kblock + 1) * 3];
                for (s, r) in bs.chunks_exact_mut(3).zip(&row).skip(1) {
                    s[0] += r[0];
                    s[1] += r[1];
                    s[2] += r[2];
                }
            }
        }
        self.n += 1;
        if self.block_len > 0 && self.n % self.block_len == 0 {
            let lb = self.block_len;
            let keep = self.keep.min(self.max_lag).min(lb - 1) + 1;
            let curves = (0..self.names.len())
                .map(|g| self.curves_of(&self.block_sums, g, keep, |k| (lb - k) as f64))
                .collect();
            self.blocks.push(curves);
            self.block_sums.fill(0.0);
        }
    }

    /// Per axis, lags 0..len: Σ over the group's kinds / (atoms · origins(k)).
    fn curves_of(
        &self,
        sums: &[f64],
        g: usize,
        len: usize,
        origins: impl Fn(usize) -> f64,
    ) -> [Vec<f64>; 3] {
        let lags = self.max_lag + 1;
        let na = self.sizes[g] as f64;
        let curve = |a: usize| {
            (0..len)
                .map(|k| {
                    let s: f64 = self.group_kinds[g]
                        .iter()
                        .map(|&kd| sums[(kd * lags + k) * 3 + a])
                        .sum();
                    s / (na * origins(k))
                })
                .collect()
        };
        [curve(0), curve(1), curve(2)]
    }

    /// Takes the finished blocks kept so far (per block, per group, per
    /// axis: lags 0..=min(keep, block_len−1)); a caller that reduces them at
    /// once (to D values) keeps the memory from growing with the run.
    pub fn drain_blocks(&mut self) -> Vec<Vec<[Vec<f64>; 3]>> {
        std::mem::take(&mut self.blocks)
    }

    /// The MSD so far of group `g` per axis, lags 0..=min(max_lag, n−1),
    /// without the blocks (what a running D needs).
    pub fn axes(&self, g: usize) -> [Vec<f64>; 3] {
        let n = self.n;
        let len = (self.max_lag + 1).min(n);
        self.curves_of(&self.sums, g, len, |k| (n - k) as f64)
    }

    /// The MSD so far, per group of the selection, lags 0..=min(max_lag, n−1),
    /// with the finished time blocks.
    pub fn msd(&self) -> Result<Msd> {
        let n = self.n;
        if n < 2 {
            return Err(Error::Invalid(format!(
                "{n} samples are too few for an MSD"
            )));
        }
        let len = (self.max_lag + 1).min(n);
        let groups = (0..self.names.len())
            .map(|g| GroupMsd {
                name: self.names[g].clone(),
                n_atoms: self.sizes[g],
                axes: self.curves_of(&self.sums, g, len, |k| (n - k) as f64),
                blocks: self.blocks.iter().map(|b| b[g].clone()).collect(),
            })
            .collect();
        Ok(Msd {
            n_frames: n,
            block_len: self.block_len,
            groups,
        })
    }

    pub fn n_kinds(&self) -> usize {
        self.n_kinds
    }
}

#[cfg(test)]
mod tests {
    use super::super::msd::MsdCollector;
    use super::*;
    use crate::frame::Cell;
    use std::sync::Arc;

    fn frames(n_atoms: usize, n: usize) -> Vec<Frame> {
        let ids = Arc::new((1..=n_atoms as u64).collect::<Vec<_>>());
        let types = Arc::new((0..n_atoms).map(|i| 1 + (i % 2) as u32).collect::<Vec<_>>());
        let mut pos: Vec<[f64; 3]> = (0..n_atoms)
            .map(|i| [i as f64, 0.5 * i as f64, 3.0])
            .collect();
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        (0..n)
            .map(|t| {
                for p in pos.iter_mut() {
                    p[0] += rnd();
                    p[1] += 0.3 * rnd();
                    p[2] += 2.0 * rnd() + 0.01;
                }
                Frame {
                    index: t,
                    step: t as u64 * 10,
                    cell: Cell::orthogonal([0.0; 3], [10.0; 3]),
                    ids: ids.clone(),
                    types: types.clone(),
                    pos: pos.clone(),
                    vel: None,
                }
            })
            .collect()
    }

    #[test]
    fn windowed_msd_equals_the_fft_msd_of_the_stored_trajectory() {
        let fs = frames(7, 60);
        let sel = Selection::new(&fs[0].ids, &fs[0].types, None, None, true).unwrap();
        let (l, blocks) = (9, 4);
        let lb = fs.len() / blocks;
        let mut w = WindowedMsd::new(&sel, &fs[0].types, l, lb, l).unwrap();
        let mut c = MsdCollector::new(sel.atoms.clone());
        for f in &fs {
            w.push(f);
            c.push(f);
        }
        let a = w.msd().unwrap();
        let b = c.compute(&sel, blocks).unwrap();
        assert_eq!(a.groups.len(), 3);
        for (ga, gb) in a.groups.iter().zip(&b.groups) {
            for ax in 0..3 {
                for k in 0..=l {
                    // Lag 0 is FFT round-off around zero: scale by lag 1.
                    let (x, y) = (ga.axes[ax][k], gb.axes[ax][k]);
                    assert!((x - y).abs() <= 1e-12 * (y + gb.axes[ax][1]), "{x} {y}");
                }
                assert_eq!(ga.blocks.len(), blocks);
                for (ba, bb) in ga.blocks.iter().zip(&gb.blocks) {
                    for k in 0..=l {
                        let (x, y) = (ba[ax][k], bb[ax][k]);
                        assert!((x - y).abs() <= 1e-12 * (y + bb[ax][1]), "{x} {y}");
                    }
                }
            }
        }
        // Memory does not grow with the samples (no blocks kept).
        let mut w = WindowedMsd::new(&sel, &fs[0].types, l, 0, l).unwrap();
        w.push(&fs[0]);
        let b0 = w.bytes();
        for f in &fs[1..] {
            w.push(f);
        }
        assert_eq!(w.bytes(), b0);
    }
}
