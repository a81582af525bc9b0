/*
 * addrman.h — the table of peer addresses the node knows: learned from addr
 * messages and -addnode/-seednode, used to fill outbound slots and to
 * answer getaddr. Deliberately simple: one bounded array with linear
 * lookup, cut into buckets so that one source cannot fill it (addrman.c).
 */
#ifndef MR_ADDRMAN_H
#define MR_ADDRMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "netaddr.h"

#define ADDRMAN_DEFAULT_CAPACITY 4096
/* Entries per bucket; a table of fewer than two buckets' worth is one. */
#define ADDRMAN_BUCKET_SIZE 64
/* Buckets the addresses told by one network group can land in (of 64 in
 * the default table: one source fills at most 1/16 of it). */
#define ADDRMAN_BUCKETS_PER_SOURCE 4

struct addrman;

/* A table holding at most `capacity` addresses. NULL on allocation failure. */
struct addrman *addrman_new(size_t capacity);
/* Free the table. Accepts NULL. */
void addrman_free(struct addrman *am);

/*
 * Add an address told by `source` (or refresh the last-seen time of a
 * known one). It goes to a bucket chosen by source's and its own network
 * group; a full bucket replaces its stalest entry. Returns 1 if the address
 * was new, 0 if it was known, -1 if it is unusable (port 0, unspecified
 * IP) or memory ran out.
 */
int addrman_add_from(struct addrman *am, const struct netaddr *a, uint64_t services,
		     int64_t time, const struct netaddr *source);

/* addrman_add_from with the address as its own source (-addnode...). */
int addrman_add(struct addrman *am, const struct netaddr *a, uint64_t services,
		int64_t time);

/* Number of addresses in the table. */
size_t addrman_size(const struct addrman *am);

/* A filter for addrman_select: true to accept the address. */
typedef bool (*addrman_filter_fn)(const struct netaddr *a, void *arg);

/*
 * Pick a random address that `filter` accepts (NULL: any) and that was not
 * attempted within the last `retry_us` microseconds (monotonic `now_us`).
 * Returns 0 with *out, or -1 if none qualifies.
 */
int addrman_select(const struct addrman *am, int64_t now_us, int64_t retry_us,
		   addrman_filter_fn filter, void *arg, struct netaddr *out);

/* Record a connection attempt (monotonic time), for the retry delay. */
void addrman_attempt(struct addrman *am, const struct netaddr *a, int64_t now_us);

/* Record a completed handshake with a (unix seconds): refreshes its time. */
void addrman_good(struct addrman *am, const struct netaddr *a, int64_t now_s);

/* Copy up to `max` random entries (as addr message entries) into out;
 * returns how many. */
size_t addrman_sample(const struct addrman *am, struct msg_addr_entry *out, size_t max);

#endif
