"""The shipped stand-in model models/cu-eam-standin.onnx reproduces its EAM
teacher (Cu_u3.eam) on committed held-out teacher frames within the errors its
model card models/cu-eam-standin.md states (at most 2x the card's RMSE), and
runs in LAMMPS through pair_style dprs with the same energy as the reference."""

import re

import numpy as np
import pytest

import harness
import reference

NAME = "cu-eam-standin"
FRAMES = harness.ROOT / "tests" / "fixtures" / "shipped" / "heldout_frames.npz"
CARD = harness.ROOT / "models" / f"{NAME}.md"


def card_rmse():
    """(energy meV/atom, force meV/Å) RMSE stated in the card's summary line
    `RMSE vs teacher: energy X meV/atom, force Y meV/Å`."""
    m = re.search(r"RMSE vs teacher: energy ([\d.]+) meV/atom, force ([\d.]+) meV/Å",
                  CARD.read_text())
    assert m, "model card lacks its 'RMSE vs teacher: ...' line"
    return float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def errors():
    d = np.load(FRAMES)
    model = harness.model(f"{NAME}.onnx")
    de, df = [], []
    for cell, pos, e, f in zip(d["cells"], d["positions"], d["energies"], d["forces"]):
        r = reference.evaluate(model, pos, np.zeros(len(pos), dtype=np.int64), cell)
        de.append((r["energy"] - e) / len(pos))
        df.append(r["forces"] - f)
    return np.array(de) * 1e3, np.array(df) * 1e3, d


def test_model_metadata():
    m = reference.load_model(harness.model(f"{NAME}.onnx"))
    assert list(m.type_map) == ["Cu"]
    assert (harness.MODELS / f"{NAME}.onnx").stat().st_size <= 3 * 1024 * 1024


def test_energy_within_card(errors):
    de, _, d = errors
    e_card, _ = card_rmse()
    rmse = float(np.sqrt(np.mean(de ** 2)))
    assert rmse <= 2 * e_card, (rmse, e_card, de)


def test_forces_within_card(errors):
    _, df, d = errors
    _, f_card = card_rmse()
    rmse = float(np.sqrt(np.mean(df ** 2)))
    assert rmse <= 2 * f_card, (rmse, f_card)
    # and the model is far better than nothing: the teacher's forces are much larger
    assert rmse < 0.5 * np.sqrt(np.mean((d["forces"] * 1e3) ** 2))


def test_runs_in_lammps_like_reference(tmp_path):
    d = np.load(FRAMES)
    cell, pos = d["cells"][0], d["positions"][0]
    types = np.zeros(len(pos), dtype=np.int64)
    L, p, _ = reference.write_lammps_data(tmp_path / "conf.data", cell, pos, types, masses=[63.546])
    lmp = harness.new_lammps()
    harness.setup_system(lmp, tmp_path / "conf.data", harness.model(f"{NAME}.onnx"),
                         type_map=["Cu"], masses=[63.546])
    lmp.command("run 0")
    e = lmp.get_thermo("pe")
    f = harness.by_id(lmp, "f")
    lmp.close()
    r = reference.evaluate(harness.model(f"{NAME}.onnx"), p, types, L)
    assert abs(e - r["energy"]) < 1e-8 * len(p)
    assert np.max(np.abs(f - r["forces"])) < 1e-8
