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
            out.push(PathBuf::from(input));
        }
    }
    if out.is_empty() {
        return Err(Error::NoInput("no dump file given".into()));
    }
    Ok(out)
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
