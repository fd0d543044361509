/* Incremental SSE parser; see sse.h for the contract. The hot path finds
 * line ends with memchr (cached per chunk for LF and CR separately, so a
 * stream without CR costs one memchr per line) and does not copy lines that
 * lie inside the chunk: an event's type and data point into the chunk until
 * the chunk runs out, and only then are they copied. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#define RETRY_MAX 9007199254740992.0 /* 2^53 */

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

void sse_init(sse_parser *p, size_t max_event, sse_alloc_fn alloc, void *alloc_ud) {
  memset(p, 0, sizeof *p);
  p->alloc = alloc ? alloc : default_alloc;
  p->alloc_ud = alloc_ud;
  p->max_event = max_event ? max_event : SSE_DEFAULT_MAX_EVENT;
  p->retry = -1;
}

static void buf_free(sse_parser *p, sse_buf *b) {
  if (b->p) p->alloc(p->alloc_ud, b->p, b->cap, 0);
  b->p = NULL; b->len = b->cap = 0;
}

void sse_free(sse_parser *p) {
  buf_free(p, &p->line); buf_free(p, &p->data); buf_free(p, &p->type);
  buf_free(p, &p->id_next); buf_free(p, &p->id_last);
  p->in = p->end = p->nlf = p->ncr = NULL;
}

/* Makes room for n more bytes. Sizes stay O(max_event) because every caller
 * has checked the event limit first. Returns 0 on allocation failure. */
static int buf_reserve(sse_parser *p, sse_buf *b, size_t n) {
  size_t cap;
  char *np;
  if (b->cap - b->len >= n) return 1;
  cap = b->cap ? b->cap : 64;
  while (cap - b->len < n) cap *= 2;
  np = (char *)p->alloc(p->alloc_ud, b->p, b->cap, cap);
  if (!np) return 0;
  b->p = np; b->cap = cap;
  return 1;
}

static int buf_append(sse_parser *p, sse_buf *b, const char *s, size_t n) {
  if (n == 0) return 1;
  if (!buf_reserve(p, b, n)) return 0;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return 1;
}

static int buf_set(sse_parser *p, sse_buf *b, const char *s, size_t n) {
  b->len = 0;
  return buf_append(p, b, s, n);
}

void sse_comments(sse_parser *p, int on) { p->comments = on != 0; }

void sse_input(sse_parser *p, const char *buf, size_t len) {
  p->in = buf;
  p->end = buf ? buf + len : buf;
  p->nlf = p->ncr = NULL;
}

size_t sse_remaining(const sse_parser *p, const char **rest) {
  if (rest) *rest = p->in;
  return p->in ? (size_t)(p->end - p->in) : 0;
}

static void clear_event(sse_parser *p) {
  p->ndata = 0; p->dlen = 0; p->tlen = 0;
  p->dborrow = p->tborrow = 0;
  p->data.len = p->type.len = 0;
}

/* Stop parsing the current event: the caller sees `code` once, and lines are
 * ignored up to the next blank line. */
static int drop_event(sse_parser *p, int code, int mid_line) {
  clear_event(p);
  p->line.len = 0;
  p->skipping = 1;
  p->in_line = mid_line;
  return code;
}

/* Copies borrowed type/data into owned buffers before the chunk goes away. */
static int own_pending(sse_parser *p) {
  if (p->tborrow) {
    if (!buf_set(p, &p->type, p->tptr, p->tlen)) return 0;
    p->tptr = p->type.p; p->tborrow = 0;
  }
  if (p->dborrow) {
    if (!buf_set(p, &p->data, p->dptr, p->dlen)) return 0;
    p->dptr = p->data.p; p->dborrow = 0;
  }
  return 1;
}

static int dispatch(sse_parser *p, sse_event *ev) {
  if (p->id_pending) { /* swap, so an id is copied only once */
    sse_buf t = p->id_last; p->id_last = p->id_next; p->id_next = t;
    p->id_pending = 0;
  }
  if (p->skipping) { p->skipping = 0; clear_event(p); return 0; }
  if (p->ndata == 0) { clear_event(p); return 0; }
  if (p->tlen) { ev->type = p->tptr; ev->type_len = p->tlen; }
  else { ev->type = "message"; ev->type_len = 7; }
  ev->data = p->dborrow ? p->dptr : p->data.p;
  ev->data_len = p->dlen;
  if (!ev->data) ev->data = "";
  ev->id = p->id_last.len ? p->id_last.p : NULL;
  ev->id_len = p->id_last.len;
  /* The pointers stay valid until the next call: buffers are only reused. */
  clear_event(p);
  return SSE_EVENT;
}

static void set_retry(sse_parser *p, const char *v, size_t n) {
  double r = 0;
  size_t i;
  if (n == 0) return;
  for (i = 0; i < n; i++)
    if (v[i] < '0' || v[i] > '9') return;
  for (i = 0; i < n && r < RETRY_MAX; i++) r = r * 10 + (v[i] - '0');
  p->retry = r < RETRY_MAX ? r : RETRY_MAX;
}

/* One complete line. `inchunk`: the line lies in the current chunk (so type
 * and data may borrow it). Returns SSE_EVENT, 0, or an error code. */
static int process_line(sse_parser *p, const char *s, size_t n, int inchunk, sse_event *ev) {
  const char *colon, *v;
  size_t name, vn;
  if (n == 0) return dispatch(p, ev);
  if (p->skipping) return 0;
  if (n > p->max_event - p->dlen - p->tlen) return drop_event(p, SSE_ERR_TOO_LARGE, 0);
  if (s[0] == ':') {
    if (!p->comments) return 0;
    ev->type = ev->id = NULL; ev->type_len = ev->id_len = 0;
    ev->data = s + 1; ev->data_len = n - 1;
    return SSE_COMMENT;
  }
  colon = (const char *)memchr(s, ':', n);
  name = colon ? (size_t)(colon - s) : n;
  v = colon ? colon + 1 : s + n;
  vn = (size_t)(s + n - v);
  if (vn && *v == ' ') { v++; vn--; }
  switch (name) {
  case 4:
    if (memcmp(s, "data", 4) != 0) break;
    if (p->ndata == 0 && inchunk) {
      p->dptr = v; p->dlen = vn; p->dborrow = 1;
    } else {
      if (!own_pending(p)) return drop_event(p, SSE_ERR_NOMEM, 0);
      if ((p->ndata && !buf_append(p, &p->data, "\n", 1)) || !buf_append(p, &p->data, v, vn))
        return drop_event(p, SSE_ERR_NOMEM, 0);
      p->dptr = p->data.p; p->dlen = p->data.len;
    }
    p->ndata++;
    break;
  case 5:
    if (memcmp(s, "event", 5) == 0) {
      if (inchunk) { p->tptr = v; p->tlen = vn; p->tborrow = 1; }
      else {
        if (!buf_set(p, &p->type, v, vn)) return drop_event(p, SSE_ERR_NOMEM, 0);
        p->tptr = p->type.p; p->tlen = vn; p->tborrow = 0;
      }
    } else if (memcmp(s, "retry", 5) == 0) {
      set_retry(p, v, vn);
    }
    break;
  case 2:
    if (s[0] != 'i' || s[1] != 'd' || memchr(v, 0, vn)) break;
    if (!buf_set(p, &p->id_next, v, vn)) return drop_event(p, SSE_ERR_NOMEM, 0);
    p->id_pending = 1;
    break;
  default:
    break;
  }
  return 0;
}

/* Keeps the start of a line that continues in the next chunk. */
static int hold_partial(sse_parser *p, const char *s, size_t n) {
  if (p->skipping) { p->in_line = 1; return 0; }
  if (n > p->max_event - p->dlen - p->tlen - p->line.len)
    return drop_event(p, SSE_ERR_TOO_LARGE, 1);
  if (!buf_append(p, &p->line, s, n)) return drop_event(p, SSE_ERR_NOMEM, 1);
  return 0;
}

/* Matches the BOM at the very start of a stream, even split across chunks.
 * A partial match that fails is ordinary line content. Returns 0 or error. */
static int skip_bom(sse_parser *p) {
  static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
  while (p->bom < 3 && p->in < p->end) {
    if (*p->in != bom[p->bom]) {
      int k = p->bom;
      p->bom = 3;
      return k ? hold_partial(p, bom, (size_t)k) : 0;
    }
    p->bom++;
    p->in++;
  }
  return 0;
}

int sse_next(sse_parser *p, sse_event *ev) {
  const char *s = p->in, *end = p->end, *eol;
  int rc;
  if (!s) return SSE_NEED_MORE;
  if (p->bom < 3) {
    if ((rc = skip_bom(p)) != 0) return rc;
    s = p->in;
  }
  if (p->skip_lf && s < end) {
    p->skip_lf = 0;
    if (*s == '\n') s++;
  }
  for (;;) {
    size_t n;
    if (s == end) {
      p->in = s;
      if (!own_pending(p)) return drop_event(p, SSE_ERR_NOMEM, 0);
      return SSE_NEED_MORE;
    }
    if (!p->nlf || p->nlf < s) {
      p->nlf = (const char *)memchr(s, '\n', (size_t)(end - s));
      if (!p->nlf) p->nlf = end;
    }
    if (!p->ncr || p->ncr < s) {
      p->ncr = (const char *)memchr(s, '\r', (size_t)(end - s));
      if (!p->ncr) p->ncr = end;
    }
    eol = p->nlf < p->ncr ? p->nlf : p->ncr;
    if (eol == end) { /* the line goes on in the next chunk */
      p->in = end;
      if ((rc = hold_partial(p, s, (size_t)(end - s))) != 0) return rc;
      s = end;
      continue;
    }
    n = (size_t)(eol - s);
    p->in = eol + 1;
    if (*eol == '\r') {
      if (p->in == end) p->skip_lf = 1;
      else if (*p->in == '\n') p->in++;
    }
    if (p->skipping && p->in_line) { /* tail of a line whose start was dropped */
      p->in_line = 0;
      rc = 0;
    } else if (p->line.len) {
      if (n > p->max_event - p->dlen - p->tlen - p->line.len) {
        p->line.len = 0;
        rc = drop_event(p, SSE_ERR_TOO_LARGE, 0);
      } else if (!buf_append(p, &p->line, s, n)) {
        rc = drop_event(p, SSE_ERR_NOMEM, 0);
      } else {
        rc = process_line(p, p->line.p, p->line.len, 0, ev);
        p->line.len = 0;
      }
    } else {
      rc = process_line(p, s, n, 1, ev);
    }
    if (rc != 0) return rc;
    s = p->in;
  }
}

void sse_finish(sse_parser *p) {
  sse_input(p, NULL, 0);
  clear_event(p);
  p->line.len = 0;
  p->id_pending = 0;
  p->bom = 0;
  p->skip_lf = p->skipping = p->in_line = 0;
}

void sse_reset(sse_parser *p) {
  sse_finish(p);
  p->id_last.len = p->id_next.len = 0;
  p->retry = -1;
}

const char *sse_last_id(const sse_parser *p, size_t *len) {
  if (len) *len = p->id_last.len;
  return p->id_last.len ? p->id_last.p : NULL;
}

double sse_retry(const sse_parser *p) { return p->retry; }

int sse_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn on_event, void *ud) {
  sse_event ev;
  int rc, first = 0;
  sse_input(p, buf, len);
  while ((rc = sse_next(p, &ev)) != SSE_NEED_MORE) {
    if (rc == SSE_COMMENT) continue;
    if (rc == SSE_EVENT) {
      int stop = on_event ? on_event(ud, &ev) : 0;
      if (stop) return stop;
    } else if (!first) {
      first = rc;
    }
  }
  return first;
}
