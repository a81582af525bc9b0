# Unit tests: every test/unit/test_*.c plus what other fragments add to
# UNIT_TEST_SRCS (the sources under test, compiled straight into the runner
# so the sanitizer build instruments them) and UNIT_TEST_LDLIBS. One runner,
# built twice: plain, and with ASan+UBSan (unit_tests_san).
UNIT_TEST_SRCS += test/unit/unit_main.c $(wildcard test/unit/test_*.c)
UNIT_TEST_BIN  := $(BUILD)/test/unit_tests
UNIT_TEST_SAN  := $(BUILD)/test/unit_tests_san
SANITIZE_FLAGS := -fsanitize=address -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
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
