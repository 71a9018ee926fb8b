"""dprs-export: convert existing potentials to dprs ``local-v1`` ONNX models.

    dprs-export deepmd IN -o OUT.onnx [--precision float64|float32]

See docs/dprs-export.md.
"""

__version__ = "0.1.0"
