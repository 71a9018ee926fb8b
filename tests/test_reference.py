"""Self-checks of the independent Python reference (tests/reference.py) on the
shipped test models. Needs numpy, onnxruntime, onnx, pytest — no torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

import reference as ref

MODELS = Path(__file__).resolve().parent.parent / "models"
ANY = MODELS / "test-any-fp64.onnx"
TSEL = MODELS / "test-typesel-fp64.onnx"
F32 = MODELS / "test-any-fp32.onnx"


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


@pytest.fixture(scope="module")
def system():
    return ref.random_triclinic_system(seed=7, a=3.8, reps=(2, 2, 2), strain=0.1, rattle=0.15)


@pytest.fixture(scope="module")
def result(system):
    cell, pos, types = system
    return ref.evaluate(ANY, pos, types, cell)


def test_metadata_of_shipped_models():
    for path, nlist in [(ANY, "any"), (TSEL, "type_sel"), (F32, "any")]:
        m = ref.load_model(path)
        assert m.metadata["dprs.contract"] == "local-v1"
        assert m.type_map == ["O", "H"]
        assert m.rcut == 5.0
        assert m.nlist == nlist
        om = onnx.load(str(path))
        assert [i.name for i in om.graph.input] == ["rij", "nbr_type", "atype"]
        assert [o.name for o in om.graph.output] == ["atom_energy", "dE_drij"]
        dims = [d.dim_param or d.dim_value for d in om.graph.input[0].type.tensor_type.shape.dim]
        assert dims[0] and isinstance(dims[0], str) and isinstance(dims[1], str) and dims[2] == 3
        assert path.stat().st_size <= 5 * 1024 * 1024
    assert json.loads(ref.load_model(TSEL).metadata["dprs.sel"]) == ref.load_model(TSEL).sel
    assert ref.load_model(ANY).dtype is np.float64 and ref.load_model(F32).dtype is np.float32


def test_forces_match_finite_differences(system, result):
    cell, pos, types = system
    f = result["forces"]
    h = 1e-5
    rng = np.random.default_rng(1)
    errs = []
    for i in rng.choice(len(pos), 4, replace=False):
        for c in range(3):
            p = pos.copy(); p[i, c] += h
            m = pos.copy(); m[i, c] -= h
            fd = -(ref.evaluate(ANY, p, types, cell)["energy"]
                   - ref.evaluate(ANY, m, types, cell)["energy"]) / (2 * h)
            errs.append(abs(fd - f[i, c]))
    assert max(errs) / np.abs(f).max() < 1e-7
    assert np.abs(f).max() > 0.05  # a non-trivial configuration


def test_virial_matches_finite_strain(system, result):
    cell, pos, types = system
    h = 1e-6
    w9 = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            e = []
            for s in (h, -h):
                F = np.eye(3); F[a, b] += s  # row vectors: x' = x @ F
                e.append(ref.evaluate(ANY, pos @ F, types, cell @ F)["energy"])
            w9[a, b] = -(e[0] - e[1]) / (2 * h)
    assert rel(result["virial9"], w9) < 1e-7
    assert rel(result["virial"], [w9[a, b] for a, b in ref.VOIGT6]) < 1e-7
    # rotation invariance makes the virial symmetric
    assert rel(result["virial9"], result["virial9"].T) < 1e-12


def test_translation_and_wrapping_invariance(system, result):
    cell, pos, types = system
    r2 = ref.evaluate(ANY, pos + np.array([3.3, -17.1, 0.7]), types, cell)
    assert abs(r2["energy"] - result["energy"]) <= 1e-12 * abs(result["energy"])
    assert rel(r2["forces"], result["forces"]) < 1e-11
    assert rel(r2["virial"], result["virial"]) < 1e-11
    # move atoms by whole lattice vectors
    rng = np.random.default_rng(3)
    r3 = ref.evaluate(ANY, pos + rng.integers(-2, 3, (len(pos), 3)) @ cell, types, cell)
    assert rel(r3["forces"], result["forces"]) < 1e-11
    assert rel(r3["virial"], result["virial"]) < 1e-11


def test_any_and_type_sel_models_agree(system, result):
    cell, pos, types = system
    r2 = ref.evaluate(TSEL, pos, types, cell)
    assert r2["nnei"] == sum(ref.load_model(TSEL).sel)
    assert abs(r2["energy"] - result["energy"]) <= 1e-12 * abs(result["energy"])
    for k in ("forces", "virial", "atom_energy", "atom_virial", "atom_cvirial"):
        assert rel(r2[k], result[k]) < 1e-12, k


def test_padding_width_and_chunking_invariance(system, result):
    cell, pos, types = system
    r2 = ref.evaluate(ANY, pos, types, cell, pad_to=result["nnei"] + 37, chunk=5)
    assert rel(r2["atom_energy"], result["atom_energy"]) < 1e-13
    assert rel(r2["forces"], result["forces"]) < 1e-12


def test_per_atom_sums(result):
    assert abs(result["atom_energy"].sum() - result["energy"]) < 1e-12 * abs(result["energy"])
    assert rel(result["atom_virial"].sum(0), result["virial"]) < 1e-12
    c = result["atom_cvirial"].sum(0)
    w9 = result["virial9"]
    assert rel(c, [w9[a, b] for a, b in ref.VOIGT9]) < 1e-12
    assert np.abs(result["forces"].sum(0)).max() < 1e-11  # Newton's third law


def test_lammps_rotation_preserves_physics(system, result, tmp_path):
    cell, pos, types = system
    for reduce in (False, True):
        L, p, R = ref.to_lammps(cell, pos, reduce=reduce)
        assert np.allclose(np.triu(L, 1), 0.0) and np.all(np.diag(L) > 0)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-12) and np.linalg.det(R) > 0
        r2 = ref.evaluate(ANY, p, types, L)
        assert abs(r2["energy"] - result["energy"]) <= 1e-12 * abs(result["energy"])
        assert rel(r2["forces"], result["forces"] @ R) < 1e-11
        assert rel(r2["virial"], ref.rotate_virial6(result["virial"], R)) < 1e-11
        if reduce:
            assert abs(L[1, 0]) <= 0.5 * L[0, 0] + 1e-12
            assert abs(L[2, 0]) <= 0.5 * L[0, 0] + 1e-12
            assert abs(L[2, 1]) <= 0.5 * L[1, 1] + 1e-12
    # data file round trip
    path = tmp_path / "conf.data"
    L, p, R = ref.write_lammps_data(path, cell, pos, types, masses=[15.999, 1.008])
    d = ref.read_lammps_data(path)
    assert np.allclose(d["cell"], L, atol=1e-12, rtol=0)
    assert np.allclose(d["positions"], p, atol=1e-12, rtol=0)
    assert np.array_equal(d["types"], np.asarray(types) + 1)
    assert d["masses"] == {1: 15.999, 2: 1.008}


def test_rotation_invariance_of_model(system, result):
    cell, pos, types = system
    q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(3, 3)))
    r2 = ref.evaluate(ANY, pos @ q, types, cell @ q)
    assert abs(r2["energy"] - result["energy"]) <= 1e-12 * abs(result["energy"])
    assert rel(r2["forces"], result["forces"] @ q) < 1e-11


def test_images_in_small_skewed_cell():
    # one primitive fcc cell (1 atom, strongly skewed, rcut >> cell): every
    # neighbour is an image. Compare with a 3x2x4 supercell of the same crystal.
    a = 3.75
    prim = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    prim = prim @ np.array([[1, 0.02, 0], [0, 1, -0.03], [0.01, 0, 1]])
    pos = np.array([[0.1, 0.2, 0.3]])
    cell_s = np.diag([3, 2, 4]) @ prim
    grid = np.array([[i, j, k] for i in range(3) for j in range(2) for k in range(4)])
    pos_s = pos + grid @ prim
    for types, types_s in [([0], [0] * 24), ([1], [1] * 24)]:
        r1 = ref.evaluate(ANY, pos, types, prim)
        rs = ref.evaluate(ANY, pos_s, types_s, cell_s)
        assert r1["nnei"] >= 42  # 12 + 6 + 24 neighbours within 5 A, all images
        assert abs(rs["energy"] - 24 * r1["energy"]) < 1e-11 * abs(rs["energy"])
        assert rel(rs["virial"], 24 * r1["virial"]) < 1e-11
    # a two-atom, very skewed cell (tilt far beyond LAMMPS' half-box) vs its supercell
    cell = np.array([[2.7, 0, 0], [2.5, 2.6, 0], [-4.9, 3.1, 2.4]])
    pos = np.array([[0.0, 0.0, 0.0], [1.4, 1.2, 1.1]])
    types = np.array([0, 1])
    r1 = ref.evaluate(ANY, pos, types, cell)
    sup = np.diag([2, 3, 2]) @ cell
    g = np.array([[i, j, k] for i in range(2) for j in range(3) for k in range(2)])
    pos_s = (pos[None] + (g @ cell)[:, None]).reshape(-1, 3)
    rs = ref.evaluate(ANY, pos_s, np.tile(types, 12), sup)
    assert abs(rs["energy"] - 12 * r1["energy"]) < 1e-11 * abs(rs["energy"])
    assert rel(rs["forces"][:2], r1["forces"]) < 1e-10


def test_neighbour_list_against_naive_supercell():
    cell, pos, types = ref.random_triclinic_system(seed=11, reps=(1, 2, 1), strain=0.15)
    I, J, R = ref.neighbor_list(pos, cell, 5.0)
    # naive: explicit images in a generous box, no wrapping
    cnt = np.zeros(len(pos), dtype=int)
    rng = range(-6, 7)
    shifts = np.array([[a, b, c] for a in rng for b in rng for c in rng]) @ cell
    for i in range(len(pos)):
        d = pos[None, :, :] + shifts[:, None, :] - pos[i]
        r = np.linalg.norm(d, axis=-1)
        cnt[i] = int(((r < 5.0) & (r > 1e-9)).sum())
    assert np.array_equal(np.bincount(I, minlength=len(pos)), cnt)
    assert np.all(np.linalg.norm(R, axis=1) < 5.0)


def test_open_boundaries_and_cutoff():
    # a dimer in a huge non-periodic box: energy follows the pair distance only,
    # and is exactly the isolated-atom energy beyond rcut
    cell = np.eye(3) * 50.0
    types = [0, 1]
    e_far = ref.evaluate(ANY, [[0, 0, 0], [5.0, 0, 0]], types, cell, pbc=False)["energy"]
    e_iso = sum(ref.evaluate(ANY, [[0, 0, 0]], [t], cell, pbc=False)["energy"] for t in types)
    assert e_far == pytest.approx(e_iso, abs=1e-14)
    e_near = ref.evaluate(ANY, [[0, 0, 0], [4.999, 0, 0]], types, cell, pbc=False)["energy"]
    assert abs(e_near - e_iso) < 1e-6
    r = ref.evaluate(ANY, [[0, 0, 0], [2.7, 0.1, 0]], types, cell, pbc=False)
    assert np.abs(r["forces"].sum(0)).max() < 1e-12


def test_type_sel_overflow_is_reported():
    cell, pos = ref.fcc_supercell(3.75 * 0.62, (3, 3, 3))  # extreme compression
    types = np.zeros(len(pos), dtype=int)
    with pytest.raises(ValueError, match="capacity exceeded"):
        ref.evaluate(TSEL, pos, types, cell)
    r = ref.evaluate(TSEL, pos, types, cell, on_overflow="truncate")
    assert r["overflow"][0] > 0 and r["overflow"][1] == 0


def test_fp32_model_close_to_fp64(system, result):
    cell, pos, types = system
    r2 = ref.evaluate(F32, pos, types, cell)
    assert abs(r2["energy"] - result["energy"]) < 1e-5 * abs(result["energy"])
    assert rel(r2["forces"], result["forces"]) < 1e-4


def test_fcc_equilibrium_is_near_zero_pressure():
    # documented in docs/test-models.md: static equilibrium of random fcc near a = 3.673 A
    rng = np.random.default_rng(1)
    cell, pos = ref.fcc_supercell(1.0, (3, 3, 3))
    types = rng.integers(0, 2, len(pos))
    p = [ref.pressure_bar(ref.evaluate(ANY, pos * a, types, cell * a)["virial"], cell * a)
         for a in (3.65, 3.70)]
    assert p[0] > 0 > p[1]


def test_command_line_on_data_file(system, tmp_path, capsys):
    cell, pos, types = system
    path = tmp_path / "conf.data"
    L, p, R = ref.write_lammps_data(path, cell, pos, types)
    ref._main([str(ANY), str(path), "O", "H"])
    out = json.loads(capsys.readouterr().out)
    r = ref.evaluate(ANY, p, types, L)
    assert out["energy"] == pytest.approx(r["energy"], rel=1e-13)
    assert rel(out["forces"], r["forces"]) < 1e-12
    # swapping the element order of the LAMMPS types changes the system
    ref._main([str(ANY), str(path), "H", "O"])
    out2 = json.loads(capsys.readouterr().out)
    assert abs(out2["energy"] - out["energy"]) > 1e-3
