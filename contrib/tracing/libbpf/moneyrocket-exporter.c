// SPDX-License-Identifier: MIT
/*
 * moneyrocket-exporter — Prometheus metrics from moneyrocketd's tracepoints
 * (libbpf, CO-RE, BPF_USDT). The BPF side counts every event in a kernel
 * map (moneyrocket-exporter.bpf.c); this side serves the counts in the
 * Prometheus text format over HTTP (libmicrohttpd), and once a second looks
 * for nodes started or stopped: a new node is traced, a gone node's series
 * are dropped.
 *
 * Output, stdout: one line when serving, then one line per node picked up
 * ("node PID: tracing PATH, port PORT") or dropped ("node PID: gone").
 * Errors and warnings (lost events) go to stderr.
 */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <microhttpd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "moneyrocket-exporter.h"
#include "moneyrocket-exporter.skel.h"
#include "tool.h"

#define PROG "moneyrocket-exporter"
#define DEFAULT_LISTEN "127.0.0.1:9435"
#define NODE_BINARY_NAME "moneyrocketd"
#define NODE_DEFAULT_PORT 28444 /* src/msg.h MSG_DEFAULT_PORT */
#define MAX_NODES 64
#define MAX_TARGETS 16
#define RESCAN_MS 1000
/* After a failed attach (e.g. a BCC script holds a guarded tracepoint of
 * that binary), try again this often. */
#define RETRY_SECONDS 5

static struct env {
	pid_t pid;              /* -p: this node only; 0: not given */
	char binary[PATH_MAX];  /* BINARY: every process running it; "": any moneyrocketd */
	const char *listen;
} env = { .listen = DEFAULT_LISTEN };

/* ---- the fixed label lists (index 0 of each is "other") ---------------- */

/* Bitcoin Core's message types, so a dashboard written for it fits. */
static const char *const msg_types[] = {
	"other", "addr", "addrv2", "block", "blocktxn", "cfcheckpt", "cfheaders", "cfilter",
	"cmpctblock", "feefilter", "filteradd", "filterclear", "filterload", "getaddr",
	"getblocks", "getblocktxn", "getcfcheckpt", "getcfheaders", "getcfilters", "getdata",
	"getheaders", "headers", "inv", "mempool", "merkleblock", "notfound", "ping", "pong",
	"sendaddrv2", "sendcmpct", "sendheaders", "sendtxrcncl", "tx", "verack", "version",
	"wtxidrelay", NULL,
};
static const char *const conn_types[] = {
	"other", "inbound", "outbound-full-relay", "block-relay-only", "feeler", "manual",
	"addr-fetch", NULL,
};
static const char *const removed_reasons[] = {
	"other", "expiry", "sizelimit", "reorg", "block", "conflict", "replaced", NULL,
};
/* The reasons src/mempool.c and src/chainstate.c give, before any " (". */
static const char *const rejected_reasons[] = {
	"other", "bad-txns-duplicate", "bad-txns-in-belowout", "bad-txns-inputs-duplicate",
	"bad-txns-inputs-missingorspent", "bad-txns-inputvalues-outofrange",
	"bad-txns-oversize", "bad-txns-premature-spend-of-coinbase", "bad-txns-prevout-null",
	"bad-txns-txouttotal-toolarge", "bad-txns-vin-empty", "bad-txns-vout-empty",
	"bad-txns-vout-negative", "bad-txns-vout-toolarge", "coinbase", "insufficient fee",
	"mandatory-script-verify-flag-failed", "min relay fee not met", "non-standard",
	"out of memory", "scriptpubkey", "tx-size", "txn-already-in-mempool",
	"txn-mempool-conflict", NULL,
};
static const char *const algorithms[] = { "other", "bnb", "coingrinder", "knapsack", "srd",
					  NULL };
static const char *const flush_modes[] = { "other", "NONE", "IF_NEEDED", "PERIODIC",
					   "ALWAYS", NULL };
static const char *const conn_events[] = { "inbound", "outbound", "closed", "evicted",
					   "misbehaving", NULL };
static const char *const coin_events[] = { "add", "spent", "uncache", NULL };
static const char *const mempool_events[] = { "added", "removed", "replaced", "rejected",
					      NULL };
static const char *const directions[] = { "in", "out", NULL };

/* The label of index i in a NULL-terminated list; "other" when out of range. */
static const char *label(const char *const *list, unsigned int i)
{
	for (unsigned int j = 0; list[j]; j++)
		if (j == i)
			return list[j];
	return "other";
}

/* ---- the tracepoints: program name == tracepoint name ------------------ */

static const struct { const char *provider, *name; } tracepoints[] = {
	{ "net", "inbound_message" },       { "net", "outbound_message" },
	{ "net", "inbound_connection" },    { "net", "outbound_connection" },
	{ "net", "closed_connection" },     { "net", "evicted_inbound_connection" },
	{ "net", "misbehaving_connection" },
	{ "validation", "block_connected" },
	{ "utxocache", "flush" },           { "utxocache", "add" },
	{ "utxocache", "spent" },           { "utxocache", "uncache" },
	{ "mempool", "added" },             { "mempool", "removed" },
	{ "mempool", "replaced" },          { "mempool", "rejected" },
	{ "coin_selection", "selected_coins" },
};
#define N_TRACEPOINTS (sizeof(tracepoints) / sizeof(tracepoints[0]))

/* One attachment: every tracepoint of a binary, in one process (pid) or
 * in every process running it (pid -1). */
struct target {
	char path[PATH_MAX];
	pid_t pid;
	time_t failed_at;       /* last failed attach, 0: attached */
	bool used;              /* a node runs it (this scan) */
	struct bpf_link *links[N_TRACEPOINTS];
};

struct node {
	pid_t pid;
	unsigned int port;      /* -port on its command line, else the default */
	char path[PATH_MAX];
};

/* What the HTTP thread and the main loop share, under `lock`. */
static struct state {
	pthread_mutex_t lock;
	struct moneyrocket_exporter_bpf *skel;
	struct node nodes[MAX_NODES];
	int n_nodes;
	struct target targets[MAX_TARGETS];
	int n_targets;
	unsigned long long scrapes, scrape_errors, attach_errors;
	double last_scrape_seconds;
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- options ------------------------------------------------------------ */

const char *argp_program_version = PROG " 0.1";
static const char argp_doc[] =
	"Serve Prometheus metrics counted in the kernel from moneyrocketd's\n"
	"tracepoints: P2P messages and connections, blocks, coins cache, mempool,\n"
	"coin selection.\n"
	"\n"
	"USAGE: " PROG " [--listen ADDR:PORT] [-p PID | BINARY] [-v]\n"
	"\n"
	"Without -p or BINARY it traces every moneyrocketd running on the host,\n"
	"and picks up (or drops) a node that starts (or stops) while it runs.\n"
	"Needs CAP_BPF and CAP_PERFMON (or root).\n"
	"\n"
	"EXAMPLES:\n"
	"    " PROG "                          # every node, on 127.0.0.1:9435\n"
	"    " PROG " -p $(pidof moneyrocketd) # one node\n"
	"    " PROG " /opt/mr/bin/moneyrocketd  # every process of that binary\n"
	"    " PROG " --listen 0.0.0.0:9435    # reachable from other hosts\n"
	"    curl -s http://127.0.0.1:9435/metrics\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this moneyrocketd process only", 0 },
	{ "listen", 'l', "ADDR:PORT", 0, "Serve metrics here (default " DEFAULT_LISTEN ")", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'p':
		env.pid = (pid_t)tool_parse_number(state, "PID", arg, INT32_MAX);
		break;
	case 'l':
		env.listen = arg;
		break;
	case 'v':
		tool_verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0 || env.pid)
			argp_error(state, "one target only: -p PID or BINARY");
		if (!realpath(arg, env.binary))
			argp_error(state, "cannot read %s: %s", arg, strerror(errno));
		break;
	case ARGP_KEY_END:
		if (env.pid && env.binary[0])
			argp_error(state, "one target only: -p PID or BINARY");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* True when the effective set has `cap`. */
static bool has_cap(const struct __user_cap_data_struct d[2], unsigned int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* Loading BPF programs needs CAP_BPF, attaching uprobes CAP_PERFMON;
 * CAP_SYS_ADMIN covers both. Say so before libbpf fails less clearly. */
static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (has_cap(data, CAP_SYS_ADMIN) ||
	     (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))))
		return 0;
	fprintf(stderr, PROG ": needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to load "
		"BPF programs and attach to tracepoints: run it as root, or as the systemd "
		"service in contrib/init/moneyrocket-exporter.service\n");
	return -1;
}

/* ---- finding nodes ------------------------------------------------------ */

/* The executable of pid into buf (size PATH_MAX); -1 when it has none
 * we can read (gone, a zombie, a kernel thread, not ours). */
static int exe_of(pid_t pid, char *buf)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, PATH_MAX - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The P2P port a node listens on: the last -port=N of its command line,
 * else the default. */
static unsigned int port_of(pid_t pid)
{
	char path[64], buf[8192];
	unsigned int port = NODE_DEFAULT_PORT;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return port;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return port;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		const char *v = NULL;

		if (!strncmp(a, "-port=", 6))
			v = a + 6;
		else if (!strncmp(a, "--port=", 7))
			v = a + 7;
		if (v) {
			long p = strtol(v, NULL, 10);

			if (p > 0 && p < 65536)
				port = (unsigned int)p;
		}
	}
	return port;
}

/* Whether process pid (running exe) is a node this exporter traces. */
static bool wanted(pid_t pid, const char *exe)
{
	const char *base = strrchr(exe, '/');

	if (env.pid)
		return pid == env.pid;
	if (env.binary[0])
		return !strcmp(exe, env.binary);
	return !strcmp(base ? base + 1 : exe, NODE_BINARY_NAME);
}

/* The nodes running now, into out[MAX_NODES]; returns how many. */
static int scan_nodes(struct node *out)
{
	struct dirent *de;
	DIR *proc;
	int n = 0;

	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((de = readdir(proc)) && n < MAX_NODES) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || (env.pid && pid != env.pid))
			continue;
		if (exe_of((pid_t)pid, out[n].path) < 0 || !wanted((pid_t)pid, out[n].path))
			continue;
		out[n].pid = (pid_t)pid;
		out[n].port = port_of((pid_t)pid);
		n++;
	}
	closedir(proc);
	return n;
}

/* ---- attaching ---------------------------------------------------------- */

static void detach(struct target *t)
{
	for (size_t i = 0; i < N_TRACEPOINTS; i++) {
		bpf_link__destroy(t->links[i]);
		t->links[i] = NULL;
	}
}

/* Attach every tracepoint of t->path (in t->pid, or -1: every process).
 * Returns 0, or -1 having said why and detached what was attached. */
static int attach(struct target *t)
{
	for (size_t i = 0; i < N_TRACEPOINTS; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(st.skel->obj,
									    tracepoints[i].name);

		t->links[i] = tool_attach_usdt(PROG, prog, t->pid, t->path,
					       tracepoints[i].provider, tracepoints[i].name);
		if (!t->links[i]) {
			detach(t);
			st.attach_errors++;
			return -1;
		}
	}
	return 0;
}

/* Attach t now; a failure is remembered, to be tried again after
 * RETRY_SECONDS. Returns t, or NULL while it is not attached. */
static struct target *try_attach(struct target *t)
{
	bool retry = t->failed_at != 0;

	if (attach(t) != 0) {
		t->failed_at = time(NULL);
		if (!retry)
			fprintf(stderr, PROG ": not tracing %s for now; trying again every %d s\n",
				t->path, RETRY_SECONDS);
		return NULL;
	}
	if (retry)
		fprintf(stderr, PROG ": %s attached now\n", t->path);
	t->failed_at = 0;
	return t;
}

/* The target for a node's binary, attached on first use; NULL while
 * attaching fails. -p traces its process only; otherwise one attachment
 * per binary covers every process running it. */
static struct target *target_for(const struct node *n)
{
	pid_t pid = env.pid ? env.pid : -1;
	struct target *t;

	for (int i = 0; i < st.n_targets; i++) {
		t = &st.targets[i];
		if (t->pid != pid || strcmp(t->path, n->path))
			continue;
		if (!t->failed_at)
			return t;
		t->used = true; /* kept, to be retried */
		return time(NULL) - t->failed_at >= RETRY_SECONDS ? try_attach(t) : NULL;
	}
	if (st.n_targets == MAX_TARGETS) {
		fprintf(stderr, PROG ": not tracing %s: already %d binaries traced\n", n->path,
			MAX_TARGETS);
		return NULL;
	}
	t = &st.targets[st.n_targets++];
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", n->path);
	t->pid = pid;
	t->used = true;
	return try_attach(t);
}

/* Delete the rows of a node that is gone, so its series disappear. */
static void drop_rows(pid_t pid)
{
	int fd = bpf_map__fd(st.skel->maps.rows);
	struct exp_key key, next, *prev = NULL;
	static struct exp_key doomed[EXP_MAX_ROWS];
	int n = 0;

	/* Gather first: deleting while walking restarts the walk. */
	while (n < EXP_MAX_ROWS && bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (next.tgid == (unsigned int)pid)
			doomed[n++] = next;
		key = next;
		prev = &key;
	}
	for (int i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &doomed[i]);
}

static bool has_node(const struct node *list, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (list[i].pid == pid)
			return true;
	return false;
}

/* One rescan: trace the nodes that appeared, drop the ones that went, and
 * detach from binaries no node runs any more (with BINARY given, it stays
 * attached: its next process is counted from its first event). */
static void sync_nodes(void)
{
	static struct node found[MAX_NODES];
	struct node kept[MAX_NODES];
	int n_found = scan_nodes(found), n_kept = 0;

	pthread_mutex_lock(&st.lock);
	for (int i = 0; i < st.n_nodes; i++) {
		if (!has_node(found, n_found, st.nodes[i].pid)) {
			printf("node %d: gone\n", (int)st.nodes[i].pid);
			drop_rows(st.nodes[i].pid);
		}
	}
	for (int i = 0; i < st.n_targets; i++)
		st.targets[i].used = false;
	for (int i = 0; i < n_found; i++) {
		struct target *t = target_for(&found[i]);

		if (!t)
			continue;
		t->used = true;
		if (!has_node(st.nodes, st.n_nodes, found[i].pid))
			printf("node %d: tracing %s, port %u\n", (int)found[i].pid,
			       found[i].path, found[i].port);
		kept[n_kept++] = found[i];
	}
	/* Binaries no node runs are let go (with BINARY given, never), and
	 * attached again when a node runs them again. */
	for (int i = 0; i < st.n_targets;) {
		if (!st.targets[i].used && !env.binary[0]) {
			detach(&st.targets[i]);
			st.targets[i] = st.targets[--st.n_targets];
		} else {
			i++;
		}
	}
	memcpy(st.nodes, kept, sizeof(kept[0]) * (size_t)n_kept);
	st.n_nodes = n_kept;
	pthread_mutex_unlock(&st.lock);
	fflush(stdout);
}

/* ---- the metrics -------------------------------------------------------- */

struct row {
	struct exp_key key;
	struct exp_val val;
};

static int row_cmp(const void *a, const void *b)
{
	const struct exp_key *x = &((const struct row *)a)->key;
	const struct exp_key *y = &((const struct row *)b)->key;

	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

/* The rows of traced nodes, sorted; returns how many, or -1. */
static int read_rows(struct row *rows)
{
	int fd = bpf_map__fd(st.skel->maps.rows);
	struct exp_key key, *prev = NULL;
	int n = 0;

	while (n < EXP_MAX_ROWS && bpf_map_get_next_key(fd, prev, &key) == 0) {
		rows[n].key = key;
		prev = &rows[n].key;
		if (!has_node(st.nodes, st.n_nodes, (pid_t)key.tgid))
			continue;
		if (bpf_map_lookup_elem(fd, &key, &rows[n].val) == 0)
			n++;
		else if (errno != ENOENT)
			return -1;
	}
	qsort(rows, (size_t)n, sizeof(rows[0]), row_cmp);
	return n;
}

/* The row (tgid, metric, a, b), or NULL. */
static const struct exp_val *find(const struct row *rows, int n, pid_t tgid,
				  unsigned int metric, unsigned int a, unsigned int b)
{
	for (int i = 0; i < n; i++) {
		const struct exp_key *k = &rows[i].key;

		if (k->tgid == (unsigned int)tgid && k->metric == metric && k->a == a && k->b == b)
			return &rows[i].val;
	}
	return NULL;
}

static const struct node *node_of(unsigned int tgid)
{
	for (int i = 0; i < st.n_nodes; i++)
		if (st.nodes[i].pid == (pid_t)tgid)
			return &st.nodes[i];
	return NULL;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The node labels, pid="…",port="…", of a row's process. */
static void node_labels(FILE *f, unsigned int tgid)
{
	const struct node *n = node_of(tgid);

	fprintf(f, "pid=\"%u\",port=\"%u\"", tgid, n ? n->port : 0);
}

/* Every row of `metric` as one sample: name{node,A=label(a)[,B=label(b)]}
 * value, the value being count or sum (scaled by `scale`). */
static void samples(FILE *f, const struct row *rows, int n, const char *name,
		    unsigned int metric, const char *a_name, const char *const *a_list,
		    const char *b_name, const char *const *b_list, bool sum, double scale)
{
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		unsigned long long v = sum ? r->val.sum : r->val.count;

		if (r->key.metric != metric)
			continue;
		fprintf(f, "%s{", name);
		node_labels(f, r->key.tgid);
		if (a_name)
			fprintf(f, ",%s=\"%s\"", a_name, label(a_list, r->key.a));
		if (b_name)
			fprintf(f, ",%s=\"%s\"", b_name, label(b_list, r->key.b));
		if (scale != 1.0)
			fprintf(f, "} %.9g\n", (double)v * scale);
		else
			fprintf(f, "} %llu\n", v);
	}
}

/* A log2 histogram in seconds, per node, from its bucket rows and the
 * microseconds summed in (sum_metric, 0, 0). Every node has one, empty
 * until its first event, so rate() sees the first one. */
static void histogram(FILE *f, const struct row *rows, int n, const char *name,
		      unsigned int hist_metric, unsigned int sum_metric)
{
	for (int i = 0; i < st.n_nodes; i++) {
		pid_t pid = st.nodes[i].pid;
		unsigned long long cum = 0, sum_us = 0;

		for (unsigned int k = 0; k < EXP_HIST_BUCKETS; k++) {
			const struct exp_val *b = find(rows, n, pid, hist_metric, k, 0);

			cum += b ? b->count : 0;
			if (k == EXP_HIST_BUCKETS - 1)
				break;
			fprintf(f, "%s_bucket{", name);
			node_labels(f, (unsigned int)pid);
			fprintf(f, ",le=\"%.9g\"} %llu\n", (double)(1ULL << k) / 1e6, cum);
		}
		fprintf(f, "%s_bucket{", name);
		node_labels(f, (unsigned int)pid);
		fprintf(f, ",le=\"+Inf\"} %llu\n", cum);
		/* Flush rows carry the mode in a: add the modes up. */
		for (int j = 0; j < n; j++)
			if (rows[j].key.tgid == (unsigned int)pid && rows[j].key.metric == sum_metric)
				sum_us += rows[j].val.sum;
		fprintf(f, "%s_sum{", name);
		node_labels(f, (unsigned int)pid);
		fprintf(f, "} %.9g\n%s_count{", (double)sum_us / 1e6, name);
		node_labels(f, (unsigned int)pid);
		fprintf(f, "} %llu\n", cum);
	}
}

/* A per-node counter without labels, 0 until the first event. */
static void node_counter(FILE *f, const struct row *rows, int n, const char *name,
			 unsigned int metric)
{
	for (int i = 0; i < st.n_nodes; i++) {
		const struct exp_val *v = find(rows, n, st.nodes[i].pid, metric, 0, 0);

		fprintf(f, "%s{", name);
		node_labels(f, (unsigned int)st.nodes[i].pid);
		fprintf(f, "} %llu\n", v ? v->count : 0);
	}
}

static void node_metrics(FILE *f, const struct row *rows, int n)
{
	family(f, "moneyrocket_p2p_messages_total", "counter",
	       "P2P messages by direction and message type (net:inbound_message, "
	       "net:outbound_message).");
	samples(f, rows, n, "moneyrocket_p2p_messages_total", EXP_MSG, "direction", directions,
		"msg_type", msg_types, false, 1.0);
	family(f, "moneyrocket_p2p_message_bytes_total", "counter",
	       "P2P message payload bytes, without the 24-byte header, by direction and "
	       "message type.");
	samples(f, rows, n, "moneyrocket_p2p_message_bytes_total", EXP_MSG, "direction",
		directions, "msg_type", msg_types, true, 1.0);
	family(f, "moneyrocket_p2p_connections_total", "counter",
	       "P2P connection events by connection type (conn_type \"other\" for "
	       "misbehaving: that tracepoint has none).");
	samples(f, rows, n, "moneyrocket_p2p_connections_total", EXP_CONN, "event", conn_events,
		"conn_type", conn_types, false, 1.0);
	family(f, "moneyrocket_blocks_connected_total", "counter",
	       "Blocks connected to the active chain (validation:block_connected).");
	node_counter(f, rows, n, "moneyrocket_blocks_connected_total", EXP_BLOCK);
	family(f, "moneyrocket_block_connect_seconds", "histogram",
	       "Time to connect a block, log2 buckets.");
	histogram(f, rows, n, "moneyrocket_block_connect_seconds", EXP_BLOCK_HIST, EXP_BLOCK);
	family(f, "moneyrocket_chain_height", "gauge",
	       "Height of the last block connected (absent until one is).");
	samples(f, rows, n, "moneyrocket_chain_height", EXP_HEIGHT, NULL, NULL, NULL, NULL,
		false, 1.0);
	family(f, "moneyrocket_utxocache_flushes_total", "counter",
	       "Coins cache flushes to the chainstate database, by flush mode.");
	samples(f, rows, n, "moneyrocket_utxocache_flushes_total", EXP_FLUSH, "mode", flush_modes,
		NULL, NULL, false, 1.0);
	family(f, "moneyrocket_utxocache_flush_seconds", "histogram",
	       "Duration of a coins cache flush, log2 buckets.");
	histogram(f, rows, n, "moneyrocket_utxocache_flush_seconds", EXP_FLUSH_HIST, EXP_FLUSH);
	family(f, "moneyrocket_utxocache_coins_total", "counter",
	       "Coins added to, spent from and uncached from the coins cache.");
	samples(f, rows, n, "moneyrocket_utxocache_coins_total", EXP_COINS, "event", coin_events,
		NULL, NULL, false, 1.0);
	family(f, "moneyrocket_mempool_events_total", "counter",
	       "Mempool events; reason for removed and rejected only.");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		if (r->key.metric != EXP_MEMPOOL)
			continue;
		fprintf(f, "moneyrocket_mempool_events_total{");
		node_labels(f, r->key.tgid);
		fprintf(f, ",event=\"%s\"", label(mempool_events, r->key.a));
		if (r->key.a == EXP_MP_REMOVED || r->key.a == EXP_MP_REJECTED)
			fprintf(f, ",reason=\"%s\"", label(r->key.a == EXP_MP_REMOVED ?
							   removed_reasons : rejected_reasons,
							   r->key.b));
		fprintf(f, "} %llu\n", r->val.count);
	}
	family(f, "moneyrocket_coin_selection_total", "counter",
	       "Coin selections found, by algorithm (coin_selection:selected_coins).");
	samples(f, rows, n, "moneyrocket_coin_selection_total", EXP_COINSEL, "algorithm",
		algorithms, NULL, NULL, false, 1.0);
}

static void exporter_metrics(FILE *f, int n_rows)
{
	family(f, "moneyrocket_exporter_lost_events_total", "counter",
	       "Events not counted because the BPF map was full.");
	fprintf(f, "moneyrocket_exporter_lost_events_total %llu\n",
		(unsigned long long)__atomic_load_n(&st.skel->bss->lost, __ATOMIC_RELAXED));
	family(f, "moneyrocket_exporter_nodes", "gauge", "moneyrocketd processes traced.");
	fprintf(f, "moneyrocket_exporter_nodes %d\n", st.n_nodes);
	family(f, "moneyrocket_exporter_map_rows", "gauge",
	       "Rows in the BPF counts map; at its capacity, " EXP_MAX_ROWS_STR
	       ", new rows are lost events.");
	fprintf(f, "moneyrocket_exporter_map_rows %d\n", n_rows);
	family(f, "moneyrocket_exporter_attach_errors_total", "counter",
	       "Binaries whose tracepoints could not be attached.");
	fprintf(f, "moneyrocket_exporter_attach_errors_total %llu\n", st.attach_errors);
	family(f, "moneyrocket_exporter_scrapes_total", "counter", "Scrapes served.");
	fprintf(f, "moneyrocket_exporter_scrapes_total %llu\n", st.scrapes);
	family(f, "moneyrocket_exporter_scrape_errors_total", "counter",
	       "Scrapes that could not read the BPF map.");
	fprintf(f, "moneyrocket_exporter_scrape_errors_total %llu\n", st.scrape_errors);
	family(f, "moneyrocket_exporter_last_scrape_duration_seconds", "gauge",
	       "Time the previous scrape took to read the map and format.");
	fprintf(f, "moneyrocket_exporter_last_scrape_duration_seconds %.9g\n",
		st.last_scrape_seconds);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The whole exposition, malloc'ed into *out; returns its length or -1. */
static long render(char **out)
{
	static struct row rows[EXP_MAX_ROWS];
	size_t len = 0;
	double start = now_seconds();
	FILE *f = open_memstream(out, &len);
	int n;

	if (!f)
		return -1;
	pthread_mutex_lock(&st.lock);
	n = read_rows(rows);
	st.scrapes++;
	if (n < 0) {
		st.scrape_errors++;
		fprintf(stderr, PROG ": reading the BPF map: %s\n", strerror(errno));
		n = 0;
	} else {
		node_metrics(f, rows, n);
	}
	exporter_metrics(f, n);
	st.last_scrape_seconds = now_seconds() - start;
	pthread_mutex_unlock(&st.lock);
	if (fclose(f) != 0)
		return -1;
	return (long)len;
}

/* ---- HTTP ------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* GET /metrics: the exposition; GET /: a pointer to it; else 404/405. */
static enum MHD_Result http_cb(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_data_size, void **req)
{
	static const char index_page[] = "moneyrocket-exporter: metrics at /metrics\n";
	static const char not_found[] = "not found: try /metrics\n";
	static const char not_allowed[] = "method not allowed\n";
	char *body = NULL;
	long len;

	(void)cls; (void)version; (void)upload_data; (void)upload_data_size; (void)req;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (char *)not_allowed,
			     sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", (char *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", (char *)not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	len = render(&body);
	if (len < 0) {
		free(body);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body,
		     (size_t)len, MHD_RESPMEM_MUST_FREE);
}

/* Start serving on env.listen (ADDR:PORT, [IPv6]:PORT); NULL having said why. */
static struct MHD_Daemon *serve(void)
{
	char host[256];
	const char *colon = strrchr(env.listen, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d;
	size_t hlen;
	int err;

	if (!colon || colon == env.listen || !colon[1]) {
		fprintf(stderr, PROG ": --listen wants ADDR:PORT, got '%s'\n", env.listen);
		return NULL;
	}
	hlen = (size_t)(colon - env.listen);
	if (env.listen[0] == '[' && colon[-1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hlen - 2, env.listen + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hlen, env.listen);
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		fprintf(stderr, PROG ": --listen %s: %s\n", env.listen, gai_strerror(err));
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, http_cb, NULL,
			     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
			     MHD_OPTION_CONNECTION_LIMIT, 32u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_END);
	if (!d)
		fprintf(stderr, PROG ": cannot listen on %s: %s\n", env.listen,
			errno ? strerror(errno) : "libmicrohttpd failed");
	freeaddrinfo(ai);
	return d;
}

/* Fill the strings map from the fixed lists (index 0, "other", is the
 * miss, so it is not entered). */
static int fill_strings(void)
{
	static const struct { unsigned int kind; const char *const *list; } kinds[] = {
		{ EXP_STR_MSG_TYPE, msg_types },   { EXP_STR_CONN_TYPE, conn_types },
		{ EXP_STR_REMOVED, removed_reasons }, { EXP_STR_REJECTED, rejected_reasons },
		{ EXP_STR_ALGORITHM, algorithms },
	};
	int fd = bpf_map__fd(st.skel->maps.strings);

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (unsigned short i = 1; kinds[k].list[i]; i++) {
			struct exp_str key = { .kind = kinds[k].kind };

			strncpy(key.s, kinds[k].list[i], sizeof(key.s) - 1);
			if (bpf_map_update_elem(fd, &key, &i, BPF_ANY) != 0)
				return -errno;
		}
	}
	return 0;
}

/* Warn on stderr whenever the lost counter grows: worth knowing, never fatal. */
static void warn_lost(unsigned long long *reported)
{
	unsigned long long lost = __atomic_load_n(&st.skel->bss->lost, __ATOMIC_RELAXED);

	if (lost > *reported) {
		fprintf(stderr, PROG ": warning: %llu events not counted (map full at %d rows), "
			"%llu in total\n", lost - *reported, EXP_MAX_ROWS, lost);
		*reported = lost;
	}
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, "[BINARY]", argp_doc, NULL, NULL,
					  NULL };
	struct MHD_Daemon *http = NULL;
	unsigned long long lost_reported = 0;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (check_privileges() != 0)
		return 1;
	if (env.pid && kill(env.pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, PROG ": no process %d\n", (int)env.pid);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (tool_init(PROG) != 0)
		return 1;

	st.skel = moneyrocket_exporter_bpf__open_and_load();
	if (!st.skel) {
		err = -errno;
		fprintf(stderr, PROG ": loading BPF object: %s\n", strerror(errno));
		goto cleanup;
	}
	err = fill_strings();
	if (err) {
		fprintf(stderr, PROG ": filling the label map: %s\n", strerror(-err));
		goto cleanup;
	}
	if (env.binary[0]) {
		/* A binary path: attached now, so a process that starts later is
		 * counted from its first event. */
		struct node first = { 0 };

		snprintf(first.path, sizeof(first.path), "%s", env.binary);
		target_for(&first);
	}
	sync_nodes();
	http = serve();
	if (!http) {
		err = -1;
		goto cleanup;
	}
	if (env.pid)
		printf("serving http://%s/metrics for moneyrocketd pid %d\n", env.listen,
		       (int)env.pid);
	else if (env.binary[0])
		printf("serving http://%s/metrics for every process running %s\n", env.listen,
		       env.binary);
	else
		printf("serving http://%s/metrics for every moneyrocketd on this host\n",
		       env.listen);
	fflush(stdout);

	while (!tool_exiting) {
		for (int i = 0; i < RESCAN_MS / 100 && !tool_exiting; i++)
			usleep(100 * 1000);
		if (tool_exiting)
			break;
		sync_nodes();
		warn_lost(&lost_reported);
	}
	err = 0;

cleanup:
	if (http)
		MHD_stop_daemon(http);
	for (int i = 0; i < st.n_targets; i++)
		detach(&st.targets[i]);
	moneyrocket_exporter_bpf__destroy(st.skel);
	return err != 0;
}
