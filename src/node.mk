# moneyrocketd, moneyrocket-cli and moneyrocket-trace (their sources: the top
# Makefile's MONEYROCKETD_SRCS, MONEYROCKET_CLI_SRCS, MONEYROCKET_TRACE_SRCS).
#
#   make                    src/moneyrocketd, src/moneyrocket-cli,
#                           src/moneyrocket-trace, and the ASan+UBSan build
#                           of the daemon and the CLI in build/san/
#   make node-san           only the ASan+UBSan build
#   make SANITIZE=1         src/moneyrocketd itself built with ASan+UBSan
#                           (objects rebuild when the flags change)
#
# Plain objects go to build/src/, sanitizer objects to build/san/obj/. The
# sources live in src/, lib/tracestream/ and (generated) $(GEN_DIR)/.

# The sanitizer build the functional tests run (`make test-env` names it).
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

node_objs = $(patsubst %.c,$(2)/%.o,$(notdir $(1)))
NODE_DAEMON_OBJS     := $(call node_objs,$(MONEYROCKETD_SRCS),$(NODE_OBJDIR))
NODE_CLI_OBJS        := $(call node_objs,$(MONEYROCKET_CLI_SRCS),$(NODE_OBJDIR))
NODE_TRACE_OBJS      := $(call node_objs,$(MONEYROCKET_TRACE_SRCS),$(NODE_OBJDIR))
NODE_SAN_DAEMON_OBJS := $(call node_objs,$(MONEYROCKETD_SRCS),$(NODE_SAN_OBJDIR))
NODE_SAN_CLI_OBJS    := $(call node_objs,$(MONEYROCKET_CLI_SRCS),$(NODE_SAN_OBJDIR))

ALL_TARGETS     += src/moneyrocketd src/moneyrocket-cli src/moneyrocket-trace $(NODE_SAN_BIN) \
	$(NODE_SAN_CLI)
CONTRACT_CHECKS += src/moneyrocketd:$(TRACE_CONTRACT) $(NODE_SAN_BIN):$(TRACE_CONTRACT) \
	src/moneyrocket-cli:test/header/no-tracepoints.md $(NODE_SAN_CLI):test/header/no-tracepoints.md \
	src/moneyrocket-trace:test/header/no-tracepoints.md
CLEAN_FILES     += src/moneyrocketd src/moneyrocket-cli src/moneyrocket-trace

.PHONY: node-san FORCE
node-san: $(NODE_SAN_BIN) $(NODE_SAN_CLI)

# Rewritten only when the flags change, so SANITIZE=1 and back rebuild.
$(NODE_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CFLAGS) $(NODE_CFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) $(NODE_CFLAGS)' > $@

define node_obj_rules
$(NODE_OBJDIR)/%.o: $(1)/%.c $(NODE_FLAGS_STAMP) | $(TRACE_GEN_H)
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) $$(NODE_CFLAGS) -MMD -MP -c -o $$@ $$<

$(NODE_SAN_OBJDIR)/%.o: $(1)/%.c | $(TRACE_GEN_H)
	@mkdir -p $$(dir $$@)
	$$(call msg,CC,$$@)$$(CC) $$(CFLAGS) $$(SANITIZE_FLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach d,src lib/tracestream $(GEN_DIR),$(eval $(call node_obj_rules,$(d))))

src/moneyrocketd: $(NODE_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(MONEYROCKETD_LDLIBS)

src/moneyrocket-cli: $(NODE_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(MONEYROCKET_CLI_LDLIBS)

src/moneyrocket-trace: $(NODE_TRACE_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^

$(NODE_SAN_BIN): $(NODE_SAN_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(MONEYROCKETD_LDLIBS)

$(NODE_SAN_CLI): $(NODE_SAN_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(MONEYROCKET_CLI_LDLIBS)

-include $(wildcard $(NODE_OBJDIR)/*.d $(NODE_SAN_OBJDIR)/*.d)
