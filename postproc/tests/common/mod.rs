//! Synthetic trajectories with answers known in closed form, and a writer
//! for every LAMMPS dump flavour the reader accepts.
#![allow(dead_code)]

use dprs_analysis::{Cell, Frame};
use std::fmt::Write as _;
use std::sync::Arc;

/// splitmix64 + Box–Muller: deterministic and dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }
    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[derive(Clone)]
pub struct Traj {
    pub cell: Cell,
    pub ids: Vec<u64>,
    pub types: Vec<u32>,
    pub steps: Vec<u64>,
    /// Unwrapped positions per frame.
    pub pos: Vec<Vec<[f64; 3]>>,
    pub vel: Option<Vec<Vec<[f64; 3]>>>,
}

impl Traj {
    pub fn n_frames(&self) -> usize {
        self.pos.len()
    }

    /// The frames the reader would deliver (for tests of analyses alone).
    pub fn frames(&self) -> Vec<Frame> {
        let ids = Arc::new(self.ids.clone());
        let types = Arc::new(self.types.clone());
        (0..self.n_frames())
            .map(|f| Frame {
                index: f,
                step: self.steps[f],
                cell: self.cell,
                ids: ids.clone(),
                types: types.clone(),
                pos: self.pos[f].clone(),
                vel: self.vel.as_ref().map(|v| v[f].clone()),
            })
            .collect()
    }
}

/// Free 3D random walks with D per axis (Å²/ps) sampled every `dt` ps.
pub fn free_diffusion(n: usize, frames: usize, dt: f64, d: [f64; 3], l: f64, seed: u64) -> Traj {
    let mut rng = Rng::new(seed);
    let mut r: Vec<[f64; 3]> = (0..n)
        .map(|_| [rng.uniform() * l, rng.uniform() * l, rng.uniform() * l])
        .collect();
    let sd = d.map(|x| (2.0 * x * dt).sqrt());
    let mut pos = Vec::with_capacity(frames);
    for _ in 0..frames {
        pos.push(r.clone());
        for p in r.iter_mut() {
            for k in 0..3 {
                p[k] += sd[k] * rng.normal();
            }
        }
    }
    Traj {
        cell: Cell::orthogonal([0.0; 3], [l; 3]),
        ids: (1..=n as u64).collect(),
        types: vec![1; n],
        steps: (0..frames as u64).map(|f| f * 10).collect(),
        pos,
        vel: None,
    }
}

/// Exact one-frame propagator of the Langevin oscillator
/// dx = v dt, dv = −ω0² x dt − γ v dt + noise, with ⟨v²⟩ = s2 (= kT/m).
/// ω0 = 0 is the free Brownian particle. Returns (M, Cholesky of Q).
fn propagator(w0: f64, gamma: f64, s2: f64, dt: f64) -> ([[f64; 2]; 2], [[f64; 2]; 2]) {
    let (m, q) = if w0 == 0.0 {
        let e = (-gamma * dt).exp();
        let m = [[1.0, (1.0 - e) / gamma], [0.0, e]];
        let qxx = s2 / (gamma * gamma) * (2.0 * gamma * dt - 3.0 + 4.0 * e - e * e);
        let qxv = s2 / gamma * (1.0 - e) * (1.0 - e);
        let qvv = s2 * (1.0 - e * e);
        (m, [[qxx, qxv], [qxv, qvv]])
    } else {
        let a = 0.5 * gamma;
        let w1 = (w0 * w0 - a * a).sqrt();
        let (c, s) = ((w1 * dt).cos(), (w1 * dt).sin());
        let e = (-a * dt).exp();
        let m = [
            [e * (c + a / w1 * s), e * s / w1],
            [-e * w0 * w0 * s / w1, e * (c - a / w1 * s)],
        ];
        // Q = Σ − M Σ Mᵀ with the stationary Σ = diag(s2/ω0², s2).
        let sx = s2 / (w0 * w0);
        let sig = [[sx, 0.0], [0.0, s2]];
        let mut q = sig;
        for i in 0..2 {
            for j in 0..2 {
                q[i][j] -= (0..2).map(|k| m[i][k] * sig[k][k] * m[j][k]).sum::<f64>();
            }
        }
        (m, q)
    };
    let l00 = q[0][0].max(0.0).sqrt();
    let l10 = if l00 > 0.0 { q[1][0] / l00 } else { 0.0 };
    let l11 = (q[1][1] - l10 * l10).max(0.0).sqrt();
    (m, [[l00, 0.0], [l10, l11]])
}

fn step(state: &mut [f64; 2], m: &[[f64; 2]; 2], l: &[[f64; 2]; 2], rng: &mut Rng) {
    let (z0, z1) = (rng.normal(), rng.normal());
    let x = m[0][0] * state[0] + m[0][1] * state[1] + l[0][0] * z0;
    let v = m[1][0] * state[0] + m[1][1] * state[1] + l[1][0] * z0 + l[1][1] * z1;
    *state = [x, v];
}

/// Free Langevin particles with velocities: Φ(t) = s2·e^{−γt}, D = s2/γ.
pub fn langevin_free(
    n: usize,
    frames: usize,
    dt: f64,
    gamma: f64,
    s2: f64,
    l: f64,
    seed: u64,
) -> Traj {
    let mut rng = Rng::new(seed);
    let (m, ch) = propagator(0.0, gamma, s2, dt);
    let mut st: Vec<[[f64; 2]; 3]> = (0..n)
        .map(|_| std::array::from_fn(|_| [rng.uniform() * l, s2.sqrt() * rng.normal()]))
        .collect();
    let (mut pos, mut vel) = (Vec::new(), Vec::new());
    for _ in 0..frames {
        pos.push(st.iter().map(|a| [a[0][0], a[1][0], a[2][0]]).collect());
        vel.push(st.iter().map(|a| [a[0][1], a[1][1], a[2][1]]).collect());
        for a in st.iter_mut() {
            for s in a.iter_mut() {
                step(s, &m, &ch, &mut rng);
            }
        }
    }
    Traj {
        cell: Cell::orthogonal([0.0; 3], [l; 3]),
        ids: (1..=n as u64).collect(),
        types: vec![1; n],
        steps: (0..frames as u64).map(|f| f * 10).collect(),
        pos,
        vel: Some(vel),
    }
}

/// Parameters of the lattice with Einstein vibrations and planted chain hops.
#[derive(Clone, Copy)]
pub struct Lattice {
    pub cells: usize,
    pub a: f64,
    pub dt: f64,
    /// Einstein angular frequency (rad/ps) and damping (1/ps).
    pub w0: f64,
    pub gamma: f64,
    /// kT/m, (Å/ps)².
    pub s2: f64,
    /// Number of x lines (chains) that hop, and the hop probability per frame.
    pub chains: usize,
    pub p_hop: f64,
}

impl Lattice {
    /// D_x of chain atoms: hops of ±a with probability p per frame.
    pub fn d_chain(&self) -> f64 {
        self.p_hop * self.a * self.a / (2.0 * self.dt)
    }
    /// Peak of the velocity spectrum of the damped oscillator, THz.
    pub fn peak_thz(&self) -> f64 {
        self.w0 / (2.0 * std::f64::consts::PI)
    }
}

/// A simple-cubic lattice, each atom a Langevin oscillator about its site;
/// the first `chains` lines along x (fixed y, z) hop cooperatively by ±a.
/// Returns the trajectory and the ids of the chain atoms.
pub fn sc_lattice(p: Lattice, frames: usize, seed: u64) -> (Traj, Vec<u64>) {
    let mut rng = Rng::new(seed);
    let n = p.cells;
    let (m, ch) = propagator(p.w0, p.gamma, p.s2, p.dt);
    let sx = (p.s2).sqrt() / p.w0;
    let natoms = n * n * n;
    let mut site = Vec::with_capacity(natoms);
    let mut line = Vec::with_capacity(natoms);
    for ix in 0..n {
        for iy in 0..n {
            for iz in 0..n {
                site.push([ix as f64 * p.a, iy as f64 * p.a, iz as f64 * p.a]);
                line.push(iy * n + iz);
            }
        }
    }
    let chain_ids: Vec<u64> = (0..natoms)
        .filter(|&i| line[i] < p.chains)
        .map(|i| i as u64 + 1)
        .collect();
    let mut st: Vec<[[f64; 2]; 3]> = (0..natoms)
        .map(|_| std::array::from_fn(|_| [sx * rng.normal(), p.s2.sqrt() * rng.normal()]))
        .collect();
    let mut shift = vec![0i64; p.chains];
    let (mut pos, mut vel) = (Vec::new(), Vec::new());
    for _ in 0..frames {
        pos.push(
            (0..natoms)
                .map(|i| {
                    let h = if line[i] < p.chains {
                        shift[line[i]] as f64 * p.a
                    } else {
                        0.0
                    };
                    [
                        site[i][0] + h + st[i][0][0],
                        site[i][1] + st[i][1][0],
                        site[i][2] + st[i][2][0],
                    ]
                })
                .collect(),
        );
        vel.push(st.iter().map(|a| [a[0][1], a[1][1], a[2][1]]).collect());
        for a in st.iter_mut() {
            for s in a.iter_mut() {
                step(s, &m, &ch, &mut rng);
            }
        }
        for s in shift.iter_mut() {
            if rng.uniform() < p.p_hop {
                *s += if rng.uniform() < 0.5 { 1 } else { -1 };
            }
        }
    }
    let l = n as f64 * p.a;
    let traj = Traj {
        cell: Cell::orthogonal([-0.5 * p.a; 3], [l - 0.5 * p.a; 3]),
        ids: (1..=natoms as u64).collect(),
        types: vec![1; natoms],
        steps: (0..frames as u64).map(|f| f * 50).collect(),
        pos,
        vel: Some(vel),
    };
    (traj, chain_ids)
}

/// How to write the coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flavour {
    /// x y z ix iy iz
    Image,
    /// xu yu zu
    Unwrapped,
    /// xs ys zs ix iy iz
    ScaledImage,
    /// xsu ysu zsu
    ScaledUnwrapped,
    /// x y z only (minimum-image unwrapping)
    Wrapped,
}

/// The text of frames `range` of `t`; rows shuffled when `shuffle` is set.
pub fn dump_text(
    t: &Traj,
    range: std::ops::Range<usize>,
    fl: Flavour,
    shuffle: Option<u64>,
) -> String {
    let c = &t.cell;
    let (lx, ly, lz) = (c.edges[0][0], c.edges[1][1], c.edges[2][2]);
    let (xy, xz, yz) = (c.edges[1][0], c.edges[2][0], c.edges[2][1]);
    let o = c.origin;
    let tilted = !c.is_orthogonal();
    let mut s = String::new();
    let n = t.ids.len();
    let mut order: Vec<usize> = (0..n).collect();
    for f in range {
        if let Some(seed) = shuffle {
            let mut rng = Rng::new(seed + f as u64);
            for i in (1..n).rev() {
                order.swap(i, (rng.u64() % (i as u64 + 1)) as usize);
            }
        }
        writeln!(
            s,
            "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{n}",
            t.steps[f]
        )
        .unwrap();
        if tilted {
            let xlo_b = o[0] + 0f64.min(xy).min(xz).min(xy + xz);
            let xhi_b = o[0] + lx + 0f64.max(xy).max(xz).max(xy + xz);
            let ylo_b = o[1] + 0f64.min(yz);
            let yhi_b = o[1] + ly + 0f64.max(yz);
            writeln!(s, "ITEM: BOX BOUNDS xy xz yz pp pp pp").unwrap();
            writeln!(s, "{xlo_b:.10} {xhi_b:.10} {xy:.10}\n{ylo_b:.10} {yhi_b:.10} {xz:.10}\n{:.10} {:.10} {yz:.10}", o[2], o[2] + lz).unwrap();
        } else {
            writeln!(s, "ITEM: BOX BOUNDS pp pp pp").unwrap();
            for (k, lo) in o.iter().enumerate() {
                writeln!(s, "{lo:.10} {:.10}", lo + c.edges[k][k]).unwrap();
            }
        }
        let cols = match fl {
            Flavour::Image => "x y z ix iy iz",
            Flavour::Unwrapped => "xu yu zu",
            Flavour::ScaledImage => "xs ys zs ix iy iz",
            Flavour::ScaledUnwrapped => "xsu ysu zsu",
            Flavour::Wrapped => "x y z",
        };
        let v = if t.vel.is_some() { " vx vy vz" } else { "" };
        writeln!(s, "ITEM: ATOMS id type {cols}{v}").unwrap();
        for &i in &order {
            let r = t.pos[f][i];
            let sf = c.to_frac(r);
            let img = sf.map(f64::floor);
            let sw = [sf[0] - img[0], sf[1] - img[1], sf[2] - img[2]];
            let w = c.to_cart(sw);
            write!(s, "{} {} ", t.ids[i], t.types[i]).unwrap();
            match fl {
                Flavour::Image => write!(
                    s,
                    "{:.10} {:.10} {:.10} {} {} {}",
                    w[0], w[1], w[2], img[0], img[1], img[2]
                ),
                Flavour::Unwrapped => write!(s, "{:.10} {:.10} {:.10}", r[0], r[1], r[2]),
                Flavour::ScaledImage => write!(
                    s,
                    "{:.12} {:.12} {:.12} {} {} {}",
                    sw[0], sw[1], sw[2], img[0], img[1], img[2]
                ),
                Flavour::ScaledUnwrapped => write!(s, "{:.12} {:.12} {:.12}", sf[0], sf[1], sf[2]),
                Flavour::Wrapped => write!(s, "{:.10} {:.10} {:.10}", w[0], w[1], w[2]),
            }
            .unwrap();
            if let Some(vv) = &t.vel {
                let u = vv[f][i];
                write!(s, " {:.10} {:.10} {:.10}", u[0], u[1], u[2]).unwrap();
            }
            s.push('\n');
        }
    }
    s
}

/// The postproc binary, run outside the checkout: a call without `--out`
/// writes its default `postproc-out/` under the temp dir, never into the
/// source tree (`make test` leaves `git status` clean).
pub fn postproc() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_postproc"));
    cmd.current_dir(std::env::temp_dir());
    cmd
}

pub mod planted;
