/*
 * tool.h — what the libbpf tools here (p2pstat, p2pcapture,
 * moneyrocket-exporter) share, as libbpf-tools share trace_helpers.h:
 * argument parsing for numbers and a TARGET, libbpf's message filter, the
 * flag the signal handler sets, and attaching one USDT probe.
 */
#ifndef MR_LIBBPF_TOOL_H
#define MR_LIBBPF_TOOL_H

#include <argp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bpf_program;
struct bpf_link;

/* Set by SIGINT and SIGTERM once tool_catch_signals has run. */
extern volatile sig_atomic_t tool_exiting;

/* libbpf's debug messages are printed only when this is set (-v). */
extern bool tool_verbose;

/* A whole decimal number in [1, max], or argp_error "invalid WHAT: ARG". */
unsigned long tool_parse_number(struct argp_state *state, const char *what,
				const char *arg, unsigned long max);

/*
 * TARGET: all digits is a PID (*pid); anything else the binary, resolved
 * to the path the kernel sees (libbpf attaches by it) into binary (len
 * bytes), or argp_error "cannot read ARG: why".
 */
void tool_parse_target(struct argp_state *state, const char *arg, pid_t *pid, char *binary,
		       size_t len);

/* The executable of pid into binary (len bytes). 0, or -1 having printed
 * "PROG: no process PID: why". */
int tool_pid_binary(const char *prog, pid_t pid, char *binary, size_t len);

/* Filter libbpf's output by tool_verbose and catch SIGINT/SIGTERM into
 * tool_exiting. 0, or -1 having printed why. */
int tool_init(const char *prog);

/*
 * Attach p to PROVIDER:NAME of binary (in pid; -1: every process). The
 * link, or NULL having printed "PROG: attaching to PROVIDER:NAME of
 * BINARY: why" (errno is kept).
 */
struct bpf_link *tool_attach_usdt(const char *prog, struct bpf_program *p, pid_t pid,
				  const char *binary, const char *provider, const char *name);

#endif
