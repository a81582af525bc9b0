# The chain-connection benchmark (bench/connect_chain.c; its sources: the top
# Makefile's CONNECT_CHAIN_SRCS): the chain layer built twice, with tracing
# compiled in (as the node) and compiled away (-DTRACE_DISABLE), so
# scripts/bench.sh can compare the two on the same generated chain. `make`
# builds them; `make bench` generates the chain and runs them.
BENCH_TARGETS += $(BUILD)/bench/connect_chain $(BUILD)/bench/connect_chain_notrace
ALL_TARGETS += $(BUILD)/bench/connect_chain $(BUILD)/bench/connect_chain_notrace
CONTRACT_CHECKS += $(BUILD)/bench/connect_chain:doc/tracing.md:partial \
	$(BUILD)/bench/connect_chain_notrace:test/header/no-tracepoints.md

$(BUILD)/bench/connect_chain: $(CONNECT_CHAIN_SRCS) $(wildcard src/*.h) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(CONNECT_CHAIN_SRCS) $(CONNECT_CHAIN_LDLIBS)

$(BUILD)/bench/connect_chain_notrace: $(CONNECT_CHAIN_SRCS) $(wildcard src/*.h) include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -DTRACE_DISABLE -o $@ $(CONNECT_CHAIN_SRCS) $(CONNECT_CHAIN_LDLIBS)
