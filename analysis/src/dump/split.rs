//! Cuts a byte stream into frames. Only the few header lines are read here;
//! the atom rows are handed on untouched so that they can be parsed in parallel.

use super::columns::Columns;
use crate::error::{Error, Result};
use crate::frame::Cell;
use memchr::{memchr, memchr_iter};
use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

const CHUNK: usize = 8 << 20;

#[derive(Clone, Debug)]
pub struct Header {
    pub step: u64,
    pub n_atoms: usize,
    pub cell: Cell,
    pub columns: Arc<Columns>,
}

/// One frame whose atom rows are still text.
pub struct RawFrame {
    pub file: Arc<PathBuf>,
    /// 0-based position in the whole stream of files.
    pub ordinal: usize,
    /// Line of `ITEM: TIMESTEP` and of the first atom row (1-based).
    pub start_line: u64,
    pub atoms_line: u64,
    /// Line holding the atom count.
    pub count_line: u64,
    pub header: Header,
    pub chunk: Arc<Vec<u8>>,
    pub range: Range<usize>,
}

impl RawFrame {
    pub fn rows(&self) -> &[u8] {
        &self.chunk[self.range.clone()]
    }

    pub fn error(&self, line: u64, msg: impl Into<String>) -> Error {
        Error::Dump {
            file: (*self.file).clone(),
            frame: self.ordinal + 1,
            step: Some(self.header.step),
            line,
            msg: msg.into(),
        }
    }
}

pub enum Split {
    Frame(RawFrame),
    /// The file ended inside a frame at `line`.
    Truncated {
        line: u64,
        what: String,
    },
}

pub struct Splitter {
    src: Box<dyn Read + Send>,
    file: Arc<PathBuf>,
    chunk: Arc<Vec<u8>>,
    pos: usize,
    eof: bool,
    /// 1-based number of the line starting at `pos`.
    line: u64,
    columns: Option<(Vec<u8>, Arc<Columns>)>,
    /// Earlier chunks, reused once no frame points into them any more:
    /// fresh memory for every chunk costs page faults.
    spare: Vec<Arc<Vec<u8>>>,
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

impl Splitter {
    pub fn new(src: Box<dyn Read + Send>, file: PathBuf) -> Splitter {
        Splitter {
            src,
            file: Arc::new(file),
            chunk: Arc::new(Vec::new()),
            pos: 0,
            eof: false,
            line: 1,
            columns: None,
            spare: Vec::new(),
        }
    }

    fn data(&self) -> &[u8] {
        &self.chunk[self.pos..]
    }

    /// Moves the unread bytes to a fresh chunk and reads more after them.
    /// Offsets relative to `pos` stay valid.
    fn refill(&mut self) -> Result<()> {
        let rest = self.data().len();
        let cap = CHUNK.max(rest * 2);
        let mut v = match self.spare.iter().position(|c| Arc::strong_count(c) == 1) {
            Some(i) => Arc::try_unwrap(self.spare.swap_remove(i)).unwrap_or_default(),
            None => Vec::new(),
        };
        // Filled with old bytes rather than cleared: no zeroing on reuse.
        v.resize(cap, 0);
        v[..rest].copy_from_slice(self.data());
        let mut filled = rest;
        while filled < cap {
            match self.src.read(&mut v[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => filled += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&*self.file, e)),
            }
        }
        v.truncate(filled);
        let old = std::mem::replace(&mut self.chunk, Arc::new(v));
        if self.spare.len() < 3 && old.capacity() > 0 {
            self.spare.push(old);
        }
        self.pos = 0;
        Ok(())
    }

    /// (end of line, start of next line) for the line at relative offset
    /// `from`; `complete` is false when the file ends without a newline.
    fn line_at(&mut self, from: usize) -> Result<Option<(usize, usize, bool)>> {
        loop {
            let data = self.data();
            if from < data.len() {
                if let Some(i) = memchr(b'\n', &data[from..]) {
                    return Ok(Some((from + i, from + i + 1, true)));
                }
            }
            if self.eof {
                let len = data.len();
                return Ok((from < len).then_some((len, len, false)));
            }
            self.refill()?;
        }
    }

    /// Relative end of `n` rows starting at `from`, or the number of rows found.
    fn rows_end(&mut self, from: usize, n: usize) -> Result<std::result::Result<usize, usize>> {
        let mut count = 0;
        let mut cur = from;
        loop {
            let data = self.data();
            for i in memchr_iter(b'\n', &data[cur..]) {
                count += 1;
                if count == n {
                    return Ok(Ok(cur + i + 1));
                }
            }
            cur = data.len();
            if self.eof {
                let last_start =
                    memchr::memrchr(b'\n', &data[from..]).map_or(from, |i| from + i + 1);
                let partial = !trim(&data[last_start..]).is_empty();
                if partial && count + 1 == n {
                    return Ok(Ok(cur));
                }
                return Ok(Err(count));
            }
            self.refill()?;
        }
    }

    fn err(&self, ordinal: usize, step: Option<u64>, line: u64, msg: String) -> Error {
        Error::Dump {
            file: (*self.file).clone(),
            frame: ordinal + 1,
            step,
            line,
            msg,
        }
    }

    /// The next frame, `None` at a clean end of file.
    pub fn next_frame(&mut self, ordinal: usize) -> Result<Option<Split>> {
        // Blank lines between frames are tolerated.
        loop {
            match self.line_at(0)? {
                None => return Ok(None),
                Some((end, next, _)) => {
                    if !trim(&self.data()[..end]).is_empty() {
                        break;
                    }
                    self.pos += next;
                    self.line += 1;
                }
            }
        }
        let start_line = self.line;
        let mut line = self.line;
        let mut rel = 0;
        let mut step = None;
        let mut n_atoms = None;
        let mut count_line = start_line;
        let mut cell = None;
        let columns;
        macro_rules! truncated {
            ($what:expr) => {{
                self.eof = true;
                self.pos = self.chunk.len();
                return Ok(Some(Split::Truncated {
                    line,
                    what: $what.to_string(),
                }));
            }};
        }
        // Reads the next header line as text, or stops at a truncated header.
        macro_rules! next_line {
            () => {{
                match self.line_at(rel)? {
                    Some((end, next, true)) => {
                        let t = String::from_utf8_lossy(trim(&self.data()[rel..end])).into_owned();
                        rel = next;
                        line += 1;
                        t
                    }
                    _ => truncated!("the frame header is cut short"),
                }
            }};
        }
        loop {
            let text = next_line!();
            let item_line = line - 1;
            let Some(item) = text.strip_prefix("ITEM:").map(str::trim) else {
                return Err(self.err(
                    ordinal,
                    step,
                    item_line,
                    format!("expected an `ITEM:` line, found {text:?}"),
                ));
            };
            match item {
                "TIMESTEP" => {
                    let t = next_line!();
                    step = Some(t.parse::<u64>().map_err(|_| {
                        self.err(
                            ordinal,
                            None,
                            line - 1,
                            format!("cannot read timestep {t:?}"),
                        )
                    })?);
                }
                "NUMBER OF ATOMS" => {
                    let t = next_line!();
                    count_line = line - 1;
                    n_atoms = Some(t.parse::<usize>().map_err(|_| {
                        self.err(
                            ordinal,
                            step,
                            line - 1,
                            format!("cannot read atom count {t:?}"),
                        )
                    })?);
                }
                "UNITS" | "TIME" => {
                    next_line!();
                }
                b if b.starts_with("BOX BOUNDS") => {
                    let flags: Vec<&str> = b["BOX BOUNDS".len()..].split_whitespace().collect();
                    if flags.contains(&"abc") {
                        return Err(self.err(
                            ordinal,
                            step,
                            item_line,
                            "general triclinic boxes (BOX BOUNDS abc origin) are not supported; \
                             dump with a restricted triclinic box"
                                .into(),
                        ));
                    }
                    let tilted = flags.contains(&"xy");
                    let mut lo = [0.0; 3];
                    let mut hi = [0.0; 3];
                    let mut tilt = [0.0; 3];
                    for k in 0..3 {
                        let t = next_line!();
                        let v: Vec<f64> = t
                            .split_whitespace()
                            .map(|w| w.parse::<f64>())
                            .collect::<std::result::Result<_, _>>()
                            .map_err(|_| {
                                self.err(
                                    ordinal,
                                    step,
                                    line - 1,
                                    format!("cannot read box bounds {t:?}"),
                                )
                            })?;
                        let want = if tilted { 3 } else { 2 };
                        if v.len() < want || v.iter().any(|x| !x.is_finite()) {
                            return Err(self.err(
                                ordinal,
                                step,
                                line - 1,
                                format!("box bounds line {t:?} needs {want} numbers"),
                            ));
                        }
                        lo[k] = v[0];
                        hi[k] = v[1];
                        if tilted {
                            tilt[k] = v[2];
                        }
                    }
                    let c = Cell::from_dump_bounds(lo, hi, tilt);
                    if c.edges[0][0] <= 0.0 || c.edges[1][1] <= 0.0 || c.edges[2][2] <= 0.0 {
                        return Err(self.err(
                            ordinal,
                            step,
                            line - 3,
                            "empty or inverted box".into(),
                        ));
                    }
                    cell = Some(c);
                }
                b if b.starts_with("ATOMS") => {
                    let names = b["ATOMS".len()..].trim();
                    columns = self
                        .columns_for(names)
                        .map_err(|m| self.err(ordinal, step, item_line, m))?;
                    break;
                }
                other => {
                    return Err(self.err(
                        ordinal,
                        step,
                        item_line,
                        format!("unknown item `ITEM: {other}`"),
                    ))
                }
            }
        }
        let (Some(step), Some(n_atoms), Some(cell)) = (step, n_atoms, cell) else {
            return Err(self.err(
                ordinal,
                step,
                start_line,
                "frame header lacks TIMESTEP, NUMBER OF ATOMS or BOX BOUNDS".into(),
            ));
        };
        let atoms_line = line;
        let end = if n_atoms == 0 {
            rel
        } else {
            match self.rows_end(rel, n_atoms)? {
                Ok(end) => end,
                Err(found) => truncated!(format!(
                    "the file ends after {found} of {n_atoms} atom rows"
                )),
            }
        };
        let frame = RawFrame {
            file: self.file.clone(),
            ordinal,
            start_line,
            atoms_line,
            count_line,
            header: Header {
                step,
                n_atoms,
                cell,
                columns,
            },
            chunk: self.chunk.clone(),
            range: self.pos + rel..self.pos + end,
        };
        self.pos += end;
        self.line = atoms_line + n_atoms as u64;
        Ok(Some(Split::Frame(frame)))
    }

    fn columns_for(&mut self, names: &str) -> std::result::Result<Arc<Columns>, String> {
        if let Some((text, c)) = &self.columns {
            if text.as_slice() == names.as_bytes() {
                return Ok(c.clone());
            }
        }
        let words: Vec<&str> = names.split_whitespace().collect();
        let c = Arc::new(Columns::from_names(&words)?);
        self.columns = Some((names.as_bytes().to_vec(), c.clone()));
        Ok(c)
    }
}
