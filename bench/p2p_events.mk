# The capture benchmark's load generator (bench/p2p_events.c): fires
# net:inbound_message faster than the node can (scripts/bench.sh), through
# the node's generated wrappers (its sources: the top Makefile's
# P2P_EVENTS_SRCS).
BENCH_TARGETS += $(BUILD)/bench/p2p_events
ALL_TARGETS += $(BUILD)/bench/p2p_events
CONTRACT_CHECKS += $(BUILD)/bench/p2p_events:$(TRACE_CONTRACT):partial

$(BUILD)/bench/p2p_events: $(P2P_EVENTS_SRCS) include/trace.h $(TRACE_GEN_H)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(P2P_EVENTS_SRCS)
