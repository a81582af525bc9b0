/*
 * tx.h — transactions in Bitcoin's serialization, and their txid.
 *
 * Hashes are stored in serialized (internal) byte order; RPC shows them
 * reversed (hash_hex_reversed).
 *
 * Decoders never read past their input and never trust a count: a count
 * larger than the bytes left could hold is rejected before allocating.
 */
#ifndef MR_TX_H
#define MR_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ser.h"

#define COIN 100000000LL
#define MAX_MONEY (21000000LL * COIN)
#define MAX_SCRIPT_SIZE 10000
#define MAX_TX_IO 100000                   /* inputs or outputs per tx */

struct outpoint {
	uint8_t txid[32];
	uint32_t n;
};

struct txin {
	struct outpoint prevout;
	uint8_t *script_sig; /* owned */
	size_t script_sig_len;
	uint32_t sequence;
};

struct txout {
	int64_t value;
	uint8_t *script_pubkey; /* owned */
	size_t script_pubkey_len;
};

struct tx {
	int32_t version;
	size_t n_in, n_out;
	struct txin *vin;   /* owned */
	struct txout *vout; /* owned */
	uint32_t locktime;
	uint8_t txid[32];   /* set by tx_decode / tx_finalize */
	size_t size;        /* serialized bytes; set likewise */
};

/* Free what t owns and zero it. Accepts NULL. */
void tx_clear(struct tx *t);

/* Deep copy src into dst (dst uninitialised). Returns 0 or -1 (no memory;
 * dst is then cleared). */
int tx_copy(struct tx *dst, const struct tx *src);

/* Append the serialization of t. */
void tx_encode(struct wbuf *w, const struct tx *t);

/* Compute t->txid and t->size from its fields (after building one). */
void tx_finalize(struct tx *t);

/*
 * Read one transaction from r into t (t uninitialised), setting txid and
 * size. Returns 0, or -1 with r->err set (truncated, malformed, a count or
 * script over the limits) and t cleared.
 */
int tx_decode(struct rbuf *r, struct tx *t);

/* A whole buffer as exactly one transaction (no trailing bytes). */
int tx_decode_bytes(const uint8_t *p, size_t len, struct tx *t);

/* A coinbase has one input whose prevout is null (zero txid, n = ~0). */
bool tx_is_coinbase(const struct tx *t);

/* Sum of output values; -1 if one is negative, over MAX_MONEY, or the sum
 * is. */
int64_t tx_value_out(const struct tx *t);

/* Virtual size: without witnesses, the serialized size. */
static inline int32_t tx_vsize(const struct tx *t) { return (int32_t)t->size; }

#endif
