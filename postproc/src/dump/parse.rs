//! Atom rows → numbers, in id order. Runs in parallel, one frame per task.

use super::columns::{Coords, Slot};
use super::split::RawFrame;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// Maps atom ids to their rank among the ids of the first frame.
pub struct IdMap {
    pub sorted: Arc<Vec<u64>>,
    dense: Vec<u32>,
    sparse: HashMap<u64, u32>,
}

impl IdMap {
    /// Fails with the first duplicated id.
    pub fn new(ids: &[u64]) -> std::result::Result<IdMap, u64> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(w[0]);
        }
        let max = sorted.last().copied().unwrap_or(0);
        let (mut dense, mut sparse) = (Vec::new(), HashMap::new());
        // LAMMPS ids are usually 1..N; a table is then the fastest map.
        if max <= 4 * sorted.len() as u64 + 1024 {
            dense = vec![u32::MAX; max as usize + 1];
            for (i, &id) in sorted.iter().enumerate() {
                dense[id as usize] = i as u32;
            }
        } else {
            sparse = sorted
                .iter()
                .enumerate()
                .map(|(i, &id)| (id, i as u32))
                .collect();
        }
        Ok(IdMap {
            sorted: Arc::new(sorted),
            dense,
            sparse,
        })
    }

    #[inline]
    pub fn get(&self, id: u64) -> Option<usize> {
        if self.dense.is_empty() {
            self.sparse.get(&id).map(|&i| i as usize)
        } else {
            match self.dense.get(id as usize) {
                Some(&i) if i != u32::MAX => Some(i as usize),
                _ => None,
            }
        }
    }
}

/// Rows of one frame in file order, positions already Cartesian and, where
/// the dump allows, unwrapped.
pub struct Rows {
    pub ids: Vec<u64>,
    pub pos: Vec<[f64; 3]>,
    pub vel: Option<Vec<[f64; 3]>>,
    pub types: Option<Vec<u32>>,
}

#[inline]
fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t' || c == b'\r'
}

const POW10: [f64; 19] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// Dumps are mostly plain decimals (`-12.345678`): for up to 15 digits the
/// integer mantissa and the power of ten are exact doubles, so one division
/// is correctly rounded (Clinger's fast path). Anything else goes to fast-float.
#[inline]
fn parse_f64(tok: &[u8]) -> Option<f64> {
    let (neg, body) = match tok.first() {
        Some(b'-') => (true, &tok[1..]),
        Some(b'+') => (false, &tok[1..]),
        _ => (false, tok),
    };
    let mut mant: u64 = 0;
    let mut digits = 0;
    let mut frac = None;
    for (i, &c) in body.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + (c - b'0') as u64;
                digits += 1;
            }
            b'.' if frac.is_none() => frac = Some(i),
            _ => return parse_f64_slow(tok),
        }
    }
    if digits == 0 || digits > 15 {
        return parse_f64_slow(tok);
    }
    let scale = frac.map_or(0, |i| body.len() - i - 1);
    let v = mant as f64 / POW10[scale];
    Some(if neg { -v } else { v })
}

#[cold]
fn parse_f64_slow(tok: &[u8]) -> Option<f64> {
    fast_float2::parse::<f64, _>(tok)
        .ok()
        .filter(|v| v.is_finite())
}

#[inline]
fn parse_i64(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok.first()? {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(if neg { -v } else { v })
}

/// Parses the atom rows of `raw` (types only when asked: they are read once).
pub fn parse_rows(raw: &RawFrame, want_types: bool) -> Result<Rows> {
    let h = &raw.header;
    let cols = &*h.columns;
    let n = h.n_atoms;
    let cell = h.cell;
    let mut ids = Vec::with_capacity(n);
    let mut pos = Vec::with_capacity(n);
    let mut vel = cols.velocities.then(|| Vec::with_capacity(n));
    let mut types = (want_types && cols.has_type).then(|| Vec::with_capacity(n));
    let bytes = raw.rows();
    let mut start = 0;
    for row in 0..n {
        let line_no = raw.atoms_line + row as u64;
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        start = end + 1;
        let (mut id, mut r, mut im, mut v, mut ty) = (0u64, [0f64; 3], [0f64; 3], [0f64; 3], 1u32);
        let mut p = 0;
        for (col, slot) in cols.slots.iter().enumerate() {
            while p < line.len() && is_space(line[p]) {
                p += 1;
            }
            let s = p;
            while p < line.len() && !is_space(line[p]) {
                p += 1;
            }
            let tok = &line[s..p];
            if tok.is_empty() {
                return Err(raw.error(
                    line_no,
                    format!(
                        "atom row has {col} values, the header names {} columns ({})",
                        cols.names.len(),
                        cols.names.join(" ")
                    ),
                ));
            }
            let bad = |what: &str| {
                let t = String::from_utf8_lossy(tok);
                if t.starts_with("ITEM:") {
                    raw.error(
                        line_no,
                        format!(
                            "found `{t}` after {row} of {n} atom rows: the frame has fewer \
                             atoms than NUMBER OF ATOMS says"
                        ),
                    )
                } else {
                    raw.error(
                        line_no,
                        format!("cannot read {t:?} as {what} (column {})", cols.names[col]),
                    )
                }
            };
            match *slot {
                Slot::Skip => {}
                Slot::Id => {
                    id = parse_i64(tok)
                        .filter(|&i| i >= 0)
                        .ok_or_else(|| bad("an atom id"))? as u64
                }
                Slot::Type => {
                    if types.is_some() {
                        ty = parse_i64(tok)
                            .filter(|&t| t >= 0 && t < u32::MAX as i64)
                            .ok_or_else(|| bad("an atom type"))? as u32
                    }
                }
                Slot::Pos(k) => r[k] = parse_f64(tok).ok_or_else(|| bad("a finite number"))?,
                Slot::Image(k) => {
                    im[k] = parse_i64(tok).ok_or_else(|| bad("an image flag"))? as f64
                }
                Slot::Vel(k) => v[k] = parse_f64(tok).ok_or_else(|| bad("a finite number"))?,
            }
        }
        let cart = match (cols.coords, cols.images) {
            (Coords::Unwrapped, _) => r,
            (Coords::ScaledUnwrapped, _) | (Coords::Scaled, false) => cell.to_cart(r),
            (Coords::Wrapped, false) => r,
            (Coords::Wrapped, true) => {
                let d = cell.frac_to_vec(im);
                [r[0] + d[0], r[1] + d[1], r[2] + d[2]]
            }
            (Coords::Scaled, true) => cell.to_cart([r[0] + im[0], r[1] + im[1], r[2] + im[2]]),
        };
        ids.push(id);
        pos.push(cart);
        if let Some(vv) = vel.as_mut() {
            vv.push(v);
        }
        if let Some(tt) = types.as_mut() {
            tt.push(ty);
        }
    }
    Ok(Rows {
        ids,
        pos,
        vel,
        types,
    })
}

/// Puts rows into ascending id order, checking that the atoms are those of
/// the first frame.
pub fn reorder(raw: &RawFrame, rows: Rows, map: &IdMap) -> Result<Rows> {
    if rows.ids.as_slice() == map.sorted.as_slice() {
        return Ok(rows);
    }
    let n = rows.ids.len();
    let mut perm = vec![usize::MAX; n];
    let mut seen = vec![false; n];
    for (row, &id) in rows.ids.iter().enumerate() {
        let line = raw.atoms_line + row as u64;
        let Some(k) = map.get(id) else {
            return Err(raw.error(line, format!("atom id {id} was not in the first frame")));
        };
        if std::mem::replace(&mut seen[k], true) {
            return Err(raw.error(line, format!("atom id {id} appears twice")));
        }
        perm[row] = k;
    }
    fn scatter<T: Copy + Default>(v: Vec<T>, perm: &[usize]) -> Vec<T> {
        let mut out = vec![T::default(); v.len()];
        for (x, &k) in v.into_iter().zip(perm) {
            out[k] = x;
        }
        out
    }
    Ok(Rows {
        ids: Vec::new(),
        pos: scatter(rows.pos, &perm),
        vel: rows.vel.map(|v| scatter(v, &perm)),
        types: rows.types.map(|t| scatter(t, &perm)),
    })
}

/// Turns a duplicate id found while building the map into a dump error.
pub fn duplicate_error(raw: &RawFrame, rows: &Rows, dup: u64) -> Error {
    let row = rows.ids.iter().rposition(|&i| i == dup).unwrap_or(0);
    raw.error(
        raw.atoms_line + row as u64,
        format!("atom id {dup} appears twice"),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_f64;

    #[test]
    fn fast_path_agrees_with_the_standard_parser() {
        for t in [
            "0",
            "-0.0",
            "12.5",
            "-3.141592653589",
            "1e-3",
            "2.5E+02",
            "123456789012345.6",
            ".5",
            "7.",
        ] {
            assert_eq!(parse_f64(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
        for t in ["", "-", ".", "1.2.3", "abc", "nan", "inf", "1e400"] {
            assert_eq!(parse_f64(t.as_bytes()), None, "{t}");
        }
    }
}
