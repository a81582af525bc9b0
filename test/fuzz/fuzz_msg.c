/*
 * fuzz_msg.c — the P2P frame reader and every wire message decoder.
 *
 * The first input byte chooses: even, the rest is a receive stream cut
 * into messages by msg_unframe as net.c does, and each complete message's
 * payload goes to its decoder; odd, the byte picks a message type and the
 * rest is its payload. Decoded addr, inv, getdata, notfound, headers and
 * getheaders payloads must encode back to the same bytes (the codec is
 * canonical: a second reading of the same message could not differ).
 */
#include <string.h>

#include "block.h"
#include "fuzz.h"
#include "msg.h"
#include "ser.h"

static const char *const commands[] = {
	"version", "verack", "ping", "pong", "addr", "getaddr", "sendheaders",
	"feefilter", "inv", "getdata", "notfound", "getheaders", "headers",
	"tx", "block", "unknown",
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void same_bytes(struct wbuf *w, const uint8_t *p, size_t len)
{
	FUZZ_ASSERT(!w->oom);
	FUZZ_ASSERT(w->len == len && memcmp(w->data, p, len) == 0);
	ser_write_free(w);
}

static void roundtrip_inv(const char *c, const uint8_t *p, size_t len)
{
	char reason[MSG_REASON_MAX];
	struct msg_inv inv;
	struct wbuf w;

	if (msg_inv_decode(c, p, len, &inv, reason) != 0)
		return;
	ser_write_init(&w);
	msg_inv_encode(&w, inv.entries, inv.count);
	same_bytes(&w, p, len);
	msg_inv_free(&inv);
}

static void roundtrip_addr(const uint8_t *p, size_t len)
{
	char reason[MSG_REASON_MAX];
	struct msg_addr a;
	struct wbuf w;

	if (msg_addr_decode(p, len, &a, reason) != 0)
		return;
	ser_write_init(&w);
	msg_addr_encode(&w, a.entries, a.count);
	same_bytes(&w, p, len);
	msg_addr_free(&a);
}

static void roundtrip_headers(const uint8_t *p, size_t len)
{
	char reason[MSG_REASON_MAX];
	struct msg_headers h;
	struct wbuf w;

	if (msg_headers_decode(p, len, &h, reason) != 0)
		return;
	ser_write_init(&w);
	msg_headers_encode(&w, h.headers, h.count);
	same_bytes(&w, p, len);
	msg_headers_free(&h);
}

static void roundtrip_getheaders(const uint8_t *p, size_t len)
{
	static struct msg_getheaders g;
	char reason[MSG_REASON_MAX];
	struct wbuf w;

	if (msg_getheaders_decode(p, len, &g, reason) != 0)
		return;
	ser_write_init(&w);
	msg_getheaders_encode(&w, &g);
	same_bytes(&w, p, len);
}

/* One payload, as net_processing would see it. */
static void decode(const char *c, const uint8_t *p, size_t len)
{
	char reason[MSG_REASON_MAX];
	int rc = msg_payload_check(c, p, len, reason);

	FUZZ_ASSERT(rc == 0 || rc == MSG_ERR_MALFORMED || rc == MSG_ERR_TOO_MANY ||
		    rc == MSG_ERR_NOMEM);
	FUZZ_ASSERT(rc == 0 || memchr(reason, '\0', MSG_REASON_MAX));
	if (strcmp(c, "inv") == 0 || strcmp(c, "getdata") == 0 || strcmp(c, "notfound") == 0)
		roundtrip_inv(c, p, len);
	else if (strcmp(c, "addr") == 0)
		roundtrip_addr(p, len);
	else if (strcmp(c, "headers") == 0)
		roundtrip_headers(p, len);
	else if (strcmp(c, "getheaders") == 0)
		roundtrip_getheaders(p, len);
	else if (strcmp(c, "tx") == 0) {
		struct tx t;

		if (tx_decode_bytes(p, len, &t) == 0)
			tx_clear(&t);
	} else if (strcmp(c, "block") == 0) {
		struct block b;

		if (block_decode_bytes(p, len, &b) == 0)
			block_clear(&b);
	}
}

/* A receive buffer cut into messages, as net.c's reader does. */
static void stream(const uint8_t *p, size_t len)
{
	while (len) {
		char reason[MSG_REASON_MAX];
		struct msg_header hdr;
		int n = msg_unframe(p, len, &hdr, reason);

		if (n <= 0) /* more needed, or the peer would be dropped */
			return;
		FUZZ_ASSERT((size_t)n == MSG_HEADER_SIZE + hdr.length && (size_t)n <= len);
		decode(hdr.command, p + MSG_HEADER_SIZE, hdr.length);
		p += n;
		len -= (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		stream(data + 1, size - 1);
	else
		decode(commands[(data[0] / 2) % N_COMMANDS], data + 1, size - 1);
	return 0;
}
