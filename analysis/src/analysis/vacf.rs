//! Velocity autocorrelation (paper A eqs. 3, 9), the VDOS (eq. 10) and the
//! two D that come with them: from F(0) and from the Green–Kubo integral (eq. 5).
//!
//! The VACF is accumulated as frames stream in, up to a maximum lag L, in
//! segments of 2L frames: every pair (t, t+k) with k ≤ L is counted exactly
//! once, so the result equals the all-origins average while memory holds
//! only 2L frames of velocities.

use super::correlate::{good_size, Correlator};
use super::select::Selection;
use crate::error::{Error, Result};
use crate::frame::Frame;
use rayon::prelude::*;
use realfft::num_complex::Complex;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VelocitySource {
    Dump,
    /// (r(t+1) − r(t))/dt from unwrapped positions.
    FiniteDifference,
}

impl VelocitySource {
    pub fn describe(self) -> &'static str {
        match self {
            VelocitySource::Dump => "dump",
            VelocitySource::FiniteDifference => "finite differences of unwrapped positions",
        }
    }
}

#[derive(Clone)]
pub struct VacfCollector {
    atoms: Vec<usize>,
    member: Vec<Vec<usize>>,
    n_groups: usize,
    max_lag: usize,
    corr: Correlator,
    buf: Vec<f32>,
    buf_frames: usize,
    /// Per group and axis: Σ conj(A)·B over atoms and segments (spectra).
    acc: Vec<Complex<f64>>,
    n_samples: usize,
    source: Option<VelocitySource>,
    prev: Vec<[f64; 3]>,
}

#[derive(Clone, Debug)]
pub struct GroupVacf {
    pub name: String,
    pub n_atoms: usize,
    /// ⟨v_α(0) v_α(t)⟩ per axis, (Å/ps)², at lags 0..=L frames.
    pub phi: [Vec<f64>; 3],
}

#[derive(Clone, Debug)]
pub struct Vacf {
    pub dt: f64,
    pub n_samples: usize,
    pub source: VelocitySource,
    pub groups: Vec<GroupVacf>,
}

impl VacfCollector {
    pub fn new(sel: &Selection, max_lag: usize) -> VacfCollector {
        let max_lag = max_lag.max(1);
        let corr = Correlator::with_fft_size(good_size(2 * max_lag));
        let bins = corr.bins();
        VacfCollector {
            atoms: sel.atoms.clone(),
            member: sel.membership(),
            n_groups: sel.groups.len(),
            max_lag,
            corr,
            buf: Vec::new(),
            buf_frames: 0,
            acc: vec![Complex::default(); sel.groups.len() * 3 * bins],
            n_samples: 0,
            source: None,
            prev: Vec::new(),
        }
    }

    /// Bytes held: the buffered velocities and the summed spectra.
    pub fn bytes(&self) -> usize {
        self.buf.capacity() * 4 + self.acc.len() * 16 + self.prev.len() * 24
    }

    pub fn push(&mut self, f: &Frame) -> Result<()> {
        let source = *self.source.get_or_insert(if f.vel.is_some() {
            VelocitySource::Dump
        } else {
            VelocitySource::FiniteDifference
        });
        match (source, &f.vel) {
            (VelocitySource::Dump, Some(v)) => {
                let base = self.buf.len();
                self.buf.resize(base + 3 * self.atoms.len(), 0.0);
                let rows = self.buf[base..].chunks_exact_mut(3);
                for (d, &i) in rows.zip(&self.atoms) {
                    d[0] = v[i][0] as f32;
                    d[1] = v[i][1] as f32;
                    d[2] = v[i][2] as f32;
                }
            }
            (VelocitySource::Dump, None) => {
                return Err(Error::Invalid(format!(
                    "frame {} (timestep {}) has no velocities although earlier frames had",
                    f.index + 1,
                    f.step
                )))
            }
            (VelocitySource::FiniteDifference, _) => {
                let now: Vec<[f64; 3]> = self.atoms.iter().map(|&i| f.pos[i]).collect();
                let prev = std::mem::replace(&mut self.prev, now);
                if prev.is_empty() {
                    return Ok(());
                }
                // Displacement per frame; turned into Å/ps once dt is known.
                for (p, q) in prev.iter().zip(&self.prev) {
                    self.buf.extend((0..3).map(|k| (q[k] - p[k]) as f32));
                }
            }
        }
        self.buf_frames += 1;
        self.n_samples += 1;
        if self.buf_frames == 2 * self.max_lag {
            self.segment(self.max_lag);
        }
        Ok(())
    }

    /// Counts pairs whose first frame is among the first `a_len` buffered
    /// frames, then drops those frames. What is summed is the cross
    /// spectrum conj(A)·B of the first `a_len` frames and of all buffered
    /// ones: the transform is linear, so [`VacfCollector::finish`] needs one
    /// inverse transform per group and axis, not one per atom and segment.
    fn segment(&mut self, a_len: usize) {
        let m = self.atoms.len();
        let b_len = self.buf_frames;
        let bins = self.corr.bins();
        let width = self.n_groups * 3 * bins;
        let (buf, member, corr) = (&self.buf, &self.member, &self.corr);
        const CHUNK: usize = 16;
        let add = (0..m.div_ceil(CHUNK))
            .into_par_iter()
            .fold(
                || {
                    (
                        vec![Complex::default(); width],
                        corr.scratch(),
                        Vec::new(),
                        Vec::new(),
                    )
                },
                |(mut acc, mut s, mut series, mut fa), c| {
                    // Gather a few atoms at once: their rows share cache lines.
                    let (j0, j1) = (c * CHUNK, ((c + 1) * CHUNK).min(m));
                    let w = (j1 - j0) * 3;
                    series.clear();
                    series.resize(w * b_len, 0.0);
                    for t in 0..b_len {
                        let row = &buf[(t * m + j0) * 3..(t * m + j1) * 3];
                        for (q, &v) in row.iter().enumerate() {
                            series[q * b_len + t] = v as f64;
                        }
                    }
                    for q in 0..w {
                        let (j, axis) = (j0 + q / 3, q % 3);
                        let x = &series[q * b_len..(q + 1) * b_len];
                        fa.clear();
                        fa.extend_from_slice(corr.spectrum(&x[..a_len], &mut s));
                        let fb = corr.spectrum(x, &mut s);
                        for &g in &member[j] {
                            let dst = &mut acc[(g * 3 + axis) * bins..][..bins];
                            for ((d, a), b) in dst.iter_mut().zip(&fa).zip(fb) {
                                *d += a.conj() * b;
                            }
                        }
                    }
                    (acc, s, series, fa)
                },
            )
            .map(|(acc, ..)| acc)
            .reduce(
                || vec![Complex::default(); width],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        self.acc.iter_mut().zip(&add).for_each(|(x, y)| *x += y);
        self.buf.drain(..a_len * m * 3);
        self.buf_frames -= a_len;
    }

    /// The VACF per group; `dt` is the time between frames in ps.
    pub fn finish(mut self, sel: &Selection, dt: f64) -> Result<Vacf> {
        while self.buf_frames > 0 {
            let a = self.buf_frames.min(self.max_lag);
            self.segment(a);
        }
        let n = self.n_samples;
        if n < 2 {
            return Err(Error::Invalid(
                "too few frames for a velocity autocorrelation".into(),
            ));
        }
        // Σ over atoms and segments of the lag sums, from the summed spectra.
        let lags = self.max_lag + 1;
        let bins = self.corr.bins();
        let mut sums = vec![0.0; self.n_groups * 3 * lags];
        let mut s = self.corr.scratch();
        for (k, out) in sums.chunks_mut(lags).enumerate() {
            self.corr
                .inverse(&self.acc[k * bins..(k + 1) * bins], out, &mut s);
        }
        let source = self.source.unwrap_or(VelocitySource::Dump);
        let scale = match source {
            VelocitySource::Dump => 1.0,
            VelocitySource::FiniteDifference => 1.0 / (dt * dt),
        };
        let keep = lags.min(n);
        let groups = sel
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| {
                let na = group.members.len() as f64;
                let curve = |a: usize| {
                    (0..keep)
                        .map(|k| sums[(g * 3 + a) * lags + k] * scale / (na * (n - k) as f64))
                        .collect()
                };
                GroupVacf {
                    name: group.name.clone(),
                    n_atoms: group.members.len(),
                    phi: [curve(0), curve(1), curve(2)],
                }
            })
            .collect();
        Ok(Vacf {
            dt,
            n_samples: n,
            source,
            groups,
        })
    }
}

/// Half a Hann window over lags 0..=L: tames the truncation ripples of the
/// spectrum; 1 at t = 0 so F(0) and the normalisation are unchanged in the limit.
fn window(k: usize, l: usize) -> f64 {
    0.5 * (1.0 + (std::f64::consts::PI * k as f64 / l as f64).cos())
}

/// ∫₀^∞ Φ(t) w(t) dt by the trapezoid rule: D_α = kT F_α(0) / (4m).
pub fn d_from_f0(phi: &[f64], dt: f64) -> f64 {
    let l = phi.len() - 1;
    dt * (0.5 * phi[0] + (1..=l).map(|k| phi[k] * window(k, l)).sum::<f64>())
}

/// Running Green–Kubo integral ∫₀^t Φ dt' (trapezoid).
pub fn running_integral(phi: &[f64], dt: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(phi.len());
    let mut acc = 0.0;
    out.push(0.0);
    for k in 1..phi.len() {
        acc += 0.5 * dt * (phi[k - 1] + phi[k]);
        out.push(acc);
    }
    out
}

/// Green–Kubo D: the running integral averaged over its second half, where
/// it should have reached its plateau.
pub fn green_kubo(phi: &[f64], dt: f64) -> f64 {
    let run = running_integral(phi, dt);
    let tail = &run[run.len() / 2..];
    tail.iter().sum::<f64>() / tail.len() as f64
}

#[derive(Clone, Debug)]
pub struct Vdos {
    pub freq_thz: Vec<f64>,
    /// Per axis; each integrates to m⟨v_α²⟩/kT (1 at equipartition).
    pub axes: [Vec<f64>; 3],
    /// Sum of the axes: eq. 10, integrating to 3.
    pub total: Vec<f64>,
}

/// F_α(ν) = 4 (m/kT) ∫₀^∞ Φ_α(t) w(t) cos(2πνt) dt on a grid 4× finer than
/// the window allows, up to the Nyquist frequency.
pub fn vdos(phi: &[Vec<f64>; 3], dt: f64, m_over_kt: f64) -> Vdos {
    let l = phi[0].len() - 1;
    let p = good_size(8 * l.max(1));
    let corr = realfft::RealFftPlanner::<f64>::new().plan_fft_forward(p);
    let mut axes: [Vec<f64>; 3] = Default::default();
    for (a, out) in axes.iter_mut().enumerate() {
        let mut y = vec![0.0; p];
        y[0] = phi[a][0];
        for k in 1..=l.min(p / 2 - 1) {
            let v = phi[a][k] * window(k, l);
            y[k] = v;
            y[p - k] = v;
        }
        let mut spec = corr.make_output_vec();
        corr.process(&mut y, &mut spec)
            .expect("sizes from the plan");
        // Y_j = Φ0 + 2 Σ Φ_k w_k cos(2π jk/p) and ∫ ≈ dt·Y_j/2.
        *out = spec.iter().map(|c| 2.0 * m_over_kt * dt * c.re).collect();
    }
    let total = (0..axes[0].len())
        .map(|j| axes[0][j] + axes[1][j] + axes[2][j])
        .collect();
    Vdos {
        freq_thz: (0..axes[0].len())
            .map(|j| j as f64 / (p as f64 * dt))
            .collect(),
        axes,
        total,
    }
}

/// ∫ F dν (trapezoid over the grid).
pub fn integral(freq: &[f64], f: &[f64]) -> f64 {
    freq.windows(2)
        .zip(f.windows(2))
        .map(|(x, y)| 0.5 * (x[1] - x[0]) * (y[0] + y[1]))
        .sum()
}

/// The highest local maximum at ν > 0 (a diffusive peak at ν = 0 is not one).
pub fn peak(freq: &[f64], f: &[f64]) -> Option<f64> {
    (1..f.len().saturating_sub(1))
        .filter(|&j| f[j] > f[j - 1] && f[j] >= f[j + 1])
        .max_by(|&a, &b| f[a].total_cmp(&f[b]))
        .map(|j| {
            // Parabola through the three points around the maximum.
            let (y0, y1, y2) = (f[j - 1], f[j], f[j + 1]);
            let den = y0 - 2.0 * y1 + y2;
            let shift = if den.abs() > 0.0 {
                0.5 * (y0 - y2) / den
            } else {
                0.0
            };
            freq[j] + shift * (freq[1] - freq[0])
        })
}
