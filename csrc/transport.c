/* libcurl multi/easy handling, with no Lua in sight: callbacks only record
 * bytes and flags, so no Lua error can ever unwind through libcurl. */
#include <stdlib.h>
#include <string.h>
#include "transport.h"

int hbuf_append(hbuf *b, const char *p, size_t n) {
  if (n == 0) return 0;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void hbuf_free(hbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int hmulti_init(hmulti *m) {
  m->reqs = NULL;
  m->multi = curl_multi_init();
  m->share = curl_share_init();
  if (!m->multi || !m->share) { hmulti_close(m); return -1; }
  /* DNS answers and TLS sessions are reused across this client's transfers;
   * connections are pooled by the multi handle itself. */
  curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 0;
}

static void detach(hreq *r) {
  hmulti *m = r->multi;
  if (!m) return;
  curl_multi_remove_handle(m->multi, r->easy);
  /* Release the share too: curl_share_cleanup refuses (and the share
   * leaks) while any easy handle still points at it. */
  curl_easy_setopt(r->easy, CURLOPT_SHARE, NULL);
  if (r->prev) r->prev->next = r->next; else m->reqs = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  r->multi = NULL;
}

void hmulti_close(hmulti *m) {
  while (m->reqs) {
    hreq *r = m->reqs;
    detach(r);
    if (!r->done) {
      r->done = 1;
      r->result = CURLE_ABORTED_BY_CALLBACK;
      strcpy(r->errbuf, "client closed");
    }
  }
  if (m->multi) { curl_multi_cleanup(m->multi); m->multi = NULL; }
  if (m->share) { curl_share_cleanup(m->share); m->share = NULL; }
}

/* Moves finished transfers out of the multi so their connections go back to
 * the pool at once. */
static void collect(hmulti *m) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    hreq *r = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (!r) continue;
    r->result = msg->data.result;
    r->done = 1;
    m->progress++;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    detach(r);
  }
}

int hmulti_step(hmulti *m, double wait) {
  int running = 0;
  if (!m->multi) return -1;
  unsigned long before = m->progress;
  if (curl_multi_perform(m->multi, &running) != CURLM_OK) return -1;
  collect(m);
  /* Something happened that a waiter may be waiting for: let it look
   * before sleeping in poll (which would not wake for bytes already read). */
  if (wait > 0 && m->progress == before) {
    int ms = wait > 3600 ? 3600000 : (int)(wait * 1000 + 0.5);
    if (curl_multi_poll(m->multi, NULL, 0, ms, NULL) != CURLM_OK) return -1;
    if (curl_multi_perform(m->multi, &running) != CURLM_OK) return -1;
    collect(m);
  }
  return running;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  hreq *r = ud;
  size_t len = size * n;
  if (r->stream) {
    /* Back-pressure instead of unbounded growth: curl keeps the bytes and
     * delivers them again after hreq_resume. */
    if (r->body.len > 0 && r->body.len + len > r->max_body) {
      r->paused = 1;
      return CURL_WRITEFUNC_PAUSE;
    }
  } else if (r->body.len + len > r->max_body) {
    r->too_large = 1;
    return 0;
  }
  if (hbuf_append(&r->body, p, len) != 0) { r->oom = 1; return 0; }
  if (r->multi) r->multi->progress++;
  return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  hreq *r = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    /* A new response (after 1xx or an auth retry): forget the old block. */
    r->head.len = 0;
    r->headers_done = 0;
  } else if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) {
      r->headers_done = 1;
      r->status = code;
      if (r->multi) r->multi->progress++;
    }
    return len;
  }
  if (hbuf_append(&r->head, p, len) != 0) { r->oom = 1; return 0; }
  return len;
}

int hreq_attach(hmulti *m, hreq *r) {
  curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
  curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(r->easy, CURLOPT_SHARE, m->share);
  if (curl_multi_add_handle(m->multi, r->easy) != CURLM_OK) return -1;
  r->multi = m;
  r->prev = NULL;
  r->next = m->reqs;
  if (m->reqs) m->reqs->prev = r;
  m->reqs = r;
  return 0;
}

void hreq_resume(hreq *r) {
  if (r->paused && r->easy && r->multi) {
    r->paused = 0;
    curl_easy_pause(r->easy, CURLPAUSE_CONT);
  }
}

void hreq_close(hreq *r) {
  detach(r);
  if (r->easy) { curl_easy_cleanup(r->easy); r->easy = NULL; }
  if (r->headers) { curl_slist_free_all(r->headers); r->headers = NULL; }
  hbuf_free(&r->body);
  hbuf_free(&r->head);
}
