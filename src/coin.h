/*
 * coin.h — one unspent transaction output as the UTXO set keeps it: value,
 * script, and the height and coinbase flag of the transaction that made
 * it. coin_encode/coin_decode are its serialization, shared by the coins
 * database (coins.h) and undo data (chainstate.c).
 */
#ifndef MR_COIN_H
#define MR_COIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ser.h"
#include "tx.h"

struct coin {
	int64_t value;
	uint8_t *script; /* owned */
	size_t script_len;
	uint32_t height;
	bool coinbase;
};

/* Free what c owns and zero it. Accepts NULL. */
void coin_clear(struct coin *c);
/* Deep copy. Returns 0 or -1 (no memory). */
int coin_copy(struct coin *dst, const struct coin *src);

/* Serialization shared with undo data. */
void coin_encode(struct wbuf *w, const struct coin *c);
int coin_decode(struct rbuf *r, struct coin *c); /* 0 or -1 (c cleared) */

#endif
