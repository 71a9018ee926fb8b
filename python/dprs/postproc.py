"""The analyses of the ``postproc`` command, on LAMMPS dumps or on arrays.

Every function here runs the very code of the ``postproc`` command line
(the same defaults, the same numbers, the same error messages) and returns a
result object whose fields are numpy arrays, floats and dicts.

Units are LAMMPS ``metal`` throughout: lengths in Å, times in ps,
velocities in Å/ps, diffusion coefficients in Å²/ps (the summaries give m²/s
and cm²/s too), frequencies in THz, temperatures in K, masses in g/mol.

>>> from dprs import postproc
>>> traj = postproc.read("dump.lammpstrj", dt=0.01)      # frames 0.01 ps apart
>>> r = postproc.msd(traj)
>>> r.D["x"], r.D["y"], r.D["z"]                         # Å²/ps
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import _native

PostprocError = _native.PostprocError
PostprocError.__module__ = __name__

__all__ = [
    "PostprocError",
    "Trajectory",
    "Result",
    "read",
    "msd",
    "vdos",
    "diffusion",
    "rdf",
    "flux",
    "chains",
    "twopt",
    "arrhenius",
]


def _time_text(value: Any) -> str:
    """A time as the command line takes it: a number (ps) or text with a unit."""
    if isinstance(value, str):
        return value
    return repr(float(value))


class Trajectory:
    """Frames to analyse: LAMMPS dumps (:func:`read`) or arrays in memory
    (:meth:`from_arrays`), with the time between frames.

    Exactly one time base is kept: ``dt`` (ps between frames), ``timestep``
    (ps per MD step; frames are their step difference apart) or ``log`` (a
    LAMMPS log giving ``units`` and ``timestep``).
    """

    def __init__(self, *, paths=None, frames=None, dt=None, timestep=None, log=None,
                 every=1, max_frames=None):
        given = [k for k, v in (("dt", dt), ("timestep", timestep), ("log", log)) if v is not None]
        if len(given) > 1:
            raise PostprocError(f"give one time base, not {' and '.join(given)}")
        self._paths = paths
        self._frames = frames
        self.dt = dt
        self.timestep = timestep
        self.log = log
        self.every = int(every)
        self.max_frames = max_frames

    @classmethod
    def from_arrays(cls, positions, box, types=None, velocities=None, *, dt=None,
                    timestep=None, steps=None, ids=None) -> "Trajectory":
        """Frames from arrays you already have (MDAnalysis, ASE, your own code).

        positions:  ``[frames, atoms, 3]``, Å, **unwrapped** (continuous
                    through the periodic boundaries, as ``xu yu zu`` in a dump;
                    MDAnalysis: ``transformations.unwrap`` or
                    ``NoJump``; ASE: ``atoms.get_positions(wrap=False)`` of an
                    unwrapped trajectory).
        box:        the periodic box, Å: 3 edge lengths (orthogonal), a 3×3
                    cell whose rows are the edge vectors a, b, c in LAMMPS's
                    restricted triclinic form (a along x, b in the xy plane),
                    or one of these per frame (``[frames, 3]`` / ``[frames, 3, 3]``).
        types:      one LAMMPS type (integer ≥ 1) per atom; default all 1.
        velocities: ``[frames, atoms, 3]``, Å/ps, optional (without them the
                    VACF analyses use finite differences of the positions).
        dt:         time between frames, ps (a number, or text such as "10fs").
        timestep:   instead of ``dt``: time per MD step, ps, with ``steps``.
        steps:      the MD step of each frame (default 0, 1, 2, ...).
        ids:        one atom id per atom (default 1..atoms); atoms are put in
                    ascending id order, as the dump reader does.
        """
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        if pos.ndim != 3 or pos.shape[2] != 3:
            raise PostprocError(f"positions must have the shape [frames, atoms, 3], got {pos.shape}")
        n_frames, n_atoms = pos.shape[0], pos.shape[1]
        cells = np.asarray(box, dtype=np.float64)
        if cells.shape == (3,):
            cells = np.diag(cells)[None]
        elif cells.shape == (3, 3):
            cells = cells[None]
        elif cells.shape == (n_frames, 3):
            cells = np.stack([np.diag(c) for c in cells])
        elif cells.shape != (n_frames, 3, 3):
            raise PostprocError(
                f"box must be 3 lengths, a 3×3 cell, or one of these per frame "
                f"([{n_frames}, 3] or [{n_frames}, 3, 3]), got shape {cells.shape}")
        t = np.ones(n_atoms, dtype=np.int64) if types is None else np.ascontiguousarray(types, dtype=np.int64)
        vel = None
        if velocities is not None:
            vel = np.ascontiguousarray(velocities, dtype=np.float64)
            if vel.shape != pos.shape:
                raise PostprocError(
                    f"velocities must have the shape of the positions {pos.shape}, got {vel.shape}")
            vel = vel.ravel()
        frames = _native.frames_from_arrays(
            n_frames, n_atoms, pos.ravel(), np.ascontiguousarray(cells).ravel(), t.ravel(),
            velocities=vel,
            ids=None if ids is None else np.ascontiguousarray(ids, dtype=np.int64).ravel(),
            steps=None if steps is None else np.ascontiguousarray(steps, dtype=np.int64).ravel(),
        )
        if dt is None and timestep is None:
            raise PostprocError("from_arrays needs the time between frames: dt=PS (or timestep=PS with steps=)")
        return cls(frames=frames, dt=dt, timestep=timestep)

    @property
    def files(self) -> list[str]:
        """The dump files read, in order (empty for arrays)."""
        return [] if self._paths is None else list(self._paths)

    @property
    def n_frames(self) -> int | None:
        """Frames held in memory (None for dumps: they are streamed)."""
        return None if self._frames is None else self._frames.n_frames

    def _input_args(self) -> list[str]:
        if self._frames is not None:
            args = ["<arrays>"]
        else:
            args = list(self._paths)
        if self.every != 1:
            args += ["--every", str(self.every)]
        if self.max_frames is not None:
            args += ["--max-frames", str(int(self.max_frames))]
        return args

    def _time_args(self) -> list[str]:
        if self.dt is not None:
            return ["--dt", _time_text(self.dt)]
        if self.timestep is not None:
            return ["--timestep", _time_text(self.timestep)]
        if self.log is not None:
            return ["--log", os.fspath(self.log)]
        return []

    def __repr__(self) -> str:
        if self._frames is not None:
            src = f"{self._frames.n_frames} frames × {self._frames.n_atoms} atoms in memory"
        else:
            src = ", ".join(self._paths)
        base = ", ".join(f"{k}={v!r}" for k, v in
                         (("dt", self.dt), ("timestep", self.timestep), ("log", self.log)) if v is not None)
        return f"Trajectory({src}{', ' + base if base else ''})"


def read(paths: str | os.PathLike | Sequence[str | os.PathLike], *, dt=None, timestep=None,
         log=None, every: int = 1, max_frames: int | None = None) -> Trajectory:
    """Names LAMMPS dumps to analyse: plain, ``.gz`` or ``.zst`` files or globs
    such as ``"dump.*.lammpstrj"``, read in order (the same reader as the
    command line; frames are streamed when an analysis runs, not held in memory).

    dt:         time between frames, ps (a number, or text such as "10fs").
    timestep:   instead: time per MD step, ps; frames are their step difference apart.
    log:        instead: a LAMMPS log to take ``units`` and ``timestep`` from.
    every:      use every n-th frame only.
    max_frames: stop after this many frames.

    Raises :class:`PostprocError` when no file matches.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    patterns = [os.fspath(p) for p in paths]
    _native.expand_dumps(patterns)  # no such file: say so now, not at the first analysis
    return Trajectory(paths=patterns, dt=dt, timestep=timestep, log=log, every=every,
                      max_frames=max_frames)


def _to_python(value: Any) -> Any:
    """JSON → Python: lists of numbers become float arrays (null → nan)."""
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                         for v in value) and any(v is not None for v in value):
            if all(isinstance(v, int) for v in value):
                return np.array(value, dtype=np.int64)
            return np.array([np.nan if v is None else v for v in value], dtype=np.float64)
        return [_to_python(v) for v in value]
    return value


class Result:
    """What one analysis found.

    ``summary`` is the summary ``postproc ... --json`` prints (numeric lists
    as numpy arrays), ``tables`` the CSV files it writes as
    ``{file stem: {column: array}}`` at full precision; summary keys and
    table columns are also attributes (``r.D``, ``r.time_ps``).
    """

    analysis = ""
    _plot_table = ""
    _plot_x = ""
    _plot_label = ""

    def __init__(self, summary: dict, tables: dict):
        self.summary = summary
        self.tables = tables

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.summary:
            return self.summary[name]
        for cols in self.tables.values():
            if name in cols:
                return cols[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}; "
                             f"summary: {sorted(self.summary)}, tables: {sorted(self.tables)}")

    def __dir__(self):
        cols = [c for t in self.tables.values() for c in t]
        return sorted(set(super().__dir__()) | set(self.summary) | set(cols))

    @property
    def warnings(self) -> list[str]:
        return list(self.summary.get("warnings", []))

    def to_dict(self) -> dict:
        """``{"summary": ..., "tables": ...}`` with numpy arrays."""
        return {"summary": self.summary, "tables": self.tables}

    def to_pandas(self, table: str | None = None):
        """The table ``table`` (default: the main one) as a pandas DataFrame.
        Needs pandas (``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(f"{type(self).__name__}.to_pandas() needs pandas: pip install pandas") from e
        name = table or self._plot_table or next(iter(self.tables), None)
        if name not in self.tables:
            raise KeyError(f"no table {name!r}; tables: {sorted(self.tables)}")
        return pd.DataFrame(self.tables[name])

    def plot(self, ax=None):
        """Draws the main curves with matplotlib (``pip install matplotlib``);
        returns the axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError(f"{type(self).__name__}.plot() needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots()
        cols = self.tables.get(self._plot_table) or next(iter(self.tables.values()), {})
        names = list(cols)
        x = self._plot_x if self._plot_x in cols else names[0]
        for n in names:
            if n != x and self._wants(n):
                ax.plot(cols[x], cols[n], label=n)
        ax.set_xlabel(x)
        ax.set_ylabel(self._plot_label)
        ax.set_title(self.analysis)
        ax.legend()
        return ax

    def _wants(self, column: str) -> bool:
        return True

    def _headline(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._headline()}>"


def _g(x: Any) -> str:
    """A number for a one-line summary: four significant digits."""
    return "n/a" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)


def _pm(entry: Mapping | None) -> str:
    if not entry or entry.get("value") is None:
        return "n/a"
    err = entry.get("stderr")
    return f"{entry['value']:.4g}" + ("" if err is None else f" ± {err:.2g}")


class MsdResult(Result):
    """MSD per axis and D per axis and plane.

    ``D[axis]`` is D in Å²/ps for axis in x, y, z, xy, xz, yz, total;
    ``D_stderr[axis]`` its standard error from the time blocks;
    ``summary["D"][axis]`` has the block values, the 95 % interval and m²/s,
    cm²/s. ``time_ps`` and ``msd_x_A2`` ... are the curves (Å²).
    """

    analysis = "msd"
    _plot_table = "msd"
    _plot_x = "time_ps"
    _plot_label = "MSD (Å²)"

    @property
    def D(self) -> dict[str, float]:
        return {k: v["value"] for k, v in self.summary["D"].items()}

    @property
    def D_stderr(self) -> dict[str, float]:
        return {k: v["stderr"] for k, v in self.summary["D"].items()}

    def _wants(self, column):
        return column in ("msd_x_A2", "msd_y_A2", "msd_z_A2")

    def _headline(self):
        d = self.summary["D"]
        return (f"D_x = {_pm(d['x'])}, D_y = {_pm(d['y'])}, D_z = {_pm(d['z'])}, "
                f"D = {_pm(d['total'])} Å²/ps")


class VdosResult(Result):
    """VACF (Å²/ps²), VDOS F(ν) (1/THz, ∫F dν = 3), D from F(0) and
    Green–Kubo (Å²/ps); ``freq_THz``, ``vdos_per_THz``, ``time_ps``,
    ``vacf_A2_ps2`` are the curves."""

    analysis = "vdos"
    _plot_table = "vdos"
    _plot_x = "freq_THz"
    _plot_label = "F(ν) (1/THz)"

    def _wants(self, column):
        return column == "vdos_per_THz"

    def _headline(self):
        return (f"D from F(0) = {_g(self.summary.get('D_from_F0'))}, D Green–Kubo = "
                f"{_g(self.summary.get('D_green_kubo'))} Å²/ps, peak {_g(self.summary.get('peak_THz'))} THz")


class DiffusionResult(MsdResult):
    """:class:`MsdResult` and :class:`VdosResult` of one pass over the frames."""

    analysis = "diffusion"

    def _headline(self):
        return (MsdResult._headline(self) + f"; D from F(0) = {_g(self.summary.get('D_from_F0'))}, "
                f"D Green–Kubo = {_g(self.summary.get('D_green_kubo'))} Å²/ps")


class RdfResult(Result):
    """g(r) and running coordination numbers per type pair; ``r_A`` (Å),
    ``g_<pair>``, ``n_<pair>``; ``pairs[pair]`` has the first peak and
    minimum (Å) and the first-shell coordination."""

    analysis = "rdf"
    _plot_table = "rdf"
    _plot_x = "r_A"
    _plot_label = "g(r)"

    def _wants(self, column):
        return column.startswith("g_")

    def _headline(self):
        return ", ".join(f"{k}: peak {_g(v.get('first_peak_A'))} Å, n = {_g(v.get('coordination'))}"
                         for k, v in self.summary.get("pairs", {}).items())


class FluxResult(Result):
    """Flux maps F_x(y,z), F_y(x,z), F_z(x,y) and crossings per lattice line
    (Wang et al., Phys. Rev. X 11, 011006 (2021), eqs. 6–8)."""

    analysis = "flux"

    def _headline(self):
        return f"{self.summary.get('n_samples')} samples, {len(self.summary.get('lines', []))} lines with crossings"


class ChainsResult(Result):
    """Hops between lattice sites, cooperative chains, rings, the diffusive
    fraction and the cMSD."""

    analysis = "chains"

    def _headline(self):
        return (f"{self.summary.get('n_hops')} hops, {self.summary.get('n_chains')} chains, "
                f"mobile fraction {_g(self.summary.get('mobile_fraction'))}")


class TwoptResult(Result):
    """2PT (Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003)):
    fluidicity ``f_g``, diffusivity ``delta``, F(0) in ps and the gas/solid
    split of the VDOS (``freq_THz``, ``vdos_per_THz``, ``gas_per_THz``,
    ``solid_per_THz``, 1/THz)."""

    analysis = "twopt"
    _plot_table = "twopt"
    _plot_x = "freq_THz"
    _plot_label = "F(ν) (1/THz)"

    def _wants(self, column):
        return column in ("vdos_per_THz", "gas_per_THz", "solid_per_THz")

    def _headline(self):
        return f"f_g = {_g(self.summary.get('f_g'))}, Δ = {_g(self.summary.get('delta'))}"


class ArrheniusResult(Result):
    """Fit ln D = ln D0 − Ea/kT: ``Ea_eV`` and ``D0`` (value, stderr, unit),
    the points ``T_K``, ``D``, ``D_err``."""

    analysis = "arrhenius"
    _plot_table = "arrhenius"

    def plot(self, ax=None):
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("ArrheniusResult.plot() needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots()
        t = self.tables["arrhenius"]
        x = 1000.0 / t["T_K"]
        ax.errorbar(x, np.log(t["D"]), yerr=t["D_err"] / t["D"], fmt="o")
        ln_d0, ea = self.summary["ln_D0"]["value"], self.summary["Ea_eV"]["value"]
        ax.plot(x, ln_d0 - ea * x / (8.617333262e-5 * 1000.0), "--")
        ax.set_xlabel("1000/T (1/K)")
        ax.set_ylabel("ln D")
        return ax

    def _headline(self):
        return f"Ea = {_pm(self.summary['Ea_eV'])} eV, D0 = {_pm(self.summary['D0'])} {self.summary['D0'].get('unit')}"


def _run(cls, argv: list[str], frames: list, out, figures: bool) -> Result:
    with tempfile.TemporaryDirectory(prefix="dprs-postproc-") as tmp:
        folder = os.fspath(out) if out is not None else tmp
        argv = ["postproc"] + argv + ["--out", folder, "--json"]
        if not figures:
            argv.append("--no-plot")
        text, tables = _native.analyse(argv, frames)
    summary = _to_python(json.loads(text))
    if out is None:
        summary = _drop_paths(summary, tmp)  # the folder is gone
    for w in summary.get("warnings", []):
        warnings.warn(w, stacklevel=3)
    return cls(summary, {name: dict(cols) for name, cols in tables})


def _drop_paths(value: Any, folder: str) -> Any:
    """The summary without the entries naming files in ``folder``."""
    if isinstance(value, dict):
        return {k: _drop_paths(v, folder) for k, v in value.items()
                if not (isinstance(v, str) and v.startswith(folder))}
    if isinstance(value, list):
        return [_drop_paths(v, folder) for v in value]
    return value


def _opt(flag: str, value: Any) -> list[str]:
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    # one word: a negative value is not taken for a flag
    return [f"{flag}={value}"]


def _select(types, ids, by_type, keep: list) -> list[str]:
    args = []
    if types is not None:
        args += ["--types=" + ",".join(str(int(t)) for t in np.atleast_1d(types))]
    if ids is not None:
        if isinstance(ids, (str, os.PathLike)):
            path = os.fspath(ids)
        else:
            f = tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False)
            f.write("\n".join(str(int(i)) for i in ids) + "\n")
            f.close()
            keep.append(f.name)
            path = f.name
        args += ["--ids=" + path]
    return args + _opt("--by-type", by_type)


def _masses(mass: Mapping[int, float] | None) -> list[str]:
    if not mass:
        return []
    return ["--mass=" + ",".join(f"{int(t)}={float(m)!r}" for t, m in mass.items())]


def _source(traj: Trajectory, timed: bool) -> tuple[list[str], list]:
    if not isinstance(traj, Trajectory):
        raise TypeError(f"expected a Trajectory (postproc.read or Trajectory.from_arrays), got {type(traj).__name__}")
    frames = [] if traj._frames is None else [traj._frames]
    return traj._input_args() + (traj._time_args() if timed else []), frames


def _call(cls, command: str, traj: Trajectory, args: list[str], out, figures, keep=(),
          timed=True) -> Result:
    src, frames = _source(traj, timed)
    try:
        return _run(cls, [command] + src + args, frames, out, figures)
    finally:
        for k in keep:
            os.unlink(k)


def msd(traj: Trajectory, *, types=None, ids=None, by_type=False, fit_from=None, fit_to=None,
        blocks=None, out=None, figures=False) -> MsdResult:
    """Mean-squared displacement per axis and D per axis and plane (Å²/ps)
    with block-averaged errors, as ``postproc msd``.

    types:     only these atom types.
    ids:       only these atom ids (an iterable, or a file of ids/ranges a-b).
    by_type:   also report every type separately (``summary["groups"]``).
    fit_from:  start of the fit window, ps (default: a tenth of a time block).
    fit_to:    end of the fit window, ps (default: half a time block).
    blocks:    time blocks for the error of D (default 5, at least 2).
    out:       folder to write msd.csv/json too (default: none kept).
    figures:   also draw msd.png there.
    """
    keep: list = []
    args = _select(types, ids, by_type, keep) + _opt("--fit-from", fit_from) + _opt("--fit-to", fit_to) \
        + _opt("--blocks", blocks)
    return _call(MsdResult, "msd", traj, args, out, figures, keep)


def _vdos_args(temperature, mass, max_lag_ps) -> list[str]:
    return _opt("--temperature", temperature) + _masses(mass) + _opt("--max-lag-ps", max_lag_ps)


def vdos(traj: Trajectory, *, types=None, ids=None, by_type=False, temperature=None, mass=None,
         max_lag_ps=None, out=None, figures=False) -> VdosResult:
    """Velocity autocorrelation, vibrational density of states F(ν) (1/THz),
    D from F(0) and Green–Kubo (Å²/ps), as ``postproc vdos``.

    temperature: K; with ``mass`` F(ν) is normalised with m/kT (else kinetically).
    mass:        {type: g/mol}.
    max_lag_ps:  longest VACF lag, ps (default: 3 ps or a quarter of the run).
    Other keywords as in :func:`msd`.
    """
    keep: list = []
    args = _select(types, ids, by_type, keep) + _vdos_args(temperature, mass, max_lag_ps)
    return _call(VdosResult, "vdos", traj, args, out, figures, keep)


def diffusion(traj: Trajectory, *, types=None, ids=None, by_type=False, fit_from=None, fit_to=None,
              blocks=None, temperature=None, mass=None, max_lag_ps=None, out=None,
              figures=False) -> DiffusionResult:
    """MSD and VDOS in one pass over the frames, as ``postproc diffusion``;
    keywords as in :func:`msd` and :func:`vdos`."""
    keep: list = []
    args = _select(types, ids, by_type, keep) + _opt("--fit-from", fit_from) + _opt("--fit-to", fit_to) \
        + _opt("--blocks", blocks) + _vdos_args(temperature, mass, max_lag_ps)
    return _call(DiffusionResult, "diffusion", traj, args, out, figures, keep)


def rdf(traj: Trajectory, *, rmax=None, bins=None, out=None, figures=False) -> RdfResult:
    """Radial distribution functions g(r), partials per type pair and
    coordination numbers, as ``postproc rdf``.

    rmax: largest distance, Å (default: the smaller of 10 Å and half the narrowest box width).
    bins: number of bins (default 200).
    """
    args = _opt("--rmax", rmax) + _opt("--bins", bins)
    return _call(RdfResult, "rdf", traj, args, out, figures, timed=False)


def _lattice_args(lattice, a, smooth) -> list[str]:
    return _opt("--lattice", lattice) + _opt("--a", a) + _opt("--smooth", smooth)


def flux(traj: Trajectory, *, lattice=None, a=None, smooth=None, interval=None, t1=None, t2=None,
         r1=None, r2=None, subdiv=None, out=None, figures=False) -> FluxResult:
    """Flux maps and crossings per lattice line, as ``postproc flux``.

    lattice:  reference lattice (default "sc").
    a:        lattice constant, Å (default (V/N)^(1/3) of the first frame).
    smooth:   moving-average window of the positions, ps (default 1).
    interval: Δt of the crossing count, ps (default 1).
    t1, t2:   window, ps after the first frame (default 0 to the end).
    r1, r2:   cutoff radii of f_c, Å (default d/3, d/2; d the nearest-neighbour spacing).
    subdiv:   map grid points per lattice spacing (default 8).
    """
    args = _lattice_args(lattice, a, smooth) + _opt("--interval", interval) + _opt("--t1", t1) \
        + _opt("--t2", t2) + _opt("--r1", r1) + _opt("--r2", r2) + _opt("--subdiv", subdiv)
    return _call(FluxResult, "flux", traj, args, out, figures)


def chains(traj: Trajectory, *, lattice=None, a=None, smooth=None, capture=None, coincidence=None,
           window=None, min_length=None, cmsd=True, out=None, figures=False) -> ChainsResult:
    """Hops between lattice sites, cooperative chains, L turns, rings, the
    diffusive fraction and the cMSD, as ``postproc chains``.

    capture:     capture radius in nearest-neighbour distances (default 0.3).
    coincidence: hops at most this far apart belong to one chain, ps (default 0.5).
    window:      classification window of the diffusive fraction, ps (default 1).
    min_length:  shortest chain reported, atoms (default 2).
    cmsd:        compute the cMSD (False saves the memory of the trajectory).
    smooth:      moving-average window for hop detection, ps (default 0.5).
    lattice, a as in :func:`flux`.
    """
    args = _lattice_args(lattice, a, smooth) + _opt("--capture", capture) \
        + _opt("--coincidence", coincidence) + _opt("--window", window) \
        + _opt("--min-length", min_length) + _opt("--no-cmsd", not cmsd)
    return _call(ChainsResult, "chains", traj, args, out, figures)


def twopt(traj: Trajectory, *, temperature, mass=None, types=None, ids=None, by_type=False,
          max_lag_ps=None, out=None, figures=False) -> TwoptResult:
    """2PT fluidicity f_g, dimensionless diffusivity Δ and the gas/solid split
    of the VDOS (Lin, Blanco & Goddard, J. Chem. Phys. 119, 11792 (2003)),
    as ``postproc twopt``.

    temperature: K (required).
    mass:        {type: g/mol}; a type without a mass is normalised kinetically.
    Other keywords as in :func:`vdos`.
    """
    keep: list = []
    args = _select(types, ids, by_type, keep) + _vdos_args(temperature, mass, max_lag_ps)
    return _call(TwoptResult, "twopt", traj, args, out, figures, keep)


def arrhenius(runs: Iterable, *, types=None, ids=None, fit_from=None, fit_to=None, blocks=None,
              component=None, out=None, figures=False) -> ArrheniusResult:
    """Arrhenius fit ln D = ln D0 − Ea/kT over several runs, as ``postproc arrhenius``.

    runs:      ``(trajectory, T)`` pairs (T in K; D in Å²/ps from the MSD of
               the trajectory, as :func:`msd` computes it) and/or CSV files
               with columns T, D, D_err (any one unit of D). All trajectories
               share one time base (dt, timestep or log).
    component: which D: total (default), x, y, z, xy, xz or yz.
    Other keywords as in :func:`msd`.
    """
    run_args: list[str] = []
    frames: list = []
    time_args = None
    for run in runs:
        if isinstance(run, (str, os.PathLike)):
            run_args.append(os.fspath(run))
            continue
        traj, temp = run
        if not isinstance(traj, Trajectory):
            raise TypeError(f"a run is (Trajectory, T) or a CSV path, got {run!r}")
        mine = traj._time_args()
        if time_args is not None and mine != time_args:
            raise PostprocError(f"the runs have different time bases ({time_args} and {mine}): "
                                "arrhenius takes one for all")
        time_args = mine
        if traj.every != 1 or traj.max_frames is not None:
            raise PostprocError("arrhenius reads every frame of each run: drop every= and max_frames=")
        if traj._frames is not None:
            run_args.append(f"{_native.ARRAYS_RUN}{len(frames)}@{float(temp)!r}")
            frames.append(traj._frames)
        elif len(traj._paths) == 1:
            run_args.append(f"{traj._paths[0]}@{float(temp)!r}")
        else:
            raise PostprocError(f"a run of arrhenius is one dump (or one glob), got {traj._paths}")
    keep: list = []
    args = run_args + (time_args or []) + _select(types, ids, False, keep) + _opt("--fit-from", fit_from) \
        + _opt("--fit-to", fit_to) + _opt("--blocks", blocks) + _opt("--component", component)
    try:
        return _run(ArrheniusResult, ["arrhenius"] + args, frames, out, figures)
    finally:
        for k in keep:
            os.unlink(k)
