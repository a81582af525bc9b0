/*
 * Unit tests for src/net_txrequest.c: a transaction announced by several
 * peers is requested from one at a time; notfound, a disconnect or the
 * timeout hand it to the next; outbound peers go first, inbound ones wait
 * TXREQ_INBOUND_DELAY_US; the transaction's arrival forgets it; a peer's
 * announcements are bounded.
 */
#include <stdint.h>
#include <string.h>

#include "net_txrequest.h"
#include "unit.h"

static void txid_of(int k, uint8_t out[32])
{
	memset(out, 0, 32);
	out[0] = (uint8_t)k;
	out[1] = (uint8_t)(k >> 8);
	out[31] = 0xab;
}

/* How many txids peer is asked for at now (and which, in out). */
static size_t next(struct net_txrequest *tr, int64_t peer, int64_t now, uint8_t (*out)[32])
{
	return net_txrequest_next(tr, peer, now, out, 64);
}

UNIT_TEST(txreq_one_peer_at_a_time)
{
	struct net_txrequest *tr;
	uint8_t t[32], got[64][32];
	const int64_t now = 1000000000;

	tr = net_txrequest_new();
	REQUIRE(tr);
	txid_of(1, t);
	/* Three inbound peers announce; none may be asked before the delay. */
	for (int64_t p = 1; p <= 3; p++)
		CHECK(net_txrequest_announced(tr, p, t, false, now + p));
	CHECK(!net_txrequest_announced(tr, 2, t, false, now + 10)); /* repeat: ignored */
	CHECK_EQ_INT(net_txrequest_count(tr, -1), 3);
	CHECK_EQ_INT(next(tr, 1, now + 5, got), 0);
	/* After it: the first announcer only. */
	int64_t later = now + TXREQ_INBOUND_DELAY_US + 10;
	CHECK_EQ_INT(next(tr, 2, later, got), 0);
	CHECK_EQ_INT(next(tr, 3, later, got), 0);
	CHECK_EQ_INT(next(tr, 1, later, got), 1);
	CHECK(memcmp(got[0], t, 32) == 0);
	CHECK_EQ_INT(next(tr, 1, later, got), 0); /* asked already */
	CHECK_EQ_INT(next(tr, 2, later, got), 0); /* still peer 1's */
	/* notfound from peer 1: peer 2's turn. */
	net_txrequest_notfound(tr, 1, t);
	CHECK_EQ_INT(next(tr, 3, later, got), 0);
	CHECK_EQ_INT(next(tr, 2, later, got), 1);
	/* Peer 2 does not answer in time: peer 3's turn. */
	CHECK_EQ_INT(next(tr, 3, later + TXREQ_TIMEOUT_US - 1, got), 0);
	CHECK_EQ_INT(next(tr, 3, later + TXREQ_TIMEOUT_US, got), 1);
	/* Peer 3 goes: nobody is left to ask. */
	net_txrequest_peer_gone(tr, 3);
	CHECK_EQ_INT(next(tr, 1, later + TXREQ_TIMEOUT_US, got), 0);
	CHECK_EQ_INT(next(tr, 2, later + TXREQ_TIMEOUT_US, got), 0);
	/* The transaction arrives: everything about it is forgotten. */
	net_txrequest_forget(tr, t);
	CHECK_EQ_INT(net_txrequest_count(tr, -1), 0);
	CHECK_EQ_INT(net_txrequest_count(tr, 1), 0);
	net_txrequest_free(tr);
}

UNIT_TEST(txreq_disconnect_hands_over_and_outbound_first)
{
	struct net_txrequest *tr;
	uint8_t t[32], got[64][32];
	const int64_t now = 5000000000;

	tr = net_txrequest_new();
	REQUIRE(tr);
	txid_of(2, t);
	net_txrequest_announced(tr, 10, t, false, now);     /* inbound, first */
	net_txrequest_announced(tr, 11, t, true, now + 1);  /* outbound, later */
	/* The outbound peer may be asked at once, and is preferred. */
	CHECK_EQ_INT(next(tr, 10, now + 1, got), 0);
	CHECK_EQ_INT(next(tr, 11, now + 1, got), 1);
	/* It disconnects while asked: the inbound peer's turn once eligible. */
	net_txrequest_peer_gone(tr, 11);
	CHECK_EQ_INT(next(tr, 10, now + 2, got), 0);
	CHECK_EQ_INT(next(tr, 10, now + TXREQ_INBOUND_DELAY_US, got), 1);
	CHECK_EQ_INT(net_txrequest_count(tr, 10), 1);
	net_txrequest_peer_gone(tr, 10);
	CHECK_EQ_INT(net_txrequest_count(tr, -1), 0);
	net_txrequest_free(tr);
}

UNIT_TEST(txreq_per_peer_limit)
{
	struct net_txrequest *tr;
	uint8_t t[32];

	tr = net_txrequest_new();
	REQUIRE(tr);
	for (int k = 0; k < TXREQ_MAX_PER_PEER; k++) {
		txid_of(k, t);
		CHECK(net_txrequest_announced(tr, 7, t, true, 0));
	}
	txid_of(TXREQ_MAX_PER_PEER, t);
	CHECK(!net_txrequest_announced(tr, 7, t, true, 0));
	CHECK(net_txrequest_announced(tr, 8, t, true, 0)); /* another peer may */
	CHECK_EQ_INT(net_txrequest_count(tr, 7), TXREQ_MAX_PER_PEER);
	net_txrequest_peer_gone(tr, 7);
	CHECK_EQ_INT(net_txrequest_count(tr, -1), 1);
	net_txrequest_free(tr);
}
