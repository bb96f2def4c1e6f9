# Entry points: `make run` starts the server, `make test` runs every test, `make bench` measures.
SWIFT        ?= swift
VENV         := .venv
PY           := $(VENV)/bin/python
RELEASE_BIN  := .build/release
SYSTEM_PKGS  := zlib1g-dev libsqlite3-dev libssl-dev libpq-dev pkg-config

.PHONY: all build release deps postgresql venv eio3-venv test doc-comments examples-test unit-test interop-test autobahn-test cluster-test nginx chromium run bench bench-quick bench-engineio bench-cluster bench-spaces clean

all: build

# Debian -dev packages of the C libraries we link; installed only when pkg-config cannot find them.
# Also Debian's redis-server (with redis-cli and redis-benchmark), which the Redis tests start on free ports.
deps:
	@if ! pkg-config --exists zlib sqlite3 openssl libpq 2>/dev/null; then \
		echo "installing $(SYSTEM_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS); \
	fi
	@if ! command -v redis-server >/dev/null 2>&1; then \
		echo "installing redis-server"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	fi

# Debian's PostgreSQL 15 server, which the store tests and the SpacesApp end-to-end tests start in temporary
# folders (as the `postgres` user the package creates); installed when missing (log: .build/postgresql-install.log).
postgresql:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
		echo "installing postgresql"; mkdir -p .build; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
			>.build/postgresql-install.log 2>&1 || { tail -20 .build/postgresql-install.log; exit 1; }; }

build: deps
	$(SWIFT) build

# The Swift runtime and Foundation are linked statically: the runtime calls made per message (retain,
# release, allocation) become direct calls rather than jumps through the dynamic linker's tables, which lowers
# the CPU per message (about 6 % at 2,000 msgs/s), and the binaries run on a machine without a Swift toolchain.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

# Python peers used by the interop and conformance tests (python-engineio, python-socketio, kosoku).
$(VENV)/.stamp: Tests/Interop/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r Tests/Interop/requirements.txt
	touch $@

venv: $(VENV)/.stamp

# Socket.IO v2 clients (python-socketio 4.6, python-engineio 3.14) in a venv of their own: they pin
# python-engineio < 4, so they cannot live next to the current versions. Used by eio3_clients_test.py.
EIO3_VENV := .venv-eio3
$(EIO3_VENV)/.stamp: Tests/Interop/requirements-eio3.txt
	python3 -m venv $(EIO3_VENV)
	$(EIO3_VENV)/bin/pip install -q --upgrade pip
	$(EIO3_VENV)/bin/pip install -q -r Tests/Interop/requirements-eio3.txt
	touch $@

eio3-venv: $(EIO3_VENV)/.stamp

test: doc-comments unit-test interop-test autobahn-test browser-test cluster-test fuzz-quick examples-test

# Every public or open declaration under Sources/ has a /// doc comment.
doc-comments:
	python3 scripts/check_doc_comments.py

# Examples/ (a package that depends on ours by path): built, then each program run against real peers:
# python-socketio clients for the chat server and the live counter, the chat page in Chromium (Playwright),
# and the CLI client against a python-socketio server and our chat server (Tests/Examples/examples_test.py).
# The build plan is dropped first: SwiftPM keeps a path dependency's file list from the last plan, so a file added
# to Sources/ since then would be missing from the examples' build.
examples-test: deps venv chromium
	rm -f Examples/.build/debug.yaml
	$(SWIFT) build --package-path Examples
	EXAMPLES_BIN_DIR=Examples/.build/debug $(PY) -m pytest -q -p no:cacheprovider Tests/Examples

# The venv first: some Swift tests start python-socketio servers as peers (and Tests/Cluster/cluster_up.py,
# which starts redis-server and sio-echo --redis nodes for ClusterClientTests); the store tests start PostgreSQL.
unit-test: deps venv postgresql
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

interop-test: release venv eio3-venv postgresql
	$(PY) Tests/Interop/run_interop.py --bin $(RELEASE_BIN)

autobahn-test: release venv
	$(PY) Tests/Interop/run_autobahn.py --bin $(RELEASE_BIN)

# Headless Chromium (the Debian package, installed here when missing, with a CJK font for the Chinese pages;
# log: .build/chromium-install.log) runs: one test page (tests.js) with the official socket.io JS client
# (socket.io.min.js out of the nicegui wheel, fetched with pip download at each run, never committed) and with
# ours (the socket.io.js sio-echo serves), each against sio-echo and a python-socketio server; the behaviours of
# both clients that the page cannot drive (socketio_js_test.py: serving, reconnection, reasons); live.js against
# sio-echo; and the SpacesApp pages driven through Playwright, which also writes the
# screenshots of docs/spaces.md (docs/screenshots/).
browser-test: release venv chromium
	for client in official ours; do for server in sio-echo python-socketio; do \
		$(PY) Tests/Browser/run_browser_tests.py --bin $(RELEASE_BIN) --client $$client --server $$server || exit 1; done; done
	SPACES_BIN_DIR=$(RELEASE_BIN) $(PY) -m pytest -q -p no:cacheprovider Tests/Browser/socketio_js_test.py \
		Tests/Browser/live_client_test.py Tests/Browser/spaces_pages_test.py Tests/Browser/tls_pages_test.py

chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . ; } || { \
		echo "installing chromium and fonts-wqy-microhei"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; } \
			>.build/chromium-install.log 2>&1 || { tail -20 .build/chromium-install.log; exit 1; }; }

# Debian's nginx, for the sticky-session test (redis-server comes with `deps`), installed when missing; the
# tests start their own on free ports in temporary folders.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
		echo "installing nginx"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }

# Several sio-echo --redis nodes on one Redis (Tests/Cluster): every cluster operation across nodes with
# python-socketio clients, the faults (Redis restarted or absent, a node SIGKILLed), the official JS client
# in Chromium across two nodes, and nginx with sticky sessions in front of two nodes; then SpacesApp nodes on one
# PostgreSQL queue (test_cluster_spaces_queue.py, test_cluster_spaces_faults.py: a node SIGKILLed, SIGTERMed,
# PostgreSQL restarted), sharing uploads behind deploy/nginx.conf, and scripts/cluster.sh started and stopped.
cluster-test: release venv nginx chromium postgresql
	CLUSTER_BIN_DIR=$(RELEASE_BIN) $(PY) -m pytest -q -p no:cacheprovider Tests/Cluster

# SpacesApp on port 5001 (PORT=... or SPACES_PORT=... to change; `spaces --help` lists every setting).
run: release
	$(RELEASE_BIN)/spaces --port $${PORT:-$${SPACES_PORT:-5001}}

# `make bench`: sio-echo (--loops 1 and its default loops) beside the floor, limitd, and python-socketio
# (aiohttp) on every scenario (echo, echo-ack, broadcast to 1000, capacity to 10,000, polling, 2000 msgs/s),
# printing each ratio to the floor beside issue 16's target; then eio-echo against python-engineio. All
# driven by sioload; sioload and limitd are built from ../shared/perf into .build/sioload/. `make bench-quick` runs the Socket.IO
# table once with short runs (under a minute). Extra options via BENCH_ARGS / EIO_BENCH_ARGS, e.g.
# `make bench BENCH_ARGS="--repeat 5 --scenarios echo,rate"`. Results: bench-results/{socketio,engineio}-*.json.
SIOLOAD_SRC ?= ../shared/perf/sioload.c

bench: release venv
	$(PY) Benchmarks/sio_bench.py --bin $(RELEASE_BIN) --sioload-src $(SIOLOAD_SRC) $(BENCH_ARGS)
	$(PY) Benchmarks/bench.py --bin $(RELEASE_BIN) --sioload-src $(SIOLOAD_SRC) $(EIO_BENCH_ARGS)

# `make bench-cluster`: three sio-echo --redis nodes, 1,000 clients spread over them, broadcasts from one
# node (Benchmarks/cluster_bench.py, driven by sio-load): CPU per delivery on each node, Redis CPU and
# PUBLISH calls per broadcast, latency at 1,000 broadcasts/s, each beside its target. Not part of `make test`.
bench-cluster: release venv
	$(PY) Benchmarks/cluster_bench.py --bin $(RELEASE_BIN) $(CLUSTER_BENCH_ARGS)

# `make bench-spaces`: SpacesApp with an echo worker at concurrency 8 and 16 users submitting over HTTP (each submit
# followed by two status reads), on one node with SQLite, one node with PostgreSQL, and two nodes behind nginx
# (Benchmarks/spaces_bench.py, driven by Benchmarks/spaces_load.c): server CPU per request, requests/s and dispatch
# latency at 300 requests/s, each beside its target. With two nodes, nginx hashes the client address, so each user
# connects from a loopback address of its own (spaces_load --source-addrs), half of them hashing to each node, and
# the worker connects to the second node directly: half the requests cross nodes. CPU is both nodes' sum (nginx's
# apart). Not part of `make test`. Options via SPACES_BENCH_ARGS, e.g.
# SPACES_BENCH_ARGS="--setups sqlite --requests 6000".
SPACES_LOAD := .build/spaces_load/spaces_load

$(SPACES_LOAD): Benchmarks/spaces_load.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -pthread -o $@ $<

bench-spaces: release venv nginx postgresql $(SPACES_LOAD)
	$(PY) Benchmarks/spaces_bench.py --bin $(RELEASE_BIN) --load $(SPACES_LOAD) $(SPACES_BENCH_ARGS)

bench-quick: release venv
	$(PY) Benchmarks/sio_bench.py --bin $(RELEASE_BIN) --sioload-src $(SIOLOAD_SRC) --quick $(BENCH_ARGS)

# Only the Engine.IO comparison (eio-echo against python-engineio under uvicorn).
bench-engineio: release venv
	$(PY) Benchmarks/bench.py --bin $(RELEASE_BIN) --sioload-src $(SIOLOAD_SRC) $(EIO_BENCH_ARGS)

clean:
	rm -rf .build $(VENV) $(EIO3_VENV)

# `make slow-readers`: the by-hand version of the clients-that-stop-reading test of issue 18 (200 WebSocket
# clients in a room stop reading while one floods it with 10 KB broadcasts for 15 s, production heartbeats);
# prints sio-echo's peak RSS and another client's echo latencies. `make interop-test` runs the 500-client,
# 10-second version with assertions (Tests/Interop/socketio_slow_readers_test.py). Options via SLOW_ARGS.
.PHONY: slow-readers
slow-readers: release venv
	$(PY) Tests/Interop/slow_readers.py --bin $(RELEASE_BIN)/sio-echo --clients 200 --seconds 15 $(SLOW_ARGS)

# `make bench-loadgen`: our Swift load generator (sio-load) and shared/perf's sioload take turns against
# sio-echo on echo, echo-ack, polling, broadcast, rate and capacity; fails when their server-CPU figures
# (capacity: handshakes/s) differ by more than 15 %. Extra options via LOADGEN_ARGS, e.g. LOADGEN_ARGS="--repeat 9 --scenarios echo,polling".
.PHONY: bench-loadgen
bench-loadgen: release venv
	$(PY) Benchmarks/compare_loadgens.py --bin $(RELEASE_BIN) --sioload-src $(SIOLOAD_SRC) $(LOADGEN_ARGS)

# `make sanitize`: the server, client and SpacesApp tests (EngineIOTests, SocketIOTests, SocketIOClientTests,
# SpacesAppTests) under ThreadSanitizer (.build-tsan), then AddressSanitizer with LeakSanitizer (.build-asan), each
# in a scratch folder of its own; fails on a failed test or on any sanitizer report (Tests/Sanitizers/run.sh, which
# also prints how long each took; suppressions with their reasons in Tests/Sanitizers/*.supp).
.PHONY: sanitize sanitize-thread sanitize-address
sanitize: sanitize-thread sanitize-address

sanitize-thread: deps venv postgresql
	SWIFT="$(SWIFT)" Tests/Sanitizers/run.sh thread

sanitize-address: deps venv postgresql
	SWIFT="$(SWIFT)" Tests/Sanitizers/run.sh address

# `make soak SOAK_MINUTES=30` (issue 18): sio-echo under sio-load (5,000 WebSocket + 200 polling clients, 100
# replaced per second, echoes and broadcasts) and spaces (3 workers, 20 users submitting) at once, RSS, descriptors,
# threads and queues sampled every 10 s; passes when RSS grows at most 5 % after the warm-up and descriptors come
# back to the baseline. Then a capacity step toward 50,000 idle connections from several 127.0.0.x addresses.
# Numbers and plot.svg in bench-results/soak-<time>/ (Benchmarks/soak.py; options via SOAK_ARGS). Not in `make test`.
SOAK_MINUTES ?= 30
.PHONY: soak
soak: release venv
	$(PY) Benchmarks/soak.py --bin $(RELEASE_BIN) --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# `make fuzz FUZZ_SECONDS=600`: every libFuzzer target (Fuzz/Targets, one per parser; Fuzz/README.md) for that many
# seconds each; `make fuzz-quick` (part of `make test`) 20 s each. Either fails on any crash, leak, timeout, broken
# property or sanitizer report; the input is left in .build-fuzz/artifacts/, the summary in .build-fuzz/fuzz-summary.txt.
# The targets exist only when SOCKETIO_FUZZ=1, and every module is built with -sanitize=fuzzer,address (libFuzzer's
# coverage counters and ASan) into its own scratch path, so the normal build is untouched.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := FuzzHTTPRequest FuzzHTTPResponse FuzzMultipart FuzzForms FuzzWebSocket FuzzInflate FuzzEngineIO \
	FuzzSocketIO FuzzJSON FuzzRESP FuzzMessagePack
FUZZ_BUILD   := SOCKETIO_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address

.PHONY: fuzz fuzz-quick fuzz-build
fuzz-build: deps
	@for target in $(FUZZ_TARGETS); do $(FUZZ_BUILD) --product $$target || exit 1; done

fuzz: fuzz-build
	Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-quick: fuzz-build
	Fuzz/run.sh 20 $(FUZZ_TARGETS)
