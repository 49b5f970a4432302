# Two commands do all set-up on a fresh machine:  make run  /  make test
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/bpviz $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Lint and type-check; what they cover is configured in pyproject.toml.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info

# The desktop bundle, dist/bpviz/ (packaging/pyinstaller/bpviz.spec): about 2 minutes, so never
# part of `make test`. package-test runs the bundle's headless commands and its --smoke-test
# under Xvfb (packaging/pyinstaller/check_bundle.py).
.PHONY: package package-test
PYINSTALLER_STAMP := $(VENV)/.pyinstaller

$(PYINSTALLER_STAMP): $(STAMP)
	$(PY) -m pip install -q -c constraints.txt pyinstaller pyinstaller-hooks-contrib
	touch $(PYINSTALLER_STAMP)

package: $(PYINSTALLER_STAMP)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
	  packaging/pyinstaller/bpviz.spec
	du -sh dist/bpviz

package-test:
	$(PY) packaging/pyinstaller/check_bundle.py
