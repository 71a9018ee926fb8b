//! The one FFT correlator that MSD and VACF share: linear (not circular)
//! auto- and cross-correlations by zero padding.

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// Smallest 2^a 3^b 5^c ≥ n: sizes the FFT is fast at.
pub fn good_size(n: usize) -> usize {
    let mut m = n.max(2);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r % p == 0 {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

#[derive(Clone)]
pub struct Correlator {
    n: usize,
    fwd: Arc<dyn RealToComplex<f64>>,
    inv: Arc<dyn ComplexToReal<f64>>,
}

/// Per-thread buffers for one [`Correlator`].
pub struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
    fa: Vec<Complex<f64>>,
    fb: Vec<Complex<f64>>,
    work: Vec<Complex<f64>>,
    centred: Vec<f64>,
    prefix: Vec<f64>,
}

impl Correlator {
    /// A correlator able to handle series of `len` samples without wrap-around.
    pub fn for_len(len: usize) -> Correlator {
        Correlator::with_fft_size(good_size(2 * len))
    }

    pub fn with_fft_size(n: usize) -> Correlator {
        let mut planner = RealFftPlanner::<f64>::new();
        Correlator {
            n,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
        }
    }

    pub fn fft_size(&self) -> usize {
        self.n
    }

    pub fn scratch(&self) -> Scratch {
        let work = self.fwd.get_scratch_len().max(self.inv.get_scratch_len());
        Scratch {
            a: vec![0.0; self.n],
            b: vec![0.0; self.n],
            fa: self.fwd.make_output_vec(),
            fb: self.fwd.make_output_vec(),
            work: vec![Complex::default(); work],
            centred: Vec::new(),
            prefix: Vec::new(),
        }
    }

    fn forward(
        &self,
        x: &[f64],
        buf: &mut [f64],
        out: &mut [Complex<f64>],
        work: &mut [Complex<f64>],
    ) {
        buf[..x.len()].copy_from_slice(x);
        buf[x.len()..].fill(0.0);
        self.fwd
            .process_with_scratch(buf, out, work)
            .expect("buffer sizes come from the plan");
    }

    /// out[k] = Σ_t x[t]·x[t+k] for k < out.len(); needs 2·len(x) ≤ fft size.
    pub fn autocorr(&self, x: &[f64], out: &mut [f64], s: &mut Scratch) {
        assert!(2 * x.len() <= self.n + 1 && out.len() <= x.len());
        self.forward(x, &mut s.a, &mut s.fa, &mut s.work);
        for c in s.fa.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        self.inverse_into(out, s);
    }

    /// out[k] = Σ_{t<len(a)} a[t]·b[t+k] (b taken as zero past its end) for
    /// k < out.len(); needs len(a) + len(out) − 1 ≤ fft size and len(b) ≤ fft size.
    pub fn crosscorr(&self, a: &[f64], b: &[f64], out: &mut [f64], s: &mut Scratch) {
        assert!(a.len() + out.len() <= self.n + 1 && b.len() <= self.n);
        self.forward(a, &mut s.a, &mut s.fa, &mut s.work);
        self.forward(b, &mut s.b, &mut s.fb, &mut s.work);
        for (x, y) in s.fa.iter_mut().zip(&s.fb) {
            *x = x.conj() * y;
        }
        self.inverse_into(out, s);
    }

    fn inverse_into(&self, out: &mut [f64], s: &mut Scratch) {
        // The real inverse transform needs purely real ends.
        s.fa[0].im = 0.0;
        if let Some(last) = s.fa.last_mut() {
            last.im = 0.0;
        }
        self.inv
            .process_with_scratch(&mut s.fa, &mut s.a, &mut s.work)
            .expect("buffer sizes come from the plan");
        let scale = 1.0 / self.n as f64;
        for (o, v) in out.iter_mut().zip(&s.a) {
            *o = v * scale;
        }
    }

    /// Number of spectrum bins of the real transforms: fft size / 2 + 1.
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    /// The spectrum of `x` zero-padded to the fft size; `x` must fit.
    pub fn spectrum<'s>(&self, x: &[f64], s: &'s mut Scratch) -> &'s [Complex<f64>] {
        assert!(x.len() <= self.n);
        self.forward(x, &mut s.a, &mut s.fa, &mut s.work);
        &s.fa
    }

    /// Like [`Correlator::spectrum`] of `x` minus its mean; the centred
    /// series is left in `centred`. Sums over many series of `|X|²` and of
    /// the squares of the centred values are what [`Correlator::msd_of_sums`]
    /// turns into their summed MSD: the transform is linear, so one inverse
    /// transform serves all the series.
    pub fn centred_spectrum<'s>(
        &self,
        x: &[f64],
        s: &'s mut Scratch,
    ) -> (&'s [Complex<f64>], &'s [f64]) {
        let n = x.len();
        assert!(n <= self.n);
        let mean = x.iter().sum::<f64>() / n as f64;
        s.centred.clear();
        s.centred.extend(x.iter().map(|v| v - mean));
        s.a[..n].copy_from_slice(&s.centred);
        s.a[n..].fill(0.0);
        self.fwd
            .process_with_scratch(&mut s.a, &mut s.fa, &mut s.work)
            .expect("buffer sizes come from the plan");
        (&s.fa, &s.centred)
    }

    /// The real series whose spectrum is `spec` (`bins()` values; the
    /// imaginary parts of the end bins are ignored), first `out.len()` values.
    pub fn inverse(&self, spec: &[Complex<f64>], out: &mut [f64], s: &mut Scratch) {
        s.fa.copy_from_slice(spec);
        self.inverse_into(out, s);
    }

    /// Summed MSD of many series of length `len` from Σ|X|² over their
    /// centred spectra (`power`, `bins()` values) and Σ x² per time
    /// (`squares`, `len` values): out[k] = Σ_series Σ_t (x[t+k] − x[t])² / (len − k).
    pub fn msd_of_sums(&self, power: &[f64], squares: &[f64], out: &mut [f64], s: &mut Scratch) {
        let n = squares.len();
        assert!(2 * n <= self.n + 1 && out.len() <= n && power.len() == self.bins());
        for (c, &p) in s.fa.iter_mut().zip(power) {
            *c = Complex::new(p, 0.0);
        }
        self.inverse_into(out, s);
        let prefix = &mut s.prefix;
        prefix.clear();
        prefix.push(0.0);
        let mut acc = 0.0;
        for v in squares {
            acc += v;
            prefix.push(acc);
        }
        for (k, o) in out.iter_mut().enumerate() {
            let sq = prefix[n - k] + (prefix[n] - prefix[k]);
            *o = ((sq - 2.0 * *o) / (n - k) as f64).max(0.0);
        }
    }

    /// Windowed MSD of one coordinate over all time origins:
    /// out[k] = ⟨(x[t+k] − x[t])²⟩_t for k < out.len().
    pub fn msd(&self, x: &[f64], out: &mut [f64], s: &mut Scratch) {
        let n = x.len();
        // Centering leaves differences unchanged and keeps the sums small.
        let mean = x.iter().sum::<f64>() / n as f64;
        let mut xc = std::mem::take(&mut s.centred);
        xc.clear();
        xc.extend(x.iter().map(|v| v - mean));
        self.autocorr(&xc, out, s);
        let prefix = &mut s.prefix;
        prefix.clear();
        prefix.push(0.0);
        let mut acc = 0.0;
        for v in &xc {
            acc += v * v;
            prefix.push(acc);
        }
        s.centred = xc;
        let prefix = &s.prefix;
        for (k, o) in out.iter_mut().enumerate() {
            let squares = prefix[n - k] + (prefix[n] - prefix[k]);
            *o = ((squares - 2.0 * *o) / (n - k) as f64).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct_msd(x: &[f64], k: usize) -> f64 {
        let n = x.len() - k;
        (0..n).map(|t| (x[t + k] - x[t]).powi(2)).sum::<f64>() / n as f64
    }

    #[test]
    fn fft_msd_and_crosscorr_match_direct_sums() {
        let x: Vec<f64> = (0..37)
            .map(|i| ((i * 7919) % 13) as f64 * 0.3 + i as f64)
            .collect();
        let c = Correlator::for_len(x.len());
        let mut s = c.scratch();
        let mut out = vec![0.0; x.len()];
        c.msd(&x, &mut out, &mut s);
        for (k, o) in out.iter().enumerate() {
            assert!((o - direct_msd(&x, k)).abs() < 1e-9 * (1.0 + direct_msd(&x, k)));
        }
        // The same from sums over series, one inverse transform.
        let y: Vec<f64> = x.iter().map(|v| (v * 0.7).sin() * 3.0 - v).collect();
        let mut power = vec![0.0; c.bins()];
        let mut squares = vec![0.0; x.len()];
        for series in [&x, &y] {
            let (spec, centred) = c.centred_spectrum(series, &mut s);
            power
                .iter_mut()
                .zip(spec)
                .for_each(|(p, z)| *p += z.norm_sqr());
            squares
                .iter_mut()
                .zip(centred)
                .for_each(|(q, v)| *q += v * v);
        }
        c.msd_of_sums(&power, &squares, &mut out, &mut s);
        for (k, o) in out.iter().enumerate() {
            let d = direct_msd(&x, k) + direct_msd(&y, k);
            assert!((o - d).abs() < 1e-9 * (1.0 + d));
        }
        let (a, b) = (&x[..10], &x[..20]);
        let c = Correlator::with_fft_size(20);
        let mut s = c.scratch();
        let mut out = vec![0.0; 11];
        c.crosscorr(a, b, &mut out, &mut s);
        for (k, o) in out.iter().enumerate() {
            let d: f64 = (0..10)
                .map(|t| a[t] * b.get(t + k).copied().unwrap_or(0.0))
                .sum();
            assert!((o - d).abs() < 1e-9 * d.abs().max(1.0));
        }
    }
}
