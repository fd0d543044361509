/* luaopen_homie_sse: the SSE parser and a monotonic clock, the two pieces
 * any runtime needs and no transport owns. Links nothing but libc and Lua,
 * so a runtime with its own sockets (OpenResty) needs no libcurl. */
#include <time.h>
#include "lbind.h"

/* sse.now() -> seconds from an arbitrary start; never jumps with the wall
 * clock, so deadlines and backoff survive a clock change. */
static int sse_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

static const luaL_Reg funcs[] = {{"now", sse_now}, {NULL, NULL}};

int luaopen_homie_sse(lua_State *L) {
  luaL_newlib(L, funcs);
  homie_sse_open(L);
  return 1;
}
