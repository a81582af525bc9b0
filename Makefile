# Moneyrocket Core tracing — top-level build.
#
#   make            build everything (node, tools, test programs)
#   make check      install what is missing, build, run every test (and the
#                   layer and name checks, make layers)
#   make demo       install what is missing, build, run the demo network
#   make bench      build and print the benchmark tables
#   make install PREFIX=/usr/local   install trace.h, its .pc and CMake package
#   make uninstall PREFIX=/usr/local remove exactly those files
#   (both honour DESTDIR, for staging: packaging/install.mk)
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)
#
# Which sources each program links is listed once, below ("What links
# what"). The rules live in *.mk fragments, included by name after it; each
# fragment appends to ALL_TARGETS, CONTRACT_CHECKS and BENCH_TARGETS.
# `make test-env` prints the build paths the functional tests use.
# V=1 shows full commands.

# No built-in rules: they would try to remake the included .d files.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

CC       ?= gcc
CLANG    ?= clang
PREFIX   ?= /usr/local
BUILD    := build
# Debian's python3 has the bcc module; a pyenv python3 on PATH may not.
PYTHON   := /usr/bin/python3

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) -D_GNU_SOURCE -Iinclude -Isrc
# The ASan+UBSan builds: the unit-test runner and build/san/moneyrocketd.
SANITIZE_FLAGS := -fsanitize=address -fsanitize=undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=all

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ALL_TARGETS     :=
# Entries "BINARY:CONTRACT.md" for the probe-contract checker.
CONTRACT_CHECKS :=
BENCH_TARGETS   :=

.PHONY: all check demo bench install uninstall clean setup unit functional contract test-env \
	layers
all:

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

# ---- What links what -------------------------------------------------------
# Every program's sources, here and nowhere else, grouped by the layers of
# doc/architecture.md (a file may include headers of its own layer and the
# layers below; `make check` runs contrib/devtools/check-layers.py, and
# check-names.py: src/NAME.c exports only NAME_*).

# Utilities: clocks and random numbers, logging, the hash map.
UTIL_SRCS   := src/util.c src/log.c src/hashmap.c
# Encoding and the wire protocol: serialization, hashes, block headers,
# message framing, addresses.
WIRE_SRCS   := src/hash.c src/ser.c src/block_header.c src/msg.c src/netaddr.c
# Transactions, blocks, 256-bit numbers and proof of work, scripts, keys.
CRYPTO_SRCS := src/tx.c src/block.c src/u256.c src/pow.c src/script.c src/key.c \
	src/address.c src/base58check.c
# The chain: LevelDB, coins cache, transaction checks, block store and
# chainstate (validation), mempool, miner.
CHAIN_SRCS  := src/db.c src/coin.c src/coins.c src/tx_check.c src/chainstate.c src/miner.c \
	src/mempool.c
# The wallet: coin selection, its SQLite file, keys and balances, sending,
# the set of loaded wallets.
WALLET_SRCS := src/coinselection.c src/wallet_select.c src/walletdb.c src/wallet.c \
	src/wallet_send.c src/wallet_manager.c
# Peers: address book, bans, message logging, eviction, the connection
# manager, message handling, block and transaction sync.
NET_SRCS    := src/addrman.c src/banman.c src/msglog.c src/net_evict.c src/net.c \
	src/net_processing.c src/net_download.c src/net_txrequest.c src/net_chain.c
# JSON-RPC: dispatch, HTTP server, the net, chain and wallet commands.
RPC_SRCS    := src/rpc.c src/rpc_http.c src/rpc_util.c src/rpc_net.c src/rpc_chain.c \
	src/rpc_wallet.c

# moneyrocketd: everything, plus its command line and configuration.
MONEYROCKETD_SRCS   := src/moneyrocketd.c src/config.c src/tracesock.c $(RPC_SRCS) $(NET_SRCS) \
	$(WALLET_SRCS) $(CHAIN_SRCS) $(CRYPTO_SRCS) $(WIRE_SRCS) $(UTIL_SRCS) $(TRACE_SRCS)
MONEYROCKETD_LDLIBS := -levent -ljansson -lleveldb -lsqlite3 -lsecp256k1 -lcrypto
# moneyrocket-cli: configuration and an HTTP client.
MONEYROCKET_CLI_SRCS   := src/moneyrocket-cli.c src/config.c $(WIRE_SRCS) src/util.c src/log.c
MONEYROCKET_CLI_LDLIBS := $(MONEYROCKETD_LDLIBS)
# moneyrocket-trace: the tracepoint stream's client, nothing of the node.
MONEYROCKET_TRACE_SRCS := src/moneyrocket-trace.c $(TRACESTREAM_CLIENT_SRCS)
# The unit-test runner: the tests and the sources they exercise, compiled
# straight in so the sanitizer build instruments them too.
UNIT_TEST_FILES  := test/unit/unit_main.c test/unit/test_addrman.c test/unit/test_banman.c \
	test/unit/test_coins.c test/unit/test_coinselection.c test/unit/test_config.c \
	test/unit/test_eviction.c test/unit/test_hash.c test/unit/test_hashmap.c \
	test/unit/test_keys.c test/unit/test_log.c test/unit/test_mempool.c test/unit/test_msg.c \
	test/unit/test_msglog.c test/unit/test_net.c test/unit/test_netaddr.c \
	test/unit/test_netdownload.c \
	test/unit/test_rpc.c test/unit/test_script.c test/unit/test_ser.c test/unit/test_trace.c \
	test/unit/test_trace_off.c test/unit/test_tracestream.c test/unit/test_txrequest.c \
	test/unit/test_wallet.c
UNIT_TEST_SRCS   := $(UNIT_TEST_FILES) src/config.c src/rpc.c src/addrman.c src/banman.c \
	src/msglog.c src/net_evict.c src/net.c src/net_processing.c src/net_chain.c \
	src/net_txrequest.c src/net_download.c $(WALLET_SRCS) \
	$(CHAIN_SRCS) $(CRYPTO_SRCS) $(WIRE_SRCS) \
	$(UTIL_SRCS) $(TRACE_SRCS) $(TRACESTREAM_CLIENT_SRCS)
UNIT_TEST_LDLIBS := -ljansson -levent -lleveldb -lsqlite3 -lsecp256k1 -lcrypto -lpthread
# bench/connect_chain: the chain layer and what it stands on.
CONNECT_CHAIN_SRCS   := bench/connect_chain.c $(CHAIN_SRCS) $(CRYPTO_SRCS) $(WIRE_SRCS) $(UTIL_SRCS) \
	$(TRACE_SRCS)
CONNECT_CHAIN_LDLIBS := -lleveldb -lsecp256k1 -lcrypto
# bench/wallet_select: the selection step alone.
WALLET_SELECT_SRCS   := bench/wallet_select.c src/wallet_select.c src/coinselection.c $(TRACE_SRCS)
WALLET_SELECT_LDLIBS := -lm
# bench/p2p_events: the capture benchmark's load generator.
P2P_EVENTS_SRCS      := bench/p2p_events.c $(TRACE_SRCS)
# bench/stream_cost: the generated wrappers, the stream and its client.
STREAM_COST_SRCS     := bench/stream_cost.c bench/stream_cost_calls.c $(TRACE_SRCS) \
	$(TRACESTREAM_CLIENT_SRCS)

# libbpf tools are libbpf-tools style triads: NAME.bpf.c (kernel side), NAME.c
# (user side), NAME.h (what both share). One vmlinux.h, dumped from the running
# kernel's BTF, serves them all (CO-RE); the skeleton comes from bpftool.
# $(eval $(call libbpf_tool,SRC_DIR,NAME)) adds one tool's rules; everything
# generated goes to $(BUILD)/SRC_DIR.
BPFTOOL    ?= bpftool
VMLINUX_H  := $(BUILD)/vmlinux/vmlinux.h
# BPF_USDT and PT_REGS_* read registers by the target's calling convention,
# so the BPF side is compiled for this machine's architecture (uname -m
# names it one way, libbpf's bpf_tracing.h another).
UNAME_M          := $(shell uname -m)
bpf_arch_x86_64  := x86
bpf_arch_i686    := x86
bpf_arch_aarch64 := arm64
bpf_arch_armv7l  := arm
bpf_arch_ppc64le := powerpc
bpf_arch_s390x   := s390
bpf_arch_riscv64 := riscv
bpf_arch_loongarch64 := loongarch
bpf_arch_mips64  := mips
# Recursive, so a machine without a mapping fails only when building BPF.
BPF_ARCH    = $(or $(bpf_arch_$(UNAME_M)),$(error no BPF target architecture for \
	      '$(UNAME_M)': add a bpf_arch_$(UNAME_M) line to the Makefile))
# Debian keeps asm/types.h under the multiarch triplet (x86_64-linux-gnu).
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS  = -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	      $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH)) -I$(dir $(VMLINUX_H))

$(VMLINUX_H):
	@mkdir -p $(dir $@)
	$(call msg,BTF,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# What every libbpf tool links besides its own file: the shared helpers.
LIBBPF_TOOL_SRCS := contrib/tracing/libbpf/tool.c
define libbpf_tool
$(BUILD)/$(1)/$(2).bpf.o: $(1)/$(2).bpf.c $(1)/$(2).h $(VMLINUX_H)
	@mkdir -p $$(@D)
	$$(call msg,BPF,$$@)$$(CLANG) $$(BPF_CFLAGS) -I$(1) -c $$< -o $$@

$(BUILD)/$(1)/$(2).skel.h: $(BUILD)/$(1)/$(2).bpf.o
	$$(call msg,GEN-SKEL,$$@)$$(BPFTOOL) gen skeleton $$< > $$@.tmp && mv $$@.tmp $$@

$(BUILD)/$(1)/$(2): $(1)/$(2).c $(1)/$(2).h $(LIBBPF_TOOL_SRCS) $(LIBBPF_TOOL_SRCS:.c=.h) $(BUILD)/$(1)/$(2).skel.h
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) -I$(BUILD)/$(1) -I$(1) -I$(dir $(LIBBPF_TOOL_SRCS)) \
		-o $$@ $$< $(LIBBPF_TOOL_SRCS) -lbpf -lelf -lz $$(LIBBPF_LDLIBS_$(2))

ALL_TARGETS += $(BUILD)/$(1)/$(2)
endef

# The rules, by part. A new fragment is added to this list by name.
include src/node.mk
include test/unit/build.mk
include test/fuzz/build.mk
include test/header/build.mk
include test/header/libbpf/build.mk
include contrib/tracing/libbpf/build.mk
include bench/build.mk
include bench/connect_chain.mk
include bench/wallet_select.mk
include bench/stream_cost.mk
include bench/p2p_events.mk
include packaging/install.mk

all: $(ALL_TARGETS)

setup:
	$(Q)scripts/setup-deps.sh

# check: set up first, then build, so a fresh machine needs nothing else.
# fuzz-short runs each libFuzzer target (test/fuzz/) a few seconds, over
# its seeds and regression inputs, so the harnesses never rot.
check: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory layers unit contract functional fuzz-short

# Includes in src/ point down the layers of doc/architecture.md, and every
# external symbol of src/NAME.c starts with NAME_ (read from the objects,
# so they are built first).
layers: $(sort $(NODE_DAEMON_OBJS) $(NODE_CLI_OBJS) $(NODE_TRACE_OBJS))
	$(Q)$(PYTHON) contrib/devtools/check-layers.py
	$(Q)$(PYTHON) contrib/devtools/check-names.py --objdir $(NODE_OBJDIR)

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

# Where the functional tests find what make built. `make functional` hands
# these to pytest in the environment; pytest run by hand asks `make
# test-env` (test/functional/framework/build.py), so make stays the one
# place that knows the paths.
comma := ,
empty :=
space := $(empty) $(empty)
TEST_ENV := MONEYROCKET_BUILD_DIR=$(abspath $(BUILD)) \
	MONEYROCKET_DAEMON=$(abspath src/moneyrocketd) \
	MONEYROCKET_CLI=$(abspath src/moneyrocket-cli) \
	MONEYROCKET_DAEMON_SAN=$(abspath $(NODE_SAN_BIN)) \
	MONEYROCKET_CLI_SAN=$(abspath $(NODE_SAN_CLI)) \
	MONEYROCKET_WIRE_SRCS=$(subst $(space),$(comma),$(abspath $(WIRE_SRCS)))

test-env:
	@for kv in $(TEST_ENV); do echo "$$kv"; done

functional: $(ALL_TARGETS)
	$(Q)cd test/functional && env $(TEST_ENV) $(PYTHON) -m pytest -ra $(PYTEST_ARGS)

demo: setup
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo-header.sh
	$(Q)scripts/demo.sh
	$(Q)scripts/demo-stream.sh

bench: setup
	$(Q)$(MAKE) --no-print-directory all $(BENCH_TARGETS)
	$(Q)scripts/bench.sh

clean:
	rm -rf $(BUILD) $(CLEAN_FILES)
