# The tracepoint cost benchmark (make bench). trace_cost_off.c is the same
# site compiled with TRACE_DISABLE.
BENCH_DIR := $(BUILD)/bench
BENCH_TARGETS += $(BENCH_DIR)/trace_cost $(BENCH_DIR)/trace_cost-clang
ALL_TARGETS += $(BENCH_DIR)/trace_cost $(BENCH_DIR)/trace_cost-clang
CONTRACT_CHECKS += $(BENCH_DIR)/trace_cost:bench/tracepoints.md $(BENCH_DIR)/trace_cost-clang:bench/tracepoints.md

$(BENCH_DIR)/trace_cost_off.o: bench/trace_cost_off.c bench/trace_cost.h include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -DTRACE_DISABLE -c -o $@ $<

$(BENCH_DIR)/trace_cost: bench/trace_cost.c bench/trace_cost.h include/trace.h $(BENCH_DIR)/trace_cost_off.o
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $< $(BENCH_DIR)/trace_cost_off.o

# The same benchmark built with clang: compilers allocate registers around
# the probe's operands differently, and the table shows both. DWARF 4:
# valgrind 3.19 cannot read clang 14's default DWARF 5.
$(BENCH_DIR)/trace_cost_off-clang.o: bench/trace_cost_off.c bench/trace_cost.h include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CLANG) $(CFLAGS) -gdwarf-4 -DTRACE_DISABLE -c -o $@ $<

$(BENCH_DIR)/trace_cost-clang: bench/trace_cost.c bench/trace_cost.h include/trace.h $(BENCH_DIR)/trace_cost_off-clang.o
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CLANG) $(CFLAGS) -gdwarf-4 -o $@ $< $(BENCH_DIR)/trace_cost_off-clang.o

# The benchmark with 5-byte sites (TRACE_NOP5, so -mno-red-zone): per-hit
# cost of an attached 5-byte site next to the 1-byte one.
BENCH_TARGETS += $(BENCH_DIR)/trace_cost-nop5
ALL_TARGETS += $(BENCH_DIR)/trace_cost-nop5
CONTRACT_CHECKS += $(BENCH_DIR)/trace_cost-nop5:bench/tracepoints.md

$(BENCH_DIR)/trace_cost-nop5: bench/trace_cost.c bench/trace_cost.h include/trace.h $(BENCH_DIR)/trace_cost_off.o
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -DTRACE_NOP5 -DTRACE_NO_RED_ZONE -mno-red-zone -o $@ $< $(BENCH_DIR)/trace_cost_off.o
