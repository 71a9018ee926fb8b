"""A tiny ONNX graph builder: named nodes, typed constants, a few composite
helpers. Everything here is plain ``onnx.helper``; nothing is traced."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 10  # ONNX Runtime 1.31 rejects the IR 14 that onnx 1.23 writes by default

_ELEM = {np.float64: TensorProto.DOUBLE, np.float32: TensorProto.FLOAT}


class Graph:
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype).type
        self.elem = _ELEM[self.dtype]
        self.nodes = []
        self.inits = []
        self._n = 0
        self._consts = {}

    def set_dtype(self, dtype):
        """Switches the precision of new constants/casts (mixed precision);
        returns the previous one."""
        prev = self.dtype
        self.dtype = np.dtype(dtype).type
        self.elem = _ELEM[self.dtype]
        return prev

    def name(self, hint="t"):
        self._n += 1
        return f"{hint}_{self._n}"

    # constants ------------------------------------------------------------
    def const(self, value, hint="c", dtype=None):
        """A float constant in the graph's precision (or ``dtype``)."""
        arr = np.asarray(value, dtype=dtype or self.dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key in self._consts:
            return self._consts[key]
        nm = self.name(hint)
        self.inits.append(numpy_helper.from_array(arr, nm))
        self._consts[key] = nm
        return nm

    def i64(self, value, hint="i"):
        return self.const(np.asarray(value, dtype=np.int64), hint, dtype=np.int64)

    # nodes ----------------------------------------------------------------
    def op(self, op_type, *inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def add(self, a, b):
        return self.op("Add", a, b)

    def sub(self, a, b):
        return self.op("Sub", a, b)

    def mul(self, a, b):
        return self.op("Mul", a, b)

    def div(self, a, b):
        return self.op("Div", a, b)

    def matmul(self, a, b):
        return self.op("MatMul", a, b)

    def tanh(self, a):
        return self.op("Tanh", a)

    def sigmoid(self, a):
        return self.op("Sigmoid", a)

    def where(self, c, a, b):
        return self.op("Where", c, a, b)

    def transpose(self, a, perm):
        return self.op("Transpose", a, perm=list(perm))

    def unsqueeze(self, a, axes):
        return self.op("Unsqueeze", a, self.i64(list(axes)))

    def squeeze(self, a, axes):
        return self.op("Squeeze", a, self.i64(list(axes)))

    def reduce_sum(self, a, axes, keepdims=0):
        return self.op("ReduceSum", a, self.i64(list(axes)), keepdims=keepdims)

    def slice(self, a, start, end, axis):
        return self.op("Slice", a, self.i64([start]), self.i64([end]), self.i64([axis]))

    def concat(self, parts, axis):
        if len(parts) == 1:
            return parts[0]
        return self.op("Concat", *parts, axis=axis)

    def gather(self, table, idx, axis=0):
        return self.op("Gather", table, idx, axis=axis)

    def reshape(self, a, shape):
        return self.op("Reshape", a, self.i64(list(shape)))

    def cast(self, a, to=None):
        return self.op("Cast", a, to=self.elem if to is None else to)

    def one_hot_mask(self, atype, t):
        """[N] int64 types -> [N] float (atype == t)."""
        return self.cast(self.op("Equal", atype, self.i64(t)))

    def scale(self, a, value, width):
        """a * value with the constant stored as a vector over the last axis
        (width). A scalar constant next to a MatMul is folded by ONNX Runtime's
        MatMulScaleFusion into a *float32* ``alpha`` attribute even in a float64
        graph (1e-9 relative error for 0.2); a vector constant is not."""
        return self.mul(a, self.const(np.full(int(width), value), "scale"))

    def sum_all(self, parts):
        acc = parts[0]
        for p in parts[1:]:
            acc = self.add(acc, p)
        return acc

    # model ---------------------------------------------------------------
    def finish(self, inputs, outputs, metadata, doc=""):
        g = helper.make_graph(self.nodes, "dprs_deepmd", inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="dprs-export", doc_string=doc)
        m.ir_version = IR_VERSION
        for k, v in metadata.items():
            p = m.metadata_props.add()
            p.key, p.value = k, str(v)
        onnx.checker.check_model(m, full_check=True)
        return m
