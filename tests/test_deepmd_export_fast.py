"""dprs-export's speed options on the DeePMD-kit fixtures (issue 7):

* ``--precision mixed`` — float64 interface/geometry/outputs, float32 networks:
  compared with DeepPot (the original .pb's numbers), bound TOLMIX;
* ``--compress`` — the se_e2_a embedding nets replaced by Chebyshev expansions
  (export/dprs_export/compress.py): compared with DeepPot at the float64
  tolerance and with the uncompressed export, in the numpy reference and
  inside LAMMPS; neighbours closer than --compress-rmin stay finite; se_e2_r
  is refused.
"""

import json

import numpy as np
import onnx
import pytest

import harness
import reference
from test_deepmd_export import FIXTURES, TOL, configs, record, relerr, run_export, source

TOLMIX = 1e-5      # mixed precision vs DeepPot, relative (measured: see test output)
TOLCOMP = 1e-6     # compressed float64 vs the uncompressed export, forces (issue 7 goal)


def export(tmp_path, name, *opts):
    out = tmp_path / f"{name}{'-'.join(o.strip('-') for o in opts)}.onnx"
    p = run_export(["deepmd", source(name), "-o", out, *opts])
    return out, p.stdout


def errors(path, cfg, truth=None):
    r = reference.evaluate(path, cfg["pos"], cfg["types"], cfg["cell"])
    t = truth or dict(energy=cfg["energy"], forces=cfg["forces"], virial9=cfg["virial9"],
                      atom_energy=cfg["atom_energy"])
    return r, dict(energy=abs(r["energy"] - t["energy"]) / abs(t["energy"]),
                   forces=relerr(r["forces"], t["forces"]),
                   virial=relerr(r["virial9"], t["virial9"]),
                   atom_energy=relerr(r["atom_energy"], t["atom_energy"]))


@pytest.mark.parametrize("name", ["se_e2_a", "se_e2_a_two_side", "se_e2_r"])
def test_mixed_precision(tmp_path, name):
    path, _ = export(tmp_path, name, "--precision", "mixed")
    m = onnx.load(str(path))
    assert m.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert all(o.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE for o in m.graph.output)
    md = {p.key: p.value for p in m.metadata_props}
    assert md["dprs.precision"] == "mixed"
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    for cfg in configs(ref):
        _, e = errors(path, cfg)
        record(name, "mixed", **e)
        for k, v in e.items():
            assert v < TOLMIX, (name, k, v)


@pytest.mark.parametrize("precision", ["float64", "mixed"])
@pytest.mark.parametrize("name", ["se_e2_a", "se_e2_a_two_side", "pt_se_e2_a"])
def test_compressed(tmp_path, name, precision):
    plain, _ = export(tmp_path, name, "--precision", precision)
    comp, out = export(tmp_path, name, "--precision", precision, "--compress")
    assert "Chebyshev pieces" in out, out
    md = {p.key: p.value for p in onnx.load(str(comp)).metadata_props}
    info = json.loads(md["dprs.compression"])
    assert info["rmin"] == 1.0 and all(n["value_err"] <= 1e-10 for n in info["nets"])
    assert float(md["dprs.rmin"]) == 1.0   # the plugin warns below the table
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    for cfg in configs(ref):
        r0, _ = errors(plain, cfg)
        _, e = errors(comp, cfg, truth=r0)
        record(name, f"compress-vs-{precision}", **e)
        _, e2 = errors(comp, cfg)
        record(name, f"compressed-{precision}-vs-deeppot", **e2)
        if precision == "float64":
            # the expansion's own error, and the whole model's vs DeepPot
            assert e["forces"] < TOLCOMP, (name, e)
            for k in e:
                assert e[k] < TOL and e2[k] < TOL, (name, k, e[k], e2[k])
        else:
            # float32 round-off (~1e-6) dominates both exports: bound vs DeepPot
            for k, v in e2.items():
                assert v < TOLMIX, (name, k, v)


@pytest.mark.parametrize("name", ["se_e2_a_two_side", "pt_se_e2_a"])
def test_compressed_in_lammps(tmp_path, name):
    """pair_style dprs runs the compressed model (its stage in the plugin);
    forces as DeepPot's, for a TensorFlow- and a PyTorch-trained model."""
    comp, _ = export(tmp_path, name, "--compress")
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    cfg = next(configs(ref))
    data = tmp_path / "conf.data"
    L, p, R = reference.write_lammps_data(data, cfg["cell"], cfg["pos"], cfg["types"], ntypes=2)
    # the stage runs per chunk on the pair style's threads: any chunking and
    # thread count give the same numbers
    for extra in ("", "threads 2 chunk 7"):
        lmp = harness.new_lammps()
        harness.setup_system(lmp, data, comp, extra, type_map=("Cu", "Ni"),
                             masses=(63.546, 58.6934))
        lmp.command("run 0")
        energy = lmp.get_thermo("pe")
        forces = harness.by_id(lmp, "f") @ R.T
        lmp.close()
        assert abs(energy - cfg["energy"]) / abs(cfg["energy"]) < TOL, extra
        assert relerr(forces, cfg["forces"]) < TOL, extra


@pytest.mark.mpi
def test_compressed_in_lammps_on_two_ranks(tmp_path):
    """The stage of a compressed model on 2 MPI ranks (ghost neighbours,
    atoms split between ranks): energy and forces as DeepPot's."""
    name = "se_e2_a_two_side"
    comp, _ = export(tmp_path, name, "--compress")
    ref = np.load(FIXTURES / f"{name}.ref.npz")
    cfg = list(configs(ref))[-1]
    data = tmp_path / "conf.data"
    L, p, R = reference.write_lammps_data(data, cfg["cell"], cfg["pos"], cfg["types"], ntypes=2)
    text = f"""
units metal
atom_style atomic
atom_modify map array
read_data {data}
mass 1 63.546
mass 2 58.6934
plugin load {harness.PLUGIN}
pair_style dprs {comp} chunk 5
pair_coeff * * Cu Ni
dump d all custom 1 forces.dump id fx fy fz
dump_modify d sort id format float %.17g
run 0
print "RUN0 $(pe:%.17g)"
"""
    proc = harness.run_lmp(text, tmp_path, nprocs=2)
    assert "2 by" in proc.stdout or "1 by 2" in proc.stdout or "2 MPI" in proc.stdout, \
        proc.stdout[-2000:]
    energy = harness.printed(proc.stdout, "RUN0")[0][0]
    forces = harness.read_dump_forces(tmp_path / "forces.dump") @ R.T
    assert abs(energy - cfg["energy"]) / abs(cfg["energy"]) < TOL
    assert relerr(forces, cfg["forces"]) < TOL


def test_compressed_short_distance_and_padding(tmp_path):
    """Below rmin the expansion is clipped: outputs stay finite; padding
    slots get exactly zero gradient."""
    comp, _ = export(tmp_path, "se_e2_a", "--compress", "--compress-rmin", "1.5")
    md = {p.key: p.value for p in onnx.load(str(comp)).metadata_props}
    sel = json.loads(md["dprs.sel"])
    nnei = sum(sel)
    rij = np.zeros((3, nnei, 3))
    nt = -np.ones((3, nnei), np.int64)
    for i, r in enumerate([0.3, 1.2, 2.4]):        # below rmin, below rmin, inside
        rij[i, 0] = [r, 0.0, 0.0]
        nt[i, 0] = 0
        rij[i, sel[0]] = [0.0, 2.5, 0.0]
        nt[i, sel[0]] = 1
    # the model's stage (A from the neighbours, dE/dA back to dE/drij) and its graph
    e, g = reference.run_model(str(comp), rij, nt, np.array([0, 1, 0]))
    assert np.isfinite(e).all() and np.isfinite(g).all()
    assert (g[nt < 0] == 0).all()


def test_compress_refuses_an_embedding_net_with_kinks(tmp_path):
    """relu6 in the embedding net (this PyTorch fixture): its derivative jumps,
    so no table is within the tolerance; refused, with the reason, not written."""
    out = tmp_path / "k.onnx"
    p = run_export(["deepmd", source("pt_se_e2_a_one_side"), "-o", out, "--compress"],
                   check=False)
    assert p.returncode == 2 and "relu6" in p.stdout and "without --compress" in p.stdout, \
        p.stdout
    assert not out.exists()


def test_compress_refuses_se_e2_r(tmp_path):
    p = run_export(["deepmd", source("se_e2_r"), "-o", tmp_path / "r.onnx",
                    "--compress"], check=False)
    assert p.returncode == 2 and "se_e2_a only" in p.stdout


def test_report_fast_errors():
    """Prints the max relative errors measured above (pytest -s shows them)."""
    from test_deepmd_export import ERRORS
    for (name, what), d in sorted(ERRORS.items()):
        if what.startswith(("mixed", "compress")):
            print(f"\n{name:18s} {what:24s} " + " ".join(f"{k}={v:.2e}" for k, v in d.items()))


def test_compressed_gradient_matches_finite_differences(tmp_path):
    """dE_drij of the compressed model (stage + graph) is the derivative of its
    own energy (local-v1 §6), including a neighbour between rmin and the clip."""
    comp, _ = export(tmp_path, "se_e2_a", "--compress")
    md = {p.key: p.value for p in onnx.load(str(comp)).metadata_props}
    sel = json.loads(md["dprs.sel"])
    rng = np.random.default_rng(3)
    nnei = sum(sel)
    rij = np.zeros((1, nnei, 3))
    nt = -np.ones((1, nnei), np.int64)
    for k, r in enumerate([1.05, 2.2, 2.6, 3.4, 4.1, 4.9]):
        t = k % 2
        slot = sum(sel[:t]) + k // 2
        v = rng.normal(size=3)
        rij[0, slot] = r * v / np.linalg.norm(v)
        nt[0, slot] = t
    def run(r):
        return reference.run_model(str(comp), r, nt, np.array([1]))
    _, g = run(rij)
    h = 1e-5
    for slot in np.nonzero(nt[0] >= 0)[0]:
        for d in range(3):
            rp, rm = rij.copy(), rij.copy()
            rp[0, slot, d] += h
            rm[0, slot, d] -= h
            ep = run(rp)[0].sum()
            em = run(rm)[0].sum()
            fd = (ep - em) / (2 * h)
            assert abs(fd - g[0, slot, d]) <= 1e-7 * np.abs(g).max(), (slot, d, fd, g[0, slot, d])
