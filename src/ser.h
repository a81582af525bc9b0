/*
 * ser.h — Bitcoin serialization: a growable writer and a bounds-checked reader.
 *
 * Writers never fail part-way: on allocation failure `oom` is set and later
 * writes are ignored, so callers check once at the end. Readers never read
 * past the end: an over-read or a malformed value sets `err`, returns zeroes,
 * and every later read fails too, so callers check once at the end.
 */
#ifndef MR_SER_H
#define MR_SER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wbuf {
	uint8_t *data; /* owned; free with ser_write_free */
	size_t len, cap;
	bool oom;
};

/* An empty writer (no allocation until the first write). */
void ser_write_init(struct wbuf *w);
/* Release the buffer and leave w empty, as after ser_write_init. Accepts NULL. */
void ser_write_free(struct wbuf *w);
/* Append n bytes of p (p may be NULL when n is 0). On allocation failure
 * sets oom; once oom is set every write is ignored. */
void ser_write_bytes(struct wbuf *w, const void *p, size_t n);
/* The fixed-size writers below append like ser_write_bytes. */
void ser_write_u8(struct wbuf *w, uint8_t v);
void ser_write_u16(struct wbuf *w, uint16_t v);    /* little-endian */
void ser_write_u16be(struct wbuf *w, uint16_t v);  /* big-endian (ports) */
void ser_write_u32(struct wbuf *w, uint32_t v);
void ser_write_u64(struct wbuf *w, uint64_t v);
void ser_write_i32(struct wbuf *w, int32_t v);
void ser_write_i64(struct wbuf *w, int64_t v);
/* CompactSize: 1, 3, 5 or 9 bytes, the shortest encoding. */
void ser_write_compact(struct wbuf *w, uint64_t v);
/* CompactSize length then the bytes of a NUL-terminated string. */
void ser_write_varstr(struct wbuf *w, const char *s);

struct rbuf {
	const uint8_t *p; /* not owned */
	size_t len, pos;
	bool err;
};

/* Read len bytes at p (not copied: p must outlive r). */
void ser_read_init(struct rbuf *r, const void *p, size_t len);
/* Bytes left to read; 0 once err is set. */
size_t ser_read_remaining(const struct rbuf *r);
/* Copies n bytes into out (zeroes on error). The fixed-size readers below
 * return 0 once err is set or when fewer bytes remain than they need. */
void ser_read_bytes(struct rbuf *r, void *out, size_t n);
uint8_t ser_read_u8(struct rbuf *r);
uint16_t ser_read_u16(struct rbuf *r);
uint16_t ser_read_u16be(struct rbuf *r);
uint32_t ser_read_u32(struct rbuf *r);
uint64_t ser_read_u64(struct rbuf *r);
int32_t ser_read_i32(struct rbuf *r);
int64_t ser_read_i64(struct rbuf *r);
/* CompactSize, rejecting non-canonical encodings and values above `max`
 * (both set err). */
uint64_t ser_read_compact(struct rbuf *r, uint64_t max);
/* A CompactSize count of items each at least min_size bytes long (and at
 * most max), bounded by what is left in r, so a lying count cannot make
 * the caller allocate: too large a count sets err. Returns 0 once err is
 * set. */
uint64_t ser_read_count(struct rbuf *r, size_t min_size, uint64_t max);
/* A CompactSize-prefixed string into out (cap bytes incl. NUL); a string
 * longer than cap-1 or containing NUL sets err. */
void ser_read_varstr(struct rbuf *r, char *out, size_t cap);

/* Forget the contents (len 0, oom cleared) but keep the allocation. */
void ser_write_reset(struct wbuf *w);

/* True if every byte was read and nothing failed: payloads must not carry
 * trailing bytes. */
bool ser_read_done(const struct rbuf *r);

#endif
