"""Console scripts of the wheel."""

import os
import sys


def postproc():
    """The ``postproc`` command: the same Rust code as the postproc executable."""
    from ._native import postproc_main

    argv = [os.path.basename(sys.argv[0]) or "postproc"] + sys.argv[1:]
    sys.exit(postproc_main(argv))
