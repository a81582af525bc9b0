/*
 * primitives.c — transaction and block serialization, merkle roots,
 * compact targets and chain work.
 */
#include "primitives.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* ---- Transactions ---------------------------------------------------- */

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

/* A CompactSize count of items each at least min_size bytes long, bounded
 * by what is left in r so a lying count cannot make us allocate. */
static uint64_t read_count(struct rbuf *r, size_t min_size, uint64_t max)
{
	uint64_t n = ser_read_compact(r, max);

	if (!r->err && n > ser_read_remaining(r) / min_size)
		r->err = true;
	return r->err ? 0 : n;
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
	t->n_in = read_count(r, 41, MAX_TX_IO);
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
	t->n_out = read_count(r, 9, MAX_TX_IO);
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

/* ---- Blocks ---------------------------------------------------------- */

void block_clear(struct block *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->txs && i < b->n_tx; i++)
		tx_clear(&b->txs[i]);
	free(b->txs);
	memset(b, 0, sizeof(*b));
}

void block_encode(struct wbuf *w, const struct block *b)
{
	block_header_encode(w, &b->header);
	ser_write_compact(w, b->n_tx);
	for (size_t i = 0; i < b->n_tx; i++)
		tx_encode(w, &b->txs[i]);
}

void block_finalize(struct block *b)
{
	struct wbuf w;

	block_header_hash(&b->header, b->hash);
	ser_write_init(&w);
	block_encode(&w, b);
	b->size = w.len;
	ser_write_free(&w);
}

int block_decode_bytes(const uint8_t *p, size_t len, struct block *b)
{
	struct rbuf r;

	memset(b, 0, sizeof(*b));
	ser_read_init(&r, p, len);
	block_header_decode(&r, &b->header);
	b->n_tx = read_count(&r, 60, MAX_BLOCK_SIZE / 60);
	b->txs = calloc(b->n_tx ? b->n_tx : 1, sizeof(*b->txs));
	if (!b->txs)
		r.err = true;
	size_t done = 0;
	while (!r.err && done < b->n_tx) {
		if (tx_decode(&r, &b->txs[done]) < 0)
			break;
		done++;
	}
	if (r.err || !ser_read_done(&r)) {
		b->n_tx = done;
		block_clear(b);
		return -1;
	}
	block_header_hash(&b->header, b->hash);
	b->size = len;
	return 0;
}

void block_compute_merkle_root(const uint8_t (*hashes)[32], size_t n, uint8_t root[32], bool *mutated)
{
	uint8_t (*level)[32];
	bool mut = false;

	if (mutated)
		*mutated = false;
	if (n == 0) {
		memset(root, 0, 32);
		return;
	}
	level = malloc(n * 32);
	if (!level)
		abort(); /* a block's worth of hashes; nothing sane to do */
	memcpy(level, hashes, n * 32);
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i < n; i += 2) {
			size_t j = i + 1 < n ? i + 1 : i;
			uint8_t pair[64];
			if (j != i && memcmp(level[i], level[j], 32) == 0)
				mut = true;
			memcpy(pair, level[i], 32);
			memcpy(pair + 32, level[j], 32);
			hash_sha256d(pair, 64, level[m++]);
		}
		n = m;
	}
	memcpy(root, level[0], 32);
	free(level);
	if (mutated)
		*mutated = mut;
}

void block_merkle_root(const struct block *b, uint8_t root[32], bool *mutated)
{
	uint8_t (*ids)[32] = malloc((b->n_tx ? b->n_tx : 1) * 32);

	if (!ids)
		abort();
	for (size_t i = 0; i < b->n_tx; i++)
		memcpy(ids[i], b->txs[i].txid, 32);
	block_compute_merkle_root((const uint8_t (*)[32])ids, b->n_tx, root, mutated);
	free(ids);
}

/* ---- 256-bit arithmetic ---------------------------------------------- */

static void u256_shl(u256 *a, unsigned s)
{
	while (s >= 64) {
		a->w[3] = a->w[2]; a->w[2] = a->w[1]; a->w[1] = a->w[0]; a->w[0] = 0;
		s -= 64;
	}
	if (s) {
		for (int i = 3; i > 0; i--)
			a->w[i] = (a->w[i] << s) | (a->w[i - 1] >> (64 - s));
		a->w[0] <<= s;
	}
}

static void u256_shr1(u256 *a)
{
	for (int i = 0; i < 3; i++)
		a->w[i] = (a->w[i] >> 1) | (a->w[i + 1] << 63);
	a->w[3] >>= 1;
}

static int u256_bits(const u256 *a)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i])
			return i * 64 + 64 - __builtin_clzll(a->w[i]);
	return 0;
}

static bool u256_is_zero(const u256 *a)
{
	return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

static void u256_sub(u256 *a, const u256 *b)
{
	unsigned borrow = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t bi = b->w[i] + borrow;
		unsigned nb = (bi < borrow) || (a->w[i] < bi);
		a->w[i] -= bi;
		borrow = nb;
	}
}

void u256_add(u256 *a, const u256 *b)
{
	unsigned carry = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t s = a->w[i] + b->w[i];
		unsigned c1 = s < a->w[i];
		uint64_t t = s + carry;
		unsigned c2 = t < s;
		a->w[i] = t;
		carry = c1 | c2;
	}
}

int u256_cmp(const u256 *a, const u256 *b)
{
	for (int i = 3; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

void u256_hex(const u256 *a, char out[65])
{
	for (int i = 3; i >= 0; i--)
		snprintf(out + (3 - i) * 16, 17, "%016llx", (unsigned long long)a->w[i]);
}

int u256_from_hex(const char *hex, u256 *a)
{
	uint8_t be[32];

	if (hash_hex_decode(hex, be, 32) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = (v << 8) | be[(3 - i) * 8 + j];
		a->w[i] = v;
	}
	return 0;
}

/* ---- Targets and work ------------------------------------------------ */

int pow_target_from_bits(uint32_t bits, u256 *target)
{
	unsigned size = bits >> 24;
	uint32_t mant = bits & 0x007fffff;

	memset(target, 0, sizeof(*target));
	if (bits & 0x00800000)
		return -1; /* negative */
	if (size <= 3) {
		target->w[0] = mant >> (8 * (3 - size));
	} else {
		if (mant && (size > 34 || (mant > 0xff && size > 33) || (mant > 0xffff && size > 32)))
			return -1; /* overflow */
		target->w[0] = mant;
		u256_shl(target, 8 * (size - 3));
	}
	return u256_is_zero(target) ? -1 : 0;
}

uint32_t pow_target_to_bits(const u256 *target)
{
	unsigned size = (unsigned)(u256_bits(target) + 7) / 8;
	uint64_t mant;

	if (size <= 3) {
		mant = target->w[0] << (8 * (3 - size));
	} else {
		u256 t = *target;
		for (unsigned i = 0; i < 8 * (size - 3); i++)
			u256_shr1(&t);
		mant = t.w[0];
	}
	if (mant & 0x00800000) { /* keep the sign bit clear */
		mant >>= 8;
		size++;
	}
	return (uint32_t)(mant | (uint64_t)size << 24);
}

bool pow_hash_meets_target(const uint8_t hash[32], const u256 *target)
{
	u256 h;

	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 7; j >= 0; j--)
			v = (v << 8) | hash[i * 8 + j];
		h.w[i] = v;
	}
	return u256_cmp(&h, target) <= 0;
}

/*
 * 2^256 / (t + 1) == (~t / (t + 1)) + 1, which stays within 256 bits.
 * Long division, bit by bit: work is computed once per header.
 */
void pow_work_from_bits(uint32_t bits, u256 *work)
{
	u256 t, num, den, q = { { 0 } }, rem = { { 0 } };
	static const u256 one = { { 1, 0, 0, 0 } };

	memset(work, 0, sizeof(*work));
	if (pow_target_from_bits(bits, &t) < 0)
		return;
	for (int i = 0; i < 4; i++)
		num.w[i] = ~t.w[i];
	den = t;
	u256_add(&den, &one);
	if (u256_is_zero(&den)) { /* t was 2^256-1 */
		*work = one;
		return;
	}
	for (int bit = 255; bit >= 0; bit--) {
		u256_shl(&rem, 1);
		rem.w[0] |= (num.w[bit / 64] >> (bit % 64)) & 1;
		u256_shl(&q, 1);
		if (u256_cmp(&rem, &den) >= 0) {
			u256_sub(&rem, &den);
			q.w[0] |= 1;
		}
	}
	u256_add(&q, &one);
	*work = q;
}
