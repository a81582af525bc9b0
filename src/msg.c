/*
 * msg.c — message framing and the codecs that validate peer input early.
 */
#include "msg.h"

#include <stdio.h>
#include <string.h>

#include "hash.h"

const uint8_t MSG_MAGIC[4] = { 0x4d, 0x52, 0x4b, 0x54 };

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

	rbuf_init(&r, raw, MSG_HEADER_SIZE);
	rbuf_bytes(&r, magic, sizeof(magic));
	rbuf_bytes(&r, command, sizeof(command));
	out->length = rbuf_u32(&r);
	rbuf_bytes(&r, out->checksum, sizeof(out->checksum));
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
	wbuf_bytes(out, MSG_MAGIC, sizeof(MSG_MAGIC));
	wbuf_bytes(out, cmd, sizeof(cmd));
	wbuf_u32(out, (uint32_t)len);
	wbuf_bytes(out, h, 4);
	wbuf_bytes(out, payload, len);
}

static void netaddr_encode(struct wbuf *out, const struct msg_netaddr *a)
{
	wbuf_u64(out, a->services);
	wbuf_bytes(out, a->ip, sizeof(a->ip));
	wbuf_u16be(out, a->port);
}

static void netaddr_decode(struct rbuf *r, struct msg_netaddr *a)
{
	a->services = rbuf_u64(r);
	rbuf_bytes(r, a->ip, sizeof(a->ip));
	a->port = rbuf_u16be(r);
}

void msg_version_encode(struct wbuf *out, const struct msg_version *v)
{
	wbuf_i32(out, v->version);
	wbuf_u64(out, v->services);
	wbuf_i64(out, v->timestamp);
	netaddr_encode(out, &v->addr_recv);
	netaddr_encode(out, &v->addr_from);
	wbuf_u64(out, v->nonce);
	wbuf_varstr(out, v->user_agent);
	wbuf_i32(out, v->start_height);
	wbuf_u8(out, v->relay ? 1 : 0);
}

int msg_version_decode(const uint8_t *p, size_t len, struct msg_version *out,
		       char reason[MSG_REASON_MAX])
{
	struct rbuf r;

	memset(out, 0, sizeof(*out));
	out->relay = true;
	rbuf_init(&r, p, len);
	out->version = rbuf_i32(&r);
	out->services = rbuf_u64(&r);
	out->timestamp = rbuf_i64(&r);
	netaddr_decode(&r, &out->addr_recv);
	netaddr_decode(&r, &out->addr_from);
	out->nonce = rbuf_u64(&r);
	rbuf_varstr(&r, out->user_agent, sizeof(out->user_agent));
	if (!r.err && rbuf_remaining(&r) >= 4)
		out->start_height = rbuf_i32(&r);
	if (!r.err && rbuf_remaining(&r) >= 1)
		out->relay = rbuf_u8(&r) != 0;
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

	rbuf_init(&r, p, len);
	*nonce = rbuf_u64(&r);
	if (r.err || rbuf_remaining(&r) != 0) {
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
	rbuf_init(&r, p, len);
	rbuf_bytes(&r, skip, c->prefix);
	/* Read the count without a limit first, to report how large it was. */
	*count = rbuf_compact(&r, UINT64_MAX);
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
	if (rbuf_remaining(&r) != *count * c->entry_size + (c->prefix ? 32 : 0)) {
		snprintf(reason, MSG_REASON_MAX, "malformed %s message", command);
		return -1;
	}
	return 0;
}
