/*
 * addrman.c — a bounded array of known addresses with linear lookup. At a
 * few thousand entries a scan is cheap next to the network I/O it serves.
 *
 * The array is cut into buckets of ADDRMAN_BUCKET_SIZE entries. Where a
 * new address goes depends, through a secret hash as in Bitcoin Core's
 * new table, on the network group of whoever told us and on its own
 * group: one source group reaches at most ADDRMAN_BUCKETS_PER_SOURCE
 * buckets, so a flood from one source replaces entries only there.
 */
#include "addrman.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct addrman_entry {
	bool used;
	struct netaddr addr;
	uint64_t services;
	int64_t time;         /* last seen, unix seconds */
	int64_t last_try_us;  /* monotonic; 0: never */
};

struct addrman {
	struct addrman_entry *e;
	size_t n, cap;
	size_t n_buckets, bucket_size; /* n_buckets * bucket_size <= cap */
	uint64_t secret;               /* keys the bucket hash */
};

struct addrman *addrman_new(size_t capacity)
{
	struct addrman *am = calloc(1, sizeof(*am));

	if (!am)
		return NULL;
	am->cap = capacity ? capacity : 1;
	/* A small table (tests) is one bucket, as before bucketing. */
	am->n_buckets = am->cap >= 2 * ADDRMAN_BUCKET_SIZE ? am->cap / ADDRMAN_BUCKET_SIZE : 1;
	am->bucket_size = am->n_buckets > 1 ? ADDRMAN_BUCKET_SIZE : am->cap;
	am->secret = util_random_u64();
	am->e = calloc(am->cap, sizeof(*am->e));
	if (!am->e) {
		free(am);
		return NULL;
	}
	return am;
}

void addrman_free(struct addrman *am)
{
	if (!am)
		return;
	free(am->e);
	free(am);
}

static bool same(const struct netaddr *a, const struct netaddr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

static struct addrman_entry *find(const struct addrman *am, const struct netaddr *a)
{
	for (size_t i = 0; i < am->cap; i++) {
		if (am->e[i].used && same(&am->e[i].addr, a))
			return &am->e[i];
	}
	return NULL;
}

/* splitmix64's finaliser: a keyed, well-mixed 64-bit hash of x. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The bucket for address a told by source: one of the source group's
 * ADDRMAN_BUCKETS_PER_SOURCE, picked by a's group. */
static size_t bucket_of(const struct addrman *am, const struct netaddr *a,
			const struct netaddr *source)
{
	uint64_t sg = netaddr_group(source), ag = netaddr_group(a);
	uint64_t k = mix(am->secret ^ mix(ag) ^ sg) % ADDRMAN_BUCKETS_PER_SOURCE;

	return (size_t)(mix(am->secret ^ mix(sg + k)) % am->n_buckets);
}

static bool usable(const struct netaddr *a)
{
	static const uint8_t zero[16];
	static const uint8_t v4_zero[16] = { [10] = 0xff, [11] = 0xff };

	return a->port != 0 && memcmp(a->ip, zero, 16) != 0 &&
	       memcmp(a->ip, v4_zero, 16) != 0;
}

/* The slot a new entry goes to in bucket b: a free one, else the
 * stalest. */
static struct addrman_entry *slot_for_new(struct addrman *am, size_t b)
{
	struct addrman_entry *first = &am->e[b * am->bucket_size], *oldest = NULL;

	for (size_t i = 0; i < am->bucket_size; i++) {
		if (!first[i].used) {
			am->n++;
			return &first[i];
		}
		if (!oldest || first[i].time < oldest->time)
			oldest = &first[i];
	}
	return oldest;
}

int addrman_add_from(struct addrman *am, const struct netaddr *a, uint64_t services,
		     int64_t time, const struct netaddr *source)
{
	struct addrman_entry *e;

	if (!usable(a))
		return -1;
	e = find(am, a);
	if (e) {
		if (time > e->time)
			e->time = time;
		e->services |= services;
		return 0;
	}
	e = slot_for_new(am, bucket_of(am, a, source ? source : a));
	*e = (struct addrman_entry){ .used = true, .addr = *a, .services = services,
				     .time = time };
	return 1;
}

int addrman_add(struct addrman *am, const struct netaddr *a, uint64_t services,
		int64_t time)
{
	return addrman_add_from(am, a, services, time, NULL);
}

size_t addrman_size(const struct addrman *am)
{
	return am->n;
}

int addrman_select(const struct addrman *am, int64_t now_us, int64_t retry_us,
		   addrman_filter_fn filter, void *arg, struct netaddr *out)
{
	size_t start;

	if (am->n == 0)
		return -1;
	/* Start at a random slot and take the first that qualifies: every
	 * qualifying address has a chance, at the cost of one scan. */
	start = (size_t)util_random_range(am->cap);
	for (size_t k = 0; k < am->cap; k++) {
		const struct addrman_entry *e = &am->e[(start + k) % am->cap];

		if (!e->used)
			continue;
		if (e->last_try_us && now_us - e->last_try_us < retry_us)
			continue;
		if (filter && !filter(&e->addr, arg))
			continue;
		*out = e->addr;
		return 0;
	}
	return -1;
}

void addrman_attempt(struct addrman *am, const struct netaddr *a, int64_t now_us)
{
	struct addrman_entry *e = find(am, a);

	if (e)
		e->last_try_us = now_us;
}

void addrman_good(struct addrman *am, const struct netaddr *a, int64_t now_s)
{
	struct addrman_entry *e = find(am, a);

	if (e && now_s > e->time)
		e->time = now_s;
}

size_t addrman_sample(const struct addrman *am, struct msg_addr_entry *out, size_t max)
{
	size_t start = (size_t)util_random_range(am->cap), n = 0;

	for (size_t k = 0; k < am->cap && n < max; k++) {
		const struct addrman_entry *e = &am->e[(start + k) % am->cap];

		if (!e->used)
			continue;
		out[n].time = (uint32_t)e->time;
		out[n].addr.services = e->services;
		memcpy(out[n].addr.ip, e->addr.ip, 16);
		out[n++].addr.port = e->addr.port;
	}
	return n;
}
