#!/usr/bin/env python3
"""The GEMM rate this machine gives ONNX Runtime for the fitting net's shapes.

Builds a graph of the fitting net's matrix products alone -- forward
[N, 1600] x [1600, 240], [N, 240] x [240, 240] (twice), and the backward
products with the transposed weights -- in float64 and float32, runs it on one
intra-op thread and prints GFLOP/s and the time per atom, the floor a
fitting net of this size can reach on this machine with ONNX Runtime.

  .venv/bin/python bench/deepmd/gemm_rate.py [--atoms 512] [--reps 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(1600, 240), (240, 240), (240, 240)]


def graph(dtype):
    et = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for k, (i, o) in enumerate(SHAPES):
        w = numpy_helper.from_array((rng.normal(size=(i, o)) / np.sqrt(i)).astype(dtype), f"w{k}")
        inits.append(w)
        nodes.append(helper.make_node("MatMul", [x, f"w{k}"], [f"y{k}"]))
        nodes.append(helper.make_node("Tanh", [f"y{k}"], [f"h{k}"]))
        x = f"h{k}"
    g = x
    for k, (i, o) in reversed(list(enumerate(SHAPES))):
        wt = numpy_helper.from_array(numpy_helper.to_array(inits[k]).T.copy(), f"wt{k}")
        inits.append(wt)
        nodes.append(helper.make_node("MatMul", [g, f"wt{k}"], [f"g{k}"]))
        g = f"g{k}"
    m = helper.make_model(helper.make_graph(
        nodes, "fitting_gemms", [helper.make_tensor_value_info("x", et, ["n", 1600])],
        [helper.make_tensor_value_info(g, et, ["n", 1600])], inits),
        opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    return m.SerializeToString()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--atoms", type=int, default=512)
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    flops = 2 * 2 * sum(i * o for i, o in SHAPES)       # forward + backward, 2 flops per MAC
    for dtype in (np.float64, np.float32):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        s = ort.InferenceSession(graph(dtype), so, providers=["CPUExecutionProvider"])
        x = np.random.default_rng(1).normal(size=(a.atoms, 1600)).astype(dtype)
        s.run(None, {"x": x})
        t = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            s.run(None, {"x": x})
            t.append(time.perf_counter() - t0)
        best = min(t)
        print(f"{np.dtype(dtype).name}: {a.atoms} atoms, {flops * a.atoms / best / 1e9:.1f} GFLOP/s, "
              f"{best / a.atoms * 1e6:.2f} µs/atom (best of {a.reps}; median "
              f"{np.median(t) / a.atoms * 1e6:.2f})")


if __name__ == "__main__":
    main()
