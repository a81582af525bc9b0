/* semaphores_other.c — the second file of the semaphores test program: the
 * same tracepoints again, so their sites in two files share one semaphore. */
#include "semaphores.h"

SEM_BEGIN

TRACEPOINT_SEMAPHORE(sem, explicit);

void fire_other(void)
{
	TRACEPOINT_GUARDED(sem, implicit, count_evaluation(), (int64_t)2);
	if (TRACEPOINT_ACTIVE(sem, explicit))
		TRACEPOINT(sem, explicit, count_evaluation(), (int64_t)2);
}

SEM_END
