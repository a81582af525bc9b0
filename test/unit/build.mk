# Unit tests: one runner (its sources: the top Makefile's UNIT_TEST_SRCS),
# built twice: plain, and with ASan+UBSan (SANITIZE_FLAGS, src/node.mk).
UNIT_TEST_BIN  := $(BUILD)/test/unit_tests
UNIT_TEST_SAN  := $(BUILD)/test/unit_tests_san
UNIT_TEST_DEPS := $(UNIT_TEST_SRCS) $(wildcard test/unit/*.h include/*.h src/*.h lib/tracestream/*.h) \
	$(TRACE_GEN_H)

$(UNIT_TEST_BIN): $(UNIT_TEST_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) -Itest/unit -o $@ $(UNIT_TEST_SRCS) $(UNIT_TEST_LDLIBS)

$(UNIT_TEST_SAN): $(UNIT_TEST_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -Itest/unit -o $@ $(UNIT_TEST_SRCS) $(UNIT_TEST_LDLIBS)

ALL_TARGETS += $(UNIT_TEST_BIN) $(UNIT_TEST_SAN)
CONTRACT_CHECKS += $(UNIT_TEST_BIN):test/unit/tracepoints.md+$(TRACE_CONTRACT):partial \
	$(UNIT_TEST_SAN):test/unit/tracepoints.md+$(TRACE_CONTRACT):partial
