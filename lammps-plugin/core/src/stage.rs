//! The `se_e2_a_chebyshev` stage of compressed se_e2_a models
//! (docs/model-contract.md §6).
//!
//! In such a model every embedding net is a Chebyshev expansion in its input,
//! so the descriptor needs the neighbours only through
//! `A = Σ_k T(y_k) e_k^T` per centre (one block of rows per neighbour-type
//! section). The graph takes `A` and returns `dE/dA`; this stage forms `A`
//! from the environments and turns `dE/dA` back into `dE/drij`. Done here in
//! one pass per neighbour, it costs a few multiply-adds per basis function;
//! as graph operators it materialised the basis of every neighbour several
//! times over, which made the embedding the largest cost of a step.

// The lane loops index several arrays with one counter; iterators would hide that.
#![allow(clippy::needless_range_loop)]

use crate::environments::Batch;
use rayon::prelude::*;
use serde_json::Value;

/// One neighbour-type section: its slots and its piecewise Chebyshev basis
/// (`pieces` equal pieces of y in [−1, 1], `terms` polynomials on each).
#[derive(Debug, Clone)]
struct Section {
    slots: (usize, usize),
    offset: usize,
    pieces: usize,
    terms: usize,
    mid: f64,
    half: f64,
}

impl Section {
    fn width(&self) -> usize {
        self.pieces * self.terms
    }

    /// The piece y falls in and the position z in [−1, 1] inside it.
    fn piece(&self, y: f64) -> (usize, f64) {
        let u = (y + 1.0) * 0.5 * self.pieces as f64;
        let p = (u.floor().max(0.0) as usize).min(self.pieces - 1);
        (p, 2.0 * (u - p as f64) - 1.0)
    }
}

#[derive(Debug, Clone)]
pub struct ChebyshevStage {
    rcut: f64,
    rcut_smth: f64,
    protection: f64,
    ylim: f64,
    /// Rows of `A` per centre (sum of the sections' pieces × terms).
    pub width: usize,
    sections: Vec<Section>,
    /// Normalisation per (centre type, section): e = (env − davg) / dstd.
    davg: Vec<[f64; 4]>,
    /// 1/dstd: the stage multiplies (a Chebyshev table is no closer than
    /// 1e-12 to the net, so the last bit of a division does not matter).
    inv_dstd: Vec<[f64; 4]>,
    max_width: usize,
}

/// Geometry of one real neighbour: the environment row and what its
/// derivative needs.
struct Env {
    env: [f64; 4],
    r: f64,
    b: f64,
    da: f64,
    db: f64,
}

impl ChebyshevStage {
    /// Reads `dprs.stage`; `sel` is the model's `dprs.sel`.
    pub fn parse(text: &str, sel: &[usize]) -> Result<ChebyshevStage, String> {
        let bad = |what: &str| {
            format!(
                "has a malformed 'dprs.stage' ({what}); re-export it with dprs-export --compress"
            )
        };
        let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        match v["kind"].as_str() {
            Some("se_e2_a_chebyshev") => {}
            other => {
                return Err(format!(
                    "has 'dprs.stage' of kind {other:?}, which this version of dprs does not \
                     know (it knows \"se_e2_a_chebyshev\"); use a newer dprs or export the \
                     model without --compress"
                ))
            }
        }
        let num = |k: &str| v[k].as_f64().ok_or_else(|| bad(k));
        let (rcut, rcut_smth, protection, ylim) = (
            num("rcut")?,
            num("rcut_smth")?,
            num("protection")?,
            num("ylim")?,
        );
        let width = v["width"].as_u64().ok_or_else(|| bad("width"))? as usize;
        let ntypes = sel.len();
        let mut sections = Vec::new();
        for s in v["sections"].as_array().ok_or_else(|| bad("sections"))? {
            let slots = s["slots"].as_array().ok_or_else(|| bad("slots"))?;
            let slot = |i: usize| slots.get(i).and_then(Value::as_u64).map(|x| x as usize);
            let sec = Section {
                slots: (
                    slot(0).ok_or_else(|| bad("slots"))?,
                    slot(1).ok_or_else(|| bad("slots"))?,
                ),
                offset: s["offset"].as_u64().ok_or_else(|| bad("offset"))? as usize,
                pieces: s["pieces"].as_u64().ok_or_else(|| bad("pieces"))? as usize,
                terms: s["terms"].as_u64().ok_or_else(|| bad("terms"))? as usize,
                mid: s["mid"].as_f64().ok_or_else(|| bad("mid"))?,
                half: s["half"].as_f64().ok_or_else(|| bad("half"))?,
            };
            if sec.slots.0 > sec.slots.1
                || sec.slots.1 > sel.iter().sum()
                || sec.pieces == 0
                || sec.terms == 0
                || sec.offset + sec.width() > width
                || sec.half <= 0.0
            {
                return Err(bad("a section outside the model's slots or basis"));
            }
            sections.push(sec);
        }
        let table = |k: &str| -> Result<Vec<[f64; 4]>, String> {
            let rows = v[k].as_array().ok_or_else(|| bad(k))?;
            if rows.len() != ntypes {
                return Err(bad(k));
            }
            let mut out = Vec::with_capacity(ntypes * sections.len());
            for row in rows {
                let per_sec = row.as_array().ok_or_else(|| bad(k))?;
                if per_sec.len() != sections.len() {
                    return Err(bad(k));
                }
                for four in per_sec {
                    let f = four.as_array().ok_or_else(|| bad(k))?;
                    let mut x = [0.0; 4];
                    if f.len() != 4 {
                        return Err(bad(k));
                    }
                    for (d, s) in x.iter_mut().zip(f) {
                        *d = s.as_f64().ok_or_else(|| bad(k))?;
                    }
                    out.push(x);
                }
            }
            Ok(out)
        };
        let davg = table("davg")?;
        let dstd = table("dstd")?;
        if dstd.iter().flatten().any(|&s| s == 0.0 || !s.is_finite()) {
            return Err(bad("a zero or non-finite dstd"));
        }
        if !(rcut_smth < rcut && rcut > 0.0 && ylim > 0.0 && ylim <= 1.0) {
            return Err(bad("rcut_smth, rcut or ylim out of range"));
        }
        let max_width = sections.iter().map(Section::width).max().unwrap_or(1);
        let inv_dstd = dstd.iter().map(|d| d.map(|x| 1.0 / x)).collect();
        Ok(ChebyshevStage {
            rcut,
            rcut_smth,
            protection,
            ylim,
            width,
            sections,
            davg,
            inv_dstd,
            max_width,
        })
    }

    fn env(&self, d: [f64; 3]) -> Env {
        let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let inv_w = 1.0 / (self.rcut - self.rcut_smth);
        let u = (r.clamp(self.rcut_smth, self.rcut) - self.rcut_smth) * inv_w;
        let u2 = u * u;
        let sw = u2 * u * (-6.0 * u2 + 15.0 * u - 10.0) + 1.0;
        let omu = 1.0 - u;
        let dsw = u2 * (omu * omu) * (-30.0 * inv_w);
        let inv = 1.0 / (r + self.protection);
        let inv2 = inv * inv;
        let (a, b) = (sw * inv, sw * inv2);
        Env {
            env: [a, d[0] * b, d[1] * b, d[2] * b],
            r,
            b,
            da: dsw * inv - sw * inv2,
            db: dsw * inv2 - 2.0 * sw * (inv2 * inv),
        }
    }

    /// Normalised row e and the basis argument y (clipped), and whether y was
    /// inside the table.
    fn normalise(&self, env: &[f64; 4], t: usize, s: usize) -> ([f64; 4], f64, bool) {
        let (avg, inv) = (
            &self.davg[t * self.sections.len() + s],
            &self.inv_dstd[t * self.sections.len() + s],
        );
        let e = [
            (env[0] - avg[0]) * inv[0],
            (env[1] - avg[1]) * inv[1],
            (env[2] - avg[2]) * inv[2],
            (env[3] - avg[3]) * inv[3],
        ];
        let sec = &self.sections[s];
        let y = (e[0] - sec.mid) * (1.0 / sec.half);
        (e, y.clamp(-self.ylim, self.ylim), y.abs() < self.ylim)
    }

    fn check(&self, batch: &Batch) -> Result<(), String> {
        let need = self.sections.iter().map(|s| s.slots.1).max().unwrap_or(0);
        if batch.nnei < need {
            return Err(format!(
                "a chunk has {} slots per atom, the model's stage needs {need}",
                batch.nnei
            ));
        }
        Ok(())
    }

    /// `A` of every centre of the batch, [nloc, 4, width].
    pub fn forward(&self, batch: &Batch, a: &mut Vec<f64>) -> Result<(), String> {
        self.check(batch)?;
        let w = self.width;
        a.clear();
        a.resize(batch.nloc * 4 * w, 0.0);
        // atoms in parallel on the caller's pool (the pair style's threads)
        a.par_chunks_exact_mut(4 * w).enumerate().for_each_init(
            || Scratch::new(self.max_width),
            |sc, (i, ai)| self.forward_one(batch, i, ai, sc),
        );
        Ok(())
    }

    #[inline(never)]
    fn forward_one(&self, batch: &Batch, i: usize, ai: &mut [f64], sc: &mut Scratch) {
        let (nnei, w) = (batch.nnei, self.width);
        let ti = batch.atype[i] as usize;
        for (s, sec) in self.sections.iter().enumerate() {
            let d = sec.terms;
            let per_piece = 4 * d * L;
            let mut padding = 0usize;
            let mut block = Block::default();
            // neighbours come sorted by distance, so the pieces change rarely:
            // a block holds neighbours of one piece
            let flush = |block: &mut Block, sc: &mut Scratch| {
                if block.n > 0 {
                    let p = block.piece;
                    contract_block(
                        &mut sc.acc[p * per_piece..(p + 1) * per_piece],
                        d,
                        &block.y,
                        &block.e,
                    );
                    sc.touched[p] = true;
                    *block = Block::default();
                }
            };
            for k in sec.slots.0..sec.slots.1 {
                let slot = i * nnei + k;
                if batch.nbr_type[slot] < 0 {
                    padding += 1;
                    continue;
                }
                let r = &batch.rij[3 * slot..3 * slot + 3];
                let g = self.env([r[0], r[1], r[2]]);
                let (e, y, _) = self.normalise(&g.env, ti, s);
                let (p, z) = sec.piece(y);
                if block.n == L || (block.n > 0 && block.piece != p) {
                    flush(&mut block, sc);
                }
                block.piece = p;
                block.push(z, &e);
            }
            if padding > 0 {
                // an empty slot's row is (0 − davg)/dstd: the same for all of them
                let (e, y, _) = self.normalise(&[0.0; 4], ti, s);
                let (p, z) = sec.piece(y);
                if block.n == L || (block.n > 0 && block.piece != p) {
                    flush(&mut block, sc);
                }
                block.piece = p;
                block.push(z, &e.map(|x| x * padding as f64));
            }
            flush(&mut block, sc);
            for p in 0..sec.pieces {
                if !std::mem::take(&mut sc.touched[p]) {
                    continue;
                }
                let acc = &mut sc.acc[p * per_piece..(p + 1) * per_piece];
                for c in 0..4 {
                    let row = c * w + sec.offset + p * d;
                    for (q, x) in ai[row..row + d].iter_mut().enumerate() {
                        let lanes = &mut acc[(c * d + q) * L..(c * d + q + 1) * L];
                        *x = lanes.iter().sum();
                        lanes.fill(0.0);
                    }
                }
            }
        }
    }

    /// dE/drij [nloc, nnei, 3] from dE/dA [nloc, 4, width]; zero on padding.
    pub fn backward(&self, batch: &Batch, da: &[f64], out: &mut Vec<f64>) -> Result<(), String> {
        self.check(batch)?;
        let (nnei, w) = (batch.nnei, self.width);
        if da.len() != batch.nloc * 4 * w {
            return Err(format!(
                "dE_dcheb_a has {} values, expected {} × 4 × {w}",
                da.len(),
                batch.nloc
            ));
        }
        out.clear();
        out.resize(batch.nloc * nnei * 3, 0.0);
        out.par_chunks_exact_mut(nnei * 3)
            .zip(da.par_chunks_exact(4 * w))
            .enumerate()
            .for_each_init(
                || Scratch::new(self.max_width),
                |sc, (i, (oi, gi))| self.backward_one(batch, i, gi, oi, sc),
            );
        Ok(())
    }

    #[inline(never)]
    fn backward_one(&self, batch: &Batch, i: usize, gi: &[f64], oi: &mut [f64], sc: &mut Scratch) {
        let (nnei, w) = (batch.nnei, self.width);
        let ti = batch.atype[i] as usize;
        for (s, sec) in self.sections.iter().enumerate() {
            let d = sec.terms;
            // dE/dA of the section as [row][4], the layout the lanes read
            let gq = &mut sc.acc[..4 * sec.width()];
            for c in 0..4 {
                for row in 0..sec.width() {
                    gq[4 * row + c] = gi[c * w + sec.offset + row];
                }
            }
            let gq = &sc.acc[..4 * sec.width()];
            let inv = self.inv_dstd[ti * self.sections.len() + s];
            // dz/dy = pieces, dy/dx = 1/half
            let dzdx = sec.pieces as f64 / sec.half;
            let mut block = Block::default();
            let mut slots = [0usize; L];
            let mut geo: [Option<Env>; L] = Default::default();
            let mut inside = [false; L];
            let mut flush = |block: &mut Block,
                             slots: &[usize; L],
                             geo: &[Option<Env>; L],
                             inside: &[bool; L]| {
                if block.n == 0 {
                    return;
                }
                let p = block.piece;
                let (de, wz) = gradient_block(&gq[4 * p * d..4 * (p + 1) * d], d, &block.y);
                for l in 0..block.n {
                    let Some(g) = &geo[l] else { continue };
                    let mut dx = [de[0][l], de[1][l], de[2][l], de[3][l]];
                    if inside[l] {
                        // below rmin y is clipped and the energy is flat in r
                        let through: f64 = (0..4).map(|c| block.e[c][l] * wz[c][l]).sum();
                        dx[0] += through * dzdx;
                    }
                    let denv: [f64; 4] = std::array::from_fn(|c| dx[c] * inv[c]);
                    let kk = slots[l];
                    let r = &batch.rij[3 * (i * nnei + kk)..3 * (i * nnei + kk) + 3];
                    let dotr = denv[1] * r[0] + denv[2] * r[1] + denv[3] * r[2];
                    let coef = (denv[0] * g.da + dotr * g.db) * (1.0 / g.r);
                    let o = &mut oi[3 * kk..3 * kk + 3];
                    for x in 0..3 {
                        o[x] = denv[x + 1] * g.b + r[x] * coef;
                    }
                }
                *block = Block::default();
            };
            for k in sec.slots.0..sec.slots.1 {
                let slot = i * nnei + k;
                if batch.nbr_type[slot] < 0 {
                    continue;
                }
                let r = &batch.rij[3 * slot..3 * slot + 3];
                let g = self.env([r[0], r[1], r[2]]);
                let (e, y, ins) = self.normalise(&g.env, ti, s);
                let (p, z) = sec.piece(y);
                if block.n == L || (block.n > 0 && block.piece != p) {
                    flush(&mut block, &slots, &geo, &inside);
                }
                slots[block.n] = k;
                inside[block.n] = ins;
                geo[block.n] = Some(g);
                block.piece = p;
                block.push(z, &e);
            }
            flush(&mut block, &slots, &geo, &inside);
        }
    }
}

/// Neighbours handled together: the recurrences run across lanes, so eight
/// independent chains hide each other's latency and vectorise.
const L: usize = 8;

/// Up to L neighbours on one piece: their positions z in it and rows e.
#[derive(Default)]
struct Block {
    n: usize,
    piece: usize,
    y: [f64; L],
    e: [[f64; L]; 4],
}

impl Block {
    fn push(&mut self, y: f64, e: &[f64; 4]) {
        self.y[self.n] = y;
        for c in 0..4 {
            self.e[c][self.n] = e[c];
        }
        self.n += 1;
    }
}

struct Scratch {
    /// Per-lane partial sums of A, [piece][4][terms][L] (forward, zero between
    /// uses); dE/dA of a section as [row][4] (backward).
    acc: Vec<f64>,
    /// Pieces of the current section with partial sums in `acc`.
    touched: Vec<bool>,
}

impl Scratch {
    fn new(max_width: usize) -> Scratch {
        Scratch {
            acc: vec![0.0; 4 * max_width * L],
            touched: vec![false; max_width],
        }
    }
}

/// acc[c][q][l] += T_q(y_l) e_c,l for q < degree. Unused lanes carry e = 0.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn contract_block(acc: &mut [f64], degree: usize, y: &[f64; L], e: &[[f64; L]; 4]) {
    let mut t_prev = [1.0; L];
    let mut t = *y;
    let two_y: [f64; L] = std::array::from_fn(|l| 2.0 * y[l]);
    for q in 0..degree {
        let tq: [f64; L] = match q {
            0 => [1.0; L],
            1 => *y,
            _ => {
                let next: [f64; L] = std::array::from_fn(|l| two_y[l] * t[l] - t_prev[l]);
                t_prev = t;
                t = next;
                next
            }
        };
        for c in 0..4 {
            let lanes = &mut acc[(c * degree + q) * L..(c * degree + q + 1) * L];
            for l in 0..L {
                lanes[l] += tq[l] * e[c][l];
            }
        }
    }
}

/// Per lane: Σ_q T_q(y) G[q][c] and Σ_q T'_q(y) G[q][c] for the 4 columns.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+fma",
    "x86_64+avx2+fma",
    "aarch64+neon"
))]
fn gradient_block(g: &[f64], degree: usize, y: &[f64; L]) -> ([[f64; L]; 4], [[f64; L]; 4]) {
    let mut de = [[0.0; L]; 4];
    let mut dy = [[0.0; L]; 4];
    let two_y: [f64; L] = std::array::from_fn(|l| 2.0 * y[l]);
    // T_{q-2}, T_{q-1}; U_{q-2}, U_{q-1} (dT_q/dy = q U_{q-1})
    let (mut t2, mut t1) = ([1.0; L], *y);
    let (mut u2, mut u1) = ([0.0; L], [1.0; L]);
    for q in 0..degree {
        let (tq, dtq): ([f64; L], [f64; L]) = match q {
            0 => ([1.0; L], [0.0; L]),
            1 => (*y, [1.0; L]),
            _ => {
                let tn: [f64; L] = std::array::from_fn(|l| two_y[l] * t1[l] - t2[l]);
                let un: [f64; L] = std::array::from_fn(|l| two_y[l] * u1[l] - u2[l]);
                t2 = t1;
                t1 = tn;
                u2 = u1;
                u1 = un;
                (tn, std::array::from_fn(|l| q as f64 * un[l]))
            }
        };
        for c in 0..4 {
            let gqc = g[4 * q + c];
            for l in 0..L {
                de[c][l] += tq[l] * gqc;
                dy[c][l] += dtq[l] * gqc;
            }
        }
    }
    (de, dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_match_the_trigonometric_definition() {
        let y = [-0.97, -0.3, 0.0, 0.41, 0.999, 0.5, -0.5, 0.77];
        let degree = 12;
        for q in 0..degree {
            // G picks T_q into column 1: de[1] = T_q(y), dy[1] = T'_q(y)
            let mut g = vec![0.0; 4 * degree];
            g[4 * q + 1] = 1.0;
            let (de, dy) = gradient_block(&g, degree, &y);
            // contract_block with e = (0, 1, 0, 0) leaves T_q(y) in acc[1][q][l]
            let mut acc = vec![0.0; 4 * degree * L];
            let mut e = [[0.0; L]; 4];
            e[1] = [1.0; L];
            contract_block(&mut acc, degree, &y, &e);
            for l in 0..L {
                let th = f64::acos(y[l]);
                let want = (q as f64 * th).cos();
                let dwant = q as f64 * (q as f64 * th).sin() / th.sin();
                assert!((de[1][l] - want).abs() < 1e-12, "T_{q}({})", y[l]);
                assert!(
                    (acc[(degree + q) * L + l] - want).abs() < 1e-12,
                    "A T_{q}({})",
                    y[l]
                );
                assert!(
                    (dy[1][l] - dwant).abs() < 1e-10 * (1.0 + dwant.abs()),
                    "T'_{q}"
                );
                assert_eq!(de[0][l], 0.0);
            }
        }
    }

    #[test]
    fn pieces_cover_y_and_z_spans_each() {
        let sec = Section {
            slots: (0, 1),
            offset: 0,
            pieces: 4,
            terms: 16,
            mid: 0.0,
            half: 1.0,
        };
        for (y, p, z) in [
            (-1.0, 0, -1.0),
            (-0.75, 0, 0.0),
            (-0.5, 1, -1.0),
            (0.999, 3, 0.996),
        ] {
            let (gp, gz) = sec.piece(y);
            assert_eq!(gp, p, "{y}");
            assert!((gz - z).abs() < 1e-12, "{y}: {gz}");
        }
        // the last piece is closed at y = 1
        assert_eq!(sec.piece(1.0), (3, 1.0));
    }

    #[test]
    fn unknown_stage_is_refused_with_the_fix() {
        let err = ChebyshevStage::parse(r#"{"kind": "se_e3_table"}"#, &[4]).unwrap_err();
        assert!(
            err.contains("se_e3_table") && err.contains("without --compress"),
            "{err}"
        );
        let err = ChebyshevStage::parse("{", &[4]).unwrap_err();
        assert!(err.contains("malformed"), "{err}");
    }
}
