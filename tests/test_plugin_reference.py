"""pair_style dprs inside the real LAMMPS vs the independent Python
reference (tests/reference.py: onnxruntime + its own periodic neighbour
search): energies, forces, global and per-atom virials."""

import numpy as np
import pytest

import harness
import reference

pytestmark = pytest.mark.reference

TOL = 1e-10


def relerr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def lammps_state(lmp):
    """Energy, forces, virial (eV) and per-atom quantities after `run 0`."""
    lmp.commands_string(
        """
compute pe_atom all pe/atom
compute s_atom all stress/atom NULL virial
compute cs_atom all centroid/stress/atom NULL virial
compute p_vir all pressure NULL virial
thermo_style custom step pe c_p_vir[1] c_p_vir[2] c_p_vir[3] c_p_vir[4] c_p_vir[5] c_p_vir[6]
run 0
"""
    )
    from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR

    nktv2p = lmp.extract_global("nktv2p")
    vol = lmp.get_thermo("vol")
    pressure = np.asarray(lmp.numpy.extract_compute("p_vir", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)).copy()
    nlocal = lmp.extract_global("nlocal")
    order = np.argsort(np.asarray(lmp.numpy.extract_atom("id"))[:nlocal])

    def atom(name, kind):
        return np.asarray(lmp.numpy.extract_compute(name, LMP_STYLE_ATOM, kind))[:nlocal][order].copy()

    return dict(
        energy=lmp.get_thermo("pe"),
        forces=harness.by_id(lmp, "f"),
        virial=pressure * vol / nktv2p,
        atom_energy=atom("pe_atom", LMP_TYPE_VECTOR),
        # stress/atom reports -(per-atom virial) in pressure*volume units
        atom_virial=-atom("s_atom", LMP_TYPE_ARRAY) / nktv2p,
        atom_cvirial=-atom("cs_atom", LMP_TYPE_ARRAY) / nktv2p,
    )


@pytest.fixture(scope="module")
def configuration(tmp_path_factory):
    """A rattled, strained, rotated 2-type fcc supercell in a general
    triclinic cell; written in LAMMPS's restricted form."""
    cell, pos, types = reference.random_triclinic_system(seed=3, reps=(3, 3, 3))
    data = tmp_path_factory.mktemp("ref") / "conf.data"
    L, p, _ = reference.write_lammps_data(data, cell, pos, types)
    return data, L, p, types


@pytest.mark.parametrize("name", ["test-any-fp64.onnx", "test-typesel-fp64.onnx"])
def test_plugin_matches_reference(configuration, name):
    data, L, p, types = configuration
    path = harness.model(name)
    ref = reference.evaluate(path, p, types, L)
    lmp = harness.new_lammps()
    harness.setup_system(lmp, data, path)
    got = lammps_state(lmp)
    lmp.close()

    assert abs(got["energy"] - ref["energy"]) / abs(ref["energy"]) < TOL
    assert relerr(got["forces"], ref["forces"]) < TOL
    assert relerr(got["virial"], ref["virial"]) < TOL
    assert relerr(got["atom_energy"], ref["atom_energy"]) < TOL
    assert relerr(got["atom_virial"], ref["atom_virial"]) < TOL
    assert relerr(got["atom_cvirial"], ref["atom_cvirial"]) < TOL


def test_per_atom_sums_equal_globals(configuration):
    """Σ eatom = E, Σ vatom = Σ cvatom = W, with LAMMPS's own reductions."""
    data, *_ = configuration
    lmp = harness.new_lammps()
    harness.setup_system(lmp, data, harness.model("test-any-fp64.onnx"))
    got = lammps_state(lmp)
    lmp.close()
    scale = np.max(np.abs(got["virial"]))
    assert abs(got["atom_energy"].sum() - got["energy"]) < TOL * abs(got["energy"])
    assert np.max(np.abs(got["atom_virial"].sum(0) - got["virial"])) < TOL * scale
    assert np.max(np.abs(got["atom_cvirial"].sum(0)[:6] - got["virial"])) < TOL * scale
    # the centroid virial's lower triangle mirrors the upper one in total
    assert np.max(np.abs(got["atom_cvirial"].sum(0)[6:] - got["virial"][3:])) < 1e-8 * scale


def test_chunking_does_not_change_results(configuration):
    """Padding width differs per chunk for an `any` model; the result must not."""
    data, *_ = configuration
    results = []
    for chunk in (1000, 7):
        lmp = harness.new_lammps()
        harness.setup_system(lmp, data, harness.model("test-any-fp64.onnx"), f"chunk {chunk}")
        results.append(lammps_state(lmp))
        lmp.close()
    assert abs(results[0]["energy"] - results[1]["energy"]) < TOL * abs(results[0]["energy"])
    assert relerr(results[1]["forces"], results[0]["forces"]) < TOL


def test_fp32_model_close_to_fp64(configuration):
    """The fp32 export runs through the same path, to fp32 accuracy."""
    data, L, p, types = configuration
    path = harness.model("test-any-fp32.onnx")
    ref = reference.evaluate(path, p, types, L)
    lmp = harness.new_lammps()
    harness.setup_system(lmp, data, path)
    got = lammps_state(lmp)
    lmp.close()
    # both sides feed the same fp32 rij to the same graph
    assert abs(got["energy"] - ref["energy"]) / abs(ref["energy"]) < 1e-6
    assert relerr(got["forces"], ref["forces"]) < 1e-4
