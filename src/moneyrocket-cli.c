/*
 * moneyrocket-cli.c — send one JSON-RPC request to moneyrocketd and print
 * the result.
 *
 *   moneyrocket-cli -datadir=DIR [-rpcport=N] METHOD [ARGS...]
 *
 * Arguments that parse as JSON are sent as JSON (numbers, true, objects),
 * anything else as a string. A string result prints without quotes, null
 * prints nothing, anything else as indented JSON. Errors go to stderr and
 * the exit code is 1. Authentication uses DATADIR/.cookie. The transport is
 * a plain blocking socket speaking HTTP/1.1 with "Connection: close".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define CLI_TIMEOUT_S 300
#define MAX_REPLY (64 * 1024 * 1024)

static void usage(void)
{
	printf("Usage: moneyrocket-cli -datadir=DIR [-rpcport=N] METHOD [ARGS...]\n"
	       "Sends METHOD to moneyrocketd's JSON-RPC server and prints the result.\n"
	       "Examples:\n"
	       "  moneyrocket-cli -datadir=/tmp/n1 getpeerinfo\n"
	       "  moneyrocket-cli -datadir=/tmp/n1 addnode 127.0.0.1:28444 onetry\n"
	       "  moneyrocket-cli -datadir=/tmp/n1 help addnode\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* "Basic base64(cookie)" from DATADIR/.cookie into out. 0 or -1 (errno). */
static int read_auth(const char *datadir, char *out, size_t cap)
{
	char path[CONFIG_PATH_MAX + 16], cookie[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/.cookie", datadir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(cookie, 1, sizeof(cookie) - 1, f);
	fclose(f);
	cookie[n] = '\0';
	cookie[strcspn(cookie, "\r\n")] = '\0';
	if (4 * (strlen(cookie) + 2) / 3 + 8 > cap) {
		errno = EINVAL;
		return -1;
	}
	strcpy(out, "Basic ");
	util_base64_encode(cookie, strlen(cookie), out + 6);
	return 0;
}

/* The request body for METHOD ARGS... (malloc'd) or NULL. */
static char *build_request(int argc, char **argv)
{
	json_t *params = json_array(), *req;
	char *body;

	for (int i = 1; i < argc; i++) {
		json_t *v = json_loads(argv[i], JSON_DECODE_ANY, NULL);

		json_array_append_new(params, v ? v : json_string(argv[i]));
	}
	req = json_pack("{s:s,s:s,s:s,s:o}", "jsonrpc", "1.0", "id", "moneyrocket-cli",
			"method", argv[0], "params", params);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return body;
}

static int connect_rpc(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { CLI_TIMEOUT_S, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until EOF into a malloc'd NUL-terminated buffer, or NULL. */
static char *read_all(int fd)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *b = cap < MAX_REPLY ? realloc(buf, cap * 2) : NULL;

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* POST body to path ("/" or "/wallet/NAME": names are URL-safe, see
 * util_name_valid); returns the reply (status line, headers, body) or
 * NULL. */
static char *http_post(int port, const char *path, const char *auth, const char *body)
{
	char head[1024];
	char *reply;
	int fd = connect_rpc(port);

	if (fd < 0)
		return NULL;
	snprintf(head, sizeof(head),
		 "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", path, port, auth, strlen(body));
	if (send_all(fd, head, strlen(head)) < 0 || send_all(fd, body, strlen(body)) < 0) {
		close(fd);
		return NULL;
	}
	reply = read_all(fd);
	close(fd);
	return reply;
}

/* Print a successful result the way bitcoin-cli does. */
static void print_result(json_t *result)
{
	char *s;

	if (!result || json_is_null(result))
		return;
	if (json_is_string(result)) {
		printf("%s\n", json_string_value(result));
		return;
	}
	s = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
	if (s)
		printf("%s\n", s);
	free(s);
}

/* Interpret the HTTP reply. Returns the exit code. */
static int handle_reply(const char *reply, const char *datadir)
{
	int status = 0;
	const char *body = strstr(reply, "\r\n\r\n");
	json_t *j, *err;
	int rc = 0;

	if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1 || !body)
		return fail("malformed HTTP reply from the server");
	if (status == 401)
		return fail("authorization failed: wrong cookie? (%s/.cookie)", datadir);
	j = json_loads(body + 4, 0, NULL);
	if (!j)
		return fail("server returned HTTP %d without a JSON reply", status);
	err = json_object_get(j, "error");
	if (err && !json_is_null(err)) {
		fprintf(stderr, "error code: %lld\nerror message:\n%s\n",
			(long long)json_integer_value(json_object_get(err, "code")),
			json_string_value(json_object_get(err, "message")) ?
			json_string_value(json_object_get(err, "message")) : "");
		rc = 1;
	} else {
		print_result(json_object_get(j, "result"));
	}
	json_decref(j);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[1024], path[CONFIG_PATH_MAX + 32], auth[512], endpoint[CONFIG_NAME_MAX + 16];
	int first = argc, rc;
	char *body, *reply;

	config_init(&cfg);
	if (config_parse_args(&cfg, argc, argv, &first, err, sizeof(err)) < 0)
		return fail("%s", err);
	if (cfg.help) {
		usage();
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg.datadir, CONFIG_FILE_NAME);
	if (config_read_file(&cfg, path, err, sizeof(err)) < 0)
		return fail("%s", err);
	if (first >= argc) {
		usage();
		return 1;
	}
	if (read_auth(cfg.datadir, auth, sizeof(auth)) < 0)
		return fail("cannot read %s/.cookie: %s (is moneyrocketd running with this -datadir?)",
			    cfg.datadir, strerror(errno));
	body = build_request(argc - first, argv + first);
	if (!body)
		return fail("out of memory");
	snprintf(endpoint, sizeof(endpoint), "/%s%s", cfg.rpcwallet[0] ? "wallet/" : "",
		 cfg.rpcwallet);
	reply = http_post((int)cfg.rpcport, endpoint, auth, body);
	free(body);
	if (!reply)
		return fail("cannot talk to the server at 127.0.0.1:%lld: %s",
			    (long long)cfg.rpcport, strerror(errno));
	rc = handle_reply(reply, cfg.datadir);
	free(reply);
	config_free(&cfg);
	return rc;
}
