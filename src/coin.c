/*
 * coin.c — one unspent output: copies and its serialization.
 */
#include "coin.h"

#include <stdlib.h>
#include <string.h>

void coin_clear(struct coin *c)
{
	if (!c)
		return;
	free(c->script);
	memset(c, 0, sizeof(*c));
}

int coin_copy(struct coin *dst, const struct coin *src)
{
	*dst = *src;
	dst->script = malloc(src->script_len ? src->script_len : 1);
	if (!dst->script) {
		memset(dst, 0, sizeof(*dst));
		return -1;
	}
	memcpy(dst->script, src->script, src->script_len);
	return 0;
}

void coin_encode(struct wbuf *w, const struct coin *c)
{
	ser_write_compact(w, (uint64_t)c->height * 2 + (c->coinbase ? 1 : 0));
	ser_write_i64(w, c->value);
	ser_write_compact(w, c->script_len);
	ser_write_bytes(w, c->script, c->script_len);
}

int coin_decode(struct rbuf *r, struct coin *c)
{
	uint64_t code = ser_read_compact(r, (uint64_t)UINT32_MAX * 2 + 1);
	uint64_t n;

	memset(c, 0, sizeof(*c));
	c->height = (uint32_t)(code >> 1);
	c->coinbase = code & 1;
	c->value = ser_read_i64(r);
	n = ser_read_compact(r, MAX_SCRIPT_SIZE);
	if (r->err || n > ser_read_remaining(r) || c->value < 0 || c->value > MAX_MONEY)
		goto bad;
	c->script = malloc(n ? n : 1);
	if (!c->script)
		goto bad;
	ser_read_bytes(r, c->script, n);
	c->script_len = n;
	if (!r->err)
		return 0;
bad:
	r->err = true;
	coin_clear(c);
	return -1;
}
