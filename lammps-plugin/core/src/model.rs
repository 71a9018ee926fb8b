//! One ONNX Runtime session of a `local-v1` model: interface checks at load
//! time, then one call per chunk of atoms.

use crate::contract::{self, Contract};
use crate::environments::Batch;
use crate::error::DprsError;
use crate::settings::Device;
use ort::ep;
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef, ValueType};
use std::path::{Path, PathBuf};

/// Floating-point precision the model declares for `rij` and its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    F32,
    F64,
}

pub struct Model {
    session: Session,
    pub contract: Contract,
    pub precision: Precision,
    pub path: PathBuf,
}

/// Model outputs of one chunk, widened to f64.
#[derive(Debug, Default, Clone)]
pub struct ModelOutput {
    pub atom_energy: Vec<f64>,
    pub de_drij: Vec<f64>,
}

pub const INPUTS: [&str; 3] = ["rij", "nbr_type", "atype"];
pub const OUTPUTS: [&str; 2] = ["atom_energy", "dE_drij"];

impl Model {
    pub fn load(
        path: &Path,
        env: &ort::environment::Environment,
        threads: usize,
        device: &Device,
    ) -> Result<Model, DprsError> {
        let err = |m: String| DprsError::model(path, m);
        if !path.is_file() {
            let cwd = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            return Err(err(format!(
                "not found (working directory: {cwd}); give the path of an existing .onnx file"
            )));
        }
        let mut builder = Session::builder(env)
            .and_then(|b| Ok(b.with_intra_threads(threads)?))
            .and_then(|b| Ok(b.with_inter_threads(1)?))
            .and_then(|b| Ok(b.with_intra_op_spinning(false)?))
            .and_then(|b| Ok(b.with_inter_op_spinning(false)?))
            .map_err(|e| DprsError::Runtime(format!("could not configure a session: {e}")))?;
        if let Device::Cuda(id) = device {
            builder = builder
                .with_execution_providers([ep::CUDA::default()
                    .with_device_id(*id)
                    .build()
                    .error_on_failure()])
                .map_err(|e| {
                    DprsError::Runtime(format!(
                        "device cuda:{id} is not available ({e}); use an onnxruntime-gpu build \
                         (DPRS_ORT_LIB) with CUDA libraries on LD_LIBRARY_PATH, or device cpu"
                    ))
                })?;
        }
        let session = builder.commit_from_file(path).map_err(|e| {
            err(format!(
                "is not a loadable ONNX model ({e}); check that the file is an .onnx export \
                 (DeePMD .pb/.pth files must be converted first)"
            ))
        })?;
        let metadata = session
            .metadata()
            .map_err(|e| err(format!("has unreadable metadata: {e}")))?;
        let contract = contract::parse(|k| metadata.custom(k)).map_err(err)?;
        drop(metadata);
        let precision = check_interface(&session).map_err(err)?;
        Ok(Model {
            session,
            contract,
            precision,
            path: path.to_path_buf(),
        })
    }

    /// Runs one chunk and returns its outputs widened to f64.
    pub fn run(&mut self, batch: &Batch, out: &mut ModelOutput) -> Result<(), DprsError> {
        let (nloc, nnei) = (batch.nloc, batch.nnei);
        let eval = |e: ort::Error| DprsError::Eval(e.to_string());
        let nbr_type =
            TensorRef::from_array_view(([nloc, nnei], &batch.nbr_type[..])).map_err(eval)?;
        let atype = TensorRef::from_array_view(([nloc], &batch.atype[..])).map_err(eval)?;
        let outputs = match self.precision {
            Precision::F64 => {
                let rij =
                    TensorRef::from_array_view(([nloc, nnei, 3], &batch.rij[..])).map_err(eval)?;
                self.session
                    .run(ort::inputs!["rij" => rij, "nbr_type" => nbr_type, "atype" => atype])
                    .map_err(eval)?
            }
            Precision::F32 => {
                let rij = TensorRef::from_array_view(([nloc, nnei, 3], &batch.rij_f32[..]))
                    .map_err(eval)?;
                self.session
                    .run(ort::inputs!["rij" => rij, "nbr_type" => nbr_type, "atype" => atype])
                    .map_err(eval)?
            }
        };
        let expect = [nloc, nloc * nnei * 3];
        for ((name, buf), want) in OUTPUTS
            .iter()
            .zip([&mut out.atom_energy, &mut out.de_drij])
            .zip(expect)
        {
            let value = &outputs[*name];
            buf.clear();
            match self.precision {
                Precision::F64 => {
                    let (_, data) = value.try_extract_tensor::<f64>().map_err(eval)?;
                    buf.extend_from_slice(data);
                }
                Precision::F32 => {
                    let (_, data) = value.try_extract_tensor::<f32>().map_err(eval)?;
                    buf.extend(data.iter().map(|&v| v as f64));
                }
            }
            if buf.len() != want {
                return Err(DprsError::Eval(format!(
                    "output '{name}' of '{}' has {} values for {nloc} atoms × {nnei} neighbours, \
                     expected {want}: the model breaks the local-v1 contract",
                    self.path.display(),
                    buf.len()
                )));
            }
        }
        Ok(())
    }
}

/// Checks the inputs and outputs the contract names; returns the precision.
fn check_interface(session: &Session) -> Result<Precision, String> {
    let tensor_type = |outlets: &[ort::value::Outlet],
                       name: &str|
     -> Result<TensorElementType, String> {
        let outlet = outlets.iter().find(|o| o.name() == name).ok_or_else(|| {
            let have: Vec<&str> = outlets.iter().map(|o| o.name()).collect();
            format!(
                "has no '{name}' (it has {have:?}); local-v1 needs inputs {INPUTS:?} and outputs {OUTPUTS:?}"
            )
        })?;
        match outlet.dtype() {
            ValueType::Tensor { ty, .. } => Ok(*ty),
            other => Err(format!("'{name}' is {other:?}, not a tensor")),
        }
    };
    let rij = tensor_type(session.inputs(), "rij")?;
    let precision = match rij {
        TensorElementType::Float64 => Precision::F64,
        TensorElementType::Float32 => Precision::F32,
        other => {
            return Err(format!(
                "input 'rij' is {other:?}; it must be float64 or float32"
            ))
        }
    };
    for name in ["nbr_type", "atype"] {
        let t = tensor_type(session.inputs(), name)?;
        if t != TensorElementType::Int64 {
            return Err(format!("input '{name}' is {t:?}; it must be int64"));
        }
    }
    for name in OUTPUTS {
        let t = tensor_type(session.outputs(), name)?;
        if t != rij {
            return Err(format!(
                "output '{name}' is {t:?} but input 'rij' is {rij:?}; they must match"
            ));
        }
    }
    Ok(precision)
}
