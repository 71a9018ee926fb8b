"""Forces and virial from the plugin against finite differences of the
plugin's own energy, through LAMMPS, on a periodic triclinic 2-type box
with neighbours straddling the cutoff."""

import numpy as np
import pytest

import harness
import reference
from test_plugin_reference import lammps_state

MODEL = "test-any-fp64.onnx"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    cell, pos, types = reference.random_triclinic_system(seed=11, reps=(2, 2, 2))
    data = tmp_path_factory.mktemp("fd") / "conf.data"
    L, p, _ = reference.write_lammps_data(data, cell, pos, types)
    return data, L, p, types


def test_configuration_has_pairs_near_the_cutoff(system):
    """Guards the next tests: they are only meaningful if some neighbours sit
    within 0.1 Å of rcut, where the switching function acts."""
    _, L, p, _ = system
    m = reference.load_model(harness.model(MODEL))
    _, _, R = reference.neighbor_list(p, L, m.rcut + 0.2)
    r = np.linalg.norm(np.asarray(R).reshape(-1, 3), axis=1)
    assert np.sum(np.abs(r - m.rcut) < 0.1) >= 4


def energy_at(lmp, atom_id, xyz):
    lmp.command(f"set atom {atom_id} x {xyz[0]:.17g} y {xyz[1]:.17g} z {xyz[2]:.17g}")
    lmp.command("run 0")
    return lmp.get_thermo("pe")


def test_forces_are_minus_energy_gradient(system):
    data, _, p, _ = system
    lmp = harness.new_lammps()
    harness.setup_system(lmp, data, harness.model(MODEL))
    lmp.command("thermo_style custom step pe")
    lmp.command("run 0")
    forces = harness.by_id(lmp, "f")
    h = 1e-4
    rng = np.random.default_rng(0)
    worst = 0.0
    for k in rng.choice(len(p), size=8, replace=False):
        x0 = p[k].copy()
        for d in range(3):
            xp, xm = x0.copy(), x0.copy()
            xp[d] += h
            xm[d] -= h
            fd = -(energy_at(lmp, k + 1, xp) - energy_at(lmp, k + 1, xm)) / (2 * h)
            worst = max(worst, abs(fd - forces[k, d]))
        energy_at(lmp, k + 1, x0)
    lmp.close()
    rel = worst / np.max(np.abs(forces))
    print(f"force FD max rel error {rel:.2e}")
    assert rel < 1e-6


def test_virial_is_minus_strain_derivative(system, tmp_path):
    """W_ab = −∂E/∂ε_ab for positions and cell mapped by (I + ε); lower-
    triangular ε keeps LAMMPS's restricted triclinic form and, the virial
    being symmetric, reaches all six components."""
    data, L, p, types = system
    model = harness.model(MODEL)
    lmp = harness.new_lammps()
    harness.setup_system(lmp, data, model)
    virial = lammps_state(lmp)["virial"]
    lmp.close()

    def strained_energy(eps):
        F = np.eye(3) + eps
        f = tmp_path / "strained.data"
        reference.write_lammps_data(f, L @ F, p @ F, types)
        lmp = harness.new_lammps()
        harness.setup_system(lmp, f, model)
        lmp.command("run 0")
        e = lmp.get_thermo("pe")
        lmp.close()
        return e

    h = 1e-5
    fd = np.zeros(6)
    for k, (a, b) in enumerate([(0, 0), (1, 1), (2, 2), (1, 0), (2, 0), (2, 1)]):
        eps = np.zeros((3, 3))
        eps[a, b] = h
        fd[k] = -(strained_energy(eps) - strained_energy(-eps)) / (2 * h)
    rel = np.max(np.abs(fd - virial)) / np.max(np.abs(virial))
    print(f"virial FD max rel error {rel:.2e}")
    assert rel < 1e-6
