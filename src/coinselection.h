/*
 * coinselection.h — choosing which coins pay for a transaction: Branch and
 * Bound, CoinGrinder, Knapsack and Single Random Draw, each judged by its
 * waste, as Bitcoin Core's wallet does (src/wallet/coinselection.cpp).
 *
 * Pure functions over arrays: no wallet, no chain, no I/O, no tracepoints
 * (the wallet's spend code fires coin_selection:selected_coins with the
 * result). Randomness comes from a caller-seeded struct cs_rng, so tests
 * and benchmarks are reproducible.
 *
 * Units: amounts in satoshis (int64), sizes in virtual bytes, fee rates in
 * satoshis per 1000 virtual bytes (sat/kvB). coinselection_fee rounds up, as
 * Bitcoin's CFeeRate::GetFee does.
 *
 * Vocabulary (Bitcoin's):
 *   coin            a spendable output (COutput); its `fee` is the cost of
 *                   spending it at the current fee rate, `long_term_fee` at
 *                   the long-term rate, effective value = value - fee.
 *   group           coins spent together (OutputGroup): one coin, or, when
 *                   avoiding partial spends, every coin paid to one address.
 *   target          what the selected groups' effective values must cover:
 *                   the payments plus the fee of the transaction without
 *                   inputs (Bitcoin's selection_target / nTargetValue).
 *   cost of change  change_fee (creating the change output now) plus the
 *                   fee of spending it later at the discard fee rate.
 *   waste           sum over inputs of (fee - long_term_fee), plus the cost
 *                   of change if there is change, else the excess
 *                   (selected effective value - target), which the miner
 *                   gets. Lower is better.
 */
#ifndef MR_COINSELECTION_H
#define MR_COINSELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx.h"

/* Bitcoin's limits and defaults. */
#define CS_BNB_MAX_TRIES 100000        /* BnB: TOTAL_TRIES */
#define CS_COINGRINDER_MAX_TRIES 100000
#define CS_KNAPSACK_ITERATIONS 1000    /* ApproximateBestSubset */
#define CS_CHANGE_LOWER 50000          /* change target range (sat) */
#define CS_CHANGE_UPPER 1000000
#define CS_P2PKH_INPUT_BYTES 148       /* outpoint, sequence, scriptSig
					  <71-byte sig> <33-byte pubkey> */
#define CS_P2PKH_OUTPUT_BYTES 34
#define CS_DUST_RELAY_FEERATE 3000     /* sat/kvB: change below its dust
					  threshold is never made */

enum cs_algo {
	CS_ALGO_BNB,
	CS_ALGO_COINGRINDER,
	CS_ALGO_KNAPSACK,
	CS_ALGO_SRD,
	CS_ALGO_MANUAL,   /* pre-selected inputs, no algorithm */
};

/* Status codes. */
enum cs_status {
	CS_OK = 0,
	CS_INSUFFICIENT = -1,   /* the groups together do not reach the target */
	CS_NO_SOLUTION = -2,    /* enough funds, but this algorithm found no
				   selection (BnB: no changeless match within
				   the tries; any: over max_input_bytes) */
	CS_NOMEM = -3,
};

/* A small, fast PRNG (xoshiro256**), seeded by the caller. */
struct cs_rng {
	uint64_t s[4];
};

/* Seed from a 64-bit value (splitmix64 expands it). */
void coinselection_rng_seed(struct cs_rng *r, uint64_t seed);
uint64_t coinselection_rng_next(struct cs_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t coinselection_rng_below(struct cs_rng *r, uint64_t n);

/* Fee for `vbytes` at `feerate` sat/kvB, rounded up. */
int64_t coinselection_fee(int64_t feerate, int64_t vbytes);

/* Everything the algorithms and the waste metric need to know about the
 * fee environment. Fill with coinselection_params_init. */
struct cs_params {
	int64_t feerate;            /* effective, sat/kvB */
	int64_t long_term_feerate;  /* sat/kvB (-consolidatefeerate) */
	int64_t discard_feerate;    /* sat/kvB: spending change later */
	int32_t change_output_bytes;
	int32_t change_spend_bytes;
	int64_t change_fee;         /* coinselection_fee(feerate, change_output_bytes) */
	int64_t cost_of_change;     /* change_fee + coinselection_fee(discard, change_spend) */
	int64_t min_viable_change;  /* smaller change is dropped to fees: the
				       larger of coinselection_fee(discard, change_spend)+1
				       and the change output's dust threshold */
	int64_t change_target;      /* Knapsack's and CoinGrinder's extra:
				       change_fee plus a random amount in
				       [CS_CHANGE_LOWER, min(2 * payment,
				       CS_CHANGE_UPPER)), or plus CS_CHANGE_LOWER
				       for payments <= 25000 sat (Bitcoin's
				       GenerateChangeTarget) */
	int64_t max_input_bytes;    /* a selection may not exceed this (0: none) */
};

/*
 * Fill p for P2PKH inputs and change: the three fee rates, the payment
 * total (for the change target, drawn from rng) and max_input_bytes.
 */
void coinselection_params_init(struct cs_params *p, int64_t feerate, int64_t long_term_feerate,
			       int64_t discard_feerate, int64_t payment, int64_t max_input_bytes,
			       struct cs_rng *rng);

struct cs_coin {
	struct outpoint op;
	int64_t value;
	int32_t input_bytes;
	int64_t fee;              /* coinselection_fee(p->feerate, input_bytes) */
	int64_t long_term_fee;    /* coinselection_fee(p->long_term_feerate, input_bytes) */
	int64_t effective_value;  /* value - fee */
	uint8_t dest[20];         /* script_hash160 paid to: the grouping key */
	int32_t depth;            /* confirmations (0: in the mempool) */
	bool from_me;             /* unconfirmed change of our own */
};

/* Set c's value, size, fee fields and effective value under p. */
void coinselection_coin_init(struct cs_coin *c, const struct outpoint *op, int64_t value,
			     int32_t input_bytes, const uint8_t dest[20], int32_t depth,
			     const struct cs_params *p);

struct cs_group {
	size_t *coins;            /* indexes into the caller's coin array (owned) */
	size_t n_coins;
	int64_t value;
	int64_t effective_value;
	int64_t fee;
	int64_t long_term_fee;
	int64_t input_bytes;
	int32_t min_depth;        /* the shallowest of its coins */
};

/*
 * Group coins. Without avoid_partial each coin is its own group; with it,
 * coins paid to the same dest form one group, in the order first seen,
 * at most CS_GROUP_MAX_COINS each (a larger set splits into several,
 * as Bitcoin's OUTPUT_GROUP_MAX_ENTRIES). Groups whose effective value is
 * not positive are left out (spending them costs more than they bring).
 * On success *out (caller frees with coinselection_groups_free) and *n_out are set.
 * Returns CS_OK or CS_NOMEM.
 */
#define CS_GROUP_MAX_COINS 100
int coinselection_group_coins(const struct cs_coin *coins, size_t n, bool avoid_partial,
			      struct cs_group **out, size_t *n_out);
void coinselection_groups_free(struct cs_group *g, size_t n);   /* accepts NULL */

/* A selection: which groups, and what they add up to. */
struct cs_result {
	enum cs_algo algo;
	size_t *groups;           /* indexes into the group array (owned) */
	size_t n_groups;
	size_t n_inputs;          /* coins in those groups */
	int64_t target;
	int64_t selected_value;
	int64_t selected_effective_value;
	int64_t fee;              /* sum of the inputs' fees */
	int64_t long_term_fee;
	int64_t input_bytes;
	int64_t change;           /* set by coinselection_result_finish: 0 = no change */
	int64_t waste;            /* set by coinselection_result_finish */
	size_t tries;             /* BnB/CoinGrinder: steps taken */
	bool completed;           /* BnB/CoinGrinder: searched everything */
};

void coinselection_result_free(struct cs_result *r);   /* frees groups, zeroes r; NULL ok */

/*
 * Set r->change and r->waste under p (Bitcoin's RecalculateWaste):
 * change = selected_effective_value - target - change_fee, or 0 when
 * that is below min_viable_change; waste = fee - long_term_fee, plus
 * cost_of_change when change > 0, else plus the excess
 * selected_effective_value - target.
 */
void coinselection_result_finish(struct cs_result *r, const struct cs_params *p);

/*
 * The algorithms. Each takes the groups, the target, and writes *r (a
 * fresh result: the caller frees it with coinselection_result_free whatever the
 * status). They return CS_OK, CS_INSUFFICIENT when the groups' total
 * effective value is below the target, CS_NO_SOLUTION or CS_NOMEM.
 * None of them calls coinselection_result_finish.
 *
 * coinselection_bnb: depth-first search over groups sorted by descending effective
 *   value for the selection with effective value in [target, target +
 *   cost_of_change] (no change needed) of least waste, at most max_tries
 *   steps; skips a group equal in value and fee to one just left out;
 *   prunes by waste only while the fee rate is above the long-term rate.
 * coinselection_coingrinder: the selection of least input weight whose effective
 *   value covers target + change_target_cg (with change), at most
 *   max_tries steps (Bitcoin's CoinGrinder; used when the fee rate is
 *   high, above 3x the long-term rate).
 * coinselection_knapsack: Bitcoin's KnapsackSolver over a shuffled copy: an exact
 *   match, else all smaller groups if they sum exactly, else the best of
 *   ApproximateBestSubset (CS_KNAPSACK_ITERATIONS) for target and for
 *   target + p->change_target, or the smallest larger group.
 * coinselection_srd: groups in random order until target + CS_CHANGE_LOWER +
 *   p->change_fee is covered; over max_input_bytes, the group with the
 *   least effective value is dropped and drawing goes on.
 */
int coinselection_bnb(const struct cs_group *g, size_t n, int64_t target, int64_t cost_of_change,
		      size_t max_tries, struct cs_result *r);
int coinselection_coingrinder(const struct cs_group *g, size_t n, int64_t target,
			      int64_t change_target_cg, int64_t max_input_bytes, size_t max_tries,
			      struct cs_result *r);
int coinselection_knapsack(const struct cs_group *g, size_t n, int64_t target, int64_t change_target,
			   struct cs_rng *rng, struct cs_result *r);
int coinselection_srd(const struct cs_group *g, size_t n, int64_t target, int64_t change_fee,
		      int64_t max_input_bytes, struct cs_rng *rng, struct cs_result *r);

/*
 * Run every applicable algorithm and keep the result of least waste
 * (each finished with coinselection_result_finish). Ties: more inputs win (they
 * consolidate at the same cost, as Bitcoin's SelectionResult::operator<),
 * then the earlier algorithm in enum cs_algo order. CoinGrinder runs only
 * when p->feerate > 3 * p->long_term_feerate. Results over
 * p->max_input_bytes are discarded. Returns CS_OK (*best set),
 * CS_INSUFFICIENT (the total is too small), CS_NO_SOLUTION (enough
 * funds but nothing fits max_input_bytes), or CS_NOMEM.
 */
int coinselection_select(const struct cs_group *g, size_t n, int64_t target, const struct cs_params *p,
			 struct cs_rng *rng, struct cs_result *best);

/* "bnb", "coingrinder", "knapsack", "srd", "manual". */
const char *coinselection_algo_name(enum cs_algo a);

#endif
