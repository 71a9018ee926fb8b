//! Streaming reader of LAMMPS text dumps (`dump atom` / `dump custom`).
//!
//! A reader thread decompresses and cuts the input into frames ([`split`]);
//! batches of frames are parsed in parallel ([`parse`]); frames then reach the
//! caller one by one, in order, sorted by atom id and unwrapped ([`unwrap`]).
//! Only a few batches are in flight, so memory does not grow with the
//! number of frames.

pub mod columns;
pub mod input;
pub mod parse;
pub mod split;
pub mod unwrap;

use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::progress::Progress;
use parse::IdMap;
use rayon::prelude::*;
use split::{RawFrame, Split, Splitter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

pub use input::expand;

#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Keep every n-th frame (1 = all).
    pub every: usize,
    /// Stop after this many kept frames.
    pub max_frames: Option<usize>,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            every: 1,
            max_frames: None,
            progress: false,
        }
    }
}

/// What was read, for summaries.
#[derive(Clone, Debug, Default)]
pub struct DumpInfo {
    pub files: Vec<PathBuf>,
    pub n_frames: usize,
    pub n_atoms: usize,
    pub steps: Vec<u64>,
    pub velocities: bool,
    pub coords: String,
    pub warnings: Vec<String>,
}

enum Msg {
    Frames(Vec<RawFrame>),
    Truncated {
        file: PathBuf,
        frame: usize,
        line: u64,
        what: String,
    },
    Failed(Error),
}

const BATCH_BYTES: usize = 4 << 20;
const BATCH_FRAMES: usize = 32;

/// Reads `files` in order and calls `on_frame` for each kept frame.
pub fn read(
    files: &[PathBuf],
    opts: &ReadOptions,
    mut on_frame: impl FnMut(&Frame) -> Result<()>,
) -> Result<DumpInfo> {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress::bytes(total, opts.progress, "reading");
    let every = opts.every.max(1);
    let result = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Msg>(2);
        let producer_counter = counter.clone();
        let max_frames = opts.max_frames;
        scope.spawn(move || produce(files, producer_counter, tx, every, max_frames));
        let mut state = Consumer::new(files);
        for msg in rx {
            match msg {
                Msg::Frames(batch) => {
                    state.batch(batch, &mut on_frame)?;
                    progress.set(counter.load(Ordering::Relaxed));
                }
                Msg::Truncated {
                    file,
                    frame,
                    line,
                    what,
                } => state.info.warnings.push(format!(
                    "{}: frame {frame}, line {line}: {what}; using the {} complete frames before it",
                    file.display(),
                    state.info.n_frames
                )),
                Msg::Failed(e) => return Err(e),
            }
        }
        Ok(state.finish())
    });
    progress.finish();
    let info = result?;
    if info.n_frames == 0 {
        return Err(Error::NoInput(format!(
            "no complete frame in {}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(info)
}

fn produce(
    files: &[PathBuf],
    counter: Arc<AtomicU64>,
    tx: SyncSender<Msg>,
    every: usize,
    max_frames: Option<usize>,
) {
    let mut ordinal = 0;
    let mut kept = 0;
    let mut batch = Vec::new();
    let mut bytes = 0;
    let flush = |batch: &mut Vec<RawFrame>, bytes: &mut usize| -> bool {
        *bytes = 0;
        batch.is_empty() || tx.send(Msg::Frames(std::mem::take(batch))).is_ok()
    };
    for path in files {
        let src = match input::open(path, counter.clone()) {
            Ok(s) => s,
            Err(e) => {
                flush(&mut batch, &mut bytes);
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        };
        let mut splitter = Splitter::new(src, path.clone());
        loop {
            match splitter.next_frame(ordinal) {
                Ok(None) => break,
                Ok(Some(Split::Frame(f))) => {
                    ordinal += 1;
                    if (ordinal - 1) % every == 0 {
                        bytes += f.range.len();
                        batch.push(f);
                        kept += 1;
                    }
                    let done = max_frames.is_some_and(|m| kept >= m);
                    if (bytes >= BATCH_BYTES || batch.len() >= BATCH_FRAMES || done)
                        && !flush(&mut batch, &mut bytes)
                    {
                        return;
                    }
                    if done {
                        return;
                    }
                }
                Ok(Some(Split::Truncated { line, what })) => {
                    if !flush(&mut batch, &mut bytes) {
                        return;
                    }
                    let msg = Msg::Truncated {
                        file: path.clone(),
                        frame: ordinal + 1,
                        line,
                        what,
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                    break;
                }
                Err(e) => {
                    flush(&mut batch, &mut bytes);
                    let _ = tx.send(Msg::Failed(e));
                    return;
                }
            }
        }
    }
    flush(&mut batch, &mut bytes);
}

struct Consumer {
    map: Option<IdMap>,
    types: Arc<Vec<u32>>,
    continuity: unwrap::Continuity,
    continuity_used: bool,
    jumps: usize,
    first_jump: Option<(u64, usize, f64)>,
    last_file: Option<Arc<PathBuf>>,
    info: DumpInfo,
}

impl Consumer {
    fn new(files: &[PathBuf]) -> Consumer {
        Consumer {
            map: None,
            types: Arc::new(Vec::new()),
            continuity: Default::default(),
            continuity_used: false,
            jumps: 0,
            first_jump: None,
            last_file: None,
            info: DumpInfo {
                files: files.to_vec(),
                ..Default::default()
            },
        }
    }

    fn batch(
        &mut self,
        batch: Vec<RawFrame>,
        on_frame: &mut impl FnMut(&Frame) -> Result<()>,
    ) -> Result<()> {
        let mut first = None;
        if self.map.is_none() {
            let raw = &batch[0];
            let rows = parse::parse_rows(raw, true)?;
            let map = IdMap::new(&rows.ids).map_err(|d| parse::duplicate_error(raw, &rows, d))?;
            self.types = Arc::new(
                rows.types
                    .clone()
                    .unwrap_or_else(|| vec![1; raw.header.n_atoms]),
            );
            self.info.n_atoms = raw.header.n_atoms;
            self.info.velocities = raw.header.columns.velocities;
            self.info.coords = raw.header.columns.describe().to_string();
            let rows = parse::reorder(raw, rows, &map)?;
            self.map = Some(map);
            first = Some(rows);
        }
        let map = self.map.as_ref().expect("set above");
        let n = self.info.n_atoms;
        for raw in &batch {
            if raw.header.n_atoms != n {
                return Err(raw.error(
                    raw.count_line,
                    format!(
                        "the atom count changed from {n} to {}; every frame must hold the same atoms",
                        raw.header.n_atoms
                    ),
                ));
            }
        }
        let skip = first.is_some() as usize;
        let parsed: Vec<Result<parse::Rows>> = batch[skip..]
            .par_iter()
            .map(|raw| parse::parse_rows(raw, false).and_then(|r| parse::reorder(raw, r, map)))
            .collect();
        for (raw, rows) in batch.iter().zip(first.into_iter().map(Ok).chain(parsed)) {
            let rows = rows?;
            self.deliver(raw, rows, on_frame)?;
        }
        Ok(())
    }

    fn deliver(
        &mut self,
        raw: &RawFrame,
        rows: parse::Rows,
        on_frame: &mut impl FnMut(&Frame) -> Result<()>,
    ) -> Result<()> {
        let step = raw.header.step;
        if let Some(&last) = self.info.steps.last() {
            let new_file = self.last_file.as_ref() != Some(&raw.file);
            if step == last && new_file {
                // Restarted runs repeat the last frame at the top of the next file.
                self.info.warnings.push(format!(
                    "{}: frame {} repeats timestep {step} of the previous file; skipped",
                    raw.file.display(),
                    raw.ordinal + 1
                ));
                self.last_file = Some(raw.file.clone());
                return Ok(());
            }
            if step <= last {
                return Err(raw.error(
                    raw.start_line + 1,
                    format!("timestep {step} does not increase (previous frame: {last})"),
                ));
            }
        }
        self.last_file = Some(raw.file.clone());
        let mut pos = rows.pos;
        let cols = &raw.header.columns;
        if cols.needs_continuity() {
            self.continuity_used = true;
            let (jump, atom) = self.continuity.apply(&raw.header.cell, &mut pos);
            if jump > unwrap::SUSPICIOUS_JUMP {
                self.jumps += 1;
                if self.first_jump.is_none() {
                    let id = self.map.as_ref().map_or(0, |m| m.sorted[atom]);
                    self.first_jump = Some((id, raw.ordinal + 1, jump));
                }
            }
        }
        let frame = Frame {
            index: self.info.n_frames,
            step,
            cell: raw.header.cell,
            ids: self.map.as_ref().expect("set").sorted.clone(),
            types: self.types.clone(),
            pos,
            vel: rows.vel,
        };
        self.info.velocities &= frame.vel.is_some();
        self.info.steps.push(step);
        self.info.n_frames += 1;
        on_frame(&frame)
    }

    fn finish(mut self) -> DumpInfo {
        if let Some((id, frame, jump)) = self.first_jump {
            self.info.warnings.push(format!(
                "{} frames have atoms that moved more than {} of a box edge since the previous \
                 frame (first: atom id {id} at frame {frame}, {jump:.2}); minimum-image unwrapping \
                 is wrong for any atom that moved more than half a box: dump image flags \
                 (ix iy iz) or unwrapped coordinates (xu yu zu)",
                self.jumps,
                unwrap::SUSPICIOUS_JUMP
            ));
        }
        self.info
    }
}
