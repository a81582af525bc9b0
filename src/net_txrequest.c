/*
 * net_txrequest.c — the transaction request tracker.
 *
 * The daemon's hash map of txids (hashmap.h, seeded so that chosen txids
 * cannot pile into one chain); each txid holds its announcements in
 * arrival order. Per-peer counts are a short array (one entry per
 * announcing peer) so the per-peer limit costs no scan of every txid.
 */
#include "net_txrequest.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

enum ann_state { ANN_CANDIDATE, ANN_REQUESTED, ANN_COMPLETED };

struct ann {
	int64_t peer;
	int64_t reqtime_us; /* eligible from */
	int64_t expiry_us;  /* REQUESTED: given up at */
	bool preferred;
	enum ann_state state;
};

/* A txid and its announcements, in the map by txid. */
struct txreq_tx {
	struct hashmap_node node;
	uint8_t txid[32];
	struct ann *anns; /* arrival order */
	size_t n, cap;
};

struct peer_count {
	int64_t peer;
	size_t n;
};

struct net_txrequest {
	struct hashmap *txs;
	struct peer_count *counts;
	size_t ncounts, capcounts;
	size_t total;
};

struct net_txrequest *net_txrequest_new(void)
{
	struct net_txrequest *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->txs = hashmap_new(HASHMAP_KEY_OFFSET(struct txreq_tx, node, txid), 32, 1024);
	if (!tr->txs) {
		free(tr);
		return NULL;
	}
	return tr;
}

static struct txreq_tx *find_tx(const struct net_txrequest *tr, const uint8_t txid[32])
{
	struct hashmap_node *n = hashmap_find(tr->txs, txid);

	return n ? HASHMAP_ENTRY(n, struct txreq_tx, node) : NULL;
}

static struct peer_count *count_of(struct net_txrequest *tr, int64_t peer, bool create)
{
	for (size_t i = 0; i < tr->ncounts; i++) {
		if (tr->counts[i].peer == peer)
			return &tr->counts[i];
	}
	if (!create)
		return NULL;
	if (tr->ncounts == tr->capcounts) {
		size_t cap = tr->capcounts ? 2 * tr->capcounts : 16;
		struct peer_count *c = realloc(tr->counts, cap * sizeof(*c));
		if (!c)
			return NULL;
		tr->counts = c;
		tr->capcounts = cap;
	}
	tr->counts[tr->ncounts] = (struct peer_count){ peer, 0 };
	return &tr->counts[tr->ncounts++];
}

static void count_add(struct net_txrequest *tr, int64_t peer, long delta)
{
	struct peer_count *c = count_of(tr, peer, false);

	if (!c)
		return;
	c->n = (size_t)((long)c->n + delta);
	tr->total = (size_t)((long)tr->total + delta);
	if (c->n == 0)
		*c = tr->counts[--tr->ncounts];
}

static void free_tx(struct net_txrequest *tr, struct txreq_tx *t)
{
	for (size_t i = 0; i < t->n; i++)
		count_add(tr, t->anns[i].peer, -1);
	free(t->anns);
	free(t);
}

/* Unlink and free t. */
static void remove_tx(struct net_txrequest *tr, struct txreq_tx *t)
{
	hashmap_remove(tr->txs, &t->node);
	free_tx(tr, t);
}

bool net_txrequest_announced(struct net_txrequest *tr, int64_t peer, const uint8_t txid[32],
			     bool preferred, int64_t now_us)
{
	struct txreq_tx *t = find_tx(tr, txid);
	struct peer_count *c = count_of(tr, peer, false);

	if (c && c->n >= TXREQ_MAX_PER_PEER)
		return false;
	for (size_t i = 0; t && i < t->n; i++) {
		if (t->anns[i].peer == peer)
			return false;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return false;
		memcpy(t->txid, txid, 32);
		hashmap_add(tr->txs, &t->node);
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4;
		struct ann *a = realloc(t->anns, cap * sizeof(*a));
		if (a) {
			t->anns = a;
			t->cap = cap;
		}
	}
	c = count_of(tr, peer, true);
	if (!c || t->n == t->cap) {
		if (!t->n)
			remove_tx(tr, t);
		return false;
	}
	t->anns[t->n++] = (struct ann){ peer,
		now_us + (preferred ? 0 : TXREQ_INBOUND_DELAY_US), 0, preferred, ANN_CANDIDATE };
	c->n++;
	tr->total++;
	return true;
}

/* Give up expired requests; true if one is still outstanding. */
static bool expire(struct txreq_tx *t, int64_t now_us)
{
	bool requested = false;

	for (size_t i = 0; i < t->n; i++) {
		struct ann *a = &t->anns[i];
		if (a->state == ANN_REQUESTED && now_us >= a->expiry_us)
			a->state = ANN_COMPLETED;
		requested |= a->state == ANN_REQUESTED;
	}
	return requested;
}

/* The announcement whose turn it is: preferred before the rest, then
 * arrival order; only candidates already eligible. -1 if none. */
static long best_candidate(const struct txreq_tx *t, int64_t now_us)
{
	long best = -1;

	for (size_t i = 0; i < t->n; i++) {
		const struct ann *a = &t->anns[i];
		if (a->state != ANN_CANDIDATE || a->reqtime_us > now_us)
			continue;
		if (best < 0 || (a->preferred && !t->anns[best].preferred))
			best = (long)i;
	}
	return best;
}

size_t net_txrequest_next(struct net_txrequest *tr, int64_t peer, int64_t now_us, uint8_t (*out)[32],
			  size_t max)
{
	struct hashmap_iter it;
	struct hashmap_node *node;
	size_t n = 0;

	if (!count_of(tr, peer, false))
		return 0;
	hashmap_iter_init(&it, tr->txs);
	while (n < max && (node = hashmap_iter_next(&it))) {
		struct txreq_tx *t = HASHMAP_ENTRY(node, struct txreq_tx, node);
		long i;

		if (expire(t, now_us))
			continue;
		i = best_candidate(t, now_us);
		if (i < 0 || t->anns[i].peer != peer)
			continue;
		t->anns[i].state = ANN_REQUESTED;
		t->anns[i].expiry_us = now_us + TXREQ_TIMEOUT_US;
		memcpy(out[n++], t->txid, 32);
	}
	return n;
}

void net_txrequest_notfound(struct net_txrequest *tr, int64_t peer, const uint8_t txid[32])
{
	struct txreq_tx *t = find_tx(tr, txid);

	for (size_t i = 0; t && i < t->n; i++) {
		if (t->anns[i].peer == peer && t->anns[i].state == ANN_REQUESTED)
			t->anns[i].state = ANN_COMPLETED;
	}
}

void net_txrequest_forget(struct net_txrequest *tr, const uint8_t txid[32])
{
	struct txreq_tx *t = find_tx(tr, txid);

	if (t)
		remove_tx(tr, t);
}

void net_txrequest_peer_gone(struct net_txrequest *tr, int64_t peer)
{
	struct hashmap_iter it;
	struct hashmap_node *node;

	if (!count_of(tr, peer, false))
		return;
	hashmap_iter_init(&it, tr->txs);
	while ((node = hashmap_iter_next(&it))) {
		struct txreq_tx *t = HASHMAP_ENTRY(node, struct txreq_tx, node);

		for (size_t i = 0; i < t->n;) {
			if (t->anns[i].peer == peer) {
				memmove(&t->anns[i], &t->anns[i + 1],
					(t->n - i - 1) * sizeof(t->anns[0]));
				t->n--;
				count_add(tr, peer, -1);
			} else {
				i++;
			}
		}
		if (t->n == 0)
			remove_tx(tr, t); /* the iterator allows it */
	}
}

size_t net_txrequest_count(struct net_txrequest *tr, int64_t peer)
{
	struct peer_count *c;

	if (peer < 0)
		return tr->total;
	c = count_of(tr, peer, false);
	return c ? c->n : 0;
}

void net_txrequest_free(struct net_txrequest *tr)
{
	struct hashmap_iter it;
	struct hashmap_node *node;

	if (!tr)
		return;
	hashmap_iter_init(&it, tr->txs);
	while ((node = hashmap_iter_next(&it)))
		remove_tx(tr, HASHMAP_ENTRY(node, struct txreq_tx, node));
	hashmap_free(tr->txs);
	free(tr->counts);
	free(tr);
}
