/* libcurl multi/easy handling, with no Lua in sight: callbacks only record
 * bytes and flags, so no Lua error can ever unwind through libcurl. */
/* epoll on Linux; the portable poll() path elsewhere (macOS, the BSDs), and
 * on Linux too when built with -DHOMIE_NO_EPOLL (`make portable` tests it). */
#if defined(__linux__) && !defined(HOMIE_NO_EPOLL)
#define HOMIE_EPOLL 1
#endif
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/select.h>
#ifdef HOMIE_EPOLL
#include <sys/epoll.h>
#include <unistd.h>
#endif
#include "transport.h"
#include "hclock.h"

/* The most room an answer's Content-Length reserves up front. */
#define HBUF_PRESIZE_MAX ((size_t)1 << 20)

int hbuf_append(hbuf *b, const char *p, size_t n) {
  if (n == 0) return 0;
  if (b->len + n > b->cap) {
    /* Small first: most bodies and stream chunks are a few hundred bytes. */
    size_t cap = b->cap ? b->cap : 256;
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

/* Gives back the unused part: a buffer that is complete (a response's
 * head) and kept for the transfer's life. */
void hbuf_fit(hbuf *b) {
  if (b->cap > b->len && b->len > 0) {
    char *d = realloc(b->data, b->len);
    if (!d) return; /* the bigger buffer still holds it */
    b->data = d;
    b->cap = b->len;
  }
}

void hbuf_free(hbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

hhdrs *hhdrs_new(int n, size_t bytes) {
  hhdrs *h = malloc(sizeof *h + (size_t)n * sizeof h->nodes[0] + bytes);
  if (!h) return NULL;
  h->refs = 1;
  h->n = n;
  return h;
}

void hhdrs_release(hhdrs *h) {
  if (h && --h->refs == 0) free(h);
}

double hmono(void) { return homie_now(); }  /* the one clock: hclock.h */

/* Puts r on its multi's ready list, once per step. */
static void mark(hreq *r) {
  hmulti *m = r->multi;
  if (!m) return;
  m->progress++;
  if (r->mark == m->epoch) return;
  if (m->nready == m->ready_cap) {
    size_t cap = m->ready_cap ? m->ready_cap * 2 : 64;
    unsigned long *d = realloc(m->ready, cap * sizeof *d);
    if (!d) return; /* the waiter's own deadline still wakes it */
    m->ready = d;
    m->ready_cap = cap;
  }
  r->mark = m->epoch;
  m->ready[m->nready++] = r->id;
}

/* The multi handle a transfer runs in. */
static CURLM *multi_of(hmulti *m, hreq *r) { return r->fresh ? m->fresh : m->multi; }

#ifdef HOMIE_EPOLL
/* m->fds[fd]: the events the epoll set holds for fd (HFD_IN, HFD_OUT), the
 * multi it was registered for (HFD_FRESH), and HFD_PARKED while libcurl
 * has dropped it but it stays in the set. */
#define HFD_IN 1
#define HFD_OUT 2
#define HFD_FRESH 4
#define HFD_PARKED 8

/* m->fds[s], grown to cover s; NULL when it cannot be (then nothing is
 * parked, and every change is an epoll_ctl as libcurl asks). */
static unsigned char *fd_slot(hmulti *m, curl_socket_t s) {
  if (s < 0) return NULL;
  if ((size_t)s >= m->nfds) {
    size_t n = m->nfds ? m->nfds : 64;
    while (n <= (size_t)s) n *= 2;
    unsigned char *d = realloc(m->fds, n);
    if (!d) return NULL;
    memset(d + m->nfds, 0, n - m->nfds);
    m->fds = d;
    m->nfds = n;
  }
  return &m->fds[s];
}

static void fd_forget(hmulti *m, curl_socket_t s) {
  if (s >= 0 && (size_t)s < m->nfds) m->fds[s] = 0;
}

/* Both multis' sockets share one epoll set; an event's data is the socket
 * and, above bit 32, which multi it belongs to (1: `fresh`). */
static int on_socket_of(hmulti *m, int fresh, CURL *e, curl_socket_t s, int what, void *known) {
  CURLM *cm = fresh ? m->fresh : m->multi;
  struct epoll_event ev;
  unsigned char *slot = fd_slot(m, s);
  if (what == CURL_POLL_REMOVE) {
    /* Parked instead when a transfer of this client has its answer on it:
     * a keep-alive connection going back to the pool, kept in the set for
     * the next transfer; or one about to be closed, which on_close
     * forgets (the kernel drops a closed descriptor from the set). A
     * socket still connecting is not: libcurl may close one of those
     * without the close callback. */
    hreq *r = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
    if (slot && *slot && r && r->multi == m && r->headers_done) {
      *slot |= HFD_PARKED;
    } else {
      /* The socket may be closed already (then the kernel dropped it). */
      epoll_ctl(m->epfd, EPOLL_CTL_DEL, s, NULL);
      if (slot) *slot = 0;
    }
    curl_multi_assign(cm, s, NULL);
    return 0;
  }
  unsigned char want = (unsigned char)(((what & CURL_POLL_IN) ? HFD_IN : 0) | ((what & CURL_POLL_OUT) ? HFD_OUT : 0) |
                                       (fresh ? HFD_FRESH : 0));
  if (slot && (*slot & HFD_PARKED)) {
    /* Back from the pool: still in the set, with the events it had. */
    known = slot;
    if ((*slot & ~HFD_PARKED) == want) {
      *slot = want;
      curl_multi_assign(cm, s, m);
      return 0;
    }
  }
  memset(&ev, 0, sizeof ev);
  ev.data.u64 = (uint64_t)(uint32_t)s | ((uint64_t)fresh << 32);
  ev.events = ((want & HFD_IN) ? EPOLLIN : 0) | ((want & HFD_OUT) ? EPOLLOUT : 0);
  if (epoll_ctl(m->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0) {
    /* A descriptor number reused after a close: try the other operation. */
    if (epoll_ctl(m->epfd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) != 0) {
      if (slot) *slot = 0;
      return -1;
    }
  }
  /* No events at all would read as "not in the set": not parked then. */
  if (slot) *slot = (want & (HFD_IN | HFD_OUT)) ? want : 0;
  curl_multi_assign(cm, s, m);
  return 0;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *known) {
  return on_socket_of(ud, 0, e, s, what, known);
}

static int on_fresh_socket(CURL *e, curl_socket_t s, int what, void *ud, void *known) {
  return on_socket_of(ud, 1, e, s, what, known);
}

/* Every connection of the client closes its socket here (CURLOPT_CLOSESOCKETFUNCTION). */
static int on_close(void *ud, curl_socket_t s) {
  fd_forget(ud, s);
  return close(s);
}

/* ud: the multi's timer_at or fresh_timer_at. */
static int on_timer(CURLM *multi, long ms, void *ud) {
  (void)multi;
  *(double *)ud = ms < 0 ? -1 : hmono() + (double)ms / 1000;
  return 0;
}
#endif

int hmulti_init(hmulti *m) {
  memset(m, 0, sizeof *m);
  m->epfd = -1;
  m->timer_at = m->fresh_timer_at = -1;
  m->epoch = 1;
  m->multi = curl_multi_init();
  m->fresh = curl_multi_init();
  m->share = curl_share_init();
  if (!m->multi || !m->fresh || !m->share) { hmulti_close(m); return -1; }
#ifdef HOMIE_EPOLL
  m->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (m->epfd < 0) { hmulti_close(m); return -1; }
  curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, &m->timer_at);
  curl_multi_setopt(m->fresh, CURLMOPT_SOCKETFUNCTION, on_fresh_socket);
  curl_multi_setopt(m->fresh, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m->fresh, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(m->fresh, CURLMOPT_TIMERDATA, &m->fresh_timer_at);
#endif
  /* h2: as many streams on one connection as the server allows (its
   * SETTINGS limit), not libcurl's own default of 100. */
  curl_multi_setopt(m->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
  /* DNS answers and TLS sessions are reused across this client's transfers;
   * connections are pooled by the multi handle itself. */
  curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(m->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 0;
}

static void unqueue(hmulti *m, hreq *r) {
  if (r->qprev) r->qprev->qnext = r->qnext; else m->held_head = r->qnext;
  if (r->qnext) r->qnext->qprev = r->qprev; else m->held_tail = r->qprev;
  r->qprev = r->qnext = NULL;
  r->held = 0;
}

static void detach(hreq *r) {
  hmulti *m = r->multi;
  if (!m) return;
  if (m->probe == r) m->probe = NULL;
  if (r->held) unqueue(m, r);
  else curl_multi_remove_handle(multi_of(m, r), r->easy);
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
  while (m->nspare > 0) curl_easy_cleanup(m->spare[--m->nspare]);
  hhdrs_release(m->last_hdrs);
  m->last_hdrs = NULL;
  if (m->multi) { curl_multi_cleanup(m->multi); m->multi = NULL; }
  if (m->fresh) { curl_multi_cleanup(m->fresh); m->fresh = NULL; }
  if (m->share) { curl_share_cleanup(m->share); m->share = NULL; }
#ifdef HOMIE_EPOLL
  if (m->epfd >= 0) { close(m->epfd); m->epfd = -1; }
  free(m->fds); /* after curl_multi_cleanup: its connections close through on_close */
  m->fds = NULL;
  m->nfds = 0;
#endif
  free(m->ready);
  m->ready = NULL;
  m->nready = m->ready_cap = 0;
}

/* Moves finished transfers out of the multi so their connections go back to
 * the pool at once. */
static void collect_from(CURLM *cm) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(cm, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    hreq *r = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (!r) continue;
    r->result = msg->data.result;
    r->done = 1;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    mark(r);
    detach(r);
  }
}

static void collect(hmulti *m) {
  collect_from(m->multi);
  collect_from(m->fresh);
}

#ifdef HOMIE_EPOLL
static int due(double at) { return at >= 0 && hmono() >= at; }

/* A multi's timer, when due (a new transfer asks for it at once; a few
 * rounds cover the timers that action sets again for 0 ms). */
static int run_timer_of(CURLM *cm, double *at, int *running) {
  for (int i = 0; i < 4 && due(*at); i++) {
    *at = -1;
    if (curl_multi_socket_action(cm, CURL_SOCKET_TIMEOUT, 0, running) != CURLM_OK) return -1;
  }
  return 0;
}

static int run_timer(hmulti *m) {
  if (run_timer_of(m->multi, &m->timer_at, &m->running) != 0) return -1;
  return run_timer_of(m->fresh, &m->fresh_timer_at, &m->fresh_running);
}

/* The earlier of two times (< 0: none). */
static double earlier(double a, double b) { return a < 0 || (b >= 0 && b < a) ? b : a; }

static int ms_until(double at, double wait) {
  double t = wait;
  if (at >= 0 && at - hmono() < t) t = at - hmono();
  if (t <= 0) return 0;
  if (t > 3600) return 3600000;
  int ms = (int)(t * 1000);
  return (double)ms < t * 1000 ? ms + 1 : ms; /* rounded up: never wake early */
}
#endif

/* A mux transfer's sockets come from here: it notes that the transfer
 * opens a connection of its own (libcurl asks at once, while deciding). */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
  (void)purpose;
  ((hreq *)ud)->opened = 1;
  return socket(a->family, a->socktype, a->protocol);
}

void hreq_multiplex(hreq *r) {
  r->mux = 1;
  curl_easy_setopt(r->easy, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETDATA, r);
}

/* Lets libcurl act on what is due now (a transfer just added decides at
 * once whether it reuses a connection or opens one). */
static int kick(hmulti *m) {
#ifdef HOMIE_EPOLL
  m->timer_at = -1;
  return curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &m->running) == CURLM_OK ? 0 : -1;
#else
  return curl_multi_perform(m->multi, &m->running) == CURLM_OK ? 0 : -1;
#endif
}

/* How long held transfers wait, past the probe's TLS handshake, for the
 * probe's answer. The server's SETTINGS (its concurrent-stream limit)
 * come after its handshake and before any answer; transfers let onto the
 * connection before libcurl has read them can exceed the limit, and the
 * server refuses each extra stream (libcurl then retries it on a
 * connection of its own). An answer that is slower than this (a stream
 * head the server holds back) releases them anyway. */
#define HMUX_SETTINGS_WAIT 0.5

/* A probe is settled once it shares a connection (or waits for one being
 * set up, which libcurl's PIPEWAIT handles), or has an answer on its own
 * new connection (so the server's SETTINGS were read first), or ended, or
 * HMUX_SETTINGS_WAIT passed since its TLS handshake. */
static int settled(hreq *r) {
  curl_off_t tls = 0;
  if (!r->opened || r->done || r->headers_done) return 1;
  if (r->tls_at == 0) {
    curl_easy_getinfo(r->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
    if (tls <= 0) return 0;
    r->tls_at = hmono();
  }
  return hmono() - r->tls_at >= HMUX_SETTINGS_WAIT;
}

/* When a wait must end to release held transfers (-1: no such time). */
static double release_at(hmulti *m) {
  if (!m->held_head || !m->probe || m->no_mux || settled(m->probe) || m->probe->tls_at == 0) return -1;
  return m->probe->tls_at + HMUX_SETTINGS_WAIT;
}

static int add(hmulti *m, hreq *r) {
  if (curl_multi_add_handle(multi_of(m, r), r->easy) != CURLM_OK) return -1;
  if (r->mux && !m->no_mux) {
    m->probe = r;
    if (kick(m) != 0) {
      m->probe = NULL;
      curl_multi_remove_handle(m->multi, r->easy);
      return -1;
    }
  }
  return 0;
}

/* Hands held transfers to libcurl, one at a time, while none is opening a
 * connection; all of them once the server turned out not to speak h2. */
static int release(hmulti *m) {
  while (m->held_head) {
    if (m->probe && !m->no_mux && !settled(m->probe)) return 0;
    m->probe = NULL;
    hreq *r = m->held_head;
    unqueue(m, r);
    if (add(m, r) != 0) {
      /* As if it had failed at once: its waiter sees it done. */
      r->done = 1;
      r->result = CURLE_OUT_OF_MEMORY;
      mark(r);
      detach(r);
    }
  }
  return 0;
}

#ifndef HOMIE_EPOLL
static int perform(hmulti *m) {
  if (curl_multi_perform(m->multi, &m->running) != CURLM_OK) return -1;
  if (curl_multi_perform(m->fresh, &m->fresh_running) != CURLM_OK) return -1;
  collect(m);
  return 0;
}

/* Waits up to ms on the shared multi's sockets and on the fresh multi's
 * (at most HFRESH_FDS of them, from curl_multi_fdset; past that, and for
 * its timer, the wait is cut to when the fresh multi wants a call). */
#define HFRESH_FDS 64
static int poll_both(hmulti *m, int ms) {
  struct curl_waitfd extra[HFRESH_FDS];
  unsigned n = 0;
  long fresh_ms = -1;
  if (m->fresh_running > 0) {
    fd_set r, w, x;
    int maxfd = -1;
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
    if (curl_multi_fdset(m->fresh, &r, &w, &x, &maxfd) != CURLM_OK) return -1;
    for (int fd = 0; fd <= maxfd && n < HFRESH_FDS; fd++) {
      short ev = (short)((FD_ISSET(fd, &r) ? CURL_WAIT_POLLIN : 0) | (FD_ISSET(fd, &w) ? CURL_WAIT_POLLOUT : 0) |
                         (FD_ISSET(fd, &x) ? CURL_WAIT_POLLPRI : 0));
      if (!ev) continue;
      extra[n].fd = fd;
      extra[n].events = ev;
      extra[n++].revents = 0;
    }
    if (curl_multi_timeout(m->fresh, &fresh_ms) != CURLM_OK) return -1;
    if (n == HFRESH_FDS || maxfd < 0) fresh_ms = fresh_ms < 0 || fresh_ms > 5 ? 5 : fresh_ms;
  }
  if (fresh_ms >= 0 && fresh_ms < ms) ms = (int)fresh_ms;
  return curl_multi_poll(m->multi, extra, n, ms, NULL) == CURLM_OK ? 0 : -1;
}
#endif

int hmulti_step(hmulti *m, double wait) {
  if (!m->multi) return -1;
  if (release(m) != 0) return -1;
#ifdef HOMIE_EPOLL
  struct epoll_event ev[64];
  if (run_timer(m) != 0) return -1;
  collect(m);
  double due = release_at(m);
  if (due >= 0 && due - hmono() < wait) wait = due - hmono();
  int n = epoll_wait(m->epfd, ev, 64, m->nready ? 0 : ms_until(earlier(m->timer_at, m->fresh_timer_at), wait));
  if (n < 0 && errno != EINTR) return -1;
  for (int i = 0; i < n; i++) {
    curl_socket_t fd = (curl_socket_t)(uint32_t)ev[i].data.u64;
    int fresh = (int)(ev[i].data.u64 >> 32);
    if ((size_t)fd < m->nfds && (m->fds[fd] & HFD_PARKED)) {
      /* An idle pooled connection (the server closed it, say): libcurl
       * looks at it when it reuses it; until then it leaves the set. */
      epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
      m->fds[fd] = 0;
      continue;
    }
    int what = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
               ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    if (curl_multi_socket_action(fresh ? m->fresh : m->multi, fd, what, fresh ? &m->fresh_running : &m->running) !=
        CURLM_OK)
      return -1;
  }
  if (run_timer(m) != 0) return -1;
  collect(m);
  if (release(m) != 0) return -1;
#else
  unsigned long before = m->progress;
  if (perform(m) != 0) return -1;
  /* Something happened that a waiter may be waiting for: let it look
   * before sleeping in poll (which would not wake for bytes already read). */
  double due = release_at(m);
  if (due >= 0 && due - hmono() < wait) wait = due - hmono();
  if (wait > 0 && m->progress == before) {
    int ms = wait > 3600 ? 3600000 : (int)(wait * 1000 + 0.5);
    if (poll_both(m, ms) != 0 || perform(m) != 0) return -1;
  }
  if (release(m) != 0) return -1;
#endif
  return m->running + m->fresh_running;
}

void hmulti_drain(hmulti *m) {
  m->nready = 0;
  m->epoch++;
}

void hmulti_wait_any(hmulti **ms, int n, double wait) {
#ifdef HOMIE_EPOLL
  struct pollfd fds[64];
  double at = -1;
  int k = 0;
  for (int i = 0; i < n && k < 64; i++) {
    if (!ms[i]->multi) continue;
    if (ms[i]->nready) return;
    at = earlier(at, earlier(ms[i]->timer_at, ms[i]->fresh_timer_at));
    double due = release_at(ms[i]);
    if (due >= 0 && (at < 0 || due < at)) at = due;
    fds[k].fd = ms[i]->epfd;
    fds[k].events = POLLIN;
    fds[k++].revents = 0;
  }
  poll(fds, (nfds_t)k, ms_until(at, wait));
#else
  /* Without an epoll set per multi, give each a short slice. */
  for (int i = 0; i < n; i++) {
    if (ms[i]->multi) hmulti_step(ms[i], wait / n < 0.005 ? wait / n : 0.005);
  }
#endif
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
  /* A complete answer is looked at when it ends; a stream at every chunk. */
  if (r->stream) mark(r);
  return len;
}

/* Content-Length's value when the line is that header, else 0. */
static size_t content_length(const char *p, size_t len) {
  static const char name[] = "content-length:";
  size_t i, n = 0;
  if (len < sizeof name) return 0;
  for (i = 0; i < sizeof name - 1; i++) {
    if (tolower((unsigned char)p[i]) != name[i]) return 0;
  }
  while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
  for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
    if (n > HBUF_PRESIZE_MAX) return HBUF_PRESIZE_MAX + 1; /* capped below */
    n = n * 10 + (size_t)(p[i] - '0');
  }
  return n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  hreq *r = ud;
  size_t len = size * n;
  if (!r->stream && r->body.cap == 0 && (p[0] == 'C' || p[0] == 'c')) {
    /* An answer's body is read whole: room for all of it at once, instead
     * of a realloc per doubling. Only a hint (a compressed body grows
     * past it), never past max_body, and bounded, so a server that
     * promises much and sends little costs little. */
    size_t want = content_length(p, len);
    if (want > r->max_body) want = r->max_body;
    if (want > HBUF_PRESIZE_MAX) want = HBUF_PRESIZE_MAX;
    if (want > 0) {
      char *d = malloc(want);
      if (d) { r->body.data = d; r->body.cap = want; }
    }
  }
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    /* A new response (after 1xx or an auth retry): forget the old block. */
    r->head.len = 0;
    r->headers_done = 0;
  } else if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) {
      long version = 0;
      curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
      if (r->mux && r->multi && version != CURL_HTTP_VERSION_2_0) r->multi->no_mux = 1;
      r->headers_done = 1;
      r->status = code;
      hbuf_fit(&r->head);
      mark(r);
    }
    return len;
  }
  if (hbuf_append(&r->head, p, len) != 0) { r->oom = 1; return 0; }
  return len;
}

CURL *hmulti_easy(hmulti *m, unsigned *shape) {
  if (m->nspare > 0) {
    m->nspare--;
    *shape = m->spare_shape[m->nspare];
    return m->spare[m->nspare];
  }
  *shape = 0;
  return curl_easy_init();
}

int hreq_attach(hmulti *m, hreq *r) {
  /* The data pointers name this transfer; a reused handle (r->reused)
   * kept the functions, and the socket close data of this same multi. */
  curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
  curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(r->easy, CURLOPT_SHARE, m->share);
  if (!r->reused) {
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
#ifdef HOMIE_EPOLL
    curl_easy_setopt(r->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    curl_easy_setopt(r->easy, CURLOPT_CLOSESOCKETDATA, m);
#endif
  }
  r->id = ++m->next_id;
  if (r->mux && !m->no_mux && (m->probe || m->held_head)) {
    r->held = 1;
    r->qprev = m->held_tail;
    if (m->held_tail) m->held_tail->qnext = r; else m->held_head = r;
    m->held_tail = r;
  } else if (add(m, r) != 0) {
    return -1;
  }
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

/* An idle handle that keeps its options names nothing of the request that
 * is about to be freed (its data pointers, its error buffer, its header
 * list): the next request sets them all again (hreq_attach, set_own). */
static void unbind(CURL *e) {
  curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
}

void hreq_close(hreq *r, hmulti *owner) {
  detach(r);
  if (r->easy) {
    /* The handle (and its allocations) goes to the owner's next transfer.
     * Not after an h2 stream: with libcurl 7.88.1 a reset handle that
     * served one writes a later transfer's data past its receive buffer
     * (valgrind, a mix of sends, reads and streams over h2 run three
     * times). It keeps this transfer's options when they have a shape:
     * the next request of the same shape sets only what it may change
     * (lrequest.c, set_options), one of another shape resets it then. A
     * request without a shape leaves nothing of its options behind. */
    if (owner && owner->multi && owner->nspare < HMULTI_SPARE && !r->mux) {
      if (!r->shape) curl_easy_reset(r->easy);
      else unbind(r->easy);
      owner->spare_shape[owner->nspare] = r->shape;
      owner->spare[owner->nspare++] = r->easy;
    } else {
      curl_easy_cleanup(r->easy);
    }
    r->easy = NULL;
  }
  hhdrs_release(r->hdrs);
  r->hdrs = NULL;
  hbuf_free(&r->body);
  hbuf_free(&r->head);
}
