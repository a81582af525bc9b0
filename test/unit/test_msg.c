/*
 * Unit tests for src/msg.c: framing and header validation, every message's
 * round trip, truncation at every length, trailing bytes, count limits with
 * their exact reason text, and random payloads (run under ASan+UBSan too).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "msg.h"
#include "ser.h"
#include "unit.h"

/* A heap copy of exactly len bytes, so ASan catches any over-read. */
static uint8_t *exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (len)
		memcpy(copy, p, len);
	return copy;
}

/* ---- framing ------------------------------------------------------------ */

/* A framed message's header, parsed back. */
static int parse_framed(const char *cmd, const uint8_t *payload, size_t len,
			struct msg_header *hdr, char *reason, struct wbuf *w)
{
	ser_write_init(w);
	msg_frame(w, cmd, payload, len);
	return msg_header_parse(w->data, hdr, reason);
}

UNIT_TEST(msg_frame_of_empty_payload_is_bitcoins_verack_layout)
{
	static const uint8_t want[MSG_HEADER_SIZE] = {
		0x4d, 0x52, 0x4b, 0x54, 'v', 'e', 'r', 'a', 'c', 'k', 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0x5d, 0xf6, 0xe0, 0xe2,
	};
	struct wbuf w;

	ser_write_init(&w);
	msg_frame(&w, "verack", NULL, 0);
	CHECK_EQ_INT(w.len, MSG_HEADER_SIZE);
	CHECK(memcmp(w.data, want, sizeof(want)) == 0);
	ser_write_free(&w);
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
	CHECK_EQ_INT(msg_checksum_verify(&hdr, w.data + MSG_HEADER_SIZE, reason), 0);
	w.data[MSG_HEADER_SIZE] ^= 1;
	CHECK(!msg_checksum_ok(&hdr, w.data + MSG_HEADER_SIZE));
	CHECK_EQ_INT(msg_checksum_verify(&hdr, w.data + MSG_HEADER_SIZE, reason),
		     MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "checksum mismatch for ping message");
	ser_write_free(&w);

	/* A 12-character command fills the field with no NUL at all. */
	CHECK_EQ_INT(parse_framed("abcdefghijkl", NULL, 0, &hdr, reason, &w), 0);
	CHECK_EQ_STR(hdr.command, "abcdefghijkl");
	ser_write_free(&w);
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
	w.data[3] ^= 0x20; /* "MRKt" */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "wrong network magic");
	w.data[3] ^= 0x20;

	w.data[4 + 7] = 'x'; /* a byte after the NUL padding starts */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	w.data[4 + 7] = 0;

	w.data[4] = 0x07; /* unprintable command */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	w.data[4] = 0x80; /* not ASCII */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	memset(w.data + 4, 0, MSG_COMMAND_SIZE); /* empty command */
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "malformed message header");
	memcpy(w.data + 4, "verack", 6);

	w.data[16] = 0x01; /* length 4000001 */
	w.data[17] = 0x09;
	w.data[18] = 0x3d;
	w.data[19] = 0x00;
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "oversized message: 4000001 bytes");
	memset(w.data + 16, 0xff, 4);
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), -1);
	CHECK_EQ_STR(reason, "oversized message: 4294967295 bytes");
	w.data[16] = 0x00; /* 4000000 is the largest allowed */
	w.data[17] = 0x09;
	w.data[18] = 0x3d;
	w.data[19] = 0x00;
	CHECK_EQ_INT(msg_header_parse(w.data, &hdr, reason), 0);
	CHECK_EQ_INT(hdr.length, MSG_MAX_PAYLOAD);
	ser_write_free(&w);
}

UNIT_TEST(msg_unframe_waits_for_whole_messages)
{
	static const uint8_t payload[] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	struct msg_header hdr;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	ser_write_init(&w);
	msg_frame(&w, "ping", payload, sizeof(payload));
	msg_frame(&w, "verack", NULL, 0);
	/* Every truncation of the first message (header or payload): need more. */
	for (size_t len = 0; len < MSG_HEADER_SIZE + sizeof(payload); len++) {
		uint8_t *copy = exact_copy(w.data, len);

		CHECK_EQ_INT(msg_unframe(copy, len, &hdr, reason), 0);
		free(copy);
	}
	CHECK_EQ_INT(msg_unframe(w.data, w.len, &hdr, reason), 32);
	CHECK_EQ_STR(hdr.command, "ping");
	CHECK_EQ_INT(msg_unframe(w.data + 32, w.len - 32, &hdr, reason), 24);
	CHECK_EQ_STR(hdr.command, "verack");

	w.data[MSG_HEADER_SIZE + 3] ^= 0x40;
	CHECK_EQ_INT(msg_unframe(w.data, w.len, &hdr, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "checksum mismatch for ping message");
	/* A bad header fails as soon as it is complete, before its payload. */
	w.data[1] = 0;
	CHECK_EQ_INT(msg_unframe(w.data, MSG_HEADER_SIZE, &hdr, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "wrong network magic");
	ser_write_free(&w);

	ser_write_init(&w);
	msg_frame(&w, "version", NULL, 0);
	memset(w.data + 16, 0xff, 4);
	CHECK_EQ_INT(msg_unframe(w.data, w.len, &hdr, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "oversized message: 4294967295 bytes");
	ser_write_free(&w);
}

/* ---- shared payload checks ----------------------------------------------- */

/*
 * Every proper prefix of a valid payload of `cmd` is "malformed <cmd>
 * message", except lengths for which `prefix_ok` (may be NULL) says yes
 * (version's optional fields); one extra byte is malformed unless
 * `trailing_ok`.
 */
static void check_truncations(const char *cmd, const uint8_t *p, size_t len,
			      int (*prefix_ok)(size_t n), int trailing_ok)
{
	char reason[MSG_REASON_MAX], want[MSG_REASON_MAX];
	uint8_t *longer;

	snprintf(want, sizeof(want), "malformed %s message", cmd);
	CHECK_EQ_INT(msg_payload_check(cmd, p, len, reason), 0);
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = exact_copy(p, n);
		int rc = msg_payload_check(cmd, copy, n, reason);

		if (prefix_ok && prefix_ok(n)) {
			CHECK_EQ_INT(rc, 0);
		} else {
			if (rc != MSG_ERR_MALFORMED)
				fprintf(stderr, "  %s truncated to %zu bytes\n", cmd, n);
			CHECK_EQ_INT(rc, MSG_ERR_MALFORMED);
			CHECK_EQ_STR(reason, want);
		}
		free(copy);
	}
	longer = malloc(len + 1);
	if (len)
		memcpy(longer, p, len);
	longer[len] = 0;
	if (trailing_ok) {
		CHECK_EQ_INT(msg_payload_check(cmd, longer, len + 1, reason), 0);
	} else {
		CHECK_EQ_INT(msg_payload_check(cmd, longer, len + 1, reason), MSG_ERR_MALFORMED);
		CHECK_EQ_STR(reason, want);
	}
	free(longer);
}

/* ---- version, ping, pong, empty, feefilter ------------------------------- */

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
	v->addr_from.services = 1;
	v->addr_from.ip[0] = 0x20;
	v->addr_from.ip[15] = 9;
	v->addr_from.port = 65535;
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
	ser_write_init(&w);
	msg_version_encode(&w, &in);
	CHECK_EQ_INT(w.len, 80 + 1 + strlen(MSG_USER_AGENT) + 4 + 1);
	/* Ports are big-endian on the wire: addr_recv's sits at 4+8+8+8+16. */
	CHECK(w.data[44] == (MSG_DEFAULT_PORT >> 8) && w.data[45] == (MSG_DEFAULT_PORT & 0xff));
	CHECK_EQ_INT(msg_version_decode(w.data, w.len, &out, reason), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	ser_write_free(&w);
}

/* 4+8+8+26+26+8 bytes, then the user agent varstr: the required part. */
#define VERSION_REQUIRED (80 + 1 + strlen(MSG_USER_AGENT))

/* Cut after the user agent, after start_height, or (nothing cut) relay. */
static int version_prefix_ok(size_t n)
{
	return n == VERSION_REQUIRED || n == VERSION_REQUIRED + 4;
}

UNIT_TEST(msg_version_truncated_at_every_length)
{
	struct msg_version in, out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;
	size_t required = VERSION_REQUIRED;

	sample_version(&in);
	ser_write_init(&w);
	msg_version_encode(&w, &in);
	CHECK_EQ_INT(w.len, VERSION_REQUIRED + 5);
	check_truncations("version", w.data, w.len, version_prefix_ok, 1);
	/* Without relay: defaults to true; without start_height: 0. */
	CHECK_EQ_INT(msg_version_decode(w.data, w.len - 1, &out, reason), 0);
	CHECK(out.relay);
	CHECK_EQ_INT(out.start_height, 42);
	CHECK_EQ_INT(msg_version_decode(w.data, required, &out, reason), 0);
	CHECK_EQ_INT(out.start_height, 0);
	CHECK_EQ_INT(msg_version_decode(w.data, 30, &out, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed version message");
	ser_write_free(&w);
}

UNIT_TEST(msg_version_user_agent_limit)
{
	struct msg_version in, out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_version(&in);
	memset(in.user_agent, 'u', 256);
	in.user_agent[256] = '\0';
	ser_write_init(&w);
	msg_version_encode(&w, &in);
	CHECK_EQ_INT(msg_version_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(strlen(out.user_agent), 256);
	ser_write_free(&w);

	/* 257 bytes is more than Bitcoin's MAX_SUBVERSION_LENGTH. */
	ser_write_init(&w);
	ser_write_bytes(&w, (uint8_t[80]){ 0 }, 80);
	ser_write_compact(&w, 257);
	for (int i = 0; i < 257; i++)
		ser_write_u8(&w, 'u');
	CHECK_EQ_INT(msg_version_decode(w.data, w.len, &out, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed version message");
	ser_write_free(&w);
}

UNIT_TEST(msg_ping_pong_round_trip_and_exact_length)
{
	static const uint8_t nine[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	char reason[MSG_REASON_MAX];
	uint64_t nonce;
	struct wbuf w;

	ser_write_init(&w);
	msg_nonce_encode(&w, 0x0102030405060708ULL);
	CHECK_EQ_INT(w.len, 8);
	CHECK_EQ_INT(w.data[0], 0x08);
	CHECK_EQ_INT(msg_nonce_decode("pong", w.data, w.len, &nonce, reason), 0);
	CHECK(nonce == 0x0102030405060708ULL);
	check_truncations("ping", w.data, w.len, NULL, 0);
	check_truncations("pong", w.data, w.len, NULL, 0);
	ser_write_free(&w);

	CHECK_EQ_INT(msg_nonce_decode("ping", nine, 8, &nonce, reason), 0);
	CHECK_EQ_INT(nonce, 1);
	CHECK_EQ_INT(msg_nonce_decode("pong", nine, 9, &nonce, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed pong message");
	CHECK_EQ_INT(msg_nonce_decode("ping", nine, 7, &nonce, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed ping message");
}

UNIT_TEST(msg_empty_messages_carry_nothing)
{
	static const char *const empty[] = { "verack", "getaddr", "sendheaders" };
	char reason[MSG_REASON_MAX], want[MSG_REASON_MAX];

	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ_INT(msg_empty_decode(empty[i], 0, reason), 0);
		CHECK_EQ_INT(msg_payload_check(empty[i], NULL, 0, reason), 0);
		check_truncations(empty[i], NULL, 0, NULL, 0);
		CHECK_EQ_INT(msg_empty_decode(empty[i], 1, reason), MSG_ERR_MALFORMED);
		snprintf(want, sizeof(want), "malformed %s message", empty[i]);
		CHECK_EQ_STR(reason, want);
	}
}

UNIT_TEST(msg_feefilter_round_trip)
{
	static const uint8_t negative[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char reason[MSG_REASON_MAX];
	int64_t rate;
	struct wbuf w;

	ser_write_init(&w);
	msg_feefilter_encode(&w, 1000);
	CHECK_EQ_INT(w.len, 8);
	CHECK_EQ_INT(msg_feefilter_decode(w.data, w.len, &rate, reason), 0);
	CHECK_EQ_INT(rate, 1000);
	check_truncations("feefilter", w.data, w.len, NULL, 0);
	ser_write_free(&w);
	CHECK_EQ_INT(msg_feefilter_decode(negative, 8, &rate, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed feefilter message");
}

/* ---- addr ---------------------------------------------------------------- */

static void sample_addrs(struct msg_addr_entry *e, size_t n)
{
	memset(e, 0, n * sizeof(*e));
	for (size_t i = 0; i < n; i++) {
		e[i].time = 1700000000u + (uint32_t)i;
		e[i].addr.services = 0x409;
		if (i % 2 == 0) { /* IPv4-mapped 10.1.2.i */
			e[i].addr.ip[10] = e[i].addr.ip[11] = 0xff;
			e[i].addr.ip[12] = 10;
			e[i].addr.ip[13] = 1;
			e[i].addr.ip[14] = 2;
			e[i].addr.ip[15] = (uint8_t)i;
		} else { /* 2001:db8::i */
			e[i].addr.ip[0] = 0x20;
			e[i].addr.ip[1] = 0x01;
			e[i].addr.ip[2] = 0x0d;
			e[i].addr.ip[3] = 0xb8;
			e[i].addr.ip[15] = (uint8_t)i;
		}
		e[i].addr.port = (uint16_t)(28444 + i);
	}
}

UNIT_TEST(msg_addr_round_trip)
{
	struct msg_addr_entry in[3];
	struct msg_addr out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_addrs(in, 3);
	ser_write_init(&w);
	msg_addr_encode(&w, in, 3);
	CHECK_EQ_INT(w.len, 1 + 3 * 30);
	/* Entry 0: time LE, services LE, ip, port big-endian. */
	CHECK(w.data[1] == (uint8_t)1700000000u && w.data[5] == 0x09 && w.data[6] == 0x04);
	CHECK(w.data[1 + 28] == (28444 >> 8) && w.data[1 + 29] == (28444 & 0xff));
	CHECK_EQ_INT(msg_addr_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(out.count, 3);
	CHECK(out.entries && memcmp(in, out.entries, sizeof(in)) == 0);
	msg_addr_free(&out);
	CHECK(out.entries == NULL && out.count == 0);
	msg_addr_free(NULL);
	check_truncations("addr", w.data, w.len, NULL, 0);
	ser_write_free(&w);

	ser_write_init(&w);
	msg_addr_encode(&w, NULL, 0);
	CHECK_EQ_INT(msg_addr_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(out.count, 0);
	CHECK(out.entries == NULL);
	ser_write_free(&w);
}

UNIT_TEST(msg_addr_limit)
{
	struct msg_addr_entry *e = malloc(1001 * sizeof(*e));
	struct msg_addr out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_addrs(e, 1001);
	ser_write_init(&w);
	msg_addr_encode(&w, e, 1000);
	CHECK_EQ_INT(msg_addr_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(out.count, 1000);
	CHECK(memcmp(out.entries, e, 1000 * sizeof(*e)) == 0);
	msg_addr_free(&out);
	ser_write_reset(&w);
	msg_addr_encode(&w, e, 1001);
	CHECK_EQ_INT(msg_addr_decode(w.data, w.len, &out, reason), MSG_ERR_TOO_MANY);
	CHECK_EQ_STR(reason, "addr message size = 1001");
	CHECK_EQ_INT(out.count, 1001);
	CHECK(out.entries == NULL);
	/* The count alone is enough to judge it. */
	CHECK_EQ_INT(msg_addr_decode(w.data, 3, &out, reason), MSG_ERR_TOO_MANY);
	CHECK_EQ_STR(reason, "addr message size = 1001");
	ser_write_free(&w);
	free(e);
}

/* ---- inv, getdata, notfound ---------------------------------------------- */

static void sample_inv(struct msg_inv_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		e[i].type = i % 2 ? MSG_INV_BLOCK : MSG_INV_TX | MSG_INV_WITNESS_FLAG;
		for (size_t b = 0; b < 32; b++)
			e[i].hash[b] = (uint8_t)(i * 31 + b);
	}
}

UNIT_TEST(msg_inv_round_trip_for_each_type)
{
	static const char *const types[] = { "inv", "getdata", "notfound" };
	struct msg_inv_entry in[4];
	struct msg_inv out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_inv(in, 4);
	ser_write_init(&w);
	msg_inv_encode(&w, in, 4);
	CHECK_EQ_INT(w.len, 1 + 4 * 36);
	for (size_t t = 0; t < 3; t++) {
		CHECK_EQ_INT(msg_inv_decode(types[t], w.data, w.len, &out, reason), 0);
		CHECK_EQ_INT(out.count, 4);
		CHECK(out.entries && memcmp(out.entries, in, sizeof(in)) == 0);
		msg_inv_free(&out);
		check_truncations(types[t], w.data, w.len, NULL, 0);
	}
	msg_inv_free(NULL);
	ser_write_free(&w);
}

UNIT_TEST(msg_inv_limit_reports_count_without_allocating)
{
	static const char *const types[] = { "inv", "getdata", "notfound" };
	/* Claims 2^64-1 entries in 9 bytes: must be judged by the count. */
	static const uint8_t huge[9] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char reason[MSG_REASON_MAX], want[MSG_REASON_MAX];
	struct msg_inv_entry *e = malloc(50001 * sizeof(*e));
	struct msg_inv out;
	struct wbuf w;

	sample_inv(e, 50001);
	ser_write_init(&w);
	for (size_t t = 0; t < 3; t++) {
		ser_write_reset(&w);
		msg_inv_encode(&w, e, 50000);
		CHECK_EQ_INT(msg_inv_decode(types[t], w.data, w.len, &out, reason), 0);
		CHECK_EQ_INT(out.count, 50000);
		msg_inv_free(&out);
		ser_write_reset(&w);
		msg_inv_encode(&w, e, 50001);
		CHECK_EQ_INT(msg_inv_decode(types[t], w.data, w.len, &out, reason),
			     MSG_ERR_TOO_MANY);
		snprintf(want, sizeof(want), "%s message size = 50001", types[t]);
		CHECK_EQ_STR(reason, want);
		CHECK_EQ_INT(out.count, 50001);
		CHECK(out.entries == NULL);
		CHECK_EQ_INT(msg_inv_decode(types[t], huge, sizeof(huge), &out, reason),
			     MSG_ERR_TOO_MANY);
		snprintf(want, sizeof(want), "%s message size = 18446744073709551615", types[t]);
		CHECK_EQ_STR(reason, want);
	}
	ser_write_free(&w);
	free(e);
}

UNIT_TEST(msg_inv_count_must_match_and_be_canonical)
{
	struct msg_inv_entry in[2];
	struct msg_inv out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_inv(in, 2);
	ser_write_init(&w);
	msg_inv_encode(&w, in, 2);
	w.data[0] = 3; /* says 3, carries 2 */
	CHECK_EQ_INT(msg_inv_decode("inv", w.data, w.len, &out, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed inv message");
	w.data[0] = 1; /* says 1, carries 2 */
	CHECK_EQ_INT(msg_inv_decode("inv", w.data, w.len, &out, reason), MSG_ERR_MALFORMED);
	CHECK(out.entries == NULL);
	ser_write_reset(&w);
	ser_write_u8(&w, 0xfd); /* 2 as a 3-byte CompactSize */
	ser_write_u16(&w, 2);
	for (int i = 0; i < 2; i++) {
		ser_write_u32(&w, in[i].type);
		ser_write_bytes(&w, in[i].hash, 32);
	}
	CHECK_EQ_INT(msg_inv_decode("getdata", w.data, w.len, &out, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed getdata message");
	ser_write_free(&w);
}

/* ---- block headers, getheaders, headers ---------------------------------- */

/* Bitcoin's genesis block header. */
static void genesis(struct block_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = 1;
	hash_from_hex_reversed("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
			       h->merkle_root);
	h->time = 1231006505;
	h->bits = 0x1d00ffff;
	h->nonce = 2083236893;
}

UNIT_TEST(block_header_hash_of_bitcoins_genesis)
{
	struct block_header h;
	uint8_t hash[32], again[32];
	char hex[65];
	struct wbuf w;

	genesis(&h);
	block_header_hash(&h, hash);
	hash_hex_reversed(hash, hex);
	CHECK_EQ_STR(hex, "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
	ser_write_init(&w);
	block_header_encode(&w, &h);
	CHECK_EQ_INT(w.len, BLOCK_HEADER_SIZE);
	hash_sha256d(w.data, w.len, again);
	CHECK(memcmp(hash, again, 32) == 0);
	ser_write_free(&w);
}

static void sample_headers(struct block_header *h, size_t n)
{
	uint8_t prev[32] = { 0 };

	for (size_t i = 0; i < n; i++) {
		genesis(&h[i]);
		memcpy(h[i].prev_block, prev, 32);
		h[i].nonce = (uint32_t)i;
		block_header_hash(&h[i], prev);
	}
}

UNIT_TEST(msg_headers_round_trip)
{
	struct block_header in[3];
	struct msg_headers out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_headers(in, 3);
	ser_write_init(&w);
	msg_headers_encode(&w, in, 3);
	CHECK_EQ_INT(w.len, 1 + 3 * 81);
	CHECK_EQ_INT(msg_headers_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(out.count, 3);
	CHECK(out.headers && memcmp(out.headers, in, sizeof(in)) == 0);
	msg_headers_free(&out);
	msg_headers_free(NULL);
	check_truncations("headers", w.data, w.len, NULL, 0);

	w.data[1 + 80] = 1; /* a header claiming a transaction */
	CHECK_EQ_INT(msg_headers_decode(w.data, w.len, &out, reason), MSG_ERR_MALFORMED);
	CHECK_EQ_STR(reason, "malformed headers message");
	CHECK(out.headers == NULL);
	ser_write_free(&w);
}

UNIT_TEST(msg_headers_limit)
{
	struct block_header *h = calloc(2001, sizeof(*h));
	struct msg_headers out;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	sample_headers(h, 2001);
	ser_write_init(&w);
	msg_headers_encode(&w, h, 2000);
	CHECK_EQ_INT(msg_headers_decode(w.data, w.len, &out, reason), 0);
	CHECK_EQ_INT(out.count, 2000);
	msg_headers_free(&out);
	ser_write_reset(&w);
	msg_headers_encode(&w, h, 2001);
	CHECK_EQ_INT(msg_headers_decode(w.data, w.len, &out, reason), MSG_ERR_TOO_MANY);
	CHECK_EQ_STR(reason, "headers message size = 2001");
	CHECK_EQ_INT(out.count, 2001);
	CHECK(out.headers == NULL);
	ser_write_free(&w);
	free(h);
}

UNIT_TEST(msg_getheaders_round_trip_and_limit)
{
	struct msg_getheaders *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	in->version = MSG_PROTOCOL_VERSION;
	in->count = 3;
	for (int i = 0; i < 3; i++)
		memset(in->locator[i], 0x11 * (i + 1), 32);
	memset(in->stop, 0xee, 32);
	ser_write_init(&w);
	msg_getheaders_encode(&w, in);
	CHECK_EQ_INT(w.len, 4 + 1 + 3 * 32 + 32);
	CHECK_EQ_INT(msg_getheaders_decode(w.data, w.len, out, reason), 0);
	CHECK(memcmp(in, out, sizeof(*in)) == 0);
	check_truncations("getheaders", w.data, w.len, NULL, 0);

	in->count = MSG_MAX_LOCATOR;
	ser_write_reset(&w);
	msg_getheaders_encode(&w, in);
	CHECK_EQ_INT(msg_getheaders_decode(w.data, w.len, out, reason), 0);
	CHECK_EQ_INT(out->count, 101);

	/* 102 locator hashes: over the limit, reported with the count. */
	ser_write_reset(&w);
	ser_write_u32(&w, MSG_PROTOCOL_VERSION);
	ser_write_compact(&w, 102);
	for (int i = 0; i < 103; i++)
		ser_write_bytes(&w, in->stop, 32);
	CHECK_EQ_INT(msg_getheaders_decode(w.data, w.len, out, reason), MSG_ERR_TOO_MANY);
	CHECK_EQ_STR(reason, "getheaders locator size = 102");
	CHECK_EQ_INT(out->count, 102);
	CHECK_EQ_INT(msg_payload_check("getheaders", w.data, w.len, reason), MSG_ERR_TOO_MANY);
	CHECK_EQ_STR(reason, "getheaders locator size = 102");
	ser_write_free(&w);
	free(in);
	free(out);
}

/* ---- the seed's count pre-check, and dispatch ---------------------------- */

static int count_check(const char *cmd, uint64_t count, size_t entry, size_t prefix,
		       char *reason, uint64_t *got)
{
	struct wbuf w;
	int rc;

	ser_write_init(&w);
	for (size_t i = 0; i < prefix; i++)
		ser_write_u8(&w, 0);
	ser_write_compact(&w, count);
	/* Only fill entries for small counts; large ones must fail on the count. */
	if (count <= 3) {
		for (size_t i = 0; i < count * entry + (prefix ? 32 : 0); i++)
			ser_write_u8(&w, (uint8_t)i);
	}
	rc = msg_count_check(cmd, w.data, w.len, got, reason);
	ser_write_free(&w);
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
	CHECK_EQ_INT(count_check("notfound", 50001, 36, 0, reason, &got), -1);
	CHECK_EQ_STR(reason, "notfound message size = 50001");
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

UNIT_TEST(msg_known_types_and_unknown_pass)
{
	static const char *const known[] = {
		"version", "verack", "ping", "pong", "addr", "getaddr", "sendheaders",
		"feefilter", "inv", "getdata", "notfound", "getheaders", "headers",
	};
	static const uint8_t junk[] = { 0xff, 0x00, 0x13 };
	char reason[MSG_REASON_MAX];

	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
		CHECK(msg_is_known(known[i]));
	CHECK(!msg_is_known("xyzzy"));
	CHECK(!msg_is_known("Version"));
	CHECK(!msg_is_known(""));
	CHECK_EQ_INT(msg_payload_check("xyzzy", junk, sizeof(junk), reason), 0);
}

/* xorshift64: a fixed, repeatable sequence of "peer input". */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

UNIT_TEST(msg_random_payloads_never_crash)
{
	static const char *const known[] = {
		"version", "verack", "ping", "pong", "addr", "getaddr", "sendheaders",
		"feefilter", "inv", "getdata", "notfound", "getheaders", "headers",
	};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char reason[MSG_REASON_MAX];
	int failures = 0;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = next_random(&seed) % 300;
		uint8_t *p = malloc(len ? len : 1);
		const char *cmd = known[iter % 13];

		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)next_random(&seed);
		/* Small counts now and then, so decoding goes past the count. */
		if (len && iter % 3 == 0)
			p[0] = (uint8_t)(next_random(&seed) % 4);
		reason[0] = '\0';
		int rc = msg_payload_check(cmd, p, len, reason);
		if (rc != 0) {
			failures++;
			if (rc != MSG_ERR_MALFORMED && rc != MSG_ERR_TOO_MANY)
				CHECK_EQ_INT(rc, MSG_ERR_MALFORMED);
			CHECK(reason[0] != '\0');
		}
		free(p);
	}
	CHECK(failures > 10000); /* random bytes are mostly malformed */
}

UNIT_TEST(msg_random_headers_never_crash)
{
	uint64_t seed = 12345;
	struct msg_header hdr;
	char reason[MSG_REASON_MAX];

	for (int iter = 0; iter < 20000; iter++) {
		uint8_t raw[MSG_HEADER_SIZE + 16];
		size_t len = next_random(&seed) % sizeof(raw);

		for (size_t i = 0; i < sizeof(raw); i++)
			raw[i] = (uint8_t)next_random(&seed);
		if (iter % 2)
			memcpy(raw, MSG_MAGIC, 4);
		uint8_t *copy = exact_copy(raw, len);
		int rc = msg_unframe(copy, len, &hdr, reason);
		CHECK(rc == 0 || rc == MSG_ERR_MALFORMED ||
		      (rc > 0 && (size_t)rc <= len));
		free(copy);
	}
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(msg_free_functions_accept_null)
{
	msg_addr_free(NULL);
	msg_inv_free(NULL);
	msg_headers_free(NULL);
}
