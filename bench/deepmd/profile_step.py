#!/usr/bin/env python3
"""Where the time of a LAMMPS step goes: `perf record` (cpu-clock samples)
over `lmp` running bench/deepmd/in.cu8000 with one pair style, grouped into
stages by the sampled function's library and name.

  .venv/bin/python bench/deepmd/profile_step.py --pair "dprs M.onnx" --plugin LIB \\
      [--deepmd-site SITE] [--steps 10] [--out DIR]

Stages: dprs environments (neighbour lists into slots), dprs stage (the
compressed models' contraction and its backward), dprs other (accumulation,
bookkeeping), ORT GEMM (MLAS matrix kernels), ORT elementwise/other,
TensorFlow/DeePMD-kit (their libraries), libm/libc, LAMMPS, other.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

RULES = [
    ("dprs stage", lambda dso, sym: "libdprs" in dso and "stage" in sym),
    ("dprs environments", lambda dso, sym: "libdprs" in dso and "environments" in sym),
    ("dprs other", lambda dso, sym: "libdprs" in dso),
    ("ORT GEMM", lambda dso, sym: "onnxruntime" in dso and re.search(
        r"gemm|Gemm|GEMM|MlasSgemm|MlasDgemm|MlasGemm|Kernel", sym) is not None),
    ("ORT other", lambda dso, sym: "onnxruntime" in dso),
    ("DeePMD-kit / TensorFlow", lambda dso, sym: re.search(
        r"tensorflow|deepmd|_pywrap|libtensorflow", dso) is not None),
    ("libm / libc", lambda dso, sym: re.search(r"libm[.-]|libc[.-]|libmvec", dso) is not None),
    ("LAMMPS", lambda dso, sym: "lammps" in dso),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pair", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--deepmd-site", default=None)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "build" / "profile"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    venv = ROOT / ".venv"
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3",
               DP_INTRA_OP_PARALLELISM_THREADS="1", DP_INTER_OP_PARALLELISM_THREADS="1",
               CUDA_VISIBLE_DEVICES="")
    if a.deepmd_site:
        site = Path(a.deepmd_site)
        env["LD_LIBRARY_PATH"] = ":".join(map(str, [site / "deepmd" / "lib", site / "tensorflow",
                                                     site / "tensorflow" / "python",
                                                     venv / "lib"]))
    inp = out / "in.profile"
    inp.write_text(f"plugin load {a.plugin}\n" + (HERE / "in.cu8000").read_text())
    data = out / "perf.data"
    cmd = ["perf", "record", "-e", "cpu-clock", "-F", "499", "-o", str(data), "--",
           str(venv / "bin" / "lmp"), "-nocite", "-log", "none", "-in", str(inp),
           "-var", "pair", a.pair, "-var", "coeff", "Cu", "-var", "steps", str(a.steps),
           "-var", "warm", "1"]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                          "--sort", "dso,sym", "--percent-limit", "0"],
                         capture_output=True, text=True, check=True).stdout
    share = collections.Counter()
    top = []
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[^\]]*\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip()
        stage = next((name for name, rule in RULES if rule(dso, sym)), "other")
        share[stage] += pct
        top.append((pct, dso, sym))
    print(f"pair_style {a.pair.split()[0]} {Path(a.pair.split()[1]).name}: "
          f"{sum(share.values()):.1f} % of samples classified")
    for stage, pct in share.most_common():
        print(f"  {stage:26s} {pct:5.1f} %")
    print("  top functions:")
    for pct, dso, sym in sorted(top, reverse=True)[:8]:
        print(f"    {pct:5.1f} %  {Path(dso).name:28s} {sym[:70]}")


if __name__ == "__main__":
    sys.exit(main())
