# The tracepoint stream benchmark (bench/stream_cost.c, driven by
# bench/stream_cost.py from scripts/bench.sh; its sources: the top
# Makefile's STREAM_COST_SRCS): the node's generated wrappers with nobody
# listening, with USDT tracers, and with a stream reader.
BENCH_TARGETS += $(BUILD)/bench/stream_cost
ALL_TARGETS += $(BUILD)/bench/stream_cost
CONTRACT_CHECKS += $(BUILD)/bench/stream_cost:$(TRACE_CONTRACT):partial

$(BUILD)/bench/stream_cost: $(STREAM_COST_SRCS) $(TRACE_GEN_H) $(wildcard lib/tracestream/*.h) \
		include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(STREAM_COST_SRCS)
