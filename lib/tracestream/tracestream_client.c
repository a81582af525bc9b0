/*
 * tracestream_client.c — the client side of tracestream_proto.h.
 */
#include "tracestream_client.h"
#include "tracestream_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define IN_MAX (64 * 1024)
#define MAX_FIELDS 64

struct tracestream_client {
	int fd;
	char in[IN_MAX];
	size_t in_len;
	int ring_fd;			/* a descriptor received, not yet mapped */
	int closed;			/* the server hung up */
	struct tracestream_client_event *events;
	unsigned n_events;
	struct tracestream_ring *ring;
	const uint8_t *data;
	size_t size;
	uint64_t tail;			/* next record to read */
	uint64_t release;		/* tail to publish on the next call */
	uint64_t head_seen;		/* the server's head when last read */
	struct tracestream_client_value values[MAX_FIELDS];
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Read what the socket has (waiting up to timeout_ms), keeping a received
 * descriptor. 1 data, 0 timeout, -1 closed or error. */
static int fill(struct tracestream_client *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { c->in + c->in_len, sizeof(c->in) - c->in_len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;

	if (c->closed || iov.iov_len == 0)
		return -1;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0; /* nothing yet, or a signal: the caller decides */
	n = recvmsg(c->fd, &msg, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		c->closed = 1;
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			if (c->ring_fd >= 0)
				close(c->ring_fd);
			memcpy(&c->ring_fd, CMSG_DATA(cm), sizeof(int));
		}
	c->in_len += (size_t)n;
	return 1;
}

/* The next non-empty line (copied into line), waiting for it; empty lines
 * are wake-ups. 0 or -1. */
static int read_line(struct tracestream_client *c, char *line, size_t cap, char *err,
		     size_t errlen)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);

		if (nl) {
			size_t len = (size_t)(nl - c->in);

			if (len >= cap)
				return errf(err, errlen, "line too long from the server");
			memcpy(line, c->in, len);
			line[len] = '\0';
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
			if (len > 0)
				return 0;
			continue;
		}
		if (fill(c, -1) < 0)
			return errf(err, errlen, "the server closed the connection");
	}
}

static int send_cmd(struct tracestream_client *c, const char *verb, const char *arg,
		    char *err, size_t errlen)
{
	char line[TRACESTREAM_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s %s\n", verb, arg);

	if (n < 0 || (size_t)n >= sizeof(line))
		return errf(err, errlen, "%s: argument too long", verb);
	if (send(c->fd, line, (size_t)n, 0) != n)
		return errf(err, errlen, "send: %s", strerror(errno));
	return 0;
}

static int parse_type(const char *name, enum tracestream_type *t)
{
	static const char *const names[] = { "", "int32", "uint32", "int64", "uint64",
					     "bool", "string", "bytes" };

	for (int i = TRACESTREAM_INT32; i <= TRACESTREAM_BYTES; i++)
		if (strcmp(name, names[i]) == 0) {
			*t = (enum tracestream_type)i;
			return 0;
		}
	return -1;
}

static int read_field(struct tracestream_client *c, struct tracestream_field *f,
		      char *err, size_t errlen)
{
	char line[TRACESTREAM_LINE_MAX], name[64], type[16], extra[32] = "";
	int n;

	if (read_line(c, line, sizeof(line), err, errlen) < 0)
		return -1;
	n = sscanf(line, "field %63s %15s %31s", name, type, extra);
	if (n < 2 || parse_type(type, &f->type) < 0 || !(f->name = strdup(name)))
		return errf(err, errlen, "bad schema line: %s", line);
	f->len_field = -1;
	if (extra[0] == '@')
		f->len_field = atoi(extra + 1);
	else if (n == 3)
		f->size = (uint32_t)strtoul(extra, NULL, 10);
	return 0;
}

static int read_schema(struct tracestream_client *c, char *err, size_t errlen)
{
	char line[TRACESTREAM_LINE_MAX];
	unsigned version;

	if (read_line(c, line, sizeof(line), err, errlen) < 0)
		return -1;
	if (sscanf(line, "tracestream %u %u", &version, &c->n_events) != 2 ||
	    version != TRACESTREAM_VERSION || c->n_events > 4096)
		return errf(err, errlen, "not a tracestream %d server: %s",
			    TRACESTREAM_VERSION, line);
	c->events = calloc(c->n_events ? c->n_events : 1, sizeof(*c->events));
	if (!c->events)
		return errf(err, errlen, "out of memory");
	for (unsigned i = 0; i < c->n_events; i++) {
		struct tracestream_client_event *ev = &c->events[i];
		unsigned id;
		int desc_at = 0;

		if (read_line(c, line, sizeof(line), err, errlen) < 0)
			return -1;
		if (sscanf(line, "event %u %95s %u %n", &id, ev->name, &ev->n_fields,
			   &desc_at) < 3 || id != i || ev->n_fields > MAX_FIELDS ||
		    !(ev->fields = calloc(ev->n_fields + 1, sizeof(*ev->fields))))
			return errf(err, errlen, "bad schema line: %s", line);
		snprintf(ev->description, sizeof(ev->description), "%s", line + desc_at);
		for (unsigned f = 0; f < ev->n_fields; f++)
			if (read_field(c, &ev->fields[f], err, errlen) < 0)
				return -1;
	}
	if (read_line(c, line, sizeof(line), err, errlen) < 0)
		return -1;
	return strcmp(line, "end") == 0 ? 0 : errf(err, errlen, "bad schema end: %s", line);
}

struct tracestream_client *tracestream_client_connect(const char *path, char *err,
						      size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct tracestream_client *c;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errf(err, errlen, "%s: path too long for a socket", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c = calloc(1, sizeof(*c));
	if (!c) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	c->ring_fd = -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		errf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		tracestream_client_free(c);
		return NULL;
	}
	if (read_schema(c, err, errlen) < 0) {
		tracestream_client_free(c);
		return NULL;
	}
	return c;
}

void tracestream_client_free(struct tracestream_client *c)
{
	if (!c)
		return;
	if (c->ring)
		munmap(c->ring, TRACESTREAM_RING_HDR + c->size);
	if (c->ring_fd >= 0)
		close(c->ring_fd);
	if (c->fd >= 0)
		close(c->fd);
	for (unsigned i = 0; c->events && i < c->n_events; i++) {
		for (unsigned f = 0; c->events[i].fields && f < c->events[i].n_fields; f++)
			free((char *)c->events[i].fields[f].name);
		free(c->events[i].fields);
	}
	free(c->events);
	free(c);
}

unsigned tracestream_client_n_events(const struct tracestream_client *c)
{
	return c->n_events;
}

const struct tracestream_client_event *
tracestream_client_event(const struct tracestream_client *c, unsigned i)
{
	return i < c->n_events ? &c->events[i] : NULL;
}

/* The "ring BYTES" line came with the descriptor: map it. */
static int map_ring(struct tracestream_client *c, const char *line, char *err,
		    size_t errlen)
{
	unsigned long long size = strtoull(line + 5, NULL, 10);
	void *map;

	if (c->ring_fd < 0 || size < TRACESTREAM_RING_MIN || (size & (size - 1)))
		return errf(err, errlen, "bad ring from the server: %s", line);
	map = mmap(NULL, TRACESTREAM_RING_HDR + size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   c->ring_fd, 0);
	close(c->ring_fd);
	c->ring_fd = -1;
	if (map == MAP_FAILED)
		return errf(err, errlen, "mmap: %s", strerror(errno));
	c->ring = map;
	c->data = (const uint8_t *)map + TRACESTREAM_RING_HDR;
	c->size = (size_t)size;
	if (c->ring->magic != TRACESTREAM_MAGIC || c->ring->size != size)
		return errf(err, errlen, "the ring's header is not tracestream's");
	c->tail = c->release = __atomic_load_n(&c->ring->tail, __ATOMIC_ACQUIRE);
	/* Woken early once an eighth of the ring waits; else every read period. */
	__atomic_store_n(&c->ring->wake_bytes, (uint64_t)size / 8, __ATOMIC_RELAXED);
	return 0;
}

/* Wait for "ok VERB N" (mapping a ring on the way); N or -1. */
static int await_ok(struct tracestream_client *c, const char *verb, char *err,
		    size_t errlen)
{
	char line[TRACESTREAM_LINE_MAX], expect[32];
	size_t elen = (size_t)snprintf(expect, sizeof(expect), "ok %s ", verb);

	for (;;) {
		if (read_line(c, line, sizeof(line), err, errlen) < 0)
			return -1;
		if (strncmp(line, "ring ", 5) == 0) {
			if (map_ring(c, line, err, errlen) < 0)
				return -1;
		} else if (strncmp(line, expect, elen) == 0) {
			return atoi(line + elen);
		} else if (strncmp(line, "error ", 6) == 0) {
			return errf(err, errlen, "server: %s", line + 6);
		} else {
			return errf(err, errlen, "unexpected reply: %s", line);
		}
	}
}

int tracestream_client_ring(struct tracestream_client *c, size_t bytes, char *err,
			    size_t errlen)
{
	char arg[32];

	snprintf(arg, sizeof(arg), "%zu", bytes);
	if (send_cmd(c, "ring", arg, err, errlen) < 0)
		return -1;
	return await_ok(c, "ring", err, errlen) < 0 ? -1 : 0;
}

int tracestream_client_subscribe(struct tracestream_client *c, const char *pattern,
				 int on, char *err, size_t errlen)
{
	const char *verb = on ? "subscribe" : "unsubscribe";

	if (strchr(pattern, '\n') || !*pattern)
		return errf(err, errlen, "bad pattern");
	if (send_cmd(c, verb, pattern, err, errlen) < 0)
		return -1;
	return await_ok(c, verb, err, errlen);
}

/* Decode an event's payload into c->values; -1 if it does not parse. */
static int decode(struct tracestream_client *c, const struct tracestream_client_event *ev,
		  const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	for (unsigned f = 0; f < ev->n_fields; f++) {
		const struct tracestream_field *fd = &ev->fields[f];
		struct tracestream_client_value *v = &c->values[f];
		size_t n = 0;

		memset(v, 0, sizeof(*v));
		v->type = fd->type;
		switch (fd->type) {
		case TRACESTREAM_INT32: { int32_t x; n = 4; if (p + n > end) return -1;
			memcpy(&x, p, 4); v->i = x; break; }
		case TRACESTREAM_UINT32: { uint32_t x; n = 4; if (p + n > end) return -1;
			memcpy(&x, p, 4); v->u = x; break; }
		case TRACESTREAM_INT64: n = 8; if (p + n > end) return -1;
			memcpy(&v->i, p, 8); break;
		case TRACESTREAM_UINT64: n = 8; if (p + n > end) return -1;
			memcpy(&v->u, p, 8); break;
		case TRACESTREAM_BOOL: n = 1; if (p + n > end) return -1;
			v->i = p[0] != 0; break;
		case TRACESTREAM_STRING: { uint16_t l; if (p + 2 > end) return -1;
			memcpy(&l, p, 2); p += 2; n = l; v->ptr = p; v->len = l; break; }
		case TRACESTREAM_BYTES:
			if (fd->len_field >= 0) {
				uint32_t l;

				if (p + 4 > end)
					return -1;
				memcpy(&l, p, 4);
				p += 4;
				n = l;
			} else {
				n = fd->size;
			}
			v->ptr = p;
			v->len = n;
			break;
		}
		if (n > (size_t)(end - p))
			return -1;
		p += n;
	}
	return 0;
}

/* The next record in the ring, or 0 if there is none now. */
static int take(struct tracestream_client *c, struct tracestream_client_record *rec,
		char *err, size_t errlen)
{
	/* The shared head is read only when what it said is used up: each read
	 * pulls the line the server writes on every event. */
	if (c->tail >= c->head_seen)
		c->head_seen = __atomic_load_n(&c->ring->head, __ATOMIC_ACQUIRE);
	uint64_t head = c->head_seen;

	while (c->tail < head) {
		size_t off = (size_t)(c->tail & (c->size - 1));
		struct tracestream_rec r;

		if (c->size - off < sizeof(r)) { /* too close to the end: skip */
			c->tail += c->size - off;
			continue;
		}
		memcpy(&r, c->data + off, sizeof(r));
		if (r.size < sizeof(r) || (r.size & 7) || r.size > c->size - off)
			return errf(err, errlen, "corrupt record at offset %llu",
				    (unsigned long long)c->tail);
		c->tail += r.size;
		if (r.kind == TRACESTREAM_REC_PAD)
			continue;
		memset(rec, 0, sizeof(*rec));
		rec->seq = r.seq;
		rec->time_ns = r.time_ns;
		if (r.kind == TRACESTREAM_REC_LOST) {
			rec->kind = TRACESTREAM_CLIENT_LOST;
			memcpy(&rec->lost, c->data + off + sizeof(r), 8);
			return 1;
		}
		if (r.event >= c->n_events ||
		    decode(c, &c->events[r.event], c->data + off + sizeof(r),
			   r.size - sizeof(r)) < 0)
			return errf(err, errlen, "undecodable event at offset %llu",
				    (unsigned long long)(c->tail - r.size));
		rec->kind = TRACESTREAM_CLIENT_EVENT;
		rec->event = r.event;
		rec->values = c->values;
		return 1;
	}
	return 0;
}

int tracestream_client_next(struct tracestream_client *c,
			    struct tracestream_client_record *rec, int timeout_ms,
			    char *err, size_t errlen)
{
	if (!c->ring)
		return errf(err, errlen, "not subscribed");
	for (;;) {
		int rc, slept;

		/* What the caller has read is given back in batches (a store per
		 * record would bounce the cache line under the writer), and all
		 * of it before sleeping. */
		if (c->tail - c->release >= c->size / 16) {
			__atomic_store_n(&c->ring->tail, c->tail, __ATOMIC_RELEASE);
			c->release = c->tail;
		}
		rc = take(c, rec, err, errlen);
		if (rc != 0)
			return rc;
		if (c->release != c->tail) {
			__atomic_store_n(&c->ring->tail, c->tail, __ATOMIC_RELEASE);
			c->release = c->tail;
		}
		__atomic_store_n(&c->ring->waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->ring->head, __ATOMIC_SEQ_CST) != c->tail) {
			__atomic_store_n(&c->ring->waiting, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (c->closed)
			return errf(err, errlen, "the server closed the connection");
		if (timeout_ms == 0)
			return 0;
		/* Sleep one read period at most: the server wakes a reader only
		 * when its backlog is large (tracestream_proto.h). */
		slept = timeout_ms < 0 || timeout_ms > TRACESTREAM_READ_PERIOD_MS ?
				TRACESTREAM_READ_PERIOD_MS : timeout_ms;
		rc = fill(c, slept);
		c->in_len = 0; /* only wake-ups arrive now */
		if (rc < 0)
			continue; /* the server hung up: drain what is left */
		if (timeout_ms > 0 && rc == 0) {
			timeout_ms -= slept;
			if (timeout_ms <= 0 &&
			    __atomic_load_n(&c->ring->head, __ATOMIC_ACQUIRE) == c->tail)
				return 0;
		}
	}
}

void tracestream_client_totals(const struct tracestream_client *c, uint64_t *written,
			       uint64_t *lost)
{
	*written = c->ring ? __atomic_load_n(&c->ring->written, __ATOMIC_ACQUIRE) : 0;
	*lost = c->ring ? __atomic_load_n(&c->ring->lost, __ATOMIC_ACQUIRE) : 0;
}
