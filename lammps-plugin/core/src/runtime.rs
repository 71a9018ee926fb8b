//! Finding libonnxruntime and holding the one ONNX Runtime environment a
//! process may have.
//!
//! `ort` allows a single environment per process, and building a second one
//! fails even after the first was dropped. LAMMPS, however, creates and
//! destroys pair styles freely (`clear`, a new `pair_style`, `plugin unload`),
//! so the environment lives in a process-wide cell and is never dropped.

use crate::error::DprsError;
use ort::environment::Environment;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where the library was looked for, in order, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub path: PathBuf,
    pub origin: &'static str,
}

/// Candidates in priority order: the `ort_lib` keyword, `DPRS_ORT_LIB`,
/// `ORT_DYLIB_PATH`, the `onnxruntime` package installed beside the plugin
/// (`beside`, see [`beside_plugin`]), then the path recorded when the plugin
/// was built. Relative paths are made absolute against the working
/// directory: `ort` would otherwise resolve them against the executable
/// (`lmp`).
pub fn candidates(
    keyword: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    beside: Option<PathBuf>,
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
    if let Some(b) = beside {
        push(b, "onnxruntime package installed beside the plugin");
    }
    if let Some(b) = built_with.filter(|b| !b.is_empty()) {
        push(PathBuf::from(b), "path recorded at build time");
    }
    out
}

/// The libonnxruntime of the `onnxruntime` package installed next to the
/// plugin by pip: `plugin` is `<site-packages>/dprs/lib/libdprs.so`, the
/// library `<site-packages>/onnxruntime/capi/libonnxruntime.so*` (the
/// versioned file when several match). `None` when there is no such file.
pub fn beside_plugin(plugin: &Path) -> Option<PathBuf> {
    let site = plugin.parent()?.parent()?.parent()?;
    let capi = site.join("onnxruntime").join("capi");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&capi)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    // "libonnxruntime.so.1.31.1" sorts after "libonnxruntime.so"
    found.sort();
    found.pop()
}

/// The file this code was loaded from (libdprs.so inside LAMMPS; the test
/// executable in unit tests), as the dynamic loader reports it.
pub fn this_library() -> Option<PathBuf> {
    // any function of this library identifies it
    let address = this_library as *const () as *const libc::c_void;
    // SAFETY: dladdr only reads `address` and writes the Dl_info it is
    // given; a zeroed Dl_info (null pointers, zero) is a valid value.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: `address` is a function of this loaded library; `info` is a
    // live, writable Dl_info.
    let found = unsafe { libc::dladdr(address, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is non-null (checked above) and points to the
    // NUL-terminated file name the loader keeps while the library is loaded;
    // it is copied at once.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(name.to_bytes()));
    // a relative name is relative to the directory of the dlopen call
    Some(std::fs::canonicalize(&path).unwrap_or(path))
}

const INSTALL_FIX: &str = "install the runtime with `pip install onnxruntime==1.31.1` and point dprs at \
     site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1 with the environment variable DPRS_ORT_LIB \
     or the pair_style keyword ort_lib";

/// Picks the first candidate (an explicit choice that does not exist is an
/// error, not a reason to fall back silently to another library).
pub fn choose(candidates: &[Candidate]) -> Result<PathBuf, DprsError> {
    let Some(first) = candidates.first() else {
        return Err(DprsError::Runtime(format!(
            "libonnxruntime was not found: no ort_lib keyword, DPRS_ORT_LIB or ORT_DYLIB_PATH is set, \
             no onnxruntime package is installed beside the plugin (site-packages/onnxruntime/capi \
             next to site-packages/dprs/lib) and no path was recorded at build time; \
             `pip install onnxruntime` into the environment of the dprs package, or {INSTALL_FIX}"
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
        let beside = || Some(PathBuf::from("/site/onnxruntime/capi/lib.so"));
        let c = candidates(
            Some(Path::new("/k/lib.so")),
            env,
            beside(),
            Some("/built/lib.so"),
        );
        let paths: Vec<_> = c.iter().map(|c| c.path.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/k/lib.so",
                "/a/lib.so",
                "/b/lib.so",
                "/site/onnxruntime/capi/lib.so",
                "/built/lib.so"
            ]
        );
        let c = candidates(None, |_| None, beside(), Some("/built/lib.so"));
        assert_eq!(
            c[0].origin,
            "onnxruntime package installed beside the plugin"
        );
        let c = candidates(None, |_| None, None, Some("/built/lib.so"));
        assert_eq!(c[0].origin, "path recorded at build time");
    }

    #[test]
    fn relative_paths_become_absolute() {
        let c = candidates(Some(Path::new("rel/lib.so")), |_| None, None, None);
        assert!(c[0].path.is_absolute());
        assert!(c[0].path.ends_with("rel/lib.so"));
    }

    #[test]
    fn missing_library_error_says_where_and_how_to_fix() {
        let err = choose(&candidates(
            Some(Path::new("/nope/libonnxruntime.so")),
            |_| None,
            None,
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
        assert!(err.contains("beside the plugin"), "{err}");
    }

    #[test]
    fn finds_the_onnxruntime_package_beside_a_pip_installed_plugin() {
        let site = std::env::temp_dir().join(format!("dprs-beside-{}", std::process::id()));
        let lib = site.join("dprs").join("lib");
        let capi = site.join("onnxruntime").join("capi");
        std::fs::create_dir_all(&lib).unwrap();
        let plugin = lib.join("libdprs.so");
        // no onnxruntime package: nothing
        assert_eq!(beside_plugin(&plugin), None);
        std::fs::create_dir_all(&capi).unwrap();
        std::fs::write(capi.join("onnxruntime_pybind11_state.so"), b"").unwrap();
        assert_eq!(beside_plugin(&plugin), None);
        std::fs::write(capi.join("libonnxruntime.so.1.31.1"), b"").unwrap();
        std::fs::write(capi.join("libonnxruntime.so"), b"").unwrap();
        assert_eq!(
            beside_plugin(&plugin),
            Some(capi.join("libonnxruntime.so.1.31.1"))
        );
        std::fs::remove_dir_all(&site).unwrap();
    }

    #[test]
    fn this_library_is_the_running_test_executable() {
        let me = this_library().expect("dladdr names this code's file");
        let exe = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(me, exe);
    }
}
