"""Fault matrix: broken models, broken runtimes, odd decompositions and life
cycles. Each case ends either in a LAMMPS ERROR whose text is checked, with a
non-zero exit and no crash or hang (subprocess timeouts), or in a warning
whose text is checked while the run goes on. Serial and `mpirun -np 2` where
the code path differs between ranks."""

import re
import shutil
import subprocess

import numpy as np
import pytest

import harness
import reference

ANY = "test-any-fp64.onnx"
TSEL = "test-typesel-fp64.onnx"
TIMEOUT = 120
NPROCS = [1, pytest.param(2, marks=pytest.mark.mpi)]


# --- helpers -------------------------------------------------------------------

def script(data, model, body="run 0", extra="", head=""):
    return f"""
units metal
atom_style atomic
{head}
read_data {data}
mass 1 {harness.MASSES[0]}
mass 2 {harness.MASSES[1]}
plugin load {harness.PLUGIN}
pair_style dprs {model} {extra}
pair_coeff * * O H
{body}
"""


def run(text, wd, nprocs=1, env=None):
    proc = harness.run_lmp(text, wd, nprocs=nprocs, env=env, check=False, timeout=TIMEOUT)
    assert not harness.is_crash(proc.returncode), (proc.returncode, proc.stdout[-3000:])
    return proc


def fails(text, wd, nprocs=1, env=None, pattern=None):
    """Runs and returns the first ERROR message (the first matching `pattern`
    if given: under MPI several ranks may report, and their lines may
    interleave); the run must fail cleanly."""
    proc = run(text, wd, nprocs, env)
    assert proc.returncode != 0, proc.stdout[-3000:]
    errors = harness.ERROR_RE.findall(proc.stdout)
    assert errors, proc.stdout[-3000:]
    if pattern is not None:
        matching = [e for e in errors if pattern.match(e)]
        assert matching, proc.stdout[-3000:]
        return matching[0]
    return errors[0]


def succeeds(text, wd, nprocs=1, env=None):
    proc = run(text, wd, nprocs, env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Total wall time" in proc.stdout
    return proc.stdout


def edited_model(path, source=ANY, **meta):
    """A copy of a shipped model with metadata entries replaced or added
    (value None removes the key)."""
    import onnx

    m = onnx.load(str(harness.model(source)))
    props = {p.key: p.value for p in m.metadata_props}
    for k, v in meta.items():
        key = k.replace("__", ".")
        if v is None:
            props.pop(key, None)
        else:
            props[key] = v
    del m.metadata_props[:]
    for k, v in props.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, str(path))
    return path


def tiny_model(path, energy_nodes, grad_nodes, energy_type=None, grad_type=None):
    """A local-v1 model from a few ONNX nodes: inputs rij [nloc,nnei,3] f64,
    nbr_type [nloc,nnei] i64, atype [nloc] i64; the nodes must produce
    `atom_energy` and `dE_drij`."""
    import onnx
    from onnx import TensorProto, helper

    f64 = TensorProto.DOUBLE
    inputs = [
        helper.make_tensor_value_info("rij", f64, ["nloc", "nnei", 3]),
        helper.make_tensor_value_info("nbr_type", TensorProto.INT64, ["nloc", "nnei"]),
        helper.make_tensor_value_info("atype", TensorProto.INT64, ["nloc"]),
    ]
    outputs = [
        helper.make_tensor_value_info("atom_energy", energy_type or f64, ["n_out"]),
        helper.make_tensor_value_info("dE_drij", grad_type or f64, ["nloc", "nnei", 3]),
    ]
    graph = helper.make_graph(energy_nodes + grad_nodes, "tiny", inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 10  # onnx 1.23 writes 14 by default, which ORT 1.31 rejects
    for k, v in {"dprs.contract": "local-v1", "dprs.type_map": '["O", "H"]',
                 "dprs.rcut": "4.0", "dprs.nlist": "any"}.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def const(name, value):
    from onnx import helper, numpy_helper

    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name))


def energy_sum_r2():
    """atom_energy = sum over slots of |rij|^2 (shape [nloc])."""
    from onnx import helper

    return [
        helper.make_node("Mul", ["rij", "rij"], ["r2"]),
        const("axes", np.array([1, 2], dtype=np.int64)),
        helper.make_node("ReduceSum", ["r2", "axes"], ["atom_energy"], keepdims=0),
    ]


def grad_2r():
    from onnx import helper

    return [const("two", np.array(2.0)), helper.make_node("Mul", ["rij", "two"], ["dE_drij"])]


@pytest.fixture(scope="module")
def crystal(tmp_path_factory):
    """32 atoms; returns (data path, cell, positions, types) in LAMMPS form."""
    cell, pos, types = reference.random_triclinic_system(seed=2, reps=(2, 2, 2))
    wd = tmp_path_factory.mktemp("faults")
    L, p, _ = reference.write_lammps_data(wd / "conf.data", cell, pos, types)
    return wd / "conf.data", L, p, np.asarray(types)


# --- the model file --------------------------------------------------------------

@pytest.mark.parametrize("nprocs", NPROCS)
def test_truncated_model(tmp_path, crystal, nprocs):
    blob = harness.model(ANY).read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(blob[: len(blob) // 2])
    msg = fails(script(crystal[0], cut), tmp_path, nprocs)
    assert msg.startswith(f"model file '{cut}': is not a loadable ONNX model (")
    assert "check that the file is an .onnx export" in msg


def test_wrong_contract_version(tmp_path, crystal):
    m = edited_model(tmp_path / "v2.onnx", dprs__contract="local-v2")
    msg = fails(script(crystal[0], m), tmp_path)
    assert msg.startswith(f"model file '{m}': declares dprs.contract='local-v2', but this plugin "
                          "implements only 'local-v1'")


def test_corrupt_metadata_sel_overflow(tmp_path, crystal):
    """dprs.sel whose sum overflows (found while writing the contract fuzzer)."""
    m = edited_model(tmp_path / "sel.onnx", source=TSEL, dprs__sel="[18446744073709551615, 1]")
    msg = fails(script(crystal[0], m), tmp_path)
    assert "asks for more than 65536 neighbour slots per atom" in msg


def test_output_of_wrong_dtype(tmp_path, crystal):
    from onnx import TensorProto, helper

    m = tiny_model(tmp_path / "dtype.onnx",
                   energy_sum_r2()[:-1] + [helper.make_node("ReduceSum", ["r2", "axes"], ["e64"], keepdims=0),
                                           helper.make_node("Cast", ["e64"], ["atom_energy"], to=TensorProto.FLOAT)],
                   grad_2r(), energy_type=TensorProto.FLOAT)
    msg = fails(script(crystal[0], m), tmp_path)
    assert msg.startswith(f"model file '{m}': output 'atom_energy' is Float32 but input 'rij' is Float64; "
                          "they must match (")


@pytest.mark.parametrize("nprocs", NPROCS)
def test_output_of_wrong_shape(tmp_path, crystal, nprocs):
    """atom_energy = rij flattened: nloc*nnei*3 values where nloc are expected."""
    from onnx import helper

    m = tiny_model(tmp_path / "shape.onnx",
                   [const("flat", np.array([-1], dtype=np.int64)),
                    helper.make_node("Reshape", ["rij", "flat"], ["atom_energy"])],
                   grad_2r())
    msg = fails(script(crystal[0], m), tmp_path, nprocs)
    got = re.fullmatch(r"pair_style dprs: model evaluation failed: step 0: output 'atom_energy' of '(.*)' "
                       r"has (\d+) values for (\d+) atoms × (\d+) neighbours, expected (\d+): "
                       r"the model breaks the local-v1 contract(?: \[on MPI rank \d+\])? \(.*\)", msg)
    assert got, msg
    path, values, nloc, nnei, expected = got.groups()
    assert path == str(m)
    assert int(values) == int(nloc) * int(nnei) * 3 and int(expected) == int(nloc)
    assert int(nloc) == (32 if nprocs == 1 else int(nloc)) and 0 < int(nloc) <= 32


# --- non-finite outputs ----------------------------------------------------------

NONFINITE_RE = re.compile(
    r"pair_style dprs: model evaluation failed: step (\d+): model '(.*)' returned NaN or Inf for "
    r"(\d+) atom\(s\) on this rank, atom ids ([0-9 ]+?)( \(first 20 shown\))?; the forces are unusable")


@pytest.mark.parametrize("nprocs", NPROCS)
def test_nan_model_output_names_the_atoms(tmp_path, crystal, nprocs):
    """atom_energy = sqrt(atype - 0.5): NaN for every atom of model type 0 (O)."""
    from onnx import TensorProto, helper

    m = tiny_model(tmp_path / "nan.onnx",
                   [helper.make_node("Cast", ["atype"], ["t"], to=TensorProto.DOUBLE),
                    const("half", np.array(0.5)),
                    helper.make_node("Sub", ["t", "half"], ["s"]),
                    helper.make_node("Sqrt", ["s"], ["atom_energy"])],
                   grad_2r())
    msg = fails(script(crystal[0], m), tmp_path, nprocs, pattern=NONFINITE_RE)
    got = NONFINITE_RE.match(msg)
    assert got, msg
    step, path, count, ids, capped = got.groups()
    oxygen = [k + 1 for k, t in enumerate(crystal[3]) if t == 0]
    ids = [int(v) for v in ids.split()]
    assert (step, path) == ("0", str(m))
    assert ids == sorted(ids) and set(ids) <= set(oxygen)
    if nprocs == 1:
        assert int(count) == len(oxygen) and ids == oxygen[:20]
        assert bool(capped) == (len(oxygen) > 20)
    else:
        assert 0 < int(count) <= len(oxygen)


def test_inf_gradient_is_caught_too(tmp_path, crystal):
    """dE_drij = rij / 0 (Inf and NaN) with a finite energy."""
    from onnx import helper

    m = tiny_model(tmp_path / "inf.onnx", energy_sum_r2(),
                   [const("zero", np.array(0.0)), helper.make_node("Div", ["rij", "zero"], ["dE_drij"])])
    got = NONFINITE_RE.match(fails(script(crystal[0], m), tmp_path))
    assert got and int(got.group(3)) == 32, got


@pytest.mark.parametrize("nprocs", NPROCS)
def test_overlapping_atoms_give_nan_with_their_ids(tmp_path, crystal, nprocs):
    """The shipped model on a structure with atom 6 on top of atom 4: the
    model's 1/r gives NaN exactly there, and the error says which atoms."""
    _, L, p, types = crystal
    q = p.copy()
    q[5] = q[3]
    data = tmp_path / "overlap.data"
    reference.write_lammps_data(data, L, q, types)
    msg = fails(script(data, harness.model(ANY)), tmp_path, nprocs)
    got = NONFINITE_RE.match(msg)
    assert got, msg
    ids = [int(v) for v in got.group(4).split()]
    if nprocs == 1:
        assert ids == [4, 6] and got.group(3) == "2"
    else:
        assert set(ids) <= {4, 6} and ids


# --- warnings that let the run go on ---------------------------------------------

@pytest.mark.parametrize("nprocs", NPROCS)
def test_atoms_closer_than_rmin_warn_and_run_on(tmp_path, crystal, nprocs):
    _, L, p, types = crystal
    q = p.copy()
    i, j, rij = reference.neighbor_list(q, L, 5.0)
    k = np.argmin(np.where(i == 0, np.linalg.norm(rij, axis=1), np.inf))
    shift = q[j[k]] - (q[0] + rij[k])  # position of atom j minus its image seen by atom 1
    q[j[k]] = q[0] + rij[k] / np.linalg.norm(rij[k]) * 1.7 + shift  # now 1.7 Å from atom 1
    data = tmp_path / "close.data"
    reference.write_lammps_data(data, L, q, types)
    rmin = 2.25
    m = edited_model(tmp_path / "rmin.onnx", dprs__rmin=str(rmin))
    # The truth: every atom with a neighbour (any image) closer than rmin.
    i, j, rij = reference.neighbor_list(q, L, 5.0)
    r = np.linalg.norm(rij, axis=1)
    close = r < rmin
    n_close = len(np.unique(i[close]))
    k = np.argmin(r)
    out = succeeds(script(data, m, "velocity all create 50 7\nfix 1 all nve\ntimestep 0.0002\nthermo 5\nrun 10"),
                   tmp_path, nprocs)
    warn = re.search(r"WARNING: dprs: step 0: (\d+) atoms have a neighbour closer than the model's "
                     r"dprs.rmin = ([0-9.]+) Å \(closest: atoms (\d+) and (\d+) at ([0-9.]+) Å\); "
                     r"the model was not trained on such distances and extrapolates", out)
    assert warn, out[-3000:]
    assert int(warn.group(1)) == n_close and n_close >= 2
    assert float(warn.group(2)) == rmin
    assert {int(warn.group(3)), int(warn.group(4))} == {i[k] + 1, j[k] + 1}
    assert abs(float(warn.group(5)) - r[k]) < 1e-4 and abs(r[k] - 1.7) < 1e-9
    assert re.search(r"^\s+10\s", out, re.M), "the run reached step 10"
    # Counts are summed over ranks only at the first force call of a run, then
    # at most every 100 steps, and in Pair::finish at its end: over 150 steps
    # with atoms that barely move (timestep 1e-6 ps; no pair within 1e-3 Å of
    # rmin), three warnings with the per-step count times the steps covered.
    assert np.min(np.abs(r - rmin)) > 1e-3
    out = succeeds(script(data, m, "fix 1 all nve\ntimestep 0.000001\nthermo 50\nrun 150"),
                   tmp_path, nprocs)
    spans = re.findall(r"WARNING: dprs: (step 0|steps (\d+)-(\d+) \(counts summed over those "
                       r"steps\)): (\d+) atoms have a neighbour closer", out)
    got = [(w[0] if not w[1] else (int(w[1]), int(w[2])), int(w[3])) for w in spans]
    assert got == [("step 0", n_close), ((1, 100), 100 * n_close),
                   ((101, 150), 50 * n_close)], (got, out[-3000:])
    # Without dprs.rmin there is nothing to compare with: no warning.
    out = succeeds(script(data, harness.model(ANY)), tmp_path, nprocs)
    assert "dprs.rmin" not in out


def test_rmin_outside_the_cutoff_is_refused(tmp_path, crystal):
    m = edited_model(tmp_path / "rmin.onnx", dprs__rmin="9")
    msg = fails(script(crystal[0], m), tmp_path)
    assert "dprs.rmin='9' must be a distance in Å, at least 0 and below dprs.rcut=5" in msg


@pytest.mark.parametrize("nprocs", NPROCS)
def test_type_sel_overflow_warns_and_runs_on(tmp_path, nprocs):
    """A compressed crystal has more neighbours than the model's sel: the
    warning counts exactly those left out (truth: per-type counts from an
    independent neighbour list), the energy equals the reference with the
    same nearest-first truncation, and the run goes on."""
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(harness.model(TSEL))).metadata_props}
    sel, rcut = np.array(eval(meta["dprs.sel"])), float(meta["dprs.rcut"])
    cell, pos, types = reference.random_triclinic_system(seed=3, a=2.3, reps=(3, 3, 3), strain=0.0, rattle=0.05)
    L, p, _ = reference.write_lammps_data(tmp_path / "dense.data", cell, pos, types)
    i, j, _ = reference.neighbor_list(p, L, rcut)
    counts = np.zeros((len(p), len(sel)), dtype=int)
    np.add.at(counts, (i, np.asarray(types)[j]), 1)
    over = np.clip(counts - sel, 0, None).sum(axis=1)
    assert over.sum() > 0, "the test system must overflow sel"
    ref = reference.evaluate(harness.model(TSEL), p, types, L, on_overflow="truncate")
    assert ref["overflow"].sum() == over.sum()
    out = succeeds(script(tmp_path / "dense.data", harness.model(TSEL),
                          'run 0\nprint "PE $(pe:%.15g)"\nvelocity all create 100 3\nfix 1 all nve\n'
                          "timestep 0.0005\nrun 5"), tmp_path, nprocs)
    warn = re.search(r"WARNING: dprs: step 0: (\d+) neighbours inside rcut of (\d+) atoms did not fit the "
                     r"model's dprs.sel \(or dprs.max_neighbours\) and were left out \(DeePMD-kit drops "
                     r"them silently\); the system is "
                     r"denser than the model was built for, so use a model with larger sel", out)
    assert warn, out[-3000:]
    assert (int(warn.group(1)), int(warn.group(2))) == (over.sum(), (over > 0).sum())
    pe = harness.printed(out, "PE")[0][0]
    assert abs(pe - ref["energy"]) < 1e-9 * abs(ref["energy"])
    assert re.search(r"^\s+5\s", out, re.M) or "Loop time" in out.split("PE ")[1]


# --- ONNX Runtime ----------------------------------------------------------------

def test_onnxruntime_is_another_library(tmp_path, crystal):
    """A real shared library that is not ONNX Runtime."""
    lib = next((p for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib64/libm.so.6", "/lib64/libm.so.6")
                if __import__("os").path.exists(p)), None)
    if lib is None:
        pytest.skip("no libm.so.6 at a known path")
    msg = fails(script(crystal[0], harness.model(ANY)), tmp_path, env={"DPRS_ORT_LIB": lib})
    assert msg.startswith(f"ONNX Runtime: could not load '{lib}': {lib} does not export `OrtGetApiBase`")
    assert "onnxruntime wheel >= 1.17" in msg


OLD_ORT = r"""
#include <stddef.h>
typedef struct { const void *(*GetApi)(unsigned); const char *(*GetVersionString)(void); } OrtApiBase;
static const void *get_api(unsigned v) { (void) v; return NULL; }
static const char *version(void) { return "1.10.0"; }
static const OrtApiBase base = {get_api, version};
const OrtApiBase *OrtGetApiBase(void) { return &base; }
"""


@pytest.mark.parametrize("nprocs", NPROCS)
def test_onnxruntime_too_old(tmp_path, crystal, nprocs):
    """A library that behaves like ONNX Runtime 1.10: it has OrtGetApiBase
    but no API of the version dprs needs (what a real old libonnxruntime does)."""
    cc = shutil.which("cc") or shutil.which("gcc") or str(harness.VENV / "bin" / "mpicc")
    src = tmp_path / "oldort.c"
    src.write_text(OLD_ORT)
    lib = tmp_path / "libonnxruntime.so.1.10.0"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True, timeout=60)
    msg = fails(script(crystal[0], harness.model(ANY)), tmp_path, nprocs, env={"DPRS_ORT_LIB": str(lib)})
    assert msg.startswith(f"ONNX Runtime: could not load '{lib}': ")
    assert "expected version >= '1.17.x', but got '1.10.0'" in msg


# --- decomposition ---------------------------------------------------------------

def slab(tmp_path, boundary):
    """32 atoms in two layers at x < 5 Å of a 30 Å box: with `processors 2 1 1`
    rank 1 owns no atom (and with `boundary f p p` not even a ghost)."""
    g = np.stack(np.meshgrid([1.2, 3.8], 2.6 * np.arange(4), 2.6 * np.arange(4), indexing="ij"), -1).reshape(-1, 3)
    rng = np.random.default_rng(11)
    g = g + rng.uniform(-0.1, 0.1, g.shape)
    types = (np.arange(len(g)) % 2)
    L = np.diag([30.0, 10.4, 10.4])
    data = tmp_path / f"slab-{boundary[0]}.data"
    lines = ["# slab", "", f"{len(g)} atoms", "2 atom types", "", "0 30 xlo xhi", "0 10.4 ylo yhi",
             "0 10.4 zlo zhi", "", "Atoms # atomic", ""]
    lines += [f"{k + 1} {t + 1} {x:.17g} {y:.17g} {z:.17g}" for k, (t, (x, y, z)) in enumerate(zip(types, g))]
    data.write_text("\n".join(lines) + "\n")
    return data, L, g, types


@pytest.mark.mpi
@pytest.mark.parametrize("boundary", ["p p p", "f p p"])
def test_rank_without_atoms(tmp_path, boundary):
    """One rank idles (no local atoms); energy, forces and the committee's
    model deviation equal the serial run and the reference evaluator."""
    data, L, g, types = slab(tmp_path, boundary)
    ref = reference.evaluate(harness.model(ANY), g, types, L, pbc=[b == "p" for b in boundary.split()])
    body = """
velocity all create 200 5 mom yes rot no
fix 1 all nve
timestep 0.0005
compute pe all pe/atom
thermo_style custom step pe
thermo_modify format float %.15g
dump d all custom 10 f.dump id fx fy fz
dump_modify d sort id format float %.15g
run 0
print "PE $(pe:%.15g)"
run 20
"""
    results = {}
    for n in (1, 2):
        wd = tmp_path / f"np{n}"
        wd.mkdir()
        text = script(data, f"{harness.model(ANY)} {harness.model(TSEL)}", body,
                      extra="out_freq 5 out_file md.out", head=f"boundary {boundary}\nprocessors {n} 1 1")
        out = succeeds(text, wd, n)
        results[n] = (harness.printed(out, "PE")[0][0], harness.read_dump_forces(wd / "f.dump"),
                      np.loadtxt(wd / "md.out"))
        if n == 2:
            assert re.search(r"^Nlocal:\s+16 ave\s+32 max\s+0 min", out, re.M), out[-3000:]
            if boundary.startswith("f"):
                assert re.search(r"^Nghost:\s+\S+ ave\s+\S+ max\s+0 min", out, re.M), out[-3000:]
    assert abs(results[1][0] - ref["energy"]) < 1e-10 * abs(ref["energy"])
    assert abs(results[2][0] - ref["energy"]) < 1e-10 * abs(ref["energy"])
    np.testing.assert_allclose(results[2][1], results[1][1], rtol=1e-9, atol=1e-9)
    assert results[1][2].shape == results[2][2].shape and results[1][2].shape[0] >= 5
    np.testing.assert_allclose(results[2][2], results[1][2], rtol=1e-8, atol=1e-10)


# --- life cycle and restarts -----------------------------------------------------

@pytest.mark.parametrize("nprocs", NPROCS)
def test_redeclare_clear_unload_mid_run(tmp_path, crystal, nprocs):
    """pair_style re-declared between runs (same model → same energy, other
    model → its energy), `clear` and a new system, `plugin unload` with the
    style in use, reload; then dprs after an unload without reload is a clean
    LAMMPS error."""
    data = crystal[0]
    model, other = harness.model(ANY), harness.model(TSEL)
    setup = script(data, model, "").replace(f"plugin load {harness.PLUGIN}\n", "")
    text = f"""
plugin load {harness.PLUGIN}
{setup}
velocity all create 300 1 mom yes rot yes
fix 1 all nve
timestep 0.0005
run 10
print "A $(pe:%.15g)"
pair_style dprs {model}
pair_coeff * * O H
run 0
print "B $(pe:%.15g)"
pair_style dprs {other}
pair_coeff * * O H
run 10
pair_style dprs {model} {other}
pair_coeff * * O H
run 10
clear
{setup}
run 0
print "C $(pe:%.15g)"
plugin unload pair dprs
plugin load {harness.PLUGIN}
pair_style dprs {model}
pair_coeff * * O H
run 0
print "D $(pe:%.15g)"
plugin unload pair dprs
pair_style dprs {model}
"""
    proc = run(text, tmp_path, nprocs)
    a, b, c, d = (harness.printed(proc.stdout, k)[0][0] for k in "ABCD")
    assert a == b, "re-declaring the same model changes nothing"
    ref = reference.evaluate(model, crystal[2], crystal[3], crystal[1])["energy"]
    assert abs(c - ref) < 1e-10 * abs(ref) and abs(d - ref) < 1e-10 * abs(ref)
    assert proc.returncode != 0
    assert harness.ERROR_RE.findall(proc.stdout)[0].startswith("Unrecognized pair style 'dprs'")


@pytest.mark.mpi
def test_restart_across_rank_counts(tmp_path, crystal):
    """write_restart under 2 ranks, read_restart serial and on 2 ranks: both
    continue the uninterrupted trajectory; forgetting to re-declare the pair
    style is a clean LAMMPS error (restartinfo = 0), not a force-free run."""
    data = crystal[0]
    setup = script(data, harness.model(ANY), "velocity all create 600 4321 mom yes rot yes\n"
                   "fix 1 all nve\ntimestep 0.001\nthermo_modify format float %.17g")
    final = 'print "FINAL $(pe:%.17g) $(ke:%.17g)"'
    whole = succeeds(setup + f"run 40\n{final}\n", tmp_path, 1)
    succeeds(setup + "run 20\nwrite_restart half.restart\n", tmp_path, 2)
    pair = f"pair_style dprs {harness.model(ANY)}\npair_coeff * * O H\n"
    head = f"units metal\natom_style atomic\nplugin load {harness.PLUGIN}\nread_restart half.restart\n"
    a = harness.printed(whole, "FINAL")[0]
    for n in (1, 2):
        out = succeeds(head + pair + f"fix 1 all nve\ntimestep 0.001\nrun 20\n{final}\n", tmp_path, n)
        b = harness.printed(out, "FINAL")[0]
        assert np.all(np.abs(a - b) <= 1e-9 * np.abs(a)), (n, a, b)
    msg = fails(head + "fix 1 all nve\nrun 5\n", tmp_path, 2)
    assert msg.startswith("Must re-specify non-restarted pair style (dprs) after read_restart")
