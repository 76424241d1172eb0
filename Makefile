# Thin wrapper over meson.  `make` builds build/cellrun (a static PIE) and build/cell;
# `make check` builds a sanitizer build in build-test/ and runs unit, fuzz-replay and
# integration tests, a short libFuzzer run (scripts/fuzz, clang build in build-fuzz/),
# the same suites from a mount namespace whose "/" is rshared (integration-shared),
# then the integration and attack suites again against the shipped build/cellrun, and
# the clients suite (podman, containerd and dockerd through cellrun and runc).
MESON ?= meson
PYTEST ?= /usr/bin/python3 -m pytest
BUILD ?= build
TEST_BUILD ?= build-test

.PHONY: all check peer-runc check-faults check-v2 clients unit integration integration-shared integration-release demo fuzz fuzz-short bench bench-net clean install-deps lint

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)
	ln -sf src/cellrun/cellrun $(BUILD)/cellrun
	ln -sf src/cell/cell $(BUILD)/cell

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized

$(TEST_BUILD)/build.ninja:
	$(MESON) setup $(TEST_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

install-deps:
	scripts/install-deps

unit: $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	ln -sf src/cellrun/cellrun $(TEST_BUILD)/cellrun
	$(MESON) test -C $(TEST_BUILD) --print-errorlogs

integration: $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	CELLRUN=$(CURDIR)/$(TEST_BUILD)/src/cellrun/cellrun $(PYTEST) -q tests/integration tests/security tests/faults
	CELL=$(CURDIR)/$(TEST_BUILD)/src/cell/cell $(PYTEST) -q tests/cell

# The runtime and manager suites again, called from a mount namespace whose "/" is
# rshared, as on a systemd host (scripts/shared-root: a private copy of ours made
# shared, so the host's own namespace is never touched); the leak checks then see the
# namespace the runtime was called from.
integration-shared: $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	CELLRUN=$(CURDIR)/$(TEST_BUILD)/src/cellrun/cellrun scripts/shared-root $(PYTEST) -q tests/integration tests/security
	CELL=$(CURDIR)/$(TEST_BUILD)/src/cell/cell scripts/shared-root $(PYTEST) -q tests/cell

# The shipped cellrun (build/, static, optimised) through the same runtime and attack suites.
integration-release: all
	CELLRUN=$(CURDIR)/$(BUILD)/src/cellrun/cellrun $(PYTEST) -q tests/integration tests/security

# Real clients from Debian's packages (podman as root and rootless, containerd, dockerd; see
# tests/clients/README.md) drive the shipped cellrun and, side by side, runc.
clients: all
	CELLRUN=$(CURDIR)/$(BUILD)/src/cellrun/cellrun $(PYTEST) -q tests/clients

# runc's own integration suite (bats, sources from the runc mirror, offline images) against
# Debian's runc and build/cellrun; not part of check (docs/compat.md, "runc's integration suite").
# RUNC_TAG=v1.5.1 for another release; PEER_TESTS="exec.bats kill.bats" for a few files.
RUNC_TAG ?= v1.1.5
peer-runc: all
	scripts/peer-suites/runc-bats -v $(RUNC_TAG) -r runc=/usr/sbin/runc -r cellrun=$(CURDIR)/$(BUILD)/src/cellrun/cellrun $(PEER_TESTS)

check: unit fuzz-short integration integration-shared integration-release clients

# The fault tests (kill -9 at random moments, damaged state, frozen cgroups) with many
# trials each; `make check` runs them with a few (FAULT_TRIALS, default 8).
FAULT_TRIALS ?= 200
check-faults: $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD)
	FAULT_TRIALS=$(FAULT_TRIALS) CELLRUN=$(CURDIR)/$(TEST_BUILD)/src/cellrun/cellrun $(PYTEST) -q tests/faults
	# cell's (supervisor and commands killed): FAULT_TRIALS trials in all over its 5 scenarios
	FAULT_TRIALS=$(FAULT_TRIALS) CELL=$(CURDIR)/$(TEST_BUILD)/src/cell/cell $(PYTEST) -q tests/cell/test_faults.py

# tests/v2 in a Debian guest under qemu: a pure cgroup v2 host with systemd as
# PID 1 (docs/v2-vm.md).  The guest image is built once and cached in
# /var/cache/cell/vm; results and the serial console log land in build/v2/.
check-v2: all
	scripts/v2-vm run

demo: all
	scripts/demo

fuzz:
	scripts/fuzz $(FUZZ_SECONDS)

# every fuzz target for FUZZ_SHORT_SECONDS (in parallel), part of `make check`
FUZZ_SHORT_SECONDS ?= 10
fuzz-short:
	scripts/fuzz $(FUZZ_SHORT_SECONDS)

bench: all
	bench/run
	bench/clone.sh

# cell's networking next to loopback, LXC and podman (bench/README.md, "bench/net")
bench-net: all
	bench/net

lint:
	scripts/lint

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz

.PHONY: validate
validate: all
	scripts/validate

# crun 1.8.1's own tests (tests/*.py from Debian's source package, fetched into
# /var/tmp/cell-crun-tests) against crun, runc and the shipped cellrun, side by
# side (scripts/peer-suites/crun-tests; docs/compat.md).  Not part of `make check`.
.PHONY: peer-crun
peer-crun: all
	CELLRUN=$(CURDIR)/$(BUILD)/src/cellrun/cellrun scripts/peer-suites/crun-tests $(PEER_CRUN_ARGS)
