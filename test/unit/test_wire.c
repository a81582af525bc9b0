/*
 * Unit tests for the wire layer: src/hash.c, src/ser.c, src/msg.c.
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "msg.h"
#include "ser.h"
#include "unit.h"

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	hash_hex(b, n, out);
}

UNIT_TEST(hash_sha256_known_vectors)
{
	uint8_t h[HASH_SIZE];
	char hex[65];

	hash_sha256("", 0, h);
	hex_of(h, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_sha256("abc", 3, h);
	hex_of(h, HASH_SIZE, hex);
	CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

UNIT_TEST(hash_sha256d_empty_is_bitcoins_empty_checksum)
{
	uint8_t h[HASH_SIZE];
	char hex[65];

	hash_sha256d("", 0, h);
	hex_of(h, 4, hex);
	CHECK_EQ_STR(hex, "5df6e0e2");
	hash_hex_reversed(h, hex);
	CHECK_EQ_STR(hex, "56944c5d3f98413ef45cf54545538103cc9f298e0575820ad3591376e2e0f65d");
}

UNIT_TEST(ser_compact_size_boundaries_round_trip)
{
	static const uint64_t values[] = { 0, 0xfc, 0xfd, 0xffff, 0x10000,
					   0xffffffff, 0x100000000ULL, UINT64_MAX };
	static const size_t sizes[] = { 1, 1, 3, 3, 5, 5, 9, 9 };

	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		struct wbuf w;
		struct rbuf r;

		wbuf_init(&w);
		wbuf_compact(&w, values[i]);
		CHECK_EQ_INT(w.len, sizes[i]);
		rbuf_init(&r, w.data, w.len);
		CHECK(rbuf_compact(&r, UINT64_MAX) == values[i]);
		CHECK(!r.err);
		CHECK_EQ_INT(rbuf_remaining(&r), 0);
		wbuf_free(&w);
	}
}

UNIT_TEST(ser_compact_size_rejects_non_canonical_and_over_limit)
{
	static const uint8_t fd_small[] = { 0xfd, 0xfc, 0x00 };
	static const uint8_t fe_small[] = { 0xfe, 0xff, 0xff, 0x00, 0x00 };
	static const uint8_t ff_small[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
	static const uint8_t truncated[] = { 0xfe, 0x01 };
	static const uint8_t big[] = { 0xfd, 0x00, 0x01 };
	struct rbuf r;

	rbuf_init(&r, fd_small, sizeof(fd_small));
	rbuf_compact(&r, UINT64_MAX);
	CHECK(r.err);
	rbuf_init(&r, fe_small, sizeof(fe_small));
	rbuf_compact(&r, UINT64_MAX);
	CHECK(r.err);
	rbuf_init(&r, ff_small, sizeof(ff_small));
	rbuf_compact(&r, UINT64_MAX);
	CHECK(r.err);
	rbuf_init(&r, truncated, sizeof(truncated));
	rbuf_compact(&r, UINT64_MAX);
	CHECK(r.err);
	rbuf_init(&r, big, sizeof(big));
	CHECK_EQ_INT(rbuf_compact(&r, 255), 0);
	CHECK(r.err);
}

UNIT_TEST(ser_reader_never_reads_past_the_end)
{
	static const uint8_t three[] = { 1, 2, 3 };
	struct rbuf r;

	rbuf_init(&r, three, sizeof(three));
	CHECK_EQ_INT(rbuf_u16(&r), 0x0201);
	CHECK_EQ_INT(rbuf_u32(&r), 0);
	CHECK(r.err);
	CHECK_EQ_INT(rbuf_u8(&r), 0); /* sticky: later reads fail too */
	CHECK_EQ_INT(rbuf_remaining(&r), 0);
}

UNIT_TEST(ser_varstr_limits)
{
	struct wbuf w;
	struct rbuf r;
	char out[8];

	wbuf_init(&w);
	wbuf_varstr(&w, "seven77");
	rbuf_init(&r, w.data, w.len);
	rbuf_varstr(&r, out, sizeof(out));
	CHECK(!r.err);
	CHECK_EQ_STR(out, "seven77");
	wbuf_free(&w);

	wbuf_init(&w);
	wbuf_varstr(&w, "eight888");
	rbuf_init(&r, w.data, w.len);
	rbuf_varstr(&r, out, sizeof(out));
	CHECK(r.err);
	CHECK_EQ_STR(out, "");
	wbuf_free(&w);
}

/* A framed message's header, parsed back. */
static int parse_framed(const char *cmd, const uint8_t *payload, size_t len,
			struct msg_header *hdr, char *reason, struct wbuf *w)
{
	wbuf_init(w);
	msg_frame(w, cmd, payload, len);
	return msg_header_parse(w->data, hdr, reason);
}

UNIT_TEST(msg_frame_and_parse_round_trip)
{
	static const uint8_t payload[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct msg_header hdr;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	CHECK_EQ_INT(parse_framed("ping", payload, sizeof(payload), &hdr, reason, &w), 0);
	CHECK_EQ_INT(w.len, MSG_HEADER_SIZE + sizeof(payload));
	CHECK_EQ_STR(hdr.command, "ping");
	CHECK_EQ_INT(hdr.length, sizeof(payload));
	CHECK(msg_checksum_ok(&hdr, w.data + MSG_HEADER_SIZE));
	w.data[MSG_HEADER_SIZE] ^= 1;
	CHECK(!msg_checksum_ok(&hdr, w.data + MSG_HEADER_SIZE));
	wbuf_free(&w);
}

UNIT_TEST(msg_header_rejects_each_malformation_with_its_reason)
{
	struct msg_header hdr;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	parse_framed("verack", NULL, 0, &hdr, reason, &w);
	w.data[0] = 0xf9;
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "wrong network magic");
	w.data[0] = MSG_MAGIC[0];

	w.data[4 + 7] = 'x'; /* a byte after the NUL padding starts */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	w.data[4 + 7] = 0;

	w.data[4] = 0x07; /* unprintable command */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	w.data[4] = 'v';

	w.data[16] = 0x01; /* length 4000001 */
	w.data[17] = 0x09;
	w.data[18] = 0x3d;
	w.data[19] = 0x00;
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "oversized message: 4000001 bytes");
	wbuf_free(&w);
}

static void sample_version(struct msg_version *v)
{
	memset(v, 0, sizeof(*v));
	v->version = MSG_PROTOCOL_VERSION;
	v->services = 0x409;
	v->timestamp = 1700000000;
	v->addr_recv.ip[10] = v->addr_recv.ip[11] = 0xff;
	v->addr_recv.ip[12] = 127;
	v->addr_recv.ip[15] = 1;
	v->addr_recv.port = MSG_DEFAULT_PORT;
	v->nonce = 0x0123456789abcdefULL;
	strcpy(v->user_agent, MSG_USER_AGENT);
	v->start_height = 42;
	v->relay = false;
}

UNIT_TEST(msg_version_round_trip)
{
	struct msg_version in, out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_version(&in);
	wbuf_init(&w);
	msg_version_encode(&w, &in);
	CHECK_EQ_INT(msg_version_decode(w.data, w.len, &out, reason), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	wbuf_free(&w);
}

UNIT_TEST(msg_version_truncated_at_every_length)
{
	struct msg_version in, out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;
	/* Without user agent bytes: 4+8+8+26+26+8, then the varstr. */
	size_t required = 80 + 1 + strlen(MSG_USER_AGENT);

	sample_version(&in);
	wbuf_init(&w);
	msg_version_encode(&w, &in);
	for (size_t len = 0; len < w.len; len++) {
		/* A copy of exactly len bytes, so ASan sees any over-read. */
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, w.data, len);
		int rc = msg_version_decode(copy, len, &out, reason);
		if (len < required) {
			CHECK_EQ_INT(rc, -1);
			CHECK_EQ_STR(reason, "malformed version message");
		} else {
			CHECK_EQ_INT(rc, 0); /* start_height and relay are optional */
		}
		free(copy);
	}
	wbuf_free(&w);
}

static int count_check(const char *cmd, uint64_t count, size_t entry, size_t prefix,
		       char *reason, uint64_t *got)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	for (size_t i = 0; i < prefix; i++)
		wbuf_u8(&w, 0);
	wbuf_compact(&w, count);
	/* Only fill entries for small counts; large ones must fail on the count. */
	if (count <= 3) {
		for (size_t i = 0; i < count * entry + (prefix ? 32 : 0); i++)
			wbuf_u8(&w, (uint8_t)i);
	}
	rc = msg_count_check(cmd, w.data, w.len, got, reason);
	wbuf_free(&w);
	return rc;
}

UNIT_TEST(msg_count_limits_with_exact_reasons)
{
	char reason[MSG_REASON_MAX];
	uint64_t got;

	CHECK_EQ_INT(count_check("getdata", 50001, 36, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "getdata message size = 50001");
	CHECK_EQ_INT(count_check("inv", 50001, 36, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "inv message size = 50001");
	CHECK_EQ_INT(count_check("headers", 2001, 81, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "headers message size = 2001");
	CHECK_EQ_INT(count_check("addr", 1001, 30, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "addr message size = 1001");
	CHECK_EQ_INT(count_check("getheaders", 102, 32, 4, reason, &got), -1);
	CHECK_EQ_STR(reason, "getheaders locator size = 102");

	CHECK_EQ_INT(count_check("inv", 3, 36, 0, reason, &got), 0);
	CHECK_EQ_INT(got, 3);
	CHECK_EQ_INT(count_check("getheaders", 2, 32, 4, reason, &got), 0);
	CHECK_EQ_INT(got, 2);
	/* A count that lies about the bytes that follow. */
	CHECK_EQ_INT(count_check("getdata", 50000, 36, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "malformed getdata message");
	CHECK_EQ_INT(msg_count_check("notfound", NULL, 0, &got, reason), -1);
	CHECK_EQ_STR(reason, "malformed notfound message");
	/* Messages without counts pass through. */
	CHECK_EQ_INT(msg_count_check("sendheaders", NULL, 0, &got, reason), 0);
}

UNIT_TEST(msg_nonce_exact_length)
{
	static const uint8_t nine[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	char reason[MSG_REASON_MAX];
	uint64_t nonce;

	CHECK_EQ_INT(msg_nonce_decode("ping", nine, 8, &nonce, reason), 0);
	CHECK_EQ_INT(nonce, 1);
	CHECK_EQ_INT(msg_nonce_decode("pong", nine, 9, &nonce, reason), -1);
	CHECK_EQ_STR(reason, "malformed pong message");
	CHECK_EQ_INT(msg_nonce_decode("ping", nine, 7, &nonce, reason), -1);
	CHECK_EQ_STR(reason, "malformed ping message");
}
