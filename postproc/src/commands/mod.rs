//! The subcommands: read the dump once, feed the analyses, write CSV/JSON/PNG.

pub mod arrhenius;
pub mod chains;
pub mod flux;
mod report;
pub mod runreport;
pub mod seedb;
pub mod twopt;

use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::msd::MsdCollector;
use dprs_analysis::analysis::select::{parse_id_list, Selection};
use dprs_analysis::analysis::vacf::Vacf;
use dprs_analysis::dump::{self, DumpInfo, ReadOptions};
pub(crate) use dprs_analysis::runs::fit::FittedMsd;
use dprs_analysis::runs::fit::{self, FitOptions};
pub(crate) use dprs_analysis::runs::fmt_ps;
pub(crate) use dprs_analysis::runs::msd::PLANES;
use dprs_analysis::runs::msd::{self as runs_msd, MsdOptions};
pub(crate) use dprs_analysis::runs::pass::Pass;
use dprs_analysis::runs::rdf::{self as runs_rdf, RdfOptions};
use dprs_analysis::runs::vdos::{self as runs_vdos, VdosOptions};
use dprs_analysis::runs::{lag, pass};
use dprs_analysis::source::{Source, Trajectory};
use dprs_analysis::time::{self, Clock};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Clone)]
pub struct InputArgs {
    /// Dump files (plain, .gz, .zst) or globs such as 'dump.*.lammpstrj', read in order.
    #[arg(required = true)]
    pub dump: Vec<String>,
    /// Use every n-th frame only.
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    /// Stop after this many frames.
    #[arg(long)]
    pub max_frames: Option<usize>,
    /// Folder for the CSV, JSON and PNG outputs.
    #[arg(long, short, default_value = "postproc-out")]
    pub out: PathBuf,
    /// Print the summary as JSON on stdout (and nothing else).
    #[arg(long)]
    pub json: bool,
    /// Do not draw PNG figures.
    #[arg(long)]
    pub no_plot: bool,
    /// Frames handed over in memory (the Python module), read instead of `dump`.
    #[arg(skip)]
    pub frames: Option<Arc<Trajectory>>,
}

impl InputArgs {
    /// Where the frames come from: the trajectory in memory when there is
    /// one, else the dumps named on the command line.
    pub fn source(&self) -> Result<Source> {
        Ok(match &self.frames {
            Some(t) => Source::Frames(t.clone()),
            None => Source::Dump(dump::expand(&self.dump)?),
        })
    }
}

#[derive(Args, Clone)]
pub struct TimeArgs {
    /// Time between consecutive frames, ps (units accepted: 10fs, 0.01ps).
    #[arg(long, conflicts_with_all = ["timestep", "log"])]
    pub dt: Option<String>,
    /// Time per MD step, ps (units accepted: 1fs); frames are their step difference apart.
    #[arg(long, conflicts_with = "log")]
    pub timestep: Option<String>,
    /// LAMMPS log to take `units` and `timestep` from.
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct SelectArgs {
    /// Only these atom types (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub types: Option<Vec<u32>>,
    /// Only the atom ids listed in this file (ids or ranges a-b; '#' comments).
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// Also report every atom type separately.
    #[arg(long)]
    pub by_type: bool,
}

#[derive(Args, Clone)]
pub struct FitArgs {
    /// Start of the MSD fit window, ps (default: a tenth of a time block).
    #[arg(long)]
    pub fit_from: Option<f64>,
    /// End of the MSD fit window, ps (default: half a time block).
    #[arg(long)]
    pub fit_to: Option<f64>,
    /// Number of time blocks for the error of D (at least 2).
    #[arg(long, default_value_t = 5)]
    pub blocks: usize,
}

#[derive(Args, Clone)]
pub struct VdosOpts {
    /// Temperature, K: with --mass, F(ν) follows eq. 10 literally.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Masses per type, g/mol, e.g. 1=40.078,2=15.999 (1:40.078 also works).
    #[arg(long, value_delimiter = ',')]
    pub mass: Option<Vec<String>>,
    /// Longest VACF lag, ps; the VDOS resolves nothing below 1/lag
    /// (default: 3 ps or a quarter of the run, whichever is shorter).
    #[arg(long)]
    pub max_lag_ps: Option<f64>,
}

#[derive(Args)]
pub struct MsdArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) time: TimeArgs,
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    #[command(flatten)]
    pub(crate) fit: FitArgs,
}

#[derive(Args)]
pub struct VdosArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) time: TimeArgs,
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    #[command(flatten)]
    pub(crate) vdos: VdosOpts,
}

#[derive(Args)]
pub struct DiffusionArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) time: TimeArgs,
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    #[command(flatten)]
    pub(crate) fit: FitArgs,
    #[command(flatten)]
    pub(crate) vdos: VdosOpts,
}

#[derive(Args)]
pub struct RdfArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Largest distance, Å (default: the smaller of 10 Å and half the narrowest box width).
    #[arg(long)]
    pub(crate) rmax: Option<f64>,
    /// Number of bins.
    #[arg(long, default_value_t = 200)]
    pub(crate) bins: usize,
}

impl TimeArgs {
    fn clock(&self) -> Result<Clock> {
        if let Some(dt) = &self.dt {
            return Ok(Clock::PerFrame(time::parse_ps(dt)?));
        }
        if let Some(ts) = &self.timestep {
            return Ok(Clock::PerStep(time::parse_ps(ts)?));
        }
        if let Some(log) = &self.log {
            return Ok(Clock::PerStep(time::timestep_from_log(log)?));
        }
        bail!(
            "no time between frames: pass --dt PS (time between frames), --timestep PS \
             (per MD step) or --log log.lammps; step numbers alone are not a time"
        )
    }
}

impl SelectArgs {
    fn id_set(&self) -> Result<Option<HashSet<u64>>> {
        let Some(path) = &self.ids else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        let set = parse_id_list(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(Some(set))
    }
}

pub(crate) fn read_opts(input: &InputArgs) -> ReadOptions {
    ReadOptions {
        every: input.every.max(1),
        max_frames: input.max_frames,
        progress: true,
    }
}

/// The time between analysed frames, ps; warnings about the steps go to stderr.
fn frame_dt(clock: Clock, info: &DumpInfo, every: usize) -> Result<f64> {
    // --every 0 reads every frame, as the reader takes it
    let (dt, warnings) = pass::frame_dt(clock, info, every.max(1))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(dt)
}

/// Peeks at the first two frames for the step spacing (needed before the
/// main pass when the VACF lag is given in ps and time comes per step).
fn early_dt(files: &[PathBuf], clock: Clock, every: usize) -> Result<f64> {
    early_dt_of(&Source::Dump(files.to_vec()), clock, every)
}

fn early_dt_of(source: &Source, clock: Clock, every: usize) -> Result<f64> {
    Ok(pass::early_dt(source, clock, every)?)
}

fn masses(opts: &VdosOpts) -> Result<HashMap<u32, f64>> {
    let mut m = HashMap::new();
    for item in opts.mass.iter().flatten() {
        let (t, v) = item
            .split_once(['=', ':'])
            .with_context(|| format!("--mass {item:?}: expected TYPE=MASS (or TYPE:MASS)"))?;
        let t: u32 = t
            .trim()
            .parse()
            .with_context(|| format!("--mass {item:?}: bad type"))?;
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("--mass {item:?}: bad mass"))?;
        if !v.is_finite() || v <= 0.0 {
            bail!("--mass {item:?}: the mass must be positive");
        }
        if m.insert(t, v).is_some() {
            bail!("--mass {item:?}: type {t} has a mass already");
        }
    }
    Ok(m)
}

/// Files each command writes, for [`keep_aside`].
pub(crate) const MSD_FILES: &[&str] = &["msd.csv", "msd.json", "msd.png"];
pub(crate) const VDOS_FILES: &[&str] =
    &["vacf.csv", "vdos.csv", "vdos.json", "vdos.png", "vacf.png"];
pub(crate) const RDF_FILES: &[&str] = &["rdf.csv", "rdf.json", "rdf.png"];

/// Creates `out` and moves the outputs of an earlier run of the same
/// command (those of `names` that exist) into `out/previous/`, replacing
/// what an even earlier run left there, and says so: results are never
/// overwritten silently, and files of different runs are never mixed.
pub(crate) fn keep_aside(out: &Path, names: &[&str]) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("--out {}", out.display()))?;
    // Each figure's SVG goes with its PNG.
    let svgs: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_suffix(".png"))
        .map(|stem| format!("{stem}.svg"))
        .collect();
    let found: Vec<&str> = names
        .iter()
        .copied()
        .chain(svgs.iter().map(String::as_str))
        .filter(|n| out.join(n).is_file())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let aside = out.join("previous");
    std::fs::create_dir_all(&aside).with_context(|| aside.display().to_string())?;
    for n in &found {
        std::fs::rename(out.join(n), aside.join(n)).with_context(|| {
            format!(
                "{} exists and cannot be moved to {}; pick another --out",
                out.join(n).display(),
                aside.display()
            )
        })?;
    }
    eprintln!(
        "note: {} already held {} from an earlier run: moved to {}",
        out.display(),
        found.join(", "),
        aside.display()
    );
    Ok(())
}

fn print_warnings(info: &DumpInfo) {
    for m in pass::reader_messages(info) {
        eprintln!("{m}");
    }
}

/// One pass over the input feeding the MSD and/or VACF collectors; what the
/// reader noticed goes to stderr.
fn run_pass(
    input: &InputArgs,
    select: &SelectArgs,
    by_type: bool,
    want_msd: bool,
    vacf_lag: Option<usize>,
) -> Result<Pass> {
    let source = input.source()?;
    let ids = select.id_set()?;
    let which = pass::Select {
        types: select.types.as_deref(),
        ids: ids.as_ref(),
        by_type,
    };
    let pass = pass::collect(&source, &read_opts(input), which, want_msd, vacf_lag)?;
    print_warnings(&pass.info);
    Ok(pass)
}

pub(crate) fn msd_with_window(
    fit: &FitArgs,
    collector: &MsdCollector,
    sel: &Selection,
    dt: f64,
) -> Result<FittedMsd> {
    Ok(fit::msd_with_window(&fit_options(fit), collector, sel, dt)?)
}

pub(crate) fn fit_options(fit: &FitArgs) -> FitOptions {
    FitOptions {
        fit_from: fit.fit_from,
        fit_to: fit.fit_to,
        blocks: fit.blocks,
    }
}

/// Prints each note as a warning and appends it to `summary["warnings"]`.
pub(crate) fn add_warnings(summary: &mut Value, notes: &[String]) {
    for n in notes {
        eprintln!("warning: {n}");
    }
    dprs_analysis::runs::summary::append_warnings(summary, notes);
}

pub fn msd(a: MsdArgs) -> Result<()> {
    let summary = msd_summary(&a)?;
    report::emit(&a.input, &summary, &report::msd_text(&summary))
}

/// The MSD and D per axis and plane; writes msd.csv/json/png and returns
/// the summary `--json` prints.
pub fn msd_summary(a: &MsdArgs) -> Result<Value> {
    let clock = a.time.clock()?;
    let source = a.input.source()?;
    let ids = a.select.id_set()?;
    let opts = MsdOptions {
        read: read_opts(&a.input),
        clock,
        select: pass::Select {
            types: a.select.types.as_deref(),
            ids: ids.as_ref(),
            by_type: a.select.by_type,
        },
        fit: fit_options(&a.fit),
    };
    let mut messages = Vec::new();
    let run = runs_msd::run(&source, &opts, &mut messages);
    for m in &messages {
        eprintln!("{m}");
    }
    let run = run?;
    keep_aside(&a.input.out, MSD_FILES)?;
    report::msd(&a.input, &run.info, &run.fitted, run.dt)
}

/// The VACF lag to collect, in frames.
fn vacf_lag(opts: &VdosOpts, dt: f64) -> Result<usize> {
    Ok(lag::frames(opts.max_lag_ps, dt)?)
}

/// Cuts the default VACF lag to a quarter of the run and says which lag is
/// used; returns warnings for a requested lag the run cannot give.
fn settle_lag(v: &mut Vacf, opts: &VdosOpts) -> Vec<String> {
    let settled = lag::settle(v, opts.max_lag_ps);
    if let Some(note) = settled.note {
        eprintln!("note: {note}");
    }
    settled.warnings
}

fn vdos_summary(
    input: &InputArgs,
    opts: &VdosOpts,
    pass: &Pass,
    vacf: &Vacf,
    notes: &[String],
) -> Result<Value> {
    let masses = masses(opts)?;
    let summarised = dprs_analysis::runs::vdos::summarise(
        &pass.info,
        &pass.sel,
        &pass.types,
        vacf,
        opts.temperature,
        &masses,
    )?;
    let mut s = report::vdos(input, summarised)?;
    add_warnings(&mut s, notes);
    s["max_lag_default"] = json!(opts.max_lag_ps.is_none());
    dprs_analysis::out::write_json(&input.out.join("vdos.json"), &s)?;
    Ok(s)
}

pub fn vdos(a: VdosArgs) -> Result<()> {
    let summary = vdos_run(&a)?;
    report::emit(&a.input, &summary, &report::vdos_text(&summary))
}

/// The VACF, VDOS and the D from F(0) and Green–Kubo; writes vacf.csv,
/// vdos.csv/json and the figures, and returns the summary `--json` prints.
pub fn vdos_run(a: &VdosArgs) -> Result<Value> {
    let clock = a.time.clock()?;
    let source = a.input.source()?;
    let ids = a.select.id_set()?;
    let opts = vdos_options(&a.input, clock, &a.select, ids.as_ref(), &a.vdos, false);
    let mut messages = Vec::new();
    let run = runs_vdos::run(&source, &opts, &mut messages);
    for m in &messages {
        eprintln!("{m}");
    }
    let run = run?;
    keep_aside(&a.input.out, VDOS_FILES)?;
    vdos_summary(&a.input, &a.vdos, &run.pass, &run.vacf, &run.lag_warnings)
}

/// The options of a VACF run from the command line's.
fn vdos_options<'a>(
    input: &InputArgs,
    clock: Clock,
    select: &'a SelectArgs,
    ids: Option<&'a HashSet<u64>>,
    vdos: &VdosOpts,
    with_msd: bool,
) -> VdosOptions<'a> {
    VdosOptions {
        read: read_opts(input),
        clock,
        select: pass::Select {
            types: select.types.as_deref(),
            ids,
            // masses are per type: each type needs a group of its own
            by_type: select.by_type || vdos.mass.is_some(),
        },
        max_lag_ps: vdos.max_lag_ps,
        with_msd,
    }
}

pub fn diffusion(a: DiffusionArgs) -> Result<()> {
    let summary = diffusion_summary(&a)?;
    let text = format!(
        "{}{}",
        report::msd_text(&summary),
        report::vdos_text(&summary)
    );
    report::emit(&a.input, &summary, &text)
}

/// MSD and VDOS from one pass; writes the files of both and returns their
/// summaries merged, as `--json` prints it.
pub fn diffusion_summary(a: &DiffusionArgs) -> Result<Value> {
    let clock = a.time.clock()?;
    let source = a.input.source()?;
    let ids = a.select.id_set()?;
    let opts = vdos_options(&a.input, clock, &a.select, ids.as_ref(), &a.vdos, true);
    let mut messages = Vec::new();
    let run = runs_vdos::run(&source, &opts, &mut messages);
    for m in &messages {
        eprintln!("{m}");
    }
    let run = run?;
    let (pass, dt) = (&run.pass, run.dt);
    let fm = msd_with_window(&a.fit, pass.msd.as_ref().expect("asked for"), &pass.sel, dt)?;
    keep_aside(&a.input.out, &[MSD_FILES, VDOS_FILES].concat())?;
    let mut summary = report::msd(&a.input, &pass.info, &fm, dt)?;
    let v = vdos_summary(&a.input, &a.vdos, pass, &run.vacf, &run.lag_warnings)?;
    if let (Value::Object(s), Value::Object(v)) = (&mut summary, v) {
        for (k, val) in v {
            match (s.get_mut(&k), val) {
                (Some(Value::Array(mine)), Value::Array(theirs)) if k == "warnings" => {
                    for w in theirs {
                        if !mine_has(mine, &w) {
                            mine.push(w);
                        }
                    }
                }
                (_, val) => {
                    s.entry(k).or_insert(val);
                }
            }
        }
    }
    Ok(summary)
}

pub fn rdf(a: RdfArgs) -> Result<()> {
    let summary = rdf_summary(&a)?;
    report::emit(&a.input, &summary, &report::rdf_text(&summary))
}

/// g(r), its partials and coordination numbers; writes rdf.csv/json/png and
/// returns the summary `--json` prints.
pub fn rdf_summary(a: &RdfArgs) -> Result<Value> {
    let source = a.input.source()?;
    let opts = RdfOptions {
        read: read_opts(&a.input),
        rmax: a.rmax,
        bins: a.bins,
    };
    let mut messages = Vec::new();
    let run = runs_rdf::run(&source, &opts, &mut messages);
    for m in &messages {
        eprintln!("{m}");
    }
    let run = run?;
    keep_aside(&a.input.out, RDF_FILES)?;
    report::rdf(&a.input, &run.info, &run.rdf)
}

fn mine_has(list: &[Value], w: &Value) -> bool {
    list.iter().any(|x| x == w)
}
