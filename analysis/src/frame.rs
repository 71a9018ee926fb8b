//! One frame of a trajectory as the analyses see it.

use std::sync::Arc;

/// A periodic simulation box in LAMMPS's restricted triclinic form:
/// edge vectors a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz) from `origin`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub origin: [f64; 3],
    /// Edge vectors a, b, c (rows).
    pub edges: [[f64; 3]; 3],
}

impl Cell {
    pub fn orthogonal(lo: [f64; 3], hi: [f64; 3]) -> Cell {
        Cell::triclinic(lo, [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]], [0.0; 3])
    }

    /// `len` = (lx, ly, lz), `tilt` = (xy, xz, yz).
    pub fn triclinic(origin: [f64; 3], len: [f64; 3], tilt: [f64; 3]) -> Cell {
        let [xy, xz, yz] = tilt;
        Cell {
            origin,
            edges: [[len[0], 0.0, 0.0], [xy, len[1], 0.0], [xz, yz, len[2]]],
        }
    }

    /// LAMMPS dumps store the bounding box of a tilted cell; undo that
    /// (see the LAMMPS manual, "Triclinic (non-orthogonal) simulation boxes").
    pub fn from_dump_bounds(lo_b: [f64; 3], hi_b: [f64; 3], tilt: [f64; 3]) -> Cell {
        let [xy, xz, yz] = tilt;
        let xlo = lo_b[0] - 0f64.min(xy).min(xz).min(xy + xz);
        let xhi = hi_b[0] - 0f64.max(xy).max(xz).max(xy + xz);
        let ylo = lo_b[1] - 0f64.min(yz);
        let yhi = hi_b[1] - 0f64.max(yz);
        Cell::triclinic(
            [xlo, ylo, lo_b[2]],
            [xhi - xlo, yhi - ylo, hi_b[2] - lo_b[2]],
            tilt,
        )
    }

    pub fn is_orthogonal(&self) -> bool {
        self.edges[1][0] == 0.0 && self.edges[2][0] == 0.0 && self.edges[2][1] == 0.0
    }

    pub fn volume(&self) -> f64 {
        self.edges[0][0] * self.edges[1][1] * self.edges[2][2]
    }

    /// Fractional coordinates of a Cartesian position (not wrapped).
    #[inline]
    pub fn to_frac(&self, r: [f64; 3]) -> [f64; 3] {
        self.vec_to_frac([
            r[0] - self.origin[0],
            r[1] - self.origin[1],
            r[2] - self.origin[2],
        ])
    }

    /// Fractional components of a Cartesian displacement.
    #[inline]
    pub fn vec_to_frac(&self, d: [f64; 3]) -> [f64; 3] {
        let e = &self.edges;
        let sz = d[2] / e[2][2];
        let sy = (d[1] - e[2][1] * sz) / e[1][1];
        let sx = (d[0] - e[1][0] * sy - e[2][0] * sz) / e[0][0];
        [sx, sy, sz]
    }

    /// Cartesian displacement of a fractional displacement.
    #[inline]
    pub fn frac_to_vec(&self, s: [f64; 3]) -> [f64; 3] {
        let e = &self.edges;
        [
            s[0] * e[0][0] + s[1] * e[1][0] + s[2] * e[2][0],
            s[1] * e[1][1] + s[2] * e[2][1],
            s[2] * e[2][2],
        ]
    }

    #[inline]
    pub fn to_cart(&self, s: [f64; 3]) -> [f64; 3] {
        let v = self.frac_to_vec(s);
        [
            v[0] + self.origin[0],
            v[1] + self.origin[1],
            v[2] + self.origin[2],
        ]
    }

    /// Distances between opposite faces: the largest sphere diameter that fits.
    pub fn widths(&self) -> [f64; 3] {
        let e = &self.edges;
        let v = self.volume().abs();
        let cross = |a: [f64; 3], b: [f64; 3]| {
            let c = [
                a[1] * b[2] - a[2] * b[1],
                a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0],
            ];
            (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt()
        };
        [
            v / cross(e[1], e[2]),
            v / cross(e[2], e[0]),
            v / cross(e[0], e[1]),
        ]
    }
}

/// One frame, atoms in ascending id order.
#[derive(Clone, Debug)]
pub struct Frame {
    /// 0-based position of the frame in the stream.
    pub index: usize,
    pub step: u64,
    pub cell: Cell,
    /// Atom ids, ascending; shared by all frames of a trajectory.
    pub ids: Arc<Vec<u64>>,
    /// Atom types (1-based as in LAMMPS; 1 for every atom when the dump has none).
    pub types: Arc<Vec<u32>>,
    /// Unwrapped Cartesian positions, Å.
    pub pos: Vec<[f64; 3]>,
    /// Velocities, Å/ps, when the dump has them.
    pub vel: Option<Vec<[f64; 3]>>,
}

impl Frame {
    pub fn n_atoms(&self) -> usize {
        self.pos.len()
    }
}
