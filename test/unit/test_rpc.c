/*
 * Unit tests for src/rpc.c: request dispatch without a socket. Replies are
 * compared as exact compact JSON (jansson keeps insertion order), with the
 * HTTP status the server would send.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "unit.h"

struct test_ctx {
	int calls;
};

/* echo: the parameters back, as the array the handler received. */
static int echo_cb(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct test_ctx *t = ctx;

	(void)err;
	t->calls++;
	*result = json_incref(params);
	return 0;
}

/* fail: always an application error. */
static int fail_cb(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	(void)ctx;
	(void)result;
	return rpc_fail(err, RPC_INVALID_PARAMETER, "bad value %d for %s", 7,
			rpc_param_str(params, 0) ? rpc_param_str(params, 0) : "?");
}

/* nothing: success with no result (JSON null); counts calls. */
static int nothing_cb(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct test_ctx *t = ctx;

	(void)params;
	(void)result;
	(void)err;
	t->calls++;
	return 0;
}

static const struct rpc_command test_commands[] = {
	{ "echo", "test", echo_cb, 1, { "a", "b", NULL }, "echo \"a\" ( b )",
	  "Return the parameters." },
	{ "fail", "test", fail_cb, 0, { "what", NULL }, "fail ( \"what\" )",
	  "Always fails." },
	{ "nothing", "util", nothing_cb, 0, { NULL }, "nothing", "Returns null." },
};

static struct rpc_dispatch *setup(struct test_ctx *t)
{
	struct rpc_dispatch *d = rpc_dispatch_new();

	memset(t, 0, sizeof(*t));
	if (d && rpc_register(d, test_commands,
			      sizeof(test_commands) / sizeof(test_commands[0]), t) < 0) {
		rpc_dispatch_free(d);
		return NULL;
	}
	return d;
}

/* Dispatch `body`; check the status and the exact reply (NULL: none). */
#define EXPECT(d, body, want_status, want_reply)                                 \
	do {                                                                     \
		int st_ = -1;                                                    \
		char *out_ = rpc_dispatch_body((d), (body), strlen(body), &st_); \
		const char *want_ = (want_reply);                                \
		CHECK_EQ_INT(st_, (want_status));                                \
		if (want_)                                                       \
			CHECK_EQ_STR(out_, want_);                               \
		else                                                             \
			CHECK(out_ == NULL);                                     \
		free(out_);                                                      \
	} while (0)

UNIT_TEST(rpc_parse_error)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	static const char reply[] =
		"{\"result\":null,\"error\":{\"code\":-32700,\"message\":\"Parse error\"},\"id\":null}";

	REQUIRE(d != NULL);
	EXPECT(d, "{bad", 500, reply);
	EXPECT(d, "", 500, reply);
	EXPECT(d, "{\"method\":\"echo\"", 500, reply);
	EXPECT(d, "[1,]", 500, reply);
	/* Length is honoured: a valid prefix of a longer buffer. */
	{
		int st = 0;
		char *out = rpc_dispatch_body(d, "{\"method\":\"nothing\",\"id\":1}garbage", 27, &st);

		CHECK_EQ_INT(st, 200);
		CHECK_EQ_STR(out, "{\"result\":null,\"error\":null,\"id\":1}");
		free(out);
	}
	CHECK_EQ_INT(t.calls, 1);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_invalid_request)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "5", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"request must be a JSON object\"},\"id\":null}");
	EXPECT(d, "\"echo\"", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"request must be a JSON object\"},\"id\":null}");
	EXPECT(d, "{\"method\":5,\"id\":1}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"method must be a string\"},\"id\":1}");
	EXPECT(d, "{\"id\":\"x\"}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"method must be a string\"},\"id\":\"x\"}");
	EXPECT(d, "{\"method\":\"echo\",\"params\":\"a\",\"id\":2}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"params must be an array or an object\"},\"id\":2}");
	EXPECT(d, "[]", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"empty batch\"},\"id\":null}");
	/* JSON-RPC 2.0: the same error, always HTTP 200. */
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":[],\"id\":3}", 200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
	       "\"method must be a string\"},\"id\":3}");
	CHECK_EQ_INT(t.calls, 0);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_method_not_found)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "{\"method\":\"nope\",\"params\":[],\"id\":1}", 404,
	       "{\"result\":null,\"error\":{\"code\":-32601,\"message\":"
	       "\"Method not found: nope\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"ECHO\",\"id\":1}", 404,
	       "{\"result\":null,\"error\":{\"code\":-32601,\"message\":"
	       "\"Method not found: ECHO\"},\"id\":1}");
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":1}", 200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
	       "\"Method not found: nope\"},\"id\":1}");
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_positional_params_and_count)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "{\"method\":\"echo\",\"params\":[1],\"id\":1}", 200,
	       "{\"result\":[1],\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"echo\",\"params\":[\"x\",{\"k\":true}],\"id\":\"s\"}", 200,
	       "{\"result\":[\"x\",{\"k\":true}],\"error\":null,\"id\":\"s\"}");
	CHECK_EQ_INT(t.calls, 2);
	/* Too few (min 1) and too many (max 2): the handler is not called. */
	EXPECT(d, "{\"method\":\"echo\",\"params\":[],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (0); usage: echo \\\"a\\\" ( b )\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"echo\",\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (0); usage: echo \\\"a\\\" ( b )\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"echo\",\"params\":null,\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (0); usage: echo \\\"a\\\" ( b )\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"echo\",\"params\":[1,2,3],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (3); usage: echo \\\"a\\\" ( b )\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"nothing\",\"params\":[0],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (1); usage: nothing\"},\"id\":1}");
	CHECK_EQ_INT(t.calls, 2);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_named_params)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	/* Mapped to positions by the table's names, whatever their order. */
	EXPECT(d, "{\"method\":\"echo\",\"params\":{\"b\":2,\"a\":1},\"id\":1}", 200,
	       "{\"result\":[1,2],\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"echo\",\"params\":{\"a\":\"only\"},\"id\":1}", 200,
	       "{\"result\":[\"only\"],\"error\":null,\"id\":1}");
	/* A gap before the last named parameter is null. */
	EXPECT(d, "{\"method\":\"echo\",\"params\":{\"b\":5},\"id\":1}", 200,
	       "{\"result\":[null,5],\"error\":null,\"id\":1}");
	CHECK_EQ_INT(t.calls, 3);
	EXPECT(d, "{\"method\":\"echo\",\"params\":{\"a\":1,\"c\":3},\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"unknown named parameter c\"},\"id\":1}");
	/* No names at all: zero parameters, below echo's minimum. */
	EXPECT(d, "{\"method\":\"echo\",\"params\":{},\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (0); usage: echo \\\"a\\\" ( b )\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"nothing\",\"params\":{\"x\":1},\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"unknown named parameter x\"},\"id\":1}");
	CHECK_EQ_INT(t.calls, 3);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_handler_errors_and_null_results)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "{\"method\":\"fail\",\"params\":[\"size\"],\"id\":9}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"bad value 7 for size\"},\"id\":9}");
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":9}", 200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-8,\"message\":"
	       "\"bad value 7 for ?\"},\"id\":9}");
	EXPECT(d, "{\"method\":\"nothing\",\"id\":null}", 200,
	       "{\"result\":null,\"error\":null,\"id\":null}");
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nothing\",\"id\":0}", 200,
	       "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":0}");
	/* JSON-RPC 1.0 without an id is still answered (id null). */
	EXPECT(d, "{\"method\":\"nothing\"}", 200,
	       "{\"result\":null,\"error\":null,\"id\":null}");
	/* A "jsonrpc" other than "2.0" is a 1.0 request. */
	EXPECT(d, "{\"jsonrpc\":\"1.0\",\"method\":\"nothing\",\"id\":1}", 200,
	       "{\"result\":null,\"error\":null,\"id\":1}");
	CHECK_EQ_INT(t.calls, 4);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_notification_gets_no_reply)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"}", 204, NULL);
	CHECK_EQ_INT(t.calls, 1); /* it did run */
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1]}", 204, NULL);
	CHECK_EQ_INT(t.calls, 2);
	/* Failing notifications are silent too. */
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}", 204, NULL);
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}", 204, NULL);
	/* "id": null is present: not a notification. */
	EXPECT(d, "{\"jsonrpc\":\"2.0\",\"method\":\"nothing\",\"id\":null}", 200,
	       "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":null}");
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_batch)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d,
	       "[{\"method\":\"echo\",\"params\":[1],\"id\":1},"
	       "{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"},"
	       "{\"jsonrpc\":\"2.0\",\"method\":\"nope\",\"id\":3},"
	       "7,"
	       "{\"method\":\"fail\",\"id\":5}]",
	       200,
	       "[{\"result\":[1],\"error\":null,\"id\":1},"
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":"
	       "\"Method not found: nope\"},\"id\":3},"
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"request must be a JSON object\"},\"id\":null},"
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"bad value 7 for ?\"},\"id\":5}]");
	CHECK_EQ_INT(t.calls, 2);
	/* Only notifications: an empty array. */
	EXPECT(d, "[{\"jsonrpc\":\"2.0\",\"method\":\"nothing\"}]", 200, "[]");
	CHECK_EQ_INT(t.calls, 3);
	/* A nested batch is not a request. */
	EXPECT(d, "[[]]", 200,
	       "[{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"request must be a JSON object\"},\"id\":null}]");
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_help_lists_commands)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);

	EXPECT(d, "{\"method\":\"help\",\"id\":1}", 200,
	       "{\"result\":\"== control ==\\nhelp ( \\\"command\\\" )\\nstop\\nuptime\\n"
	       "\\n== test ==\\necho \\\"a\\\" ( b )\\nfail ( \\\"what\\\" )\\n"
	       "\\n== util ==\\nnothing\",\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"help\",\"params\":[\"echo\"],\"id\":1}", 200,
	       "{\"result\":\"echo \\\"a\\\" ( b )\\n\\nReturn the parameters.\","
	       "\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"help\",\"params\":{\"command\":\"stop\"},\"id\":1}", 200,
	       "{\"result\":\"stop\\n\\nStop the node: peers are closed, files flushed, "
	       "the cookie removed.\",\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"help\",\"params\":[\"nope\"],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-1,\"message\":"
	       "\"help: unknown command: nope\"},\"id\":1}");
	EXPECT(d, "{\"method\":\"help\",\"params\":[5],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"command must be a string\"},\"id\":1}");
	rpc_dispatch_free(d);

	/* Only the built-ins. */
	d = rpc_dispatch_new();
	EXPECT(d, "{\"method\":\"help\",\"id\":1}", 200,
	       "{\"result\":\"== control ==\\nhelp ( \\\"command\\\" )\\nstop\\nuptime\","
	       "\"error\":null,\"id\":1}");
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_register_rejects_duplicates)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	static const struct rpc_command dup_builtin[] = {
		{ "fresh", "x", nothing_cb, 0, { NULL }, "fresh", "" },
		{ "help", "x", nothing_cb, 0, { NULL }, "help", "" },
	};

	REQUIRE(d != NULL);
	CHECK_EQ_INT(rpc_register(d, test_commands, 1, &t), -1);
	/* All or nothing: "fresh" is not registered either. */
	CHECK_EQ_INT(rpc_register(d, dup_builtin, 2, &t), -1);
	EXPECT(d, "{\"method\":\"fresh\",\"id\":1}", 404,
	       "{\"result\":null,\"error\":{\"code\":-32601,\"message\":"
	       "\"Method not found: fresh\"},\"id\":1}");
	CHECK_EQ_INT(rpc_register(d, dup_builtin, 1, &t), 0);
	EXPECT(d, "{\"method\":\"fresh\",\"id\":1}", 200,
	       "{\"result\":null,\"error\":null,\"id\":1}");
	rpc_dispatch_free(d);
	rpc_dispatch_free(NULL);
}

UNIT_TEST(rpc_stop_and_uptime)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	int st = 0;
	char *out;
	json_t *reply, *result;

	CHECK(!rpc_stop_requested(d));
	out = rpc_dispatch_body(d, "{\"method\":\"uptime\",\"id\":1}", 26, &st);
	CHECK_EQ_INT(st, 200);
	reply = out ? json_loads(out, 0, NULL) : NULL;
	result = json_object_get(reply, "result");
	CHECK(json_is_integer(result));
	/* Just created: 0, or 1 if a second boundary passed. */
	CHECK(json_integer_value(result) >= 0 && json_integer_value(result) <= 1);
	json_decref(reply);
	free(out);
	CHECK(!rpc_stop_requested(d));

	EXPECT(d, "{\"method\":\"stop\",\"params\":[1],\"id\":1}", 500,
	       "{\"result\":null,\"error\":{\"code\":-8,\"message\":"
	       "\"wrong number of parameters (1); usage: stop\"},\"id\":1}");
	CHECK(!rpc_stop_requested(d));
	EXPECT(d, "{\"method\":\"stop\",\"id\":1}", 200,
	       "{\"result\":\"Moneyrocket server stopping\",\"error\":null,\"id\":1}");
	CHECK(rpc_stop_requested(d));
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_param_str_and_fail_helpers)
{
	json_t *p = json_pack("[s,i,n]", "abc", 4);
	struct rpc_error err;

	CHECK_EQ_STR(rpc_param_str(p, 0), "abc");
	CHECK(rpc_param_str(p, 1) == NULL);
	CHECK(rpc_param_str(p, 2) == NULL);
	CHECK(rpc_param_str(p, 3) == NULL);
	json_decref(p);

	CHECK_EQ_INT(rpc_fail(&err, RPC_CLIENT_NODE_NOT_ADDED, "node %s not %s", "x", "added"), -1);
	CHECK_EQ_INT(err.code, -24);
	CHECK_EQ_STR(err.message, "node x not added");
}

/* A body of n copies of `one` as a batch (malloc'd). */
static char *batch_of(const char *one, size_t n)
{
	size_t len = strlen(one);
	char *b = malloc(n * (len + 1) + 2), *p = b;

	*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		memcpy(p, one, len);
		p += len;
		*p++ = i + 1 < n ? ',' : ']';
	}
	*p = '\0';
	return b;
}

UNIT_TEST(rpc_batch_size_is_capped)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	char *ok = batch_of("{\"method\":\"nothing\",\"id\":1}", RPC_MAX_BATCH);
	char *big = batch_of("{\"method\":\"nothing\",\"id\":1}", RPC_MAX_BATCH + 1);
	int st = 0;
	char *out = rpc_dispatch_body(d, ok, strlen(ok), &st);
	json_t *reply = out ? json_loads(out, 0, NULL) : NULL;

	CHECK_EQ_INT(st, 200);
	CHECK_EQ_INT((int)json_array_size(reply), RPC_MAX_BATCH);
	CHECK_EQ_INT(t.calls, RPC_MAX_BATCH);
	json_decref(reply);
	free(out);
	/* One more: refused whole, nothing runs. */
	EXPECT(d, big, 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":"
	       "\"batch too large: 1001 requests (at most 1000)\"},\"id\":null}");
	CHECK_EQ_INT(t.calls, RPC_MAX_BATCH);
	free(ok);
	free(big);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_batch_reply_size_is_capped)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	size_t big = 64 * 1024, n = 400;  /* 400 x 64 KiB = 25 MiB of echoes */
	char *one = malloc(big + 64), *body, *out;
	json_t *reply;
	int st = 0, results = 0, too_large = 0, not_run = 0;

	snprintf(one, big + 64, "{\"method\":\"echo\",\"params\":[\"%0*d\"],\"id\":1}",
		 (int)big, 0);
	body = batch_of(one, n);
	out = rpc_dispatch_body(d, body, strlen(body), &st);
	CHECK_EQ_INT(st, 200);
	CHECK(out && strlen(out) <= RPC_MAX_REPLY);
	reply = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_EQ_INT((int)json_array_size(reply), (int)n);
	for (size_t i = 0; i < json_array_size(reply); i++) {
		json_t *e = json_object_get(json_array_get(reply, i), "error");
		const char *m = json_string_value(json_object_get(e, "message"));

		if (json_is_null(e))
			results++;
		else if (m && strncmp(m, "reply too large", 15) == 0)
			too_large++;
		else if (m && strncmp(m, "not run", 7) == 0)
			not_run++;
	}
	/* Every call answered: results while they fit, one call whose result
	 * did not, and the rest not run. */
	CHECK(results > 100);
	CHECK_EQ_INT(too_large, 1);
	CHECK_EQ_INT(results + too_large + not_run, (int)n);
	CHECK_EQ_INT(t.calls, results + too_large);
	json_decref(reply);
	free(out);
	free(body);
	free(one);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_job_runs_in_slices)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	char *body = batch_of("{\"method\":\"nothing\",\"id\":1}", 10);
	struct rpc_job *j = rpc_job_new(d, "w1", body, strlen(body));
	int slices = 0, st = 0;
	char *out;

	CHECK(j != NULL);
	/* A zero budget still runs one call per slice. */
	while (!rpc_job_run(j, 0)) {
		slices++;
		CHECK_EQ_INT(t.calls, slices);
		CHECK(rpc_request_wallet(d) == NULL); /* only while running */
	}
	CHECK_EQ_INT(slices, 9);
	out = rpc_job_reply(j, &st);
	CHECK_EQ_INT(st, 200);
	CHECK(out && strncmp(out, "[{\"result\":null,\"error\":null,\"id\":1},", 37) == 0);
	free(out);
	rpc_job_free(j);
	rpc_job_free(NULL);
	free(body);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_error_cut_inside_utf8_is_still_an_error)
{
	struct test_ctx t;
	struct rpc_dispatch *d = setup(&t);
	/* A method name of 200 two-byte characters: "Method not found: "
	 * (18 bytes) and "unknown named parameter " (24) are even, so the
	 * message cut at 255 bytes ends inside one. */
	char name[512], body[700], *out;
	size_t n = 0;
	int st = 0;
	json_t *reply, *err;

	for (int i = 0; i < 200; i++) {
		name[n++] = (char)0xc3;
		name[n++] = (char)0xa9;   /* U+00E9 */
	}
	name[n] = '\0';
	snprintf(body, sizeof(body), "{\"method\":\"%s\",\"id\":1}", name);
	out = rpc_dispatch_body(d, body, strlen(body), &st);
	CHECK_EQ_INT(st, 404);
	reply = out ? json_loads(out, 0, NULL) : NULL;
	err = json_object_get(reply, "error");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(err, "code")), RPC_METHOD_NOT_FOUND);
	CHECK(json_is_string(json_object_get(err, "message")));
	json_decref(reply);
	free(out);
	/* The same for a JSON-RPC 2.0 request and a named parameter. */
	snprintf(body, sizeof(body),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{\"%s\":1},\"id\":2}",
		 name);
	out = rpc_dispatch_body(d, body, strlen(body), &st);
	CHECK_EQ_INT(st, 200);
	reply = out ? json_loads(out, 0, NULL) : NULL;
	err = json_object_get(reply, "error");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(err, "code")), RPC_INVALID_PARAMETER);
	CHECK(json_object_get(reply, "result") == NULL);
	json_decref(reply);
	free(out);
	rpc_dispatch_free(d);
}

UNIT_TEST(rpc_utf8_sanitize)
{
	char a[] = "ok \xc3\xa9 end";
	char b[] = "cut \xe2\x82";          /* a 3-byte character cut after 2 */
	char c[] = "bad \xff\xfe x";
	char e[] = "surrogate \xed\xa0\x80!";

	rpc_utf8_sanitize(a);
	CHECK_EQ_STR(a, "ok \xc3\xa9 end");
	rpc_utf8_sanitize(b);
	CHECK_EQ_STR(b, "cut ?");
	rpc_utf8_sanitize(c);
	CHECK_EQ_STR(c, "bad ?? x");
	rpc_utf8_sanitize(e);
	CHECK_EQ_STR(e, "surrogate ?!");
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(rpc_free_functions_accept_null)
{
	rpc_dispatch_free(NULL);
	rpc_job_free(NULL);
}

/* counter: how many times this registration's own copy of the context was
 * called, as the result. */
static int counter_cb(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct test_ctx *t = ctx;

	(void)params;
	(void)err;
	*result = json_integer(++t->calls);
	return 0;
}

/* rpc_register_copy: the handler gets the registry's copy, not the
 * caller's (which may be gone); the registry frees it (ASan checks). */
UNIT_TEST(rpc_register_copy_owns_the_context)
{
	static const struct rpc_command counter[] = {
		{ "counter", "test", counter_cb, 0, { NULL }, "counter", "Counts." },
	};
	struct rpc_dispatch *d = rpc_dispatch_new();
	struct test_ctx t = { 41 };

	REQUIRE(d != NULL);
	CHECK_EQ_INT(rpc_register_copy(d, counter, 1, &t, sizeof(t)), 0);
	t.calls = 1000; /* the caller's struct: not what the handler sees */
	EXPECT(d, "{\"method\":\"counter\",\"id\":1}", 200,
	       "{\"result\":42,\"error\":null,\"id\":1}");
	EXPECT(d, "{\"method\":\"counter\",\"id\":2}", 200,
	       "{\"result\":43,\"error\":null,\"id\":2}");
	CHECK_EQ_INT(t.calls, 1000);
	/* A name clash is refused and nothing is kept. */
	CHECK_EQ_INT(rpc_register_copy(d, counter, 1, &t, sizeof(t)), -1);
	rpc_dispatch_free(d);
}
