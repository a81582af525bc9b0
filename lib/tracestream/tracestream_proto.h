/*
 * tracestream_proto.h — what a tracestream server and its clients share:
 * the socket protocol and the ring layout. Version 1.
 *
 * Socket (SOCK_STREAM, Unix domain), text lines ending in "\n":
 *
 *   server, on connect:  "tracestream 1 EVENTS"
 *                        then per event:  "event ID NAME NFIELDS DESCRIPTION"
 *                        and per field:   "field NAME TYPE [SIZE | @INDEX]"
 *                        then             "end"
 *       TYPE is int32 uint32 int64 uint64 bool string bytes; string SIZE is
 *       the maximum length, bytes SIZE a fixed length, bytes @INDEX takes
 *       its length from field INDEX (0-based).
 *   client:              "ring BYTES"       (optional, before subscribing:
 *                                            the ring's size, a power of 2)
 *                        "subscribe PATTERN"   (fnmatch(3) on event names)
 *                        "unsubscribe PATTERN"
 *   server replies:      "ok subscribe N" / "ok unsubscribe N" (N: events
 *                        the client now receives), "ok ring BYTES", or
 *                        "error TEXT" (then it closes the connection).
 *                        With the first subscription's reply comes the line
 *                        "ring BYTES" carrying, as SCM_RIGHTS, the
 *                        descriptor of the shared ring; map it read-write,
 *                        TRACESTREAM_RING_HDR + BYTES long.
 *                        An empty line is a wake-up (see `waiting`).
 *
 * Ring: a header page, then BYTES of records. The server writes records at
 * `head` and publishes them by advancing `head` (release), after each
 * record or, with a host that defers (tracestream_io.defer), after a
 * batch of them (at most TRACESTREAM_PUBLISH_BYTES apart); the client reads
 * from `tail` to `head` (acquire) and advances `tail` (release) to give the
 * space back. Offsets only grow; position in the data is offset % BYTES.
 * A record never wraps: the server fills the end with a PAD record first,
 * or, when fewer bytes than a record header are left, the reader skips
 * them without one.
 *
 * Waking. Publishing costs the server no system call: a client that finds
 * the ring empty sets `waiting` to 1 and sleeps in poll() on the socket
 * for at most its own read period (the C and Python clients: 10 ms). The
 * server wakes it early, by clearing `waiting` and sending "\n", once the
 * unread bytes reach `wake_bytes` (set by the client; 0 or 1: on every
 * event; the server caps it at half the ring). So a trickle of events
 * reaches a client within its read period, and a burst wakes it at once.
 */
#ifndef TRACESTREAM_PROTO_H
#define TRACESTREAM_PROTO_H

#include <stdint.h>

#define TRACESTREAM_VERSION 1
#define TRACESTREAM_MAGIC 0x4d525452u /* "MRTR" */
#define TRACESTREAM_RING_HDR 4096u	  /* the header page */
#define TRACESTREAM_RING_MIN (64u << 10)
#define TRACESTREAM_LINE_MAX 512	  /* longest line either side sends */
#define TRACESTREAM_READ_PERIOD_MS 10	  /* how long the clients sleep at most */

struct tracestream_ring {
	uint32_t magic;
	uint32_t version;
	uint64_t size;	   /* data bytes, a power of 2 */
	char pad0[48];
	uint64_t head;	   /* written by the server */
	uint64_t lost;	   /* events lost so far (server) */
	uint64_t written;  /* events written so far (server) */
	char pad1[40];
	uint64_t tail;	   /* written by the client */
	char pad2[56];
	/* Apart from `tail`, which the client writes often: these change only
	 * when it sleeps, so reading them costs the server no cache miss. */
	uint32_t waiting;  /* set by a client about to sleep */
	uint32_t pad3;
	uint64_t wake_bytes; /* written by the client: wake me at this backlog */
};

enum tracestream_rec_kind {
	TRACESTREAM_REC_EVENT = 1, /* payload: the fields, in schema order */
	TRACESTREAM_REC_PAD = 2,   /* skip to the start of the data */
	TRACESTREAM_REC_LOST = 3,  /* payload: uint64 count lost before `seq` */
};

/*
 * Every record starts 8-byte aligned with this header; `size` counts the
 * header and the payload, rounded up to 8. `seq` numbers the events of one
 * client's subscriptions 1, 2, 3, ... (a lost event uses its number too),
 * `time_ns` is CLOCK_REALTIME when the event fired.
 * Field encoding, native byte order, no padding: int32/uint32 4 bytes,
 * int64/uint64 8, bool 1; string a uint16 length then the bytes; bytes of
 * fixed size the bytes; bytes of variable size a uint32 length then the
 * bytes.
 */
struct tracestream_rec {
	uint32_t size;
	uint16_t kind;
	uint16_t event;
	uint64_t seq;
	uint64_t time_ns;
};

#endif /* TRACESTREAM_PROTO_H */
