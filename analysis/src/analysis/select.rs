//! Which atoms an analysis looks at, and how they are grouped in the output.

use crate::error::{Error, Result};
use std::collections::{BTreeSet, HashSet};

/// A named set of atoms; `members` index into [`Selection::atoms`].
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub members: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Selection {
    /// Indices of the selected atoms in id order.
    pub atoms: Vec<usize>,
    /// Group 0 is every selected atom; then one group per type if asked.
    pub groups: Vec<Group>,
}

impl Selection {
    /// Selects atoms by type and/or id; `by_type` adds one group per type.
    pub fn new(
        ids: &[u64],
        types: &[u32],
        only_types: Option<&[u32]>,
        only_ids: Option<&HashSet<u64>>,
        by_type: bool,
    ) -> Result<Selection> {
        let atoms: Vec<usize> = (0..ids.len())
            .filter(|&i| only_types.is_none_or(|t| t.contains(&types[i])))
            .filter(|&i| only_ids.is_none_or(|s| s.contains(&ids[i])))
            .collect();
        if atoms.is_empty() {
            return Err(Error::Invalid(
                "the selection (--types / --ids) matches no atom".into(),
            ));
        }
        if let Some(set) = only_ids {
            let present: HashSet<u64> = ids.iter().copied().collect();
            if let Some(missing) = set.iter().find(|i| !present.contains(i)) {
                return Err(Error::Invalid(format!(
                    "atom id {missing} from --ids is not in the dump"
                )));
            }
        }
        let mut groups = vec![Group {
            name: "all".into(),
            members: (0..atoms.len()).collect(),
        }];
        let kinds: BTreeSet<u32> = atoms.iter().map(|&i| types[i]).collect();
        if by_type && kinds.len() > 1 {
            for t in kinds {
                groups.push(Group {
                    name: format!("type{t}"),
                    members: (0..atoms.len()).filter(|&j| types[atoms[j]] == t).collect(),
                });
            }
        }
        Ok(Selection { atoms, groups })
    }

    /// For each selected atom, the groups it belongs to.
    pub fn membership(&self) -> Vec<Vec<usize>> {
        let mut m = vec![Vec::new(); self.atoms.len()];
        for (g, group) in self.groups.iter().enumerate() {
            for &j in &group.members {
                m[j].push(g);
            }
        }
        m
    }
}

/// Reads an id list: integers or ranges `a-b`, separated by white space or
/// commas; `#` starts a comment.
pub fn parse_id_list(text: &str) -> std::result::Result<HashSet<u64>, String> {
    let mut set = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for word in line.split(|c: char| c.is_whitespace() || c == ',') {
            if word.is_empty() {
                continue;
            }
            let bad = || {
                format!(
                    "line {}: cannot read {word:?} as an atom id or range",
                    n + 1
                )
            };
            match word.split_once('-') {
                Some((a, b)) => {
                    let (a, b): (u64, u64) =
                        (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                    if b < a {
                        return Err(bad());
                    }
                    set.extend(a..=b);
                }
                None => {
                    set.insert(word.parse().map_err(|_| bad())?);
                }
            }
        }
    }
    if set.is_empty() {
        return Err("no atom id in the list".into());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_with_ranges_and_comments() {
        let s = parse_id_list("1 2, 5-7 # chain\n10\n").unwrap();
        let mut v: Vec<u64> = s.into_iter().collect();
        v.sort();
        assert_eq!(v, [1, 2, 5, 6, 7, 10]);
        assert!(parse_id_list("1 x").is_err());
    }
}
