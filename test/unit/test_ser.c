/*
 * Unit tests for src/ser.c: the writer's encodings and oom flag, the
 * reader's bounds and sticky error, CompactSize, var-strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ser.h"
#include "unit.h"

/* True if w holds exactly the n bytes of want. */
static int holds(const struct wbuf *w, const uint8_t *want, size_t n)
{
	return !w->oom && w->len == n && memcmp(w->data, want, n) == 0;
}

UNIT_TEST(ser_writer_byte_orders)
{
	static const uint8_t want[] = {
		0xab,                                           /* u8 */
		0x34, 0x12,                                     /* u16 LE */
		0x12, 0x34,                                     /* u16 BE */
		0x78, 0x56, 0x34, 0x12,                         /* u32 */
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, /* u64 */
		0xfe, 0xff, 0xff, 0xff,                         /* i32 -2 */
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* i64 -1 */
		0x03, 'a', 'b', 'c',                            /* varstr */
	};
	struct wbuf w;

	ser_write_init(&w);
	ser_write_u8(&w, 0xab);
	ser_write_u16(&w, 0x1234);
	ser_write_u16be(&w, 0x1234);
	ser_write_u32(&w, 0x12345678);
	ser_write_u64(&w, 0x0123456789abcdefULL);
	ser_write_i32(&w, -2);
	ser_write_i64(&w, -1);
	ser_write_varstr(&w, "abc");
	CHECK(holds(&w, want, sizeof(want)));

	struct rbuf r;

	ser_read_init(&r, w.data, w.len);
	CHECK_EQ_INT(ser_read_u8(&r), 0xab);
	CHECK_EQ_INT(ser_read_u16(&r), 0x1234);
	CHECK_EQ_INT(ser_read_u16be(&r), 0x1234);
	CHECK_EQ_INT(ser_read_u32(&r), 0x12345678);
	CHECK(ser_read_u64(&r) == 0x0123456789abcdefULL);
	CHECK_EQ_INT(ser_read_i32(&r), -2);
	CHECK_EQ_INT(ser_read_i64(&r), -1);
	char s[8];
	ser_read_varstr(&r, s, sizeof(s));
	CHECK_EQ_STR(s, "abc");
	CHECK(ser_read_done(&r));
	ser_write_free(&w);
}

UNIT_TEST(ser_writer_grows_and_resets)
{
	struct wbuf w;

	ser_write_init(&w);
	for (uint32_t i = 0; i < 10000; i++)
		ser_write_u32(&w, i);
	CHECK_EQ_INT(w.len, 40000);
	CHECK(!w.oom);
	CHECK(w.data[4 * 9999] == (uint8_t)9999 && w.data[4 * 9999 + 1] == (uint8_t)(9999 >> 8));
	ser_write_reset(&w);
	CHECK_EQ_INT(w.len, 0);
	CHECK(w.cap >= 40000); /* allocation kept */
	ser_write_u8(&w, 7);
	CHECK_EQ_INT(w.len, 1);
	CHECK_EQ_INT(w.data[0], 7);
	ser_write_free(&w);
	CHECK(w.data == NULL && w.len == 0 && w.cap == 0);
	ser_write_free(NULL);
}

UNIT_TEST(ser_writer_oom_is_sticky)
{
	static const uint8_t one = 1;
	struct wbuf w;

	ser_write_init(&w);
	ser_write_u8(&w, 9);
	/* A size that cannot fit beside the byte already there: oom, no write. */
	ser_write_bytes(&w, &one, SIZE_MAX);
	CHECK(w.oom);
	CHECK_EQ_INT(w.len, 1);
	ser_write_u32(&w, 5); /* ignored after oom */
	CHECK_EQ_INT(w.len, 1);
	ser_write_reset(&w);
	CHECK(!w.oom);
	ser_write_free(&w);
}

UNIT_TEST(ser_compact_size_boundaries_round_trip)
{
	static const uint64_t values[] = { 0, 0xfc, 0xfd, 0xffff, 0x10000,
					   0xffffffff, 0x100000000ULL, UINT64_MAX };
	static const size_t sizes[] = { 1, 1, 3, 3, 5, 5, 9, 9 };
	static const uint8_t tags[] = { 0x00, 0xfc, 0xfd, 0xfd, 0xfe, 0xfe, 0xff, 0xff };

	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		struct wbuf w;
		struct rbuf r;

		ser_write_init(&w);
		ser_write_compact(&w, values[i]);
		CHECK_EQ_INT(w.len, sizes[i]);
		CHECK_EQ_INT(w.data[0], tags[i]);
		ser_read_init(&r, w.data, w.len);
		CHECK(ser_read_compact(&r, UINT64_MAX) == values[i]);
		CHECK(ser_read_done(&r));
		/* The exact value is within a limit equal to it, not one below. */
		ser_read_init(&r, w.data, w.len);
		CHECK(ser_read_compact(&r, values[i]) == values[i] && !r.err);
		if (values[i] > 0) {
			ser_read_init(&r, w.data, w.len);
			CHECK_EQ_INT(ser_read_compact(&r, values[i] - 1), 0);
			CHECK(r.err);
		}
		ser_write_free(&w);
	}
}

UNIT_TEST(ser_compact_size_rejects_non_canonical)
{
	static const uint8_t fd_small[] = { 0xfd, 0xfc, 0x00 };
	static const uint8_t fd_zero[] = { 0xfd, 0x00, 0x00 };
	static const uint8_t fe_small[] = { 0xfe, 0xff, 0xff, 0x00, 0x00 };
	static const uint8_t ff_small[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t *const bad[] = { fd_small, fd_zero, fe_small, ff_small };
	static const size_t lens[] = { sizeof(fd_small), sizeof(fd_zero), sizeof(fe_small),
				       sizeof(ff_small) };
	static const uint8_t fd_min[] = { 0xfd, 0xfd, 0x00 };
	struct rbuf r;

	for (size_t i = 0; i < 4; i++) {
		ser_read_init(&r, bad[i], lens[i]);
		CHECK_EQ_INT(ser_read_compact(&r, UINT64_MAX), 0);
		CHECK(r.err);
	}
	ser_read_init(&r, fd_min, sizeof(fd_min));
	CHECK_EQ_INT(ser_read_compact(&r, UINT64_MAX), 0xfd);
	CHECK(ser_read_done(&r));
}

UNIT_TEST(ser_compact_size_truncated_at_every_length)
{
	static const uint64_t values[] = { 0xfd, 0x10000, 0x100000000ULL };

	for (size_t i = 0; i < 3; i++) {
		struct wbuf w;

		ser_write_init(&w);
		ser_write_compact(&w, values[i]);
		for (size_t len = 0; len < w.len; len++) {
			uint8_t *copy = malloc(len ? len : 1); /* exact size for ASan */
			struct rbuf r;

			memcpy(copy, w.data, len);
			ser_read_init(&r, copy, len);
			CHECK_EQ_INT(ser_read_compact(&r, UINT64_MAX), 0);
			CHECK(r.err);
			free(copy);
		}
		ser_write_free(&w);
	}
}

UNIT_TEST(ser_reader_never_reads_past_the_end)
{
	static const uint8_t three[] = { 1, 2, 3 };
	uint8_t out[4] = { 9, 9, 9, 9 };
	struct rbuf r;

	ser_read_init(&r, three, sizeof(three));
	CHECK_EQ_INT(ser_read_u16(&r), 0x0201);
	CHECK_EQ_INT(ser_read_remaining(&r), 1);
	CHECK_EQ_INT(ser_read_u32(&r), 0);
	CHECK(r.err);
	CHECK_EQ_INT(ser_read_u8(&r), 0); /* sticky: later reads fail too */
	CHECK_EQ_INT(ser_read_remaining(&r), 0);
	CHECK(!ser_read_done(&r));
	ser_read_bytes(&r, out, sizeof(out));
	CHECK(out[0] == 0 && out[3] == 0); /* zeroed, not left as garbage */

	ser_read_init(&r, NULL, 0);
	ser_read_bytes(&r, out, 0);
	CHECK(ser_read_done(&r));
	CHECK_EQ_INT(ser_read_u64(&r), 0);
	CHECK(r.err);
}

UNIT_TEST(ser_reader_done_requires_every_byte)
{
	static const uint8_t two[] = { 1, 2 };
	struct rbuf r;

	ser_read_init(&r, two, sizeof(two));
	ser_read_u8(&r);
	CHECK(!ser_read_done(&r));
	ser_read_u8(&r);
	CHECK(ser_read_done(&r));
}

UNIT_TEST(ser_varstr_limits)
{
	static const uint8_t with_nul[] = { 3, 'a', 0, 'b' };
	static const uint8_t short_body[] = { 5, 'a', 'b' };
	struct wbuf w;
	struct rbuf r;
	char out[8];

	ser_write_init(&w);
	ser_write_varstr(&w, "seven77");
	ser_read_init(&r, w.data, w.len);
	ser_read_varstr(&r, out, sizeof(out));
	CHECK(ser_read_done(&r));
	CHECK_EQ_STR(out, "seven77");
	ser_write_free(&w);

	ser_write_init(&w);
	ser_write_varstr(&w, "eight888"); /* one more than out holds */
	ser_read_init(&r, w.data, w.len);
	ser_read_varstr(&r, out, sizeof(out));
	CHECK(r.err);
	CHECK_EQ_STR(out, "");
	ser_write_free(&w);

	ser_read_init(&r, with_nul, sizeof(with_nul));
	ser_read_varstr(&r, out, sizeof(out));
	CHECK(r.err);
	ser_read_init(&r, short_body, sizeof(short_body));
	ser_read_varstr(&r, out, sizeof(out));
	CHECK(r.err);
	CHECK_EQ_STR(out, "");
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(ser_write_free_accepts_null)
{
	ser_write_free(NULL);
}
