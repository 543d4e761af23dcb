# fseflow — every command goes through here; CI runs the same targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
FSEFLOW := $(VENV)/bin/fseflow
export UV_PYTHON_DOWNLOADS := never
PROTO_OUT := libs/fseflow/src
PROTO_FILES := $(shell find proto -name '*.proto' | sort)

.PHONY: help
help: ## Show this help
	@if [ -t 1 ]; then on='\033[36m'; off='\033[0m'; else on=; off=; fi; \
	awk -v on="$$on" -v off="$$off" -v kafka='$(KAFKA_VERSION)' 'BEGIN {FS = ":.*## "} \
	/^[a-zA-Z0-9_-]+:.*## / {gsub(/\$$\(KAFKA_VERSION\)/, kafka, $$2); printf "  %s%-16s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet 'uv>=0.5'

# Every target that runs something from .venv depends on this stamp, so that it works on a fresh
# clone (the venv is made first) and after a change of the lock file.
VENV_READY := $(VENV)/.synced
LOCK_INPUTS := uv.lock $(wildcard pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml)

$(VENV_READY): $(LOCK_INPUTS) | $(UV)
	$(UV) sync --all-packages --locked --python python3.11
	@touch $@

.PHONY: setup
setup: $(UV) ## Install Python deps (uv workspace, locked) into .venv
	$(UV) sync --all-packages --locked --python python3.11
	@touch $(VENV_READY)

.PHONY: browser
browser: ## Install Debian's chromium for the console's browser test (root or sudo; never a downloaded browser)
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@chromium --version

# Apache Kafka for `fseflow up --broker kafka` (FSEFLOW_BROKER=kafka): the classpath pinned in
# deploy/kafka/pom.xml, resolved once by Maven into .cache/kafka/<version>/lib; the stamp makes a
# second run instant and offline.
KAFKA_VERSION := $(shell sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' deploy/kafka/pom.xml)
KAFKA_LIB := .cache/kafka/$(KAFKA_VERSION)/lib
KAFKA_READY := $(KAFKA_LIB)/.resolved

$(KAFKA_READY): deploy/kafka/pom.xml
	@command -v java >/dev/null || { echo "Apache Kafka needs Java 17+ (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "resolving Kafka's jars needs Maven (apt-get install maven)"; exit 1; }
	rm -rf $(KAFKA_LIB) && mkdir -p $(KAFKA_LIB)
	@# Maven 3.8's -q still writes colour codes: its output goes to a log, shown when it fails.
	@echo "mvn dependency:copy-dependencies (log: $(KAFKA_LIB)/mvn.log)"
	@mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
	  -DoutputDirectory=$(CURDIR)/$(KAFKA_LIB) > $(KAFKA_LIB)/mvn.log 2>&1 \
	  || { cat $(KAFKA_LIB)/mvn.log; exit 1; }
	@touch $@

.PHONY: kafka
kafka: $(KAFKA_READY) ## Resolve Apache Kafka $(KAFKA_VERSION)'s jars (Maven, once; cached in .cache/kafka) for `fseflow up --broker kafka`
	@echo "Apache Kafka $(KAFKA_VERSION): $(KAFKA_LIB)"

.PHONY: kcat
kcat: ## Install Debian's kcat (the isolation test's client nobody here wrote; root or sudo)
	@command -v kcat >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq kcat; }
	@kcat -V | head -1

.PHONY: proto
proto: $(VENV_READY) ## Regenerate Python code from proto/ (never edit the generated files)
	rm -rf $(patsubst proto/%,$(PROTO_OUT)/%,$(sort $(dir $(PROTO_FILES))))
	$(PY) -m grpc_tools.protoc -I proto --python_out=$(PROTO_OUT) --pyi_out=$(PROTO_OUT) \
	  --grpc_python_out=$(PROTO_OUT) $(PROTO_FILES)
	for d in $$(find $(PROTO_OUT)/fseflow -name '*_pb2.py' -exec dirname {} \; | sort -u); do \
	  touch $$d/__init__.py $$(dirname $$d)/__init__.py; done

.PHONY: proto-check
proto-check: proto ## Fail when the committed generated code is not what proto/ produces
	@git diff --exit-code --stat -- $(PROTO_OUT) || \
	  (echo "generated code is stale: run 'make proto' and commit" && exit 1)
	@test -z "$$(git status --porcelain -- $(PROTO_OUT))" || \
	  (git status --porcelain -- $(PROTO_OUT); echo "untracked generated files: run 'make proto' and commit"; exit 1)

.PHONY: docs
docs: $(VENV_READY) ## Regenerate the derived files (docs/topics.md, docs/scenario.schema.json, deploy/k8s KafkaTopics/KafkaUsers)
	$(FSEFLOW) topics doc > docs/topics.md
	$(FSEFLOW) scenario schema > docs/scenario.schema.json
	$(FSEFLOW) k8s generate

.PHONY: lint
lint: $(VENV_READY) ## ruff (lint + format check) and mypy (strict)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/fseflow/src libs/fseflow-tools/src services/*/src tests

.PHONY: format
format: $(VENV_READY) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: test-unit
test-unit: $(VENV_READY) ## Pure, fast tests: domain rules, codec, calendar, validation
	$(VENV)/bin/pytest tests/unit -q

.PHONY: test-integration
test-integration: $(VENV_READY) ## Each service against the real broker and PostgreSQL (embedded stack)
	$(VENV)/bin/pytest tests/integration -q

.PHONY: test-e2e
test-e2e: $(VENV_READY) ## Scenario replays through the whole stack, including the kill -9 restart test
	$(VENV)/bin/pytest tests/e2e -q

# What CI runs (docs/decisions.md D59): every tier against one Apache Kafka node (the ACLs, the
# caisses' isolation with kcat, and the broker faults on a three-node quorum included), then the
# end-to-end tier on Tansu, the zero-install default, with the two Tansu-only checks: `caisse grant`
# refused, and the concurrent-producer skips of D48 caught.
TANSU_ONLY_TESTS := tests/integration/tools/test_kafka_access.py::test_on_tansu_caisse_grant_says_it_cannot tests/integration/runtime/test_concurrent_producers.py

.PHONY: test
test: $(VENV_READY) $(KAFKA_READY) kcat ## What CI runs: every tier on Apache Kafka (ACLs, isolation, broker faults), then the end-to-end tier on Tansu
	FSEFLOW_BROKER=kafka $(VENV)/bin/pytest tests -q
	FSEFLOW_BROKER=tansu $(VENV)/bin/pytest tests/e2e $(TANSU_ONLY_TESTS) -q

.PHONY: test-kafka
test-kafka: $(VENV_READY) $(KAFKA_READY) kcat ## Every test tier against one Apache Kafka node, and the three-node broker-fault test
	FSEFLOW_BROKER=kafka $(VENV)/bin/pytest tests -q

.PHONY: test-tansu
test-tansu: $(VENV_READY) ## Every test tier against Tansu, the zero-install default (no Java needed)
	FSEFLOW_BROKER=tansu $(VENV)/bin/pytest tests -q

# Kubernetes manifests (deploy/k8s/README.md). The tools are built from the Go module proxy into
# ~/.cache/fseflow/k8s-tools (FSEFLOW_CACHE or FSEFLOW_K8S_TOOLS move it), outside the clone, so
# every clone and CI run on a machine shares one build (cold: ~25 min on 2 cores).
K8S_DIR ?= deploy/k8s deploy/load

.PHONY: k8s-tools
k8s-tools: ## Build the pinned kustomize, kubeconform, etcd and kube-apiserver if missing (cold: ~25 min; then 0.1 s)
	tools/k8s/build.sh

.PHONY: k8s-validate
k8s-validate: $(VENV_READY) k8s-tools ## Every overlay of K8S_DIR (deploy/k8s, then deploy/load into its namespace): kustomize build, kubeconform -strict, rules, API server dry run
	$(FSEFLOW) k8s validate $(K8S_DIR)

.PHONY: test-k8s
test-k8s: $(VENV_READY) k8s-tools ## The manifest tests alone: generated files fresh, every validation level on deploy/k8s and the broken fixtures
	$(VENV)/bin/pytest tests -q -m k8s

# The container image (deploy/image/Containerfile, docs/decisions.md D83): buildah builds it, podman
# runs it; both from Debian. Images live in the machine's image store (/var/lib/containers).
IMAGE ?= localhost/fseflow:dev
BASE_IMAGE ?= docker.io/library/python:3.11-slim-bookworm

.PHONY: container-tools
container-tools: ## Install Debian's buildah, podman, runc and debootstrap (root or sudo)
	@command -v buildah >/dev/null && command -v podman >/dev/null && command -v runc >/dev/null \
	  && command -v debootstrap >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq buildah podman runc debootstrap; }
	@buildah --version && podman --version

.PHONY: base-image
base-image: container-tools ## Debian bookworm + Python 3.11 base image with debootstrap, for machines with no registry (once; then instant)
	tools/image/base-image.sh

.PHONY: image
image: container-tools ## Build the one fseflow image (IMAGE, from BASE_IMAGE; falls back to `make base-image` when no registry answers)
	IMAGE=$(IMAGE) BASE_IMAGE=$(BASE_IMAGE) tools/image/build.sh

.PHONY: image-test
image-test: $(VENV_READY) image ## Container smoke test: every service in the image on the host's broker and PostgreSQL, a replay compared with the process stack's, SIGTERM stops
	FSEFLOW_IMAGE=$(IMAGE) FSEFLOW_IMAGE_REQUIRED=1 $(VENV)/bin/pytest tests/container -q

.PHONY: fuzz
fuzz: $(VENV_READY) ## Property-based fuzzing of ingest's edge, national-check and scenario files (>= 10,000 cases, fresh seed; prints the count)
	@least=$$([ -z "$$FSEFLOW_FUZZ_EXAMPLES" ] && echo 10000 || echo 0); \
	FSEFLOW_FUZZ_EXAMPLES=$${FSEFLOW_FUZZ_EXAMPLES:-3400} FSEFLOW_FUZZ_LEAST=$$least \
	  $(PY) -m pytest -p tests.fuzz_report tests/unit/ingest/test_fuzz_edge.py tests/unit/tools/test_fuzz_scenario.py \
	  tests/integration/ingest/test_fuzz_ingest.py -q

.PHONY: demo
demo: setup ## Set up, then generate a seeded world, replay it and print the summary
	$(FSEFLOW) demo

.PHONY: demo-relances
demo-relances: setup ## Ten months of relances, recoveries and aids (fseflow_tools/scenarios/relances.py) replayed on a running stack, then two professionals' accounts
	$(FSEFLOW) up
	$(VENV)/bin/python -c 'import json; from fseflow_tools.scenarios.relances import ten_months; print(json.dumps(ten_months(), indent=1))' > relances-ten-months.json
	$(FSEFLOW) replay relances-ten-months.json --out relances-ten-months-results.json
	$(FSEFLOW) account ps-a
	$(FSEFLOW) account ps-b
	@echo "The stack is still running: fseflow subscribe 01-331 --from-beginning, then make down."

.PHONY: bench
bench: $(VENV_READY) $(KAFKA_READY) ## Benchmarks with raw baselines: SubmitLot -> classified; Tansu vs Apache Kafka; the pôle; the relances' day closure
	$(FSEFLOW) bench --out bench-results.json
	$(FSEFLOW) bench-brokers --fse 50000 --out bench-brokers-results.json
	$(FSEFLOW) pointage bench --out bench-pointage-results.json
	$(FSEFLOW) relances bench --out bench-relances-results.json

.PHONY: chaos
chaos: $(VENV_READY) ## 10 rounds of a 20,000-FSE replay while processes are SIGKILLed and restarted; each round must equal the undisturbed run
	$(FSEFLOW) chaos --rounds 10 --kills 3 --fse 20000 --days 20 --out chaos-report.json

.PHONY: bench-scor
bench-scor: $(VENV_READY) ## Scor put/get of 2,000 documents of 200 KB: plain files vs storage engine vs service
	$(FSEFLOW) scor bench --out bench-scor-results.json

.PHONY: up
up: $(VENV_READY) ## Start the embedded stack (Tansu, PostgreSQL, every service) in the background
	$(FSEFLOW) up

.PHONY: down
down: $(VENV_READY) ## Stop the embedded stack
	$(FSEFLOW) down

.PHONY: status
status: $(VENV_READY) ## Show the embedded stack's processes, ports and readiness
	$(FSEFLOW) status
