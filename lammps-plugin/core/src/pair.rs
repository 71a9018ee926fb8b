//! One pair style instance: settings + models + type map, and the force
//! evaluation of one MD step, chunk by chunk.

use crate::accumulate::{accumulate, Totals};
use crate::contract::NeighbourLayout;
use crate::deviation::Committee;
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
    /// The first model drives the dynamics; the others only enter the
    /// model deviation.
    models: Vec<Model>,
    typemap: Option<TypeMap>,
    pool: rayon::ThreadPool,
    batch: Batch,
    output: ModelOutput,
    scratch_forces: Vec<f64>,
    pub committee: Committee,
    ort_library: std::path::PathBuf,
}

impl PairEvaluator {
    /// `pair_style dprs ...`: loads ONNX Runtime (once per process) and the models.
    /// `built_with` is the libonnxruntime path recorded at build time.
    pub fn new(settings: Settings, built_with: Option<&str>) -> Result<Self, DprsError> {
        let candidates = runtime::candidates(
            settings.ort_lib.as_deref(),
            |k| std::env::var(k).ok(),
            built_with,
        );
        let library = runtime::choose(&candidates)?;
        let env = runtime::environment(&library)?;
        let models = settings
            .models
            .iter()
            .map(|p| Model::load(p, env, settings.threads, &settings.device))
            .collect::<Result<Vec<_>, _>>()?;
        let first = &models[0];
        for m in &models[1..] {
            if m.contract.type_map != first.contract.type_map {
                return Err(DprsError::model(
                    &m.path,
                    format!(
                        "has type_map {:?} but '{}' has {:?}; a committee must share one type map",
                        m.contract.type_map,
                        first.path.display(),
                        first.contract.type_map
                    ),
                ));
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.threads)
            .thread_name(|i| format!("dprs-env-{i}"))
            .build()
            .map_err(|e| DprsError::Runtime(format!("could not start worker threads: {e}")))?;
        let committee = Committee::new(settings.deviation.clone(), models.len());
        Ok(PairEvaluator {
            settings,
            models,
            typemap: None,
            pool,
            batch: Batch::default(),
            output: ModelOutput::default(),
            scratch_forces: Vec::new(),
            committee,
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
            &self.models[0].contract.type_map,
        )?);
        Ok(())
    }

    pub fn nmodels(&self) -> usize {
        self.models.len()
    }

    /// Interaction cutoff in Å (LAMMPS adds its skin on top): the largest
    /// of the committee, so that every model sees its whole environment.
    pub fn cutoff(&self) -> f64 {
        self.models
            .iter()
            .map(|m| m.contract.rcut)
            .fold(0.0, f64::max)
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
        let device = match self.settings.device {
            Device::Cpu => "cpu".to_string(),
            Device::Cuda(id) => format!("cuda:{id}"),
        };
        let mut text = String::new();
        for (k, m) in self.models.iter().enumerate() {
            let c = &m.contract;
            let layout = match &c.layout {
                NeighbourLayout::Any => "any".to_string(),
                NeighbourLayout::TypeSel { sel } => format!("type_sel {sel:?}"),
            };
            text += &format!(
                "dprs: model {k} '{}'{} type_map {:?} rcut {} Å nlist {} precision {}\n",
                m.path.display(),
                c.model_name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                c.type_map,
                c.rcut,
                layout,
                match m.precision {
                    Precision::F64 => "fp64",
                    Precision::F32 => "fp32",
                },
            );
        }
        text += &format!(
            "dprs: ONNX Runtime '{}' device {} threads {} chunk {} atoms",
            self.ort_library.display(),
            device,
            self.settings.threads,
            self.settings.chunk_atoms,
        );
        if self.models.len() > 1 {
            let d = &self.settings.deviation;
            text += &format!(
                "\ndprs: model deviation of {} models every {} steps to '{}'{}",
                self.models.len(),
                d.out_freq,
                d.out_file.display(),
                if d.atomic {
                    " (with per-atom columns)"
                } else {
                    ""
                }
            );
        }
        text
    }

    /// One force evaluation with the first model; adds into the arrays of
    /// `out`. When `deviation` is set, every model of the committee is also
    /// evaluated into `committee.forces`/`committee.virials`.
    pub fn compute(
        &mut self,
        nb: &Neighbourhood,
        out: &mut Outputs,
        deviation: bool,
    ) -> Result<StepReport, DprsError> {
        let typemap = self.typemap.as_ref().ok_or_else(|| {
            DprsError::Coeff("pair_coeff * * ... must come before the first run".into())
        })?;
        let nall = nb.types.len();
        let nmodels = if deviation { self.models.len() } else { 1 };
        if deviation {
            self.committee.reset(nall);
        }
        let mut report = StepReport::default();
        let n = nb.centres.len();
        let chunk = self.settings.chunk_atoms.max(1);
        for k in 0..nmodels {
            let model = &mut self.models[k];
            let (rcut, layout, precision) = (
                model.contract.rcut,
                model.contract.layout.clone(),
                model.precision,
            );
            let mut model_totals = Totals::default();
            if deviation {
                self.scratch_forces.clear();
                self.scratch_forces.resize(3 * nall, 0.0);
            }
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
                model.run(batch, &mut self.output)?;
                if k == 0 {
                    accumulate(batch, &self.output, out, &mut report.totals);
                    report.dropped += batch.dropped;
                    report.centres_dropping += batch.centres_dropping;
                }
                if deviation {
                    let mut mine = Outputs {
                        f: &mut self.scratch_forces,
                        eatom: None,
                        vatom: None,
                        cvatom: None,
                    };
                    accumulate(batch, &self.output, &mut mine, &mut model_totals);
                }
            }
            if deviation {
                let w = 3 * self.models.len();
                for (i, fi) in self.scratch_forces.chunks_exact(3).enumerate() {
                    self.committee.forces[i * w + 3 * k..i * w + 3 * k + 3].copy_from_slice(fi);
                }
                self.committee.virials[k] = model_totals.virial9();
            }
        }
        Ok(report)
    }
}
