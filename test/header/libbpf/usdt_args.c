// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * usdt_args — print every argument of the header test program's probes, as
 * read in the kernel by a CO-RE BPF program (BPF_USDT, ring buffer).
 *
 * One line per probe hit, each argument decoded by its documented type
 * (test/header/tracepoints.md), e.g.
 *   args3 a1=-1234567890123 a2="hello, tracer" a3=4000000000
 * Prints "attached" once every probe is attached.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "usdt_args.h"
#include "usdt_args.skel.h"

static struct env {
	pid_t pid;
	const char *binary;
	bool verbose;
} env;

static volatile sig_atomic_t exiting;

const char *argp_program_version = "usdt_args 0.1";
static const char argp_doc[] =
	"Print every argument of the header test program's USDT probes.\n"
	"\n"
	"USAGE: usdt_args -p PID -b BINARY [-v]\n"
	"\n"
	"EXAMPLES:\n"
	"    usdt_args -p 1234 -b build/test/header/probes-gcc-c\n"
	"    usdt_args -v -p $(pgrep -n probes-gcc-c) -b build/test/header/probes-gcc-c\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Process to trace (required)", 0 },
	{ "binary", 'b', "BINARY", 0, "Path of its executable (required)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case 'p':
		errno = 0;
		env.pid = (pid_t)strtol(arg, &end, 10);
		if (errno || *end || env.pid <= 0)
			argp_error(state, "invalid PID: %s", arg);
		break;
	case 'b':
		env.binary = arg;
		break;
	case 'v':
		env.verbose = true;
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

static int libbpf_print_fn(enum libbpf_print_level level, const char *format,
			   va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

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

/* Print argument k (1-based) of a test:argsN probe by its documented type. */
static void print_arg(const struct usdt_event *e, int k)
{
	long long v = e->args[k - 1];

	printf(" a%d=", k);
	switch (k) {
	case 2: printf("\"%s\"", e->str2); break;
	case 12: printf("\"%s\"", e->str12); break;
	case 4:
		for (int i = 0; i < USDT_BYTES_LEN; i++)
			printf("%02x", e->bytes[i]);
		break;
	case 3: printf("%" PRIu32, (uint32_t)v); break;
	case 5: printf("%u", (unsigned)(uint8_t)v); break;
	case 6: printf("%" PRId32, (int32_t)v); break;
	case 7: printf("%" PRIu64, (uint64_t)v); break;
	case 8: printf("%d", (int16_t)v); break;
	case 9: printf("%u", (uint16_t)v); break;
	case 10: printf("%d", (int8_t)v); break;
	case 11: printf("%u", (uint8_t)v); break;
	default: printf("%lld", v); break; /* 1: int64 */
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct usdt_event *e = data;
	char name[16];

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	probe_name(e->probe, name, sizeof(name));
	printf("%s", name);
	if (e->probe == USDT_PROBE_GUARDED)
		printf(" a1=%lld a2=\"%s\"", e->args[0], e->str2);
	else
		for (unsigned int k = 1; k <= e->nargs && k <= USDT_ARGS_MAX; k++)
			print_arg(e, (int)k);
	printf("\n");
	fflush(stdout);
	return 0;
}

/* Attach the arity-N program to test:argsN and test:vargsN, and the
 * guarded program to test:guarded; the cookie says which probe fired. */
static int attach_all(struct usdt_args_bpf *skel, struct bpf_link **links)
{
	LIBBPF_OPTS(bpf_usdt_opts, uopts);
	char prog_name[16], probe[16];
	int n = 0;

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
			fprintf(stderr, "usdt_args: no BPF program %s\n", prog_name);
			return -ENOENT;
		}
		uopts.usdt_cookie = id;
		links[n] = bpf_program__attach_usdt(prog, env.pid, env.binary, "test",
						    probe, &uopts);
		if (!links[n]) {
			int err = -errno;

			fprintf(stderr, "usdt_args: attaching test:%s: %s\n", probe,
				strerror(-err));
			return err;
		}
		n++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, argp_doc, NULL, NULL, NULL };
	struct bpf_link *links[USDT_PROBE_COUNT] = {};
	struct ring_buffer *rb = NULL;
	struct usdt_args_bpf *skel;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	libbpf_set_print(libbpf_print_fn);

	skel = usdt_args_bpf__open();
	if (!skel) {
		fprintf(stderr, "usdt_args: failed to open BPF skeleton\n");
		return 1;
	}
	skel->rodata->target_pid = env.pid;
	err = usdt_args_bpf__load(skel);
	if (err) {
		fprintf(stderr, "usdt_args: failed to load BPF object: %d\n", err);
		goto cleanup;
	}
	err = attach_all(skel, links);
	if (err)
		goto cleanup;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "usdt_args: failed to create ring buffer\n");
		goto cleanup;
	}
	if (signal(SIGINT, sig_handler) == SIG_ERR || signal(SIGTERM, sig_handler) == SIG_ERR) {
		err = -errno;
		fprintf(stderr, "usdt_args: can't set signal handler\n");
		goto cleanup;
	}
	printf("attached\n");
	fflush(stdout);

	while (!exiting) {
		err = ring_buffer__poll(rb, 100 /* ms */);
		if (err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			fprintf(stderr, "usdt_args: polling ring buffer: %d\n", err);
			goto cleanup;
		}
		err = 0;
	}
	if (skel->bss->lost_events)
		fprintf(stderr, "usdt_args: warning: %llu events lost (ring buffer full)\n",
			skel->bss->lost_events);

cleanup:
	ring_buffer__free(rb);
	for (int i = USDT_PROBE_COUNT - 1; i >= 0; i--)
		bpf_link__destroy(links[i]);
	usdt_args_bpf__destroy(skel);
	return err != 0;
}
