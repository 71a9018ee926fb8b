"""Periodic evaluation of dprs ``local-v1`` ONNX models with ONNX Runtime.

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

dprs-export uses it to check every model it writes against DeePMD-kit
(verify.py); the plugin's tests use it as the reference the plugin must match
(tests/reference.py).

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
    stage: dict | None = None


_CACHE: dict = {}


def load_model(path, threads: int = 1) -> Model:
    """Open an ONNX model (a path, cached per path, or the serialized bytes of
    one) and read its dprs metadata."""
    if isinstance(path, Model):
        return path
    in_memory = isinstance(path, (bytes, bytearray))
    key = (str(path), threads)
    if not in_memory and key in _CACHE:
        return _CACHE[key]
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(bytes(path) if in_memory else str(path), sess_options=so,
                                providers=["CPUExecutionProvider"])
    md = dict(sess.get_modelmeta().custom_metadata_map)
    if "dprs.contract" not in md:  # fall back to the raw protobuf
        import onnx
        om = (onnx.load_from_string(bytes(path)) if in_memory
              else onnx.load(str(path), load_external_data=False))
        md = {p.key: p.value for p in om.metadata_props}
    if in_memory:
        path = "<in memory>"
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
    stage = None
    if "dprs.stage" in md:
        stage = json.loads(md["dprs.stage"])
        if stage.get("kind") != "se_e2_a_chebyshev" or nlist != "type_sel":
            raise ValueError(f"{path}: unknown dprs.stage kind {stage.get('kind')!r}")
    first = "cheb_a" if stage else "rij"
    dtype = {"tensor(double)": np.float64, "tensor(float)": np.float32}[inp[first].type]
    m = Model(str(path), sess, type_map, float(md["dprs.rcut"]), nlist, sel, dtype, md, stage)
    if not in_memory:
        _CACHE[key] = m
    return m


def run_model(model, rij, nbr_type, atype):
    """Raw model call: returns (atom_energy [nloc], dE_drij [nloc, nnei, 3]) in float64."""
    m = load_model(model)
    if m.stage is not None:
        return _run_staged(m, np.asarray(rij, np.float64), np.asarray(nbr_type),
                           np.asarray(atype))
    ae, g = m.session.run(["atom_energy", "dE_drij"], {
        "rij": np.ascontiguousarray(rij, dtype=m.dtype),
        "nbr_type": np.ascontiguousarray(nbr_type, dtype=np.int64),
        "atype": np.ascontiguousarray(atype, dtype=np.int64)})
    return ae.astype(np.float64), g.astype(np.float64)


def _chebyshev(y, Q):
    """T_0..T_{Q-1}(y) and dT_q/dy, [..., Q] each (three-term recurrences)."""
    T = np.empty(y.shape + (Q,))
    U = np.empty(y.shape + (Q,))          # U_{q-1}, so dT_q/dy = q U_{q-1}
    T[..., 0], U[..., 0] = 1.0, 0.0
    if Q > 1:
        T[..., 1], U[..., 1] = y, 1.0
    if Q > 2:
        U[..., 2] = 2 * y
    for q in range(2, Q):
        T[..., q] = 2 * y * T[..., q - 1] - T[..., q - 2]
    for q in range(3, Q):
        U[..., q] = 2 * y * U[..., q - 1] - U[..., q - 2]
    return T, U * np.arange(Q)


def _run_staged(m, rij, nbr_type, atype):
    """A model with the ``se_e2_a_chebyshev`` stage (docs/model-contract.md
    §7): A = sum_k T(z_k) e_k^T per section, the graph, then dE/dA back to
    dE/drij through the environment matrix."""
    A, backward = stage_forward(m.stage, rij, nbr_type, atype)
    ae, dA = m.session.run(["atom_energy", "dE_dcheb_a"], {
        "cheb_a": np.ascontiguousarray(A, dtype=m.dtype),
        "atype": np.ascontiguousarray(atype, dtype=np.int64)})
    return ae.astype(np.float64), backward(dA.astype(np.float64))


def stage_forward(st, rij, nbr_type, atype):
    """The stage's input to the graph, ``cheb_a`` [nloc, 4, width], and the
    function that turns the graph's dE/dA into dE/drij."""
    rij = np.asarray(rij, np.float64)
    nloc, nnei, _ = rij.shape
    rcut, rs, prot = st["rcut"], st["rcut_smth"], st["protection"]
    real = nbr_type >= 0
    r = np.sqrt(np.where(real, (rij * rij).sum(-1), 1.0))
    u = np.clip((np.clip(r, rs, rcut) - rs) / (rcut - rs), 0.0, 1.0)
    sw = np.where(real, u ** 3 * (-6 * u ** 2 + 15 * u - 10) + 1, 0.0)
    dsw = np.where(real & (r > rs) & (r < rcut), -30 * u ** 2 * (1 - u) ** 2 / (rcut - rs), 0.0)
    inv = 1.0 / (r + prot)
    a_, b_ = sw * inv, sw * inv * inv
    da = dsw * inv - sw * inv * inv
    db = dsw * inv * inv - 2 * sw * inv ** 3
    env = np.concatenate([a_[..., None], rij * b_[..., None]], axis=-1)     # [N,K,4]
    davg = np.asarray(st["davg"], np.float64)                                # [ntypes,S,4]
    dstd = np.asarray(st["dstd"], np.float64)
    A = np.zeros((nloc, 4, st["width"]))
    cache = []
    for si, sec in enumerate(st["sections"]):
        k0, k1 = sec["slots"]
        off, P, D, mid, half = (sec["offset"], sec["pieces"], sec["terms"], sec["mid"],
                                sec["half"])
        e = (env[:, k0:k1] - davg[atype, si][:, None, :]) / dstd[atype, si][:, None, :]
        y = (e[..., 0] - mid) * (1.0 / half)
        inside = np.abs(y) < st["ylim"]
        u = (np.clip(y, -st["ylim"], st["ylim"]) + 1.0) * 0.5 * P
        piece = np.clip(np.floor(u).astype(int), 0, P - 1)                  # [N,k]
        T, dT = _chebyshev(2.0 * (u - piece) - 1.0, D)                        # [N,k,D]
        onehot = (piece[..., None] == np.arange(P)).astype(np.float64)        # [N,k,P]
        A[:, :, off:off + P * D] = np.einsum("nkp,nkq,nkc->ncpq", onehot, T, e).reshape(
            nloc, 4, P * D)
        cache.append((k0, k1, off, P, D, half, e, inside, onehot, T, dT))

    def backward(dA):
        """dE/drij from the graph's dE/dA; zero on padding."""
        denv = np.zeros((nloc, nnei, 4))
        for si, (k0, k1, off, P, D, half, e, inside, onehot, T, dT) in enumerate(cache):
            G = dA[:, :, off:off + P * D].reshape(nloc, 4, P, D)
            Gk = np.einsum("nkp,ncpq->nkcq", onehot, G)                       # each slot's piece
            de = np.einsum("nkq,nkcq->nkc", T, Gk)
            # dz/dy = P, dy/dx = 1/half; flat where y was clipped
            dx = np.einsum("nkq,nkcq,nkc->nk", dT, Gk, e) * (P / half) * inside
            de[..., 0] += dx
            denv[:, k0:k1] = de / dstd[atype, si][:, None, :]
        dot = (denv[..., 1:] * rij).sum(-1)
        dr = np.where(real, denv[..., 0] * da + dot * db, 0.0)
        g = denv[..., 1:] * b_[..., None] + rij * (dr / r)[..., None]
        return np.where(real[..., None], g, 0.0)

    return A, backward


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
        cap = m.metadata.get("dprs.max_neighbours")
        if cap is not None and len(counts) and counts.max() > int(cap):
            # the nearest `cap` of any type (pairs are sorted by centre, distance)
            rank = np.arange(len(I)) - starts[I]
            fits = rank < int(cap)
            if on_overflow == "error":
                raise ValueError(f"dprs.max_neighbours={cap} exceeded by "
                                 f"{int((~fits).sum())} neighbours")
            overflow = np.array([int((~fits).sum())])
            I, J, R = I[fits], J[fits], R[fits]
            counts = np.bincount(I, minlength=n_atoms)
            starts = np.concatenate([[0], np.cumsum(counts)])
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
