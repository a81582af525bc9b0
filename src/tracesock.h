/*
 * tracesock.h — the node's tracepoint stream: lib/tracestream serving the
 * tracepoints of src/trace-events on DATADIR/trace.sock (-tracesocket),
 * driven by the node's libevent loop.
 */
#ifndef MR_TRACESOCK_H
#define MR_TRACESOCK_H

#include <stddef.h>

struct event_base;
struct config;
struct tracesock;

/* Clients at most, and so descriptors the stream may hold. */
#define TRACESOCK_MAX_CLIENTS 16

/*
 * Start serving at cfg->tracesocket (default DATADIR/trace.sock). Returns
 * the handle; NULL with err empty when -notracesocket turned it off, NULL
 * with a message in err when the socket cannot be created.
 */
struct tracesock *tracesock_new(struct event_base *base, const struct config *cfg,
				char *err, size_t errlen);

/* Stop: clients disconnected, socket removed. Accepts NULL. */
void tracesock_free(struct tracesock *t);

#endif
