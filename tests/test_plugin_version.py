"""A plugin built against another LAMMPS's headers says so loudly when it is
loaded (the C++ Pair layout differs between stable updates)."""

import os
from pathlib import Path

import pytest

import harness

pytestmark = pytest.mark.version

OTHER = os.environ.get("DPRS_PLUGIN_OTHER")


@pytest.mark.skipif(not OTHER, reason="DPRS_PLUGIN_OTHER (a build for another LAMMPS) not given")
def test_foreign_build_warns(tmp_path):
    proc = harness.run_lmp(f"plugin load {OTHER}\nplugin list\n", tmp_path)
    assert "dprs plugin was compiled against the headers of LAMMPS" in proc.stdout, proc.stdout
    assert "Rebuild dprs against this LAMMPS" in proc.stdout


def test_own_build_loads_quietly(tmp_path):
    proc = harness.run_lmp(f"plugin load {harness.PLUGIN}\nplugin list\n", tmp_path)
    assert "pair style plugin dprs" in proc.stdout
    assert "WARNING" not in proc.stdout, proc.stdout
    assert Path(harness.PLUGIN).is_file()
