"""fix dprs/diffusion against postproc on a dump of the same run.

One LAMMPS run (an argon-like Lennard-Jones liquid in metal units, 512 atoms
of two types, so that the dynamics is cheap: this tests the analysis, not a
force field) carries the fix and a dump of the same atoms at the same steps
(`id type x y z ix iy iz vx vy vz`, full precision, not sorted by id). postproc
reads the dump with the same lag window, fit window and time blocks; the
fix's files must equal postproc's to round-off: MSD per axis and type, D with
its block errors, VACF, VDOS. At 1 and 2 MPI ranks (each against the dump of
its own run). Also: the thermo vector is the D of msd.json, the memory the
fix holds grows only by the finished blocks' fit-window curves, files written
every M steps survive a run that dies, and bad input gets a clear error."""

import json
import re
import subprocess

import numpy as np
import pytest

import harness

POSTPROC = harness.POSTPROC
postproc = harness.postproc
read_csv = harness.read_csv

N_ATOMS = 512      # simple cubic 8 x 8 x 8 (melts): the flux maps need an sc start
EVERY = 5          # steps between samples (fix) and frames (dump)
DT = 0.002         # ps per step
MAX_LAG = 0.5      # ps: the MSD lag window (50 samples)
FIT = (0.1, 0.5)   # ps
BLOCK = 2.0        # ps: 200 samples; 801 samples = 4 whole blocks
VACF_LAG = 0.4     # ps
FLUX = (0.1, 0.05)  # ps: interval and smoothing window of the flux maps
STEPS = 2000       # per run; two runs
SAMPLES = 2 * STEPS // EVERY + 1

SETUP = f"""
plugin load {harness.PLUGIN}
units metal
atom_style atomic
boundary p p p
atom_modify map array
lattice sc 3.625
region box block 0 8 0 8 0 8
create_box 2 box
create_atoms 1 box
set group all type/fraction 2 0.3 12345
mass * 39.948
pair_style lj/cut 8.5
pair_coeff * * 0.0104 3.4
neighbor 1.0 bin
timestep {DT}
velocity all create 300 4928459 mom yes rot no dist gaussian
fix nvt all nvt temp 150 150 0.2
thermo 1000
"""

# No equilibration: the flux maps take the lattice from the first sample, the
# sc crystal, which melts in the first picosecond.
RUN = SETUP + f"""
fix d all dprs/diffusion {EVERY} file insitu msd max_lag {MAX_LAG} fit {FIT[0]} {FIT[1]} &
    block {BLOCK} vacf max_lag {VACF_LAG} flux interval {FLUX[0]} smooth {FLUX[1]}
dump dd all custom {EVERY} dump.lammpstrj id type x y z ix iy iz vx vy vz
dump_modify dd format float %.17g
thermo_style custom step temp f_d[1] f_d[2] f_d[3] f_d[4] f_d[5] f_d[6]
run {STEPS}
print "MEM1 $(f_d[6]:%.17g)"
run {STEPS}
print "DVEC $(f_d[1]:%.17g) $(f_d[2]:%.17g) $(f_d[3]:%.17g) $(f_d[4]:%.17g) $(f_d[5]:%.17g)"
print "MEM2 $(f_d[6]:%.17g)"
"""


def assert_csv_equal(fix_csv, pp_csv, rows=None, rel=2e-9):
    a, b = read_csv(fix_csv), read_csv(pp_csv)
    assert set(a) == set(b), (sorted(a), sorted(b))
    worst = 0.0
    for name, col in a.items():
        n = len(col) if rows is None else rows
        assert len(col) == n and len(b[name]) >= n, (name, len(col), len(b[name]))
        ref = b[name][:n]
        scale = np.abs(ref).max()
        # CSVs hold 10 significant digits; lag 0 of an MSD is exactly 0 in the
        # fix and FFT round-off (~1e-15 Å²) in postproc.
        diff = np.abs(col - ref)
        assert np.all(diff <= rel * np.abs(ref) + 1e-12 * scale), (name, diff.max())
        big = np.abs(ref) > 1e-6 * scale
        worst = max(worst, float((diff[big] / np.abs(ref[big])).max()))
    return worst


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


@pytest.fixture(scope="module", params=[1, 2], ids=["serial", "mpi2"])
def run(request, tmp_path_factory):
    nprocs = request.param
    d = tmp_path_factory.mktemp(f"insitu{nprocs}")
    proc = harness.run_lmp(RUN, d, nprocs=nprocs, timeout=600)
    assert f"with {nprocs} MPI tasks" in proc.stdout or f"on {nprocs} procs" in proc.stdout
    dvec = harness.printed(proc.stdout, "DVEC")[-1]
    mem = [harness.printed(proc.stdout, k)[-1][0] for k in ("MEM1", "MEM2")]
    msd = postproc("msd", d / "dump.lammpstrj", "--timestep", DT, "--by-type",
                   "--fit-from", FIT[0], "--fit-to", FIT[1], "--blocks", 4, out=d / "pp")
    vdos = postproc("vdos", d / "dump.lammpstrj", "--timestep", DT, "--by-type",
                    "--max-lag-ps", VACF_LAG, out=d / "pp")
    flux = postproc("flux", d / "dump.lammpstrj", "--timestep", DT, "--interval", FLUX[0],
                    "--smooth", FLUX[1], out=d / "pp")
    return {"dir": d, "nprocs": nprocs, "dvec": dvec, "mem": mem, "msd": msd, "vdos": vdos,
            "flux": flux}


def test_msd_per_axis_and_type_equals_postproc(run):
    d = run["dir"]
    lags = round(MAX_LAG / (EVERY * DT)) + 1
    worst = assert_csv_equal(d / "insitu" / "msd.csv", d / "pp" / "msd.csv", rows=lags)
    fix = json.loads((d / "insitu" / "msd.json").read_text())
    pp = run["msd"]
    assert fix["n_frames"] == pp["n_frames"] == SAMPLES
    assert fix["blocks"] == pp["blocks"] == 4 and fix["block_ps"] == pytest.approx(pp["block_ps"])
    assert set(fix["groups"]) == set(pp["groups"]) == {"all", "type1", "type2"}
    worst_d = 0.0
    for g, entry in pp["groups"].items():
        for plane, dp in entry["D"].items():
            df = fix["groups"][g]["D"][plane]
            for key in ("value", "stderr"):
                worst_d = max(worst_d, rel(df[key], dp[key]))
            for x, y in zip(df["blocks"], dp["blocks"], strict=True):
                worst_d = max(worst_d, rel(x, y))
    # measured: ~3e-13 (FFT round-off in postproc vs direct sums in the fix)
    assert worst_d < 1e-11, worst_d
    print(f"ranks {run['nprocs']}: MSD csv worst rel {worst:.2e}, D worst rel {worst_d:.2e}")
    assert fix["D"]["total"]["value"] > 0.1  # a liquid: the MSD test means something


def test_vacf_and_vdos_equal_postproc(run):
    d = run["dir"]
    assert_csv_equal(d / "insitu" / "vacf.csv", d / "pp" / "vacf.csv")
    assert_csv_equal(d / "insitu" / "vdos.csv", d / "pp" / "vdos.csv")
    fix = json.loads((d / "insitu" / "vdos.json").read_text())
    pp = run["vdos"]
    assert fix["n_frames"] == pp["n_frames"] == SAMPLES
    for g, entry in pp["groups"].items():
        for key in ("D_from_F0", "D_green_kubo", "peak_THz", "integral"):
            assert rel(fix["groups"][g][key], entry[key]) < 1e-10, (g, key)


def test_flux_maps_equal_postproc(run):
    d = run["dir"]
    for name in ("flux_x.csv", "flux_y.csv", "flux_z.csv"):
        assert_csv_equal(d / "insitu" / name, d / "pp" / name)
    # integer crossing counts per lattice line and plane: the same text
    for name in ("flux_lines.csv", "flux_planes.csv"):
        assert (d / "insitu" / name).read_text() == (d / "pp" / name).read_text(), name
    fix = json.loads((d / "insitu" / "flux.json").read_text())
    pp = run["flux"]
    for key in ("lattice", "R1_A", "R2_A", "n_samples", "t1_ps", "t2_ps", "n_frames", "lines"):
        assert fix[key] == pp[key], key
    assert sum(abs(line["net"]) for line in fix["lines"]) > 0  # atoms crossed planes


def test_the_figures_postproc_draws_are_drawn(run):
    names = {p.name for p in (run["dir"] / "insitu").iterdir()}
    for stem in ("msd", "vdos", "vacf", "flux_x", "flux_y", "flux_z"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names, stem
        assert (run["dir"] / "insitu" / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
    assert not [n for n in names if n.startswith(".")], names  # no temporary files


def test_report_reads_the_fix_folder_like_a_dump(run):
    """postproc report takes the fix's folder as a run (DIR@T) beside the
    dump of the same run: the same D, VACF/VDOS numbers and figures; every
    link of the page opens; what needs frames says so."""
    d = run["dir"]
    out = d / "report"
    subprocess.run([str(POSTPROC), "report", f"{d / 'insitu'}@300",
                    f"{d / 'dump.lammpstrj'}@300", "--timestep", str(DT),
                    "--fit-from", str(FIT[0]), "--fit-to", str(FIT[1]), "--blocks", "4",
                    "--max-lag-ps", str(VACF_LAG), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    summary = json.loads((out / "summary.json").read_text())
    fix_run, dump_run = summary["runs"]
    for plane in ("x", "y", "z", "total"):
        assert rel(fix_run["D"][plane]["value"], dump_run["D"][plane]["value"]) < 1e-11, plane
    assert rel(fix_run["vdos"]["D_from_F0"], dump_run["vdos"]["D_from_F0"]) < 1e-10
    assert "needs frames" in fix_run["rdf_error"]
    page = (out / "index.html").read_text()
    links = re.findall(r'(?:href|src)="([^"#]+)"', page)
    assert any(link.startswith(fix_run["folder"] + "/msd") for link in links), links
    for link in links:
        assert (out / link).exists(), link   # files and run folders


def test_thermo_vector_is_the_d_of_msd_json(run):
    fix = json.loads((run["dir"] / "insitu" / "msd.json").read_text())
    dx, dy, dz, dt, n = run["dvec"]
    assert n == SAMPLES
    for v, plane in ((dx, "x"), (dy, "y"), (dz, "z"), (dt, "total")):
        assert rel(v, fix["D"][plane]["value"]) < 1e-12, plane


def test_memory_grows_only_by_finished_blocks(run):
    # After the first run (401 samples: 2 blocks done) and the second (801:
    # 4 blocks): the ring, the sums and the VACF buffer are the same size;
    # each new block keeps only its D for 3 groups x 7 planes in f64.
    m1, m2 = run["mem"]
    assert m2 - m1 == 2 * 3 * 7 * 8
    # the bounded parts: the MSD ring (12 bytes per atom and lag) and the VACF
    # buffer of 2 x max_lag samples of f32 velocities (its Vec may hold up to
    # twice that)
    ring = N_ATOMS * (round(MAX_LAG / (EVERY * DT)) + 1) * 12
    vacf = 2 * round(VACF_LAG / (EVERY * DT)) * N_ATOMS * 12
    assert ring + vacf < m1 < ring + 2 * vacf + 100_000


def test_periodic_files_survive_a_run_that_dies(tmp_path):
    script = SETUP + f"""
fix d all dprs/diffusion {EVERY} file part msd max_lag {MAX_LAG} write_every 500
variable s equal step
fix h all halt 1250 v_s > 1 error hard
run 3000
"""
    proc = harness.run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0 and "halt" in proc.stdout.lower(), proc.stdout[-2000:]
    fix = json.loads((tmp_path / "part" / "msd.json").read_text())
    assert fix["insitu"]["last_step"] == 1000 and fix["n_frames"] == 1000 // EVERY + 1
    # no temporary file left behind; the figure comes with the tables
    assert sorted(p.name for p in (tmp_path / "part").iterdir()) == [
        "msd.csv", "msd.json", "msd.png", "msd.svg"]


@pytest.mark.parametrize("fix, message", [
    ("dprs/diffusion 10 file out bogus 1", "unknown keyword `bogus`"),
    ("dprs/diffusion 10", "output folder is missing (`file DIR`)"),
    ("dprs/diffusion 10 file out msd max_lag 0.5 fit 0.1 1.0", "ends after msd max_lag"),
])
def test_bad_input_gets_a_clear_error(tmp_path, fix, message):
    proc = harness.run_lmp(SETUP + f"fix d all {fix}\nrun 10\n", tmp_path, check=False)
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-2000:]


def test_other_units_are_refused(tmp_path):
    script = SETUP.replace("units metal", "units real") + \
        "fix d all dprs/diffusion 10 file out\nrun 10\n"
    proc = harness.run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0 and "needs units metal" in proc.stdout, proc.stdout[-2000:]


def test_reset_timestep_is_refused_while_the_fix_samples(tmp_path):
    """The lags are counted in samples N steps apart: a reset step count
    would stretch them silently, so LAMMPS must refuse it."""
    script = SETUP + f"""
fix d all dprs/diffusion {EVERY} file out msd max_lag {MAX_LAG}
run 100
reset_timestep 0
run 100
"""
    proc = harness.run_lmp(script, tmp_path, check=False)
    assert proc.returncode != 0 and "time-dependent fix" in proc.stdout, proc.stdout[-2000:]


@pytest.mark.parametrize("nprocs", [1, 2])
def test_atoms_leaving_the_group_are_an_error(tmp_path, nprocs):
    """Also on 2 ranks: rank 0 fails in Rust while the other waits in the
    fix's collective; the run must end with the reason, not hang."""
    script = SETUP + f"""
fix d all dprs/diffusion {EVERY} file out msd max_lag {MAX_LAG}
run 100
region corner block 0 8 0 8 0 8 units box
delete_atoms region corner
run 100
"""
    proc = harness.run_lmp(script, tmp_path, nprocs=nprocs, check=False, timeout=120)
    assert proc.returncode != 0, proc.stdout[-2000:]
    deleted = int(re.search(r"Deleted (\d+) atoms", proc.stdout).group(1))
    assert deleted > 0
    want = f"the atoms of the group changed at step 105 ({512 - deleted} atoms, 512 at the first"
    assert want in proc.stdout, proc.stdout[-2000:]
    # what was sampled before is on disk
    assert json.loads((tmp_path / "out" / "msd.json").read_text())["insitu"]["last_step"] == 100


def test_a_million_steps_keep_memory_flat(tmp_path):
    """10^6 steps (64 atoms, 100 001 samples): from 10^5 to 10^6 steps the
    bytes the fix holds grow only by the D of each finished time block
    (7 planes x 8 bytes per block of 500 samples: 180 blocks, 10080 bytes),
    and LAMMPS's maximum resident set by less than 2 MB (measured: 0.25 to
    0.5 MB, allocator noise; keeping the trajectory, as postproc msd does,
    would add 90 000 samples x 64 atoms x 12 bytes = 69 MB)."""
    script = f"""
plugin load {harness.PLUGIN}
units metal
atom_style atomic
boundary p p p
lattice sc 3.625
region box block 0 4 0 4 0 4
create_box 1 box
create_atoms 1 box
mass * 39.948
pair_style lj/cut 6.0
pair_coeff * * 0.0104 3.4
neighbor 1.0 bin
timestep 0.002
velocity all create 300 4928459
fix nvt all nvt temp 150 150 0.2
fix d all dprs/diffusion 10 file m msd max_lag 1.0 vacf max_lag 0.5 write_every 50000 plot no
thermo 100000
thermo_style custom step f_d[4] f_d[5] f_d[6]
run 100000
info memory
print "MEM1 $(f_d[6])"
run 900000
info memory
print "MEM2 $(f_d[6])"
print "SAMPLES $(f_d[5])"
"""
    proc = harness.run_lmp(script, tmp_path, timeout=600)
    rss = [float(m) for m in re.findall(r"Maximum resident set size: ([\d.]+) Mbyte", proc.stdout)]
    assert len(rss) == 2, proc.stdout[-2000:]
    held = [harness.printed(proc.stdout, k)[-1][0] for k in ("MEM1", "MEM2")]
    assert harness.printed(proc.stdout, "SAMPLES")[-1][0] == 100001
    assert held[1] - held[0] == 180 * 7 * 8, held
    assert rss[1] - rss[0] < 2.0, rss
