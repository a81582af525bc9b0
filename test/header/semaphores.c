/*
 * semaphores.c — the test program for trace.h's semaphore forms.
 *
 * Built from this file and semaphores_other.c, as C and as C++ (in C++
 * everything sits in the namespace `app::inner`, where a semaphore's C++
 * name would be mangled). Carries:
 *   sem:implicit  TRACEPOINT_GUARDED with no TRACEPOINT_SEMAPHORE anywhere,
 *                 one site in each file, so two sites share one semaphore;
 *   sem:explicit  TRACEPOINT_SEMAPHORE in both files (one counter), guarded
 *                 by hand with TRACEPOINT_ACTIVE in each file;
 *   sem:plain     a plain TRACEPOINT: no semaphore.
 * Each guarded argument counts its evaluations.
 *
 * Protocol (the one of probes.c): prints "ready pid=<pid>", then per line
 * of stdin: "sem" -> "sem <implicit semaphore> <explicit semaphore>",
 * "fire" -> fires every site once, "fired evals=<evaluations so far>",
 * "quit" -> exits 0.
 */
#include "semaphores.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

SEM_BEGIN

TRACEPOINT_SEMAPHORE(sem, explicit);

int64_t evals;

int64_t count_evaluation(void)
{
	return ++evals;
}

static void fire_here(void)
{
	TRACEPOINT_GUARDED(sem, implicit, count_evaluation(), (int64_t)1);
	if (TRACEPOINT_ACTIVE(sem, explicit))
		TRACEPOINT(sem, explicit, count_evaluation(), (int64_t)1);
	TRACEPOINT(sem, plain, evals);
}

static void print_semaphores(void)
{
#if TRACE_ENABLED
	/* The implicit semaphore has no declaration at file scope: declare it
	 * here as a tracer would find it, by its fixed name. */
	TRACEPOINT_SEMAPHORE_DECLARE(sem, implicit);
	printf("sem %u %u\n", (unsigned)sem_implicit_semaphore,
	       (unsigned)sem_explicit_semaphore);
#else
	printf("sem 0 0\n");
#endif
}

static int run(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready pid=%ld\n", (long)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "sem") == 0) {
			print_semaphores();
		} else if (strcmp(line, "fire") == 0) {
			fire_here();
			fire_other();
			printf("fired evals=%lld\n", (long long)evals);
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else {
			printf("error unknown command '%s'\n", line);
		}
	}
	return 0;
}

SEM_END

int main(void)
{
	return SEM_NS run();
}
