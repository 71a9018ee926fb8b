//! `postproc`: LAMMPS dump → MSD, D ± error, VACF/VDOS, g(r).

mod commands;

use clap::{Parser, Subcommand};
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Msd(a) => commands::msd(a),
        Command::Vdos(a) => commands::vdos(a),
        Command::Diffusion(a) => commands::diffusion(a),
        Command::Rdf(a) => commands::rdf(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
