/*
 * fuzz.h — what the libFuzzer targets in test/fuzz/ share: an invariant
 * check that aborts (so libFuzzer keeps the input as a crash), and a
 * temporary data directory removed at exit.
 *
 * Each target is one fuzz_NAME.c defining LLVMFuzzerTestOneInput (and,
 * when it needs set-up, LLVMFuzzerInitialize); test/fuzz/build.mk links it
 * against the daemon's sources built with -fsanitize=fuzzer-no-link,
 * address and undefined.
 */
#ifndef MR_FUZZ_H
#define MR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of our own code broke: report and abort (a crash input). */
#define FUZZ_ASSERT(cond)                                                         \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s) failed\n", __FILE__, \
				__LINE__, #cond);                                 \
			abort();                                                  \
		}                                                                 \
	} while (0)

/*
 * A fresh directory /tmp/mr_fuzz_NAME_XXXXXX, removed (with its contents)
 * when the process exits. Returns its path (static storage); exits on
 * failure, since the target cannot run without it.
 */
const char *fuzz_tmpdir(const char *name);

#endif
