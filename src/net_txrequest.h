/*
 * net_txrequest.h — which peer to ask for an announced transaction, and
 * when (Bitcoin Core's TxRequestTracker, src/txrequest.h, is the model).
 *
 * Every inv of a transaction is an announcement (peer, txid). For each
 * txid at most one announcement is REQUESTED at a time: the transaction is
 * asked of one peer, and of the next only when that peer answers notfound,
 * disconnects, or has not answered within TXREQ_TIMEOUT_US. Among the
 * peers that announced it, outbound ("preferred") peers are asked first,
 * inbound ones become eligible TXREQ_INBOUND_DELAY_US after their
 * announcement; ties go to the earliest announcement. Once the transaction
 * itself arrives (accepted or not) every announcement of it is forgotten.
 * A peer may have at most TXREQ_MAX_PER_PEER announcements outstanding;
 * more are ignored.
 *
 * Core picks among equally eligible peers at random so that an attacker
 * cannot always be first; with one to a few honest test peers on loopback
 * we keep arrival order, which is deterministic (doc/p2p.md).
 */
#ifndef MR_NET_TXREQUEST_H
#define MR_NET_TXREQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXREQ_MAX_PER_PEER 5000               /* MAX_PEER_TX_ANNOUNCEMENTS */
#define TXREQ_INBOUND_DELAY_US (2LL * 1000000) /* NONPREF_PEER_TX_DELAY */
#define TXREQ_TIMEOUT_US (60LL * 1000000)      /* GETDATA_TX_INTERVAL */

struct net_txrequest;

/* An empty tracker (net_chain.c has one for all peers). NULL when out of
 * memory. */
struct net_txrequest *net_txrequest_new(void);

/* Peer `peer` announced txid at now_us. `preferred`: an outbound peer.
 * Returns false if it was ignored (already announced by this peer, the
 * peer is over its limit, or memory ran out). */
bool net_txrequest_announced(struct net_txrequest *tr, int64_t peer, const uint8_t txid[32],
			     bool preferred, int64_t now_us);

/*
 * The transactions to ask `peer` for now, at most max: those whose turn
 * has come for this peer. Each is marked REQUESTED (expiring at now_us +
 * TXREQ_TIMEOUT_US). Requests that expired are first given up, so the next
 * peer's turn comes. Returns the count written to out.
 */
size_t net_txrequest_next(struct net_txrequest *tr, int64_t peer, int64_t now_us, uint8_t (*out)[32],
			  size_t max);

/* The peer answered notfound for txid: its announcement is done, the next
 * peer's turn comes. */
void net_txrequest_notfound(struct net_txrequest *tr, int64_t peer, const uint8_t txid[32]);

/* The transaction arrived (from anyone): forget it altogether. */
void net_txrequest_forget(struct net_txrequest *tr, const uint8_t txid[32]);

/* The peer has gone: drop its announcements (a transaction it was asked
 * for becomes the next peer's turn). */
void net_txrequest_peer_gone(struct net_txrequest *tr, int64_t peer);

/* Outstanding announcements of one peer (all peers: peer < 0). */
size_t net_txrequest_count(struct net_txrequest *tr, int64_t peer);

/* Free the tracker and every announcement. Accepts NULL. */
void net_txrequest_free(struct net_txrequest *tr);

#endif
