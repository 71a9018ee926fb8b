//! The physics of `pair_style dprs`, free of LAMMPS symbols so that it can be
//! unit-tested and reused without a running LAMMPS.
//!
//! One force evaluation flows top to bottom through these modules:
//! settings and type map (what the user asked for) → model (an ONNX Runtime
//! session that honours the `local-v1` contract) → environments (padded
//! per-chunk neighbour inputs) → stage (compressed models only: the
//! embedding contraction the graph takes instead of the neighbours) → accumulate (forces, energies, virials);
//! deviation adds the committee statistics DP-GEN reads.

pub mod accumulate;
pub mod contract;
pub mod deviation;
pub mod environments;
pub mod error;
pub mod model;
pub mod pair;
pub mod runtime;
pub mod settings;
pub mod stage;
pub mod typemap;

pub use environments::{AtomIds, Neighbourhood};
pub use error::DprsError;
pub use pair::{Outputs, PairEvaluator, StepReport};
pub use settings::Settings;
