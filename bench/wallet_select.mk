# The wallet's coin selection step (bench/wallet_select.c; its sources: the
# top Makefile's WALLET_SELECT_SRCS), timed by scripts/bench.sh unattached
# and with bpftrace attached to coin_selection:selected_coins.
BENCH_TARGETS += $(BUILD)/bench/wallet_select
ALL_TARGETS += $(BUILD)/bench/wallet_select
CONTRACT_CHECKS += $(BUILD)/bench/wallet_select:$(TRACE_CONTRACT):partial

$(BUILD)/bench/wallet_select: $(WALLET_SELECT_SRCS) src/wallet_select.h src/coinselection.h \
		include/trace.h $(TRACE_GEN_H)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ $(WALLET_SELECT_SRCS) $(WALLET_SELECT_LDLIBS)
