//! `postproc`: LAMMPS dump → MSD, D ± error, VACF/VDOS, g(r), flux maps,
//! chains, 2PT, Arrhenius fits, a report.
//!
//! The command line is a library so that the `postproc` executable and the
//! `postproc` command of the Python package run the same code; the analyses
//! themselves live in `dprs-analysis`. [`analyse`] runs one analysis the
//! way the command line does and hands back what `--json` prints plus the
//! CSV tables, for callers that want numbers rather than files.

mod commands;

use clap::{Parser, Subcommand};
use dprs_analysis::out::{capture_tables, Table};
use dprs_analysis::source::Trajectory;
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

pub use commands::arrhenius::ARRAYS_RUN;

#[derive(Parser)]
#[command(
    name = "postproc",
    version,
    about = "Diffusion analysis of LAMMPS dumps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mean-squared displacement and D per axis, with block-averaged errors.
    Msd(commands::MsdArgs),
    /// Velocity autocorrelation, vibrational density of states, D from F(0) and Green–Kubo.
    Vdos(commands::VdosArgs),
    /// MSD and VDOS in one pass over the dump.
    Diffusion(commands::DiffusionArgs),
    /// Radial distribution functions g(r), partials and coordination numbers.
    Rdf(commands::RdfArgs),
    /// Flux maps F_x(y,z), F_y(x,z), F_z(x,y) (Wang et al., Phys. Rev. X 11, 011006 (2021), eqs. 6–8) and crossings per lattice line.
    Flux(commands::flux::FluxArgs),
    /// Hops between lattice sites, cooperative chains, L turns, rings, diffusive fraction, cMSD.
    Chains(commands::chains::ChainsArgs),
    /// 2PT fluidicity f_g, dimensionless diffusivity Δ and the gas/solid split of the VDOS.
    Twopt(commands::twopt::TwoptArgs),
    /// Arrhenius fit ln D = ln D0 − Ea/kT over several runs (DUMP@T or CSV of T, D, D_err).
    Arrhenius(commands::arrhenius::ArrheniusArgs),
    /// Thermo columns (T, P, V, lattice lengths) from LAMMPS logs, vs step and vs T.
    Thermo(commands::seedb::ThermoArgs),
    /// Unwrapped trajectories of chosen atoms projected on a plane.
    Project(commands::seedb::ProjectArgs),
    /// Every analysis over a temperature series (DUMP@T ...) into one folder with index.html.
    Report(commands::runreport::ReportArgs),
}

/// Runs `postproc` with these arguments (the first is the program name),
/// printing errors and `--help` as the executable does.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that print to stdout and succeed
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Msd(a) => commands::msd(a),
        Command::Vdos(a) => commands::vdos(a),
        Command::Diffusion(a) => commands::diffusion(a),
        Command::Rdf(a) => commands::rdf(a),
        Command::Flux(a) => commands::flux::run(a),
        Command::Chains(a) => commands::chains::run(a),
        Command::Twopt(a) => commands::twopt::run(a),
        Command::Arrhenius(a) => commands::arrhenius::run(a),
        Command::Thermo(a) => commands::seedb::thermo(a),
        Command::Project(a) => commands::seedb::project(a),
        Command::Report(a) => commands::runreport::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// What one analysis found: the summary `--json` prints and the tables of
/// its CSV files at full precision.
pub struct Analysis {
    pub summary: serde_json::Value,
    pub tables: Vec<Table>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyseError {
    /// The arguments do not parse (clap's message, without the usage lines).
    #[error("{0}")]
    Usage(String),
    /// The analysis failed; the message is the one the command line prints
    /// after `error: `.
    #[error("{0}")]
    Failed(String),
}

/// Runs `postproc <args>` (the first argument is the program name) for one
/// of msd, vdos, diffusion, rdf, flux, chains, twopt and arrhenius, writing
/// the same files. With `frames`, the analysis reads these instead of the
/// dump arguments (arrhenius: the runs named `<arrays>#K@T` are `frames[K]`).
pub fn analyse<I, T>(args: I, frames: Vec<Arc<Trajectory>>) -> Result<Analysis, AnalyseError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        AnalyseError::Usage(first.strip_prefix("error: ").unwrap_or(first).to_string())
    })?;
    let one = frames.first().cloned();
    let (result, tables) = capture_tables(|| match cli.command {
        Command::Msd(mut a) => {
            a.input.frames = one;
            commands::msd_summary(&a)
        }
        Command::Vdos(mut a) => {
            a.input.frames = one;
            commands::vdos_run(&a)
        }
        Command::Diffusion(mut a) => {
            a.input.frames = one;
            commands::diffusion_summary(&a)
        }
        Command::Rdf(mut a) => {
            a.input.frames = one;
            commands::rdf_summary(&a)
        }
        Command::Flux(mut a) => {
            a.input.frames = one;
            commands::flux::summary(&a).map(|r| r.1)
        }
        Command::Chains(mut a) => {
            a.input.frames = one;
            commands::chains::summary(&a).map(|r| r.1)
        }
        Command::Twopt(mut a) => {
            a.input.frames = one;
            commands::twopt::compute(&a.input, &a.time, &a.select, &a.vdos)
        }
        Command::Arrhenius(mut a) => {
            a.arrays = frames;
            commands::arrhenius::summary(&a).map(|r| r.2)
        }
        _ => Err(anyhow::anyhow!(
            "only msd, vdos, diffusion, rdf, flux, chains, twopt and arrhenius run as analyses"
        )),
    });
    result
        .map(|summary| Analysis { summary, tables })
        .map_err(|e| AnalyseError::Failed(format!("{e:#}")))
}
