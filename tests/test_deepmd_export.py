"""dprs-export of DeePMD-kit models vs DeePMD-kit's own evaluation.

Truth: deepmd.infer.DeepPot (deepmd-kit 3.2.0, TensorFlow backend) on the
ORIGINAL frozen models, stored with the configurations in
tests/fixtures/deepmd/<name>.ref.npz by export/fixtures/make_fixtures.py.

CI (no deepmd-kit, no TensorFlow): `dprs-export deepmd <name>.json` — the
model as DeePMD-kit's serialize() gave it, stored next to the .pb — then the
exported ONNX model is evaluated by tests/reference.py and by the plugin
inside LAMMPS, and both are compared with DeepPot's numbers.

`make test-deepmd` reruns this module on fixtures it has just regenerated
(training, freezing, DeepPot) and converts the .pb files themselves through
deepmd-kit (DPRS_DEEPMD_FIXTURES, DPRS_DEEPMD_INPUT=pb, DPRS_DEEPMD_EXPORT).
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import harness
import reference

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(os.environ.get("DPRS_DEEPMD_FIXTURES", ROOT / "tests" / "fixtures" / "deepmd"))
INPUT = os.environ.get("DPRS_DEEPMD_INPUT", "json")  # json | pb
TOL = 1e-8          # float64 export vs DeepPot (float64 models), relative
TOL32 = 2e-5        # float32 export vs DeepPot, relative to the largest component
VOIGT6 = reference.VOIGT6
MODELS = sorted(p.name[:-len(".ref.npz")] for p in FIXTURES.glob("*.ref.npz"))
DESCRIPTOR = {"se_e2_a": "se_e2_a", "se_e2_a_two_side": "se_e2_a", "se_e2_r": "se_e2_r"}


def export_cmd():
    """The dprs-export command: $DPRS_DEEPMD_EXPORT, else the console script
    installed next to this Python, else the package from export/."""
    if os.environ.get("DPRS_DEEPMD_EXPORT"):
        return shlex.split(os.environ["DPRS_DEEPMD_EXPORT"]), None
    script = Path(sys.executable).parent / "dprs-export"
    if script.exists():
        return [str(script)], None
    env = dict(os.environ, PYTHONPATH=str(ROOT / "export"))
    return [sys.executable, "-m", "dprs_export"], env


def run_export(args, check=True):
    cmd, env = export_cmd()
    p = subprocess.run(cmd + [str(a) for a in args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"dprs-export failed ({p.returncode}):\n{p.stdout}")
    return p


def relerr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def configs(ref):
    n = len([k for k in ref.files if k.startswith("cell")])
    for c in range(n):
        v9 = ref[f"virial{c}"].reshape(3, 3)
        yield dict(cell=ref[f"cell{c}"], pos=ref[f"pos{c}"], types=ref[f"types{c}"],
                   energy=float(ref[f"energy{c}"]), forces=ref[f"forces{c}"], virial9=v9,
                   virial=np.array([v9[a, b] for a, b in VOIGT6]),
                   atom_energy=ref[f"atom_energy{c}"],
                   atom_virial=ref[f"atom_virial{c}"].reshape(-1, 9))


@pytest.fixture(scope="module", params=MODELS)
def exported(request, tmp_path_factory):
    name = request.param
    src = FIXTURES / f"{name}.{INPUT}"
    assert src.exists(), f"{src} missing: run export/fixtures/make_fixtures.py"
    out = tmp_path_factory.mktemp("deepmd") / f"{name}.onnx"
    p = run_export(["deepmd", src, "-o", out])
    assert out.exists(), p.stdout
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    return name, out, ref


ERRORS = {}


def record(name, what, **errs):
    d = ERRORS.setdefault((name, what), {})
    for k, v in errs.items():
        d[k] = max(d.get(k, 0.0), v)


def test_fixtures_present():
    assert {"se_e2_a", "se_e2_a_two_side", "se_e2_r"} <= set(MODELS), MODELS


def test_metadata(exported):
    name, path, ref = exported
    m = onnx.load(str(path))
    md = {p.key: p.value for p in m.metadata_props}
    assert m.ir_version <= 10
    assert md["dprs.contract"] == "local-v1"
    assert md["dprs.nlist"] == "type_sel"
    assert json.loads(md["dprs.type_map"]) == ["Cu", "Ni"]
    # the fixture script's model definitions, as DeePMD-kit stored them
    sys.path.insert(0, str(ROOT / "export" / "fixtures"))
    import make_fixtures
    desc = make_fixtures.MODELS[name][0]
    assert json.loads(md["dprs.sel"]) == desc["sel"]
    assert float(md["dprs.rcut"]) == desc["rcut"]
    assert md["dprs.descriptor"] == DESCRIPTOR[name]
    version = str(ref["deepmd_version"])
    assert md["dprs.source"] == f"deepmd-kit {version} {DESCRIPTOR[name]}"
    assert [i.name for i in m.graph.input] == ["rij", "nbr_type", "atype"]
    assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_reference_matches_deeppot(exported):
    """The exported model, evaluated by the independent numpy reference
    (periodic triclinic, DeePMD's type_sel layout), vs DeepPot."""
    name, path, ref = exported
    for cfg in configs(ref):
        r = reference.evaluate(path, cfg["pos"], cfg["types"], cfg["cell"])
        e = dict(energy=abs(r["energy"] - cfg["energy"]) / abs(cfg["energy"]),
                 forces=relerr(r["forces"], cfg["forces"]),
                 virial=relerr(r["virial9"], cfg["virial9"]),
                 atom_energy=relerr(r["atom_energy"], cfg["atom_energy"]),
                 # DeepPot's atomic virial (row-major 3x3) is all of -g (x) rij on the
                 # neighbour j, i.e. our centroid virial (-rij (x) g, xx yy zz xy xz yz
                 # yx zx zy) transposed; pair_deepmd copies its [1] (xy) to cvatom[6]
                 # (yx) and so on, so LAMMPS sees the same cvatom from both plugins
                 atom_virial=relerr(r["atom_cvirial"][:, [0, 6, 7, 3, 1, 8, 4, 5, 2]],
                                    cfg["atom_virial"]))
        record(name, "reference", **e)
        for k, v in e.items():
            assert v < TOL, (name, k, v)


def test_lammps_matches_deeppot(exported, tmp_path):
    """pair_style dprs inside the real LAMMPS vs DeepPot."""
    name, path, ref = exported
    for c, cfg in enumerate(configs(ref)):
        data = tmp_path / f"conf{c}.data"
        # the configurations are in LAMMPS's restricted triclinic form already
        L, p, R = reference.write_lammps_data(data, cfg["cell"], cfg["pos"], cfg["types"], ntypes=2)
        assert np.allclose(L, cfg["cell"], rtol=0, atol=1e-12)
        lmp = harness.new_lammps()
        harness.setup_system(lmp, data, path, type_map=("Cu", "Ni"), masses=(63.546, 58.6934))
        lmp.commands_string("""
compute p_vir all pressure NULL virial
thermo_style custom step pe c_p_vir[1] c_p_vir[2] c_p_vir[3] c_p_vir[4] c_p_vir[5] c_p_vir[6]
run 0
""")
        from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR
        nktv2p = lmp.extract_global("nktv2p")
        vol = lmp.get_thermo("vol")
        virial = np.asarray(lmp.numpy.extract_compute("p_vir", LMP_STYLE_GLOBAL,
                                                      LMP_TYPE_VECTOR)).copy() * vol / nktv2p
        energy = lmp.get_thermo("pe")
        forces = harness.by_id(lmp, "f") @ R.T  # back to the stored frame (R ~ identity)
        lmp.close()
        e = dict(energy=abs(energy - cfg["energy"]) / abs(cfg["energy"]),
                 forces=relerr(forces, cfg["forces"]),
                 virial=relerr(virial, cfg["virial"]))
        record(name, "lammps", **e)
        for k, v in e.items():
            assert v < TOL, (name, k, v)


def test_float32_export(exported, tmp_path):
    name, _, ref = exported
    out = tmp_path / f"{name}-fp32.onnx"
    run_export(["deepmd", FIXTURES / f"{name}.{INPUT}", "-o", out, "--precision", "float32"])
    m = onnx.load(str(out))
    assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    for cfg in configs(ref):
        r = reference.evaluate(out, cfg["pos"], cfg["types"], cfg["cell"])
        e = dict(energy=abs(r["energy"] - cfg["energy"]) / abs(cfg["energy"]),
                 forces=relerr(r["forces"], cfg["forces"]),
                 virial=relerr(r["virial9"], cfg["virial9"]))
        record(name, "float32", **e)
        for k, v in e.items():
            assert v < TOL32, (name, k, v)


def test_report_errors():
    """Prints the max relative errors measured above (pytest -s shows them)."""
    for (name, what), d in sorted(ERRORS.items()):
        print(f"\n{name:18s} {what:9s} " + " ".join(f"{k}={v:.2e}" for k, v in d.items()))
