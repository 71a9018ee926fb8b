//! Finding libonnxruntime and holding the one ONNX Runtime environment a
//! process may have.
//!
//! `ort` allows a single environment per process, and building a second one
//! fails even after the first was dropped. LAMMPS, however, creates and
//! destroys pair styles freely (`clear`, a new `pair_style`, `plugin unload`),
//! so the environment lives in a process-wide cell and is never dropped.

use crate::error::DprsError;
use ort::environment::Environment;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where the library was looked for, in order, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub path: PathBuf,
    pub origin: &'static str,
}

/// Candidates in priority order: the `ort_lib` keyword, `DPRS_ORT_LIB`,
/// `ORT_DYLIB_PATH`, then the path recorded when the plugin was built.
/// Relative paths are made absolute against the working directory: `ort`
/// would otherwise resolve them against the executable (`lmp`).
pub fn candidates(
    keyword: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    built_with: Option<&str>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut push = |p: PathBuf, origin| {
        let path = if p.is_absolute() {
            p
        } else {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        };
        out.push(Candidate { path, origin });
    };
    if let Some(k) = keyword {
        push(k.to_path_buf(), "pair_style keyword ort_lib");
    }
    for var in ["DPRS_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(v) = env(var).filter(|v| !v.is_empty()) {
            push(
                PathBuf::from(v),
                if var == "DPRS_ORT_LIB" {
                    "DPRS_ORT_LIB"
                } else {
                    "ORT_DYLIB_PATH"
                },
            );
        }
    }
    if let Some(b) = built_with.filter(|b| !b.is_empty()) {
        push(PathBuf::from(b), "path recorded at build time");
    }
    out
}

const INSTALL_FIX: &str = "install the runtime with `pip install onnxruntime==1.31.1` and point dprs at \
     site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1 with the environment variable DPRS_ORT_LIB \
     or the pair_style keyword ort_lib";

/// Picks the first candidate (an explicit choice that does not exist is an
/// error, not a reason to fall back silently to another library).
pub fn choose(candidates: &[Candidate]) -> Result<PathBuf, DprsError> {
    let Some(first) = candidates.first() else {
        return Err(DprsError::Runtime(format!(
            "libonnxruntime was not found: no ort_lib keyword, DPRS_ORT_LIB or ORT_DYLIB_PATH is set \
             and no path was recorded at build time; {INSTALL_FIX}"
        )));
    };
    if !first.path.is_file() {
        return Err(DprsError::Runtime(format!(
            "libonnxruntime not found at '{}' (from {}); {INSTALL_FIX}",
            first.path.display(),
            first.origin
        )));
    }
    Ok(first.path.clone())
}

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
static LOADED_FROM: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The process-wide environment, loading ONNX Runtime from `library` the
/// first time. Later calls with another path get an error rather than a
/// silent mix of two runtimes.
pub fn environment(library: &Path) -> Result<&'static Environment, DprsError> {
    let mut loaded = LOADED_FROM.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(env) = ENVIRONMENT.get() {
        let first = loaded.clone().unwrap_or_default();
        if first != library {
            return Err(DprsError::Runtime(format!(
                "this process already loaded ONNX Runtime from '{}'; it cannot also load '{}'. \
                 Use one ort_lib / DPRS_ORT_LIB for the whole run",
                first.display(),
                library.display()
            )));
        }
        return Ok(env);
    }
    let builder = ort::init_from(library).map_err(|e| {
        DprsError::Runtime(format!(
            "could not load '{}': {e}. Check that it is the libonnxruntime.so of an onnxruntime \
             wheel >= 1.17 built for this machine; {INSTALL_FIX}",
            library.display()
        ))
    })?;
    let env = builder
        .with_name("dprs")
        .with_telemetry(false)
        .build()
        .map_err(|e| DprsError::Runtime(format!("could not create the environment: {e}")))?;
    *loaded = Some(library.to_path_buf());
    Ok(ENVIRONMENT.get_or_init(|| env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_beats_environment_beats_build_path() {
        let env = |k: &str| match k {
            "DPRS_ORT_LIB" => Some("/a/lib.so".to_string()),
            "ORT_DYLIB_PATH" => Some("/b/lib.so".to_string()),
            _ => None,
        };
        let c = candidates(Some(Path::new("/k/lib.so")), env, Some("/built/lib.so"));
        let paths: Vec<_> = c.iter().map(|c| c.path.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            ["/k/lib.so", "/a/lib.so", "/b/lib.so", "/built/lib.so"]
        );
        let c = candidates(None, |_| None, Some("/built/lib.so"));
        assert_eq!(c[0].origin, "path recorded at build time");
    }

    #[test]
    fn relative_paths_become_absolute() {
        let c = candidates(Some(Path::new("rel/lib.so")), |_| None, None);
        assert!(c[0].path.is_absolute());
        assert!(c[0].path.ends_with("rel/lib.so"));
    }

    #[test]
    fn missing_library_error_says_where_and_how_to_fix() {
        let err = choose(&candidates(
            Some(Path::new("/nope/libonnxruntime.so")),
            |_| None,
            None,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("/nope/libonnxruntime.so"), "{err}");
        assert!(
            err.contains("ort_lib") && err.contains("pip install onnxruntime"),
            "{err}"
        );
        let err = choose(&[]).unwrap_err().to_string();
        assert!(err.contains("DPRS_ORT_LIB"), "{err}");
    }
}
