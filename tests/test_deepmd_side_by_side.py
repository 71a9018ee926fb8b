"""`pair_style deepmd` (DeePMD-kit's own LAMMPS plugin, on the original
frozen model) and `pair_style dprs` (on its dprs-export conversion) in the
same lmp binary on the same input: identical thermo output for 100 NVT steps.

Every fixture model, TensorFlow (.pb) and PyTorch (.pth) trained. Needs the
deepmd-kit wheel's libdeepmd_lmpplugin.so, TensorFlow and torch: an extended
test, run by `make test-deepmd` (DPRS_DEEPMD_SITE = that venv's
site-packages); `make test` deselects it. torch's CUDA wheel loads its own
libcudart.so.13 lazily, after DeePMD-kit's PyTorch backend needs it, so it is
preloaded."""

import os
from pathlib import Path

import numpy as np
import pytest

import harness
import reference
from test_deepmd_export import FIXTURES, MODELS, original, run_export

SITE = os.environ.get("DPRS_DEEPMD_SITE")


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


@pytest.mark.parametrize("name", MODELS)
def test_thermo_identical(tmp_path, name):
    assert SITE, "DPRS_DEEPMD_SITE (the deepmd-kit venv's site-packages) is not set: run make test-deepmd"
    site = Path(SITE)
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    reference.write_lammps_data(tmp_path / "conf.data", ref["cell1"], ref["pos1"], ref["types1"], ntypes=2)
    onnx_path = tmp_path / f"{name}.onnx"
    run_export(["deepmd", FIXTURES / f"{name}.json", "-o", onnx_path])
    libs = [site / "deepmd" / "lib", site / "tensorflow", site / "tensorflow" / "python",
            site / "torch" / "lib", harness.VENV / "lib"]
    env = {"LD_LIBRARY_PATH": ":".join(map(str, libs)), "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": "",
           "LD_PRELOAD": str(site / "nvidia" / "cu13" / "lib" / "libcudart.so.13")}
    theirs = thermo(tmp_path, site / "deepmd" / "lib" / "libdeepmd_lmpplugin.so",
                    f"deepmd {original(name)}", env)
    ours = thermo(tmp_path, harness.PLUGIN, f"dprs {onnx_path}")
    assert len(theirs) == len(ours) == 11
    assert theirs == ours
