"""The export checks itself: the written ONNX model, evaluated by ONNX Runtime
(``evaluate.py``), against DeePMD-kit's own ``DeepPot`` on the ORIGINAL input
file, on periodic configurations generated from the model itself.

Configurations (``make_configs``): the model's own elements, every type
present and every ordered type pair within the cutoff; a general triclinic
cell (all three tilts non-zero); a number density chosen from ``sel`` and
``rcut`` so that each type's neighbour count stays below its ``sel`` (no
truncation, whose tie-breaking is not part of the comparison); rattled fcc
positions (32, 48 and 72 sites) no closer than ``rmin``; and extra atoms
placed within 0.1 Å inside ``rcut`` of another atom, where the switching
function ends.

The comparison is relative: |ΔE|/|E|, max|ΔF|/max|F| and max|ΔW|/max|W| over
the 9 virial components, each the worst over all configurations.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np

from . import evaluate as ev

# the tolerances the exporter enforces (relative), per precision
TOLERANCE = {"float64": 1e-8, "float32": 1e-5, "mixed": 1e-5}


class VerificationFailed(RuntimeError):
    """The written model does not reproduce DeePMD-kit within the tolerance."""


def make_configs(type_map, rcut, sel, *, layout="type_sel", rmin=1.0, nconf=3, seed=2024):
    """Periodic test configurations: list of dict(cell [3,3], pos [N,3], types [N])."""
    rng = np.random.default_rng(seed)
    ntypes = len(type_map)
    sel = [int(s) for s in sel]
    vsphere = 4.0 / 3.0 * math.pi * rcut ** 3
    # expected neighbours of one type per atom: 55 % of the smallest section
    # (type_sel) or of the whole list (a single sorted sel)
    per_type = min(sel) if layout == "type_sel" else sum(sel) / ntypes
    density = 0.55 * per_type * ntypes / vsphere
    configs = []
    for c in range(nconf):
        for attempt in range(40):
            cfg = _one_config(rng, ntypes, rcut, density * 0.9 ** attempt, rmin, c)
            if cfg is not None and _fits(cfg, rcut, sel, layout, ntypes):
                configs.append(cfg)
                break
        else:
            raise VerificationFailed(
                f"could not generate a test configuration within sel {sel} at rcut {rcut}")
    return configs


_FCC = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
_REPS = [(2, 2, 2), (3, 2, 2), (3, 3, 2)]


def _one_config(rng, ntypes, rcut, density, rmin, which):
    """A rattled fcc supercell at the given number density (close packing:
    the nearest-neighbour distances of a dense condensed phase, not of random
    points), sheared into a general triclinic cell, plus atoms near rcut."""
    reps = np.array(_REPS[which % len(_REPS)])
    a = (4.0 / density) ** (1.0 / 3.0)
    grid = np.array([[i, j, k] for i in range(reps[0]) for j in range(reps[1])
                     for k in range(reps[2])], dtype=np.float64)
    frac = ((grid[:, None, :] + _FCC[None, :, :]).reshape(-1, 3)) / reps
    d_nn = a / np.sqrt(2.0)
    cell = np.diag(reps * a * np.array([1.0, 1.04, 0.97]))
    cell[1, 0] = 0.11 * cell[0, 0]
    cell[2, 0] = -0.07 * cell[0, 0]
    cell[2, 1] = 0.13 * cell[1, 1]
    pos = frac @ cell + rng.normal(0.0, 0.06 * d_nn, (len(frac), 3))
    # atoms at rcut - (0..0.1 Å) from an existing atom: the end of the switch
    added = 0
    for _ in range(200):
        if added == 3:
            break
        i = rng.integers(len(pos))
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        cand = pos[i] + (rcut - rng.uniform(1e-3, 0.1)) * d
        I, J, R = ev.neighbor_list(np.vstack([pos, cand]), cell, max(rmin, 0.8 * d_nn))
        if not np.any((I == len(pos)) | (J == len(pos))):
            pos = np.vstack([pos, cand])
            added += 1
    types = np.arange(len(pos)) % ntypes
    rng.shuffle(types)
    I, J, R = ev.neighbor_list(pos, cell, rmin)
    if len(I):
        return None
    return dict(cell=cell, pos=pos, types=types.astype(np.int64))


def _fits(cfg, rcut, sel, layout, ntypes):
    I, J, _ = ev.neighbor_list(cfg["pos"], cfg["cell"], rcut)
    t = cfg["types"]
    cnt = np.zeros((len(t), ntypes), np.int64)
    np.add.at(cnt, (I, t[J]), 1)
    if layout == "type_sel":
        if np.any(cnt > np.asarray(sel)[None, :]):
            return False
    elif np.any(cnt.sum(1) > sum(sel)):
        return False
    pairs = {(int(a), int(b)) for a, b in zip(t[I], t[J])}
    return len(pairs) == ntypes * ntypes


def deepmd_reference(input_path, configs, type_map):
    """DeePMD-kit's DeepPot on the original file: (list of dict(energy, forces,
    virial9), what was evaluated). DeePMD-kit's own backend-independent format
    (.dp, .yaml) is evaluated by numpy code that gives energies but no forces;
    then the forces and virial come from the same file converted by DeePMD-kit
    to its PyTorch backend (`dp convert-backend`), whose energies must agree."""
    import deepmd
    from deepmd.infer import DeepPot

    label = f"deepmd-kit {deepmd.__version__} DeepPot({Path(input_path).name})"
    out = _eval_deeppot(DeepPot(str(input_path)), configs, type_map)
    if all(np.isfinite(r["forces"]).all() and np.isfinite(r["virial9"]).all() for r in out):
        return out, label
    if not all(np.isfinite(r["energy"]) for r in out):
        raise VerificationFailed(f"{label} gave non-finite energies")
    with tempfile.TemporaryDirectory() as tmp:
        pth = Path(tmp) / "converted.pth"
        try:
            from deepmd.backend.backend import Backend
            data = Backend.detect_backend_by_model(str(input_path))().serialize_hook(
                str(input_path))
            Backend.detect_backend_by_model(str(pth))().deserialize_hook(str(pth), data)
            alt = _eval_deeppot(DeepPot(str(pth)), configs, type_map)
        except Exception as e:  # no torch, or the backend cannot take this model
            raise VerificationFailed(
                f"{label} gives energies but no forces for {Path(input_path).suffix} files, and "
                f"converting it to DeePMD-kit's PyTorch backend for them failed ({e}); install "
                "torch, convert the .pth or .pb file instead, or pass --no-verify") from e
    for r, a in zip(out, alt):
        if not abs(a["energy"] - r["energy"]) <= 1e-12 * abs(r["energy"]):
            raise VerificationFailed(
                f"{label} and its PyTorch conversion disagree on the energy "
                f"({r['energy']!r} vs {a['energy']!r}): cannot check the forces")
        r["forces"], r["virial9"] = a["forces"], a["virial9"]
    return out, label + " (forces and virial through its PyTorch conversion)"


def _eval_deeppot(dp, configs, type_map):
    dmap = list(dp.get_type_map())
    try:
        to_dp = np.array([dmap.index(e) for e in type_map])
    except ValueError as e:
        raise VerificationFailed(f"DeepPot's type map {dmap} lacks an element of {type_map}") \
            from e
    out = []
    for cfg in configs:
        e, f, v = dp.eval(cfg["pos"].reshape(1, -1), cfg["cell"].reshape(1, 9),
                          to_dp[cfg["types"]], atomic=False)[:3]
        out.append(dict(energy=float(np.asarray(e).reshape(())),
                        forces=np.asarray(f, dtype=np.float64).reshape(-1, 3),
                        virial9=np.asarray(v, dtype=np.float64).reshape(3, 3)))
    return out


def compare(model, configs, refs):
    """Worst relative errors of the ONNX model (path, bytes or loaded) vs refs."""
    m = ev.load_model(model)
    worst = dict(energy=0.0, forces=0.0, virial=0.0)
    for cfg, ref in zip(configs, refs):
        r = ev.evaluate(m, cfg["pos"], cfg["types"], cfg["cell"])
        errs = dict(energy=abs(r["energy"] - ref["energy"]) / max(abs(ref["energy"]), 1e-300),
                    forces=_rel(r["forces"], ref["forces"]),
                    virial=_rel(r["virial9"], ref["virial9"]))
        for k, v in errs.items():
            # NaN (a non-finite number on either side) must never pass
            worst[k] = math.nan if math.isnan(v) or math.isnan(worst[k]) else max(worst[k], v)
    return worst


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))
                 / max(float(np.max(np.abs(b))), 1e-300))


def check(model_bytes, configs, refs, precision, against):
    """Compares and returns the ``dprs.validated`` record; raises
    VerificationFailed (with the measured errors) beyond the tolerance."""
    tol = TOLERANCE[precision]
    worst = compare(model_bytes, configs, refs)
    record = dict(against=against, configurations=len(configs),
                  atoms=[int(len(c["pos"])) for c in configs], tolerance=tol,
                  max_relative_error={k: float(f"{v:.3g}") for k, v in worst.items()})
    bad = {k: v for k, v in worst.items() if not v <= tol}
    if bad:
        raise VerificationFailed(
            "the converted model does not reproduce " + against + ": max relative error "
            + ", ".join(f"{k} {v:.2e}" for k, v in worst.items())
            + f" (tolerance {tol:.0e} for {precision}); no model written")
    return record


def summary(record):
    """One line for dprs-export's output."""
    if "skipped" in record:
        return f"not verified ({record['skipped']})"
    e = record["max_relative_error"]
    return (f"verified against {record['against']} on {record['configurations']} periodic "
            f"triclinic configurations: max relative error energy {e['energy']:.1e}, "
            f"forces {e['forces']:.1e}, virial {e['virial']:.1e} (tolerance "
            f"{record['tolerance']:.0e})")


def to_metadata(record):
    return json.dumps(record, sort_keys=True)
