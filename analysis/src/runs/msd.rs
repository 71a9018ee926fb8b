//! The MSD per axis and plane and D with block-averaged errors from a
//! source: what `postproc msd` computes and prints with `--json`.

use super::fit::{self, FitOptions, FittedMsd};
use super::fmt_ps;
use super::pass::{self, Select};
use super::summary::{append_warnings, common, merge, prefix};
use crate::analysis::diffusion::{self, FitWindow};
use crate::analysis::msd::GroupMsd;
use crate::dump::{DumpInfo, ReadOptions};
use crate::error::Result;
use crate::out::num;
use crate::source::Source;
use crate::time::Clock;
use crate::units::{A2_PER_PS_IN_CM2_PER_S as CM, A2_PER_PS_IN_M2_PER_S as M};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The axes and planes D is reported for, with the axes they combine.
pub const PLANES: [(&str, &[usize]); 7] = [
    ("x", &[0]),
    ("y", &[1]),
    ("z", &[2]),
    ("xy", &[0, 1]),
    ("xz", &[0, 2]),
    ("yz", &[1, 2]),
    ("total", &[0, 1, 2]),
];

/// How to read the source and fit the MSD.
#[derive(Clone, Debug)]
pub struct MsdOptions<'a> {
    pub read: ReadOptions,
    /// The time base of the frames as read (before `read.every` thins them).
    pub clock: Clock,
    pub select: Select<'a>,
    pub fit: FitOptions,
}

/// What one MSD run found, before it is summarised.
pub struct MsdRun {
    pub info: DumpInfo,
    pub fitted: FittedMsd,
    /// Time between analysed frames, ps.
    pub dt: f64,
}

/// The summary `postproc msd --json` prints, and the curves of msd.csv.
#[derive(Serialize)]
#[serde(transparent)]
pub struct MsdSummary {
    pub summary: Value,
    /// Columns of msd.csv: time (ps) and the MSD (Å²) per axis, plane and group.
    #[serde(skip)]
    pub columns: Vec<(String, Vec<f64>)>,
    /// The warnings the fit deserves (also in `summary["warnings"]`).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Reads `source` and fits its MSD. What the reader and the clock have to
/// say goes to `messages` ("note: ..." / "warning: ..."), even when the run
/// then fails.
pub fn run(source: &Source, opts: &MsdOptions<'_>, messages: &mut Vec<String>) -> Result<MsdRun> {
    let p = pass::collect(source, &opts.read, opts.select, true, None)?;
    messages.extend(pass::reader_messages(&p.info));
    let (dt, warnings) = pass::frame_dt(opts.clock, &p.info, opts.read.every.max(1))?;
    messages.extend(warnings.into_iter().map(|w| format!("warning: {w}")));
    let fitted = fit::msd_with_window(&opts.fit, p.msd.as_ref().expect("asked for"), &p.sel, dt)?;
    Ok(MsdRun {
        info: p.info,
        fitted,
        dt,
    })
}

impl MsdRun {
    pub fn summary(&self) -> MsdSummary {
        summarise(&self.info, &self.fitted, self.dt)
    }
}

/// D of group `g` over `axes` with its block errors.
pub fn d_of(g: &GroupMsd, axes: &[usize], w: FitWindow, dt: f64) -> diffusion::DEstimate {
    let full = GroupMsd::combined(&g.axes, axes);
    let blocks: Vec<Vec<f64>> = g
        .blocks
        .iter()
        .map(|b| GroupMsd::combined(b, axes))
        .collect();
    diffusion::estimate(&full, &blocks, axes.len(), w, dt)
}

/// One D as the summaries give it: Å²/ps, m²/s, cm²/s, the 95 % interval
/// and the value of each time block.
pub fn d_entry(d: &diffusion::DEstimate) -> Value {
    json!({
        "value": num(d.value),
        "stderr": num(d.stderr),
        "ci95": [num(d.ci95[0]), num(d.ci95[1])],
        "value_m2_s": num(d.value * M),
        "stderr_m2_s": num(d.stderr * M),
        "value_cm2_s": num(d.value * CM),
        "stderr_cm2_s": num(d.stderr * CM),
        "blocks": d.blocks.iter().map(|&v| num(v)).collect::<Vec<_>>(),
    })
}

/// Warnings the MSD and its fit deserve, with numbers: a fit window still
/// in the ballistic regime, a D without an error bar.
fn msd_warnings(fm: &FittedMsd, dt: f64) -> Vec<String> {
    let mut out = fm.notes.clone();
    let w = fm.window;
    let all = &fm.msd.groups[0];
    let total = GroupMsd::combined(&all.axes, &[0, 1, 2]);
    let (a, b) = (w.from.max(1), (2 * w.from.max(1)).min(w.to));
    if b > a && total[a] > 0.0 && total[b] > 0.0 {
        let alpha = (total[b] / total[a]).ln() / (b as f64 / a as f64).ln();
        if alpha > 1.5 {
            out.push(format!(
                "the MSD grows as t^{alpha:.1} at the start of the fit window ({} ps): still \
                 ballistic there, not diffusive (t^1); start the fit later with --fit-from",
                fmt_ps(a as f64 * dt)
            ));
        }
    }
    let nb = all.blocks.len();
    if nb >= 2 {
        let d = d_of(all, &[0, 1, 2], w, dt);
        if !d.stderr.is_finite() {
            out.push(format!(
                "the error bar of D is not a number: the fits in the {nb} time blocks did not all give a finite D"
            ));
        }
    }
    out
}

/// Group `g`'s columns of msd.csv (its MSD per plane of [`PLANES`], Å²)
/// and its entry in msd.json, with the D of each plane that `d` (plane
/// index, its axes) gives; `None` leaves that plane out of "D".
pub fn group_curves(
    g: &GroupMsd,
    mut d: impl FnMut(usize, &[usize]) -> Option<diffusion::DEstimate>,
) -> (Vec<(String, Vec<f64>)>, Value) {
    let p = prefix(&g.name);
    let mut columns = Vec::new();
    let mut ds = Map::new();
    for (plane, (name, axes)) in PLANES.into_iter().enumerate() {
        let col = if name == "total" {
            format!("{p}msd_A2")
        } else {
            format!("{p}msd_{name}_A2")
        };
        columns.push((col, GroupMsd::combined(&g.axes, axes)));
        if let Some(estimate) = d(plane, axes) {
            ds.insert(name.to_string(), d_entry(&estimate));
        }
    }
    (
        columns,
        json!({"n_atoms": g.n_atoms, "D": Value::Object(ds)}),
    )
}

/// The summary and curves of a fitted MSD of frames `dt` ps apart.
pub fn summarise(info: &DumpInfo, fm: &FittedMsd, dt: f64) -> MsdSummary {
    let (msd, w, default) = (&fm.msd, fm.window, fm.default);
    let t = msd.n_frames;
    let time: Vec<f64> = (0..t).map(|k| k as f64 * dt).collect();
    let mut columns: Vec<(String, Vec<f64>)> = vec![("time_ps".into(), time)];
    let mut groups = Map::new();
    let mut top = Value::Null;
    for g in &msd.groups {
        let (curves, entry) = group_curves(g, |_, axes| Some(d_of(g, axes, w, dt)));
        columns.extend(curves);
        if g.name == "all" {
            top = entry.clone();
        }
        groups.insert(g.name.clone(), entry);
    }
    let all = &msd.groups[0];
    let mut summary = merge(
        json!({
            "D": top["D"],
            "fit": {"from_ps": w.from as f64 * dt, "to_ps": w.to as f64 * dt, "default": default},
            "n_atoms": all.n_atoms,
            "n_frames": t,
            "dt_ps": dt,
            "blocks": all.blocks.len(),
            "block_ps": msd.block_len as f64 * dt,
            "uncertainty": "stderr = standard deviation of the D fitted in each time block / sqrt(blocks); \
                            ci95 = value ± t(0.975, blocks-1)·stderr",
            "units": {"D": "A^2/ps", "value_m2_s": "m^2/s", "value_cm2_s": "cm^2/s"},
            "groups": Value::Object(groups),
        }),
        common(info),
    );
    let warnings = msd_warnings(fm, dt);
    append_warnings(&mut summary, &warnings);
    MsdSummary {
        summary,
        columns,
        warnings,
    }
}
