# Two commands on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= examples/two-accounts.yaml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
# An offline copy of Terraform's hashicorp/aws provider (a filesystem mirror: the folder
# that holds registry.terraform.io/), found on this machine when it has one. meshlink
# installs the provider from it (MESHLINK_TF_PROVIDER_MIRROR); without one, Terraform gets
# it from the registry. Override: make demo TF_PROVIDER_MIRROR=/path (or empty).
TF_PROVIDER_MIRROR ?= $(shell find / \( -path /proc -o -path /sys -o -path /dev \
	-o -name node_modules -o -name .git -o -name .venv \) -prune -o -type f -size +1M \
	-path '*/registry.terraform.io/hashicorp/aws/*/terraform-provider-aws_*' -print -quit \
	2>/dev/null | sed 's|/registry\.terraform\.io/.*||')
export MESHLINK_TF_PROVIDER_MIRROR := $(TF_PROVIDER_MIRROR)

.PHONY: install demo demo-down test lint typecheck bench clean image checkov

# An editable install leaves meshlink's own modules uncompiled, and a machine that sets
# PYTHONDONTWRITEBYTECODE (this one does) then compiles them on every command: ~0.1 s of
# each `meshlink` run. pip compiles an installed wheel; this does the same for the
# sources (only what changed since the last run).
install: $(STAMP)
	@$(BIN)/python -m compileall -q src service/src >/dev/null

$(STAMP): pyproject.toml service/pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24,<26"
	$(BIN)/pip install --quiet -c constraints.txt -e ./service -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/meshlink -f $(EXAMPLE) validate
	$(BIN)/meshlink local start
	$(BIN)/meshlink -f $(EXAMPLE) up --yes
	$(BIN)/meshlink -f $(EXAMPLE) verify
	$(BIN)/meshlink -f $(EXAMPLE) graph --verify --format html -o mesh.html
	@echo "mesh.html shows the verified mesh; 'make demo-down' deletes it and stops the local cloud"

# The local cloud stops even when down fails; make still exits with down's status.
demo-down: install
	$(BIN)/meshlink -f $(EXAMPLE) down --yes; status=$$?; \
	$(BIN)/meshlink local stop; exit $$status

lint: install
	$(BIN)/ruff check src service/src tests bench
	$(BIN)/ruff format --check src service/src tests bench

typecheck: install
	$(BIN)/mypy
	cd service && ../$(BIN)/mypy

# Two workers, a file each at a time: most of a functional test is waiting on the local
# cloud (each worker starts its own), so two run in about half the time on two cores.
# The slowest tests are listed at the end: where the suite's 15 minutes go.
test: install lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

# Benchmarks are measured, never asserted: results go into bench/RESULTS.md by hand.
bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The bundled service as a container image, built from service/Dockerfile and pushed to
# REGISTRY (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/meshlink); target: aws
# needs an image per service, the default one is never published. Docker, else podman.
REGISTRY ?=
IMAGE_NAME ?= meshlink-service
IMAGE_TAG ?= $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' service/src/meshlink_service/__init__.py)
CONTAINER_TOOL ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
image:
	@test -n "$(REGISTRY)" || { echo "make image: say where to push, e.g. make image REGISTRY=123456789012.dkr.ecr.us-east-1.amazonaws.com/meshlink" >&2; exit 2; }
	@test -n "$(CONTAINER_TOOL)" || { echo "make image: neither docker nor podman is on PATH; install one (or set CONTAINER_TOOL=/path/to/it)" >&2; exit 3; }
	$(CONTAINER_TOOL) build -t $(REGISTRY)/$(IMAGE_NAME):$(IMAGE_TAG) service
	$(CONTAINER_TOOL) push $(REGISTRY)/$(IMAGE_NAME):$(IMAGE_TAG)
	@echo "pushed $(REGISTRY)/$(IMAGE_NAME):$(IMAGE_TAG): set it as each service's image: in the topology"
	@echo "and pin verify's probe image by its digest: probe_image: $$($(CONTAINER_TOOL) image inspect --format '{{index .RepoDigests 0}}' $(REGISTRY)/$(IMAGE_NAME):$(IMAGE_TAG))"

# checkov in a venv of its own (its pins conflict with meshlink's): `make checkov` builds
# it and runs tests/unit/stacks/test_checkov.py, which `make test` also runs once it exists
# (every synthesized template, the bootstrap template and the Terraform module: 0 failed).
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet "checkov>=3.2,<3.4"

checkov: install $(CHECKOV_VENV)/bin/checkov
	$(BIN)/pytest -q tests/unit/stacks/test_checkov.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
