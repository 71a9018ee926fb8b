"""Command line: ``dprs-export deepmd IN -o OUT.onnx [--precision float64|float32]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _deepmd(a):
    from .deepmd import convert
    from .nets import Unsupported

    out = Path(a.output) if a.output else Path(a.input).with_suffix(".onnx")
    try:
        m = convert(a.input, out, precision=a.precision)
    except Unsupported as e:
        print(f"dprs-export: {a.input}: unsupported DeePMD-kit model: {e}", file=sys.stderr)
        return 2
    md = {p.key: p.value for p in m.metadata_props}
    print(f"dprs-export: wrote {out} ({md['dprs.source']}, {a.precision}, type map "
          f"{md['dprs.type_map']}, rcut {md['dprs.rcut']}, sel {md['dprs.sel']})")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="dprs-export",
        description="Convert a potential to a dprs local-v1 ONNX model (docs/dprs-export.md).")
    ap.add_argument("--version", action="version", version=f"dprs-export {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser(
        "deepmd", help="a DeePMD-kit 3.x energy model (se_e2_a, se_e2_r)",
        description="Convert a DeePMD-kit 3.x energy model. IN is any model file DeePMD-kit "
                    "can serialize (.pb, .pth, .dp, ...; needs deepmd-kit installed) or an "
                    "already serialized model (.json as written by "
                    "export/fixtures/make_fixtures.py, or DeePMD-kit's .yaml).")
    d.add_argument("input", metavar="IN")
    d.add_argument("-o", "--output", metavar="OUT.onnx")
    d.add_argument("--precision", choices=["float64", "float32"], default="float64",
                   help="floating-point type of the ONNX graph (default float64)")
    d.set_defaults(func=_deepmd)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
