/*
 * hashmap.h — one small chained hash map for the whole daemon: the coins
 * cache, the block index, the mempool's txid and outpoint tables and the
 * wallet's lookups all use it.
 *
 * It is intrusive, like the Linux kernel's hlist or git's hashmap.h: the
 * caller embeds a struct hashmap_node in its own struct and owns that
 * struct's memory; the map only links nodes into its buckets. So adding
 * never allocates a node and never fails, and a struct can sit in several
 * maps at once (one node member per map).
 *
 * Keys are fixed-size byte strings (a txid, an outpoint, a block hash, a
 * HASH160) stored in the caller's struct at a fixed distance from the node:
 * see HASHMAP_KEY_OFFSET. They are compared with memcmp and hashed with a
 * secret per-map seed, because txids are chosen by others: bucket
 * positions must not be.
 *
 * Several nodes may hold the same key (a multimap): hashmap_find returns
 * the first, hashmap_find_next the ones after it. A plain map checks
 * hashmap_find before it adds.
 *
 * The bucket array doubles when the map holds as many nodes as buckets;
 * growth that cannot get memory only leaves longer chains.
 */
#ifndef MR_HASHMAP_H
#define MR_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

/* Embed one per map the struct belongs to. */
struct hashmap_node {
	struct hashmap_node *next;
};

struct hashmap;

/* The distance from a struct's node member to its key member, for
 * hashmap_new (the key may come before or after the node). */
#define HASHMAP_KEY_OFFSET(type, node_member, key_member) \
	((ptrdiff_t)offsetof(type, key_member) - (ptrdiff_t)offsetof(type, node_member))

/* The struct of `type` whose member `node_member` is the node n. */
#define HASHMAP_ENTRY(n, type, node_member) \
	((type *)(void *)((char *)(n) - offsetof(type, node_member)))

/*
 * A new, empty map whose keys are key_len bytes at key_offset from each
 * node (HASHMAP_KEY_OFFSET), starting with `buckets` buckets (rounded up
 * to a power of two, at least 1). NULL if out of memory.
 */
struct hashmap *hashmap_new(ptrdiff_t key_offset, size_t key_len, size_t buckets);

/* Free the map's own memory, not the nodes (they are the caller's: free
 * them first, e.g. while iterating). Accepts NULL. */
void hashmap_free(struct hashmap *m);

/* Link n in. Never fails; duplicates of its key are allowed. */
void hashmap_add(struct hashmap *m, struct hashmap_node *n);

/* The first node holding key, or NULL. */
struct hashmap_node *hashmap_find(const struct hashmap *m, const void *key);

/* The next node after n (found by hashmap_find or hashmap_find_next)
 * holding the same key, or NULL. */
struct hashmap_node *hashmap_find_next(const struct hashmap *m, const struct hashmap_node *n);

/* Unlink n, which must be in the map. The caller still owns (and frees) it. */
void hashmap_remove(struct hashmap *m, struct hashmap_node *n);

/*
 * Make room: at least `want` buckets, so that many nodes can be added
 * without growth. For callers that account for the map's memory before
 * committing a change. 0, or -1 if out of memory (the map is unchanged).
 */
int hashmap_reserve(struct hashmap *m, size_t want);

/* How many nodes are linked in. */
size_t hashmap_count(const struct hashmap *m);

/* How many buckets there are (each one pointer), for memory accounting. */
size_t hashmap_buckets(const struct hashmap *m);

/*
 * Every node once, in no particular order:
 *
 *	struct hashmap_iter it;
 *	hashmap_iter_init(&it, m);
 *	for (struct hashmap_node *n; (n = hashmap_iter_next(&it)); )
 *		...
 *
 * The node just returned may be removed (and freed) inside the loop;
 * adding nodes during a walk is not allowed.
 */
struct hashmap_iter {
	struct hashmap_node *const *buckets; /* the map's, copied: a tight loop */
	size_t nbuckets, bucket;             /* bucket: the last node's */
	struct hashmap_node *next;
};

void hashmap_iter_init(struct hashmap_iter *it, const struct hashmap *m);
struct hashmap_node *hashmap_iter_next(struct hashmap_iter *it);

#endif
