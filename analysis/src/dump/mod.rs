//! Streaming reader of LAMMPS text dumps (`dump atom` / `dump custom`).
//!
//! A reader thread decompresses and cuts the input into frames ([`split`]);
//! batches of frames are parsed by one parser thread per core ([`parse`])
//! while the caller works on earlier frames; frames then reach the caller
//! one by one, in order, sorted by atom id and unwrapped ([`unwrap`]).
//! Only a few batches are in flight, and their text chunks and row buffers
//! are reused, so memory does not grow with the number of frames.

pub mod columns;
pub mod input;
pub mod parse;
pub mod split;
pub mod unwrap;

use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::progress::Progress;
use parse::IdMap;
use split::{RawFrame, Split, Splitter};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};

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

/// A batch of frames and their parsed rows, in file order.
type Parsed = (Vec<RawFrame>, Vec<Result<parse::Rows>>);

enum Msg {
    /// The parse of the next batch, still under way on a parser thread.
    Frames(Receiver<Parsed>),
    Truncated {
        file: PathBuf,
        frame: usize,
        line: u64,
        what: String,
    },
    Failed(Error),
}

const BATCH_BYTES: usize = 2 << 20;
const BATCH_FRAMES: usize = 32;
/// Batches between the splitter and the consumer (parsed or being parsed).
const IN_FLIGHT: usize = 3;

/// One batch for a parser thread: frames, whether the first of them is the
/// first frame of the stream (whose atom types are read), where to answer.
type Job = (Vec<RawFrame>, bool, SyncSender<Parsed>);

/// Position and velocity buffers handed back by the consumer for reuse:
/// fresh ones for every frame cost page faults.
type Pool = Mutex<Vec<Vec<[f64; 3]>>>;

fn recycled(pool: &Pool) -> Vec<[f64; 3]> {
    pool.lock()
        .ok()
        .and_then(|mut p| p.pop())
        .unwrap_or_default()
}

/// Parses batches until the splitter stops sending them. Rows are put in id
/// order here once the consumer has built the id map from the first frame.
fn parse_jobs(jobs: &Mutex<std::sync::mpsc::Receiver<Job>>, map: &OnceLock<IdMap>, pool: &Pool) {
    let mut ids = Vec::new();
    loop {
        let job = jobs.lock().map(|rx| rx.recv());
        let Ok(Ok((batch, first, answer))) = job else {
            return;
        };
        let mut rows = Vec::with_capacity(batch.len());
        for (i, raw) in batch.iter().enumerate() {
            let (pos, vel) = (recycled(pool), recycled(pool));
            let buf = std::mem::take(&mut ids);
            let parsed = parse::parse_rows_into(raw, first && i == 0, buf, pos, vel);
            let parsed = match (parsed, map.get()) {
                (Ok(r), Some(m)) if m.sorted.len() == raw.header.n_atoms => {
                    parse::reorder(raw, r, m)
                }
                (parsed, _) => parsed,
            };
            rows.push(parsed.map(|mut r| {
                // Sorted rows give their emptied id vector back.
                if r.ids.is_empty() {
                    ids = std::mem::take(&mut r.ids);
                }
                r
            }));
        }
        // The consumer may have stopped early (an error): nothing to do then.
        let _ = answer.send((batch, rows));
    }
}

/// Reads `files` in order and calls `on_frame` for each kept frame.
pub fn read(
    files: &[PathBuf],
    opts: &ReadOptions,
    mut on_frame: impl FnMut(&Frame) -> Result<()>,
) -> Result<DumpInfo> {
    input::check_text(files)?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let counter = Arc::new(AtomicU64::new(0));
    let progress = Progress::bytes(total, opts.progress, "reading");
    let every = opts.every.max(1);
    let map = OnceLock::new();
    let pool = Pool::default();
    let (job_tx, job_rx) = channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    let result = std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Msg>(IN_FLIGHT);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for _ in 0..threads {
            scope.spawn(|| parse_jobs(&job_rx, &map, &pool));
        }
        let producer_counter = counter.clone();
        let max_frames = opts.max_frames;
        scope.spawn(move || produce(files, producer_counter, tx, job_tx, every, max_frames));
        let mut state = Consumer::new(files, &map, &pool);
        for msg in rx {
            match msg {
                Msg::Frames(parsed) => {
                    let Ok((batch, rows)) = parsed.recv() else {
                        return Err(Error::Invalid("a dump parser thread failed".into()));
                    };
                    state.batch(batch, rows, &mut on_frame)?;
                    progress.set(counter.load(Ordering::Relaxed));
                }
                // An unreadable frame followed by more input is the
                // earlier, and the real, error.
                Msg::Truncated { .. } | Msg::Failed(_) if state.unreadable.is_some() => {
                    return Err(state.unreadable.take().expect("checked"));
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
    jobs: Sender<Job>,
    every: usize,
    max_frames: Option<usize>,
) {
    let mut ordinal = 0;
    let mut kept = 0;
    let mut batch = Vec::new();
    let mut bytes = 0;
    let mut first = true;
    let mut flush = |batch: &mut Vec<RawFrame>, bytes: &mut usize| -> bool {
        *bytes = 0;
        if batch.is_empty() {
            return true;
        }
        let (answer, parsed) = sync_channel(1);
        let job = (std::mem::take(batch), std::mem::take(&mut first), answer);
        jobs.send(job).is_ok() && tx.send(Msg::Frames(parsed)).is_ok()
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

struct Consumer<'m> {
    /// Set from the first frame; parser threads then sort rows by id themselves.
    map: &'m OnceLock<IdMap>,
    pool: &'m Pool,
    types: Arc<Vec<u32>>,
    continuity: unwrap::Continuity,
    continuity_used: bool,
    jumps: usize,
    first_jump: Option<(u64, usize, f64)>,
    last_file: Option<Arc<PathBuf>>,
    /// A frame whose rows could not be parsed. It is an error if any frame
    /// follows; if it was the last frame of the stream (a run killed while
    /// writing garbage), the complete frames before it are kept.
    unreadable: Option<Error>,
    info: DumpInfo,
}

impl<'m> Consumer<'m> {
    fn new(files: &[PathBuf], map: &'m OnceLock<IdMap>, pool: &'m Pool) -> Consumer<'m> {
        Consumer {
            map,
            pool,
            types: Arc::new(Vec::new()),
            continuity: Default::default(),
            continuity_used: false,
            jumps: 0,
            first_jump: None,
            last_file: None,
            unreadable: None,
            info: DumpInfo {
                files: files.to_vec(),
                ..Default::default()
            },
        }
    }

    /// Delivers a parsed batch in order; the first error stops it.
    fn batch(
        &mut self,
        batch: Vec<RawFrame>,
        parsed: Vec<Result<parse::Rows>>,
        on_frame: &mut impl FnMut(&Frame) -> Result<()>,
    ) -> Result<()> {
        for (raw, rows) in batch.iter().zip(parsed) {
            if let Some(e) = self.unreadable.take() {
                return Err(e);
            }
            if let Some(map) = self.map.get() {
                let n = map.sorted.len();
                if raw.header.n_atoms != n {
                    return Err(raw.error(
                        raw.count_line,
                        format!(
                            "the atom count changed from {n} to {}; every frame must hold \
                             the same atoms",
                            raw.header.n_atoms
                        ),
                    ));
                }
            }
            let mut rows = match rows {
                Ok(rows) => rows,
                // Kept for later: an error only if another frame follows.
                Err(e) if self.map.get().is_some() => {
                    self.unreadable = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.map.get() {
                None => {
                    let map =
                        IdMap::new(&rows.ids).map_err(|d| parse::duplicate_error(raw, &rows, d))?;
                    self.info.n_atoms = raw.header.n_atoms;
                    self.info.velocities = raw.header.columns.velocities;
                    self.info.coords = raw.header.columns.describe().to_string();
                    rows = parse::reorder(raw, rows, &map)?;
                    // Taken after the reordering: the types in id order, as
                    // the positions (a dump not sorted by id had them in
                    // file order, so per-type results mixed atoms up).
                    self.types = Arc::new(
                        rows.types
                            .take()
                            .unwrap_or_else(|| vec![1; raw.header.n_atoms]),
                    );
                    // Only this thread sets it.
                    let _ = self.map.set(map);
                }
                // Parsed before the map was known: sort here.
                Some(map) if !rows.ids.is_empty() => rows = parse::reorder(raw, rows, map)?,
                Some(_) => {}
            }
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
                    let id = self.map.get().map_or(0, |m| m.sorted[atom]);
                    self.first_jump = Some((id, raw.ordinal + 1, jump));
                }
            }
        }
        let frame = Frame {
            index: self.info.n_frames,
            step,
            cell: raw.header.cell,
            ids: self.map.get().expect("set").sorted.clone(),
            types: self.types.clone(),
            pos,
            vel: rows.vel,
        };
        self.info.velocities &= frame.vel.is_some();
        self.info.steps.push(step);
        self.info.n_frames += 1;
        on_frame(&frame)?;
        if let Ok(mut pool) = self.pool.lock() {
            if pool.len() < 64 {
                pool.push(frame.pos);
                pool.extend(frame.vel);
            }
        }
        Ok(())
    }

    fn finish(mut self) -> DumpInfo {
        if let Some(e) = self.unreadable.take() {
            self.info.warnings.push(format!(
                "{e}; it is the last frame of the input, so it was skipped and the {} complete \
                 frames before it were used",
                self.info.n_frames
            ));
        }
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
