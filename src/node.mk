# moneyrocketd and moneyrocket-cli (their sources: the top Makefile's
# MONEYROCKETD_SRCS and MONEYROCKET_CLI_SRCS).
#
#   make                    src/moneyrocketd, src/moneyrocket-cli, and the
#                           ASan+UBSan build of both in build/san/
#   make node-san           only the ASan+UBSan build
#   make SANITIZE=1         src/moneyrocketd itself built with ASan+UBSan
#                           (objects rebuild when the flags change)
#
# Plain objects go to build/src/, sanitizer objects to build/san/obj/.

# The sanitizer build the functional tests run (`make test-env` names it).
NODE_SAN_BIN     := build/san/moneyrocketd
NODE_SAN_CLI     := build/san/moneyrocket-cli

NODE_OBJDIR      := $(BUILD)/src
NODE_SAN_OBJDIR  := $(BUILD)/san/obj
NODE_CFLAGS      := $(if $(SANITIZE),$(SANITIZE_FLAGS))
NODE_FLAGS_STAMP := $(NODE_OBJDIR)/.flags

node_objs = $(patsubst src/%.c,$(2)/%.o,$(1))
NODE_DAEMON_OBJS     := $(call node_objs,$(MONEYROCKETD_SRCS),$(NODE_OBJDIR))
NODE_CLI_OBJS        := $(call node_objs,$(MONEYROCKET_CLI_SRCS),$(NODE_OBJDIR))
NODE_SAN_DAEMON_OBJS := $(call node_objs,$(MONEYROCKETD_SRCS),$(NODE_SAN_OBJDIR))
NODE_SAN_CLI_OBJS    := $(call node_objs,$(MONEYROCKET_CLI_SRCS),$(NODE_SAN_OBJDIR))

ALL_TARGETS     += src/moneyrocketd src/moneyrocket-cli $(NODE_SAN_BIN) $(NODE_SAN_CLI)
CONTRACT_CHECKS += src/moneyrocketd:doc/tracing.md $(NODE_SAN_BIN):doc/tracing.md \
	src/moneyrocket-cli:test/header/no-tracepoints.md $(NODE_SAN_CLI):test/header/no-tracepoints.md
CLEAN_FILES     += src/moneyrocketd src/moneyrocket-cli

.PHONY: node-san FORCE
node-san: $(NODE_SAN_BIN) $(NODE_SAN_CLI)

# Rewritten only when the flags change, so SANITIZE=1 and back rebuild.
$(NODE_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(CFLAGS) $(NODE_CFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) $(NODE_CFLAGS)' > $@

$(NODE_OBJDIR)/%.o: src/%.c $(NODE_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -MMD -MP -c -o $@ $<

$(NODE_SAN_OBJDIR)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -MMD -MP -c -o $@ $<

src/moneyrocketd: $(NODE_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(MONEYROCKETD_LDLIBS)

src/moneyrocket-cli: $(NODE_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(NODE_CFLAGS) -o $@ $^ $(MONEYROCKET_CLI_LDLIBS)

$(NODE_SAN_BIN): $(NODE_SAN_DAEMON_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(MONEYROCKETD_LDLIBS)

$(NODE_SAN_CLI): $(NODE_SAN_CLI_OBJS)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -o $@ $^ $(MONEYROCKET_CLI_LDLIBS)

-include $(wildcard $(NODE_OBJDIR)/*.d $(NODE_SAN_OBJDIR)/*.d)
