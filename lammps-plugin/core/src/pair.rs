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
    /// Centres with a neighbour closer than the model's `dprs.rmin`.
    pub too_close: usize,
    /// The closest such pair: (distance in Å, id of the centre, id of the
    /// neighbour), LAMMPS ids (−1 when ids were not passed).
    pub closest: Option<(f64, i64, i64)>,
}

/// Largest number of atom ids a non-finite-output error lists.
pub const MAX_IDS_SHOWN: usize = 20;

/// Rows (centres) of `batch` whose energy or dE/drij is NaN or ±Inf.
pub fn non_finite_rows(batch: &Batch, output: &ModelOutput) -> Vec<usize> {
    let nnei = batch.nnei;
    (0..batch.nloc)
        .filter(|&row| {
            !output.atom_energy[row].is_finite()
                || output.de_drij[3 * nnei * row..3 * nnei * (row + 1)]
                    .iter()
                    .any(|v| !v.is_finite())
        })
        .collect()
}

/// Per row with a neighbour closer than `rmin`: (row, distance, neighbour atom),
/// the nearest such neighbour of the row.
pub fn rows_closer_than(batch: &Batch, rmin: f64) -> Vec<(usize, f64, usize)> {
    let nnei = batch.nnei;
    let rmin2 = rmin * rmin;
    let mut out = Vec::new();
    for row in 0..batch.nloc {
        let mut best: Option<(f64, usize)> = None;
        for slot in row * nnei..(row + 1) * nnei {
            let j = batch.slot_atom[slot];
            if j < 0 {
                continue;
            }
            let r = &batch.rij[3 * slot..3 * slot + 3];
            let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
            if r2 < rmin2 && best.is_none_or(|(b, _)| r2 < b) {
                best = Some((r2, j as usize));
            }
        }
        if let Some((r2, j)) = best {
            out.push((row, r2.sqrt(), j));
        }
    }
    out
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
            runtime::this_library().and_then(|me| runtime::beside_plugin(&me)),
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

    /// `dprs.rmin` of the model driving the dynamics, if it declares one.
    pub fn rmin(&self) -> Option<f64> {
        self.models[0].contract.rmin
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
                NeighbourLayout::Any { cap: None } => "any".to_string(),
                NeighbourLayout::Any { cap: Some(n) } => format!("any (at most {n} neighbours)"),
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
                model.rij_precision(),
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
                let output = &mut self.output;
                // a model's stage runs on the pair style's threads
                self.pool.install(|| model.run(batch, output))?;
                let bad = non_finite_rows(batch, &self.output);
                if !bad.is_empty() {
                    let mut ids: Vec<(i64, usize)> = bad
                        .iter()
                        .map(|&row| {
                            let i = batch.centre[row];
                            (nb.ids.get(i).unwrap_or(i as i64), i)
                        })
                        .collect();
                    ids.sort_unstable();
                    let shown: Vec<String> = ids
                        .iter()
                        .take(MAX_IDS_SHOWN)
                        .map(|&(_, i)| nb.ids.describe(i))
                        .collect();
                    return Err(DprsError::Eval(format!(
                        "model '{}' returned NaN or Inf for {} atom(s) on this rank, atom ids {}{}; \
                         the forces are unusable so the run stops: look for overlapping atoms or a \
                         blown-up trajectory near those atoms (smaller timestep, minimise first), \
                         or a broken model",
                        model.path.display(),
                        ids.len(),
                        shown.join(" "),
                        if ids.len() > MAX_IDS_SHOWN {
                            format!(" (first {MAX_IDS_SHOWN} shown)")
                        } else {
                            String::new()
                        }
                    )));
                }
                if let (0, Some(rmin)) = (k, model.contract.rmin) {
                    for (row, r, j) in rows_closer_than(batch, rmin) {
                        report.too_close += 1;
                        if report.closest.is_none_or(|(b, _, _)| r < b) {
                            let i = batch.centre[row];
                            let id = |a: usize| nb.ids.get(a).unwrap_or(-1);
                            report.closest = Some((r, id(i), id(j)));
                        }
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two centres (atoms 4 and 7) with two slots each; slot 3 is padding.
    fn batch() -> Batch {
        Batch {
            nloc: 2,
            nnei: 2,
            rij: vec![1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0],
            slot_atom: vec![7, 9, 4, -1],
            centre: vec![4, 7],
            ..Batch::default()
        }
    }

    #[test]
    fn non_finite_values_are_found_per_centre() {
        let b = batch();
        let mut out = ModelOutput {
            atom_energy: vec![1.0, 2.0],
            de_drij: vec![0.0; 12],
        };
        assert!(non_finite_rows(&b, &out).is_empty());
        out.de_drij[7] = f64::INFINITY; // row 1, slot 0
        assert_eq!(non_finite_rows(&b, &out), vec![1]);
        out.atom_energy[0] = f64::NAN;
        assert_eq!(non_finite_rows(&b, &out), vec![0, 1]);
    }

    #[test]
    fn closest_neighbour_below_rmin_per_centre() {
        let b = batch();
        assert!(rows_closer_than(&b, 0.5).is_empty());
        assert_eq!(rows_closer_than(&b, 1.5), vec![(0, 0.5, 9)]);
        assert_eq!(
            rows_closer_than(&b, 4.0),
            vec![(0, 0.5, 9), (1, 3.0, 4)],
            "padding slots are ignored"
        );
    }
}
