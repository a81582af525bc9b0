# The wallet's coin selection step (bench/wallet_select.c over
# src/wallet_select.c and src/coinselection.c), timed by scripts/bench.sh
# unattached and with bpftrace attached to coin_selection:selected_coins.
BENCH_TARGETS += $(BUILD)/bench/wallet_select
ALL_TARGETS += $(BUILD)/bench/wallet_select
CONTRACT_CHECKS += $(BUILD)/bench/wallet_select:$(TRACE_CONTRACT):partial

$(BUILD)/bench/wallet_select: bench/wallet_select.c src/wallet_select.c src/coinselection.c \
		src/wallet_select.h src/coinselection.h include/trace.h $(TRACE_SRCS) $(TRACE_GEN_H)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -o $@ bench/wallet_select.c src/wallet_select.c \
		src/coinselection.c $(TRACE_SRCS) -lm
