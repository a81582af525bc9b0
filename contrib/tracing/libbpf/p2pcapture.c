// SPDX-License-Identifier: MIT
/*
 * p2pcapture — moneyrocketd's P2P messages, whole payloads up to the
 * protocol's 4,000,000 bytes, written in the node's own message-log format
 * (doc/message-logging.md), so contrib/message-logging/
 * message-logging-parser.py reads the result. libbpf, CO-RE, BPF_USDT; the
 * kernel reads each payload straight into the reserved ring space and this
 * compiled reader writes it out.
 *
 * Output: DIR/<peer address, ':' as '_'>/msgs_recv.dat and msgs_sent.dat.
 * stdout: a start line and, at the end, the summary
 *   captured N messages (B payload bytes) from P peers; lost L messages (LB bytes)
 *   [; T truncated to --max-bytes] [; U unreadable]
 * stderr: one line each time messages were lost, as the reader meets the
 * gap ("lost N messages before a <type> message ..."), and errors.
 * With --json, stdout is NDJSON instead: {"event": "p2pcapture:lost",
 * "messages", "lost_total", "before_msg_type"} at each gap, then
 * {"event": "p2pcapture:summary", "messages", "bytes", "peers", "lost",
 * "lost_bytes", "truncated", "unreadable"}; the start line goes to stderr.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "p2pcapture.h"
#include "p2pcapture.skel.h"
#include "tool.h"

#define PROG "p2pcapture"
#define MAX_OPEN_FILES 256      /* more peers: files are closed and reopened */
#define RECORD_TYPE_LEN 12      /* the message log's msgtype field */

static struct env {
	pid_t pid;              /* -1: every process running binary */
	char binary[PATH_MAX];
	const char *dir;
	unsigned int ring_mib;
	unsigned int max_bytes;
	unsigned int duration;  /* seconds; 0: until Ctrl-C */
	bool json;
} env = { .pid = -1, .dir = "p2pcapture", .ring_mib = 64, .max_bytes = CAP_MAX_PAYLOAD };

struct out_file {
	char addr[CAP_ADDR_LEN];
	unsigned int dir;
	FILE *f;
};

static struct capture {
	struct out_file files[MAX_OPEN_FILES];
	int n_files;
	long long clock_offset_ns;      /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	unsigned long long msgs, bytes, lost_seen, truncated, unreadable;
	unsigned long long peers;       /* distinct peer directories made */
	int error;                      /* first write error, negative errno */
} cap;

const char *argp_program_version = PROG " 0.1";
static const char argp_doc[] =
	"Capture moneyrocketd's P2P messages with their whole payloads into files in\n"
	"the node's message-log format (doc/message-logging.md), from the\n"
	"net:inbound_message and net:outbound_message tracepoints.\n"
	"\n"
	"USAGE: " PROG " [-o DIR] [-b MiB] [-m BYTES] [-d SECONDS] [--json] [-v] TARGET\n"
	"\n"
	"TARGET is the PID of a running moneyrocketd, or the path of the binary to\n"
	"capture every process that runs it. Needs root and Linux 6.16 or later.\n"
	"\n"
	"EXAMPLES:\n"
	"    " PROG " $(pidof moneyrocketd)             # into ./p2pcapture, until Ctrl-C\n"
	"    " PROG " -o /tmp/cap -d 60 src/moneyrocketd # one minute\n"
	"    message-logging-parser.py /tmp/cap -o msgs.json\n";

static const struct argp_option opts[] = {
	{ "output", 'o', "DIR", 0, "Write the message log under DIR (default ./p2pcapture)", 0 },
	{ "buffer", 'b', "MiB", 0, "Ring buffer size, a power of two (default 64)", 0 },
	{ "max-bytes", 'm', "BYTES", 0, "Keep at most BYTES of each payload (default 4000000)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ "json", 'j', NULL, 0, "Print the losses and the summary as NDJSON", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{ 0 },
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'o':
		env.dir = arg;
		break;
	case 'b':
		env.ring_mib = (unsigned int)tool_parse_number(state, "buffer size", arg, 4096);
		if (env.ring_mib & (env.ring_mib - 1))
			argp_error(state, "invalid buffer size: %s (a power of two)", arg);
		break;
	case 'm':
		env.max_bytes = (unsigned int)tool_parse_number(state, "max bytes", arg, CAP_MAX_PAYLOAD);
		break;
	case 'd':
		env.duration = (unsigned int)tool_parse_number(state, "duration", arg, 86400 * 365);
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
		/* A record (header + payload) must fit in half the ring. */
		if ((unsigned long long)env.ring_mib << 19 <
		    env.max_bytes + sizeof(struct cap_header))
			argp_error(state, "a %u MiB buffer cannot hold a %u-byte message: use -b %u "
				   "or more, or a smaller -m", env.ring_mib, env.max_bytes,
				   env.max_bytes > 4000000 / 2 ? 16 : 8);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* mkdir -p for DIR and DIR/sub; 0 or -errno. */
static int make_dir(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The peer's directory name, as the node names it: the address with
 * every ':' as '_' (anything else that cannot be in a name, '/', too). */
static void peer_dir_name(const char *addr, char *out, size_t len)
{
	size_t i;

	for (i = 0; addr[i] && i + 1 < len; i++)
		out[i] = (addr[i] == ':' || addr[i] == '/') ? '_' : addr[i];
	out[i] = '\0';
	if (!i || !strcmp(out, ".") || !strcmp(out, ".."))
		snprintf(out, len, "unknown");
}

static void close_files(void)
{
	for (int i = 0; i < cap.n_files; i++)
		if (fclose(cap.files[i].f) != 0 && !cap.error)
			cap.error = -errno;
	cap.n_files = 0;
}

/* The open file for (addr, dir), opened for appending on first use. */
static FILE *file_for(const char *addr, unsigned int dir)
{
	char name[CAP_ADDR_LEN + 1], path[PATH_MAX];
	struct stat sb;
	FILE *f;

	for (int i = 0; i < cap.n_files; i++)
		if (cap.files[i].dir == dir && !strcmp(cap.files[i].addr, addr))
			return cap.files[i].f;
	if (cap.n_files == MAX_OPEN_FILES)
		close_files();
	peer_dir_name(addr, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", env.dir, name);
	if (stat(path, &sb) != 0) {
		if (make_dir(path) != 0)
			return NULL;
		cap.peers++;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", env.dir, name,
		 dir == CAP_RECV ? "msgs_recv.dat" : "msgs_sent.dat");
	f = fopen(path, "ab");
	if (!f)
		return NULL;
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	snprintf(cap.files[cap.n_files].addr, CAP_ADDR_LEN, "%s", addr);
	cap.files[cap.n_files].dir = dir;
	cap.files[cap.n_files++].f = f;
	return f;
}

/* Messages lost since the last report: say so on stderr, where the reader
 * meets the gap. */
static void report_lost(unsigned long long lost_now, const char *before)
{
	if (lost_now <= cap.lost_seen)
		return;
	if (env.json) {
		char type[CAP_MSG_TYPE_LEN] = "";

		/* Message types are plain ASCII words: nothing to escape. */
		sscanf(before, "before a %19[a-z0-9] message", type);
		printf("{\"event\": \"p2pcapture:lost\", \"messages\": %llu, \"lost_total\": %llu, "
		       "\"before_msg_type\": \"%s\"}\n", lost_now - cap.lost_seen, lost_now, type);
		fflush(stdout);
		cap.lost_seen = lost_now;
		return;
	}
	fprintf(stderr, PROG ": lost %llu messages %s(ring buffer full; %llu lost in all; "
		"enlarge it with -b)\n", lost_now - cap.lost_seen, before, lost_now);
	cap.lost_seen = lost_now;
}

/* One record of the message log: time (µs since the epoch), the type in
 * 12 NUL-padded bytes, the payload length, the payload. */
static int handle_record(void *ctx, void *data, size_t len)
{
	const struct cap_header *h = data;
	unsigned char rec[8 + RECORD_TYPE_LEN + 4] = { 0 };
	unsigned long long us;
	char before[64];
	FILE *f;

	(void)ctx;
	if (len < sizeof(*h) || len < sizeof(*h) + h->captured)
		return 0;
	snprintf(before, sizeof(before), "before a %.20s message ", h->msg_type);
	report_lost(h->lost, before);
	us = (unsigned long long)(((long long)h->time_ns + cap.clock_offset_ns) / 1000);
	memcpy(rec, &us, 8);
	memcpy(rec + 8, h->msg_type, strnlen(h->msg_type, RECORD_TYPE_LEN));
	memcpy(rec + 8 + RECORD_TYPE_LEN, &h->captured, 4);
	f = file_for(h->addr, h->dir);
	if (!f || fwrite(rec, sizeof(rec), 1, f) != 1 ||
	    (h->captured && fwrite(h + 1, h->captured, 1, f) != 1)) {
		if (!cap.error)
			cap.error = -errno;
		return -1; /* stops the poll: the capture is no longer whole */
	}
	cap.msgs++;
	cap.bytes += h->captured;
	cap.truncated += (h->flags & CAP_TRUNCATED) != 0;
	cap.unreadable += (h->flags & CAP_READ_FAILED) != 0;
	return 0;
}

static long long clock_offset_ns(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return ((long long)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
}

static int attach(struct p2pcapture_bpf *skel)
{
	skel->links.inbound_message = tool_attach_usdt(PROG, skel->progs.inbound_message,
						       env.pid, env.binary, "net",
						       "inbound_message");
	if (!skel->links.inbound_message)
		return -errno;
	skel->links.outbound_message = tool_attach_usdt(PROG, skel->progs.outbound_message,
							env.pid, env.binary, "net",
							"outbound_message");
	return skel->links.outbound_message ? 0 : -errno;
}

static void print_summary(const struct p2pcapture_bpf *skel)
{
	unsigned long long lost = skel->bss->lost, lost_bytes = skel->bss->lost_bytes;

	report_lost(lost, "at the end ");
	if (env.json) {
		printf("{\"event\": \"p2pcapture:summary\", \"messages\": %llu, \"bytes\": %llu, "
		       "\"peers\": %llu, \"lost\": %llu, \"lost_bytes\": %llu, \"truncated\": %llu, "
		       "\"unreadable\": %llu}\n", cap.msgs, cap.bytes, cap.peers, lost, lost_bytes,
		       cap.truncated, cap.unreadable);
		return;
	}
	printf("captured %llu messages (%llu payload bytes) from %llu peers; lost %llu messages "
	       "(%llu bytes)", cap.msgs, cap.bytes, cap.peers, lost, lost_bytes);
	if (cap.truncated)
		printf("; %llu truncated to %u bytes", cap.truncated, env.max_bytes);
	if (cap.unreadable)
		printf("; %llu unreadable", cap.unreadable);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, "TARGET", argp_doc, NULL, NULL, NULL };
	struct p2pcapture_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	time_t end;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (geteuid() != 0) {
		fprintf(stderr, PROG ": must be run as root (loading BPF programs needs "
			"CAP_BPF and CAP_PERFMON)\n");
		return 1;
	}
	if (env.pid > 0 && tool_pid_binary(PROG, env.pid, env.binary, sizeof(env.binary)) != 0)
		return 1;
	err = make_dir(env.dir);
	if (err) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", env.dir, strerror(-err));
		return 1;
	}
	if (tool_init(PROG) != 0)
		return 1;

	skel = p2pcapture_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, PROG ": opening BPF skeleton: %s\n", strerror(errno));
		goto cleanup;
	}
	skel->rodata->max_bytes = env.max_bytes;
	bpf_map__set_max_entries(skel->maps.ring, env.ring_mib << 20);
	err = p2pcapture_bpf__load(skel);
	if (err) {
		fprintf(stderr, PROG ": loading BPF object: %s (reading payloads straight into "
			"the ring needs Linux 6.16 or later: bpf_probe_read_user_dynptr)\n",
			strerror(-err));
		goto cleanup;
	}
	err = attach(skel);
	if (err)
		goto cleanup;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), handle_record, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, PROG ": creating ring buffer reader: %s\n", strerror(errno));
		goto cleanup;
	}
	cap.clock_offset_ns = clock_offset_ns();
	{
		FILE *out = env.json ? stderr : stdout; /* --json: stdout holds JSON only */

		if (env.pid > 0)
			fprintf(out, "Capturing P2P messages of pid %d (%s) into %s", (int)env.pid,
				env.binary, env.dir);
		else
			fprintf(out, "Capturing P2P messages of every process running %s into %s",
				env.binary, env.dir);
		fprintf(out, "... Hit Ctrl-C to end.\n");
		fflush(out);
	}

	end = env.duration ? time(NULL) + env.duration : 0;
	while (!tool_exiting && (!end || time(NULL) < end)) {
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0)
			break;
		err = 0;
		if (env.pid > 0 && kill(env.pid, 0) != 0 && errno == ESRCH) {
			fprintf(stderr, PROG ": process %d has exited\n", (int)env.pid);
			break;
		}
	}
	/* Detach, then take what is still in the ring. */
	bpf_link__destroy(skel->links.inbound_message);
	bpf_link__destroy(skel->links.outbound_message);
	skel->links.inbound_message = skel->links.outbound_message = NULL;
	if (err >= 0)
		ring_buffer__consume(rb);
	close_files();
	if (cap.error) {
		fprintf(stderr, PROG ": writing under %s: %s\n", env.dir, strerror(-cap.error));
		err = cap.error;
	} else if (err < 0) {
		fprintf(stderr, PROG ": reading the ring buffer: %s\n", strerror(-err));
	}
	print_summary(skel);

cleanup:
	ring_buffer__free(rb);
	p2pcapture_bpf__destroy(skel);
	return err != 0;
}
