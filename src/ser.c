/*
 * ser.c — Bitcoin serialization primitives.
 */
#include "ser.h"

#include <stdlib.h>
#include <string.h>

void ser_write_init(struct wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void ser_write_free(struct wbuf *w)
{
	if (!w)
		return;
	free(w->data);
	ser_write_init(w);
}

/* Make room for n more bytes; false (and oom set) if that is impossible. */
static bool wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t want, cap;
	uint8_t *data;

	if (w->oom)
		return false;
	if (n <= w->cap - w->len)
		return true;
	if (n > SIZE_MAX - w->len) {
		w->oom = true;
		return false;
	}
	want = w->len + n;
	cap = w->cap ? w->cap : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	data = realloc(w->data, cap);
	if (!data) {
		w->oom = true;
		return false;
	}
	w->data = data;
	w->cap = cap;
	return true;
}

void ser_write_bytes(struct wbuf *w, const void *p, size_t n)
{
	if (n == 0 || !wbuf_reserve(w, n))
		return;
	memcpy(w->data + w->len, p, n);
	w->len += n;
}

/* Little-endian, whatever the host's byte order. */
static void wbuf_le(struct wbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	ser_write_bytes(w, b, n);
}

void ser_write_u8(struct wbuf *w, uint8_t v) { wbuf_le(w, v, 1); }
void ser_write_u16(struct wbuf *w, uint16_t v) { wbuf_le(w, v, 2); }
void ser_write_u32(struct wbuf *w, uint32_t v) { wbuf_le(w, v, 4); }
void ser_write_u64(struct wbuf *w, uint64_t v) { wbuf_le(w, v, 8); }
void ser_write_i32(struct wbuf *w, int32_t v) { wbuf_le(w, (uint32_t)v, 4); }
void ser_write_i64(struct wbuf *w, int64_t v) { wbuf_le(w, (uint64_t)v, 8); }

void ser_write_u16be(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	ser_write_bytes(w, b, 2);
}

void ser_write_compact(struct wbuf *w, uint64_t v)
{
	if (v < 0xfd) {
		ser_write_u8(w, (uint8_t)v);
	} else if (v <= 0xffff) {
		ser_write_u8(w, 0xfd);
		ser_write_u16(w, (uint16_t)v);
	} else if (v <= 0xffffffff) {
		ser_write_u8(w, 0xfe);
		ser_write_u32(w, (uint32_t)v);
	} else {
		ser_write_u8(w, 0xff);
		ser_write_u64(w, v);
	}
}

void ser_write_varstr(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	ser_write_compact(w, n);
	ser_write_bytes(w, s, n);
}

void ser_read_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->err = false;
}

size_t ser_read_remaining(const struct rbuf *r)
{
	return r->err ? 0 : r->len - r->pos;
}

void ser_read_bytes(struct rbuf *r, void *out, size_t n)
{
	if (n == 0) /* also keeps memcpy away from a NULL buffer */
		return;
	if (r->err || n > r->len - r->pos) {
		r->err = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
}

static uint64_t rbuf_le(struct rbuf *r, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;

	ser_read_bytes(r, b, n);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t ser_read_u8(struct rbuf *r) { return (uint8_t)rbuf_le(r, 1); }
uint16_t ser_read_u16(struct rbuf *r) { return (uint16_t)rbuf_le(r, 2); }
uint32_t ser_read_u32(struct rbuf *r) { return (uint32_t)rbuf_le(r, 4); }
uint64_t ser_read_u64(struct rbuf *r) { return rbuf_le(r, 8); }
int32_t ser_read_i32(struct rbuf *r) { return (int32_t)ser_read_u32(r); }
int64_t ser_read_i64(struct rbuf *r) { return (int64_t)ser_read_u64(r); }

uint16_t ser_read_u16be(struct rbuf *r)
{
	uint8_t b[2];

	ser_read_bytes(r, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint64_t ser_read_compact(struct rbuf *r, uint64_t max)
{
	uint8_t tag = ser_read_u8(r);
	uint64_t v, min;

	if (tag < 0xfd) {
		v = tag;
		min = 0;
	} else if (tag == 0xfd) {
		v = ser_read_u16(r);
		min = 0xfd;
	} else if (tag == 0xfe) {
		v = ser_read_u32(r);
		min = 0x10000;
	} else {
		v = ser_read_u64(r);
		min = 0x100000000ULL;
	}
	/* Non-canonical (could have been shorter) or over the caller's limit. */
	if (r->err || v < min || v > max) {
		r->err = true;
		return 0;
	}
	return v;
}

void ser_read_varstr(struct rbuf *r, char *out, size_t cap)
{
	uint64_t n = ser_read_compact(r, cap - 1);

	out[0] = '\0';
	if (r->err)
		return;
	ser_read_bytes(r, out, (size_t)n);
	out[r->err ? 0 : n] = '\0';
	if (!r->err && memchr(out, '\0', (size_t)n))
		r->err = true;
}

void ser_write_reset(struct wbuf *w)
{
	w->len = 0;
	w->oom = false;
}

bool ser_read_done(const struct rbuf *r)
{
	return !r->err && r->pos == r->len;
}

/* A CompactSize count of items each at least min_size bytes long, bounded
 * by what is left in r so a lying count cannot make us allocate. */
uint64_t ser_read_count(struct rbuf *r, size_t min_size, uint64_t max)
{
	uint64_t n = ser_read_compact(r, max);

	if (!r->err && n > ser_read_remaining(r) / min_size)
		r->err = true;
	return r->err ? 0 : n;
}
