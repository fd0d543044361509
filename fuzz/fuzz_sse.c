/* libFuzzer harness for the SSE engine. Input: byte 0 picks the event size
 * limit, bytes 1-4 seed the chunking (and byte 1's low bit turns comment
 * reporting on), byte 5 where the stream ends and a reconnection's stream
 * starts (sse_finish; 255: never), the rest is the bytes. Oracles:
 *  - one chunk, fuzzer-chosen chunks and byte-by-byte give identical
 *    transcripts (events with type/data/id, comments, errors, last id, retry);
 *  - no event exceeds the limit, and memory held stays O(limit);
 *  - when the limit is never hit, the transcript equals that of a naive
 *    whole-buffer reference parser written here from the spec. */
#include "../csrc/sse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *why) { fprintf(stderr, "fuzz_sse: %s\n", why); abort(); }

typedef struct { char *p; size_t n, cap; } tr_t; /* transcript */

static void tr_put(tr_t *t, const void *s, size_t n) {
  if (t->n + n > t->cap) {
    t->cap = (t->n + n) * 2 + 64;
    t->p = (char *)realloc(t->p, t->cap);
    if (!t->p) abort();
  }
  if (n) memcpy(t->p + t->n, s, n);
  t->n += n;
}

static void tr_str(tr_t *t, const char *s, size_t n) { tr_put(t, &n, sizeof n); tr_put(t, s, n); }

static void tr_event(tr_t *t, const char *ty, size_t tn, const char *d, size_t dn, const char *id, size_t idn) {
  tr_put(t, "E", 1);
  tr_str(t, ty, tn);
  tr_str(t, d, dn);
  tr_str(t, id ? id : "", id ? idn : 0);
}

static size_t live, peak; /* bytes held through the allocator */
static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr) live -= osize;
  if (nsize == 0) { free(ptr); return NULL; }
  ptr = realloc(ptr, nsize);
  if (!ptr) abort();
  live += nsize;
  if (live > peak) peak = live;
  return ptr;
}

static uint32_t rng(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

/* mode 0: one chunk, 1: seeded chunks, 2: byte by byte. Returns errors seen. */
static int run(tr_t *t, const char *s, size_t n, size_t fin, size_t max, int comments, int mode, uint32_t seed) {
  sse_parser p;
  sse_event ev;
  size_t at = 0, idn;
  const char *id;
  int rc, errs = 0;
  double r;
  live = peak = 0;
  sse_init(&p, max, count_alloc, NULL);
  sse_comments(&p, comments);
  do {
    size_t stop = at < fin ? fin : n; /* chunks never cross the finish point */
    size_t len = mode == 0 ? stop - at : mode == 2 ? 1 : 1 + rng(&seed) % 23;
    if (len > stop - at) len = stop - at;
    sse_input(&p, s + at, len);
    while ((rc = sse_next(&p, &ev)) != SSE_NEED_MORE) {
      if (rc == SSE_EVENT) {
        /* the default type "message" is not part of the event's bytes */
        if (ev.data_len > max || ev.type_len + ev.data_len > max + 7) fail("event over the limit");
        tr_event(t, ev.type, ev.type_len, ev.data, ev.data_len, ev.id, ev.id_len);
      } else if (rc == SSE_COMMENT) {
        if (!comments || ev.type || ev.id || ev.data_len > max) fail("comment not asked for or malformed");
        tr_put(t, "C", 1);
        tr_str(t, ev.data, ev.data_len);
      } else {
        if (rc != SSE_ERR_TOO_LARGE) fail("unexpected error code");
        errs++;
        tr_put(t, "!", 1);
      }
    }
    at += len;
    if (at == fin) sse_finish(&p);
  } while (at < n);
  sse_finish(&p);
  id = sse_last_id(&p, &idn);
  tr_str(t, id ? id : "-", id ? idn : 1);
  r = sse_retry(&p);
  tr_put(t, &r, sizeof r);
  /* line + data + type buffers, two ids, each at most ~2x the limit */
  if (peak > 10 * (max + 64)) fail("memory not bounded by the limit");
  sse_free(&p);
  if (live != 0) fail("leak");
  return errs;
}

/* The reference: the spec's steps over one whole stream, no limit. The
 * committed id and retry carry over to the next stream (a reconnection). */
typedef struct { tr_t last; double retry; int comments; } ref_state;

static void ref_stream(tr_t *t, const char *s, size_t n, ref_state *st) {
  tr_t data = {0}, type = {0}, idbuf = {0};
  size_t i = 0, ndata = 0;
  tr_put(&idbuf, st->last.p, st->last.n);
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) i = 3;
  while (i < n) {
    size_t b = i, e, ln, name, vs;
    while (i < n && s[i] != '\n' && s[i] != '\r') i++;
    if (i == n) break; /* unterminated line: discarded */
    e = i;
    i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    ln = e - b;
    if (ln == 0) {
      st->last.n = 0; tr_put(&st->last, idbuf.p, idbuf.n);
      if (ndata) tr_event(t, type.n ? type.p : "message", type.n ? type.n : 7,
                          data.p, data.n - 1, st->last.n ? st->last.p : NULL, st->last.n);
      data.n = type.n = ndata = 0;
      continue;
    }
    if (s[b] == ':') {
      if (st->comments) { tr_put(t, "C", 1); tr_str(t, s + b + 1, ln - 1); }
      continue;
    }
    for (name = 0; name < ln && s[b + name] != ':'; name++) {}
    vs = name < ln ? name + 1 : ln;
    if (vs < ln && s[b + vs] == ' ') vs++;
    if (name == 4 && memcmp(s + b, "data", 4) == 0) {
      tr_put(&data, s + b + vs, ln - vs); tr_put(&data, "\n", 1); ndata++;
    } else if (name == 5 && memcmp(s + b, "event", 5) == 0) {
      type.n = 0; tr_put(&type, s + b + vs, ln - vs);
    } else if (name == 2 && memcmp(s + b, "id", 2) == 0) {
      if (!memchr(s + b + vs, 0, ln - vs)) { idbuf.n = 0; tr_put(&idbuf, s + b + vs, ln - vs); }
    } else if (name == 5 && memcmp(s + b, "retry", 5) == 0 && ln > vs) {
      size_t k;
      double r = 0;
      for (k = vs; k < ln && s[b + k] >= '0' && s[b + k] <= '9'; k++)
        if (r < 9007199254740992.0) r = r * 10 + (s[b + k] - '0');
      if (k == ln) st->retry = r < 9007199254740992.0 ? r : 9007199254740992.0;
    }
  }
  free(data.p); free(type.p); free(idbuf.p);
}

static void reference(tr_t *t, const char *s, size_t n, size_t fin, int comments) {
  ref_state st = {{0}, -1, 0};
  st.comments = comments;
  if (fin < n) { ref_stream(t, s, fin, &st); ref_stream(t, s + fin, n - fin, &st); }
  else ref_stream(t, s, n, &st);
  tr_str(t, st.last.n ? st.last.p : "-", st.last.n ? st.last.n : 1);
  tr_put(t, &st.retry, sizeof st.retry);
  free(st.last.p);
}

static void same(const tr_t *a, const tr_t *b, const char *what) {
  if (a->n != b->n || (a->n && memcmp(a->p, b->p, a->n) != 0)) {
    fprintf(stderr, "transcripts differ: %s\n", what);
    fail("oracle");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_t one = {0}, other = {0};
  size_t max, fin;
  uint32_t seed;
  const char *s;
  size_t n;
  int errs, comments;
  if (size < 6) return 0;
  max = data[0] < 128 ? 1 + data[0] % 48 : SSE_DEFAULT_MAX_EVENT;
  memcpy(&seed, data + 1, 4);
  comments = data[1] & 1;
  s = (const char *)data + 6;
  n = size - 6;
  fin = data[5] == 255 ? n : data[5] * n / 255;
  errs = run(&one, s, n, fin, max, comments, 0, 0);
  if (run(&other, s, n, fin, max, comments, 1, seed) != errs) fail("error count, seeded chunks");
  same(&one, &other, "seeded chunks");
  other.n = 0;
  if (run(&other, s, n, fin, max, comments, 2, 0) != errs) fail("error count, byte by byte");
  same(&one, &other, "byte by byte");
  if (errs == 0) {
    other.n = 0;
    reference(&other, s, n, fin, comments);
    same(&one, &other, "reference parser");
  }
  free(one.p); free(other.p);
  return 0;
}
