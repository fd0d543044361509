/* The one monotonic clock of homie's C code, shared by homie.sse (sse.now,
 * the clock every runtime's Lua layer reads) and homie.curl (libcurl's
 * timers): a header, since homie.sse must not link the transport. Never
 * jumps with the wall clock, so deadlines and backoff survive a clock change. */
#ifndef HOMIE_HCLOCK_H
#define HOMIE_HCLOCK_H

#include <time.h>

static inline double homie_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
