//! `libdprs.so`: the LAMMPS plugin. LAMMPS calls `lammpsplugin_init`, the C++
//! shim (cpp/) registers `pair_style dprs` and `fix dprs/diffusion`; every call
//! of the pair style lands in [`abi`], which hands the work to `dprs-core`, and
//! every call of the fix in [`fix`], which feeds `dprs-analysis`.
//!
//! LAMMPS symbols stay undefined in this library and are bound by
//! `plugin load` from the running LAMMPS, so it cannot be loaded elsewhere;
//! the physics lives in `dprs-core`, which tests use directly.

mod abi;
mod fix;

use std::ffi::c_void;

extern "C" {
    fn dprs_register(lmp: *mut c_void, regfunc: *mut c_void, handle: *mut c_void);
}

/// Entry point LAMMPS looks up after `dlopen`. It lives in Rust because a
/// cdylib exports only Rust's `#[no_mangle]` functions: defined in the C++
/// shim it would be hidden, and LAMMPS would only log a symbol lookup failure.
/// LAMMPS's signature returns nothing. No Rust code runs here that could
/// panic, and `dprs_register` catches every C++ exception itself (a Rust
/// guard could not); a failure leaves `pair_style dprs` unregistered, which
/// LAMMPS reports as an unknown pair style, with the reason on stderr.
#[no_mangle]
extern "C" fn lammpsplugin_init(lmp: *mut c_void, handle: *mut c_void, regfunc: *mut c_void) {
    if lmp.is_null() || regfunc.is_null() {
        return;
    }
    // SAFETY: LAMMPS passes its own instance, the dlopen handle and its
    // registration callback; the shim only forwards them to that callback.
    unsafe { dprs_register(lmp, regfunc, handle) }
}
