# StoryBot: `make demo` to try it, `make test` to check it. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= why did V accept the role?

.PHONY: install demo test lint typecheck check run bench bench-quick reader clean

install: $(STAMP)

# torch goes in first, pinned. From PyPI, torch for Linux is the CUDA build (several GB); for the
# CPU build, `make install TORCH_INDEX=https://download.pytorch.org/whl/cpu` (see DEVELOPERS.md).
# Then everything else at the exact versions in requirements.lock, then StoryBot itself (editable,
# --no-deps: nothing resolved again); pip check stops the install if the lock no longer satisfies
# pyproject.toml's dependencies (one added or raised without refreshing the lock).
# `make install LOCK=` (on a fresh .venv) skips the lock: pip takes the newest versions within
# pyproject.toml's floors, as `pip install -e '.[dev]'` does; that is how the lock is refreshed.
TORCH_INDEX ?=
LOCK ?= requirements.lock
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(if $(LOCK),$(BIN)/python -m pip install --quiet -r $(LOCK))
	$(BIN)/python -m pip install --quiet $(if $(LOCK),--no-deps -e .,-e '.[dev]')
	$(BIN)/python -m pip check
	touch $(STAMP)

demo: install
	$(BIN)/storybot index build
	$(BIN)/storybot ask "$(QUESTION)"

# The bot, from this checkout; needs DISCORD_TOKEN (README: Discord setup).
run: install
	$(BIN)/python -m bot

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bench bot cli config index tests training

check: lint typecheck test

# The engine benchmark (issue 5): bench/results/results.md, results.json, latency.png.
# Full mode takes well under an hour; `make bench QUICK=1` (or `make bench-quick`) a few minutes.
bench: install
	$(BIN)/python -m bench $(if $(QUICK),--quick)

bench-quick: install
	$(BIN)/python -m bench --quick

# The reader (training/README.md): rebuilds index/models/reader from training/data with a fixed seed
# and prints its validation scores; about an hour on 2 CPU cores.
reader: install
	$(BIN)/python -m training.reader

clean:
	rm -rf $(VENV) data/index .pytest_cache .mypy_cache .ruff_cache
