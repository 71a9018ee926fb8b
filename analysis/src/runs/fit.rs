//! The MSD with its time blocks and the fit window for D. The blocks adapt
//! to the window: a fit window longer than a block of the requested count
//! gets fewer, longer blocks (each must hold the whole window); with fewer
//! than two there is no error bar, and a note says why.

use super::fmt_ps;
use crate::analysis::diffusion::{self, FitWindow};
use crate::analysis::msd::{Msd, MsdCollector};
use crate::analysis::select::Selection;
use crate::error::{Error, Result};

/// The fit window in ps (`None`: the default, a tenth to a half of a time
/// block) and the number of time blocks for the error of D.
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    pub fit_from: Option<f64>,
    pub fit_to: Option<f64>,
    pub blocks: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            fit_from: None,
            fit_to: None,
            blocks: 5,
        }
    }
}

pub struct FittedMsd {
    pub msd: Msd,
    pub window: FitWindow,
    /// Whether the window is the default one.
    pub default: bool,
    /// Why the error of D comes from fewer blocks, or from none.
    pub notes: Vec<String>,
}

fn invalid(msg: String) -> Error {
    Error::Invalid(msg)
}

/// The MSD of the collected frames, `dt` ps apart, with the fit window and
/// the time blocks `fit` asks for (messages name the command line's flags).
pub fn msd_with_window(
    fit: &FitOptions,
    collector: &MsdCollector,
    sel: &Selection,
    dt: f64,
) -> Result<FittedMsd> {
    if fit.blocks < 2 {
        return Err(invalid(format!(
            "--blocks {}: at least 2 time blocks are needed for an error bar",
            fit.blocks
        )));
    }
    let n = collector.n_frames();
    let run_ps = (n.max(1) - 1) as f64 * dt;
    let d = FitWindow::default_for(n / fit.blocks);
    let default = fit.fit_from.is_none() && fit.fit_to.is_none();
    let mut notes = Vec::new();
    let to_frames = match fit.fit_to {
        None => d.to,
        Some(to) => {
            if !(to.is_finite() && to > 0.0) {
                return Err(invalid(format!(
                    "--fit-to {to}: the end of the fit window must be a positive time in ps"
                )));
            }
            let k = (to / dt).round() as usize;
            if k + 1 > n {
                return Err(invalid(format!(
                    "--fit-to {to} ps is past the end of the run ({n} frames, {} ps); \
                     use --fit-to {} or less",
                    fmt_ps(run_ps),
                    fmt_ps(run_ps / 4.0)
                )));
            }
            k
        }
    };
    if default && d.to + 1 > n {
        return Err(invalid(format!(
            "{n} frames are too few for the default MSD fit window (lags {} to {} frames): \
             give the window with --fit-from/--fit-to (ps), inside the {} ps run",
            d.from,
            d.to,
            fmt_ps(run_ps)
        )));
    }
    // Blocks of n/b frames hold lags up to n/b − 1.
    let fit_blocks = diffusion::blocks_for_window(n, fit.blocks, to_frames);
    let blocks = fit_blocks.max(1);
    if fit_blocks < fit.blocks {
        if fit_blocks >= 2 {
            notes.push(format!(
                "the fit window reaches {} ps, longer than one of {} time blocks ({} ps): \
                 the error of D comes from {fit_blocks} blocks of {} ps instead \
                 (the 95 % interval uses Student's t with {} degree{} of freedom)",
                fmt_ps(to_frames as f64 * dt),
                fit.blocks,
                fmt_ps((n / fit.blocks) as f64 * dt),
                fmt_ps((n / fit_blocks) as f64 * dt),
                fit_blocks - 1,
                if fit_blocks == 2 { "" } else { "s" }
            ));
        } else {
            notes.push(format!(
                "no error bar for D: the fit window reaches {} ps, more than half the run \
                 ({} ps), so no two time blocks can each hold it; use --fit-to {} or less \
                 for an error bar",
                fmt_ps(to_frames as f64 * dt),
                fmt_ps(run_ps),
                fmt_ps(run_ps / 4.0)
            ));
        }
    }
    let msd = collector.compute(sel, blocks)?;
    let window = if default {
        d
    } else {
        let from = fit.fit_from.unwrap_or(d.from as f64 * dt);
        if !(from.is_finite() && from >= 0.0) {
            return Err(invalid(format!(
                "--fit-from {from}: the start of the fit window must be a time ≥ 0 in ps"
            )));
        }
        FitWindow::from_ps(
            from,
            to_frames as f64 * dt,
            dt,
            msd.block_len.max(to_frames + 1),
        )
        .map_err(|e| invalid(format!("--fit-from/--fit-to: {e}")))?
    };
    Ok(FittedMsd {
        msd,
        window,
        default,
        notes,
    })
}
