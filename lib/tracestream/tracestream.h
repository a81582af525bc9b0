/*
 * tracestream — serve a program's tracepoints to local, unprivileged clients.
 *
 * USDT tracepoints need root (CAP_BPF/CAP_PERFMON) and Linux to attach to.
 * tracestream serves the same events, typed and named, over a Unix socket
 * that only the program's own user may open: a client connects, receives
 * the schema (every event, its fields and their types), subscribes to
 * patterns ("net:*", "validation:block_connected") and reads the events it
 * asked for from a shared-memory ring, in firing order, each with a sequence
 * number and a timestamp.
 *
 * Costs. An event nobody subscribes to costs its site one test of a counter
 * this library raises (the program's sites read `subscribers`, see struct
 * tracestream_event). A subscribed event is copied once into each
 * subscriber's ring, with no system call unless the reader sleeps and must
 * be woken. The writer never waits: when a ring is full the event is lost
 * for that client, counted, and the count is delivered in the ring before
 * the next event that fits (a TRACESTREAM_REC_LOST record).
 *
 * Threads. Everything here runs on the program's one event-loop thread
 * (tracestream_emit() included); the library starts no thread.
 *
 * Portability. POSIX sockets, SCM_RIGHTS and mmap; the few calls that
 * differ between Linux, macOS and FreeBSD (a sealed shared-memory file,
 * the peer's credentials, suppressing SIGPIPE) are in tracestream_os.c.
 *
 * The wire protocol and the ring layout, which clients depend on, are in
 * tracestream_proto.h; doc/tracing.md describes them for client authors.
 */
#ifndef TRACESTREAM_H
#define TRACESTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Field types, as the schema names them. */
enum tracestream_type {
	TRACESTREAM_INT32 = 1,
	TRACESTREAM_UINT32,
	TRACESTREAM_INT64,
	TRACESTREAM_UINT64,
	TRACESTREAM_BOOL,
	TRACESTREAM_STRING, /* at most `size` bytes, sent without the NUL */
	TRACESTREAM_BYTES,  /* `size` bytes, or as many as field `len_field` says */
};

struct tracestream_field {
	const char *name;
	enum tracestream_type type;
	uint32_t size;	/* STRING: maximum length; BYTES: fixed length, or 0 */
	int len_field;	/* BYTES of variable length: the index of the earlier
			 * integer field that holds the length; otherwise -1 */
};

struct tracestream_event {
	const char *name;	 /* "context:event" */
	const char *description; /* one line */
	const struct tracestream_field *fields;
	unsigned n_fields;
	/*
	 * The number of clients subscribed to this event. The library keeps it
	 * up to date; the program's tracepoint site tests it and calls
	 * tracestream_emit() only while it is non-zero.
	 */
	volatile uint16_t *subscribers;
};

/* One field's value for tracestream_emit(): integers point at the value
 * (len = its width), strings and bytes at their first byte. */
struct tracestream_value {
	const void *ptr;
	size_t len;
};

/*
 * How the library hooks into the program's event loop: watch() asks for
 * ready_cb(arg) whenever `fd` is readable and returns a handle (NULL on
 * failure); unwatch() cancels it. `host` is passed back unchanged.
 */
struct tracestream_io {
	void *host;
	void *(*watch)(void *host, int fd, void (*ready_cb)(void *arg), void *arg);
	void (*unwatch)(void *host, void *handle);
	/*
	 * Optional: call fn(arg) once, on the host's loop, after the work in
	 * hand (libevent: event_active() on an event made for it). With it,
	 * what one callback emits reaches readers together: the ring's head
	 * is published at the end (or every TRACESTREAM_PUBLISH_BYTES), not
	 * per event, so the reader's core takes one cache line from ours per
	 * batch. Without it (NULL), every event is published at once.
	 */
	void (*defer)(void *host, void (*fn)(void *arg), void *arg);
};

/* With a defer hook: publish at least every this many bytes per client. */
#define TRACESTREAM_PUBLISH_BYTES 4096

struct tracestream_config {
	const char *path;	  /* the socket; created 0600, replaced if stale */
	unsigned max_clients;	  /* 0: TRACESTREAM_DEFAULT_MAX_CLIENTS */
	size_t ring_default;	  /* 0: TRACESTREAM_DEFAULT_RING */
	size_t ring_max;	  /* 0: TRACESTREAM_DEFAULT_RING_MAX */
	size_t ring_budget;	  /* all clients' rings together; 0: default */
	/* Where the library reports (a client refused, a client dropped);
	 * NULL: silent. One line, no trailing newline. */
	void (*log)(void *log_arg, const char *line);
	void *log_arg;
};

#define TRACESTREAM_DEFAULT_MAX_CLIENTS 16
#define TRACESTREAM_DEFAULT_RING (8u << 20)	/* fits a 4,000,000-byte message */
#define TRACESTREAM_DEFAULT_RING_MAX (64u << 20)
#define TRACESTREAM_DEFAULT_RING_BUDGET (256u << 20)

struct tracestream;

/*
 * Create the socket at cfg->path and start accepting clients through `io`.
 * `events` (n_events of them) must outlive the stream. Returns NULL with a
 * message in err (errlen bytes) if the socket cannot be created; an
 * existing socket nobody answers on is replaced, anything else at the path
 * is left alone and reported.
 */
struct tracestream *tracestream_new(const struct tracestream_config *cfg,
				    const struct tracestream_event *events,
				    unsigned n_events,
				    const struct tracestream_io *io, char *err,
				    size_t errlen);

/* Disconnect every client, remove the socket, free everything. NULL is fine. */
void tracestream_free(struct tracestream *ts);

/*
 * Hand one firing of event number `event` to every client subscribed to it.
 * `values` has one entry per field of the event, in schema order. Never
 * blocks; a client whose ring is full loses the event (counted). NULL ts is
 * a no-op.
 */
void tracestream_emit(struct tracestream *ts, unsigned event,
		      const struct tracestream_value *values);

/*
 * The same in two steps, for code that encodes the fields itself (the
 * generated tracepoint wrappers do, with straight-line code): begin returns
 * where to write the event's `payload` bytes, encoded as
 * tracestream_proto.h says, or NULL if no subscriber has room (each loss
 * counted); commit hands what was written to every subscriber. Nothing
 * else may happen on the stream in between.
 */
struct tracestream_txn {
	struct tracestream *ts;
	struct ts_client *first;
	uint8_t *data;
	unsigned event;
	size_t payload;
	uint64_t now_ns;
};
uint8_t *tracestream_begin(struct tracestream *ts, unsigned event, size_t payload,
			   struct tracestream_txn *txn);
void tracestream_commit(struct tracestream_txn *txn);

/* Encoding helpers for the two-step form; each returns the next byte. */
static inline uint8_t *tracestream_put(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return p + n;
}

static inline uint8_t *tracestream_put_string(uint8_t *p, const char *s, size_t n)
{
	uint16_t n16 = (uint16_t)n;

	memcpy(p, &n16, 2);
	if (n)
		memcpy(p + 2, s, n);
	return p + 2 + n;
}

static inline uint8_t *tracestream_put_bytes(uint8_t *p, const void *b, size_t n)
{
	uint32_t n32 = (uint32_t)n;

	memcpy(p, &n32, 4);
	if (n)
		memcpy(p + 4, b, n);
	return p + 4 + n;
}

/* Clients connected now. */
unsigned tracestream_clients(const struct tracestream *ts);

/* strnlen() for the value of a STRING field; NULL counts as "". */
size_t tracestream_strnlen(const char *s, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* TRACESTREAM_H */
