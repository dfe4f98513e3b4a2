# Two commands for a fresh Debian machine, as root:  make demo  |  make test
# Each does its own set-up: the virtualenv in .venv, the package with its extras, and Dovecot for the tests.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
APT    := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: demo test lint bench fuzz dovecot systemd chromium clean

# The virtualenv is rebuilt when pyproject.toml changes.
$(VENV): pyproject.toml
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { $(APT) update -q && $(APT) install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,dev]'
	@touch $(VENV)

# Dovecot for the IMAP tests; the system service it installs is not used (tests run their own instance).
dovecot:
	@command -v dovecot >/dev/null 2>&1 || { $(APT) update -q && $(APT) install -y -q --no-install-recommends dovecot-imapd openssl; }

# systemd-analyze, for the test that verifies contrib/*.service (nothing is started or enabled).
systemd:
	@command -v systemd-analyze >/dev/null 2>&1 || { $(APT) update -q && $(APT) install -y -q --no-install-recommends systemd; }

# Headless Chromium and a Japanese font for the test that renders the HTML summary to a PNG.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=ja | grep -q .; } || { $(APT) update -q && $(APT) install -y -q --no-install-recommends chromium fonts-noto-cjk; }

# The whole story on a local moto server seeded like an attacked account: no credentials, no internet.
demo: $(VENV)
	$(BIN)/python examples/demo.py

lint: $(VENV)
	$(BIN)/ruff check triage tests benchmarks
	$(BIN)/mypy triage

test: $(VENV) dovecot systemd chromium lint
	$(BIN)/pytest -q

# Hostile mails made by hypothesis through the whole pipeline to a real SMTP server (`make test` runs 200).
fuzz: $(VENV)
	TRIAGE_FUZZ=fuzz $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

# scan_inbox at BENCH_MESSAGES mails should end within 10 minutes even on a loaded 2-core machine: at
# N=4000 it took 10.2 minutes at load 10, 9.5 of them the fetch-all baseline (N=20000: about 45 minutes).
# The first run also generates the mailbox and caches it under ~/.cache/triage-bench.
BENCH_MESSAGES ?= 3000

bench: $(VENV) dovecot
	$(BIN)/python -m benchmarks.scan_inbox --messages $(BENCH_MESSAGES)
	$(BIN)/python -m benchmarks.sweep
	$(BIN)/python -m benchmarks.translate_chars

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
