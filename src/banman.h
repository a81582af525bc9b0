/*
 * banman.h — discouraged IP addresses. A misbehaving peer's IP is
 * discouraged for a while (24 h, -discouragetime); inbound connections
 * from it are refused until then. Ports are ignored.
 */
#ifndef MR_BANMAN_H
#define MR_BANMAN_H

#include <stdbool.h>
#include <stdint.h>

#include "netaddr.h"

struct banman;

/* An empty list. NULL on allocation failure. */
struct banman *banman_new(void);
/* Free the list. Accepts NULL. */
void banman_free(struct banman *bm);

/* Discourage a's IP until now_s + seconds (extends, never shortens).
 * Returns 0, or -1 if memory ran out or the list is full (100000 IPs);
 * then it is not discouraged. */
int banman_discourage(struct banman *bm, const struct netaddr *a, int64_t now_s,
		      int64_t seconds);

/* True if a's IP is discouraged at now_s. Expired entries are dropped. */
bool banman_is_discouraged(struct banman *bm, const struct netaddr *a, int64_t now_s);

#endif
