//! g(r) peak positions and coordination numbers on ideal lattices.

mod common;

use dprs_analysis::analysis::rdf::{Rdf, RdfAccumulator};
use dprs_analysis::{Cell, Frame};
use std::sync::Arc;

/// Replicates a basis (fractional, per cell; with types) n×n×n times in `cell`.
fn lattice(cell: Cell, n: [usize; 3], basis: &[([f64; 3], u32)]) -> Frame {
    let mut pos = Vec::new();
    let mut types = Vec::new();
    for i in 0..n[0] {
        for j in 0..n[1] {
            for k in 0..n[2] {
                for (b, t) in basis {
                    let s = [
                        (i as f64 + b[0]) / n[0] as f64,
                        (j as f64 + b[1]) / n[1] as f64,
                        (k as f64 + b[2]) / n[2] as f64,
                    ];
                    pos.push(cell.to_cart(s));
                    types.push(*t);
                }
            }
        }
    }
    Frame {
        index: 0,
        step: 0,
        cell,
        ids: Arc::new((1..=pos.len() as u64).collect()),
        types: Arc::new(types),
        pos,
        vel: None,
    }
}

fn rdf_of(f: &Frame, rmax: f64, bins: usize) -> Rdf {
    let mut acc = RdfAccumulator::new(&f.types, rmax, bins);
    acc.add(f).unwrap();
    acc.add(f).unwrap();
    acc.finish().unwrap()
}

fn check(rdf: &Rdf, pair: &str, r1: f64, z: f64) {
    let p = rdf.pairs.iter().find(|p| p.name == pair).unwrap();
    let peak = p.first_peak.unwrap();
    // An ideal lattice puts the whole shell in the bin holding r1.
    assert!(
        (peak - r1).abs() <= 0.5 * rdf.dr + 1e-12,
        "{pair}: peak {peak} vs {r1}"
    );
    let cn = p.first_shell.unwrap();
    assert!((cn - z).abs() < 1e-9, "{pair}: coordination {cn} vs {z}");
}

#[test]
fn simple_cubic_and_fcc() {
    let a = 3.1;
    let sc = lattice(
        Cell::orthogonal([0.0; 3], [6.0 * a; 3]),
        [6; 3],
        &[([0.0; 3], 1)],
    );
    let r = rdf_of(&sc, 2.9 * a, 290);
    check(&r, "1-1", a, 6.0);
    check(&r, "all", a, 6.0);
    // g → 1 on average over a shell-rich range: the count at r is ρ·4πr³/3 on average.
    let fcc = lattice(
        Cell::orthogonal([1.0; 3], [1.0 + 5.0 * a; 3]),
        [5; 3],
        &[
            ([0.0; 3], 1),
            ([0.5, 0.5, 0.0], 1),
            ([0.5, 0.0, 0.5], 1),
            ([0.0, 0.5, 0.5], 1),
        ],
    );
    check(&rdf_of(&fcc, 2.0 * a, 400), "1-1", a / 2f64.sqrt(), 12.0);
}

#[test]
fn cesium_chloride_partials() {
    let a = 4.0;
    let f = lattice(
        Cell::orthogonal([0.0; 3], [5.0 * a; 3]),
        [5; 3],
        &[([0.0; 3], 1), ([0.5; 3], 2)],
    );
    let r = rdf_of(&f, 2.2 * a, 440);
    check(&r, "1-2", 3f64.sqrt() / 2.0 * a, 8.0);
    check(&r, "2-1", 3f64.sqrt() / 2.0 * a, 8.0);
    check(&r, "1-1", a, 6.0);
    check(&r, "2-2", a, 6.0);
}

#[test]
fn triclinic_hexagonal_and_rhombohedral_fcc() {
    // Simple hexagonal: 6 in-plane neighbours at a, the 2 above and below at c.
    let (a, c) = (3.0, 5.0);
    let n = 6.0;
    let cell = Cell::triclinic(
        [0.0; 3],
        [n * a, n * a * 3f64.sqrt() / 2.0, 4.0 * c],
        [n * a / 2.0, 0.0, 0.0],
    );
    let f = lattice(cell, [6, 6, 4], &[([0.0; 3], 1)]);
    check(&rdf_of(&f, 1.45 * a, 290), "1-1", a, 6.0);
    // fcc in its primitive rhombohedral cell (a triclinic box with all three tilts).
    let a = 3.6;
    let p = a / 2f64.sqrt();
    let (ax, bx, by) = (p, p / 2.0, p * 3f64.sqrt() / 2.0);
    let (cx, cy) = (p / 2.0, p / (2.0 * 3f64.sqrt()));
    let cz = (p * p - cx * cx - cy * cy).sqrt();
    let m = 8.0;
    let cell = Cell::triclinic([0.0; 3], [m * ax, m * by, m * cz], [m * bx, m * cx, m * cy]);
    let f = lattice(cell, [8, 8, 8], &[([0.0; 3], 1)]);
    check(&rdf_of(&f, 1.3 * p, 260), "1-1", p, 12.0);
}

#[test]
fn rmax_beyond_half_the_box_is_refused() {
    let f = lattice(
        Cell::orthogonal([0.0; 3], [9.0; 3]),
        [3; 3],
        &[([0.0; 3], 1)],
    );
    let mut acc = RdfAccumulator::new(&f.types, 5.0, 50);
    let e = acc.add(&f).unwrap_err().to_string();
    assert!(e.contains("half the narrowest box width"), "{e}");
}
