/* semaphores.h — what the two files of the semaphores test program share.
 * In C++ they live in the namespace app::inner. */
#ifndef SEMAPHORES_H
#define SEMAPHORES_H

#include "trace.h"

#include <stdint.h>

#ifdef __cplusplus
#define SEM_BEGIN namespace app { namespace inner {
#define SEM_END } }
#define SEM_NS app::inner::
#else
#define SEM_BEGIN
#define SEM_END
#define SEM_NS
#endif

SEM_BEGIN
extern int64_t evals;
int64_t count_evaluation(void);
void fire_other(void);
SEM_END

#endif
