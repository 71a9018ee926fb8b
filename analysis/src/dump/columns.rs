//! What each column of an `ITEM: ATOMS` header means to us.

/// The role of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Skip,
    Id,
    Type,
    Pos(usize),
    Image(usize),
    Vel(usize),
}

/// Which flavour of coordinates the dump carries (best one chosen).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coords {
    /// `xu yu zu`
    Unwrapped,
    /// `xsu ysu zsu`
    ScaledUnwrapped,
    /// `x y z`, unwrapped with `ix iy iz` when present
    Wrapped,
    /// `xs ys zs`, unwrapped with `ix iy iz` when present
    Scaled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    pub names: Vec<String>,
    pub slots: Vec<Slot>,
    pub coords: Coords,
    pub images: bool,
    pub velocities: bool,
    pub has_type: bool,
}

impl Columns {
    /// `names` are the words after `ITEM: ATOMS`.
    pub fn from_names(names: &[&str]) -> Result<Columns, String> {
        let find = |n: &str| names.iter().position(|&c| c == n);
        let triple = |a: &str, b: &str, c: &str| match (find(a), find(b), find(c)) {
            (Some(i), Some(j), Some(k)) => Some([i, j, k]),
            _ => None,
        };
        let id = find("id").ok_or_else(|| {
            format!(
                "missing column id (columns: {}); dump with `dump custom ... id type x y z ...`",
                names.join(" ")
            )
        })?;
        let (coords, pos) = if let Some(p) = triple("xu", "yu", "zu") {
            (Coords::Unwrapped, p)
        } else if let Some(p) = triple("xsu", "ysu", "zsu") {
            (Coords::ScaledUnwrapped, p)
        } else if let Some(p) = triple("x", "y", "z") {
            (Coords::Wrapped, p)
        } else if let Some(p) = triple("xs", "ys", "zs") {
            (Coords::Scaled, p)
        } else {
            return Err(format!(
                "missing position columns: need xu yu zu, xsu ysu zsu, x y z or xs ys zs (columns: {})",
                names.join(" ")
            ));
        };
        let image =
            triple("ix", "iy", "iz").filter(|_| matches!(coords, Coords::Wrapped | Coords::Scaled));
        let vel = triple("vx", "vy", "vz");
        let mut slots = vec![Slot::Skip; names.len()];
        slots[id] = Slot::Id;
        let ty = find("type");
        if let Some(t) = ty {
            slots[t] = Slot::Type;
        }
        for k in 0..3 {
            slots[pos[k]] = Slot::Pos(k);
            if let Some(im) = image {
                slots[im[k]] = Slot::Image(k);
            }
            if let Some(v) = vel {
                slots[v[k]] = Slot::Vel(k);
            }
        }
        // Columns after the last one we need are never looked at.
        let last = slots.iter().rposition(|s| *s != Slot::Skip).unwrap_or(0);
        slots.truncate(last + 1);
        Ok(Columns {
            names: names.iter().map(|s| s.to_string()).collect(),
            slots,
            coords,
            images: image.is_some(),
            velocities: vel.is_some(),
            has_type: ty.is_some(),
        })
    }

    /// Human words for the coordinate flavour, printed in summaries.
    pub fn describe(&self) -> &'static str {
        match (self.coords, self.images) {
            (Coords::Unwrapped, _) => "unwrapped (xu yu zu)",
            (Coords::ScaledUnwrapped, _) => "scaled unwrapped (xsu ysu zsu)",
            (Coords::Wrapped, true) => "wrapped + image flags (x y z ix iy iz)",
            (Coords::Scaled, true) => "scaled + image flags (xs ys zs ix iy iz)",
            (Coords::Wrapped, false) => "wrapped (x y z), unwrapped by minimum image",
            (Coords::Scaled, false) => "scaled (xs ys zs), unwrapped by minimum image",
        }
    }

    /// Positions that still need unwrapping by continuity between frames.
    pub fn needs_continuity(&self) -> bool {
        matches!(self.coords, Coords::Wrapped | Coords::Scaled) && !self.images
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_unwrapped_and_ignores_trailing_columns() {
        let c =
            Columns::from_names(&["id", "type", "x", "y", "z", "xu", "yu", "zu", "c_pe"]).unwrap();
        assert_eq!(c.coords, Coords::Unwrapped);
        assert_eq!(c.slots.len(), 8);
        assert!(!c.needs_continuity());
        let c = Columns::from_names(&["id", "xs", "ys", "zs"]).unwrap();
        assert!(c.needs_continuity());
        assert!(Columns::from_names(&["id", "type", "x", "y"]).is_err());
        assert!(Columns::from_names(&["type", "x", "y", "z"]).is_err());
    }
}
