/* The SSE engine alone: parse FILE in 64 KiB chunks, ITERS times, and print
 * the best run as key=value pairs for bench/sse_bench.lua (MB = 10^6 bytes).
 * usage: sse_engine_bench FILE [ITERS] */
#include "../csrc/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 65536

typedef struct { long events, chunk, typing, message, other; double data_bytes; } counts_t;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(counts_t *c, const sse_event *ev) {
  c->events++;
  c->data_bytes += (double)ev->data_len;
  if (ev->type_len == 5 && memcmp(ev->type, "chunk", 5) == 0) c->chunk++;
  else if (ev->type_len == 6 && memcmp(ev->type, "typing", 6) == 0) c->typing++;
  else if (ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0) c->message++;
  else c->other++;
}

int main(int argc, char **argv) {
  FILE *f;
  char *buf, last[64] = "-";
  long size;
  int iters = argc > 2 ? atoi(argv[2]) : 5, it;
  double best = 1e30;
  counts_t c = {0, 0, 0, 0, 0, 0};
  if (argc < 2 || !(f = fopen(argv[1], "rb"))) { fprintf(stderr, "usage: %s FILE [ITERS]\n", argv[0]); return 2; }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 2; }
  fclose(f);
  for (it = 0; it < iters; it++) {
    sse_parser p;
    sse_event ev;
    long off;
    double t0 = now(), t;
    size_t idn;
    const char *id;
    memset(&c, 0, sizeof c);
    sse_init(&p, 0, NULL, NULL);
    for (off = 0; off < size; off += CHUNK) {
      long n = size - off < CHUNK ? size - off : CHUNK;
      int rc;
      sse_input(&p, buf + off, (size_t)n);
      while ((rc = sse_next(&p, &ev)) != SSE_NEED_MORE)
        if (rc == SSE_EVENT) count(&c, &ev);
        else { fprintf(stderr, "parse error %d\n", rc); return 1; }
    }
    sse_finish(&p);
    t = now() - t0;
    if (t < best) best = t;
    id = sse_last_id(&p, &idn);
    if (id && idn < sizeof last) { memcpy(last, id, idn); last[idn] = 0; }
    sse_free(&p);
  }
  printf("bytes=%ld seconds=%.6f mbps=%.1f events=%ld chunk=%ld typing=%ld message=%ld other=%ld data_bytes=%.0f last_id=%s\n",
         size, best, (double)size / best / 1e6, c.events, c.chunk, c.typing, c.message, c.other, c.data_bytes, last);
  free(buf);
  return 0;
}
