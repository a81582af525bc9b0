/*
 * msg.h — the P2P wire format: Bitcoin's message framing with
 * moneyrocketd's network magic, and the version message.
 *
 * Every message is a 24-byte header (4-byte magic, 12-byte NUL-padded
 * command, little-endian payload length, 4-byte checksum: the first bytes of
 * SHA256d(payload)) followed by the payload. Parsers take peer input: they
 * never read past what they are given and report a reason string (the text
 * of net:misbehaving_connection) instead of failing in any other way.
 */
#ifndef MR_MSG_H
#define MR_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ser.h"

#define MSG_HEADER_SIZE 24
#define MSG_COMMAND_SIZE 12
#define MSG_MAX_PAYLOAD 4000000
#define MSG_REASON_MAX 128

#define MSG_PROTOCOL_VERSION 70016
#define MSG_DEFAULT_PORT 28444
#define MSG_DEFAULT_RPC_PORT 28443
#define MSG_USER_AGENT "/moneyrocket:0.1.0/"

/* Limits whose excess is misbehaviour ("<type> message size = <n>"). */
#define MSG_MAX_INV 50000
#define MSG_MAX_HEADERS 2000
#define MSG_MAX_ADDR 1000
#define MSG_MAX_LOCATOR 101

extern const uint8_t MSG_MAGIC[4]; /* "MRKT" */

struct msg_header {
	char command[MSG_COMMAND_SIZE + 1]; /* NUL-terminated */
	uint32_t length;
	uint8_t checksum[4];
};

/*
 * Parse and validate the 24 bytes of a header. Returns 0, or -1 with the
 * reason in `reason`: "wrong network magic", "malformed message header"
 * (command not NUL-padded printable ASCII), "oversized message: <n> bytes".
 */
int msg_header_parse(const uint8_t raw[MSG_HEADER_SIZE], struct msg_header *out,
		     char reason[MSG_REASON_MAX]);

/* True if the payload's SHA256d starts with the header's checksum. */
bool msg_checksum_ok(const struct msg_header *hdr, const uint8_t *payload);

/* Append header + payload for `command` to `out` (oom reported in out). */
void msg_frame(struct wbuf *out, const char *command, const uint8_t *payload,
	       size_t len);

/* A network address as it appears in version and addr messages. */
struct msg_netaddr {
	uint64_t services;
	uint8_t ip[16]; /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;
};

struct msg_version {
	int32_t version;
	uint64_t services;
	int64_t timestamp;
	struct msg_netaddr addr_recv, addr_from;
	uint64_t nonce;
	char user_agent[257];
	int32_t start_height;
	bool relay;
};

void msg_version_encode(struct wbuf *out, const struct msg_version *v);
/*
 * Decode a version payload. start_height and relay are optional trailing
 * fields (default 0 and true); bytes after them are allowed, as later
 * protocol versions may add fields. Returns 0, or -1 with
 * "malformed version message".
 */
int msg_version_decode(const uint8_t *p, size_t len, struct msg_version *out,
		       char reason[MSG_REASON_MAX]);

/* ping and pong carry one little-endian nonce. */
int msg_nonce_decode(const char *command, const uint8_t *p, size_t len,
		     uint64_t *nonce, char reason[MSG_REASON_MAX]);

/*
 * Check the entry count of an inv/getdata/notfound/headers/addr/getheaders
 * payload against its limit, before anything is allocated. Returns 0 and
 * the count, or -1 with "<command> message size = <n>" (or "getheaders
 * locator size = <n>", or "malformed <command> message").
 */
int msg_count_check(const char *command, const uint8_t *p, size_t len,
		    uint64_t *count, char reason[MSG_REASON_MAX]);

#endif
