/*
 * test_coinselection.c — the coin selection algorithms and the waste
 * metric against hand-computed cases (src/coinselection.c).
 *
 * Most cases use a zero fee rate, so a coin's effective value is its
 * value and the arithmetic stays visible; the fee cases use 20 sat/vB
 * against a long-term 10 sat/vB: a 148-byte input costs 2960 now and 1480
 * long-term (waste 1480 each), change costs 680 to create and 1480 to
 * spend later (cost of change 2160), and the minimum viable change is
 * 1481.
 */
#include <stdlib.h>
#include <string.h>

#include "coinselection.h"
#include "unit.h"

/* Zero fees everywhere: effective value = value, cost of change 0. */
static struct cs_params zero_params(void)
{
	struct cs_params p;
	struct cs_rng rng;

	coinselection_rng_seed(&rng, 1);
	coinselection_params_init(&p, 0, 0, 0, 20000, 0, &rng);
	return p;
}

static struct cs_params fee_params(void)
{
	struct cs_params p;
	struct cs_rng rng;

	coinselection_rng_seed(&rng, 1);
	coinselection_params_init(&p, 20000, 10000, 10000, 20000, 0, &rng);
	return p;
}

/* n coins of the given values (148-byte inputs), each on its own
 * address, grouped one per coin (or by address with avoid). */
struct pool {
	struct cs_coin coins[64];
	struct cs_group *g;
	size_t n, ng;
};

static void pool_make(struct pool *pl, const int64_t *values, size_t n,
		      const struct cs_params *p)
{
	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < n; i++) {
		struct outpoint op = { .n = (uint32_t)i };
		uint8_t dest[20] = { (uint8_t)i, (uint8_t)(i >> 8) };

		coinselection_coin_init(&pl->coins[i], &op, values[i], CS_P2PKH_INPUT_BYTES, dest, 6, p);
	}
	pl->n = n;
	CHECK_EQ_INT(coinselection_group_coins(pl->coins, n, false, &pl->g, &pl->ng), CS_OK);
}

static void pool_free(struct pool *pl)
{
	coinselection_groups_free(pl->g, pl->ng);
}

/* Sum of the values of the groups a result selected (checks its totals). */
static int64_t selected_sum(const struct pool *pl, const struct cs_result *r)
{
	int64_t sum = 0;

	for (size_t i = 0; i < r->n_groups; i++)
		sum += pl->g[r->groups[i]].value;
	return sum;
}

UNIT_TEST(cs_fee_rounds_up)
{
	CHECK_EQ_INT(coinselection_fee(1000, 148), 148);
	CHECK_EQ_INT(coinselection_fee(1500, 1), 2);        /* 1.5 -> 2 */
	CHECK_EQ_INT(coinselection_fee(1, 1), 1);           /* 0.001 -> 1 */
	CHECK_EQ_INT(coinselection_fee(10000, 34), 340);
	CHECK_EQ_INT(coinselection_fee(20000, 148), 2960);
	CHECK_EQ_INT(coinselection_fee(0, 148), 0);
	CHECK_EQ_INT(coinselection_fee(1000, 0), 0);
}

UNIT_TEST(cs_params_and_coins)
{
	struct cs_params p = fee_params();
	struct cs_coin c;
	struct outpoint op = { .n = 1 };
	uint8_t dest[20] = { 7 };
	struct cs_rng rng;

	CHECK_EQ_INT(p.change_fee, 680);
	CHECK_EQ_INT(p.cost_of_change, 2160);
	CHECK_EQ_INT(p.min_viable_change, 1481);
	CHECK_EQ_INT(p.change_target, 680 + CS_CHANGE_LOWER);   /* payment <= 25000 */
	/* At 3 sat/vB discard the dust threshold (546) is the larger. */
	coinselection_rng_seed(&rng, 2);
	coinselection_params_init(&p, 3000, 3000, 3000, 10 * COIN, 0, &rng);
	CHECK_EQ_INT(p.min_viable_change, 546);
	CHECK(p.change_target >= p.change_fee + CS_CHANGE_LOWER &&
	      p.change_target < p.change_fee + CS_CHANGE_UPPER);
	p = fee_params();
	coinselection_coin_init(&c, &op, 100000, CS_P2PKH_INPUT_BYTES, dest, 3, &p);
	CHECK_EQ_INT(c.fee, 2960);
	CHECK_EQ_INT(c.long_term_fee, 1480);
	CHECK_EQ_INT(c.effective_value, 97040);
	CHECK_EQ_INT(c.depth, 3);
}

UNIT_TEST(cs_grouping)
{
	struct cs_params p = fee_params();
	struct cs_coin coins[160];
	struct cs_group *g;
	size_t ng;
	uint8_t a[20] = { 1 }, b[20] = { 2 };
	struct outpoint op = { .n = 0 };

	coinselection_coin_init(&coins[0], &op, 100000, 148, a, 1, &p);
	coinselection_coin_init(&coins[1], &op, 50000, 148, b, 2, &p);
	coinselection_coin_init(&coins[2], &op, 70000, 148, a, 5, &p);
	coinselection_coin_init(&coins[3], &op, 1000, 148, b, 1, &p);  /* costs more than it brings */
	CHECK_EQ_INT(coinselection_group_coins(coins, 4, false, &g, &ng), CS_OK);
	CHECK_EQ_INT(ng, 3);                                  /* the 1000 one left out */
	coinselection_groups_free(g, ng);
	CHECK_EQ_INT(coinselection_group_coins(coins, 4, true, &g, &ng), CS_OK);
	CHECK_EQ_INT(ng, 2);
	CHECK_EQ_INT(g[0].n_coins, 2);                        /* a: coins 0 and 2 */
	CHECK_EQ_INT(g[0].value, 170000);
	CHECK_EQ_INT(g[0].effective_value, 170000 - 2 * 2960);
	CHECK_EQ_INT(g[0].fee, 5920);
	CHECK_EQ_INT(g[0].long_term_fee, 2960);
	CHECK_EQ_INT(g[0].input_bytes, 296);
	CHECK_EQ_INT(g[0].min_depth, 1);
	CHECK_EQ_INT(g[1].value, 51000);                      /* b: its group stays positive */
	coinselection_groups_free(g, ng);
	/* 150 coins on one address: groups of 100 and 50. */
	for (int i = 0; i < 150; i++)
		coinselection_coin_init(&coins[i], &op, 100000, 148, a, 1, &p);
	CHECK_EQ_INT(coinselection_group_coins(coins, 150, true, &g, &ng), CS_OK);
	CHECK_EQ_INT(ng, 2);
	CHECK_EQ_INT(g[0].n_coins, CS_GROUP_MAX_COINS);
	CHECK_EQ_INT(g[1].n_coins, 50);
	coinselection_groups_free(g, ng);
	CHECK_EQ_INT(coinselection_group_coins(coins, 0, true, &g, &ng), CS_OK);   /* empty is fine */
	CHECK_EQ_INT(ng, 0);
	coinselection_groups_free(g, ng);
}

UNIT_TEST(cs_waste_exact)
{
	struct cs_params p = fee_params();
	struct cs_result r = { .target = 10000, .fee = 2960, .long_term_fee = 1480 };

	/* With change: 70000 - 10000 - 680 = 59320, waste 1480 + 2160. */
	r.selected_effective_value = 70000;
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.change, 59320);
	CHECK_EQ_INT(r.waste, 3640);
	/* Change of 320 is below 1481: none, the excess 1000 is waste. */
	r.selected_effective_value = 11000;
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.change, 0);
	CHECK_EQ_INT(r.waste, 2480);
	/* Exactly the minimum viable change is made. */
	r.selected_effective_value = 10000 + 680 + 1481;
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.change, 1481);
	/* Below the long-term rate inputs lower the waste. */
	r.fee = 740;
	r.long_term_fee = 1480;
	r.selected_effective_value = 10000;
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.change, 0);
	CHECK_EQ_INT(r.waste, -740);
}

UNIT_TEST(cs_bnb_exact_match)
{
	struct cs_params p = zero_params();
	struct pool pl;
	struct cs_result r;
	const int64_t v[] = { 1000, 2000, 3000, 4000 };

	pool_make(&pl, v, 4, &p);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 5000, 0, CS_BNB_MAX_TRIES, &r), CS_OK);
	CHECK_EQ_INT(r.selected_value, 5000);
	CHECK_EQ_INT(selected_sum(&pl, &r), 5000);
	CHECK_EQ_INT(r.n_inputs, 2);
	CHECK(r.completed);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 10000, 0, CS_BNB_MAX_TRIES, &r), CS_OK);
	CHECK_EQ_INT(r.n_inputs, 4);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 10001, 0, CS_BNB_MAX_TRIES, &r), CS_INSUFFICIENT);
	coinselection_result_free(&r);
	pool_free(&pl);
}

UNIT_TEST(cs_bnb_no_match_and_window)
{
	struct cs_params p = zero_params();
	struct pool pl;
	struct cs_result r;
	const int64_t v[] = { 4000, 6000 };

	pool_make(&pl, v, 2, &p);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 5000, 0, CS_BNB_MAX_TRIES, &r), CS_NO_SOLUTION);
	CHECK(r.completed);
	coinselection_result_free(&r);
	/* A window of 1000 above the target takes the 6000 (no change). */
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 5000, 1000, CS_BNB_MAX_TRIES, &r), CS_OK);
	CHECK_EQ_INT(r.selected_value, 6000);
	/* At zero fees the 1000 over is worth making change of (dust: 546),
	 * and change costs nothing. */
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.change, 1000);
	CHECK_EQ_INT(r.waste, 0);
	coinselection_result_free(&r);
	pool_free(&pl);
}

UNIT_TEST(cs_bnb_least_waste_and_tries)
{
	struct cs_params p = fee_params();
	struct pool pl;
	struct cs_result r;
	/* Effective 5000, 3000, 2000 at 20 sat/vB: one input beats two. */
	const int64_t v[] = { 5000 + 2960, 3000 + 2960, 2000 + 2960 };
	int64_t many[40], sum = 0;

	pool_make(&pl, v, 3, &p);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, 5000, p.cost_of_change, CS_BNB_MAX_TRIES, &r), CS_OK);
	CHECK_EQ_INT(r.n_inputs, 1);
	CHECK_EQ_INT(r.selected_effective_value, 5000);
	coinselection_result_finish(&r, &p);
	CHECK_EQ_INT(r.waste, 1480);
	coinselection_result_free(&r);
	pool_free(&pl);

	/* Even values and an odd target: no match exists, and 40 distinct
	 * coins are far too many to search: the limit stops it. */
	p = zero_params();
	for (int i = 0; i < 40; i++) {
		many[i] = 2 * (1000 + i);
		sum += many[i];
	}
	pool_make(&pl, many, 40, &p);
	CHECK_EQ_INT(coinselection_bnb(pl.g, pl.ng, sum / 2 + 1, 0, 1000, &r), CS_NO_SOLUTION);
	CHECK(!r.completed);
	CHECK_EQ_INT(r.tries, 1000);
	coinselection_result_free(&r);
	pool_free(&pl);
}

UNIT_TEST(cs_coingrinder_least_weight)
{
	struct cs_params p = zero_params();
	struct cs_coin coins[4];
	struct cs_group *g;
	size_t ng;
	struct cs_result r;
	struct outpoint op = { .n = 0 };
	uint8_t d[4][20] = { { 1 }, { 2 }, { 3 }, { 4 } };

	/* D alone covers 100 at 500 bytes, A+B at 448, B+C at 296: B+C. */
	coinselection_coin_init(&coins[0], &op, 60, 300, d[0], 1, &p);   /* A */
	coinselection_coin_init(&coins[1], &op, 50, 148, d[1], 1, &p);   /* B */
	coinselection_coin_init(&coins[2], &op, 50, 148, d[2], 1, &p);   /* C */
	coinselection_coin_init(&coins[3], &op, 100, 500, d[3], 1, &p);  /* D */
	CHECK_EQ_INT(coinselection_group_coins(coins, 4, false, &g, &ng), CS_OK);
	CHECK_EQ_INT(coinselection_coingrinder(g, ng, 100, 0, 0, CS_COINGRINDER_MAX_TRIES, &r), CS_OK);
	CHECK_EQ_INT(r.input_bytes, 296);
	CHECK_EQ_INT(r.selected_value, 100);
	CHECK(r.completed);
	coinselection_result_free(&r);
	/* A weight limit of 200 bytes: nothing fits. */
	CHECK_EQ_INT(coinselection_coingrinder(g, ng, 100, 0, 200, CS_COINGRINDER_MAX_TRIES, &r),
		     CS_NO_SOLUTION);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_coingrinder(g, ng, 261, 0, 0, CS_COINGRINDER_MAX_TRIES, &r),
		     CS_INSUFFICIENT);
	coinselection_result_free(&r);
	coinselection_groups_free(g, ng);
}

UNIT_TEST(cs_knapsack_cases)
{
	struct cs_params p = zero_params();
	struct pool pl;
	struct cs_result r;
	struct cs_rng rng;
	const int64_t exact[] = { 1000, 5000, 7000 };
	const int64_t lower[] = { 100, 200, 300, 100000 };
	const int64_t larger[] = { 100, 200, 100000, 200000 };

	coinselection_rng_seed(&rng, 42);
	pool_make(&pl, exact, 3, &p);
	CHECK_EQ_INT(coinselection_knapsack(pl.g, pl.ng, 5000, 50000, &rng, &r), CS_OK);
	CHECK_EQ_INT(r.selected_value, 5000);                 /* the exact coin */
	CHECK_EQ_INT(r.n_inputs, 1);
	coinselection_result_free(&r);
	pool_free(&pl);
	/* The smaller coins add up to the target exactly: all of them. */
	pool_make(&pl, lower, 4, &p);
	CHECK_EQ_INT(coinselection_knapsack(pl.g, pl.ng, 600, 50000, &rng, &r), CS_OK);
	CHECK_EQ_INT(r.selected_value, 600);
	CHECK_EQ_INT(r.n_inputs, 3);
	coinselection_result_free(&r);
	pool_free(&pl);
	/* The smaller ones fall short: the smallest larger coin. */
	pool_make(&pl, larger, 4, &p);
	CHECK_EQ_INT(coinselection_knapsack(pl.g, pl.ng, 1000, 50000, &rng, &r), CS_OK);
	CHECK_EQ_INT(r.selected_value, 100000);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_knapsack(pl.g, pl.ng, 400000, 50000, &rng, &r), CS_INSUFFICIENT);
	coinselection_result_free(&r);
	pool_free(&pl);
}

/* Over many random wallets, Knapsack and SRD always meet their targets. */
UNIT_TEST(cs_knapsack_and_srd_meet_targets)
{
	struct cs_params p = fee_params();
	struct cs_rng rng;
	int64_t v[64];

	coinselection_rng_seed(&rng, 7);
	for (int round = 0; round < 50; round++) {
		struct pool pl;
		struct cs_result r;
		int64_t total = 0, target;
		size_t n = 5 + coinselection_rng_below(&rng, 50);

		for (size_t i = 0; i < n; i++)
			v[i] = 10000 + (int64_t)coinselection_rng_below(&rng, 5 * COIN);
		pool_make(&pl, v, n, &p);
		for (size_t i = 0; i < pl.ng; i++)
			total += pl.g[i].effective_value;
		target = 1 + (int64_t)coinselection_rng_below(&rng, (uint64_t)(total / 2));
		CHECK_EQ_INT(coinselection_knapsack(pl.g, pl.ng, target, p.change_target, &rng, &r), CS_OK);
		CHECK(r.selected_effective_value >= target);
		CHECK_EQ_INT(selected_sum(&pl, &r), r.selected_value);
		coinselection_result_free(&r);
		CHECK_EQ_INT(coinselection_srd(pl.g, pl.ng, target, p.change_fee, 0, &rng, &r), CS_OK);
		CHECK(r.selected_effective_value >= target + CS_CHANGE_LOWER + p.change_fee);
		coinselection_result_free(&r);
		pool_free(&pl);
	}
}

UNIT_TEST(cs_srd_weight_limit_and_failures)
{
	struct cs_params p = zero_params();
	struct pool pl;
	struct cs_result r;
	struct cs_rng rng;
	const int64_t v[] = { 10000, 20000, 30000, 40000, 200000 };

	pool_make(&pl, v, 5, &p);
	for (uint64_t seed = 0; seed < 20; seed++) {
		coinselection_rng_seed(&rng, seed);
		/* Goal 100000 + 50000; at most two inputs: the 200000 and one. */
		CHECK_EQ_INT(coinselection_srd(pl.g, pl.ng, 100000, 0, 2 * 148, &rng, &r), CS_OK);
		CHECK(r.n_inputs <= 2 && r.input_bytes <= 296);
		CHECK(r.selected_value >= 150000);
		coinselection_result_free(&r);
	}
	/* Enough for the target, not for the target + CS_CHANGE_LOWER. */
	CHECK_EQ_INT(coinselection_srd(pl.g, pl.ng, 290000, 0, 0, &rng, &r), CS_NO_SOLUTION);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_srd(pl.g, pl.ng, 300001, 0, 0, &rng, &r), CS_INSUFFICIENT);
	coinselection_result_free(&r);
	pool_free(&pl);
}

UNIT_TEST(cs_select_least_waste_and_ties)
{
	struct cs_params p = zero_params();
	struct pool pl;
	struct cs_result r;
	struct cs_rng rng;
	const int64_t v[] = { 5000, 3000, 2000 };
	const int64_t one[] = { 10000 + 2960 };

	coinselection_rng_seed(&rng, 3);
	/* Zero fees: BnB's {3000, 2000} and Knapsack's exact {5000} both
	 * waste nothing (SRD cannot reach 5000 + 50000): more inputs win. */
	pool_make(&pl, v, 3, &p);
	CHECK_EQ_INT(coinselection_select(pl.g, pl.ng, 5000, &p, &rng, &r), CS_OK);
	CHECK_EQ_INT(r.algo, CS_ALGO_BNB);
	CHECK_EQ_INT(r.n_inputs, 2);
	CHECK_EQ_INT(r.waste, 0);
	coinselection_result_free(&r);
	CHECK_EQ_INT(coinselection_select(pl.g, pl.ng, 10001, &p, &rng, &r), CS_INSUFFICIENT);
	coinselection_result_free(&r);
	pool_free(&pl);
	/* One coin matching exactly: BnB and Knapsack tie on waste and
	 * inputs; the earlier algorithm wins. */
	p = fee_params();
	pool_make(&pl, one, 1, &p);
	CHECK_EQ_INT(coinselection_select(pl.g, pl.ng, 10000, &p, &rng, &r), CS_OK);
	CHECK_EQ_INT(r.algo, CS_ALGO_BNB);
	CHECK_EQ_INT(r.waste, 1480);
	CHECK_EQ_INT(r.change, 0);
	coinselection_result_free(&r);
	pool_free(&pl);
	/* Nothing to select from. */
	CHECK_EQ_INT(coinselection_select(NULL, 0, 1, &p, &rng, &r), CS_INSUFFICIENT);
	coinselection_result_free(&r);
	CHECK(strcmp(coinselection_algo_name(CS_ALGO_COINGRINDER), "coingrinder") == 0);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(coinselection_free_functions_accept_null)
{
	coinselection_groups_free(NULL, 0);
	coinselection_result_free(NULL);
}
