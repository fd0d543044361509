/* The raw libcurl peer for the request path: the same requests homie's
 * list_messages (keep-alive GET, one reused easy handle) and create_chat
 * (POST on a fresh connection each time, closed after its answer) make,
 * with the socket options homie's transport sets (TCP keep-alive), in a
 * plain C loop with no parsing. Prints "rps=<requests per second>" for
 * `seconds` of requests.
 * usage: curl_loop get|post URL SECONDS API_KEY */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

static size_t sink(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  *(size_t *)ud += size * n;
  return size * n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "post") != 0)) {
    fprintf(stderr, "usage: curl_loop get|post URL SECONDS API_KEY\n");
    return 2;
  }
  int post = strcmp(argv[1], "post") == 0;
  double seconds = atof(argv[3]);
  char key[512];
  snprintf(key, sizeof key, "x-api-key: %s", argv[4]);
  static const char body[] = "{\"chatbotId\":\"5e9c1a2b-3d4e-4f60-b2f2-9f4b1c2d3e4f\"}";
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "Expect:");
  h = curl_slist_append(h, "Accept: application/json");
  h = curl_slist_append(h, "User-Agent: curl-loop");
  h = curl_slist_append(h, key);
  if (post) h = curl_slist_append(h, "Content-Type: application/json");
  CURL *e = curl_easy_init();
  size_t got = 0;
  curl_easy_setopt(e, CURLOPT_URL, argv[2]);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (post) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    /* As homie sends: a new connection, closed once the answer is in (not
     * left in the cache until the next request's connect closes it). */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  }
  long n = 0, failed = 0;
  double t0 = now(), t = t0;
  while (t - t0 < seconds) {
    long code = 0;
    if (curl_easy_perform(e) != CURLE_OK) failed++;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) failed++;
    n++;
    t = now();
  }
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  curl_global_cleanup();
  if (failed) { fprintf(stderr, "curl_loop: %ld of %ld requests failed\n", failed, n); return 1; }
  printf("rps=%.1f bytes=%zu\n", n / (t - t0), got);
  return 0;
}
