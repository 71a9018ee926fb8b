//! `dprs._native`: the Rust side of the `dprs` Python package.
//!
//! - [`cli`]: the `postproc` command, the same code as the executable.
//! - [`postproc`]: its analyses on dumps or arrays, for `dprs.postproc`.

use pyo3::prelude::*;

mod cli;
mod postproc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    cli::register(m)?;
    postproc::register(m)?;
    Ok(())
}
