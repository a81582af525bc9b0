/*
 * tx.c — transactions: serialization, txid, copies, value checks.
 */
#include "tx.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void tx_clear(struct tx *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->vin && i < t->n_in; i++)
		free(t->vin[i].script_sig);
	for (size_t i = 0; t->vout && i < t->n_out; i++)
		free(t->vout[i].script_pubkey);
	free(t->vin);
	free(t->vout);
	memset(t, 0, sizeof(*t));
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

int tx_copy(struct tx *dst, const struct tx *src)
{
	*dst = *src;
	dst->vin = calloc(src->n_in ? src->n_in : 1, sizeof(*dst->vin));
	dst->vout = calloc(src->n_out ? src->n_out : 1, sizeof(*dst->vout));
	if (!dst->vin || !dst->vout)
		goto fail;
	for (size_t i = 0; i < src->n_in; i++) {
		dst->vin[i] = src->vin[i];
		dst->vin[i].script_sig = dup_bytes(src->vin[i].script_sig, src->vin[i].script_sig_len);
		if (!dst->vin[i].script_sig)
			goto fail;
	}
	for (size_t i = 0; i < src->n_out; i++) {
		dst->vout[i] = src->vout[i];
		dst->vout[i].script_pubkey = dup_bytes(src->vout[i].script_pubkey,
						       src->vout[i].script_pubkey_len);
		if (!dst->vout[i].script_pubkey)
			goto fail;
	}
	return 0;
fail:
	tx_clear(dst);
	return -1;
}

void tx_encode(struct wbuf *w, const struct tx *t)
{
	ser_write_i32(w, t->version);
	ser_write_compact(w, t->n_in);
	for (size_t i = 0; i < t->n_in; i++) {
		const struct txin *in = &t->vin[i];
		ser_write_bytes(w, in->prevout.txid, 32);
		ser_write_u32(w, in->prevout.n);
		ser_write_compact(w, in->script_sig_len);
		ser_write_bytes(w, in->script_sig, in->script_sig_len);
		ser_write_u32(w, in->sequence);
	}
	ser_write_compact(w, t->n_out);
	for (size_t i = 0; i < t->n_out; i++) {
		ser_write_i64(w, t->vout[i].value);
		ser_write_compact(w, t->vout[i].script_pubkey_len);
		ser_write_bytes(w, t->vout[i].script_pubkey, t->vout[i].script_pubkey_len);
	}
	ser_write_u32(w, t->locktime);
}

void tx_finalize(struct tx *t)
{
	struct wbuf w;

	ser_write_init(&w);
	tx_encode(&w, t);
	hash_sha256d(w.data, w.len, t->txid);
	t->size = w.len;
	ser_write_free(&w);
}

static uint8_t *read_script(struct rbuf *r, size_t *len)
{
	uint64_t n = ser_read_compact(r, MAX_SCRIPT_SIZE);
	uint8_t *s;

	if (r->err || n > ser_read_remaining(r)) {
		r->err = true;
		return NULL;
	}
	s = malloc(n ? n : 1);
	if (!s) {
		r->err = true;
		return NULL;
	}
	ser_read_bytes(r, s, n);
	*len = n;
	return s;
}

int tx_decode(struct rbuf *r, struct tx *t)
{
	size_t start = r->pos;

	memset(t, 0, sizeof(*t));
	t->version = ser_read_i32(r);
	t->n_in = ser_read_count(r, 41, MAX_TX_IO);
	t->vin = calloc(t->n_in ? t->n_in : 1, sizeof(*t->vin));
	if (!t->vin)
		r->err = true;
	for (size_t i = 0; !r->err && i < t->n_in; i++) {
		struct txin *in = &t->vin[i];
		ser_read_bytes(r, in->prevout.txid, 32);
		in->prevout.n = ser_read_u32(r);
		in->script_sig = read_script(r, &in->script_sig_len);
		in->sequence = ser_read_u32(r);
	}
	t->n_out = ser_read_count(r, 9, MAX_TX_IO);
	t->vout = calloc(t->n_out ? t->n_out : 1, sizeof(*t->vout));
	if (!t->vout)
		r->err = true;
	for (size_t i = 0; !r->err && i < t->n_out; i++) {
		t->vout[i].value = ser_read_i64(r);
		t->vout[i].script_pubkey = read_script(r, &t->vout[i].script_pubkey_len);
	}
	t->locktime = ser_read_u32(r);
	if (r->err) {
		tx_clear(t);
		return -1;
	}
	hash_sha256d(r->p + start, r->pos - start, t->txid);
	t->size = r->pos - start;
	return 0;
}

int tx_decode_bytes(const uint8_t *p, size_t len, struct tx *t)
{
	struct rbuf r;

	ser_read_init(&r, p, len);
	if (tx_decode(&r, t) < 0)
		return -1;
	if (!ser_read_done(&r)) {
		tx_clear(t);
		return -1;
	}
	return 0;
}

bool tx_is_coinbase(const struct tx *t)
{
	static const uint8_t zero[32];

	return t->n_in == 1 && t->vin[0].prevout.n == UINT32_MAX &&
	       memcmp(t->vin[0].prevout.txid, zero, 32) == 0;
}

int64_t tx_value_out(const struct tx *t)
{
	int64_t sum = 0;

	for (size_t i = 0; i < t->n_out; i++) {
		int64_t v = t->vout[i].value;
		if (v < 0 || v > MAX_MONEY)
			return -1;
		sum += v;
		if (sum > MAX_MONEY)
			return -1;
	}
	return sum;
}
