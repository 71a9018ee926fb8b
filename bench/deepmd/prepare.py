#!/usr/bin/env python3
"""Reference DeePMD-kit model for the speed benchmark, built in WORK:

  data      synthetic 1-type Cu fcc frames (rattled 4x4x4 cells, harmonic labels:
            the weights do not matter for a speed benchmark, the architecture does)
  train     `dp --tf train` (a few steps) + `dp --tf freeze`     -> model.pb
  compress  `dp --tf compress`                                   -> model-compressed.pb

Architecture: se_e2_a, rcut 6 Å, sel [100], embedding [25, 50, 100],
axis_neuron 16, fitting [240, 240, 240], float64.

Run with the deepmd-kit venv's Python:
  .venv-deepmd/bin/python bench/deepmd/prepare.py WORK [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

A0 = 3.615
RCUT, RCUT_SMTH, SEL = 6.0, 2.0, [100]


def fcc(reps, a):
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    g = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
    return ((g[:, None, :] + base[None]).reshape(-1, 3) * a)


def make_data(work: Path, nframes=10):
    rng = np.random.default_rng(2026)
    sysdir = work / "data" / "Cu256"
    (sysdir / "set.000").mkdir(parents=True, exist_ok=True)
    coords, boxes, energies, forces = [], [], [], []
    for _ in range(nframes):
        a = A0 * rng.uniform(0.98, 1.03)
        p0 = fcc((4, 4, 4), a)
        d = rng.normal(0, 0.08, p0.shape)
        k = 2.0
        coords.append((p0 + d).ravel())
        boxes.append((np.eye(3) * 4 * a).ravel())
        energies.append(-3.5 * len(p0) + 0.5 * k * (d ** 2).sum())
        forces.append((-k * d).ravel())
    (sysdir / "type.raw").write_text("0\n" * len(p0))
    (sysdir / "type_map.raw").write_text("Cu\n")
    for name, arr in (("coord", coords), ("box", boxes), ("energy", energies), ("force", forces)):
        np.save(sysdir / "set.000" / f"{name}.npy", np.array(arr))
    return sysdir


def run(cmd, cwd, env):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    (Path(cwd) / f"{Path(cmd[0]).name}-{cmd[2] if len(cmd) > 2 else ''}.log").write_text(r.stdout)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout[-4000:]}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work")
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args(argv)
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if (work / "model-compressed.pb").exists() and (work / "model.pb").exists():
        print(f"prepare: reusing {work}/model.pb and model-compressed.pb")
        return
    sysdir = make_data(work)
    inp = {
        "model": {
            "type_map": ["Cu"],
            "descriptor": {"type": "se_e2_a", "sel": SEL, "rcut": RCUT, "rcut_smth": RCUT_SMTH,
                           "neuron": [25, 50, 100], "axis_neuron": 16, "resnet_dt": False,
                           "type_one_side": True, "activation_function": "tanh",
                           "precision": "float64", "seed": 1},
            "fitting_net": {"neuron": [240, 240, 240], "resnet_dt": True,
                            "activation_function": "tanh", "precision": "float64", "seed": 1},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4,
                          "decay_steps": max(a.steps // 4, 1)},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1.0,
                 "start_pref_f": 1000, "limit_pref_f": 1.0},
        "training": {"training_data": {"systems": [str(sysdir)], "batch_size": 1},
                     "numb_steps": a.steps, "seed": 7, "disp_freq": max(a.steps // 2, 1),
                     "save_freq": a.steps, "disp_file": "lcurve.out"},
    }
    (work / "input.json").write_text(json.dumps(inp, indent=1))
    dp = str(Path(sys.executable).parent / "dp")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               DP_INTRA_OP_PARALLELISM_THREADS="2", DP_INTER_OP_PARALLELISM_THREADS="1",
               OMP_NUM_THREADS="2")
    run([dp, "--tf", "train", "input.json"], work, env)
    run([dp, "--tf", "freeze", "-o", "model.pb"], work, env)
    run([dp, "--tf", "compress", "-i", "model.pb", "-o", "model-compressed.pb"], work, env)
    print(f"prepare: {work}/model.pb, {work}/model-compressed.pb")


if __name__ == "__main__":
    main()
