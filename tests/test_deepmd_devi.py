"""The model deviation of a committee of converted DeePMD-kit models, written
by pair_style dprs inside LAMMPS, equals DeePMD-kit's own
(deepmd.infer.model_devi.calc_model_devi on the ORIGINAL frozen models,
stored in tests/fixtures/deepmd/committee_devi.npz by
export/fixtures/make_devi_fixture.py), to the printed precision."""

import numpy as np
import pytest

import harness
import reference
from test_deepmd_export import FIXTURES, run_export, source

PRINTED = 1e-6  # model_devi.out holds 7 significant digits
TYPE_MAP = ("Cu", "Ni")
MASSES = (63.546, 58.693)


@pytest.fixture(scope="module")
def committee(tmp_path_factory):
    ref_path = FIXTURES / "committee_devi.npz"
    assert ref_path.exists(), "run export/fixtures/make_devi_fixture.py with deepmd-kit"
    ref = np.load(ref_path)
    base = tmp_path_factory.mktemp("committee")
    onnx_paths = []
    for name in ref["members"]:
        out = base / f"{name}.onnx"
        run_export(["deepmd", source(name), "-o", out])
        onnx_paths.append(out)
    return ref, onnx_paths, np.load(FIXTURES / f"{ref['members'][0]}.ref.npz")


def run_committee(workdir, data, models, extra):
    masses = "\n".join(f"mass {k + 1} {m}" for k, m in enumerate(MASSES))
    script = f"""
units metal
atom_style atomic
read_data {data}
{masses}
plugin load {harness.PLUGIN}
pair_style dprs {' '.join(str(m) for m in models)} out_freq 1 out_file devi.out {extra}
pair_coeff * * {' '.join(TYPE_MAP)}
run 0
"""
    harness.run_lmp(script, workdir)
    return np.loadtxt(workdir / "devi.out", ndmin=2)[0]


@pytest.mark.parametrize("config", [0, 1, 2])
@pytest.mark.parametrize("variant,extra", [("plain", "atomic"), ("relative", "relative 1.0 relative_v 0.5")])
def test_deviation_equals_deepmd(committee, tmp_path, config, variant, extra):
    ref, models, conf = committee
    data = tmp_path / "conf.data"
    L, p, R = reference.write_lammps_data(data, conf[f"cell{config}"], conf[f"pos{config}"],
                                          conf[f"types{config}"], ntypes=2)
    assert np.allclose(R, np.eye(3), atol=1e-14), "fixture cells are in LAMMPS form: no rotation"
    got = run_committee(tmp_path, data, models, extra)
    want = ref[f"{variant}{config}"][0]
    # DeePMD-kit's row: step, max/min/avg_devi_v, max/min/avg_devi_f, devi_e[, per atom].
    # relative_v: DeePMD-kit disagrees with itself. Its LAMMPS plugin (what
    # writes model_devi.out during DP-GEN exploration, and what dprs follows)
    # divides each component's deviation by |mean component| + E; its Python
    # calc_model_devi_v divides by the norm of the whole mean tensor + E. So
    # with relative_v only the force columns are compared here; the virial
    # columns are checked against the plugin definition in
    # test_plugin_deviation.py.
    cols = np.r_[1:7] if variant == "plain" else np.r_[4:7]
    assert np.all(np.abs(got[cols] - want[cols]) <= PRINTED * np.abs(want[cols])), (got[cols], want[cols])
    if variant == "plain":
        per_atom_got, per_atom_want = got[7:], want[8:]
        assert len(per_atom_got) == len(per_atom_want) == len(p)
        assert np.all(np.abs(per_atom_got - per_atom_want) <= PRINTED * np.abs(per_atom_want) + 1e-12)
