/*
 * util.h — small helpers the rest of the daemon shares: clocks, random
 * numbers, bounded string copies, integer parsing, base64. Nothing here
 * knows about peers, RPC or the event loop.
 */
#ifndef MR_UTIL_H
#define MR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall-clock time since the epoch, in microseconds / seconds. */
int64_t util_time_us(void);
int64_t util_time_s(void);

/* Monotonic time in microseconds: for intervals and timeouts, immune to
 * clock changes. */
int64_t util_mono_us(void);

/* Fill buf with n bytes from the kernel's CSPRNG (getrandom). Returns 0, or
 * -1 if the kernel refused (errno set); buf is then unspecified. */
int util_random_bytes(void *buf, size_t n);

/* A uniformly random 64-bit value; falls back to a time-seeded value only
 * if getrandom fails (never for security: nonces and shuffles only). */
uint64_t util_random_u64(void);

/* A random value in [0, n); 0 when n is 0. */
uint64_t util_random_range(uint64_t n);

/* Copy src into dst (cap bytes incl. NUL), truncating. Returns strlen(src),
 * so a result >= cap means it was truncated. */
size_t util_strlcpy(char *dst, const char *src, size_t cap);

/* True if s is a safe file name (a wallet's): 1 to cap-1 characters of
 * A-Z a-z 0-9 '_' '.' '-', not starting with '.'. */
bool util_name_valid(const char *s, size_t cap);

/*
 * Parse a whole decimal integer (optional sign, no spaces, no trailing
 * characters) within [min, max]. Returns 0 and *out, or -1 if s is not a
 * number or out of range (*out untouched).
 */
int util_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Standard base64 (with padding) of n bytes into out, which holds at least
 * 4 * ((n + 2) / 3) + 1 bytes. Returns the length written (without NUL). */
size_t util_base64_encode(const void *in, size_t n, char *out);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void util_hex(const void *in, size_t n, char *out);

/* Constant-time comparison of two NUL-terminated strings (time depends
 * only on their lengths): true if equal. For secrets. */
bool util_secret_equal(const char *a, const char *b);

#endif
