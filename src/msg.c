/*
 * msg.c — message framing and the codecs that validate peer input early.
 */
#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

/* The command is printable ASCII, then only NULs up to 12 bytes. */
static bool command_ok(const uint8_t raw[MSG_COMMAND_SIZE])
{
	size_t i = 0;

	while (i < MSG_COMMAND_SIZE && raw[i] != 0) {
		if (raw[i] < 0x20 || raw[i] > 0x7e)
			return false;
		i++;
	}
	if (i == 0)
		return false;
	for (; i < MSG_COMMAND_SIZE; i++)
		if (raw[i] != 0)
			return false;
	return true;
}

int msg_header_parse(const uint8_t raw[MSG_HEADER_SIZE], struct msg_header *out,
		     char reason[MSG_REASON_MAX])
{
	struct rbuf r;
	uint8_t magic[4], command[MSG_COMMAND_SIZE];

	ser_read_init(&r, raw, MSG_HEADER_SIZE);
	ser_read_bytes(&r, magic, sizeof(magic));
	ser_read_bytes(&r, command, sizeof(command));
	out->length = ser_read_u32(&r);
	ser_read_bytes(&r, out->checksum, sizeof(out->checksum));
	if (memcmp(magic, MSG_MAGIC, sizeof(magic)) != 0) {
		snprintf(reason, MSG_REASON_MAX, "wrong network magic");
		return -1;
	}
	if (!command_ok(command)) {
		snprintf(reason, MSG_REASON_MAX, "malformed message header");
		return -1;
	}
	memcpy(out->command, command, MSG_COMMAND_SIZE);
	out->command[MSG_COMMAND_SIZE] = '\0';
	if (out->length > MSG_MAX_PAYLOAD) {
		snprintf(reason, MSG_REASON_MAX, "oversized message: %u bytes",
			 out->length);
		return -1;
	}
	return 0;
}

bool msg_checksum_ok(const struct msg_header *hdr, const uint8_t *payload)
{
	uint8_t h[HASH_SIZE];

	hash_sha256d(payload, hdr->length, h);
	return memcmp(h, hdr->checksum, sizeof(hdr->checksum)) == 0;
}

void msg_frame(struct wbuf *out, const char *command, const uint8_t *payload,
	       size_t len)
{
	uint8_t cmd[MSG_COMMAND_SIZE] = { 0 };
	uint8_t h[HASH_SIZE];
	size_t n = strlen(command);

	memcpy(cmd, command, n < MSG_COMMAND_SIZE ? n : MSG_COMMAND_SIZE);
	hash_sha256d(payload, len, h);
	ser_write_bytes(out, MSG_MAGIC, sizeof(MSG_MAGIC));
	ser_write_bytes(out, cmd, sizeof(cmd));
	ser_write_u32(out, (uint32_t)len);
	ser_write_bytes(out, h, 4);
	ser_write_bytes(out, payload, len);
}

static void netaddr_encode(struct wbuf *out, const struct msg_netaddr *a)
{
	ser_write_u64(out, a->services);
	ser_write_bytes(out, a->ip, sizeof(a->ip));
	ser_write_u16be(out, a->port);
}

static void netaddr_decode(struct rbuf *r, struct msg_netaddr *a)
{
	a->services = ser_read_u64(r);
	ser_read_bytes(r, a->ip, sizeof(a->ip));
	a->port = ser_read_u16be(r);
}

void msg_version_encode(struct wbuf *out, const struct msg_version *v)
{
	ser_write_i32(out, v->version);
	ser_write_u64(out, v->services);
	ser_write_i64(out, v->timestamp);
	netaddr_encode(out, &v->addr_recv);
	netaddr_encode(out, &v->addr_from);
	ser_write_u64(out, v->nonce);
	ser_write_varstr(out, v->user_agent);
	ser_write_i32(out, v->start_height);
	ser_write_u8(out, v->relay ? 1 : 0);
}

int msg_version_decode(const uint8_t *p, size_t len, struct msg_version *out,
		       char reason[MSG_REASON_MAX])
{
	struct rbuf r;

	memset(out, 0, sizeof(*out));
	out->relay = true;
	ser_read_init(&r, p, len);
	out->version = ser_read_i32(&r);
	out->services = ser_read_u64(&r);
	out->timestamp = ser_read_i64(&r);
	netaddr_decode(&r, &out->addr_recv);
	netaddr_decode(&r, &out->addr_from);
	out->nonce = ser_read_u64(&r);
	ser_read_varstr(&r, out->user_agent, sizeof(out->user_agent));
	/* Optional, but a field that is started must be complete: 1 to 3
	 * bytes of start_height is a truncated message, not an old one. */
	if (ser_read_remaining(&r) > 0)
		out->start_height = ser_read_i32(&r);
	if (ser_read_remaining(&r) > 0)
		out->relay = ser_read_u8(&r) != 0;
	if (r.err) {
		snprintf(reason, MSG_REASON_MAX, "malformed version message");
		return -1;
	}
	return 0;
}

int msg_nonce_decode(const char *command, const uint8_t *p, size_t len,
		     uint64_t *nonce, char reason[MSG_REASON_MAX])
{
	struct rbuf r;

	ser_read_init(&r, p, len);
	*nonce = ser_read_u64(&r);
	if (r.err || ser_read_remaining(&r) != 0) {
		snprintf(reason, MSG_REASON_MAX, "malformed %s message", command);
		return -1;
	}
	return 0;
}

/* Bytes per entry and the limit of each counted message. */
struct counted {
	const char *command;
	size_t entry_size;
	uint64_t limit;
	size_t prefix; /* bytes before the count (getheaders: version) */
};

static const struct counted counted_messages[] = {
	{ "inv", 36, MSG_MAX_INV, 0 },
	{ "getdata", 36, MSG_MAX_INV, 0 },
	{ "notfound", 36, MSG_MAX_INV, 0 },
	{ "headers", 81, MSG_MAX_HEADERS, 0 },
	{ "addr", 30, MSG_MAX_ADDR, 0 },
	{ "getheaders", 32, MSG_MAX_LOCATOR, 4 },
};

int msg_count_check(const char *command, const uint8_t *p, size_t len,
		    uint64_t *count, char reason[MSG_REASON_MAX])
{
	const struct counted *c = NULL;
	struct rbuf r;
	uint8_t skip[4];

	for (size_t i = 0; i < sizeof(counted_messages) / sizeof(*counted_messages); i++)
		if (strcmp(counted_messages[i].command, command) == 0)
			c = &counted_messages[i];
	if (!c) {
		*count = 0;
		return 0;
	}
	ser_read_init(&r, p, len);
	ser_read_bytes(&r, skip, c->prefix);
	/* Read the count without a limit first, to report how large it was. */
	*count = ser_read_compact(&r, UINT64_MAX);
	if (r.err) {
		snprintf(reason, MSG_REASON_MAX, "malformed %s message", command);
		return -1;
	}
	if (*count > c->limit) {
		if (c->prefix)
			snprintf(reason, MSG_REASON_MAX, "%s locator size = %llu",
				 command, (unsigned long long)*count);
		else
			snprintf(reason, MSG_REASON_MAX, "%s message size = %llu",
				 command, (unsigned long long)*count);
		return -1;
	}
	/* The entries (plus getheaders' stop hash) must fill the rest exactly. */
	if (ser_read_remaining(&r) != *count * c->entry_size + (c->prefix ? 32 : 0)) {
		snprintf(reason, MSG_REASON_MAX, "malformed %s message", command);
		return -1;
	}
	return 0;
}

/* Write a reason and return `code`: the one way decoders fail. */
__attribute__((format(printf, 3, 4)))
static int fail(char reason[MSG_REASON_MAX], int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, MSG_REASON_MAX, fmt, ap);
	va_end(ap);
	return code;
}

static int malformed(const char *command, char reason[MSG_REASON_MAX])
{
	return fail(reason, MSG_ERR_MALFORMED, "malformed %s message", command);
}

int msg_checksum_verify(const struct msg_header *hdr, const uint8_t *payload,
			char reason[MSG_REASON_MAX])
{
	if (msg_checksum_ok(hdr, payload))
		return 0;
	return fail(reason, MSG_ERR_MALFORMED, "checksum mismatch for %s message",
		    hdr->command);
}

int msg_unframe(const uint8_t *buf, size_t len, struct msg_header *hdr,
		char reason[MSG_REASON_MAX])
{
	if (len < MSG_HEADER_SIZE)
		return 0;
	if (msg_header_parse(buf, hdr, reason) != 0)
		return MSG_ERR_MALFORMED;
	if (len - MSG_HEADER_SIZE < hdr->length)
		return 0;
	if (msg_checksum_verify(hdr, buf + MSG_HEADER_SIZE, reason) != 0)
		return MSG_ERR_MALFORMED;
	return MSG_HEADER_SIZE + (int)hdr->length;
}

void msg_nonce_encode(struct wbuf *out, uint64_t nonce)
{
	ser_write_u64(out, nonce);
}

int msg_empty_decode(const char *command, size_t len, char reason[MSG_REASON_MAX])
{
	return len == 0 ? 0 : malformed(command, reason);
}

void msg_feefilter_encode(struct wbuf *out, int64_t feerate)
{
	ser_write_i64(out, feerate);
}

int msg_feefilter_decode(const uint8_t *p, size_t len, int64_t *feerate,
			 char reason[MSG_REASON_MAX])
{
	struct rbuf r;

	ser_read_init(&r, p, len);
	*feerate = ser_read_i64(&r);
	if (!ser_read_done(&r) || *feerate < 0) {
		*feerate = 0;
		return malformed("feefilter", reason);
	}
	return 0;
}

/*
 * The count that starts a list: read it whatever its size so an excess can
 * be reported with its value, then check it against `limit` and check that
 * exactly count * entry_size bytes follow (plus `tail`, e.g. getheaders'
 * stop hash). Nothing has been allocated yet when this fails, whatever the
 * peer claimed.
 */
static int read_count(struct rbuf *r, const char *command, const char *what,
		      uint64_t limit, size_t entry_size, size_t tail, uint64_t *count,
		      char reason[MSG_REASON_MAX])
{
	*count = ser_read_compact(r, UINT64_MAX);
	if (r->err)
		return malformed(command, reason);
	if (*count > limit)
		return fail(reason, MSG_ERR_TOO_MANY, "%s %s size = %llu", command, what,
			    (unsigned long long)*count);
	/* count <= limit keeps the product far from overflowing. */
	if (ser_read_remaining(r) != *count * entry_size + tail)
		return malformed(command, reason);
	return 0;
}

/* calloc for n entries: NULL when n is 0 (nothing to hold) or on failure. */
static void *alloc_entries(uint64_t n, size_t size)
{
	return n ? calloc((size_t)n, size) : NULL;
}

static int nomem(const char *command, char reason[MSG_REASON_MAX])
{
	return fail(reason, MSG_ERR_NOMEM, "%s: out of memory", command);
}

#define ADDR_ENTRY_SIZE 30
#define INV_ENTRY_SIZE 36

void msg_addr_encode(struct wbuf *out, const struct msg_addr_entry *entries, size_t n)
{
	ser_write_compact(out, n);
	for (size_t i = 0; i < n; i++) {
		ser_write_u32(out, entries[i].time);
		netaddr_encode(out, &entries[i].addr);
	}
}

int msg_addr_decode(const uint8_t *p, size_t len, struct msg_addr *out,
		    char reason[MSG_REASON_MAX])
{
	struct rbuf r;
	int rc;

	memset(out, 0, sizeof(*out));
	ser_read_init(&r, p, len);
	rc = read_count(&r, "addr", "message", MSG_MAX_ADDR, ADDR_ENTRY_SIZE, 0,
			&out->count, reason);
	if (rc != 0)
		return rc;
	out->entries = alloc_entries(out->count, sizeof(*out->entries));
	if (out->count && !out->entries)
		return nomem("addr", reason);
	for (uint64_t i = 0; i < out->count; i++) {
		out->entries[i].time = ser_read_u32(&r);
		netaddr_decode(&r, &out->entries[i].addr);
	}
	/* read_count checked the length, so this only guards our own arithmetic. */
	if (!ser_read_done(&r)) {
		msg_addr_free(out);
		return malformed("addr", reason);
	}
	return 0;
}

void msg_addr_free(struct msg_addr *a)
{
	if (!a)
		return;
	free(a->entries);
	memset(a, 0, sizeof(*a));
}

void msg_inv_encode(struct wbuf *out, const struct msg_inv_entry *entries, size_t n)
{
	ser_write_compact(out, n);
	for (size_t i = 0; i < n; i++) {
		ser_write_u32(out, entries[i].type);
		ser_write_bytes(out, entries[i].hash, sizeof(entries[i].hash));
	}
}

int msg_inv_decode(const char *command, const uint8_t *p, size_t len,
		   struct msg_inv *out, char reason[MSG_REASON_MAX])
{
	struct rbuf r;
	int rc;

	memset(out, 0, sizeof(*out));
	ser_read_init(&r, p, len);
	rc = read_count(&r, command, "message", MSG_MAX_INV, INV_ENTRY_SIZE, 0,
			&out->count, reason);
	if (rc != 0)
		return rc;
	out->entries = alloc_entries(out->count, sizeof(*out->entries));
	if (out->count && !out->entries)
		return nomem(command, reason);
	for (uint64_t i = 0; i < out->count; i++) {
		out->entries[i].type = ser_read_u32(&r);
		ser_read_bytes(&r, out->entries[i].hash, sizeof(out->entries[i].hash));
	}
	if (!ser_read_done(&r)) {
		msg_inv_free(out);
		return malformed(command, reason);
	}
	return 0;
}

void msg_inv_free(struct msg_inv *inv)
{
	if (!inv)
		return;
	free(inv->entries);
	memset(inv, 0, sizeof(*inv));
}

void msg_getheaders_encode(struct wbuf *out, const struct msg_getheaders *g)
{
	uint64_t n = g->count < MSG_MAX_LOCATOR ? g->count : MSG_MAX_LOCATOR;

	ser_write_u32(out, g->version);
	ser_write_compact(out, n);
	for (uint64_t i = 0; i < n; i++)
		ser_write_bytes(out, g->locator[i], 32);
	ser_write_bytes(out, g->stop, sizeof(g->stop));
}

int msg_getheaders_decode(const uint8_t *p, size_t len, struct msg_getheaders *out,
			  char reason[MSG_REASON_MAX])
{
	struct rbuf r;
	int rc;

	memset(out, 0, sizeof(*out));
	ser_read_init(&r, p, len);
	out->version = ser_read_u32(&r);
	if (r.err)
		return malformed("getheaders", reason);
	rc = read_count(&r, "getheaders", "locator", MSG_MAX_LOCATOR, 32,
			sizeof(out->stop), &out->count, reason);
	if (rc != 0)
		return rc;
	for (uint64_t i = 0; i < out->count; i++)
		ser_read_bytes(&r, out->locator[i], 32);
	ser_read_bytes(&r, out->stop, sizeof(out->stop));
	return ser_read_done(&r) ? 0 : malformed("getheaders", reason);
}

void msg_headers_encode(struct wbuf *out, const struct block_header *h, size_t n)
{
	ser_write_compact(out, n);
	for (size_t i = 0; i < n; i++) {
		block_header_encode(out, &h[i]);
		ser_write_compact(out, 0);
	}
}

int msg_headers_decode(const uint8_t *p, size_t len, struct msg_headers *out,
		       char reason[MSG_REASON_MAX])
{
	struct rbuf r;
	int rc;

	memset(out, 0, sizeof(*out));
	ser_read_init(&r, p, len);
	/* Each entry is 80 bytes and a one-byte transaction count of 0. */
	rc = read_count(&r, "headers", "message", MSG_MAX_HEADERS,
			BLOCK_HEADER_SIZE + 1, 0, &out->count, reason);
	if (rc != 0)
		return rc;
	out->headers = alloc_entries(out->count, sizeof(*out->headers));
	if (out->count && !out->headers)
		return nomem("headers", reason);
	for (uint64_t i = 0; i < out->count; i++) {
		block_header_decode(&r, &out->headers[i]);
		ser_read_compact(&r, 0); /* a non-zero transaction count sets err */
	}
	if (!ser_read_done(&r)) {
		msg_headers_free(out);
		return malformed("headers", reason);
	}
	return 0;
}

void msg_headers_free(struct msg_headers *h)
{
	if (!h)
		return;
	free(h->headers);
	memset(h, 0, sizeof(*h));
}

/* Decode-and-discard wrappers, one per known message, for msg_payload_check. */
static int check_version(const char *c, const uint8_t *p, size_t len, char *reason)
{
	struct msg_version v;

	(void)c;
	return msg_version_decode(p, len, &v, reason);
}

static int check_empty(const char *c, const uint8_t *p, size_t len, char *reason)
{
	(void)p;
	return msg_empty_decode(c, len, reason);
}

static int check_nonce(const char *c, const uint8_t *p, size_t len, char *reason)
{
	uint64_t nonce;

	return msg_nonce_decode(c, p, len, &nonce, reason);
}

static int check_feefilter(const char *c, const uint8_t *p, size_t len, char *reason)
{
	int64_t feerate;

	(void)c;
	return msg_feefilter_decode(p, len, &feerate, reason);
}

static int check_addr(const char *c, const uint8_t *p, size_t len, char *reason)
{
	struct msg_addr a;
	int rc = msg_addr_decode(p, len, &a, reason);

	(void)c;
	msg_addr_free(&a);
	return rc;
}

static int check_inv(const char *c, const uint8_t *p, size_t len, char *reason)
{
	struct msg_inv inv;
	int rc = msg_inv_decode(c, p, len, &inv, reason);

	msg_inv_free(&inv);
	return rc;
}

static int check_getheaders(const char *c, const uint8_t *p, size_t len, char *reason)
{
	/* Too large for a comfortable stack frame in every caller's thread. */
	struct msg_getheaders *g = malloc(sizeof(*g));
	int rc;

	(void)c;
	if (!g)
		return nomem("getheaders", reason);
	rc = msg_getheaders_decode(p, len, g, reason);
	free(g);
	return rc;
}

static int check_headers(const char *c, const uint8_t *p, size_t len, char *reason)
{
	struct msg_headers h;
	int rc = msg_headers_decode(p, len, &h, reason);

	(void)c;
	msg_headers_free(&h);
	return rc;
}

static const struct {
	const char *command;
	int (*check)(const char *command, const uint8_t *p, size_t len, char *reason);
} known_messages[] = {
	{ "version", check_version },	  { "verack", check_empty },
	{ "ping", check_nonce },	  { "pong", check_nonce },
	{ "addr", check_addr },		  { "getaddr", check_empty },
	{ "sendheaders", check_empty },	  { "feefilter", check_feefilter },
	{ "inv", check_inv },		  { "getdata", check_inv },
	{ "notfound", check_inv },	  { "getheaders", check_getheaders },
	{ "headers", check_headers },
};

#define N_KNOWN (sizeof(known_messages) / sizeof(*known_messages))

bool msg_is_known(const char *command)
{
	for (size_t i = 0; i < N_KNOWN; i++)
		if (strcmp(known_messages[i].command, command) == 0)
			return true;
	return false;
}

int msg_payload_check(const char *command, const uint8_t *p, size_t len,
		      char reason[MSG_REASON_MAX])
{
	for (size_t i = 0; i < N_KNOWN; i++)
		if (strcmp(known_messages[i].command, command) == 0)
			return known_messages[i].check(command, p, len, reason);
	return 0;
}
