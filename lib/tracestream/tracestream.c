/*
 * tracestream.c — the server side: the socket, the clients, the rings.
 * See tracestream.h for the interface and tracestream_proto.h for what
 * goes over the socket and into a ring.
 */
#include "tracestream.h"
#include "tracestream_os.h"
#include "tracestream_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

_Static_assert(offsetof(struct tracestream_ring, head) == 64, "ring layout");
_Static_assert(offsetof(struct tracestream_ring, tail) == 128, "ring layout");
_Static_assert(offsetof(struct tracestream_ring, waiting) == 192, "ring layout");
_Static_assert(offsetof(struct tracestream_ring, wake_bytes) == 200, "ring layout");
_Static_assert(sizeof(struct tracestream_rec) == 24, "record layout");

#ifdef MAP_POPULATE
#define TRACESTREAM_MAP_POPULATE MAP_POPULATE
#else
#define TRACESTREAM_MAP_POPULATE 0
#endif

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define LOST_REC_SIZE (sizeof(struct tracestream_rec) + 8u)
#define REFUSE_LOG_INTERVAL_S 10

struct ts_client {
	struct tracestream *ts;
	struct ts_client *next;
	unsigned id;
	int fd;
	void *watch;
	char in[TRACESTREAM_LINE_MAX];
	size_t in_len;
	uint8_t *subscribed;		/* one flag per event */
	unsigned n_subscribed;
	size_t ring_request;		/* data bytes asked for, 0: default */
	struct tracestream_ring *ring;	/* NULL until the first subscription */
	uint8_t *data;
	size_t size;			/* data bytes, a power of 2 */
	uint64_t head;			/* ours; the client cannot change it */
	uint64_t tail_seen;		/* the client's tail at the last reserve */
	uint64_t seq;
	uint64_t pending_lost;		/* lost since the last LOST record */
	uint64_t published;		/* head as the client last saw it */
	uint64_t unpublished;		/* events written since then */
	int bad;			/* its ring's tail went wrong: to close */
};

struct tracestream {
	struct tracestream_config cfg;
	char *path;
	const struct tracestream_event *events;
	unsigned n_events;
	struct tracestream_io io;
	int listen_fd;
	void *listen_watch;
	struct ts_client *clients;
	unsigned n_clients;
	unsigned next_id;
	size_t ring_bytes;		/* all clients' rings */
	time_t refuse_logged;
	unsigned refused_quiet;		/* refusals not logged yet */
	int flush_deferred;		/* io.defer asked to call flush_cb */
};

static const char *const type_names[] = {
	[TRACESTREAM_INT32] = "int32", [TRACESTREAM_UINT32] = "uint32",
	[TRACESTREAM_INT64] = "int64", [TRACESTREAM_UINT64] = "uint64",
	[TRACESTREAM_BOOL] = "bool",   [TRACESTREAM_STRING] = "string",
	[TRACESTREAM_BYTES] = "bytes",
};

static void ts_log(struct tracestream *ts, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ts_log(struct tracestream *ts, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!ts->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ts->cfg.log(ts->cfg.log_arg, line);
}

size_t tracestream_strnlen(const char *s, size_t max)
{
	return s ? strnlen(s, max) : 0;
}

unsigned tracestream_clients(const struct tracestream *ts)
{
	return ts ? ts->n_clients : 0;
}

/* ---- Sending lines ----------------------------------------------------------- */

/* Send all of buf without waiting: 0, or -1 if the socket cannot take it
 * now (a client that does not read its replies is dropped). */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_DONTWAIT | tracestream_os_send_flags());

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_line(struct ts_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int send_line(struct ts_client *c, const char *fmt, ...)
{
	char line[TRACESTREAM_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return send_all(c->fd, line, (size_t)n);
}

/* The ring's descriptor rides on the "ring BYTES" line (SCM_RIGHTS). */
static int send_ring_fd(struct ts_client *c, int ring_fd)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "ring %zu\n", c->size);
	struct iovec iov = { .iov_base = line, .iov_len = (size_t)n };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &ring_fd, sizeof(int));
	for (;;) {
		ssize_t sent = sendmsg(c->fd, &msg, MSG_DONTWAIT | tracestream_os_send_flags());

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent != n)
			return -1; /* the line is short: a partial send means a stuck client */
		return 0;
	}
}

/* ---- Clients -------------------------------------------------------------------- */

static void set_subscribed(struct ts_client *c, unsigned ev, int on)
{
	volatile uint16_t *count = c->ts->events[ev].subscribers;

	if (c->subscribed[ev] == on)
		return;
	c->subscribed[ev] = (uint8_t)on;
	c->n_subscribed += on ? 1 : (unsigned)-1;
	if (count)
		*count = (uint16_t)(*count + (on ? 1 : -1));
}

static void client_close(struct ts_client *c, const char *why)
{
	struct tracestream *ts = c->ts;
	struct ts_client **pp;

	for (unsigned ev = 0; ev < ts->n_events; ev++)
		set_subscribed(c, ev, 0);
	for (pp = &ts->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ts->n_clients--;
	if (why)
		ts_log(ts, "tracestream: client %u dropped: %s", c->id, why);
	if (c->ring) {
		uint64_t lost = c->ring->lost, written = c->ring->written;

		ts_log(ts, "tracestream: client %u gone (%llu events written, %llu lost)",
		       c->id, (unsigned long long)written, (unsigned long long)lost);
		munmap(c->ring, TRACESTREAM_RING_HDR + c->size);
		ts->ring_bytes -= c->size;
	}
	if (c->watch)
		ts->io.unwatch(ts->io.host, c->watch);
	close(c->fd);
	free(c->subscribed);
	free(c);
}

/* Say why, then close: the client learns what it did wrong. */
static void client_refuse(struct ts_client *c, const char *why)
{
	char line[TRACESTREAM_LINE_MAX];

	snprintf(line, sizeof(line), "error %s\n", why);
	ts_log(c->ts, "tracestream: client %u dropped: %s", c->id, why);
	send_all(c->fd, line, strlen(line));
	client_close(c, NULL);
}

static int send_schema(struct ts_client *c)
{
	const struct tracestream *ts = c->ts;

	if (send_line(c, "tracestream %d %u", TRACESTREAM_VERSION, ts->n_events) < 0)
		return -1;
	for (unsigned i = 0; i < ts->n_events; i++) {
		const struct tracestream_event *ev = &ts->events[i];

		if (send_line(c, "event %u %s %u %s", i, ev->name, ev->n_fields,
			      ev->description) < 0)
			return -1;
		for (unsigned f = 0; f < ev->n_fields; f++) {
			const struct tracestream_field *fd = &ev->fields[f];
			int rc;

			if (fd->type == TRACESTREAM_BYTES && fd->len_field >= 0)
				rc = send_line(c, "field %s bytes @%d", fd->name, fd->len_field);
			else if (fd->type == TRACESTREAM_STRING || fd->type == TRACESTREAM_BYTES)
				rc = send_line(c, "field %s %s %u", fd->name,
					       type_names[fd->type], (unsigned)fd->size);
			else
				rc = send_line(c, "field %s %s", fd->name, type_names[fd->type]);
			if (rc < 0)
				return -1;
		}
	}
	return send_line(c, "end");
}

static int is_pow2(size_t n)
{
	return n && (n & (n - 1)) == 0;
}

/* Map a new ring for the client and hand it the descriptor. */
static int client_ring(struct ts_client *c, char *why, size_t whylen)
{
	struct tracestream *ts = c->ts;
	size_t size = c->ring_request ? c->ring_request : ts->cfg.ring_default;
	int fd;
	void *map;

	if (ts->ring_bytes + size > ts->cfg.ring_budget) {
		snprintf(why, whylen, "ring budget of %zu bytes in use (%zu asked)",
			 ts->cfg.ring_budget, size);
		return -1;
	}
	fd = tracestream_os_shm(TRACESTREAM_RING_HDR + size, why, whylen);
	if (fd < 0)
		return -1;
	/* Populated now, so writing an event never waits for a page fault. */
	map = mmap(NULL, TRACESTREAM_RING_HDR + size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | TRACESTREAM_MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		close(fd);
		return -1;
	}
	c->ring = map;
	c->data = (uint8_t *)map + TRACESTREAM_RING_HDR;
	c->size = size;
	c->ring->magic = TRACESTREAM_MAGIC;
	c->ring->version = TRACESTREAM_VERSION;
	c->ring->size = size;
	ts->ring_bytes += size;
	if (send_ring_fd(c, fd) < 0) {
		snprintf(why, whylen, "cannot send the ring");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int cmd_subscribe(struct ts_client *c, const char *pattern, int on)
{
	struct tracestream *ts = c->ts;
	char why[128];

	if (on && !c->ring && client_ring(c, why, sizeof(why)) < 0) {
		client_refuse(c, why);
		return -1;
	}
	for (unsigned ev = 0; ev < ts->n_events; ev++)
		if (fnmatch(pattern, ts->events[ev].name, 0) == 0)
			set_subscribed(c, ev, on);
	if (send_line(c, "ok %s %u", on ? "subscribe" : "unsubscribe", c->n_subscribed) < 0) {
		client_close(c, "does not read its replies");
		return -1;
	}
	return 0;
}

static int cmd_ring(struct ts_client *c, const char *arg)
{
	struct tracestream *ts = c->ts;
	char *end;
	unsigned long long size;

	errno = 0;
	size = strtoull(arg, &end, 10);
	if (c->ring) {
		client_refuse(c, "ring: already set");
		return -1;
	}
	if (errno || *end || !is_pow2((size_t)size) || size < TRACESTREAM_RING_MIN ||
	    size > ts->cfg.ring_max) {
		char why[128];

		snprintf(why, sizeof(why), "ring: want a power of 2 from %u to %zu",
			 TRACESTREAM_RING_MIN, ts->cfg.ring_max);
		client_refuse(c, why);
		return -1;
	}
	c->ring_request = (size_t)size;
	if (send_line(c, "ok ring %llu", size) < 0) {
		client_close(c, "does not read its replies");
		return -1;
	}
	return 0;
}

/* One command line; -1 if the client was closed. */
static int client_command(struct ts_client *c, char *line)
{
	char *arg = strchr(line, ' ');

	if (arg)
		*arg++ = '\0';
	if (arg && *arg && strcmp(line, "subscribe") == 0)
		return cmd_subscribe(c, arg, 1);
	if (arg && *arg && strcmp(line, "unsubscribe") == 0)
		return cmd_subscribe(c, arg, 0);
	if (arg && *arg && strcmp(line, "ring") == 0)
		return cmd_ring(c, arg);
	client_refuse(c, "unknown command");
	return -1;
}

static void client_readable(void *arg)
{
	struct ts_client *c = arg;
	ssize_t n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c, NULL);
		return;
	}
	c->in_len += (size_t)n;
	for (;;) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t used;

		if (!nl)
			break;
		*nl = '\0';
		used = (size_t)(nl - c->in) + 1;
		if (nl > c->in && client_command(c, c->in) < 0)
			return;
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (c->in_len == sizeof(c->in))
		client_refuse(c, "line too long");
}

/* Refusals are logged at most once per interval, with a count. */
static void log_refusal(struct tracestream *ts, const char *why)
{
	time_t now = time(NULL);

	ts->refused_quiet++;
	if (now - ts->refuse_logged < REFUSE_LOG_INTERVAL_S)
		return;
	ts_log(ts, "tracestream: refused %u client(s): %s", ts->refused_quiet, why);
	ts->refuse_logged = now;
	ts->refused_quiet = 0;
}

static void refuse_fd(struct tracestream *ts, int fd, const char *why)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "error %s\n", why);

	log_refusal(ts, why);
	send_all(fd, line, (size_t)n);
	close(fd);
}

static void client_add(struct tracestream *ts, int fd)
{
	struct ts_client *c = calloc(1, sizeof(*c));
	uid_t uid;

	if (tracestream_os_peer_uid(fd, &uid) == 0 && uid != geteuid()) {
		free(c);
		refuse_fd(ts, fd, "connection from another user");
		return;
	}
	if (ts->n_clients >= ts->cfg.max_clients) {
		free(c);
		refuse_fd(ts, fd, "too many clients");
		return;
	}
	if (!c || !(c->subscribed = calloc(ts->n_events ? ts->n_events : 1, 1))) {
		free(c);
		refuse_fd(ts, fd, "out of memory");
		return;
	}
	c->ts = ts;
	c->fd = fd;
	c->id = ++ts->next_id;
	c->next = ts->clients;
	ts->clients = c;
	ts->n_clients++;
	tracestream_os_nosigpipe(fd);
	if (send_schema(c) < 0) {
		client_close(c, "cannot send the schema");
		return;
	}
	c->watch = ts->io.watch(ts->io.host, fd, client_readable, c);
	if (!c->watch)
		client_close(c, "cannot watch the socket");
}

static void listen_readable(void *arg)
{
	struct tracestream *ts = arg;

	/* A bounded batch, so a flood of connections cannot hold the loop. */
	for (int i = 0; i < 64; i++) {
		int fd = accept(ts->listen_fd, NULL, NULL);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_refusal(ts, strerror(errno));
			return;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		client_add(ts, fd);
	}
}

/* ---- Emitting ------------------------------------------------------------------- */

static size_t payload_size(const struct tracestream_event *ev,
			   const struct tracestream_value *v)
{
	size_t n = 0;

	for (unsigned f = 0; f < ev->n_fields; f++) {
		const struct tracestream_field *fd = &ev->fields[f];

		switch (fd->type) {
		case TRACESTREAM_STRING:
			n += 2 + (v[f].len > 0xffff ? 0xffff : v[f].len);
			break;
		case TRACESTREAM_BYTES:
			n += (fd->len_field >= 0 ? 4 : 0) + v[f].len;
			break;
		default:
			n += v[f].len;
		}
	}
	return n;
}

static void encode(const struct tracestream_event *ev, const struct tracestream_value *v,
		   uint8_t *p)
{
	for (unsigned f = 0; f < ev->n_fields; f++) {
		const struct tracestream_field *fd = &ev->fields[f];
		size_t len = v[f].len;

		/* Integers: a copy of known size the compiler does inline. */
		if (len == 8 && fd->type != TRACESTREAM_STRING && fd->type != TRACESTREAM_BYTES) {
			memcpy(p, v[f].ptr, 8);
			p += 8;
			continue;
		}
		if (len == 4 && fd->type != TRACESTREAM_STRING && fd->type != TRACESTREAM_BYTES) {
			memcpy(p, v[f].ptr, 4);
			p += 4;
			continue;
		}
		if (fd->type == TRACESTREAM_STRING) {
			uint16_t l16 = (uint16_t)(len > 0xffff ? 0xffff : len);

			memcpy(p, &l16, 2);
			p += 2;
			len = l16;
		} else if (fd->type == TRACESTREAM_BYTES && fd->len_field >= 0) {
			uint32_t l32 = (uint32_t)len;

			memcpy(p, &l32, 4);
			p += 4;
		}
		if (len)
			memcpy(p, v[f].ptr, len);
		p += len;
	}
}

/* Read the client's tail; the bytes in use, or more than the ring (and *bad
 * set) if the tail cannot be. */
static uint64_t ring_refresh_tail(struct ts_client *c, int *bad)
{
	uint64_t tail = __atomic_load_n(&c->ring->tail, __ATOMIC_ACQUIRE);

	if (c->head - tail > c->size || tail < c->tail_seen) {
		*bad = 1;
		return (uint64_t)c->size + 1;
	}
	c->tail_seen = tail;
	return c->head - tail;
}

/*
 * Room for `need` bytes at the client's head, after a PAD record if the
 * data's end is too close: a pointer, or NULL if the ring is full. A tail
 * that cannot be (the client wrote nonsense) sets *bad.
 */
static uint8_t *ring_reserve(struct ts_client *c, size_t need, int *bad)
{
	size_t off = (size_t)(c->head & (c->size - 1));
	size_t pad = off + need > c->size ? c->size - off : 0;

	/* The tail the client last gave back is enough while it leaves room:
	 * reading the shared one each time would cost a cache miss per event. */
	if (c->head - c->tail_seen + pad + need > c->size &&
	    ring_refresh_tail(c, bad) + pad + need > c->size)
		return NULL;
	if (*bad)
		return NULL;
	if (pad >= sizeof(struct tracestream_rec)) {
		struct tracestream_rec r = { .size = (uint32_t)pad, .kind = TRACESTREAM_REC_PAD };

		memcpy(c->data + off, &r, sizeof(r));
	}
	c->head += pad;
	off = (size_t)(c->head & (c->size - 1));
	c->head += need;
	return c->data + off;
}

/*
 * Make the written records visible, and wake a sleeping reader only once
 * its backlog reaches what it asked for: no system call per event. No
 * fence either: a wake-up missed in a race costs the reader at most its
 * read period (tracestream_proto.h).
 */
static void ring_publish(struct ts_client *c)
{
	uint64_t want;
	int bad = 0;

	__atomic_store_n(&c->ring->head, c->head, __ATOMIC_RELEASE);
	if (!__atomic_load_n(&c->ring->waiting, __ATOMIC_RELAXED))
		return;
	want = __atomic_load_n(&c->ring->wake_bytes, __ATOMIC_RELAXED);
	if (want > c->size / 2)
		want = c->size / 2;
	/* A reader gives back all it has read before it sets `waiting`, so
	 * the shared tail is exact now. The cached one can be far behind:
	 * trusting it would wake, with a system call, a reader that has
	 * little to read (measured: a wake-up every ~80 events, not every
	 * wake_bytes). A bad tail is dealt with at the next reserve. */
	if (ring_refresh_tail(c, &bad) < want || bad)
		return;
	__atomic_store_n(&c->ring->waiting, 0, __ATOMIC_RELAXED);
	send(c->fd, "\n", 1, MSG_DONTWAIT | tracestream_os_send_flags());
}

/* Make what was written for c visible to it. */
static void client_publish(struct ts_client *c)
{
	c->ring->written += c->unpublished;
	c->unpublished = 0;
	c->published = c->head;
	ring_publish(c);
}

/*
 * Room for one event's record in the client's ring, after a LOST record if
 * events were lost: the payload's address, its header written; or NULL
 * when the ring is full (the loss counted). *bad: the client must go.
 */
static uint8_t *client_reserve(struct ts_client *c, unsigned event, uint64_t now_ns,
			       size_t payload, int *bad)
{
	size_t need = ALIGN8(sizeof(struct tracestream_rec) + payload);
	struct tracestream_rec r;
	uint8_t *p;

	c->seq++;
	if (c->pending_lost) {
		p = ring_reserve(c, LOST_REC_SIZE, bad);
		if (p) {
			r = (struct tracestream_rec){ .size = LOST_REC_SIZE,
						      .kind = TRACESTREAM_REC_LOST,
						      .seq = c->seq, .time_ns = now_ns };
			memcpy(p, &r, sizeof(r));
			memcpy(p + sizeof(r), &c->pending_lost, 8);
			c->pending_lost = 0;
		}
	}
	p = (!*bad && !c->pending_lost && need <= c->size) ? ring_reserve(c, need, bad) : NULL;
	if (!p) {
		c->pending_lost++;
		c->ring->lost++;
		if (!*bad)
			client_publish(c); /* a LOST record may have gone in */
		return NULL;
	}
	r = (struct tracestream_rec){ .size = (uint32_t)need, .kind = TRACESTREAM_REC_EVENT,
				      .event = (uint16_t)event, .seq = c->seq, .time_ns = now_ns };
	memcpy(p, &r, sizeof(r));
	return p + sizeof(r);
}

static void flush_cb(void *arg)
{
	struct tracestream *ts = arg;

	ts->flush_deferred = 0;
	for (struct ts_client *c = ts->clients; c; c = c->next) {
		if (c->ring && (c->unpublished || c->published != c->head))
			client_publish(c);
	}
}

/* One event written for c: publish it now, or with the rest of the batch
 * once the host's loop is through with the work in hand. */
static void client_commit(struct ts_client *c)
{
	struct tracestream *ts = c->ts;

	c->unpublished++;
	if (!ts->io.defer || c->head - c->published >= TRACESTREAM_PUBLISH_BYTES) {
		client_publish(c);
		return;
	}
	if (!ts->flush_deferred) {
		ts->flush_deferred = 1;
		ts->io.defer(ts->io.host, flush_cb, ts);
	}
}

/* Close the clients whose ring went bad during an event (not before: the
 * event's loop walks the list). */
static void close_bad(struct tracestream *ts)
{
	struct ts_client *c, *next;

	for (c = ts->clients; c; c = next) {
		next = c->next;
		if (c->bad)
			client_close(c, "its ring's tail is corrupt");
	}
}

uint8_t *tracestream_begin(struct tracestream *ts, unsigned event, size_t payload,
			   struct tracestream_txn *txn)
{
	struct timespec now;
	struct ts_client *c;
	int bad = 0;

	txn->first = NULL;
	if (!ts || event >= ts->n_events)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	txn->ts = ts;
	txn->event = event;
	txn->payload = payload;
	txn->now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	for (c = ts->clients; c; c = c->next) {
		uint8_t *p;

		if (!c->subscribed[event])
			continue;
		p = client_reserve(c, event, txn->now_ns, payload, &bad);
		c->bad = bad;
		if (p) {
			txn->first = c;
			txn->data = p;
			return p;
		}
	}
	if (bad)
		close_bad(ts);
	return NULL;
}

void tracestream_commit(struct tracestream_txn *txn)
{
	struct ts_client *first = txn->first, *c;
	int bad = 0;

	if (!first)
		return;
	/* The others get a copy of what was written for the first. */
	for (c = first->next; c; c = c->next) {
		uint8_t *p;

		if (!c->subscribed[txn->event])
			continue;
		p = client_reserve(c, txn->event, txn->now_ns, txn->payload, &bad);
		c->bad = bad;
		if (p) {
			memcpy(p, txn->data, txn->payload);
			client_commit(c);
		}
	}
	client_commit(first);
	if (bad)
		close_bad(txn->ts);
}

void tracestream_emit(struct tracestream *ts, unsigned event,
		      const struct tracestream_value *values)
{
	struct tracestream_txn txn;
	size_t payload;
	uint8_t *p;

	if (!ts || event >= ts->n_events)
		return;
	payload = payload_size(&ts->events[event], values);
	p = tracestream_begin(ts, event, payload, &txn);
	if (!p)
		return;
	encode(&ts->events[event], values, p);
	tracestream_commit(&txn);
}

/* ---- The socket ------------------------------------------------------------------ */

/* An existing socket at the path: replace it if nobody answers (a node that
 * died), refuse if somebody does or if it is not a socket. */
static int clear_stale(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path,
						       strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "%s is in use by another process", path);
		return -1;
	}
	unlink(path);
	return 0;
}

static int open_listener(struct tracestream *ts, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, rc;

	if (strlen(ts->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path longer than %zu bytes", ts->path,
			 sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, ts->path, strlen(ts->path) + 1);
	if (clear_stale(ts->path, &sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* Created 0600 from the start: no moment where another user may connect. */
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "%s: %s", ts->path, strerror(errno));
		close(fd);
		return -1;
	}
	ts->listen_fd = fd;
	return 0;
}

struct tracestream *tracestream_new(const struct tracestream_config *cfg,
				    const struct tracestream_event *events,
				    unsigned n_events,
				    const struct tracestream_io *io, char *err,
				    size_t errlen)
{
	struct tracestream *ts = calloc(1, sizeof(*ts));

	if (!ts || !(ts->path = strdup(cfg->path))) {
		snprintf(err, errlen, "out of memory");
		free(ts);
		return NULL;
	}
	ts->cfg = *cfg;
	ts->cfg.path = ts->path;
	if (!ts->cfg.max_clients)
		ts->cfg.max_clients = TRACESTREAM_DEFAULT_MAX_CLIENTS;
	if (!ts->cfg.ring_default)
		ts->cfg.ring_default = TRACESTREAM_DEFAULT_RING;
	if (!ts->cfg.ring_max)
		ts->cfg.ring_max = TRACESTREAM_DEFAULT_RING_MAX;
	if (!ts->cfg.ring_budget)
		ts->cfg.ring_budget = TRACESTREAM_DEFAULT_RING_BUDGET;
	ts->events = events;
	ts->n_events = n_events;
	ts->io = *io;
	ts->listen_fd = -1;
	if (open_listener(ts, err, errlen) < 0) {
		tracestream_free(ts);
		return NULL;
	}
	ts->listen_watch = io->watch(io->host, ts->listen_fd, listen_readable, ts);
	if (!ts->listen_watch) {
		snprintf(err, errlen, "cannot watch %s", ts->path);
		tracestream_free(ts);
		return NULL;
	}
	return ts;
}

void tracestream_free(struct tracestream *ts)
{
	if (!ts)
		return;
	flush_cb(ts); /* readers drain their rings after we hang up */
	while (ts->clients)
		client_close(ts->clients, NULL);
	if (ts->listen_watch)
		ts->io.unwatch(ts->io.host, ts->listen_watch);
	if (ts->listen_fd >= 0) {
		close(ts->listen_fd);
		unlink(ts->path);
	}
	free(ts->path);
	free(ts);
}
