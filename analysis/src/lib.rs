//! `dprs-analysis`: the analyses behind the `postproc` command line, the
//! Python module and the in-situ LAMMPS fix — one implementation for all three.
//!
//! Data flows top to bottom through these modules:
//! - [`dump`] streams frames out of LAMMPS text dumps (plain, `.gz`, `.zst`,
//!   several files), sorted by atom id and unwrapped; it knows nothing of analyses.
//! - [`source`] is where frames come from: dumps on disk or a [`source::Trajectory`]
//!   built from arrays in memory; the analyses read both the same way.
//! - [`frame`] is what one frame is once read: box, ids, types, positions, velocities.
//! - [`time`] turns `--dt` / `--timestep` / a LAMMPS log into the time between frames.
//! - [`analysis`] holds the analyses as plain accumulators over frames:
//!   MSD and D with block errors, VACF/VDOS, g(r), all sharing one FFT correlator.
//! - [`runs`] holds the steps around the accumulators that every front end takes
//!   (one pass over a source, the MSD fit window with adaptive time blocks, the VACF
//!   lag, the sampling warnings) and whole analyses, source + options → the summary
//!   `postproc --json` prints: MSD and D, VACF/VDOS, g(r), 2PT.
//! - [`out`] and [`plot`] write what the analyses found as CSV/JSON and PNG.

pub mod analysis;
pub mod dump;
pub mod error;
pub mod frame;
pub mod insitu;
pub mod out;
pub mod plot;
pub mod progress;
pub mod runs;
pub mod source;
pub mod thermo;
pub mod time;
pub mod units;

pub use error::Error;
pub use frame::{Cell, Frame};
