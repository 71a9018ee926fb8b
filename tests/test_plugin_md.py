"""Molecular dynamics with the fp64 test model: NVE conserves energy as
velocity Verlet should, NPT reaches the set pressure, and the plugin
survives LAMMPS's life cycle (clear, redefinition, unload, auto-load)."""

import os

import numpy as np
import pytest

import harness
import reference

MODEL = "test-any-fp64.onnx"
NATOMS = 256


def md_script(model, dt, steps, fix, thermo_every):
    return f"""
units metal
atom_style atomic
read_data conf.data
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
pair_style dprs {model}
pair_coeff * * {' '.join(harness.TYPE_MAP)}
velocity all create 600 1234 mom yes rot yes dist gaussian
timestep {dt}
{fix}
thermo {thermo_every}
thermo_style custom step temp pe etotal press vol
thermo_modify format float %.15g
run {steps}
"""


def thermo_rows(stdout):
    rows = []
    for ln in stdout.splitlines():
        parts = ln.split()
        if len(parts) == 6 and parts[0].isdigit():
            rows.append([float(v) for v in parts])
    return np.array(rows)


@pytest.fixture(scope="module")
def crystal(tmp_path_factory):
    cell, pos, types = reference.random_triclinic_system(seed=5, reps=(4, 4, 4), rattle=0.05, strain=0.0)
    wd = tmp_path_factory.mktemp("md")
    reference.write_lammps_data(wd / "conf.data", cell, pos, types)
    return wd


def nve_energy_error(wd, dt, time_ps=1.0):
    steps = int(round(time_ps / dt))
    proc = harness.run_lmp(
        md_script(harness.model(MODEL), dt, steps, "fix 1 all nve", steps // 50),
        wd, nprocs=2)
    a = thermo_rows(proc.stdout)
    e = a[:, 3] / NATOMS
    t = a[:, 0] * dt
    slope = np.polyfit(t, e, 1)[0]
    return np.max(np.abs(e - e[0])), slope, a[:, 1].mean()


def test_nve_energy_conservation(crystal):
    """Velocity Verlet keeps the total energy within a band that shrinks as
    dt² and shows no drift for a smooth potential. Bounds: over 1 ps at
    dt = 1 fs, |E(t) − E(0)| ≤ 2e-4 eV/atom and |drift| ≤ 2e-5 eV/atom/ps;
    halving dt shrinks the band 2.5–6× (4× in theory)."""
    dev1, slope1, temp = nve_energy_error(crystal, 0.001)
    dev2, slope2, _ = nve_energy_error(crystal, 0.0005)
    print(f"NVE at ~{temp:.0f} K: dt=1fs band {dev1:.2e} eV/atom drift {slope1:.2e} eV/atom/ps; "
          f"dt=0.5fs band {dev2:.2e} drift {slope2:.2e}; ratio {dev1 / dev2:.2f}")
    assert dev1 < 2e-4 and abs(slope1) < 2e-5
    assert abs(slope2) < 2e-5
    assert 2.5 < dev1 / dev2 < 6.0


def test_npt_reaches_set_pressure(crystal):
    """Sanity: from a strongly stretched start the barostat brings the mean
    pressure to the set point within its statistical error."""
    target = 1000.0
    steps = 6000
    proc = harness.run_lmp(
        md_script(harness.model(MODEL), 0.001, steps,
                  f"fix 1 all npt temp 300 300 0.1 iso {target} {target} 0.5", 10),
        crystal, nprocs=2)
    a = thermo_rows(proc.stdout)
    second_half = a[len(a) // 2:]
    press, vol = second_half[:, 4], second_half[:, 5]
    blocks = np.array_split(press, 10)
    means = np.array([b.mean() for b in blocks])
    stderr = means.std(ddof=1) / np.sqrt(len(means))
    print(f"NPT: start P {a[0, 4]:.0f} bar V {a[0, 5]:.1f}; last 3 ps <P> {press.mean():.0f} ± {stderr:.0f} bar, "
          f"<V> {vol.mean():.1f} Å³")
    assert abs(press.mean() - target) < max(4 * stderr, 300.0)
    assert abs(a[0, 4] - target) > 10 * max(4 * stderr, 300.0), "start should be far from the set point"


def test_life_cycle_clear_redefine_unload(crystal):
    """`clear`, a second `pair_style`, and `plugin unload` + `load` keep
    working (one ONNX Runtime environment per process) and give the same
    energy each time."""
    lmp = harness.new_lammps()
    energies = []
    for _ in range(2):
        harness.setup_system(lmp, crystal / "conf.data", harness.model(MODEL))
        lmp.command("run 0")
        energies.append(lmp.get_thermo("pe"))
        lmp.command(f"pair_style dprs {harness.model('test-typesel-fp64.onnx')}")
        lmp.command(f"pair_coeff * * {' '.join(harness.TYPE_MAP)}")
        lmp.command("run 0")
        energies.append(lmp.get_thermo("pe"))
        lmp.command("clear")
    lmp.command("plugin unload pair dprs")
    lmp.command(f"plugin load {harness.PLUGIN}")
    harness.setup_system(lmp, crystal / "conf.data", harness.model(MODEL))
    lmp.command("run 0")
    energies.append(lmp.get_thermo("pe"))
    lmp.close()
    assert np.ptp(energies) <= 1e-12 * abs(energies[0]), energies


def test_plugin_path_autoload(crystal, tmp_path):
    """LAMMPS auto-loads *plugin.so files from LAMMPS_PLUGIN_PATH."""
    link = harness.PLUGIN.parent / "libdprsplugin.so"
    if not link.exists():
        link = tmp_path / "libdprsplugin.so"
        os.symlink(harness.PLUGIN, link)
    script = md_script(harness.model(MODEL), 0.001, 0, "", 1).replace(f"plugin load {harness.PLUGIN}", "plugin list")
    proc = harness.run_lmp(script.replace("read_data conf.data", f"read_data {crystal / 'conf.data'}"),
                           tmp_path, env={"LAMMPS_PLUGIN_PATH": str(link.parent)})
    assert "pair style plugin dprs" in proc.stdout
