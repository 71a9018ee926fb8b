//! From the model's dE/drij to forces, energies and virials.
//!
//! With g = dE/drij for the pair (i, j), rij = r_j − r_i:
//! F_i += g, F_j −= g (j may be a ghost; LAMMPS reverse-communicates it), and
//! the pair's virial is w = −rij ⊗ g (= Σ r ⊗ F over the two atoms). The
//! per-atom virial `vatom` gives half of w to each atom (symmetrised, LAMMPS
//! order xx yy zz xy xz yz); the centroid virial `cvatom` gives all of w to
//! the neighbour j, whose position the centre's energy depends on (9
//! components, xx yy zz xy xz yz yx zx zy). Both sum to the global virial.

use crate::environments::Batch;
use crate::model::ModelOutput;

/// Where LAMMPS wants the results: arrays over local + ghost atoms.
pub struct Outputs<'a> {
    /// Forces, 3 per atom; accumulated into.
    pub f: &'a mut [f64],
    pub eatom: Option<&'a mut [f64]>,
    /// 6 per atom.
    pub vatom: Option<&'a mut [f64]>,
    /// 9 per atom.
    pub cvatom: Option<&'a mut [f64]>,
}

/// Global sums of one step.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Totals {
    pub energy: f64,
    /// xx yy zz xy xz yz, eV (LAMMPS divides by the volume).
    pub virial: [f64; 6],
    /// yx zx zy: equal to xy xz yz up to round-off for a rotation-invariant
    /// model; kept for the 9-component virial of the model deviation.
    pub virial_lower: [f64; 3],
}

impl Totals {
    /// xx yy zz xy xz yz yx zx zy.
    pub fn virial9(&self) -> [f64; 9] {
        let v = self.virial;
        let l = self.virial_lower;
        [v[0], v[1], v[2], v[3], v[4], v[5], l[0], l[1], l[2]]
    }
}

pub fn accumulate(batch: &Batch, model: &ModelOutput, out: &mut Outputs, totals: &mut Totals) {
    let nnei = batch.nnei;
    for (row, &i) in batch.centre.iter().enumerate() {
        let e = model.atom_energy[row];
        totals.energy += e;
        if let Some(eatom) = out.eatom.as_deref_mut() {
            eatom[i] += e;
        }
        for slot in row * nnei..(row + 1) * nnei {
            let j = batch.slot_atom[slot];
            if j < 0 {
                continue;
            }
            let j = j as usize;
            let g = &model.de_drij[3 * slot..3 * slot + 3];
            let r = &batch.rij[3 * slot..3 * slot + 3];
            for (d, gd) in g.iter().enumerate() {
                out.f[3 * i + d] += gd;
                out.f[3 * j + d] -= gd;
            }
            let w = [
                -r[0] * g[0],
                -r[1] * g[1],
                -r[2] * g[2],
                -r[0] * g[1],
                -r[0] * g[2],
                -r[1] * g[2],
            ];
            for (t, wk) in totals.virial.iter_mut().zip(w) {
                *t += wk;
            }
            let lower = [-r[1] * g[0], -r[2] * g[0], -r[2] * g[1]];
            for (t, wk) in totals.virial_lower.iter_mut().zip(lower) {
                *t += wk;
            }
            if let Some(vatom) = out.vatom.as_deref_mut() {
                let wsym = [
                    w[0],
                    w[1],
                    w[2],
                    -0.5 * (r[0] * g[1] + r[1] * g[0]),
                    -0.5 * (r[0] * g[2] + r[2] * g[0]),
                    -0.5 * (r[1] * g[2] + r[2] * g[1]),
                ];
                for k in 0..6 {
                    vatom[6 * i + k] += 0.5 * wsym[k];
                    vatom[6 * j + k] += 0.5 * wsym[k];
                }
            }
            if let Some(cvatom) = out.cvatom.as_deref_mut() {
                for (k, wk) in w.iter().chain(lower.iter()).enumerate() {
                    cvatom[9 * j + k] += wk;
                }
            }
        }
    }
}
