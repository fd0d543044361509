/* The floor under the concurrent-asks row: what libcurl and the kernel
 * alone spend on N asks at once, with no Lua. Each ask does the transfers
 * chat:ask does: open the chat's event stream (GET, kept until the reply
 * is final), once its head came send the message (POST on a fresh
 * connection, closed after, as homie sends), read the stream until the
 * final `message` event and the POST's answer are both in, then close the
 * stream. One multi handle driven through libcurl's socket interface and
 * epoll, as homie's transport drives it; no parsing beyond finding the
 * final event. Prints wall and CPU seconds (user + system) of the N asks
 * and the process's peak RSS; with TIMES in the environment, when heads,
 * final events and answers came (percentiles, seconds from the start).
 * usage: asks_loop BASE_URL API_KEY CHAT_IDS_FILE N
 *   CHAT_IDS_FILE: one chat id per line (at least N), made by the caller. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <curl/curl.h>

typedef struct ask {
  CURL *stream, *send;
  int head, final, answered, done;
  double t_head, t_final, t_answer;
  char tail[32];       /* the stream's last bytes, for a marker split across reads */
  size_t ntail;
  char *url_events, *url_send;
} ask;

#define DEADLINE 60  /* seconds for all N asks: a failure, not a hang */

static CURLM *multi;
static int epfd, running, left;
/* libcurl takes no multi calls from inside its callbacks: asks whose
 * stream may close now, and asks whose send may start now, wait here. */
static ask **ready, **heads;
static int nready, nheads;
static double timer_at = -1;
static struct curl_slist *stream_headers, *send_headers;
static const char *BODY = "{\"message\":\"Does the blue hoodie come in size L?\","
                          "\"currentUrl\":\"https://store.com/products/blue-hoodie\"}";

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *known) {
  struct epoll_event ev;
  (void)e; (void)ud;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    curl_multi_assign(multi, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof ev);
  ev.data.fd = s;
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
  if (epoll_ctl(epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0 &&
      epoll_ctl(epfd, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev) != 0)
    return -1;
  if (!known) curl_multi_assign(multi, s, multi);
  return 0;
}

static int on_timer(CURLM *m, long ms, void *ud) {
  (void)m; (void)ud;
  timer_at = ms < 0 ? -1 : mono() + ms / 1000.0;
  return 0;
}

static void finish(ask *a) {
  if (a->done || !a->final || !a->answered) return;
  a->done = 1;
  curl_multi_remove_handle(multi, a->stream);
  curl_easy_cleanup(a->stream);
  a->stream = NULL;
  left--;
}

static size_t on_stream(char *p, size_t size, size_t n, void *ud) {
  ask *a = ud;
  size_t len = size * n;
  static const char MARK[] = "event: message\n";
  char buf[64];
  size_t k = len < 31 ? len : 31;
  /* the marker within the tail of the last read and the start of this one, or in this one */
  memcpy(buf, a->tail, a->ntail);
  memcpy(buf + a->ntail, p, k);
  buf[a->ntail + k] = 0;
  if (!a->final && (strstr(buf, MARK) || memmem(p, len, MARK, sizeof MARK - 1))) {
    a->final = 1;
    a->t_final = mono();
    if (a->answered) ready[nready++] = a;
  }
  k = len < 16 ? len : 16;
  memcpy(a->tail, p + len - k, k);
  a->ntail = k;
  return len;
}

static size_t on_answer(char *p, size_t size, size_t n, void *ud) {
  (void)p; (void)ud;
  return size * n;
}

static size_t on_stream_header(char *p, size_t size, size_t n, void *ud) {
  ask *a = ud;
  size_t len = size * n;
  if (len <= 2 && !a->head) {
    a->head = 1;
    a->t_head = mono();
    heads[nheads++] = a;
  }
  (void)p;
  return len;
}

static void send_message(ask *a) {
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, a->url_send);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, BODY);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, send_headers);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)a);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  a->send = e;
  curl_multi_add_handle(multi, e);
}

static void collect(void) {
  CURLMsg *msg;
  int q;
  while ((msg = curl_multi_info_read(multi, &q))) {
    if (msg->msg != CURLMSG_DONE) continue;
    ask *a = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&a);
    if (msg->easy_handle == a->send) {
      long code = 0;
      curl_easy_getinfo(a->send, CURLINFO_RESPONSE_CODE, &code);
      if (code != 201) { fprintf(stderr, "send: HTTP %ld (%d)\n", code, msg->data.result); exit(1); }
      curl_multi_remove_handle(multi, a->send);
      curl_easy_cleanup(a->send);
      a->send = NULL;
      a->answered = 1;
      a->t_answer = mono();
      if (a->final) ready[nready++] = a;
    } else {
      fprintf(stderr, "stream ended early (%d)\n", msg->data.result);
      exit(1);
    }
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: asks_loop BASE_URL API_KEY CHAT_IDS_FILE N\n"); return 2; }
  int n = atoi(argv[4]);
  FILE *f = fopen(argv[3], "r");
  if (!f || n < 1) { fprintf(stderr, "asks_loop: cannot read %s, or N < 1\n", argv[3]); return 2; }
  char key[256];
  snprintf(key, sizeof key, "x-api-key: %s", argv[2]);
  ask *asks = calloc((size_t)n, sizeof *asks);
  ready = calloc((size_t)n, sizeof *ready);
  heads = calloc((size_t)n, sizeof *heads);
  char line[128];
  for (int i = 0; i < n; i++) {
    if (!fgets(line, sizeof line, f)) { fprintf(stderr, "fewer than %d chat ids\n", n); return 2; }
    line[strcspn(line, "\r\n")] = 0;
    size_t m = strlen(argv[1]) + strlen(line) + 64;
    asks[i].url_events = malloc(m);
    asks[i].url_send = malloc(m);
    snprintf(asks[i].url_events, m, "%s/v1/chats/%s/messages/events", argv[1], line);
    snprintf(asks[i].url_send, m, "%s/v1/chats/%s/messages", argv[1], line);
  }
  fclose(f);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  stream_headers = curl_slist_append(NULL, "Accept: text/event-stream");
  stream_headers = curl_slist_append(stream_headers, "Cache-Control: no-cache");
  stream_headers = curl_slist_append(stream_headers, key);
  send_headers = curl_slist_append(NULL, "Content-Type: application/json");
  send_headers = curl_slist_append(send_headers, key);
  send_headers = curl_slist_append(send_headers, "Expect:");
  multi = curl_multi_init();
  epfd = epoll_create1(0);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);

  double t0 = mono(), c0 = cpu();
  left = n;
  for (int i = 0; i < n; i++) {
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, asks[i].url_events);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, stream_headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &asks[i]);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_stream_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &asks[i]);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&asks[i]);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 1024L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    asks[i].stream = e;
    curl_multi_add_handle(multi, e);
  }
  struct epoll_event ev[64];
  while (left > 0) {
    if (mono() - t0 > DEADLINE) {
      fprintf(stderr, "asks_loop: %d of %d asks not done after %d s\n", left, n, DEADLINE);
      return 1;
    }
    int ms = 100;
    if (timer_at >= 0) {
      double d = (timer_at - mono()) * 1000;
      ms = d <= 0 ? 0 : (int)d + 1;
      if (ms > 100) ms = 100;
    }
    int k = epoll_wait(epfd, ev, 64, ms);
    for (int i = 0; i < k; i++) {
      int what = ((ev[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((ev[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((ev[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, ev[i].data.fd, what, &running);
    }
    if (timer_at >= 0 && mono() >= timer_at) {
      timer_at = -1;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collect();
    while (nready > 0) finish(ready[--nready]);
    while (nheads > 0) send_message(heads[--nheads]);
  }
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  printf("wall=%.4f cpu=%.3f peak_kb=%ld\n", mono() - t0, cpu() - c0, u.ru_maxrss);
  if (getenv("TIMES")) {
    double *h = calloc((size_t)n, sizeof *h), *fi = calloc((size_t)n, sizeof *fi), *an = calloc((size_t)n, sizeof *an);
    for (int i = 0; i < n; i++) { h[i] = asks[i].t_head - t0; fi[i] = asks[i].t_final - t0; an[i] = asks[i].t_answer - t0; }
    qsort(h, (size_t)n, sizeof *h, cmp); qsort(fi, (size_t)n, sizeof *fi, cmp); qsort(an, (size_t)n, sizeof *an, cmp);
    printf("head p10 %.3f p50 %.3f max %.3f | final p10 %.3f p50 %.3f max %.3f | answer p10 %.3f max %.3f\n",
           h[n / 10], h[n / 2], h[n - 1], fi[n / 10], fi[n / 2], fi[n - 1], an[n / 10], an[n - 1]);
  }
  curl_multi_cleanup(multi);
  return 0;
}
