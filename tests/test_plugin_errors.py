"""Bad input ends in a LAMMPS ERROR that names the problem and the fix:
non-zero exit, no crash, message checked."""

import json

import pytest

import harness
import reference

BASE = """
units {units}
atom_style atomic
{newton}
read_data {data}
mass * 20.0
plugin load {plugin}
pair_style dprs {model}
pair_coeff * * {elements}
run 0
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    cell, pos, types = reference.random_triclinic_system(seed=2, reps=(2, 2, 2))
    path = tmp_path_factory.mktemp("err") / "conf.data"
    reference.write_lammps_data(path, cell, pos, types)
    return path


def onnx_without_contract(path):
    """A valid ONNX model of the right interface but without dprs metadata."""
    import onnx

    m = onnx.load(str(harness.model("test-any-fp64.onnx")))
    keep = [p for p in m.metadata_props if p.key != "dprs.contract"]
    del m.metadata_props[:]
    m.metadata_props.extend(keep)
    onnx.save(m, str(path))


def run_case(tmp_path, data, env=None, **fields):
    values = dict(
        units="metal",
        newton="",
        data=data,
        plugin=harness.PLUGIN,
        model=harness.model("test-any-fp64.onnx"),
        elements="O H",
    )
    values.update(fields)
    proc = harness.run_lmp(BASE.format(**values), tmp_path, env=env, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert not harness.is_crash(proc.returncode), proc.stdout[-2000:]
    errors = harness.ERROR_RE.findall(proc.stdout)
    assert errors, proc.stdout[-2000:]
    return errors[0]


def test_missing_model_file(tmp_path, data):
    msg = run_case(tmp_path, data, model="nope/missing.onnx")
    assert "nope/missing.onnx" in msg and "not found" in msg


def test_non_onnx_file(tmp_path, data):
    junk = tmp_path / "model.onnx"
    junk.write_text("this is not a protobuf\n" * 10)
    msg = run_case(tmp_path, data, model=junk)
    assert "not a loadable ONNX model" in msg and str(junk) in msg


def test_onnx_without_contract(tmp_path, data):
    plain = tmp_path / "plain.onnx"
    onnx_without_contract(plain)
    msg = run_case(tmp_path, data, model=plain)
    assert "dprs.contract" in msg and "export" in msg


def test_element_not_in_model(tmp_path, data):
    msg = run_case(tmp_path, data, elements="O Ca")
    assert "'Ca'" in msg and json.dumps(list(harness.TYPE_MAP)) in msg


def test_wrong_number_of_elements(tmp_path, data):
    msg = run_case(tmp_path, data, elements="O")
    assert "1 element names given for 2 atom types" in msg


def test_units_real_refused(tmp_path, data):
    msg = run_case(tmp_path, data, units="real")
    assert "units real is not supported" in msg and "units metal" in msg


def test_newton_off_refused(tmp_path, data):
    msg = run_case(tmp_path, data, newton="newton off")
    assert "newton pair off is not supported" in msg


def test_onnxruntime_not_found(tmp_path, data):
    msg = run_case(tmp_path, data, env={"DPRS_ORT_LIB": "/nonexistent/libonnxruntime.so.1"})
    assert "libonnxruntime not found at '/nonexistent/libonnxruntime.so.1'" in msg
    assert "DPRS_ORT_LIB" in msg


def test_onnxruntime_not_loadable(tmp_path, data):
    """A file that exists but is no shared library: the real dlopen error is shown."""
    fake = tmp_path / "libonnxruntime.so"
    fake.write_text("not an ELF file")
    msg = run_case(tmp_path, data, env={"DPRS_ORT_LIB": str(fake)})
    assert "could not load" in msg and str(fake) in msg


def test_unknown_keyword(tmp_path, data):
    msg = run_case(tmp_path, data, model=f"{harness.model('test-any-fp64.onnx')} thread 2")
    assert "unknown keyword 'thread'" in msg
