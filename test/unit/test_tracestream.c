/*
 * Unit tests for lib/tracestream: the server and the C client against each
 * other over a real Unix socket and real shared-memory rings.
 *
 * The server runs on a helper thread's poll() loop (the library's own
 * contract is one thread at a time: a mutex serialises the loop and the
 * test's tracestream_emit() calls); the test thread is the client.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tracestream.h"
#include "tracestream_client.h"
#include "tracestream_proto.h"
#include "unit.h"

/* ---- A poll() host for the library ---------------------------------------- */

#define MAX_WATCH 64

struct watch {
	int fd;
	void (*cb)(void *arg);
	void *arg;
	int used;
};

struct host {
	pthread_mutex_t lock;
	pthread_t thread;
	volatile int stop;
	struct watch w[MAX_WATCH];
	struct tracestream *ts;
	char log[4096];
	int defer;                    /* give the library a defer hook */
	void (*deferred_fn)(void *);  /* what it asked to be run */
	void *deferred_arg;
};

/* The defer hook: remembered, run by the test (called with lock held). */
static void host_defer(void *h_, void (*fn)(void *), void *arg)
{
	struct host *h = h_;

	h->deferred_fn = fn;
	h->deferred_arg = arg;
}

static void *host_watch(void *h_, int fd, void (*cb)(void *), void *arg)
{
	struct host *h = h_;

	for (int i = 0; i < MAX_WATCH; i++)
		if (!h->w[i].used) {
			h->w[i] = (struct watch){ fd, cb, arg, 1 };
			return &h->w[i];
		}
	return NULL;
}

static void host_unwatch(void *h_, void *handle)
{
	(void)h_;
	((struct watch *)handle)->used = 0;
}

static void host_log(void *h_, const char *line)
{
	struct host *h = h_;
	size_t n = strlen(h->log);

	snprintf(h->log + n, sizeof(h->log) - n, "%s\n", line);
}

static void *host_loop(void *h_)
{
	struct host *h = h_;

	while (!h->stop) {
		struct pollfd p[MAX_WATCH];
		struct watch *who[MAX_WATCH];
		int n = 0;

		pthread_mutex_lock(&h->lock);
		for (int i = 0; i < MAX_WATCH; i++)
			if (h->w[i].used) {
				p[n] = (struct pollfd){ .fd = h->w[i].fd, .events = POLLIN };
				who[n++] = &h->w[i];
			}
		pthread_mutex_unlock(&h->lock);
		if (poll(p, (nfds_t)n, 5) <= 0)
			continue;
		pthread_mutex_lock(&h->lock);
		for (int i = 0; i < n; i++)
			if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) && who[i]->used &&
			    who[i]->fd == p[i].fd)
				who[i]->cb(who[i]->arg);
		pthread_mutex_unlock(&h->lock);
	}
	return NULL;
}

/* ---- A schema of three events ------------------------------------------------ */

static volatile uint16_t subs[3];
static const struct tracestream_field small_fields[] = {
	{ "id", TRACESTREAM_INT64, 0, -1 },
	{ "name", TRACESTREAM_STRING, 8, -1 },
	{ "ok", TRACESTREAM_BOOL, 0, -1 },
	{ "n32", TRACESTREAM_INT32, 0, -1 },
	{ "u32", TRACESTREAM_UINT32, 0, -1 },
	{ "hash", TRACESTREAM_BYTES, 4, -1 },
};
static const struct tracestream_field msg_fields[] = {
	{ "size", TRACESTREAM_UINT64, 0, -1 },
	{ "data", TRACESTREAM_BYTES, 0, 0 },
};
static const struct tracestream_event events[] = {
	{ "test:small", "a small event", small_fields, 6, &subs[0] },
	{ "test:msg", "a message", msg_fields, 2, &subs[1] },
	{ "other:none", "no fields", NULL, 0, &subs[2] },
};

struct fixture {
	struct host h;
	char dir[64];
	char path[128];
};

static struct tracestream *fixture_start_io(struct fixture *f, unsigned max_clients, int defer)
{
	struct tracestream_config cfg = { .path = f->path, .max_clients = max_clients,
					  .log = host_log, .log_arg = &f->h };
	struct tracestream_io io = { .host = &f->h, .watch = host_watch,
				     .unwatch = host_unwatch, .defer = defer ? host_defer : NULL };
	char err[256];

	memset(&f->h, 0, sizeof(f->h));
	pthread_mutex_init(&f->h.lock, NULL);
	if (!unit_tmpdir(f->dir, sizeof(f->dir), "ts"))
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/trace.sock", f->dir);
	f->h.ts = tracestream_new(&cfg, events, 3, &io, err, sizeof(err));
	if (!f->h.ts) {
		fprintf(stderr, "  tracestream_new: %s\n", err);
		return NULL;
	}
	pthread_create(&f->h.thread, NULL, host_loop, &f->h);
	return f->h.ts;
}

static struct tracestream *fixture_start(struct fixture *f, unsigned max_clients)
{
	return fixture_start_io(f, max_clients, 0);
}

/* The host's loop comes round: run what the library deferred. Returns
 * whether there was something. */
static int run_deferred(struct fixture *f)
{
	void (*fn)(void *);

	pthread_mutex_lock(&f->h.lock);
	fn = f->h.deferred_fn;
	f->h.deferred_fn = NULL;
	if (fn)
		fn(f->h.deferred_arg);
	pthread_mutex_unlock(&f->h.lock);
	return fn != NULL;
}

static void fixture_stop(struct fixture *f)
{
	f->h.stop = 1;
	pthread_join(f->h.thread, NULL);
	tracestream_free(f->h.ts);
	unit_rmtree(f->dir);
	pthread_mutex_destroy(&f->h.lock);
}

static void emit_small(struct fixture *f, int64_t id)
{
	char name[] = "abcdefghijk"; /* longer than the schema's 8 */
	uint8_t hash[4] = { 1, 2, 3, 4 };
	int32_t n32 = -5;
	uint32_t u32 = 4000000000u;
	bool ok = true;
	struct tracestream_value v[] = {
		{ &id, 8 }, { name, tracestream_strnlen(name, 8) }, { &ok, 1 },
		{ &n32, 4 }, { &u32, 4 }, { hash, 4 },
	};

	pthread_mutex_lock(&f->h.lock);
	if (subs[0])
		tracestream_emit(f->h.ts, 0, v);
	pthread_mutex_unlock(&f->h.lock);
}

static void emit_msg(struct fixture *f, const uint8_t *data, uint64_t size)
{
	struct tracestream_value v[] = { { &size, 8 }, { data, (size_t)size } };

	pthread_mutex_lock(&f->h.lock);
	if (subs[1])
		tracestream_emit(f->h.ts, 1, v);
	pthread_mutex_unlock(&f->h.lock);
}

static int wait_subs(int i, int want)
{
	for (int t = 0; t < 2000; t++) {
		if (subs[i] == want)
			return 1;
		usleep(1000);
	}
	return 0;
}

/* ---- Tests ---------------------------------------------------------------- */

UNIT_TEST(tracestream_schema_subscribe_and_typed_events)
{
	struct fixture f;
	struct tracestream_client *c;
	struct tracestream_client_record r;
	struct stat st;
	char err[256];

	CHECK(fixture_start(&f, 0) != NULL);
	if (!f.h.ts)
		return;
	CHECK(stat(f.path, &st) == 0 && (st.st_mode & 0777) == 0600);
	c = tracestream_client_connect(f.path, err, sizeof(err));
	CHECK(c != NULL);
	if (!c) {
		fixture_stop(&f);
		return;
	}
	CHECK_EQ_INT(tracestream_client_n_events(c), 3);
	CHECK_EQ_STR(tracestream_client_event(c, 1)->name, "test:msg");
	CHECK_EQ_STR(tracestream_client_event(c, 0)->description, "a small event");
	CHECK_EQ_INT(tracestream_client_event(c, 0)->fields[1].size, 8);
	CHECK_EQ_INT(tracestream_client_event(c, 1)->fields[1].len_field, 0);
	CHECK_EQ_INT(subs[0], 0);
	emit_small(&f, 1); /* nobody listens: nothing happens */
	CHECK_EQ_INT(tracestream_client_subscribe(c, "test:*", 1, err, sizeof(err)), 2);
	CHECK_EQ_INT(subs[0], 1);
	CHECK_EQ_INT(subs[1], 1);
	CHECK_EQ_INT(subs[2], 0);
	for (int64_t i = 10; i < 13; i++)
		emit_small(&f, i);
	for (int64_t i = 10; i < 13; i++) {
		CHECK_EQ_INT(tracestream_client_next(c, &r, 2000, err, sizeof(err)), 1);
		CHECK_EQ_INT(r.kind, TRACESTREAM_CLIENT_EVENT);
		CHECK_EQ_INT(r.event, 0);
		CHECK_EQ_INT(r.seq, (uint64_t)(i - 9));
		CHECK(r.time_ns > 1600000000ull * 1000000000ull);
		CHECK_EQ_INT(r.values[0].i, i);
		CHECK_EQ_INT(r.values[1].len, 8);
		CHECK(memcmp(r.values[1].ptr, "abcdefgh", 8) == 0);
		CHECK_EQ_INT(r.values[2].i, 1);
		CHECK_EQ_INT(r.values[3].i, -5);
		CHECK_EQ_INT(r.values[4].u, 4000000000u);
		CHECK(r.values[5].len == 4 && r.values[5].ptr[3] == 4);
	}
	CHECK_EQ_INT(tracestream_client_next(c, &r, 50, err, sizeof(err)), 0);
	CHECK_EQ_INT(tracestream_client_subscribe(c, "test:small", 0, err, sizeof(err)), 1);
	CHECK_EQ_INT(subs[0], 0);
	tracestream_client_free(c);
	CHECK(wait_subs(1, 0));
	CHECK_EQ_INT(tracestream_clients(f.h.ts), 0);
	fixture_stop(&f);
	CHECK(stat(f.path, &st) < 0); /* the socket is removed */
}

/* A reader that stops reading loses events, never silently: the loss
 * comes in-band before the next event that fits, and the counts add up. */
UNIT_TEST(tracestream_slow_reader_loses_counted_events)
{
	struct fixture f;
	struct tracestream_client *c;
	struct tracestream_client_record r;
	uint64_t written, lost, got = 0, lost_seen = 0, last_seq = 0;
	char err[256];
	const int total = 5000;

	CHECK(fixture_start(&f, 0) != NULL);
	c = f.h.ts ? tracestream_client_connect(f.path, err, sizeof(err)) : NULL;
	CHECK(c != NULL);
	if (!c)
		goto out;
	CHECK_EQ_INT(tracestream_client_ring(c, 64 * 1024, err, sizeof(err)), 0);
	CHECK_EQ_INT(tracestream_client_subscribe(c, "test:small", 1, err, sizeof(err)), 1);
	for (int i = 0; i < total; i++) /* 5000 x 64 bytes > 64 KiB: most are lost */
		emit_small(&f, i);
	emit_small(&f, -1); /* cannot fit either while the ring is full */
	/* Sequence numbers: events 1, 2, ... in order; a LOST record of n at
	 * seq s stands for s-n .. s-1, and the event s follows it. */
	for (int phase = 0; phase < 2; phase++) {
		for (;;) {
			int rc = tracestream_client_next(c, &r, 100, err, sizeof(err));

			if (rc <= 0)
				break;
			if (r.kind == TRACESTREAM_CLIENT_LOST) {
				lost_seen += r.lost;
				CHECK_EQ_INT(r.seq, last_seq + 1 + r.lost);
				last_seq = r.seq - 1;
				continue;
			}
			CHECK_EQ_INT(r.seq, last_seq + 1);
			last_seq = r.seq;
			got++;
		}
		/* The pending loss is delivered with the next event that fits. */
		if (phase == 0) {
			CHECK_EQ_INT(lost_seen, 0);
			emit_small(&f, 99999);
		}
	}
	CHECK_EQ_INT(r.values[0].i, 99999);
	CHECK_EQ_INT(last_seq, (uint64_t)total + 2);
	tracestream_client_totals(c, &written, &lost);
	CHECK(lost > 0);
	CHECK_EQ_INT(written, got);
	CHECK_EQ_INT(lost, lost_seen);
	CHECK_EQ_INT(written + lost, (uint64_t)total + 2);
	tracestream_client_free(c);
out:
	if (f.h.ts)
		fixture_stop(&f);
}

/* The protocol's largest message, 4,000,000 bytes, arrives intact. */
UNIT_TEST(tracestream_four_megabyte_message_intact)
{
	struct fixture f;
	struct tracestream_client *c;
	struct tracestream_client_record r;
	const size_t size = 4000000;
	uint8_t *data = malloc(size);
	char err[256];

	for (size_t i = 0; data && i < size; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 24);
	CHECK(data && fixture_start(&f, 0) != NULL);
	c = f.h.ts ? tracestream_client_connect(f.path, err, sizeof(err)) : NULL;
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_INT(tracestream_client_subscribe(c, "test:msg", 1, err, sizeof(err)), 1);
		for (int round = 0; round < 3; round++) { /* the ring wraps */
			data[0] = (uint8_t)round;
			emit_msg(&f, data, size);
			CHECK_EQ_INT(tracestream_client_next(c, &r, 5000, err, sizeof(err)), 1);
			CHECK_EQ_INT(r.kind, TRACESTREAM_CLIENT_EVENT);
			CHECK_EQ_INT(r.values[0].u, size);
			CHECK_EQ_INT(r.values[1].len, size);
			CHECK(r.values[1].ptr && memcmp(r.values[1].ptr, data, size) == 0);
		}
		tracestream_client_free(c);
	}
	if (f.h.ts)
		fixture_stop(&f);
	free(data);
}

/* Raw protocol helpers for the hostile-client tests. */
static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read until EOF (or 3 s); the text, NUL-terminated, in buf. */
static size_t raw_read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&p, 1, 3000) <= 0 || n + 1 >= cap)
			break;
		got = read(fd, buf + n, cap - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	return n;
}

UNIT_TEST(tracestream_garbage_and_long_lines_are_refused)
{
	static char buf[65536];
	struct fixture f;
	char line[TRACESTREAM_LINE_MAX + 10];
	int fd;

	CHECK(fixture_start(&f, 0) != NULL);
	if (!f.h.ts)
		return;
	fd = raw_connect(f.path);
	CHECK(fd >= 0);
	CHECK(write(fd, "\x01\x02garbage\n", 10) == 10);
	raw_read_all(fd, buf, sizeof(buf));
	CHECK(strstr(buf, "tracestream 1 3\n") == buf);
	CHECK(strstr(buf, "error unknown command\n") != NULL);
	close(fd);
	fd = raw_connect(f.path);
	memset(line, 'x', sizeof(line));
	CHECK(write(fd, line, sizeof(line)) == (ssize_t)sizeof(line));
	raw_read_all(fd, buf, sizeof(buf));
	CHECK(strstr(buf, "error line too long") != NULL);
	close(fd);
	fd = raw_connect(f.path);
	CHECK(write(fd, "ring 12345\n", 11) == 11);
	raw_read_all(fd, buf, sizeof(buf));
	CHECK(strstr(buf, "error ring: want a power of 2") != NULL);
	close(fd);
	CHECK(strstr(f.h.log, "dropped: unknown command") != NULL);
	for (int t = 0; t < 1000 && tracestream_clients(f.h.ts); t++)
		usleep(1000);
	CHECK_EQ_INT(tracestream_clients(f.h.ts), 0);
	fixture_stop(&f);
}

UNIT_TEST(tracestream_client_limit_and_vanishing_clients)
{
	static char buf[65536];
	struct fixture f;
	int fds[4];
	char err[256];
	struct tracestream_client *c;

	CHECK(fixture_start(&f, 3) != NULL);
	if (!f.h.ts)
		return;
	for (int i = 0; i < 3; i++) { /* subscribe and vanish, without a word */
		fds[i] = raw_connect(f.path);
		CHECK(write(fds[i], "subscribe *\n", 12) == 12);
	}
	CHECK(wait_subs(0, 3));
	fds[3] = raw_connect(f.path);
	raw_read_all(fds[3], buf, sizeof(buf));
	CHECK(strstr(buf, "error too many clients") != NULL);
	CHECK(strstr(f.h.log, "refused 1 client(s): too many clients") != NULL);
	emit_small(&f, 1); /* nobody reads: never blocks */
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	CHECK(wait_subs(0, 0));
	c = tracestream_client_connect(f.path, err, sizeof(err));
	CHECK(c != NULL);
	tracestream_client_free(c);
	fixture_stop(&f);
}

/* A raw client that subscribes and maps its ring itself, as a hostile
 * client would: the ring header, or NULL. */
static struct tracestream_ring *raw_subscribe(int fd, size_t *map_len)
{
	static char buf[65536];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			      .msg_controllen = sizeof(ctl.b) };
	int ring_fd = -1;
	void *map;

	if (write(fd, "subscribe test:small\n", 21) != 21)
		return NULL;
	for (int i = 0; i < 50 && ring_fd < 0; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct cmsghdr *cm;

		if (poll(&p, 1, 100) <= 0)
			continue;
		msg.msg_controllen = sizeof(ctl.b);
		if (recvmsg(fd, &msg, 0) <= 0)
			return NULL;
		cm = CMSG_FIRSTHDR(&msg);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&ring_fd, CMSG_DATA(cm), sizeof(int));
	}
	if (ring_fd < 0)
		return NULL;
	*map_len = TRACESTREAM_RING_HDR + TRACESTREAM_DEFAULT_RING;
	map = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
#ifndef TRACESTREAM_POSIX_SHM
	/* Sealed: the client cannot shrink the ring under the server. (The
	 * portable shm_open() path relies on the system refusing a resize, as
	 * macOS does; Linux would allow it, so it is not tried there.) */
	CHECK(ftruncate(ring_fd, 4096) < 0);
#endif
	close(ring_fd);
	return map == MAP_FAILED ? NULL : map;
}

/* A client that scribbles over its ring's tail is dropped; the others
 * carry on. */
UNIT_TEST(tracestream_corrupt_tail_drops_that_client_only)
{
	struct fixture f;
	struct tracestream_client *good;
	struct tracestream_client_record r;
	struct tracestream_ring *ring;
	size_t map_len = 0;
	char err[256];
	int fd;

	CHECK(fixture_start(&f, 0) != NULL);
	if (!f.h.ts)
		return;
	fd = raw_connect(f.path);
	ring = raw_subscribe(fd, &map_len);
	CHECK(ring != NULL);
	good = tracestream_client_connect(f.path, err, sizeof(err));
	CHECK(good != NULL);
	if (ring && good) {
		CHECK_EQ_INT(tracestream_client_subscribe(good, "test:small", 1, err, sizeof(err)), 1);
		CHECK(wait_subs(0, 2));
		emit_small(&f, 1);
		CHECK_EQ_INT(ring->written, 1);
		ring->tail = 1ull << 40; /* a tail beyond the head */
		/* The server reads a tail only when the one it last saw leaves no
		 * room: at the latest once a ring's worth has been written. */
		for (int i = 0; i < 200000 && subs[0] == 2; i++) {
			emit_small(&f, 2);
			if (i % 1024 == 0) /* the good client keeps up */
				while (tracestream_client_next(good, &r, 0, err, sizeof(err)) == 1)
					;
		}
		CHECK(strstr(f.h.log, "dropped: its ring's tail is corrupt") != NULL);
		CHECK_EQ_INT(subs[0], 1);
		emit_small(&f, 3);
		do {
			CHECK_EQ_INT(tracestream_client_next(good, &r, 2000, err, sizeof(err)), 1);
		} while (r.values[0].i == 2 || r.values[0].i == 1);
		CHECK_EQ_INT(r.values[0].i, 3);
	}
	if (ring)
		munmap(ring, map_len);
	close(fd);
	tracestream_client_free(good);
	fixture_stop(&f);
}

UNIT_TEST(tracestream_socket_path_rules)
{
	struct fixture f;
	struct tracestream_config cfg = { 0 };
	struct tracestream_io io = { .watch = host_watch, .unwatch = host_unwatch };
	char err[256], path[100];
	struct tracestream *second;
	FILE *file;

	CHECK(fixture_start(&f, 0) != NULL);
	if (!f.h.ts)
		return;
	io.host = &f.h;
	cfg.path = f.path;
	pthread_mutex_lock(&f.h.lock);
	second = tracestream_new(&cfg, events, 3, &io, err, sizeof(err));
	pthread_mutex_unlock(&f.h.lock);
	CHECK(second == NULL);
	CHECK(strstr(err, "in use by another process") != NULL);
	snprintf(path, sizeof(path), "%s/file", f.dir);
	file = fopen(path, "w");
	if (file)
		fclose(file);
	cfg.path = path;
	CHECK(tracestream_new(&cfg, events, 3, &io, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "is not a socket") != NULL);
	unlink(path);
	{
		/* A socket nobody listens on (a node that was killed): replaced. */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		close(fd);
		pthread_mutex_lock(&f.h.lock);
		second = tracestream_new(&cfg, events, 3, &io, err, sizeof(err));
		CHECK(second != NULL);
		tracestream_free(second);
		pthread_mutex_unlock(&f.h.lock);
	}
	fixture_stop(&f);
}

/* With a defer hook, what one turn of the host's loop emits is published
 * when the turn ends (the deferred call), or at once past
 * TRACESTREAM_PUBLISH_BYTES; and tracestream_free publishes the rest, which
 * a reader still drains after the server has gone. */
UNIT_TEST(tracestream_deferred_publish)
{
	static uint8_t big[TRACESTREAM_PUBLISH_BYTES + 100];
	struct fixture f;
	struct tracestream_client *c;
	struct tracestream_client_record r;
	uint64_t written, lost;
	char err[256];

	REQUIRE(fixture_start_io(&f, 0, 1) != NULL);
	c = tracestream_client_connect(f.path, err, sizeof(err));
	REQUIRE(c != NULL);
	REQUIRE(tracestream_client_subscribe(c, "test:*", 1, err, sizeof(err)) == 2);
	for (int64_t i = 1; i <= 3; i++)
		emit_small(&f, i);
	/* Written, not yet published: the reader sees nothing. */
	CHECK_EQ_INT(tracestream_client_next(c, &r, 50, err, sizeof(err)), 0);
	tracestream_client_totals(c, &written, &lost);
	CHECK_EQ_INT(written, 0);
	CHECK(run_deferred(&f));
	CHECK(!run_deferred(&f)); /* asked once per batch */
	for (int64_t i = 1; i <= 3; i++) {
		CHECK_EQ_INT(tracestream_client_next(c, &r, 2000, err, sizeof(err)), 1);
		CHECK_EQ_INT(r.values[0].i, i);
	}
	tracestream_client_totals(c, &written, &lost);
	CHECK_EQ_INT(written, 3);
	/* A batch past TRACESTREAM_PUBLISH_BYTES goes at once. */
	emit_msg(&f, big, sizeof(big));
	CHECK_EQ_INT(tracestream_client_next(c, &r, 2000, err, sizeof(err)), 1);
	CHECK_EQ_INT(r.values[1].len, sizeof(big));
	run_deferred(&f);
	/* One more, never published by a turn of the loop: the server's end
	 * publishes it, and the reader drains it after the hang-up. */
	emit_small(&f, 99);
	fixture_stop(&f);
	CHECK_EQ_INT(tracestream_client_next(c, &r, 2000, err, sizeof(err)), 1);
	CHECK_EQ_INT(r.values[0].i, 99);
	CHECK(tracestream_client_next(c, &r, 200, err, sizeof(err)) < 0);
	tracestream_client_free(c);
}
