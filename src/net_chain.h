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
 */
#ifndef MR_NET_CHAIN_H
#define MR_NET_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "mempool.h"
#include "msg.h"
#include "net.h"
#include "chainstate.h"

/* Attach the chain and mempool (and register the chain listener that
 * announces new blocks). Call once before peers connect. */
void netchain_init(struct chainstate *cs, struct mempool *mp, struct connman *cm);

/* Free the orphan blocks and the request trackers (at shutdown). */
void netchain_shutdown(void);

/* Height of our active tip (0 without a chain): version's start_height. */
int32_t netchain_height(void);

/* The handshake completed: start syncing from this peer. */
void netchain_on_handshake(struct peer *p);

/* The peer is closing: the blocks and transactions asked of it go to
 * other peers. */
void netchain_on_closed(struct peer *p);

/* Periodic work for a handshaken peer: give up on a peer that does not
 * deliver a block in time (disconnect), then ask it for what is due. */
void netchain_tick(struct peer *p, int64_t now_us);

void netchain_on_inv(struct peer *p, const struct msg_inv *inv);
void netchain_on_getdata(struct peer *p, const struct msg_inv *inv);
void netchain_on_notfound(struct peer *p, const struct msg_inv *inv);

/*
 * getdata is answered a little at a time: netchain_on_getdata keeps its
 * entries (repeats dropped) in the peer's state and sends while the send
 * buffer holds less than NET_SEND_BUFFER_MAX; netchain_getdata_continue
 * (from np_send_more, when the buffer drained) sends more. Notfound covers
 * the entries of each round we lack.
 */
void netchain_getdata_continue(struct peer *p);
void netchain_on_getheaders(struct peer *p, const struct msg_getheaders *g);
void netchain_on_headers(struct peer *p, const struct msg_headers *h);
void netchain_on_block(struct peer *p, const uint8_t *payload, size_t len);
void netchain_on_tx(struct peer *p, const uint8_t *payload, size_t len);

/* Announce a transaction now in our mempool to every peer but `from`
 * (NULL: all). */
void netchain_relay_tx(const uint8_t txid[32], const struct peer *from);

#endif
