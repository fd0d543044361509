/* The libcurl transport: one multi handle per client (homie.Multi) and one
 * easy handle per transfer (homie.Request). Shared between the bindings. */
#ifndef HOMIE_TRANSPORT_H
#define HOMIE_TRANSPORT_H

#include <stddef.h>
#include <curl/curl.h>

typedef struct hbuf {
  char *data;
  size_t len, cap;
} hbuf;

int hbuf_append(hbuf *b, const char *p, size_t n); /* 0 on success, -1 on ENOMEM */
void hbuf_free(hbuf *b);

struct hmulti;

typedef struct hreq {
  CURL *easy;
  struct hmulti *multi;        /* NULL once detached (done, closed, or multi gone) */
  struct hreq *prev, *next;    /* the multi's list of attached transfers */
  struct curl_slist *headers;
  hbuf body;                   /* response body (streams: bytes not yet taken) */
  hbuf head;                   /* raw header lines of the final response */
  size_t max_body;             /* non-stream: abort past this; stream: pause past this */
  long status;
  int stream, paused, headers_done, done, too_large, oom;
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
} hreq;

typedef struct hmulti {
  CURLM *multi;
  CURLSH *share;
  hreq *reqs;                  /* attached transfers */
  unsigned long progress;      /* bumped whenever any transfer gets bytes or ends */
} hmulti;

int hmulti_init(hmulti *m);              /* 0 or -1 */
void hmulti_close(hmulti *m);            /* idempotent; detaches every transfer */
int hmulti_step(hmulti *m, double wait); /* returns transfers still running, -1 on error */
int hreq_attach(hmulti *m, hreq *r);     /* 0 or -1 */
void hreq_close(hreq *r);                /* idempotent */
void hreq_resume(hreq *r);               /* unpause a stream once its buffer is drained */

#endif
