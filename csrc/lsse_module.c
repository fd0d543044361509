/* luaopen_homie_sse: the SSE parser, a monotonic clock and the JSON
 * normaliser over lua-cjson's output (ljson.c), the pieces
 * any runtime needs and no transport owns. Links nothing but libc and Lua,
 * so a runtime with its own sockets (OpenResty) needs no libcurl. */
#include "lbind.h"
#include "hclock.h"

/* sse.now() -> seconds from an arbitrary start (hclock.h). */
static int sse_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)homie_now());
  return 1;
}

static const luaL_Reg funcs[] = {{"now", sse_now}, {NULL, NULL}};

int luaopen_homie_sse(lua_State *L) {
  luaL_newlib(L, funcs);
  homie_sse_open(L);
  homie_json_open(L);
  return 1;
}
