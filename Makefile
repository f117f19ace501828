# The two commands of the README are `make serve` and `make test`; both go
# through `make setup`, which creates .venv/ from the lock file (and does
# nothing when the lock file has not changed since).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-from-lock
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup serve test lock lint

setup: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	# --no-deps: the lock already lists every package; older pips (23.x) otherwise
	# refuse a dependency asked for with an extra (pdm's hishel[httpx2]) in hash mode.
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(VENV)/bin/python -m pip check
	touch $@

# The embedded default: SQLite and files under ./data, eager tasks, DEBUG on. The
# printed links and the pages' absolute URLs use the address served on.
serve: export INDEX_BASE_URL ?= http://$(HOST):$(PORT)
serve: setup
	DEBUG=1 $(VENV)/bin/python manage.py migrate --noinput
	DEBUG=1 $(VENV)/bin/python manage.py ensureadmin
	DEBUG=1 $(VENV)/bin/python manage.py runserver $(HOST):$(PORT)

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Regenerate the lock file after editing pyproject.toml's dependencies.
lock: setup
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

lint: setup
	$(VENV)/bin/ruff check .
