"""LAMMPS workflows with pair_style dprs: minimize, rerun with another
model, write_restart/read_restart, hybrid/overlay with NULL mapping,
PHONON dynamical_matrix, and multi-partition NEB."""

import subprocess

import numpy as np
import pytest

import harness
import reference
from test_plugin_deviation import perturbed

MODEL = "test-any-fp64.onnx"


def numbers(line):
    """The numbers of a thermo line, or None for any other line."""
    try:
        return [float(v) for v in line.split()] or None
    except ValueError:
        return None


@pytest.fixture(scope="module")
def crystal(tmp_path_factory):
    cell, pos, types = reference.random_triclinic_system(seed=21, reps=(3, 3, 3), a=3.68, strain=0.02, rattle=0.08)
    wd = tmp_path_factory.mktemp("wf")
    L, p, _ = reference.write_lammps_data(wd / "conf.data", cell, pos, types)
    return wd, L, p, types


def test_minimize_reaches_a_stationary_point(crystal):
    wd, L, p, types = crystal
    lmp = harness.new_lammps()
    harness.setup_system(lmp, wd / "conf.data", harness.model(MODEL))
    lmp.command("run 0")
    e0 = lmp.get_thermo("pe")
    lmp.command("min_style cg")
    lmp.command("minimize 0 1e-6 2000 20000")
    e1 = lmp.get_thermo("pe")
    f = harness.by_id(lmp, "f")
    lmp.close()
    assert e1 < e0
    assert np.max(np.abs(f)) < 1e-4, np.max(np.abs(f))


def test_rerun_with_another_model(crystal, tmp_path):
    """Frames of an MD with model A re-evaluated by `rerun` with model B equal
    the reference evaluation of model B on the same frames."""
    wd, *_ = crystal
    model_b = perturbed(harness.model(MODEL), tmp_path / "b.onnx", seed=7)
    common = f"""
units metal
atom_style atomic
read_data {wd / 'conf.data'}
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
"""
    harness.run_lmp(common + f"""
pair_style dprs {harness.model(MODEL)}
pair_coeff * * O H
velocity all create 600 99 mom yes rot yes
fix 1 all nve
timestep 0.001
dump d all custom 10 traj.dump id type x y z
dump_modify d sort id format float %.17g
run 30
""", tmp_path)
    proc = harness.run_lmp(common + f"""
pair_style dprs {model_b}
pair_coeff * * O H
thermo_style custom step pe
thermo 10
thermo_modify format float %.17g
rerun traj.dump dump x y z box yes
""", tmp_path)
    rerun_pe = [row[1] for row in map(numbers, proc.stdout.splitlines()) if row is not None and len(row) == 2]
    frames = (tmp_path / "traj.dump").read_text().split("ITEM: TIMESTEP")[1:]
    assert len(rerun_pe) == len(frames) == 4
    for pe, frame in zip(rerun_pe, frames):
        lines = frame.splitlines()
        box = [list(map(float, lines[k].split())) for k in (5, 6, 7)]
        xlo, xhi, xy = box[0]
        ylo, yhi, xz = box[1]
        zlo, zhi, yz = box[2]
        # bounds in the dump are the bounding box of the tilted cell
        xlo_b = xlo - min(0.0, xy, xz, xy + xz)
        xhi_b = xhi - max(0.0, xy, xz, xy + xz)
        ylo_b, yhi_b = ylo - min(0.0, yz), yhi - max(0.0, yz)
        cell = np.array([[xhi_b - xlo_b, 0, 0], [xy, yhi_b - ylo_b, 0], [xz, yz, zhi - zlo]])
        atoms = np.array([list(map(float, ln.split())) for ln in lines[9:] if ln.strip()])
        ref = reference.evaluate(model_b, atoms[:, 2:5], atoms[:, 1].astype(int) - 1, cell)
        assert abs(pe - ref["energy"]) < 1e-10 * abs(ref["energy"])


def test_restart_continues_the_same_trajectory(crystal, tmp_path):
    """40 steps in one go = 20 steps, write_restart, read_restart with the pair
    style re-declared, 20 more steps."""
    wd, *_ = crystal
    head = f"""
units metal
atom_style atomic
plugin load {harness.PLUGIN}
"""
    pair = f"""
pair_style dprs {harness.model(MODEL)}
pair_coeff * * O H
thermo_style custom step pe ke
thermo_modify format float %.17g
"""
    setup = f"""
read_data {wd / 'conf.data'}
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
{pair}
velocity all create 600 4321 mom yes rot yes
fix 1 all nve
timestep 0.001
"""
    whole = harness.run_lmp(head + setup + "run 40\nprint \"FINAL $(pe:%.17g) $(ke:%.17g)\"\n", tmp_path)
    harness.run_lmp(head + setup + "run 20\nwrite_restart half.restart\n", tmp_path)
    resumed = harness.run_lmp(head + "read_restart half.restart\n" + pair
                              + "fix 1 all nve\ntimestep 0.001\nrun 20\nprint \"FINAL $(pe:%.17g) $(ke:%.17g)\"\n",
                              tmp_path)
    a = harness.printed(whole.stdout, "FINAL")[0]
    b = harness.printed(resumed.stdout, "FINAL")[0]
    assert np.all(np.abs(a - b) <= 1e-10 * np.abs(a)), (a, b)


def test_hybrid_overlay_with_null_mapping(crystal, tmp_path):
    """hybrid/overlay dprs + zbl, with the second type mapped to NULL for
    dprs: E = E_dprs(type-1 atoms only) + E_zbl."""
    wd, L, p, types = crystal
    base = f"""
units metal
atom_style atomic
read_data {wd / 'conf.data'}
mass * 20.0
plugin load {harness.PLUGIN}
"""
    zbl = "pair_coeff * * zbl 8.0 8.0\n"
    both = harness.run_lmp(base + f"""
pair_style hybrid/overlay dprs {harness.model(MODEL)} zbl 2.4 3.0
pair_coeff * * dprs O NULL
{zbl}run 0
print "E $(pe:%.17g)"
""", tmp_path)
    only_zbl = harness.run_lmp(base + "pair_style zbl 2.4 3.0\npair_coeff * * 8.0 8.0\nrun 0\nprint \"E $(pe:%.17g)\"\n",
                               tmp_path)
    keep = types == 0
    ref = reference.evaluate(harness.model(MODEL), p[keep], types[keep], L)
    e_both = harness.printed(both.stdout, "E")[0][0]
    e_zbl = harness.printed(only_zbl.stdout, "E")[0][0]
    assert abs(e_zbl) > 0, "zbl must contribute for the test to mean anything"
    assert abs(e_both - (ref["energy"] + e_zbl)) < 1e-10 * abs(ref["energy"])


def test_dynamical_matrix_equals_finite_difference_hessian(tmp_path):
    """PHONON's dynamical_matrix through the plugin equals the mass-weighted
    Hessian from central differences of the reference forces (metal units:
    eV/Å²/(g/mol), no further factor)."""
    cell, pos, types = reference.random_triclinic_system(seed=31, reps=(2, 2, 2), a=3.68, strain=0.0, rattle=0.05)
    L, p, _ = reference.write_lammps_data(tmp_path / "conf.data", cell, pos, types)
    model = harness.model(MODEL)
    harness.run_lmp(f"""
units metal
atom_style atomic
atom_modify map array
read_data conf.data
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
pair_style dprs {model}
pair_coeff * * O H
dynamical_matrix all regular 1e-4 file dynmat.dat
""", tmp_path)
    n = len(p)
    lammps = np.loadtxt(tmp_path / "dynmat.dat").reshape(3 * n, 3 * n)
    h = 1e-4
    hessian = np.zeros((3 * n, 3 * n))
    for i in range(n):
        for d in range(3):
            plus, minus = p.copy(), p.copy()
            plus[i, d] += h
            minus[i, d] -= h
            df = (reference.evaluate(model, plus, types, L)["forces"]
                  - reference.evaluate(model, minus, types, L)["forces"])
            hessian[3 * i + d] = -df.reshape(-1) / (2 * h)
    m = np.repeat(np.where(types == 0, harness.MASSES[0], harness.MASSES[1]), 3)
    expected = hessian / np.sqrt(np.outer(m, m))
    # both sides are central differences with h = 1e-4 Å: O(h²) ~ 1e-8
    assert np.max(np.abs(lammps - expected)) < 1e-6 * np.max(np.abs(expected))


@pytest.mark.mpi
def test_neb_multi_partition(tmp_path):
    """A vacancy hop by NEB on 4 partitions (`mpirun -np 4 lmp -partition
    4x1`): every replica's printed energy equals the reference energy of that
    replica's final coordinates, and the path has a positive barrier."""
    cell, pos = reference.fcc_supercell(3.68, (3, 3, 3))
    types = np.random.default_rng(3).integers(0, 2, len(pos))
    hop = int(np.argmin(np.linalg.norm(pos - np.array([1.84, 1.84, 0.0]), axis=1)))
    keep = np.arange(len(pos)) != 0  # vacancy at the origin
    L, p, _ = reference.write_lammps_data(tmp_path / "init.data", cell, pos[keep], types[keep])
    mover = int(np.sum(keep[:hop])) + 1
    (tmp_path / "final.coords").write_text(f"1\n{mover} 0.0 0.0 0.0\n")
    model = harness.model(MODEL)
    (tmp_path / "in.neb").write_text(f"""
units metal
atom_style atomic
atom_modify map array sort 0 0.0
read_data init.data
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
pair_style dprs {model}
pair_coeff * * O H
variable u uloop 20
fix 1 all neb 1.0
timestep 0.002
min_style quickmin
neb 0.0 0.05 300 100 50 final final.coords
write_dump all custom replica.$u.dump id type x y z modify sort id format float %.17g
""")
    proc = subprocess.run([str(harness.MPIRUN), "-np", "4", str(harness.LMP), "-nocite", "-partition", "4x1",
                           "-in", "in.neb"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rows = [r for r in map(numbers, proc.stdout.splitlines()) if r is not None and len(r) == 9 + 2 * 4]
    last = rows[-1]
    ebf, ebr = last[6], last[7]
    energies = last[10::2]
    assert ebf > 0.05 and ebr > 0.05, (ebf, ebr)
    for k, pe in enumerate(energies, start=1):
        atoms = np.loadtxt(tmp_path / f"replica.{k}.dump", skiprows=9)
        ref = reference.evaluate(model, atoms[:, 2:5], atoms[:, 1].astype(int) - 1, L)
        # thermo prints 8 significant digits
        assert abs(pe - ref["energy"]) < 1e-7 * abs(ref["energy"]), (k, pe, ref["energy"])
    assert max(energies[1:-1]) > max(energies[0], energies[-1])
