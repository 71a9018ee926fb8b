//! `fix dprs/diffusion`: the C ABI the C++ fix (cpp/fix_dprs_diffusion.cpp)
//! calls on MPI rank 0 with the gathered atoms of the group; the analysis is
//! `dprs_analysis::insitu`, the code `postproc msd` / `postproc vdos` run.
//!
//! ```text
//! fix ID group dprs/diffusion N file DIR [msd max_lag T] [fit FROM TO]
//!     [block T|none] [vacf max_lag T] [write_every M] [by_type yes|no] [plot yes|no]
//!     [flux interval T smooth T [lattice_a A] [r1 R] [r2 R] [subdiv n]]
//! ```
//! Times T, FROM, TO in ps; N and M in steps.

use crate::abi::{strings, write_message};
use dprs_analysis::analysis::diffusion::FitWindow;
use dprs_analysis::insitu::{Config, FluxConfig, Insitu, Sample};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

const STYLE: &str = "fix dprs/diffusion";
const SYNTAX: &str = "fix ID group dprs/diffusion N file DIR [msd max_lag T] [fit FROM TO] \
                      [block T|none] [vacf max_lag T] [write_every M] [by_type yes|no] [plot yes|no] \
                      [flux interval T smooth T [lattice_a A] [r1 R] [r2 R] [subdiv n]]";

/// What the input asked for, in ps and steps (the timestep is known at init).
#[derive(Clone, Debug)]
struct Request {
    every: u64,
    out: PathBuf,
    msd_lag_ps: f64,
    fit_ps: Option<(f64, f64)>,
    /// None: the default (ten MSD lag windows); Some(0): no blocks.
    block_ps: Option<f64>,
    vacf_lag_ps: Option<f64>,
    write_every: u64,
    by_type: bool,
    flux: Option<FluxRequest>,
    plots: bool,
}

/// `flux ...`: the options of `postproc flux` (times in ps, lengths in Å).
#[derive(Clone, Debug)]
struct FluxRequest {
    interval: f64,
    smooth: f64,
    a: Option<f64>,
    r1: Option<f64>,
    r2: Option<f64>,
    subdiv: usize,
}

const FLUX_KEYS: [&str; 6] = ["interval", "smooth", "lattice_a", "r1", "r2", "subdiv"];

fn positive_length(kw: &str, s: Option<&String>) -> Result<f64, String> {
    let s = s.ok_or_else(|| format!("{STYLE}: {kw} needs a length in Å; syntax: {SYNTAX}"))?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{STYLE}: {kw} {s}: expected a positive length in Å; syntax: {SYNTAX}"
        )),
    }
}

pub struct DprsFix {
    req: Request,
    dt_step: f64,
    insitu: Option<Insitu>,
}

fn positive_time(kw: &str, s: Option<&String>) -> Result<f64, String> {
    let s = s.ok_or_else(|| format!("{STYLE}: {kw} needs a time in ps; syntax: {SYNTAX}"))?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{STYLE}: {kw} {s}: expected a positive time in ps; syntax: {SYNTAX}"
        )),
    }
}

fn steps(kw: &str, s: Option<&String>, zero_ok: bool) -> Result<u64, String> {
    let s = s.ok_or_else(|| format!("{STYLE}: {kw} needs a number of steps; syntax: {SYNTAX}"))?;
    match s.parse::<u64>() {
        Ok(v) if v > 0 || zero_ok => Ok(v),
        _ => Err(format!(
            "{STYLE}: {kw} {s}: expected a positive whole number of steps; syntax: {SYNTAX}"
        )),
    }
}

impl Request {
    /// `args`: LAMMPS's fix arguments after `fix ID group dprs/diffusion`.
    fn parse(args: &[String]) -> Result<Request, String> {
        let mut it = args.iter();
        let every = steps("N (sample every N steps)", it.next(), false)?;
        let mut r = Request {
            every,
            out: PathBuf::new(),
            msd_lag_ps: 5.0,
            fit_ps: None,
            block_ps: None,
            vacf_lag_ps: None,
            write_every: 0,
            by_type: true,
            flux: None,
            plots: true,
        };
        let mut have_file = false;
        while let Some(kw) = it.next() {
            match kw.as_str() {
                "file" => {
                    let d = it.next().ok_or_else(|| {
                        format!("{STYLE}: file needs an output folder; syntax: {SYNTAX}")
                    })?;
                    r.out = PathBuf::from(d);
                    have_file = true;
                }
                "msd" | "vacf" => {
                    match it.next().map(String::as_str) {
                        Some("max_lag") => {}
                        other => {
                            return Err(format!(
                                "{STYLE}: {kw} {}: expected `{kw} max_lag T` (T in ps); syntax: {SYNTAX}",
                                other.unwrap_or("")
                            ))
                        }
                    }
                    let t = positive_time(&format!("{kw} max_lag"), it.next())?;
                    if kw == "msd" {
                        r.msd_lag_ps = t;
                    } else {
                        r.vacf_lag_ps = Some(t);
                    }
                }
                "fit" => {
                    let from = it.next().ok_or_else(|| {
                        format!("{STYLE}: fit needs FROM TO in ps; syntax: {SYNTAX}")
                    })?;
                    let from = match from.parse::<f64>() {
                        Ok(v) if v.is_finite() && v >= 0.0 => v,
                        _ => {
                            return Err(format!(
                            "{STYLE}: fit {from}: FROM must be a time ≥ 0 in ps; syntax: {SYNTAX}"
                        ))
                        }
                    };
                    let to = positive_time("fit FROM TO", it.next())?;
                    if to <= from {
                        return Err(format!(
                            "{STYLE}: fit {from} {to}: TO must be later than FROM"
                        ));
                    }
                    r.fit_ps = Some((from, to));
                }
                "block" => {
                    if it.clone().next().map(String::as_str) == Some("none") {
                        it.next();
                        r.block_ps = Some(0.0);
                    } else {
                        r.block_ps = Some(positive_time("block", it.next())?);
                    }
                }
                "write_every" => r.write_every = steps("write_every", it.next(), false)?,
                "flux" => {
                    let mut f = FluxRequest {
                        interval: 1.0,
                        smooth: 1.0,
                        a: None,
                        r1: None,
                        r2: None,
                        subdiv: 8,
                    };
                    while let Some(k) = it
                        .clone()
                        .next()
                        .filter(|k| FLUX_KEYS.contains(&k.as_str()))
                    {
                        it.next();
                        let kw = format!("flux {k}");
                        match k.as_str() {
                            "interval" => f.interval = positive_time(&kw, it.next())?,
                            "smooth" => f.smooth = positive_time(&kw, it.next())?,
                            "lattice_a" => f.a = Some(positive_length(&kw, it.next())?),
                            "r1" => f.r1 = Some(positive_length(&kw, it.next())?),
                            "r2" => f.r2 = Some(positive_length(&kw, it.next())?),
                            _ => f.subdiv = steps(&kw, it.next(), false)? as usize,
                        }
                    }
                    r.flux = Some(f);
                }
                "by_type" | "plot" => {
                    let v = match it.next().map(String::as_str) {
                        Some("yes") => true,
                        Some("no") => false,
                        other => {
                            return Err(format!(
                                "{STYLE}: {kw} {}: expected yes or no",
                                other.unwrap_or("")
                            ))
                        }
                    };
                    if kw == "plot" {
                        r.plots = v;
                    } else {
                        r.by_type = v;
                    }
                }
                other => {
                    return Err(format!(
                        "{STYLE}: unknown keyword `{other}`; syntax: {SYNTAX}"
                    ))
                }
            }
        }
        if !have_file {
            return Err(format!(
                "{STYLE}: the output folder is missing (`file DIR`); syntax: {SYNTAX}"
            ));
        }
        if r.write_every > 0 && !r.write_every.is_multiple_of(r.every) {
            return Err(format!(
                "{STYLE}: write_every {} is not a multiple of N = {}: files are written at \
                 sampled steps",
                r.write_every, r.every
            ));
        }
        Ok(r)
    }

    /// The analysis settings once the timestep (ps) is known.
    fn config(&self, dt_step: f64) -> Result<Config, String> {
        let dt = dt_step * self.every as f64;
        let samples = |ps: f64| (ps / dt).round() as usize;
        let lag = samples(self.msd_lag_ps);
        if lag < 2 {
            return Err(format!(
                "{STYLE}: msd max_lag {} ps is shorter than two samples ({} ps apart): \
                 use a longer max_lag or sample more often",
                self.msd_lag_ps, dt
            ));
        }
        let fit = match self.fit_ps {
            None => FitWindow {
                from: (lag / 10).max(1),
                to: lag,
            },
            Some((a, b)) => {
                let (from, to) = (samples(a), samples(b));
                if to > lag {
                    return Err(format!(
                        "{STYLE}: fit {a} {b}: the window ends after msd max_lag {} ps; \
                         raise max_lag or end the fit earlier",
                        self.msd_lag_ps
                    ));
                }
                if to <= from {
                    return Err(format!(
                        "{STYLE}: fit {a} {b}: fewer than two MSD points at {dt} ps between samples"
                    ));
                }
                FitWindow { from, to }
            }
        };
        let block_len = match self.block_ps {
            None => 10 * lag,
            Some(b) if b <= 0.0 => 0,
            Some(b) => {
                let n = samples(b);
                if n <= fit.to {
                    return Err(format!(
                        "{STYLE}: block {b} ps is not longer than the fit window (to {} ps): \
                         use longer blocks",
                        fit.to as f64 * dt
                    ));
                }
                n
            }
        };
        let vacf_lag = match self.vacf_lag_ps {
            None => None,
            Some(t) => {
                let l = samples(t);
                if l < 2 {
                    return Err(format!(
                        "{STYLE}: vacf max_lag {t} ps is shorter than two samples ({dt} ps apart)"
                    ));
                }
                Some(l)
            }
        };
        let flux = match &self.flux {
            None => None,
            Some(f) => {
                let interval = samples(f.interval);
                if interval == 0 {
                    return Err(format!(
                        "{STYLE}: flux interval {} ps is shorter than one sample ({dt} ps)",
                        f.interval
                    ));
                }
                Some(FluxConfig {
                    smooth: samples(f.smooth).max(1),
                    interval,
                    smooth_ps: f.smooth,
                    interval_ps: f.interval,
                    a: f.a,
                    r1: f.r1,
                    r2: f.r2,
                    subdiv: f.subdiv,
                })
            }
        };
        Ok(Config {
            out: self.out.clone(),
            dt,
            msd_lag: lag,
            block_len,
            fit,
            vacf_lag,
            by_type: self.by_type,
            flux,
            plots: self.plots,
        })
    }
}

/// Runs `body`, turning errors and panics into a message in `err`.
fn guarded<T>(
    err: *mut c_char,
    errlen: usize,
    fail: T,
    body: impl FnOnce() -> Result<T, String>,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            write_message(&e, err, errlen);
            fail
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            write_message(
                &format!("{STYLE}: internal error ({what}); please report it with your input"),
                err,
                errlen,
            );
            fail
        }
    }
}

/// # Safety
/// `fix` is NULL or came from dprs_fix_create, is not destroyed yet and is
/// used by one thread.
unsafe fn fix_mut<'a>(fix: *mut DprsFix) -> Result<&'a mut DprsFix, String> {
    // SAFETY: as stated by the caller; NULL is refused.
    unsafe { fix.as_mut() }.ok_or_else(|| format!("{STYLE}: internal error (no fix instance)"))
}

#[no_mangle]
extern "C" fn dprs_fix_create(
    narg: i32,
    arg: *const *const c_char,
    nevery: *mut i64,
    write_every: *mut i64,
    err: *mut c_char,
    errlen: usize,
) -> *mut DprsFix {
    guarded(err, errlen, std::ptr::null_mut(), || {
        // SAFETY: the shim passes LAMMPS's fix arguments.
        let args = unsafe { strings(narg, arg) };
        let req = Request::parse(args.get(3..).unwrap_or(&[]))?;
        // SAFETY: the shim passes pointers to two of its integers (or NULL).
        unsafe {
            if let Some(p) = nevery.as_mut() {
                *p = req.every as i64;
            }
            if let Some(p) = write_every.as_mut() {
                *p = req.write_every as i64;
            }
        }
        Ok(Box::into_raw(Box::new(DprsFix {
            req,
            dt_step: 0.0,
            insitu: None,
        })))
    })
}

/// At every run's init on every rank: checks units and timestep; rank 0
/// (`root` = 1) makes the accumulators at the first run.
#[no_mangle]
extern "C" fn dprs_fix_init(
    fix: *mut DprsFix,
    units: *const c_char,
    dt_step: f64,
    root: i32,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `fix` came from dprs_fix_create (or is NULL, refused).
        let fix = unsafe { fix_mut(fix) }?;
        let units = if units.is_null() {
            String::new()
        } else {
            // SAFETY: LAMMPS's unit_style, a NUL-terminated string.
            unsafe { CStr::from_ptr(units) }
                .to_string_lossy()
                .into_owned()
        };
        if units != "metal" {
            return Err(format!(
                "{STYLE} needs units metal (Å, ps), not units {units}: its lags and outputs \
                 are in ps and Å; use units metal"
            ));
        }
        if fix.dt_step != 0.0 && fix.dt_step != dt_step {
            return Err(format!(
                "{STYLE}: the timestep changed from {} ps to {dt_step} ps since its first run: \
                 the samples would not be evenly spaced in time; define a new fix \
                 (unfix the old one) after changing the timestep",
                fix.dt_step
            ));
        }
        fix.dt_step = dt_step;
        let cfg = fix.req.config(dt_step)?;
        if root != 0 && fix.insitu.is_none() {
            fix.insitu = Some(Insitu::new(cfg).map_err(|e| format!("{STYLE}: {e}"))?);
        }
        Ok(0)
    })
}

/// One sample on rank 0: `n` atoms of 11 doubles each (id, type, x y z,
/// ix iy iz, vx vy vz) in any order; box origin, lengths, tilts (xy xz yz).
#[no_mangle]
extern "C" fn dprs_fix_sample(
    fix: *mut DprsFix,
    step: i64,
    n: i64,
    atoms: *const f64,
    boxlo: *const f64,
    len: *const f64,
    tilt: *const f64,
    err: *mut c_char,
    errlen: usize,
) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `fix` came from dprs_fix_create (or is NULL, refused).
        let fix = unsafe { fix_mut(fix) }?;
        let insitu = fix
            .insitu
            .as_mut()
            .ok_or_else(|| format!("{STYLE}: internal error (sample before init)"))?;
        let n = n.max(0) as usize;
        if boxlo.is_null() || len.is_null() || tilt.is_null() || (n > 0 && atoms.is_null()) {
            return Err(format!("{STYLE}: internal error (NULL sample arrays)"));
        }
        // SAFETY: the shim passes n·11 doubles and three arrays of 3.
        let (rows, bl, ln, tl) = unsafe {
            (
                if n > 0 {
                    std::slice::from_raw_parts(atoms, n * 11)
                } else {
                    &[][..]
                },
                std::slice::from_raw_parts(boxlo, 3),
                std::slice::from_raw_parts(len, 3),
                std::slice::from_raw_parts(tilt, 3),
            )
        };
        let mut ids = Vec::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        let mut x = Vec::with_capacity(n);
        let mut image = Vec::with_capacity(n);
        let mut v = Vec::with_capacity(n);
        for r in rows.chunks_exact(11) {
            ids.push(r[0] as u64);
            types.push(r[1] as u32);
            x.push([r[2], r[3], r[4]]);
            image.push([r[5] as i32, r[6] as i32, r[7] as i32]);
            v.push([r[8], r[9], r[10]]);
        }
        let s = Sample {
            step: step.max(0) as u64,
            ids: &ids,
            types: &types,
            x: &x,
            image: &image,
            v: &v,
            boxlo: [bl[0], bl[1], bl[2]],
            len: [ln[0], ln[1], ln[2]],
            tilt: [tl[0], tl[1], tl[2]],
        };
        // The lags are counted in samples: a gap other than N steps (a changed
        // timestep count between runs) would silently stretch them.
        if let Some(last) = insitu.last_step() {
            if s.step != last + fix.req.every {
                return Err(format!(
                    "{STYLE}: sample at step {} follows the one at step {last}, not {} steps \
                     later; the samples of one fix must be evenly spaced: unfix and define \
                     the fix again after changing the step count",
                    s.step, fix.req.every
                ));
            }
        }
        insitu.push(&s).map_err(|e| format!("{STYLE}: {e}"))?;
        Ok(0)
    })
}

/// The thermo vector on rank 0: D_x, D_y, D_z, D (Å²/ps; NaN until the MSD
/// reaches the fit window), samples, bytes held. Returns how many were written.
#[no_mangle]
extern "C" fn dprs_fix_vector(fix: *mut DprsFix, out: *mut f64, len: i32) -> i32 {
    guarded(std::ptr::null_mut(), 0, 0, || {
        // SAFETY: `fix` came from dprs_fix_create (or is NULL, refused).
        let fix = unsafe { fix_mut(fix) }?;
        if out.is_null() || len < 0 {
            return Ok(0);
        }
        let mut vals = [f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0, 0.0];
        if let Some(s) = fix.insitu.as_ref() {
            vals[..4].copy_from_slice(&s.d_so_far());
            vals[4] = s.n_samples() as f64;
            vals[5] = s.bytes() as f64;
        }
        let k = vals.len().min(len as usize);
        // SAFETY: the shim passes room for `len` doubles.
        unsafe { std::slice::from_raw_parts_mut(out, k) }.copy_from_slice(&vals[..k]);
        Ok(k as i32)
    })
}

/// Writes the outputs so far on rank 0 (each file atomically).
#[no_mangle]
extern "C" fn dprs_fix_write(fix: *mut DprsFix, err: *mut c_char, errlen: usize) -> i32 {
    guarded(err, errlen, 1, || {
        // SAFETY: `fix` came from dprs_fix_create (or is NULL, refused).
        let fix = unsafe { fix_mut(fix) }?;
        if let Some(s) = fix.insitu.as_ref() {
            s.write()
                .map_err(|e| format!("{STYLE}: writing the outputs: {e}"))?;
        }
        Ok(0)
    })
}

#[no_mangle]
extern "C" fn dprs_fix_destroy(fix: *mut DprsFix) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !fix.is_null() {
            // SAFETY: `fix` came from Box::into_raw in dprs_fix_create and
            // the shim destroys it once.
            drop(unsafe { Box::from_raw(fix) });
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Request, String> {
        Request::parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn keywords_and_their_errors() {
        let r =
            parse("10 file out msd max_lag 2.0 fit 0.2 1.0 block 5 vacf max_lag 1 write_every 100")
                .unwrap();
        assert_eq!((r.every, r.write_every), (10, 100));
        let c = r.config(0.001).unwrap();
        assert_eq!(
            (c.msd_lag, c.fit.from, c.fit.to, c.block_len),
            (200, 20, 100, 500)
        );
        assert_eq!(c.vacf_lag, Some(100));
        for (bad, want) in [
            ("0 file out", "N (sample every N steps)"),
            ("10", "file DIR"),
            ("10 file out msd 2", "msd max_lag T"),
            ("10 file out bogus", "unknown keyword `bogus`"),
            ("10 file out write_every 15", "not a multiple"),
            ("10 file out fit 1 0.5", "later than FROM"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
        let e = parse("10 file out msd max_lag 1 fit 0.1 2")
            .unwrap()
            .config(0.001)
            .unwrap_err();
        assert!(e.contains("ends after msd max_lag"), "{e}");
    }
}
