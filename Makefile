# Entry points: `make run` starts the server, `make test` runs every test, `make bench` measures.
SWIFT        ?= swift
VENV         := .venv
PY           := $(VENV)/bin/python
RELEASE_BIN  := .build/release
SYSTEM_PKGS  := zlib1g-dev pkg-config

.PHONY: all build release deps venv test unit-test interop-test autobahn-test run bench bench-quick clean

all: build

# Debian -dev packages of the C libraries we link; installed only when pkg-config cannot find them.
deps:
	@if ! pkg-config --exists zlib 2>/dev/null; then \
		echo "installing $(SYSTEM_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS); \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Python peers used by the interop and conformance tests (python-engineio, python-socketio, kosoku).
$(VENV)/.stamp: Tests/Interop/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r Tests/Interop/requirements.txt
	touch $@

venv: $(VENV)/.stamp

test: unit-test interop-test autobahn-test

unit-test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

interop-test: release venv
	$(PY) Tests/Interop/run_interop.py --bin $(RELEASE_BIN)

autobahn-test: release venv
	$(PY) Tests/Interop/run_autobahn.py --bin $(RELEASE_BIN)

run: release
	$(RELEASE_BIN)/eio-echo --port $${PORT:-3000}

# Our eio-echo (one loop) against python-engineio under sioload (built from ../shared/perf); extra options
# via BENCH_ARGS, e.g. `make bench BENCH_ARGS="--loops 2 --repeat 5"`. Results: bench-results/engineio-*.json.
bench: release venv
	$(PY) Benchmarks/bench.py --bin $(RELEASE_BIN) --sioload-src ../shared/perf/sioload.c $(BENCH_ARGS)

bench-quick: release venv
	$(PY) Benchmarks/bench.py --bin $(RELEASE_BIN) --sioload-src ../shared/perf/sioload.c --quick $(BENCH_ARGS)

clean:
	rm -rf .build $(VENV)
