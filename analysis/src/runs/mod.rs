//! The steps every front end takes around the accumulators: one pass over
//! a [`Source`](crate::source::Source) feeding the MSD and VACF collectors,
//! the time between frames, the MSD fit window with its adaptive time
//! blocks, the VACF lag and the warnings on how well it samples the
//! vibrations. The `postproc` command line, the Python module
//! and the in-situ fix call these, so that they choose the same windows and
//! say the same things. Nothing here prints: notes and warnings come back
//! as text for the caller to show.
//!
//! Whole analyses, source + options → result whose `summary` is what
//! `postproc <command> --json` prints: [`msd::run`], [`vdos::run`] (also the
//! VACF and MSD of `diffusion`), [`rdf::run`]; each result's `summary()`
//! (or [`vdos::summarise`], [`twopt::summarise`] from the collected VACF)
//! gives the summary and the CSV columns.

pub mod figures;
pub mod fit;
pub mod flux;
pub mod lag;
pub mod msd;
pub mod pass;
pub mod rdf;
pub mod sampling;
pub mod summary;
pub mod twopt;
pub mod vdos;

/// A time in ps for messages: three significant digits, plain notation.
pub fn fmt_ps(ps: f64) -> String {
    crate::out::human(ps, 3).unwrap_or_else(|| "?".into())
}
