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
void hbuf_fit(hbuf *b);    /* capacity down to length */
void hbuf_free(hbuf *b);

struct hmulti;

/* A request's header list in one block: its nodes, then their strings.
 * Shared while identical: a client's consecutive requests mostly send the
 * same headers (a thousand streams opened in a row: one list, not a
 * thousand). libcurl only reads it; the last holder frees it. */
typedef struct hhdrs {
  size_t refs;
  int n;
  struct curl_slist nodes[];
} hhdrs;

hhdrs *hhdrs_new(int n, size_t bytes); /* n nodes, unlinked, room for bytes of strings; NULL on ENOMEM */
void hhdrs_release(hhdrs *h);          /* one holder fewer; NULL is ignored */

typedef struct hreq {
  CURL *easy;
  struct hmulti *multi;        /* NULL once detached (done, closed, or multi gone) */
  struct hreq *prev, *next;    /* the multi's list of attached transfers */
  hhdrs *hdrs;                 /* its header list (NULL: none) */
  hbuf body;                   /* response body (streams: bytes not yet taken) */
  hbuf head;                   /* raw header lines of the final response */
  size_t max_body;             /* non-stream: abort past this; stream: pause past this */
  long status;
  /* Flags (0 or 1), a byte each: the struct is kept by every open stream. */
  unsigned char stream, paused, headers_done, done, too_large, oom;
  /* mux: may share an h2 connection; held: attached, but kept from libcurl
   * while another transfer opens a connection (see hmulti.probe). */
  unsigned char mux, held, opened; /* opened: it opened a connection of its own */
  unsigned char fresh;         /* a connection of its own, in the multi's `fresh` handle */
  unsigned char reused;        /* its handle kept the options of a request of the same shape */
  unsigned shape;              /* its options' shape (HSHAPE_*), 0: none a later request may keep */
  double tls_at;               /* when a probe was first seen past its TLS handshake (0: not yet) */
  struct hreq *qprev, *qnext;  /* the multi's queue of held transfers */
  unsigned long id;            /* the multi's number for it: what step reports */
  unsigned long mark;          /* the multi's epoch when last put on its ready list */
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
} hreq;

#define HMULTI_SPARE 8             /* idle easy handles kept for reuse */

/* A request's shape: the options it sets that the next request on the same
 * easy handle may keep rather than reset and set again, when its shape is
 * the same (lrequest.c, set_options). HSHAPE_VALID is in every shape. */
#define HSHAPE_VALID 1u
#define HSHAPE_STREAM 2u
#define HSHAPE_FRESH 4u
#define HSHAPE_POST 8u          /* method POST */
#define HSHAPE_CUSTOM 16u       /* a method neither GET nor POST (CUSTOMREQUEST) */
#define HSHAPE_BODY 32u
#define HSHAPE_ENCODING 64u     /* Accept-Encoding: what libcurl decodes */
#define HSHAPE_INSECURE 128u
#define HSHAPE_HTTPS 256u

typedef struct hmulti {
  CURLM *multi;
  /* Transfers on a connection of their own (sends) run in a second multi
   * handle, so their connections are in a cache no other transfer looks
   * in. In one cache, libcurl 7.88.1 put a multiplexing transfer (a stream
   * or read looking past an h2 connection that was full or had sent a
   * GOAWAY) onto a send's HTTP/1.1 connection while the send was on it:
   * the send then timed out or was stored twice, or glibc aborted on a
   * double free (spec/integration/curl_h2_spec.lua, the GOAWAY case). */
  CURLM *fresh;
  CURLSH *share;
  hreq *reqs;                  /* attached transfers */
  unsigned long progress;      /* bumped whenever any transfer gets bytes or ends */
  /* Which transfers progressed since the last step: their ids, once each
   * (a transfer is on the list when its mark equals epoch). A waiter only
   * needs looking at when its transfer is here, so the cost of one event
   * does not grow with the number of quiet transfers. */
  unsigned long *ready;
  size_t nready, ready_cap;
  unsigned long epoch, next_id;
  /* libcurl's socket interface: its sockets in an epoll set, its one timer
   * as an absolute monotonic time (< 0: none). Only the sockets with
   * activity are looked at, never every transfer. -1: no epoll (not
   * Linux): curl_multi_poll instead. */
  int epfd;
  double timer_at, fresh_timer_at;
  int running, fresh_running;
  /* What the epoll set holds per descriptor (index: the fd; HFD_* bits),
   * so that a keep-alive connection's socket stays in the set between
   * transfers: libcurl drops it (CURL_POLL_REMOVE) when a transfer ends and
   * adds it again for the next, two epoll_ctl calls per request otherwise.
   * Only a socket with an answer on it is parked: it is connected, and
   * libcurl closes such a socket through the close callback (on_close),
   * which forgets it. */
  unsigned char *fds;
  size_t nfds;
  /* Multiplexing (mux transfers): libcurl makes one transfer wait for a
   * first connection to say whether it speaks h2 (CURLOPT_PIPEWAIT), but
   * once a connection is full (the server's concurrent-stream limit), every
   * further transfer started before the next connection is up opens one of
   * its own. So mux transfers go to libcurl one at a time while one of them
   * (the probe) is opening a connection, and wait in a queue until it has
   * an answer (the server's SETTINGS, with its limit, come before it) or
   * HMUX_SETTINGS_WAIT after its TLS handshake. no_mux: a mux transfer got
   * an HTTP/1.x answer (no h2 here): nothing is held any more. */
  hreq *probe, *held_head, *held_tail;
  int no_mux;
  CURL *spare[HMULTI_SPARE];   /* easy handles of closed transfers, for reuse */
  /* The shape of the options each spare handle still carries (not reset:
   * see hreq_close), 0 for a handle that was reset. */
  unsigned spare_shape[HMULTI_SPARE];
  hhdrs *last_hdrs;            /* the last request's header list, for the next to share */
  int nspare;
} hmulti;

double hmono(void);                      /* monotonic seconds */
int hmulti_init(hmulti *m);              /* 0 or -1 */
void hmulti_close(hmulti *m);            /* idempotent; detaches every transfer */
int hmulti_step(hmulti *m, double wait); /* returns transfers still running, -1 on error */
void hmulti_drain(hmulti *m);            /* empties the ready list (once its ids are read) */
/* Waits at most `wait` seconds until any of the n multis has something to
 * do (socket activity, a due timer, ready transfers). On Linux it only
 * waits (one epoll set over the multis' sets) and steps none of them;
 * elsewhere there is no set of sets to wait on, so it steps each multi
 * briefly in turn, and a caller must read their ready lists after it. */
void hmulti_wait_any(hmulti **ms, int n, double wait);
/* An easy handle, NULL on ENOMEM: a new or reset one (*shape = 0), or one
 * still carrying the options of a closed transfer of that *shape. */
CURL *hmulti_easy(hmulti *m, unsigned *shape);
int hreq_attach(hmulti *m, hreq *r);     /* 0 or -1 */
void hreq_close(hreq *r, hmulti *owner); /* idempotent; the easy handle goes back to owner */
void hreq_multiplex(hreq *r);           /* make it a mux transfer (h2 over TLS, shared) */
void hreq_resume(hreq *r);               /* unpause a stream once its buffer is drained */

#endif
