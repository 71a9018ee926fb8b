"""DeePMD-kit's ``se_atten`` (DPA-1) and ``se_atten_v2`` descriptors, with or
without attention layers (attention.py), as a ``local-v1`` model with the
``any`` neighbour layout.

Semantics follow deepmd/dpmodel/descriptor/dpa1.py (DeePMD-kit 3.2.0):

type embedding
    T = embedding_net(one-hot(type)), plus a zero row for padding
    (TypeEmbedNet); a per-type table, so it is evaluated here, at export time.
env matrix
    R~ = (sw [1/r, rij/r^2] - davg) / dstd, one neighbour list of ``sel``
    slots sorted by distance regardless of type.
embedding, ``tebd_input_mode = concat``
    G_k = embedding([R~_k0, T[t_k]] (+ [T[t_i]] unless type_one_side))
embedding, ``tebd_input_mode = strip`` (se_atten_v2)
    G_k = G_s (1 + G_t sw_k) with G_s = embedding(R~_k0) and
    G_t = embedding_strip(T[t_k]) (or of [T[t_k], T[t_i]] unless type_one_side),
    a per-type-pair table; without smooth_type_embedding G_s (1 + G_t).
attention (attn_layer > 0)
    G <- layers of neighbour attention over the centre's slots (attention.py)
descriptor
    gr = sum_k G_k^T R~_k / sel, D = gr gr[:axis]^T (+ T[t_i] if
    concat_output_tebd); one fitting net for all types (mixed_types).

Why the ``any`` layout works: every slot enters symmetrically (a sum, and
attention that is equivariant under permuting slots), so the neighbour order
does not matter, and what DeePMD-kit's ``sel - n`` empty slots contribute is
known: nothing when ``davg = 0`` (``set_davg_zero``); with a non-zero ``davg``
each adds the same constant G_pad^T R~_pad, which the graph adds for the
``sel - K`` slots it was not given — exact in strip mode with the smooth type
embedding (se_atten_v2), where the switch removes the padding type's
embedding; in the smooth attention each adds e^{-20} to every softmax
denominator (attention.py). Elsewhere DeePMD-kit gives empty slots the type
of the frame's first atom, so its energy would depend on atom order: refused.
TensorFlow-trained models with attention layers compute something their
serialization does not record (refused; found by the export's self-check).
"""

from __future__ import annotations

import json

import numpy as np

from .attention import AttentionLayer
from .nets import Net, Unsupported, net_numpy


def _options(desc):
    """(tebd_input_mode, smooth_type_embedding): se_atten_v2 is se_atten in strip
    mode with the smooth type embedding, and its serialization omits both."""
    if desc.get("type") == "se_atten_v2":
        return "strip", True
    return (desc.get("tebd_input_mode", "concat"),
            bool(desc.get("smooth_type_embedding", desc.get("smooth", True))))


def check_se_atten(desc, backend=None):
    """Raises Unsupported for what this converter cannot reproduce exactly."""
    n_attn = int(desc.get("attn_layer", 0) or 0)
    if n_attn and backend == "TensorFlow":
        # DeePMD-kit's TF attention differs from its serialized form (the scores
        # are not scaled by 1/sqrt(attn); more besides: converted as the other
        # backends compute it, a model was 2 % off in forces)
        raise Unsupported(
            f"se_atten/DPA-1 with attn_layer = {n_attn} trained with TensorFlow: its attention "
            "is not supported yet; TensorFlow se_atten with attn_layer = 0 and PyTorch-trained "
            "se_atten with attention layers convert")
    mode, smooth = _options(desc)
    if mode not in ("concat", "strip"):
        raise Unsupported(f"se_atten tebd_input_mode {mode!r} (supported: concat, strip)")
    if desc.get("use_econf_tebd"):
        raise Unsupported("se_atten with use_econf_tebd (electronic-configuration type "
                          "embedding) is not supported")
    if int(desc.get("lmax", 1) or 1) != 1:
        raise Unsupported(f"se_atten with lmax = {desc.get('lmax')} (higher moments) is not "
                          "supported")
    davg = np.asarray(desc["@variables"]["davg"], dtype=np.float64)
    smooth_strip = mode == "strip" and smooth
    if np.any(davg != 0.0) and not smooth_strip:
        raise Unsupported(
            f"se_atten ({mode}, smooth_type_embedding = {smooth}) with set_davg_zero = false: "
            "DeePMD-kit gives its padding neighbour slots the type of the frame's first atom, "
            "so its energy depends on atom order; retrain with set_davg_zero = true")
    if np.any(davg != davg[:, :1, :]):
        raise Unsupported("se_atten with davg that differs between neighbour slots")
    dstd = np.asarray(desc["@variables"]["dstd"], dtype=np.float64)
    if np.any(dstd != dstd[:, :1, :]):
        raise Unsupported("se_atten with dstd that differs between neighbour slots")


def _type_embedding(desc, ntypes, tf_backend):
    """[ntypes + 1, tebd_dim]: one row per type and a zero row for padding."""
    te = desc["type_embedding"]
    net = Net(te["embedding"], tf_backend=tf_backend)
    rows = net_numpy(net, np.eye(ntypes))
    return np.concatenate([rows, np.zeros((1, rows.shape[1]))], axis=0)


def build_se_atten(data, precision, model_name, compress):
    from .deepmd import (_collection, _energy_fitting, _energy_fitting_backward, _finish,
                         _geometry, _gradient, _gram_backward, _new_graph)
    if compress is not None:
        raise Unsupported("--compress is not supported for se_atten (DPA-1)")
    model = data.get("model", data)
    desc, fit = model["descriptor"], model["fitting"]
    type_map = list(model["type_map"])
    ntypes = len(type_map)
    sel = desc["sel"]
    nsel = int(sel[0] if isinstance(sel, (list, tuple)) else sel)
    rcut = float(desc["rcut"])
    rcut_smth = float(desc["rcut_smth"])
    protection = float(desc.get("env_protection", 0.0) or 0.0)
    tf_src = data.get("backend") == "TensorFlow"
    one_side = bool(desc.get("type_one_side", False))
    mode, smooth = _options(desc)
    strip = mode == "strip"
    concat_tebd = bool(desc.get("concat_output_tebd", True))
    axis = int(desc["axis_neuron"])
    dstd = np.asarray(desc["@variables"]["dstd"], dtype=np.float64).reshape(ntypes, -1, 4)[:, 0]
    davg = np.asarray(desc["@variables"]["davg"], dtype=np.float64).reshape(ntypes, -1, 4)[:, 0]
    T = _type_embedding(desc, ntypes, tf_src)                                     # [nt+1, tebd]
    tebd = T.shape[1]

    mixed = precision == "mixed"
    g, outer, inputs, outputs = _new_graph(precision)
    geo = _geometry(g, rcut, rcut_smth, protection, radial=False)
    # padding slots (type -1) take the zero padding row of the type embedding
    nbr_t = g.where(geo["maskb"], "nbr_type", g.i64(ntypes))             # [N,K]
    inv_std_c = g.unsqueeze(g.gather(g.const(1.0 / dstd, "inv_dstd"), "atype"), [1])  # [N,1,4]
    std_c = g.unsqueeze(g.gather(g.const(dstd, "dstd"), "atype"), [1])
    if np.any(davg != 0.0):
        davg_c = g.unsqueeze(g.gather(g.const(davg, "davg"), "atype"), [1])
        e = g.div(g.sub(geo["env"], davg_c), std_c)                      # [N,K,4]
    else:
        e = g.div(geo["env"], std_c)
    if mixed:
        g.set_dtype(np.float32)
        e = g.cast(e)
    s = g.slice(e, 0, 1, 2)                                              # [N,K,1]
    M = int(desc["neuron"][-1])
    shape_m, shape_1 = _nk_shape(g, s, M), _nk_shape(g, s, 1)
    sw = g.unsqueeze(geo["swm"], [2])                                    # [N,K,1]
    if mixed:
        sw = g.cast(sw)
    # DeePMD-kit's list has exactly sel slots, the any layout K: sel - K are missing
    k_slots = g.cast(g.op("Slice", g.op("Shape", e), g.i64([1]), g.i64([2]), g.i64([0])))
    missing = g.sub(g.const([float(nsel)]), k_slots)                     # [1]
    layers = [AttentionLayer(d) for d in
              (desc.get("attention_layers") or {}).get("attention_layers", [])]
    if len(layers) != int(desc.get("attn_layer", 0) or 0):
        raise Unsupported(f"se_atten with attn_layer = {desc.get('attn_layer')} but "
                          f"{len(layers)} serialized attention layers")

    endim, _, emb = _collection(desc["embeddings"], tf_backend=tf_src)
    if endim != 0 or len(emb) != 1:
        raise Unsupported(f"se_atten embedding collection ndim={endim} with {len(emb)} nets")
    if strip:
        sndim, _, emb_strip = _collection(desc["embeddings_strip"], tf_backend=tf_src)
        if sndim != 0 or len(emb_strip) != 1:
            raise Unsupported("se_atten strip embedding collection")
        # G_t per (centre type, neighbour type), padding included: a table
        nt1 = ntypes + 1
        if one_side:
            table = net_numpy(emb_strip[0], T)                           # [nt1, M]
            idx = nbr_t
        else:
            pair_in = np.concatenate([np.tile(T[None, :, :], (nt1, 1, 1)),      # neighbour
                                      np.tile(T[:, None, :], (1, nt1, 1))],     # centre
                                     axis=-1).reshape(nt1 * nt1, 2 * tebd)
            table = net_numpy(emb_strip[0], pair_in)                     # [nt1*nt1, M]
            idx = g.add(g.unsqueeze(g.mul("atype", g.i64(nt1)), [1]), nbr_t)
        Gt = g.gather(g.const(table, "strip_table"), idx)                 # [N,K,M]
        Gs_flat, tape = emb[0].forward(g, g.reshape(s, [-1, 1]))          # [N*K,M]
        Gs = g.op("Reshape", Gs_flat, shape_m)
        if smooth:
            gate = g.add(g.mul(Gt, sw), g.const([1.0]))
        else:
            gate = g.add(Gt, g.const([1.0]))
        G = g.mul(Gs, gate)                                              # [N,K,M]
    else:
        Tc = g.const(T, "type_embedding")
        parts = [s, g.gather(Tc, nbr_t)]                                 # [N,K,1], [N,K,tebd]
        if not one_side:
            ti = g.unsqueeze(g.gather(Tc, "atype"), [1])                 # [N,1,tebd]
            parts.append(g.op("Expand", ti, _nk_shape(g, s, tebd)))
        x = g.concat(parts, axis=2)
        width = 1 + tebd * (1 if one_side else 2)
        y, tape = emb[0].forward(g, g.reshape(x, [-1, width]))
        G = g.op("Reshape", y, shape_m)

    G_pre = G
    ctx, tapes = None, []
    if layers:
        ctx = _attention_context(g, geo, e, sw, missing, rcut, outer)
        for layer in layers:
            G, tape_l = layer.forward(g, G, ctx)
            tapes.append(tape_l)
    gr_sum = g.matmul(g.transpose(G, [0, 2, 1]), e)                      # [N,M,4]
    if np.any(davg != 0.0):
        # every empty slot of DeePMD-kit's list (and every neighbour at rcut,
        # where sw = 0) adds the same G_pad^T R~_pad, a constant per centre
        # type (through the attention layers an empty slot only gets b_out and
        # the layer norm); the any layout lacks sel - K of them: add those
        r_pad = -davg / dstd                                             # [nt,4]
        g_pad = net_numpy(emb[0], r_pad[:, :1])                          # [nt,M]
        for layer in layers:
            g_pad = layer.empty_slot(g_pad)
        c_pad = g_pad[:, :, None] * r_pad[:, None, :]                    # [nt,M,4]
        gr_sum = g.add(gr_sum, g.mul(g.gather(g.const(c_pad, "pad_term"), "atype"),
                                     g.reshape(missing, [1, 1, 1])))
    gr = g.scale(gr_sum, 1.0 / nsel, 4)                                  # [N,M,4]
    gr1 = g.slice(gr, 0, axis, 1)                                        # [N,A,4]
    Dm = g.matmul(gr, g.transpose(gr1, [0, 2, 1]))                       # [N,M,A]
    D = g.reshape(Dm, [-1, M * axis])
    if concat_tebd:
        D = g.concat([D, g.gather(g.const(T, "type_embedding"), "atype")], axis=1)

    ftapes, type_mask = _energy_fitting(g, model, fit, D, ntypes, tf_src, mixed, outer)
    dD = _energy_fitting_backward(g, ftapes, type_mask)
    if concat_tebd:
        dD = g.slice(dD, 0, M * axis, 1)
    draw = _gram_backward(g, dD, gr, gr1, M, axis, nsel)                # [N,M,4]
    dG = g.matmul(e, g.transpose(draw, [0, 2, 1]))                       # [N,K,M]
    de = g.matmul(G, draw)                                               # [N,K,4]
    acc = {}
    for layer, tape_l in zip(reversed(layers), reversed(tapes)):
        dG = layer.backward(g, tape_l, dG, ctx, acc)
    G = G_pre
    if acc.get("du") is not None:
        # u = R~[1:4] / max(|R~[1:4]|, 1e-12): its gradient goes into de[1:4]
        du = acc["du"]
        proj = g.sub(du, g.mul(ctx["u"], g.reduce_sum(g.mul(ctx["u"], du), [2], keepdims=1)))
        de_u = g.div(proj, ctx["u_norm"])
        de = g.add(de, g.concat([g.mul(s, g.const([0.0])), de_u], axis=2))
    dsw_extra = acc.get("dsw")
    if strip:
        dGs = g.mul(dG, gate)
        ds = g.op("Reshape", Net.backward(g, tape, g.reshape(dGs, [-1, M])), shape_1)
        if smooth:
            d = g.reduce_sum(g.mul(g.mul(dG, Gs), Gt), [2])               # [N,K]
            dsw_extra = d if dsw_extra is None else g.add(dsw_extra, d)
    else:
        dx = Net.backward(g, tape, g.reshape(dG, [-1, M]))               # [N*K,width]
        ds = g.op("Reshape", g.slice(dx, 0, 1, 1), shape_1)
    if mixed:
        g.set_dtype(outer)
        ds, de = g.cast(ds), g.cast(de)
        if dsw_extra is not None:
            dsw_extra = g.cast(dsw_extra)
    grad = _gradient(g, geo, de, ds, inv_std_c, radial=False, dsw_extra=dsw_extra)
    from onnx import helper
    g.nodes.append(helper.make_node("Identity", [grad], ["dE_drij"]))
    # DeePMD-kit keeps the nearest `sel` neighbours of any type: the plugin
    # does the same (and counts the rest in a warning) from dprs.max_neighbours
    meta = {"dprs.nlist": "any", "dprs.max_neighbours": str(nsel)}
    return _finish(g, inputs, outputs, data, "se_atten", type_map, rcut, precision, model_name,
                   meta, f"sel {nsel} (any layout)")


def _attention_context(g, geo, e, sw, missing, rcut, outer):
    """What every attention layer sees besides its input: the switch sw_i,
    sw_j, the valid slots (a neighbour closer than rcut: DeePMD-kit's list
    has no others), the unit vectors u of R~[1:4] and the missing-slot count."""
    # r is in the interface precision (float64 in mixed precision)
    valid_b = g.op("And", geo["maskb"], g.op("Less", geo["r"], g.const(rcut, dtype=outer)))
    valid = g.cast(valid_b)                                              # [N,K]
    xyz = g.slice(e, 1, 4, 2)                                            # [N,K,3]
    n = g.op("Sqrt", g.reduce_sum(g.mul(xyz, xyz), [2], keepdims=1))
    n_c = g.op("Max", n, g.const([1e-12]))
    return dict(sw_i=sw, sw_j=g.transpose(sw, [0, 2, 1]),
                valid_i=g.unsqueeze(valid, [2]), valid_j=g.unsqueeze(valid, [1]),
                valid_jb=g.unsqueeze(valid_b, [1]), u=g.div(xyz, n_c), u_norm=n_c,
                missing=missing)


def _nk_shape(g, like, last):
    """Shape [N, K, last] with N, K the dynamic leading axes of ``like``
    (the any layout's width K changes from call to call)."""
    nk = g.op("Slice", g.op("Shape", like), g.i64([0]), g.i64([2]), g.i64([0]))
    return g.op("Concat", nk, g.i64([last]), axis=0)
