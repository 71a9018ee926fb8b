"""Model deviation of a committee (DP-GEN's model_devi.out): values equal
DeePMD-kit's definitions evaluated independently (tests/reference.py per
model + numpy), DeePMD-kit's file layout, and the same file under MPI."""

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import harness
import reference

pytestmark = pytest.mark.reference

PRINTED = 1e-6  # %e prints 7 significant digits


def perturbed(src, dst, seed, scale=0.03):
    """A committee member: the same network with its weights perturbed."""
    m = onnx.load(str(src))
    rng = np.random.default_rng(seed)
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype.kind == "f" and a.size > 1:
            b = a * (1 + scale * rng.standard_normal(a.shape)).astype(a.dtype)
            init.CopyFrom(numpy_helper.from_array(b, init.name))
    onnx.save(m, str(dst))
    return dst


@pytest.fixture(scope="module")
def committee(tmp_path_factory):
    base = tmp_path_factory.mktemp("devi")
    first = harness.model("test-any-fp64.onnx")
    models = [first] + [perturbed(first, base / f"member{k}.onnx", k) for k in (1, 2, 3)]
    cell, pos, types = reference.random_triclinic_system(seed=8, reps=(3, 3, 3))
    data = base / "conf.data"
    L, p, _ = reference.write_lammps_data(data, cell, pos, types)
    return base, models, data, L, p, types


def expected(models, L, p, types, relative=None, relative_v=None):
    """DeePMD-kit's definitions, computed here from independent per-model
    evaluations."""
    refs = [reference.evaluate(m, p, types, L) for m in models]
    f = np.array([r["forces"] for r in refs])  # [M, N, 3]
    mean = f.mean(0)
    sigma = np.sqrt(((f - mean) ** 2).sum(-1).mean(0))
    if relative is not None:
        sigma = sigma / (np.linalg.norm(mean, axis=-1) + relative)
    v = np.array([r["virial9"].reshape(9) for r in refs]) / len(p)
    vs = v.std(0)
    if relative_v is not None:
        vs = vs / (np.abs(v.mean(0)) + relative_v)
    return np.array([vs.max(), vs.min(), np.sqrt((vs ** 2).mean()),
                     sigma.max(), sigma.min(), sigma.mean()]), sigma


def deviation_script(data, models, extra, steps=0):
    return f"""
units metal
atom_style atomic
read_data {data}
mass * 20.0
plugin load {harness.PLUGIN}
pair_style dprs {' '.join(str(m) for m in models)} {extra}
pair_coeff * * {' '.join(harness.TYPE_MAP)}
velocity all create 300 12345
fix 1 all nve
timestep 0.0005
run {steps}
"""


def read_devi(path):
    lines = path.read_text().splitlines()
    return lines[0], np.loadtxt(path, ndmin=2)


def test_values_equal_deepmd_definitions(committee, tmp_path):
    base, models, data, L, p, types = committee
    harness.run_lmp(deviation_script(data, models, "out_freq 1 out_file devi.out atomic"), tmp_path)
    header, rows = read_devi(tmp_path / "devi.out")
    assert header.split() == ["#", "step", "max_devi_v", "min_devi_v", "avg_devi_v",
                              "max_devi_f", "min_devi_f", "avg_devi_f", "atm_devi_f(N)"]
    assert rows.shape == (1, 7 + len(p))
    want, sigma = expected(models, L, p, types)
    got = rows[0]
    assert got[0] == 0
    assert np.all(np.abs(got[1:7] - want) <= PRINTED * np.abs(want)), (got[1:7], want)
    assert np.all(np.abs(got[7:] - sigma) <= PRINTED * np.abs(sigma) + 1e-300)
    assert want[3] > 1e-3, "the committee must actually disagree for this test to mean anything"


def test_relative_variants(committee, tmp_path):
    base, models, data, L, p, types = committee
    harness.run_lmp(deviation_script(data, models, "out_freq 1 out_file devi.out relative 1.0 relative_v 0.5"),
                    tmp_path)
    _, rows = read_devi(tmp_path / "devi.out")
    want, _ = expected(models, L, p, types, relative=1.0, relative_v=0.5)
    assert np.all(np.abs(rows[0][1:7] - want) <= PRINTED * np.abs(want))


def test_layout_frequency_and_dpgen_reading(committee, tmp_path):
    """Lines every out_freq steps, fixed-width columns as DeePMD-kit writes
    them, and what DP-GEN does with the file (np.loadtxt, column 4 =
    max_devi_f) works."""
    base, models, data, *_ = committee
    harness.run_lmp(deviation_script(data, models[:2], "out_freq 5", steps=20), tmp_path)
    text = (tmp_path / "model_devi.out").read_text().splitlines()
    assert text[0] == "#       step         max_devi_v         min_devi_v         avg_devi_v" \
                      "         max_devi_f         min_devi_f         avg_devi_f"
    for line in text[1:]:
        assert len(line) == 12 + 6 * 19
        assert line[12] == " " and line[13 + 18] == " "
    _, rows = read_devi(tmp_path / "model_devi.out")
    assert list(rows[:, 0]) == [0, 5, 10, 15, 20]
    max_devi_f = rows[:, 4]
    assert np.all(max_devi_f >= rows[:, 6]) and np.all(rows[:, 6] >= rows[:, 5])


@pytest.mark.mpi
def test_same_file_under_mpi(committee, tmp_path):
    base, models, data, *_ = committee
    files = []
    for nprocs in (1, 2):
        wd = tmp_path / f"np{nprocs}"
        wd.mkdir()
        harness.run_lmp(deviation_script(data, models, "out_freq 10 atomic", steps=20), wd, nprocs=nprocs)
        files.append(read_devi(wd / "model_devi.out")[1])
    assert files[0].shape == files[1].shape == (3, 7 + 108)
    assert np.all(np.abs(files[0] - files[1]) <= PRINTED * np.abs(files[0]))
