/*
 * Unit tests for src/net_evict.c: each protection step of the inbound
 * eviction policy on hand-built candidate lists, chosen so that the
 * expected victim differs from what the policy would pick without that
 * step. Peer k connected at time (k + 1) * 1000 with id k, so a lower
 * index is an older connection.
 */
#include <stdlib.h>
#include <string.h>

#include "net_evict.h"
#include "unit.h"

#define MAXPEERS 32

/* n peers, peer k connected at (k + 1) * 1000 with id k, all in group 1,
 * no ping measured, nothing useful sent. */
static void peers_init(struct evict_candidate *c, size_t n)
{
	for (size_t k = 0; k < n; k++)
		c[k] = (struct evict_candidate){ .id = (int64_t)k,
						 .connected_us = ((int64_t)k + 1) * 1000,
						 .min_ping_us = -1,
						 .last_useful_us = 0,
						 .netgroup = 1 };
}

/* The victim's id (-1 if none). Also checks that the order of the array
 * does not matter (reversed input gives the same peer) and that the
 * candidates are left unchanged. */
static int64_t victim(const struct evict_candidate *c, size_t n)
{
	struct evict_candidate copy[MAXPEERS], rev[MAXPEERS];
	long v, vr;
	int64_t id, id_rev;

	memcpy(copy, c, n * sizeof(*c));
	for (size_t k = 0; k < n; k++)
		rev[k] = c[n - 1 - k];
	v = net_evict_select(c, n);
	CHECK(memcmp(copy, c, n * sizeof(*c)) == 0);
	vr = net_evict_select(rev, n);
	CHECK(v >= -1 && v < (long)n);
	CHECK(vr >= -1 && vr < (long)n);
	id = v < 0 ? -1 : c[v].id;
	id_rev = vr < 0 ? -1 : rev[vr].id;
	CHECK_EQ_INT(id, id_rev);
	return id;
}

UNIT_TEST(evict_nothing_to_evict)
{
	struct evict_candidate c[MAXPEERS];

	peers_init(c, 1);
	CHECK_EQ_INT(net_evict_select(c, 0), -1);
	CHECK_EQ_INT(victim(c, 1), -1);
}

UNIT_TEST(evict_none_when_all_protected)
{
	struct evict_candidate c[MAXPEERS];

	/* Four peers in four groups: each its group's protected peer. */
	peers_init(c, 4);
	for (size_t k = 0; k < 4; k++)
		c[k].netgroup = 10 + k;
	CHECK_EQ_INT(victim(c, 4), -1);

	/* One group: the oldest is protected by group, the other 8 by ping. */
	peers_init(c, 9);
	for (size_t k = 1; k < 9; k++)
		c[k].min_ping_us = 100 * (int64_t)k;
	CHECK_EQ_INT(victim(c, 9), -1);

	/* 1 by group + 8 by ping + 4 by useful activity = 13; a 14th peer is
	 * the one left after "protect half of the rest" (1 / 2 = 0). */
	peers_init(c, 14);
	for (size_t k = 1; k < 9; k++)
		c[k].min_ping_us = 100;
	for (size_t k = 9; k < 13; k++)
		c[k].last_useful_us = 5000;
	CHECK_EQ_INT(victim(c, 13), -1);
	CHECK_EQ_INT(victim(c, 14), 13);

	/* One group: its oldest is protected, a lone other peer is evicted;
	 * of two others, uptime protects the older. */
	peers_init(c, 2);
	CHECK_EQ_INT(victim(c, 2), 1);
	peers_init(c, 3);
	CHECK_EQ_INT(victim(c, 3), 2);
}

UNIT_TEST(evict_protects_up_to_four_netgroups)
{
	struct evict_candidate c[MAXPEERS];

	/* Five singleton groups: the four oldest groups are protected, the
	 * fifth peer (nothing left to protect by uptime) is evicted. */
	peers_init(c, 5);
	for (size_t k = 0; k < 5; k++)
		c[k].netgroup = 100 + k;
	CHECK_EQ_INT(victim(c, 5), 4);

	/*
	 * A = {0..5}, B = {6, 7}. Groups protect 0 (A) and 6 (B). The rest
	 * 1..5, 7 (6 peers): uptime protects 1, 2, 3. Left 4, 5 (A) and 7 (B):
	 * A is larger, evict its youngest, 5. (Without the group step, uptime
	 * would protect 0..3 and leave A = {4, 5}, B = {6, 7}; the tie goes to
	 * B with the youngest peer, 7.)
	 */
	peers_init(c, 8);
	for (size_t k = 0; k < 8; k++)
		c[k].netgroup = k < 6 ? 0xA : 0xB;
	CHECK_EQ_INT(victim(c, 8), 5);

	/*
	 * Groups are protected in order of their oldest peer's age, and only
	 * four: 0 G1, 1 G2, 2 G3, 3 G4, 4 G1, 5 G1, 6 G5. G1..G4 are
	 * protected through 0..3; G5 (oldest peer 6) is not. Rest 4, 5, 6:
	 * uptime protects 4 (3 / 2 = 1). Left 5 (G1) and 6 (G5): sizes tie,
	 * 6 is younger -> 6. (Were a fifth group protected, 5 would go.)
	 */
	peers_init(c, 7);
	c[0].netgroup = 1;
	c[1].netgroup = 2;
	c[2].netgroup = 3;
	c[3].netgroup = 4;
	c[4].netgroup = 1;
	c[5].netgroup = 1;
	c[6].netgroup = 5;
	CHECK_EQ_INT(victim(c, 7), 6);
}

UNIT_TEST(evict_protects_eight_lowest_measured_pings)
{
	struct evict_candidate c[MAXPEERS];

	/*
	 * 20 peers in one group; 10..19 measured: 19 -> 1, 18 -> 2,
	 * 12..17 -> 3..8, 11 -> 400, 10 -> 500. Group protects 0; ping
	 * protects 12..19; the rest 1..11 (11): uptime protects 1..5; left
	 * 6..11 -> 11. (Without the ping step: uptime protects 1..9 of 19 and
	 * 19 would go.)
	 */
	peers_init(c, 20);
	c[19].min_ping_us = 1;
	c[18].min_ping_us = 2;
	for (int k = 12; k <= 17; k++)
		c[k].min_ping_us = k - 9;
	c[11].min_ping_us = 400;
	c[10].min_ping_us = 500;
	CHECK_EQ_INT(victim(c, 20), 11);

	/*
	 * Unmeasured pings (< 0) are never protected by ping, even if fewer
	 * than 8 are measured: 13..19 measured (7). Group: 0; ping: 13..19;
	 * rest 1..12 (12): uptime protects 1..6; left 7..12 -> 12.
	 */
	peers_init(c, 20);
	for (int k = 13; k <= 19; k++)
		c[k].min_ping_us = 1000 - k;
	CHECK_EQ_INT(victim(c, 20), 12);

	/* A ping of 0 is a measured ping. */
	c[12].min_ping_us = 0;
	/* Now ping protects 12..19; rest 1..11: uptime 1..5; left 6..11. */
	CHECK_EQ_INT(victim(c, 20), 11);
}

UNIT_TEST(evict_protects_four_most_recently_useful)
{
	struct evict_candidate c[MAXPEERS];

	/*
	 * 20 peers in one group; 15..19 sent something novel at 100, 200,
	 * 300, 400, 500 (19 most recently). Group: 0; useful: 16..19; rest
	 * 1..15 (15): uptime protects 1..7; left 8..15 -> 15, useful but not
	 * among the 4 most recent.
	 */
	peers_init(c, 20);
	for (int k = 15; k <= 19; k++)
		c[k].last_useful_us = (k - 14) * 100;
	CHECK_EQ_INT(victim(c, 20), 15);

	/* Most recent, not oldest: give the oldest unprotected peers the
	 * activity instead: 1..5 at 100..500. Useful protects 2..5; rest
	 * 1, 6..19 (15): uptime protects 1, 6..11; left 12..19 -> 19. */
	peers_init(c, 20);
	for (int k = 1; k <= 5; k++)
		c[k].last_useful_us = k * 100;
	CHECK_EQ_INT(victim(c, 20), 19);
}

UNIT_TEST(evict_uptime_protects_the_older_half)
{
	struct evict_candidate c[MAXPEERS];

	/*
	 * A = {0..5}, B = {6..9}. Groups: 0 (A), 6 (B). Rest 1..5, 7, 8, 9
	 * (8): uptime protects 1..4. Left 5 (A), 7, 8, 9 (B): B is larger
	 * -> 9. (Without the uptime step A = {1..5} would be larger -> 5.)
	 */
	peers_init(c, 10);
	for (size_t k = 0; k < 10; k++)
		c[k].netgroup = k < 6 ? 0xA : 0xB;
	CHECK_EQ_INT(victim(c, 10), 9);
}

UNIT_TEST(evict_youngest_of_largest_group)
{
	struct evict_candidate c[MAXPEERS];

	/*
	 * 0 G1, 1 G2, 2 G3, 3 G4 (groups protect all four); 4..7 in G1
	 * (uptime protects all four of 8 rest); 8, 9, 10 in G5, 11 in G6.
	 * Left 8, 9, 10 (G5) and 11 (G6): G5 is larger -> 10, not the
	 * youngest overall (11).
	 */
	peers_init(c, 12);
	for (size_t k = 0; k < 12; k++)
		c[k].netgroup = k < 4 ? k + 1 : k < 8 ? 1 : k < 11 ? 5 : 6;
	CHECK_EQ_INT(victim(c, 12), 10);

	/* Tie (G5 = {8, 9}, G6 = {10, 11}): the group with the youngest. */
	c[10].netgroup = 6;
	CHECK_EQ_INT(victim(c, 12), 11);
	/* Tie with the youngest in the other group: G5 = {8, 11}, G6 = {9, 10}. */
	c[9].netgroup = 6;
	c[11].netgroup = 5;
	CHECK_EQ_INT(victim(c, 12), 11);
}

UNIT_TEST(evict_equal_times_fall_back_to_id)
{
	struct evict_candidate c[MAXPEERS];

	/* All connected in the same microsecond: a larger id is younger. The
	 * group protects id 0; uptime protects ids 1, 2 of 5; left 3, 4, 5. */
	peers_init(c, 6);
	for (size_t k = 0; k < 6; k++)
		c[k].connected_us = 777;
	CHECK_EQ_INT(victim(c, 6), 5);
	/* Ids against the array order: the group protects id 0 (now last in
	 * the array), the victim is still id 5 (now first). */
	c[0].id = 5;
	c[5].id = 0;
	CHECK_EQ_INT(net_evict_select(c, 6), 0);
	CHECK_EQ_INT(victim(c, 6), 5);
	/* An earlier time outweighs a larger id. */
	c[0].connected_us = 1; /* id 5 is now the oldest */
	c[1].id = 9;           /* ids 9, 2, 3, 4, 0 at 777: 9 youngest */
	CHECK_EQ_INT(victim(c, 6), 9);
}

UNIT_TEST(evict_prefers_peers_from_discouraged_addresses)
{
	struct evict_candidate c[MAXPEERS];

	/*
	 * 10 peers in one group: 0 protected by group, 1..4 by uptime (9 / 2),
	 * 5..9 left; without preferences the youngest, 9, goes. Peer 6 came
	 * from a discouraged address: it is the only candidate (Core's
	 * m_prefer_evict).
	 */
	peers_init(c, 10);
	CHECK_EQ_INT(victim(c, 10), 9);
	c[6].prefer_evict = true;
	CHECK_EQ_INT(victim(c, 10), 6);
	/* Two of them: the usual choice among those two (the younger). */
	c[7].prefer_evict = true;
	CHECK_EQ_INT(victim(c, 10), 7);
	/* A protected peer stays protected, preferred or not. */
	peers_init(c, 10);
	c[0].prefer_evict = true;
	CHECK_EQ_INT(victim(c, 10), 9);
}
