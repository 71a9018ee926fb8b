//! `pair_style dprs ...` and `pair_coeff * * ...` word lists: errors, never panics.
#![no_main]

use dprs_core::settings::Settings;
use dprs_core::typemap::TypeMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: number of LAMMPS types; then NUL-separated words, the first
    // half for pair_style, the part after a 0xff byte for pair_coeff.
    let Some((&ntypes, rest)) = data.split_first() else {
        return;
    };
    let (style, coeff) = match rest.iter().position(|&b| b == 0xff) {
        Some(k) => (&rest[..k], &rest[k + 1..]),
        None => (rest, &[][..]),
    };
    let words = |b: &[u8]| -> Vec<String> {
        b.split(|&c| c == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    };
    let style = words(style);
    if let Ok(s) = Settings::parse(&style) {
        assert!(!s.models.is_empty() && s.threads > 0 && s.chunk_atoms > 0);
    }
    let model_types: Vec<String> = ["O", "H", "NULL", ""]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let coeff = words(coeff);
    if let Ok(m) = TypeMap::from_pair_coeff(&coeff, ntypes as usize, &model_types[..2]) {
        assert_eq!(m.ntypes(), ntypes as usize);
        for t in -2..ntypes as i32 + 3 {
            if let Some(k) = m.model_type(t) {
                assert!(k < 2);
            }
        }
    }
    let _ = TypeMap::from_pair_coeff(&coeff, ntypes as usize, &model_types);
});
