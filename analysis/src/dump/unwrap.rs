//! Unwrapping by minimum image between consecutive frames, for dumps that
//! carry neither image flags nor unwrapped coordinates.

use crate::frame::Cell;

/// Moves of more than this fraction of a box edge between two frames make
/// the minimum-image choice doubtful (at one half it is a coin toss).
pub const SUSPICIOUS_JUMP: f64 = 0.25;

#[derive(Default)]
pub struct Continuity {
    prev_wrapped: Vec<[f64; 3]>,
    prev_unwrapped: Vec<[f64; 3]>,
}

impl Continuity {
    /// Replaces wrapped positions by unwrapped ones. Returns the largest
    /// fractional move of any atom since the previous frame and its index.
    pub fn apply(&mut self, cell: &Cell, pos: &mut [[f64; 3]]) -> (f64, usize) {
        if self.prev_wrapped.len() != pos.len() {
            self.prev_wrapped = pos.to_vec();
            self.prev_unwrapped = pos.to_vec();
            return (0.0, 0);
        }
        let mut worst = (0.0, 0);
        for (i, r) in pos.iter_mut().enumerate() {
            let w = *r;
            let p = self.prev_wrapped[i];
            let mut s = cell.vec_to_frac([w[0] - p[0], w[1] - p[1], w[2] - p[2]]);
            for c in s.iter_mut() {
                *c -= c.round();
                if c.abs() > worst.0 {
                    worst = (c.abs(), i);
                }
            }
            let d = cell.frac_to_vec(s);
            let u = &mut self.prev_unwrapped[i];
            *u = [u[0] + d[0], u[1] + d[1], u[2] + d[2]];
            self.prev_wrapped[i] = w;
            *r = *u;
        }
        worst
    }
}
