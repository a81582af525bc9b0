// SPDX-License-Identifier: MIT
/*
 * usdt_args — print every argument of the header test program's probes, as
 * read in the kernel by a CO-RE BPF program (BPF_USDT, ring buffer).
 *
 * Output, stdout, one line each:
 *   attached                  once every probe is attached
 *   PROBE ARGUMENTS           the header row
 *   <probe> a1=<v> a2=<v> ... one per probe hit, in firing order
 * Each argument is decoded by its documented type (test/header/tracepoints.md):
 * signed integers as signed decimal, unsigned integers and bool as unsigned
 * decimal — both from the full 64-bit value BPF_USDT returned, so a wrong
 * sign- or zero-extension shows — char* quoted with C escapes, u8* as the
 * 32 bytes it points at in hex, and <fault> when a pointer could not be read:
 *   args7 a1=-1234567890123 a2="hello, tracer" a3=4000000000 a4=000102...1f a5=1 a6=-42 a7=18446744073709551615
 * Errors and lost-event warnings go to stderr.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "usdt_args.h"
#include "usdt_args.skel.h"
#include "tool.h"

static struct env {
	pid_t pid;
	const char *binary;
} env;

const char *argp_program_version = "usdt_args 0.2";
static const char argp_doc[] =
	"Print every argument of the header test program's USDT probes\n"
	"(test:args0..12, test:vargs0..12, test:guarded), read with BPF_USDT.\n"
	"\n"
	"USAGE: usdt_args -p PID -b BINARY [-v]\n"
	"\n"
	"EXAMPLES:\n"
	"    usdt_args -p 1234 -b build/test/header/probes-gcc-c\n"
	"        # trace process 1234 running probes-gcc-c\n"
	"    usdt_args -v -p $(pgrep -n probes-gcc-c) -b build/test/header/probes-gcc-c\n"
	"        # the same, with libbpf's debug log on stderr\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Process to trace (required)", 0 },
	{ "binary", 'b', "BINARY", 0, "Path of its executable (required)", 0 },
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
	case 'b':
		env.binary = arg;
		break;
	case 'v':
		tool_verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_END:
		if (!env.pid || !env.binary)
			argp_error(state, "-p PID and -b BINARY are required");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Documented types of arguments 1..12 (test/header/tracepoints.md). */
enum arg_kind { ARG_SIGNED, ARG_UNSIGNED, ARG_STR, ARG_BYTES };

static const enum arg_kind arg_kinds[USDT_ARGS_MAX] = {
	ARG_SIGNED,   /* 1 int64 */
	ARG_STR,      /* 2 char* */
	ARG_UNSIGNED, /* 3 uint32 */
	ARG_BYTES,    /* 4 u8* to 32 bytes */
	ARG_UNSIGNED, /* 5 bool */
	ARG_SIGNED,   /* 6 int32 */
	ARG_UNSIGNED, /* 7 uint64 */
	ARG_SIGNED,   /* 8 int16 */
	ARG_UNSIGNED, /* 9 uint16 */
	ARG_SIGNED,   /* 10 int8 */
	ARG_UNSIGNED, /* 11 uint8 */
	ARG_STR,      /* 12 char* */
};

/* Name of probe `id`: args0..12, vargs0..12, guarded. */
static void probe_name(unsigned int id, char *buf, size_t len)
{
	if (id == USDT_PROBE_GUARDED)
		snprintf(buf, len, "guarded");
	else if (id >= USDT_PROBE_VARGS0)
		snprintf(buf, len, "vargs%u", id - USDT_PROBE_VARGS0);
	else
		snprintf(buf, len, "args%u", id);
}

/* Print a string read in the kernel, quoted, with C escapes so one event
 * stays one line whatever the traced program passed. */
static void print_str(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Print argument k (1-based) by its documented type. */
static void print_arg(const struct usdt_event *e, unsigned int k)
{
	unsigned long long v = e->args[k - 1];

	printf(" a%u=", k);
	if (e->faults & (1u << (k - 1))) {
		printf("<fault>");
		return;
	}
	switch (arg_kinds[k - 1]) {
	case ARG_SIGNED:
		printf("%lld", (long long)v);
		break;
	case ARG_UNSIGNED:
		printf("%llu", v);
		break;
	case ARG_STR:
		if (k == 2)
			print_str(e->str2, sizeof(e->str2));
		else
			print_str(e->str12, sizeof(e->str12));
		break;
	case ARG_BYTES:
		for (int i = 0; i < USDT_BYTES_LEN; i++)
			printf("%02x", e->bytes[i]);
		break;
	}
}

/* Ring buffer callback: one output line per probe hit. */
static int handle_event_cb(void *ctx, void *data, size_t size)
{
	const struct usdt_event *e = data;
	char name[16];

	(void)ctx;
	if (size < sizeof(*e) || e->probe >= USDT_PROBE_COUNT) {
		fprintf(stderr, "usdt_args: malformed event (size %zu)\n", size);
		return 0;
	}
	probe_name(e->probe, name, sizeof(name));
	fputs(name, stdout);
	/* test:guarded's two arguments (int64, char*) have the same types
	 * as arguments 1 and 2 of the argsN probes. */
	for (unsigned int k = 1; k <= e->nargs && k <= USDT_ARGS_MAX; k++)
		print_arg(e, k);
	putchar('\n');
	return 0;
}

/*
 * Attach the arity-N program to test:argsN and test:vargsN, and the guarded
 * program to test:guarded; the cookie tells the BPF side which probe fired.
 * Fills links[0..USDT_PROBE_COUNT-1]; returns 0 or a negative errno, having
 * logged which probe failed.
 */
static int attach_all(struct usdt_args_bpf *skel, struct bpf_link **links)
{
	LIBBPF_OPTS(bpf_usdt_opts, uopts);
	char prog_name[16], probe[16];

	for (unsigned int id = 0; id < USDT_PROBE_COUNT; id++) {
		unsigned int arity = id >= USDT_PROBE_VARGS0 ? id - USDT_PROBE_VARGS0 : id;
		struct bpf_program *prog;

		if (id == USDT_PROBE_GUARDED)
			snprintf(prog_name, sizeof(prog_name), "guarded");
		else
			snprintf(prog_name, sizeof(prog_name), "args%u", arity);
		probe_name(id, probe, sizeof(probe));
		prog = bpf_object__find_program_by_name(skel->obj, prog_name);
		if (!prog) {
			fprintf(stderr, "usdt_args: attaching test:%s: no BPF program %s\n",
				probe, prog_name);
			return -ENOENT;
		}
		uopts.usdt_cookie = id;
		links[id] = bpf_program__attach_usdt(prog, env.pid, env.binary, "test",
						     probe, &uopts);
		if (!links[id]) {
			int err = -errno;

			fprintf(stderr, "usdt_args: attaching test:%s in %s: %s\n", probe,
				env.binary, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Warn once per increase of the BPF side's drop counter: lost events are
 * worth knowing about, never fatal. */
static void warn_lost(const struct usdt_args_bpf *skel, unsigned long long *reported)
{
	unsigned long long lost = __atomic_load_n(&skel->bss->lost_events, __ATOMIC_RELAXED);

	if (lost > *reported) {
		fprintf(stderr, "usdt_args: warning: lost %llu events (ring buffer full), "
			"%llu in total\n", lost - *reported, lost);
		*reported = lost;
	}
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, argp_doc, NULL, NULL, NULL };
	struct bpf_link *links[USDT_PROBE_COUNT] = { NULL };
	struct ring_buffer *rb = NULL;
	struct usdt_args_bpf *skel;
	unsigned long long lost_reported = 0;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (tool_init("usdt_args") != 0)
		return 1;
	/* Events are consumed by tests as they arrive: flush every line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	skel = usdt_args_bpf__open();
	if (!skel) {
		fprintf(stderr, "usdt_args: opening BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_pid = env.pid;

	err = usdt_args_bpf__load(skel);
	if (err) {
		fprintf(stderr, "usdt_args: loading BPF object: %s\n", strerror(-err));
		goto cleanup;
	}
	err = attach_all(skel, links);
	if (err)
		goto cleanup;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event_cb, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "usdt_args: creating ring buffer: %s\n", strerror(-err));
		goto cleanup;
	}

	printf("attached\n");
	printf("PROBE ARGUMENTS\n");
	while (!tool_exiting) {
		err = ring_buffer__poll(rb, 100 /* ms */);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "usdt_args: polling ring buffer: %s\n", strerror(-err));
			goto cleanup;
		}
		warn_lost(skel, &lost_reported);
		err = 0;
	}
	/* Whatever arrived between the last poll and the signal. */
	err = ring_buffer__consume(rb);
	if (err < 0)
		fprintf(stderr, "usdt_args: draining ring buffer: %s\n", strerror(-err));
	else
		err = 0;
	warn_lost(skel, &lost_reported);

cleanup:
	ring_buffer__free(rb);
	for (int i = USDT_PROBE_COUNT - 1; i >= 0; i--)
		bpf_link__destroy(links[i]);
	usdt_args_bpf__destroy(skel);
	return err != 0;
}
