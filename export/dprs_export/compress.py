"""Compression of DeePMD embedding nets: each net G(x) of the scalar input
x = (s(r) - davg) / dstd (s = sw(r)/r) is replaced on the range of x reached by
neighbours at r_min <= r (and by padding) with a Chebyshev expansion

    G(x) ~= sum_q c_q T_q(y),  y = (x - mid) / half,  T_q(y) = cos(q acos y),

whose degree is raised until G and dG/dx agree with the net to ``tol``
(relative to their largest magnitude on a dense grid). Because G enters the
se_e2_a descriptor only through gr = sum_k G(x_k)^T e_k, the graph never forms
G: it contracts the basis with the environment first, A = sum_k T(y_k) e_k^T
([Q x 4] per atom), then gr = C^T A. The embedding's cost per neighbour drops
from ~12k multiply-adds (forward + backward of a [25, 50, 100] net) to ~12 Q.

Neighbours closer than r_min fall outside the table: y is clipped there (the
embedding is frozen at its r_min value and the gradient of the clipped part is
that of the expansion at the edge), as outside DeePMD's own compression tables.
"""

from __future__ import annotations

import numpy as np

from .nets import Net, Unsupported, net_numpy

DEGREES = (8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256)
ANALYTIC = ("tanh", "gelu", "gelu_tf", "sigmoid", "silu", "none", "linear")
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
    """Values and d/dy of the expansion at y (1-D), [len(y), M] each."""
    th = np.arccos(y)[:, None]
    q = np.arange(len(c))[None, :]
    T = np.cos(q * th)
    dT = q * np.sin(q * th) / np.sin(th)
    return T @ c, dT @ c


def tabulate(net: Net, lo, hi, tol, max_degree):
    """Chebyshev coefficients for ``net`` on [lo, hi] (x units) with both value
    and derivative within ``tol``; returns (coeffs [Q, M], mid, half, errors)."""
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * (1 + 2 * MARGIN)
    f = lambda x: net_numpy(net, x)                                   # noqa: E731
    xs = np.linspace(lo, hi, 4001)
    g = f(xs[:, None])
    if all(ly["act"] in ANALYTIC for ly in net.layers):
        dg = f(xs[:, None] + 1e-30j).imag / 1e-30                    # complex step: exact
    else:
        h = 1e-5 * (hi - lo)
        dg = (f(xs[:, None] + h) - f(xs[:, None] - h)) / (2 * h)      # O(h^2)
    gs, dgs = np.abs(g).max(), np.abs(dg).max()
    y = (xs - mid) / half
    err = None
    for deg in DEGREES:
        if deg > max_degree:
            break
        c = cheb_fit(f, mid - half, mid + half, deg)
        v, dv = cheb_eval(c, y)
        err = (float(np.abs(v - g).max() / gs), float(np.abs(dv / half - dg).max() / dgs))
        if max(err) <= tol:
            return c, mid, half, dict(degree=deg, value=err[0], derivative=err[1])
    raise Unsupported(f"compression: the embedding net is not within {tol:g} of a Chebyshev "
                      f"expansion of degree <= {max_degree} on x in [{lo:.4g}, {hi:.4g}] "
                      f"(errors {err}); raise --compress-max-degree or --compress-tol")


def s_of_r(r, rcut_smth, rcut, protection):
    u = np.clip((r - rcut_smth) / (rcut - rcut_smth), 0.0, 1.0)
    sw = u ** 3 * (-6 * u ** 2 + 15 * u - 10) + 1
    return sw / (r + protection)
