/* homie.SSEParser: the SSE engine (sse.c) as a Lua userdata.
 *
 * Lua code runs only between two sse_next calls, when the engine holds no
 * half-parsed line, so an error raised there (by the each() callback, or a
 * memory error while building results) cannot corrupt the engine. Such an
 * error is caught by one lua_pcall around the parse loop and rethrown after
 * the unparsed rest of the input has been saved in a stash, which the next
 * feed/each parses first: no event of the stream is lost or repeated.
 *
 * Lua API (require("homie.sse").parser([{ max_event_bytes = n, comments = bool }]) -> parser):
 *   p:feed(chunk)     -> { {type=, data=, id=}, ... }  (id: last event id or nil)
 *   p:each(chunk, fn) -> count; fn(type, data, id) per event, no tables: use it
 *                        on hot paths, feed() when tables are wanted
 *   comments = true: comment lines are reported too, in stream order: feed's
 *   list holds the comment's text (after ':', as sent) as a plain string,
 *   each calls fn(nil, text); the counts below then include comments
 *   An event over max_event_bytes (default 1 MiB; counted as the pending
 *   line + data + event type) is dropped up to its blank line and parsing
 *   goes on: feed returns nil, err, events, before and each nil, err, count, before, where
 *   `before` is how many of those events came before the first dropped one, and
 *   events/count cover every event of that call, before and after it.
 *   p:wire(chunk, id) -> bytes, count, saw_id: the chunk's complete events
 *                        rewritten as well-formed SSE in one string (for the
 *                        relay: no table or string per event). Each event is
 *                        `id: ` its last event id (`id` when the parser has
 *                        none and none came in this call, `""` once one came;
 *                        no line when both are nil), `event: ` its type unless
 *                        "message", a `data: ` line per data line, a blank
 *                        line. saw_id: an event of this call carried an id.
 *                        CR, LF, NUL are dropped from `id` and the type.
 *                        Comments are not written. On an oversize event:
 *                        nil, err, bytes, count, saw_id for the events before
 *                        it, and nothing after it.
 *   p:last_event_id(), p:retry() -> string|nil, integer ms|nil
 *   p:finish()  end of one stream: drops an unterminated event, keeps the
 *               last id and retry (reuse the parser for the reconnection)
 *   p:reset()   a fresh parser: also forgets last id and retry
 *   p:close()   also __gc/__close; idempotent; later use raises
 * Raised errors start "homie: " like every binding's. */
#include <string.h>

#include "lbind.h"
#include "sse.h"

#define SSE_MT "homie.SSEParser"

typedef struct {
  sse_parser p;
  int open;
  int busy;                /* inside an each() callback: no re-entry */
  char *stash;             /* input left over when a callback raised */
  size_t stash_len, stash_cap;
  lua_Alloc alloc; void *alloc_ud;
  int last_count;          /* events in the last feed(): presizes the next array */
  char *w;                 /* wire()'s output while it is being written */
  size_t wlen, wcap;
} lsse;

static lsse *check_open(lua_State *L) {
  lsse *u = (lsse *)luaL_checkudata(L, 1, SSE_MT);
  if (!u->open) luaL_error(L, "homie: attempt to use a closed sse parser");
  return u;
}

/* For methods that change the parser: not while it is parsing (from the
 * each() callback, or a finalizer run by an allocation during feed). */
static lsse *check_idle(lua_State *L) {
  lsse *u = check_open(L);
  if (u->busy) luaL_error(L, "homie: an sse parser cannot be used from inside its own each() callback");
  return u;
}

static void stash_drop(lsse *u) {
  if (u->stash) u->alloc(u->alloc_ud, u->stash, u->stash_cap, 0);
  u->stash = NULL; u->stash_len = u->stash_cap = 0;
}

/* Stash = rest .. more; `rest` may lie inside the stash itself. Under memory
 * failure the bytes are dropped (the parser stays usable). */
static void stash_keep(lsse *u, const char *rest, size_t rn, const char *more, size_t mn) {
  char *np;
  if (u->stash && rest >= u->stash && rest <= u->stash + u->stash_len) {
    memmove(u->stash, rest, rn);
    u->stash_len = rn;
  } else {
    stash_drop(u);
    if (rn + mn == 0) return;
    if (!(u->stash = (char *)u->alloc(u->alloc_ud, NULL, 0, rn + mn))) return;
    u->stash_cap = rn + mn;
    if (rn) memcpy(u->stash, rest, rn);
    u->stash_len = rn;
  }
  if (u->stash_cap - u->stash_len < mn) {
    np = (char *)u->alloc(u->alloc_ud, u->stash, u->stash_cap, u->stash_len + mn);
    if (!np) { stash_drop(u); return; }
    u->stash = np; u->stash_cap = u->stash_len + mn;
  }
  if (mn) memcpy(u->stash + u->stash_len, more, mn);
  u->stash_len += mn;
}

/* Parsing runs in one protected call per feed/each (`body`), so an error
 * from the callback or from building results (memory) unwinds to l_run,
 * which saves the unparsed rest in the stash and rethrows. `phase` says
 * which buffer that rest belongs to; the ctx lives in l_run's frame. */
typedef struct {
  lsse *u;
  const char *chunk; size_t n;
  int phase;               /* 0 not started, 1 parsing the stash, 2 the chunk */
  lua_Integer count;
  int err;                 /* first SSE_ERR_* met */
  lua_Integer err_at;      /* events parsed before it: a stream that ends there knows where */
  int wire;                /* wire(): events go into u->w */
  const char *fallback;    /* wire(): the id of an event without one, until one comes */
  size_t fallback_len;
  int saw_id;              /* wire(): an event of this call had an id */
} ctx_t;

/* body's stack slots */
enum { B_CTX = 1, B_FN, B_KTYPE, B_KDATA, B_KID, B_TYPE, B_ID, B_OUT };

static void w_reserve(lua_State *L, lsse *u, size_t n) {
  size_t cap;
  char *np;
  if (u->wcap - u->wlen >= n) return;
  cap = u->wcap ? u->wcap : 1024;
  while (cap - u->wlen < n) cap *= 2;
  np = (char *)u->alloc(u->alloc_ud, u->w, u->wcap, cap);
  if (!np) luaL_error(L, "homie: sse parser: out of memory");
  u->w = np; u->wcap = cap;
}

static void w_put(lua_State *L, lsse *u, const char *s, size_t n) {
  w_reserve(L, u, n);
  memcpy(u->w + u->wlen, s, n);
  u->wlen += n;
}

/* name, value, LF: one memcpy each (the value holds no line break). */
static void w_line(lua_State *L, lsse *u, const char *name, size_t nn, const char *v, size_t vn) {
  char *o;
  w_reserve(L, u, nn + vn + 1);
  o = u->w + u->wlen;
  memcpy(o, name, nn);
  memcpy(o + nn, v, vn);
  o[nn + vn] = '\n';
  u->wlen += nn + vn + 1;
}

/* As w_line, with CR, LF and NUL dropped from the value; nothing at all
 * when no byte of it is left. */
static void w_clean(lua_State *L, lsse *u, const char *name, size_t nn, const char *v, size_t vn) {
  size_t i, at = u->wlen;
  if (!memchr(v, '\0', vn) && !memchr(v, '\r', vn) && !memchr(v, '\n', vn)) {
    if (vn) w_line(L, u, name, nn, v, vn);
    return;
  }
  w_reserve(L, u, nn + vn + 1);
  memcpy(u->w + u->wlen, name, nn);
  u->wlen += nn;
  for (i = 0; i < vn; i++)
    if (v[i] != '\r' && v[i] != '\n' && v[i] != '\0') u->w[u->wlen++] = v[i];
  if (u->wlen == at + nn) u->wlen = at;
  else u->w[u->wlen++] = '\n';
}

/* One event in the stream's own syntax (see wire() above). The parser's
 * data holds only LF between its lines, and its ids no CR, LF or NUL; an
 * empty id (a reset) is still written, an empty type is not. */
static void w_event(lua_State *L, ctx_t *c, const sse_event *ev) {
  lsse *u = c->u;
  const char *d = ev->data, *end = ev->data + ev->data_len, *nl;
  if (ev->id) {
    c->saw_id = 1;
    w_line(L, u, "id: ", 4, ev->id, ev->id_len);
  } else if (c->saw_id) {
    w_line(L, u, "id: ", 4, "", 0);
  } else if (c->fallback) {
    size_t at = u->wlen;
    w_clean(L, u, "id: ", 4, c->fallback, c->fallback_len);
    if (u->wlen == at) w_line(L, u, "id: ", 4, "", 0);
  }
  if (!(ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0))
    w_clean(L, u, "event: ", 7, ev->type, ev->type_len);
  while ((nl = (const char *)memchr(d, '\n', (size_t)(end - d))) != NULL) {
    w_line(L, u, "data: ", 6, d, (size_t)(nl - d));
    d = nl + 1;
  }
  w_line(L, u, "data: ", 6, d, (size_t)(end - d));
  w_put(L, u, "\n", 1);
}

/* Parses one buffer: fn form calls B_FN(type, data, id) per event, table
 * form appends { type, data, id } tables to B_OUT. */
static void run(lua_State *L, ctx_t *c, const char *s, size_t n, int fn) {
  sse_parser *p = &c->u->p;
  sse_event ev;
  int rc;
  sse_input(p, s, n);
  while ((rc = sse_next(p, &ev)) != SSE_NEED_MORE) {
    if (rc < 0) {
      if (!c->err) { c->err = rc; c->err_at = c->count; }
      continue;
    }
    if (c->wire) {  /* nothing after an error, no comments */
      if (rc == SSE_EVENT && !c->err) { c->count++; w_event(L, c, &ev); }
      continue;
    }
    c->count++;
    if (rc == SSE_COMMENT) {
      if (fn) {
        lua_pushvalue(L, B_FN);
        lua_pushnil(L);
        lua_pushlstring(L, ev.data, ev.data_len);
        lua_call(L, 2, 0);
      } else {
        lua_pushlstring(L, ev.data, ev.data_len);
        lua_rawseti(L, B_OUT, (int)c->count);
      }
      continue;
    }
    if (fn) {
      lua_pushvalue(L, B_FN);
      homie_push_cached(L, B_TYPE, ev.type, ev.type_len);
      lua_pushlstring(L, ev.data, ev.data_len);
      if (ev.id) homie_push_cached(L, B_ID, ev.id, ev.id_len); else lua_pushnil(L);
      lua_call(L, 3, 0);
    } else {
      lua_createtable(L, 0, 3);
      lua_pushvalue(L, B_KTYPE); homie_push_cached(L, B_TYPE, ev.type, ev.type_len); lua_rawset(L, -3);
      lua_pushvalue(L, B_KDATA); lua_pushlstring(L, ev.data, ev.data_len); lua_rawset(L, -3);
      if (ev.id) { lua_pushvalue(L, B_KID); homie_push_cached(L, B_ID, ev.id, ev.id_len); lua_rawset(L, -3); }
      lua_rawseti(L, B_OUT, (int)c->count);
    }
  }
}

/* Protected: (ctx, fn|nil) -> events table (table form) or nothing. */
static int body(lua_State *L) {
  ctx_t *c = (ctx_t *)lua_touserdata(L, B_CTX);
  int fn = !lua_isnil(L, B_FN);
  lua_settop(L, B_FN);
  lua_pushliteral(L, "type"); lua_pushliteral(L, "data"); lua_pushliteral(L, "id");
  lua_pushnil(L); lua_pushnil(L);
  if (fn || c->wire) lua_pushnil(L); else lua_createtable(L, c->u->last_count, 0);
  if (c->u->stash_len) {
    c->phase = 1;
    run(L, c, c->u->stash, c->u->stash_len, fn);
    stash_drop(c->u);
  }
  c->phase = 2;
  run(L, c, c->chunk, c->n, fn);
  if (!fn && !c->wire) c->u->last_count = c->count < 4096 ? (int)c->count : 4096;
  return fn ? 0 : 1;
}

static void push_err(lua_State *L, lsse *u, int err) {
  if (err == SSE_ERR_TOO_LARGE) {
    homie_pushsize(L, u->p.max_event);
    lua_pushfstring(L, "sse: event larger than max_event_bytes (%s bytes); event dropped", lua_tostring(L, -1));
    lua_remove(L, -2);
  } else {
    lua_pushliteral(L, "sse: out of memory; event dropped");
  }
}

/* Shared by feed (fn 0) and each (fn = stack index of the callback). While
 * busy, re-entry (from the callback, or a __gc finalizer run by an
 * allocation) is refused. Table form leaves the events table on the stack. */
static void l_run(lua_State *L, lsse *u, int fn, ctx_t *c) {
  int status;
  size_t n;
  c->u = u;
  c->chunk = lua_tolstring(L, 2, &n);
  c->n = n;
  c->phase = 0; c->count = 0; c->err = 0; c->err_at = 0; c->saw_id = 0;
  lua_pushcfunction(L, body);
  lua_pushlightuserdata(L, c);
  if (fn) lua_pushvalue(L, fn); else lua_pushnil(L);
  u->busy = 1;
  status = lua_pcall(L, 2, fn ? 0 : 1, 0);
  u->busy = 0;
  if (status) {
    const char *rest = NULL;
    size_t rn = sse_remaining(&u->p, &rest);
    if (c->phase == 0) stash_keep(u, u->stash, u->stash_len, c->chunk, c->n);
    else if (c->phase == 1) stash_keep(u, rest, rn, c->chunk, c->n);
    else stash_keep(u, rest, rn, NULL, 0);
  }
  sse_input(&u->p, NULL, 0); /* hold no pointer into Lua strings */
  if (status) lua_error(L);  /* the error object, untouched */
}

/* p:feed(chunk) -> events | nil, err, events, before */
static int l_feed(lua_State *L) {
  lsse *u = check_idle(L);
  ctx_t c;
  luaL_checktype(L, 2, LUA_TSTRING);
  lua_settop(L, 2);
  c.wire = 0;
  l_run(L, u, 0, &c);
  if (!c.err) return 1;
  lua_pushnil(L);
  push_err(L, u, c.err);
  lua_pushvalue(L, -3);
  lua_pushinteger(L, c.err_at);
  return 4;
}

/* Lets go of wire()'s buffer once its string is made: an idle stream (a
 * relayed shopper) holds none. It lives in the userdata only so that a
 * memory error in the middle of a call does not leak it. */
static void w_free(lsse *u) {
  if (u->w) u->alloc(u->alloc_ud, u->w, u->wcap, 0);
  u->w = NULL; u->wlen = u->wcap = 0;
}

/* p:wire(chunk, id) -> bytes, count, saw_id | nil, err, bytes, count, saw_id */
static int l_wire(lua_State *L) {
  lsse *u = check_idle(L);
  ctx_t c;
  int k = 0;
  luaL_checktype(L, 2, LUA_TSTRING);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TSTRING);
  c.fallback = lua_tolstring(L, 3, &c.fallback_len);
  lua_settop(L, 3);
  c.wire = 1;
  w_free(u);  /* what a memory error left */
  /* Room for the usual rewrite at once (one allocation per call). */
  w_reserve(L, u, lua_rawlen(L, 2) + lua_rawlen(L, 2) / 4 + 256);
  l_run(L, u, 0, &c);
  lua_settop(L, 3);
  if (c.err) {
    lua_pushnil(L);
    push_err(L, u, c.err);
    k = 2;
  }
  lua_pushlstring(L, u->w ? u->w : "", u->wlen);
  w_free(u);
  lua_pushinteger(L, c.count);
  lua_pushboolean(L, c.saw_id);
  return k + 3;
}

/* p:each(chunk, fn) -> count | nil, err, count, before */
static int l_each(lua_State *L) {
  lsse *u = check_idle(L);
  ctx_t c;
  luaL_checktype(L, 2, LUA_TSTRING);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  c.wire = 0;
  l_run(L, u, 3, &c);
  if (!c.err) { lua_pushinteger(L, c.count); return 1; }
  lua_pushnil(L);
  push_err(L, u, c.err);
  lua_pushinteger(L, c.count);
  lua_pushinteger(L, c.err_at);
  return 4;
}

static int l_finish(lua_State *L) {
  lsse *u = check_idle(L);
  stash_drop(u);
  sse_finish(&u->p);
  return 0;
}

static int l_reset(lua_State *L) {
  lsse *u = check_idle(L);
  stash_drop(u);
  sse_reset(&u->p);
  return 0;
}

static int l_last_event_id(lua_State *L) {
  lsse *u = check_open(L);
  size_t n;
  const char *id = sse_last_id(&u->p, &n);
  if (id) lua_pushlstring(L, id, n); else lua_pushnil(L);
  return 1;
}

static int l_retry(lua_State *L) {
  lsse *u = check_open(L);
  double r = sse_retry(&u->p);
  if (r < 0) lua_pushnil(L); else homie_pushint53(L, r);
  return 1;
}

/* close, __gc and __close: idempotent; refused only from inside a callback. */
static int l_close(lua_State *L) {
  lsse *u = (lsse *)luaL_checkudata(L, 1, SSE_MT);
  if (u->busy) return luaL_error(L, "homie: an sse parser cannot be closed from inside its own each() callback");
  if (u->open) {
    u->open = 0;
    sse_free(&u->p);
    stash_drop(u);
    w_free(u);
  }
  return 0;
}

static int l_tostring(lua_State *L) {
  lsse *u = (lsse *)luaL_checkudata(L, 1, SSE_MT);
  if (u->open) lua_pushfstring(L, SSE_MT " (%p)", (void *)u);
  else lua_pushliteral(L, SSE_MT " (closed)");
  return 1;
}

static const char *const OPTIONS[] = {"max_event_bytes", "comments", NULL};

static size_t opt_max(lua_State *L) {
  if (lua_isnoneornil(L, 1)) return SSE_DEFAULT_MAX_EVENT;
  homie_check_options(L, 1, "sse.parser", OPTIONS);
  return homie_opt_count(L, 1, "sse.parser", "max_event_bytes", SSE_DEFAULT_MAX_EVENT);
}

static int opt_comments(lua_State *L) {
  int on;
  if (lua_isnoneornil(L, 1)) return 0;
  lua_getfield(L, 1, "comments");
  if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
    luaL_error(L, "homie: sse.parser: comments must be a boolean, got %s", luaL_typename(L, -1));
  on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

/* parser([opts]) -> parser. Options are checked before the userdata
 * exists, so a bad option leaves nothing behind. */
static int l_new(lua_State *L) {
  size_t max = opt_max(L);
  int comments = opt_comments(L);
  lsse *u = (lsse *)homie_newuserdata0(L, sizeof *u);  /* one per stream: no user value */
  memset(u, 0, sizeof *u);
  luaL_getmetatable(L, SSE_MT);
  lua_setmetatable(L, -2);
  u->alloc = lua_getallocf(L, &u->alloc_ud);
  /* The engine allocates through Lua's allocator, so its memory is counted. */
  sse_init(&u->p, max, u->alloc, u->alloc_ud);
  sse_comments(&u->p, comments);
  u->open = 1;
  return 1;
}

static const luaL_Reg methods[] = {
  {"feed", l_feed}, {"each", l_each}, {"wire", l_wire}, {"finish", l_finish}, {"reset", l_reset},
  {"last_event_id", l_last_event_id}, {"retry", l_retry}, {"__tostring", l_tostring},
  {NULL, NULL}};

void homie_sse_open(lua_State *L) {
  homie_newclass(L, SSE_MT, methods, l_close);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "parser");
}
