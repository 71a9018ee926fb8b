"""Compression of DeePMD embedding nets: each net G(x) of the scalar input
x = (s(r) - davg) / dstd (s = sw(r)/r) is replaced on the range of x reached by
neighbours at r_min <= r (and by padding) with a piecewise Chebyshev
expansion: the range is mapped onto y in [-1, 1] and cut into P equal pieces,
and on piece p, with z in [-1, 1] the position inside it,

    G(x) ~= sum_{q < D} c_{p,q} T_q(z),  T_q(z) = cos(q acos z).

D (terms per piece, 32) is fixed, so a neighbour always costs the same few
multiply-adds whatever the net; a more curved net gets more pieces, which only
widens the per-atom contraction C^T A (A = sum_k T(z_k) e_k^T, one block of D
rows per piece). P is doubled until G and dG/dx agree with the net to ``tol``
(relative to their largest magnitude on a dense grid). The pieces meet to that
tolerance, not exactly: the energy is continuous to ~tol relative.

Neighbours closer than r_min fall outside the table: y is clipped there (the
embedding is frozen at its r_min value and the gradient of the clipped part is
that of the expansion at the edge), as outside DeePMD's own compression tables.
"""

from __future__ import annotations

import numpy as np

from .nets import Net, Unsupported, net_numpy

ANALYTIC = ("tanh", "gelu", "gelu_tf", "sigmoid", "silu", "none", "linear")
KINKED = ("relu", "relu6")     # the derivative jumps: no smooth table follows it
MARGIN = 0.02   # the range is widened by this fraction each side: |y| <= 1/(1+2*MARGIN)


def cheb_fit(f, lo, hi, deg):
    """Coefficients [deg+1, M] of the Chebyshev interpolant of f on [lo, hi]."""
    n = deg + 1
    j = np.arange(n)
    yk = np.cos(np.pi * (j + 0.5) / n)
    fk = f(0.5 * (hi + lo) + 0.5 * (hi - lo) * yk[:, None])        # [n, M]
    T = np.cos(np.outer(np.arange(n), np.pi * (j + 0.5) / n))      # [q, k]
    c = (2.0 / n) * T @ fk
    c[0] *= 0.5
    return c


def cheb_eval(c, y):
    """Values and d/dy of the expansion at y (1-D), [len(y), M] each; by the
    three-term recurrences (dT_q/dy = q U_{q-1}), exact up to round-off at
    y = +-1 too, where the trigonometric form divides by sin(acos y) = 0."""
    n = len(c)
    T = np.empty((len(y), n))
    U = np.empty((len(y), n))            # U_{q-1} in column q
    T[:, 0], U[:, 0] = 1.0, 0.0
    if n > 1:
        T[:, 1], U[:, 1] = y, 1.0
    if n > 2:
        U[:, 2] = 2 * y
    for q in range(2, n):
        T[:, q] = 2 * y * T[:, q - 1] - T[:, q - 2]
    for q in range(3, n):
        U[:, q] = 2 * y * U[:, q - 1] - U[:, q - 2]
    return T @ c, (U * np.arange(n)) @ c


# Chebyshev terms per piece: what a neighbour costs. 32 balances that cost
# against the width of the per-atom contraction (pieces x terms): on a trained
# [25, 50, 100] net, 16/24/32/48 terms need 16/8/4/2 pieces at 1e-10.
PIECE_TERMS = 32
PIECES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def fit_pieces(f, mid, half, pieces, terms=PIECE_TERMS):
    """Coefficients [pieces, terms, M] of the piecewise interpolant of f on
    [mid - half, mid + half] (x units)."""
    edges = mid + half * np.linspace(-1.0, 1.0, pieces + 1)
    return np.stack([cheb_fit(f, edges[p], edges[p + 1], terms - 1) for p in range(pieces)])


def eval_pieces(c, y):
    """Values and d/dy of the piecewise expansion at y in [-1, 1]."""
    P = c.shape[0]
    u = (y + 1.0) * 0.5 * P
    p = np.clip(np.floor(u).astype(int), 0, P - 1)
    z = 2.0 * (u - p) - 1.0
    v, dv = [], []
    for k in range(P):
        sel = p == k
        if sel.any():
            vk, dk = cheb_eval(c[k], z[sel])
            v.append((np.nonzero(sel)[0], vk, dk * P))
    out_v = np.empty((len(y), c.shape[2]))
    out_d = np.empty_like(out_v)
    for idx, vk, dk in v:
        out_v[idx], out_d[idx] = vk, dk
    return out_v, out_d


def tabulate(net: Net, lo, hi, tol, max_pieces, pieces=None, terms=PIECE_TERMS):
    """Piecewise coefficients for ``net`` on [lo, hi] (x units) with value and
    derivative within ``tol``: (coeffs [P, D, M], mid, half, errors). With
    ``pieces`` given, that P is used (and its errors reported)."""
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * (1 + 2 * MARGIN)
    f = lambda x: net_numpy(net, x)                                   # noqa: E731
    xs = np.linspace(lo, hi, 8001)
    g = f(xs[:, None])
    if all(ly["act"] in ANALYTIC for ly in net.layers):
        dg = f(xs[:, None] + 1e-30j).imag / 1e-30                    # complex step: exact
    else:
        h = 1e-5 * (hi - lo)
        dg = (f(xs[:, None] + h) - f(xs[:, None] - h)) / (2 * h)      # O(h^2)
    gs, dgs = np.abs(g).max(), np.abs(dg).max()
    y = (xs - mid) / half
    err = None
    for P in ([pieces] if pieces else PIECES):
        if P > max_pieces:
            break
        c = fit_pieces(f, mid, half, P, terms)
        v, dv = eval_pieces(c, y)
        err = (float(np.abs(v - g).max() / gs), float(np.abs(dv / half - dg).max() / dgs))
        if max(err) <= tol or pieces:
            return c, mid, half, dict(pieces=P, terms=terms, value=err[0],
                                      derivative=err[1])
    kinked = sorted({ly["act"] for ly in net.layers if ly["act"] in KINKED})
    if kinked:
        raise Unsupported(f"compression: the embedding net uses {', '.join(kinked)}, whose "
                          f"derivative jumps where the activation bends; no polynomial table "
                          f"follows that to {tol:g} (errors: value {err[0]:.1e}, derivative "
                          f"{err[1]:.1e}): convert this model without --compress")
    raise Unsupported(f"compression: the embedding net is not within {tol:g} of {max_pieces} "
                      f"Chebyshev pieces of {terms} terms on x in [{lo:.4g}, {hi:.4g}] "
                      f"(errors {err}); raise --compress-max-pieces or --compress-tol")


def s_of_r(r, rcut_smth, rcut, protection):
    u = np.clip((r - rcut_smth) / (rcut - rcut_smth), 0.0, 1.0)
    sw = u ** 3 * (-6 * u ** 2 + 15 * u - 10) + 1
    return sw / (r + protection)
