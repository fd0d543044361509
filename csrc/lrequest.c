/* Lua bindings for homie.Multi (one per client) and homie.Request (one per
 * transfer). Lua decides when to drive the multi (step) and when a transfer
 * is finished; these functions only expose state the callbacks recorded. */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "compat.h"
#include "transport.h"

#define MULTI "homie.Multi"
#define REQUEST "homie.Request"

static hmulti *check_multi(lua_State *L) {
  hmulti *m = luaL_checkudata(L, 1, MULTI);
  if (!m->multi) luaL_error(L, "homie: attempt to use a closed client transport");
  return m;
}

static hreq *check_req(lua_State *L) { return luaL_checkudata(L, 1, REQUEST); }

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
  double wait = luaL_optnumber(L, 2, 0);
  int running = hmulti_step(m, wait < 0 ? 0 : wait);
  if (running < 0) return luaL_error(L, "homie: curl multi failure");
  lua_pushinteger(L, running);
  return 1;
}

/* Option readers: the table is at index 2. A wrong type raises naming the key. */
static const char *opt_string(lua_State *L, const char *key, size_t *len) {
  const char *s = NULL;
  lua_getfield(L, 2, key);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "homie: request option '%s' must be a string", key);
    s = lua_tolstring(L, -1, len);
  }
  lua_pop(L, 1); /* the string stays alive: the options table holds it */
  return s;
}

static double opt_number(lua_State *L, const char *key, double def) {
  double v = def;
  lua_getfield(L, 2, key);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "homie: request option '%s' must be a number", key);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static int opt_bool(lua_State *L, const char *key, int def) {
  int v = def;
  lua_getfield(L, 2, key);
  if (!lua_isnil(L, -1)) v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

static void set_headers(lua_State *L, hreq *r) {
  lua_getfield(L, 2, "headers");
  if (lua_istable(L, -1)) {
    int n = (int)lua_rawlen(L, -1);
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      const char *h = lua_tostring(L, -1);
      if (!h) luaL_error(L, "homie: request header %d must be a string", i);
      struct curl_slist *s = curl_slist_append(r->headers, h);
      if (!s) luaL_error(L, "homie: out of memory");
      r->headers = s;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static int multi_request(lua_State *L) {
  hmulti *m = check_multi(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  /* Create the userdata first, then acquire: __gc can always clean up. */
  hreq *r = homie_newuserdata(L, sizeof *r);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, REQUEST);
  lua_pushvalue(L, 1);
  homie_setuservalue(L, -2); /* the multi outlives its transfers */
  r->easy = curl_easy_init();
  if (!r->easy) return luaL_error(L, "homie: cannot create a curl easy handle");
  CURL *e = r->easy;

  const char *url = opt_string(L, "url", NULL);
  if (!url) return luaL_error(L, "homie: request option 'url' is required");
  curl_easy_setopt(e, CURLOPT_URL, url);
  const char *method = opt_string(L, "method", NULL);
  if (!method || strcmp(method, "GET") == 0) curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  else if (strcmp(method, "POST") == 0) curl_easy_setopt(e, CURLOPT_POST, 1L);
  else curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  size_t blen = 0;
  const char *body = opt_string(L, "body", &blen);
  if (body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
  }
  set_headers(L, r);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);

  r->stream = opt_bool(L, "stream", 0);
  r->max_body = (size_t)opt_number(L, "max_body", 8.0 * 1024 * 1024);
  long timeout = (long)(opt_number(L, "timeout", 0) * 1000);
  long ctimeout = (long)(opt_number(L, "connect_timeout", 0) * 1000);
  if (timeout > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
  if (ctimeout > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ctimeout);
  const char *ua = opt_string(L, "user_agent", NULL);
  if (ua) curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
  if (opt_bool(L, "accept_encoding", 1)) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  const char *ca_file = opt_string(L, "ca_file", NULL);
  const char *ca_path = opt_string(L, "ca_path", NULL);
  if (ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
  if (ca_path) curl_easy_setopt(e, CURLOPT_CAPATH, ca_path);
  int insecure = opt_bool(L, "insecure", 0);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
  /* libcurl silently re-sends a request once when a reused connection dies
   * before the answer; a fresh connection is the only way to rule that out
   * for a call that must not run twice (a message send). */
  if (opt_bool(L, "fresh_connect", 0)) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  if (hreq_attach(m, r) != 0) return luaL_error(L, "homie: cannot start a transfer");
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
  lua_newtable(L);
  const char *p = r->head.data, *end = p ? p + r->head.len : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    if (colon && colon > p) {
      luaL_Buffer name;
      luaL_buffinit(L, &name);
      for (const char *q = p; q < colon; q++) luaL_addchar(&name, (char)tolower((unsigned char)*q));
      luaL_pushresult(&name);
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

/* Streams: hand over what arrived so far and make room for more. */
static int req_take(lua_State *L) {
  hreq *r = check_req(L);
  lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
  r->body.len = 0;
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
    lua_pushfstring(L, "response body larger than max_body (%d bytes)", (int)r->max_body);
  else
    lua_pushstring(L, r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->result));
  lua_pushinteger(L, r->result);
  return 3;
}

/* Facts about the transfer: how many bytes of request went out (0 means it
 * provably never reached the server) and how many new connections it made. */
static int req_info(lua_State *L) {
  hreq *r = check_req(L);
  long sent = 0, conns = 0, port = 0;
  double total = 0;
  if (r->easy) {
    curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &sent);
    curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &conns);
    curl_easy_getinfo(r->easy, CURLINFO_LOCAL_PORT, &port);
    curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total);
  }
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, sent); lua_setfield(L, -2, "request_bytes");
  lua_pushinteger(L, conns); lua_setfield(L, -2, "new_connections");
  lua_pushinteger(L, port); lua_setfield(L, -2, "local_port");
  lua_pushnumber(L, total); lua_setfield(L, -2, "total_time");
  return 1;
}

static int req_close(lua_State *L) {
  hreq_close(check_req(L));
  return 0;
}

static const luaL_Reg multi_methods[] = {
  {"request", multi_request}, {"step", multi_step}, {"close", multi_close},
  {"__gc", multi_close},
#if LUA_VERSION_NUM >= 504
  {"__close", multi_close},
#endif
  {NULL, NULL}};

static const luaL_Reg req_methods[] = {
  {"done", req_done}, {"headers_done", req_headers_done}, {"status", req_status},
  {"headers", req_headers}, {"body", req_body}, {"take", req_take},
  {"pending", req_pending}, {"error", req_error}, {"info", req_info},
  {"close", req_close}, {"__gc", req_close},
#if LUA_VERSION_NUM >= 504
  {"__close", req_close},
#endif
  {NULL, NULL}};

/* With the module table on top: registers both classes and `multi`. */
void homie_open_transport(lua_State *L) {
  homie_newclass(L, MULTI, multi_methods);
  homie_newclass(L, REQUEST, req_methods);
  lua_pushcfunction(L, multi_new);
  lua_setfield(L, -2, "multi");
}
