/*
 * wallet_select.c — grouping, selection and the selected_coins
 * tracepoint (wallet_select.h).
 */
#include "wallet_select.h"

#include <string.h>

#include "tracepoints.h"

int wallet_select_coins(const char *wallet, const struct cs_coin *coins, size_t n,
			bool avoid_partial, int64_t target, const struct cs_params *p,
			struct cs_rng *rng, struct cs_group **groups, size_t *n_groups,
			struct cs_result *r)
{
	int rc = coinselection_group_coins(coins, n, avoid_partial, groups, n_groups);

	memset(r, 0, sizeof(*r));
	if (rc != CS_OK)
		return rc;
	rc = coinselection_select(*groups, *n_groups, target, p, rng, r);
	if (rc == CS_OK)
		trace_coin_selection_selected_coins(wallet, coinselection_algo_name(r->algo), target,
						    r->waste, r->selected_value);
	return rc;
}
