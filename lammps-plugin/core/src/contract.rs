//! The `local-v1` model contract (normative text: docs/model-contract.md):
//! what a model declares in its ONNX metadata and how its inputs are laid out.

/// Neighbour-slot layout the model expects.
#[derive(Debug, Clone, PartialEq)]
pub enum NeighbourLayout {
    /// Any width, any order; the caller pads each chunk to its own maximum.
    Any,
    /// DeePMD's layout: type t owns a section of `sel[t]` slots, sections in
    /// type order, each sorted by distance and padded at its end.
    TypeSel { sel: Vec<usize> },
}

impl NeighbourLayout {
    /// Start offset of each type's section (TypeSel only).
    pub fn section_offsets(&self) -> Vec<usize> {
        match self {
            NeighbourLayout::Any => Vec::new(),
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
}

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
        "any" => NeighbourLayout::Any,
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
            if sel.iter().sum::<usize>() == 0 {
                return Err("dprs.sel sums to zero: the model would see no neighbours".into());
            }
            NeighbourLayout::TypeSel { sel }
        }
        other => {
            return Err(format!(
                "dprs.nlist='{other}' is not one of 'any' or 'type_sel'; {fix}"
            ))
        }
    };
    Ok(Contract {
        type_map,
        rcut,
        layout,
        model_name: get("dprs.model_name"),
        descriptor: get("dprs.descriptor"),
        source: get("dprs.source"),
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
}
