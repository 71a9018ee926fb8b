"""`pair_style deepmd` (DeePMD-kit's own LAMMPS plugin, on the original
frozen model) and `pair_style dprs` (on its dprs-export conversion) in the
same lmp binary on the same input: identical thermo output for 100 NVT steps.

Needs the deepmd-kit wheel's libdeepmd_lmpplugin.so and TensorFlow: runs in
`make test-deepmd` (DPRS_DEEPMD_SITE = that venv's site-packages); skipped
elsewhere (CI has no TensorFlow)."""

import os
from pathlib import Path

import numpy as np
import pytest

import harness
import reference
from test_deepmd_export import FIXTURES, run_export

SITE = os.environ.get("DPRS_DEEPMD_SITE")
pytestmark = pytest.mark.skipif(not SITE, reason="DPRS_DEEPMD_SITE (deepmd-kit site-packages) not given")


def thermo(workdir, plugin, style, env=None):
    script = f"""
units metal
atom_style atomic
read_data conf.data
mass 1 63.546
mass 2 58.693
plugin load {plugin}
pair_style {style}
pair_coeff * * Cu Ni
velocity all create 800 5 mom yes rot yes
fix 1 all nvt temp 800 800 0.05
timestep 0.001
thermo 10
thermo_style custom step temp pe etotal press pxx pyy pzz pxy pxz pyz
run 100
"""
    proc = harness.run_lmp(script, workdir, env=env)
    return [ln.split() for ln in proc.stdout.splitlines()
            if len(ln.split()) == 11 and ln.split()[0].isdigit()]


@pytest.mark.parametrize("name", ["se_e2_a", "se_e2_a_two_side", "se_e2_r"])
def test_thermo_identical(tmp_path, name):
    site = Path(SITE)
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    reference.write_lammps_data(tmp_path / "conf.data", ref["cell1"], ref["pos1"], ref["types1"], ntypes=2)
    onnx_path = tmp_path / f"{name}.onnx"
    run_export(["deepmd", FIXTURES / f"{name}.json", "-o", onnx_path])
    libs = [site / "deepmd" / "lib", site / "tensorflow", site / "tensorflow" / "python", harness.VENV / "lib"]
    env = {"LD_LIBRARY_PATH": ":".join(map(str, libs)), "TF_CPP_MIN_LOG_LEVEL": "3"}
    theirs = thermo(tmp_path, site / "deepmd" / "lib" / "libdeepmd_lmpplugin.so",
                    f"deepmd {FIXTURES / (name + '.pb')}", env)
    ours = thermo(tmp_path, harness.PLUGIN, f"dprs {onnx_path}")
    assert len(theirs) == len(ours) == 11
    assert theirs == ours
