//! One pass over the frames feeding the MSD and/or VACF collectors, and
//! the time between the frames it kept.

use crate::analysis::msd::MsdCollector;
use crate::analysis::select::Selection;
use crate::analysis::vacf::VacfCollector;
use crate::dump::{DumpInfo, ReadOptions};
use crate::error::Result;
use crate::source::Source;
use crate::time::Clock;
use std::collections::HashSet;

/// What one pass collected; the selection is made from the first frame.
pub struct Pass {
    pub info: DumpInfo,
    pub sel: Selection,
    /// The atom types of the first frame, in id order.
    pub types: Vec<u32>,
    pub msd: Option<MsdCollector>,
    pub vacf: Option<VacfCollector>,
}

/// Which atoms a pass analyses: only these `types` and/or `ids` (all when
/// `None`), and whether each type also gets a group of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Select<'a> {
    pub types: Option<&'a [u32]>,
    pub ids: Option<&'a HashSet<u64>>,
    pub by_type: bool,
}

/// Reads `source` once, feeding an MSD collector when `want_msd` and a
/// VACF collector of `vacf_lag` frames when given.
pub fn collect(
    source: &Source,
    opts: &ReadOptions,
    select: Select<'_>,
    want_msd: bool,
    vacf_lag: Option<usize>,
) -> Result<Pass> {
    let mut sel: Option<Selection> = None;
    let mut types = Vec::new();
    let mut msd = None;
    let mut vacf = None;
    let info = source.read(opts, |f| {
        if sel.is_none() {
            let s = Selection::new(&f.ids, &f.types, select.types, select.ids, select.by_type)?;
            if want_msd {
                msd = Some(MsdCollector::new(s.atoms.clone()));
            }
            if let Some(l) = vacf_lag {
                vacf = Some(VacfCollector::new(&s, l));
            }
            types = f.types.to_vec();
            sel = Some(s);
        }
        if let Some(m) = msd.as_mut() {
            m.push(f);
        }
        if let Some(v) = vacf.as_mut() {
            v.push(f)?;
        }
        Ok(())
    })?;
    Ok(Pass {
        info,
        sel: sel.expect("at least one frame was read"),
        types,
        msd,
        vacf,
    })
}

/// The time between analysed frames, ps, with warnings about uneven steps.
pub fn frame_dt(clock: Clock, info: &DumpInfo, every: usize) -> Result<(f64, Vec<String>)> {
    let clock = match clock {
        Clock::PerFrame(dt) => Clock::PerFrame(dt * every as f64),
        c => c,
    };
    clock.frame_dt(&info.steps)
}

/// The time between analysed frames before the main pass (needed when the
/// VACF lag is given in ps and time comes per step): peeks at two frames.
pub fn early_dt(source: &Source, clock: Clock, every: usize) -> Result<f64> {
    if let Clock::PerFrame(dt) = clock {
        return Ok(dt * every as f64);
    }
    let opts = ReadOptions {
        every,
        max_frames: Some(2),
        progress: false,
    };
    let info = source.read(&opts, |_| Ok(()))?;
    Ok(clock.frame_dt(&info.steps)?.0)
}

/// What the reader noticed, as the lines `postproc` prints: a note on
/// coordinates unwrapped by the minimum image, the reader's warnings.
pub fn reader_messages(info: &DumpInfo) -> Vec<String> {
    let mut out = Vec::new();
    if info.coords.contains("minimum image") {
        out.push(format!(
            "note: {}: {} coordinates without image flags: positions are unwrapped by the \
             minimum image between consecutive frames, right only while no atom moves more \
             than half a box edge between two frames; dump xu yu zu (or ix iy iz) to be sure",
            info.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            info.coords.split(" (").next().unwrap_or("wrapped")
        ));
    }
    out.extend(info.warnings.iter().map(|w| format!("warning: {w}")));
    out
}
