# Unit tests: every test/unit/test_*.c plus what other fragments add to
# UNIT_TEST_SRCS (the sources under test, compiled straight into the runner
# so the sanitizer build instruments them) and UNIT_TEST_LDLIBS. One runner;
# UNIT_SANITIZE=1 builds it with ASan+UBSan.
UNIT_TEST_SRCS += test/unit/unit_main.c $(wildcard test/unit/test_*.c)
UNIT_TEST_BIN  := $(BUILD)/test/unit_tests$(if $(UNIT_SANITIZE),_san)
SANITIZE_FLAGS := -fsanitize=address -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_SAN_FLAGS := $(if $(UNIT_SANITIZE),$(SANITIZE_FLAGS))

$(UNIT_TEST_BIN): $(UNIT_TEST_SRCS) $(wildcard test/unit/*.h include/*.h src/*.h)
	@mkdir -p $(dir $@)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(UNIT_SAN_FLAGS) -Itest/unit -o $@ $(UNIT_TEST_SRCS) $(UNIT_TEST_LDLIBS)

CONTRACT_CHECKS += $(BUILD)/test/unit_tests:test/unit/tracepoints.md
