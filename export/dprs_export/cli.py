"""Command line: ``dprs-export deepmd IN -o OUT.onnx [--precision float64|float32|mixed]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _deepmd(a):
    from .deepmd import convert
    from .nets import Unsupported
    from .verify import VerificationFailed, summary

    out = Path(a.output) if a.output else Path(a.input).with_suffix(".onnx")
    try:
        compress = None
        if a.compress:
            compress = dict(rmin=a.compress_rmin, tol=a.compress_tol,
                            max_pieces=a.compress_max_pieces)
        m, record = convert(a.input, out, precision=a.precision, compress=compress,
                            verify=not a.no_verify)
    except Unsupported as e:
        print(f"dprs-export: {a.input}: unsupported DeePMD-kit model: {e}", file=sys.stderr)
        return 2
    except VerificationFailed as e:
        print(f"dprs-export: {a.input}: refused: {e}", file=sys.stderr)
        return 3
    except FileNotFoundError as e:
        print(f"dprs-export: {e}", file=sys.stderr)
        return 1
    md = {p.key: p.value for p in m.metadata_props}
    print(f"dprs-export: wrote {out} ({md['dprs.source']}, {a.precision}, type map "
          f"{md['dprs.type_map']}, rcut {md['dprs.rcut']}, "
          f"sel {md.get('dprs.sel', md.get('dprs.max_neighbours'))}, layout {md['dprs.nlist']})")
    if "dprs.compression" in md:
        import json
        c = json.loads(md["dprs.compression"])
        pieces = sorted({n["pieces"] for n in c["nets"]})
        terms = c["nets"][0]["terms"]
        worst = max(max(n["value_err"], n["derivative_err"]) for n in c["nets"])
        print(f"dprs-export: compressed {len(c['nets'])} embedding net(s), r >= {c['rmin']} Å: "
              f"Chebyshev pieces {pieces} of {terms} terms, max relative error {worst:.1e} "
              "(value, d/dx)")
    print(f"dprs-export: {out}: {summary(record)}")
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
    d.add_argument("--precision", choices=["float64", "float32", "mixed"], default="float64",
                   help="floating-point type of the ONNX graph (default float64); mixed: "
                        "float64 inputs, geometry and outputs, float32 networks")
    d.add_argument("--compress", action="store_true",
                   help="replace the se_e2_a embedding nets by piecewise Chebyshev expansions "
                        "in the embedding input (tabulation, like `dp compress`; see "
                        "docs/dprs-export.md)")
    d.add_argument("--compress-rmin", type=float, default=1.0, metavar="Å",
                   help="smallest neighbour distance the expansion covers (default 1.0)")
    d.add_argument("--compress-tol", type=float, default=1e-10,
                   help="relative accuracy of the embedding and its derivative (default 1e-10)")
    d.add_argument("--compress-max-pieces", type=int, default=256,
                   help="most pieces tried per embedding net (default 256; each piece is a "
                        "32-term Chebyshev expansion)")
    d.add_argument("--no-verify", action="store_true",
                   help="do not check the written model against DeePMD-kit's own evaluator "
                        "of IN (the default needs deepmd-kit and the model's backend in this "
                        "Python); the model's metadata (dprs.validated) then says so")
    d.set_defaults(func=_deepmd)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
