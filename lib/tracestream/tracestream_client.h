/*
 * tracestream_client.h — connect to a tracestream server, read its schema,
 * subscribe, and read events. Blocking, one thread, no allocation per
 * event. moneyrocket-trace and the benchmark use it; clients in other
 * languages follow tracestream_proto.h (contrib/tracing/moneyrocket_trace.py
 * is one in Python).
 */
#ifndef TRACESTREAM_CLIENT_H
#define TRACESTREAM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "tracestream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tracestream_client;

/* One event of the schema, as the server described it. */
struct tracestream_client_event {
	char name[96];
	char description[256];
	unsigned n_fields;
	struct tracestream_field *fields; /* names owned by the client */
};

/* One decoded field of a received event. Pointers point into the ring and
 * stay valid until the next tracestream_client_next(). */
struct tracestream_client_value {
	enum tracestream_type type;
	int64_t i;		/* INT32, INT64, BOOL (0/1) */
	uint64_t u;		/* UINT32, UINT64 */
	const uint8_t *ptr;	/* STRING, BYTES */
	size_t len;
};

enum tracestream_client_kind {
	TRACESTREAM_CLIENT_EVENT = 1,
	TRACESTREAM_CLIENT_LOST, /* `lost` events were lost before `seq` */
};

struct tracestream_client_record {
	enum tracestream_client_kind kind;
	unsigned event;		/* index into the schema */
	uint64_t seq;
	uint64_t time_ns;
	uint64_t lost;
	const struct tracestream_client_value *values; /* n_fields of them */
};

/*
 * Connect to the socket at `path` and read the schema. NULL with a message
 * in err if the socket cannot be reached or speaks something else.
 */
struct tracestream_client *tracestream_client_connect(const char *path, char *err,
						      size_t errlen);

/* Close the connection and free everything. NULL is fine. */
void tracestream_client_free(struct tracestream_client *c);

/* The schema. */
unsigned tracestream_client_n_events(const struct tracestream_client *c);
const struct tracestream_client_event *
tracestream_client_event(const struct tracestream_client *c, unsigned i);

/* Ask for a ring of `bytes` (a power of 2) before the first subscription.
 * 0, or -1 with a message in err (the server closes the connection). */
int tracestream_client_ring(struct tracestream_client *c, size_t bytes, char *err,
			    size_t errlen);

/* Subscribe (on=1) or unsubscribe (on=0) a pattern; returns how many events
 * the client now receives, or -1 with a message in err. */
int tracestream_client_subscribe(struct tracestream_client *c, const char *pattern,
				 int on, char *err, size_t errlen);

/*
 * Wait up to timeout_ms (-1: for ever) for the next record. Returns 1 with
 * *rec filled, 0 on timeout, -1 when the server has gone and the ring is
 * empty (err says why).
 */
int tracestream_client_next(struct tracestream_client *c,
			    struct tracestream_client_record *rec, int timeout_ms,
			    char *err, size_t errlen);

/* Totals the server wrote into the ring: events written and lost. */
void tracestream_client_totals(const struct tracestream_client *c, uint64_t *written,
			       uint64_t *lost);

#ifdef __cplusplus
}
#endif

#endif /* TRACESTREAM_CLIENT_H */
