/*
 * banman.c — discouraged IPs as an array with a hash index over it, so a
 * lookup (every inbound connection) and a discouragement cost O(1) even
 * with the list full. Expired entries are removed lazily, and only when
 * the earliest expiry has passed.
 */
#include "banman.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Bound on memory an attacker with many IPs can make us spend. */
#define BANMAN_MAX_ENTRIES 100000

struct ban {
	struct netaddr addr;
	int64_t until;
};

struct banman {
	struct ban *bans;
	size_t n, cap;
	uint32_t *index;     /* open addressing: position in bans + 1; 0 empty */
	size_t index_mask;   /* slots - 1 (a power of two, > 2 * cap) */
	uint64_t seed;       /* keys the hash against chosen collisions */
	int64_t next_expiry; /* no entry expires before this second */
};

struct banman *banman_new(void)
{
	struct banman *bm = calloc(1, sizeof(struct banman));

	if (!bm)
		return NULL;
	bm->seed = util_random_u64();
	bm->next_expiry = INT64_MAX;
	return bm;
}

void banman_free(struct banman *bm)
{
	if (!bm)
		return;
	free(bm->bans);
	free(bm->index);
	free(bm);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static size_t slot_of(const struct banman *bm, const struct netaddr *a)
{
	uint64_t lo, hi;

	memcpy(&lo, a->ip, 8);
	memcpy(&hi, a->ip + 8, 8);
	return (size_t)(mix(mix(lo ^ bm->seed) ^ hi) & bm->index_mask);
}

/* Position of a's IP in bans, or -1. */
static long find(const struct banman *bm, const struct netaddr *a)
{
	if (!bm->index)
		return -1;
	for (size_t i = slot_of(bm, a); bm->index[i]; i = (i + 1) & bm->index_mask) {
		if (netaddr_same_ip(&bm->bans[bm->index[i] - 1].addr, a))
			return (long)bm->index[i] - 1;
	}
	return -1;
}

static void index_add(struct banman *bm, size_t pos)
{
	size_t i = slot_of(bm, &bm->bans[pos].addr);

	while (bm->index[i])
		i = (i + 1) & bm->index_mask;
	bm->index[i] = (uint32_t)(pos + 1);
}

static void index_rebuild(struct banman *bm)
{
	memset(bm->index, 0, (bm->index_mask + 1) * sizeof(*bm->index));
	for (size_t i = 0; i < bm->n; i++)
		index_add(bm, i);
}

static void expire(struct banman *bm, int64_t now_s)
{
	size_t j = 0;

	if (now_s < bm->next_expiry)
		return;
	bm->next_expiry = INT64_MAX;
	for (size_t i = 0; i < bm->n; i++) {
		if (bm->bans[i].until > now_s) {
			if (bm->bans[i].until < bm->next_expiry)
				bm->next_expiry = bm->bans[i].until;
			bm->bans[j++] = bm->bans[i];
		}
	}
	if (j != bm->n) {
		bm->n = j;
		index_rebuild(bm);
	}
}

/* Room for one more entry. 0 or -1 (out of memory). */
static int grow(struct banman *bm)
{
	size_t cap = bm->cap ? 2 * bm->cap : 16, slots = 64;
	struct ban *b;
	uint32_t *index;

	while (slots <= 2 * cap)
		slots *= 2;
	index = calloc(slots, sizeof(*index));
	if (!index)
		return -1;
	b = realloc(bm->bans, cap * sizeof(*b));
	if (!b) {
		free(index);
		return -1;
	}
	free(bm->index);
	bm->bans = b;
	bm->cap = cap;
	bm->index = index;
	bm->index_mask = slots - 1;
	index_rebuild(bm);
	return 0;
}

int banman_discourage(struct banman *bm, const struct netaddr *a, int64_t now_s,
		      int64_t seconds)
{
	int64_t until = now_s + seconds;
	long i;

	expire(bm, now_s);
	i = find(bm, a);
	if (i >= 0) {
		if (until > bm->bans[i].until)
			bm->bans[i].until = until;
		return 0;
	}
	if (bm->n == BANMAN_MAX_ENTRIES)
		return -1;
	if (bm->n == bm->cap && grow(bm) < 0)
		return -1;
	bm->bans[bm->n] = (struct ban){ *a, until };
	index_add(bm, bm->n++);
	if (until < bm->next_expiry)
		bm->next_expiry = until;
	return 0;
}

bool banman_is_discouraged(struct banman *bm, const struct netaddr *a, int64_t now_s)
{
	expire(bm, now_s);
	return find(bm, a) >= 0;
}
