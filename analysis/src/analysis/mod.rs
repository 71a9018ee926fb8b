//! Analyses: plain accumulators over frames, independent of files and CLI.

pub mod arrhenius;
pub mod chains;
pub mod correlate;
pub mod diffusion;
pub mod flux;
pub mod lattice;
pub mod msd;
pub mod rdf;
pub mod select;
pub mod twopt;
pub mod vacf;
pub mod window;
