/*
 * tracesock.c — lib/tracestream on the node's event loop. The library asks
 * to be told when a descriptor is readable; libevent tells it. What one
 * callback emits is published to readers together, by an event made
 * active for it (the library's defer hook). The generated wrappers (build/gen/tracepoints.h) emit through
 * tracepoints_stream, which this file sets.
 */
#include "tracesock.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "tracepoints.h"
#include "tracestream.h"

struct tracesock {
	struct event_base *base;
	struct tracestream *stream;
	struct event *flush;            /* runs the library's deferred call */
	void (*flush_fn)(void *arg);
	void *flush_arg;
};

struct tracesock_watch {
	struct event *ev;
	void (*ready_cb)(void *arg);
	void *arg;
};

static void tracesock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tracesock_watch *w = arg;

	(void)fd;
	(void)what;
	w->ready_cb(w->arg);
}

static void *tracesock_watch(void *host, int fd, void (*ready_cb)(void *arg), void *arg)
{
	struct tracesock *t = host;
	struct tracesock_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->ready_cb = ready_cb;
	w->arg = arg;
	w->ev = event_new(t->base, fd, EV_READ | EV_PERSIST, tracesock_event_cb, w);
	if (!w->ev || event_add(w->ev, NULL) < 0) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	return w;
}

static void tracesock_unwatch(void *host, void *handle)
{
	struct tracesock_watch *w = handle;

	(void)host;
	event_free(w->ev);
	free(w);
}

static void tracesock_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tracesock *t = arg;

	(void)fd;
	(void)what;
	t->flush_fn(t->flush_arg);
}

/* Run fn once this loop iteration's callbacks are done (before the loop
 * starts: at its start; after it ends: tracestream_free flushes). */
static void tracesock_defer(void *host, void (*fn)(void *arg), void *arg)
{
	struct tracesock *t = host;

	t->flush_fn = fn;
	t->flush_arg = arg;
	event_active(t->flush, EV_TIMEOUT, 0);
}

static void tracesock_log(void *arg, const char *line)
{
	(void)arg;
	log_printf("%s", line);
}

struct tracesock *tracesock_new(struct event_base *base, const struct config *cfg,
				char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 16];
	struct tracesock *t;
	struct tracestream_config tc = { .path = path, .max_clients = TRACESOCK_MAX_CLIENTS,
					 .log = tracesock_log };
	struct tracestream_io io = { .watch = tracesock_watch, .unwatch = tracesock_unwatch,
				     .defer = tracesock_defer };

	err[0] = '\0';
	if (strcmp(cfg->tracesocket, "0") == 0)
		return NULL;
	if (cfg->tracesocket[0])
		snprintf(path, sizeof(path), "%s", cfg->tracesocket);
	else
		snprintf(path, sizeof(path), "%s/trace.sock", cfg->datadir);
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->base = base;
	t->flush = event_new(base, -1, 0, tracesock_flush_cb, t);
	if (!t->flush) {
		snprintf(err, errlen, "out of memory");
		free(t);
		return NULL;
	}
	io.host = t;
	t->stream = tracestream_new(&tc, tracepoints_events, tracepoints_n_events, &io, err,
				    errlen);
	if (!t->stream) {
		event_free(t->flush);
		free(t);
		return NULL;
	}
	tracepoints_stream = t->stream;
	log_printf("tracestream: serving %u tracepoints on %s", tracepoints_n_events, path);
	return t;
}

void tracesock_free(struct tracesock *t)
{
	if (!t)
		return;
	tracepoints_stream = NULL;
	tracestream_free(t->stream); /* publishes what is left, then hangs up */
	event_free(t->flush);
	free(t);
}
