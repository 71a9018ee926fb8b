#!/usr/bin/env python3
"""Interleaved LAMMPS timing of pair_style deepmd (DeePMD-kit's own plugin) and
pair_style dprs on the same 8000-atom fcc Cu input (in.cu8000).

For every repeat and every rank count, each variant runs once, in the order
given (A B C A B C ...), so that slow phases of a shared machine hit all
variants alike. Per run: Loop time of the timed run (after a warm-up run),
LAMMPS's "% CPU use" (the share of a core each rank got), peak RSS of the
largest process (/usr/bin/time -v). Reported per variant and rank count:
median wall µs/step/atom, katom-step/s, core-µs/step/atom (wall × ranks ×
CPU share: the comparison that survives a noisy machine), peak RSS, and the
throughput ratio against deepmd-compressed and deepmd-plain (>1: dprs faster).

  bench.py --work DIR --deepmd-site SITE --dprs-plugin LIB \
      --variant NAME=deepmd:MODEL.pb --variant NAME=dprs:MODEL.onnx[:extra words] ...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_one(a, name, kind, model, extra, np_):
    venv = Path(a.venv)
    site = Path(a.deepmd_site)
    if kind == "deepmd":
        plugin = site / "deepmd" / "lib" / "libdeepmd_lmpplugin.so"
        pair = f"deepmd {model}"
    else:
        plugin = Path(a.dprs_plugin)
        pair = f"dprs {model} {extra}".strip()
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3",
               DP_INTRA_OP_PARALLELISM_THREADS="1", DP_INTER_OP_PARALLELISM_THREADS="1",
               TF_INTRA_OP_PARALLELISM_THREADS="1", TF_INTER_OP_PARALLELISM_THREADS="1",
               CUDA_VISIBLE_DEVICES="")
    if kind == "deepmd":
        libs = [site / "deepmd" / "lib", site / "tensorflow", site / "tensorflow" / "python",
                venv / "lib"]
        env["LD_LIBRARY_PATH"] = ":".join(map(str, libs + [os.environ.get("LD_LIBRARY_PATH", "")]))
    inp = Path(a.work) / f"in.{name}"
    inp.write_text(f"plugin load {plugin}\n" + (HERE / "in.cu8000").read_text())
    cmd = [str(venv / "bin" / "lmp"), "-nocite", "-log", "none", "-in", str(inp),
           "-var", "pair", pair, "-var", "coeff", "Cu", "-var", "steps", str(a.steps),
           "-var", "warm", str(a.warm)]
    for v, n in zip(("nx", "ny", "nz"), a.cells):
        cmd += ["-var", v, str(n)]
    if np_ > 1:
        cmd = [str(venv / "bin" / "mpirun"), "-np", str(np_)] + cmd
    cmd = ["/usr/bin/time", "-v"] + cmd
    la0 = loadavg()
    t0 = time.time()
    p = subprocess.run(cmd, cwd=a.work, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=a.timeout)
    out = p.stdout
    log = Path(a.work) / f"log.{name}.np{np_}"
    log.write_text(out)
    loops = re.findall(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                       out, re.M)
    cpu = re.findall(r"^(\S+)% CPU use with", out, re.M)
    rss = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", out)
    if p.returncode != 0 or not loops or not rss:
        raise SystemExit(f"{name} np={np_} failed ({p.returncode}), see {log}:\n{out[-3000:]}")
    loop, _, steps, natoms = loops[-1]
    loop, steps, natoms = float(loop), int(steps), int(natoms)
    share = float(cpu[-1]) / 100 if cpu else 1.0
    us = loop / steps / natoms * 1e6
    return dict(name=name, np=np_, wall_us=us, core_us=us * np_ * share, cpu_share=share,
                katom_steps=natoms * steps / loop / 1e3, rss_mb=int(rss[-1]) / 1024,
                natoms=natoms, steps=steps, load_before=la0, load_after=loadavg(),
                elapsed=time.time() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--venv", default=str(ROOT / ".venv"))
    ap.add_argument("--deepmd-site", required=True)
    ap.add_argument("--dprs-plugin", required=True)
    ap.add_argument("--variant", action="append", required=True,
                    help="NAME=deepmd:MODEL.pb or NAME=dprs:MODEL.onnx[:extra pair words]")
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--cells", default="20,10,10", help="fcc cells nx,ny,nz (4 atoms each)")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--json", default=None, help="append every run as a JSON line here")
    a = ap.parse_args(argv)
    a.cells = [int(x) for x in a.cells.split(",")]
    a.work = str(Path(a.work).resolve())
    Path(a.work).mkdir(parents=True, exist_ok=True)
    variants = []
    for v in a.variant:
        name, spec = v.split("=", 1)
        kind, rest = spec.split(":", 1)
        model, _, extra = rest.partition(":")
        variants.append((name, kind, str(Path(model).resolve()), extra))
    ranks = [int(r) for r in a.ranks.split(",")]
    results = []
    print(f"# start {time.strftime('%Y-%m-%d %H:%M:%S')} load {loadavg()}", flush=True)
    for rep in range(a.repeats):
        for np_ in ranks:
            for name, kind, model, extra in variants:
                r = run_one(a, name, kind, model, extra, np_)
                r["repeat"] = rep
                results.append(r)
                print(f"rep {rep} np {np_} {name:24s} {r['wall_us']:8.1f} wall-µs/step/atom "
                      f"{r['core_us']:8.1f} core-µs  cpu {r['cpu_share']:.2f}  "
                      f"RSS {r['rss_mb']:6.0f} MB  load {r['load_before']} -> {r['load_after']}",
                      flush=True)
                if a.json:
                    with open(a.json, "a") as fh:
                        fh.write(json.dumps(r) + "\n")
    print(f"# end {time.strftime('%Y-%m-%d %H:%M:%S')} load {loadavg()}")
    print()
    print(table(results, [v[0] for v in variants], ranks))


def table(results, names, ranks):
    def med(rows, key):
        return statistics.median(r[key] for r in rows)
    lines = ["| ranks | variant | wall µs/step/atom | core-µs/step/atom | katom-step/s | "
             "CPU share/rank | peak RSS/rank MB | throughput × vs deepmd-compressed (wall / core) "
             "| × vs deepmd-plain (wall / core) | runs |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for np_ in ranks:
        rows = {n: [r for r in results if r["name"] == n and r["np"] == np_] for n in names}
        ref = {k: rows.get(k) for k in ("deepmd-compressed", "deepmd-plain")}
        for n in names:
            rs = rows[n]
            if not rs:
                continue
            w, c = med(rs, "wall_us"), med(rs, "core_us")
            ratios = []
            for k in ("deepmd-compressed", "deepmd-plain"):
                if ref[k]:
                    ratios.append(f"{med(ref[k], 'wall_us') / w:.2f} / {med(ref[k], 'core_us') / c:.2f}")
                else:
                    ratios.append("–")
            lines.append(f"| {np_} | {n} | {w:.1f} | {c:.1f} | {med(rs, 'katom_steps'):.2f} | "
                         f"{med(rs, 'cpu_share'):.2f} | {max(r['rss_mb'] for r in rs):.0f} | "
                         f"{ratios[0]} | {ratios[1]} | {len(rs)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
