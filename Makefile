# Quick start: `make demo` and `make test` on a fresh Python 3.11 machine.
PYTHON_BIN ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The CPU wheel on these machines. Installed first so that no requirement
# ever resolves `torch` from the registry (that pulls the multi-GB CUDA
# build). On a GPU machine: make install TORCH_SPEC="torch==2.13.0" with
# your CUDA index, or preinstall torch.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?= -q

.PHONY: install tcmalloc install-tests demo demo-csre test test-slow test-dist wheel-smoke clean demo-skeattnclr docs bench-gpu device-wheels results-nwucla

$(VENV)/.stamp-install: setup.py
	-@$(MAKE) --no-print-directory tcmalloc
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q -e .
	touch $@

$(VENV)/.stamp-tests: $(VENV)/.stamp-install requirements/docs.txt
	$(PIP) install -q -e ".[tests]"
	$(PIP) install -q -r requirements/docs.txt
	touch $@

install: $(VENV)/.stamp-install

# tcmalloc makes large CPU training steps faster (docs/performance.md); the
# tools preload it when installed. Installed here with apt-get as root;
# elsewhere (or if that fails) a notice, never an error.
TCMALLOC_PKG ?= libtcmalloc-minimal4
tcmalloc:
	@if ls /usr/lib/*-linux-gnu/libtcmalloc*.so* >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y -q $(TCMALLOC_PKG) >/dev/null 2>&1; then \
		echo "installed $(TCMALLOC_PKG) (tcmalloc)"; \
	else echo "note: tcmalloc not installed (apt-get install" \
		"$(TCMALLOC_PKG)); training runs with glibc malloc, slower on a CPU"; fi

install-tests: $(VENV)/.stamp-tests

demo: install
	$(PY) tools/run_demo.py

# CTR-GCN against CTR-GCN w/ CSRE (same seed, same initial weights) on the
# same demo set, four streams each, and their fused table.
demo-csre: install
	$(PY) tools/run_demo.py --methods ctrgcn csre_ctrgcn \
		--work-dir work_dirs/demo_csre

# SkeAttnCLR: self-supervised pretraining on the demo set (labels unused),
# kNN, and a linear probe of the pretrained frozen backbone against the same
# probe on a random frozen backbone (same seed).
demo-skeattnclr: install
	$(PY) tools/run_demo_skeattnclr.py

# The GPU suite, one command: every method and encoder in fp32 and AMP fp16
# with ratios to its baseline, peak memory, compile vs eager, bank loss vs
# the per-sample reference, SkeAttnCLR at batch 128, inference throughput
# -> work_dirs/bench_gpu/suite.md and .json (no item starts after 7 min)
bench-gpu: install
	$(PY) tools/benchmark.py --suite gpu

# A lent GPU machine has no package index: fetch the wheels it lacks into
# .whl/ here, carry .whl and run tools/misc/bench_gpu_device.sh there
# (docs/user_guides/benchmark.md)
device-wheels: install
	PY=$(PY) bash tools/misc/device_wheels.sh .whl

# The NW-UCLA grid of docs/results.md: every method and encoder on the real
# skeletons (SQE=path/to/all_sqe), reduced schedule, paired seeds; hours on
# a CPU, resumable (run it again to continue). MODE=status: where it stands.
MODE ?= run
results-nwucla: install
	PY=$(abspath $(PY)) bash tools/misc/results_nwucla.sh $(MODE)

test: install-tests
	$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

# Sweeps of every shipped config and encoder (ONNX, bf16 autocast, lr
# schedules, CSRE/baseline pairs); CI runs them after `make test`.
test-slow: install-tests
	$(PY) -m pytest tests -m slow $(PYTEST_ARGS)

# Two-process CPU training through torchrun + tools/train.py --launcher
# pytorch (gloo); about 100 CPU-seconds, so not part of `make test`.
test-dist: install-tests
	MMSKELCL_TORCHRUN=1 $(PY) -m pytest tests/engine/test_torchrun_cpu.py \
		tests/engine/test_csre_torchrun.py \
		tests/engine/test_skeattnclr_torchrun.py $(PYTEST_ARGS)

# The documentation site (mkdocs + material + mkdocstrings, pinned in
# requirements/docs.txt) in strict mode into site/: the generated pages
# (registered names, API index, config index) must be current, and a broken
# link, an anchor that does not exist, a page left out of the nav or an API
# entry that does not resolve fails. Open site/index.html.
docs: install-tests
	$(PY) tools/misc/docs_tables.py --check
	$(PY) tools/misc/config_table.py --check
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

# Build the wheel, install it in a fresh venv and import every registered
# module from it (the MMAction2 DRN defect shipped because nobody did this).
wheel-smoke: install
	rm -rf build dist /tmp/mmskelcl-wheel-venv
	$(PIP) install -q build
	$(PY) -m build --wheel --outdir dist . >/dev/null
	$(PYTHON_BIN) -m venv /tmp/mmskelcl-wheel-venv
	/tmp/mmskelcl-wheel-venv/bin/pip install -q --upgrade pip
	/tmp/mmskelcl-wheel-venv/bin/pip install -q "$(TORCH_SPEC)"
	/tmp/mmskelcl-wheel-venv/bin/pip install -q dist/*.whl
	cd /tmp && /tmp/mmskelcl-wheel-venv/bin/python -m mmskelcl.utils.smoke

# The MMDetection + MMPose environment of the pose extraction
# (tools/data/extract_2d_skeleton.py --backend mmpose) in its own venv:
# the registry's torch 2.13.0 (the version of TORCH_SPEC) with torchvision
# 0.28.0, mmcv 2.1.0 built with its ops once into a wheel cache
# (MMSKELCL_WHEEL_CACHE), mmdet 3.3.0, mmpose 1.3.2. See tools/pose_env.sh.
POSE_VENV ?= .venv-pose
POSE_TORCH_SPEC ?= $(subst ==,===,$(TORCH_SPEC))
.PHONY: pose-env test-pose

$(POSE_VENV)/.stamp-pose: tools/pose_env.sh setup.py
	POSE_VENV=$(POSE_VENV) POSE_TORCH_SPEC="$(POSE_TORCH_SPEC)" \
		PYTHON_BIN=$(PYTHON_BIN) bash tools/pose_env.sh
	touch $@

pose-env: $(POSE_VENV)/.stamp-pose

# The real MMDetection/MMPose extraction tests (skipped in the main venv;
# here an environment that cannot import them fails). CI runs it.
test-pose: pose-env
	MMSKELCL_REQUIRE_MMPOSE=1 $(POSE_VENV)/bin/python -m pytest \
		tests/data_tools/test_pose_extraction_mmpose.py $(PYTEST_ARGS)

clean:
	rm -rf build dist *.egg-info work_dirs data/demo
