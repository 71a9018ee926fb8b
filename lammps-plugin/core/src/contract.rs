//! The `local-v1` model contract (normative text: docs/model-contract.md):
//! what a model declares in its ONNX metadata and how its inputs are laid out.

/// Neighbour-slot layout the model expects.
#[derive(Debug, Clone, PartialEq)]
pub enum NeighbourLayout {
    /// Any width, any order; the caller pads each chunk to its own maximum.
    /// `cap` (`dprs.max_neighbours`): at most that many neighbours per centre,
    /// the nearest; the rest are left out and counted.
    Any { cap: Option<usize> },
    /// DeePMD's layout: type t owns a section of `sel[t]` slots, sections in
    /// type order, each sorted by distance and padded at its end.
    TypeSel { sel: Vec<usize> },
}

impl NeighbourLayout {
    /// Start offset of each type's section (TypeSel only).
    pub fn section_offsets(&self) -> Vec<usize> {
        match self {
            NeighbourLayout::Any { .. } => Vec::new(),
            NeighbourLayout::TypeSel { sel } => sel
                .iter()
                .scan(0, |acc, &n| {
                    let start = *acc;
                    *acc += n;
                    Some(start)
                })
                .collect(),
        }
    }
}

/// What a `local-v1` model declares about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub type_map: Vec<String>,
    pub rcut: f64,
    pub layout: NeighbourLayout,
    pub model_name: Option<String>,
    pub descriptor: Option<String>,
    pub source: Option<String>,
    /// Optional `dprs.rmin` (Å): the smallest pair distance in the training
    /// data. Closer pairs in a run are warned about (the model extrapolates).
    pub rmin: Option<f64>,
}

/// Largest total number of neighbour slots (sum of `dprs.sel`) accepted: a
/// chunk's inputs grow as chunk × slots, and DeePMD models use a few hundred.
pub const MAX_SEL_TOTAL: usize = 65_536;

pub const CONTRACT_NAME: &str = "local-v1";

/// Reads the contract from metadata looked up by key. Errors are plain
/// strings; the caller attaches the model path.
pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Contract, String> {
    let fix =
        "export the model with export/ (see docs/model-contract.md) or add the metadata_props";
    let contract = get("dprs.contract").ok_or_else(|| {
        format!("has no 'dprs.contract' metadata, so it was not exported for dprs; {fix}")
    })?;
    if contract.trim() != CONTRACT_NAME {
        return Err(format!(
            "declares dprs.contract='{contract}', but this plugin implements only '{CONTRACT_NAME}'; \
             use a dprs version that supports it or re-export the model"
        ));
    }
    let required = |key: &str| {
        get(key).ok_or_else(|| format!("has no '{key}' metadata, which local-v1 requires; {fix}"))
    };
    let type_map: Vec<String> = serde_json::from_str(&required("dprs.type_map")?)
        .map_err(|e| format!("dprs.type_map is not a JSON list of element names ({e}); {fix}"))?;
    if type_map.is_empty() {
        return Err(format!("dprs.type_map is empty; {fix}"));
    }
    let rcut_text = required("dprs.rcut")?;
    let rcut: f64 = rcut_text
        .trim()
        .parse()
        .map_err(|_| format!("dprs.rcut='{rcut_text}' is not a number (Å); {fix}"))?;
    if !(rcut.is_finite() && rcut > 0.0) {
        return Err(format!(
            "dprs.rcut={rcut} must be a positive cutoff in Å; {fix}"
        ));
    }
    let layout = match required("dprs.nlist")?.trim() {
        "any" => {
            let cap = match get("dprs.max_neighbours") {
                None => None,
                Some(text) => match text.trim().parse::<usize>() {
                    Ok(n) if (1..=MAX_SEL_TOTAL).contains(&n) => Some(n),
                    _ => {
                        return Err(format!(
                            "dprs.max_neighbours='{text}' must be a whole number of neighbours \
                             from 1 to {MAX_SEL_TOTAL}; {fix}"
                        ))
                    }
                },
            };
            NeighbourLayout::Any { cap }
        }
        "type_sel" => {
            let sel: Vec<usize> = serde_json::from_str(&required("dprs.sel")?).map_err(|e| {
                format!("dprs.sel is not a JSON list of non-negative integers ({e}); {fix}")
            })?;
            if sel.len() != type_map.len() {
                return Err(format!(
                    "dprs.sel has {} entries but dprs.type_map has {} types; they must match",
                    sel.len(),
                    type_map.len()
                ));
            }
            let total = sel
                .iter()
                .try_fold(0usize, |acc, &n| acc.checked_add(n))
                .filter(|&t| t <= MAX_SEL_TOTAL);
            match total {
                Some(0) => {
                    return Err("dprs.sel sums to zero: the model would see no neighbours".into())
                }
                None => {
                    return Err(format!(
                        "dprs.sel {sel:?} asks for more than {MAX_SEL_TOTAL} neighbour slots per atom; \
                         the metadata is corrupt or the model unusable"
                    ))
                }
                Some(_) => {}
            }
            NeighbourLayout::TypeSel { sel }
        }
        other => {
            return Err(format!(
                "dprs.nlist='{other}' is not one of 'any' or 'type_sel'; {fix}"
            ))
        }
    };
    let rmin = match get("dprs.rmin") {
        None => None,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r >= 0.0 && r < rcut => Some(r),
            _ => {
                return Err(format!(
                    "dprs.rmin='{text}' must be a distance in Å, at least 0 and below dprs.rcut={rcut}; {fix}"
                ))
            }
        },
    };
    Ok(Contract {
        type_map,
        rcut,
        layout,
        model_name: get("dprs.model_name"),
        descriptor: get("dprs.descriptor"),
        source: get("dprs.source"),
        rmin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn parse_map(m: &HashMap<String, String>) -> Result<Contract, String> {
        parse(|k| m.get(k).cloned())
    }

    #[test]
    fn type_sel_sections_follow_sel() {
        let m = meta(&[
            ("dprs.contract", "local-v1"),
            ("dprs.type_map", r#"["O","H"]"#),
            ("dprs.rcut", "6.0"),
            ("dprs.nlist", "type_sel"),
            ("dprs.sel", "[46, 92]"),
        ]);
        let c = parse_map(&m).unwrap();
        assert_eq!(c.type_map, vec!["O", "H"]);
        assert_eq!(c.rcut, 6.0);
        assert_eq!(c.layout.section_offsets(), vec![0, 46]);
    }

    #[test]
    fn any_layout_takes_an_optional_neighbour_cap() {
        let mut m = meta(&[
            ("dprs.contract", "local-v1"),
            ("dprs.type_map", r#"["O","H"]"#),
            ("dprs.rcut", "6.0"),
            ("dprs.nlist", "any"),
        ]);
        assert_eq!(
            parse_map(&m).unwrap().layout,
            NeighbourLayout::Any { cap: None }
        );
        m.insert("dprs.max_neighbours".into(), "120".into());
        assert_eq!(
            parse_map(&m).unwrap().layout,
            NeighbourLayout::Any { cap: Some(120) }
        );
        for bad in ["0", "-3", "1.5", "many", "100000"] {
            m.insert("dprs.max_neighbours".into(), bad.into());
            let err = parse_map(&m).unwrap_err();
            assert!(
                err.contains("dprs.max_neighbours") && err.contains(bad),
                "{err}"
            );
        }
    }

    #[test]
    fn missing_contract_names_the_key_and_the_fix() {
        let err = parse_map(&meta(&[("dprs.rcut", "6")])).unwrap_err();
        assert!(
            err.contains("dprs.contract") && err.contains("export"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let base = [
            ("dprs.contract", "local-v1"),
            ("dprs.type_map", r#"["O","H"]"#),
            ("dprs.rcut", "6.0"),
            ("dprs.nlist", "type_sel"),
            ("dprs.sel", "[46, 92]"),
        ];
        for (key, bad, expect) in [
            ("dprs.contract", "local-v2", "local-v2"),
            ("dprs.type_map", "O H", "dprs.type_map"),
            ("dprs.rcut", "-1", "dprs.rcut"),
            ("dprs.nlist", "full", "dprs.nlist"),
            ("dprs.sel", "[46]", "dprs.sel"),
        ] {
            let mut m = meta(&base);
            m.insert(key.into(), bad.into());
            let err = parse_map(&m).unwrap_err();
            assert!(err.contains(expect), "{key}: {err}");
        }
    }

    fn valid() -> HashMap<String, String> {
        meta(&[
            ("dprs.contract", "local-v1"),
            ("dprs.type_map", r#"["O","H"]"#),
            ("dprs.rcut", "6.0"),
            ("dprs.nlist", "type_sel"),
            ("dprs.sel", "[46, 92]"),
        ])
    }

    /// Regression: a sel whose sum overflows usize panicked ("attempt to add
    /// with overflow") in debug builds and wrapped in release builds.
    #[test]
    fn huge_sel_is_refused_not_overflowed() {
        for bad in [
            "[18446744073709551615, 1]",
            "[65536, 1]",
            "[9223372036854775808, 9223372036854775808]",
        ] {
            let mut m = valid();
            m.insert("dprs.sel".into(), bad.into());
            let err = parse_map(&m).unwrap_err();
            assert!(
                err.contains("more than 65536 neighbour slots"),
                "{bad}: {err}"
            );
        }
        let mut m = valid();
        m.insert("dprs.sel".into(), "[65535, 1]".into());
        assert!(parse_map(&m).is_ok());
    }

    #[test]
    fn rmin_is_optional_and_checked() {
        assert_eq!(parse_map(&valid()).unwrap().rmin, None);
        let mut m = valid();
        m.insert("dprs.rmin".into(), " 0.8 ".into());
        assert_eq!(parse_map(&m).unwrap().rmin, Some(0.8));
        for bad in ["-1", "NaN", "inf", "6.0", "7", "x", ""] {
            m.insert("dprs.rmin".into(), bad.into());
            let err = parse_map(&m).unwrap_err();
            assert!(
                err.contains("dprs.rmin") && err.contains("below dprs.rcut=6"),
                "{bad}: {err}"
            );
        }
    }
}
