"""dprs: deep potentials for LAMMPS, and the analyses of what they produce.

- ``dprs.postproc``: MSD and D per axis, VACF/VDOS, g(r), flux maps, chains,
  2PT and Arrhenius fits on LAMMPS dumps or on arrays, with numpy results.
- the ``postproc`` and ``dprs-export`` commands.
- ``libdprs.so``, the LAMMPS plugin for ``pair_style dprs``.
"""

from ._native import __version__
from . import postproc

__all__ = ["__version__", "postproc"]
