// SPDX-License-Identifier: MIT
/*
 * p2pstat — moneyrocketd's P2P messages per peer and message type, counted
 * in the kernel from net:inbound_message and net:outbound_message (libbpf,
 * CO-RE, BPF_USDT). Prints a table on Ctrl-C, or every SECONDS with -i.
 *
 * Output, stdout:
 *   Tracing P2P messages of ... Hit Ctrl-C to end.
 *   (per report) a blank line, the time HH:MM:SS, the header row, then
 *   PEER CONN TYPE ADDRESS DIR MSG TYPE MSGS BYTES   one row each, by peer,
 *                                                    direction, type
 *   total: N messages, M bytes
 * With --json, stdout is NDJSON instead: one object per row,
 *   {"event": "p2pstat:row", "time": "HH:MM:SS", "peer_id", "conn_type",
 *    "peer_addr", "direction", "msg_type", "msgs", "bytes"}
 * (doc/tracing.md, "JSON field names"), and the start line goes to stderr.
 * BYTES is payload bytes, the tracepoints' msg size. For the messages that
 * passed while p2pstat ran, MSGS equals getpeerinfo's msgs*_per_msg and
 * BYTES its bytes*_per_msg less 24 header bytes a message. Errors and
 * warnings go to stderr.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "p2pstat.h"
#include "p2pstat.skel.h"
#include "tool.h"

static struct env {
	pid_t pid;          /* -1: every process running binary */
	char binary[4096];
	const char *msg_type;
	unsigned int interval; /* seconds; 0: one report, at the end */
	unsigned int count;    /* reports before tool_exiting; 0: until Ctrl-C */
	bool json;
} env = { .pid = -1 };


const char *argp_program_version = "p2pstat 0.1";
static const char argp_doc[] =
	"Count moneyrocketd's P2P messages per peer, direction and message type,\n"
	"in the kernel, from the net:inbound_message and net:outbound_message\n"
	"tracepoints.\n"
	"\n"
	"USAGE: p2pstat [-m MSGTYPE] [-i SECONDS [-c COUNT]] [--json] [-v] TARGET\n"
	"\n"
	"TARGET is the PID of a running moneyrocketd, or the path of the\n"
	"moneyrocketd binary to trace every process that runs it. Needs root.\n"
	"\n"
	"EXAMPLES:\n"
	"    p2pstat $(pidof moneyrocketd)   # one table when Ctrl-C is hit\n"
	"    p2pstat -i 5 src/moneyrocketd   # a table every 5 s, counts since the last\n"
	"    p2pstat -m ping -i 1 -c 10 1234 # pings of pid 1234, each second, 10 times\n";

static const struct argp_option opts[] = {
	{ "msgtype", 'm', "MSGTYPE", 0, "Count only this message type (e.g. inv)", 0 },
	{ "interval", 'i', "SECONDS", 0, "Print and reset the counts every SECONDS", 0 },
	{ "count", 'c', "COUNT", 0, "Exit after COUNT reports (with -i)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ "json", 'j', NULL, 0, "Print NDJSON, one object per row", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'm':
		if (!arg[0] || strlen(arg) >= P2P_MSG_TYPE_LEN)
			argp_error(state, "invalid message type: '%s'", arg);
		env.msg_type = arg;
		break;
	case 'i':
		env.interval = (unsigned int)tool_parse_number(state, "interval", arg, 86400);
		break;
	case 'c':
		env.count = (unsigned int)tool_parse_number(state, "count", arg, UINT32_MAX);
		break;
	case 'v':
		tool_verbose = true;
		break;
	case 'j':
		env.json = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			argp_error(state, "one TARGET only");
		tool_parse_target(state, arg, &env.pid, env.binary, sizeof(env.binary));
		break;
	case ARGP_KEY_END:
		if (env.pid < 0 && !env.binary[0])
			argp_error(state, "TARGET (a PID or the moneyrocketd binary) is required");
		if (env.count && !env.interval)
			argp_error(state, "-c needs -i");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct row {
	struct p2p_key key;
	struct p2p_stat stat;
};

static int row_cmp(const void *a, const void *b)
{
	const struct p2p_key *x = &((const struct row *)a)->key;
	const struct p2p_key *y = &((const struct row *)b)->key;

	if (x->peer_id != y->peer_id)
		return x->peer_id < y->peer_id ? -1 : 1;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return strncmp(x->msg_type, y->msg_type, sizeof(x->msg_type));
}

/*
 * Copy the map's rows into rows[] (room for P2P_MAX_ROWS); with `reset`,
 * each row is taken out of the map as it is read, so a message counted
 * after its row was read starts a new row for the next report. Keys are
 * gathered first because deleting while walking restarts the walk.
 * Returns the number of rows or a negative errno.
 */
static int read_rows(int fd, bool reset, struct row *rows)
{
	struct p2p_key *prev = NULL, key;
	int n = 0, kept = 0;

	while (n < P2P_MAX_ROWS && bpf_map_get_next_key(fd, prev, &key) == 0) {
		rows[n].key = key;
		prev = &rows[n].key;
		n++;
	}
	for (int i = 0; i < n; i++) {
		int err = reset ? bpf_map_lookup_and_delete_elem(fd, &rows[i].key, &rows[i].stat)
				: bpf_map_lookup_elem(fd, &rows[i].key, &rows[i].stat);

		if (err == 0)
			rows[kept++] = rows[i];
		else if (errno != ENOENT)
			return -errno;
	}
	return kept;
}

/* s as a JSON string body: quotes, backslashes and control bytes escaped. */
static void json_str(const char *s, int max)
{
	for (int i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
}

/* --json: one object per row. */
static void print_report_json(const struct row *rows, int n, const char *stamp)
{
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("{\"event\": \"p2pstat:row\", \"time\": \"%s\", \"peer_id\": %lld, "
		       "\"conn_type\": \"", stamp, r->key.peer_id);
		json_str(r->stat.conn_type, P2P_CONN_TYPE_LEN);
		printf("\", \"peer_addr\": \"");
		json_str(r->stat.addr, P2P_ADDR_LEN);
		printf("\", \"direction\": \"%s\", \"msg_type\": \"",
		       r->key.dir == P2P_IN ? "in" : "out");
		json_str(r->key.msg_type, P2P_MSG_TYPE_LEN);
		printf("\", \"msgs\": %llu, \"bytes\": %llu}\n", r->stat.msgs, r->stat.bytes);
	}
	fflush(stdout);
}

static void print_report(const struct row *rows, int n)
{
	unsigned long long msgs = 0, bytes = 0;
	char stamp[16];
	time_t now = time(NULL);

	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&now));
	if (env.json) {
		print_report_json(rows, n, stamp);
		return;
	}
	printf("\n%s\n", stamp);
	printf("%6s %-20s %-28s %-3s %-12s %10s %12s\n", "PEER", "CONN TYPE", "ADDRESS",
	       "DIR", "MSG TYPE", "MSGS", "BYTES");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		printf("%6lld %-20.*s %-28.*s %-3s %-12.*s %10llu %12llu\n", r->key.peer_id,
		       P2P_CONN_TYPE_LEN, r->stat.conn_type, P2P_ADDR_LEN, r->stat.addr,
		       r->key.dir == P2P_IN ? "in" : "out", P2P_MSG_TYPE_LEN, r->key.msg_type,
		       r->stat.msgs, r->stat.bytes);
		msgs += r->stat.msgs;
		bytes += r->stat.bytes;
	}
	printf("total: %llu messages, %llu bytes\n", msgs, bytes);
	fflush(stdout);
}

/* One report: read (and with -i reset) the counts, print them sorted. */
static int report(const struct p2pstat_bpf *skel, struct row *rows)
{
	int n = read_rows(bpf_map__fd(skel->maps.stats), env.interval > 0, rows);

	if (n < 0) {
		fprintf(stderr, "p2pstat: reading the counts: %s\n", strerror(-n));
		return n;
	}
	qsort(rows, (size_t)n, sizeof(rows[0]), row_cmp);
	print_report(rows, n);
	return 0;
}

/* Warn once per increase of the BPF side's drop counter: worth knowing,
 * never fatal. */
static void warn_dropped(const struct p2pstat_bpf *skel, unsigned long long *reported)
{
	unsigned long long dropped = __atomic_load_n(&skel->bss->dropped, __ATOMIC_RELAXED);

	if (dropped > *reported) {
		fprintf(stderr, "p2pstat: warning: %llu messages not counted (map full at "
			"%d rows), %llu in total; use -i to reset the counts\n",
			dropped - *reported, P2P_MAX_ROWS, dropped);
		*reported = dropped;
	}
}

/* Sleep up to `seconds`, waking early on a signal or when the traced
 * process has gone. */
static void wait_interval(unsigned int seconds)
{
	for (unsigned int i = 0; i < seconds * 10 && !tool_exiting; i++) {
		if (env.pid > 0 && kill(env.pid, 0) != 0 && errno == ESRCH) {
			fprintf(stderr, "p2pstat: process %d has exited\n", (int)env.pid);
			tool_exiting = 1;
			break;
		}
		usleep(100 * 1000);
	}
}

static int attach(struct p2pstat_bpf *skel)
{
	skel->links.inbound_message = tool_attach_usdt("p2pstat", skel->progs.inbound_message,
						       env.pid, env.binary, "net",
						       "inbound_message");
	if (!skel->links.inbound_message)
		return -errno;
	skel->links.outbound_message = tool_attach_usdt("p2pstat", skel->progs.outbound_message,
							env.pid, env.binary, "net",
							"outbound_message");
	return skel->links.outbound_message ? 0 : -errno;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, "TARGET", argp_doc, NULL, NULL, NULL };
	struct p2pstat_bpf *skel = NULL;
	struct row *rows = NULL;
	unsigned long long dropped_reported = 0;
	unsigned int reports = 0;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (geteuid() != 0) {
		fprintf(stderr, "p2pstat: must be run as root (loading BPF programs needs "
			"CAP_BPF and CAP_PERFMON)\n");
		return 1;
	}
	if (env.pid > 0 && tool_pid_binary("p2pstat", env.pid, env.binary, sizeof(env.binary)) != 0)
		return 1;
	if (tool_init("p2pstat") != 0)
		return 1;

	rows = calloc(P2P_MAX_ROWS, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "p2pstat: out of memory\n");
		return 1;
	}
	skel = p2pstat_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "p2pstat: opening BPF skeleton: %s\n", strerror(errno));
		goto cleanup;
	}
	if (env.msg_type) {
		skel->rodata->filter_msg_type = true;
		strncpy((char *)skel->rodata->msg_type_filter, env.msg_type,
			P2P_MSG_TYPE_LEN - 1);
	}
	err = p2pstat_bpf__load(skel);
	if (err) {
		fprintf(stderr, "p2pstat: loading BPF object: %s\n", strerror(-err));
		goto cleanup;
	}
	err = attach(skel);
	if (err)
		goto cleanup;

	{
		/* With --json, stdout holds JSON only. */
		FILE *out = env.json ? stderr : stdout;

		if (env.pid > 0)
			fprintf(out, "Tracing P2P messages of pid %d (%s)", (int)env.pid, env.binary);
		else
			fprintf(out, "Tracing P2P messages of every process running %s", env.binary);
		fprintf(out, "%s%s... Hit Ctrl-C to end.\n", env.msg_type ? ", type " : "",
			env.msg_type ? env.msg_type : "");
		fflush(out);
	}

	while (!tool_exiting) {
		wait_interval(env.interval ? env.interval : UINT32_MAX / 10);
		if (tool_exiting)
			break;
		warn_dropped(skel, &dropped_reported);
		err = report(skel, rows);
		if (err || (env.count && ++reports >= env.count))
			goto cleanup;
	}
	warn_dropped(skel, &dropped_reported);
	/* Ctrl-C, or the process ended: the counts since the last report. */
	err = report(skel, rows);

cleanup:
	p2pstat_bpf__destroy(skel);
	free(rows);
	return err != 0;
}
