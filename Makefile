# Moneyrocket Core tracing — top-level build.
#
#   make            build everything (node, tools, test programs)
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, run the demo network
#   make bench      build and print the benchmark tables
#   make install PREFIX=/usr/local   install trace.h, its .pc and CMake package
#   make uninstall PREFIX=/usr/local remove exactly those files
#   (both honour DESTDIR, for staging: packaging/install.mk)
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

.PHONY: all check demo bench install uninstall clean setup unit functional contract
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

# Tracepoints: src/trace-events declares them; scripts/tracetool.py
# generates the wrappers the call sites use (tracepoints.h), their gates and
# the stream schema (tracepoints.c) and the contract the checker reads
# (tracepoints.md). lib/tracestream serves them to local clients. Every
# program that links code with tracepoints links TRACE_SRCS and has its
# objects wait for TRACE_GEN_H.
GEN_DIR      := $(BUILD)/gen
TRACETOOL    := scripts/tracetool.py
TRACE_EVENTS := src/trace-events
TRACE_GEN_H  := $(GEN_DIR)/tracepoints.h
TRACE_GEN_C  := $(GEN_DIR)/tracepoints.c
TRACE_CONTRACT := $(GEN_DIR)/tracepoints.md
TRACESTREAM_SRCS := lib/tracestream/tracestream.c lib/tracestream/tracestream_os.c
TRACESTREAM_CLIENT_SRCS := lib/tracestream/tracestream_client.c
TRACE_SRCS   := $(TRACE_GEN_C) $(TRACESTREAM_SRCS)
CFLAGS       += -I$(GEN_DIR) -Ilib/tracestream

# $(call tracetool_rule,OUTPUT,KIND)
define tracetool_rule
$(1): $(TRACE_EVENTS) $(TRACETOOL)
	@mkdir -p $$(@D)
	$$(call msg,GEN,$$@)$$(PYTHON) $$(TRACETOOL) $$(TRACE_EVENTS) $(2) > $$@.tmp && mv $$@.tmp $$@
endef
$(eval $(call tracetool_rule,$(TRACE_GEN_H),header))
$(eval $(call tracetool_rule,$(TRACE_GEN_C),source))
$(eval $(call tracetool_rule,$(TRACE_CONTRACT),contract))
ALL_TARGETS += $(TRACE_CONTRACT)

# test/unit/build.mk comes last: it links what the others added.
include $(filter-out test/unit/build.mk,$(sort $(wildcard */*.mk */*/*.mk */*/*/*.mk)))
include test/unit/build.mk

all: $(ALL_TARGETS)

setup:
	$(Q)scripts/setup-deps.sh

# check: set up first, then build, so a fresh machine needs nothing else.
check: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit contract functional

# Unit tests run twice: plain, then under AddressSanitizer + UBSan.
unit: $(UNIT_TEST_BIN) $(UNIT_TEST_SAN)
	$(Q)$(UNIT_TEST_BIN)
	$(Q)$(UNIT_TEST_SAN)

# Each entry is BINARY:CONTRACT.md, or BINARY:CONTRACT.md:partial for a
# program that links only part of what the contract documents; A.md+B.md
# reads two contracts as one.
contract: $(ALL_TARGETS)
	$(Q)set -e; for entry in $(CONTRACT_CHECKS); do \
		bin=$${entry%%:*}; rest=$${entry#*:}; doc=$${rest%%:*}; mode=; \
		[ "$$rest" = "$$doc" ] || mode=--$${rest#*:}; \
		$(PYTHON) contrib/devtools/check-tracepoints.py "$$bin" $$(echo "$$doc" | tr + ' ') $$mode; \
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
	$(Q)scripts/demo-stream.sh

bench: setup
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	$(Q)scripts/bench.sh

clean:
	rm -rf $(BUILD) $(CLEAN_FILES)
