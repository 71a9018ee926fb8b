//! The C ABI of cpp/dprs_abi.h. Raw pointers become slices here and nowhere
//! else; every entry point runs under a panic guard, refuses NULL handles,
//! writes its outputs before any early return and reports failure by its
//! return value (with the reason as text where it takes an error buffer).

use dprs_core::{AtomIds, DprsError, Neighbourhood, Outputs, PairEvaluator, Settings};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// libonnxruntime found when the plugin was built (see build.rs).
const ORT_LIB_BUILT_WITH: Option<&str> = option_env!("DPRS_ORT_LIB_BUILD");

pub struct DprsPair {
    evaluator: PairEvaluator,
}

/// Mirrors `dprs_step` of cpp/dprs_abi.h (same field names, same order).
#[repr(C)]
pub struct DprsStep {
    timestep: i64,
    nlocal: i32,
    nghost: i32,
    x: *const f64,
    r#type: *const i32,
    inum: i32,
    ilist: *const i32,
    numneigh: *const i32,
    firstneigh: *const *const i32,
    f: *mut f64,
    eatom: *mut f64,
    vatom: *mut f64,
    cvatom: *mut f64,
    deviation: i32,
    tag: *const std::ffi::c_void,
    tag_bytes: i32,
    energy: f64,
    virial: [f64; 6],
    dropped: i64,
    centres_dropping: i64,
    rmin: f64,
    too_close: i64,
    closest: f64,
    closest_ids: [i64; 2],
}

// The layout of dprs_step on LP64, as pinned in cpp/dprs_abi.h
// (DPRS_ABI_OFFSET lines, checked by the C++ compiler).
const _: () = assert!(std::mem::size_of::<*const f64>() == 8);
const _: () = assert!(std::mem::size_of::<DprsStep>() == 232);
const _: () = assert!(std::mem::align_of::<DprsStep>() == 8);
macro_rules! pin_offsets {
    ($($field:tt == $off:literal),* $(,)?) => {
        $(const _: () = assert!(std::mem::offset_of!(DprsStep, $field) == $off);)*
    };
}
pin_offsets!(
    timestep == 0,
    nlocal == 8,
    nghost == 12,
    x == 16,
    r#type == 24,
    inum == 32,
    ilist == 40,
    numneigh == 48,
    firstneigh == 56,
    f == 64,
    eatom == 72,
    vatom == 80,
    cvatom == 88,
    deviation == 96,
    tag == 104,
    tag_bytes == 112,
    energy == 120,
    virial == 128,
    dropped == 176,
    centres_dropping == 184,
    rmin == 192,
    too_close == 200,
    closest == 208,
    closest_ids == 216,
);
// The same offsets read from cpp/dprs_abi.h by build.rs, and a check that
// DprsStep has no field the C struct lacks.
include!(concat!(env!("OUT_DIR"), "/step_layout.rs"));

/// Copies `msg` into the caller's buffer, truncated on a character boundary.
pub(crate) fn write_message(msg: &str, buf: *mut c_char, len: usize) {
    if buf.is_null() || len == 0 {
        return;
    }
    let mut n = msg.len().min(len - 1);
    while !msg.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: the caller owns `buf` with room for `len` bytes; n < len.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        *buf.add(n) = 0;
    }
}

/// Runs `body` under a panic guard, for entry points without an error
/// buffer: `None` (e.g. a NULL handle) or a panic give `fail`. The default
/// panic hook has printed the panic on stderr by then.
fn guarded_value<T>(fail: T, body: impl FnOnce() -> Option<T>) -> T {
    catch_unwind(AssertUnwindSafe(body))
        .ok()
        .flatten()
        .unwrap_or(fail)
}

fn no_pair() -> DprsError {
    DprsError::Setup("internal error: called without a pair_style dprs instance".into())
}

/// # Safety
/// `pair` is NULL or came from dprs_create and is not destroyed yet.
unsafe fn pair_ref<'a>(pair: *const DprsPair) -> Result<&'a DprsPair, DprsError> {
    // SAFETY: as stated by the caller; NULL is refused.
    unsafe { pair.as_ref() }.ok_or_else(no_pair)
}

/// # Safety
/// `pair` is NULL or came from dprs_create, is not destroyed yet and is used
/// by one thread (LAMMPS calls a pair style from one thread per rank).
unsafe fn pair_mut<'a>(pair: *mut DprsPair) -> Result<&'a mut DprsPair, DprsError> {
    // SAFETY: as stated by the caller; NULL is refused.
    unsafe { pair.as_mut() }.ok_or_else(no_pair)
}

/// Runs `body`, turning errors and panics into a message in `err`.
fn guarded<T>(
    err: *mut c_char,
    errlen: usize,
    fail: T,
    body: impl FnOnce() -> Result<T, DprsError>,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            write_message(&e.to_string(), err, errlen);
            fail
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            write_message(
                &format!(
                    "pair_style dprs: internal error ({what}); please report it with your input"
                ),
                err,
                errlen,
            );
            fail
        }
    }
}

/// # Safety
/// `arg` is NULL or holds `narg` pointers, each NULL or a NUL-terminated string.
pub(crate) unsafe fn strings(narg: i32, arg: *const *const c_char) -> Vec<String> {
    if arg.is_null() {
        return Vec::new();
    }
    (0..narg.max(0) as usize)
        // SAFETY: guaranteed by the caller, LAMMPS's argument vector.
        .filter_map(|k| unsafe { (*arg.add(k)).as_ref() })
        // SAFETY: a non-NULL entry is a NUL-terminated string.
        .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        .collect()
}

#[no_mangle]
extern "C" fn dprs_create(
    narg: i32,
    arg: *const *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> *mut DprsPair {
    guarded(err, errlen, std::ptr::null_mut(), || {
        // SAFETY: the shim passes LAMMPS's pair_style arguments.
        let args = unsafe { strings(narg, arg) };
        let settings = Settings::parse(&args)?;
        let evaluator = PairEvaluator::new(settings, ORT_LIB_BUILT_WITH)?;
        Ok(Box::into_raw(Box::new(DprsPair { evaluator })))
    })
}

#[no_mangle]
extern "C" fn dprs_coeff(
    pair: *mut DprsPair,
    narg: i32,
    arg: *const *const c_char,
    ntypes: i32,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair_mut(pair) }?;
        // SAFETY: the shim passes LAMMPS's pair_coeff arguments.
        let args = unsafe { strings(narg, arg) };
        pair.evaluator.set_type_map(&args, ntypes.max(0) as usize)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_init(
    pair: *const DprsPair,
    units: *const c_char,
    newton_pair: i32,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair_ref(pair) }?;
        if units.is_null() {
            return Err(DprsError::Setup("internal error: no unit style".into()));
        }
        // SAFETY: `units` is LAMMPS's NUL-terminated unit_style string.
        let units = unsafe { CStr::from_ptr(units) }.to_string_lossy();
        pair.evaluator.check_setup(&units, newton_pair != 0)?;
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_cutoff(
    pair: *const DprsPair,
    cutoff: *mut f64,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    // SAFETY: `cutoff` is NULL or points to a double of the caller.
    let Some(cutoff) = (unsafe { cutoff.as_mut() }) else {
        write_message("internal error: dprs_cutoff without an output", err, errlen);
        return 1;
    };
    *cutoff = 0.0;
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        *cutoff = unsafe { pair_ref(pair) }?.evaluator.cutoff();
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_summary(pair: *const DprsPair, buf: *mut c_char, len: usize) -> i32 {
    write_message("", buf, len);
    guarded(buf, len, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let text = unsafe { pair_ref(pair) }?.evaluator.summary();
        write_message(&text, buf, len);
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    guarded_value(c"".as_ptr(), || Some(VERSION.as_ptr().cast()))
}

#[no_mangle]
extern "C" fn dprs_destroy(pair: *mut DprsPair) {
    if !pair.is_null() {
        // A panic while dropping the session is caught rather than unwound
        // into C++; there is nothing left to report it to.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `pair` came from dprs_create and is destroyed once.
            drop(unsafe { Box::from_raw(pair) })
        }));
    }
}

#[no_mangle]
extern "C" fn dprs_compute(
    pair: *mut DprsPair,
    step: *mut DprsStep,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `step` comes from the shim, valid for this call, or is NULL.
        let s = unsafe { step.as_mut() }.ok_or_else(no_pair)?;
        // The results first, so that they are defined on every return.
        s.energy = 0.0;
        s.virial = [0.0; 6];
        s.dropped = 0;
        s.centres_dropping = 0;
        s.rmin = -1.0;
        s.too_close = 0;
        s.closest = f64::INFINITY;
        s.closest_ids = [-1, -1];
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair_mut(pair) }?;
        s.rmin = pair.evaluator.rmin().unwrap_or(-1.0);
        let nlocal = s.nlocal.max(0) as usize;
        let nall = nlocal + s.nghost.max(0) as usize;
        let inum = s.inum.max(0) as usize;
        if nall == 0 || inum == 0 {
            if s.deviation != 0 {
                pair.evaluator.committee.reset(nall);
            }
            return Ok(0);
        }
        if s.x.is_null()
            || s.f.is_null()
            || s.r#type.is_null()
            || s.ilist.is_null()
            || s.numneigh.is_null()
            || s.firstneigh.is_null()
        {
            return Err(DprsError::Setup(
                "internal error: LAMMPS gave no atom or neighbour arrays for a step with atoms"
                    .into(),
            ));
        }
        // SAFETY: LAMMPS's per-atom arrays hold at least nall entries (x, f,
        // type, eatom, vatom, cvatom: the latter three when requested, sized
        // for ghosts too under newton on), ilist holds inum entries, and
        // numneigh/firstneigh are indexed by local atom.
        let (x, types, ilist, numneigh, firstneigh, f) = unsafe {
            (
                std::slice::from_raw_parts(s.x, 3 * nall),
                std::slice::from_raw_parts(s.r#type, nall),
                std::slice::from_raw_parts(s.ilist, inum),
                std::slice::from_raw_parts(s.numneigh, nlocal),
                std::slice::from_raw_parts(s.firstneigh, nlocal),
                std::slice::from_raw_parts_mut(s.f, 3 * nall),
            )
        };
        let neighbours: Vec<&[i32]> = ilist
            .iter()
            .map(|&i| {
                let i = i as usize;
                let n = numneigh[i].max(0) as usize;
                if n == 0 {
                    &[][..]
                } else {
                    // SAFETY: LAMMPS's neighbour page holds numneigh[i] entries here.
                    unsafe { std::slice::from_raw_parts(firstneigh[i], n) }
                }
            })
            .collect();
        // SAFETY: optional per-atom arrays, sized as stated above, or NULL.
        let (eatom, vatom, cvatom) = unsafe {
            (
                (!s.eatom.is_null()).then(|| std::slice::from_raw_parts_mut(s.eatom, nall)),
                (!s.vatom.is_null()).then(|| std::slice::from_raw_parts_mut(s.vatom, 6 * nall)),
                (!s.cvatom.is_null()).then(|| std::slice::from_raw_parts_mut(s.cvatom, 9 * nall)),
            )
        };
        // SAFETY: `tag` holds nall ids of `tag_bytes` bytes each, or is NULL.
        let ids = unsafe {
            match (s.tag.is_null(), s.tag_bytes) {
                (false, 4) => AtomIds::I32(std::slice::from_raw_parts(s.tag.cast(), nall)),
                (false, 8) => AtomIds::I64(std::slice::from_raw_parts(s.tag.cast(), nall)),
                _ => AtomIds::Unknown,
            }
        };
        let nb = Neighbourhood {
            x,
            types,
            centres: ilist,
            neighbours: &neighbours,
            ids,
        };
        let mut out = Outputs {
            f,
            eatom,
            vatom,
            cvatom,
        };
        let step = s.timestep;
        let report = pair
            .evaluator
            .compute(&nb, &mut out, s.deviation != 0)
            .map_err(|e| match e {
                DprsError::Eval(m) => DprsError::Eval(format!("step {step}: {m}")),
                e => e,
            })?;
        s.energy = report.totals.energy;
        s.virial = report.totals.virial;
        s.dropped = report.dropped as i64;
        s.centres_dropping = report.centres_dropping as i64;
        s.too_close = report.too_close as i64;
        if let Some((r, i, j)) = report.closest {
            s.closest = r;
            s.closest_ids = [i, j];
        }
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_nmodels(pair: *const DprsPair) -> i32 {
    guarded_value(-1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let n = unsafe { pair.as_ref() }?.evaluator.nmodels();
        i32::try_from(n).ok()
    })
}

#[no_mangle]
extern "C" fn dprs_deviation_due(pair: *const DprsPair, step: i64) -> i32 {
    guarded_value(-1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair.as_ref() }?;
        Some(i32::from(pair.evaluator.committee.due(step)))
    })
}

#[no_mangle]
extern "C" fn dprs_deviation_atomic(pair: *const DprsPair) -> i32 {
    guarded_value(-1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair.as_ref() }?;
        Some(i32::from(pair.evaluator.committee.settings.atomic))
    })
}

/// The committee force buffer of the current step, which the shim's
/// pack/unpack_reverse_comm read and add into; valid until the next compute.
#[no_mangle]
extern "C" fn dprs_deviation_forces(pair: *mut DprsPair) -> *mut f64 {
    guarded_value(std::ptr::null_mut(), || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let pair = unsafe { pair.as_mut() }?;
        Some(pair.evaluator.committee.forces.as_mut_ptr())
    })
}

#[no_mangle]
extern "C" fn dprs_deviation_open(pair: *mut DprsPair, err: *mut c_char, errlen: usize) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let committee = &mut unsafe { pair_mut(pair) }?.evaluator.committee;
        committee.open().map_err(|e| {
            DprsError::Setup(format!(
                "cannot write the model deviation file '{}': {e}; choose a writable path with out_file",
                committee.settings.out_file.display()
            ))
        })?;
        Ok(0)
    })
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
extern "C" fn dprs_deviation_local(
    pair: *mut DprsPair,
    nlocal: i32,
    stats: *mut f64,
    virials: *mut f64,
    sigma: *mut *const f64,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    if stats.is_null() || virials.is_null() {
        write_message(
            "internal error: dprs_deviation_local without outputs",
            err,
            errlen,
        );
        return 1;
    }
    // The outputs first, neutral for the MPI reductions (max, min, sum), so
    // that they are defined on every return.
    // SAFETY: stats holds 3 doubles; sigma is NULL or the address of a
    // pointer to store into.
    let stats = unsafe { std::slice::from_raw_parts_mut(stats, 3) };
    stats.copy_from_slice(&[0.0, f64::MAX, 0.0]);
    if !sigma.is_null() {
        // SAFETY: checked non-null; the shim passes the address of a pointer.
        unsafe { *sigma = std::ptr::null() };
    }
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let committee = &mut unsafe { pair_mut(pair) }?.evaluator.committee;
        let nm = committee.nmodels;
        // SAFETY: virials holds 9 * nmodels doubles.
        let virials = unsafe { std::slice::from_raw_parts_mut(virials, 9 * nm) };
        virials.fill(0.0);
        let (max, min, sum) = committee.local_stats(nlocal.max(0) as usize);
        stats.copy_from_slice(&[max, min, sum]);
        for (k, v) in committee.virials.iter().take(nm).enumerate() {
            virials[9 * k..9 * k + 9].copy_from_slice(v);
        }
        if !sigma.is_null() {
            // SAFETY: checked non-null; the shim passes the address of a pointer.
            unsafe { *sigma = committee.local_sigma.as_ptr() };
        }
        Ok(0)
    })
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
extern "C" fn dprs_deviation_write(
    pair: *mut DprsPair,
    step: i64,
    natoms: i64,
    stats: *const f64,
    virials: *const f64,
    nper: i64,
    ids: *const i64,
    sigma: *const f64,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `pair` came from dprs_create (or is NULL, refused).
        let committee = &mut unsafe { pair_mut(pair) }?.evaluator.committee;
        let nm = committee.nmodels;
        if stats.is_null() || virials.is_null() {
            return Err(DprsError::Setup(
                "internal error: dprs_deviation_write without statistics".into(),
            ));
        }
        // SAFETY: stats holds 3 and virials 9 * nmodels doubles (global
        // sums); ids/sigma hold nper entries or are NULL.
        let (stats, virials) = unsafe {
            (
                std::slice::from_raw_parts(stats, 3),
                std::slice::from_raw_parts(virials, 9 * nm),
            )
        };
        let per_atom = (!ids.is_null() && !sigma.is_null()).then(|| unsafe {
            (
                std::slice::from_raw_parts(ids, nper.max(0) as usize),
                std::slice::from_raw_parts(sigma, nper.max(0) as usize),
            )
        });
        let vs: Vec<[f64; 9]> = virials
            .chunks_exact(9)
            .map(|c| <[f64; 9]>::try_from(c).expect("chunks of 9"))
            .collect();
        let file = committee.settings.out_file.clone();
        committee
            .write(
                step,
                natoms.max(0) as usize,
                (stats[0], stats[1], stats[2]),
                &vs,
                per_atom,
            )
            .map_err(|e| {
                DprsError::Setup(format!(
                    "writing the model deviation file '{}' failed: {e}",
                    file.display()
                ))
            })?;
        Ok(0)
    })
}
