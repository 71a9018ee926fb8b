//! The `postproc` console script of the Python package.

use pyo3::prelude::*;

/// Runs `postproc` with `argv` (program name first); returns the exit status.
#[pyfunction]
fn postproc_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    let code = py.detach(|| postproc::main_with_args(argv));
    // ExitCode has no accessor; the CLI returns only these three
    if code == std::process::ExitCode::SUCCESS {
        0
    } else if code == std::process::ExitCode::from(2) {
        2
    } else {
        1
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(postproc_main, m)?)
}
