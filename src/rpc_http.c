/*
 * rpc_http.c — the JSON-RPC transport: libevent's evhttp on 127.0.0.1,
 * HTTP Basic auth against the cookie file, POST bodies handed to
 * rpc_dispatch_body. A `stop` reply is sent in full before on_stop runs.
 */
#include "rpc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define COOKIE_USER "__cookie__"
#define RPC_MAX_BODY (16 * 1024 * 1024)
#define RPC_TIMEOUT_S 30

struct rpc_server {
	struct evhttp *http;
	struct rpc_dispatch *dispatch;
	char cookie_path[4200];
	char auth_expected[128]; /* "Basic <base64(__cookie__:hex)>" */
	void (*on_stop)(void *);
	void *on_stop_arg;
	bool stopping;
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

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct rpc_server *s = arg;
	struct evbuffer *in;
	size_t len;
	const char *body;
	char *out, *wallet;
	int status;

	if (!authorized(s, req)) {
		log_printf("rpc: request rejected: bad or missing authorization");
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
	out = rpc_dispatch_body_wallet(s->dispatch, wallet, body, len, &status);
	free(wallet);
	if (!out && status != 204) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	reply_json(s, req, out, status);
	free(out);
}

struct rpc_server *rpc_server_new(struct event_base *base, struct rpc_dispatch *d,
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
	s->dispatch = d;
	s->on_stop = on_stop;
	s->on_stop_arg = on_stop_arg;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_POST);
	evhttp_set_max_body_size(s->http, RPC_MAX_BODY);
	evhttp_set_timeout(s->http, RPC_TIMEOUT_S);
	evhttp_set_gencb(s->http, request_cb, s);
	if (!evhttp_bind_socket_with_handle(s->http, "127.0.0.1", port)) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%u: %s", port,
			 strerror(errno));
		evhttp_free(s->http);
		free(s);
		return NULL;
	}
	if (cookie_write(s, datadir, err, errlen) < 0) {
		evhttp_free(s->http);
		free(s);
		return NULL;
	}
	log_printf("rpc: listening on 127.0.0.1:%u, cookie in %s", port, s->cookie_path);
	return s;
}

void rpc_server_free(struct rpc_server *s)
{
	if (!s)
		return;
	evhttp_free(s->http);
	if (unlink(s->cookie_path) < 0 && errno != ENOENT)
		log_printf("rpc: cannot remove %s: %s", s->cookie_path, strerror(errno));
	free(s);
}
