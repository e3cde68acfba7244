# One-command entry points. Every target bootstraps .venv from requirements.txt when missing.
PY      := .venv/bin/python
VENV_OK := .venv/.installed
# DVC stages call `python`: make it the project's interpreter.
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# oneDNN is what makes TensorFlow fast on this CPU (4x); never let an environment switch it off.
export TF_ENABLE_ONEDNN_OPTS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: study quick test test-all lint bench speed-probe time-to-quality clean-resume

$(VENV_OK): requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

study: $(VENV_OK)
	.venv/bin/dvc repro

# The whole pipeline on tiny settings, as a temporary experiment: params.yaml is not touched.
quick: $(VENV_OK)
	$(PY) -m segstudy.quick

# What CI runs: everything but the `slow` tests (whole-DAG `make quick` runs, the JAX backend).
test: $(VENV_OK)
	$(PY) -m pytest -q -m "not slow"

# Every test, the slow ones included (about an hour on 2 cores).
test-all: $(VENV_OK)
	$(PY) -m pytest -q

lint: $(VENV_OK)
	.venv/bin/ruff check .

# Pipeline vs plain-fit baseline, fraction of FP32 peak, inference, training memory (< 10 min).
bench: $(VENV_OK)
	PYTHONPATH=src $(PY) benchmarks/bench.py

# Wall time for the LGG U-Net to reach paper B's mean IoU on validation (needs prepare).
time-to-quality: $(VENV_OK)
	PYTHONPATH=src $(PY) benchmarks/time_to_quality.py

# Model-only training throughput at several widths and input sizes (chose the defaults).
speed-probe: $(VENV_OK)
	PYTHONPATH=src $(PY) benchmarks/speed_probe.py

clean-resume:
	rm -rf .resume
