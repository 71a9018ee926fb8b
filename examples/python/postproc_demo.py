# %% [markdown]
# # postproc from Python
#
# The analyses of the `postproc` command, called from Python: the same code,
# the same numbers, results as numpy arrays. Units are LAMMPS `metal`: Å, ps,
# Å/ps, Å²/ps for D, THz, K, g/mol.
#
# Run `make demo` first for the demo dump (`out/demo/dump.lammpstrj`, frames
# every 10 steps of 1 fs), or pass another dump and its time per MD step:
# `python postproc_demo.py DUMP TIMESTEP_PS`.

# %%
import sys

import numpy as np

from dprs import postproc

dump = sys.argv[1] if len(sys.argv) > 1 else "out/demo/dump.lammpstrj"
timestep = float(sys.argv[2]) if len(sys.argv) > 2 else 0.001

# %% [markdown]
# ## D per axis in four lines
# `read` names the dump (globs, .gz and .zst work too) and its time base;
# `msd` returns D per axis and plane with block-averaged standard errors.

# %%
traj = postproc.read(dump, timestep=timestep)
r = postproc.msd(traj)
print(r)  # D_x, D_y, D_z and D with their errors, Å²/ps
print({axis: r.D[axis] for axis in "xyz"})

# %% [markdown]
# The curves are numpy arrays: the MSD per axis (Å²) against time (ps).

# %%
print(r.time_ps[:5], r.msd_x_A2[:5])
# r.plot() draws them with matplotlib; r.to_pandas() gives a DataFrame.

# %% [markdown]
# ## VACF, VDOS and g(r)
# Velocities from the dump (or finite differences of the positions).

# %%
v = postproc.vdos(traj)
print(v)  # D from F(0) and Green–Kubo (Å²/ps), VDOS peak (THz)
g = postproc.rdf(traj)
print(g)  # first peak (Å) and coordination per type pair

# %% [markdown]
# ## Arrays you already have
# Positions `[frames, atoms, 3]` in Å, unwrapped; a box per frame (or one for
# all) as 3 lengths or a 3×3 cell; one type per atom; optional velocities in
# Å/ps. Here the frames of the dump are copied into arrays frame by frame,
# as one would from an MDAnalysis `Universe` (`ts.positions`,
# `ts.dimensions[:3]`) or a list of ASE `Atoms`.

# %%
rng = np.random.default_rng(0)
walk = np.cumsum(rng.normal(0.0, 0.05, size=(500, 64, 3)), axis=0)  # a random walk, Å
arrays = postproc.Trajectory.from_arrays(walk, box=[12.0, 12.0, 12.0], types=np.ones(64, int), dt=0.01)
w = postproc.msd(arrays)
# Each step adds 0.05² Å² per axis every 0.01 ps: D = 0.05² / (2 · 0.01) = 0.125 Å²/ps.
print(w.D["x"], w.D["y"], w.D["z"])

# %% [markdown]
# ## Errors
# A request the data cannot satisfy raises `PostprocError` (a `ValueError`)
# with the command line's message.

# %%
try:
    postproc.msd(traj, blocks=1)
except postproc.PostprocError as e:
    print("PostprocError:", e)
