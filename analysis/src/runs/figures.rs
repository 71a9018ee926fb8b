//! The figures of an MSD and a VDOS run: msd.png, vdos.png and vacf.png
//! (with their SVGs), drawn the same way by `postproc` and the in-situ fix.

use crate::analysis::diffusion::{self, FitWindow};
use crate::analysis::msd::GroupMsd;
use crate::analysis::vacf::Vdos;
use crate::error::Result;
use crate::out::{short, value_pm};
use crate::plot::{line_plot, line_plot_ext, Extras, Series, FIT_COLOR};
use serde_json::Value;
use std::path::Path;

/// msd.png: the MSD per axis of `all` over the first `shown` lags of `time`
/// (ps), the lines fitted in the window `w`, the window shaded, and D from
/// `summary` (msd.json) in the corner.
pub fn msd_png(
    path: &Path,
    all: &GroupMsd,
    time: &[f64],
    shown: usize,
    w: FitWindow,
    dt: f64,
    summary: &Value,
) -> Result<()> {
    let mut fits = Vec::new();
    for (name, axes) in [("x", &[0][..]), ("y", &[1]), ("z", &[2])] {
        let curve = GroupMsd::combined(&all.axes, axes);
        let s = diffusion::slope(&curve, w, dt);
        let pts = &curve[w.from..=w.to];
        let tm = (w.from + w.to) as f64 * 0.5 * dt;
        let b = pts.iter().sum::<f64>() / pts.len() as f64 - s * tm;
        let fx = vec![w.from as f64 * dt, w.to as f64 * dt];
        let fy: Vec<f64> = fx.iter().map(|x| b + s * x).collect();
        fits.push((name, curve, fx, fy));
    }
    let mut series: Vec<Series> = fits
        .iter()
        .enumerate()
        .map(|(i, (name, curve, _, _))| Series {
            label: format!("MSD {name}"),
            x: &time[..shown],
            y: &curve[..shown],
            color: i,
            dashed: false,
        })
        .collect();
    for (k, (_, _, fx, fy)) in fits.iter().enumerate() {
        series.push(Series {
            label: if k == 0 {
                "linear fits".into()
            } else {
                String::new()
            },
            x: fx,
            y: fy,
            color: FIT_COLOR,
            dashed: true,
        });
    }
    let pm = |k: &str| {
        let d = &summary["D"][k];
        value_pm(
            d["value"].as_f64().unwrap_or(f64::NAN),
            d["stderr"].as_f64().unwrap_or(f64::NAN),
            "(no error bar)",
        )
        .unwrap_or_else(|| "n/a".into())
    };
    let ps = |v: f64| short(v).unwrap_or_else(|| "n/a".into());
    let notes = vec![
        format!("D = {} Å²/ps (3D)", pm("total")),
        format!("D_x = {}, D_y = {}, D_z = {}", pm("x"), pm("y"), pm("z")),
        format!(
            "fit window {}–{} ps (shaded)",
            ps(w.from as f64 * dt),
            ps(w.to as f64 * dt)
        ),
    ];
    line_plot_ext(
        path,
        "Mean-squared displacement per axis",
        "t (ps)",
        "MSD (Å²)",
        &series,
        &Extras {
            shade: Some((w.from as f64 * dt, w.to as f64 * dt)),
            notes,
        },
    )
}

/// How many points of a spectrum `total` a figure draws: up to a fifth
/// past the last above 0.2 % of its maximum, so that the empty
/// high-frequency tail does not squeeze the peaks.
pub fn spectrum_shown(total: &[f64]) -> usize {
    let fmax = total.iter().cloned().fold(0.0, f64::max);
    let last = total
        .iter()
        .rposition(|&f| f > 2e-3 * fmax)
        .unwrap_or(total.len() - 1);
    ((last as f64 * 1.2) as usize + 2).min(total.len())
}

/// vdos.png (the VDOS `all` of all atoms over `freq`, THz, up to a little
/// past where it fades) and vacf.png (`mean_phi`, the VACF averaged over
/// axes, over `time`, ps) in `out`.
pub fn vdos_pngs(
    out: &Path,
    freq: &[f64],
    all: &Vdos,
    time: &[f64],
    mean_phi: &[f64],
) -> Result<()> {
    let upto = spectrum_shown(&all.total);
    let mut series = vec![Series {
        label: "total".into(),
        x: &freq[..upto],
        y: &all.total[..upto],
        color: 0,
        dashed: false,
    }];
    for (a, ax) in ["x", "y", "z"].iter().enumerate() {
        series.push(Series {
            label: (*ax).into(),
            x: &freq[..upto],
            y: &all.axes[a][..upto],
            color: a + 1,
            dashed: true,
        });
    }
    line_plot(
        &out.join("vdos.png"),
        "Vibrational density of states",
        "ν (THz)",
        "F(ν) (1/THz)",
        &series,
    )?;
    let s = [Series {
        label: String::new(),
        x: time,
        y: mean_phi,
        color: 0,
        dashed: false,
    }];
    line_plot(
        &out.join("vacf.png"),
        "Velocity autocorrelation",
        "t (ps)",
        "Φ(t) (Å²/ps²)",
        &s,
    )
}
