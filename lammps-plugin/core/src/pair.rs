//! One pair style instance: settings + model + type map, and the force
//! evaluation of one MD step, chunk by chunk.

use crate::accumulate::{accumulate, Totals};
use crate::environments::{self, Batch, Neighbourhood};
use crate::error::DprsError;
use crate::model::{Model, ModelOutput, Precision};
use crate::runtime;
use crate::settings::{Device, Settings};
use crate::typemap::TypeMap;

pub use crate::accumulate::Outputs;

/// What one step produced besides the per-atom arrays.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct StepReport {
    pub totals: Totals,
    /// Neighbours inside rcut left out because their type_sel section was full.
    pub dropped: usize,
    pub centres_dropping: usize,
}

pub struct PairEvaluator {
    pub settings: Settings,
    model: Model,
    typemap: Option<TypeMap>,
    pool: rayon::ThreadPool,
    batch: Batch,
    output: ModelOutput,
    ort_library: std::path::PathBuf,
}

impl PairEvaluator {
    /// `pair_style dprs ...`: loads ONNX Runtime (once per process) and the model.
    /// `built_with` is the libonnxruntime path recorded at build time.
    pub fn new(settings: Settings, built_with: Option<&str>) -> Result<Self, DprsError> {
        let candidates = runtime::candidates(
            settings.ort_lib.as_deref(),
            |k| std::env::var(k).ok(),
            built_with,
        );
        let library = runtime::choose(&candidates)?;
        let env = runtime::environment(&library)?;
        let model = Model::load(&settings.models[0], env, settings.threads, &settings.device)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads)
            .thread_name(|i| format!("dprs-env-{i}"))
            .build()
            .map_err(|e| DprsError::Runtime(format!("could not start worker threads: {e}")))?;
        Ok(PairEvaluator {
            settings,
            model,
            typemap: None,
            pool,
            batch: Batch::default(),
            output: ModelOutput::default(),
            ort_library: library,
        })
    }

    /// `pair_coeff * * El1 El2 ...`.
    pub fn set_type_map<S: AsRef<str>>(
        &mut self,
        args: &[S],
        ntypes: usize,
    ) -> Result<(), DprsError> {
        self.typemap = Some(TypeMap::from_pair_coeff(
            args,
            ntypes,
            &self.model.contract.type_map,
        )?);
        Ok(())
    }

    /// Interaction cutoff in Å (LAMMPS adds its skin on top).
    pub fn cutoff(&self) -> f64 {
        self.model.contract.rcut
    }

    /// Checks made when LAMMPS initialises the run.
    pub fn check_setup(&self, units: &str, newton_pair: bool) -> Result<(), DprsError> {
        if units != "metal" {
            return Err(DprsError::Setup(format!(
                "units {units} is not supported: dprs models work in eV and Å; use 'units metal'"
            )));
        }
        if !newton_pair {
            return Err(DprsError::Setup(
                "newton pair off is not supported: forces on ghost atoms must be reverse-communicated; \
                 use 'newton on' (the default)"
                    .into(),
            ));
        }
        if self.typemap.is_none() {
            return Err(DprsError::Coeff(
                "no pair_coeff was given; add 'pair_coeff * * El1 El2 ...' naming one element per atom type".into(),
            ));
        }
        Ok(())
    }

    /// Human-readable description for the LAMMPS log.
    pub fn summary(&self) -> String {
        let c = &self.model.contract;
        let layout = match &c.layout {
            crate::contract::NeighbourLayout::Any => "any".to_string(),
            crate::contract::NeighbourLayout::TypeSel { sel } => format!("type_sel {sel:?}"),
        };
        let device = match self.settings.device {
            Device::Cpu => "cpu".to_string(),
            Device::Cuda(id) => format!("cuda:{id}"),
        };
        format!(
            "dprs: model '{}'{} type_map {:?} rcut {} Å nlist {} precision {} | ONNX Runtime '{}' \
             device {} threads {} chunk {} atoms",
            self.model.path.display(),
            c.model_name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            c.type_map,
            c.rcut,
            layout,
            match self.model.precision {
                Precision::F64 => "fp64",
                Precision::F32 => "fp32",
            },
            self.ort_library.display(),
            device,
            self.settings.threads,
            self.settings.chunk_atoms,
        )
    }

    /// One force evaluation; adds into the arrays of `out`.
    pub fn compute(
        &mut self,
        nb: &Neighbourhood,
        out: &mut Outputs,
    ) -> Result<StepReport, DprsError> {
        let typemap = self.typemap.as_ref().ok_or_else(|| {
            DprsError::Coeff("pair_coeff * * ... must come before the first run".into())
        })?;
        let mut report = StepReport::default();
        let n = nb.centres.len();
        let chunk = self.settings.chunk_atoms.max(1);
        let (rcut, layout, precision) = (
            self.model.contract.rcut,
            self.model.contract.layout.clone(),
            self.model.precision,
        );
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let batch = &mut self.batch;
            self.pool.install(|| {
                environments::build(batch, nb, start..end, typemap, rcut, &layout, precision)
            });
            start = end;
            if batch.nloc == 0 {
                continue;
            }
            self.model.run(batch, &mut self.output)?;
            accumulate(batch, &self.output, out, &mut report.totals);
            report.dropped += batch.dropped;
            report.centres_dropping += batch.centres_dropping;
        }
        Ok(report)
    }
}
