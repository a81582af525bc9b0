# The capture benchmark's load generator (bench/p2p_events.c): fires
# net:inbound_message faster than the node can (scripts/bench.sh).
BENCH_TARGETS += $(BUILD)/bench/p2p_events
ALL_TARGETS += $(BUILD)/bench/p2p_events
CONTRACT_CHECKS += $(BUILD)/bench/p2p_events:doc/tracing.md:partial

$(BUILD)/bench/p2p_events: bench/p2p_events.c include/trace.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $<
