//! A simple-cubic crystal of Langevin oscillators in which chains of atoms
//! are made to hop at known times: whole lattice lines sliding by ±a, closed
//! rings, and open chains that turn (L) into a vacancy. The truth of every
//! hop is kept so that flux counts and chain detection can be checked
//! exactly.

use super::{propagator, step, Rng, Traj};
use dprs_analysis::Cell;
use std::collections::HashMap;

/// A hop from one lattice site to another (unwrapped site indices).
type SiteMove = ([i64; 3], [i64; 3]);

#[derive(Clone, Copy)]
pub struct Crystal {
    pub cells: usize,
    pub a: f64,
    pub dt: f64,
    pub w0: f64,
    pub gamma: f64,
    pub s2: f64,
    /// Frames between the starts of consecutive atoms of one chain.
    pub stagger: usize,
    /// Frames a hop takes (linear ramp).
    pub ramp: usize,
}

impl Crystal {
    /// 6³ sites, a = 3 Å, 0.02 ps frames, 5 THz vibrations of rms 0.14 Å.
    pub fn small() -> Crystal {
        Crystal {
            cells: 6,
            a: 3.0,
            dt: 0.02,
            w0: 2.0 * std::f64::consts::PI * 5.0,
            gamma: 3.0,
            s2: 20.0,
            stagger: 1,
            ramp: 5,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Event {
    /// The whole line along `axis` through transverse site indices `at`
    /// (the two other axes in ascending order) slides by `sign`.
    Line {
        frame: usize,
        axis: usize,
        at: [i64; 2],
        sign: i64,
    },
    /// The atoms on `sites` (a closed loop of neighbouring sites) each move
    /// to the next site in the list, the last to the first.
    Ring { frame: usize, sites: Vec<[i64; 3]> },
    /// `sites[0]` is empty; the atom on sites[k] moves to sites[k−1].
    Path { frame: usize, sites: Vec<[i64; 3]> },
}

/// What the analyses should find for one event.
#[derive(Clone, Debug)]
pub struct Truth {
    pub frame: usize,
    /// "periodic", "ring" or "open".
    pub kind: &'static str,
    /// Atom indices (frame order) and their steps in lattice units.
    pub atoms: Vec<usize>,
    pub from: Vec<[i64; 3]>,
    pub steps: Vec<[i64; 3]>,
    pub turns: usize,
}

pub struct Planted {
    pub traj: Traj,
    pub truth: Vec<Truth>,
}

fn axis_of(s: [i64; 3]) -> usize {
    (0..3).max_by_key(|&k| s[k].abs()).unwrap()
}

/// Rectangle loop of `w`×`h` cells in the plane of axes (p, q) from `corner`.
pub fn rectangle(corner: [i64; 3], p: usize, q: usize, w: i64, h: i64) -> Vec<[i64; 3]> {
    let mut v = Vec::new();
    let at = |i: i64, j: i64| {
        let mut s = corner;
        s[p] += i;
        s[q] += j;
        s
    };
    for i in 0..w {
        v.push(at(i, 0));
    }
    for j in 0..h {
        v.push(at(w, j));
    }
    for i in (1..=w).rev() {
        v.push(at(i, h));
    }
    for j in (1..=h).rev() {
        v.push(at(0, j));
    }
    v
}

pub fn plant(
    c: Crystal,
    frames: usize,
    vacancies: &[[i64; 3]],
    events: &[Event],
    seed: u64,
) -> Planted {
    let n = c.cells as i64;
    let wrap = |s: [i64; 3]| -> [i64; 3] { s.map(|x| x.rem_euclid(n)) };
    let mut sites: Vec<[i64; 3]> = Vec::new();
    for ix in 0..n {
        for iy in 0..n {
            for iz in 0..n {
                if !vacancies.contains(&[ix, iy, iz]) {
                    sites.push([ix, iy, iz]);
                }
            }
        }
    }
    let natoms = sites.len();
    let mut occ: HashMap<[i64; 3], usize> =
        sites.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    // Current unwrapped site of every atom, and its scheduled moves.
    let mut cur = sites.clone();
    let mut moves: Vec<Vec<(usize, [i64; 3])>> = vec![Vec::new(); natoms];
    let mut truth = Vec::new();
    let mut evs = events.to_vec();
    let start = |e: &Event| match e {
        Event::Line { frame, .. } | Event::Ring { frame, .. } | Event::Path { frame, .. } => *frame,
    };
    evs.sort_by_key(start);
    for e in &evs {
        let (kind, pairs): (&str, Vec<SiteMove>) = match e {
            Event::Line { axis, at, sign, .. } => {
                let (p, q) = match axis {
                    0 => (1, 2),
                    1 => (0, 2),
                    _ => (0, 1),
                };
                let order: Vec<i64> = if *sign > 0 {
                    (0..n).rev().collect()
                } else {
                    (0..n).collect()
                };
                let pairs = order
                    .into_iter()
                    .map(|j| {
                        let mut s = [0; 3];
                        s[*axis] = j;
                        s[p] = at[0];
                        s[q] = at[1];
                        let mut t = s;
                        t[*axis] += sign;
                        (s, t)
                    })
                    .collect();
                ("periodic", pairs)
            }
            Event::Ring { sites, .. } => {
                let m = sites.len();
                (
                    "ring",
                    (0..m).map(|k| (sites[k], sites[(k + 1) % m])).collect(),
                )
            }
            Event::Path { sites, .. } => (
                "open",
                (1..sites.len()).map(|k| (sites[k], sites[k - 1])).collect(),
            ),
        };
        let f0 = start(e);
        let mut t = Truth {
            frame: f0,
            kind,
            atoms: Vec::new(),
            from: Vec::new(),
            steps: Vec::new(),
            turns: 0,
        };
        let atoms: Vec<usize> = pairs
            .iter()
            .map(|(s, _)| *occ.get(&wrap(*s)).expect("planted move from an empty site"))
            .collect();
        for (k, (&i, (s, d))) in atoms.iter().zip(&pairs).enumerate() {
            let stp = [d[0] - s[0], d[1] - s[1], d[2] - s[2]];
            occ.remove(&wrap(*s));
            moves[i].push((f0 + k * c.stagger, stp));
            t.atoms.push(i);
            t.from.push(cur[i]);
            t.steps.push(stp);
            for a in 0..3 {
                cur[i][a] += stp[a];
            }
        }
        for &i in &atoms {
            assert!(
                occ.insert(wrap(cur[i]), i).is_none(),
                "planted move into an occupied site"
            );
        }
        let m = t.steps.len();
        t.turns = (1..m)
            .filter(|&k| axis_of(t.steps[k]) != axis_of(t.steps[k - 1]))
            .count();
        if kind != "open" && m > 1 && axis_of(t.steps[0]) != axis_of(t.steps[m - 1]) {
            t.turns += 1;
        }
        truth.push(t);
    }
    let mut rng = Rng::new(seed);
    let (m, ch) = propagator(c.w0, c.gamma, c.s2, c.dt);
    let sx = c.s2.sqrt() / c.w0;
    let mut st: Vec<[[f64; 2]; 3]> = (0..natoms)
        .map(|_| std::array::from_fn(|_| [sx * rng.normal(), c.s2.sqrt() * rng.normal()]))
        .collect();
    let mut pos = Vec::with_capacity(frames);
    let mut vel = Vec::with_capacity(frames);
    for f in 0..frames {
        let frame_pos = (0..natoms)
            .map(|i| {
                let mut r: [f64; 3] =
                    std::array::from_fn(|k| sites[i][k] as f64 * c.a + st[i][k][0]);
                for (s0, stp) in &moves[i] {
                    let x = ((f as f64 - *s0 as f64) / c.ramp.max(1) as f64).clamp(0.0, 1.0);
                    for k in 0..3 {
                        r[k] += stp[k] as f64 * c.a * x;
                    }
                }
                r
            })
            .collect();
        pos.push(frame_pos);
        vel.push(st.iter().map(|a| [a[0][1], a[1][1], a[2][1]]).collect());
        for a in st.iter_mut() {
            for s in a.iter_mut() {
                step(s, &m, &ch, &mut rng);
            }
        }
    }
    let l = c.cells as f64 * c.a;
    Planted {
        traj: Traj {
            cell: Cell::orthogonal([-0.5 * c.a; 3], [l - 0.5 * c.a; 3]),
            ids: (1..=natoms as u64).collect(),
            types: vec![1; natoms],
            steps: (0..frames as u64).map(|f| f * 20).collect(),
            pos,
            vel: Some(vel),
        },
        truth,
    }
}

/// The standard scene: two lines along x (one twice), one along z, a ring
/// in a y–z plane and an open L-shaped chain into a vacancy; events start
/// 10 frames into 50-frame windows and are ≥ 100 frames apart.
pub fn scene(c: Crystal, seed: u64) -> Planted {
    let vac = [4, 4, 4];
    let events = vec![
        Event::Line {
            frame: 60,
            axis: 0,
            at: [1, 1],
            sign: 1,
        },
        Event::Line {
            frame: 160,
            axis: 0,
            at: [3, 4],
            sign: -1,
        },
        Event::Ring {
            frame: 260,
            sites: rectangle([2, 0, 3], 1, 2, 2, 1),
        },
        Event::Line {
            frame: 360,
            axis: 2,
            at: [5, 2],
            sign: 1,
        },
        // Vacancy at (4,4,4): three atoms along x slide into it, then two along y.
        Event::Path {
            frame: 460,
            sites: vec![
                [4, 4, 4],
                [3, 4, 4],
                [2, 4, 4],
                [1, 4, 4],
                [1, 3, 4],
                [1, 2, 4],
            ],
        },
        Event::Line {
            frame: 560,
            axis: 0,
            at: [1, 1],
            sign: 1,
        },
    ];
    plant(c, 700, &[vac], &events, seed)
}
