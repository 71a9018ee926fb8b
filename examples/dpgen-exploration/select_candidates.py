#!/usr/bin/env python3
"""DP-GEN's candidate selection on a model_devi.out (what its `fp` step does
with the exploration's output): frames with trust_lo <= max_devi_f < trust_hi
are candidates for labelling, below trust_lo accurate, at or above trust_hi failed.

  python3 select_candidates.py model_devi.out [--trust-lo 0.05] [--trust-hi 0.15]
"""
import argparse

import numpy as np


def read_model_devi(path):
    """Columns of DeePMD-kit's model_devi.out: step, max/min/avg_devi_v,
    max/min/avg_devi_f (eV/Å), then (with `atomic`) one column per atom."""
    a = np.loadtxt(path, ndmin=2)
    return {"step": a[:, 0].astype(int), "max_devi_v": a[:, 1], "min_devi_v": a[:, 2],
            "avg_devi_v": a[:, 3], "max_devi_f": a[:, 4], "min_devi_f": a[:, 5],
            "avg_devi_f": a[:, 6], "atomic": a[:, 7:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_devi", nargs="?", default="model_devi.out")
    ap.add_argument("--trust-lo", type=float, default=0.05)
    ap.add_argument("--trust-hi", type=float, default=0.15)
    a = ap.parse_args()
    d = read_model_devi(a.model_devi)
    f = d["max_devi_f"]
    acc = f < a.trust_lo
    fail = f >= a.trust_hi
    cand = ~acc & ~fail
    n = len(f)
    print(f"{n} frames: accurate {acc.sum()} ({100 * acc.mean():.1f} %), "
          f"candidate {cand.sum()} ({100 * cand.mean():.1f} %), failed {fail.sum()} ({100 * fail.mean():.1f} %)")
    print("candidate steps (dump traj/<step>.lammpstrj):", " ".join(map(str, d["step"][cand][:50])))


if __name__ == "__main__":
    main()
