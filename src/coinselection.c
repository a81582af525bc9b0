/*
 * coinselection.c — Branch and Bound, CoinGrinder, Knapsack and Single
 * Random Draw over output groups, and the waste metric that chooses
 * between them (coinselection.h).
 */
#include "coinselection.h"

#include <stdlib.h>
#include <string.h>

/* ---- Randomness ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void coinselection_rng_seed(struct cs_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t coinselection_rng_next(struct cs_rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Rejection sampling: no modulo bias. */
uint64_t coinselection_rng_below(struct cs_rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = coinselection_rng_next(r);
	while (x >= limit);
	return x % n;
}

/* ---- Fees, parameters, coins --------------------------------------------- */

int64_t coinselection_fee(int64_t feerate, int64_t vbytes)
{
	__int128 n = (__int128)feerate * vbytes;

	if (n <= 0)
		return 0;
	return (int64_t)((n + 999) / 1000);
}

/* Bitcoin's GenerateChangeTarget: a random target hides which output is
 * the change. */
static int64_t change_target(int64_t payment, int64_t change_fee, struct cs_rng *rng)
{
	int64_t upper;

	if (payment <= CS_CHANGE_LOWER / 2)
		return change_fee + CS_CHANGE_LOWER;
	upper = payment * 2 < CS_CHANGE_UPPER ? payment * 2 : CS_CHANGE_UPPER;
	return change_fee + CS_CHANGE_LOWER +
	       (int64_t)coinselection_rng_below(rng, (uint64_t)(upper - CS_CHANGE_LOWER));
}

void coinselection_params_init(struct cs_params *p, int64_t feerate, int64_t long_term_feerate,
			       int64_t discard_feerate, int64_t payment, int64_t max_input_bytes,
			       struct cs_rng *rng)
{
	int64_t dust = coinselection_fee(CS_DUST_RELAY_FEERATE, CS_P2PKH_OUTPUT_BYTES + CS_P2PKH_INPUT_BYTES);
	int64_t spend_later;

	memset(p, 0, sizeof(*p));
	p->feerate = feerate;
	p->long_term_feerate = long_term_feerate;
	p->discard_feerate = discard_feerate;
	p->change_output_bytes = CS_P2PKH_OUTPUT_BYTES;
	p->change_spend_bytes = CS_P2PKH_INPUT_BYTES;
	p->change_fee = coinselection_fee(feerate, p->change_output_bytes);
	spend_later = coinselection_fee(discard_feerate, p->change_spend_bytes);
	p->cost_of_change = p->change_fee + spend_later;
	p->min_viable_change = spend_later + 1 > dust ? spend_later + 1 : dust;
	p->change_target = change_target(payment, p->change_fee, rng);
	p->max_input_bytes = max_input_bytes;
}

void coinselection_coin_init(struct cs_coin *c, const struct outpoint *op, int64_t value,
			     int32_t input_bytes, const uint8_t dest[20], int32_t depth,
			     const struct cs_params *p)
{
	memset(c, 0, sizeof(*c));
	c->op = *op;
	c->value = value;
	c->input_bytes = input_bytes;
	c->fee = coinselection_fee(p->feerate, input_bytes);
	c->long_term_fee = coinselection_fee(p->long_term_feerate, input_bytes);
	c->effective_value = value - c->fee;
	memcpy(c->dest, dest, 20);
	c->depth = depth;
}

/* ---- Groups ------------------------------------------------------------------ */

void coinselection_groups_free(struct cs_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++)
		free(g[i].coins);
	free(g);
}

static void group_add(struct cs_group *g, const struct cs_coin *c, size_t idx)
{
	g->coins[g->n_coins++] = idx;
	g->value += c->value;
	g->effective_value += c->effective_value;
	g->fee += c->fee;
	g->long_term_fee += c->long_term_fee;
	g->input_bytes += c->input_bytes;
	if (g->n_coins == 1 || c->depth < g->min_depth)
		g->min_depth = c->depth;
}

/* The open (not full) group for dest among g[0..n), or NULL. Groups of one
 * address are few; a linear scan keeps this simple. */
static struct cs_group *open_group(struct cs_group *g, size_t n, const struct cs_coin *coins,
				   const uint8_t dest[20])
{
	for (size_t i = n; i-- > 0;)
		if (memcmp(coins[g[i].coins[0]].dest, dest, 20) == 0)
			return g[i].n_coins < CS_GROUP_MAX_COINS ? &g[i] : NULL;
	return NULL;
}

/* Drop groups whose effective value is not positive, keeping order. */
static size_t keep_positive(struct cs_group *g, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (g[i].effective_value > 0)
			g[k++] = g[i];
		else
			free(g[i].coins);
	}
	return k;
}

int coinselection_group_coins(const struct cs_coin *coins, size_t n, bool avoid_partial,
			      struct cs_group **out, size_t *n_out)
{
	struct cs_group *g = calloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;

	*out = NULL;
	*n_out = 0;
	if (!g)
		return CS_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct cs_group *grp = avoid_partial ? open_group(g, ng, coins, coins[i].dest) : NULL;

		if (!grp) {
			grp = &g[ng];
			grp->coins = malloc((avoid_partial ? CS_GROUP_MAX_COINS : 1) *
					    sizeof(*grp->coins));
			if (!grp->coins) {
				coinselection_groups_free(g, ng);
				return CS_NOMEM;
			}
			ng++;
		}
		group_add(grp, &coins[i], i);
	}
	*n_out = keep_positive(g, ng);
	*out = g;
	return CS_OK;
}

/* ---- Results ------------------------------------------------------------------ */

void coinselection_result_free(struct cs_result *r)
{
	if (!r)
		return;
	free(r->groups);
	memset(r, 0, sizeof(*r));
}

static int result_init(struct cs_result *r, enum cs_algo algo, int64_t target, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->algo = algo;
	r->target = target;
	r->groups = malloc((cap ? cap : 1) * sizeof(*r->groups));
	return r->groups ? CS_OK : CS_NOMEM;
}

static void result_add(struct cs_result *r, const struct cs_group *g, size_t idx)
{
	r->groups[r->n_groups++] = idx;
	r->n_inputs += g->n_coins;
	r->selected_value += g->value;
	r->selected_effective_value += g->effective_value;
	r->fee += g->fee;
	r->long_term_fee += g->long_term_fee;
	r->input_bytes += g->input_bytes;
}

void coinselection_result_finish(struct cs_result *r, const struct cs_params *p)
{
	int64_t change = r->selected_effective_value - r->target - p->change_fee;

	r->change = change >= p->min_viable_change ? change : 0;
	r->waste = r->fee - r->long_term_fee;
	r->waste += r->change ? p->cost_of_change : r->selected_effective_value - r->target;
}

static int64_t total_effective(const struct cs_group *g, size_t n)
{
	int64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += g[i].effective_value;
	return sum;
}

/* Every algorithm starts here: a fresh result, and CS_INSUFFICIENT when
 * all groups together fall short. */
static int algo_start(struct cs_result *r, enum cs_algo algo, const struct cs_group *g,
		      size_t n, int64_t target)
{
	int rc = result_init(r, algo, target, n);

	if (rc != CS_OK)
		return rc;
	return total_effective(g, n) < target ? CS_INSUFFICIENT : CS_OK;
}

/* Indexes 0..n-1 sorted by descending effective value (ties: fewer bytes,
 * then index, so the order is deterministic). */
static const struct cs_group *sort_groups;

static int cmp_desc(const void *a, const void *b)
{
	const struct cs_group *x = &sort_groups[*(const size_t *)a];
	const struct cs_group *y = &sort_groups[*(const size_t *)b];

	if (x->effective_value != y->effective_value)
		return x->effective_value > y->effective_value ? -1 : 1;
	if (x->input_bytes != y->input_bytes)
		return x->input_bytes < y->input_bytes ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static size_t *sorted_desc(const struct cs_group *g, size_t n)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (!idx)
		return NULL;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	sort_groups = g;
	qsort(idx, n, sizeof(*idx), cmp_desc);
	return idx;
}

/* ---- Branch and Bound ---------------------------------------------------------- */

struct bnb {
	const struct cs_group *g;
	const size_t *order;        /* groups by descending effective value */
	size_t n;
	size_t *sel, n_sel;         /* positions in order, ascending */
	int64_t value, available, waste;
};

/* Step back: restore the lookahead of groups skipped after the last
 * included one, then exclude it. Returns false when nothing is left. */
static bool bnb_backtrack(struct bnb *s, size_t *pos)
{
	const struct cs_group *u;

	if (s->n_sel == 0)
		return false;
	for (--*pos; *pos > s->sel[s->n_sel - 1]; --*pos)
		s->available += s->g[s->order[*pos]].effective_value;
	u = &s->g[s->order[*pos]];
	s->value -= u->effective_value;
	s->waste -= u->fee - u->long_term_fee;
	s->n_sel--;
	return true;
}

int coinselection_bnb(const struct cs_group *g, size_t n, int64_t target, int64_t cost_of_change,
		      size_t max_tries, struct cs_result *r)
{
	struct bnb s = { .g = g, .n = n };
	size_t *best = NULL, n_best = 0, pos = 0, tries;
	int64_t best_waste = MAX_MONEY;
	bool high_feerate, found = false;
	int rc = algo_start(r, CS_ALGO_BNB, g, n, target);

	if (rc != CS_OK)
		return rc;
	s.available = total_effective(g, n);
	s.order = sorted_desc(g, n);
	s.sel = malloc((n ? n : 1) * sizeof(*s.sel));
	best = malloc((n ? n : 1) * sizeof(*best));
	if (!s.order || !s.sel || !best) {
		rc = CS_NOMEM;
		goto out;
	}
	high_feerate = n && g[s.order[0]].fee > g[s.order[0]].long_term_fee;
	for (tries = 0; tries < max_tries; tries++, pos++) {
		bool back = false;

		if (s.value + s.available < target || s.value > target + cost_of_change ||
		    (s.waste > best_waste && high_feerate)) {
			back = true;
		} else if (s.value >= target) {
			/* Within the window: no change, the excess is waste. */
			int64_t w = s.waste + s.value - target;

			if (w <= best_waste) {
				best_waste = w;
				memcpy(best, s.sel, s.n_sel * sizeof(*best));
				n_best = s.n_sel;
				found = true;
			}
			back = true;
		}
		if (back) {
			if (!bnb_backtrack(&s, &pos))
				break;
			continue;
		}
		{
			const struct cs_group *u = &g[s.order[pos]];
			const struct cs_group *prev = pos ? &g[s.order[pos - 1]] : NULL;

			s.available -= u->effective_value;
			/* An equal group right after one just left out would
			 * only repeat that branch. */
			if (s.n_sel == 0 || pos - 1 == s.sel[s.n_sel - 1] ||
			    u->effective_value != prev->effective_value || u->fee != prev->fee) {
				s.sel[s.n_sel++] = pos;
				s.value += u->effective_value;
				s.waste += u->fee - u->long_term_fee;
			}
		}
	}
	r->tries = tries;
	r->completed = tries < max_tries;
	if (!found) {
		rc = CS_NO_SOLUTION;
		goto out;
	}
	for (size_t i = 0; i < n_best; i++)
		result_add(r, &g[s.order[best[i]]], s.order[best[i]]);
out:
	free((void *)s.order);
	free(s.sel);
	free(best);
	return rc;
}

/* ---- CoinGrinder -------------------------------------------------------------- */

/*
 * Depth-first over groups by descending effective value: the selection
 * covering the target with the fewest input bytes (ties: the smaller
 * value, less excess). A branch is cut when it already weighs at least
 * the best, or when the rest cannot reach the target.
 */
int coinselection_coingrinder(const struct cs_group *g, size_t n, int64_t target,
			      int64_t change_target_cg, int64_t max_input_bytes, size_t max_tries,
			      struct cs_result *r)
{
	size_t *order, *sel, *best, n_sel = 0, n_best = 0, pos = 0, tries;
	int64_t total = target + change_target_cg, value = 0, bytes = 0;
	int64_t best_bytes = max_input_bytes > 0 ? max_input_bytes + 1 : INT64_MAX;
	int64_t best_value = INT64_MAX, available;
	int rc = algo_start(r, CS_ALGO_COINGRINDER, g, n, target);

	if (rc != CS_OK)
		return rc;
	available = total_effective(g, n);
	order = sorted_desc(g, n);
	sel = malloc((n ? n : 1) * sizeof(*sel));
	best = malloc((n ? n : 1) * sizeof(*best));
	if (!order || !sel || !best) {
		rc = CS_NOMEM;
		goto out;
	}
	for (tries = 0; tries < max_tries; tries++) {
		bool back;

		if (value >= total) {
			if (bytes < best_bytes || (bytes == best_bytes && value < best_value)) {
				best_bytes = bytes;
				best_value = value;
				memcpy(best, sel, n_sel * sizeof(*best));
				n_best = n_sel;
			}
			back = true;
		} else {
			back = pos >= n || value + available < total || bytes >= best_bytes;
		}
		if (!back) {
			/* Include the next group. */
			const struct cs_group *u = &g[order[pos]];

			available -= u->effective_value;
			sel[n_sel++] = pos++;
			value += u->effective_value;
			bytes += u->input_bytes;
			continue;
		}
		/* Undo the last inclusion and take the exclusion branch. */
		while (pos > 0 && (n_sel == 0 || sel[n_sel - 1] != pos - 1))
			available += g[order[--pos]].effective_value;
		if (n_sel == 0)
			break;
		pos = sel[--n_sel];
		value -= g[order[pos]].effective_value;
		bytes -= g[order[pos]].input_bytes;
		pos++;
	}
	r->tries = tries;
	r->completed = tries < max_tries;
	if (n_best == 0) {
		rc = CS_NO_SOLUTION;
		goto out;
	}
	for (size_t i = 0; i < n_best; i++)
		result_add(r, &g[order[best[i]]], order[best[i]]);
out:
	free(order);
	free(sel);
	free(best);
	return rc;
}

/* ---- Knapsack ------------------------------------------------------------------ */

/* 0..n-1 in random order (Fisher-Yates), malloc'd; NULL if no memory. */
static size_t *shuffled(size_t n, struct cs_rng *rng)
{
	size_t *v = malloc((n ? n : 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)coinselection_rng_below(rng, i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
	return v;
}

/*
 * Bitcoin's ApproximateBestSubset: random inclusion passes, keeping the
 * smallest total that reaches the target. best[] marks the subset of
 * apps (groups by index) and *best_total its sum.
 */
static void approximate_best_subset(const struct cs_group *g, const size_t *apps, size_t n,
				    int64_t total_lower, int64_t target, bool *best,
				    int64_t *best_total, bool *inc, struct cs_rng *rng)
{
	for (size_t i = 0; i < n; i++)
		best[i] = true;
	*best_total = total_lower;
	for (int rep = 0; rep < CS_KNAPSACK_ITERATIONS && *best_total != target; rep++) {
		int64_t total = 0;
		bool reached = false;

		memset(inc, 0, n * sizeof(*inc));
		for (int pass = 0; pass < 2 && !reached; pass++)
			for (size_t i = 0; i < n; i++) {
				if (pass == 0 ? !(coinselection_rng_next(rng) & 1) : inc[i])
					continue;
				total += g[apps[i]].effective_value;
				inc[i] = true;
				if (total >= target) {
					reached = true;
					if (total < *best_total) {
						*best_total = total;
						memcpy(best, inc, n * sizeof(*best));
					}
					total -= g[apps[i]].effective_value;
					inc[i] = false;
				}
			}
	}
}

static int knapsack_pick(const struct cs_group *g, size_t *apps, size_t n_apps,
			 int64_t total_lower, int64_t target, int64_t change_target,
			 ptrdiff_t lowest_larger, struct cs_rng *rng, struct cs_result *r)
{
	bool *best = malloc((n_apps ? n_apps : 1) * sizeof(*best));
	bool *inc = malloc((n_apps ? n_apps : 1) * sizeof(*inc));
	int64_t best_total;

	if (!best || !inc) {
		free(best);
		free(inc);
		return CS_NOMEM;
	}
	sort_groups = g;
	qsort(apps, n_apps, sizeof(*apps), cmp_desc);
	approximate_best_subset(g, apps, n_apps, total_lower, target, best, &best_total, inc, rng);
	if (best_total != target && total_lower >= target + change_target)
		approximate_best_subset(g, apps, n_apps, total_lower, target + change_target, best,
					&best_total, inc, rng);
	if (lowest_larger >= 0 &&
	    ((best_total != target && best_total < target + change_target) ||
	     g[lowest_larger].effective_value <= best_total)) {
		result_add(r, &g[lowest_larger], (size_t)lowest_larger);
	} else {
		for (size_t i = 0; i < n_apps; i++)
			if (best[i])
				result_add(r, &g[apps[i]], apps[i]);
	}
	free(best);
	free(inc);
	return CS_OK;
}

int coinselection_knapsack(const struct cs_group *g, size_t n, int64_t target, int64_t change_target,
			   struct cs_rng *rng, struct cs_result *r)
{
	size_t *idx, *apps, n_apps = 0;
	ptrdiff_t lowest_larger = -1;
	int64_t total_lower = 0;
	int rc = algo_start(r, CS_ALGO_KNAPSACK, g, n, target);

	if (rc != CS_OK)
		return rc;
	idx = shuffled(n, rng);
	apps = malloc((n ? n : 1) * sizeof(*apps));
	if (!idx || !apps) {
		rc = CS_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		int64_t v = g[i].effective_value;

		if (v == target) {
			result_add(r, &g[i], i);
			goto out;
		}
		if (v < target + change_target) {
			apps[n_apps++] = i;
			total_lower += v;
		} else if (lowest_larger < 0 || v < g[lowest_larger].effective_value) {
			lowest_larger = (ptrdiff_t)i;
		}
	}
	if (total_lower == target) {
		for (size_t k = 0; k < n_apps; k++)
			result_add(r, &g[apps[k]], apps[k]);
	} else if (total_lower < target) {
		if (lowest_larger < 0)
			rc = CS_NO_SOLUTION;
		else
			result_add(r, &g[lowest_larger], (size_t)lowest_larger);
	} else {
		rc = knapsack_pick(g, apps, n_apps, total_lower, target, change_target,
				   lowest_larger, rng, r);
	}
out:
	free(idx);
	free(apps);
	return rc;
}

/* ---- Single Random Draw ---------------------------------------------------------- */

int coinselection_srd(const struct cs_group *g, size_t n, int64_t target, int64_t change_fee,
		      int64_t max_input_bytes, struct cs_rng *rng, struct cs_result *r)
{
	int64_t goal = target + CS_CHANGE_LOWER + change_fee, value = 0, bytes = 0;
	size_t *idx, *held, n_held = 0;
	int rc = algo_start(r, CS_ALGO_SRD, g, n, target);

	if (rc != CS_OK)
		return rc;
	idx = shuffled(n, rng);
	held = malloc((n ? n : 1) * sizeof(*held));
	if (!idx || !held) {
		rc = CS_NOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		held[n_held++] = idx[k];
		value += g[idx[k]].effective_value;
		bytes += g[idx[k]].input_bytes;
		/* Too heavy: drop the least valuable group drawn so far. */
		while (max_input_bytes > 0 && bytes > max_input_bytes) {
			size_t m = 0;

			for (size_t j = 1; j < n_held; j++)
				if (g[held[j]].effective_value < g[held[m]].effective_value)
					m = j;
			value -= g[held[m]].effective_value;
			bytes -= g[held[m]].input_bytes;
			held[m] = held[--n_held];
		}
		if (value >= goal) {
			for (size_t j = 0; j < n_held; j++)
				result_add(r, &g[held[j]], held[j]);
			goto out;
		}
	}
	rc = CS_NO_SOLUTION;
out:
	free(idx);
	free(held);
	return rc;
}

/* ---- Choosing --------------------------------------------------------------------- */

const char *coinselection_algo_name(enum cs_algo a)
{
	switch (a) {
	case CS_ALGO_BNB:
		return "bnb";
	case CS_ALGO_COINGRINDER:
		return "coingrinder";
	case CS_ALGO_KNAPSACK:
		return "knapsack";
	case CS_ALGO_SRD:
		return "srd";
	case CS_ALGO_MANUAL:
		return "manual";
	}
	return "unknown";
}

/* Is a better than b? Less waste, then more inputs. */
static bool better(const struct cs_result *a, const struct cs_result *b)
{
	if (a->waste != b->waste)
		return a->waste < b->waste;
	return a->n_inputs > b->n_inputs;
}

int coinselection_select(const struct cs_group *g, size_t n, int64_t target, const struct cs_params *p,
			 struct cs_rng *rng, struct cs_result *best)
{
	bool have = false, nomem = false;

	memset(best, 0, sizeof(*best));
	if (total_effective(g, n) < target)
		return CS_INSUFFICIENT;
	for (int a = CS_ALGO_BNB; a <= CS_ALGO_SRD; a++) {
		struct cs_result r;
		int rc;

		switch (a) {
		case CS_ALGO_BNB:
			rc = coinselection_bnb(g, n, target, p->cost_of_change, CS_BNB_MAX_TRIES, &r);
			break;
		case CS_ALGO_COINGRINDER:
			if (p->feerate <= 3 * p->long_term_feerate)
				continue;
			rc = coinselection_coingrinder(g, n, target, p->change_target, p->max_input_bytes,
						       CS_COINGRINDER_MAX_TRIES, &r);
			break;
		case CS_ALGO_KNAPSACK:
			rc = coinselection_knapsack(g, n, target, p->change_target, rng, &r);
			break;
		default:
			rc = coinselection_srd(g, n, target, p->change_fee, p->max_input_bytes, rng, &r);
			break;
		}
		nomem |= rc == CS_NOMEM;
		if (rc != CS_OK || (p->max_input_bytes > 0 && r.input_bytes > p->max_input_bytes)) {
			coinselection_result_free(&r);
			continue;
		}
		coinselection_result_finish(&r, p);
		if (!have || better(&r, best)) {
			coinselection_result_free(best);
			*best = r;
			have = true;
		} else {
			coinselection_result_free(&r);
		}
	}
	if (have)
		return CS_OK;
	return nomem ? CS_NOMEM : CS_NO_SOLUTION;
}
