/* Unit tests for the SSE engine (csrc/sse.c). Every case is parsed in one
 * chunk, byte by byte and at every two-way split, and all results must agree:
 * that is the engine's main promise. */
#include "../csrc/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond) do { if (cond) passed++; else { failed++; \
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

/* A transcript: events as "type|data|id" lines (bytes escaped), errors as
 * "!code", then "last=<id> retry=<n>". */
typedef struct { char s[8192]; size_t n; } out_t;

static void put(out_t *o, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n && o->n + 5 < sizeof o->s; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 32 || c > 126 || c == '|' || c == '\\')
      o->n += (size_t)sprintf(o->s + o->n, "\\%02x", c);
    else
      o->s[o->n++] = (char)c;
  }
  o->s[o->n] = 0;
}

static void put_event(out_t *o, const sse_event *ev) {
  put(o, ev->type, ev->type_len);
  o->s[o->n++] = '|';
  put(o, ev->data, ev->data_len); o->s[o->n++] = '|';
  if (ev->id) put(o, ev->id, ev->id_len); else put(o, "-", 1);
  o->s[o->n++] = '\n'; o->s[o->n] = 0;
}

static void parse_chunk(sse_parser *p, out_t *o, const char *s, size_t n) {
  sse_event ev;
  int rc;
  sse_input(p, s, n);
  while ((rc = sse_next(p, &ev)) != SSE_NEED_MORE) {
    if (rc == SSE_EVENT) put_event(o, &ev);
    else o->n += (size_t)sprintf(o->s + o->n, "!%d\n", rc);
  }
}

static void put_tail(sse_parser *p, out_t *o) {
  size_t n;
  const char *id = sse_last_id(p, &n);
  put(o, "last=", 5);
  if (id) put(o, id, n); else put(o, "-", 1);
  o->n += (size_t)sprintf(o->s + o->n, " retry=%.0f", sse_retry(p));
}

/* Parses s split at the given cut points (sorted), then finishes. */
static void run(out_t *o, const char *s, size_t n, size_t max, const size_t *cuts, size_t ncuts) {
  sse_parser p;
  size_t i, at = 0;
  o->n = 0; o->s[0] = 0;
  sse_init(&p, max, NULL, NULL);
  for (i = 0; i <= ncuts; i++) {
    size_t to = i < ncuts ? cuts[i] : n;
    parse_chunk(&p, o, s + at, to - at);
    at = to;
  }
  sse_finish(&p);
  put_tail(&p, o);
  sse_free(&p);
}

/* Parses s every way and checks that the transcript equals `want`. */
static void expect_max(const char *s, size_t n, size_t max, const char *want) {
  out_t one, other;
  size_t cut, i, *cuts = (size_t *)malloc((n + 1) * sizeof *cuts);
  int same = 1;
  run(&one, s, n, max, NULL, 0);
  if (strcmp(one.s, want) != 0) {
    fprintf(stderr, "input: ");
    fwrite(s, 1, n, stderr);
    fprintf(stderr, "\n  got: %s\n want: %s\n", one.s, want);
  }
  CHECK(strcmp(one.s, want) == 0);
  for (cut = 0; cut <= n; cut++) {
    run(&other, s, n, max, &cut, 1);
    if (strcmp(one.s, other.s) != 0) { same = 0; fprintf(stderr, "split at %zu differs:\n%s\n", cut, other.s); }
  }
  for (i = 0; i < n; i++) cuts[i] = i + 1;
  run(&other, s, n, max, cuts, n ? n - 1 : 0);
  if (strcmp(one.s, other.s) != 0) { same = 0; fprintf(stderr, "byte by byte differs:\n%s\n", other.s); }
  CHECK(same);
  free(cuts);
}

#define EXPECT(lit, want) expect_max(lit, sizeof(lit) - 1, 0, want)
#define EXPECT_MAX(lit, max, want) expect_max(lit, sizeof(lit) - 1, max, want)

static void test_fields(void) {
  EXPECT("data: hello\n\n", "message|hello|-\nlast=- retry=-1");
  EXPECT("event: chunk\ndata: a\n\ndata: b\n\n", "chunk|a|-\nmessage|b|-\nlast=- retry=-1");
  EXPECT("data: a\ndata: b\ndata\ndata:\n\n", "message|a\\0ab\\0a\\0a|-\nlast=- retry=-1");
  EXPECT("data:  two\ndata:x\n\n", "message| two\\0ax|-\nlast=- retry=-1");
  EXPECT("data\n\n", "message||-\nlast=- retry=-1");
  EXPECT(": ping\n:\ndata: x\n: mid\n\n", "message|x|-\nlast=- retry=-1");
  EXPECT("Data: x\nfoo: y\ndata : z\n\n", "last=- retry=-1");
  EXPECT("event: e\n\ndata: x\n\n", "message|x|-\nlast=- retry=-1");
  EXPECT("event:\ndata: x\n\n", "message|x|-\nlast=- retry=-1");
  EXPECT("event: a\nevent: b\ndata: x\n\n", "b|x|-\nlast=- retry=-1");
  EXPECT("data: a:b: c\n\n", "message|a:b: c|-\nlast=- retry=-1");
  EXPECT("data: x\n\n\n\n", "message|x|-\nlast=- retry=-1");
}

static void test_line_ends(void) {
  const char *want = "message|a\\0ab|-\nmessage|c|-\nlast=- retry=-1";
  EXPECT("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n", want);
  EXPECT("data: a\rdata: b\r\rdata: c\r\r", want);
  EXPECT("data: a\ndata: b\r\n\rdata: c\n\r\n", want);
  EXPECT("data: a\r\n\ndata: b\n\r\r\n", "message|a|-\nmessage|b|-\nlast=- retry=-1");
  /* CR then LF is one line end, LF then CR are two */
  EXPECT("data: x\r\n\r\n", "message|x|-\nlast=- retry=-1");
  EXPECT("data: x\n\r", "message|x|-\nlast=- retry=-1");
}

static void test_bom(void) {
  EXPECT("\xEF\xBB\xBF" "data: x\n\n", "message|x|-\nlast=- retry=-1");
  /* a second BOM is content: it makes an unknown field name */
  EXPECT("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n", "last=- retry=-1");
  EXPECT("data: x\n\n\xEF\xBB\xBF" "data: y\n\n", "message|x|-\nlast=- retry=-1");
  /* a partial BOM is content too */
  EXPECT("\xEF\xBB" "data: x\n\n", "last=- retry=-1");
  EXPECT("\xEF\n" "data: x\n\n", "message|x|-\nlast=- retry=-1");
  EXPECT("\xEF\xBB\n\ndata: x\n\n", "message|x|-\nlast=- retry=-1");
  EXPECT("\xEF\xBB\xBF", "last=- retry=-1");
  EXPECT("\xEF\xBB\xBF\r\n" "data: x\n\n", "message|x|-\nlast=- retry=-1");
}

static void test_ids(void) {
  EXPECT("id: 1\ndata: a\n\ndata: b\n\n", "message|a|1\nmessage|b|1\nlast=1 retry=-1");
  EXPECT("id: 1\n\ndata: b\n\n", "message|b|1\nlast=1 retry=-1");
  EXPECT("data: a\nid: 7\n\n", "message|a|7\nlast=7 retry=-1");
  EXPECT("id: 1\ndata: a\n\nid\ndata: b\n\n", "message|a|1\nmessage|b|-\nlast=- retry=-1");
  EXPECT("id: 1\ndata: a\n\nid:\n\n", "message|a|1\nlast=- retry=-1");
  EXPECT("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", "message|a|1\nmessage|b|1\nlast=1 retry=-1");
  /* an id in an unterminated block is not committed */
  EXPECT("id: 1\ndata: a\n\nid: 2\ndata: b\n", "message|a|1\nlast=1 retry=-1");
  EXPECT("id:  x \n\n", "last= x  retry=-1");
}

static void test_retry(void) {
  EXPECT("retry: 1000\n", "last=- retry=1000");
  EXPECT("retry: 1000\nretry: 10a\nretry:\nretry: -5\nretry: 2 \nretry: +3\n", "last=- retry=1000");
  EXPECT("retry:0\n", "last=- retry=0");
  EXPECT("retry: 99999999999999999999999\n", "last=- retry=9007199254740992");
  EXPECT("retry: 5\ndata: x\n\nretry: 7x\n\n", "message|x|-\nlast=- retry=5");
}

static void test_unterminated(void) {
  EXPECT("data: a\n\ndata: b", "message|a|-\nlast=- retry=-1");
  EXPECT("data: a\n\ndata: b\n", "message|a|-\nlast=- retry=-1");
  EXPECT("event: x\ndata: a\n", "last=- retry=-1");
  EXPECT("", "last=- retry=-1");
}

static void test_limits(void) {
  /* 7 = "data: x"; data 1 byte; events of exactly the limit pass */
  EXPECT_MAX("data: x\n\ndata: y\n\n", 7, "message|x|-\nmessage|y|-\nlast=- retry=-1");
  EXPECT_MAX("data: xx\n\ndata: y\n\n", 7, "!-1\nmessage|y|-\nlast=- retry=-1");
  /* data + line: second line pushes it over; the rest of the event is skipped */
  EXPECT_MAX("data: aaaa\ndata: bbbb\nid: 9\ndata: c\n\ndata: ok\n\n", 12,
             "!-1\nmessage|ok|-\nlast=- retry=-1");
  /* an id seen before the error is still committed by the blank line */
  EXPECT_MAX("id: 3\ndata: 0123456789abcdef\n\ndata: z\n\n", 12,
             "!-1\nmessage|z|3\nlast=3 retry=-1");
  /* comments count as a pending line too */
  EXPECT_MAX(": 0123456789abcdef\ndata: z\n\n", 12, "!-1\nlast=- retry=-1");
  EXPECT_MAX("event: abcdefgh\ndata: 1234\n\n", 16, "!-1\nlast=- retry=-1");
  EXPECT_MAX("data: 0123456789abcdef", 12, "!-1\nlast=- retry=-1");
  /* two oversized events: two errors */
  EXPECT_MAX("data: 0123456789\n\ndata: 0123456789\n\ndata: a\n\n", 12,
             "!-1\n!-1\nmessage|a|-\nlast=- retry=-1");
  EXPECT_MAX("\xEF\xBB" "xx\n" "data: a\n\n", 2, "!-1\nlast=- retry=-1");
}

static void test_zero_copy_and_remaining(void) {
  static const char s[] = "event: chunk\ndata: {\"a\":1}\n\ndata: b\n\n";
  sse_parser p;
  sse_event ev;
  const char *rest;
  sse_init(&p, 0, NULL, NULL);
  sse_input(&p, s, sizeof s - 1);
  CHECK(sse_next(&p, &ev) == SSE_EVENT);
  CHECK(ev.data >= s && ev.data < s + sizeof s); /* not copied */
  CHECK(ev.type >= s && ev.type < s + sizeof s);
  CHECK(ev.type_len == 5 && memcmp(ev.type, "chunk", 5) == 0);
  CHECK(sse_remaining(&p, &rest) == 9 && rest == s + 28);
  CHECK(sse_next(&p, &ev) == SSE_EVENT && ev.data_len == 1 && ev.data[0] == 'b');
  CHECK(sse_next(&p, &ev) == SSE_NEED_MORE);
  CHECK(sse_remaining(&p, NULL) == 0);
  /* reset forgets the id, finish keeps it */
  sse_input(&p, "id: 4\n\n", 7);
  CHECK(sse_next(&p, &ev) == SSE_NEED_MORE);
  sse_finish(&p);
  CHECK(sse_last_id(&p, NULL) != NULL);
  sse_reset(&p);
  CHECK(sse_last_id(&p, NULL) == NULL && sse_retry(&p) == -1);
  sse_free(&p);
  sse_free(&p); /* idempotent */
}

/* A reconnection: finish() ends one stream, the next starts afresh (BOM
 * allowed again, no pending CR) but keeps the committed id and retry. */
static void test_reconnect(void) {
  static const char a[] = "retry: 9\nid: 1\ndata: a\n\nid: 2\ndata: b\r", b[] = "\xEF\xBB\xBF\ndata: c\n\n";
  sse_parser p;
  out_t o;
  o.n = 0; o.s[0] = 0;
  sse_init(&p, 0, NULL, NULL);
  parse_chunk(&p, &o, a, sizeof a - 1);
  sse_finish(&p);
  parse_chunk(&p, &o, b, sizeof b - 1);
  put_tail(&p, &o);
  CHECK(strcmp(o.s, "message|a|1\nmessage|c|1\nlast=1 retry=9") == 0);
  sse_free(&p);
}

static int stop_after_one(void *ud, const sse_event *ev) { (void)ev; ++*(int *)ud; return 42; }

static void test_feed(void) {
  sse_parser p;
  int n = 0;
  sse_init(&p, 0, NULL, NULL);
  CHECK(sse_feed(&p, "data: a\n\ndata: b\n\n", 18, stop_after_one, &n) == 42);
  CHECK(n == 1 && sse_remaining(&p, NULL) == 9);
  sse_free(&p);
  sse_init(&p, 4, NULL, NULL);
  CHECK(sse_feed(&p, "data: long\n\n", 12, NULL, NULL) == SSE_ERR_TOO_LARGE);
  sse_free(&p);
}

/* An allocator that fails after `budget` calls: the engine must report
 * SSE_ERR_NOMEM and keep going, never crash or leak. */
static int budget;
static void *flaky(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  if (budget-- <= 0) return NULL;
  return realloc(ptr, nsize);
}

static void test_nomem(void) {
  static const char a[] = "id: 1\nevent: long", b[] = "type\ndata: x\ndata: y\n\ndata: z\n\n";
  int b0, saw_nomem = 0, saw_z = 0;
  for (b0 = 0; b0 < 6; b0++) {
    sse_parser p;
    sse_event ev;
    int rc;
    budget = b0;
    sse_init(&p, 0, flaky, NULL);
    sse_input(&p, a, sizeof a - 1);
    while ((rc = sse_next(&p, &ev)) != SSE_NEED_MORE) saw_nomem |= rc == SSE_ERR_NOMEM;
    sse_input(&p, b, sizeof b - 1);
    while ((rc = sse_next(&p, &ev)) != SSE_NEED_MORE) {
      saw_nomem |= rc == SSE_ERR_NOMEM;
      if (rc == SSE_EVENT && ev.data_len == 1 && ev.data[0] == 'z') saw_z = 1;
    }
    sse_free(&p);
  }
  CHECK(saw_nomem);
  CHECK(saw_z);
}

/* Comments only when asked: the text after ':' as sent, in order, also
 * when the line is split across chunks; sse_feed still skips them. */
static void test_comments(void) {
  static const char s[] = ": one\ndata: a\n:tw";
  sse_parser p;
  sse_event ev;
  int n = 0;
  sse_init(&p, 0, NULL, NULL);
  sse_input(&p, s, sizeof s - 1);
  CHECK(sse_next(&p, &ev) == SSE_NEED_MORE); /* off: nothing but the pending event */
  sse_reset(&p);
  sse_comments(&p, 1);
  sse_input(&p, s, sizeof s - 1);
  CHECK(sse_next(&p, &ev) == SSE_COMMENT && ev.data_len == 4 && memcmp(ev.data, " one", 4) == 0);
  CHECK(ev.type == NULL && ev.id == NULL);
  CHECK(sse_next(&p, &ev) == SSE_NEED_MORE);
  sse_input(&p, "o\n\n", 3);
  CHECK(sse_next(&p, &ev) == SSE_COMMENT && ev.data_len == 3 && memcmp(ev.data, "two", 3) == 0);
  CHECK(sse_next(&p, &ev) == SSE_EVENT && ev.data_len == 1 && ev.data[0] == 'a');
  CHECK(sse_next(&p, &ev) == SSE_NEED_MORE);
  CHECK(sse_feed(&p, ":x\ndata: b\n\n", 13, stop_after_one, &n) == 42 && n == 1);
  sse_free(&p);
}

int main(void) {
  test_fields();
  test_line_ends();
  test_bom();
  test_ids();
  test_retry();
  test_unterminated();
  test_limits();
  test_zero_copy_and_remaining();
  test_reconnect();
  test_feed();
  test_nomem();
  test_comments();
  printf("sse: %d passed, %d failed\n", passed, failed);
  return failed != 0;
}
