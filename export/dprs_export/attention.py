"""DPA-1's neighbour attention (deepmd/dpmodel/descriptor/dpa1.py,
``NeighborGatedAttentionLayer``, DeePMD-kit 3.2.0) as ONNX, forward and
hand-written backward. One layer, for each centre's K neighbour slots:

    q, k, v = split(X W_in + b_in)                    (one head)
    q, k, v = q/|q|, k/|k|, v/|v|                     (normalize)
    S = scaling q k^T
    smooth:  S' = (S + c) sw_i sw_j - c,  c = 20     (empty slots: exactly -c)
    else:    S' = S on valid keys, masked elsewhere
    A = softmax_j(S') on valid queries, 0 elsewhere
    smooth:  A = A sw_i sw_j
    dotr:    A = A (u_i . u_j),  u = R~[1:4] / |R~[1:4]|
    X' = LayerNorm(X + (A v) W_out + b_out)

DeePMD-kit's list has exactly ``sel`` slots; in the smooth form each empty
one adds e^{-c} to every softmax denominator. The plugin's ``any`` layout has
K slots, so ``missing = sel - K`` such terms are added explicitly — with them
the sum is DeePMD-kit's for any K. Slots at or beyond rcut are empty here as
in DeePMD-kit (they are not in its list): sw = 0 there, and ``valid`` (the
masks) excludes them.
"""

from __future__ import annotations

import numpy as np

from .nets import Unsupported

SHIFT = 20.0          # attnw_shift
MASKED = -1e30        # a masked score: exp(MASKED - max) == 0 for any real max


class AttentionLayer:
    def __init__(self, data: dict):
        a = data["attention_layer"]
        if int(a.get("num_heads", 1)) != 1:
            raise Unsupported(f"se_atten attention with num_heads = {a.get('num_heads')}")
        self.hidden = int(a["hidden_dim"])
        self.embed = int(a["embed_dim"])
        temp = a.get("temperature")
        self.scaling = (float(temp) if temp is not None
                        else (self.hidden * float(a.get("scaling_factor", 1.0))) ** -0.5)
        self.normalize = bool(a.get("normalize", True))
        self.smooth = bool(a.get("smooth", True))
        self.dotr = bool(a.get("dotr", False))

        def lin(d):
            v = d["@variables"]
            if str(d.get("activation_function", "none")).lower() not in ("none", "linear"):
                raise Unsupported(f"attention projection with activation "
                                  f"{d.get('activation_function')!r}")
            b = v.get("b") if d.get("bias", True) else None
            return (np.asarray(v["w"], np.float64),
                    None if b is None else np.asarray(b, np.float64))
        self.w_in, self.b_in = lin(a["in_proj"])
        self.w_out, self.b_out = lin(a["out_proj"])
        ln = data["attn_layer_norm"]
        self.ln_eps = float(ln.get("eps", 1e-5))
        lv = ln.get("@variables", {})
        self.ln_w = None if lv.get("w") is None else np.asarray(lv["w"], np.float64)
        self.ln_b = None if lv.get("b") is None else np.asarray(lv["b"], np.float64)

    # ---- numpy: the path of an empty slot ------------------------------
    def empty_slot(self, x):
        """An empty slot's row (rows of x): its attention output is 0, so it
        only gets b_out and the layer norm."""
        z = x + (0.0 if self.b_out is None else self.b_out)
        mu = z.mean(-1, keepdims=True)
        var = ((z - mu) ** 2).mean(-1, keepdims=True)
        y = (z - mu) / np.sqrt(var + self.ln_eps)
        if self.ln_w is not None and self.ln_b is not None:
            y = y * self.ln_w + self.ln_b
        return y

    # ---- ONNX ----------------------------------------------------------
    def forward(self, g, X, ctx):
        """X [N,K,M] -> (X' [N,K,M], tape). ctx: sw_i [N,K,1], sw_j [N,1,K],
        valid_i [N,K,1], valid_j [N,1,K] (floats), u [N,K,3], missing [1]."""
        H = self.hidden
        P = g.matmul(X, g.const(self.w_in, "attn_w_in"))
        if self.b_in is not None:
            P = g.add(P, g.const(self.b_in, "attn_b_in"))
        raw = [g.slice(P, i * H, (i + 1) * H, 2) for i in range(3)]
        if self.normalize:
            norms = [g.op("Sqrt", g.reduce_sum(g.mul(t, t), [2], keepdims=1)) for t in raw]
            qn, kn, vn = [g.div(t, n) for t, n in zip(raw, norms)]
        else:
            norms = None
            qn, kn, vn = raw
        # a vector constant: ONNX Runtime folds a scalar next to a MatMul into
        # a float32 alpha (Graph.scale)
        qs = g.scale(qn, self.scaling, H)
        S = g.matmul(qs, g.transpose(kn, [0, 2, 1]))                     # [N,K,K]
        if self.smooth:
            S1 = g.sub(g.mul(g.mul(g.add(S, g.const([SHIFT])), ctx["sw_i"]), ctx["sw_j"]),
                       g.const([SHIFT]))
        else:
            S1 = g.where(ctx["valid_jb"], S, g.const([MASKED]))
        m = g.op("ReduceMax", S1, axes=[2], keepdims=1)                   # [N,K,1]
        E = g.op("Exp", g.sub(S1, m))
        den = g.reduce_sum(E, [2], keepdims=1)
        if self.smooth:
            den = g.add(den, g.mul(ctx["missing"], g.op("Exp", g.sub(g.const([-SHIFT]), m))))
        A0 = g.div(E, den)
        A1 = g.mul(A0, ctx["valid_i"])
        A2 = g.mul(g.mul(A1, ctx["sw_i"]), ctx["sw_j"]) if self.smooth else A1
        W = None
        if self.dotr:
            W = g.matmul(ctx["u"], g.transpose(ctx["u"], [0, 2, 1]))     # [N,K,K]
            A3 = g.mul(A2, W)
        else:
            A3 = A2
        O = g.matmul(A3, vn)                                             # [N,K,H]
        Y = g.matmul(O, g.const(self.w_out, "attn_w_out"))
        if self.b_out is not None:
            Y = g.add(Y, g.const(self.b_out, "attn_b_out"))
        Z = g.add(X, Y)
        mu = g.op("ReduceMean", Z, axes=[2], keepdims=1)
        d = g.sub(Z, mu)
        var = g.op("ReduceMean", g.mul(d, d), axes=[2], keepdims=1)
        rstd = g.div(g.const([1.0]), g.op("Sqrt", g.add(var, g.const([self.ln_eps]))))
        xhat = g.mul(d, rstd)
        out = xhat
        if self.ln_w is not None and self.ln_b is not None:
            out = g.add(g.mul(xhat, g.const(self.ln_w, "ln_w")), g.const(self.ln_b, "ln_b"))
        tape = dict(qn=qn, kn=kn, vn=vn, qs=qs, norms=norms, S=S, A0=A0, A1=A1, A2=A2, A3=A3,
                    W=W, xhat=xhat, rstd=rstd)
        return out, tape

    def backward(self, g, tape, dout, ctx, acc):
        """dE/dX' -> dE/dX; adds dE/dsw [N,K] and dE/du [N,K,3] into acc."""
        t = tape
        dxhat = g.mul(dout, g.const(self.ln_w, "ln_w")) if self.ln_w is not None else dout
        mean_dx = g.op("ReduceMean", dxhat, axes=[2], keepdims=1)
        mean_dxx = g.op("ReduceMean", g.mul(dxhat, t["xhat"]), axes=[2], keepdims=1)
        dZ = g.mul(t["rstd"], g.sub(g.sub(dxhat, mean_dx), g.mul(t["xhat"], mean_dxx)))
        dO = g.matmul(dZ, g.const(np.ascontiguousarray(self.w_out.T), "attn_w_outT"))
        dA3 = g.matmul(dO, g.transpose(t["vn"], [0, 2, 1]))               # [N,K,K]
        dvn = g.matmul(g.transpose(t["A3"], [0, 2, 1]), dO)               # [N,K,H]
        if self.dotr:
            dA2 = g.mul(dA3, t["W"])
            dW = g.mul(dA3, t["A2"])
            du = g.matmul(g.add(dW, g.transpose(dW, [0, 2, 1])), ctx["u"])
            acc["du"] = du if acc.get("du") is None else g.add(acc["du"], du)
        else:
            dA2 = dA3
        if self.smooth:
            dA1 = g.mul(g.mul(dA2, ctx["sw_i"]), ctx["sw_j"])
            self._add_dsw(g, g.mul(dA2, t["A1"]), ctx, acc)
        else:
            dA1 = dA2
        dA0 = g.mul(dA1, ctx["valid_i"])
        dS1 = g.mul(t["A0"], g.sub(dA0, g.reduce_sum(g.mul(dA0, t["A0"]), [2], keepdims=1)))
        if self.smooth:
            dS = g.mul(g.mul(dS1, ctx["sw_i"]), ctx["sw_j"])
            self._add_dsw(g, g.mul(dS1, g.add(t["S"], g.const([SHIFT]))), ctx, acc)
        else:
            dS = g.mul(dS1, ctx["valid_j"])
        dqs = g.matmul(dS, t["kn"])
        dkn = g.matmul(g.transpose(dS, [0, 2, 1]), t["qs"])
        dqn = g.scale(dqs, self.scaling, self.hidden)
        grads = [dqn, dkn, dvn]
        if self.normalize:
            grads = [g.div(g.sub(dy, g.mul(y, g.reduce_sum(g.mul(y, dy), [2], keepdims=1))), n)
                     for dy, y, n in zip(grads, (t["qn"], t["kn"], t["vn"]), t["norms"])]
        dP = g.concat(grads, axis=2)
        dX = g.add(dZ, g.matmul(dP, g.const(np.ascontiguousarray(self.w_in.T), "attn_w_inT")))
        return dX

    @staticmethod
    def _add_dsw(g, G, ctx, acc):
        """G_ij = dE/d(sw_i sw_j) · (the rest): dE/dsw_k = sum_j G_kj sw_j + sum_i G_ik sw_i."""
        d = g.add(g.reduce_sum(g.mul(G, ctx["sw_j"]), [2]),
                  g.reduce_sum(g.mul(G, ctx["sw_i"]), [1]))               # [N,K]
        acc["dsw"] = d if acc.get("dsw") is None else g.add(acc["dsw"], d)
