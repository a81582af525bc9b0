/*
 * config.c — option table, command-line and config-file parsing.
 *
 * One table describes every option: its name, kind, where it lives in
 * struct config, its range and help text. Parsing, the "set on the command
 * line" rule and -help all read the same table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "netaddr.h"
#include "util.h"

enum opt_kind { OPT_INT, OPT_BOOL, OPT_PATH, OPT_ADDRS, OPT_DEBUG, OPT_FLAG, OPT_NAME, OPT_NAMES,
		OPT_SOCKET, OPT_HEX256 };

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	int64_t min, max; /* OPT_INT range */
	const char *help;
};

#define OFF(field) offsetof(struct config, field)

static const struct opt opts[] = {
	{ "datadir", OPT_PATH, OFF(datadir), 0, 0,
	  "=DIR  data directory (default ~/.moneyrocket)" },
	{ "port", OPT_INT, OFF(port), 1, 65535,
	  "=N  listen for P2P connections on port N (default 28444)" },
	{ "rpcport", OPT_INT, OFF(rpcport), 1, 65535,
	  "=N  JSON-RPC on 127.0.0.1:N (default 28443)" },
	{ "bind", OPT_ADDRS, OFF(bind), 0, 0,
	  "=ADDR[:PORT]  listen on this address (repeatable; default all)" },
	{ "listen", OPT_BOOL, OFF(listen), 0, 0,
	  "=0|1  accept inbound connections (default 1)" },
	{ "connect", OPT_ADDRS, OFF(connect), 0, 0,
	  "=ADDR[:PORT]  connect only to this peer (repeatable; 0: none)" },
	{ "addnode", OPT_ADDRS, OFF(addnode), 0, 0,
	  "=ADDR[:PORT]  keep a manual connection to this peer (repeatable)" },
	{ "seednode", OPT_ADDRS, OFF(seednode), 0, 0,
	  "=ADDR[:PORT]  ask this peer for addresses, then disconnect" },
	{ "whitelist", OPT_ADDRS, OFF(whitelist), 0, 0,
	  "=[PERMS@]IP[/BITS]  inbound peers from here get PERMS (default noban: never punished for misbehaving, never evicted; repeatable)" },
	{ "maxconnections", OPT_INT, OFF(maxconnections), 0, 100000,
	  "=N  inbound + automatic outbound connections (default 125)" },
	{ "logmessages", OPT_BOOL, OFF(logmessages), 0, 0,
	  "  log every P2P message to DATADIR/message_logging/" },
	{ "printtoconsole", OPT_BOOL, OFF(printtoconsole), 0, 0,
	  "  also print debug.log lines to stdout" },
	{ "debug", OPT_DEBUG, OFF(debug_mask), 0, 0,
	  "=net|rpc|all  log more detail for a category" },
	{ "discouragetime", OPT_INT, OFF(discouragetime), 1, 10LL * 365 * 86400,
	  "=SECONDS  how long a misbehaving IP is refused (test; 86400)" },
	{ "handshaketimeout", OPT_INT, OFF(handshaketimeout), 1, 86400,
	  "=SECONDS  time allowed for the version handshake (test; 60)" },
	{ "blockdownloadtimeout", OPT_INT, OFF(blockdownloadtimeout), 1, 86400,
	  "=SECONDS  time a peer has to send a block it was asked for (test; 60)" },
	{ "minimumchainwork", OPT_HEX256, OFF(minimumchainwork), 0, 0,
	  "=HEX  headers chains with less total work are low-work (default 0)" },
	{ "recvtimeout", OPT_INT, OFF(recvtimeout), 1, 86400,
	  "=SECONDS  time a P2P message may take to arrive once begun (test; 120)" },
	{ "feelerinterval", OPT_INT, OFF(feelerinterval), 1, 86400,
	  "=SECONDS  time between feeler connections (test; 120)" },
	{ "dbcache", OPT_INT, OFF(dbcache), 1, 16384,
	  "=MiB  memory for the coins cache before it is written (default 450)" },
	{ "flushinterval", OPT_INT, OFF(flushinterval), 1, 86400,
	  "=SECONDS  write the chainstate at least this often (default 3600)" },
	{ "maxmempool", OPT_INT, OFF(maxmempool), 1, 100000,
	  "=MB  mempool size limit (default 300)" },
	{ "mempoolexpiry", OPT_INT, OFF(mempoolexpiry), 1, 100000,
	  "=HOURS  drop mempool transactions older than this (default 336)" },
	{ "minrelaytxfee", OPT_INT, OFF(minrelaytxfee), 0, 100000000,
	  "=SAT  minimum fee rate to accept, satoshis per 1000 vbytes (default 1000)" },
	{ "wallet", OPT_NAMES, OFF(wallet), 0, 0,
	  "=NAME  load this wallet at start-up (repeatable)" },
	{ "fallbackfee", OPT_INT, OFF(fallbackfee), 1000, 100000000,
	  "=SAT  wallet fee rate, satoshis per 1000 vbytes, unless settxfee or fee_rate (default 10000)" },
	{ "consolidatefeerate", OPT_INT, OFF(consolidatefeerate), 0, 100000000,
	  "=SAT  long-term fee rate the coin selection's waste compares with, sat/kvB (default 10000)" },
	{ "maxapsfee", OPT_INT, OFF(maxapsfee), -1, 100000000,
	  "=SAT  extra fee a wallet accepts to avoid partial spends (default 0; -1: never try)" },
	{ "walletbroadcastinterval", OPT_INT, OFF(walletbroadcastinterval), 1, 86400,
	  "=SECONDS  announce unconfirmed wallet transactions again this often (default 600)" },
	{ "avoidpartialspends", OPT_BOOL, OFF(avoidpartialspends), 0, 0,
	  "=0|1  always spend all coins of an address together (default 0)" },
	{ "rpcwallet", OPT_NAME, OFF(rpcwallet), 0, 0,
	  "=NAME  moneyrocket-cli: send wallet calls to /wallet/NAME" },
	{ "tracesocket", OPT_SOCKET, OFF(tracesocket), 0, 0,
	  "=PATH  serve the tracepoint stream on this socket (default DATADIR/trace.sock; 0: off)" },
	{ "help", OPT_FLAG, OFF(help), 0, 0, "  print this help and exit" },
	{ "version", OPT_FLAG, OFF(version), 0, 0, "  print the version and exit" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void config_init(struct config *cfg)
{
	const char *home = getenv("HOME");

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->datadir, sizeof(cfg->datadir), "%s/.moneyrocket",
		 home && *home ? home : ".");
	cfg->port = MSG_DEFAULT_PORT;
	cfg->rpcport = MSG_DEFAULT_RPC_PORT;
	cfg->listen = true;
	cfg->maxconnections = CONFIG_DEFAULT_MAXCONNECTIONS;
	cfg->discouragetime = CONFIG_DEFAULT_DISCOURAGE_TIME;
	cfg->handshaketimeout = CONFIG_DEFAULT_HANDSHAKE_TIMEOUT;
	cfg->blockdownloadtimeout = CONFIG_DEFAULT_BLOCK_DOWNLOAD_TIMEOUT;
	cfg->recvtimeout = CONFIG_DEFAULT_RECV_TIMEOUT;
	cfg->feelerinterval = CONFIG_DEFAULT_FEELER_INTERVAL;
	cfg->dbcache = CONFIG_DEFAULT_DBCACHE;
	cfg->flushinterval = CONFIG_DEFAULT_FLUSH_INTERVAL;
	cfg->maxmempool = CONFIG_DEFAULT_MAXMEMPOOL;
	cfg->mempoolexpiry = CONFIG_DEFAULT_MEMPOOL_EXPIRY;
	cfg->minrelaytxfee = CONFIG_DEFAULT_MIN_RELAY_FEE;
	cfg->fallbackfee = CONFIG_DEFAULT_FALLBACK_FEE;
	cfg->consolidatefeerate = CONFIG_DEFAULT_CONSOLIDATE_FEERATE;
	cfg->maxapsfee = CONFIG_DEFAULT_MAX_APS_FEE;
	cfg->walletbroadcastinterval = CONFIG_DEFAULT_WALLET_BROADCAST_INTERVAL;
}

static void list_free(struct config_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	list_free(&cfg->bind);
	list_free(&cfg->connect);
	list_free(&cfg->addnode);
	list_free(&cfg->seednode);
	list_free(&cfg->whitelist);
	list_free(&cfg->wallet);
}

static const struct opt *opt_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	}
	return NULL;
}

static int list_add(struct config_list *l, const char *value)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
	char *copy = strdup(value);

	if (!items || !copy) {
		free(copy);
		if (items)
			l->items = items;
		return -1;
	}
	l->items = items;
	l->items[l->n++] = copy;
	return 0;
}

static int set_int(struct config *cfg, const struct opt *o, const char *v,
		   char *err, size_t errlen)
{
	int64_t n;

	if (!v || util_parse_int64(v, o->min, o->max, &n) < 0) {
		snprintf(err, errlen,
			 "invalid value for -%s: '%s' (expected an integer from %lld to %lld)",
			 o->name, v ? v : "", (long long)o->min, (long long)o->max);
		return -1;
	}
	*(int64_t *)((char *)cfg + o->offset) = n;
	return 0;
}

static int set_bool(struct config *cfg, const struct opt *o, const char *v,
		    char *err, size_t errlen)
{
	bool *field = (bool *)((char *)cfg + o->offset);

	if (!v || strcmp(v, "1") == 0) {
		*field = true;
	} else if (strcmp(v, "0") == 0) {
		*field = false;
	} else {
		snprintf(err, errlen, "invalid value for -%s: '%s' (expected 0 or 1)",
			 o->name, v);
		return -1;
	}
	return 0;
}

static int set_addr(struct config *cfg, const struct opt *o, const char *v,
		    char *err, size_t errlen)
{
	struct config_list *l = (struct config_list *)((char *)cfg + o->offset);
	struct netaddr a;

	/* -connect=0 (or -noconnect): no connections except manual ones. */
	if (strcmp(o->name, "connect") == 0 && v && strcmp(v, "0") == 0) {
		cfg->connect_only = true;
		return 0;
	}
	if (strcmp(o->name, "whitelist") == 0) {
		struct netaddr net;
		int bits;
		bool noban;

		if (!v || netaddr_parse_whitelist(v, &net, &bits, &noban) < 0) {
			snprintf(err, errlen,
				 "invalid value for -whitelist: '%s' (expected [PERMS@]IP[/BITS])",
				 v ? v : "");
			return -1;
		}
	} else if (!v || !*v || netaddr_parse(v, MSG_DEFAULT_PORT, &a) < 0) {
		snprintf(err, errlen,
			 "invalid address for -%s: '%s' (expected IP, IP:PORT or [IPv6]:PORT)",
			 o->name, v ? v : "");
		return -1;
	}
	if (list_add(l, v) < 0) {
		snprintf(err, errlen, "-%s: out of memory", o->name);
		return -1;
	}
	if (strcmp(o->name, "connect") == 0)
		cfg->connect_only = true;
	return 0;
}

static int set_debug(struct config *cfg, const struct opt *o, const char *v,
		     char *err, size_t errlen)
{
	unsigned mask;

	if (!v)
		v = "all";
	if (log_category_parse(v, &mask) < 0) {
		snprintf(err, errlen,
			 "invalid value for -%s: '%s' (expected net, rpc, all or 0)",
			 o->name, v);
		return -1;
	}
	if (mask == 0)
		cfg->debug_mask = 0;
	cfg->debug_mask |= mask;
	return 0;
}

static int set_path(struct config *cfg, const struct opt *o, const char *v,
		    char *err, size_t errlen)
{
	if (!v || !*v || strlen(v) >= sizeof(cfg->datadir) - 64) {
		snprintf(err, errlen, "invalid value for -%s: '%s' (expected a path)",
			 o->name, v ? v : "");
		return -1;
	}
	util_strlcpy(cfg->datadir, v, sizeof(cfg->datadir));
	return 0;
}

/* A wallet name: a single name, or a list of them (-wallet). */
static int set_name(struct config *cfg, const struct opt *o, const char *v,
		    char *err, size_t errlen)
{
	if (!v || !util_name_valid(v, CONFIG_NAME_MAX)) {
		snprintf(err, errlen,
			 "invalid value for -%s: '%s' (expected a wallet name: 1 to %d of "
			 "A-Z a-z 0-9 _ . -, not starting with '.')",
			 o->name, v ? v : "", CONFIG_NAME_MAX - 1);
		return -1;
	}
	if (o->kind == OPT_NAME) {
		util_strlcpy((char *)cfg + o->offset, v, CONFIG_NAME_MAX);
		return 0;
	}
	if (list_add((struct config_list *)((char *)cfg + o->offset), v) < 0) {
		snprintf(err, errlen, "-%s: out of memory", o->name);
		return -1;
	}
	return 0;
}

/* A socket path, or "0" (also -noOPTION) for none. */
static int set_socket(struct config *cfg, const struct opt *o, const char *v,
		      char *err, size_t errlen)
{
	char *field = (char *)cfg + o->offset;

	if (!v || !*v || strlen(v) >= CONFIG_PATH_MAX) {
		snprintf(err, errlen, "invalid value for -%s: '%s' (expected a path, or 0)",
			 o->name, v ? v : "");
		return -1;
	}
	util_strlcpy(field, v, CONFIG_PATH_MAX);
	return 0;
}

/* A 256-bit number in hex (1 to 64 digits, no 0x), kept as written. */
static int set_hex256(struct config *cfg, const struct opt *o, const char *v,
		      char *err, size_t errlen)
{
	size_t n = v ? strlen(v) : 0;

	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)v[i]))
			n = 0;
	}
	if (n == 0 || n > 64) {
		snprintf(err, errlen, "invalid value for -%s: '%.80s' (expected 1 to 64 hex digits)",
			 o->name, v ? v : "");
		return -1;
	}
	util_strlcpy((char *)cfg + o->offset, v, CONFIG_HEX256_MAX);
	return 0;
}

static int set_value(struct config *cfg, const struct opt *o, const char *v,
		     char *err, size_t errlen)
{
	switch (o->kind) {
	case OPT_INT:
		return set_int(cfg, o, v, err, errlen);
	case OPT_BOOL:
	case OPT_FLAG:
		return set_bool(cfg, o, v, err, errlen);
	case OPT_ADDRS:
		return set_addr(cfg, o, v, err, errlen);
	case OPT_DEBUG:
		return set_debug(cfg, o, v, err, errlen);
	case OPT_PATH:
		return set_path(cfg, o, v, err, errlen);
	case OPT_NAME:
	case OPT_NAMES:
		return set_name(cfg, o, v, err, errlen);
	case OPT_SOCKET:
		return set_socket(cfg, o, v, err, errlen);
	case OPT_HEX256:
		return set_hex256(cfg, o, v, err, errlen);
	}
	return -1;
}

/* "-noname": the negation of a boolean option, or NULL. */
static const struct opt *opt_negated(const char *name, size_t len)
{
	const struct opt *o;

	if (len <= 2 || strncmp(name, "no", 2) != 0)
		return NULL;
	o = opt_find(name + 2, len - 2);
	if (o && (o->kind == OPT_BOOL || o->kind == OPT_SOCKET || strcmp(o->name, "connect") == 0))
		return o;
	return NULL;
}

int config_set(struct config *cfg, const char *name, const char *value,
	       bool from_file, char *err, size_t errlen)
{
	size_t len = strlen(name);
	const struct opt *o = opt_find(name, len);
	const struct opt *neg = o ? NULL : opt_negated(name, len);
	uint64_t bit;

	if (!o && !neg) {
		snprintf(err, errlen, "unknown option -%s", name);
		return -1;
	}
	if (neg) {
		if (value) {
			snprintf(err, errlen, "-%s takes no value", name);
			return -1;
		}
		o = neg;
		value = "0";
	}
	if (from_file && (o->kind == OPT_PATH || o->kind == OPT_FLAG)) {
		snprintf(err, errlen, "-%s cannot be set in %s", o->name, CONFIG_FILE_NAME);
		return -1;
	}
	bit = 1ULL << (o - opts);
	if (from_file && o->kind != OPT_ADDRS && o->kind != OPT_NAMES &&
	    (cfg->set_on_cmdline & bit))
		return 0;
	if (!from_file)
		cfg->set_on_cmdline |= bit;
	if (!value && (o->kind == OPT_INT || o->kind == OPT_PATH || o->kind == OPT_ADDRS ||
		       o->kind == OPT_NAME || o->kind == OPT_NAMES || o->kind == OPT_SOCKET)) {
		snprintf(err, errlen, "option -%s needs a value (-%s=...)", o->name, o->name);
		return -1;
	}
	return set_value(cfg, o, value, err, errlen);
}

/* One command-line argument "-name[=value]". */
static int parse_arg(struct config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	char key[64];
	size_t len = eq ? (size_t)(eq - name) : strlen(name);

	if (strcmp(name, "h") == 0 || strcmp(name, "?") == 0)
		name = "help", len = 4;
	if (len == 0 || len >= sizeof(key)) {
		snprintf(err, errlen, "invalid option '%s'", arg);
		return -1;
	}
	memcpy(key, name, len);
	key[len] = '\0';
	return config_set(cfg, key, eq ? eq + 1 : NULL, false, err, errlen);
}

int config_parse_args(struct config *cfg, int argc, char **argv,
		      int *positional, char *err, size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0') {
			if (positional) {
				*positional = i;
				return 0;
			}
			snprintf(err, errlen,
				 "unexpected argument '%s' (options start with '-')", a);
			return -1;
		}
		if (parse_arg(cfg, a, err, errlen) < 0)
			return -1;
	}
	if (positional)
		*positional = argc;
	return 0;
}

/* Trim leading and trailing white space in place; returns the start. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* One config-file line (already without its newline). */
static int parse_line(struct config *cfg, char *line, char *err, size_t errlen)
{
	char *hash = strchr(line, '#');
	char *eq, *key, *value;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, errlen, "expected key=value, got '%s'", line);
		return -1;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (*key == '-') {
		snprintf(err, errlen, "write keys without '-': '%s'", key);
		return -1;
	}
	return config_set(cfg, key, value, true, err, errlen);
}

int config_read_file(struct config *cfg, const char *path, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, why[512];
	size_t cap = 0;
	int lineno = 0, rc = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* getline, not a fixed buffer: a long line's tail must never be
	 * read as a line of its own. */
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (parse_line(cfg, line, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->bind.n; i++) {
		struct netaddr a;

		if (netaddr_parse(cfg->bind.items[i], (uint16_t)cfg->port, &a) < 0) {
			snprintf(err, errlen, "invalid address for -bind: '%s'",
				 cfg->bind.items[i]);
			return -1;
		}
	}
	if (cfg->port == cfg->rpcport) {
		snprintf(err, errlen, "-port and -rpcport must differ (both %lld)",
			 (long long)cfg->port);
		return -1;
	}
	return 0;
}

void config_usage(const char *program)
{
	printf("Usage: %s [options]\n\nOptions (also as key=value lines in "
	       "DATADIR/" CONFIG_FILE_NAME "):\n", program);
	for (size_t i = 0; i < N_OPTS; i++)
		printf("  -%s%s\n", opts[i].name, opts[i].help);
}
