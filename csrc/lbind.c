/* Helpers every binding uses; see lbind.h. Compiled into each module. */
#include <stdio.h>
#include <string.h>
#include "lbind.h"

void homie_newclass(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close) {
  static const char *const closers[] = {"close", "__gc", "__close"};
  size_t i;
  luaL_newmetatable(L, name);
  /* Each method with the metatable as upvalue 1 (homie_checkself);
   * luaL_setfuncs would do it, but 5.1 lacks it. */
  for (; methods->name; methods++) {
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, methods->func, 1);
    lua_setfield(L, -2, methods->name);
  }
  /* One function object (5.1 makes a new one per push); __close is only
   * called by 5.4, and harmless as a field elsewhere. */
  lua_pushcfunction(L, close);
  for (i = 0; i < sizeof closers / sizeof closers[0]; i++) {
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, closers[i]);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void *homie_checkself(lua_State *L, const char *name) {
  void *p = lua_touserdata(L, 1);
  if (p && lua_getmetatable(L, 1)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    if (same) return p;
  }
  return luaL_checkudata(L, 1, name); /* raises, with its own message */
}

/* keys as a set, kept in the registry under the array's address (made on
 * first use): each option name is then one hash look-up, not a string
 * comparison per known name, on every call (a request's options, say).
 * A name's value is its index in keys, plus one. */
static void push_key_set(lua_State *L, const char *const keys[]) {
  size_t i;
  lua_pushlightuserdata(L, (void *)keys);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (!lua_isnil(L, -1)) return;
  lua_pop(L, 1);
  lua_newtable(L);
  for (i = 0; keys[i]; i++) {
    lua_pushinteger(L, (lua_Integer)i + 1);
    lua_setfield(L, -2, keys[i]);
  }
  lua_pushlightuserdata(L, (void *)keys);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

void homie_each_option(lua_State *L, int idx, const char *what, const char *const keys[], homie_option_fn each,
                       void *ud) {
  if (lua_type(L, idx) != LUA_TTABLE)
    luaL_error(L, "homie: %s options must be a table, got %s", what, luaL_typename(L, idx));
  if (idx < 0) idx = lua_gettop(L) + idx + 1; /* lua_absindex is 5.2+ */
  push_key_set(L, keys);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int i;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "homie: %s option names must be strings, got %s", what, luaL_typename(L, -2));
    lua_pushvalue(L, -2);
    lua_rawget(L, -4);
    i = (int)lua_tointeger(L, -1);
    if (i <= 0) luaL_error(L, "homie: unknown %s option '%s'", what, lua_tostring(L, -3));
    lua_pop(L, 1);
    if (each) each(L, ud, i - 1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

void homie_check_options(lua_State *L, int idx, const char *what, const char *const keys[]) {
  homie_each_option(L, idx, what, keys, NULL, NULL);
}

size_t homie_count_value(lua_State *L, const char *what, const char *key) {
  lua_Number v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : 0;
  /* The comparison fails for NaN; the cast round trip catches fractions. */
  if (!(v >= 1 && v <= HOMIE_MAX_COUNT) || v != (lua_Number)(size_t)v)
    luaL_error(L, "homie: %s option '%s' must be a whole number from 1 to 2^32, got %s",
               what, key, lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
  return (size_t)v;
}

size_t homie_opt_count(lua_State *L, int idx, const char *what, const char *key, size_t def) {
  size_t n = def;
  lua_pushstring(L, key);
  lua_rawget(L, idx);
  if (!lua_isnil(L, -1)) n = homie_count_value(L, what, key);
  lua_pop(L, 1);
  return n;
}

void homie_pushsize(lua_State *L, size_t n) {
  char s[32];
  snprintf(s, sizeof s, "%.0f", (double)n);
  lua_pushstring(L, s);
}
