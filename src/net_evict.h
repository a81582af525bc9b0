/*
 * net_evict.h — which inbound peer to evict when a new inbound connection
 * arrives and every inbound slot is taken. A pure function over a
 * candidate array, so the policy is unit-tested without sockets.
 *
 * Policy (doc/p2p.md): protect up to 4 peers from distinct network groups
 * (per group its longest-connected peer, groups in order of that peer's
 * age), the 8 with the lowest minimum ping (measured pings only), the 4
 * that most recently sent something novel (inv/headers/addr), then the
 * longest-connected half of the rest. If any peer left connected from a
 * discouraged address (prefer_evict), only those stay candidates. Of the
 * peers left, take the network group with the most peers (tie: the group
 * holding the youngest connection) and evict its youngest peer.
 */
#ifndef MR_NET_EVICT_H
#define MR_NET_EVICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVICT_PROTECT_NETGROUPS 4
#define EVICT_PROTECT_PING 8
#define EVICT_PROTECT_USEFUL 4

struct evict_candidate {
	int64_t id;             /* peer id: larger is younger among equal times */
	int64_t connected_us;   /* when the connection was established */
	int64_t min_ping_us;    /* lowest ping seen; < 0 if never measured */
	int64_t last_useful_us; /* last novel inv/headers/addr; 0 if none */
	uint64_t netgroup;      /* netaddr_group() */
	bool prefer_evict;      /* connected from a discouraged address */
};

/*
 * The index in c[0..n-1] of the peer to evict, or -1 if every candidate is
 * protected (then the new connection is refused) or memory for the
 * working copy ran out. Does not modify c.
 */
long net_evict_select(const struct evict_candidate *c, size_t n);

#endif
