"""The examples/ inputs run as documented, tiny and short: the DP-GEN-style
committee exploration (examples/dpgen-exploration) writes a model_devi.out that
parses the way DP-GEN reads it, and the chain-melting NVT input
(examples/chain-melting) and the ion-channel NPT input (examples/ion-channel)
run and dump what postproc needs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import harness
import reference
from test_plugin_deviation import perturbed

EXAMPLES = harness.ROOT / "examples"
SHIPPED = "cu-eam-standin.onnx"
# `make plugin-test` builds postproc and passes it here
POSTPROC = Path(os.environ.get("DPRS_POSTPROC", harness.ROOT / "build" / "bin" / "postproc"))


def postproc():
    assert POSTPROC.is_file(), f"{POSTPROC} missing: run `make postproc` or set DPRS_POSTPROC"
    return str(POSTPROC)


def lmp(inp, workdir, **var):
    cmd = [str(harness.LMP), "-nocite", "-log", "log.lammps", "-in", str(inp)]
    for k, v in var.items():
        cmd += ["-var", k, str(v)]
    proc = subprocess.run(cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc


def test_dpgen_exploration_committee(tmp_path):
    first = harness.model(SHIPPED)
    models = [first] + [perturbed(first, tmp_path / f"graph.00{k}.onnx", k, scale=0.05)
                        for k in (1, 2, 3)]
    steps, freq, nrep = 30, 10, 2
    lmp(EXAMPLES / "dpgen-exploration" / "in.explore", tmp_path,
        plugin=harness.PLUGIN, m0=models[0], m1=models[1], m2=models[2], m3=models[3],
        nrep=nrep, steps=steps, out_freq=freq, temp=900)
    text = (tmp_path / "model_devi.out").read_text().splitlines()
    assert text[0].startswith("#") and text[0].split()[1:8] == [
        "step", "max_devi_v", "min_devi_v", "avg_devi_v", "max_devi_f", "min_devi_f",
        "avg_devi_f"], text[0]
    sys.path.insert(0, str(EXAMPLES / "dpgen-exploration"))
    try:
        import select_candidates
    finally:
        sys.path.pop(0)
    d = select_candidates.read_model_devi(tmp_path / "model_devi.out")
    natoms = 4 * nrep ** 3
    assert list(d["step"]) == list(range(0, steps + 1, freq))
    assert d["atomic"].shape == (steps // freq + 1, natoms)
    for k in ("max_devi_f", "min_devi_f", "avg_devi_f", "max_devi_v"):
        assert np.all(np.isfinite(d[k])) and np.all(d[k] >= 0)
    assert np.all(d["max_devi_f"] > 0)  # perturbed members disagree
    assert np.all(d["min_devi_f"] <= d["avg_devi_f"]) and np.all(d["avg_devi_f"] <= d["max_devi_f"])
    assert np.allclose(d["atomic"].max(axis=1), d["max_devi_f"], rtol=1e-5)
    # one dumped frame per model_devi line, as DP-GEN expects
    frames = sorted(int(p.stem) for p in (tmp_path / "traj").glob("*.lammpstrj"))
    assert frames == list(d["step"])
    out = subprocess.run([sys.executable, str(EXAMPLES / "dpgen-exploration" / "select_candidates.py"),
                          str(tmp_path / "model_devi.out")], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    assert f"{steps // freq + 1} frames" in out


def test_chain_melting_tiny(tmp_path):
    """125-atom sc cell (nrep 5), a few steps, with the shipped stand-in model."""
    lmp(EXAMPLES / "chain-melting" / "in.chain-melting", tmp_path,
        plugin=harness.PLUGIN, model=harness.model(SHIPPED), element="Cu", mass=63.546,
        a=2.28, nrep=5, temp=900, equil=10, steps=40, every=4)
    dump = tmp_path / "dump.900K.lammpstrj"
    lines = dump.read_text().splitlines()
    heads = [i for i, ln in enumerate(lines) if ln.startswith("ITEM: ATOMS")]
    assert len(heads) == 11
    assert lines[heads[0]].split()[2:] == ["id", "type", "x", "y", "z", "ix", "iy", "iz",
                                          "vx", "vy", "vz"]
    n = int(lines[lines.index("ITEM: NUMBER OF ATOMS") + 1])
    assert n == 125
    rows = np.array([[float(v) for v in ln.split()] for ln in lines[heads[-1] + 1:heads[-1] + 1 + n]])
    assert np.all(np.isfinite(rows))
    assert list(rows[:, 0].astype(int)) == list(range(1, n + 1))  # sorted by id
    # the dump parses for postproc
    r = subprocess.run([postproc(), "msd", str(dump), "--timestep", "0.001", "--blocks", "2",
                        "--no-plot", "--json", "--out", str(tmp_path / "pp")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    d = json.loads(r.stdout)
    assert d["n_frames"] == 11 and d["n_atoms"] == 125, {k: d.get(k) for k in ("n_frames", "n_atoms")}
    assert np.isfinite(d["D"]["total"]["value"])


def test_ion_channel_tiny(tmp_path):
    """The generic NPT input runs from a data file and `postproc msd --by-type`
    gives per-species D in the a-b plane (xy) and along c (z)."""
    cell, pos, types = reference.random_triclinic_system(seed=5, a=3.615, reps=(3, 3, 3),
                                                         strain=0.0, rattle=0.05)
    types[:] = 0
    types[::9] = 1  # a second LAMMPS type, the same element: the "ions"
    reference.write_lammps_data(tmp_path / "channel.data", cell, pos, types,
                                masses=[63.546, 63.546])
    lmp(EXAMPLES / "ion-channel" / "in.ion-channel", tmp_path,
        plugin=harness.PLUGIN, model=harness.model(SHIPPED), data="channel.data",
        elements="Cu Cu", press=0, temp=1200, equil=10, steps=40, every=4)
    dump = tmp_path / "dump.0GPa.lammpstrj"
    assert dump.is_file()
    r = subprocess.run([postproc(), "msd", str(dump), "--by-type", "--timestep", "0.001",
                        "--blocks", "2", "--no-plot", "--json", "--out", str(tmp_path / "pp")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    groups = json.loads(r.stdout)["groups"]
    assert {"type1", "type2"} <= set(groups)
    for g in ("type1", "type2"):
        assert np.isfinite(groups[g]["D"]["xy"]["value"])
        assert np.isfinite(groups[g]["D"]["z"]["value"])
