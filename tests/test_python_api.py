"""dprs.postproc (the Python API) runs the code of the postproc command line:
every analysis equals `postproc ... --json` on the same dump, and arrays
handed over in memory give the same D as the dump they were written to.

The module is built here (`cargo build --release -p dprs-python`) and
imported from a temporary package folder: the Rust library as
dprs/_native.abi3.so next to a copy of python/dprs/*.py.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTPROC = Path(os.environ.get("DPRS_POSTPROC", ROOT / "build" / "bin" / "postproc"))
DT = 0.01


@pytest.fixture(scope="session")
def pp(tmp_path_factory):
    env = dict(os.environ, PYO3_PYTHON=sys.executable)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "dprs-python"], cwd=ROOT, env=env,
                   check=True)
    pkg = tmp_path_factory.mktemp("pkg") / "dprs"
    pkg.mkdir()
    for f in (ROOT / "python" / "dprs").glob("*.py"):
        shutil.copy(f, pkg / f.name)
    shutil.copy(ROOT / "target" / "release" / "lib_native.so", pkg / "_native.abi3.so")
    sys.path.insert(0, str(pkg.parent))
    try:
        from dprs import postproc
    finally:
        sys.path.remove(str(pkg.parent))
    assert Path(postproc.__file__).parent == pkg
    return postproc


def cli(*args, out):
    assert POSTPROC.is_file(), f"{POSTPROC} missing: run `make postproc` or set DPRS_POSTPROC"
    p = subprocess.run([str(POSTPROC), *map(str, args), "--json", "--no-plot", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def cli_error(*args, out):
    p = subprocess.run([str(POSTPROC), *map(str, args), "--out", str(out)], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ")
    return line[len("error: "):]


def read_csv(path):
    with open(path) as f:
        names = f.readline().strip().split(",")
        rows = [[float(c) if c else math.nan for c in line.strip().split(",")] for line in f]
    data = np.array(rows)
    return {n: data[:, i] for i, n in enumerate(names)}


def max_diff(py, truth, out, path=""):
    """Largest |difference| between the Python summary and the CLI's JSON;
    anything but numbers must be equal. Paths of the CLI's output files are
    not in the Python summary (it keeps no files unless asked)."""
    if isinstance(truth, dict):
        truth = {k: v for k, v in truth.items() if not (isinstance(v, str) and v.startswith(str(out)))}
        assert isinstance(py, dict) and set(py) == set(truth), (path, set(py) ^ set(truth))
        return max([max_diff(py[k], truth[k], out, f"{path}.{k}") for k in truth], default=0.0)
    if isinstance(truth, list) and truth and all(isinstance(v, (int, float)) or v is None for v in truth) \
            and not any(isinstance(v, bool) for v in truth):
        a = np.asarray(py, dtype=float)
        b = np.array([np.nan if v is None else v for v in truth], dtype=float)
        assert a.shape == b.shape, path
        assert np.array_equal(np.isnan(a), np.isnan(b)), path
        return float(np.nanmax(np.abs(a - b))) if a.size else 0.0
    if isinstance(truth, list):
        assert len(py) == len(truth), path
        return max([max_diff(p, t, out, f"{path}[{i}]") for i, (p, t) in enumerate(zip(py, truth))], default=0.0)
    if isinstance(truth, (int, float)) and not isinstance(truth, bool):
        return abs(float(py) - float(truth))
    assert py == truth, f"{path}: {py!r} != {truth!r}"
    return 0.0


def check_tables(result, folder):
    """The result's tables hold the CSV files of the CLI at full precision:
    equal to the nine digits the files keep."""
    assert result.tables
    for name, cols in result.tables.items():
        truth = read_csv(folder / f"{name}.csv")
        assert list(cols) == list(truth), name
        for c, v in cols.items():
            np.testing.assert_allclose(v, truth[c], rtol=1e-8, atol=1e-300, err_msg=f"{name}.{c}")


def make_system(n_frames=400, edge=4, a=3.0, seed=7, step=0.03, vib=0.1):
    """A two-type crystal of edge³ atoms whose atoms diffuse (random walk)
    and vibrate; unwrapped positions Å, velocities Å/ps, frames DT ps apart."""
    rng = np.random.default_rng(seed)
    n = edge**3
    site = np.array([[i, j, k] for i in range(edge) for j in range(edge) for k in range(edge)], float) * a
    drift = np.cumsum(rng.normal(0.0, step, (n_frames, n, 3)) * [1.0, 1.0, 0.5], axis=0)
    phase = rng.uniform(0, 2 * np.pi, (n, 3))
    t = np.arange(n_frames)[:, None, None] * DT
    w = 2 * np.pi * 6.0
    pos = site + drift + vib * np.sin(w * t + phase)
    vel = np.gradient(drift, DT, axis=0) + vib * w * np.cos(w * t + phase)
    types = np.where(np.arange(n) % 2 == 0, 1, 2)
    return pos, vel, types, np.array([edge * a] * 3)


def write_dump(path, pos, vel, types, box):
    """LAMMPS `dump custom id type xu yu zu vx vy vz`, rows in reverse id
    order (the reader sorts them), every number at full precision."""
    n = pos.shape[1]
    with open(path, "w") as f:
        for k in range(pos.shape[0]):
            f.write(f"ITEM: TIMESTEP\n{k * 10}\nITEM: NUMBER OF ATOMS\n{n}\nITEM: BOX BOUNDS pp pp pp\n")
            for L in box:
                f.write(f"0 {float(L)!r}\n")
            f.write("ITEM: ATOMS id type xu yu zu vx vy vz\n")
            for i in reversed(range(n)):
                f.write(f"{i + 1} {types[i]} " + " ".join(repr(float(x)) for x in (*pos[k, i], *vel[k, i])) + "\n")


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    pos, vel, types, box = make_system()
    path = tmp_path_factory.mktemp("sys") / "dump.lammpstrj"
    write_dump(path, pos, vel, types, box)
    return path, pos, vel, types, box


@pytest.fixture(scope="session")
def chain_dumps(tmp_path_factory):
    """The planted-chain temperature series of gen_chains (frames 0.02 ps apart)."""
    gen = next((p for p in (POSTPROC.parent / "gen_chains", POSTPROC.parent / "examples" / "gen_chains")
                if p.is_file()), None)
    assert gen is not None, f"gen_chains not next to {POSTPROC}: run `make postproc`"
    d = tmp_path_factory.mktemp("chains")
    temps = [900, 1000, 1100]
    subprocess.run([str(gen), str(d), *map(str, temps)], check=True, capture_output=True)
    return {t: d / f"chains_{t}K.lammpstrj" for t in temps}


def compare(result, truth, out):
    d = max_diff(result.summary, truth, out)
    assert d == 0.0, f"{result.analysis}: Python and CLI differ by {d}"
    check_tables(result, out)


def test_msd_equals_cli_and_the_four_line_snippet(pp, system, tmp_path):
    dump = system[0]
    truth = cli("msd", dump, "--dt", DT, out=tmp_path / "cli")
    traj = pp.read(str(dump), dt=DT)
    r = pp.msd(traj)
    assert [r.D[a] for a in "xyz"] == [truth["D"][a]["value"] for a in "xyz"]
    compare(r, truth, tmp_path / "cli")
    assert "D_x" in repr(r) and r.time_ps[1] == pytest.approx(DT)


def test_msd_options_equal_cli(pp, system, tmp_path):
    dump = system[0]
    args = ["--types", "2", "--by-type", "--fit-from", "0.2", "--fit-to", "0.8", "--blocks", "3"]
    truth = cli("msd", dump, "--dt", DT, *args, out=tmp_path / "cli")
    r = pp.msd(pp.read(dump, dt=DT), types=[2], by_type=True, fit_from=0.2, fit_to=0.8, blocks=3)
    compare(r, truth, tmp_path / "cli")
    assert r.summary["n_atoms"] == 32


def test_vdos_diffusion_rdf_equal_cli(pp, system, tmp_path):
    dump = system[0]
    traj = pp.read(dump, dt=DT)
    mass = ["--temperature", "300", "--mass", "1=40.078,2=15.999"]
    for name, fn, args, kw in [
        ("vdos", pp.vdos, mass, dict(temperature=300, mass={1: 40.078, 2: 15.999})),
        ("diffusion", pp.diffusion, ["--max-lag-ps", "0.5"], dict(max_lag_ps=0.5)),
        ("rdf", pp.rdf, ["--bins", "60"], dict(bins=60)),
    ]:
        out = tmp_path / name
        truth = cli(name, dump, *([] if name == "rdf" else ["--dt", DT]), *args, out=out)
        compare(fn(traj, **kw), truth, out)


def test_twopt_equals_cli(pp, system, tmp_path):
    dump = system[0]
    truth = cli("twopt", dump, "--dt", DT, "--temperature", "300", "--mass", "1=40.078", out=tmp_path)
    r = pp.twopt(pp.read(dump, dt=DT), temperature=300, mass={1: 40.078})
    compare(r, truth, tmp_path)
    assert 0.0 <= r.f_g <= 1.0


def test_flux_chains_arrhenius_equal_cli(pp, chain_dumps, tmp_path):
    dump = chain_dumps[1000]
    traj = pp.read(dump, dt=0.02)
    truth = cli("flux", dump, "--dt", "0.02", out=tmp_path / "flux")
    compare(pp.flux(traj), truth, tmp_path / "flux")
    truth = cli("chains", dump, "--dt", "0.02", "--min-length", "3", out=tmp_path / "chains")
    r = pp.chains(traj, min_length=3)
    assert max_diff(r.summary, truth, tmp_path / "chains") == 0.0
    assert r.n_hops > 0
    runs = [f"{p}@{t}" for t, p in chain_dumps.items()]
    truth = cli("arrhenius", *runs, "--dt", "0.02", out=tmp_path / "arr")
    r = pp.arrhenius([(pp.read(p, dt=0.02), t) for t, p in chain_dumps.items()])
    compare(r, truth, tmp_path / "arr")
    assert r.Ea_eV["value"] > 0


class FakeUniverse:
    """What MDAnalysis offers: a trajectory to iterate, each time step with
    positions (Å) and dimensions [lx, ly, lz, α, β, γ]; atoms with types."""

    class TimeStep:
        def __init__(self, positions, velocities, dimensions):
            self.positions, self.velocities, self.dimensions = positions, velocities, dimensions

    def __init__(self, pos, vel, types, box):
        self.trajectory = [self.TimeStep(p, v, np.array([*box, 90.0, 90.0, 90.0])) for p, v in zip(pos, vel)]
        self.atoms_types = types


def test_arrays_from_an_mdanalysis_style_source_give_the_dump_d(pp, system, tmp_path):
    dump, pos, vel, types, box = system
    u = FakeUniverse(pos, vel, types, box)
    frames, vels, dims = [], [], []
    for ts in u.trajectory:  # frame by frame, as one reads a Universe
        frames.append(ts.positions.copy())
        vels.append(ts.velocities.copy())
        dims.append(ts.dimensions[:3])
    traj = pp.Trajectory.from_arrays(np.array(frames), np.array(dims), u.atoms_types,
                                     velocities=np.array(vels), dt=DT)
    assert traj.n_frames == pos.shape[0]
    mem = pp.diffusion(traj, max_lag_ps=0.5)
    disk = pp.diffusion(pp.read(dump, dt=DT), max_lag_ps=0.5)
    for plane in ("x", "y", "z", "total"):
        assert mem.D[plane] == disk.D[plane], plane
        assert mem.D_stderr[plane] == disk.D_stderr[plane], plane
    assert mem.D_from_F0 == disk.D_from_F0
    for name in disk.tables:
        for c in disk.tables[name]:
            assert np.array_equal(mem.tables[name][c], disk.tables[name][c]), c
    # the drift is half as strong along z: D_z ≈ D_x / 4
    assert mem.D["z"] < 0.5 * mem.D["x"]


def test_arrhenius_of_arrays_equals_the_cli_on_their_dumps(pp, tmp_path):
    runs, dumps = [], []
    for k, temp in enumerate((600.0, 800.0, 1000.0)):
        pos, vel, types, box = make_system(seed=k, step=0.2 * np.exp(-1000.0 / temp), vib=0.0)
        dumps.append(f"{tmp_path / f'd{k}.lammpstrj'}@{temp}")
        write_dump(tmp_path / f"d{k}.lammpstrj", pos, vel, types, box)
        runs.append((pp.Trajectory.from_arrays(pos, box, types, dt=DT), temp))
    truth = cli("arrhenius", *dumps, "--dt", DT, "--component", "x", out=tmp_path / "cli")
    r = pp.arrhenius(runs, component="x")
    assert max_diff(r.summary, truth, tmp_path / "cli") == 0.0
    # the step variance goes as exp(-2000 K / T): Ea = 2000 K · k_B = 0.172 eV
    assert r.Ea_eV["value"] == pytest.approx(2000 * 8.617333262e-5, rel=0.3)


def test_errors_are_postproc_errors_with_the_cli_message(pp, system, tmp_path):
    dump = system[0]
    msg = cli_error("msd", dump, "--dt", DT, "--blocks", "1", out=tmp_path)
    with pytest.raises(pp.PostprocError) as e:
        pp.msd(pp.read(dump, dt=DT), blocks=1)
    assert str(e.value) == msg
    assert isinstance(e.value, ValueError)
    missing = tmp_path / "no-such-dump.lammpstrj"
    msg = cli_error("msd", missing, "--dt", DT, out=tmp_path)
    with pytest.raises(pp.PostprocError) as e:
        pp.read(missing, dt=DT)
    assert str(e.value) == msg
    msg = cli_error("twopt", dump, "--dt", DT, out=tmp_path)
    with pytest.raises(pp.PostprocError) as e:
        pp.twopt(pp.read(dump, dt=DT), temperature=None)
    assert str(e.value) == msg == "twopt needs --temperature K"
    with pytest.raises(pp.PostprocError, match="restricted triclinic"):
        pp.Trajectory.from_arrays(np.zeros((2, 1, 3)), [[3, 1, 0], [0, 3, 0], [0, 0, 3]], dt=DT)
    # arrays with nothing left to analyse: an error, as for an empty dump
    pos, types, box = system[1], system[3], system[4]
    empty = pp.Trajectory.from_arrays(pos, box, types, dt=DT)
    empty.max_frames = 0
    with pytest.raises(pp.PostprocError, match="no frame"):
        pp.msd(empty)


def test_missing_pandas_and_matplotlib_are_clear_import_errors(pp, system, monkeypatch):
    pos, vel, types, box = system[1:]
    r = pp.msd(pp.Trajectory.from_arrays(pos, box, types, dt=DT))
    monkeypatch.setitem(sys.modules, "pandas", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        r.to_pandas()
    with pytest.raises(ImportError, match="pip install matplotlib"):
        r.plot()
    d = r.to_dict()
    assert set(d) == {"summary", "tables"} and d["tables"]["msd"]["time_ps"].shape == (pos.shape[0],)


def test_the_gil_is_released_while_an_analysis_runs(pp, tmp_path):
    """This thread keeps noting the time while a worker thread runs an
    analysis: with the GIL released it runs during the native call, so it
    notes times inside the call; a call holding the GIL would stop it from
    the call's start to its end. (The worker calls the native function
    directly: the Python wrapper's own file operations let go of the GIL too.)"""
    import threading
    import time

    from dprs import _native

    rng = np.random.default_rng(3)
    pos = np.cumsum(rng.normal(0.0, 0.05, (1500, 500, 3)), axis=0)
    traj = pp.Trajectory.from_arrays(pos, [20.0, 20.0, 20.0], dt=DT)
    argv = ["postproc", "msd", "<arrays>", "--dt", str(DT), "--out", str(tmp_path), "--json", "--no-plot"]
    marks = {}

    def work():
        marks["start"] = time.perf_counter()
        marks["result"] = _native.analyse(argv, [traj._frames])
        marks["end"] = time.perf_counter()

    worker = threading.Thread(target=work)
    stamps = []
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
    worker.join()
    assert json.loads(marks["result"][0])["n_frames"] == 1500
    # the middle 80 % of the worker's own call, whatever the machine's load
    took = marks["end"] - marks["start"]
    inside = [t for t in stamps if marks["start"] + 0.1 * took < t < marks["end"] - 0.1 * took]
    assert len(inside) > 100, (took, len(stamps), len(inside))
