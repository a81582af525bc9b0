/*
 * net_download.h — which blocks to ask which peer for (Bitcoin Core's
 * mapBlocksInFlight and FindNextBlocksToDownload), and the blocks that
 * arrived before their parent (the orphan block pool).
 *
 * Rules (doc/p2p.md, "Block download"):
 * - A block is asked of one peer at a time, once: it stays in flight from
 *   the getdata until it has been received and processed, until its peer
 *   has gone, or until a timeout (-blockdownloadtimeout, DL_TIMEOUT_US by
 *   default) has passed (then the peer is
 *   disconnected, as Core does). A block that is stored is never asked for.
 * - A peer has at most DL_MAX_PER_PEER blocks in flight, taken oldest first
 *   from the blocks we lack on the way to the best block it is known to
 *   have, no further than DL_WINDOW blocks past our tip.
 * - A block whose parent we do not know is kept (at most DL_ORPHAN_MAX
 *   blocks, DL_ORPHAN_MAX_BYTES bytes, the oldest dropped first) and
 *   processed once its parent's header is known.
 *
 * Single-threaded, like the rest of the network code. The state of all
 * peers together is a struct net_download (net_chain.c has one); each
 * peer's own part is a struct dl_peer its caller owns.
 */
#ifndef MR_NET_DOWNLOAD_H
#define MR_NET_DOWNLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashmap.h"
#include "chainstate.h"

#define DL_MAX_PER_PEER 16              /* Core's MAX_BLOCKS_IN_TRANSIT_PER_PEER */
#define DL_WINDOW 1024                  /* Core's BLOCK_DOWNLOAD_WINDOW */
#define DL_TIMEOUT_US (60LL * 1000000)  /* default (-blockdownloadtimeout) */
#define DL_ORPHAN_MAX 100
#define DL_ORPHAN_MAX_BYTES (32u * 1024 * 1024)

struct dl_peer;

/* A block asked of a peer (linked into the download state's map while in
 * flight: a struct dl_peer must not be copied or moved meanwhile). */
struct dl_flight {
	struct hashmap_node node;
	uint8_t hash[32];
	int64_t requested_us;
	struct dl_peer *owner;
};

/* One peer's download state. */
struct dl_peer {
	int64_t id;
	const struct block_index *best_known; /* most-work block it has; NULL */
	struct dl_flight in_flight[DL_MAX_PER_PEER];
	int n_in_flight;
};

struct net_download;

/* Download state over this chain (which must outlive it). NULL when out of
 * memory. */
struct net_download *net_download_new(struct chainstate *cs);

/* Free the orphan pool and every request. Accepts NULL. */
void net_download_free(struct net_download *dl);

/* Fresh state for peer `id`. */
void net_download_peer_init(struct dl_peer *d, int64_t id);

/* The peer has (or announced) block bi: remember it if it has more work
 * than what we knew the peer to have. */
void net_download_peer_has(struct dl_peer *d, const struct block_index *bi);

/*
 * Choose the next blocks to ask peer d for, at most `max`, and mark them
 * in flight from it. Writes their hashes to out; returns the count.
 */
size_t net_download_next_blocks(struct net_download *dl, struct dl_peer *d, int64_t now_us,
				uint8_t (*out)[32], size_t max);

/* True if any peer has been asked for this block and not answered. */
bool net_download_in_flight(const struct net_download *dl, const uint8_t hash[32]);

/*
 * The block arrived from peer d and has been processed: it is no longer
 * in flight (from whichever peer it was asked of). Returns true if d was
 * the peer asked for it.
 */
bool net_download_block_done(struct net_download *dl, struct dl_peer *d, const uint8_t hash[32]);

/* The peer has gone: its blocks are free to be asked of others. */
void net_download_peer_gone(struct net_download *dl, struct dl_peer *d);

/* True if one of d's requests is older than timeout_us at now_us. */
bool net_download_peer_timed_out(const struct dl_peer *d, int64_t now_us, int64_t timeout_us);

/*
 * Keep a block whose parent is unknown (its serialized bytes, copied).
 * Returns 0, 1 if it was already kept, or -1 if memory ran out.
 */
int net_download_orphan_add(struct net_download *dl, const uint8_t hash[32], const uint8_t prev[32],
			    const uint8_t *bytes, size_t len, int64_t from_peer);

/* Blocks kept now. */
size_t net_download_orphan_count(const struct net_download *dl);

/*
 * Take out one kept block whose parent's header is now known. Returns
 * false if there is none; else the caller processes *bytes and frees it.
 */
bool net_download_orphan_take_ready(struct net_download *dl, uint8_t **bytes, size_t *len,
				    int64_t *from_peer);

#endif
