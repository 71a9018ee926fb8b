//! One ONNX Runtime session of a `local-v1` model: interface checks at load
//! time, then one call per chunk of atoms (through the model's stage, when it
//! has one).

use crate::contract::{self, Contract, NeighbourLayout};
use crate::environments::Batch;
use crate::error::DprsError;
use crate::settings::Device;
use crate::stage::ChebyshevStage;
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
    /// `dprs.stage`: the graph takes the stage's `A` instead of the
    /// neighbours and returns dE/dA.
    stage: Option<ChebyshevStage>,
    stage_a: Vec<f64>,
    stage_a_f32: Vec<f32>,
    stage_grad: Vec<f64>,
}

/// Model outputs of one chunk, widened to f64.
#[derive(Debug, Default, Clone)]
pub struct ModelOutput {
    pub atom_energy: Vec<f64>,
    pub de_drij: Vec<f64>,
}

pub const INPUTS: [&str; 3] = ["rij", "nbr_type", "atype"];
pub const OUTPUTS: [&str; 2] = ["atom_energy", "dE_drij"];
pub const STAGE_INPUTS: [&str; 2] = ["cheb_a", "atype"];
pub const STAGE_OUTPUTS: [&str; 2] = ["atom_energy", "dE_dcheb_a"];

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
        let stage = match metadata.custom("dprs.stage") {
            None => None,
            Some(text) => match &contract.layout {
                NeighbourLayout::TypeSel { sel } => {
                    Some(ChebyshevStage::parse(&text, sel).map_err(err)?)
                }
                NeighbourLayout::Any { .. } => {
                    return Err(err("has a 'dprs.stage' but dprs.nlist 'any'; the stage \
                                    needs the type_sel layout: re-export the model"
                        .to_string()))
                }
            },
        };
        drop(metadata);
        let precision = match &stage {
            None => check_interface(&session, "rij", &INPUTS, &OUTPUTS),
            Some(_) => check_interface(&session, "cheb_a", &STAGE_INPUTS, &STAGE_OUTPUTS),
        }
        .map_err(err)?;
        Ok(Model {
            session,
            contract,
            precision,
            path: path.to_path_buf(),
            stage,
            stage_a: Vec::new(),
            stage_a_f32: Vec::new(),
            stage_grad: Vec::new(),
        })
    }

    /// Precision the environments must provide `rij` in: a stage reads f64.
    pub fn rij_precision(&self) -> Precision {
        if self.stage.is_some() {
            Precision::F64
        } else {
            self.precision
        }
    }

    /// Runs one chunk and returns its outputs widened to f64.
    pub fn run(&mut self, batch: &Batch, out: &mut ModelOutput) -> Result<(), DprsError> {
        if self.stage.is_some() {
            return self.run_staged(batch, out);
        }
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

impl Model {
    fn run_staged(&mut self, batch: &Batch, out: &mut ModelOutput) -> Result<(), DprsError> {
        let Some(stage) = &self.stage else {
            return Err(DprsError::Eval("run_staged without a stage".into()));
        };
        let nloc = batch.nloc;
        let (w, path) = (stage.width, &self.path);
        let staged = |m: String| DprsError::Eval(format!("{}: {m}", path.display()));
        stage.forward(batch, &mut self.stage_a).map_err(staged)?;
        let eval = |e: ort::Error| DprsError::Eval(e.to_string());
        let atype = TensorRef::from_array_view(([nloc], &batch.atype[..])).map_err(eval)?;
        let outputs = match self.precision {
            Precision::F64 => {
                let a =
                    TensorRef::from_array_view(([nloc, 4, w], &self.stage_a[..])).map_err(eval)?;
                self.session
                    .run(ort::inputs!["cheb_a" => a, "atype" => atype])
                    .map_err(eval)?
            }
            Precision::F32 => {
                self.stage_a_f32.clear();
                self.stage_a_f32
                    .extend(self.stage_a.iter().map(|&v| v as f32));
                let a = TensorRef::from_array_view(([nloc, 4, w], &self.stage_a_f32[..]))
                    .map_err(eval)?;
                self.session
                    .run(ort::inputs!["cheb_a" => a, "atype" => atype])
                    .map_err(eval)?
            }
        };
        for (name, buf, want) in [
            ("atom_energy", &mut out.atom_energy, nloc),
            ("dE_dcheb_a", &mut self.stage_grad, nloc * 4 * w),
        ] {
            buf.clear();
            match self.precision {
                Precision::F64 => {
                    let (_, data) = outputs[name].try_extract_tensor::<f64>().map_err(eval)?;
                    buf.extend_from_slice(data);
                }
                Precision::F32 => {
                    let (_, data) = outputs[name].try_extract_tensor::<f32>().map_err(eval)?;
                    buf.extend(data.iter().map(|&v| v as f64));
                }
            }
            if buf.len() != want {
                return Err(staged(format!(
                    "output '{name}' has {} values for {nloc} atoms, expected {want}: the model \
                     breaks the local-v1 contract",
                    buf.len()
                )));
            }
        }
        stage
            .backward(batch, &self.stage_grad, &mut out.de_drij)
            .map_err(staged)
    }
}

/// Checks the inputs and outputs of the graph; returns the precision, which
/// the element type of `first` declares.
fn check_interface(
    session: &Session,
    first: &str,
    inputs: &[&str],
    outputs: &[&str],
) -> Result<Precision, String> {
    let tensor_type = |outlets: &[ort::value::Outlet],
                       name: &str|
     -> Result<TensorElementType, String> {
        let outlet = outlets.iter().find(|o| o.name() == name).ok_or_else(|| {
            let have: Vec<&str> = outlets.iter().map(|o| o.name()).collect();
            format!(
                "has no '{name}' (it has {have:?}); local-v1 needs inputs {inputs:?} and outputs {outputs:?}"
            )
        })?;
        match outlet.dtype() {
            ValueType::Tensor { ty, .. } => Ok(*ty),
            other => Err(format!("'{name}' is {other:?}, not a tensor")),
        }
    };
    let rij = tensor_type(session.inputs(), first)?;
    let precision = match rij {
        TensorElementType::Float64 => Precision::F64,
        TensorElementType::Float32 => Precision::F32,
        other => {
            return Err(format!(
                "input '{first}' is {other:?}; it must be float64 or float32"
            ))
        }
    };
    for name in inputs.iter().filter(|n| **n != first) {
        let t = tensor_type(session.inputs(), name)?;
        if t != TensorElementType::Int64 {
            return Err(format!("input '{name}' is {t:?}; it must be int64"));
        }
    }
    for name in outputs {
        let t = tensor_type(session.outputs(), name)?;
        if t != rij {
            return Err(format!(
                "output '{name}' is {t:?} but input '{first}' is {rij:?}; they must match"
            ));
        }
    }
    Ok(precision)
}
