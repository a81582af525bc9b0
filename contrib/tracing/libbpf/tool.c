/*
 * tool.c — the helpers the libbpf tools share (tool.h).
 */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

volatile sig_atomic_t tool_exiting;
bool tool_verbose;

unsigned long tool_parse_number(struct argp_state *state, const char *what,
				const char *arg, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < 1 || v > max)
		argp_error(state, "invalid %s: %s", what, arg);
	return v;
}

void tool_parse_target(struct argp_state *state, const char *arg, pid_t *pid, char *binary,
		       size_t len)
{
	char path[PATH_MAX];

	if (arg[0] && strspn(arg, "0123456789") == strlen(arg)) {
		*pid = (pid_t)tool_parse_number(state, "PID", arg, INT32_MAX);
		return;
	}
	if (access(arg, R_OK) != 0 || !realpath(arg, path))
		argp_error(state, "cannot read %s: %s", arg, strerror(errno));
	snprintf(binary, len, "%s", path);
}

int tool_pid_binary(const char *prog, pid_t pid, char *binary, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, binary, len - 1);
	if (n < 0) {
		fprintf(stderr, "%s: no process %d: %s\n", prog, (int)pid, strerror(errno));
		return -1;
	}
	binary[n] = '\0';
	return 0;
}

static int print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !tool_verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void on_signal(int sig)
{
	(void)sig;
	tool_exiting = 1;
}

int tool_init(const char *prog)
{
	libbpf_set_print(print_fn);
	if (signal(SIGINT, on_signal) == SIG_ERR || signal(SIGTERM, on_signal) == SIG_ERR) {
		fprintf(stderr, "%s: setting signal handlers: %s\n", prog, strerror(errno));
		return -1;
	}
	return 0;
}

struct bpf_link *tool_attach_usdt(const char *prog, struct bpf_program *p, pid_t pid,
				  const char *binary, const char *provider, const char *name)
{
	struct bpf_link *link = p ? bpf_program__attach_usdt(p, pid, binary, provider, name, NULL)
				  : NULL;
	int err = errno;

	if (!link) {
		fprintf(stderr, "%s: attaching to %s:%s of %s: %s\n", prog, provider, name, binary,
			strerror(err));
		errno = err;
	}
	return link;
}
