/*
 * log.h — the daemon's debug.log: one timestamped line per event,
 * optionally echoed to stdout (-printtoconsole). Debug categories
 * (-debug=net) add detail lines. Writing never fails visibly: a log that
 * cannot be written must not stop the node.
 */
#ifndef MR_LOG_H
#define MR_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Debug categories (-debug=<name>), a bit mask. */
enum log_category {
	LOG_NET = 1u << 0,
	LOG_RPC = 1u << 1,
	LOG_ALL = ~0u,
};

/*
 * Open (append) the log file at `path` and echo to stdout when `console`.
 * Lines written before log_open go to stderr. Returns 0, or -1 with the
 * reason in err (errlen bytes).
 */
int log_open(const char *path, bool console, char *err, size_t errlen);

/* Flush and close the log file; later lines go to stderr. Safe to call
 * twice. */
void log_close(void);

/* Enable the debug categories in `mask` (see log_category_parse). */
void log_enable(unsigned mask);

/* True if debug category `cat` is enabled. */
bool log_enabled(enum log_category cat);

/*
 * The mask of a -debug value: "net", "rpc", "1"/"all" (everything),
 * "0"/"none" (nothing). Returns 0 and *mask, or -1 for an unknown name.
 */
int log_category_parse(const char *name, unsigned *mask);

/* Write one line "YYYY-MM-DDTHH:MM:SS.uuuuuuZ <message>\n" and flush. */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_printf only when debug category `cat` is enabled; the arguments are
 * not evaluated otherwise. */
#define log_debug(cat, ...)                         \
	do {                                        \
		if (log_enabled(cat))               \
			log_printf(__VA_ARGS__);    \
	} while (0)

/*
 * Rate limiting for lines an outsider can make us write over and over
 * (failed accepts, failed authentication). One `struct log_limit` per call
 * site, usually static and zero-initialised.
 */
struct log_limit {
	long long window_start_s; /* monotonic seconds; 0 before the first line */
	unsigned printed;         /* lines written in this window */
	unsigned long suppressed; /* lines dropped since the last one written */
};

/* Lines each call site may write per window; the rest are counted. */
#define LOG_LIMIT_LINES 5
#define LOG_LIMIT_WINDOW_S 60

/*
 * log_printf unless `lim` already wrote LOG_LIMIT_LINES lines in the
 * current LOG_LIMIT_WINDOW_S-second window. The first line written after
 * dropped ones ends with "(N similar lines suppressed)", so nothing is lost
 * silently. Returns true if the line was written.
 */
bool log_limited(struct log_limit *lim, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
