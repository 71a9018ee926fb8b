"""DeePMD-kit's neural networks (dpmodel ``NativeLayer`` semantics) as ONNX
subgraphs, forward and hand-written backward.

A layer computes (deepmd/dpmodel/utils/network.py, NativeLayer.call)

    z = x W + b                      (b optional)
    y = act(z)
    y = y * idt                      (if ``use_timestep``/idt present)
    y = y + x                        (resnet and W square)
    y = y + [x, x]                   (resnet and W doubles the width)
"""

from __future__ import annotations

import math

import numpy as np

from .graph import Graph

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

# TensorFlow's tf.nn.gelu(approximate=True), which DeePMD-kit's TF backend uses
# for "gelu_tf", casts 0.044715 from float32 even in float64 graphs
# (tensorflow/python/ops/nn_ops.py): 1e-9 off the exact constant
_GELU_COEF = {"gelu": 0.044715, "gelu_tf": 0.044715,
              "gelu_tf@tensorflow": float(np.float32(0.044715))}

SUPPORTED_ACTIVATIONS = ("tanh", "gelu", "gelu_tf", "relu", "relu6", "softplus", "sigmoid",
                         "silu", "none", "linear")


class Unsupported(ValueError):
    """The model uses something dprs-export cannot reproduce exactly."""


def check_activation(name):
    if name is None:
        return "none"
    n = str(name).lower()
    if n not in SUPPORTED_ACTIVATIONS:
        raise Unsupported(f"activation function {name!r} is not supported "
                          f"(supported: {', '.join(SUPPORTED_ACTIVATIONS)})")
    return n


def act_forward(g: Graph, name, z):
    """Returns (y, aux) where aux is what the derivative needs."""
    if name == "tanh":
        y = g.tanh(z)
        return y, y
    if name in _GELU_COEF:
        # 0.5 z (1 + tanh(c (z + k z^3)))  (DeePMD's gelu and gelu_tf)
        z3 = g.mul(g.mul(z, z), z)
        inner = g.mul(g.const(SQRT_2_OVER_PI), g.add(z, g.mul(g.const(_GELU_COEF[name]), z3)))
        t = g.tanh(inner)
        y = g.mul(g.mul(g.const(0.5), z), g.add(g.const(1.0), t))
        return y, t
    if name == "relu":
        y = g.op("Relu", z)
        return y, None
    if name == "relu6":
        y = g.op("Clip", z, g.const(0.0), g.const(6.0))
        return y, None
    if name == "softplus":
        # log(1 + exp(z)) in a stable form: max(z, 0) + log1p(exp(-|z|))
        y = g.add(g.op("Relu", z),
                  g.op("Log", g.add(g.const(1.0), g.op("Exp", g.op("Neg", g.op("Abs", z))))))
        return y, None
    if name == "sigmoid":
        s = g.sigmoid(z)
        return s, s
    if name == "silu":
        s = g.sigmoid(z)
        return g.mul(z, s), s
    if name in ("none", "linear"):
        return z, None
    raise Unsupported(name)


def act_backward(g: Graph, name, z, aux, gy):
    """d act / dz * gy."""
    if name == "tanh":
        return g.mul(gy, g.sub(g.const(1.0), g.mul(aux, aux)))
    if name in _GELU_COEF:
        t = aux
        dinner = g.mul(g.const(SQRT_2_OVER_PI),
                       g.add(g.const(1.0), g.mul(g.const(3 * _GELU_COEF[name]), g.mul(z, z))))
        d = g.add(g.mul(g.const(0.5), g.add(g.const(1.0), t)),
                  g.mul(g.mul(g.mul(g.const(0.5), z), g.sub(g.const(1.0), g.mul(t, t))), dinner))
        return g.mul(gy, d)
    if name == "relu":
        return g.mul(gy, g.cast(g.op("Greater", z, g.const(0.0))))
    if name == "relu6":
        inside = g.op("And", g.op("Greater", z, g.const(0.0)), g.op("Less", z, g.const(6.0)))
        return g.mul(gy, g.cast(inside))
    if name == "softplus":
        return g.mul(gy, g.sigmoid(z))
    if name == "sigmoid":
        return g.mul(gy, g.mul(aux, g.sub(g.const(1.0), aux)))
    if name == "silu":
        s = aux
        return g.mul(gy, g.add(s, g.mul(g.mul(z, s), g.sub(g.const(1.0), s))))
    if name in ("none", "linear"):
        return gy
    raise Unsupported(name)


class Net:
    """A serialized DeePMD network (EmbeddingNetwork / FittingNetwork / plain
    list of layers) mapped to ONNX."""

    def __init__(self, data: dict, tf_fitting: bool = False, tf_backend: bool = False):
        """``tf_fitting``: a fitting net written by DeePMD-kit's TensorFlow backend,
        whose graph adds the residual only for hidden layers after the first with
        equal widths (deepmd/tf/fit/ener.py: ``ii >= 1 and n_neuron[ii] ==
        n_neuron[ii - 1]``, with the timestep ``idt`` only there), never the
        width-doubling residual that the dpmodel layer (and the serialized
        ``resnet: true``) would apply. DeePMD-kit 3.2.0's TF serialization even
        carries an untrained ``idt`` for a first layer whose width equals the
        descriptor's; the TF graph has none.

        ``tf_backend``: any net of a TensorFlow-trained model (TF's gelu_tf).
        ``tf_fitting`` implies it."""
        tf_backend = tf_backend or tf_fitting
        layers = data["layers"]
        self.layers = []
        for k, ly in enumerate(layers):
            cls = ly.get("@class", "Layer")
            if cls != "Layer":
                raise Unsupported(f"network layer class {cls!r}")
            v = ly["@variables"]
            w = np.asarray(v["w"], dtype=np.float64)
            b = None if v.get("b") is None else np.asarray(v["b"], dtype=np.float64)
            if not ly.get("bias", True):
                b = None
            idt = v.get("idt")
            idt = None if idt is None else np.asarray(idt, dtype=np.float64)
            act = check_activation(ly.get("activation_function"))
            if act == "gelu_tf" and tf_backend:
                act = "gelu_tf@tensorflow"
            resnet = bool(ly.get("resnet"))
            if tf_fitting and (k == 0 or w.shape[0] != w.shape[1]):
                # no residual and no timestep in the TF graph; a serialized idt
                # here is DeePMD-kit's random initial value, never trained
                resnet = False
                idt = None
            self.layers.append(dict(w=w, b=b, idt=idt, act=act, resnet=resnet))

    def forward(self, g: Graph, x):
        """``x`` is 2-D [rows, width] (so that ONNX Runtime fuses MatMul + Add
        into one Gemm). Returns (y, tape) for backward."""
        tape = []
        for ly in self.layers:
            w = ly["w"]
            z = g.matmul(x, g.const(w, "w"))
            if ly["b"] is not None:
                z = g.add(z, g.const(ly["b"], "b"))
            a, aux = act_forward(g, ly["act"], z)
            y = a
            if ly["idt"] is not None:
                y = g.mul(y, g.const(ly["idt"], "idt"))
            res = None
            if ly["resnet"] and w.shape[1] == w.shape[0]:
                y = g.add(y, x)
                res = "same"
            elif ly["resnet"] and w.shape[1] == 2 * w.shape[0]:
                # y + [x, x] as a broadcast over a [.., 2, n] view: no Concat copy
                n = w.shape[0]
                y = g.reshape(g.add(g.reshape(y, [-1, 2, n]), g.reshape(x, [-1, 1, n])),
                              [-1, 2 * n])
                res = "double"
            tape.append((ly, z, aux, res))
            x = y
        return x, tape

    @staticmethod
    def backward(g: Graph, tape, gy):
        """Given dL/dy (same shape as the output), returns dL/dx."""
        for ly, z, aux, res in reversed(tape):
            ga = gy
            if ly["idt"] is not None:
                ga = g.mul(ga, g.const(ly["idt"], "idt"))
            gz = act_backward(g, ly["act"], z, aux, ga)
            gx = g.matmul(gz, g.const(np.ascontiguousarray(ly["w"].T), "wT"))
            if res == "same":
                gx = g.add(gx, gy)
            elif res == "double":
                n = ly["w"].shape[0]
                gx = g.add(gx, g.reduce_sum(g.reshape(gy, [-1, 2, n]), [1]))
            gy = gx
        return gy


def act_numpy(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name in _GELU_COEF:
        return 0.5 * z * (1.0 + np.tanh(SQRT_2_OVER_PI * (z + _GELU_COEF[name] * z ** 3)))
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "relu6":
        return np.clip(z, 0.0, 6.0)
    if name == "softplus":
        return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "silu":
        return z / (1.0 + np.exp(-z))
    if name in ("none", "linear"):
        return z
    raise Unsupported(name)


def net_numpy(net: "Net", x):
    """The same network as ``Net.forward`` in numpy float64 (for tabulation)."""
    for ly in net.layers:
        w = ly["w"]
        z = x @ w
        if ly["b"] is not None:
            z = z + ly["b"]
        y = act_numpy(ly["act"], z)
        if ly["idt"] is not None:
            y = y * ly["idt"]
        if ly["resnet"] and w.shape[1] == w.shape[0]:
            y = y + x
        elif ly["resnet"] and w.shape[1] == 2 * w.shape[0]:
            y = y + np.concatenate([x, x], axis=-1)
        x = y
    return x
