/*
 * net_download.c — blocks in flight and the orphan block pool.
 *
 * Blocks in flight are in two places: each peer's own list (at most
 * DL_MAX_PER_PEER, so a peer that goes releases its blocks in O(1)), and a
 * table by block hash (so "is anyone sending this block?" costs O(1) while
 * choosing among up to DL_WINDOW candidates). The table is open addressing
 * with linear probing; deletion shifts entries back, so there are no
 * tombstones and a lookup never crosses stale slots.
 */
#include "net_download.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* > DL_MAX_PER_PEER * 125 default peers, a power of two, kept under 3/4 full. */
#define DL_SLOTS 8192
#define DL_MAX_ENTRIES (DL_SLOTS * 3 / 4)

struct dl_entry {
	uint8_t hash[32];
	struct dl_peer *owner; /* NULL: free slot */
};

struct dl_orphan {
	uint8_t hash[32], prev[32];
	uint8_t *bytes;
	size_t len;
	int64_t from;
};

static struct {
	struct chainstate *cs;
	struct dl_entry table[DL_SLOTS];
	size_t n_entries;
	struct dl_orphan orphans[DL_ORPHAN_MAX];
	size_t n_orphans;   /* orphans[0] is the oldest */
	size_t orphan_bytes;
} dl;

/* ---- The table of blocks in flight -------------------------------------- */

static size_t home_slot(const uint8_t hash[32])
{
	uint32_t h;

	memcpy(&h, hash + 8, sizeof(h)); /* block hashes are uniform */
	return h & (DL_SLOTS - 1);
}

/* The slot holding hash, or the free slot where it would go. */
static size_t find_slot(const uint8_t hash[32])
{
	size_t i = home_slot(hash);

	while (dl.table[i].owner && memcmp(dl.table[i].hash, hash, 32) != 0)
		i = (i + 1) & (DL_SLOTS - 1);
	return i;
}

static void table_remove(size_t i)
{
	size_t j = i;

	dl.table[i].owner = NULL;
	dl.n_entries--;
	/* Shift back every later entry of the run that may no longer be
	 * reachable from its home slot across the hole at i. */
	for (;;) {
		size_t home;

		j = (j + 1) & (DL_SLOTS - 1);
		if (!dl.table[j].owner)
			return;
		home = home_slot(dl.table[j].hash);
		if (((j - home) & (DL_SLOTS - 1)) >= ((j - i) & (DL_SLOTS - 1))) {
			dl.table[i] = dl.table[j];
			dl.table[j].owner = NULL;
			i = j;
		}
	}
}

bool net_download_in_flight(const uint8_t hash[32])
{
	return dl.table[find_slot(hash)].owner != NULL;
}

/* Drop entry k of d's own list (order does not matter). */
static void peer_list_remove(struct dl_peer *d, int k)
{
	d->n_in_flight--;
	memcpy(d->in_flight[k], d->in_flight[d->n_in_flight], 32);
	d->requested_us[k] = d->requested_us[d->n_in_flight];
}

static void mark_in_flight(struct dl_peer *d, const uint8_t hash[32], int64_t now_us)
{
	size_t i = find_slot(hash);

	memcpy(dl.table[i].hash, hash, 32);
	dl.table[i].owner = d;
	dl.n_entries++;
	memcpy(d->in_flight[d->n_in_flight], hash, 32);
	d->requested_us[d->n_in_flight++] = now_us;
}

/* ---- Peers -------------------------------------------------------------- */

void net_download_init(struct chainstate *cs)
{
	dl.cs = cs;
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

bool net_download_block_done(struct dl_peer *d, const uint8_t hash[32])
{
	size_t i = find_slot(hash);
	struct dl_peer *owner = dl.table[i].owner;

	if (!owner)
		return false;
	for (int k = 0; k < owner->n_in_flight; k++) {
		if (memcmp(owner->in_flight[k], hash, 32) == 0) {
			peer_list_remove(owner, k);
			break;
		}
	}
	table_remove(i);
	return owner == d;
}

void net_download_peer_gone(struct dl_peer *d)
{
	while (d->n_in_flight) {
		size_t i = find_slot(d->in_flight[0]);

		if (dl.table[i].owner == d)
			table_remove(i);
		peer_list_remove(d, 0);
	}
	d->best_known = NULL;
}

bool net_download_peer_timed_out(const struct dl_peer *d, int64_t now_us, int64_t timeout_us)
{
	for (int k = 0; k < d->n_in_flight; k++) {
		if (now_us - d->requested_us[k] > timeout_us)
			return true;
	}
	return false;
}

/* Could this block be asked for now? */
static bool wanted(const struct block_index *bi)
{
	return !(bi->status & (BLOCK_HAVE_DATA | BLOCK_FAILED | BLOCK_FAILED_CHILD)) &&
	       !net_download_in_flight(bi->hash);
}

size_t net_download_next_blocks(struct dl_peer *d, int64_t now_us, uint8_t (*out)[32], size_t max)
{
	const struct block_index *tip = chainstate_tip(dl.cs), *target, *bi;
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
	for (bi = target; bi && !chainstate_contains(dl.cs, bi); bi = bi->prev)
		len++;
	if (!len)
		return 0;
	path = malloc(len * sizeof(*path));
	if (!path)
		return 0;
	bi = target;
	for (size_t k = len; k-- > 0; bi = bi->prev)
		path[k] = bi; /* oldest first */
	for (size_t k = 0; k < len && n < max && d->n_in_flight < DL_MAX_PER_PEER &&
			   dl.n_entries < DL_MAX_ENTRIES; k++) {
		if (!wanted(path[k]))
			continue;
		mark_in_flight(d, path[k]->hash, now_us);
		memcpy(out[n++], path[k]->hash, 32);
	}
	free(path);
	return n;
}

/* ---- Orphan blocks ------------------------------------------------------ */

static void orphan_remove(size_t k)
{
	dl.orphan_bytes -= dl.orphans[k].len;
	free(dl.orphans[k].bytes);
	memmove(&dl.orphans[k], &dl.orphans[k + 1],
		(dl.n_orphans - k - 1) * sizeof(dl.orphans[0]));
	dl.n_orphans--;
}

int net_download_orphan_add(const uint8_t hash[32], const uint8_t prev[32], const uint8_t *bytes,
			    size_t len, int64_t from_peer)
{
	struct dl_orphan *o;

	for (size_t k = 0; k < dl.n_orphans; k++) {
		if (memcmp(dl.orphans[k].hash, hash, 32) == 0)
			return 1;
	}
	if (len > DL_ORPHAN_MAX_BYTES)
		return -1;
	/* Room: the oldest go first. */
	while (dl.n_orphans == DL_ORPHAN_MAX || dl.orphan_bytes + len > DL_ORPHAN_MAX_BYTES)
		orphan_remove(0);
	o = &dl.orphans[dl.n_orphans];
	o->bytes = malloc(len ? len : 1);
	if (!o->bytes)
		return -1;
	memcpy(o->bytes, bytes, len);
	memcpy(o->hash, hash, 32);
	memcpy(o->prev, prev, 32);
	o->len = len;
	o->from = from_peer;
	dl.orphan_bytes += len;
	dl.n_orphans++;
	return 0;
}

size_t net_download_orphan_count(void)
{
	return dl.n_orphans;
}

bool net_download_orphan_take_ready(uint8_t **bytes, size_t *len, int64_t *from_peer)
{
	for (size_t k = 0; k < dl.n_orphans; k++) {
		struct dl_orphan *o = &dl.orphans[k];

		if (!chainstate_lookup(dl.cs, o->prev))
			continue;
		*bytes = o->bytes;
		*len = o->len;
		*from_peer = o->from;
		o->bytes = NULL; /* now the caller's */
		dl.orphan_bytes -= o->len;
		o->len = 0;
		orphan_remove(k);
		return true;
	}
	return false;
}

void net_download_shutdown(void)
{
	while (dl.n_orphans)
		orphan_remove(dl.n_orphans - 1);
	memset(dl.table, 0, sizeof(dl.table));
	dl.n_entries = 0;
}
