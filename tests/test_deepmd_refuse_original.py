"""Models users have that dprs-export refuses, as the files `dp freeze` wrote
(trained by export/fixtures/make_fixtures.py, REFUSED): the refusal names
what the model is and writes nothing. Needs deepmd-kit and TensorFlow: an
extended test, run by `make test-deepmd`."""

import pytest

from test_deepmd_export import FIXTURES, run_export

CASES = {
    "refused_tf_se_e2_a_tebd": "DeePMD-kit cannot serialize this model (RuntimeError: type "
                               "embedding for descriptors without mixed types",
    "refused_tf_se_atten_attn1": "se_atten/DPA-1 with attn_layer = 1 trained with TensorFlow",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused(tmp_path, name):
    src = FIXTURES / f"{name}.pb"
    assert src.exists(), f"{src} missing: run make test-deepmd"
    out = tmp_path / "x.onnx"
    p = run_export(["deepmd", src, "-o", out], check=False)
    assert p.returncode == 2, p.stdout
    assert "unsupported DeePMD-kit model" in p.stdout and CASES[name] in p.stdout, p.stdout
    assert not out.exists()
