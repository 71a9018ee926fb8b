"""A DeePMD ``se_e2_a``-style deep potential in PyTorch, exported to ONNX under
the dprs model contract ``local-v1`` (see docs/model-contract.md).

The exported graph takes one padded local environment per atom and returns the
per-atom energy together with the gradient of the total energy with respect to
every relative position ``rij``:

    inputs   rij      float [nloc, nnei, 3]   r_j - r_i (Angstrom), zero padded
             nbr_type int64 [nloc, nnei]      neighbour type, -1 = padding slot
             atype    int64 [nloc]            centre type
    outputs  atom_energy float [nloc]         eV
             dE_drij     float [nloc, nnei, 3] dE_total / d rij (eV/Angstrom)

Model (per centre atom i, neighbours j):

    sw(r)   DeePMD's C2 switch: 1 below rcut_smth, 0 at and beyond rcut,
            u^3 (-6 u^2 + 15 u - 10) + 1 with u = (r - rcut_smth)/(rcut - rcut_smth)
    s(r)    = sw(r) / r
    R~_ij   = [s, s x/r, s y/r, s z/r]                           (4 columns)
    G_ij    = embedding_net[type(j)](s_ij)                       (M1 columns)
    T_i     = sum_j G_ij^T R~_ij / n_norm                        (M1 x 4)
    D_i     = T_i T_i[:M2]^T                                     (M1 x M2)
    D'_i    = (D_i - mean[type(i)]) / std[type(i)]   (statistics fixed at build time)
    E_i     = fitting_net[type(i)](D'_i) + bias[type(i)]
            + 1/2 sum_j V_{type(i) type(j)}(r_ij)                (pair baseline)

``n_norm`` is a fixed constant (never the padded width), padded slots have
R~ = 0 and V = 0, so an ``any`` model is exactly independent of the padding
width and of neighbour order, and every neighbour at r >= rcut contributes
exactly zero (value and gradient).

The pair baseline V_ab(r) = D_ab [(1 - exp(-alpha (r - r0)))^2 - 1] sw(r) is a
Morse potential multiplied by the same smooth switch; it is what makes the
random-weight network physically sane (a stable fcc solid), in the spirit of
DeePMD's pair-table baselines (``use_srtab``, DP-ZBL).

Export: ``torch.func.grad_and_value`` of the total energy is traced with
``make_fx`` (symbolic shapes) and the traced graph is exported with
``torch.onnx.export(dynamo=True)``, so ``dE_drij`` is exact autodiff.

For ``type_sel`` layout the neighbour type used by the network is taken from
the slot's section (as DeePMD does: the section is the type), and ``nbr_type``
is only used to tell real neighbours (>= 0) from padding (-1). A neighbour put
in the wrong section therefore changes the result, which lets tests catch
layout bugs in a caller.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, asdict

import numpy as np
import torch

CONTRACT = "local-v1"


@dataclass
class ModelConfig:
    type_map: list = field(default_factory=lambda: ["O", "H"])
    rcut: float = 5.0
    rcut_smth: float = 4.0
    sel: list = field(default_factory=lambda: [64, 64])
    embed_neurons: list = field(default_factory=lambda: [8, 16])
    axis_neuron: int = 4
    fit_neurons: list = field(default_factory=lambda: [32, 32])
    n_norm: float = 40.0  # fixed descriptor normalisation (never the padded width)
    embed_input_scale: float = 3.0  # the embedding net sees s * scale
    fit_output_scale: float = 0.02  # std of the last fitting layer weights
    energy_bias: list = field(default_factory=lambda: [-2.0, -1.0])
    # Morse pair baseline: well depth D_ab (eV), alpha (1/A), r0 (A)
    morse_D: list = field(default_factory=lambda: [[0.30, 0.33], [0.33, 0.27]])
    morse_alpha: float = 1.8
    morse_r0: float = 2.75
    seed: int = 20240611
    model_name: str = "dprs-test-se_e2_a"


def _switch(r, rcs, inv_width):
    u = torch.clamp((r - rcs) * inv_width, 0.0, 1.0)
    u3 = u * u * u
    return u3 * (-6.0 * u * u + 15.0 * u - 10.0) + 1.0


class EmbeddingNet(torch.nn.Module):
    """1 -> neurons[0] -> neurons[1] ... with tanh; DeePMD's resnet rule:
    y = tanh(Wx+b) + x if out == in, + concat(x, x) if out == 2 in."""

    def __init__(self, neurons, gen):
        super().__init__()
        dims = [1] + list(neurons)
        self.w = torch.nn.ParameterList()
        self.b = torch.nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            w = torch.randn(a, b, generator=gen, dtype=torch.float64) / math.sqrt(a + b)
            bb = torch.randn(b, generator=gen, dtype=torch.float64)
            self.w.append(torch.nn.Parameter(w))
            self.b.append(torch.nn.Parameter(bb))

    def forward(self, x):  # x [..., 1]
        for w, b in zip(self.w, self.b):
            y = torch.tanh(x @ w + b)
            if w.shape[0] == w.shape[1]:
                y = y + x
            elif w.shape[1] == 2 * w.shape[0]:
                y = y + torch.cat([x, x], dim=-1)
            x = y
        return x


class FittingNet(torch.nn.Module):
    def __init__(self, n_in, neurons, out_scale, gen):
        super().__init__()
        dims = [n_in] + list(neurons)
        self.w = torch.nn.ParameterList()
        self.b = torch.nn.ParameterList()
        for a, b in zip(dims[:-1], dims[1:]):
            w = torch.randn(a, b, generator=gen, dtype=torch.float64) / math.sqrt(a)
            bb = 0.1 * torch.randn(b, generator=gen, dtype=torch.float64)
            self.w.append(torch.nn.Parameter(w))
            self.b.append(torch.nn.Parameter(bb))
        self.w_out = torch.nn.Parameter(
            out_scale * torch.randn(dims[-1], 1, generator=gen, dtype=torch.float64))

    def forward(self, x):
        for w, b in zip(self.w, self.b):
            y = torch.tanh(x @ w + b)
            if w.shape[0] == w.shape[1]:
                y = y + x
            x = y
        return (x @ self.w_out)[..., 0]


class SeE2A(torch.nn.Module):
    """Per-atom energy of a se_e2_a (type_one_side) model + Morse baseline."""

    def __init__(self, cfg: ModelConfig, layout: str = "any"):
        super().__init__()
        assert layout in ("any", "type_sel")
        self.cfg = cfg
        self.layout = layout
        nt = len(cfg.type_map)
        self.ntypes = nt
        gen = torch.Generator().manual_seed(cfg.seed)
        self.embed = torch.nn.ModuleList(
            [EmbeddingNet(cfg.embed_neurons, gen) for _ in range(nt)])
        m1 = cfg.embed_neurons[-1]
        self.fit = torch.nn.ModuleList(
            [FittingNet(m1 * cfg.axis_neuron, cfg.fit_neurons, cfg.fit_output_scale, gen)
             for _ in range(nt)])
        self.register_buffer("bias", torch.tensor(cfg.energy_bias, dtype=torch.float64))
        self.register_buffer("morse_D", torch.tensor(cfg.morse_D, dtype=torch.float64).reshape(-1))
        # Every non-trivial float constant lives in a float64 buffer: the ONNX
        # exporter rounds bare Python floats through float32.
        for name, val in [("c_rcut_smth", cfg.rcut_smth),
                          ("c_inv_width", 1.0 / (cfg.rcut - cfg.rcut_smth)),
                          ("c_embed_scale", cfg.embed_input_scale),
                          ("c_inv_norm", 1.0 / cfg.n_norm),
                          ("c_neg_alpha", -cfg.morse_alpha),
                          ("c_r0", cfg.morse_r0)]:
            self.register_buffer(name, torch.tensor(val, dtype=torch.float64))
        # descriptor normalisation per centre type (DeePMD computes such
        # statistics from data; here from perfect/rattled fcc environments, see
        # set_descriptor_stats). Identity until set.
        ndesc = m1 * cfg.axis_neuron
        self.register_buffer("d_mean", torch.zeros(nt, ndesc, dtype=torch.float64))
        self.register_buffer("d_inv_std", torch.ones(nt, ndesc, dtype=torch.float64))
        # type_sel: upper bounds of the sections, to find the section of a slot
        self.register_buffer(
            "sel_ends", torch.tensor(np.cumsum(cfg.sel)[:-1].tolist(), dtype=torch.int64))

    def neighbour_type_for_net(self, nbr_type):
        if self.layout == "any":
            return nbr_type
        nnei = nbr_type.shape[1]
        k = torch.arange(nnei, dtype=torch.int64, device=nbr_type.device)
        slot_type = (k[:, None] >= self.sel_ends[None, :]).to(torch.int64).sum(-1)
        return torch.where(nbr_type >= 0, slot_type[None, :].expand_as(nbr_type),
                           torch.full_like(nbr_type, -1))

    def descriptor(self, rij, nbr_type):
        """(D [nloc, M1*M2], r, sw, nt) for the given environments."""
        cfg = self.cfg
        dt = rij.dtype
        nt = self.neighbour_type_for_net(nbr_type)
        valid = nt >= 0
        r2 = (rij * rij).sum(-1)
        r2 = torch.where(valid, r2, torch.ones_like(r2))  # guard sqrt(0) on padding
        r = torch.sqrt(r2)
        sw = _switch(r, self.c_rcut_smth.to(dt), self.c_inv_width.to(dt))
        sw = torch.where(valid, sw, torch.zeros_like(sw))
        s = sw / r
        rt = torch.cat([s[..., None], (s / r)[..., None] * rij], dim=-1)  # [nloc,nnei,4]
        x = (s * self.c_embed_scale.to(dt))[..., None]
        g = torch.zeros(rij.shape[0], rij.shape[1], cfg.embed_neurons[-1], dtype=dt,
                        device=rij.device)
        for t in range(self.ntypes):
            gt = self.embed[t](x)
            g = g + torch.where((nt == t)[..., None], gt, torch.zeros_like(gt))
        tmat = torch.einsum("nkm,nkc->nmc", g, rt) * self.c_inv_norm.to(dt)  # [nloc, M1, 4]
        d = torch.einsum("nmc,nac->nma", tmat, tmat[:, : cfg.axis_neuron, :])
        d = d.reshape(d.shape[0], -1)
        return d, r, sw, nt

    def forward(self, rij, nbr_type, atype):
        cfg = self.cfg
        dt = rij.dtype
        d, r, sw, nt = self.descriptor(rij, nbr_type)
        d = (d - self.d_mean.to(dt)[atype]) * self.d_inv_std.to(dt)[atype]
        e = torch.zeros(rij.shape[0], dtype=dt, device=rij.device)
        for t in range(self.ntypes):
            et = self.fit[t](d)
            e = e + torch.where(atype == t, et, torch.zeros_like(et))
        e = e + self.bias.to(dt)[atype]
        # Morse baseline, half of each pair to the centre atom
        idx = atype[:, None] * self.ntypes + torch.clamp(nt, min=0)
        dab = self.morse_D.to(dt)[idx]
        ex = torch.exp(self.c_neg_alpha.to(dt) * (r - self.c_r0.to(dt)))
        v = dab * ((1.0 - ex) ** 2 - 1.0) * sw
        e = e + 0.5 * v.sum(-1)
        return e


def fcc_environments(cfg, a, reps=3, rattle=0.0, seed=0):
    """'any'-layout environments of a rattled fcc supercell with random types
    (brute force over the 27 nearest images; needs reps * a > 2 rcut)."""
    rng = np.random.default_rng(seed)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.array([[i, j, k] for i in range(reps) for j in range(reps) for k in range(reps)])
    x = (grid[:, None, :] + basis[None]).reshape(-1, 3) * a
    x = x + rattle * rng.normal(size=x.shape)
    n = len(x)
    types = rng.integers(0, len(cfg.type_map), n)
    L = reps * a
    assert L > 2 * cfg.rcut
    sh = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)]) * L
    d = x[None, :, None, :] + sh[None, None] - x[:, None, None, :]  # [i, j, s, 3]
    r = np.linalg.norm(d, axis=-1)
    ok = (r < cfg.rcut) & (r > 1e-8)
    nnei = ok.sum((1, 2)).max()
    rij = np.zeros((n, nnei, 3))
    nt = -np.ones((n, nnei), dtype=np.int64)
    for i in range(n):
        jj, ss = np.nonzero(ok[i])
        rij[i, :len(jj)] = d[i, jj, ss]
        nt[i, :len(jj)] = types[jj]
    return rij, nt, types.astype(np.int64)


@torch.no_grad()
def set_descriptor_stats(model, envs):
    """Set the per-centre-type descriptor mean / 1/std from a list of 'any'
    environments [(rij, nbr_type, atype)], as DeePMD does from training data."""
    ds, ts = [], []
    lay = model.layout
    model.layout = "any"
    try:
        for rij, nt, at in envs:
            d, *_ = model.descriptor(torch.as_tensor(rij), torch.as_tensor(nt))
            ds.append(d)
            ts.append(torch.as_tensor(at))
    finally:
        model.layout = lay
    d = torch.cat(ds)
    t = torch.cat(ts)
    for k in range(model.ntypes):
        dk = d[t == k]
        model.d_mean[k] = dk.mean(0)
        model.d_inv_std[k] = 1.0 / torch.clamp(dk.std(0), min=1e-2 * dk.std(0).max().item())


STATS_LATTICE = (3.4, 4.2, 9)  # linspace of fcc lattice constants for the statistics
STATS_RATTLE = 0.15


def build_model(cfg, layout="any"):
    """Model with seeded weights and descriptor statistics from rattled fcc
    environments (a = 3.4 ... 4.2 A, rattle 0.15 A). Deterministic."""
    m = SeE2A(cfg, layout)
    envs = [fcc_environments(cfg, a, reps=3, rattle=STATS_RATTLE, seed=k)
            for k, a in enumerate(np.linspace(*STATS_LATTICE))]
    set_descriptor_stats(m, envs)
    return m.eval()


def energy_and_grad_fn(model):
    """(rij, nbr_type, atype) -> (atom_energy, dE_total/drij) via torch.func."""

    def f(rij, nbr_type, atype):
        def etot(x):
            ae = model(x, nbr_type, atype)
            return ae.sum(), ae

        g, (_, ae) = torch.func.grad_and_value(etot, has_aux=True)(rij)
        return ae, g

    return f


def metadata(cfg: ModelConfig, layout: str, source: str = "") -> dict:
    md = {
        "dprs.contract": CONTRACT,
        "dprs.type_map": json.dumps(list(cfg.type_map)),
        "dprs.rcut": repr(float(cfg.rcut)),
        "dprs.nlist": layout,
        "dprs.model_name": cfg.model_name,
        "dprs.descriptor": "se_e2_a",
    }
    if layout == "type_sel":
        md["dprs.sel"] = json.dumps([int(s) for s in cfg.sel])
    if source:
        md["dprs.source"] = source
    return md


def _example_inputs(cfg, layout, dtype, nloc=5, seed=0):
    """Example inputs with distinct, non-trivial sizes (so tracing keeps them symbolic)."""
    rng = np.random.default_rng(seed)
    nt = len(cfg.type_map)
    if layout == "type_sel":
        nnei = int(sum(cfg.sel))
    else:
        nnei = 7
    rij = np.zeros((nloc, nnei, 3))
    ntype = -np.ones((nloc, nnei), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(cfg.sel)])
    for i in range(nloc):
        if layout == "type_sel":
            for t in range(nt):
                m = 3
                rr = np.sort(rng.uniform(2.0, cfg.rcut + 0.5, m))
                v = rng.normal(size=(m, 3))
                v /= np.linalg.norm(v, axis=1)[:, None]
                rij[i, starts[t]:starts[t] + m] = v * rr[:, None]
                ntype[i, starts[t]:starts[t] + m] = t
        else:
            m = 5
            rr = rng.uniform(2.0, cfg.rcut + 0.5, m)
            v = rng.normal(size=(m, 3))
            v /= np.linalg.norm(v, axis=1)[:, None]
            rij[i, :m] = v * rr[:, None]
            ntype[i, :m] = rng.integers(0, nt, m)
    atype = rng.integers(0, nt, nloc).astype(np.int64)
    return (torch.tensor(rij, dtype=dtype), torch.tensor(ntype), torch.tensor(atype))


def export_onnx(model: SeE2A, path: str, dtype=torch.float64, source: str = "",
                opset: int = 18):
    """Trace energy+gradient with make_fx (symbolic shapes) and export to ONNX."""
    import onnx
    from torch.fx.experimental.proxy_tensor import make_fx

    cfg = model.cfg
    layout = model.layout
    import copy
    m = copy.deepcopy(model).to(dtype) if dtype != torch.float64 else model
    f = energy_and_grad_fn(m)
    args = _example_inputs(cfg, layout, dtype)
    with torch.no_grad():
        gm = make_fx(f, tracing_mode="symbolic", _allow_non_fake_inputs=True)(*args)
    nloc = torch.export.Dim("nloc", min=1)
    nnei = torch.export.Dim("nnei", min=1)
    dyn = {"rij": {0: nloc, 1: nnei}, "nbr_type": {0: nloc, 1: nnei}, "atype": {0: nloc}}

    class Wrapper(torch.nn.Module):
        def __init__(self, gm):
            super().__init__()
            self.gm = gm

        def forward(self, rij, nbr_type, atype):
            return self.gm(rij, nbr_type, atype)

    prog = torch.onnx.export(
        Wrapper(gm).eval(), args, dynamo=True, dynamic_shapes=dyn, opset_version=opset,
        input_names=["rij", "nbr_type", "atype"], output_names=["atom_energy", "dE_drij"],
        optimize=True, verbose=False)
    prog.save(path)
    om = onnx.load(path)
    # rename dynamic dims to readable names
    for vi in list(om.graph.input) + list(om.graph.output):
        dims = vi.type.tensor_type.shape.dim
        names = ["nloc", "nnei", "3"]
        for k, dm in enumerate(dims):
            if dm.dim_param:
                dm.dim_param = names[k]
    _strip_debug_info(om.graph)
    del om.metadata_props[:]
    for k, v in metadata(cfg, layout, source).items():
        p = om.metadata_props.add()
        p.key, p.value = k, v
    om.producer_name = "dprs-export"
    onnx.checker.check_model(om)
    onnx.save(om, path)
    return path


def _strip_debug_info(graph):
    """Drop the exporter's per-node debug metadata (stack traces with absolute
    paths and line numbers): smaller files, byte-identical rebuilds."""
    for seq in (graph.node, graph.input, graph.output, graph.value_info, graph.initializer):
        for item in seq:
            if hasattr(item, "metadata_props"):
                del item.metadata_props[:]
            if hasattr(item, "doc_string"):
                item.doc_string = ""
    for node in graph.node:
        for attr in node.attribute:
            if attr.g is not None and attr.g.ByteSize():
                _strip_debug_info(attr.g)
            for g in attr.graphs:
                _strip_debug_info(g)


def config_to_json(cfg: ModelConfig) -> str:
    return json.dumps(asdict(cfg))
