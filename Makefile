# SPDX-License-Identifier: GPL-2.0-only
# msealbench: build, bench, check, plots, cross builds, install.
# `make bench` runs the default suite here and writes results and plots; `make check` runs
# every test. Both install missing Debian packages first (make deps).

PREFIX ?= /usr/local
DESTDIR ?=
HOST_ARCH := $(shell uname -m)
ARCH ?= $(if $(filter aarch64 arm64,$(HOST_ARCH)),arm64,x86_64)
PYTHON ?= python3

ifeq ($(ARCH),arm64)
  ifneq ($(filter aarch64 arm64,$(HOST_ARCH)),)
    CC ?= cc
  else
    # Cross build: static, so qemu-user and a bare initramfs need no arm64 libc. The host's
    # libpfm4 is x86-64, so a cross build goes without it; LIBPFM=1 links an arm64 one where
    # Debian's multiarch libpfm4-dev:arm64 is installed.
    CROSS_COMPILE ?= aarch64-linux-gnu-
    CC := $(CROSS_COMPILE)gcc
    STATIC ?= 1
  endif
  BUILD ?= build-arm64
else
  BUILD ?= build
endif

GIT_REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS ?= -O2 -g
# override: a CFLAGS given on the command line (CFLAGS="-O0 -Werror") keeps the warnings.
override CFLAGS += -std=gnu11 $(WARN) -MMD -MP
CPPFLAGS += -Isrc -Ibench -Iarch/$(ARCH) -DMSB_GIT_REVISION='"$(GIT_REVISION)"'
LDLIBS += -lm
# libpfm4 names PMU-specific events (src/pmu_names.c). Native builds use it when its header is
# installed; cross builds go without (no arm64 libpfm4 here) and keep the builtin generic names.
# LIBPFM=0 forces a build without it. This is decided when make reads this file, so the targets
# that install packages first (bench, check) build in a second make that reads it again.
PFM_HEADER ?= /usr/include/perfmon/pfmlib_perf_event.h
ifeq ($(ARCH),$(if $(filter aarch64 arm64,$(HOST_ARCH)),arm64,x86_64))
  LIBPFM ?= $(if $(wildcard $(PFM_HEADER)),1,0)
endif
ifeq ($(LIBPFM),1)
  CPPFLAGS += -DMSB_HAVE_LIBPFM
  LDLIBS += -lpfm
endif
ifeq ($(STATIC),1)
  LDFLAGS += -static
endif

# The measuring core and the benchmarks (what the unit tests link), and the commands around them:
# src/main.c's table and the src/cmd_*.c files.
HARNESS_SRC := $(filter-out src/main.c src/cmd_%.c,$(wildcard src/*.c))
BENCH_SRC := $(wildcard bench/*.c)
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(BUILD)/%.o) $(BENCH_SRC:%.c=$(BUILD)/%.o)
COMMAND_OBJ := $(patsubst %.c,$(BUILD)/%.o,src/main.c $(wildcard src/cmd_*.c))
HELPER_SRC := $(wildcard bench/helpers/*.c)
HELPERS := $(HELPER_SRC:bench/helpers/%.c=$(BUILD)/helpers/%)
UNIT_SRC := $(wildcard tests/unit_*.c)
UNIT_TESTS := $(UNIT_SRC:tests/unit_%.c=$(BUILD)/tests/t_unit_%)

# The preloaded library of `msealbench try` and `maps` (src/preload/): src/seal.c and the code
# it needs, built position-independent with every symbol hidden. Not in static builds.
PRELOAD_CORE := src/seal.c src/maps.c src/util.c src/child.c src/emulation.c src/preload/seal_preload.c
PRELOAD_LIB := $(if $(filter 1,$(STATIC)),,$(BUILD)/libmsealbench-seal.so)

.PHONY: all build deps deps-check bench check test install uninstall deb clean compare plots validate targets peers static help
all: $(BUILD)/msealbench $(HELPERS) $(PRELOAD_LIB)

help:
	@echo "make bench      run the default benchmark suite, write results/, the comparison and plots/out/"
	@echo "make check      build and run every test (last line: N passed, N failed, N skipped)"
	@echo "make            build $(BUILD)/msealbench and its helpers"
	@echo "make compare A=FILE [B=FILE]   compare seal modes of A, or A (baseline) against B"
	@echo "make plots [RESULTS=FILE]      draw the plots of a run into plots/out/"
	@echo "make validate   A/A and injected-slowdown runs: how well compare detects changes"
	@echo "make targets    the harness's own targets: empty-loop cost, vDSO vs a bare loop, run-to-run CV"
	@echo "make peers      msealbench beside lmbench, perf bench and stress-ng on this machine (a table)"
	@echo "make ARCH=arm64 cross-build for arm64 into build-arm64/ (static)"
	@echo "make static     static build into build-static/ (what msealbench vm boots on x86-64)"
	@echo "make install [PREFIX=/usr/local] [DESTDIR=]"
	@echo "make deb        the Debian package, built offline from a copy: build-deb/*.deb"
	@echo "make check DEPS=no   install nothing (no apt-get): tests needing a missing package skip"

$(BUILD)/msealbench: $(COMMAND_OBJ) $(HARNESS_OBJ) $(BUILD)/build-flags
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# The flags every object is built with, in a file that changes only when they do: installing
# libpfm4 (or a new CFLAGS) after a build rebuilds what it changes instead of linking stale objects.
BUILD_FLAGS := $(CC) $(filter-out -DMSB_GIT_REVISION=%,$(CPPFLAGS)) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
ifneq ($(strip $(BUILD_FLAGS)),$(strip $(file <$(BUILD)/build-flags)))
$(BUILD)/build-flags: FORCE
endif
$(BUILD)/build-flags:
	@:$(shell mkdir -p $(@D))$(file >$@,$(BUILD_FLAGS))
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/build-flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(BUILD)/build-flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/libmsealbench-seal.so: $(PRELOAD_CORE:%.c=$(BUILD)/pic/%.o)
	$(CC) -shared -Wl,--no-undefined -Wl,-z,now -o $@ $^ $(filter-out -lpfm,$(LDLIBS))

# Helpers that benchmarks exec: static, so exec cost does not depend on the dynamic loader
# unless a helper's name says it is dynamic.
$(BUILD)/helpers/%: bench/helpers/%.c $(BUILD)/build-flags
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(if $(findstring dynamic,$*),,-static) -o $@ $< $(LDLIBS)

$(BUILD)/tests/t_unit_%: tests/unit_%.c $(HARNESS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

# DEPS=no: never install (no apt-get, no network: what packagers pass); the default installs
# what is missing when run as root. `make check DEPS=no` skips the tests whose packages are missing.
DEPS ?= auto
DEPS_SH ?= sh tools/deps.sh
deps:
	@DEPS='$(DEPS)' $(DEPS_SH) bench

deps-check:
	@DEPS='$(DEPS)' $(DEPS_SH) check

# Install what is missing, then build in a new make: it sees what deps installed (libpfm4).
build: deps
	@$(MAKE) --no-print-directory all

# The run's own share of make bench's 5 minutes: further rounds for imprecise cells stop there.
BENCH_BUDGET ?= 270
BENCH_OUT := results/$(shell hostname)-$(shell uname -r)-$(shell date -u +%Y%m%dT%H%M%SZ).json
bench: build
	./$(BUILD)/msealbench run --out $(BENCH_OUT) --time-budget $(BENCH_BUDGET) $(BENCH_ARGS)
	@# results/latest.json names the newest run: relative inside results/, absolute elsewhere.
	case "$(BENCH_OUT)" in results/*) ln -sfn $(notdir $(BENCH_OUT)) results/latest.json ;; \
	*) ln -sfn $(abspath $(BENCH_OUT)) results/latest.json ;; esac
	@# compare exits 1 when it finds a regression: a finding to read, not a failure of the run.
	$(PYTHON) plots/compare.py $(BENCH_OUT) || [ $$? -eq 1 ]
	$(PYTHON) plots/plot.py $(BENCH_OUT)

compare:
	@test -n "$(A)" || { echo "usage: make compare A=results.json [B=candidate.json]"; exit 2; }
	$(PYTHON) plots/compare.py $(A) $(B)

plots:
	$(PYTHON) plots/plot.py $(or $(RESULTS),results/latest.json)

validate: all
	$(PYTHON) plots/validate.py $(VALIDATE_ARGS)

targets: all
	$(PYTHON) tools/targets.py

peers: all
	$(PYTHON) tools/peers.py $(PEERS_ARGS)

# The suite that `msealbench vm` puts into an initramfs: no libc there, so static.
static:
	$(MAKE) STATIC=1 BUILD=build-static all

# The arm64 build too (build-arm64/), so the tests can run it under qemu-user.
check test: deps-check
	@$(MAKE) --no-print-directory all $(UNIT_TESTS)
	@$(if $(filter x86_64,$(ARCH)),if command -v aarch64-linux-gnu-gcc >/dev/null; then $(MAKE) -s ARCH=arm64 all; \
		else echo "no aarch64-linux-gnu-gcc: the arm64 tests skip"; fi,true)
	@bash tests/run.sh $(T)

# The python-backed commands are the rows of src/cmd_script.c: a script in the tree and where it
# is installed, both relative to the binary's directory ("../plots/compare.py",
# "../share/msealbench/plots/compare.py"). Each script's directory is installed whole (its modules
# and data go with it; __pycache__, *.md, plots/out and plots/examples do not; what starts with "#!" is
# executable, the rest not), so a new row needs no
# change here. SCRIPT_DIRS holds "tree-dir:installed-dir" pairs, relative to the top and PREFIX.
SCRIPT_DIRS := $(shell sed -n 's|.*{ *"[^"]*", *"\.\./\([^"]*\)/[^"/]*", *"\.\./\([^"]*\)/[^"/]*" *}.*|\1:\2|p' src/cmd_script.c | sort -u)
# The static suite `msealbench vm` puts into its initramfs (make static), for this ARCH.
SUITE_DIR := $(PREFIX)/libexec/msealbench/suite-$(ARCH)

install: all static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/msealbench \
		$(DESTDIR)$(PREFIX)/share/msealbench $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(SUITE_DIR)/helpers
	install -m 755 $(BUILD)/msealbench $(DESTDIR)$(PREFIX)/bin/msealbench
	$(if $(HELPERS),install -m 755 $(HELPERS) $(DESTDIR)$(PREFIX)/libexec/msealbench/)
	install -m 755 build-static/msealbench $(DESTDIR)$(SUITE_DIR)/msealbench
	$(if $(HELPERS),install -m 755 $(HELPERS:$(BUILD)/%=build-static/%) $(DESTDIR)$(SUITE_DIR)/helpers/)
	@for pair in $(SCRIPT_DIRS); do \
		src=$${pair%%:*} dst=$(DESTDIR)$(PREFIX)/$${pair#*:}; \
		echo "install $$src/ -> $$dst/"; \
		(cd $$src && find . \( -name __pycache__ -o -path ./out -o -path ./examples \) -prune \
			-o -type f ! -name '*.pyc' ! -name '*.md' -print) | while read -r f; do \
			if head -c 2 "$$src/$$f" | grep -q '^#!'; then mode=755; else mode=644; fi; \
			install -D -m $$mode "$$src/$$f" "$$dst/$$f" || exit 1; \
		done || exit 1; \
	done
	$(if $(PRELOAD_LIB),install -m 644 $(PRELOAD_LIB) $(DESTDIR)$(PREFIX)/libexec/msealbench/)
	install -d $(DESTDIR)$(PREFIX)/share/msealbench/data $(DESTDIR)$(PREFIX)/share/msealbench/lava/jobs
	install -m 644 data/*.json $(DESTDIR)$(PREFIX)/share/msealbench/data/
	install -m 644 lava/msealbench.yaml lava/lava-steps.sh $(DESTDIR)$(PREFIX)/share/msealbench/lava/
	install -m 755 lava/ramdisk-init $(DESTDIR)$(PREFIX)/share/msealbench/lava/
	install -m 644 lava/jobs/* $(DESTDIR)$(PREFIX)/share/msealbench/lava/jobs/
	install -m 644 results/schema-v1.json $(DESTDIR)$(PREFIX)/share/msealbench/schema-v1.json
	install -m 644 src/msealbench.1 $(DESTDIR)$(PREFIX)/share/man/man1/msealbench.1

# The Debian package, built offline from a copy of the checkout (tools/deb.sh): build-deb/*.deb.
deb:
	sh tools/deb.sh build-deb

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/msealbench $(DESTDIR)$(PREFIX)/share/man/man1/msealbench.1
	rm -rf $(DESTDIR)$(PREFIX)/libexec/msealbench $(DESTDIR)$(PREFIX)/share/msealbench

clean:
	rm -rf build build-arm64 build-static build-deb build-lava plots/out

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
