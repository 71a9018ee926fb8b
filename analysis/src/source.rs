//! Where the frames of an analysis come from: LAMMPS dumps on disk, or a
//! trajectory already in memory (arrays handed over by Python, from
//! MDAnalysis, ASE or a user's own code). Both give the analyses the same
//! [`Frame`]s and the same [`DumpInfo`], so every analysis runs unchanged on
//! either.

use crate::dump::{self, DumpInfo, ReadOptions};
use crate::error::{Error, Result};
use crate::frame::{Cell, Frame};
use std::path::PathBuf;
use std::sync::Arc;

/// What [`DumpInfo::coords`] says of positions given as arrays.
pub const ARRAY_COORDS: &str = "unwrapped positions given as arrays";

/// Frames held in memory, atoms in ascending id order, positions unwrapped.
#[derive(Clone, Debug)]
pub struct Trajectory {
    pub frames: Vec<Frame>,
}

/// One frame's box as arrays give it: three edge lengths of an orthogonal
/// box, or a 3×3 cell whose rows are the edge vectors a, b, c in LAMMPS's
/// restricted triclinic form (a along x, b in the xy plane).
#[derive(Clone, Copy, Debug)]
pub enum BoxShape {
    Lengths([f64; 3]),
    Cell([[f64; 3]; 3]),
}

impl BoxShape {
    fn cell(&self, frame: usize) -> Result<Cell> {
        let edges = match *self {
            BoxShape::Lengths([a, b, c]) => [[a, 0.0, 0.0], [0.0, b, 0.0], [0.0, 0.0, c]],
            BoxShape::Cell(e) => e,
        };
        let upper = [edges[0][1], edges[0][2], edges[1][2]];
        if upper.iter().any(|&v| v != 0.0) {
            return Err(Error::Invalid(format!(
                "box of frame {frame}: the cell must be in LAMMPS's restricted triclinic form \
                 (rows a, b, c with a = (lx, 0, 0) and b = (xy, ly, 0)); rotate the cell and \
                 the positions so that a lies along x and b in the xy plane"
            )));
        }
        let diag = [edges[0][0], edges[1][1], edges[2][2]];
        if diag.iter().any(|&v| !(v.is_finite() && v > 0.0))
            || edges.iter().flatten().any(|v| !v.is_finite())
        {
            return Err(Error::Invalid(format!(
                "box of frame {frame}: the edge lengths must be positive and finite, got {diag:?} Å"
            )));
        }
        Ok(Cell {
            origin: [0.0; 3],
            edges,
        })
    }
}

impl Trajectory {
    /// Builds frames from flat arrays: `positions` holds `n_frames × n_atoms × 3`
    /// values (Å, unwrapped), `velocities` the same shape (Å/ps) when given,
    /// `boxes` one box per frame or one for all, `types` one per atom
    /// (1-based), `ids` one per atom (default 1..=n_atoms), `steps` one per
    /// frame (default 0, 1, 2, ...). Atoms are put in ascending id order, as
    /// the dump reader does.
    #[allow(clippy::too_many_arguments)]
    pub fn from_arrays(
        n_frames: usize,
        n_atoms: usize,
        positions: &[f64],
        velocities: Option<&[f64]>,
        boxes: &[BoxShape],
        types: &[i64],
        ids: Option<&[i64]>,
        steps: Option<&[i64]>,
    ) -> Result<Trajectory> {
        let bad = |msg: String| Err(Error::Invalid(msg));
        if n_frames == 0 || n_atoms == 0 {
            return bad(format!(
                "positions hold {n_frames} frames of {n_atoms} atoms: at least one frame of one atom is needed"
            ));
        }
        let len = n_frames * n_atoms * 3;
        if positions.len() != len {
            return bad(format!(
                "positions hold {} values, not frames × atoms × 3 = {len}",
                positions.len()
            ));
        }
        if let Some(k) = positions.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "positions: frame {}, atom {} is not finite",
                k / (3 * n_atoms),
                (k / 3) % n_atoms
            ));
        }
        if let Some(v) = velocities {
            if v.len() != len {
                return bad(format!(
                    "velocities hold {} values; they must have the shape of the positions \
                     ({n_frames} frames × {n_atoms} atoms × 3)",
                    v.len()
                ));
            }
        }
        if boxes.len() != 1 && boxes.len() != n_frames {
            return bad(format!(
                "{} boxes for {n_frames} frames: give one box for all frames or one per frame",
                boxes.len()
            ));
        }
        let cells: Vec<Cell> = boxes
            .iter()
            .enumerate()
            .map(|(k, b)| b.cell(k))
            .collect::<Result<_>>()?;
        if types.len() != n_atoms {
            return bad(format!(
                "{} types for {n_atoms} atoms: give one type per atom",
                types.len()
            ));
        }
        if let Some(t) = types.iter().find(|&&t| t < 1 || t > u32::MAX as i64) {
            return bad(format!(
                "atom type {t}: types are LAMMPS's, integers from 1"
            ));
        }
        let ids: Vec<u64> = match ids {
            None => (1..=n_atoms as u64).collect(),
            Some(ids) => {
                if ids.len() != n_atoms {
                    return bad(format!(
                        "{} ids for {n_atoms} atoms: give one id per atom",
                        ids.len()
                    ));
                }
                if let Some(i) = ids.iter().find(|&&i| i < 0) {
                    return bad(format!("atom id {i}: ids must be ≥ 0"));
                }
                ids.iter().map(|&i| i as u64).collect()
            }
        };
        let mut order: Vec<usize> = (0..n_atoms).collect();
        order.sort_by_key(|&i| ids[i]);
        if let Some(w) = order.windows(2).find(|w| ids[w[0]] == ids[w[1]]) {
            return bad(format!(
                "atom id {} appears twice: ids must be unique",
                ids[w[0]]
            ));
        }
        let steps: Vec<u64> = match steps {
            None => (0..n_frames as u64).collect(),
            Some(s) => {
                if s.len() != n_frames {
                    return bad(format!(
                        "{} steps for {n_frames} frames: give one step per frame",
                        s.len()
                    ));
                }
                if s.windows(2).any(|w| w[1] <= w[0]) || s.first().is_some_and(|&v| v < 0) {
                    return bad("steps must be ≥ 0 and increase from frame to frame".into());
                }
                s.iter().map(|&v| v as u64).collect()
            }
        };
        let sorted_ids = Arc::new(order.iter().map(|&i| ids[i]).collect::<Vec<_>>());
        let sorted_types = Arc::new(order.iter().map(|&i| types[i] as u32).collect::<Vec<_>>());
        let pick = |data: &[f64], k: usize| -> Vec<[f64; 3]> {
            let base = k * n_atoms * 3;
            order
                .iter()
                .map(|&i| {
                    let j = base + 3 * i;
                    [data[j], data[j + 1], data[j + 2]]
                })
                .collect()
        };
        let frames = (0..n_frames)
            .map(|k| Frame {
                index: k,
                step: steps[k],
                cell: cells[if cells.len() == 1 { 0 } else { k }],
                ids: sorted_ids.clone(),
                types: sorted_types.clone(),
                pos: pick(positions, k),
                vel: velocities.map(|v| pick(v, k)),
            })
            .collect();
        Ok(Trajectory { frames })
    }

    pub fn n_atoms(&self) -> usize {
        self.frames.first().map_or(0, Frame::n_atoms)
    }
}

/// The input of an analysis.
#[derive(Clone, Debug)]
pub enum Source {
    /// Dump files, read in this order.
    Dump(Vec<PathBuf>),
    /// Frames in memory.
    Frames(Arc<Trajectory>),
}

impl Source {
    /// Calls `on_frame` for each kept frame (every n-th, at most
    /// `max_frames`), as [`dump::read`] does for files.
    pub fn read(
        &self,
        opts: &ReadOptions,
        mut on_frame: impl FnMut(&Frame) -> Result<()>,
    ) -> Result<DumpInfo> {
        let t = match self {
            Source::Dump(files) => return dump::read(files, opts, on_frame),
            Source::Frames(t) => t,
        };
        let every = opts.every.max(1);
        let mut info = DumpInfo {
            files: Vec::new(),
            n_frames: 0,
            n_atoms: t.n_atoms(),
            steps: Vec::new(),
            velocities: t.frames.first().is_some_and(|f| f.vel.is_some()),
            coords: ARRAY_COORDS.to_string(),
            warnings: Vec::new(),
        };
        for f in t.frames.iter().step_by(every) {
            if opts.max_frames.is_some_and(|m| info.n_frames >= m) {
                break;
            }
            if info.n_frames == f.index {
                on_frame(f)?;
            } else {
                // Analyses number the kept frames 0, 1, 2, ...
                let mut kept = f.clone();
                kept.index = info.n_frames;
                on_frame(&kept)?;
            }
            info.steps.push(f.step);
            info.n_frames += 1;
        }
        if info.n_frames == 0 {
            // as for a dump: nothing to analyse is an error, not an empty result
            return Err(Error::NoInput(
                "the trajectory holds no frame to analyse (check every and max_frames)".into(),
            ));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(n_frames: usize, n_atoms: usize) -> Vec<f64> {
        (0..n_frames * n_atoms * 3)
            .map(|k| k as f64 * 0.25)
            .collect()
    }

    #[test]
    fn atoms_are_sorted_by_id_and_frames_thinned_like_the_dump_reader() {
        let pos = walk(5, 3);
        let t = Trajectory::from_arrays(
            5,
            3,
            &pos,
            None,
            &[BoxShape::Lengths([10.0, 11.0, 12.0])],
            &[2, 1, 3],
            Some(&[30, 10, 20]),
            None,
        )
        .unwrap();
        let f = &t.frames[1];
        assert_eq!(*f.ids, vec![10, 20, 30]);
        assert_eq!(*f.types, vec![1, 3, 2]);
        // id 10 was the second row: values 9 + 3 .. 9 + 6 (frame 1 starts at 9)
        assert_eq!(f.pos[0], [12.0 * 0.25, 13.0 * 0.25, 14.0 * 0.25]);
        assert_eq!(f.cell.widths(), [10.0, 11.0, 12.0]);
        let src = Source::Frames(Arc::new(t));
        let opts = ReadOptions {
            every: 2,
            max_frames: Some(2),
            progress: false,
        };
        let mut seen = Vec::new();
        let info = src
            .read(&opts, |f| {
                seen.push((f.index, f.step));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, vec![(0, 0), (1, 2)]);
        assert_eq!(
            (info.n_frames, info.n_atoms, info.steps),
            (2, 3, vec![0, 2])
        );
        assert_eq!(info.coords, ARRAY_COORDS);
    }

    #[test]
    fn bad_arrays_are_refused_with_the_reason() {
        let pos = walk(2, 2);
        let err = |b: &[BoxShape], types: &[i64], ids: Option<&[i64]>| {
            Trajectory::from_arrays(2, 2, &pos, None, b, types, ids, None)
                .unwrap_err()
                .to_string()
        };
        let cube = [BoxShape::Lengths([5.0; 3])];
        assert!(err(&cube, &[1], None).contains("1 types for 2 atoms"));
        assert!(err(&cube, &[0, 1], None).contains("integers from 1"));
        assert!(err(&cube, &[1, 1], Some(&[4, 4])).contains("atom id 4 appears twice"));
        let tilted = [BoxShape::Cell([
            [5.0, 1.0, 0.0],
            [0.0, 5.0, 0.0],
            [0.0, 0.0, 5.0],
        ])];
        assert!(err(&tilted, &[1, 1], None).contains("restricted triclinic"));
        assert!(err(&[BoxShape::Lengths([5.0, 0.0, 5.0])], &[1, 1], None).contains("positive"));
        let three = [cube[0]; 3];
        assert!(err(&three, &[1, 1], None).contains("3 boxes for 2 frames"));
    }
}
