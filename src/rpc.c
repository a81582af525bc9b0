/*
 * rpc.c — JSON-RPC request dispatch: the command registry, request
 * validation, parameter mapping, replies and the built-in commands
 * (help, uptime, stop). No I/O here; rpc_http.c carries it over HTTP.
 */
#include "rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct rpc_entry {
	const struct rpc_command *cmd;
	void *ctx;
};

struct rpc_dispatch {
	struct rpc_entry *entries;
	size_t n;
	int64_t start_time;  /* for uptime */
	bool stop_requested;
	const char *uri_wallet; /* /wallet/NAME of the request being run */
	struct log_limit batch_log; /* "batch too large" lines */
	void **owned;        /* contexts of rpc_register_copy, freed with us */
	size_t n_owned;
};

/* What one request turned into, before it becomes a reply object. */
struct rpc_call {
	json_t *id;          /* borrowed; NULL means JSON null */
	bool v2;             /* "jsonrpc": "2.0" */
	bool notification;   /* v2 without id: no reply */
	json_t *result;      /* owned */
	struct rpc_error err;
};

/* Length of the UTF-8 sequence starting with byte c, or 0 if c cannot
 * start one. */
static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Is s[0..n) one well-formed UTF-8 character (no overlong form, no
 * surrogate, nothing above U+10FFFF)? */
static bool utf8_char_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
	}
	if (n == 3)
		return !(s[0] == 0xe0 && s[1] < 0xa0) && !(s[0] == 0xed && s[1] >= 0xa0);
	if (n == 4)
		return !(s[0] == 0xf0 && s[1] < 0x90) && !(s[0] == 0xf4 && s[1] >= 0x90);
	return true;
}

void rpc_utf8_sanitize(char *s)
{
	unsigned char *in = (unsigned char *)s, *out = (unsigned char *)s;

	while (*in) {
		size_t n = utf8_seq_len(*in), avail = strnlen((char *)in, n ? n : 1);

		if (n && avail == n && utf8_char_ok(in, n)) {
			memmove(out, in, n);
			out += n;
			in += n;
		} else {
			*out++ = '?';   /* a cut or invalid character */
			in++;
			while ((*in & 0xc0) == 0x80)
				in++;
		}
	}
	*out = '\0';
}

/* The message is cut to fit and may come from a client's bytes: made
 * valid UTF-8 here, or jansson could not put it in the reply. */
int rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	rpc_utf8_sanitize(err->message);
	return -1;
}

const char *rpc_param_str(json_t *params, size_t i)
{
	json_t *v = json_array_get(params, i);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- Registry ------------------------------------------------------------ */

static const struct rpc_entry *rpc_find(const struct rpc_dispatch *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->entries[i].cmd->name, name) == 0)
			return &d->entries[i];
	}
	return NULL;
}

int rpc_register(struct rpc_dispatch *d, const struct rpc_command *cmds,
		 size_t n, void *ctx)
{
	struct rpc_entry *e;

	for (size_t i = 0; i < n; i++) {
		if (rpc_find(d, cmds[i].name))
			return -1;
	}
	e = realloc(d->entries, (d->n + n) * sizeof(*e));
	if (!e)
		return -1;
	d->entries = e;
	for (size_t i = 0; i < n; i++)
		d->entries[d->n++] = (struct rpc_entry){ &cmds[i], ctx };
	return 0;
}

int rpc_register_copy(struct rpc_dispatch *d, const struct rpc_command *cmds, size_t n,
		      const void *ctx, size_t ctx_size)
{
	void **owned = realloc(d->owned, (d->n_owned + 1) * sizeof(*owned));
	void *copy = owned ? malloc(ctx_size) : NULL;

	if (owned)
		d->owned = owned;
	if (!copy)
		return -1;
	memcpy(copy, ctx, ctx_size);
	if (rpc_register(d, cmds, n, copy) < 0) {
		free(copy);
		return -1;
	}
	d->owned[d->n_owned++] = copy;
	return 0;
}

bool rpc_stop_requested(const struct rpc_dispatch *d)
{
	return d->stop_requested;
}

/* ---- Built-in commands --------------------------------------------------- */

static size_t cmd_max_args(const struct rpc_command *c)
{
	size_t n = 0;

	while (n < RPC_MAX_ARGS && c->args[n])
		n++;
	return n;
}

/* help with no argument: every command's usage, grouped by category in
 * registration order. */
static json_t *help_all(const struct rpc_dispatch *d)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	const char *last = NULL;
	json_t *out;

	if (!f)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		const struct rpc_command *c = d->entries[i].cmd;

		if (!last || strcmp(last, c->category) != 0)
			fprintf(f, "%s== %s ==\n", last ? "\n" : "", c->category);
		fprintf(f, "%s\n", c->usage);
		last = c->category;
	}
	fclose(f);
	out = json_stringn(text, size ? size - 1 : 0); /* no final newline */
	free(text);
	return out;
}

static int rpc_help(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	const struct rpc_dispatch *d = ctx;
	const char *name;
	const struct rpc_entry *e;

	if (json_array_size(params) == 0) {
		*result = help_all(d);
		return *result ? 0 : rpc_fail(err, RPC_INTERNAL_ERROR, "out of memory");
	}
	name = rpc_param_str(params, 0);
	if (!name)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "command must be a string");
	e = rpc_find(d, name);
	if (!e)
		return rpc_fail(err, RPC_MISC_ERROR, "help: unknown command: %s", name);
	*result = json_sprintf("%s\n\n%s", e->cmd->usage, e->cmd->help);
	return 0;
}

static int rpc_uptime(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	const struct rpc_dispatch *d = ctx;

	(void)params;
	(void)err;
	*result = json_integer(util_time_s() - d->start_time);
	return 0;
}

static int rpc_stop(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	struct rpc_dispatch *d = ctx;

	(void)params;
	(void)err;
	d->stop_requested = true;
	*result = json_string("Moneyrocket server stopping");
	return 0;
}

static const struct rpc_command builtin_commands[] = {
	{ "help", "control", rpc_help, 0, { "command" }, "help ( \"command\" )",
	  "List all commands, or show the usage of one command." },
	{ "stop", "control", rpc_stop, 0, { NULL }, "stop",
	  "Stop the node: peers are closed, files flushed, the cookie removed." },
	{ "uptime", "control", rpc_uptime, 0, { NULL }, "uptime",
	  "Seconds since the node started." },
};

struct rpc_dispatch *rpc_dispatch_new(void)
{
	struct rpc_dispatch *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->start_time = util_time_s();
	if (rpc_register(d, builtin_commands,
			 sizeof(builtin_commands) / sizeof(builtin_commands[0]), d) < 0) {
		rpc_dispatch_free(d);
		return NULL;
	}
	return d;
}

void rpc_dispatch_free(struct rpc_dispatch *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_owned; i++)
		free(d->owned[i]);
	free(d->owned);
	free(d->entries);
	free(d);
}

/* ---- One request ------------------------------------------------------- */

/* Named parameters {"node": ..., "command": ...} to a positional array.
 * Unknown names are an error. Returns a new array or NULL (err filled). */
static json_t *params_from_object(const struct rpc_command *c, json_t *obj,
				  struct rpc_error *err)
{
	size_t nargs = cmd_max_args(c), last = 0;
	json_t *arr = json_array();
	const char *key;
	json_t *value;

	json_object_foreach(obj, key, value) {
		size_t i = 0;

		while (i < nargs && strcmp(c->args[i], key) != 0)
			i++;
		if (i == nargs) {
			rpc_fail(err, RPC_INVALID_PARAMETER, "unknown named parameter %s", key);
			json_decref(arr);
			return NULL;
		}
		if (i + 1 > last)
			last = i + 1;
	}
	for (size_t i = 0; i < last; i++)
		json_array_append(arr, json_object_get(obj, c->args[i]) ?
			json_object_get(obj, c->args[i]) : json_null());
	return arr;
}

/* The params member as a positional array (new reference) or NULL. */
static json_t *call_params(const struct rpc_command *c, json_t *req,
			   struct rpc_error *err)
{
	json_t *p = json_object_get(req, "params");

	if (!p || json_is_null(p))
		return json_array();
	if (json_is_array(p))
		return json_incref(p);
	if (json_is_object(p))
		return params_from_object(c, p, err);
	rpc_fail(err, RPC_INVALID_REQUEST, "params must be an array or an object");
	return NULL;
}

static void call_run(struct rpc_dispatch *d, json_t *req, struct rpc_call *call)
{
	json_t *method = json_object_get(req, "method"), *params;
	const struct rpc_entry *e;
	size_t n;

	if (!json_is_string(method)) {
		rpc_fail(&call->err, RPC_INVALID_REQUEST, "method must be a string");
		return;
	}
	e = rpc_find(d, json_string_value(method));
	if (!e) {
		rpc_fail(&call->err, RPC_METHOD_NOT_FOUND, "Method not found: %s",
			 json_string_value(method));
		return;
	}
	params = call_params(e->cmd, req, &call->err);
	if (!params)
		return;
	n = json_array_size(params);
	if (n < (size_t)e->cmd->min_args || n > cmd_max_args(e->cmd)) {
		rpc_fail(&call->err, RPC_INVALID_PARAMETER,
			 "wrong number of parameters (%zu); usage: %s", n, e->cmd->usage);
	} else if (e->cmd->handler(e->ctx, params, &call->result, &call->err) == 0) {
		call->err.code = 0;
		if (!call->result)
			call->result = json_null();
	}
	json_decref(params);
}

/* Validate the envelope, then run. Fills call (never fails). */
static void call_request(struct rpc_dispatch *d, json_t *req, struct rpc_call *call)
{
	json_t *ver;

	memset(call, 0, sizeof(*call));
	if (!json_is_object(req)) {
		rpc_fail(&call->err, RPC_INVALID_REQUEST, "request must be a JSON object");
		return;
	}
	ver = json_object_get(req, "jsonrpc");
	call->v2 = json_is_string(ver) && strcmp(json_string_value(ver), "2.0") == 0;
	call->id = json_object_get(req, "id");
	call->notification = call->v2 && !call->id;
	call_run(d, req, call);
	if (call->err.code)
		log_debug(LOG_RPC, "rpc: request failed: %d %s", call->err.code,
			  call->err.message);
}

/* The reply object of a finished call (new reference). */
static json_t *call_reply(struct rpc_call *call)
{
	json_t *reply = json_object();
	json_t *id = call->id ? json_incref(call->id) : json_null();

	if (call->v2)
		json_object_set_new(reply, "jsonrpc", json_string("2.0"));
	if (call->err.code == 0) {
		json_object_set_new(reply, "result", call->result);
		if (!call->v2)
			json_object_set_new(reply, "error", json_null());
	} else {
		json_t *e = json_pack("{s:i,s:s}", "code", call->err.code,
				      "message", call->err.message);

		/* Never a reply without an error object: if the message cannot
		 * be encoded, say so instead. */
		if (!e)
			e = json_pack("{s:i,s:s}", "code", RPC_INTERNAL_ERROR,
				      "message", "error message could not be encoded");
		json_decref(call->result);
		if (!call->v2)
			json_object_set_new(reply, "result", json_null());
		json_object_set_new(reply, "error", e);
	}
	call->result = NULL;
	json_object_set_new(reply, "id", id);
	return reply;
}

/* Bitcoin's mapping of legacy (1.0) errors to HTTP statuses; 2.0 replies
 * are always 200. */
static int call_status(const struct rpc_call *call)
{
	if (call->err.code == 0 || call->v2)
		return 200;
	if (call->err.code == RPC_INVALID_REQUEST)
		return 400;
	if (call->err.code == RPC_METHOD_NOT_FOUND)
		return 404;
	return 500;
}

static char *dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(16));

	json_decref(v);
	return s;
}

static char *error_body(int code, const char *message, int *status, int http)
{
	struct rpc_call call;

	memset(&call, 0, sizeof(call));
	rpc_fail(&call.err, code, "%s", message);
	*status = http;
	return dump(call_reply(&call));
}

const char *rpc_request_wallet(const struct rpc_dispatch *d)
{
	return d->uri_wallet;
}

/* ---- Jobs: one HTTP request, run in slices ------------------------------ */

/* The largest reply one failed call can add to a batch: the envelope plus a
 * 256-byte message escaped at worst as \uXXXX (6 bytes per byte). */
#define RPC_ERROR_REPLY_MAX 2048
/* Results stop being added once a batch reply reaches this, which leaves
 * room for an error reply per remaining call within RPC_MAX_REPLY. */
#define RPC_RESULT_BUDGET (RPC_MAX_REPLY - RPC_MAX_BATCH * RPC_ERROR_REPLY_MAX)

struct rpc_job {
	struct rpc_dispatch *d;
	char *wallet;        /* /wallet/NAME, or NULL */
	json_t *req;         /* the parsed body */
	size_t next;         /* batch: the next entry to run */
	bool over_budget;    /* batch: replies reached RPC_RESULT_BUDGET */
	bool done;
	char *out;           /* the reply being built (batch), then the reply */
	size_t out_len;
	int status;
};

/* Append n bytes to the batch reply. Returns 0 or -1 (out of memory). */
static int job_append(struct rpc_job *j, const char *s, size_t n)
{
	char *p = realloc(j->out, j->out_len + n + 1);

	if (!p)
		return -1;
	memcpy(p + j->out_len, s, n);
	j->out_len += n;
	p[j->out_len] = '\0';
	j->out = p;
	return 0;
}

/* Finish with a single error object as the whole reply. */
static void job_fail(struct rpc_job *j, int code, const char *message, int http)
{
	free(j->out);
	j->out = error_body(code, message, &j->status, http);
	j->done = true;
}

/* A failed call's reply, for a batch past its reply budget. */
static char *budget_reply(struct rpc_call *call, bool ran)
{
	json_decref(call->result);
	call->result = NULL;
	rpc_fail(&call->err, RPC_INVALID_REQUEST,
		 ran ? "reply too large: this batch's replies exceed %d bytes"
		     : "not run: this batch's replies exceed %d bytes", RPC_RESULT_BUDGET);
	return dump(call_reply(call));
}

/* Run batch entry j->next and append its reply. */
static void job_batch_step(struct rpc_job *j)
{
	json_t *req = json_array_get(j->req, j->next);
	struct rpc_call call;
	char *one;
	size_t n;

	if (j->over_budget) {
		json_t *ver = json_object_get(req, "jsonrpc");

		memset(&call, 0, sizeof(call));
		call.id = json_object_get(req, "id"); /* NULL if not an object */
		call.v2 = json_is_string(ver) && strcmp(json_string_value(ver), "2.0") == 0;
		if (call.v2 && !call.id) {  /* a notification: no reply */
			j->next++;
			return;
		}
		one = budget_reply(&call, false);
	} else {
		call_request(j->d, req, &call);
		if (call.notification) {
			json_decref(call.result);
			j->next++;
			return;
		}
		one = dump(call_reply(&call));
		if (one && j->out_len + strlen(one) > RPC_RESULT_BUDGET) {
			free(one);
			j->over_budget = true;
			one = budget_reply(&call, true);
		}
	}
	n = one ? strlen(one) : 0;
	if (!one || (j->out_len > 1 && job_append(j, ",", 1) < 0) || job_append(j, one, n) < 0)
		job_fail(j, RPC_INTERNAL_ERROR, "out of memory", 500);
	free(one);
	j->next++;
}

/* A single (non-batch) request: run it and keep its reply. */
static void job_single(struct rpc_job *j)
{
	struct rpc_call call;

	call_request(j->d, j->req, &call);
	j->status = call_status(&call);
	j->done = true;
	if (call.notification) {
		json_decref(call.result);
		j->status = 204;
		return;
	}
	j->out = dump(call_reply(&call));
	if (j->out && strlen(j->out) > RPC_MAX_REPLY) {
		char why[96];

		snprintf(why, sizeof(why), "reply too large: more than %d bytes", RPC_MAX_REPLY);
		job_fail(j, RPC_INVALID_REQUEST, why, 400);
	} else if (!j->out) {
		job_fail(j, RPC_INTERNAL_ERROR, "out of memory", 500);
	}
}

struct rpc_job *rpc_job_new(struct rpc_dispatch *d, const char *wallet, const char *body,
			    size_t len)
{
	struct rpc_job *j = calloc(1, sizeof(*j));
	json_error_t jerr;
	size_t n;

	if (!j || (wallet && !(j->wallet = strdup(wallet)))) {
		free(j);
		return NULL;
	}
	j->d = d;
	j->req = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	if (!j->req) {
		job_fail(j, RPC_PARSE_ERROR, "Parse error", 500);
		return j;
	}
	if (!json_is_array(j->req))
		return j;
	n = json_array_size(j->req);
	j->status = 200;
	if (n == 0) {
		job_fail(j, RPC_INVALID_REQUEST, "empty batch", 400);
	} else if (n > RPC_MAX_BATCH) {
		char why[128];

		snprintf(why, sizeof(why), "batch too large: %zu requests (at most %d)", n,
			 RPC_MAX_BATCH);
		log_limited(&d->batch_log, "rpc: %s", why);
		job_fail(j, RPC_INVALID_REQUEST, why, 400);
	} else if (job_append(j, "[", 1) < 0) {
		job_fail(j, RPC_INTERNAL_ERROR, "out of memory", 500);
	}
	return j;
}

bool rpc_job_run(struct rpc_job *j, int64_t budget_us)
{
	int64_t start = util_mono_us();

	j->d->uri_wallet = j->wallet;
	if (!j->done && !json_is_array(j->req))
		job_single(j);
	while (!j->done && j->next < json_array_size(j->req)) {
		job_batch_step(j);
		if (util_mono_us() - start >= budget_us)
			break;
	}
	if (!j->done && j->next == json_array_size(j->req)) {
		j->done = true;
		if (job_append(j, "]", 1) < 0)
			job_fail(j, RPC_INTERNAL_ERROR, "out of memory", 500);
	}
	j->d->uri_wallet = NULL;
	return j->done;
}

char *rpc_job_reply(struct rpc_job *j, int *status)
{
	char *out = j->out;

	j->out = NULL;
	*status = j->status;
	return out;
}

void rpc_job_free(struct rpc_job *j)
{
	if (!j)
		return;
	json_decref(j->req);
	free(j->out);
	free(j->wallet);
	free(j);
}

char *rpc_dispatch_body(struct rpc_dispatch *d, const char *body, size_t len,
			int *status)
{
	return rpc_dispatch_body_wallet(d, NULL, body, len, status);
}

char *rpc_dispatch_body_wallet(struct rpc_dispatch *d, const char *wallet, const char *body,
			       size_t len, int *status)
{
	struct rpc_job *j = rpc_job_new(d, wallet, body, len);
	char *out;

	if (!j) {
		*status = 500;
		return NULL;
	}
	while (!rpc_job_run(j, INT64_MAX))
		;
	out = rpc_job_reply(j, status);
	rpc_job_free(j);
	return out;
}
