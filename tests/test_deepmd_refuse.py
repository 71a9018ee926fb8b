"""dprs-export refuses, with a message naming the feature, every DeePMD-kit
model it cannot reproduce exactly (instead of writing a wrong model).

The models are committed fixtures (DeePMD-kit's serialized form: se_e2_a, or
se_atten for its own options) with one feature switched on, as DeePMD-kit
would serialize it."""

import copy
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from test_deepmd_export import FIXTURES, ROOT, run_export


def _load(name="se_e2_a"):
    with open(FIXTURES / f"{name}.json") as fh:
        return json.load(fh)


def _set(path, value):
    def f(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def _davg_nonzero(d):
    v = d["model"]["descriptor"]["@variables"]["davg"]
    v["value"] = [[[0.1, 0.0, 0.0, 0.0] for _ in slot] for slot in v["value"]]


CASES = [
    ("dpa2", _set(["model", "descriptor", "type"], "dpa2"), "DPA-2 (message passing"),
    ("dpa3", _set(["model", "descriptor", "type"], "dpa3"), "DPA-3 (message passing"),
    ("hybrid", _set(["model", "descriptor", "type"], "hybrid"), "a hybrid descriptor is not"),
    ("se_e3", _set(["model", "descriptor", "type"], "se_e3"), "se_e3 (three-body embedding)"),
    ("tebd", _set(["model", "type_embedding"], {"neuron": [8]}),
     "a model-level type_embedding with descriptor 'se_e2_a'"),
    ("fparam", _set(["model", "fitting", "numb_fparam"], 2), "fparam/aparam"),
    ("aparam", _set(["model", "fitting", "numb_aparam"], 1), "fparam/aparam"),
    ("dipole", _set(["model", "fitting", "type"], "dipole"), "fitting 'dipole' is not supported"),
    ("polar", _set(["model", "fitting", "type"], "polar"), "fitting 'polar' is not supported"),
    ("zbl", _set(["model", "type"], "zbl"), "a DP/ZBL model (DP + ZBL pair table) is not"),
    ("spin", _set(["model", "spin"], {"use_spin": [True, False]}), "spin models"),
    ("exclude", _set(["model", "descriptor", "exclude_types"], [[0, 1]]), "exclude_types"),
    ("pair_exclude", _set(["model", "pair_exclude_types"], [[0, 0]]), "exclude_types"),
    ("atom_ener", _set(["model", "fitting", "atom_ener"], [0.5, None]), "atom_ener"),
    ("exp_switch", _set(["model", "descriptor", "env_mat", "use_exp_switch"], True),
     "use_exp_switch"),
    ("silut", lambda d: d["model"]["fitting"]["nets"]["networks"][0]["layers"][0].update(
        activation_function="silut:3.0"), "activation function 'silut:3.0'"),
    # se_atten's own options
    ("tf_attention", _set(["model", "descriptor", "attn_layer"], 2),
     "se_atten/DPA-1 with attn_layer = 2 trained with TensorFlow: its attention is not "
     "supported yet"),
    ("lmax", _set(["model", "descriptor", "lmax"], 2), "lmax = 2"),
    ("davg_concat", _davg_nonzero, "with set_davg_zero = false"),
    ("econf", _set(["model", "descriptor", "use_econf_tebd"], True), "use_econf_tebd"),
]
BASE = {"tf_attention": "tf_se_atten", "lmax": "pt_se_atten_attn2",
        "davg_concat": "pt_se_atten_attn2", "econf": "pt_se_atten"}


@pytest.mark.parametrize("label,edit,message", CASES, ids=[c[0] for c in CASES])
def test_refused_with_message(tmp_path, label, edit, message):
    d = copy.deepcopy(_load(BASE.get(label, "se_e2_a")))
    edit(d)
    src = tmp_path / f"{label}.json"
    src.write_text(json.dumps(d))
    out = tmp_path / f"{label}.onnx"
    p = run_export(["deepmd", src, "-o", out], check=False)
    assert p.returncode == 2, p.stdout
    assert "unsupported DeePMD-kit model" in p.stdout and message in p.stdout, p.stdout
    assert not out.exists()


@pytest.mark.parametrize("name,descriptor", [("se_e2_a", "se_e2_a"), ("pt_se_atten", "se_atten")])
def test_unmodified_fixture_converts(tmp_path, name, descriptor):
    """The control: the same file without the edit is accepted."""
    src = tmp_path / "ok.json"
    src.write_text(json.dumps(_load(name)))
    p = run_export(["deepmd", src, "-o", tmp_path / "ok.onnx"])
    assert f"deepmd-kit 3.2.0 {descriptor}" in p.stdout


def test_compress_refuses_se_atten(tmp_path):
    out = tmp_path / "c.onnx"
    p = run_export(["deepmd", FIXTURES / "pt_se_atten.json", "-o", out, "--compress"],
                   check=False)
    assert p.returncode == 2 and "--compress is not supported for se_atten" in p.stdout, p.stdout
    assert not out.exists()


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
