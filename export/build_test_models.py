#!/usr/bin/env python3
"""Build, export and verify the shipped dprs test models.

    python export/build_test_models.py --out models/

(run with a Python that has torch, onnx, onnxscript, onnxruntime, numpy — see
export/requirements.txt). Writes

    test-any-fp64.onnx      dprs.nlist=any       float64
    test-typesel-fp64.onnx  dprs.nlist=type_sel  float64 (same weights)
    test-any-fp32.onnx      dprs.nlist=any       float32 (same weights)

and verifies every file after export; any failed check raises and the script
exits non-zero. Weights come from fixed seeds, so the command is reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import se_e2_a  # noqa: E402
from se_e2_a import ModelConfig, SeE2A, energy_and_grad_fn, export_onnx  # noqa: E402

import onnxruntime as ort  # noqa: E402

SOURCE = ("export/build_test_models.py: random-weight se_e2_a (type_one_side) "
          "+ smooth Morse pair baseline; test model, not fitted to any data")


class CheckFailed(RuntimeError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)
    print(f"  ok  {msg}")


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def run(sess, rij, nt, at):
    dt = np.float64 if sess.get_inputs()[0].type == "tensor(double)" else np.float32
    ae, g = sess.run(["atom_energy", "dE_drij"],
                     {"rij": rij.astype(dt), "nbr_type": nt.astype(np.int64),
                      "atype": at.astype(np.int64)})
    return ae.astype(np.float64), g.astype(np.float64)


def random_any_env(cfg, rng, nloc, nreal, nnei, rmin=1.9):
    """'any' layout: real neighbours at random slots (padding interleaved),
    distances spanning the switch region and beyond rcut."""
    rij = np.zeros((nloc, nnei, 3))
    nt = -np.ones((nloc, nnei), dtype=np.int64)
    for i in range(nloc):
        slots = rng.choice(nnei, nreal, replace=False)
        r = rng.uniform(rmin, cfg.rcut + 0.6, nreal)
        # force a few neighbours into the switching region and onto/just past rcut
        special = [0.5 * (cfg.rcut_smth + cfg.rcut), cfg.rcut - 1e-3, cfg.rcut]
        r[:min(3, nreal)] = special[:nreal]
        v = rng.normal(size=(nreal, 3))
        v /= np.linalg.norm(v, axis=1)[:, None]
        rij[i, slots] = v * r[:, None]
        nt[i, slots] = rng.integers(0, len(cfg.type_map), nreal)
    at = rng.integers(0, len(cfg.type_map), nloc).astype(np.int64)
    return rij, nt, at


def any_to_typesel(cfg, rij, nt):
    """Convert an 'any' environment to DeePMD's type_sel layout (neighbours
    within rcut only). Returns (rij', nt', index map [nloc, nnei'] -> old slot or -1)."""
    nloc = rij.shape[0]
    sel = np.asarray(cfg.sel)
    off = np.concatenate([[0], np.cumsum(sel)])
    out = np.zeros((nloc, off[-1], 3))
    ont = -np.ones((nloc, off[-1]), dtype=np.int64)
    idx = -np.ones((nloc, off[-1]), dtype=np.int64)
    r = np.linalg.norm(rij, axis=-1)
    for i in range(nloc):
        for t in range(len(sel)):
            ks = np.nonzero((nt[i] == t) & (r[i] < cfg.rcut))[0]
            ks = ks[np.argsort(r[i, ks], kind="stable")]
            if len(ks) > sel[t]:
                raise CheckFailed("test environment exceeds sel")
            out[i, off[t]:off[t] + len(ks)] = rij[i, ks]
            ont[i, off[t]:off[t] + len(ks)] = t
            idx[i, off[t]:off[t] + len(ks)] = ks
    return out, ont, idx


def verify_fp64(cfg, model_any, model_ts, p_any, p_ts):
    rng = np.random.default_rng(12345)
    s_any, s_ts = session(p_any), session(p_ts)
    f_any = energy_and_grad_fn(model_any)
    f_ts = energy_and_grad_fn(model_ts)
    res = {}

    # 1. ONNX Runtime vs torch autograd ------------------------------------
    print("[1] ONNX Runtime vs torch autograd (fp64)")
    for name, sess, f, layout in [("any", s_any, f_any, "any"), ("type_sel", s_ts, f_ts, "type_sel")]:
        worst_e = worst_g = 0.0
        for trial, (nloc, nreal, nnei) in enumerate([(1, 1, 1), (7, 30, 45), (33, 50, 64), (4, 60, 97)]):
            rij, nt, at = random_any_env(cfg, rng, nloc, nreal, nnei)
            if layout == "type_sel":
                rij, nt, _ = any_to_typesel(cfg, rij, nt)
            ae, g = run(sess, rij, nt, at)
            with torch.no_grad():
                ae_t, g_t = f(torch.tensor(rij), torch.tensor(nt), torch.tensor(at))
            ae_t, g_t = ae_t.numpy(), g_t.numpy()
            check(np.isfinite(ae).all() and np.isfinite(g).all(), f"{name} nloc={nloc} nnei={rij.shape[1]}: finite")
            worst_e = max(worst_e, np.abs(ae - ae_t).max() / np.abs(ae_t).max())
            worst_g = max(worst_g, np.abs(g - g_t).max() / max(np.abs(g_t).max(), 1e-300))
        check(worst_e <= 1e-12 and worst_g <= 1e-12,
              f"{name}: max rel diff energy {worst_e:.2e}, gradient {worst_g:.2e} (<= 1e-12)")
        res[f"ort_vs_autograd_{name}"] = dict(energy=worst_e, grad=worst_g)

    # 2. gradient vs central finite differences (ONNX Runtime only) ---------
    print("[2] dE_drij vs central finite differences of sum(atom_energy)")
    rij, nt, at = random_any_env(cfg, rng, 3, 25, 30)
    _, g = run(s_any, rij, nt, at)
    h = 1e-5
    errs = []
    real = np.argwhere(nt >= 0)
    for (i, k) in real[rng.choice(len(real), 20, replace=False)]:
        for c in range(3):
            rp = rij.copy(); rp[i, k, c] += h
            rm = rij.copy(); rm[i, k, c] -= h
            fd = (run(s_any, rp, nt, at)[0].sum() - run(s_any, rm, nt, at)[0].sum()) / (2 * h)
            errs.append(abs(fd - g[i, k, c]) / max(np.abs(g).max(), 1e-12))
    fd_err = max(errs)
    check(fd_err < 1e-7, f"any: max |FD - grad| / max|grad| = {fd_err:.2e} over 60 entries (< 1e-7)")
    res["fd_rel"] = fd_err

    # 3. padding-width and order invariance, padded grads exactly zero ------
    print("[3] padding-width / neighbour-order invariance (any)")
    rij, nt, at = random_any_env(cfg, rng, 6, 20, 20)
    ae0, g0 = run(s_any, rij, nt, at)
    worst = 0.0
    for extra in [1, 17, 100]:
        rp = np.concatenate([rij, np.zeros((6, extra, 3))], axis=1)
        ntp = np.concatenate([nt, -np.ones((6, extra), dtype=np.int64)], axis=1)
        perm = rng.permutation(rp.shape[1])
        ae1, g1 = run(s_any, rp[:, perm], ntp[:, perm], at)
        inv = np.argsort(perm)
        g1 = g1[:, inv]
        check(np.all(g1[:, 20:] == 0.0), f"pad +{extra}: gradient on padding slots exactly 0")
        worst = max(worst, np.abs(ae1 - ae0).max() / np.abs(ae0).max(),
                    np.abs(g1[:, :20] - g0).max() / np.abs(g0).max())
    check(worst <= 1e-13, f"any: max rel change with padding width/order {worst:.2e} (<= 1e-13)")
    res["padding_rel"] = worst

    # 4. neighbours at r >= rcut contribute exactly nothing; continuity -----
    print("[4] cutoff behaviour")
    r = np.linalg.norm(rij, axis=-1)
    beyond = (r >= cfg.rcut) & (nt >= 0)
    check(beyond.any(), "test environment has neighbours at r >= rcut")
    check(np.all(g0[beyond] == 0.0), "gradient of neighbours at r >= rcut is exactly 0")
    nt_cut = nt.copy(); nt_cut[beyond] = -1
    rij_cut = rij.copy(); rij_cut[beyond] = 0.0
    ae2, g2 = run(s_any, rij_cut, nt_cut, at)
    check(np.array_equal(ae2, ae0) or np.abs(ae2 - ae0).max() <= 1e-14 * np.abs(ae0).max(),
          f"removing r >= rcut neighbours changes energy by {np.abs(ae2 - ae0).max():.1e}")
    one = np.zeros((1, 1, 3)); one_t = np.zeros((1, 1), dtype=np.int64); a0 = np.zeros(1, dtype=np.int64)
    e_in = []
    for d in [1e-2, 1e-3]:
        one[0, 0] = [cfg.rcut - d, 0, 0]
        e_in.append(run(s_any, one, one_t, a0)[0][0])
    one[0, 0] = [cfg.rcut, 0, 0]
    e_at = run(s_any, one, one_t, a0)[0][0]
    e_none = run(s_any, np.zeros((1, 1, 3)), -np.ones((1, 1), dtype=np.int64), a0)[0][0]
    check(e_at == e_none, "a neighbour exactly at rcut equals no neighbour")
    ratio = abs(e_in[0] - e_none) / max(abs(e_in[1] - e_none), 1e-300)
    check(ratio > 500, f"E(rcut - d) - E(none) vanishes at least like d^3 (ratio {ratio:.0f} for d 1e-2 -> 1e-3)")

    # 5. any vs type_sel agreement ------------------------------------------
    print("[5] any vs type_sel (same weights)")
    worst = 0.0
    for (nloc, nreal, nnei) in [(5, 40, 50), (20, 60, 70)]:
        rij, nt, at = random_any_env(cfg, rng, nloc, nreal, nnei)
        ae_a, g_a = run(s_any, rij, nt, at)
        rts, nts, idx = any_to_typesel(cfg, rij, nt)
        ae_s, g_s = run(s_ts, rts, nts, at)
        g_back = np.zeros_like(g_a)
        for i in range(nloc):
            ok = idx[i] >= 0
            g_back[i, idx[i][ok]] = g_s[i, ok]
        worst = max(worst, np.abs(ae_a - ae_s).max() / np.abs(ae_a).max(),
                    np.abs(g_a - g_back).max() / np.abs(g_a).max())
        # a neighbour in the wrong section must change the result
        bad = rts.copy(); badt = nts.copy()
        k0 = cfg.sel[0]
        bad[0, 0], bad[0, k0] = rts[0, k0].copy(), rts[0, 0].copy()
        badt[0, 0], badt[0, k0] = nts[0, k0], nts[0, 0]
        ae_bad, _ = run(s_ts, bad, badt, at)
        check(abs(ae_bad[0] - ae_s[0]) > 1e-6, "type_sel: the section, not nbr_type, sets the neighbour type")
    check(worst <= 1e-12, f"any vs type_sel max rel diff {worst:.2e} (<= 1e-12)")
    res["any_vs_typesel_rel"] = worst
    return res


def verify_fp32(cfg, p64, p32):
    print("[6] fp32 vs fp64")
    rng = np.random.default_rng(777)
    s64, s32 = session(p64), session(p32)
    rij, nt, at = random_any_env(cfg, rng, 50, 45, 60)
    ae, g = run(s64, rij, nt, at)
    ae2, g2 = run(s32, rij, nt, at)
    de = np.abs(ae - ae2).max() / np.abs(ae).max()
    dg = np.abs(g - g2).max() / np.abs(g).max()
    check(de < 1e-5 and dg < 1e-4, f"fp32 rel diff energy {de:.1e}, gradient {dg:.1e}")
    _, gp = run(s32, np.concatenate([rij, np.zeros((50, 9, 3))], 1),
                np.concatenate([nt, -np.ones((50, 9), dtype=np.int64)], 1), at)
    check(np.isfinite(gp).all() and np.all(gp[:, 60:] == 0), "fp32: padding gives finite, zero gradient")
    return dict(energy=de, grad=dg)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models", help="output folder (default: models)")
    ap.add_argument("--no-fp32", action="store_true", help="skip the float32 variant")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    cfg = ModelConfig()
    t0 = time.time()
    model_any = se_e2_a.build_model(cfg, "any")
    model_ts = SeE2A(cfg, "type_sel").eval()
    model_ts.load_state_dict(model_any.state_dict())  # identical weights and statistics
    p_any = os.path.join(args.out, "test-any-fp64.onnx")
    p_ts = os.path.join(args.out, "test-typesel-fp64.onnx")
    p_32 = os.path.join(args.out, "test-any-fp32.onnx")
    print(f"config: {se_e2_a.config_to_json(cfg)}")
    export_onnx(model_any, p_any, torch.float64, source=SOURCE)
    export_onnx(model_ts, p_ts, torch.float64, source=SOURCE)
    if not args.no_fp32:
        export_onnx(model_any, p_32, torch.float32, source=SOURCE)
    print(f"exported in {time.time() - t0:.1f} s")
    res = verify_fp64(cfg, model_any, model_ts, p_any, p_ts)
    if not args.no_fp32:
        res["fp32_vs_fp64"] = verify_fp32(cfg, p_any, p_32)
    for p in [p_any, p_ts] + ([] if args.no_fp32 else [p_32]):
        size = os.path.getsize(p)
        check(size <= 5 * 1024 * 1024, f"{p}: {size / 1024:.0f} KiB (<= 5 MiB)")
    print("summary:", json.dumps(res, indent=1))
    print("all checks passed")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print(f"VERIFICATION FAILED: {e}", file=sys.stderr)
        sys.exit(1)
