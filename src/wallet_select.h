/*
 * wallet_select.h — the wallet's coin selection step (Bitcoin's
 * SelectCoins): group the candidate coins, choose by waste
 * (coinselection.h), and report the choice on coin_selection:
 * selected_coins. Kept apart from wallet_send.c so the benchmark can
 * time exactly what a payment runs, tracepoint included, without a node.
 */
#ifndef MR_WALLET_SELECT_H
#define MR_WALLET_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinselection.h"

/*
 * Group coins[0..n) (by address with avoid_partial), select for target
 * under p, and on success fire coin_selection:selected_coins(wallet,
 * algorithm, target, waste, selected value). *groups (free with
 * coinselection_groups_free) and *r (coinselection_result_free) are set whatever the status;
 * r's group indexes point into *groups. Returns coinselection_select's status.
 */
int wallet_select_coins(const char *wallet, const struct cs_coin *coins, size_t n,
			bool avoid_partial, int64_t target, const struct cs_params *p,
			struct cs_rng *rng, struct cs_group **groups, size_t *n_groups,
			struct cs_result *r);

#endif
