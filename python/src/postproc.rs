//! The analyses of `postproc` for Python: the command line's own code, run
//! on dumps or on arrays, with the GIL released while it works. The Python
//! layer (`dprs/postproc.py`) turns keywords into the command's arguments
//! and the summary and tables into result objects.

use dprs_analysis::source::{BoxShape, Trajectory};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

create_exception!(
    _native,
    PostprocError,
    PyValueError,
    "An analysis could not run; the message is the one the postproc command prints."
);

/// Frames in memory, atoms in ascending id order (built by
/// `Trajectory.from_arrays` in Python).
#[pyclass(frozen, name = "Frames", module = "dprs._native")]
struct Frames {
    inner: Arc<Trajectory>,
}

#[pymethods]
impl Frames {
    #[getter]
    fn n_frames(&self) -> usize {
        self.inner.frames.len()
    }

    #[getter]
    fn n_atoms(&self) -> usize {
        self.inner.n_atoms()
    }

    #[getter]
    fn has_velocities(&self) -> bool {
        self.inner.frames.first().is_some_and(|f| f.vel.is_some())
    }
}

fn failed(msg: impl Into<String>) -> PyErr {
    PostprocError::new_err(msg.into())
}

/// A panic is a bug, but it must reach Python as an exception that says
/// so, not abort the interpreter.
fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("internal error in postproc (please report it): {what}")
}

/// Builds frames from flat float64/int64 arrays (shapes are checked in
/// Python and again here): positions and velocities `n_frames·n_atoms·3`,
/// boxes `k·9` (k = 1 or n_frames, rows a, b, c), types/ids per atom,
/// steps per frame.
#[pyfunction]
#[pyo3(signature = (n_frames, n_atoms, positions, boxes, types, velocities=None, ids=None, steps=None))]
#[allow(clippy::too_many_arguments)]
fn frames_from_arrays(
    n_frames: usize,
    n_atoms: usize,
    positions: PyReadonlyArray1<'_, f64>,
    boxes: PyReadonlyArray1<'_, f64>,
    types: PyReadonlyArray1<'_, i64>,
    velocities: Option<PyReadonlyArray1<'_, f64>>,
    ids: Option<PyReadonlyArray1<'_, i64>>,
    steps: Option<PyReadonlyArray1<'_, i64>>,
) -> PyResult<Frames> {
    let pos = positions.as_slice()?;
    let vel = velocities.as_ref().map(|v| v.as_slice()).transpose()?;
    let flat = boxes.as_slice()?;
    if flat.is_empty() || flat.len() % 9 != 0 {
        return Err(failed(format!(
            "boxes hold {} values, not a multiple of 3×3",
            flat.len()
        )));
    }
    let shapes: Vec<BoxShape> = flat
        .chunks_exact(9)
        .map(|c| BoxShape::Cell([[c[0], c[1], c[2]], [c[3], c[4], c[5]], [c[6], c[7], c[8]]]))
        .collect();
    let types = types.as_slice()?;
    let ids = ids.as_ref().map(|v| v.as_slice()).transpose()?;
    let steps = steps.as_ref().map(|v| v.as_slice()).transpose()?;
    // with the GIL held: the slices may be the caller's own arrays, which
    // another Python thread could change while they are copied
    let built = catch_unwind(AssertUnwindSafe(|| {
        Trajectory::from_arrays(n_frames, n_atoms, pos, vel, &shapes, types, ids, steps)
    }));
    match built {
        Ok(Ok(t)) => Ok(Frames { inner: Arc::new(t) }),
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(p) => Err(failed(panic_text(p))),
    }
}

/// The dump files these names and globs stand for, in reading order;
/// refuses missing files and files that are not text.
#[pyfunction]
fn expand_dumps(patterns: Vec<String>) -> PyResult<Vec<String>> {
    let files = dprs_analysis::dump::expand(&patterns).map_err(|e| failed(e.to_string()))?;
    dprs_analysis::dump::input::check_text(&files).map_err(|e| failed(e.to_string()))?;
    Ok(files.iter().map(|p| p.display().to_string()).collect())
}

/// Runs `postproc <argv>` (program name first) on the dumps it names or,
/// given `frames`, on those; returns the JSON summary as text (what
/// `--json` prints) and the CSV tables as (file stem, [(column, array)]).
#[pyfunction]
#[pyo3(signature = (argv, frames=Vec::new()))]
fn analyse<'py>(
    py: Python<'py>,
    argv: Vec<String>,
    frames: Vec<PyRef<'py, Frames>>,
) -> PyResult<(String, Bound<'py, PyList>)> {
    let frames: Vec<Arc<Trajectory>> = frames.iter().map(|f| f.inner.clone()).collect();
    let run = py.detach(|| catch_unwind(AssertUnwindSafe(|| ::postproc::analyse(argv, frames))));
    let found = match run {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => return Err(failed(e.to_string())),
        Err(p) => return Err(failed(panic_text(p))),
    };
    let summary =
        serde_json::to_string(&found.summary).map_err(|e| failed(format!("summary: {e}")))?;
    let tables = PyList::empty(py);
    for (name, cols) in found.tables {
        let cols_py = PyList::empty(py);
        for (col, values) in cols {
            cols_py.append((col, PyArray1::from_vec(py, values)))?;
        }
        tables.append((name, cols_py))?;
    }
    Ok((summary, tables))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("PostprocError", m.py().get_type::<PostprocError>())?;
    m.add("ARRAYS_RUN", ::postproc::ARRAYS_RUN)?;
    m.add_class::<Frames>()?;
    m.add_function(wrap_pyfunction!(frames_from_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(expand_dumps, m)?)?;
    m.add_function(wrap_pyfunction!(analyse, m)?)
}
