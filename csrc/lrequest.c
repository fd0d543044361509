/* Lua bindings for homie.Multi (one per client) and homie.Request (one per
 * transfer). Lua decides when to drive the multi (step) and when a transfer
 * is finished; these functions only expose state the callbacks recorded.
 *
 * Lifecycle, as liolib.c does it for files: each object is created closed
 * (zeroed userdata), then acquires its handle, so __gc can run at any point
 * of construction. A Multi is open while it has a multi handle, a Request
 * while it has an easy handle. Every method but close goes through one guard
 * (check_multi / check_req), which raises on a closed object; close, __gc
 * and __close are one idempotent function.
 *
 * Lua API (require("homie.curl").multi() -> multi):
 *   multi:request(opts) -> request  (options: see OPTIONS and read_options)
 *   multi:step([wait[, ready]]) -> transfers still running, count; waits at
 *                          most `wait` seconds for activity (a wait <= 0 only
 *                          polls); ready[1..count] gets the ids of the
 *                          transfers that progressed (bytes, head, end)
 *                          since the last step
 *   curl.wait(multis, seconds) waits until any multi of the array has work
 *   multi:close()       ends every attached transfer (their error: "closed")
 *   request:id(), request:done(), :headers_done(), :status(), :headers(), :body(),
 *          :take(), :pending(), :error(), :info(), :connects(), :response(), :close() */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <limits.h>
#include "lbind.h"
#include "transport.h"

#define MULTI "homie.Multi"
#define REQUEST "homie.Request"

/* Only in methods (homie_checkself). */
static hmulti *check_multi(lua_State *L) {
  hmulti *m = homie_checkself(L, MULTI);
  if (!m->multi) luaL_error(L, "homie: attempt to use a closed client transport");
  return m;
}

static hreq *check_req(lua_State *L) {
  hreq *r = homie_checkself(L, REQUEST);
  if (!r->easy) luaL_error(L, "homie: attempt to use a closed request");
  return r;
}

static int multi_new(lua_State *L) {
  hmulti *m = homie_newuserdata(L, sizeof *m);
  memset(m, 0, sizeof *m);
  luaL_setmetatable(L, MULTI);
  if (hmulti_init(m) != 0) return luaL_error(L, "homie: cannot create a curl multi handle");
  return 1;
}

static int multi_close(lua_State *L) {
  hmulti_close(luaL_checkudata(L, 1, MULTI));
  return 0;
}

static int multi_step(lua_State *L) {
  hmulti *m = check_multi(L);
  lua_Number wait = luaL_optnumber(L, 2, 0);
  int running, out = !lua_isnoneornil(L, 3);
  size_t i;
  if (wait != wait) return luaL_error(L, "homie: multi:step wait must be a number of seconds, got NaN");
  if (out) luaL_checktype(L, 3, LUA_TTABLE);
  running = hmulti_step(m, wait < 0 ? 0 : (double)wait);
  if (running < 0) return luaL_error(L, "homie: curl multi failure");
  lua_pushinteger(L, running);
  lua_pushinteger(L, out ? (lua_Integer)m->nready : 0);
  for (i = 0; out && i < m->nready; i++) {
    lua_pushinteger(L, (lua_Integer)m->ready[i]);
    lua_rawseti(L, 3, (int)i + 1);
  }
  hmulti_drain(m);
  return 2;
}

/* curl.wait(multis, seconds): an array of open multis (at most 64). */
static int multi_wait_any(lua_State *L) {
  hmulti *ms[64];
  int i, n;
  lua_Number wait = luaL_checknumber(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (int)lua_rawlen(L, 1);
  if (n > 64) return luaL_error(L, "homie: curl.wait takes at most 64 multis, got %d", n);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);
    ms[i] = luaL_checkudata(L, -1, MULTI);
    lua_pop(L, 1);
  }
  if (!(wait >= 0)) wait = 0;
  hmulti_wait_any(ms, n, (double)wait);
  return 0;
}

static const char *const OPTIONS[] = {
  "method", "url", "headers", "body", "stream", "max_body", "timeout", "connect_timeout",
  "user_agent", "accept_encoding", "ca_file", "ca_path", "insecure", "fresh_connect", NULL};
/* Their indices in OPTIONS, in the same order. */
enum {
  O_METHOD, O_URL, O_HEADERS, O_BODY, O_STREAM, O_MAX_BODY, O_TIMEOUT, O_CONNECT_TIMEOUT,
  O_USER_AGENT, O_ACCEPT_ENCODING, O_CA_FILE, O_CA_PATH, O_INSECURE, O_FRESH_CONNECT
};

/* Everything multi:request reads, checked before any handle exists. The
 * strings stay alive: the options table (argument 2) holds them. */
typedef struct {
  const char *url, *method, *body, *user_agent, *ca_file, *ca_path;
  size_t body_len, max_body;
  long timeout_ms, connect_timeout_ms; /* 0: none */
  int nheaders, stream, accept_encoding, insecure, fresh_connect;
  int post, custom; /* the method: POST; neither GET nor POST (CUSTOMREQUEST) */
} reqopts;

/* The option key of the table at index 2 on top of the stack (raw
 * access); 0 and nothing pushed when it is absent. */
static int opt_get(lua_State *L, const char *key) {
  lua_pushstring(L, key);
  lua_rawget(L, 2);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

/* Option readers: the value at the top of the stack (not nil), of option
 * `key`; a wrong type or range raises naming the key. */
static const char *opt_string(lua_State *L, const char *key, size_t *len) {
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "homie: request option '%s' must be a string, got %s", key, luaL_typename(L, -1));
  return lua_tolstring(L, -1, len);
}

static int opt_bool(lua_State *L, const char *key) {
  if (lua_type(L, -1) != LUA_TBOOLEAN)
    luaL_error(L, "homie: request option '%s' must be a boolean, got %s", key, luaL_typename(L, -1));
  return lua_toboolean(L, -1);
}

/* Seconds (finite, >= 0; 0 means no limit) as whole milliseconds, rounded
 * up so that a tiny positive timeout does not become "none", and capped at
 * what a long holds (beyond 24 days on 32-bit: effectively no limit). */
static long opt_ms(lua_State *L, const char *key) {
  lua_Number v;
  double ms;
  long whole;
  v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
  if (!(v >= 0 && v - v == 0)) /* false for NaN and +-inf */
    luaL_error(L, "homie: request option '%s' must be a finite number of seconds >= 0, got %s", key,
               lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
  ms = (double)v * 1000;
  if (ms >= (double)LONG_MAX) return LONG_MAX;
  whole = (long)ms;
  return (double)whole < ms ? whole + 1 : whole;
}

/* headers: an array of "Name: value" strings. */
static int opt_headers(lua_State *L) {
  int i, n;
  if (!lua_istable(L, -1))
    luaL_error(L, "homie: request option 'headers' must be a table, got %s", luaL_typename(L, -1));
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "homie: request header %d must be a string, got %s", i, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return n;
}

/* One option of the table (OPTIONS[i]), its value on top of the stack. */
static void read_option(lua_State *L, void *ud, int i) {
  reqopts *o = ud;
  const char *key = i >= 0 ? OPTIONS[i] : NULL; /* -1: an unknown one (a mutant lets it by) */
  switch (i) {
    case O_METHOD: o->method = opt_string(L, key, NULL); break;
    case O_URL: o->url = opt_string(L, key, NULL); break;
    case O_HEADERS: o->nheaders = opt_headers(L); break;
    case O_BODY: o->body = opt_string(L, key, &o->body_len); break;
    case O_STREAM: o->stream = opt_bool(L, key); break;
    case O_MAX_BODY: o->max_body = homie_count_value(L, "request", key); break;
    case O_TIMEOUT: o->timeout_ms = opt_ms(L, key); break;
    case O_CONNECT_TIMEOUT: o->connect_timeout_ms = opt_ms(L, key); break;
    case O_USER_AGENT: o->user_agent = opt_string(L, key, NULL); break;
    case O_ACCEPT_ENCODING: o->accept_encoding = opt_bool(L, key); break;
    case O_CA_FILE: o->ca_file = opt_string(L, key, NULL); break;
    case O_CA_PATH: o->ca_path = opt_string(L, key, NULL); break;
    case O_INSECURE: o->insecure = opt_bool(L, key); break;
    case O_FRESH_CONNECT: o->fresh_connect = opt_bool(L, key); break;
    default: break;
  }
}

/* One pass over the table: each option present is checked and read (nil
 * is absent). The strings stay alive: the table holds them. */
static void read_options(lua_State *L, reqopts *o) {
  memset(o, 0, sizeof *o);
  o->max_body = (size_t)8 * 1024 * 1024;
  o->accept_encoding = 1;
  homie_each_option(L, 2, "request", OPTIONS, read_option, o);
  if (!o->url) luaL_error(L, "homie: request option 'url' is required");
  if (o->method && strcmp(o->method, "GET") != 0) {
    o->post = strcmp(o->method, "POST") == 0;
    o->custom = !o->post;
  }
}

/* The header array at the top of the stack says what list h holds. */
static int same_headers(lua_State *L, const hhdrs *h, int n) {
  int i, same = h && h->n == n;
  for (i = 1; same && i <= n; i++) {
    size_t len;
    const char *s;
    lua_rawgeti(L, -1, i);
    s = lua_tolstring(L, -1, &len);
    same = strlen(h->nodes[i - 1].data) == len && memcmp(h->nodes[i - 1].data, s, len) == 0;
    lua_pop(L, 1);
  }
  return same;
}

/* The checked headers as the request's list (released by close): the
 * multi's last list when they are the same, else a new one (one
 * allocation, not curl_slist_append's two per header), then kept as the
 * multi's last. */
static void set_headers(lua_State *L, hmulti *m, hreq *r, int n) {
  int i;
  size_t len, size = 0;
  hhdrs *h;
  char *p;
  if (n == 0 || !opt_get(L, "headers")) return;
  if (same_headers(L, m->last_hdrs, n)) {
    r->hdrs = m->last_hdrs;
    r->hdrs->refs++;
    lua_pop(L, 1);
    return;
  }
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_tolstring(L, -1, &len);
    size += len + 1;
    lua_pop(L, 1);
  }
  if (!(h = hhdrs_new(n, size))) luaL_error(L, "homie: out of memory");
  r->hdrs = h;
  p = (char *)(h->nodes + n);
  for (i = 1; i <= n; i++) {
    const char *s;
    lua_rawgeti(L, -1, i);
    s = lua_tolstring(L, -1, &len);
    memcpy(p, s, len + 1);
    h->nodes[i - 1].data = p;
    h->nodes[i - 1].next = i < n ? &h->nodes[i] : NULL;
    p += len + 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  hhdrs_release(m->last_hdrs);
  m->last_hdrs = h;
  h->refs++;
}

/* The URL's scheme is https (any case, as URLs allow). */
static int is_https(const char *url) {
  const char *want = "https://";
  for (; *want; url++, want++) {
    if (tolower((unsigned char)*url) != *want) return 0;
  }
  return 1;
}

/* The shape of o's options (transport.h): what a handle may keep from
 * one request to the next of the same shape. None (0) for a request naming
 * a user agent, CA file or CA path (strings a later one would have to
 * compare, and rare: the SDK sends its User-Agent among the headers), and
 * for a mux transfer (https, not fresh), whose handle is never reused. */
static unsigned shape_of(const reqopts *o) {
  unsigned s = HSHAPE_VALID;
  int https = is_https(o->url);
  if (o->user_agent || o->ca_file || o->ca_path || (https && !o->fresh_connect)) return 0;
  if (o->stream) s |= HSHAPE_STREAM;
  if (o->fresh_connect) s |= HSHAPE_FRESH;
  if (o->post) s |= HSHAPE_POST;
  if (o->custom) s |= HSHAPE_CUSTOM;
  if (o->body) s |= HSHAPE_BODY;
  if (o->accept_encoding) s |= HSHAPE_ENCODING;
  if (o->insecure) s |= HSHAPE_INSECURE;
  if (https) s |= HSHAPE_HTTPS;
  return s;
}

/* What each request sets even on a handle that kept the options of one of
 * its shape: its URL, its method's name (CUSTOMREQUEST, one of several),
 * its body, its headers and its timeouts (0: none, set too, so that no
 * earlier request's limit stays). */
static void set_own(lua_State *L, hmulti *m, hreq *r, const reqopts *o, int kept) {
  CURL *e = r->easy;
  curl_easy_setopt(e, CURLOPT_URL, o->url);
  if (o->custom) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
  if (o->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body);
  }
  set_headers(L, m, r, o->nheaders);
  /* NULL is a new handle's own value, and a kept one's (hreq_close
   * unbinds the list of the request before). */
  if (r->hdrs) curl_easy_setopt(e, CURLOPT_HTTPHEADER, &r->hdrs->nodes[0]);
  if (kept || o->timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  if (kept || o->connect_timeout_ms > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
}

/* had: the shape of the options the handle still carries (0: none, a new
 * or reset handle). The same shape as this request's: only its own
 * options are set (a keep-alive GET after another saves a reset and
 * twenty calls, a tenth of its CPU). Another shape: the handle is reset,
 * then everything set, as on a new one. */
static void set_options(lua_State *L, hmulti *m, hreq *r, const reqopts *o, unsigned had) {
  CURL *e = r->easy;
  r->shape = shape_of(o);
  r->stream = o->stream;
  r->max_body = o->max_body;
  if (had && had == r->shape) {
    r->reused = 1;
    r->fresh = (unsigned char)o->fresh_connect;
    set_own(L, m, r, o, 1);
    return;
  }
  if (had) curl_easy_reset(e);
  /* GET is a new handle's method; any other but POST: set_own. */
  if (o->post) curl_easy_setopt(e, CURLOPT_POST, 1L);
  set_own(L, m, r, o, 0);
  /* A stream waits mostly; its events are small: a small receive buffer
   * keeps thousands of open streams cheap (libcurl's default is 16 KiB).
   * A send's answer (fresh_connect: a call that must not run twice) is a
   * few hundred bytes of JSON: 4 KiB reads it in one call, and a thousand
   * sends in flight (concurrent asks) hold 12 MiB less. A read's answer is
   * a page of a list (4.5 KB in the bench's list_messages): libcurl's 16
   * KiB reads it in one recv() where 4 KiB took two, 8% of the CPU of a
   * keep-alive GET (bench/request_bench.lua). */
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, o->stream ? 1024L : o->fresh_connect ? 4096L : 16384L);
  if (o->user_agent) curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);
  if (o->accept_encoding) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  if (o->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
  if (o->ca_path) curl_easy_setopt(e, CURLOPT_CAPATH, o->ca_path);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
  /* libcurl silently re-sends a request once when a reused connection dies
   * before the answer; a fresh connection is the only way to rule that out
   * for a call that must not run twice (a message send). */
  if (o->fresh_connect) {
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    /* ... and closed after it: kept, it would idle in the multi's cache
     * (1,000 concurrent sends left 970 open sockets), and an HTTP/1.1
     * connection in the pool is what the next transfer would reuse instead
     * of waiting for h2. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    /* HTTP/1.1 only: a connection serves one transfer at a time, so nothing
     * else can share (and reuse) it while this one runs. */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* ... and in the multi handle of such transfers alone (transport.h). */
    r->fresh = 1;
  } else if (is_https(o->url)) {
    /* h2 when TLS negotiates it (libcurl's default for https), and a new
     * transfer waits for a connection being set up to say whether it
     * speaks h2, and shares it then, instead of opening its own. */
    hreq_multiplex(r);
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
}

static int multi_request(lua_State *L) {
  hmulti *m = check_multi(L);
  reqopts o;
  hreq *r;
  unsigned had;
  read_options(L, &o); /* raises before anything is allocated */
  lua_settop(L, 2);
  r = homie_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r); /* closed until it holds an easy handle */
  luaL_setmetatable(L, REQUEST);
  lua_pushvalue(L, 1);
  homie_setuservalue(L, -2); /* the multi outlives its transfers */
  if (!(r->easy = hmulti_easy(m, &had))) return luaL_error(L, "homie: cannot create a curl easy handle");
  set_options(L, m, r, &o, had);
  if (hreq_attach(m, r) != 0) return luaL_error(L, "homie: cannot start a transfer");
  lua_settop(L, 3);
  return 1;
}

static int req_id(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_req(L)->id);
  return 1;
}

static int req_done(lua_State *L) {
  lua_pushboolean(L, check_req(L)->done);
  return 1;
}

static int req_headers_done(lua_State *L) {
  hreq *r = check_req(L);
  lua_pushboolean(L, r->headers_done);
  return 1;
}

static int req_status(lua_State *L) {
  hreq *r = check_req(L);
  if (r->status > 0) lua_pushinteger(L, r->status); else lua_pushnil(L);
  return 1;
}

/* Header names are lower-cased; repeated names are joined with ", ". */
static int req_headers(lua_State *L) {
  hreq *r = check_req(L);
  char lower[64];
  lua_createtable(L, 0, 12);
  const char *p = r->head.data, *end = p ? p + r->head.len : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon > p) {
      size_t n = (size_t)(colon - p);
      if (n <= sizeof lower) {
        /* Most names fit: lower-cased on the stack, one string made. */
        for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)p[i]);
        lua_pushlstring(L, lower, n);
      } else {
        luaL_Buffer name;
        luaL_buffinit(L, &name);
        for (const char *q = p; q < colon; q++) luaL_addchar(&name, (char)tolower((unsigned char)*q));
        luaL_pushresult(&name);
      }
      const char *v = colon + 1, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, v, (size_t)(ve - v));
      } else {
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_concat(L, 3);
      }
      lua_rawset(L, -3);
    }
    p = eol + 1;
  }
  return 1;
}

static int req_body(lua_State *L) {
  hreq *r = check_req(L);
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  return 1;
}

/* Streams: hand over what arrived so far and make room for more. The
 * buffer goes too: a stream waits far more than it reads, and thousands of
 * idle streams would each keep the buffer of their last chunk. */
static int req_take(lua_State *L) {
  hreq *r = check_req(L);
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  hbuf_free(&r->body);
  hreq_resume(r);
  return 1;
}

static int req_pending(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_req(L)->body.len);
  return 1;
}

static const char *error_kind(hreq *r) {
  if (r->too_large) return "too_large";
  switch (r->result) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return "tls";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return "connect";
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return "protocol";
    case CURLE_ABORTED_BY_CALLBACK: return "closed";
    default: return "connection";
  }
}

/* A finished transfer's answer as the curl transport returns it, in one
 * call where it made five (status, headers, body, connects, and error to
 * know there is one): { status, headers, body, new_connections }, or nil
 * while it runs or when it failed (error() then says why). */
static int req_response(lua_State *L) {
  hreq *r = check_req(L);
  long conns = 0;
  if (!r->done || r->result != CURLE_OK || r->oom) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 4);
  req_status(L);
  lua_setfield(L, -2, "status");
  req_headers(L);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  lua_setfield(L, -2, "body");
  curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
  lua_pushinteger(L, conns);
  lua_setfield(L, -2, "new_connections");
  return 1;
}

/* nil when the transfer succeeded (or is still running); else kind, message. */
static int req_error(lua_State *L) {
  hreq *r = check_req(L);
  if (!r->done || (r->result == CURLE_OK && !r->oom)) return 0;
  if (r->oom) {
    lua_pushliteral(L, "connection");
    lua_pushliteral(L, "out of memory while receiving the response");
    return 2;
  }
  lua_pushstring(L, error_kind(r));
  if (r->too_large)
  {
    homie_pushsize(L, r->max_body);
    lua_pushfstring(L, "response body larger than max_body (%s bytes)", lua_tostring(L, -1));
    lua_remove(L, -2);
  }
  else
    lua_pushstring(L, r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
  lua_pushinteger(L, r->result);
  return 3;
}

/* Facts about the transfer: how many bytes of request went out (0 means it
 * provably never reached the server), how many new connections it made,
 * and the HTTP version it spoke. */
static int req_info(lua_State *L) {
  hreq *r = check_req(L);
  long sent = 0, conns = 0, version = 0;
  curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent);
  curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
  curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, sent); lua_setfield(L, -2, "request_bytes");
  /* true: run by the multi's handle for transfers on a connection of their
   * own (transport.h), whose connections no other transfer can be put on. */
  lua_pushboolean(L, r->fresh); lua_setfield(L, -2, "own_connection");
  lua_pushinteger(L, conns); lua_setfield(L, -2, "new_connections");
  /* "1.1", "2" (nil before a response): the version the transfer spoke. */
  if (version == CURL_HTTP_VERSION_1_0) lua_pushliteral(L, "1.0");
  else if (version == CURL_HTTP_VERSION_1_1) lua_pushliteral(L, "1.1");
  else if (version == CURL_HTTP_VERSION_2_0) lua_pushliteral(L, "2");
  else lua_pushnil(L);
  lua_setfield(L, -2, "http_version");
  return 1;
}

/* The multi at index i, or NULL (luaL_testudata is missing from 5.1). */
static hmulti *test_multi(lua_State *L, int i) {
  void *p = lua_touserdata(L, i);
  int same;
  if (!p || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, MULTI);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

/* info().new_connections alone, without a table: read on every answer. */
static int req_connects(lua_State *L) {
  long conns = 0;
  curl_easy_getinfo(check_req(L)->easy, CURLINFO_NUM_CONNECTS, &conns);
  lua_pushinteger(L, conns);
  return 1;
}

/* close, __gc and __close: idempotent, and the only method a closed
 * request accepts. */
static int req_close(lua_State *L) {
  hreq *r = luaL_checkudata(L, 1, REQUEST);
  hmulti *owner = NULL;
  if (r->easy && homie_getuservalue(L, 1) == LUA_TUSERDATA) owner = test_multi(L, -1);
  hreq_close(r, owner);
  return 0;
}

static const luaL_Reg multi_methods[] = {
  {"request", multi_request}, {"step", multi_step}, {NULL, NULL}};

static const luaL_Reg req_methods[] = {
  {"id", req_id}, {"done", req_done}, {"headers_done", req_headers_done}, {"status", req_status},
  {"headers", req_headers}, {"body", req_body}, {"take", req_take},
  {"pending", req_pending}, {"error", req_error}, {"info", req_info}, {"connects", req_connects},
  {"response", req_response},
  {NULL, NULL}};

void homie_curl_open(lua_State *L) {
  homie_newclass(L, MULTI, multi_methods, multi_close);
  homie_newclass(L, REQUEST, req_methods, req_close);
  lua_pushcfunction(L, multi_new);
  lua_setfield(L, -2, "multi");
  lua_pushcfunction(L, multi_wait_any);
  lua_setfield(L, -2, "wait");
}
