/*
 * test_hashmap.c — the generic hash map (src/hashmap.h): finding, duplicate
 * keys, removal of one node among equals, growth that keeps every node,
 * reserve, and a walk that removes as it goes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "unit.h"

/* An outpoint-like key (36 bytes, not a multiple of 8) after the node. */
struct item {
	struct hashmap_node node;
	uint8_t key[36];
	int value;
	bool seen;
};

/* A key before the node, as in the mempool's entries. */
struct item_key_first {
	uint8_t key[32];
	struct hashmap_node node;
};

static void set_key(uint8_t key[36], uint32_t i)
{
	memset(key, 0, 36);
	memcpy(key, &i, sizeof(i));   /* differs in the first word ... */
	memcpy(key + 32, &i, sizeof(i)); /* ... and in the tail */
}

static struct hashmap *item_map(size_t buckets)
{
	return hashmap_new(HASHMAP_KEY_OFFSET(struct item, node, key), 36, buckets);
}

static struct item *find_item(const struct hashmap *m, uint32_t i)
{
	uint8_t key[36];
	struct hashmap_node *n;

	set_key(key, i);
	n = hashmap_find(m, key);
	return n ? HASHMAP_ENTRY(n, struct item, node) : NULL;
}

UNIT_TEST(hashmap_find_add_remove)
{
	struct hashmap *m = item_map(4);
	struct item a = { .value = 1 }, b = { .value = 2 };
	uint8_t key[36];

	REQUIRE(m != NULL);
	CHECK_EQ_INT(hashmap_buckets(m), 4);
	set_key(a.key, 7);
	set_key(b.key, 8);
	CHECK(find_item(m, 7) == NULL);
	hashmap_add(m, &a.node);
	hashmap_add(m, &b.node);
	CHECK_EQ_INT(hashmap_count(m), 2);
	CHECK(find_item(m, 7) == &a);
	CHECK(find_item(m, 8) == &b);
	CHECK(find_item(m, 9) == NULL);
	/* Only the key's bytes count: a copy finds it. */
	set_key(key, 7);
	CHECK(hashmap_find(m, key) == &a.node);
	hashmap_remove(m, &a.node);
	CHECK_EQ_INT(hashmap_count(m), 1);
	CHECK(find_item(m, 7) == NULL);
	CHECK(find_item(m, 8) == &b);
	hashmap_remove(m, &a.node); /* not linked any more: nothing happens */
	CHECK_EQ_INT(hashmap_count(m), 1);
	hashmap_free(m);
	hashmap_free(NULL);
}

UNIT_TEST(hashmap_buckets_round_up_to_a_power_of_two)
{
	struct hashmap *m = item_map(1000), *one = item_map(0);

	REQUIRE(m != NULL && one != NULL);
	CHECK_EQ_INT(hashmap_buckets(m), 1024);
	CHECK_EQ_INT(hashmap_buckets(one), 1);
	hashmap_free(m);
	hashmap_free(one);
}

UNIT_TEST(hashmap_duplicate_keys)
{
	struct hashmap *m = item_map(8);
	struct item v[3], other;
	struct hashmap_node *n;
	int sum = 0, count = 0;

	REQUIRE(m != NULL);
	for (int i = 0; i < 3; i++) {
		set_key(v[i].key, 5);
		v[i].value = 1 << i;
		hashmap_add(m, &v[i].node);
	}
	set_key(other.key, 6);
	hashmap_add(m, &other.node);
	for (n = hashmap_find(m, v[0].key); n; n = hashmap_find_next(m, n)) {
		sum += HASHMAP_ENTRY(n, struct item, node)->value;
		count++;
	}
	CHECK_EQ_INT(count, 3);
	CHECK_EQ_INT(sum, 7);
	/* Removing the middle one of three equals removes exactly it. */
	hashmap_remove(m, &v[1].node);
	sum = count = 0;
	for (n = hashmap_find(m, v[0].key); n; n = hashmap_find_next(m, n)) {
		sum += HASHMAP_ENTRY(n, struct item, node)->value;
		count++;
	}
	CHECK_EQ_INT(count, 2);
	CHECK_EQ_INT(sum, 5);
	CHECK_EQ_INT(hashmap_count(m), 3);
	hashmap_free(m);
}

UNIT_TEST(hashmap_grows_and_keeps_every_node)
{
	enum { N = 5000 };
	struct hashmap *m = item_map(2);
	struct item *v = calloc(N, sizeof(*v));
	int found = 0;

	REQUIRE(m != NULL && v != NULL);
	for (uint32_t i = 0; i < N; i++) {
		set_key(v[i].key, i);
		v[i].value = (int)i;
		hashmap_add(m, &v[i].node);
	}
	CHECK_EQ_INT(hashmap_count(m), N);
	/* Doubled whenever full: as many buckets as nodes, rounded up. */
	CHECK_EQ_INT(hashmap_buckets(m), 8192);
	for (uint32_t i = 0; i < N; i++) {
		struct item *it = find_item(m, i);
		found += it && it->value == (int)i;
	}
	CHECK_EQ_INT(found, N);
	CHECK(find_item(m, N) == NULL);
	hashmap_free(m);
	free(v);
}

UNIT_TEST(hashmap_reserve)
{
	struct hashmap *m = item_map(4);
	struct item v[100];

	REQUIRE(m != NULL);
	CHECK_EQ_INT(hashmap_reserve(m, 3), 0);
	CHECK_EQ_INT(hashmap_buckets(m), 4);   /* already enough */
	CHECK_EQ_INT(hashmap_reserve(m, 100), 0);
	CHECK_EQ_INT(hashmap_buckets(m), 128);
	/* That many adds need no further growth. */
	for (uint32_t i = 0; i < 100; i++) {
		set_key(v[i].key, i);
		hashmap_add(m, &v[i].node);
	}
	CHECK_EQ_INT(hashmap_buckets(m), 128);
	CHECK(find_item(m, 42) == &v[42]);
	hashmap_free(m);
}

UNIT_TEST(hashmap_walk_and_remove_while_walking)
{
	enum { N = 300 };
	struct hashmap *m = item_map(16);
	struct item v[N];
	struct hashmap_iter it;
	struct hashmap_node *n;
	int walked = 0, all_seen = 1;

	REQUIRE(m != NULL);
	memset(v, 0, sizeof(v));
	for (uint32_t i = 0; i < N; i++) {
		set_key(v[i].key, i);
		v[i].value = (int)i;
		hashmap_add(m, &v[i].node);
	}
	/* Every node once; drop the odd ones on the way. */
	hashmap_iter_init(&it, m);
	while ((n = hashmap_iter_next(&it))) {
		struct item *x = HASHMAP_ENTRY(n, struct item, node);

		CHECK(!x->seen);
		x->seen = true;
		walked++;
		if (x->value % 2)
			hashmap_remove(m, n);
	}
	CHECK_EQ_INT(walked, N);
	for (int i = 0; i < N; i++)
		all_seen &= v[i].seen;
	CHECK(all_seen);
	CHECK_EQ_INT(hashmap_count(m), N / 2);
	CHECK(find_item(m, 3) == NULL);
	CHECK(find_item(m, 4) == &v[4]);
	/* An empty map walks nothing. */
	while ((n = hashmap_iter_next(&it)))
		walked++;
	CHECK_EQ_INT(walked, N);
	hashmap_free(m);
}

UNIT_TEST(hashmap_key_before_node)
{
	struct hashmap *m = hashmap_new(HASHMAP_KEY_OFFSET(struct item_key_first, node, key), 32, 8);
	struct item_key_first a, b;

	REQUIRE(m != NULL);
	memset(a.key, 0xaa, 32);
	memset(b.key, 0xbb, 32);
	hashmap_add(m, &a.node);
	hashmap_add(m, &b.node);
	CHECK(hashmap_find(m, b.key) == &b.node);
	CHECK(HASHMAP_ENTRY(hashmap_find(m, a.key), struct item_key_first, node) == &a);
	hashmap_free(m);
}

/* Sequential keys spread evenly: with as many buckets as keys, no chain
 * far above the mean of one. The walk goes bucket by bucket, and
 * it.bucket is the returned node's bucket. */
UNIT_TEST(hashmap_spreads_sequential_keys)
{
	enum { N = 4096 };
	struct hashmap *m = item_map(N);
	struct item *v = calloc(N, sizeof(*v));
	struct hashmap_iter it;
	struct hashmap_node *n;
	size_t longest = 0, run = 0, last = SIZE_MAX;

	REQUIRE(m != NULL && v != NULL);
	for (uint32_t i = 0; i < N; i++) {
		set_key(v[i].key, i);
		hashmap_add(m, &v[i].node);
	}
	CHECK_EQ_INT(hashmap_buckets(m), N);
	hashmap_iter_init(&it, m);
	while ((n = hashmap_iter_next(&it))) {
		if (it.bucket != last) {
			last = it.bucket;
			run = 0;
		}
		if (++run > longest)
			longest = run;
	}
	CHECK(longest >= 2);  /* 4096 keys in 4096 buckets: some share */
	CHECK(longest <= 12); /* Poisson(1): 12 or more has odds below 1e-5 */
	hashmap_free(m);
	free(v);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(hashmap_free_accepts_null)
{
	hashmap_free(NULL);
}
