# Tandem: `make run` starts it with a demo company; `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export TANDEM_DATA_DIR ?= $(CURDIR)/data

.PHONY: install run test lint lock clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	TANDEM_DEBUG=true $(BIN)/tandem up

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-pin after changing dependencies in pyproject.toml.
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:
	rm -rf $(VENV) data
