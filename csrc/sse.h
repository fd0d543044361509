/* Incremental Server-Sent-Events parser (WHATWG "interpreting an event
 * stream"), plain C99, no Lua, no global state.
 *
 * Pull model, so the caller's code (e.g. Lua, which may longjmp) never runs
 * while the engine is in the middle of a line:
 *
 *   sse_input(p, chunk, len);
 *   while ((rc = sse_next(p, &ev)) != SSE_NEED_MORE) {
 *     if (rc == SSE_EVENT) use(ev);    // pointers valid until the next call
 *     else report(rc);                 // SSE_ERR_*: event dropped, parsing goes on
 *   }
 *
 * Between two sse_next calls the parser holds no pointer into a chunk except
 * the unparsed rest of the current one, so a caller may stop after any event
 * and read what is left with sse_remaining(). Lines that lie inside one chunk
 * are not copied; only a line or event spanning chunks is buffered, and that
 * buffering is bounded by max_event_bytes.
 *
 * Bytes pass through as they are: no UTF-8 decoding or validation.
 */
#ifndef HOMIE_SSE_H
#define HOMIE_SSE_H

#include <stddef.h>

#define SSE_DEFAULT_MAX_EVENT ((size_t)1 << 20) /* 1 MiB */

enum {
  SSE_NEED_MORE = 0,        /* the chunk is used up; call sse_input again */
  SSE_EVENT = 1,            /* *ev holds an event */
  SSE_COMMENT = 2,          /* only after sse_comments(p, 1): ev->data holds a
                               comment line's text after the ':', as sent */
  SSE_ERR_TOO_LARGE = -1,   /* an event passed max_event_bytes; it is dropped */
  SSE_ERR_NOMEM = -2        /* the allocator failed; the event is dropped */
};

/* Same contract as lua_Alloc: nsize == 0 frees and returns NULL. */
typedef void *(*sse_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct sse_event {
  const char *type; size_t type_len;  /* "message" unless an event field said otherwise */
  const char *data; size_t data_len;  /* data lines joined with LF */
  const char *id;   size_t id_len;    /* last event id; id_len 0 = none (or reset) */
} sse_event;

typedef struct sse_buf { char *p; size_t len, cap; } sse_buf;

/* Embeddable (e.g. inside a Lua userdata); treat the fields as private. */
typedef struct sse_parser {
  sse_alloc_fn alloc; void *alloc_ud;
  size_t max_event;
  const char *in, *end;        /* unparsed rest of the current chunk */
  const char *nlf, *ncr;       /* cached next LF / CR in the chunk (NULL: unknown) */
  sse_buf line;                /* a line that began in an earlier chunk */
  sse_buf data, type;          /* owned copies once an event spans chunks */
  const char *dptr, *tptr;     /* event data / type still inside the chunk */
  size_t dlen, tlen;           /* their lengths (owned or borrowed) */
  int dborrow, tborrow;        /* 1: dptr/tptr point into the chunk */
  size_t ndata;                /* data lines in the pending event */
  sse_buf id_next, id_last;    /* id field seen / id committed at the last blank line */
  int id_pending;              /* id_next holds an id not yet committed */
  double retry;                /* -1: no valid retry field seen */
  int bom;                     /* BOM bytes matched so far; 3 or more: past the start */
  int skip_lf;                 /* last chunk ended in CR: drop a leading LF */
  int skipping;                /* discarding the rest of a dropped event */
  int in_line;                 /* skipping: the current line has content */
  int comments;                /* 1: sse_next reports comment lines (SSE_COMMENT) */
} sse_parser;

/* max_event 0 means SSE_DEFAULT_MAX_EVENT; alloc NULL means realloc/free. */
void sse_init(sse_parser *p, size_t max_event, sse_alloc_fn alloc, void *alloc_ud);
/* Frees the buffers; the parser may be sse_init'ed again. Idempotent. */
void sse_free(sse_parser *p);

/* Off by default: comment lines (starting with ':') are ignored, as the
 * spec says. On: sse_next returns SSE_COMMENT for each, in stream order, with
 * ev->data/data_len the text after the ':' (no space stripped) and ev->type
 * and ev->id NULL; pointers valid until the next call, like an event's. A
 * comment is still a line: it counts against max_event_bytes, and one met
 * while the rest of a dropped event is skipped is not reported. */
void sse_comments(sse_parser *p, int on);

/* Sets the chunk to parse next, replacing any unparsed rest. The bytes must
 * stay valid and unchanged until sse_next returns SSE_NEED_MORE (or until
 * the caller abandons them with another sse_input/sse_finish/sse_reset). */
void sse_input(sse_parser *p, const char *buf, size_t len);
/* Parses up to the next event or error; see the codes above. After an error
 * the rest of that event (up to its blank line) is discarded; that blank line
 * still commits an id seen before the error. The parser then goes on. */
int sse_next(sse_parser *p, sse_event *ev);
/* The unparsed rest of the current chunk (for a caller that stops early). */
size_t sse_remaining(const sse_parser *p, const char **rest);

/* End of one stream: drops an unterminated event and any id not yet
 * committed, and expects a BOM again. Keeps last event id and retry, so the
 * same parser can read the body of a reconnection. */
void sse_finish(sse_parser *p);
/* Back to a fresh parser: as sse_finish, and forgets last event id and retry. */
void sse_reset(sse_parser *p);

/* The last committed event id, or NULL when none or reset by an empty id. */
const char *sse_last_id(const sse_parser *p, size_t *len);
/* Reconnection time in ms from the last valid retry field, or -1. Values
 * beyond 2^53 are clamped there (exact in a double and in a Lua number). */
double sse_retry(const sse_parser *p);

/* Push-style convenience over sse_input/sse_next: calls on_event for each
 * event (comments are skipped even when reported); stops early if it returns non-zero. Returns 0, the first error code
 * met (parsing still continues past it), or the callback's non-zero value. */
typedef int (*sse_event_fn)(void *ud, const sse_event *ev);
int sse_feed(sse_parser *p, const char *buf, size_t len, sse_event_fn on_event, void *ud);

#endif
