/*
 * msg.h — the P2P wire format: Bitcoin's message framing with
 * moneyrocketd's network magic, and the codecs of every message the node
 * speaks (version, verack, ping, pong, addr, getaddr, sendheaders,
 * feefilter, inv, getdata, notfound, getheaders, headers).
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

#include "block_header.h"
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

/* The network magic, "MRKT": a 4-byte array (sizeof is 4), no symbol. */
#define MSG_MAGIC ((const uint8_t[4]){ 0x4d, 0x52, 0x4b, 0x54 })

/* A parsed header. */
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

/* True if the payload's SHA256d starts with the header's checksum.
 * `payload` holds hdr->length bytes (may be NULL when that is 0). */
bool msg_checksum_ok(const struct msg_header *hdr, const uint8_t *payload);

/*
 * Append header + payload for `command` to `out` (oom reported in out).
 * `command` is at most MSG_COMMAND_SIZE characters (longer is cut there);
 * `len` must not exceed MSG_MAX_PAYLOAD for a peer to accept it. `payload`
 * may be NULL when len is 0.
 */
void msg_frame(struct wbuf *out, const char *command, const uint8_t *payload,
	       size_t len);

/* A network address as it appears in version and addr messages. */
struct msg_netaddr {
	uint64_t services;
	uint8_t ip[16]; /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;
};

/* The version message: what a peer says about itself in the handshake. */
struct msg_version {
	int32_t version;
	uint64_t services;
	int64_t timestamp;
	struct msg_netaddr addr_recv, addr_from;
	uint64_t nonce;
	char user_agent[257]; /* NUL-terminated, at most 256 bytes */
	int32_t start_height;
	bool relay;
};

/* A version payload with every field, start_height and relay included. */
void msg_version_encode(struct wbuf *out, const struct msg_version *v);

/*
 * Decode a version payload. start_height and relay are optional trailing
 * fields (default 0 and true), but a start_height cut short is malformed;
 * bytes after relay are allowed, as later protocol versions may add fields.
 * The user agent may be up to 256 bytes. Returns 0, or -1 with
 * "malformed version message".
 */
int msg_version_decode(const uint8_t *p, size_t len, struct msg_version *out,
		       char reason[MSG_REASON_MAX]);

/*
 * ping and pong carry one little-endian nonce and nothing else. Returns 0,
 * or -1 with "malformed <command> message" (short or trailing bytes).
 */
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

/* ---- Additions: the remaining messages ---------------------------------
 *
 * Return codes of the decoders below (all negative on failure, with the
 * reason text written to `reason`, which holds MSG_REASON_MAX bytes):
 */
#define MSG_ERR_MALFORMED (-1) /* "malformed <command> message" */
#define MSG_ERR_TOO_MANY (-2)  /* "<command> message size = <n>" or
				* "getheaders locator size = <n>" */
#define MSG_ERR_NOMEM (-3)     /* "<command>: out of memory" (our failure,
				* not the peer's: do not punish it) */

/* Inventory types (inv, getdata, notfound). Unknown types decode fine. */
#define MSG_INV_ERROR 0
#define MSG_INV_TX 1
#define MSG_INV_BLOCK 2
#define MSG_INV_FILTERED_BLOCK 3
#define MSG_INV_CMPCT_BLOCK 4
#define MSG_INV_WITNESS_FLAG (1u << 30)


/*
 * As msg_checksum_ok, but a mismatch returns MSG_ERR_MALFORMED with
 * "checksum mismatch for <command> message" in `reason`; 0 if it matches.
 * `payload` holds hdr->length bytes.
 */
int msg_checksum_verify(const struct msg_header *hdr, const uint8_t *payload,
			char reason[MSG_REASON_MAX]);

/*
 * Find one message at the start of a receive buffer `buf` (len bytes), for
 * a stream reader. Returns the size of the whole message (header and
 * payload, > 0) when it is complete and valid, with its header in `hdr` and
 * its payload at buf + MSG_HEADER_SIZE; 0 when more bytes are needed (a
 * truncated header or payload; hdr is filled once the header is complete);
 * or MSG_ERR_MALFORMED with the reason of msg_header_parse or
 * msg_checksum_verify. The header is judged as soon as its 24 bytes are
 * there, so an oversized length fails before its payload is awaited.
 */
int msg_unframe(const uint8_t *buf, size_t len, struct msg_header *hdr,
		char reason[MSG_REASON_MAX]);

/* Payloads of ping and pong. */
void msg_nonce_encode(struct wbuf *out, uint64_t nonce);

/*
 * verack, getaddr and sendheaders have empty payloads: 0 if len is 0, else
 * MSG_ERR_MALFORMED with "malformed <command> message".
 */
int msg_empty_decode(const char *command, size_t len, char reason[MSG_REASON_MAX]);

/* feefilter: the minimum fee rate (satoshis per 1000 bytes) as int64 LE.
 * Decode returns 0 or MSG_ERR_MALFORMED (not exactly 8 bytes, or negative). */
void msg_feefilter_encode(struct wbuf *out, int64_t feerate);
int msg_feefilter_decode(const uint8_t *p, size_t len, int64_t *feerate,
			 char reason[MSG_REASON_MAX]);

/* One addr entry: last-seen time (unix seconds), then a network address. */
struct msg_addr_entry {
	uint32_t time;
	struct msg_netaddr addr;
};

/* A decoded addr message. `entries` is owned: release with msg_addr_free. */
struct msg_addr {
	uint64_t count; /* entries announced, set even when over the limit */
	struct msg_addr_entry *entries; /* count entries, or NULL on failure */
};

/* addr payload: CompactSize count, then n entries of 30 bytes. */
void msg_addr_encode(struct wbuf *out, const struct msg_addr_entry *entries, size_t n);
/*
 * Decode an addr payload into `out` (out->entries allocated, NULL if the
 * count is 0). Returns 0; MSG_ERR_TOO_MANY with out->count set and
 * "addr message size = <n>" when n > MSG_MAX_ADDR (nothing allocated);
 * MSG_ERR_MALFORMED with "malformed addr message" for a bad CompactSize or
 * a payload that is not exactly the announced entries; MSG_ERR_NOMEM.
 * On failure out->entries is NULL.
 */
int msg_addr_decode(const uint8_t *p, size_t len, struct msg_addr *out,
		    char reason[MSG_REASON_MAX]);
/* Free out->entries and zero the struct. Accepts NULL. */
void msg_addr_free(struct msg_addr *a);

/* One inventory vector: type (MSG_INV_*) and a 32-byte hash as serialized. */
struct msg_inv_entry {
	uint32_t type;
	uint8_t hash[32];
};

/* A decoded inv, getdata or notfound. `entries` owned: msg_inv_free. */
struct msg_inv {
	uint64_t count; /* entries announced, set even when over the limit */
	struct msg_inv_entry *entries;
};

/* inv/getdata/notfound payload: CompactSize count, n entries of 36 bytes. */
void msg_inv_encode(struct wbuf *out, const struct msg_inv_entry *entries, size_t n);
/*
 * Decode an inv, getdata or notfound payload (`command` names which, for
 * the reason text). Returns 0; MSG_ERR_TOO_MANY with out->count set and
 * "<command> message size = <n>" when n > MSG_MAX_INV, without allocating
 * or reading the entries; MSG_ERR_MALFORMED "malformed <command> message";
 * MSG_ERR_NOMEM. On failure out->entries is NULL.
 */
int msg_inv_decode(const char *command, const uint8_t *p, size_t len,
		   struct msg_inv *out, char reason[MSG_REASON_MAX]);
/* Free out->entries and zero the struct. Accepts NULL. */
void msg_inv_free(struct msg_inv *inv);

/* getheaders: protocol version, block locator, stop hash (zero = no stop). */
struct msg_getheaders {
	uint32_t version;
	uint64_t count; /* locator hashes announced, even when over the limit */
	uint8_t locator[MSG_MAX_LOCATOR][32];
	uint8_t stop[32];
};

/* getheaders payload from g (g->count <= MSG_MAX_LOCATOR hashes used). */
void msg_getheaders_encode(struct wbuf *out, const struct msg_getheaders *g);
/*
 * Decode a getheaders payload. Returns 0; MSG_ERR_TOO_MANY with out->count
 * set and "getheaders locator size = <n>" when n > MSG_MAX_LOCATOR;
 * MSG_ERR_MALFORMED "malformed getheaders message" otherwise. Allocates
 * nothing.
 */
int msg_getheaders_decode(const uint8_t *p, size_t len, struct msg_getheaders *out,
			  char reason[MSG_REASON_MAX]);

/* A decoded headers message. `headers` owned: msg_headers_free. */
struct msg_headers {
	uint64_t count; /* headers announced, set even when over the limit */
	struct block_header *headers;
};

/* headers payload: count, then each header followed by a tx count of 0. */
void msg_headers_encode(struct wbuf *out, const struct block_header *h, size_t n);
/*
 * Decode a headers payload. Each header must be followed by a transaction
 * count of 0 (headers carry no transactions). Returns 0; MSG_ERR_TOO_MANY
 * with out->count set and "headers message size = <n>" when
 * n > MSG_MAX_HEADERS, without allocating; MSG_ERR_MALFORMED "malformed
 * headers message"; MSG_ERR_NOMEM. On failure out->headers is NULL.
 */
int msg_headers_decode(const uint8_t *p, size_t len, struct msg_headers *out,
		       char reason[MSG_REASON_MAX]);
/* Free out->headers and zero the struct. Accepts NULL. */
void msg_headers_free(struct msg_headers *h);

/* True for the message types this layer decodes (version, verack, ping,
 * pong, addr, getaddr, sendheaders, feefilter, inv, getdata, notfound,
 * getheaders, headers). Others are unknown; peers may send them. */
bool msg_is_known(const char *command);

/*
 * Decode and discard a payload of any known type: 0 if it is well formed
 * (and within its count limit), else the decoder's code and reason. Unknown
 * types return 0. For a node that wants to reject bad input before acting.
 */
int msg_payload_check(const char *command, const uint8_t *p, size_t len,
		      char reason[MSG_REASON_MAX]);

#endif
