/*
 * wallet_select.c (bench) — what the wallet's coin selection step costs
 * (wallet_select_coins: grouping, BnB/CoinGrinder/Knapsack/SRD, waste,
 * and the coin_selection:selected_coins tracepoint) for a wallet of N
 * coins. scripts/bench.sh runs it unattached and under bpftrace.
 *
 * USAGE: wallet_select N_COINS REPS
 * Prints one line: "coins N reps R median_us M min_us m selected S".
 *
 * The wallet is synthetic but shaped like a real one: values spread
 * log-uniformly from 10,000 sat to 10 coins, one address in ten used for
 * two coins, payments from 0.01 to 2 coins, 10 sat/vB against a long-term
 * 10 sat/vB (so CoinGrinder does not run, as in a wallet at normal fees).
 * A fixed seed makes every run select over the same coins and payments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinselection.h"
#include "wallet_select.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* n coins under p, from rng. */
static struct cs_coin *make_coins(size_t n, const struct cs_params *p, struct cs_rng *rng)
{
	struct cs_coin *c = malloc(n * sizeof(*c));

	for (size_t i = 0; c && i < n; i++) {
		struct outpoint op = { .n = (uint32_t)i };
		uint8_t dest[20] = { 0 };
		double u = (double)coinselection_rng_below(rng, 1000000) / 1e6;
		int64_t value = (int64_t)(10000.0 * pow(100000.0, u)); /* 1e4 .. 1e9 sat */
		size_t addr = coinselection_rng_below(rng, 10) == 0 && i ? i - 1 : i;

		memcpy(op.txid, &i, sizeof(i));
		memcpy(dest, &addr, sizeof(addr));
		coinselection_coin_init(&c[i], &op, value, CS_P2PKH_INPUT_BYTES, dest, 6, p);
	}
	return c;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	int reps = argc > 2 ? atoi(argv[2]) : 20;
	struct cs_rng rng;
	struct cs_params p;
	struct cs_coin *coins;
	double *t = malloc((reps > 0 ? reps : 1) * sizeof(*t)), min;
	size_t selected = 0;

	if (n == 0 || reps <= 0 || !t) {
		fprintf(stderr, "usage: wallet_select N_COINS REPS\n");
		return 2;
	}
	coinselection_rng_seed(&rng, 20261123);
	coinselection_params_init(&p, 10000, 10000, 10000, COIN, 0, &rng);
	coins = make_coins(n, &p, &rng);
	if (!coins)
		return 1;
	for (int i = 0; i < reps; i++) {
		int64_t payment = 1000000 + (int64_t)coinselection_rng_below(&rng, 199000000);
		int64_t target = payment + coinselection_fee(p.feerate, 10 + CS_P2PKH_OUTPUT_BYTES);
		struct cs_group *g;
		size_t ng;
		struct cs_result r;
		double t0;

		coinselection_params_init(&p, 10000, 10000, 10000, payment, 0, &rng);
		t0 = now_us();
		if (wallet_select_coins("bench", coins, n, false, target, &p, &rng, &g, &ng,
					&r) != CS_OK) {
			fprintf(stderr, "wallet_select: selection failed\n");
			return 1;
		}
		t[i] = now_us() - t0;
		selected += r.n_inputs;
		coinselection_result_free(&r);
		coinselection_groups_free(g, ng);
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp_double);
	min = t[0];
	printf("coins %zu reps %d median_us %.1f min_us %.1f selected %.1f\n", n, reps,
	       t[reps / 2], min, (double)selected / reps);
	free(coins);
	free(t);
	return 0;
}
