/* libFuzzer over homie.sse.json_decode (csrc/ljson.c): any bytes must give
 * a value or nil and a message, never a crash, a leak or undefined
 * behaviour. One Lua state for the whole run; its GC runs after each input. */
#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

void homie_json_open(lua_State *L);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static lua_State *L;
  if (!L) {
    L = luaL_newstate();
    lua_newtable(L);
    homie_json_open(L);
    lua_getfield(L, -1, "json_decode");
    lua_setglobal(L, "json_decode");
    lua_settop(L, 0);
  }
  lua_getglobal(L, "json_decode");
  lua_pushlstring(L, (const char *)data, size);
  /* A raise is allowed only for memory; json_decode reports bad input. */
  if (lua_pcall(L, 1, 2, 0) != 0) {
    const char *msg = lua_tostring(L, -1);
    if (!msg || !lua_checkstack(L, 1)) __builtin_trap();
  } else if (lua_isnil(L, -2) && !lua_isnil(L, -1) && !lua_isstring(L, -1)) {
    __builtin_trap(); /* nil must come with a message or alone (top-level null) */
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
