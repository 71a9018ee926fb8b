#!/usr/bin/env python3
"""ONNX Runtime alone on one chunk of the benchmark's environments: time per
call (µs/atom) and, with --profile, time per op type from ORT's profiler.

  profile_ort.py MODEL.onnx [MODEL2.onnx ...] [--chunk 500] [--reps 5] [--profile]

Environments: rattled fcc Cu (a = 3.615 Å), rcut from the model, type_sel
layout (nearest first, padded to sel), i.e. what pair_style dprs passes.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort


def environments(nloc, rcut, nnei, a=3.615, seed=0):
    rng = np.random.default_rng(seed)
    n = 8
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    g = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = ((g[:, None] + base[None]).reshape(-1, 3) * a) + rng.normal(0, 0.05, (4 * n ** 3, 3))
    L = n * a
    rij = np.zeros((nloc, nnei, 3))
    nt = -np.ones((nloc, nnei), np.int64)
    for i in range(nloc):
        d = pos - pos[i % len(pos)]
        d -= L * np.round(d / L)
        r = np.linalg.norm(d, axis=1)
        keep = np.argsort(r)
        keep = keep[(r[keep] > 0) & (r[keep] < rcut)][:nnei]
        rij[i, :len(keep)] = d[keep]
        nt[i, :len(keep)] = 0
    return rij, nt, np.zeros(nloc, np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args(argv)
    for path in a.models:
        m = onnx.load(path)
        md = {p.key: p.value for p in m.metadata_props}
        nnei = sum(json.loads(md["dprs.sel"]))
        rij, nt, at = environments(a.chunk, float(md["dprs.rcut"]), nnei)
        f32 = m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
        F = np.float32 if f32 else np.float64
        if "dprs.stage" in md:
            # a staged model's graph takes the stage's A (docs/model-contract.md §7),
            # formed here by the reference evaluator's stage; only the graph is timed
            from dprs_export import evaluate as ev
            st = json.loads(md["dprs.stage"])
            a_in, _ = ev.stage_forward(st, rij, nt, at)
            feed = {"cheb_a": a_in.astype(F), "atype": at}
        else:
            feed = {"rij": rij.astype(F), "nbr_type": nt, "atype": at}
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if a.profile:
            so.enable_profiling = True
            so.profile_file_prefix = str(Path(path).with_suffix("")) + "-prof"
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        s.run(None, feed)
        ts, cs = [], []
        for _ in range(a.reps):
            t0, c0 = time.perf_counter(), time.process_time()
            s.run(None, feed)
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        w, c = min(ts) / a.chunk * 1e6, min(cs) / a.chunk * 1e6
        print(f"{Path(path).name}: chunk {a.chunk} x {nnei}: best {w:.1f} wall-µs/atom, "
              f"{c:.1f} cpu-µs/atom (median wall {np.median(ts) / a.chunk * 1e6:.1f})")
        if a.profile:
            prof = s.end_profiling()
            ev = json.load(open(prof))
            by = collections.Counter()
            cnt = collections.Counter()
            for e in ev:
                if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
                    op = e["args"].get("op_name", "?")
                    by[op] += e["dur"]
                    cnt[op] += 1
            tot = sum(by.values())
            print(f"  per op type over {a.reps + 1} calls (total {tot / 1e3:.0f} ms):")
            for op, d in by.most_common(14):
                print(f"    {op:20s} {100 * d / tot:5.1f} %  ({cnt[op] // (a.reps + 1)} nodes/call)")
            Path(prof).unlink()


if __name__ == "__main__":
    main()
