//! The reference lattice that flux planes and hop sites are defined on.
//!
//! Only lattices whose atomic planes are evenly spaced along x, y and z in an
//! orthogonal box are handled (simple cubic and its tetragonal/orthorhombic
//! stretches): that is the geometry of the sc Ca chains of paper A, where a
//! lattice line along x is a row of sites at fixed (y, z). Spacings are taken
//! as L_k / n_k so that the plane sets are exactly periodic.

use crate::error::{Error, Result};
use crate::frame::Frame;
use std::f64::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lattice {
    /// Lower corner of the (orthogonal) box, Å.
    pub lo: [f64; 3],
    /// Box lengths, Å.
    pub len: [f64; 3],
    /// Sites per box length along each axis.
    pub n: [usize; 3],
    /// Site spacing along each axis, Å (= len / n).
    pub spacing: [f64; 3],
    /// Position of one site, Å, inside [lo, lo + spacing).
    pub origin: [f64; 3],
}

impl Lattice {
    /// Builds the lattice from the first frame: the spacing is `a` when given,
    /// else (V/N)^(1/3) (one atom per simple-cubic site); the site positions
    /// are the circular mean of the atoms' phases along each axis.
    pub fn detect(frame: &Frame, a: Option<f64>) -> Result<Lattice> {
        let cell = &frame.cell;
        if !cell.is_orthogonal() {
            return Err(Error::Invalid(
                "lattice planes are only defined for orthogonal boxes; this dump has a tilted box"
                    .into(),
            ));
        }
        let len = [cell.edges[0][0], cell.edges[1][1], cell.edges[2][2]];
        let natoms = frame.n_atoms();
        let guess = match a {
            Some(a) if a.is_finite() && a > 0.0 => a,
            Some(a) => {
                return Err(Error::Invalid(format!(
                    "lattice constant {a} must be positive"
                )))
            }
            None => (cell.volume() / natoms as f64).cbrt(),
        };
        let mut n = [0usize; 3];
        for k in 0..3 {
            let r = len[k] / guess;
            n[k] = r.round() as usize;
            if n[k] == 0 || (r - n[k] as f64).abs() > 0.1 {
                return Err(Error::Invalid(format!(
                    "the box length {:.4} Å along {} is not a whole number of lattice spacings {guess:.4} Å{}",
                    len[k],
                    ["x", "y", "z"][k],
                    if a.is_none() { " (guessed as (V/N)^(1/3) for simple cubic; give --a)" } else { "" }
                )));
            }
        }
        let sites = n[0] * n[1] * n[2];
        if a.is_none() && (sites as f64 - natoms as f64).abs() > 0.02 * natoms as f64 {
            return Err(Error::Invalid(format!(
                "{natoms} atoms do not fill a simple-cubic lattice of {}×{}×{} sites; give --a",
                n[0], n[1], n[2]
            )));
        }
        let spacing = [
            len[0] / n[0] as f64,
            len[1] / n[1] as f64,
            len[2] / n[2] as f64,
        ];
        let mut origin = [0.0; 3];
        for k in 0..3 {
            let (mut c, mut s) = (0.0, 0.0);
            for r in &frame.pos {
                let ph = 2.0 * PI * (r[k] - cell.origin[k]) / spacing[k];
                c += ph.cos();
                s += ph.sin();
            }
            let order = (c * c + s * s).sqrt() / natoms as f64;
            if order < 0.5 {
                return Err(Error::Invalid(format!(
                    "the first frame is not ordered on planes {:.4} Å apart along {} (order {order:.2} < 0.5): \
                     not a crystal on this lattice",
                    spacing[k],
                    ["x", "y", "z"][k]
                )));
            }
            let ph = s.atan2(c).rem_euclid(2.0 * PI);
            origin[k] = cell.origin[k] + ph / (2.0 * PI) * spacing[k];
        }
        Ok(Lattice {
            lo: cell.origin,
            len,
            n,
            spacing,
            origin,
        })
    }

    /// Position in lattice units along `axis`: site j sits at u = j.
    #[inline]
    pub fn u(&self, x: f64, axis: usize) -> f64 {
        (x - self.origin[axis]) / self.spacing[axis]
    }

    /// Nearest-neighbour distance d (the smallest spacing).
    pub fn nn_distance(&self) -> f64 {
        self.spacing.iter().cloned().fold(f64::INFINITY, f64::min)
    }

    /// Coordinate (Å, inside the box) of site index j along `axis`.
    pub fn site_coord(&self, j: i64, axis: usize) -> f64 {
        let x = self.origin[axis] + j as f64 * self.spacing[axis];
        self.lo[axis] + (x - self.lo[axis]).rem_euclid(self.len[axis])
    }

    /// Site index j reduced to 0..n along `axis`.
    #[inline]
    pub fn wrap(&self, j: i64, axis: usize) -> usize {
        j.rem_euclid(self.n[axis] as i64) as usize
    }

    /// Position of midplane p (between sites p and p+1) along `axis`, Å, in the box.
    pub fn plane_coord(&self, p: usize, axis: usize) -> f64 {
        let x = self.origin[axis] + (p as f64 + 0.5) * self.spacing[axis];
        self.lo[axis] + (x - self.lo[axis]).rem_euclid(self.len[axis])
    }
}

pub const AXES: [&str; 3] = ["x", "y", "z"];

/// The two axes perpendicular to `axis`, in cyclic-free ascending order
/// (x → (y, z), y → (x, z), z → (x, y)), matching F_x(y,z), F_y(x,z), F_z(x,y).
pub fn transverse(axis: usize) -> (usize, usize) {
    match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}
