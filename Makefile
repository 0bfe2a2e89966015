# The README's two commands: `make run` (the dashboard on the shipped demo checkpoint) and
# `make test`. Both create/update .venv from requirements.txt first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8501

.PHONY: run test test-slow test-all results venv demo-checkpoint screenshots bench docker-check clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app/main.py --server.address $(HOST) --server.port $(PORT)

# The fast suite (unit, AppTest, real-process and browser tests); checks marked `slow` (longer
# training runs, torchrun, Ray) are `make test-slow`, and CI runs both.
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

demo-checkpoint: $(STAMP)
	$(BIN)/mro search --dataset synthetic --preset demo --seed 0 --device cpu --workspace runs --name demo --out checkpoints/demo.pt

# Every shipped artefact (demo checkpoint, tables, studies, ground truth) that did not come from
# this search code, regenerated (`mro results --list` shows the plan and its run time).
results: $(STAMP)
	$(BIN)/mro results

screenshots: $(STAMP)
	MRO_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/e2e

bench: $(STAMP)
	$(BIN)/mro bench

# Builds the Dockerfile on a local stand-in base and runs the image as the README documents it
# (installs and starts Docker where missing; skips with a reason where Docker cannot run at all).
docker-check:
	bash scripts/docker_check.sh

clean:
	rm -rf $(VENV) .pytest_cache
