//! `postproc chains`: hops between lattice sites, cooperative chains, L
//! turns and rings, the diffusive fraction vs time and the cMSD.

use super::flux::LatticeArgs;
use super::{early_dt_of, frame_dt, print_warnings, read_opts, InputArgs, TimeArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use dprs_analysis::analysis::chains::{ChainParams, ChainTracker, Chains};
use dprs_analysis::analysis::lattice::{Lattice, AXES};
use dprs_analysis::dump::DumpInfo;
use dprs_analysis::out::{num, write_csv, write_json};
use dprs_analysis::plot::{bar_plot, line_plot, Series};
use serde_json::{json, Value};
use std::path::Path;

#[derive(Args, Clone)]
pub struct ChainOpts {
    /// Moving-average window for hop detection, ps.
    #[arg(long, default_value_t = 0.5)]
    pub smooth: f64,
    /// Capture radius: a hop is recorded when the smoothed position comes
    /// this close to another site, in nearest-neighbour distances (< 0.5).
    #[arg(long, default_value_t = 0.3)]
    pub capture: f64,
    /// Hops at most this far apart in time can belong to one chain, ps.
    #[arg(long, default_value_t = 0.5)]
    pub coincidence: f64,
    /// Classification window for the diffusive fraction, ps.
    #[arg(long, default_value_t = 1.0)]
    pub window: f64,
    /// Shortest chain reported, atoms.
    #[arg(long, default_value_t = 2)]
    pub min_length: usize,
    /// Skip the cMSD (saves the memory of the trajectory).
    #[arg(long)]
    pub no_cmsd: bool,
}

#[derive(Args)]
pub struct ChainsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub time: TimeArgs,
    #[command(flatten)]
    pub lattice: LatticeArgs,
    #[command(flatten)]
    pub opts: ChainOpts,
}

pub struct ChainsRun {
    pub chains: Chains,
    pub lattice: Lattice,
    pub info: DumpInfo,
    pub ids: Vec<u64>,
    pub dt: f64,
    /// Shortest chain reported, atoms.
    pub min_length: usize,
}

fn frames(ps: f64, dt: f64, what: &str) -> Result<usize> {
    if !ps.is_finite() || ps < 0.0 {
        bail!("{what} must be a non-negative time in ps");
    }
    Ok((ps / dt).round() as usize)
}

/// The time options of the chain tracker in frames.
#[derive(Clone, Copy)]
pub struct ChainPlan {
    smooth: usize,
    coincidence: usize,
    window: usize,
}

pub fn plan(o: &ChainOpts, dt0: f64) -> Result<ChainPlan> {
    Ok(ChainPlan {
        smooth: frames(o.smooth, dt0, "--smooth")?.max(1),
        coincidence: frames(o.coincidence, dt0, "--coincidence")?,
        window: frames(o.window, dt0, "--window")?.max(1),
    })
}

/// The tracker and lattice set up on the first frame.
pub fn start(
    lattice: &LatticeArgs,
    o: &ChainOpts,
    p: ChainPlan,
    f: &dprs_analysis::Frame,
) -> dprs_analysis::error::Result<(ChainTracker, Lattice)> {
    let lat = lattice.detect(f)?;
    let params = ChainParams {
        lattice: lat,
        smooth: p.smooth,
        capture: o.capture,
        coincidence: p.coincidence,
        window: p.window,
        min_length: o.min_length,
        cmsd: !o.no_cmsd,
    };
    Ok((ChainTracker::new(params)?, lat))
}

pub fn compute(
    input: &InputArgs,
    time: &TimeArgs,
    lattice: &LatticeArgs,
    o: &ChainOpts,
) -> Result<ChainsRun> {
    let clock = time.clock()?;
    let source = input.source()?;
    let dt0 = early_dt_of(&source, clock, input.every)?;
    let p = plan(o, dt0)?;
    let mut tr: Option<(ChainTracker, Lattice)> = None;
    let mut ids = Vec::new();
    let info = source.read(&read_opts(input), |f| {
        if tr.is_none() {
            ids = f.ids.to_vec();
            tr = Some(start(lattice, o, p, f)?);
        }
        tr.as_mut().expect("set above").0.push(f)
    })?;
    print_warnings(&info);
    let dt = frame_dt(clock, &info, input.every)?;
    let (tr, lattice) = tr.expect("one frame at least");
    Ok(ChainsRun {
        chains: tr.finish()?,
        lattice,
        info,
        ids,
        dt,
        min_length: o.min_length,
    })
}

pub fn write(r: &ChainsRun, out: &Path, plot: bool) -> Result<Value> {
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let c = &r.chains;
    let dt = r.dt;
    let id = |i: usize| r.ids[i];
    let mut chains_csv = String::from("t_ps,kind,axis,length,turns,hops_x,hops_y,hops_z,ids\n");
    let mut list = Vec::new();
    let mut hist: Vec<usize> = Vec::new();
    for ch in &c.chains {
        let ids: Vec<u64> = ch.atoms.iter().map(|&a| id(a)).collect();
        let len = ch.atoms.len();
        if hist.len() <= len {
            hist.resize(len + 1, 0);
        }
        hist[len] += 1;
        chains_csv += &format!(
            "{:.6},{},{},{len},{},{},{},{},{}\n",
            ch.time * dt,
            ch.kind.name(),
            AXES[ch.axis],
            ch.turns,
            ch.per_axis[0],
            ch.per_axis[1],
            ch.per_axis[2],
            ids.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        list.push(json!({
            "axis": AXES[ch.axis], "ids": ids, "length": len, "kind": ch.kind.name(),
            "turns": ch.turns, "t_ps": ch.time * dt,
            "hops_per_axis": {"x": ch.per_axis[0], "y": ch.per_axis[1], "z": ch.per_axis[2]},
        }));
    }
    dprs_analysis::out::write_text(&out.join("chains.csv"), &chains_csv)?;
    let mut hops_csv = String::from("t_ps,id,axis,from_i,from_j,from_k,to_i,to_j,to_k\n");
    for h in &c.hops {
        hops_csv += &format!(
            "{:.6},{},{},{},{},{},{},{},{}\n",
            h.time * dt,
            id(h.atom),
            AXES[h.axis()],
            h.from[0],
            h.from[1],
            h.from[2],
            h.to[0],
            h.to[1],
            h.to[2]
        );
    }
    dprs_analysis::out::write_text(&out.join("hops.csv"), &hops_csv)?;
    let tw: Vec<f64> = (0..c.diffusive_per_window.len())
        .map(|w| (w as f64 + 0.5) * c.window as f64 * dt)
        .collect();
    let frac: Vec<f64> = c
        .diffusive_per_window
        .iter()
        .map(|&k| k as f64 / c.n_atoms as f64)
        .collect();
    write_csv(
        &out.join("diffusive_fraction.csv"),
        &[("t_ps".into(), &tw), ("diffusive_fraction".into(), &frac)],
    )?;
    let mut cmsd_json = Value::Null;
    if let Some(m) = &c.cmsd {
        let t: Vec<f64> = (0..m.chain.len()).map(|k| k as f64 * dt).collect();
        write_csv(
            &out.join("cmsd.csv"),
            &[
                ("time_ps".into(), &t),
                ("chain_A2".into(), &m.chain),
                ("solid_A2".into(), &m.solid),
            ],
        )?;
        cmsd_json = json!({"csv": out.join("cmsd.csv").display().to_string(),
            "n_chain_atoms": m.n_chain, "n_solid_atoms": m.n_solid, "solid_axis": AXES[m.solid_axis]});
        if plot {
            let half = (t.len() / 2).max(2).min(t.len());
            line_plot(
                &out.join("cmsd.png"),
                "MSD along the chain direction (cMSD)",
                "t (ps)",
                "cMSD (Å²)",
                &[
                    Series {
                        label: "chain atoms".into(),
                        x: &t[..half],
                        y: &m.chain[..half],
                        color: 1,
                        dashed: false,
                    },
                    Series {
                        label: "solid atoms".into(),
                        x: &t[..half],
                        y: &m.solid[..half],
                        color: 0,
                        dashed: false,
                    },
                ],
            )?;
        }
    }
    if plot {
        line_plot(
            &out.join("diffusive_fraction.png"),
            "Fraction of atoms hopping per window",
            "t (ps)",
            "diffusive fraction",
            &[Series {
                label: "diffusive".into(),
                x: &tw,
                y: &frac,
                color: 1,
                dashed: false,
            }],
        )?;
        if hist.len() > 1 {
            // Bars over the lengths a chain can have: from the shortest
            // reported to the longest found.
            let from = r.min_length.max(2).min(hist.len() - 1);
            let bars: Vec<(i64, f64)> = (from..hist.len())
                .map(|k| (k as i64, hist[k] as f64))
                .collect();
            bar_plot(
                &out.join("chain_lengths.png"),
                "Chain length distribution",
                "chain length (atoms)",
                "chains",
                &bars,
            )?;
        }
    }
    let mobile_ids: Vec<u64> = c.mobile.iter().map(|&i| id(i)).collect();
    let mut by_axis = [0usize; 3];
    for ch in &c.chains {
        by_axis[ch.axis] += 1;
    }
    let summary = json!({
        "mobile_ids": mobile_ids,
        "diffusive_fraction": num(c.diffusive_fraction()),
        "chains": list,
        "rings": c.rings(),
        "n_chains": c.chains.len(),
        "periodic_lines": c.chains.iter().filter(|x| x.kind == dprs_analysis::analysis::chains::ChainKind::Periodic).count(),
        "chains_per_axis": {"x": by_axis[0], "y": by_axis[1], "z": by_axis[2]},
        "turns": c.chains.iter().map(|x| x.turns).sum::<usize>(),
        "length_histogram": hist,
        "mobile_fraction": c.mobile.len() as f64 / c.n_atoms as f64,
        "n_hops": c.hops.len(),
        "n_atoms": c.n_atoms,
        "n_frames": c.n_frames,
        "dt_ps": dt,
        "window_ps": c.window as f64 * dt,
        "cmsd": cmsd_json,
        "lattice": {"n": r.lattice.n, "spacing_A": r.lattice.spacing, "origin_A": r.lattice.origin},
        "files": r.info.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "warnings": r.info.warnings,
    });
    write_json(&out.join("chains.json"), &summary)?;
    Ok(summary)
}

pub fn run(a: ChainsArgs) -> Result<()> {
    let (r, s) = summary(&a)?;
    if a.input.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "{} hops, {} chains ({} rings, {} through the box), {} mobile atoms; diffusive fraction {:.4}",
            r.chains.hops.len(),
            s["n_chains"],
            s["rings"],
            s["periodic_lines"],
            r.chains.mobile.len(),
            r.chains.diffusive_fraction()
        );
        println!("outputs in {}", a.input.out.display());
    }
    Ok(())
}

/// Hops, chains, the diffusive fraction and the cMSD; writes them into
/// `--out` and returns the run with the summary `--json` prints.
pub fn summary(a: &ChainsArgs) -> Result<(ChainsRun, Value)> {
    let r = compute(&a.input, &a.time, &a.lattice, &a.opts)?;
    super::keep_aside(
        &a.input.out,
        &[
            "chains.csv",
            "hops.csv",
            "diffusive_fraction.csv",
            "diffusive_fraction.png",
            "cmsd.csv",
            "cmsd.png",
            "chain_lengths.png",
            "chains.json",
        ],
    )?;
    let s = write(&r, &a.input.out, !a.input.no_plot)?;
    Ok((r, s))
}
