//! Model deviation of a committee, with DeePMD-kit's definitions and its
//! exact `model_devi.out` format, so that DP-GEN reads our file unchanged.
//!
//! For M models with forces F_k,i (ghost contributions already summed onto
//! their owners) the force deviation of atom i is
//! σ_i = sqrt((1/M) Σ_k |F_k,i − F̄_i|²), optionally divided by
//! (|F̄_i| + relative). A step's line holds max, min and mean of σ_i over all
//! atoms. For the global virials divided by the number of atoms, each of the
//! nine components gets σ_c = sqrt((1/M) Σ_k (W_k,c − W̄_c)²), optionally
//! divided by (|W̄_c| + relative_v); the line holds their max, min and root
//! mean square.

use crate::settings::DeviationSettings;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};

/// Per-atom force deviations of the local atoms.
///
/// `forces` is laid out [atom][model][xyz] (the layout the reverse
/// communication moves), only the first `nlocal` atoms are used.
pub fn force_deviation(
    forces: &[f64],
    nmodels: usize,
    nlocal: usize,
    relative: Option<f64>,
) -> Vec<f64> {
    let w = 3 * nmodels;
    (0..nlocal)
        .map(|i| {
            let atom = &forces[i * w..(i + 1) * w];
            let mut mean = [0.0; 3];
            for k in 0..nmodels {
                for d in 0..3 {
                    mean[d] += atom[3 * k + d];
                }
            }
            mean.iter_mut().for_each(|m| *m /= nmodels as f64);
            let mut var = 0.0;
            for k in 0..nmodels {
                for d in 0..3 {
                    let diff = atom[3 * k + d] - mean[d];
                    var += diff * diff;
                }
            }
            let sigma = (var / nmodels as f64).sqrt();
            match relative {
                Some(eps) => sigma / (norm(&mean) + eps),
                None => sigma,
            }
        })
        .collect()
}

/// (max, min, rms) over the nine components of the virial deviation.
/// `virials[k]` is model k's global virial divided by the number of atoms.
pub fn virial_deviation(virials: &[[f64; 9]], relative_v: Option<f64>) -> (f64, f64, f64) {
    let m = virials.len() as f64;
    let (mut max, mut min, mut sq) = (0.0f64, f64::MAX, 0.0);
    for c in 0..9 {
        let mean = virials.iter().map(|v| v[c]).sum::<f64>() / m;
        let var = virials.iter().map(|v| (v[c] - mean).powi(2)).sum::<f64>() / m;
        let mut sigma = var.sqrt();
        if let Some(eps) = relative_v {
            sigma /= mean.abs() + eps;
        }
        max = max.max(sigma);
        min = min.min(sigma);
        sq += sigma * sigma;
    }
    (max, min, (sq / 9.0).sqrt())
}

fn norm(v: &[f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

/// C's `%e` (C++ `std::scientific`, precision 6) right-aligned in `width`.
pub fn c_scientific(x: f64, width: usize) -> String {
    let text = if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        let s = format!("{x:.6e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} always has an exponent");
        let exp: i32 = exp.parse().expect("exponent is an integer");
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    };
    format!("{text:>width$}")
}

/// The header DeePMD-kit writes.
pub fn header(atomic: bool) -> String {
    let mut h = format!("#{:>11}", "step");
    for name in [
        "max_devi_v",
        "min_devi_v",
        "avg_devi_v",
        "max_devi_f",
        "min_devi_f",
        "avg_devi_f",
    ] {
        let _ = write!(h, "{name:>19}");
    }
    if atomic {
        let _ = write!(h, "{:>19}", "atm_devi_f(N)");
    }
    h
}

/// One line: step, virial (max, min, rms), force (max, min, mean), and the
/// per-atom force deviations ordered by atom id when `atomic`.
pub fn line(step: i64, v: (f64, f64, f64), f: (f64, f64, f64), atomic: Option<&[f64]>) -> String {
    let mut s = format!("{step:>12}");
    for x in [v.0, v.1, v.2, f.0, f.1, f.2] {
        s.push(' ');
        s.push_str(&c_scientific(x, 18));
    }
    for &x in atomic.unwrap_or(&[]) {
        s.push(' ');
        s.push_str(&c_scientific(x, 18));
    }
    s
}

/// Committee state of one pair style: buffers of the current step and the
/// output file (open on one MPI rank only).
pub struct Committee {
    pub settings: DeviationSettings,
    pub nmodels: usize,
    /// [atom][model][xyz] over local + ghost atoms of the current step.
    pub forces: Vec<f64>,
    /// Each model's 9-component global virial of this rank.
    pub virials: Vec<[f64; 9]>,
    /// Per-atom force deviation of the local atoms (after reverse comm).
    pub local_sigma: Vec<f64>,
    file: Option<BufWriter<File>>,
}

impl Committee {
    pub fn new(settings: DeviationSettings, nmodels: usize) -> Self {
        Committee {
            settings,
            nmodels,
            forces: Vec::new(),
            virials: Vec::new(),
            local_sigma: Vec::new(),
            file: None,
        }
    }

    /// True on steps where DeePMD-kit would evaluate the whole committee.
    pub fn due(&self, step: i64) -> bool {
        let f = self.settings.out_freq as i64;
        self.nmodels > 1 && f > 0 && step % f == 0
    }

    pub fn reset(&mut self, nall: usize) {
        self.forces.clear();
        self.forces.resize(nall * 3 * self.nmodels, 0.0);
        self.virials.clear();
        self.virials.resize(self.nmodels, [0.0; 9]);
    }

    /// Opens the output and writes the header (called on one rank).
    pub fn open(&mut self) -> std::io::Result<()> {
        let mut f = BufWriter::new(File::create(&self.settings.out_file)?);
        writeln!(f, "{}", header(self.settings.atomic))?;
        f.flush()?;
        self.file = Some(f);
        Ok(())
    }

    /// Local statistics after the reverse communication: (max, min, sum) of
    /// σ over local atoms; σ itself stays in `local_sigma` for `atomic`.
    pub fn local_stats(&mut self, nlocal: usize) -> (f64, f64, f64) {
        self.local_sigma =
            force_deviation(&self.forces, self.nmodels, nlocal, self.settings.relative);
        let max = self.local_sigma.iter().copied().fold(0.0, f64::max);
        let min = self.local_sigma.iter().copied().fold(f64::MAX, f64::min);
        (max, min, self.local_sigma.iter().sum())
    }

    /// Writes one line from globally reduced numbers. `virials` are the
    /// committee's global virials (summed over ranks), `per_atom` the (id,
    /// σ) pairs of all atoms when `atomic`.
    pub fn write(
        &mut self,
        step: i64,
        natoms: usize,
        force: (f64, f64, f64),
        virials: &[[f64; 9]],
        per_atom: Option<(&[i64], &[f64])>,
    ) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let n = natoms.max(1) as f64;
        let scaled: Vec<[f64; 9]> = virials.iter().map(|v| v.map(|c| c / n)).collect();
        let v = virial_deviation(&scaled, self.settings.relative_v);
        let ordered = per_atom.map(|(ids, sigma)| {
            let mut pairs: Vec<(i64, f64)> =
                ids.iter().copied().zip(sigma.iter().copied()).collect();
            pairs.sort_by_key(|p| p.0);
            pairs.into_iter().map(|p| p.1).collect::<Vec<f64>>()
        });
        let f = (force.0, force.1, force.2 / n);
        writeln!(file, "{}", line(step, v, f, ordered.as_deref()))?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_scientific_matches_printf() {
        assert_eq!(c_scientific(0.0123456789, 18), "      1.234568e-02");
        assert_eq!(c_scientific(0.0, 12), "0.000000e+00");
        assert_eq!(c_scientific(-1.5e120, 14), "-1.500000e+120");
        assert_eq!(c_scientific(123.0, 0), "1.230000e+02");
    }

    #[test]
    fn header_matches_deepmd_layout() {
        let h = header(false);
        assert!(h.starts_with("#       step         max_devi_v"));
        assert_eq!(h.len(), 12 + 6 * 19);
        assert!(header(true).ends_with("      atm_devi_f(N)"));
    }

    #[test]
    fn force_deviation_of_two_models() {
        // Atom 0: models differ by (2, 0, 0) → σ = 1; atom 1 identical → 0.
        let forces = [0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let s = force_deviation(&forces, 2, 2, None);
        assert_eq!(s, vec![1.0, 0.0]);
        let r = force_deviation(&forces, 2, 1, Some(1.0));
        assert!((r[0] - 1.0 / (1.0 + 1.0)).abs() < 1e-15);
    }

    #[test]
    fn virial_deviation_rms_over_components() {
        let a = [1.0; 9];
        let mut b = [1.0; 9];
        b[0] = 3.0; // σ_0 = 1, others 0
        let (max, min, rms) = virial_deviation(&[a, b], None);
        assert_eq!((max, min), (1.0, 0.0));
        assert!((rms - (1.0f64 / 9.0).sqrt()).abs() < 1e-15);
    }
}
