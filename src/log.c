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

/* Format one line (timestamp, message, `suffix`, newline) and write it. */
static void log_vline(const char *suffix, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;

	log_timestamp(line, sizeof(line));
	n = strlen(line);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	n = strlen(line);
	snprintf(line + n, sizeof(line) - n - 1, "%s", suffix);
	n = strlen(line);
	line[n] = '\n';
	line[n + 1] = '\0';

	log_write(log_file ? log_file : stderr, line);
	if (log_file && log_console)
		log_write(stdout, line);
}

void log_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

bool log_limited(struct log_limit *lim, const char *fmt, ...)
{
	long long now = util_mono_us() / 1000000 + 1; /* never 0 */
	char suffix[64] = "";
	va_list ap;

	if (!lim->window_start_s || now - lim->window_start_s >= LOG_LIMIT_WINDOW_S) {
		lim->window_start_s = now;
		lim->printed = 0;
	}
	if (lim->printed >= LOG_LIMIT_LINES) {
		lim->suppressed++;
		return false;
	}
	lim->printed++;
	if (lim->suppressed)
		snprintf(suffix, sizeof(suffix), " (%lu similar lines suppressed)",
			 lim->suppressed);
	lim->suppressed = 0;
	va_start(ap, fmt);
	log_vline(suffix, fmt, ap);
	va_end(ap);
	return true;
}
