/* sse.json_decode(s): JSON text to Lua values the way the SDK hands them
 * out, in one pass: null is absent (a null field is no field, a null array
 * element a hole), whole numbers below 2^53 are integers on Lua 5.3+, and
 * every table is made at its final size. lua-cjson plus a Lua walk that
 * did the same cost twice as long on a page of messages (bench/README.md).
 *
 * Strict RFC 8259 grammar, nesting at most JSON_MAX_DEPTH. Returns the
 * value, or nil and a message naming what was wrong and its byte offset.
 * Pending values live on the Lua stack until their container is complete,
 * so the table is created once with the right size; a container flushes
 * every JSON_FLUSH values so a huge one cannot exhaust the stack. */
#include <stdlib.h>
#include <string.h>
#include "lbind.h"

#define JSON_MAX_DEPTH 200
#define JSON_FLUSH 512

typedef struct {
  lua_State *L;
  const char *s, *p, *end;
  int depth;
  const char *err; /* set on the first error, with p at its place */
  int room;        /* stack slots known to exist up to this index */
} jd;

static void value(jd *d);

/* At least 3 free stack slots (a value, a key, a buffer box), asked of Lua
 * JSON_RESERVE at a time rather than per value. */
#define JSON_RESERVE 64
static void reserve(jd *d) {
  int top = lua_gettop(d->L);
  if (top + 3 > d->room) {
    luaL_checkstack(d->L, JSON_RESERVE, "JSON too large");
    d->room = top + JSON_RESERVE;
  }
}

static int fail(jd *d, const char *why) {
  if (!d->err) d->err = why;
  return 0;
}

static void skip_ws(jd *d) {
  while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t')) d->p++;
}

static int hex4(jd *d, unsigned *out) {
  unsigned v = 0;
  int i;
  if (d->end - d->p < 4) return fail(d, "truncated \\u escape");
  for (i = 0; i < 4; i++) {
    char c = d->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return fail(d, "invalid \\u escape");
  }
  d->p += 4;
  *out = v;
  return 1;
}

static void add_utf8(luaL_Buffer *b, unsigned c) {
  if (c < 0x80) {
    luaL_addchar(b, (char)c);
  } else if (c < 0x800) {
    luaL_addchar(b, (char)(0xC0 | (c >> 6)));
    luaL_addchar(b, (char)(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    luaL_addchar(b, (char)(0xE0 | (c >> 12)));
    luaL_addchar(b, (char)(0x80 | ((c >> 6) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | (c & 0x3F)));
  } else {
    luaL_addchar(b, (char)(0xF0 | (c >> 18)));
    luaL_addchar(b, (char)(0x80 | ((c >> 12) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | ((c >> 6) & 0x3F)));
    luaL_addchar(b, (char)(0x80 | (c & 0x3F)));
  }
}

/* The escaped rest of a string into bp, from d->p (at a backslash). */
static int unescape(jd *d, luaL_Buffer *bp) {
  for (;;) {
    const char *run = d->p;
    while (d->p < d->end && *d->p != '"' && *d->p != '\\') d->p++;
    luaL_addlstring(bp, run, (size_t)(d->p - run));
    if (d->p >= d->end) return fail(d, "unterminated string");
    if (*d->p == '"') break;
    d->p++; /* the backslash */
    if (d->p >= d->end) return fail(d, "unterminated string");
    switch (*d->p++) {
      case '"': luaL_addchar(bp, '"'); break;
      case '\\': luaL_addchar(bp, '\\'); break;
      case '/': luaL_addchar(bp, '/'); break;
      case 'b': luaL_addchar(bp, '\b'); break;
      case 'f': luaL_addchar(bp, '\f'); break;
      case 'n': luaL_addchar(bp, '\n'); break;
      case 'r': luaL_addchar(bp, '\r'); break;
      case 't': luaL_addchar(bp, '\t'); break;
      case 'u': {
        unsigned c, lo;
        if (!hex4(d, &c)) return 0;
        if (c >= 0xDC00 && c <= 0xDFFF) return fail(d, "lone low surrogate in \\u escape");
        if (c >= 0xD800 && c <= 0xDBFF) {
          if (d->end - d->p < 2 || d->p[0] != '\\' || d->p[1] != 'u') return fail(d, "lone high surrogate in \\u escape");
          d->p += 2;
          if (!hex4(d, &lo)) return 0;
          if (lo < 0xDC00 || lo > 0xDFFF) return fail(d, "invalid surrogate pair in \\u escape");
          c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
        }
        add_utf8(bp, c);
        break;
      }
      default:
        d->p--;
        return fail(d, "invalid escape in string");
    }
  }
  d->p++; /* the closing quote */
  return 1;
}

/* The rest of a string with escapes, from d->p (at a backslash); the
 * plain prefix [from, d->p) is copied first. The buffer is always closed
 * (luaL_pushresult), even on failure: Lua 5.4 keeps a growing buffer in a
 * to-be-closed slot, and one left open would be closed by the final
 * lua_settop, which 5.4.4 gets wrong (it may keep a stale stack pointer). */
static int string_escaped(jd *d, const char *from) {
  luaL_Buffer b;
  int ok;
  luaL_buffinit(d->L, &b);
  luaL_addlstring(&b, from, (size_t)(d->p - from));
  ok = unescape(d, &b);
  luaL_pushresult(&b);
  return ok;
}

/* A string from d->p (just past its opening quote), pushed. */
static int string(jd *d) {
  const char *from = d->p;
  /* memchr finds the closing quote a word at a time; a backslash before
   * it means escapes (an escaped quote is found again from there). */
  const char *q = (const char *)memchr(from, '"', (size_t)(d->end - from));
  const char *bs;
  if (!q) {
    bs = (const char *)memchr(from, '\\', (size_t)(d->end - from));
    if (!bs) { d->p = d->end; return fail(d, "unterminated string"); }
  } else {
    bs = (const char *)memchr(from, '\\', (size_t)(q - from));
  }
  if (bs) {
    d->p = bs;
    return string_escaped(d, from);
  }
  lua_pushlstring(d->L, from, (size_t)(q - from));
  d->p = q + 1;
  return 1;
}

static int digit(char c) { return c >= '0' && c <= '9'; }

static void number(jd *d) {
  const char *start = d->p;
  int whole = 1, neg = 0;
  long long acc = 0;
  int ndig = 0;
  if (*d->p == '-') { neg = 1; d->p++; }
  if (d->p >= d->end || !digit(*d->p)) { fail(d, "invalid number"); return; }
  if (*d->p == '0') {
    d->p++;
  } else {
    while (d->p < d->end && digit(*d->p)) {
      if (ndig < 15) acc = acc * 10 + (*d->p - '0');
      ndig++;
      d->p++;
    }
  }
  if (d->p < d->end && *d->p == '.') {
    whole = 0;
    d->p++;
    if (d->p >= d->end || !digit(*d->p)) { fail(d, "invalid number"); return; }
    while (d->p < d->end && digit(*d->p)) d->p++;
  }
  if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
    whole = 0;
    d->p++;
    if (d->p < d->end && (*d->p == '+' || *d->p == '-')) d->p++;
    if (d->p >= d->end || !digit(*d->p)) { fail(d, "invalid number"); return; }
    while (d->p < d->end && digit(*d->p)) d->p++;
  }
  if (whole && ndig <= 15) { /* below 10^15 < 2^53: exact */
    homie_pushint53(d->L, (double)(neg ? -acc : acc));
    return;
  }
  {
    /* strtod reads exactly the span checked above: what may follow a JSON
     * number (space , ] } or the end, where Lua keeps a NUL) stops it. */
    char buf[64], *copy = buf;
    size_t n = (size_t)(d->p - start);
    double v;
    if (n >= sizeof buf) {
      copy = (char *)lua_newuserdata(d->L, n + 1);
    }
    memcpy(copy, start, n);
    copy[n] = '\0';
    v = strtod(copy, NULL);
    if (copy != buf) lua_pop(d->L, 1);
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) homie_pushint53(d->L, v);
    else lua_pushnumber(d->L, (lua_Number)v);
  }
}

static int literal(jd *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return fail(d, "invalid literal");
  d->p += n;
  return 1;
}

/* Sets the `n` pending values above `base` (a placeholder or the array at
 * base) at indices from *next, creating the table at its size first. */
static void flush_array(jd *d, int base, int n, lua_Integer *next) {
  lua_State *L = d->L;
  int i;
  if (lua_isnil(L, base)) {
    lua_createtable(L, n, 0);
    lua_replace(L, base);
  }
  for (i = n; i >= 1; i--) lua_rawseti(L, base, (int)(*next + i - 1));
  *next += n;
}

static void array(jd *d) {
  lua_State *L = d->L;
  int base, n = 0;
  lua_Integer next = 1;
  lua_pushnil(L);
  base = lua_gettop(L);
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    lua_createtable(L, 0, 0);
    lua_replace(L, base);
    return;
  }
  for (;;) {
    value(d);
    if (d->err) return;
    if (++n == JSON_FLUSH) { flush_array(d, base, n, &next); n = 0; }
    skip_ws(d);
    if (d->p >= d->end) { fail(d, "unterminated array"); return; }
    if (*d->p == ',') { d->p++; continue; }
    if (*d->p == ']') { d->p++; break; }
    fail(d, "expected , or ] in array");
    return;
  }
  flush_array(d, base, n, &next);
}

/* Sets the `n` pending key/value pairs above `base` in order (a later
 * duplicate wins, a null removes), creating the table at its size first. */
static void flush_object(jd *d, int base, int n) {
  lua_State *L = d->L;
  int i;
  if (lua_isnil(L, base)) {
    lua_createtable(L, 0, n);
    lua_replace(L, base);
  }
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, base + 1 + 2 * i);
    lua_pushvalue(L, base + 2 + 2 * i);
    lua_rawset(L, base);
  }
  lua_settop(L, base);
}

static void object(jd *d) {
  lua_State *L = d->L;
  int base, n = 0;
  lua_pushnil(L);
  base = lua_gettop(L);
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    lua_createtable(L, 0, 0);
    lua_replace(L, base);
    return;
  }
  for (;;) {
    if (d->p >= d->end || *d->p != '"') { fail(d, "expected a string key in object"); return; }
    d->p++;
    reserve(d);
    if (!string(d)) return;
    skip_ws(d);
    if (d->p >= d->end || *d->p != ':') { fail(d, "expected : after object key"); return; }
    d->p++;
    value(d);
    if (d->err) return;
    if (++n == JSON_FLUSH) { flush_object(d, base, n); n = 0; }
    skip_ws(d);
    if (d->p >= d->end) { fail(d, "unterminated object"); return; }
    if (*d->p == ',') { d->p++; skip_ws(d); continue; }
    if (*d->p == '}') { d->p++; break; }
    fail(d, "expected , or } in object");
    return;
  }
  flush_object(d, base, n);
}

/* One value at d->p (after whitespace), pushed (nil for null). */
static void value(jd *d) {
  lua_State *L = d->L;
  skip_ws(d);
  if (d->p >= d->end) { fail(d, "unexpected end"); return; }
  reserve(d);
  switch (*d->p) {
    case '{':
    case '[':
      if (++d->depth > JSON_MAX_DEPTH) { fail(d, "nested too deep"); return; }
      d->p++;
      if (d->p[-1] == '{') object(d); else array(d);
      d->depth--;
      return;
    case '"':
      d->p++;
      string(d);
      return;
    case 't':
      if (literal(d, "true", 4)) lua_pushboolean(L, 1);
      return;
    case 'f':
      if (literal(d, "false", 5)) lua_pushboolean(L, 0);
      return;
    case 'n':
      if (literal(d, "null", 4)) lua_pushnil(L);
      return;
    default:
      if (*d->p == '-' || digit(*d->p)) number(d);
      else fail(d, "unexpected character");
  }
}

/* json_decode(s) -> value | nil, "invalid JSON: <why> at byte <n>" */
static int json_decode(lua_State *L) {
  size_t n;
  jd d;
  d.L = L;
  d.s = d.p = luaL_checklstring(L, 1, &n);
  d.end = d.s + n;
  d.depth = 0;
  d.err = NULL;
  d.room = 0;
  lua_settop(L, 1);
  value(&d);
  if (!d.err) {
    skip_ws(&d);
    if (d.p < d.end) fail(&d, "text after the value");
  }
  if (d.err) {
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushfstring(L, "invalid JSON: %s at byte %d", d.err, (int)(d.p - d.s) + 1);
    return 2;
  }
  return 1;
}

void homie_json_open(lua_State *L) {
  lua_pushcfunction(L, json_decode);
  lua_setfield(L, -2, "json_decode");
}
