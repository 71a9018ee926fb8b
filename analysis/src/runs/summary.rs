//! Pieces every JSON summary shares.

use crate::dump::DumpInfo;
use serde_json::{json, Value};

/// Column prefix of a group's curves: none for all atoms, "type2_" etc.
pub fn prefix(name: &str) -> String {
    if name == "all" {
        String::new()
    } else {
        format!("{name}_")
    }
}

/// The input files, their coordinates and the reader's warnings.
pub fn common(info: &DumpInfo) -> Value {
    json!({
        "files": info.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "coordinates": info.coords,
        "warnings": info.warnings,
    })
}

/// `a` with the keys of `b` it does not have.
pub fn merge(mut a: Value, b: Value) -> Value {
    if let (Value::Object(x), Value::Object(y)) = (&mut a, b) {
        for (k, v) in y {
            x.entry(k).or_insert(v);
        }
    }
    a
}

/// Appends `notes` to `summary["warnings"]`.
pub fn append_warnings(summary: &mut Value, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    if let Value::Object(m) = summary {
        let w = m.entry("warnings").or_insert_with(|| json!([]));
        if !w.is_array() {
            *w = json!([]);
        }
        let arr = w.as_array_mut().expect("made an array");
        arr.extend(notes.iter().map(|n| json!(n)));
    }
}
