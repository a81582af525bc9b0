/*
 * moneyrocket-trace.c — read moneyrocketd's tracepoint stream, no root needed.
 *
 *   moneyrocket-trace [-datadir=DIR | -tracesocket=PATH] --list
 *   moneyrocket-trace [-datadir=DIR | -tracesocket=PATH] [--count N]
 *                     [--ring BYTES] PATTERN...
 *
 * --list prints the schema. Otherwise every event matching a PATTERN
 * ("net:*", "validation:block_connected") is printed as one JSON object per
 * line: "event", "seq", "time" (UTC, nanoseconds), then every field by its
 * name; integers as numbers, bools as true/false, strings as strings, bytes
 * as hex in the order they are stored. Lost events are reported in-band as
 * {"event":"tracestream:lost","seq":S,"lost":N}. On exit (after N events,
 * SIGINT, SIGTERM, or the node stopping) it prints to stderr how many
 * events it received and how many were lost.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracestream_client.h"

#define PATH_CAP 4200

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moneyrocket-trace [-datadir=DIR | -tracesocket=PATH] --list\n"
		"       moneyrocket-trace [-datadir=DIR | -tracesocket=PATH] [--count N]\n"
		"                         [--ring BYTES] PATTERN...\n"
		"Prints moneyrocketd's tracepoints as they fire, one JSON object per line,\n"
		"from the node's stream socket (default DATADIR/trace.sock). No root needed:\n"
		"the socket is open to the node's own user.\n"
		"Examples:\n"
		"  moneyrocket-trace -datadir=/tmp/n1 --list\n"
		"  moneyrocket-trace -datadir=/tmp/n1 'net:*'\n"
		"  moneyrocket-trace -datadir=/tmp/n1 --count 1 validation:block_connected\n");
}

struct options {
	char path[PATH_CAP];
	int list;
	long long count;	/* 0: no limit */
	size_t ring;		/* 0: the server's default */
	char **patterns;
	int n_patterns;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	const char *home = getenv("HOME");
	char datadir[PATH_CAP - 16];

	snprintf(datadir, sizeof(datadir), "%s/.moneyrocket", home && *home ? home : ".");
	o->path[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "-datadir=", 9) == 0) {
			snprintf(datadir, sizeof(datadir), "%s", a + 9);
		} else if (strncmp(a, "-tracesocket=", 13) == 0) {
			snprintf(o->path, sizeof(o->path), "%s", a + 13);
		} else if (strcmp(a, "--list") == 0) {
			o->list = 1;
		} else if ((strcmp(a, "--count") == 0 || strcmp(a, "--ring") == 0) && i + 1 < argc) {
			char *end;
			long long v = strtoll(argv[++i], &end, 10);

			if (*end || v <= 0) {
				fprintf(stderr, "error: %s wants a positive number\n", a);
				return -1;
			}
			if (a[2] == 'c')
				o->count = v;
			else
				o->ring = (size_t)v;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-help") == 0) {
			usage(stdout);
			exit(0);
		} else if (a[0] == '-') {
			fprintf(stderr, "error: unknown option %s\n", a);
			usage(stderr);
			return -1;
		} else {
			o->patterns = &argv[i];
			o->n_patterns = argc - i;
			break;
		}
	}
	if (!o->path[0])
		snprintf(o->path, sizeof(o->path), "%s/trace.sock", datadir);
	if (!o->list && o->n_patterns == 0) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static const char *type_name(const struct tracestream_field *f, char *buf, size_t cap)
{
	static const char *const names[] = { "", "int32", "uint32", "int64", "uint64",
					     "bool", "string", "bytes" };

	if (f->type == TRACESTREAM_STRING)
		snprintf(buf, cap, "string[%u]", (unsigned)f->size);
	else if (f->type == TRACESTREAM_BYTES && f->len_field >= 0)
		snprintf(buf, cap, "bytes[@%d]", f->len_field);
	else if (f->type == TRACESTREAM_BYTES)
		snprintf(buf, cap, "bytes[%u]", (unsigned)f->size);
	else
		snprintf(buf, cap, "%s", names[f->type]);
	return buf;
}

static void print_schema(const struct tracestream_client *c)
{
	for (unsigned i = 0; i < tracestream_client_n_events(c); i++) {
		const struct tracestream_client_event *ev = tracestream_client_event(c, i);
		char t[32];

		printf("%s  %s\n", ev->name, ev->description);
		for (unsigned f = 0; f < ev->n_fields; f++) {
			const struct tracestream_field *fd = &ev->fields[f];

			if (fd->type == TRACESTREAM_BYTES && fd->len_field >= 0)
				printf("    %-12s %s (length: %s)\n", type_name(fd, t, sizeof(t)),
				       fd->name, ev->fields[fd->len_field].name);
			else
				printf("    %-12s %s\n", type_name(fd, t, sizeof(t)), fd->name);
		}
	}
}

static void print_json_string(const uint8_t *p, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch); /* bytes as code points: always valid JSON */
		else
			putchar(ch);
	}
	putchar('"');
}

static void print_time(uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[32];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("\"%s.%09lluZ\"", buf, (unsigned long long)(ns % 1000000000u));
}

static void print_value(const struct tracestream_client_value *v)
{
	static const char hex[] = "0123456789abcdef";

	switch (v->type) {
	case TRACESTREAM_INT32:
	case TRACESTREAM_INT64:
		printf("%lld", (long long)v->i);
		break;
	case TRACESTREAM_UINT32:
	case TRACESTREAM_UINT64:
		printf("%llu", (unsigned long long)v->u);
		break;
	case TRACESTREAM_BOOL:
		fputs(v->i ? "true" : "false", stdout);
		break;
	case TRACESTREAM_STRING:
		print_json_string(v->ptr, v->len);
		break;
	case TRACESTREAM_BYTES:
		putchar('"');
		for (size_t i = 0; i < v->len; i++) {
			putchar(hex[v->ptr[i] >> 4]);
			putchar(hex[v->ptr[i] & 15]);
		}
		putchar('"');
		break;
	}
}

static void print_record(const struct tracestream_client *c,
			 const struct tracestream_client_record *r)
{
	if (r->kind == TRACESTREAM_CLIENT_LOST) {
		printf("{\"event\":\"tracestream:lost\",\"seq\":%llu,\"time\":",
		       (unsigned long long)r->seq);
		print_time(r->time_ns);
		printf(",\"lost\":%llu}\n", (unsigned long long)r->lost);
		return;
	}
	const struct tracestream_client_event *ev = tracestream_client_event(c, r->event);

	printf("{\"event\":\"%s\",\"seq\":%llu,\"time\":", ev->name, (unsigned long long)r->seq);
	print_time(r->time_ns);
	for (unsigned f = 0; f < ev->n_fields; f++) {
		printf(",\"%s\":", ev->fields[f].name);
		print_value(&r->values[f]);
	}
	fputs("}\n", stdout);
}

static int stream(struct tracestream_client *c, const struct options *o)
{
	unsigned long long received = 0, lost = 0;
	uint64_t written, ring_lost;
	struct tracestream_client_record r;
	char err[256];
	int rc = 0, n = 0;

	if (o->ring && tracestream_client_ring(c, o->ring, err, sizeof(err)) < 0) {
		fprintf(stderr, "error: --ring %zu: %s\n", o->ring, err);
		return 1;
	}
	for (int i = 0; i < o->n_patterns; i++) {
		n = tracestream_client_subscribe(c, o->patterns[i], 1, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "error: subscribe %s: %s\n", o->patterns[i], err);
			return 1;
		}
	}
	/* Scripts wait for this line: from here on no event is missed. */
	fprintf(stderr, "moneyrocket-trace: subscribed to %d tracepoints\n", n);
	while (!stop && (!o->count || received < (unsigned long long)o->count)) {
		/* Flush only when the ring is empty: a pipe reader sees every event
		 * promptly, and a burst costs one write. */
		int got = tracestream_client_next(c, &r, 0, err, sizeof(err));

		if (got == 0) {
			fflush(stdout);
			got = tracestream_client_next(c, &r, 200, err, sizeof(err));
		}

		if (got < 0) {
			/* The node stopping is the normal end of a stream. */
			if (!strstr(err, "closed")) {
				fprintf(stderr, "error: %s\n", err);
				rc = 1;
			}
			break;
		}
		if (got == 0)
			continue;
		if (r.kind == TRACESTREAM_CLIENT_LOST)
			lost += r.lost;
		else
			received++;
		print_record(c, &r);
	}
	fflush(stdout);
	/* The node's own count also holds losses not yet reported in-band. */
	tracestream_client_totals(c, &written, &ring_lost);
	if (ring_lost > lost)
		lost = ring_lost;
	fprintf(stderr, "moneyrocket-trace: %llu events received, %llu lost\n", received, lost);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct tracestream_client *c;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];
	int rc;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	c = tracestream_client_connect(o.path, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "error: %s (is moneyrocketd running with this -datadir, "
				"as this user?)\n", err);
		return 1;
	}
	if (o.list) {
		print_schema(c);
		rc = 0;
	} else {
		rc = stream(c, &o);
	}
	tracestream_client_free(c);
	return rc;
}
