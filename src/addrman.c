/*
 * addrman.c — a bounded array of known addresses with linear lookup. At a
 * few thousand entries a scan is cheap next to the network I/O it serves.
 */
#include "addrman.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct addrman_entry {
	struct netaddr addr;
	uint64_t services;
	int64_t time;         /* last seen, unix seconds */
	int64_t last_try_us;  /* monotonic; 0: never */
};

struct addrman {
	struct addrman_entry *e;
	size_t n, cap;
};

struct addrman *addrman_new(size_t capacity)
{
	struct addrman *am = calloc(1, sizeof(*am));

	if (!am)
		return NULL;
	am->cap = capacity ? capacity : 1;
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
	for (size_t i = 0; i < am->n; i++) {
		if (same(&am->e[i].addr, a))
			return &am->e[i];
	}
	return NULL;
}

static bool usable(const struct netaddr *a)
{
	static const uint8_t zero[16];
	static const uint8_t v4_zero[16] = { [10] = 0xff, [11] = 0xff };

	return a->port != 0 && memcmp(a->ip, zero, 16) != 0 &&
	       memcmp(a->ip, v4_zero, 16) != 0;
}

/* The slot a new entry goes to: the next free one, else the stalest. */
static struct addrman_entry *slot_for_new(struct addrman *am)
{
	struct addrman_entry *oldest;

	if (am->n < am->cap)
		return &am->e[am->n++];
	oldest = &am->e[0];
	for (size_t i = 1; i < am->n; i++) {
		if (am->e[i].time < oldest->time)
			oldest = &am->e[i];
	}
	return oldest;
}

int addrman_add(struct addrman *am, const struct netaddr *a, uint64_t services,
		int64_t time)
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
	e = slot_for_new(am);
	*e = (struct addrman_entry){ .addr = *a, .services = services, .time = time };
	return 1;
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
	/* Start at a random entry and take the first that qualifies: every
	 * qualifying address has a chance, at the cost of one scan. */
	start = (size_t)util_random_range(am->n);
	for (size_t k = 0; k < am->n; k++) {
		const struct addrman_entry *e = &am->e[(start + k) % am->n];

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
	size_t n = am->n < max ? am->n : max;
	size_t start = (size_t)util_random_range(am->n);

	for (size_t k = 0; k < n; k++) {
		const struct addrman_entry *e = &am->e[(start + k) % am->n];

		out[k].time = (uint32_t)e->time;
		out[k].addr.services = e->services;
		memcpy(out[k].addr.ip, e->addr.ip, 16);
		out[k].addr.port = e->addr.port;
	}
	return n;
}
