//! Radial distribution functions g(r) and partials g_ab(r), averaged over
//! frames, in periodic orthogonal or triclinic boxes, with coordination numbers.

use crate::error::{Error, Result};
use crate::frame::Frame;
use rayon::prelude::*;

pub struct RdfAccumulator {
    rmax: f64,
    nbins: usize,
    kinds: Vec<u32>,
    kind_of: Vec<usize>,
    count: Vec<usize>,
    /// Ordered pairs (a around b) per bin, summed over frames.
    hist: Vec<u64>,
    inv_volume_sum: f64,
    n_frames: usize,
}

#[derive(Clone, Debug)]
pub struct PairRdf {
    /// "a-b", or "all".
    pub name: String,
    pub g: Vec<f64>,
    /// Mean number of b atoms within r of an a atom (at the bin's upper edge).
    pub coordination: Vec<f64>,
    pub first_peak: Option<f64>,
    pub first_min: Option<f64>,
    /// Coordination at the first minimum.
    pub first_shell: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Rdf {
    pub r: Vec<f64>,
    pub dr: f64,
    pub n_frames: usize,
    pub pairs: Vec<PairRdf>,
}

impl RdfAccumulator {
    pub fn new(types: &[u32], rmax: f64, nbins: usize) -> RdfAccumulator {
        let mut kinds: Vec<u32> = types.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        let kind_of: Vec<usize> = types
            .iter()
            .map(|t| kinds.binary_search(t).expect("from the same list"))
            .collect();
        let mut count = vec![0; kinds.len()];
        for &k in &kind_of {
            count[k] += 1;
        }
        let nk = kinds.len();
        RdfAccumulator {
            rmax,
            nbins,
            kinds,
            kind_of,
            count,
            hist: vec![0; nk * nk * nbins],
            inv_volume_sum: 0.0,
            n_frames: 0,
        }
    }

    pub fn add(&mut self, f: &Frame) -> Result<()> {
        let cell = &f.cell;
        let w = cell.widths();
        let wmin = w.iter().cloned().fold(f64::INFINITY, f64::min);
        if self.rmax > 0.5 * wmin {
            return Err(Error::Invalid(format!(
                "--rmax {} Å is more than half the narrowest box width ({:.3} Å) at frame {}",
                self.rmax,
                wmin,
                f.index + 1
            )));
        }
        // Cells at least rmax wide: every neighbour lies in one of the 27
        // surrounding cells (in fractional space, so triclinic boxes work).
        let nc: [usize; 3] = std::array::from_fn(|d| ((w[d] / self.rmax).floor() as usize).max(1));
        let frac: Vec<[f64; 3]> = f
            .pos
            .iter()
            .map(|&r| {
                let s = cell.to_frac(r);
                s.map(|x| x - x.floor())
            })
            .collect();
        let cell_of = |s: &[f64; 3]| -> [usize; 3] {
            std::array::from_fn(|d| ((s[d] * nc[d] as f64) as usize).min(nc[d] - 1))
        };
        let ncell = nc[0] * nc[1] * nc[2];
        let flat = |c: [usize; 3]| (c[0] * nc[1] + c[1]) * nc[2] + c[2];
        let mut start = vec![0usize; ncell + 1];
        let cells: Vec<[usize; 3]> = frac.iter().map(cell_of).collect();
        for c in &cells {
            start[flat(*c) + 1] += 1;
        }
        for i in 0..ncell {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut members = vec![0usize; frac.len()];
        for (i, c) in cells.iter().enumerate() {
            let k = flat(*c);
            members[fill[k]] = i;
            fill[k] += 1;
        }
        let nk = self.kinds.len();
        let (nbins, rmax) = (self.nbins, self.rmax);
        let inv_dr = nbins as f64 / rmax;
        let kind_of = &self.kind_of;
        let hist = (0..frac.len())
            .into_par_iter()
            .with_min_len(64)
            .fold(
                || vec![0u64; nk * nk * nbins],
                |mut h, i| {
                    let c = cells[i];
                    let si = frac[i];
                    for o in 0..27 {
                        let off = [o / 9, (o / 3) % 3, o % 3].map(|v| v as isize - 1);
                        let mut nb = [0usize; 3];
                        let mut shift = [0.0; 3];
                        for d in 0..3 {
                            let v = c[d] as isize + off[d];
                            let n = nc[d] as isize;
                            shift[d] = v.div_euclid(n) as f64;
                            nb[d] = v.rem_euclid(n) as usize;
                        }
                        let k = flat(nb);
                        for &j in &members[start[k]..start[k + 1]] {
                            if j == i && shift == [0.0; 3] {
                                continue;
                            }
                            let sj = frac[j];
                            let d = cell.frac_to_vec([
                                sj[0] + shift[0] - si[0],
                                sj[1] + shift[1] - si[1],
                                sj[2] + shift[2] - si[2],
                            ]);
                            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                            if r < rmax {
                                let bin = ((r * inv_dr) as usize).min(nbins - 1);
                                h[(kind_of[i] * nk + kind_of[j]) * nbins + bin] += 1;
                            }
                        }
                    }
                    h
                },
            )
            .reduce(
                || vec![0u64; nk * nk * nbins],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        self.hist.iter_mut().zip(&hist).for_each(|(x, y)| *x += y);
        self.inv_volume_sum += 1.0 / cell.volume();
        self.n_frames += 1;
        Ok(())
    }

    pub fn finish(&self) -> Result<Rdf> {
        if self.n_frames == 0 {
            return Err(Error::Invalid("no frame for g(r)".into()));
        }
        let nb = self.nbins;
        let dr = self.rmax / nb as f64;
        let r: Vec<f64> = (0..nb).map(|k| (k as f64 + 0.5) * dr).collect();
        let shell: Vec<f64> = (0..nb)
            .map(|k| {
                let (a, b) = (k as f64 * dr, (k + 1) as f64 * dr);
                4.0 / 3.0 * std::f64::consts::PI * (b.powi(3) - a.powi(3))
            })
            .collect();
        let nk = self.kinds.len();
        let nf = self.n_frames as f64;
        let make = |name: String, counts: Vec<f64>, n_center: f64, n_other: f64| {
            // n_other excludes the centre atom itself for like pairs so that g → 1.
            let g: Vec<f64> = (0..nb)
                .map(|k| counts[k] / (n_center * n_other * self.inv_volume_sum * shell[k]))
                .collect();
            let mut acc = 0.0;
            let coordination: Vec<f64> = counts
                .iter()
                .map(|c| {
                    acc += c / (n_center * nf);
                    acc
                })
                .collect();
            let (first_peak, first_min, first_shell) = first_shell(&r, &g, &coordination);
            PairRdf {
                name,
                g,
                coordination,
                first_peak,
                first_min,
                first_shell,
            }
        };
        let pair_counts = |a: usize, b: usize| -> Vec<f64> {
            (0..nb)
                .map(|k| self.hist[(a * nk + b) * nb + k] as f64)
                .collect()
        };
        let n_all: usize = self.count.iter().sum();
        let mut total = vec![0.0; nb];
        for a in 0..nk {
            for b in 0..nk {
                total
                    .iter_mut()
                    .zip(pair_counts(a, b))
                    .for_each(|(t, c)| *t += c);
            }
        }
        let mut pairs = vec![make("all".into(), total, n_all as f64, n_all as f64 - 1.0)];
        for a in 0..nk {
            for b in 0..nk {
                let same = (a == b) as usize as f64;
                pairs.push(make(
                    format!("{}-{}", self.kinds[a], self.kinds[b]),
                    pair_counts(a, b),
                    self.count[a] as f64,
                    self.count[b] as f64 - same,
                ));
            }
        }
        Ok(Rdf {
            r,
            dr,
            n_frames: self.n_frames,
            pairs,
        })
    }
}

/// First peak (highest g before the first minimum), first minimum (first
/// local minimum below 1 after g first rose above 1, on a 3-bin average) and
/// the coordination number there.
fn first_shell(r: &[f64], g: &[f64], coord: &[f64]) -> (Option<f64>, Option<f64>, Option<f64>) {
    let n = g.len();
    if n < 3 {
        return (None, None, None);
    }
    let gs: Vec<f64> = (0..n)
        .map(|k| {
            let (a, b) = (k.saturating_sub(1), (k + 1).min(n - 1));
            (g[a] + g[k] + g[b]) / 3.0
        })
        .collect();
    let Some(rise) = (0..n).find(|&k| gs[k] > 1.0) else {
        return (None, None, None);
    };
    let Some(min) = (rise..n - 1).find(|&k| gs[k] < 1.0 && gs[k] <= gs[k + 1]) else {
        let top = (rise..n).max_by(|&a, &b| g[a].total_cmp(&g[b]));
        return (top.map(|k| r[k]), None, None);
    };
    let start = (0..rise).rev().find(|&k| g[k] == 0.0).unwrap_or(0);
    let peak = (start..min).max_by(|&a, &b| g[a].total_cmp(&g[b]));
    let below = if min > 0 { coord[min - 1] } else { 0.0 };
    let shell = 0.5 * (below + coord[min]);
    (peak.map(|k| r[k]), Some(r[min]), Some(shell))
}
