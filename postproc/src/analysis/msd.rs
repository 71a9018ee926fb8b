//! Mean-squared displacement (paper A eq. 2), windowed over all time
//! origins, per axis, for groups of atoms; also within time blocks, which is
//! what the error of D is made of.

use super::correlate::Correlator;
use super::select::Selection;
use crate::error::{Error, Result};
use crate::frame::Frame;
use rayon::prelude::*;

/// Keeps the trajectory of the selected atoms (f32 displacements from the
/// first frame: ample precision for MSDs, half the memory).
pub struct MsdCollector {
    atoms: Vec<usize>,
    origin: Vec<[f64; 3]>,
    data: Vec<f32>,
    n_frames: usize,
}

/// MSD of one group, Å², at lags 0, 1, … frames.
#[derive(Clone, Debug)]
pub struct GroupMsd {
    pub name: String,
    pub n_atoms: usize,
    /// Per axis x, y, z over the whole trajectory.
    pub axes: [Vec<f64>; 3],
    /// Per time block, per axis (blocks of equal length, trajectory order).
    pub blocks: Vec<[Vec<f64>; 3]>,
}

impl GroupMsd {
    /// Sum of the chosen axes (e.g. [0,1] for the xy plane, [0,1,2] total).
    pub fn combined(curves: &[Vec<f64>; 3], axes: &[usize]) -> Vec<f64> {
        let n = curves[0].len();
        (0..n)
            .map(|k| axes.iter().map(|&a| curves[a][k]).sum())
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Msd {
    pub n_frames: usize,
    pub block_len: usize,
    pub groups: Vec<GroupMsd>,
}

const CHUNK: usize = 16;

impl MsdCollector {
    pub fn new(atoms: Vec<usize>) -> MsdCollector {
        MsdCollector {
            atoms,
            origin: Vec::new(),
            data: Vec::new(),
            n_frames: 0,
        }
    }

    pub fn n_frames(&self) -> usize {
        self.n_frames
    }

    pub fn push(&mut self, f: &Frame) {
        if self.origin.is_empty() {
            self.origin = self.atoms.iter().map(|&i| f.pos[i]).collect();
        }
        self.data.reserve(3 * self.atoms.len());
        for (&i, o) in self.atoms.iter().zip(&self.origin) {
            let r = f.pos[i];
            for k in 0..3 {
                self.data.push((r[k] - o[k]) as f32);
            }
        }
        self.n_frames += 1;
    }

    /// MSD curves of every group in `sel` (which must be the selection this
    /// collector was made with), plus the same in `blocks` time blocks.
    pub fn compute(&self, sel: &Selection, blocks: usize) -> Result<Msd> {
        let t = self.n_frames;
        let blocks = blocks.max(1);
        let lb = t / blocks;
        if t < 2 || lb < 2 {
            return Err(Error::Invalid(format!(
                "{t} frames are too few for an MSD in {blocks} time blocks"
            )));
        }
        let m = self.atoms.len();
        let g = sel.groups.len();
        let member = sel.membership();
        let full = Correlator::for_len(t);
        let part = Correlator::for_len(lb);
        let zero = || (vec![0.0; g * 3 * t], vec![0.0; g * blocks * 3 * lb]);
        let chunks = m.div_ceil(CHUNK);
        let (acc_full, acc_blocks) = (0..chunks)
            .into_par_iter()
            .fold(
                || (zero(), full.scratch(), part.scratch()),
                |((mut af, mut ab), mut sf, mut sb), c| {
                    let (j0, j1) = (c * CHUNK, ((c + 1) * CHUNK).min(m));
                    let w = (j1 - j0) * 3;
                    let mut series = vec![0.0; w * t];
                    for f in 0..t {
                        let row = &self.data[(f * m + j0) * 3..(f * m + j1) * 3];
                        for (q, &v) in row.iter().enumerate() {
                            series[q * t + f] = v as f64;
                        }
                    }
                    let mut out = vec![0.0; t];
                    let mut out_b = vec![0.0; lb];
                    for q in 0..w {
                        let (j, axis) = (j0 + q / 3, q % 3);
                        let x = &series[q * t..(q + 1) * t];
                        full.msd(x, &mut out, &mut sf);
                        for &gi in &member[j] {
                            let dst = &mut af[(gi * 3 + axis) * t..][..t];
                            dst.iter_mut().zip(&out).for_each(|(d, v)| *d += v);
                        }
                        for b in 0..blocks {
                            part.msd(&x[b * lb..(b + 1) * lb], &mut out_b, &mut sb);
                            for &gi in &member[j] {
                                let dst = &mut ab[((gi * blocks + b) * 3 + axis) * lb..][..lb];
                                dst.iter_mut().zip(&out_b).for_each(|(d, v)| *d += v);
                            }
                        }
                    }
                    ((af, ab), sf, sb)
                },
            )
            .map(|(acc, _, _)| acc)
            .reduce(zero, |(mut a, mut b), (c, d)| {
                a.iter_mut().zip(&c).for_each(|(x, y)| *x += y);
                b.iter_mut().zip(&d).for_each(|(x, y)| *x += y);
                (a, b)
            });
        let groups = sel
            .groups
            .iter()
            .enumerate()
            .map(|(gi, group)| {
                let n = group.members.len() as f64;
                let curve = |a: usize| {
                    acc_full[(gi * 3 + a) * t..][..t]
                        .iter()
                        .map(|v| v / n)
                        .collect()
                };
                let block = |b: usize, a: usize| {
                    acc_blocks[((gi * blocks + b) * 3 + a) * lb..][..lb]
                        .iter()
                        .map(|v| v / n)
                        .collect()
                };
                GroupMsd {
                    name: group.name.clone(),
                    n_atoms: group.members.len(),
                    axes: [curve(0), curve(1), curve(2)],
                    blocks: (0..blocks)
                        .map(|b| [block(b, 0), block(b, 1), block(b, 2)])
                        .collect(),
                }
            })
            .collect();
        Ok(Msd {
            n_frames: t,
            block_len: lb,
            groups,
        })
    }
}
