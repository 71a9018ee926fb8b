//! g(r), its partials per type pair and the coordination numbers from a
//! source: what `postproc rdf` computes and prints with `--json`.

use super::pass::reader_messages;
use super::summary::{common, merge};
use crate::analysis::rdf::{Rdf, RdfAccumulator};
use crate::dump::{DumpInfo, ReadOptions};
use crate::error::{Error, Result};
use crate::out::num;
use crate::source::Source;
use serde::Serialize;
use serde_json::{json, Map, Value};

#[derive(Clone, Debug)]
pub struct RdfOptions {
    pub read: ReadOptions,
    /// Largest distance, Å (default: the smaller of 10 Å and half the
    /// narrowest width of the first frame's box).
    pub rmax: Option<f64>,
    pub bins: usize,
}

pub struct RdfRun {
    pub info: DumpInfo,
    pub rdf: Rdf,
}

/// The summary `postproc rdf --json` prints, and the columns of rdf.csv.
#[derive(Serialize)]
#[serde(transparent)]
pub struct RdfSummary {
    pub summary: Value,
    /// r (Å), then g and the running coordination number of each pair.
    #[serde(skip)]
    pub columns: Vec<(String, Vec<f64>)>,
}

/// Reads `source` and histograms the pair distances. What the reader has to
/// say goes to `messages`, even when the run then fails.
pub fn run(source: &Source, opts: &RdfOptions, messages: &mut Vec<String>) -> Result<RdfRun> {
    if opts.bins < 3 {
        return Err(Error::Invalid("--bins must be at least 3".into()));
    }
    let mut acc: Option<RdfAccumulator> = None;
    let info = source.read(&opts.read, |f| {
        if acc.is_none() {
            let wmin = f.cell.widths().into_iter().fold(f64::INFINITY, f64::min);
            let rmax = opts.rmax.unwrap_or((0.5 * wmin).min(10.0));
            acc = Some(RdfAccumulator::new(&f.types, rmax, opts.bins));
        }
        acc.as_mut().expect("set above").add(f)
    })?;
    messages.extend(reader_messages(&info));
    let rdf = acc.expect("one frame at least").finish()?;
    Ok(RdfRun { info, rdf })
}

impl RdfRun {
    pub fn summary(&self) -> RdfSummary {
        summarise(&self.info, &self.rdf)
    }
}

pub fn summarise(info: &DumpInfo, rdf: &Rdf) -> RdfSummary {
    let mut columns: Vec<(String, Vec<f64>)> = vec![("r_A".into(), rdf.r.clone())];
    let mut pairs = Map::new();
    for p in &rdf.pairs {
        columns.push((format!("g_{}", p.name), p.g.clone()));
        columns.push((format!("n_{}", p.name), p.coordination.clone()));
        pairs.insert(
            p.name.clone(),
            json!({
                "first_peak_A": p.first_peak.map(num),
                "first_min_A": p.first_min.map(num),
                "coordination": p.first_shell.map(num),
            }),
        );
    }
    let summary = merge(
        json!({
            "pairs": Value::Object(pairs),
            "rmax_A": rdf.r.last().map(|r| r + 0.5 * rdf.dr),
            "bin_A": rdf.dr,
            "n_frames": rdf.n_frames,
            "n_atoms": info.n_atoms,
        }),
        common(info),
    );
    RdfSummary { summary, columns }
}
