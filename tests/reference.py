"""Independent reference evaluator for dprs ``local-v1`` ONNX models.

Pure numpy + onnxruntime (+ onnx only if onnxruntime's metadata map is
unavailable). Nothing here is shared with the Rust plugin: the periodic
neighbour list is built by brute force over lattice image shifts, and the
forces / virials are assembled from the model's ``dE_drij`` exactly as the
contract (docs/model-contract.md) states:

    F_i += g_ij,  F_j -= g_ij                      (g_ij = dE/d rij, rij = r_j - r_i)
    W    = - sum_ij rij (x) g_ij                   (LAMMPS order xx yy zz xy xz yz,
                                                    component ab = -sum rij_a g_b)
    vatom:  -1/2 sym(rij (x) g_ij) to i and to j (6 components)
    cvatom: -rij (x) g_ij wholly to j (9 components xx yy zz xy xz yz yx zx zy)

Also: helpers to bring a general triclinic cell into LAMMPS's restricted form
and to write a LAMMPS data file, so that this reference and LAMMPS see exactly
the same geometry.

Conventions: ``cell`` rows are the lattice vectors a, b, c (Angstrom);
``types`` are model type indices (0-based, positions in ``dprs.type_map``);
energies in eV, forces in eV/Angstrom, virials in eV (multiply by 1/V for
pressure).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

VOIGT6 = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
VOIGT9 = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2), (1, 0), (2, 0), (2, 1)]


# --------------------------------------------------------------------------
# model loading
# --------------------------------------------------------------------------

@dataclass
class Model:
    path: str
    session: ort.InferenceSession
    type_map: list
    rcut: float
    nlist: str  # "any" | "type_sel"
    sel: list | None
    dtype: type
    metadata: dict


_CACHE: dict = {}


def load_model(path, threads: int = 1) -> Model:
    """Open an ONNX model and read its dprs metadata (cached per path)."""
    if isinstance(path, Model):
        return path
    key = (str(path), threads)
    if key in _CACHE:
        return _CACHE[key]
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), sess_options=so,
                                providers=["CPUExecutionProvider"])
    md = dict(sess.get_modelmeta().custom_metadata_map)
    if "dprs.contract" not in md:  # fall back to the raw protobuf
        import onnx
        om = onnx.load(str(path), load_external_data=False)
        md = {p.key: p.value for p in om.metadata_props}
    if md.get("dprs.contract") != "local-v1":
        raise ValueError(f"{path}: dprs.contract is {md.get('dprs.contract')!r}, "
                         "expected 'local-v1'")
    nlist = md.get("dprs.nlist", "")
    if nlist not in ("any", "type_sel"):
        raise ValueError(f"{path}: bad dprs.nlist {nlist!r}")
    sel = json.loads(md["dprs.sel"]) if "dprs.sel" in md else None
    if nlist == "type_sel" and sel is None:
        raise ValueError(f"{path}: type_sel model without dprs.sel")
    type_map = json.loads(md["dprs.type_map"])
    if sel is not None and len(sel) != len(type_map):
        raise ValueError(f"{path}: len(dprs.sel) != len(dprs.type_map)")
    inp = {i.name: i for i in sess.get_inputs()}
    dtype = {"tensor(double)": np.float64, "tensor(float)": np.float32}[inp["rij"].type]
    m = Model(str(path), sess, type_map, float(md["dprs.rcut"]), nlist, sel, dtype, md)
    _CACHE[key] = m
    return m


def run_model(model, rij, nbr_type, atype):
    """Raw model call: returns (atom_energy [nloc], dE_drij [nloc, nnei, 3]) in float64."""
    m = load_model(model)
    ae, g = m.session.run(["atom_energy", "dE_drij"], {
        "rij": np.ascontiguousarray(rij, dtype=m.dtype),
        "nbr_type": np.ascontiguousarray(nbr_type, dtype=np.int64),
        "atype": np.ascontiguousarray(atype, dtype=np.int64)})
    return ae.astype(np.float64), g.astype(np.float64)


# --------------------------------------------------------------------------
# periodic neighbour list (brute force over image shifts)
# --------------------------------------------------------------------------

def image_range(cell, rcut, pbc):
    """Number of images needed along each lattice vector so that every pair
    within rcut is found, for positions wrapped into the cell (fractional
    coordinates in [0, 1)). Works for arbitrarily skewed cells: the distance
    between opposite faces along a_k is 1/|b_k| with b the reciprocal rows."""
    cell = np.asarray(cell, dtype=np.float64)
    recip = np.linalg.inv(cell).T  # rows b_k with a_i . b_k = delta_ik
    n = []
    for k in range(3):
        if not pbc[k]:
            n.append(0)
        else:
            d = 1.0 / np.linalg.norm(recip[k])
            # wrapped fractional differences lie in (-1, 1), so an image s can
            # be within rcut only if |s| < rcut / d + 1
            n.append(int(math.floor(rcut / d)) + 1)
    return n


def neighbor_list(positions, cell, rcut, pbc=True, self_images=True):
    """All ordered pairs (i, j, image shift) with 0 < |rij| < rcut.

    Returns (i [P], j [P], rij [P,3]) with rij = x_j + shift - x_i computed from
    the positions as given (not wrapped), so rij is the true minimum-free
    displacement of that image.
    """
    x = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    pbc = _pbc3(pbc)
    n_at = len(x)
    frac = x @ np.linalg.inv(cell)
    # wrap only to choose the image range; keep the unwrapped offset
    wrap = np.where(pbc, np.floor(frac), 0.0)
    xw = x - wrap @ cell
    nr = image_range(cell, rcut, pbc)
    I, J, R = [], [], []
    rc2 = rcut * rcut
    shifts = np.array([[s0, s1, s2] for s0 in range(-nr[0], nr[0] + 1)
                       for s1 in range(-nr[1], nr[1] + 1)
                       for s2 in range(-nr[2], nr[2] + 1)], dtype=np.float64)
    block = max(1, 4_000_000 // max(n_at, 1))  # bound memory for large systems
    for a in range(0, n_at, block):
        b = min(n_at, a + block)
        for sh in shifts:
            d = xw[None, :, :] + sh @ cell - xw[a:b, None, :]  # [i, j, 3]
            d2 = np.einsum("ijk,ijk->ij", d, d)
            mask = d2 < rc2
            if not sh.any():
                mask[np.arange(b - a), np.arange(a, b)] = False
            ii, jj = np.nonzero(mask)
            if len(ii):
                I.append(ii + a)
                J.append(jj)
                R.append(d[ii, jj])
    if not I:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)))
    I = np.concatenate(I)
    J = np.concatenate(J)
    R = np.concatenate(R)
    # xw_j + shift - xw_i is x_j - x_i plus a lattice vector: the same set of
    # image displacements as from the unwrapped positions (up to round-off)
    del n_at
    return I.astype(np.int64), J.astype(np.int64), R


def _pbc3(pbc):
    if isinstance(pbc, (bool, np.bool_)):
        return np.array([bool(pbc)] * 3)
    return np.array([bool(p) for p in pbc])


# --------------------------------------------------------------------------
# environments per the model's layout
# --------------------------------------------------------------------------

def build_env(model, I, J, R, types, n_atoms, pad_to=None, on_overflow="error",
              extra_beyond_rcut=None):
    """Padded environments for atoms 0..n_atoms-1.

    Returns (rij [N, nnei, 3], nbr_type [N, nnei], slot_j [N, nnei] (-1 on padding),
    overflow [ntypes] counts of neighbours that did not fit a type_sel section).
    """
    m = load_model(model)
    types = np.asarray(types, dtype=np.int64)
    ntypes = len(m.type_map)
    order = np.lexsort((np.einsum("pk,pk->p", R, R), I))  # by centre, then distance
    I, J, R = I[order], J[order], R[order]
    counts = np.bincount(I, minlength=n_atoms)
    starts = np.concatenate([[0], np.cumsum(counts)])
    overflow = np.zeros(ntypes, dtype=np.int64)
    if m.nlist == "any":
        nnei = int(counts.max()) if len(counts) else 0
        if pad_to is not None:
            if pad_to < nnei:
                raise ValueError(f"pad_to={pad_to} < max neighbours {nnei}")
            nnei = pad_to
        nnei = max(nnei, 1)
        rij = np.zeros((n_atoms, nnei, 3))
        nt = -np.ones((n_atoms, nnei), dtype=np.int64)
        sj = -np.ones((n_atoms, nnei), dtype=np.int64)
        slot = np.arange(len(I)) - starts[I]
        rij[I, slot] = R
        nt[I, slot] = types[J]
        sj[I, slot] = J
        return rij, nt, sj, overflow
    sel = np.asarray(m.sel, dtype=np.int64)
    sec0 = np.concatenate([[0], np.cumsum(sel)])
    nnei = int(sel.sum())
    rij = np.zeros((n_atoms, nnei, 3))
    nt = -np.ones((n_atoms, nnei), dtype=np.int64)
    sj = -np.ones((n_atoms, nnei), dtype=np.int64)
    tj = types[J]
    # rank of each neighbour within (centre, type), pairs already sorted by distance
    key = I * ntypes + tj
    o2 = np.argsort(key, kind="stable")
    ks = key[o2]
    first = np.searchsorted(ks, ks, side="left")
    rank = np.empty(len(I), dtype=np.int64)
    rank[o2] = np.arange(len(I)) - first
    fits = rank < sel[tj]
    if not fits.all():
        overflow = np.bincount(tj[~fits], minlength=ntypes)
        if on_overflow == "error":
            raise ValueError(f"type_sel capacity exceeded: overflow per type {overflow.tolist()} "
                             f"(sel {sel.tolist()})")
    slot = sec0[tj] + rank
    k = fits
    rij[I[k], slot[k]] = R[k]
    nt[I[k], slot[k]] = tj[k]
    sj[I[k], slot[k]] = J[k]
    return rij, nt, sj, overflow


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------

def evaluate(model_path, positions, types, cell, pbc=True, *, pad_to=None, chunk=2048,
             on_overflow="error", threads=1):
    """Energy, forces and virials of a periodic (or partly periodic) system.

    positions [N,3] (Angstrom), types [N] (model type indices), cell [3,3] rows =
    lattice vectors (general triclinic). Returns a dict with
      energy (eV), forces [N,3], virial [6] (xx yy zz xy xz yz, W = -sum rij (x) g),
      virial9 [3,3] (full tensor, ab = -sum rij_a g_b), atom_energy [N],
      atom_virial [N,6] (half to i, half to j, symmetrised),
      atom_cvirial [N,9] (xx yy zz xy xz yz yx zx zy, wholly to j),
      overflow [ntypes] (type_sel neighbours that did not fit; only with
      on_overflow="truncate"), nnei (padded width used).
    """
    m = load_model(model_path, threads=threads)
    x = np.asarray(positions, dtype=np.float64)
    types = np.asarray(types, dtype=np.int64)
    n = len(x)
    if types.shape != (n,):
        raise ValueError("types must have shape [N]")
    if types.min() < 0 or types.max() >= len(m.type_map):
        raise ValueError("type index out of range of the model's type_map")
    I, J, R = neighbor_list(x, cell, m.rcut, pbc)
    rij, nt, sj, overflow = build_env(m, I, J, R, types, n, pad_to=pad_to,
                                      on_overflow=on_overflow)
    ae = np.zeros(n)
    g = np.zeros_like(rij)
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        ae[a:b], g[a:b] = run_model(m, rij[a:b], nt[a:b], types[a:b])
    valid = sj >= 0
    ii = np.nonzero(valid)[0]
    jj = sj[valid]
    gv = g[valid]
    rv = rij[valid]
    if not np.all(g[~valid] == 0.0):
        raise AssertionError("model returned a non-zero gradient on a padding slot")
    forces = np.zeros((n, 3))
    np.add.at(forces, ii, gv)
    np.add.at(forces, jj, -gv)
    outer = -rv[:, :, None] * gv[:, None, :]  # [P, 3, 3], ab = -rij_a g_b
    w9 = outer.sum(0)
    virial = np.array([w9[a, b] for a, b in VOIGT6])
    sym = 0.5 * (outer + outer.transpose(0, 2, 1))
    s6 = np.stack([sym[:, a, b] for a, b in VOIGT6], axis=1)
    av = np.zeros((n, 6))
    np.add.at(av, ii, 0.5 * s6)
    np.add.at(av, jj, 0.5 * s6)
    c9 = np.stack([outer[:, a, b] for a, b in VOIGT9], axis=1)
    acv = np.zeros((n, 9))
    np.add.at(acv, jj, c9)
    return dict(energy=float(ae.sum()), forces=forces, virial=virial, virial9=w9,
                atom_energy=ae, atom_virial=av, atom_cvirial=acv, overflow=overflow,
                nnei=rij.shape[1])


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
