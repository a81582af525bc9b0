/*
 * net_evict.c — the inbound eviction policy as a pure function.
 *
 * Each protection step sorts a working copy by its own criterion and marks
 * the first k unprotected entries; whoever is never marked is a candidate
 * for eviction. Ties always fall back to age (older first), so the result
 * is deterministic for a given input.
 */
#include "net_evict.h"

#include <stdbool.h>
#include <stdlib.h>

struct work {
	const struct evict_candidate *c;
	size_t idx;
	bool protected;
};

/* Older first: earlier connection time, then lower id. */
static int cmp_age(const struct evict_candidate *a, const struct evict_candidate *b)
{
	if (a->connected_us != b->connected_us)
		return a->connected_us < b->connected_us ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int by_age(const void *x, const void *y)
{
	return cmp_age(((const struct work *)x)->c, ((const struct work *)y)->c);
}

/* Measured pings first, lowest first; then age. */
static int by_ping(const void *x, const void *y)
{
	const struct evict_candidate *a = ((const struct work *)x)->c;
	const struct evict_candidate *b = ((const struct work *)y)->c;
	bool ha = a->min_ping_us >= 0, hb = b->min_ping_us >= 0;

	if (ha != hb)
		return ha ? -1 : 1;
	if (ha && a->min_ping_us != b->min_ping_us)
		return a->min_ping_us < b->min_ping_us ? -1 : 1;
	return cmp_age(a, b);
}

/* Most recent useful activity first; then age. */
static int by_useful(const void *x, const void *y)
{
	const struct evict_candidate *a = ((const struct work *)x)->c;
	const struct evict_candidate *b = ((const struct work *)y)->c;

	if (a->last_useful_us != b->last_useful_us)
		return a->last_useful_us > b->last_useful_us ? -1 : 1;
	return cmp_age(a, b);
}

/* Unprotected first, grouped by network group, older first in a group. */
static int by_group(const void *x, const void *y)
{
	const struct work *a = x, *b = y;

	if (a->protected != b->protected)
		return a->protected ? 1 : -1;
	if (a->c->netgroup != b->c->netgroup)
		return a->c->netgroup < b->c->netgroup ? -1 : 1;
	return cmp_age(a->c, b->c);
}

/* Protect the longest-connected peer of up to k distinct groups. */
static void protect_netgroups(struct work *w, size_t n, size_t k)
{
	uint64_t seen[EVICT_PROTECT_NETGROUPS];
	size_t nseen = 0;

	qsort(w, n, sizeof(*w), by_age);
	for (size_t i = 0; i < n && nseen < k; i++) {
		size_t j = 0;

		while (j < nseen && seen[j] != w[i].c->netgroup)
			j++;
		if (j == nseen) {
			seen[nseen++] = w[i].c->netgroup;
			w[i].protected = true;
		}
	}
}

/* Protect the first k unprotected entries in `order` that pass `eligible`. */
static void protect_first(struct work *w, size_t n, size_t k,
			  int (*order)(const void *, const void *),
			  bool (*eligible)(const struct evict_candidate *))
{
	qsort(w, n, sizeof(*w), order);
	for (size_t i = 0; i < n && k > 0; i++) {
		if (!w[i].protected && (!eligible || eligible(w[i].c))) {
			w[i].protected = true;
			k--;
		}
	}
}

static bool has_ping(const struct evict_candidate *c)
{
	return c->min_ping_us >= 0;
}

static bool was_useful(const struct evict_candidate *c)
{
	return c->last_useful_us > 0;
}

static size_t count_unprotected(const struct work *w, size_t n)
{
	size_t r = 0;

	for (size_t i = 0; i < n; i++)
		r += !w[i].protected;
	return r;
}

/*
 * With the unprotected entries sorted first by group (by_group): the
 * youngest member of the largest group; ties go to the group whose
 * youngest member is younger.
 */
static long pick_victim(struct work *w, size_t n)
{
	size_t r = count_unprotected(w, n), best = 0, best_size = 0;

	qsort(w, n, sizeof(*w), by_group);
	for (size_t i = 0; i < r;) {
		size_t j = i;

		while (j < r && w[j].c->netgroup == w[i].c->netgroup)
			j++;
		/* w[j-1] is the group's youngest (sorted older first). */
		if (j - i > best_size ||
		    (j - i == best_size && cmp_age(w[j - 1].c, w[best].c) > 0)) {
			best_size = j - i;
			best = j - 1;
		}
		i = j;
	}
	return best_size ? (long)w[best].idx : -1;
}

/*
 * Core: if any peer left is preferred for eviction (connected from a
 * discouraged address), only those are considered. This comes after the
 * protections, so a peer that is the best by another measure stays.
 */
static void protect_unless_preferred(struct work *w, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any |= !w[i].protected && w[i].c->prefer_evict;
	for (size_t i = 0; any && i < n; i++) {
		if (!w[i].c->prefer_evict)
			w[i].protected = true;
	}
}

long net_evict_select(const struct evict_candidate *c, size_t n)
{
	struct work *w;
	long victim;

	if (n == 0)
		return -1;
	w = calloc(n, sizeof(*w));
	if (!w)
		return -1;
	for (size_t i = 0; i < n; i++)
		w[i] = (struct work){ &c[i], i, false };
	protect_netgroups(w, n, EVICT_PROTECT_NETGROUPS);
	protect_first(w, n, EVICT_PROTECT_PING, by_ping, has_ping);
	protect_first(w, n, EVICT_PROTECT_USEFUL, by_useful, was_useful);
	protect_first(w, n, count_unprotected(w, n) / 2, by_age, NULL);
	protect_unless_preferred(w, n);
	victim = pick_victim(w, n);
	free(w);
	return victim;
}
