"""The same system under `mpirun -np 1/2/4` and different processor grids:
identical energies, forces and virials for `run 0`, and the same NVE
trajectory over 100 steps."""

import numpy as np
import pytest

import harness
import reference

pytestmark = pytest.mark.mpi

LAYOUTS = [
    (1, ""),
    (2, "processors 2 1 1"),
    (2, "processors 1 1 2"),
    (4, ""),
]


def script(data, model, steps):
    return f"""
units metal
atom_style atomic
atom_modify map array
{{processors}}
read_data {data}
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
pair_style dprs {model}
pair_coeff * * {' '.join(harness.TYPE_MAP)}
velocity all create 600 4928459 mom yes rot yes dist gaussian loop geom
timestep 0.001
fix nve all nve
compute pv all pressure NULL virial
thermo_style custom step pe ke c_pv[1] c_pv[2] c_pv[3] c_pv[4] c_pv[5] c_pv[6]
dump d all custom {max(steps, 1)} forces.dump id fx fy fz x y z
dump_modify d sort id format float %.17g
run 0
print "RUN0 $(pe:%.17g) $(c_pv[1]:%.17g) $(c_pv[2]:%.17g) $(c_pv[3]:%.17g) $(c_pv[4]:%.17g) $(c_pv[5]:%.17g) $(c_pv[6]:%.17g)"
run {steps}
print "RUNN $(pe:%.17g) $(ke:%.17g)"
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cell, pos, types = reference.random_triclinic_system(seed=5, reps=(4, 4, 4), rattle=0.05, strain=0.03)
    base = tmp_path_factory.mktemp("mpi")
    data = base / "conf.data"
    reference.write_lammps_data(data, cell, pos, types)
    out = {}
    for nprocs, grid in LAYOUTS:
        wd = base / f"np{nprocs}{grid.replace(' ', '')}"
        wd.mkdir()
        text = script(data, harness.model("test-typesel-fp64.onnx"), 100).replace("{processors}", grid)
        proc = harness.run_lmp(text, wd, nprocs=nprocs)
        frames = (wd / "forces.dump").read_text().split("ITEM: TIMESTEP")
        rows = []
        for frame in frames[1:]:
            body = frame.split("ITEM: ATOMS")[1].splitlines()[1:]
            a = np.array([[float(v) for v in ln.split()] for ln in body if ln.strip()])
            rows.append(a[np.argsort(a[:, 0])][:, 1:])
        out[(nprocs, grid)] = dict(
            run0=harness.printed(proc.stdout, "RUN0")[0],
            runn=harness.printed(proc.stdout, "RUNN")[0],
            first=rows[0],
            last=rows[-1],
        )
    return out


def test_run0_is_rank_invariant(runs):
    serial = runs[(1, "")]
    for key, r in runs.items():
        e_rel = abs(r["run0"][0] - serial["run0"][0]) / abs(serial["run0"][0])
        v_rel = np.max(np.abs(r["run0"][1:] - serial["run0"][1:])) / np.max(np.abs(serial["run0"][1:]))
        f_rel = np.max(np.abs(r["first"][:, :3] - serial["first"][:, :3])) / np.max(np.abs(serial["first"][:, :3]))
        print(f"{key}: energy {e_rel:.1e} virial {v_rel:.1e} forces {f_rel:.1e}")
        assert e_rel < 1e-10 and v_rel < 1e-10 and f_rel < 1e-10, key


def test_nve_trajectory_is_rank_invariant(runs):
    """After 100 steps the summation order of ghost forces has had time to
    matter only at round-off level, amplified by the dynamics."""
    serial = runs[(1, "")]
    for key, r in runs.items():
        e_rel = abs(r["runn"][0] - serial["runn"][0]) / abs(serial["runn"][0])
        x_abs = np.max(np.abs(r["last"][:, 3:] - serial["last"][:, 3:]))
        print(f"{key}: pe after 100 steps {e_rel:.1e}, positions {x_abs:.1e} Å")
        assert e_rel < 1e-10 and x_abs < 1e-9, key
