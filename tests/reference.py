"""Independent reference evaluator for dprs ``local-v1`` ONNX models.

The evaluation itself (periodic neighbour list by brute force over lattice
image shifts, environments per the model's layout, forces and virials from
``dE_drij`` as docs/model-contract.md states) lives in dprs-export's
``dprs_export.evaluate`` — numpy + onnxruntime, nothing shared with the Rust
plugin — because the exporter checks every model it writes with it. This
module re-exports it for the tests and adds helpers to bring a general
triclinic cell into LAMMPS's restricted form and to write a LAMMPS data file,
so that this reference and LAMMPS see exactly the same geometry.
"""

from __future__ import annotations

import json
import math

import numpy as np

from dprs_export.evaluate import (  # noqa: F401  (re-exported for the tests)
    VOIGT6, VOIGT9, Model, _CACHE, _pbc3, build_env, evaluate, image_range, load_model,
    neighbor_list, run_model)


def pressure_bar(virial6, cell, kinetic6=None):
    """Scalar pressure in bar (metal units) from a virial in eV (static if no kinetic part)."""
    vol = abs(np.linalg.det(np.asarray(cell, dtype=np.float64)))
    w = np.asarray(virial6, dtype=np.float64)[:3].sum()
    if kinetic6 is not None:
        w = w + np.asarray(kinetic6)[:3].sum()
    return w / (3.0 * vol) * 1.602176634e6  # eV/A^3 -> bar


# --------------------------------------------------------------------------
# LAMMPS geometry helpers
# --------------------------------------------------------------------------

def lammps_cell(cell, reduce=False):
    """Restricted triclinic form of a general cell.

    Returns (L, R): L lower-triangular rows a'=(lx,0,0), b'=(xy,ly,0),
    c'=(xz,yz,lz) with positive diagonal, and R (3x3) such that any Cartesian
    row vector v (positions, forces) maps to v' = v @ R. R is a proper rotation
    (the cell must be right-handed). With reduce=True the tilts are brought into
    [-l/2, l/2] by lattice reduction (same lattice, different basis).
    """
    cell = np.asarray(cell, dtype=np.float64)
    if np.linalg.det(cell) <= 0:
        raise ValueError("cell must be right-handed (det > 0) for LAMMPS")
    a, b, c = cell
    lx = np.linalg.norm(a)
    ahat = a / lx
    xy = b @ ahat
    ly = np.linalg.norm(np.cross(ahat, b))
    xz = c @ ahat
    yz = (b @ c - xy * xz) / ly
    lz = math.sqrt(max(c @ c - xz * xz - yz * yz, 0.0))
    L = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    R = np.linalg.solve(cell, L)  # cell @ R = L
    if reduce:
        L = L.copy()
        L[2] -= round(L[2, 1] / L[1, 1]) * L[1]
        L[2] -= round(L[2, 0] / L[0, 0]) * L[0]
        L[1] -= round(L[1, 0] / L[0, 0]) * L[0]
    return L, R


def to_lammps(cell, positions, reduce=False, wrap=True):
    """Rotate (cell, positions) into LAMMPS form. Returns (L, positions', R);
    with wrap=True positions are wrapped into the box (same periodic system)."""
    L, R = lammps_cell(cell, reduce=reduce)
    p = np.asarray(positions, dtype=np.float64) @ R
    if wrap:
        f = p @ np.linalg.inv(L)
        f -= np.floor(f)
        f[f >= 1.0] -= 1.0
        p = f @ L
    return L, p, R


def rotate_virial6(virial6, R):
    """Virial (xx yy zz xy xz yz) in the original frame -> rotated frame v' = v @ R."""
    w = np.zeros((3, 3))
    for k, (a, b) in enumerate(VOIGT6):
        w[a, b] = w[b, a] = virial6[k]
    w2 = R.T @ w @ R
    return np.array([w2[a, b] for a, b in VOIGT6])


def write_lammps_data(path, cell, positions, types, masses=None, ntypes=None,
                      reduce=False, comment="dprs test configuration"):
    """Write a LAMMPS data file (atom_style atomic) for a periodic triclinic box.

    ``types`` are 0-based model type indices, written as LAMMPS types 1..ntypes
    (so that ``pair_coeff * * <type_map...>`` maps them back). The cell is
    rotated into LAMMPS's restricted triclinic form first; the function returns
    (L, positions', R) — evaluate the reference on (positions', L) to compare
    with LAMMPS directly, or rotate LAMMPS's forces back with R.T.
    """
    types = np.asarray(types, dtype=np.int64)
    if ntypes is None:
        ntypes = int(types.max()) + 1
    L, p, R = to_lammps(cell, positions, reduce=reduce, wrap=True)
    lines = [f"# {comment}", "", f"{len(p)} atoms", f"{ntypes} atom types", "",
             f"0.0 {L[0, 0]:.17g} xlo xhi", f"0.0 {L[1, 1]:.17g} ylo yhi",
             f"0.0 {L[2, 2]:.17g} zlo zhi",
             f"{L[1, 0]:.17g} {L[2, 0]:.17g} {L[2, 1]:.17g} xy xz yz", ""]
    if masses is not None:
        lines += ["Masses", ""]
        lines += [f"{k + 1} {float(mm):.10g}" for k, mm in enumerate(masses)]
        lines += [""]
    lines += ["Atoms # atomic", ""]
    for k, (t, q) in enumerate(zip(types, p)):
        lines.append(f"{k + 1} {int(t) + 1} {q[0]:.17g} {q[1]:.17g} {q[2]:.17g}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return L, p, R


# --------------------------------------------------------------------------
# test configurations
# --------------------------------------------------------------------------

def fcc_supercell(a, reps=(3, 3, 3)):
    """Cubic fcc supercell: (cell [3,3], positions [N,3])."""
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    n = np.array(reps)
    grid = np.array([[i, j, k] for i in range(n[0]) for j in range(n[1]) for k in range(n[2])])
    frac = (grid[:, None, :] + basis[None, :, :]).reshape(-1, 3)
    cell = np.diag(n * float(a))
    return cell, frac * float(a)


def random_triclinic_system(seed=0, a=3.85, reps=(2, 2, 2), strain=0.08, rattle=0.12):
    """A skewed, rattled 2-type fcc-derived periodic system (general orientation).

    Returns (cell, positions, types). The cell is a strained fcc supercell turned
    by a random rotation, so it is not in LAMMPS form."""
    rng = np.random.default_rng(seed)
    cell, pos = fcc_supercell(a, reps)
    eps = strain * rng.uniform(-1, 1, (3, 3))
    F = np.eye(3) + eps
    cell = cell @ F
    pos = pos @ F
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    cell = cell @ q
    pos = pos @ q + rattle * rng.normal(size=pos.shape)
    types = rng.integers(0, 2, len(pos))
    return cell, pos, types


def read_lammps_data(path):
    """Minimal reader for atom_style atomic data files (orthogonal or triclinic).

    Returns dict(cell [3,3] rows a b c, origin [3], positions [N,3] (with image
    flags applied if present), types [N] (LAMMPS types, 1-based), ids [N],
    masses {type: mass}). Atoms are returned sorted by id."""
    with open(path) as fh:
        lines = [ln.split("#")[0].strip() for ln in fh]
    lo = np.zeros(3)
    hi = np.zeros(3)
    tilt = np.zeros(3)
    natoms = None
    masses = {}
    atoms = []
    k = 1  # the first line is a comment
    section = None
    while k < len(lines):
        ln = lines[k]
        k += 1
        if not ln:
            continue
        w = ln.split()
        if section is None:
            if ln.endswith("atoms") and len(w) == 2:
                natoms = int(w[0])
            elif ln.endswith("xlo xhi"):
                lo[0], hi[0] = float(w[0]), float(w[1])
            elif ln.endswith("ylo yhi"):
                lo[1], hi[1] = float(w[0]), float(w[1])
            elif ln.endswith("zlo zhi"):
                lo[2], hi[2] = float(w[0]), float(w[1])
            elif ln.endswith("xy xz yz"):
                tilt[:] = [float(w[0]), float(w[1]), float(w[2])]
            elif w[0] in ("Masses", "Atoms", "Velocities"):
                section = w[0]
            continue
        if w[0] in ("Masses", "Atoms", "Velocities"):
            section = w[0]
            continue
        if section == "Masses":
            masses[int(w[0])] = float(w[1])
        elif section == "Atoms":
            atoms.append(w)
    lx, ly, lz = hi - lo
    cell = np.array([[lx, 0, 0], [tilt[0], ly, 0], [tilt[1], tilt[2], lz]])
    ids = np.array([int(a[0]) for a in atoms])
    types = np.array([int(a[1]) for a in atoms])
    pos = np.array([[float(x) for x in a[2:5]] for a in atoms])
    if atoms and len(atoms[0]) >= 8:
        img = np.array([[int(x) for x in a[5:8]] for a in atoms])
        pos = pos + img @ cell
    if natoms is not None and natoms != len(atoms):
        raise ValueError(f"{path}: header says {natoms} atoms, found {len(atoms)}")
    o = np.argsort(ids)
    return dict(cell=cell, origin=lo, positions=pos[o] - lo, types=types[o], ids=ids[o],
                masses=masses)


def _main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        description="Evaluate a dprs local-v1 model on a LAMMPS data file (periodic box); "
                    "prints JSON with energy, forces (in atom-id order), virial (xx yy zz xy xz yz).")
    ap.add_argument("model")
    ap.add_argument("data", help="LAMMPS data file, atom_style atomic")
    ap.add_argument("elements", nargs="+",
                    help="element name of each LAMMPS type, as in pair_coeff * * ...")
    ap.add_argument("--per-atom", action="store_true", help="also print per-atom quantities")
    a = ap.parse_args(argv)
    m = load_model(a.model)
    d = read_lammps_data(a.data)
    tmap = np.array([m.type_map.index(e) for e in a.elements])
    r = evaluate(m, d["positions"], tmap[d["types"] - 1], d["cell"])
    out = dict(energy=r["energy"], forces=r["forces"].tolist(), virial=r["virial"].tolist(),
               ids=d["ids"].tolist())
    if a.per_atom:
        out.update(atom_energy=r["atom_energy"].tolist(), atom_virial=r["atom_virial"].tolist(),
                   atom_cvirial=r["atom_cvirial"].tolist())
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
