/* json_normalize(v, null) -> v: what homie.util does to every answer
 * lua-cjson decoded, in C. lua-cjson (the parser; we do not write our own)
 * gives JSON null as its sentinel and every number as a float; homie's
 * callers want null absent (absent and null read the same in Lua) and, on
 * Lua 5.3+, whole numbers below 2^53 as integers (a quantity prints "12",
 * not "12.0"). The same walk in Lua cost as much as the request on a 4.3 KB
 * page of messages.
 *
 * Only existing fields change (to nil or to an integer), which lua_next
 * allows during a traversal. Depth is bounded so a table that contains
 * itself raises instead of overflowing the C stack. */
#include "lbind.h"

#define MAX_DEPTH 1000
#define LIMIT53 9007199254740992.0 /* 2^53 */

static void walk(lua_State *L, int t, int null_idx, int depth) {
  if (depth > MAX_DEPTH) luaL_error(L, "json_normalize: nested deeper than %d levels", MAX_DEPTH);
  luaL_checkstack(L, 4, "json_normalize");
  lua_pushnil(L);
  while (lua_next(L, t)) { /* key at -2, value at -1 */
    int vt = lua_type(L, -1);
    if (vt == LUA_TTABLE) {
      walk(L, lua_gettop(L), null_idx, depth + 1);
      lua_pop(L, 1);
    } else if (vt == LUA_TLIGHTUSERDATA && lua_rawequal(L, -1, null_idx)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, t);
#if LUA_VERSION_NUM >= 503
    } else if (vt == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      lua_Number n = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (n > -LIMIT53 && n < LIMIT53 && (lua_Number)(lua_Integer)n == n) {
        lua_pushvalue(L, -1);
        lua_pushinteger(L, (lua_Integer)n);
        lua_rawset(L, t);
      }
#endif
    } else {
      lua_pop(L, 1);
    }
  }
}

static int json_normalize(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  walk(L, 1, 2, 1);
  lua_settop(L, 1);
  return 1;
}

void homie_json_open(lua_State *L) {
  lua_pushcfunction(L, json_normalize);
  lua_setfield(L, -2, "json_normalize");
}
