/* The floor under the Lua SSE parser (issue 21 item 6): the Lua values that
 * feed() and each() hand out, made without any parsing. bench/sse_bench.lua
 * parses each chunk once, untimed, packs its events into C memory outside
 * Lua's heap (so Lua's GC is paced as in a real client), and then times
 * building those values chunk by chunk:
 *
 *   pack(types, datas, ids, n, chunk) -> a pack (ids[i] false: none)
 *   values(pack, chunk)    -> { {type=, data=, id=}, ... } as feed() returns them
 *   calls(pack, chunk, fn) -> fn(type, data, id) per event, as each() calls it
 *
 * An event's data is copied from the chunk just read, as the parser copies
 * it, wherever the chunk holds it verbatim (a single data line within the
 * chunk); only the rest comes from the pack's own bytes, which would
 * otherwise be a cold 64 KiB read per chunk that the parser does not make.
 *
 * The Lua API calls are the ones csrc/lsse.c makes per event (a type and an
 * id string reused while their bytes repeat, a fresh data string, a table of
 * three fields in a presized array), so the time left is what any parser
 * returning these values pays on top of finding them. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS on glibc */
#include <string.h>
#include <sys/mman.h>

#include "lbind.h" /* homie_push_cached, as csrc/lsse.c uses it */

#define PACK_MT "bench.sse_values"
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* Compact, so the spans themselves add little memory traffic. */
typedef struct {
  unsigned off, len;    /* len NONE: no value */
  unsigned char in_chunk; /* off is into the chunk, not the pack's bytes */
} span;
#define NONE 0xffffffffu

typedef struct {
  int n;
  span *type, *data, *id; /* id.len == NONE: none */
  char *bytes;
  void *map; size_t map_len; /* all of the above live in one mapping */
} pack;

static pack *check_pack(lua_State *L) { return (pack *)luaL_checkudata(L, 1, PACK_MT); }

static int p_gc(lua_State *L) {
  pack *p = check_pack(L);
  if (p->map) munmap(p->map, p->map_len);
  memset(p, 0, sizeof *p);
  return 0;
}

/* The bytes of string i of the array at `arg`; NULL when it is false. */
static const char *get(lua_State *L, int arg, int i, size_t *n) {
  const char *v;
  lua_rawgeti(L, arg, i);
  v = lua_toboolean(L, -1) ? luaL_checklstring(L, -1, n) : NULL;
  lua_pop(L, 1); /* the arrays keep the string alive */
  return v;
}

/* Copies string i of the array at `arg` to the pack's bytes. */
static void put(lua_State *L, int arg, int i, span *s, char *bytes, size_t *len) {
  size_t n = 0;
  const char *v = get(L, arg, i, &n);
  if (!v) { s->off = 0; s->len = NONE; return; }
  memcpy(bytes + *len, v, n);
  s->off = (unsigned)*len; s->len = (unsigned)n;
  *len += n;
}

/* Points s at the first copy of its bytes in the chunk at or after *at
 * (and moves *at past it), if there is one; empty data stays as it is. */
static void find_in(const char *chunk, size_t cn, size_t *at, const char *bytes, span *s) {
  const char *v = bytes + s->off, *c;
  if (s->len == 0 || s->len == NONE) return;
  for (c = chunk + *at; (size_t)(chunk + cn - c) >= s->len; c++) {
    c = (const char *)memchr(c, v[0], (size_t)(chunk + cn - c) - s->len + 1);
    if (!c) return;
    if (memcmp(c, v, s->len) == 0) {
      s->off = (unsigned)(c - chunk); s->in_chunk = 1;
      *at = s->off + s->len;
      return;
    }
  }
}

/* The pack lives in an anonymous mapping, not in malloc's heap: 20 MB of
 * packs spread among the Lua objects being timed slowed feed() itself by
 * ~10% in a trial, through the allocator, not through Lua's GC. */
static int l_pack(lua_State *L) {
  int i, a, n = (int)luaL_checkinteger(L, 4);
  size_t total = 0, len = 0, cn, at = 0, spans;
  const char *chunk = luaL_checklstring(L, 5, &cn);
  pack *p;
  luaL_checktype(L, 1, LUA_TTABLE); luaL_checktype(L, 2, LUA_TTABLE); luaL_checktype(L, 3, LUA_TTABLE);
  for (i = 1; i <= n; i++)
    for (a = 1; a <= 3; a++) {
      size_t k = 0;
      get(L, a, i, &k);
      total += k;
    }
  if (total >= NONE) return luaL_error(L, "sse_values: a chunk's events must stay under 4 GB");
  p = (pack *)lua_newuserdata(L, sizeof *p);
  memset(p, 0, sizeof *p);
  luaL_getmetatable(L, PACK_MT);
  lua_setmetatable(L, -2);
  spans = 3 * ((size_t)n + 1) * sizeof(span);
  p->map_len = spans + total + 1;
  p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p->map == MAP_FAILED) { p->map = NULL; return luaL_error(L, "sse_values: out of memory"); }
  p->type = (span *)p->map;
  p->data = p->type + n + 1;
  p->id = p->data + n + 1;
  p->bytes = (char *)p->map + spans;
  for (i = 0; i < n; i++) {
    put(L, 1, i + 1, &p->type[i], p->bytes, &len);
    put(L, 2, i + 1, &p->data[i], p->bytes, &len);
    find_in(chunk, cn, &at, p->bytes, &p->data[i]);
    put(L, 3, i + 1, &p->id[i], p->bytes, &len);
  }
  p->n = n;
  return 1;
}

/* Stack after setup: 1 pack, 2 chunk, 3 fn|nil, 4-6 keys, 7 type cache, 8 id cache, 9 out. */
enum { S_FN = 3, S_KTYPE, S_KDATA, S_KID, S_TYPE, S_ID, S_OUT };

static int run(lua_State *L, int fn) {
  pack *p = check_pack(L);
  const char *chunk = luaL_checkstring(L, 2);
  int i;
  lua_settop(L, 3);
  lua_pushliteral(L, "type"); lua_pushliteral(L, "data"); lua_pushliteral(L, "id");
  lua_pushnil(L); lua_pushnil(L);
  if (fn) lua_pushnil(L); else lua_createtable(L, p->n, 0);
  for (i = 0; i < p->n; i++) {
    const char *b = p->bytes;
    const span *t = &p->type[i], *d = &p->data[i], *id = &p->id[i];
    if (fn) {
      lua_pushvalue(L, S_FN);
      homie_push_cached(L, S_TYPE, b + t->off, t->len);
      lua_pushlstring(L, (d->in_chunk ? chunk : b) + d->off, d->len);
      if (id->len != NONE) homie_push_cached(L, S_ID, b + id->off, id->len); else lua_pushnil(L);
      lua_call(L, 3, 0);
    } else {
      lua_createtable(L, 0, 3);
      lua_pushvalue(L, S_KTYPE); homie_push_cached(L, S_TYPE, b + t->off, t->len); lua_rawset(L, -3);
      lua_pushvalue(L, S_KDATA); lua_pushlstring(L, (d->in_chunk ? chunk : b) + d->off, d->len); lua_rawset(L, -3);
      if (id->len != NONE) { lua_pushvalue(L, S_KID); homie_push_cached(L, S_ID, b + id->off, id->len); lua_rawset(L, -3); }
      lua_rawseti(L, S_OUT, i + 1);
    }
  }
  return fn ? 0 : 1;
}

static int l_values(lua_State *L) { return run(L, 0); }

static int l_calls(lua_State *L) {
  luaL_checktype(L, 3, LUA_TFUNCTION);
  return run(L, 1);
}

int luaopen_sse_values(lua_State *L) {
  static const luaL_Reg fns[] = { { "pack", l_pack }, { "values", l_values }, { "calls", l_calls }, { NULL, NULL } };
  const luaL_Reg *f;
  luaL_newmetatable(L, PACK_MT);
  lua_pushcfunction(L, p_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  lua_newtable(L);
  for (f = fns; f->name; f++) { /* not luaL_setfuncs: 5.1 has none */
    lua_pushcfunction(L, f->func);
    lua_setfield(L, -2, f->name);
  }
  return 1;
}
