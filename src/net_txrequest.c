/*
 * net_txrequest.c — the transaction request tracker.
 *
 * A chained hash table of txids; each holds its announcements in arrival
 * order. The table is keyed with a random seed so that chosen txids cannot
 * pile into one chain. Per-peer counts are a short array (one entry per
 * announcing peer) so the per-peer limit costs no scan of every txid.
 */
#include "net_txrequest.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TXREQ_BUCKETS 16384 /* a power of two */

enum ann_state { ANN_CANDIDATE, ANN_REQUESTED, ANN_COMPLETED };

struct ann {
	int64_t peer;
	int64_t reqtime_us; /* eligible from */
	int64_t expiry_us;  /* REQUESTED: given up at */
	bool preferred;
	enum ann_state state;
};

struct txreq_tx {
	uint8_t txid[32];
	struct ann *anns; /* arrival order */
	size_t n, cap;
	struct txreq_tx *next;
};

struct peer_count {
	int64_t peer;
	size_t n;
};

static struct {
	struct txreq_tx *buckets[TXREQ_BUCKETS];
	uint64_t seed;
	struct peer_count *counts;
	size_t ncounts, capcounts;
	size_t total;
} tr;

static struct txreq_tx **bucket_of(const uint8_t txid[32])
{
	uint64_t h;

	if (!tr.seed)
		tr.seed = util_random_u64() | 1;
	memcpy(&h, txid, sizeof(h));
	h ^= tr.seed;
	h *= 0x9e3779b97f4a7c15ULL;
	return &tr.buckets[(h >> 32) & (TXREQ_BUCKETS - 1)];
}

static struct txreq_tx *find_tx(const uint8_t txid[32])
{
	struct txreq_tx *t = *bucket_of(txid);

	while (t && memcmp(t->txid, txid, 32) != 0)
		t = t->next;
	return t;
}

static struct peer_count *count_of(int64_t peer, bool create)
{
	for (size_t i = 0; i < tr.ncounts; i++) {
		if (tr.counts[i].peer == peer)
			return &tr.counts[i];
	}
	if (!create)
		return NULL;
	if (tr.ncounts == tr.capcounts) {
		size_t cap = tr.capcounts ? 2 * tr.capcounts : 16;
		struct peer_count *c = realloc(tr.counts, cap * sizeof(*c));
		if (!c)
			return NULL;
		tr.counts = c;
		tr.capcounts = cap;
	}
	tr.counts[tr.ncounts] = (struct peer_count){ peer, 0 };
	return &tr.counts[tr.ncounts++];
}

static void count_add(int64_t peer, long delta)
{
	struct peer_count *c = count_of(peer, false);

	if (!c)
		return;
	c->n = (size_t)((long)c->n + delta);
	tr.total = (size_t)((long)tr.total + delta);
	if (c->n == 0)
		*c = tr.counts[--tr.ncounts];
}

static void free_tx(struct txreq_tx *t)
{
	for (size_t i = 0; i < t->n; i++)
		count_add(t->anns[i].peer, -1);
	free(t->anns);
	free(t);
}

/* Unlink and free the txid's entry. */
static void remove_tx(const uint8_t txid[32])
{
	struct txreq_tx **pp = bucket_of(txid);

	while (*pp && memcmp((*pp)->txid, txid, 32) != 0)
		pp = &(*pp)->next;
	if (*pp) {
		struct txreq_tx *t = *pp;
		*pp = t->next;
		free_tx(t);
	}
}

bool net_txrequest_announced(int64_t peer, const uint8_t txid[32], bool preferred, int64_t now_us)
{
	struct txreq_tx *t = find_tx(txid);
	struct peer_count *c = count_of(peer, false);

	if (c && c->n >= TXREQ_MAX_PER_PEER)
		return false;
	for (size_t i = 0; t && i < t->n; i++) {
		if (t->anns[i].peer == peer)
			return false;
	}
	if (!t) {
		struct txreq_tx **b = bucket_of(txid);
		t = calloc(1, sizeof(*t));
		if (!t)
			return false;
		memcpy(t->txid, txid, 32);
		t->next = *b;
		*b = t;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4;
		struct ann *a = realloc(t->anns, cap * sizeof(*a));
		if (a) {
			t->anns = a;
			t->cap = cap;
		}
	}
	c = count_of(peer, true);
	if (!c || t->n == t->cap) {
		if (!t->n)
			remove_tx(txid);
		return false;
	}
	t->anns[t->n++] = (struct ann){ peer,
		now_us + (preferred ? 0 : TXREQ_INBOUND_DELAY_US), 0, preferred, ANN_CANDIDATE };
	c->n++;
	tr.total++;
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

size_t net_txrequest_next(int64_t peer, int64_t now_us, uint8_t (*out)[32], size_t max)
{
	size_t n = 0;

	if (!count_of(peer, false))
		return 0;
	for (size_t b = 0; b < TXREQ_BUCKETS && n < max; b++) {
		for (struct txreq_tx *t = tr.buckets[b]; t && n < max; t = t->next) {
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
	}
	return n;
}

void net_txrequest_notfound(int64_t peer, const uint8_t txid[32])
{
	struct txreq_tx *t = find_tx(txid);

	for (size_t i = 0; t && i < t->n; i++) {
		if (t->anns[i].peer == peer && t->anns[i].state == ANN_REQUESTED)
			t->anns[i].state = ANN_COMPLETED;
	}
}

void net_txrequest_forget(const uint8_t txid[32])
{
	remove_tx(txid);
}

void net_txrequest_peer_gone(int64_t peer)
{
	if (!count_of(peer, false))
		return;
	for (size_t b = 0; b < TXREQ_BUCKETS; b++) {
		struct txreq_tx **pp = &tr.buckets[b];
		while (*pp) {
			struct txreq_tx *t = *pp;
			for (size_t i = 0; i < t->n;) {
				if (t->anns[i].peer == peer) {
					memmove(&t->anns[i], &t->anns[i + 1],
						(t->n - i - 1) * sizeof(t->anns[0]));
					t->n--;
					count_add(peer, -1);
				} else {
					i++;
				}
			}
			if (t->n == 0) {
				*pp = t->next;
				free_tx(t);
			} else {
				pp = &t->next;
			}
		}
	}
}

size_t net_txrequest_count(int64_t peer)
{
	struct peer_count *c;

	if (peer < 0)
		return tr.total;
	c = count_of(peer, false);
	return c ? c->n : 0;
}

void net_txrequest_shutdown(void)
{
	for (size_t b = 0; b < TXREQ_BUCKETS; b++) {
		while (tr.buckets[b]) {
			struct txreq_tx *t = tr.buckets[b];
			tr.buckets[b] = t->next;
			free_tx(t);
		}
	}
	free(tr.counts);
	tr.counts = NULL;
	tr.ncounts = tr.capcounts = 0;
	tr.total = 0;
}
