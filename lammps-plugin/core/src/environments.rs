//! Padded local environments of one chunk of centre atoms: the model inputs
//! `rij`, `nbr_type`, `atype`, plus which atom sits in each slot so that the
//! gradient can be scattered back as forces.

use crate::contract::NeighbourLayout;
use crate::model::Precision;
use crate::typemap::TypeMap;
use rayon::prelude::*;

/// LAMMPS keeps special-bond flags in the top bits of neighbour indices.
pub const NEIGHMASK: i32 = 0x1FFF_FFFF;

/// LAMMPS atom ids (`tag`) of local + ghost atoms, as wide as LAMMPS's
/// `tagint`; used only to name atoms in messages.
#[derive(Clone, Copy, Debug, Default)]
pub enum AtomIds<'a> {
    /// Not passed: atoms are named by their local index.
    #[default]
    Unknown,
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl AtomIds<'_> {
    /// The LAMMPS id of atom `i`, if known.
    pub fn get(&self, i: usize) -> Option<i64> {
        match self {
            AtomIds::Unknown => None,
            AtomIds::I32(t) => t.get(i).map(|&v| i64::from(v)),
            AtomIds::I64(t) => t.get(i).copied(),
        }
    }

    /// "id 17", or "local index 3" when ids were not passed.
    pub fn describe(&self, i: usize) -> String {
        match self.get(i) {
            Some(id) => id.to_string(),
            None => format!("(local index {i})"),
        }
    }
}

/// Positions, types and the full neighbour list of one rank (local + ghost
/// atoms), as LAMMPS holds them.
#[derive(Clone, Copy)]
pub struct Neighbourhood<'a> {
    /// Positions, 3 per atom, local atoms first then ghosts.
    pub x: &'a [f64],
    /// LAMMPS atom types (1-based), one per atom.
    pub types: &'a [i32],
    /// Centre atoms (LAMMPS `ilist[0..inum]`).
    pub centres: &'a [i32],
    /// Neighbours of each centre, same order as `centres`.
    pub neighbours: &'a [&'a [i32]],
    /// Atom ids, for messages.
    pub ids: AtomIds<'a>,
}

#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub nloc: usize,
    pub nnei: usize,
    /// r_j − r_i per slot, [nloc, nnei, 3], zero in padding; always f64 so
    /// that virials use the exact geometry.
    pub rij: Vec<f64>,
    /// The same rounded to f32, filled only for f32 models.
    pub rij_f32: Vec<f32>,
    pub nbr_type: Vec<i64>,
    pub atype: Vec<i64>,
    /// Atom index of each row.
    pub centre: Vec<usize>,
    /// Atom index of each slot, −1 for padding.
    pub slot_atom: Vec<i32>,
    /// Neighbours inside rcut that did not fit their type_sel section.
    pub dropped: usize,
    /// Centres that lost at least one neighbour that way.
    pub centres_dropping: usize,
}

/// A neighbour inside the cutoff.
#[derive(Clone, Copy)]
struct Near {
    atom: i32,
    r2: f64,
    mtype: usize,
}

/// Fills `batch` with the environments of `chunk` (indices into
/// `nb.centres`). Centres whose type is mapped to NULL get no row.
pub fn build(
    batch: &mut Batch,
    nb: &Neighbourhood,
    chunk: std::ops::Range<usize>,
    typemap: &TypeMap,
    rcut: f64,
    layout: &NeighbourLayout,
    precision: Precision,
) {
    let rc2 = rcut * rcut;
    let rows: Vec<(usize, usize, Vec<Near>, usize)> = chunk
        .into_par_iter()
        .filter_map(|ii| {
            let i = nb.centres[ii] as usize;
            let ti = typemap.model_type(nb.types[i])?;
            let xi = &nb.x[3 * i..3 * i + 3];
            let mut near: Vec<Near> = nb.neighbours[ii]
                .iter()
                .filter_map(|&jraw| {
                    let j = (jraw & NEIGHMASK) as usize;
                    let mtype = typemap.model_type(nb.types[j])?;
                    let d = [
                        nb.x[3 * j] - xi[0],
                        nb.x[3 * j + 1] - xi[1],
                        nb.x[3 * j + 2] - xi[2],
                    ];
                    let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                    (r2 < rc2).then_some(Near {
                        atom: j as i32,
                        r2,
                        mtype,
                    })
                })
                .collect();
            let dropped = match layout {
                NeighbourLayout::Any { cap: None } => 0,
                NeighbourLayout::Any { cap: Some(cap) } => keep_nearest(&mut near, *cap),
                NeighbourLayout::TypeSel { sel } => keep_nearest_per_type(&mut near, sel),
            };
            Some((i, ti, near, dropped))
        })
        .collect();

    let nloc = rows.len();
    let nnei = match layout {
        // Width 1 at least: some runtimes reject empty dimensions.
        NeighbourLayout::Any { .. } => rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(1),
        NeighbourLayout::TypeSel { sel } => sel.iter().sum(),
    };
    let offsets = layout.section_offsets();
    batch.nloc = nloc;
    batch.nnei = nnei;
    reset(&mut batch.rij, nloc * nnei * 3, 0.0);
    reset(&mut batch.nbr_type, nloc * nnei, -1);
    reset(&mut batch.slot_atom, nloc * nnei, -1);
    batch.atype.clear();
    batch.centre.clear();
    batch.dropped = 0;
    batch.centres_dropping = 0;
    let mut fill = vec![0usize; offsets.len()];
    for (row, (i, ti, near, dropped)) in rows.iter().enumerate() {
        batch.atype.push(*ti as i64);
        batch.centre.push(*i);
        batch.dropped += dropped;
        batch.centres_dropping += usize::from(*dropped > 0);
        fill.iter_mut().for_each(|f| *f = 0);
        for (k, n) in near.iter().enumerate() {
            let slot = if offsets.is_empty() {
                k
            } else {
                let s = offsets[n.mtype] + fill[n.mtype];
                fill[n.mtype] += 1;
                s
            };
            let at = row * nnei + slot;
            let j = n.atom as usize;
            for d in 0..3 {
                batch.rij[3 * at + d] = nb.x[3 * j + d] - nb.x[3 * i + d];
            }
            batch.nbr_type[at] = n.mtype as i64;
            batch.slot_atom[at] = n.atom;
        }
    }
    batch.rij_f32.clear();
    if precision == Precision::F32 {
        batch.rij_f32.extend(batch.rij.iter().map(|&v| v as f32));
    }
}

/// DeePMD's mixed-type neighbour list (se_atten): the nearest `cap` of any
/// type, ties broken by atom index; returns how many were left out.
fn keep_nearest(near: &mut Vec<Near>, cap: usize) -> usize {
    if near.len() <= cap {
        return 0;
    }
    near.sort_unstable_by(|a, b| a.r2.total_cmp(&b.r2).then(a.atom.cmp(&b.atom)));
    let before = near.len();
    near.truncate(cap);
    before - cap
}

/// DeePMD's layout: per type, nearest first, at most `sel[t]`; ties broken
/// by atom index so that the choice is deterministic. Returns how many were
/// dropped. (The key is unique per slot — an atom index names one image — so
/// an unstable sort gives the same order, without a stable sort's scratch.)
fn keep_nearest_per_type(near: &mut Vec<Near>, sel: &[usize]) -> usize {
    near.sort_unstable_by(|a, b| {
        a.mtype
            .cmp(&b.mtype)
            .then(a.r2.total_cmp(&b.r2))
            .then(a.atom.cmp(&b.atom))
    });
    let mut count = vec![0usize; sel.len()];
    let before = near.len();
    near.retain(|n| {
        count[n.mtype] += 1;
        count[n.mtype] <= sel[n.mtype]
    });
    before - near.len()
}

fn reset<T: Clone>(v: &mut Vec<T>, len: usize, value: T) {
    v.clear();
    v.resize(len, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Centre 0 at the origin with neighbours at distances 1..=4 along x,
    /// alternating types; atom 5 is beyond the cutoff.
    fn line() -> (Vec<f64>, Vec<i32>) {
        let mut x = vec![0.0; 3];
        let mut t = vec![1];
        for k in 1..=5 {
            x.extend_from_slice(&[k as f64, 0.0, 0.0]);
            t.push(if k % 2 == 0 { 1 } else { 2 });
        }
        (x, t)
    }

    fn typemap() -> TypeMap {
        TypeMap::from_pair_coeff(&["*", "*", "A", "B"], 2, &["A".into(), "B".into()]).unwrap()
    }

    #[test]
    fn any_layout_keeps_order_and_drops_beyond_cutoff() {
        let (x, t) = line();
        let neigh: Vec<i32> = vec![4, 1, 5, 3, 2];
        let lists = [&neigh[..]];
        let nb = Neighbourhood {
            x: &x,
            types: &t,
            centres: &[0],
            neighbours: &lists,
            ids: AtomIds::Unknown,
        };
        let mut b = Batch::default();
        build(
            &mut b,
            &nb,
            0..1,
            &typemap(),
            4.5,
            &NeighbourLayout::Any { cap: None },
            Precision::F64,
        );
        assert_eq!((b.nloc, b.nnei), (1, 4));
        assert_eq!(b.slot_atom, vec![4, 1, 3, 2]);
        assert_eq!(b.nbr_type, vec![0, 1, 1, 0]);
        assert_eq!(&b.rij[0..3], &[4.0, 0.0, 0.0]);
        assert_eq!(b.atype, vec![0]);
    }

    #[test]
    fn any_layout_with_a_cap_keeps_the_nearest_of_any_type() {
        let (x, t) = line();
        let neigh: Vec<i32> = vec![4, 1, 5, 3, 2];
        let lists = [&neigh[..]];
        let nb = Neighbourhood {
            x: &x,
            types: &t,
            centres: &[0],
            neighbours: &lists,
            ids: AtomIds::Unknown,
        };
        let mut b = Batch::default();
        let layout = NeighbourLayout::Any { cap: Some(3) };
        build(&mut b, &nb, 0..1, &typemap(), 10.0, &layout, Precision::F64);
        // atoms 1..5 sit at distances 1..5: the three nearest stay, by distance
        assert_eq!((b.nloc, b.nnei), (1, 3));
        assert_eq!(b.slot_atom, vec![1, 2, 3]);
        assert_eq!((b.dropped, b.centres_dropping), (2, 1));
        // a cap above the count changes nothing
        let layout = NeighbourLayout::Any { cap: Some(5) };
        build(&mut b, &nb, 0..1, &typemap(), 10.0, &layout, Precision::F64);
        assert_eq!(b.slot_atom, vec![4, 1, 5, 3, 2]);
        assert_eq!((b.dropped, b.centres_dropping), (0, 0));
    }

    #[test]
    fn type_sel_sorts_sections_and_counts_overflow() {
        let (x, t) = line();
        let neigh: Vec<i32> = vec![4, 1, 5, 3, 2];
        let lists = [&neigh[..]];
        let nb = Neighbourhood {
            x: &x,
            types: &t,
            centres: &[0],
            neighbours: &lists,
            ids: AtomIds::Unknown,
        };
        let layout = NeighbourLayout::TypeSel { sel: vec![1, 3] };
        let mut b = Batch::default();
        build(&mut b, &nb, 0..1, &typemap(), 10.0, &layout, Precision::F32);
        assert_eq!(b.nnei, 4);
        // Type A (atoms 2, 4): only the nearest fits; type B (1, 3, 5) all fit.
        assert_eq!(b.slot_atom, vec![2, 1, 3, 5]);
        assert_eq!(b.nbr_type, vec![0, 1, 1, 1]);
        assert_eq!((b.dropped, b.centres_dropping), (1, 1));
        assert_eq!(b.rij_f32.len(), 12);
    }

    #[test]
    fn null_types_are_neither_centres_nor_neighbours() {
        let (x, t) = line();
        let tm = TypeMap::from_pair_coeff(&["*", "*", "A", "NULL"], 2, &["A".into()]).unwrap();
        let all: Vec<i32> = (1..=5).collect();
        let none: Vec<i32> = vec![];
        let lists = [&all[..], &none[..]];
        let nb = Neighbourhood {
            x: &x,
            types: &t,
            centres: &[0, 1],
            neighbours: &lists,
            ids: AtomIds::Unknown,
        };
        let mut b = Batch::default();
        build(
            &mut b,
            &nb,
            0..2,
            &tm,
            10.0,
            &NeighbourLayout::Any { cap: None },
            Precision::F64,
        );
        assert_eq!(b.nloc, 1, "atom 1 has a NULL type");
        assert_eq!(b.slot_atom, vec![2, 4]);
    }
}
