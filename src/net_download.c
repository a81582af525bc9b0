/*
 * net_download.c — blocks in flight and the orphan block pool.
 *
 * A block in flight is an entry of its peer's own list (at most
 * DL_MAX_PER_PEER, so a peer that goes releases its blocks at once), and
 * that same entry is linked into the daemon's hash map by block hash (so
 * "is anyone sending this block?" costs O(1) while choosing among up to
 * DL_WINDOW candidates).
 */
#include "net_download.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "log.h"

struct dl_orphan {
	uint8_t hash[32], prev[32];
	uint8_t *bytes;
	size_t len;
	int64_t from;
};

struct net_download {
	struct chainstate *cs;
	struct hashmap *flights;  /* every peer's struct dl_flight, by hash */
	struct dl_orphan orphans[DL_ORPHAN_MAX];
	size_t n_orphans;   /* orphans[0] is the oldest */
	size_t orphan_bytes;
};

/* ---- Blocks in flight ---------------------------------------------------- */

static struct dl_flight *find_flight(const struct net_download *dl, const uint8_t hash[32])
{
	struct hashmap_node *n = hashmap_find(dl->flights, hash);

	return n ? HASHMAP_ENTRY(n, struct dl_flight, node) : NULL;
}

bool net_download_in_flight(const struct net_download *dl, const uint8_t hash[32])
{
	return find_flight(dl, hash) != NULL;
}

/* Drop entry k of d's own list. The last entry moves into its place, and
 * as the map links the entry itself, it is unlinked and linked again. */
static void flight_remove(struct net_download *dl, struct dl_peer *d, int k)
{
	int last = --d->n_in_flight;

	hashmap_remove(dl->flights, &d->in_flight[k].node);
	if (k == last)
		return;
	hashmap_remove(dl->flights, &d->in_flight[last].node);
	d->in_flight[k] = d->in_flight[last];
	hashmap_add(dl->flights, &d->in_flight[k].node);
}

static void mark_in_flight(struct net_download *dl, struct dl_peer *d, const uint8_t hash[32],
			   int64_t now_us)
{
	struct dl_flight *f = &d->in_flight[d->n_in_flight++];

	memcpy(f->hash, hash, 32);
	f->requested_us = now_us;
	f->owner = d;
	hashmap_add(dl->flights, &f->node);
}

/* ---- Peers -------------------------------------------------------------- */

struct net_download *net_download_new(struct chainstate *cs)
{
	struct net_download *dl = calloc(1, sizeof(*dl));

	if (!dl)
		return NULL;
	dl->cs = cs;
	dl->flights = hashmap_new(HASHMAP_KEY_OFFSET(struct dl_flight, node, hash), 32, 256);
	if (!dl->flights) {
		free(dl);
		return NULL;
	}
	return dl;
}

void net_download_peer_init(struct dl_peer *d, int64_t id)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
}

void net_download_peer_has(struct dl_peer *d, const struct block_index *bi)
{
	if (bi && (!d->best_known || u256_cmp(&bi->chainwork, &d->best_known->chainwork) > 0))
		d->best_known = bi;
}

bool net_download_block_done(struct net_download *dl, struct dl_peer *d, const uint8_t hash[32])
{
	struct dl_flight *f = find_flight(dl, hash);
	struct dl_peer *owner;

	if (!f)
		return false;
	owner = f->owner;
	flight_remove(dl, owner, (int)(f - owner->in_flight));
	return owner == d;
}

void net_download_peer_gone(struct net_download *dl, struct dl_peer *d)
{
	while (d->n_in_flight)
		flight_remove(dl, d, d->n_in_flight - 1);
	d->best_known = NULL;
}

bool net_download_peer_timed_out(const struct dl_peer *d, int64_t now_us, int64_t timeout_us)
{
	for (int k = 0; k < d->n_in_flight; k++) {
		if (now_us - d->in_flight[k].requested_us > timeout_us)
			return true;
	}
	return false;
}

/* Could this block be asked for now? */
static bool wanted(const struct net_download *dl, const struct block_index *bi)
{
	return !(bi->status & (BLOCK_HAVE_DATA | BLOCK_FAILED | BLOCK_FAILED_CHILD)) &&
	       !net_download_in_flight(dl, bi->hash);
}

size_t net_download_next_blocks(struct net_download *dl, struct dl_peer *d, int64_t now_us,
				uint8_t (*out)[32], size_t max)
{
	const struct block_index *tip = chainstate_tip(dl->cs), *target, *bi;
	const struct block_index **path;
	size_t n = 0, len = 0;
	int32_t last;

	if (!d->best_known || !tip || u256_cmp(&d->best_known->chainwork, &tip->chainwork) < 0)
		return 0;
	/* Look no further than DL_WINDOW past our tip, and only on the peer's
	 * chain: from where it forks from ours up to that height. */
	last = tip->height + DL_WINDOW;
	target = chainstate_ancestor(d->best_known,
				     d->best_known->height < last ? d->best_known->height : last);
	for (bi = target; bi && !chainstate_contains(dl->cs, bi); bi = bi->prev)
		len++;
	if (!len)
		return 0;
	path = malloc(len * sizeof(*path));
	if (!path)
		return 0;
	bi = target;
	for (size_t k = len; k-- > 0; bi = bi->prev)
		path[k] = bi; /* oldest first */
	for (size_t k = 0; k < len && n < max && d->n_in_flight < DL_MAX_PER_PEER; k++) {
		if (!wanted(dl, path[k]))
			continue;
		mark_in_flight(dl, d, path[k]->hash, now_us);
		memcpy(out[n++], path[k]->hash, 32);
	}
	free(path);
	return n;
}

/* ---- Orphan blocks ------------------------------------------------------ */

static void orphan_remove(struct net_download *dl, size_t k)
{
	dl->orphan_bytes -= dl->orphans[k].len;
	free(dl->orphans[k].bytes);
	memmove(&dl->orphans[k], &dl->orphans[k + 1],
		(dl->n_orphans - k - 1) * sizeof(dl->orphans[0]));
	dl->n_orphans--;
}

int net_download_orphan_add(struct net_download *dl, const uint8_t hash[32], const uint8_t prev[32],
			    const uint8_t *bytes, size_t len, int64_t from_peer)
{
	struct dl_orphan *o;

	for (size_t k = 0; k < dl->n_orphans; k++) {
		if (memcmp(dl->orphans[k].hash, hash, 32) == 0)
			return 1;
	}
	if (len > DL_ORPHAN_MAX_BYTES)
		return -1;
	/* Room: the oldest go first. */
	while (dl->n_orphans == DL_ORPHAN_MAX || dl->orphan_bytes + len > DL_ORPHAN_MAX_BYTES)
		orphan_remove(dl, 0);
	o = &dl->orphans[dl->n_orphans];
	o->bytes = malloc(len ? len : 1);
	if (!o->bytes)
		return -1;
	memcpy(o->bytes, bytes, len);
	memcpy(o->hash, hash, 32);
	memcpy(o->prev, prev, 32);
	o->len = len;
	o->from = from_peer;
	dl->orphan_bytes += len;
	dl->n_orphans++;
	return 0;
}

size_t net_download_orphan_count(const struct net_download *dl)
{
	return dl->n_orphans;
}

bool net_download_orphan_take_ready(struct net_download *dl, uint8_t **bytes, size_t *len,
				    int64_t *from_peer)
{
	for (size_t k = 0; k < dl->n_orphans; k++) {
		struct dl_orphan *o = &dl->orphans[k];

		if (!chainstate_lookup(dl->cs, o->prev))
			continue;
		*bytes = o->bytes;
		*len = o->len;
		*from_peer = o->from;
		o->bytes = NULL; /* now the caller's */
		dl->orphan_bytes -= o->len;
		o->len = 0;
		orphan_remove(dl, k);
		return true;
	}
	return false;
}

void net_download_free(struct net_download *dl)
{
	if (!dl)
		return;
	while (dl->n_orphans)
		orphan_remove(dl, dl->n_orphans - 1);
	hashmap_free(dl->flights); /* the flights are the peers' */
	free(dl);
}
