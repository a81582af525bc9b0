/*
 * net_chain.h — blocks and transactions over P2P: headers-first sync,
 * block download, block announcements (headers to peers that asked with
 * sendheaders, inv to the rest), transaction requests and relay, and
 * serving getdata and getheaders.
 *
 * Sync: after the handshake we send getheaders with our locator; every
 * header that connects is accepted, and the peer is known to have the last
 * one; a full headers message (2,000) is followed by another getheaders.
 * Blocks are then asked for as net_download.h says: one peer per block,
 * at most 16 in flight per peer, each block once. A block whose parent is
 * unknown is kept and triggers getheaders rather than a penalty.
 * Transactions are asked for as net_txrequest.h says: one peer at a time.
 * What makes a peer misbehaving follows Bitcoin Core (doc/p2p.md).
 *
 * The getdata a peer sends is answered a little at a time: its entries
 * (repeats dropped) wait in the peer's state and are sent while the send
 * buffer holds less than NET_SEND_BUFFER_MAX, then more as it drains;
 * notfound covers the entries of each round we lack.
 *
 * This is the layer above message handling: it gets the messages through
 * struct net_processing_sync (net_chain_sync) and calls down into
 * net_processing.h and net.h only.
 */
#ifndef MR_NET_CHAIN_H
#define MR_NET_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "mempool.h"
#include "msg.h"
#include "net.h"
#include "net_processing.h"
#include "chainstate.h"

struct net_chain;

/*
 * Block and transaction sync over the peers of `cm`, for the chain and
 * mempool (which must outlive it). Registers the chain listener that
 * announces new blocks. NULL when out of memory.
 */
struct net_chain *net_chain_new(struct chainstate *cs, struct mempool *mp,
				struct connman *cm);

/* Free the orphan blocks and the request trackers. Call after
 * chainstate_close (its listener points here). Accepts NULL. */
void net_chain_free(struct net_chain *nc);

/* The callbacks to hand net_processing_new: our tip's height for version,
 * sync from a peer once its handshake is done, the messages above, ticks,
 * and getdata answered as the peer's send buffer drains. */
struct net_processing_sync net_chain_sync(struct net_chain *nc);

/* Announce a transaction now in our mempool to every peer but `from`
 * (NULL: all). */
void net_chain_relay_tx(struct net_chain *nc, const uint8_t txid[32],
			const struct peer *from);

#endif
