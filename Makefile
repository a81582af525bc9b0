# Moneyrocket Core tracing — top-level build.
#
#   make            build everything (node, tools, test programs)
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, run the demo network
#   make bench      build and print the benchmark tables
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)
#   make install PREFIX=/usr/local   install trace.h and moneyrocket-trace.pc
#
# Each part adds its own rules in a *.mk fragment (src/node.mk, bench/build.mk,
# ...) included below, and
# appends to ALL_TARGETS, UNIT_TEST_SRCS (sources under test, compiled into
# the runner so sanitizers see them), UNIT_TEST_LDLIBS, CONTRACT_CHECKS and
# BENCH_TARGETS.
# V=1 shows full commands.

CC       ?= gcc
CLANG    ?= clang
PREFIX   ?= /usr/local
BUILD    := build
# Debian's python3 has the bcc module; a pyenv python3 on PATH may not.
PYTHON   := /usr/bin/python3

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ALL_TARGETS     :=
UNIT_TEST_SRCS  :=
UNIT_TEST_LDLIBS :=
# Entries "BINARY:CONTRACT.md" for the probe-contract checker.
CONTRACT_CHECKS :=
BENCH_TARGETS   :=

.PHONY: all check demo bench install clean setup unit functional contract
all:

# libbpf tools are libbpf-tools style triads: NAME.bpf.c (kernel side), NAME.c
# (user side), NAME.h (what both share). One vmlinux.h, dumped from the running
# kernel's BTF, serves them all (CO-RE); the skeleton comes from bpftool.
# $(eval $(call libbpf_tool,SRC_DIR,NAME)) adds one tool's rules; everything
# generated goes to $(BUILD)/SRC_DIR.
BPFTOOL    ?= bpftool
VMLINUX_H  := $(BUILD)/vmlinux/vmlinux.h
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	      -I/usr/include/x86_64-linux-gnu -I$(dir $(VMLINUX_H))

$(VMLINUX_H):
	@mkdir -p $(dir $@)
	$(call msg,BTF,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

define libbpf_tool
$(BUILD)/$(1)/$(2).bpf.o: $(1)/$(2).bpf.c $(1)/$(2).h $(VMLINUX_H)
	@mkdir -p $$(@D)
	$$(call msg,BPF,$$@)$$(CLANG) $$(BPF_CFLAGS) -I$(1) -c $$< -o $$@

$(BUILD)/$(1)/$(2).skel.h: $(BUILD)/$(1)/$(2).bpf.o
	$$(call msg,GEN-SKEL,$$@)$$(BPFTOOL) gen skeleton $$< > $$@.tmp && mv $$@.tmp $$@

$(BUILD)/$(1)/$(2): $(1)/$(2).c $(1)/$(2).h $(BUILD)/$(1)/$(2).skel.h
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) -I$(BUILD)/$(1) -I$(1) -o $$@ $$< -lbpf -lelf -lz

ALL_TARGETS += $(BUILD)/$(1)/$(2)
endef

# test/unit/build.mk comes last: it links what the others added.
include $(filter-out test/unit/build.mk,$(sort $(wildcard */*.mk */*/*.mk */*/*/*.mk)))
include test/unit/build.mk

all: $(ALL_TARGETS)

setup:
	$(Q)scripts/setup-deps.sh

# check: set up first, then build, so a fresh machine needs nothing else.
# fuzz-short runs each libFuzzer target (test/fuzz/) a few seconds, over
# its seeds and regression inputs, so the harnesses never rot.
check: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit contract functional fuzz-short

# Unit tests run twice: plain, then under AddressSanitizer + UBSan.
unit: $(UNIT_TEST_BIN) $(UNIT_TEST_SAN)
	$(Q)$(UNIT_TEST_BIN)
	$(Q)$(UNIT_TEST_SAN)

# Each entry is BINARY:CONTRACT.md, or BINARY:CONTRACT.md:partial for a
# program that links only part of what the contract documents.
contract: $(ALL_TARGETS)
	$(Q)set -e; for entry in $(CONTRACT_CHECKS); do \
		bin=$${entry%%:*}; rest=$${entry#*:}; doc=$${rest%%:*}; mode=; \
		[ "$$rest" = "$$doc" ] || mode=--$${rest#*:}; \
		$(PYTHON) contrib/devtools/check-tracepoints.py "$$bin" "$$doc" $$mode; \
	done

functional: $(ALL_TARGETS)
	$(Q)cd test/functional && $(PYTHON) -m pytest -ra $(PYTEST_ARGS)

# The header demo always runs; the node network joins once moneyrocketd is
# part of the build (src/node.mk).
demo: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo-header.sh
	$(Q)if [ -f src/node.mk ]; then scripts/demo.sh; \
	else echo; echo "demo: moneyrocketd is not part of the build yet; the node network demo (scripts/demo.sh) runs once it is."; fi

bench: setup
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	$(Q)scripts/bench.sh

install: moneyrocket-trace.pc.in include/trace.h
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0644 include/trace.h $(DESTDIR)$(PREFIX)/include/trace.h
	sed 's|@PREFIX@|$(PREFIX)|g' moneyrocket-trace.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/moneyrocket-trace.pc

clean:
	rm -rf $(BUILD) $(CLEAN_FILES)
