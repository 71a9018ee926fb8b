//! `local-v1` metadata validation on arbitrary key/value maps: errors, never
//! panics, and what it accepts is usable (finite positive rcut, sane sel).
#![no_main]

use dprs_core::contract::{parse, NeighbourLayout};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

const KEYS: [&str; 10] = [
    "dprs.contract",
    "dprs.type_map",
    "dprs.rcut",
    "dprs.nlist",
    "dprs.sel",
    "dprs.model_name",
    "dprs.descriptor",
    "dprs.source",
    "dprs.rmin",
    "dprs.other",
];

fuzz_target!(|data: &[u8]| {
    // Records separated by 0x00: first byte of a record picks the key (mod
    // KEYS), the rest is the value. Values are seeded with valid ones so that
    // the fuzzer reaches past the first checks.
    let mut m: HashMap<String, String> = HashMap::new();
    let mut base = true;
    for rec in data.split(|&b| b == 0) {
        let Some((&k, v)) = rec.split_first() else {
            continue;
        };
        if k == 0xfe {
            base = false;
            continue;
        }
        m.insert(
            KEYS[k as usize % KEYS.len()].to_string(),
            String::from_utf8_lossy(v).into_owned(),
        );
    }
    if base {
        for (k, v) in [
            ("dprs.contract", "local-v1"),
            ("dprs.type_map", r#"["O","H"]"#),
            ("dprs.rcut", "6.0"),
            ("dprs.nlist", "type_sel"),
            ("dprs.sel", "[46, 92]"),
        ] {
            m.entry(k.to_string()).or_insert_with(|| v.to_string());
        }
    }
    if let Ok(c) = parse(|k| m.get(k).cloned()) {
        assert!(c.rcut.is_finite() && c.rcut > 0.0);
        assert!(!c.type_map.is_empty());
        if let Some(rmin) = c.rmin {
            assert!(rmin.is_finite() && rmin >= 0.0 && rmin < c.rcut);
        }
        if let NeighbourLayout::TypeSel { sel } = &c.layout {
            assert_eq!(sel.len(), c.type_map.len());
            let total: usize = sel.iter().sum();
            assert!(total > 0);
            let _ = c.layout.section_offsets();
        }
    }
});
