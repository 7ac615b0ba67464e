PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-durability lint bench postman contract client lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs exactly the locked versions (hash-checked), then the project itself.
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/parts-platform serve

# Includes the crash tests (marker `durability`: kill -9 of the database and of the API).
test: $(STAMP)
	$(BIN)/python -m pytest -q

test-durability: $(STAMP)
	$(BIN)/python -m pytest -q -m durability

lint: $(STAMP)
	$(BIN)/ruff check app tests bench tools

# Regenerate the TypeScript client's types (clients/typescript/src/schema.d.ts) from the
# OpenAPI document and type-check the client (npm tools installed once under var/npm).
client: $(STAMP)
	$(BIN)/python -m tools.ts_client

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Regenerates postman/collection.json and postman/environment.json from the OpenAPI document.
postman: $(STAMP)
	$(BIN)/python -m tools.postman

# Starts the app on a fresh embedded database and runs newman (the Postman flows) and
# schemathesis against it (Node.js needed; newman is installed into var/npm).
contract: $(STAMP)
	$(BIN)/python -m tools.contract

# Refresh the lock files after changing dependencies in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 --upgrade \
		--custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra test --generate-hashes --python-version 3.11 \
		--upgrade --custom-compile-command "make lock" -o requirements-dev.lock

clean:
	rm -rf $(VENV) var .pytest_cache
