/*
 * rpc.h — JSON-RPC 1.0/2.0 over HTTP: command registry, request dispatch,
 * and the evhttp server with cookie authentication.
 *
 * Subsystems add commands by registering a table of struct rpc_command
 * (rpc_register); the dispatcher validates the request, maps positional or
 * named parameters, calls the handler and builds the reply. Dispatch needs
 * no socket (rpc_dispatch_body), so it is unit-tested directly.
 *
 * Error codes: enum rpc_code is the one table of them: JSON-RPC's own
 * (-32700 parse error, -32600 invalid request, -32601 method not found,
 * ...) and Bitcoin Core's application codes, same numbers and names. Layers
 * below RPC report their own error kinds; the rpc_* files translate.
 */
#ifndef MR_RPC_H
#define MR_RPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

enum rpc_code {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	RPC_MISC_ERROR = -1,
	RPC_INVALID_PARAMETER = -8,
	RPC_CLIENT_NODE_ALREADY_ADDED = -23,
	RPC_CLIENT_NODE_NOT_ADDED = -24,
	RPC_CLIENT_NODE_NOT_CONNECTED = -29,
	RPC_TYPE_ERROR = -3,
	RPC_WALLET_ERROR = -4,
	RPC_INVALID_ADDRESS_OR_KEY = -5,
	RPC_WALLET_INSUFFICIENT_FUNDS = -6,
	RPC_WALLET_NOT_FOUND = -18,
	RPC_WALLET_NOT_SPECIFIED = -19,
	RPC_WALLET_ALREADY_LOADED = -35,
	RPC_WALLET_ALREADY_EXISTS = -36,
	RPC_DESERIALIZATION_ERROR = -22,
	RPC_VERIFY_ERROR = -25,
	RPC_VERIFY_REJECTED = -26,
	RPC_VERIFY_ALREADY_IN_CHAIN = -27,
};

/* An error a handler returns: a code and a one-line message. */
struct rpc_error {
	int code;
	char message[256];
};

/* Fill err (code and printf-style message) and return -1, so handlers can
 * `return rpc_fail(err, RPC_INVALID_PARAMETER, "...", ...);`. */
int rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A command handler. `params` is always a JSON array (named parameters are
 * mapped to positions by the table's `args`); its length is already within
 * [min_args, max args]. On success set *result (a new reference; NULL means
 * JSON null) and return 0; on failure fill err and return -1. `ctx` is the
 * pointer given to rpc_register.
 */
typedef int (*rpc_handler_fn)(void *ctx, json_t *params, json_t **result,
			      struct rpc_error *err);

#define RPC_MAX_ARGS 6

struct rpc_command {
	const char *name;
	const char *category;             /* help groups commands by it */
	rpc_handler_fn handler;
	int min_args;                     /* required parameters */
	const char *args[RPC_MAX_ARGS];   /* parameter names, NULL-terminated */
	const char *usage;                /* e.g. "addnode \"node\" \"command\"" */
	const char *help;                 /* one paragraph */
};

struct rpc_dispatch;

/* An empty registry with the built-in commands (help, uptime, stop).
 * Returns NULL on allocation failure. */
struct rpc_dispatch *rpc_dispatch_new(void);

/* Free the registry (not the tables it points to). Accepts NULL. */
void rpc_dispatch_free(struct rpc_dispatch *d);

/*
 * Register n commands; `cmds` must outlive the registry (use a static
 * table). Handlers receive `ctx`. Returns 0, or -1 if a name is already
 * registered or memory ran out.
 */
int rpc_register(struct rpc_dispatch *d, const struct rpc_command *cmds,
		 size_t n, void *ctx);

/*
 * rpc_register with a copy of the ctx_size bytes at ctx, which the registry
 * owns and frees: a command file's context (the subsystems it acts on)
 * then lives exactly as long as the registry, with no file-scope state.
 * Returns 0 or -1 as rpc_register.
 */
int rpc_register_copy(struct rpc_dispatch *d, const struct rpc_command *cmds, size_t n,
		      const void *ctx, size_t ctx_size);

/*
 * Handle one HTTP request body (a single request or a batch array). Returns
 * the reply body (malloc'd, caller frees; NULL for a JSON-RPC 2.0
 * notification, which gets no body) and the HTTP status in *status.
 * Never fails on bad input: that is an error reply.
 */
char *rpc_dispatch_body(struct rpc_dispatch *d, const char *body, size_t len,
			int *status);

/*
 * Limits on one HTTP request (doc/rpc.md): a batch of more than
 * RPC_MAX_BATCH requests is refused whole (-32600, HTTP 400); a reply never
 * exceeds RPC_MAX_REPLY bytes: a single request's oversized result becomes
 * a -32600 error, and in a batch, once the replies so far are near the
 * limit, each further call gets a -32600 error instead of its result (calls
 * after that are not run).
 */
#define RPC_MAX_BATCH 1000
#define RPC_MAX_REPLY (16 * 1024 * 1024)

/*
 * One request body being answered in slices, so a long batch does not hold
 * the event loop: rpc_job_new parses it (a parse error or an oversized
 * batch finishes it at once), rpc_job_run runs calls until `budget_us`
 * microseconds have passed (at least one call) and returns true once the
 * reply is complete, rpc_job_reply takes the reply (malloc'd; NULL for a
 * notification, status 204) and rpc_job_free frees the job (NULL is fine).
 * `wallet` is copied. rpc_job_new returns NULL only when out of memory.
 */
struct rpc_job;
struct rpc_job *rpc_job_new(struct rpc_dispatch *d, const char *wallet, const char *body,
			    size_t len);
bool rpc_job_run(struct rpc_job *j, int64_t budget_us);
char *rpc_job_reply(struct rpc_job *j, int *status);
void rpc_job_free(struct rpc_job *j);

/* Make s valid UTF-8 in place: each cut or invalid sequence becomes '?'. */
void rpc_utf8_sanitize(char *s);

/*
 * As rpc_dispatch_body, for a request sent to /wallet/NAME (wallet NULL
 * for "/"): handlers read the name with rpc_request_wallet while it runs.
 */
char *rpc_dispatch_body_wallet(struct rpc_dispatch *d, const char *wallet, const char *body,
			       size_t len, int *status);

/* The wallet named by the running request's URL, or NULL. */
const char *rpc_request_wallet(const struct rpc_dispatch *d);

/* True once a `stop` request has been dispatched. */
bool rpc_stop_requested(const struct rpc_dispatch *d);

struct rpc_server;

/* RPC clients (open connections) at once; a new one beyond this closes the
 * client idle longest, or waits in the listen backlog. */
#define RPC_MAX_CLIENTS 32

/*
 * Start the HTTP server on 127.0.0.1:port in `base` and write the cookie
 * file DATADIR/.cookie ("__cookie__:<64 hex>", mode 0600). `on_stop` is
 * called (from the event loop) once the reply to a `stop` request has been
 * sent. Returns the server, or NULL with the reason in err.
 */
struct rpc_server *rpc_http_new(struct event_base *base, struct rpc_dispatch *d,
				const char *datadir, uint16_t port,
				void (*on_stop)(void *), void *on_stop_arg,
				char *err, size_t errlen);

/* Stop serving, close connections and remove the cookie file. Accepts NULL. */
void rpc_http_free(struct rpc_server *s);

/* Helpers for handlers: */
/* params[i] as a string, or NULL if absent or not a string. */
const char *rpc_param_str(json_t *params, size_t i);

#endif
