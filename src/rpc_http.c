/*
 * rpc_http.c — the JSON-RPC transport: libevent's evhttp on 127.0.0.1,
 * HTTP Basic auth against the cookie file, POST bodies handed to the
 * dispatcher as jobs. A `stop` reply is sent in full before on_stop runs.
 *
 * Limits (doc/rpc.md): header section size and line count, body size, a
 * budget of client descriptors, and jobs run in slices of
 * RPC_SLICE_US so one big batch never holds the event loop (P2P
 * included) for long.
 */
#include "rpc.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define COOKIE_USER "__cookie__"
#define RPC_MAX_BODY (16 * 1024 * 1024)
#define RPC_TIMEOUT_S 30
/* One request's header section (request line included) and its lines. */
#define RPC_MAX_HEADER_BYTES 8192
#define RPC_MAX_HEADER_LINES 64
/* A job runs at most this long before the loop serves other events. */
#define RPC_SLICE_US 5000
/* After a failed accept (EMFILE...), the listener rests this long. */
#define RPC_ACCEPT_BACKOFF_MS 500
/* An idle client may be closed for a new one after this long. */
#define RPC_IDLE_EVICT_MS 200
/* While full, look for a free slot this often. */
#define RPC_FULL_RECHECK_MS 100

/* A request being answered in slices. */
struct rpc_pending {
	struct rpc_server *s;
	struct evhttp_request *req;
	struct rpc_job *job;
	struct event *ev;
	evutil_socket_t fd;    /* the client's socket, never evicted while here */
	struct rpc_pending *next;
};

struct rpc_server {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *listener;
	struct event *resume;  /* re-enables the listener */
	struct rpc_dispatch *dispatch;
	struct rpc_pending *pending;
	uint16_t port;
	char cookie_path[4200];
	char auth_expected[128]; /* "Basic <base64(__cookie__:hex)>" */
	void (*on_stop)(void *);
	void *on_stop_arg;
	bool stopping;
	struct log_limit auth_log, accept_log, full_log;
};

/*
 * Write "__cookie__:<64 hex>" to DATADIR/.cookie, mode 0600, via a
 * temporary file and rename so a client never reads half a cookie. Fills
 * s->auth_expected. Returns 0 or -1 with err.
 */
static int cookie_write(struct rpc_server *s, const char *datadir, char *err, size_t errlen)
{
	uint8_t secret[32];
	char hex[65], line[96], tmp[4300];
	int fd, len;

	if (util_random_bytes(secret, sizeof(secret)) < 0) {
		snprintf(err, errlen, "no random bytes for the cookie: %s", strerror(errno));
		return -1;
	}
	util_hex(secret, sizeof(secret), hex);
	len = snprintf(line, sizeof(line), "%s:%s", COOKIE_USER, hex);
	snprintf(s->cookie_path, sizeof(s->cookie_path), "%s/.cookie", datadir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cookie_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, (size_t)len) != len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, s->cookie_path) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", s->cookie_path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	strcpy(s->auth_expected, "Basic ");
	util_base64_encode(line, (size_t)len, s->auth_expected + 6);
	return 0;
}

static bool authorized(struct rpc_server *s, struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");

	return auth && util_secret_equal(auth, s->auth_expected);
}

static void reply_text(struct evhttp_request *req, int status, const char *reason)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (status == 401)
		evhttp_add_header(h, "WWW-Authenticate", "Basic realm=\"jsonrpc\"");
	evhttp_send_error(req, status, reason);
}

static void stop_after_reply_cb(struct evhttp_request *req, void *arg)
{
	struct rpc_server *s = arg;

	(void)req;
	if (s->on_stop)
		s->on_stop(s->on_stop_arg);
}

static void reply_json(struct rpc_server *s, struct evhttp_request *req,
		       char *body, int status)
{
	struct evbuffer *buf = evbuffer_new();

	if (!buf) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	if (body) {
		evbuffer_add(buf, body, strlen(body));
		evbuffer_add(buf, "\n", 1);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Content-Type", "application/json");
	}
	if (rpc_stop_requested(s->dispatch) && !s->stopping) {
		s->stopping = true;
		evhttp_request_set_on_complete_cb(req, stop_after_reply_cb, s);
	}
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", buf);
	evbuffer_free(buf);
}

/*
 * The endpoint: "/" (*wallet NULL) or "/wallet/NAME" (*wallet the
 * percent-decoded NAME, malloc'd), as Bitcoin's. Returns 0, or -1 for any
 * other path (404).
 */
static int request_wallet(const char *uri, char **wallet)
{
	static const char prefix[] = "/wallet/";

	*wallet = NULL;
	if (strcmp(uri, "/") == 0)
		return 0;
	if (strncmp(uri, prefix, sizeof(prefix) - 1) != 0 || !uri[sizeof(prefix) - 1])
		return -1;
	*wallet = evhttp_uridecode(uri + sizeof(prefix) - 1, 0, NULL);
	return *wallet ? 0 : -1;
}

/* ---- Jobs in slices ------------------------------------------------------ */

static void pending_free(struct rpc_pending *p)
{
	struct rpc_pending **pp;

	if (!p)
		return;
	pp = &p->s->pending;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->ev)
		event_free(p->ev);
	rpc_job_free(p->job);
	free(p);
}

/* Send the finished job's reply and forget it. */
static void pending_finish(struct rpc_pending *p)
{
	int status;
	char *out = rpc_job_reply(p->job, &status);

	if (!out && status != 204)
		evhttp_send_error(p->req, 500, "out of memory");
	else
		reply_json(p->s, p->req, out, status);
	free(out);
	pending_free(p);
}

/* Run one more slice; a zero timer (not event_active) lets the loop poll
 * sockets before the next one. */
static void pending_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_pending *p = arg;
	struct timeval now = { 0, 0 };

	(void)fd;
	(void)what;
	if (rpc_job_run(p->job, RPC_SLICE_US))
		pending_finish(p);
	else
		event_add(p->ev, &now);
}

/* The socket a request arrived on, or -1. */
static evutil_socket_t request_fd(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	return bev ? bufferevent_getfd(bev) : -1;
}

/* Start answering: the first slice now, the rest from the loop. */
static void request_run(struct rpc_server *s, struct evhttp_request *req,
			const char *wallet, const char *body, size_t len)
{
	struct rpc_pending *p = calloc(1, sizeof(*p));
	struct timeval now = { 0, 0 };

	if (!p || !(p->job = rpc_job_new(s->dispatch, wallet, body, len)) ||
	    !(p->ev = evtimer_new(s->base, pending_cb, p))) {
		if (p)
			rpc_job_free(p->job);
		free(p);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	p->s = s;
	p->req = req;
	p->fd = request_fd(req);
	p->next = s->pending;
	s->pending = p;
	if (rpc_job_run(p->job, RPC_SLICE_US))
		pending_finish(p);
	else
		event_add(p->ev, &now);
}

static size_t header_lines(struct evhttp_request *req)
{
	struct evkeyval *kv;
	size_t n = 0;

	for (kv = evhttp_request_get_input_headers(req)->tqh_first; kv; kv = kv->next.tqe_next)
		n++;
	return n;
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct rpc_server *s = arg;
	struct evbuffer *in;
	size_t len;
	const char *body;
	char *wallet;

	if (header_lines(req) > RPC_MAX_HEADER_LINES) {
		log_limited(&s->auth_log, "rpc: request rejected: more than %d header lines",
			    RPC_MAX_HEADER_LINES);
		reply_text(req, 431, "Request Header Fields Too Large");
		return;
	}
	if (!authorized(s, req)) {
		log_limited(&s->auth_log, "rpc: request rejected: bad or missing authorization");
		reply_text(req, 401, "Unauthorized");
		return;
	}
	if (request_wallet(evhttp_request_get_uri(req), &wallet) < 0) {
		reply_text(req, 404, "Not Found");
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	request_run(s, req, wallet, body, len);
	free(wallet);
}

/* ---- Client descriptors ------------------------------------------------ */

/* Is fd an established TCP connection (not one closing: a client that
 * left, or one we shut down, which evhttp is about to free)? */
static bool fd_established(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	       ti.tcpi_state == TCP_ESTABLISHED;
}

/*
 * evhttp keeps its connections to itself, so the budget counts them where
 * the kernel does: our descriptors that are established TCP connections on
 * the RPC port. Fills fds (up to cap) and returns how many there are.
 */
static size_t client_fds(const struct rpc_server *s, int *fds, size_t cap)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	size_t n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir))) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = atoi(e->d_name), listening = 0;
		socklen_t ll = sizeof(listening);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(dir) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) < 0 || listening ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != AF_INET ||
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) != s->port || !fd_established(fd))
			continue;
		if (n < cap)
			fds[n] = fd;
		n++;
	}
	closedir(dir);
	return n;
}

/* Milliseconds the connection on fd has been quiet both ways; 0 while
 * something is in flight: a request we have not read yet, or a reply the
 * kernel has not sent (a slow reader of a big reply is not idle). */
static long idle_ms(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int unread = 0, unsent = 0;

	if (ioctl(fd, FIONREAD, &unread) < 0 || unread > 0 ||
	    ioctl(fd, TIOCOUTQ, &unsent) < 0 || unsent > 0 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return (long)(ti.tcpi_last_data_recv < ti.tcpi_last_data_sent ? ti.tcpi_last_data_recv
								      : ti.tcpi_last_data_sent);
}

static bool fd_pending(const struct rpc_server *s, int fd)
{
	for (const struct rpc_pending *p = s->pending; p; p = p->next) {
		if (p->fd == fd)
			return true;
	}
	return false;
}

/*
 * Make room for one more client: close (shutdown, so evhttp frees it as a
 * disconnect) the client idle longest, if idle at least RPC_IDLE_EVICT_MS
 * and not waiting for a reply. Returns true if the budget now has room.
 */
static bool clients_make_room(struct rpc_server *s)
{
	int fds[RPC_MAX_CLIENTS * 2 + 8];
	size_t n = client_fds(s, fds, sizeof(fds) / sizeof(fds[0]));
	long best_idle = RPC_IDLE_EVICT_MS - 1;
	int victim = -1;

	if (n < RPC_MAX_CLIENTS)
		return true;
	for (size_t i = 0; i < n && i < sizeof(fds) / sizeof(fds[0]); i++) {
		long idle = idle_ms(fds[i]);

		if (idle > best_idle && !fd_pending(s, fds[i])) {
			best_idle = idle;
			victim = fds[i];
		}
	}
	if (victim < 0)
		return false;
	shutdown(victim, SHUT_RDWR);
	log_limited(&s->full_log, "rpc: %zu clients (at most %d): closed one idle for %ld ms",
		    n, RPC_MAX_CLIENTS, best_idle);
	return n - 1 < RPC_MAX_CLIENTS;
}

static void listener_rest(struct rpc_server *s, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evconnlistener_disable(s->listener);
	event_add(s->resume, &tv);
}

/* A new client was accepted (evhttp is about to make its connection):
 * keep the budget, resting the listener while no slot can be freed. */
static struct bufferevent *client_new_cb(struct event_base *base, void *arg)
{
	struct rpc_server *s = arg;

	(void)base;
	if (!clients_make_room(s)) {
		log_limited(&s->full_log, "rpc: %d clients, none idle: not accepting for now",
			    RPC_MAX_CLIENTS);
		listener_rest(s, RPC_FULL_RECHECK_MS);
	}
	return NULL; /* evhttp makes its usual bufferevent */
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_server *s = arg;

	(void)fd;
	(void)what;
	if (clients_make_room(s))
		evconnlistener_enable(s->listener);
	else
		listener_rest(s, RPC_FULL_RECHECK_MS);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS...): rest instead of spinning. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct rpc_server *s = arg;

	(void)l;
	log_limited(&s->accept_log, "rpc: accept failed: %s; pausing accepts for %d ms",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), RPC_ACCEPT_BACKOFF_MS);
	listener_rest(s, RPC_ACCEPT_BACKOFF_MS);
}

/* Listen on 127.0.0.1:port, with accept errors and the client budget
 * handled here. Returns 0 or -1 with err. */
static int listen_rpc(struct rpc_server *s, char *err, size_t errlen)
{
	struct evhttp_bound_socket *h = evhttp_bind_socket_with_handle(s->http, "127.0.0.1",
								       s->port);

	if (!h) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", s->port,
			 strerror(errno));
		return -1;
	}
	s->listener = evhttp_bound_socket_get_listener(h);
	s->resume = evtimer_new(s->base, resume_cb, s);
	if (!s->resume) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return 0;
}

/* Free what rpc_http_new made, without touching the cookie file. */
static void rpc_server_free_http(struct rpc_server *s)
{
	while (s->pending)
		pending_free(s->pending); /* evhttp_free frees their requests */
	if (s->resume)
		event_free(s->resume);
	evhttp_free(s->http);
	free(s);
}

struct rpc_server *rpc_http_new(struct event_base *base, struct rpc_dispatch *d,
				const char *datadir, uint16_t port,
				void (*on_stop)(void *), void *on_stop_arg,
				char *err, size_t errlen)
{
	struct rpc_server *s = calloc(1, sizeof(*s));

	if (!s || !(s->http = evhttp_new(base))) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return NULL;
	}
	s->base = base;
	s->port = port;
	s->dispatch = d;
	s->on_stop = on_stop;
	s->on_stop_arg = on_stop_arg;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_POST);
	evhttp_set_max_body_size(s->http, RPC_MAX_BODY);
	evhttp_set_max_headers_size(s->http, RPC_MAX_HEADER_BYTES);
	evhttp_set_timeout(s->http, RPC_TIMEOUT_S);
	evhttp_set_gencb(s->http, request_cb, s);
	evhttp_set_bevcb(s->http, client_new_cb, s);
	if (listen_rpc(s, err, errlen) < 0 || cookie_write(s, datadir, err, errlen) < 0) {
		rpc_server_free_http(s);
		return NULL;
	}
	log_printf("rpc: listening on 127.0.0.1:%u, cookie in %s", port, s->cookie_path);
	return s;
}

void rpc_http_free(struct rpc_server *s)
{
	if (!s)
		return;
	if (unlink(s->cookie_path) < 0 && errno != ENOENT)
		log_printf("rpc: cannot remove %s: %s", s->cookie_path, strerror(errno));
	rpc_server_free_http(s);
}
