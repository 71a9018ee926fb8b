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
}

pub const DEFAULT_CHUNK_ATOMS: usize = 1024;

const KEYWORDS: &str = "threads N, chunk N, device cpu|cuda[:ID], ort_lib PATH";

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
        if models.len() > 1 {
            return Err(syntax(format!(
                "{} model files given; this version evaluates one model per pair style \
                 (model deviation with several models is not implemented yet): give one .onnx file",
                models.len()
            )));
        }
        let mut s = Settings {
            models,
            threads: 1,
            chunk_atoms: DEFAULT_CHUNK_ATOMS,
            device: Device::Cpu,
            ort_lib: None,
        };
        while i < args.len() {
            let key = args[i];
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
    matches!(arg, "threads" | "chunk" | "device" | "ort_lib")
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
    fn bad_arguments_say_what_is_wrong() {
        for (args, expect) in [
            (vec![], "no model file"),
            (vec!["threads", "2"], "no model file"),
            (vec!["m.onnx", "threads"], "needs a value"),
            (vec!["m.onnx", "threads", "0"], "positive integer"),
            (vec!["m.onnx", "device", "tpu"], "device 'tpu'"),
            (vec!["a.onnx", "b.onnx"], "2 model files"),
            (vec!["m.onnx", "thread", "2"], "unknown keyword 'thread'"),
        ] {
            let err = Settings::parse(&args).unwrap_err().to_string();
            assert!(err.contains(expect), "{args:?}: {err}");
        }
    }
}
