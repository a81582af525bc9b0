/*
 * Unit tests for src/net_download.c over real chainstates in temporary
 * directories: chain A mines 40 blocks; chain B knows only their headers
 * and downloads the blocks. Each block is asked of one peer, at most 16
 * per peer, oldest first; a block received is no longer in flight; a
 * peer that goes frees its blocks for others; stored blocks are never
 * asked for; requests time out; blocks with an unknown parent are kept
 * (bounded) until the parent's header is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "miner.h"
#include "net_download.h"
#include "unit.h"
#include "util.h"
#include "chainstate.h"

#define N 40

static const uint8_t spk[1] = { 0x51 }; /* OP_TRUE */

struct chains {
	char dir_a[64], dir_b[64];
	struct chainstate *a, *b;
	struct net_download *dl;
	struct block blocks[N + 1]; /* by height; [0] unused */
};

static struct chainstate *open_in(char *dir)
{
	struct chain_params cp = { 8 << 20, 3600 };
	char err[256];
	struct chainstate *cs;

	if (!unit_tmpdir(dir, 64, "netdl"))
		return NULL;
	cs = chainstate_open(dir, &cp, err, 256);
	if (!cs)
		fprintf(stderr, "  chainstate_open: %s\n", err);
	return cs;
}

static int setup(struct chains *c)
{
	char reason[CHAIN_REASON_MAX];
	const struct block_index *bi;
	bool is_new;

	memset(c, 0, sizeof(*c));
	c->a = open_in(c->dir_a);
	c->b = open_in(c->dir_b);
	if (!c->a || !c->b)
		return -1;
	for (int h = 1; h <= N; h++) {
		if (miner_create_block(c->a, NULL, spk, sizeof(spk), NULL, 0, &c->blocks[h],
				       reason) < 0 ||
		    chainstate_process_block(c->a, &c->blocks[h], &is_new, reason) < 0 ||
		    chainstate_accept_header(c->b, &c->blocks[h].header, &bi, reason) < 0) {
			fprintf(stderr, "  block %d: %s\n", h, reason);
			return -1;
		}
	}
	c->dl = net_download_new(c->b);
	return c->dl ? 0 : -1;
}

static void teardown(struct chains *c)
{
	net_download_free(c->dl);
	for (int h = 1; h <= N; h++)
		block_clear(&c->blocks[h]);
	chainstate_close(c->a);
	chainstate_close(c->b);
	unit_rmtree(c->dir_a);
	unit_rmtree(c->dir_b);
}

/* The height of one of chain A's blocks (0 if not one of ours). */
static int height_of(const struct chains *c, const uint8_t hash[32])
{
	for (int h = 1; h <= N; h++)
		if (memcmp(c->blocks[h].hash, hash, 32) == 0)
			return h;
	return 0;
}

static bool heights_are(const struct chains *c, uint8_t (*out)[32], size_t n, int first)
{
	for (size_t i = 0; i < n; i++)
		if (height_of(c, out[i]) != first + (int)i)
			return false;
	return true;
}

static void receive(struct chains *c, struct dl_peer *from, int h)
{
	char reason[CHAIN_REASON_MAX];
	bool is_new;

	CHECK_EQ_INT(chainstate_process_block(c->b, &c->blocks[h], &is_new, reason), 0);
	net_download_block_done(c->dl, from, c->blocks[h].hash);
}

UNIT_TEST(netdl_one_peer_per_block)
{
	struct chains c;
	struct dl_peer p1, p2, p3;
	uint8_t out[DL_MAX_PER_PEER][32];
	const struct block_index *last;
	const int64_t now = 1000000;

	if (setup(&c) < 0) {
		CHECK(!"setup");
		teardown(&c);
		return;
	}
	last = chainstate_lookup(c.b, c.blocks[N].hash);
	net_download_peer_init(&p1, 1);
	net_download_peer_init(&p2, 2);
	net_download_peer_init(&p3, 3);
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p1, now, out, DL_MAX_PER_PEER), 0); /* knows nothing */
	net_download_peer_has(&p1, last);
	net_download_peer_has(&p2, last);
	net_download_peer_has(&p1, chainstate_lookup(c.b, c.blocks[3].hash)); /* less work: kept */
	CHECK(p1.best_known == last);

	/* Oldest first, 16 per peer, never the same block twice. */
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p1, now, out, DL_MAX_PER_PEER), 16);
	CHECK(heights_are(&c, out, 16, 1));
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p1, now, out, DL_MAX_PER_PEER), 0);
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p2, now, out, 4), 4);
	CHECK(heights_are(&c, out, 4, 17));
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p2, now, out, DL_MAX_PER_PEER), 12);
	CHECK(heights_are(&c, out, 12, 21));
	CHECK(net_download_in_flight(c.dl, c.blocks[1].hash) && net_download_in_flight(c.dl, c.blocks[32].hash));
	CHECK(!net_download_in_flight(c.dl, c.blocks[33].hash));

	/* Received and processed: no longer in flight; room for one more. */
	receive(&c, &p1, 1);
	CHECK(!net_download_in_flight(c.dl, c.blocks[1].hash));
	CHECK_EQ_INT(chainstate_height(c.b), 1);
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p1, now, out, DL_MAX_PER_PEER), 1);
	CHECK(heights_are(&c, out, 1, 33));

	/* From another peer than the one asked: still done, and the asked
	 * peer's slot is free. */
	{
		char reason[CHAIN_REASON_MAX];
		bool is_new;

		CHECK_EQ_INT(chainstate_process_block(c.b, &c.blocks[2], &is_new, reason), 0);
		CHECK(!net_download_block_done(c.dl, &p3, c.blocks[2].hash)); /* p1 was asked */
		CHECK(!net_download_in_flight(c.dl, c.blocks[2].hash));
		CHECK_EQ_INT(p1.n_in_flight, 15);
		CHECK(!net_download_block_done(c.dl, &p1, c.blocks[2].hash)); /* not twice */
	}

	/* A peer that goes frees its blocks; the next peer gets them, oldest
	 * first, and never blocks that are stored. */
	net_download_peer_gone(c.dl, &p2);
	CHECK(!net_download_in_flight(c.dl, c.blocks[17].hash));
	receive(&c, &p3, 3); /* stored meanwhile (was p1's) */
	net_download_peer_has(&p3, last);
	CHECK_EQ_INT(net_download_next_blocks(c.dl, &p3, now, out, DL_MAX_PER_PEER), 16);
	CHECK(heights_are(&c, out, 16, 17));

	/* Timeouts: only once DL_TIMEOUT_US has passed. */
	CHECK(!net_download_peer_timed_out(&p1, now + DL_TIMEOUT_US, DL_TIMEOUT_US));
	CHECK(net_download_peer_timed_out(&p1, now + DL_TIMEOUT_US + 1, DL_TIMEOUT_US));
	CHECK(!net_download_peer_timed_out(&p2, now + DL_TIMEOUT_US + 1, DL_TIMEOUT_US));
	CHECK(net_download_peer_timed_out(&p1, now + 2000001, 2000000));

	net_download_peer_gone(c.dl, &p1);
	net_download_peer_gone(c.dl, &p3);
	for (int h = 1; h <= N; h++)
		CHECK(!net_download_in_flight(c.dl, c.blocks[h].hash));
	teardown(&c);
}

UNIT_TEST(netdl_orphans_kept_until_the_parent_is_known)
{
	struct chains c;
	uint8_t unknown[32], *bytes;
	size_t len;
	int64_t from;
	struct wbuf w;

	if (setup(&c) < 0) {
		CHECK(!"setup");
		teardown(&c);
		return;
	}
	memset(unknown, 0x5a, 32);
	ser_write_init(&w);
	block_encode(&w, &c.blocks[5]);
	/* Parent unknown: kept, not ready. */
	CHECK_EQ_INT(net_download_orphan_add(c.dl, c.blocks[5].hash, unknown, w.data, w.len, 9), 0);
	CHECK_EQ_INT(net_download_orphan_add(c.dl, c.blocks[5].hash, unknown, w.data, w.len, 9), 1);
	CHECK(!net_download_orphan_take_ready(c.dl, &bytes, &len, &from));
	/* Parent's header known (block 6's parent is 5, whose header B has). */
	CHECK_EQ_INT(net_download_orphan_add(c.dl, c.blocks[6].hash, c.blocks[5].hash, w.data, w.len, 4), 0);
	CHECK(net_download_orphan_take_ready(c.dl, &bytes, &len, &from));
	CHECK_EQ_INT(from, 4);
	CHECK_EQ_INT(len, w.len);
	free(bytes);
	CHECK_EQ_INT(net_download_orphan_count(c.dl), 1);
	/* Bounded: the oldest go first. */
	for (int k = 0; k < DL_ORPHAN_MAX + 5; k++) {
		uint8_t h[32];

		memset(h, 0, 32);
		h[0] = (uint8_t)k;
		h[1] = 0x77;
		CHECK_EQ_INT(net_download_orphan_add(c.dl, h, unknown, w.data, w.len, 1), 0);
	}
	CHECK_EQ_INT(net_download_orphan_count(c.dl), DL_ORPHAN_MAX);
	ser_write_free(&w);
	teardown(&c);
}
