#!/usr/bin/env python3
"""Errors of dprs variants against a float64 reference export on the
benchmark's environments (rattled fcc Cu, type_sel layout):

  compare.py REF.onnx VARIANT.onnx [...] [--chunk 256] [--rattle 0.05]

Prints max |ΔE_i| / max |E_i - mean| ... and, for forces, the max over slots of
|Δ dE/drij| relative to the largest |dE/drij| (the per-pair force), which bounds
the relative error of every atom's force.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_ort import environments  # noqa: E402


def run(path, rij, nt, at):
    # the reference evaluator's model call: a staged (compressed) model's stage included
    from dprs_export.evaluate import run_model
    return run_model(path, rij, nt, at)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--rattle", type=float, default=0.05)
    a = ap.parse_args()
    import json
    md = {p.key: p.value for p in onnx.load(a.ref).metadata_props}
    rij, nt, at = environments(a.chunk, float(md["dprs.rcut"]), sum(json.loads(md["dprs.sel"])))
    e0, g0 = run(a.ref, rij, nt, at)
    # per-atom force of centre i from its own slots: F_i = sum_k g_ik (the
    # neighbours' reactions come from their own environments)
    f0 = g0.sum(1)
    for v in a.variants:
        e, g = run(v, rij, nt, at)
        f = g.sum(1)
        print(f"{Path(v).name}: atom energy max |ΔE|/|E| {np.abs(e - e0).max() / np.abs(e0).max():.2e}; "
              f"dE/drij max |Δ|/max|g| {np.abs(g - g0).max() / np.abs(g0).max():.2e}; "
              f"centre force sum_k g: max |ΔF|/max|F| {np.abs(f - f0).max() / np.abs(f0).max():.2e}")


if __name__ == "__main__":
    main()
