# The tracepoint stream benchmark (bench/stream_cost.c, driven by
# bench/stream_cost.py from scripts/bench.sh; its sources: the top
# Makefile's STREAM_COST_SRCS): the node's generated wrappers with nobody
# listening, with USDT tracers, and with a stream reader.
# stream_cost is built with the node's site form ($(NODE_TRACE_FLAGS), src/node.mk);
# stream_cost-int3 with trace.h's default 1-byte nop, for reference.
BENCH_TARGETS += $(BUILD)/bench/stream_cost $(BUILD)/bench/stream_cost-int3
ALL_TARGETS += $(BUILD)/bench/stream_cost $(BUILD)/bench/stream_cost-int3
CONTRACT_CHECKS += $(BUILD)/bench/stream_cost:$(TRACE_CONTRACT):partial \
	$(BUILD)/bench/stream_cost-int3:$(TRACE_CONTRACT):partial
STREAM_COST_DEPS := $(STREAM_COST_SRCS) $(TRACE_GEN_H) $(wildcard lib/tracestream/*.h) include/trace.h

$(BUILD)/bench/stream_cost: $(STREAM_COST_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(NODE_TRACE_FLAGS) -o $@ $(STREAM_COST_SRCS)

$(BUILD)/bench/stream_cost-int3: $(STREAM_COST_DEPS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(STREAM_COST_SRCS)
