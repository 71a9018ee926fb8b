//! Analyses: plain accumulators over frames, independent of files and CLI.

pub mod correlate;
pub mod diffusion;
pub mod msd;
pub mod rdf;
pub mod select;
pub mod vacf;
