/*
 * banman.c — discouraged IPs as a small array; expired entries are
 * removed lazily on lookup.
 */
#include "banman.h"

#include <stdlib.h>

/* Bound on memory an attacker with many IPs can make us spend. */
#define BANMAN_MAX_ENTRIES 100000

struct ban {
	struct netaddr addr;
	int64_t until;
};

struct banman {
	struct ban *bans;
	size_t n, cap;
};

struct banman *banman_new(void)
{
	return calloc(1, sizeof(struct banman));
}

void banman_free(struct banman *bm)
{
	if (!bm)
		return;
	free(bm->bans);
	free(bm);
}

static void expire(struct banman *bm, int64_t now_s)
{
	size_t j = 0;

	for (size_t i = 0; i < bm->n; i++) {
		if (bm->bans[i].until > now_s)
			bm->bans[j++] = bm->bans[i];
	}
	bm->n = j;
}

int banman_discourage(struct banman *bm, const struct netaddr *a, int64_t now_s,
		      int64_t seconds)
{
	int64_t until = now_s + seconds;

	expire(bm, now_s);
	for (size_t i = 0; i < bm->n; i++) {
		if (netaddr_same_ip(&bm->bans[i].addr, a)) {
			if (until > bm->bans[i].until)
				bm->bans[i].until = until;
			return 0;
		}
	}
	if (bm->n == BANMAN_MAX_ENTRIES)
		return -1;
	if (bm->n == bm->cap) {
		size_t cap = bm->cap ? 2 * bm->cap : 16;
		struct ban *b = realloc(bm->bans, cap * sizeof(*b));

		if (!b)
			return -1;
		bm->bans = b;
		bm->cap = cap;
	}
	bm->bans[bm->n++] = (struct ban){ *a, until };
	return 0;
}

bool banman_is_discouraged(struct banman *bm, const struct netaddr *a, int64_t now_s)
{
	expire(bm, now_s);
	for (size_t i = 0; i < bm->n; i++) {
		if (netaddr_same_ip(&bm->bans[i].addr, a))
			return true;
	}
	return false;
}
