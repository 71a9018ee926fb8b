//! `postproc flux`: the flux maps F_x(y,z), F_y(x,z), F_z(x,y) of paper A
//! (eqs. 6–8) and the crossing counts per lattice line and plane.

use super::{early_dt_of, frame_dt, print_warnings, read_opts, InputArgs, TimeArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use dprs_analysis::analysis::flux::{Flux, FluxAccumulator, FluxParams};
use dprs_analysis::analysis::lattice::{Lattice, AXES};
use dprs_analysis::dump::DumpInfo;
use dprs_analysis::out::write_json;
use dprs_analysis::runs::flux::FluxResult;
use serde_json::{json, Value};
use std::path::Path;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LatticeKind {
    /// Simple cubic (and its orthorhombic stretches): one site per a_x·a_y·a_z.
    Sc,
}

#[derive(Args, Clone)]
pub struct LatticeArgs {
    /// Reference lattice type.
    #[arg(long, value_enum, default_value = "sc")]
    pub lattice: LatticeKind,
    /// Lattice constant, Å (default: (V/N)^(1/3) of the first frame); sites
    /// are placed where the first frame's atoms sit.
    #[arg(long)]
    pub a: Option<f64>,
}

impl LatticeArgs {
    pub fn detect(&self, f: &dprs_analysis::Frame) -> dprs_analysis::error::Result<Lattice> {
        match self.lattice {
            LatticeKind::Sc => Lattice::detect(f, self.a),
        }
    }
}

#[derive(Args)]
pub struct FluxArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub lattice: LatticeArgs,
    /// Moving-average window for the positions, ps.
    #[arg(long, default_value_t = 1.0)]
    pub smooth: f64,
    /// Δt of eq. 6: crossings are counted between t and t+Δt, ps.
    #[arg(long, default_value_t = 1.0)]
    pub interval: f64,
    /// Start of the window t1, ps after the first frame read.
    #[arg(long, default_value_t = 0.0)]
    pub t1: f64,
    /// End of the window t2, ps after the first frame read (default: the end).
    #[arg(long)]
    pub t2: Option<f64>,
    /// Cutoff radius R1 of f_c, Å (default d/3, d = nearest-neighbour spacing).
    #[arg(long)]
    pub r1: Option<f64>,
    /// Cutoff radius R2 of f_c, Å (default d/2).
    #[arg(long)]
    pub r2: Option<f64>,
    /// Map grid points per lattice spacing.
    #[arg(long, default_value_t = 8)]
    pub subdiv: usize,
}

pub struct FluxRun {
    pub flux: Flux,
    pub lattice: Lattice,
    pub info: DumpInfo,
    pub dt: f64,
    pub r: [f64; 2],
}

fn frames_of(ps: f64, dt: f64, what: &str) -> Result<usize> {
    if !ps.is_finite() || ps < 0.0 {
        bail!("{what} must be a non-negative time in ps");
    }
    Ok((ps / dt).round() as usize)
}

/// The frame counts of the flux options, once the time between frames is known.
#[derive(Clone, Copy)]
pub struct FluxPlan {
    smooth: usize,
    interval: usize,
    first: usize,
    last: Option<usize>,
}

pub fn plan(a: &FluxArgs, dt0: f64) -> Result<FluxPlan> {
    let smooth = frames_of(a.smooth, dt0, "--smooth")?.max(1);
    let interval = frames_of(a.interval, dt0, "--interval")?;
    if interval == 0 {
        bail!(
            "--interval {} ps is shorter than one frame ({dt0} ps)",
            a.interval
        );
    }
    let first = frames_of(a.t1, dt0, "--t1")?;
    let last = a.t2.map(|t| frames_of(t, dt0, "--t2")).transpose()?;
    Ok(FluxPlan {
        smooth,
        interval,
        first,
        last,
    })
}

/// The accumulator, lattice and f_c radii set up on the first frame.
pub type FluxStart = (FluxAccumulator, Lattice, [f64; 2]);

pub fn start(
    a: &FluxArgs,
    p: FluxPlan,
    f: &dprs_analysis::Frame,
) -> dprs_analysis::error::Result<FluxStart> {
    let lat = a.lattice.detect(f)?;
    let d = lat.nn_distance();
    let r = [a.r1.unwrap_or(d / 3.0), a.r2.unwrap_or(d / 2.0)];
    let params = FluxParams {
        lattice: lat,
        smooth: p.smooth,
        interval: p.interval,
        first: p.first,
        last: p.last,
        r1: r[0],
        r2: r[1],
        subdiv: a.subdiv,
    };
    Ok((FluxAccumulator::new(params, f.n_atoms())?, lat, r))
}

pub fn compute(a: &FluxArgs) -> Result<FluxRun> {
    let clock = a.time.clock()?;
    let source = a.input.source()?;
    let dt0 = early_dt_of(&source, clock, a.input.every)?;
    let p = plan(a, dt0)?;
    let mut acc: Option<FluxStart> = None;
    let info = source.read(&read_opts(&a.input), |f| {
        if acc.is_none() {
            acc = Some(start(a, p, f)?);
        }
        acc.as_mut().expect("set above").0.push(f)
    })?;
    print_warnings(&info);
    let dt = frame_dt(clock, &info, a.input.every)?;
    let (acc, lattice, r) = acc.expect("at least one frame");
    Ok(FluxRun {
        flux: acc.finish()?,
        lattice,
        info,
        dt,
        r,
    })
}

/// Writes the maps, the counts and the JSON summary into `out`.
pub fn write(run: &FluxRun, out: &Path, plot: bool, smooth: f64, interval: f64) -> Result<Value> {
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let result = FluxResult {
        flux: &run.flux,
        lattice: &run.lattice,
        r: run.r,
        dt_ps: run.dt,
        smooth_ps: smooth,
        interval_ps: interval,
    };
    let mut keys = dprs_analysis::runs::flux::write_files(&result, out, plot)?;
    keys.insert("n_frames".into(), json!(run.info.n_frames));
    keys.insert(
        "files".into(),
        json!(run
            .info
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()),
    );
    keys.insert("warnings".into(), json!(run.info.warnings));
    let summary = Value::Object(keys);
    write_json(&out.join("flux.json"), &summary)?;
    Ok(summary)
}

pub fn run(a: FluxArgs) -> Result<()> {
    let (r, summary) = summary(&a)?;
    if a.input.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        let lines = summary["lines"].as_array().map_or(0, |l| l.len());
        println!(
            "{} smoothed samples, {} lattice lines with crossings",
            r.flux.samples.len(),
            lines
        );
        for (lc, axis_name) in r.flux.lines.iter().zip(AXES) {
            let net: i64 = lc.net.iter().sum();
            let gross: u64 = lc.gross.iter().sum();
            println!("  along {axis_name}: net {net:+}, gross {gross}");
        }
        println!("outputs in {}", a.input.out.display());
    }
    Ok(())
}

/// The flux maps and crossing counts; writes them into `--out` and returns
/// the run with the summary `--json` prints.
pub fn summary(a: &FluxArgs) -> Result<(FluxRun, Value)> {
    let r = compute(a)?;
    super::keep_aside(
        &a.input.out,
        &[
            "flux_x.csv",
            "flux_y.csv",
            "flux_z.csv",
            "flux_x.png",
            "flux_y.png",
            "flux_z.png",
            "flux_lines.csv",
            "flux_planes.csv",
            "flux.json",
        ],
    )?;
    let summary = write(&r, &a.input.out, !a.input.no_plot, a.smooth, a.interval)?;
    Ok((r, summary))
}
