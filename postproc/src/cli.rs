//! `postproc`: LAMMPS dump → MSD, D ± error, VACF/VDOS, g(r), flux maps,
//! chains, 2PT, Arrhenius fits, a report.
//!
//! The command line is a library so that the `postproc` executable and the
//! `postproc` command of the Python package run the same code; the analyses
//! themselves live in `dprs-analysis`.

mod commands;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

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
