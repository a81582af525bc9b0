/*
 * log.c — debug.log writer. Lines are formatted in full before a single
 * fputs, then flushed, so tests and tail -f see complete lines at once.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

static FILE *log_file;
static bool log_console;
static unsigned log_mask;
static bool log_failed; /* a write failed: said once on stderr */

int log_open(const char *path, bool console, char *err, size_t errlen)
{
	FILE *f = fopen(path, "a");

	if (!f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	log_close();
	log_file = f;
	log_console = console;
	log_failed = false;
	return 0;
}

void log_close(void)
{
	if (log_file) {
		fclose(log_file);
		log_file = NULL;
	}
}

void log_enable(unsigned mask)
{
	log_mask |= mask;
}

bool log_enabled(enum log_category cat)
{
	return (log_mask & (unsigned)cat) != 0;
}

int log_category_parse(const char *name, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned mask;
	} names[] = {
		{ "net", LOG_NET }, { "rpc", LOG_RPC }, { "1", LOG_ALL },
		{ "all", LOG_ALL }, { "0", 0 },         { "none", 0 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*mask = names[i].mask;
			return 0;
		}
	}
	return -1;
}

/* "2024-06-01T12:00:00.123456Z " into out (at least 32 bytes). */
static void log_timestamp(char *out, size_t cap)
{
	int64_t us = util_time_us();
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, cap - n, ".%06dZ ", (int)(us % 1000000));
}

static void log_write(FILE *f, const char *line)
{
	if (fputs(line, f) == EOF || fflush(f) == EOF) {
		if (!log_failed && f != stderr)
			fprintf(stderr, "log: write failed: %s\n", strerror(errno));
		log_failed = true;
	}
}

void log_printf(const char *fmt, ...)
{
	char line[2048];
	size_t n;
	va_list ap;

	log_timestamp(line, sizeof(line));
	n = strlen(line);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';

	log_write(log_file ? log_file : stderr, line);
	if (log_file && log_console)
		log_write(stdout, line);
}
