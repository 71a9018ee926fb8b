//! Which files to read, in which order, and how to decompress them.

use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

/// Expands globs (`dump.*.lammpstrj`) and keeps explicit paths in the given order.
/// Glob matches are sorted naturally so that `dump.900` comes before `dump.1000`.
pub fn expand(inputs: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.contains(['*', '?', '[']) && !Path::new(input).exists() {
            let paths = glob::glob(input)
                .map_err(|e| Error::NoInput(format!("bad pattern {input:?}: {e}")))?;
            let mut matched: Vec<PathBuf> = paths.filter_map(|p| p.ok()).collect();
            if matched.is_empty() {
                return Err(Error::NoInput(format!("no file matches {input:?}")));
            }
            matched.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
            out.extend(matched);
        } else {
            let path = PathBuf::from(input);
            let unit = input.trim_end_matches([',', '.']);
            if !path.exists() && ["fs", "ps", "ns", "as", "s"].contains(&unit) {
                return Err(Error::Invalid(format!(
                    "{input:?} is not a dump file but looks like the unit of a time option \
                     written apart from its number: write it attached (--dt 10fs) or quote \
                     it (--dt '10 fs')"
                )));
            }
            out.push(path);
        }
    }
    if out.is_empty() {
        return Err(Error::NoInput("no dump file given".into()));
    }
    Ok(out)
}

/// Checks that each file opens and holds text that starts like a LAMMPS
/// dump, so that a binary file or a wrong file is one short error.
pub fn check_text(files: &[PathBuf]) -> Result<()> {
    for path in files {
        let mut r = open(path, Arc::new(AtomicU64::new(0)))?;
        let mut head = Vec::with_capacity(4096);
        r.by_ref()
            .take(4096)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if head.is_empty() {
            continue;
        }
        let odd = head
            .iter()
            .position(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)));
        let utf8_bad = match std::str::from_utf8(&head) {
            Ok(_) => None,
            // A character cut at the end of the 4 KiB is not an error.
            Err(e) if e.error_len().is_none() => None,
            Err(e) => Some(e.valid_up_to()),
        };
        if let Some(at) = odd.or(utf8_bad) {
            return Err(Error::Invalid(format!(
                "{}: not a LAMMPS text dump: binary data (byte 0x{:02x} at offset {at}); postproc \
                 reads the text written by dump custom or dump atom, plain or compressed with \
                 gzip or zstd",
                path.display(),
                head[at]
            )));
        }
        let text = String::from_utf8_lossy(&head);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.trim_start().starts_with("ITEM:") && text.lines().count() > 1 {
            let shown: String = first.chars().take(40).collect();
            return Err(Error::Invalid(format!(
                "{}: line 1: not a LAMMPS text dump: it starts with {shown:?} where \
                 \"ITEM: TIMESTEP\" was expected",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Compares strings with embedded numbers by value ("a9" < "a10").
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (da, db) = (trim_zeros(&a[..na]), trim_zeros(&b[..nb]));
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().take_while(|&&c| c == b'0').count();
    &d[k.min(d.len().saturating_sub(1))..]
}

/// Counts the compressed bytes consumed, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, AtomicOrdering::Relaxed);
        Ok(n)
    }
}

/// Opens a dump, decompressing by content (gzip or zstd magic), not by name.
pub fn open(path: &Path, count: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let raw = Counting {
        inner: head.chain(file),
        count,
    };
    if got >= 2 && magic[..2] == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, raw),
        )))
    } else if got == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
        let dec = zstd::stream::read::Decoder::new(raw).map_err(|e| Error::io(path, e))?;
        Ok(Box::new(dec))
    } else {
        Ok(Box::new(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_per_step_files() {
        let mut v = vec!["d.1000.txt", "d.900.txt", "d.0.txt", "d.90.txt"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["d.0.txt", "d.90.txt", "d.900.txt", "d.1000.txt"]);
    }
}
