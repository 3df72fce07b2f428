/* monotonic_clock.h: seconds from CLOCK_MONOTONIC, for phase timings. */
#ifndef MICROGPT_MONOTONIC_CLOCK_H
#define MICROGPT_MONOTONIC_CLOCK_H

#include <time.h>

static inline double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

#endif
