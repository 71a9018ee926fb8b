//! `pair_style dprs model.onnx [keyword value ...]`: what the user asked for.

use crate::error::DprsError;
use std::path::PathBuf;

/// Where ONNX Runtime runs the model.
#[derive(Debug, Clone, PartialEq)]
pub enum Device {
    Cpu,
    Cuda(i32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub models: Vec<PathBuf>,
    /// ONNX Runtime intra-op threads per MPI rank. MPI ranks are the
    /// parallelism, and ORT's default (a spinning thread per core in every
    /// rank) oversubscribes the node, so the default is 1.
    pub threads: usize,
    /// Local atoms per model call: bounds memory (one 8000-atom call at 100
    /// neighbours takes ~11 GB in ORT) without costing speed.
    pub chunk_atoms: usize,
    pub device: Device,
    /// Explicit path of libonnxruntime.so (keyword `ort_lib`).
    pub ort_lib: Option<PathBuf>,
    /// Model deviation of a committee (several models), DeePMD-kit's keywords.
    pub deviation: DeviationSettings,
}

/// `out_freq N out_file F [atomic] [relative E] [relative_v E]`, with
/// DeePMD-kit's defaults so that DP-GEN inputs work unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviationSettings {
    pub out_freq: u64,
    pub out_file: PathBuf,
    /// Per-atom force deviations as extra columns, ordered by atom id.
    pub atomic: bool,
    /// Force deviation divided by (|mean force| + E).
    pub relative: Option<f64>,
    /// Virial deviation divided by (|mean virial component| + E).
    pub relative_v: Option<f64>,
}

impl Default for DeviationSettings {
    fn default() -> Self {
        DeviationSettings {
            out_freq: 100,
            out_file: PathBuf::from("model_devi.out"),
            atomic: false,
            relative: None,
            relative_v: None,
        }
    }
}

/// Small enough that one call's tensors stay in cache and a float64 model of
/// DeePMD's usual size needs ~0.3 GB; larger chunks were not faster (BENCHMARKS.md).
pub const DEFAULT_CHUNK_ATOMS: usize = 256;

const KEYWORDS: &str = "threads N, chunk N, device cpu|cuda[:ID], ort_lib PATH, \
     out_freq N, out_file FILE, atomic, relative E, relative_v E";

impl Settings {
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Settings, DprsError> {
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let syntax = |m: String| DprsError::Syntax(m);
        let mut models = Vec::new();
        let mut i = 0;
        // The first word is always a model; later words are models only while
        // they look like model files, so that a misspelt keyword is reported
        // as such rather than as a missing model.
        while i < args.len() && !is_keyword(args[i]) && (i == 0 || looks_like_model(args[i])) {
            models.push(PathBuf::from(args[i]));
            i += 1;
        }
        if models.is_empty() {
            return Err(syntax(
                "no model file given; usage: pair_style dprs model.onnx [keyword value ...]".into(),
            ));
        }
        let mut s = Settings {
            models,
            threads: 1,
            chunk_atoms: DEFAULT_CHUNK_ATOMS,
            device: Device::Cpu,
            ort_lib: None,
            deviation: DeviationSettings::default(),
        };
        while i < args.len() {
            let key = args[i];
            if key == "atomic" {
                s.deviation.atomic = true;
                i += 1;
                continue;
            }
            let value = args.get(i + 1).copied().ok_or_else(|| {
                syntax(format!(
                    "keyword '{key}' needs a value; keywords: {KEYWORDS}"
                ))
            })?;
            match key {
                "threads" => s.threads = positive(key, value)?,
                "chunk" => s.chunk_atoms = positive(key, value)?,
                "ort_lib" => s.ort_lib = Some(PathBuf::from(value)),
                "device" => s.device = parse_device(value)?,
                "out_freq" => {
                    s.deviation.out_freq = value.parse().map_err(|_| {
                        syntax(format!(
                            "out_freq takes a non-negative integer, got '{value}'"
                        ))
                    })?
                }
                "out_file" => s.deviation.out_file = PathBuf::from(value),
                "relative" => s.deviation.relative = Some(non_negative(key, value)?),
                "relative_v" => s.deviation.relative_v = Some(non_negative(key, value)?),
                _ => {
                    return Err(syntax(format!(
                        "unknown keyword '{key}'; keywords: {KEYWORDS}"
                    )))
                }
            }
            i += 2;
        }
        Ok(s)
    }
}

fn is_keyword(arg: &str) -> bool {
    matches!(
        arg,
        "threads"
            | "chunk"
            | "device"
            | "ort_lib"
            | "out_freq"
            | "out_file"
            | "atomic"
            | "relative"
            | "relative_v"
    )
}

fn non_negative(key: &str, value: &str) -> Result<f64, DprsError> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(DprsError::Syntax(format!(
            "keyword '{key}' takes a non-negative number, got '{value}'"
        ))),
    }
}

fn looks_like_model(arg: &str) -> bool {
    arg.to_ascii_lowercase().ends_with(".onnx")
}

fn positive(key: &str, value: &str) -> Result<usize, DprsError> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(DprsError::Syntax(format!(
            "keyword '{key}' takes a positive integer, got '{value}'"
        ))),
    }
}

fn parse_device(value: &str) -> Result<Device, DprsError> {
    let bad = || {
        DprsError::Syntax(format!(
            "device '{value}' is not 'cpu', 'cuda' or 'cuda:ID' (ID a GPU index)"
        ))
    };
    match value {
        "cpu" => Ok(Device::Cpu),
        "cuda" | "gpu" => Ok(Device::Cuda(0)),
        _ => {
            let id = value.strip_prefix("cuda:").ok_or_else(bad)?;
            id.parse::<i32>()
                .ok()
                .filter(|&i| i >= 0)
                .map(Device::Cuda)
                .ok_or_else(bad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_one_thread_on_cpu() {
        let s = Settings::parse(&["m.onnx"]).unwrap();
        assert_eq!(s.models, vec![PathBuf::from("m.onnx")]);
        assert_eq!((s.threads, s.device.clone()), (1, Device::Cpu));
        assert_eq!(s.chunk_atoms, DEFAULT_CHUNK_ATOMS);
    }

    #[test]
    fn keywords_parse() {
        let s = Settings::parse(&[
            "m.onnx", "threads", "4", "chunk", "200", "device", "cuda:1", "ort_lib", "/x.so",
        ])
        .unwrap();
        assert_eq!(s.threads, 4);
        assert_eq!(s.chunk_atoms, 200);
        assert_eq!(s.device, Device::Cuda(1));
        assert_eq!(s.ort_lib, Some(PathBuf::from("/x.so")));
    }

    #[test]
    fn committee_keywords_follow_deepmd() {
        let s = Settings::parse(&["a.onnx", "b.onnx", "c.onnx"]).unwrap();
        assert_eq!(s.models.len(), 3);
        assert_eq!(s.deviation, DeviationSettings::default());
        assert_eq!(s.deviation.out_freq, 100);
        let s = Settings::parse(&[
            "a.onnx",
            "b.onnx",
            "out_freq",
            "10",
            "atomic",
            "out_file",
            "md.out",
            "relative",
            "0.5",
            "relative_v",
            "1",
        ])
        .unwrap();
        assert_eq!(s.deviation.out_freq, 10);
        assert!(s.deviation.atomic);
        assert_eq!(s.deviation.out_file, PathBuf::from("md.out"));
        assert_eq!(
            (s.deviation.relative, s.deviation.relative_v),
            (Some(0.5), Some(1.0))
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        for (args, expect) in [
            (vec![], "no model file"),
            (vec!["threads", "2"], "no model file"),
            (vec!["m.onnx", "threads"], "needs a value"),
            (vec!["m.onnx", "threads", "0"], "positive integer"),
            (vec!["m.onnx", "device", "tpu"], "device 'tpu'"),
            (vec!["m.onnx", "relative", "x"], "non-negative number"),
            (vec!["m.onnx", "thread", "2"], "unknown keyword 'thread'"),
        ] {
            let err = Settings::parse(&args).unwrap_err().to_string();
            assert!(err.contains(expect), "{args:?}: {err}");
        }
    }
}
