"""DeePMD-kit 3.x energy models -> dprs ``local-v1`` ONNX (layout ``type_sel``).

The model is read through DeePMD-kit's own serialization (the dict its
``serialize()``/``dp convert-backend`` use: plain weights + config), then the
ONNX graph is written op by op: the forward energy and an explicit backward
pass for dE/drij. Exporting needs numpy + onnx only; reading a ``.pb``/``.pth``
needs deepmd-kit (and its backend) installed, reading an already serialized
model (``.json``, see ``read_model``; or DeePMD-kit's ``.yaml``) does not.

Semantics follow deepmd/dpmodel (DeePMD-kit 3.2.0):

env matrix (EnvMat, _make_env_mat)
    r = |rij| (padding: 1), sw = quintic switch of r clipped to [rcut_smth, rcut],
    se_e2_a: R = sw [1/(r+p), rij/(r+p)^2], se_e2_r: R = sw/(r+p)    (p = env_protection)
    R~ = (R - davg[t_i]) / dstd[t_i]       (also on padding rows, where R = 0)
se_e2_a
    G_k = embedding_{t_k}(R~_k0)  (two-side: embedding_{t_i, t_k}),
    gr = sum_k G_k^T R~_k / nnei,  D = gr gr[:axis_neuron]^T  (flattened ng x axis)
se_e2_r
    D = sum_t mean_{k in t}(G_k) * sel_t / nnei / 5   (res_rescale, all backends)
energy fitting (GeneralFitting, mixed_types=False)
    E_i = fitting_{t_i}(D_i) + bias_atom_e[t_i] + out_bias[t_i]
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

from .graph import Graph
from .nets import Net, Unsupported

DESCRIPTORS = ("se_e2_a", "se_e2_r", "se_atten (DPA-1) and se_atten_v2 (attention layers: "
               "PyTorch-trained only)")
_DESC_ALIASES = {"se_e2_a": "se_e2_a", "se_a": "se_e2_a", "se_e2_r": "se_e2_r", "se_r": "se_e2_r",
                 "dpa1": "se_atten", "se_atten": "se_atten", "se_atten_v2": "se_atten"}
# what the refusal of a descriptor says (DeePMD-kit's serialized type names)
_REFUSED_DESCRIPTORS = {
    "dpa2": "DPA-2 (message passing between neighbours' environments: outside the strictly "
            "local contract)",
    "dpa3": "DPA-3 (message passing: outside the strictly local contract)",
    "hybrid": "a hybrid descriptor",
    "se_e3": "se_e3 (three-body embedding)",
    "se_at": "se_e3 (three-body embedding)",
    "se_a_3be": "se_e3 (three-body embedding)",
    "se_e3_tebd": "se_e3_tebd (three-body embedding with type embedding)",
    "se_a_tpe": "se_a_tpe / se_a_ebd (se_e2_a with a type embedding, TensorFlow only)",
    "se_a_ebd": "se_a_tpe / se_a_ebd (se_e2_a with a type embedding, TensorFlow only)",
    "se_a_ebd_v2": "se_e2_a with a model-level type_embedding (se_a_ebd_v2)",
    "se_a_mask": "se_a_mask (atomic masks)",
    "loc_frame": "loc_frame",
}


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------

def _decode_arrays(obj):
    """DeePMD-kit's `.yaml` array encoding ({"@class": "np.ndarray", "dtype", "value"})
    -> numpy, recursively."""
    if isinstance(obj, dict):
        if obj.get("@class") == "np.ndarray":
            return np.asarray(obj["value"], dtype=np.dtype(obj["dtype"]))
        return {k: _decode_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_arrays(v) for v in obj]
    return obj


def read_model(path):
    """Serialized DeePMD-kit model dict (with "model", and where known "version").

    * ``.json``: a serialized model as written by export/fixtures/make_fixtures.py
      (DeePMD-kit's serialize() output, arrays encoded as in DeePMD-kit's .yaml
      format) — needs nothing but the standard library and numpy.
    * ``.yaml``/``.yml``: DeePMD-kit's own native text format (needs PyYAML).
    * anything else (``.pb``, ``.pth``, ``.dp``, ``.savedmodel``, ...): read with
      DeePMD-kit's backend serialize hook — needs deepmd-kit and that backend.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        with open(path) as fh:
            return _decode_arrays(json.load(fh))
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:
            raise SystemExit(f"{path}: reading DeePMD-kit's .yaml format needs PyYAML") from e
        with open(path) as fh:
            return _decode_arrays(yaml.safe_load(fh))
    try:
        import deepmd
        from deepmd.backend.backend import Backend
    except ImportError as e:
        raise SystemExit(
            f"{path}: reading a {suffix or 'model'} file needs deepmd-kit (and its backend, "
            "e.g. tensorflow for .pb, torch for .pth) installed in this Python: "
            f"{e}. Alternatively convert from a serialized .json (see docs/dprs-export.md)."
        ) from e
    backend = Backend.detect_backend_by_model(str(path))()
    try:
        data = backend.serialize_hook(str(path))
    except (RuntimeError, NotImplementedError, ValueError, KeyError) as e:
        # e.g. TensorFlow se_e2_a + a model-level type_embedding: DeePMD-kit's own
        # serialization, which every conversion starts from, refuses it
        raise Unsupported(f"DeePMD-kit cannot serialize this model ({type(e).__name__}: {e}), "
                          "so dprs-export cannot read its weights; dprs-export converts "
                          f"{', '.join(DESCRIPTORS)}") from e
    data = dict(data)
    data.setdefault("version", deepmd.__version__)
    data.setdefault("software", "deepmd-kit")
    return data


# --------------------------------------------------------------------------
# checking
# --------------------------------------------------------------------------

def _nonempty(x):
    return x is not None and len(x) > 0


def check_supported(data):
    """Raises Unsupported naming the first feature dprs-export cannot reproduce."""
    model = data.get("model", data)
    mtype = model.get("type", "standard")
    if model.get("@class") != "Model" or mtype != "standard":
        what = {"zbl": "a DP/ZBL model (DP + ZBL pair table)",
                "pairtab": "a pair-table model", "linear_ener": "a linear combination of models",
                "frozen": "a frozen-model combination", "spin": "a spin model"}.get(
                    mtype, f"model type {mtype!r} (@class {model.get('@class')!r})")
        raise Unsupported(f"{what} is not supported: dprs-export converts standard DeePMD-kit "
                          "energy models (one descriptor + energy fitting); ZBL/pair-table, "
                          "linear/frozen combinations, spin and multi-task models are not")
    desc = model["descriptor"]
    dtype = desc.get("type")
    if model.get("type_embedding") is not None:
        raise Unsupported("a model-level type_embedding with descriptor "
                          f"{dtype!r} (se_e2_a + type_embedding) is not supported; dprs-export "
                          f"converts {', '.join(DESCRIPTORS)}")
    if model.get("spin") is not None:
        raise Unsupported("spin models are not supported")
    if _nonempty(model.get("atom_exclude_types")) or _nonempty(model.get("pair_exclude_types")):
        raise Unsupported("atom_exclude_types / pair_exclude_types are not supported")
    if dtype not in _DESC_ALIASES:
        what = _REFUSED_DESCRIPTORS.get(dtype, f"descriptor {dtype!r}")
        raise Unsupported(f"{what} is not supported; dprs-export converts "
                          f"{', '.join(DESCRIPTORS)}")
    if _nonempty(desc.get("exclude_types")):
        raise Unsupported("descriptor exclude_types is not supported")
    if desc.get("spin") is not None:
        raise Unsupported("spin descriptors are not supported")
    if desc.get("compress") or "compress" in desc.get("@variables", {}):
        raise Unsupported("compressed (tabulated) models are not supported: "
                          "convert the model before `dp compress`")
    env = desc.get("env_mat", {})
    if env.get("use_exp_switch"):
        raise Unsupported("use_exp_switch (exponential switch) is not supported")
    if (_DESC_ALIASES[dtype] == "se_e2_r" and not desc.get("type_one_side", True)
            and data.get("backend") != "TensorFlow"):
        raise Unsupported("se_e2_r with type_one_side = false is only supported from "
                          "TensorFlow models (other backends do not implement it)")
    fit = model["fitting"]
    ftype = fit.get("type")
    if ftype != "ener":
        raise Unsupported(f"fitting {ftype!r} is not supported: only energy fitting "
                          "('ener'); dipole/polar/dos/property models have no energy")
    if fit.get("numb_fparam", 0) or fit.get("numb_aparam", 0):
        raise Unsupported(
            f"fparam/aparam (numb_fparam={fit.get('numb_fparam', 0)}, "
            f"numb_aparam={fit.get('numb_aparam', 0)}) are not supported yet: local-v1 has no "
            "frame or atomic parameter inputs")
    if fit.get("dim_case_embd", 0):
        raise Unsupported("case embedding (multi-task dim_case_embd) is not supported")
    if any(a is not None for a in (fit.get("atom_ener") or [])):
        raise Unsupported("fitting atom_ener (vacuum energy constraint) is not supported")
    if _nonempty(fit.get("exclude_types")):
        raise Unsupported("fitting exclude_types is not supported")
    if fit.get("mixed_types", False) != (_DESC_ALIASES[dtype] == "se_atten"):
        raise Unsupported(f"energy fitting with mixed_types={fit.get('mixed_types')} on "
                          f"descriptor {dtype!r}")
    if fit.get("dim_out", 1) != 1:
        raise Unsupported(f"fitting dim_out {fit.get('dim_out')} != 1")
    if fit.get("use_aparam_as_mask"):
        raise Unsupported("use_aparam_as_mask is not supported")
    if _DESC_ALIASES[dtype] == "se_atten":
        from .se_atten import check_se_atten
        check_se_atten(desc, data.get("backend"))
    return _DESC_ALIASES[dtype]


# --------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------

def _collection(coll, tf_fitting=False, tf_backend=False):
    if coll.get("@class") != "NetworkCollection":
        raise Unsupported(f"expected a NetworkCollection, got {coll.get('@class')!r}")
    nets = [None if n is None else Net(n, tf_fitting=tf_fitting, tf_backend=tf_backend)
            for n in coll["networks"]]
    return int(coll["ndim"]), int(coll["ntypes"]), nets


PRECISIONS = ("float64", "float32", "mixed")


def build(data, precision="float64", model_name=None, compress=None):
    """ONNX ModelProto for a serialized DeePMD-kit model dict.

    ``precision``: ``float64``/``float32`` — the whole graph in that type;
    ``mixed`` — float64 interface, geometry, environment matrix, energy bias
    and gradient assembly, float32 networks (embedding, descriptor contraction,
    fitting and their backward).

    ``compress``: None, or dict(rmin=Å, tol=relative, max_pieces=int) to replace
    the se_e2_a embedding nets by Chebyshev expansions (see compress.py);
    ``build`` then records what it did in ``build.last_compression``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} (expected one of {PRECISIONS})")
    descriptor = check_supported(data)
    if descriptor == "se_atten":
        from .se_atten import build_se_atten
        return build_se_atten(data, precision, model_name, compress)
    model = data.get("model", data)
    desc, fit = model["descriptor"], model["fitting"]
    type_map = list(model["type_map"])
    ntypes = len(type_map)
    sel = [int(s) for s in desc["sel"]]
    if len(sel) != ntypes:
        raise Unsupported(f"sel {sel} does not have one entry per type {type_map}")
    nnei = sum(sel)
    sec = np.concatenate([[0], np.cumsum(sel)]).astype(int)
    rcut = float(desc["rcut"])
    rcut_smth = float(desc["rcut_smth"])
    protection = float(desc.get("env_protection", desc.get("env_mat", {}).get("protection", 0.0))
                       or 0.0)
    radial = descriptor == "se_e2_r"
    # The backend that wrote the model defines its semantics; serialize() does not
    # carry these TensorFlow-graph details (so `dp convert-backend` loses them):
    tf_src = data.get("backend") == "TensorFlow"
    ncol = 1 if radial else 4
    dvars = desc["@variables"]
    davg = np.asarray(dvars["davg"], dtype=np.float64).reshape(ntypes, nnei, ncol)
    dstd = np.asarray(dvars["dstd"], dtype=np.float64).reshape(ntypes, nnei, ncol)

    if compress is not None:
        if radial:
            raise Unsupported("--compress supports se_e2_a only")
        return _build_compressed(data, desc, fit, model, type_map, sel, sec, rcut, rcut_smth,
                                 protection, tf_src, davg, dstd, precision, model_name, compress)

    mixed = precision == "mixed"
    g, outer, inputs, outputs = _new_graph(precision)
    geo = _geometry(g, rcut, rcut_smth, protection, radial)
    A, dA, B, dB = geo["A"], geo["dA"], geo["B"], geo["dB"]
    davg_c = g.gather(g.const(davg, "davg"), "atype")                    # [N,K,ncol]
    inv_std_c = g.gather(g.const(1.0 / dstd, "inv_dstd"), "atype")
    std_c = g.gather(g.const(dstd, "dstd"), "atype")
    # DeePMD divides by dstd; dividing keeps the last bit identical
    e = g.div(g.sub(geo["env"], davg_c), std_c)                          # [N,K,ncol]

    # ---- embedding nets per neighbour section ---------------------------
    endim, entypes, emb = _collection(desc["embeddings"], tf_backend=tf_src)
    two_side = endim == 2
    if endim not in (1, 2) or entypes != ntypes:
        raise Unsupported(f"embedding collection ndim={endim} ntypes={entypes}")
    # networks from here on: float32 in mixed precision
    if mixed:
        g.set_dtype(np.float32)
        e = g.cast(e)
    M = int(next(n for n in emb if n is not None).layers[-1]["w"].shape[1])
    onehot = [g.unsqueeze(g.unsqueeze(g.one_hot_mask("atype", t), [1]), [2])  # [N,1,1]
              for t in range(ntypes)]
    G_parts, tapes = [], []
    for tt in range(ntypes):
        nsel = int(sel[tt])
        # the nets run on 2-D [N*sel, width] tensors: MatMul + Add fuse into Gemm
        s = g.reshape(g.slice(g.slice(e, int(sec[tt]), int(sec[tt + 1]), 1), 0, 1, 2),
                      [-1, 1])                                           # [N*sel,1]
        if two_side:
            outs = []
            tp = []
            for ti in range(ntypes):
                net = emb[ti + tt * ntypes]   # NetworkCollection key (ti, tt)
                y, tape = net.forward(g, s)
                outs.append(g.mul(g.reshape(y, [-1, nsel, M]), onehot[ti]))
                tp.append((ti, tape))
            G_parts.append(g.sum_all(outs))
            tapes.append(tp)
        else:
            y, tape = emb[tt].forward(g, s)
            G_parts.append(g.reshape(y, [-1, nsel, M]))
            tapes.append([(None, tape)])
    G = g.concat(G_parts, axis=1) if G_parts else None                   # [N,K,M]

    if radial:
        # D = sum_t mean_{k in t}(G_k) * sel_t / nnei * 1/5: the 1/5 (res_rescale) is
        # in every backend's se_e2_r (deepmd/tf/descriptor/se_r.py, deepmd/pt/model/
        # descriptor/se_r.py, deepmd/dpmodel/descriptor/se_r.py) and in no serialized
        # field; TF's reduce_mean over all nnei slots is the same sum
        r_scale = 0.2
        Dparts = [g.scale(g.op("ReduceMean", G_parts[tt], axes=[1], keepdims=0),
                          r_scale * sel[tt] / nnei, M) for tt in range(ntypes)]
        D = g.sum_all(Dparts)                                            # [N,M]
    else:
        axis = int(desc["axis_neuron"])
        gr = g.scale(g.matmul(g.transpose(G, [0, 2, 1]), e), 1.0 / nnei, 4)  # [N,M,4]
        gr1 = g.slice(gr, 0, axis, 1)                                    # [N,A,4]
        Dm = g.matmul(gr, g.transpose(gr1, [0, 2, 1]))                   # [N,M,A]
        D = g.reshape(Dm, [-1, M * axis])

    # ---- energy fitting -------------------------------------------------
    ftapes, type_mask = _energy_fitting(g, model, fit, D, ntypes, tf_src, mixed, outer)
    # ---- backward -------------------------------------------------------
    dD = _energy_fitting_backward(g, ftapes, type_mask)                # [N,nd]
    dGparts = []
    if radial:
        # dD/dG_k = r_scale/nnei for every slot
        dGk = g.scale(g.unsqueeze(dD, [1]), r_scale / nnei, M)       # [N,1,M]
        for tt in range(ntypes):
            dGparts.append(g.op("Expand", dGk, g.i64([1, sel[tt], 1])))
        de = None
    else:
        draw = _gram_backward(g, dD, gr, gr1, M, axis, nnei)            # [N,M,4]
        dG = g.matmul(e, g.transpose(draw, [0, 2, 1]))                   # [N,K,M]
        de = g.matmul(G, draw)                                           # [N,K,4]
        for tt in range(ntypes):
            dGparts.append(g.slice(dG, int(sec[tt]), int(sec[tt + 1]), 1))
    ds_parts = []
    for tt in range(ntypes):
        parts = []
        for ti, tape in tapes[tt]:
            gy = dGparts[tt] if ti is None else g.mul(dGparts[tt], onehot[ti])
            parts.append(Net.backward(g, tape, g.reshape(gy, [-1, M])))  # [N*sel,1]
        ds_parts.append(g.reshape(g.sum_all(parts), [-1, int(sel[tt]), 1]))
    ds = g.concat(ds_parts, axis=1)                                      # [N,K,1]
    if mixed:
        g.set_dtype(outer)
        ds = g.cast(ds)
        if de is not None:
            de = g.cast(de)
    grad = _gradient(g, geo, de, ds, inv_std_c, radial)
    g.nodes.append(helper.make_node("Identity", [grad], ["dE_drij"]))

    meta = {"dprs.nlist": "type_sel", "dprs.sel": json.dumps(sel)}
    return _finish(g, inputs, outputs, data, descriptor, type_map, rcut, precision, model_name,
                   meta, f"sel {sel}")


def _new_graph(precision):
    """The graph, its interface precision and the local-v1 inputs/outputs."""
    g = Graph({"float64": np.float64, "float32": np.float32, "mixed": np.float64}[precision])
    F = g.elem
    inputs = [helper.make_tensor_value_info("rij", F, ["nloc", "nnei", 3]),
              helper.make_tensor_value_info("nbr_type", TensorProto.INT64, ["nloc", "nnei"]),
              helper.make_tensor_value_info("atype", TensorProto.INT64, ["nloc"])]
    outputs = [helper.make_tensor_value_info("atom_energy", F, ["nloc"]),
               helper.make_tensor_value_info("dE_drij", F, ["nloc", "nnei", 3])]
    return g, g.dtype, inputs, outputs


def _finish(g, inputs, outputs, data, descriptor, type_map, rcut, precision, model_name,
            extra_meta, doc_sel):
    version = data.get("version", "unknown")
    meta = {
        "dprs.contract": "local-v1",
        "dprs.type_map": json.dumps(type_map),
        "dprs.rcut": repr(rcut),
        "dprs.descriptor": descriptor,
        "dprs.source": f"deepmd-kit {version} {descriptor}",
        "dprs.model_name": model_name or f"deepmd-{descriptor}",
        "dprs.precision": precision,
        **extra_meta,
    }
    doc = (f"DeePMD-kit {version} {descriptor} energy model converted by dprs-export "
           f"({precision}); rcut {rcut}, {doc_sel}, type map {type_map}")
    return g.finish(inputs, outputs, meta, doc)


def _gram_backward(g, dD, gr, gr1, M, axis, nnei):
    """dE/d(sum_k G_k^T R~_k) [N,M,4] from dE/dD, D = gr gr[:axis]^T flattened,
    gr = that sum / nnei."""
    dDm = g.reshape(dD, [-1, M, axis])                                   # [N,M,A]
    dgr = g.matmul(dDm, gr1)                                             # [N,M,4]
    dgr1 = g.matmul(g.transpose(dDm, [0, 2, 1]), gr)                     # [N,A,4]
    P = np.zeros((M, axis))
    P[np.arange(axis), np.arange(axis)] = 1.0
    dgr = g.add(dgr, g.matmul(g.const(P, "pick"), dgr1))
    return g.scale(dgr, 1.0 / nnei, 4)


def _geometry(g, rcut, rcut_smth, protection, radial):
    """r, DeePMD's quintic switch and the (un-normalised) environment matrix of
    every slot, with the derivatives the backward pass needs: A = sw/(r+p),
    B = sw/(r+p)^2 (se_e2_a only) and dA/dr, dB/dr; padding rows are zero."""
    maskb = g.op("GreaterOrEqual", "nbr_type", g.i64(0))                 # [N,K]
    mask = g.cast(maskb)
    r2 = g.reduce_sum(g.mul("rij", "rij"), [2])                           # [N,K]
    r = g.op("Sqrt", g.where(maskb, r2, g.const(1.0)))                    # padding: 1
    rc = g.op("Clip", r, g.const(rcut_smth), g.const(rcut))
    inv_w = 1.0 / (rcut - rcut_smth)
    u = g.mul(g.sub(rc, g.const(rcut_smth)), g.const(inv_w))
    u2 = g.mul(u, u)
    poly = g.add(g.sub(g.mul(g.const(-6.0), u2), g.mul(g.const(-15.0), u)), g.const(-10.0))
    sw = g.add(g.mul(g.mul(u2, u), poly), g.const(1.0))
    # d sw / d r = -30 u^2 (1 - u)^2 / (rcut - rcut_smth): zero where r was clipped
    omu = g.sub(g.const(1.0), u)
    dsw = g.mul(g.mul(u2, g.mul(omu, omu)), g.const(-30.0 * inv_w))
    swm = g.mul(sw, mask)
    dswm = g.mul(dsw, mask)
    rp = g.add(r, g.const(protection)) if protection else r
    inv_rp = g.div(g.const(1.0), rp)
    inv_rp2 = g.mul(inv_rp, inv_rp)
    A = g.mul(swm, inv_rp)                                               # sw/(r+p)
    dA = g.sub(g.mul(dswm, inv_rp), g.mul(swm, inv_rp2))                  # dA/dr
    B = dB = None
    if radial:
        env = g.unsqueeze(A, [2])                                        # [N,K,1]
    else:
        B = g.mul(swm, inv_rp2)                                          # sw/(r+p)^2
        dB = g.sub(g.mul(dswm, inv_rp2), g.mul(g.mul(g.const(2.0), swm), g.mul(inv_rp2, inv_rp)))
        env = g.concat([g.unsqueeze(A, [2]), g.mul("rij", g.unsqueeze(B, [2]))], axis=2)
    return dict(maskb=maskb, mask=mask, r=r, swm=swm, dswm=dswm, A=A, dA=dA, B=B, dB=dB,
                env=env)


def _energy_fitting(g, model, fit, D, ntypes, tf_src, mixed, outer):
    """Atomic energies (the graph output ``atom_energy``) from the descriptor D
    [N, nd]: one fitting net per centre type, or one for all types (mixed_types,
    the type-embedding descriptors); + bias_atom_e + out_bias. Returns what the
    backward pass needs."""
    fndim, fntypes, fnets = _collection(fit["nets"], tf_fitting=tf_src)
    mixed_types = bool(fit.get("mixed_types", False))
    if (fndim, fntypes) != ((0, ntypes) if mixed_types else (1, ntypes)):
        raise Unsupported(f"fitting collection ndim={fndim} ntypes={fntypes}")
    fvars = fit["@variables"]
    bias = np.asarray(fvars["bias_atom_e"], dtype=np.float64).reshape(ntypes)
    mvars = model.get("@variables", {})
    if mvars.get("out_bias") is not None:
        ob = np.asarray(mvars["out_bias"], dtype=np.float64)
        if ob.size != ntypes:
            raise Unsupported(f"out_bias of shape {ob.shape}")
        bias = bias + ob.reshape(ntypes)  # DPAtomicModel.apply_out_stat: + out_bias[atype]
    if mixed_types:
        type_mask = [None]
        y, tape = fnets[0].forward(g, D)                                 # [N,1]
        Eparts, ftapes = [y], [tape]
    else:
        type_mask = [g.unsqueeze(g.one_hot_mask("atype", t), [1]) for t in range(ntypes)]
        Eparts, ftapes = [], []
        for t in range(ntypes):
            y, tape = fnets[t].forward(g, D)                             # [N,1]
            Eparts.append(g.mul(y, type_mask[t]))
            ftapes.append(tape)
    Enet = g.reshape(g.sum_all(Eparts), [-1])
    if mixed:
        g.set_dtype(outer)
        Enet = g.cast(Enet)
    E = g.add(Enet, g.gather(g.const(bias, "bias"), "atype"))
    g.nodes.append(helper.make_node("Identity", [E], ["atom_energy"]))
    if mixed:
        g.set_dtype(np.float32)
    return ftapes, type_mask


def _energy_fitting_backward(g, ftapes, type_mask):
    """dE/dD [N, nd]."""
    ones = None
    parts = []
    for tape, tm in zip(ftapes, type_mask):
        if tm is None:
            # dE/dy = 1 for every atom: a [N,1] column of ones shaped like y
            y_like = tape[-1][1]
            ones = g.add(g.mul(y_like, g.const([0.0])), g.const([1.0]))
            tm = ones
        parts.append(Net.backward(g, tape, tm))
    return g.sum_all(parts)


def _gradient(g, geo, de, ds, inv_std_c, radial, dsw_extra=None):
    """dE/drij [N,K,3] from dE/d(normalised env) — de [N,K,4] (se_e2_a family;
    None for se_e2_r) and ds [N,K,1], the embedding-input part of column 0 — and
    optionally dE/dsw [N,K] where the switch enters elsewhere (smooth type
    embedding)."""
    A, dA, B, dB, r = geo["A"], geo["dA"], geo["B"], geo["dB"], geo["r"]
    if radial:
        denv0 = g.squeeze(g.mul(ds, inv_std_c), [2])                     # [N,K]
        dr = g.mul(denv0, dA)
        if dsw_extra is not None:
            dr = g.add(dr, g.mul(dsw_extra, geo["dswm"]))
        return g.mul("rij", g.unsqueeze(g.mul(dr, g.div(g.const(1.0), r)), [2]))
    denv = g.mul(de, inv_std_c)                                          # [N,K,4]
    denv0 = g.add(g.squeeze(g.slice(denv, 0, 1, 2), [2]),
                  g.squeeze(g.mul(ds, g.slice(inv_std_c, 0, 1, 2)), [2]))
    denvxyz = g.slice(denv, 1, 4, 2)                                     # [N,K,3]
    dot = g.reduce_sum(g.mul(denvxyz, "rij"), [2])                       # [N,K]
    dr = g.add(g.mul(denv0, dA), g.mul(dot, dB))
    if dsw_extra is not None:
        dr = g.add(dr, g.mul(dsw_extra, geo["dswm"]))
    coef = g.mul(dr, g.div(g.const(1.0), r))
    return g.add(g.mul(denvxyz, g.unsqueeze(B, [2])), g.mul("rij", g.unsqueeze(coef, [2])))


def _build_compressed(data, desc, fit, model, type_map, sel, sec, rcut, rcut_smth, protection,
                      tf_src, davg, dstd, precision, model_name, opts):
    """se_e2_a with every embedding net G(x) replaced by a piecewise Chebyshev
    expansion in its input, G(x) ~= C^T T(y) with T nonzero only on the piece
    of y = (x - mid)/half that x falls in (compress.py).

    Because G enters the descriptor only through gr = sum_k G(x_k)^T e_k =
    C^T A with A = sum_k T(y_k) e_k^T, the graph takes A itself: the input
    ``cheb_a`` [nloc, 4, Qtot] (A transposed, the sections' bases one after
    the other) replaces rij/nbr_type, and the output ``dE_dcheb_a`` replaces
    dE_drij. The caller forms A from the neighbours and turns dE/dA back into
    dE/drij (the ``dprs.stage`` metadata says how: docs/model-contract.md §6) --
    a few multiply-adds per basis function and neighbour, fused in one pass,
    instead of a graph that materialises the basis of every neighbour."""
    from .compress import s_of_r, tabulate
    ntypes, nnei = len(type_map), int(sum(sel))
    for t in range(ntypes):
        ks = slice(int(sec[t]), int(sec[t + 1]))
        for arr, what in ((davg, "davg"), (dstd, "dstd")):
            blk = arr[:, ks, :]
            if sel[t] and not np.all(blk == blk[:, :1, :]):
                raise Unsupported(f"--compress: {what} varies inside the section of type "
                                  f"{type_map[t]}; DeePMD-kit's se_e2_a statistics are per section")
    endim, entypes, emb = _collection(desc["embeddings"], tf_backend=tf_src)
    two_side = endim == 2
    if endim not in (1, 2) or entypes != ntypes:
        raise Unsupported(f"embedding collection ndim={endim} ntypes={entypes}")
    M = int(next(n for n in emb if n is not None).layers[-1]["w"].shape[1])
    axis = int(desc["axis_neuron"])
    smax = float(s_of_r(np.float64(opts["rmin"]), rcut_smth, rcut, protection))
    ylim = 0.999
    sections, info, offset = [], [], 0
    coef = {}                                 # centre type (None: all) -> [(offset, C [Q,M])]
    for tt in range(ntypes):
        if sel[tt] == 0:
            continue
        ks = slice(int(sec[tt]), int(sec[tt + 1]))
        # x over the centre types and the section's slots: padding/r >= rcut
        # (s = 0) up to r = rmin
        lo = float((-davg[:, ks, 0] / dstd[:, ks, 0]).min())
        hi = float(((smax - davg[:, ks, 0]) / dstd[:, ks, 0]).max())
        nets = [(ti, emb[ti + tt * ntypes]) for ti in range(ntypes)] if two_side \
            else [(None, emb[tt])]
        fits = [(ti, tabulate(net, lo, hi, opts["tol"], opts["max_pieces"])) for ti, net in nets]
        # one partition per section: every centre type's net on the most pieces any needs
        P = max(f[3]["pieces"] for _, f in fits)
        fits = [(ti, f if f[3]["pieces"] == P else
                 tabulate(net, lo, hi, opts["tol"], opts["max_pieces"], pieces=P))
                for (ti, f), (_, net) in zip(fits, nets)]
        D = fits[0][1][3]["terms"]
        Q = P * D
        mid, half = fits[0][1][1], fits[0][1][2]
        for ti, (c, _, _, err) in fits:
            coef.setdefault(ti, []).append((offset, c.reshape(Q, M)))
            info.append(dict(section=tt, centre_type=ti, pieces=P, terms=D, x_range=[lo, hi],
                             value_err=err["value"], derivative_err=err["derivative"]))
        sections.append(dict(type=tt, slots=[int(sec[tt]), int(sec[tt + 1])], offset=offset,
                             pieces=P, terms=D, mid=float(mid), half=float(half)))
        offset += Q
    qtot = offset
    stage = dict(kind="se_e2_a_chebyshev", rcut=rcut, rcut_smth=rcut_smth,
                 protection=protection, ylim=ylim, width=qtot, sections=sections,
                 davg=[[davg[ti, int(sec[s["type"]]), :].tolist() for s in sections]
                       for ti in range(ntypes)],
                 dstd=[[dstd[ti, int(sec[s["type"]]), :].tolist() for s in sections]
                       for ti in range(ntypes)])

    mixed = precision == "mixed"
    g = Graph({"float64": np.float64, "float32": np.float32, "mixed": np.float64}[precision])
    outer = g.dtype
    inputs = [helper.make_tensor_value_info("cheb_a", g.elem, ["nloc", 4, qtot]),
              helper.make_tensor_value_info("atype", TensorProto.INT64, ["nloc"])]
    outputs = [helper.make_tensor_value_info("atom_energy", g.elem, ["nloc"]),
               helper.make_tensor_value_info("dE_dcheb_a", g.elem, ["nloc", 4, qtot])]
    a = "cheb_a"
    if mixed:
        g.set_dtype(np.float32)
        a = g.cast(a)
    a2 = g.reshape(a, [-1, qtot])                                         # [N*4, Qtot]

    def stacked(ti):
        """C of every section for centre type ti (None: one-sided nets, the
        same for all), one [Qtot, M] matrix."""
        C = np.zeros((qtot, M))
        for off, cq in coef[ti]:
            C[off:off + len(cq)] = cq
        return C

    centre = [None] if not two_side else list(range(ntypes))
    onehot = {ti: None if ti is None else
              g.unsqueeze(g.unsqueeze(g.one_hot_mask("atype", ti), [1]), [2])
              for ti in centre}
    Cs = {ti: stacked(ti) for ti in centre}
    # gr^T = A^T C: one GEMM over all atoms and the 4 columns
    parts = []
    for ti in centre:
        grT = g.reshape(g.matmul(a2, g.const(Cs[ti], "cheb")), [-1, 4, M])  # [N,4,M]
        parts.append(grT if onehot[ti] is None else g.mul(grT, onehot[ti]))
    gr = g.scale(g.transpose(g.sum_all(parts), [0, 2, 1]), 1.0 / nnei, 4)  # [N,M,4]
    gr1 = g.slice(gr, 0, axis, 1)                                         # [N,A,4]
    Dm = g.matmul(gr, g.transpose(gr1, [0, 2, 1]))                        # [N,M,A]
    D = g.reshape(Dm, [-1, M * axis])
    ftapes, type_mask = _energy_fitting(g, model, fit, D, ntypes, tf_src, mixed, outer)
    dD = _energy_fitting_backward(g, ftapes, type_mask)
    draw = _gram_backward(g, dD, gr, gr1, M, axis, nnei)                 # [N,M,4]
    drawT = g.reshape(g.transpose(draw, [0, 2, 1]), [-1, M])              # [N*4, M]
    parts = []
    for ti in centre:
        dA = g.reshape(g.matmul(drawT, g.const(np.ascontiguousarray(Cs[ti].T), "chebT")),
                       [-1, 4, qtot])                                     # [N,4,Qtot]
        parts.append(dA if onehot[ti] is None else g.mul(dA, onehot[ti]))
    dA = g.sum_all(parts)
    if mixed:
        g.set_dtype(outer)
        dA = g.cast(dA)
    g.nodes.append(helper.make_node("Identity", [dA], ["dE_dcheb_a"]))
    build.last_compression = dict(rmin=opts["rmin"], tol=opts["tol"], nets=info)
    meta = {"dprs.nlist": "type_sel", "dprs.sel": json.dumps(sel),
            "dprs.stage": json.dumps(stage),
            "dprs.compression": json.dumps(build.last_compression),
            # below rmin the expansion is clipped: the plugin warns when a run gets there
            "dprs.rmin": repr(float(opts["rmin"]))}
    return _finish(g, inputs, outputs, data, "se_e2_a", type_map, rcut, precision, model_name,
                   meta, f"sel {sel}, compressed")


def onehot_of(g, t):
    return g.unsqueeze(g.unsqueeze(g.one_hot_mask("atype", t), [1]), [2])  # [N,1,1]


def _deepmd_importable():
    try:
        import deepmd.infer  # noqa: F401
    except Exception as e:  # ImportError, or a backend that fails to initialise
        return str(e) or type(e).__name__
    return None


def convert(inp, out, precision="float64", compress=None, verify=True, check_with=None):
    """Reads ``inp``, builds the ONNX model, checks it against DeePMD-kit's
    ``DeepPot`` on ``inp`` (unless ``verify`` is False) and writes ``out``
    atomically. Returns (ModelProto, validation record). Raises
    ``verify.VerificationFailed`` — and writes nothing — when the model does not
    reproduce DeePMD-kit, or when it cannot be checked and ``verify`` is True.

    ``check_with``: (configs, refs, against) to check against given reference
    numbers instead of running DeePMD-kit (tests without DeePMD-kit)."""
    from . import verify as vf
    data = read_model(inp)
    m = build(data, precision=precision, model_name=Path(inp).stem, compress=compress)
    if not verify:
        record = dict(skipped="--no-verify: not checked against DeePMD-kit")
    else:
        if check_with is not None:
            configs, refs, against = check_with
        else:
            if Path(inp).suffix.lower() == ".json":
                raise vf.VerificationFailed(
                    f"{inp}: a serialized .json is not a file DeePMD-kit can evaluate, so the "
                    "conversion cannot be checked; convert the original model file (.pb, .pth, "
                    ".dp, .yaml) or pass --no-verify")
            why = _deepmd_importable()
            if why is not None:
                raise vf.VerificationFailed(
                    f"cannot check the conversion of {inp}: deepmd-kit is not importable in "
                    f"this Python ({why}); install deepmd-kit==3.2.0 with the model's backend "
                    "(tensorflow for .pb, torch for .pth) or pass --no-verify")
            md = {p.key: p.value for p in m.metadata_props}
            type_map = json.loads(md["dprs.type_map"])
            sel = json.loads(md["dprs.sel"]) if "dprs.sel" in md else [
                int(md["dprs.max_neighbours"])]
            configs = vf.make_configs(type_map, float(md["dprs.rcut"]), sel,
                                      layout=md["dprs.nlist"],
                                      rmin=max(1.0, float(md.get("dprs.rmin", 0.0))))
            refs, against = vf.deepmd_reference(inp, configs, type_map)
        record = vf.check(m.SerializeToString(), configs, refs, precision, against)
    p = m.metadata_props.add()
    p.key, p.value = "dprs.validated", vf.to_metadata(record)
    _write_atomically(m, Path(out))
    return m, record


def _write_atomically(m, out):
    import os
    import tempfile
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(m.SerializeToString())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
