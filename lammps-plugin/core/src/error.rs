//! Errors at the library edge. Every message names what is wrong and how to
//! fix it, because the plugin shows it verbatim as a LAMMPS ERROR.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DprsError {
    /// Bad `pair_style dprs ...` arguments.
    #[error("pair_style dprs: {0}")]
    Syntax(String),
    /// Bad `pair_coeff * * ...` arguments.
    #[error("pair_coeff for pair_style dprs: {0}")]
    Coeff(String),
    /// The model file is missing, unreadable, or breaks the model contract.
    #[error("model file '{}': {msg}", path.display())]
    Model { path: PathBuf, msg: String },
    /// ONNX Runtime could not be found or initialised.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// The LAMMPS setup is one dprs cannot serve (units, newton, ...).
    #[error("pair_style dprs: {0}")]
    Setup(String),
    /// ONNX Runtime failed while evaluating the model.
    #[error("pair_style dprs: model evaluation failed: {0}")]
    Eval(String),
}

impl DprsError {
    pub fn model(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        DprsError::Model {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
