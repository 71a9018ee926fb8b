"""dprs-export refuses, with a message naming the feature, every DeePMD-kit
model it cannot reproduce exactly (instead of writing a wrong model).

The models are the committed se_e2_a fixture (DeePMD-kit's serialized form)
with one feature switched on, as DeePMD-kit would serialize it."""

import copy
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from test_deepmd_export import FIXTURES, ROOT, run_export


def _load():
    with open(FIXTURES / "se_e2_a.json") as fh:
        return json.load(fh)


def _set(path, value):
    def f(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


CASES = [
    ("dpa2", _set(["model", "descriptor", "type"], "dpa2"), "descriptor 'dpa2' is not supported"),
    ("se_atten", _set(["model", "descriptor", "type"], "se_atten"),
     "descriptor 'se_atten' is not supported"),
    ("hybrid", _set(["model", "descriptor", "type"], "hybrid"), "descriptor 'hybrid'"),
    ("fparam", _set(["model", "fitting", "numb_fparam"], 2), "fparam/aparam"),
    ("aparam", _set(["model", "fitting", "numb_aparam"], 1), "fparam/aparam"),
    ("dipole", _set(["model", "fitting", "type"], "dipole"), "fitting 'dipole' is not supported"),
    ("zbl", _set(["model", "type"], "zbl"), "model type 'zbl'"),
    ("exclude", _set(["model", "descriptor", "exclude_types"], [[0, 1]]), "exclude_types"),
    ("pair_exclude", _set(["model", "pair_exclude_types"], [[0, 0]]), "exclude_types"),
    ("atom_ener", _set(["model", "fitting", "atom_ener"], [0.5, None]), "atom_ener"),
    ("exp_switch", _set(["model", "descriptor", "env_mat", "use_exp_switch"], True),
     "use_exp_switch"),
    ("silut", lambda d: d["model"]["fitting"]["nets"]["networks"][0]["layers"][0].update(
        activation_function="silut:3.0"), "activation function 'silut:3.0'"),
]


@pytest.mark.parametrize("label,edit,message", CASES, ids=[c[0] for c in CASES])
def test_refused_with_message(tmp_path, label, edit, message):
    d = copy.deepcopy(_load())
    edit(d)
    src = tmp_path / f"{label}.json"
    src.write_text(json.dumps(d))
    out = tmp_path / f"{label}.onnx"
    p = run_export(["deepmd", src, "-o", out], check=False)
    assert p.returncode == 2, p.stdout
    assert "unsupported DeePMD-kit model" in p.stdout and message in p.stdout, p.stdout
    assert not out.exists()


def test_unmodified_fixture_converts(tmp_path):
    """The control: the same file without the edit is accepted."""
    src = tmp_path / "ok.json"
    src.write_text(json.dumps(_load()))
    p = run_export(["deepmd", src, "-o", tmp_path / "ok.onnx"])
    assert "deepmd-kit 3.2.0 se_e2_a" in p.stdout


@pytest.mark.skipif(importlib.util.find_spec("deepmd") is not None,
                    reason="deepmd-kit is installed here")
def test_pb_without_deepmd_says_what_is_missing(tmp_path):
    # this Python (no deepmd-kit), whatever DPRS_DEEPMD_EXPORT says
    env = dict(os.environ, PYTHONPATH=str(ROOT / "export"))
    p = subprocess.run([sys.executable, "-m", "dprs_export", "deepmd", str(FIXTURES / "se_e2_a.pb"),
                        "-o", str(tmp_path / "x.onnx")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
    assert p.returncode != 0
    assert "needs deepmd-kit" in p.stdout, p.stdout
