/*
 * hashmap.c — the daemon's one chained hash map (hashmap.h).
 */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct hashmap {
	struct hashmap_node **buckets;
	size_t mask;               /* buckets - 1 (a power of two) */
	size_t count;
	ptrdiff_t key_offset;
	size_t key_len;
	uint64_t seed;             /* secret: peers choose the keys */
};

static const uint8_t *key_of(const struct hashmap *m, const struct hashmap_node *n)
{
	return (const uint8_t *)n + m->key_offset;
}

/*
 * A seeded multiply-rotate mix over 8-byte words, finished like
 * splitmix64 so the low bits (the bucket index) depend on every input
 * bit. Keys are a few dozen bytes, so this is a handful of multiplies.
 */
static uint64_t hash_key(const struct hashmap *m, const uint8_t *k)
{
	const uint64_t mul = 0x9e3779b97f4a7c15ULL;
	uint64_t h = m->seed ^ m->key_len, w;
	size_t i = 0;

	for (; i + 8 <= m->key_len; i += 8) {
		memcpy(&w, k + i, 8);
		h = (h ^ w) * mul;
		h = h << 31 | h >> 33;
	}
	if (i < m->key_len) {
		w = 0;
		memcpy(&w, k + i, m->key_len - i);
		h = (h ^ w) * mul;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ h >> 31;
}

static size_t bucket_of(const struct hashmap *m, const uint8_t *key)
{
	return (size_t)(hash_key(m, key) & m->mask);
}

struct hashmap *hashmap_new(ptrdiff_t key_offset, size_t key_len, size_t buckets)
{
	struct hashmap *m = calloc(1, sizeof(*m));
	size_t n = 1;

	if (!m)
		return NULL;
	while (n < buckets)
		n *= 2;
	m->buckets = calloc(n, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	m->mask = n - 1;
	m->key_offset = key_offset;
	m->key_len = key_len;
	m->seed = util_random_u64();
	return m;
}

void hashmap_free(struct hashmap *m)
{
	if (!m)
		return;
	free(m->buckets);
	free(m);
}

/* Move every node into n buckets (a power of two). 0 or -1 (unchanged). */
static int rehash(struct hashmap *m, size_t n)
{
	struct hashmap_node **b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i <= m->mask; i++)
		for (struct hashmap_node *e = m->buckets[i], *next; e; e = next) {
			size_t h = (size_t)(hash_key(m, key_of(m, e)) & (n - 1));

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(m->buckets);
	m->buckets = b;
	m->mask = n - 1;
	return 0;
}

int hashmap_reserve(struct hashmap *m, size_t want)
{
	size_t n = m->mask + 1;

	if (want <= n)
		return 0;
	while (n < want)
		n *= 2;
	return rehash(m, n);
}

void hashmap_add(struct hashmap *m, struct hashmap_node *n)
{
	size_t b;

	if (m->count > m->mask)
		(void)rehash(m, 2 * (m->mask + 1)); /* no memory: longer chains */
	b = bucket_of(m, key_of(m, n));
	n->next = m->buckets[b];
	m->buckets[b] = n;
	m->count++;
}

/* The first node from e on (along its chain) holding key, or NULL. */
static struct hashmap_node *scan(const struct hashmap *m, struct hashmap_node *e,
				 const void *key)
{
	for (; e; e = e->next)
		if (memcmp(key_of(m, e), key, m->key_len) == 0)
			return e;
	return NULL;
}

struct hashmap_node *hashmap_find(const struct hashmap *m, const void *key)
{
	return scan(m, m->buckets[bucket_of(m, key)], key);
}

struct hashmap_node *hashmap_find_next(const struct hashmap *m, const struct hashmap_node *n)
{
	return scan(m, n->next, key_of(m, n));
}

void hashmap_remove(struct hashmap *m, struct hashmap_node *n)
{
	struct hashmap_node **p = &m->buckets[bucket_of(m, key_of(m, n))];

	while (*p && *p != n)
		p = &(*p)->next;
	if (!*p)
		return; /* not linked: nothing to undo */
	*p = n->next;
	n->next = NULL;
	m->count--;
}

size_t hashmap_count(const struct hashmap *m)
{
	return m->count;
}

size_t hashmap_buckets(const struct hashmap *m)
{
	return m->mask + 1;
}

void hashmap_iter_init(struct hashmap_iter *it, const struct hashmap *m)
{
	it->buckets = m->buckets;
	it->nbuckets = m->mask + 1;
	it->bucket = 0;
	it->next = m->buckets[0];
}

/* Walks run over every bucket (the block index is walked per block), so
 * the empty-bucket loop is kept to a load, a compare and two branches. */
struct hashmap_node *hashmap_iter_next(struct hashmap_iter *it)
{
	struct hashmap_node *n = it->next;

	if (!n) {
		struct hashmap_node *const *p = it->buckets + it->bucket + 1;
		struct hashmap_node *const *end = it->buckets + it->nbuckets;

		while (p < end && !*p)
			p++;
		if (p == end) {
			it->bucket = it->nbuckets - 1;
			return NULL;
		}
		n = *p;
		it->bucket = (size_t)(p - it->buckets);
	}
	it->next = n->next;
	return n;
}
