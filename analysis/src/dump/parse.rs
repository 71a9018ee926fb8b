//! Atom rows → numbers, in id order. Runs in parallel, one frame per task.

use super::columns::{Columns, Coords, Slot};
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

/// The numbers of one atom row, as read.
#[derive(Clone, Copy, Default)]
struct Row {
    id: u64,
    r: [f64; 3],
    im: [f64; 3],
    v: [f64; 3],
    ty: u32,
}

const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The fast path reads a row through a fixed-size window of the text, with
/// positions taken modulo `MASK + 1`: no bounds checks per byte. A row
/// longer than `LONG` bytes would wrap around the window; it is read
/// carefully instead, as are the last rows of a frame (less than a window
/// left).
const WIN: usize = 512;
const MASK: usize = 255;
const LONG: usize = 240;
type Window = [u8; WIN];

#[inline(always)]
fn at(w: &Window, i: usize) -> u8 {
    w[i & MASK]
}

/// Eight bytes from `i`, little endian.
#[inline(always)]
fn word(w: &Window, i: usize) -> u64 {
    let i = i & MASK;
    let mut b = [0; 8];
    b.copy_from_slice(&w[i..i + 8]);
    u64::from_le_bytes(b)
}

/// High bit set in each byte of `x` (bytes ^ b'0') that is not a digit 0–9.
/// No byte carries into the next: ASCII bytes stay below 0x80 after the xor.
#[inline(always)]
fn non_digits(x: u64) -> u64 {
    (x.wrapping_add(0x7676_7676_7676_7676) | x) & HIGHS
}

/// Value of the first `k` (1..=8) digits of `x` (bytes ^ b'0', first digit
/// in the lowest byte): shifted to the top so that the gap reads as leading
/// zeros, then combined pairwise (2, 4, 8 digits) with three multiplications.
#[inline(always)]
fn digits_value(x: u64, k: usize) -> u64 {
    let v = x << (8 * (8 - k));
    let v = ((v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let v = ((v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32
}

#[inline(always)]
fn is_delim(c: u8) -> bool {
    c == b' ' || c == b'\n' || c == b'\t' || c == b'\r'
}

/// Digits from `i` (fewer than 8): (count, value); 8 or more: `None`.
#[inline(always)]
fn digit_run(w: &Window, i: usize) -> Option<(usize, u64)> {
    let x = word(w, i) ^ 0x3030_3030_3030_3030;
    let nd = non_digits(x);
    if nd == 0 {
        return None;
    }
    let k = (nd.trailing_zeros() / 8) as usize;
    Some((k, if k == 0 { 0 } else { digits_value(x, k) }))
}

/// Up to 16 digits from `i` by a plain loop (short runs, steady lengths:
/// well predicted): (end, value, count).
#[inline(always)]
fn short_digits(w: &Window, mut i: usize) -> (usize, u64, usize) {
    let s = i;
    let mut v = 0u64;
    for _ in 0..16 {
        let d = at(w, i).wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(d as u64);
        i += 1;
    }
    (i, v, i - s)
}

/// `[-]d…[.d…]` followed by a delimiter, with at most 15 digits in all and
/// fewer than 8 decimals, as (±mantissa, 10^decimals): both exact doubles,
/// so their quotient is exactly what [`parse_f64`] gives (Clinger's fast
/// path). The caller divides, several at once. Anything else: `None`, and
/// the careful path takes over.
#[inline(always)]
fn fast_f64(w: &Window, p: &mut usize) -> Option<(f64, f64)> {
    let neg = at(w, *p) == b'-';
    let (mut i, int, ni) = short_digits(w, *p + neg as usize);
    let (nf, frac) = if at(w, i) == b'.' {
        let r = digit_run(w, i + 1)?;
        i += 1 + r.0;
        r
    } else {
        (0, 0)
    };
    let nd = ni + nf;
    if nd == 0 || nd > 15 || !is_delim(at(w, i)) {
        return None;
    }
    *p = i;
    // Below 2^53: the signed conversion is exact and one instruction;
    // signs are random in a dump: set the sign bit rather than branch on it.
    let m = (((int * POW10_U64[nf] + frac) as i64) as f64).to_bits() | (neg as u64) << 63;
    Some((f64::from_bits(m), POW10[nf]))
}

const POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// `[-]d…` (at most 15 digits) followed by a delimiter.
#[inline(always)]
fn fast_i64(w: &Window, p: &mut usize) -> Option<i64> {
    let neg = at(w, *p) == b'-';
    let (i, v, k) = short_digits(w, *p + neg as usize);
    if k == 0 || k > 15 || !is_delim(at(w, i)) {
        return None;
    }
    *p = i;
    let s = -(neg as i64);
    Some((v as i64 ^ s) - s)
}

/// Skips blanks (not newlines) before a token; usually just one space.
#[inline(always)]
fn skip_blanks(w: &Window, p: &mut usize) {
    if at(w, *p) == b' ' && !is_space(at(w, *p + 1)) {
        *p += 1;
        return;
    }
    for _ in 0..LONG {
        if !is_space(at(w, *p)) {
            break;
        }
        *p += 1;
    }
}

/// Skips a token we do not read; false if there is none.
#[inline(always)]
fn skip_token(w: &Window, p: &mut usize) -> bool {
    let s = *p;
    for _ in 0..LONG {
        if is_delim(at(w, *p)) {
            break;
        }
        *p += 1;
    }
    *p > s
}

/// The row starting at `start` when every token is plain; the position after
/// its newline. Unusual rows (exponents, long numbers or rows, errors, the
/// last rows of the text) give `None`.
#[inline]
fn fast_row(b: &[u8], start: usize, cols: &Columns, want_type: bool) -> Option<(Row, usize)> {
    let w: &Window = b.get(start..start + WIN)?.try_into().ok()?;
    let mut row = Row {
        ty: 1,
        ..Row::default()
    };
    let mut p = 0;
    // Numerators and denominators of x y z vx vy vz, divided together below.
    let mut num = [0.0; 6];
    let mut den = [1.0; 6];
    for slot in &cols.slots {
        skip_blanks(w, &mut p);
        match *slot {
            Slot::Skip => {
                if !skip_token(w, &mut p) {
                    return None;
                }
            }
            Slot::Type if !want_type => {
                if !skip_token(w, &mut p) {
                    return None;
                }
            }
            Slot::Type => {
                row.ty = fast_i64(w, &mut p).filter(|&t| t >= 0 && t < u32::MAX as i64)? as u32
            }
            Slot::Id => row.id = fast_i64(w, &mut p).filter(|&i| i >= 0)? as u64,
            Slot::Pos(k) => (num[k], den[k]) = fast_f64(w, &mut p)?,
            Slot::Image(k) => row.im[k] = fast_i64(w, &mut p)? as f64,
            Slot::Vel(k) => (num[3 + k], den[3 + k]) = fast_f64(w, &mut p)?,
        }
        if p >= LONG {
            return None;
        }
    }
    let q: [f64; 6] = std::array::from_fn(|i| num[i] / den[i]);
    row.r = [q[0], q[1], q[2]];
    row.v = [q[3], q[4], q[5]];
    let next = if at(w, p) == b'\n' {
        start + p + 1
    } else {
        // Trailing blanks, `\r` or columns we do not read.
        let p = start + p;
        memchr::memchr(b'\n', &b[p..]).map_or(b.len(), |i| p + i + 1)
    };
    Some((row, next))
}

/// The row in `line` (without its newline), read token by token with
/// precise errors.
fn careful_row(raw: &RawFrame, line: &[u8], row: usize, want_type: bool) -> Result<Row> {
    let cols = &*raw.header.columns;
    let n = raw.header.n_atoms;
    let line_no = raw.atoms_line + row as u64;
    let mut out = Row {
        ty: 1,
        ..Row::default()
    };
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
                out.id = parse_i64(tok)
                    .filter(|&i| i >= 0)
                    .ok_or_else(|| bad("an atom id"))? as u64
            }
            Slot::Type => {
                if want_type {
                    out.ty = parse_i64(tok)
                        .filter(|&t| t >= 0 && t < u32::MAX as i64)
                        .ok_or_else(|| bad("an atom type"))? as u32
                }
            }
            Slot::Pos(k) => out.r[k] = parse_f64(tok).ok_or_else(|| bad("a finite number"))?,
            Slot::Image(k) => {
                out.im[k] = parse_i64(tok).ok_or_else(|| bad("an image flag"))? as f64
            }
            Slot::Vel(k) => out.v[k] = parse_f64(tok).ok_or_else(|| bad("a finite number"))?,
        }
    }
    Ok(out)
}

/// Parses the atom rows of `raw` (types only when asked: they are read once).
pub fn parse_rows(raw: &RawFrame, want_types: bool) -> Result<Rows> {
    parse_rows_into(raw, want_types, Vec::new(), Vec::new(), Vec::new())
}

/// [`parse_rows`] into recycled buffers for ids, positions and velocities.
pub fn parse_rows_into(
    raw: &RawFrame,
    want_types: bool,
    mut ids: Vec<u64>,
    mut pos: Vec<[f64; 3]>,
    mut vel_buf: Vec<[f64; 3]>,
) -> Result<Rows> {
    let h = &raw.header;
    let cols = &*h.columns;
    let n = h.n_atoms;
    let cell = h.cell;
    let want_type = want_types && cols.has_type;
    ids.clear();
    ids.reserve(n);
    pos.clear();
    pos.reserve(n);
    let mut vel = cols.velocities.then(|| {
        vel_buf.clear();
        vel_buf.reserve(n);
        vel_buf
    });
    let mut types = want_type.then(|| Vec::with_capacity(n));
    let bytes = raw.rows();
    let mut start = 0;
    for row in 0..n {
        let Row { id, r, im, v, ty } = match fast_row(bytes, start, cols, want_type) {
            Some((vals, next)) => {
                start = next;
                vals
            }
            None => {
                let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                let vals = careful_row(raw, &bytes[start..end], row, want_type)?;
                start = end + 1;
                vals
            }
        };
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
/// the first frame. The rows come back without their ids (those of the map;
/// the emptied vector keeps its memory for reuse).
pub fn reorder(raw: &RawFrame, mut rows: Rows, map: &IdMap) -> Result<Rows> {
    if rows.ids.as_slice() == map.sorted.as_slice() {
        rows.ids.clear();
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
