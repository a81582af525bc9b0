# The chain-connection benchmark (bench/connect_chain.c; its sources: the top
# Makefile's CONNECT_CHAIN_SRCS): the chain layer built twice, with tracing
# compiled in (as the node) and compiled away (-DTRACE_DISABLE), so
# scripts/bench.sh can compare the two on the same generated chain. `make`
# builds them; `make bench` generates the chain and runs them.
BENCH_TARGETS += $(BUILD)/bench/connect_chain $(BUILD)/bench/connect_chain_notrace
ALL_TARGETS += $(BUILD)/bench/connect_chain $(BUILD)/bench/connect_chain_notrace
CONTRACT_CHECKS += $(BUILD)/bench/connect_chain:$(TRACE_CONTRACT):partial \
	$(BUILD)/bench/connect_chain_notrace:test/header/no-tracepoints.md
CONNECT_CHAIN_DEPS := $(CONNECT_CHAIN_SRCS) $(wildcard src/*.h) include/trace.h $(TRACE_GEN_H)

$(BUILD)/bench/connect_chain: $(CONNECT_CHAIN_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(CONNECT_CHAIN_SRCS) $(CONNECT_CHAIN_LDLIBS)

$(BUILD)/bench/connect_chain_notrace: $(CONNECT_CHAIN_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -DTRACE_DISABLE -o $@ $(CONNECT_CHAIN_SRCS) $(CONNECT_CHAIN_LDLIBS)

# The same chain layer in trace.h's opt-in 5-byte site form, which must be
# compiled with -mno-red-zone: scripts/bench.sh counts what -mno-red-zone
# costs the node's code (callgrind), against the 0.5% rule for a default.
NOP5_CFLAGS := -DTRACE_NOP5 -DTRACE_NO_RED_ZONE -mno-red-zone
BENCH_TARGETS += $(BUILD)/bench/connect_chain_nop5
ALL_TARGETS += $(BUILD)/bench/connect_chain_nop5
CONTRACT_CHECKS += $(BUILD)/bench/connect_chain_nop5:$(TRACE_CONTRACT):partial

$(BUILD)/bench/connect_chain_nop5: $(CONNECT_CHAIN_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(NOP5_CFLAGS) -o $@ $(CONNECT_CHAIN_SRCS) $(CONNECT_CHAIN_LDLIBS)
