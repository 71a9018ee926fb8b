//! Mean-squared displacement (paper A eq. 2), windowed over all time
//! origins, per axis, for groups of atoms; also within time blocks, which is
//! what the error of D is made of.

use super::correlate::Correlator;
use super::select::Selection;
use crate::error::{Error, Result};
use crate::frame::Frame;
use rayon::prelude::*;

/// Keeps the trajectory of the selected atoms (f32 displacements from the
/// first frame: ample precision for MSDs, half the memory). Stored in tiles
/// of `TILE` frames, within a tile by chunks of `CHUNK` atoms, so that the
/// series of a chunk are read back from contiguous memory.
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
const TILE: usize = 64;

/// Per-thread sums of [`MsdCollector::compute`].
struct Sums {
    power: Vec<f64>,
    squares: Vec<f64>,
    block_power: Vec<f64>,
    block_squares: Vec<f64>,
}

fn add(dst: &mut [f64], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(d, v)| *d += v);
}

fn add_squares(dst: &mut [f64], src: &[f64]) {
    dst.iter_mut().zip(src).for_each(|(d, v)| *d += v * v);
}

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
        let chunks = self.atoms.len().div_ceil(CHUNK);
        let tile_len = chunks * TILE * CHUNK * 3;
        let (tile, fi) = (self.n_frames / TILE, self.n_frames % TILE);
        if fi == 0 {
            self.data.resize((tile + 1) * tile_len, 0.0);
        }
        let tile = &mut self.data[tile * tile_len..(tile + 1) * tile_len];
        let rows = tile.chunks_exact_mut(TILE * CHUNK * 3);
        let atoms = self.atoms.chunks(CHUNK).zip(self.origin.chunks(CHUNK));
        for (row, (atoms, origin)) in rows.zip(atoms) {
            let row = &mut row[fi * CHUNK * 3..(fi + 1) * CHUNK * 3];
            for ((d, &i), o) in row.chunks_exact_mut(3).zip(atoms).zip(origin) {
                let r = f.pos[i];
                d[0] = (r[0] - o[0]) as f32;
                d[1] = (r[1] - o[1]) as f32;
                d[2] = (r[2] - o[2]) as f32;
            }
        }
        self.n_frames += 1;
    }

    /// MSD curves of every group in `sel` (which must be the selection this
    /// collector was made with), plus the same in `blocks` time blocks.
    ///
    /// Each coordinate series is transformed once for the whole trajectory
    /// and once per block; what is summed over the atoms of a group is its
    /// power spectrum and its squares, so that one inverse transform per
    /// group, axis (and block) gives the summed MSD.
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
        let (hf, hp) = (full.bins(), part.bins());
        // Per (group, axis): Σ|X|² and Σx² per frame; the same per block.
        let zero = || Sums {
            power: vec![0.0; g * 3 * hf],
            squares: vec![0.0; g * 3 * t],
            block_power: vec![0.0; g * blocks * 3 * hp],
            block_squares: vec![0.0; g * blocks * 3 * lb],
        };
        let chunks = m.div_ceil(CHUNK);
        let sums = (0..chunks)
            .into_par_iter()
            .fold(
                || {
                    (
                        zero(),
                        full.scratch(),
                        part.scratch(),
                        Vec::new(),
                        Vec::new(),
                    )
                },
                |(mut acc, mut sf, mut sb, mut series, mut pw), c| {
                    let (j0, j1) = (c * CHUNK, ((c + 1) * CHUNK).min(m));
                    let w = (j1 - j0) * 3;
                    series.clear();
                    series.resize(w * t, 0.0);
                    // The frames of a chunk lie together, tile by tile.
                    let tile_len = chunks * TILE * CHUNK * 3;
                    for f in 0..t {
                        let at = (f / TILE) * tile_len + (c * TILE + f % TILE) * CHUNK * 3;
                        for (q, &v) in self.data[at..at + w].iter().enumerate() {
                            series[q * t + f] = v as f64;
                        }
                    }
                    for q in 0..w {
                        let (j, axis) = (j0 + q / 3, q % 3);
                        let x = &series[q * t..(q + 1) * t];
                        let (spec, centred) = full.centred_spectrum(x, &mut sf);
                        pw.clear();
                        pw.extend(spec.iter().map(|z| z.norm_sqr()));
                        for &gi in &member[j] {
                            let k = gi * 3 + axis;
                            add(&mut acc.power[k * hf..][..hf], &pw);
                            add_squares(&mut acc.squares[k * t..][..t], centred);
                        }
                        for b in 0..blocks {
                            let (spec, centred) =
                                part.centred_spectrum(&x[b * lb..(b + 1) * lb], &mut sb);
                            pw.clear();
                            pw.extend(spec.iter().map(|z| z.norm_sqr()));
                            for &gi in &member[j] {
                                let k = (gi * blocks + b) * 3 + axis;
                                add(&mut acc.block_power[k * hp..][..hp], &pw);
                                add_squares(&mut acc.block_squares[k * lb..][..lb], centred);
                            }
                        }
                    }
                    (acc, sf, sb, series, pw)
                },
            )
            .map(|(acc, ..)| acc)
            .reduce(zero, |mut a, b| {
                add(&mut a.power, &b.power);
                add(&mut a.squares, &b.squares);
                add(&mut a.block_power, &b.block_power);
                add(&mut a.block_squares, &b.block_squares);
                a
            });
        let (mut sf, mut sb) = (full.scratch(), part.scratch());
        let mut acc_full = vec![0.0; g * 3 * t];
        for (k, out) in acc_full.chunks_mut(t).enumerate() {
            let (pw, sq) = (&sums.power[k * hf..][..hf], &sums.squares[k * t..][..t]);
            full.msd_of_sums(pw, sq, out, &mut sf);
        }
        let mut acc_blocks = vec![0.0; g * blocks * 3 * lb];
        for (k, out) in acc_blocks.chunks_mut(lb).enumerate() {
            let pw = &sums.block_power[k * hp..][..hp];
            let sq = &sums.block_squares[k * lb..][..lb];
            part.msd_of_sums(pw, sq, out, &mut sb);
        }
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
