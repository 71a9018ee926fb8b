#!/usr/bin/env python3
"""Accuracy of every benchmark variant against DeePMD-kit's DeepPot on the
uncompressed model: largest relative error in energy, forces and virial on
dprs-export's three periodic test configurations (rattled fcc supercells in a
triclinic cell, 3 pairs inside 1 Å of each other removed here: the benchmark
is about a crystal, and both compressions are tables above a minimum
distance) and on a 256-atom fcc Cu crystal rattled by 0.1 Å.

  PYTHONPATH=export .venv-deepmd/bin/python bench/deepmd/accuracy.py WORK \\
      model.pb model-compressed.pb dprs-f64.onnx dprs-mixed-compressed.onnx ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dprs_export import evaluate as ev
from dprs_export import verify as vf


def crystal(seed=5):
    rng = np.random.default_rng(seed)
    a = 3.615
    g = np.stack(np.meshgrid(*[np.arange(4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = ((g[:, None] + vf._FCC[None]).reshape(-1, 3) * a) + rng.normal(0, 0.1, (256, 3))
    return dict(cell=np.eye(3) * 4 * a, pos=pos, types=np.zeros(256, int))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work")
    ap.add_argument("reference", help="the uncompressed DeePMD-kit model (.pb)")
    ap.add_argument("models", nargs="+", help=".pb (DeepPot) or .onnx (dprs) files")
    a = ap.parse_args()
    from deepmd.infer import DeepPot
    configs = vf.make_configs(["Cu"], 6.0, [100], rmin=1.8) + [crystal()]
    refs = vf._eval_deeppot(DeepPot(a.reference), configs, ["Cu"])
    rows = []
    for m in a.models:
        if m.endswith(".pb"):
            got = vf._eval_deeppot(DeepPot(m), configs, ["Cu"])
            worst = {k: 0.0 for k in ("energy", "forces", "virial")}
            for g, r in zip(got, refs):
                worst["energy"] = max(worst["energy"],
                                      abs(g["energy"] - r["energy"]) / abs(r["energy"]))
                worst["forces"] = max(worst["forces"], vf._rel(g["forces"], r["forces"]))
                worst["virial"] = max(worst["virial"], vf._rel(g["virial9"], r["virial9"]))
        else:
            worst = vf.compare(ev.load_model(m), configs, refs)
        rows.append(dict(model=Path(m).name, **worst))
        print(f"{Path(m).name:32s} energy {worst['energy']:.1e}  forces {worst['forces']:.1e}  "
              f"virial {worst['virial']:.1e}", flush=True)
    Path(a.work, "accuracy.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
