/*
 * banman.c — discouraged IPs in the daemon's hash map (keyed by the 16-byte
 * IP, with a secret seed against chosen collisions), so a lookup (every
 * inbound connection) and a discouragement cost O(1) even with the list
 * full. Expired entries are removed lazily, and only when the earliest
 * expiry has passed.
 */
#include "banman.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* Bound on memory an attacker with many IPs can make us spend. */
#define BANMAN_MAX_ENTRIES 100000

struct ban {
	struct hashmap_node node;
	uint8_t ip[16];
	int64_t until;
};

struct banman {
	struct hashmap *bans;
	int64_t next_expiry; /* no entry expires before this second */
};

struct banman *banman_new(void)
{
	struct banman *bm = calloc(1, sizeof(struct banman));

	if (!bm)
		return NULL;
	bm->bans = hashmap_new(HASHMAP_KEY_OFFSET(struct ban, node, ip), 16, 16);
	if (!bm->bans) {
		free(bm);
		return NULL;
	}
	bm->next_expiry = INT64_MAX;
	return bm;
}

/* Remove (and free) every entry that has expired at now_s; with
 * INT64_MAX, every entry. */
static void remove_until(struct banman *bm, int64_t now_s)
{
	struct hashmap_iter it;
	struct hashmap_node *n;

	bm->next_expiry = INT64_MAX;
	hashmap_iter_init(&it, bm->bans);
	while ((n = hashmap_iter_next(&it))) {
		struct ban *b = HASHMAP_ENTRY(n, struct ban, node);

		if (b->until <= now_s) {
			hashmap_remove(bm->bans, n);
			free(b);
		} else if (b->until < bm->next_expiry) {
			bm->next_expiry = b->until;
		}
	}
}

void banman_free(struct banman *bm)
{
	if (!bm)
		return;
	remove_until(bm, INT64_MAX);
	hashmap_free(bm->bans);
	free(bm);
}

static void expire(struct banman *bm, int64_t now_s)
{
	if (now_s >= bm->next_expiry)
		remove_until(bm, now_s);
}

static struct ban *find(const struct banman *bm, const struct netaddr *a)
{
	struct hashmap_node *n = hashmap_find(bm->bans, a->ip);

	return n ? HASHMAP_ENTRY(n, struct ban, node) : NULL;
}

int banman_discourage(struct banman *bm, const struct netaddr *a, int64_t now_s,
		      int64_t seconds)
{
	int64_t until = now_s + seconds;
	struct ban *b;

	expire(bm, now_s);
	b = find(bm, a);
	if (b) {
		if (until > b->until)
			b->until = until;
		return 0;
	}
	if (hashmap_count(bm->bans) == BANMAN_MAX_ENTRIES || !(b = malloc(sizeof(*b))))
		return -1;
	memcpy(b->ip, a->ip, sizeof(b->ip));
	b->until = until;
	hashmap_add(bm->bans, &b->node);
	if (until < bm->next_expiry)
		bm->next_expiry = until;
	return 0;
}

bool banman_is_discouraged(struct banman *bm, const struct netaddr *a, int64_t now_s)
{
	expire(bm, now_s);
	return find(bm, a) != NULL;
}
