# moneyrocketd and moneyrocket-cli.
#
#   make                    src/moneyrocketd, src/moneyrocket-cli, and the
#                           ASan+UBSan build of both in build/san/
#   make node-san           only the ASan+UBSan build
#   make SANITIZE=1         src/moneyrocketd itself built with ASan+UBSan
#                           (objects rebuild when the flags change)
#
# Plain objects go to build/src/, sanitizer objects to build/san/obj/.
# The wire layer (src/wire.mk: WIRE_SRCS, WIRE_LDLIBS) and the crypto layer
# (src/crypto.mk: CRYPTO_SRCS, CRYPTO_LDLIBS) are linked in.

NODE_DAEMON_SRCS := src/util.c src/log.c src/config.c src/addrman.c src/banman.c \
	src/dbwrapper.c src/coins.c src/validation.c src/miner.c src/mempool.c src/net_chain.c src/rpc_chain.c \
	src/msglog.c src/net_evict.c src/net.c src/net_processing.c \
	src/rpc.c src/rpc_http.c src/rpc_net.c \
	src/coinselection.c src/wallet_select.c src/walletdb.c src/wallet.c src/wallet_spend.c src/rpc_wallet.c \
	src/tracesock.c $(TRACE_SRCS)
NODE_CLI_SRCS    := src/util.c src/log.c src/config.c
NODE_TRACE_SRCS  := src/moneyrocket-trace.c $(TRACESTREAM_CLIENT_SRCS)
NODE_LDLIBS       = -levent -ljansson -lleveldb -lsqlite3 $(CRYPTO_LDLIBS) $(WIRE_LDLIBS)

# The sanitizer build the functional tests run (framework/node.py reads this).
NODE_SAN_BIN     := build/san/moneyrocketd
NODE_SAN_CLI     := build/san/moneyrocket-cli

NODE_OBJDIR      := $(BUILD)/src
NODE_SAN_OBJDIR  := $(BUILD)/san/obj
# trace.h's 5-byte sites, with the -mno-red-zone they need: Linux 6.18 runs
# an attached probe there as a call instead of an int3 trap (a fraction of
# the per-hit cost), and -mno-red-zone changes the node's instruction count
# by at most 0.0003% (make bench), under the 0.5% rule; doc/tracing.md has
# the figures. `make NODE_TRACE_FLAGS=` builds the 1-byte form.
NODE_TRACE_FLAGS ?= -DTRACE_NOP5 -DTRACE_NO_RED_ZONE -mno-red-zone
NODE_CFLAGS      := $(if $(SANITIZE),$(SANITIZE_FLAGS)) $(NODE_TRACE_FLAGS)
NODE_FLAGS_STAMP := $(NODE_OBJDIR)/.flags

# Recursive (=) and used through secondary expansion ($$): src/wire.mk is
# included after this file, so WIRE_SRCS is only known once all are read.
node_objs = $(patsubst %.c,$(2)/%.o,$(notdir $(1)))
NODE_DAEMON_OBJS = $(call node_objs,$(NODE_DAEMON_SRCS) $(CRYPTO_SRCS) $(WIRE_SRCS) src/moneyrocketd.c,$(NODE_OBJDIR))
NODE_CLI_OBJS    = $(call node_objs,$(NODE_CLI_SRCS) $(WIRE_SRCS) src/moneyrocket-cli.c,$(NODE_OBJDIR))
NODE_SAN_DAEMON_OBJS = $(call node_objs,$(NODE_DAEMON_SRCS) $(CRYPTO_SRCS) $(WIRE_SRCS) src/moneyrocketd.c,$(NODE_SAN_OBJDIR))
NODE_SAN_CLI_OBJS    = $(call node_objs,$(NODE_CLI_SRCS) $(WIRE_SRCS) src/moneyrocket-cli.c,$(NODE_SAN_OBJDIR))

NODE_TRACE_OBJS  = $(call node_objs,$(NODE_TRACE_SRCS),$(NODE_OBJDIR))

ALL_TARGETS     += src/moneyrocketd src/moneyrocket-cli src/moneyrocket-trace $(NODE_SAN_BIN) $(NODE_SAN_CLI)
CONTRACT_CHECKS += src/moneyrocketd:$(TRACE_CONTRACT) $(NODE_SAN_BIN):$(TRACE_CONTRACT) \
	src/moneyrocket-cli:test/header/no-tracepoints.md $(NODE_SAN_CLI):test/header/no-tracepoints.md \
	src/moneyrocket-trace:test/header/no-tracepoints.md
# Sources the unit tests (test/unit/test_config.c, test_eviction.c,
# test_rpc.c, test_addrman.c, test_msglog.c, test_coins.c) exercise; the test files
# themselves come in through test/unit/build.mk's wildcard.
UNIT_TEST_SRCS  += src/util.c src/log.c src/config.c src/rpc.c src/net_evict.c \
	src/addrman.c src/banman.c src/msglog.c src/dbwrapper.c src/coins.c $(TRACE_SRCS) \
	$(TRACESTREAM_CLIENT_SRCS)
UNIT_TEST_LDLIBS += -ljansson -lleveldb -lpthread
CLEAN_FILES     += src/moneyrocketd src/moneyrocket-cli src/moneyrocket-trace

.PHONY: node-san FORCE
node-san: $(NODE_SAN_BIN) $(NODE_SAN_CLI)

# Rewritten only when the flags change, so SANITIZE=1 and back rebuild.
$(NODE_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CFLAGS) $(NODE_CFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) $(NODE_CFLAGS)' > $@

# Sources live in src/, lib/tracestream/ and (generated) $(GEN_DIR)/.
define node_obj_rules
$(NODE_OBJDIR)/%.o: $(1)/%.c $(NODE_FLAGS_STAMP) | $(TRACE_GEN_H)
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) $$(NODE_CFLAGS) -MMD -MP -c -o $$@ $$<

$(NODE_SAN_OBJDIR)/%.o: $(1)/%.c | $(TRACE_GEN_H)
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) $$(SANITIZE_FLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach d,src lib/tracestream $(GEN_DIR),$(eval $(call node_obj_rules,$(d))))

.SECONDEXPANSION:
src/moneyrocketd: $$(NODE_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(NODE_LDLIBS)

src/moneyrocket-cli: $$(NODE_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(NODE_LDLIBS)

src/moneyrocket-trace: $$(NODE_TRACE_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^

$(NODE_SAN_BIN): $$(NODE_SAN_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(NODE_LDLIBS)

$(NODE_SAN_CLI): $$(NODE_SAN_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(NODE_LDLIBS)

-include $(wildcard $(NODE_OBJDIR)/*.d $(NODE_SAN_OBJDIR)/*.d)
